//! `--output jsonl`: one JSON object per reported line, in input order.

use std::io::{self, Write};

use serde::Serialize;

use crate::redact::redact;
use crate::summary::{EventReport, Report};

#[derive(Serialize)]
struct EventWire<'a> {
    file: &'a str,
    line: u64,
    time: Option<String>,
    envelope: Option<&'a str>,
    format: &'a str,
    emitter: &'a str,
    cause: &'a str,
    rule: Option<&'a str>,
    image: Option<&'a str>,
    registry: Option<&'a str>,
    registry_kind: Option<&'a str>,
    host: Option<&'a str>,
    pod: Option<&'a str>,
    namespace: Option<&'a str>,
    container: Option<&'a str>,
    app: Option<&'a str>,
    revision: Option<&'a str>,
    replica: Option<&'a str>,
    count: u32,
    message: std::borrow::Cow<'a, str>,
}

fn wire(e: &EventReport) -> EventWire<'_> {
    EventWire {
        file: &e.file,
        line: e.line,
        time: e.time.map(|t| t.to_string()),
        envelope: e.envelope,
        format: e.format,
        emitter: e.emitter,
        cause: &e.cause,
        rule: e.rule.as_deref(),
        image: e.image.as_deref(),
        registry: e.registry.as_deref(),
        registry_kind: e.registry_kind,
        host: e.origin.host.as_deref(),
        pod: e.origin.pod.as_deref(),
        namespace: e.origin.namespace.as_deref(),
        container: e.origin.container.as_deref(),
        app: e.origin.app.as_deref(),
        revision: e.origin.revision.as_deref(),
        replica: e.origin.replica.as_deref(),
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
