//! `--output jsonl`: one JSON object per reported line, in input order.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;

use crate::redact::redact;
use crate::summary::{EventReport, Report};

#[derive(Serialize)]
struct EventWire<'a> {
    file: Cow<'a, str>,
    line: u64,
    time: Option<String>,
    envelope: Option<&'a str>,
    format: &'a str,
    emitter: &'a str,
    cause: &'a str,
    rule: Option<&'a str>,
    image: Option<Cow<'a, str>>,
    registry: Option<Cow<'a, str>>,
    registry_kind: Option<&'a str>,
    host: Option<Cow<'a, str>>,
    pod: Option<Cow<'a, str>>,
    namespace: Option<Cow<'a, str>>,
    container: Option<Cow<'a, str>>,
    app: Option<Cow<'a, str>>,
    revision: Option<Cow<'a, str>>,
    replica: Option<Cow<'a, str>>,
    count: u32,
    message: Cow<'a, str>,
}

fn wire(e: &EventReport) -> EventWire<'_> {
    EventWire {
        file: redact(&e.file),
        line: e.line,
        time: e.time.map(|t| t.to_string()),
        envelope: e.envelope,
        format: e.format,
        emitter: e.emitter,
        cause: &e.cause,
        rule: e.rule.as_deref(),
        image: e.image.as_deref().map(redact),
        registry: e.registry.as_deref().map(redact),
        registry_kind: e.registry_kind,
        host: e.origin.host.as_deref().map(redact),
        pod: e.origin.pod.as_deref().map(redact),
        namespace: e.origin.namespace.as_deref().map(redact),
        container: e.origin.container.as_deref().map(redact),
        app: e.origin.app.as_deref().map(redact),
        revision: e.origin.revision.as_deref().map(redact),
        replica: e.origin.replica.as_deref().map(redact),
        count: e.count,
        message: redact(&e.message),
    }
}

/// Write one line per event.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for e in &report.events {
        serde_json::to_writer(&mut *out, &wire(e))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
