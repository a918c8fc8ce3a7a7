//! Per-line parsing: one log line in, one [`Record`] out.
//!
//! This module owns the order in which a line is taken apart. First the
//! envelopes are peeled, outermost first, as long as one is found (`syslog`:
//! RFC 3164 / `journalctl -o short`, short-iso, RFC 5424, CRI, a bare
//! `prog[pid]: `); each gives time, host and program. Then a CI timestamp is
//! peeled (`docker_cli`), and the payload is recognised by cheap byte
//! sniffing, most specific first: klog, logrus text, logfmt, Kubernetes
//! event rows, docker CLI / buildkit / CI lines, a klog header after junk,
//! and finally plain text. The message the classifier sees is the payload
//! (for event rows, the MESSAGE column; for klog, the text after the header)
//! with escapes undone by [`unescape`]; no error text is dropped.
//!
//! A line that is one JSON object (`journalctl -o json`, docker's
//! json-file driver, an Azure Container Apps system-log object, a
//! Kubernetes Event, a Log Analytics row) is an envelope too: `json`
//! takes its fields, and its message field goes through the same payload
//! path (a journald `MESSAGE` holds klog or logfmt). A JSON object of no
//! known shape stays a plain record.
//!
//! Parsing never fails and never panics: a line nothing recognises is a
//! plain record whose message is the line. This module knows nothing about
//! rules. Beside the per-line path sit the per-input helpers: [`CriJoiner`]
//! joins container-log partial lines and [`path_info`] reads pod /
//! container names from log paths; [`sniff`] tells an input's shape, and
//! [`read_csv`] / [`read_json_document`] stream the document formats (Log
//! Analytics CSV exports, JSON arrays, `kubectl get events -o json` lists)
//! record by record.

mod aca;
mod cri;
// SSE2 compares for the record framing; every unsafe block states its invariant.
#[allow(unsafe_code)]
mod csv_frame;
mod docker_cli;
mod document;
mod events;
mod json;
mod klog;
mod logfmt;
mod syslog;
mod unescape;

use std::borrow::Cow;

pub use cri::{path_info, CriJoiner, Joined, PathInfo, Pushed, MAX_JOINED};
pub use csv_frame::{frame as csv_frame, is_blank_record, quotes_odd, Framed};
pub use document::{
    read_csv, read_csv_rows, read_csv_rows_from, read_json_document, sniff, CsvHeader, CsvParser,
    CsvRow, DocError, Shape, SNIFF_LEN,
};
pub use json::record_from_json;
pub use unescape::unescape;

use crate::record::{Emitter, Format, Level, Record};
use crate::time::{Timestamp, YearPolicy};

/// What a line parser needs to know that the line may not say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineContext {
    /// The year of timestamps written without one (syslog, klog).
    pub years: YearPolicy,
}

impl LineContext {
    /// Every yearless timestamp in `year` (tests, `--year`).
    pub fn in_year(year: i32) -> LineContext {
        LineContext { years: YearPolicy::fixed(year) }
    }
}

/// How many envelopes may nest (journald wrapping CRI wrapping ...).
const MAX_ENVELOPES: usize = 4;

/// How deep JSON objects may nest inside each other's message strings (a
/// docker `log` holding a journald object holding ...): each level is a
/// full JSON parse, and real logs nest at most twice.
const MAX_JSON_DEPTH: u8 = 3;

/// Parse one log line (without or with its trailing `\n` / `\r\n`).
///
/// Never panics. `count` is 1 unless the line says otherwise (`(x3 over
/// 67s)`, a JSON event's `count`); the message is never empty for a
/// non-empty line.
pub fn parse_line<'a>(line: &'a str, ctx: &LineContext) -> Record<'a> {
    parse_into(line, ctx, 0, Record { count: 1, ..Record::default() })
}

/// Parse `line` into `rec`, which may already carry what an outer envelope
/// said (a JSON object's host, time, emitter): those fields win over the
/// line's own envelopes the same way an outer envelope wins over an inner
/// one. `depth` counts the JSON objects already unwrapped.
fn parse_into<'a>(line: &'a str, ctx: &LineContext, depth: u8, mut rec: Record<'a>) -> Record<'a> {
    let text = line.strip_suffix('\n').unwrap_or(line);
    let text = text.strip_suffix('\r').unwrap_or(text);
    let mut payload = text;
    for _ in 0..MAX_ENVELOPES {
        let Some(u) = syslog::unwrap(payload, ctx.years) else { break };
        if rec.envelope.is_none() {
            rec.envelope = u.envelope;
        }
        if let Some(t) = u.time {
            set_time(&mut rec, t);
        }
        if rec.host.is_none() {
            rec.host = u.host.map(Cow::Borrowed);
        }
        if rec.emitter == Emitter::Unknown {
            rec.emitter = u.program.map_or(Emitter::Unknown, Emitter::from_program);
        }
        if rec.level == Level::Unknown {
            rec.level = u.level;
        }
        payload = u.payload;
        if u.envelope.is_none() {
            break;
        }
    }
    match json::object(payload, depth) {
        Some(obj) => match json::record_at(&obj, ctx, depth + 1) {
            Some(inner) => absorb(&mut rec, inner),
            None => {
                // A JSON object of no known shape: its text is the message.
                rec.format = Format::Plain;
                rec.message = unescape(payload);
            }
        },
        None => parse_payload(payload, ctx, &mut rec),
    }
    if rec.message.trim().is_empty() {
        rec.message = Cow::Borrowed(if text.trim().is_empty() { line } else { text });
    }
    rec
}

/// What an outer envelope read from structured fields (a JSON object, a
/// CSV row) says about the payload it wraps.
#[derive(Debug, Default)]
pub(crate) struct Outer<'o> {
    /// The envelope's fields as a record (`message` and `image` unused).
    /// `format`, when not `Plain`, is the payload format to report whatever
    /// the payload looks like (a JSON event's message is an event message,
    /// even when it starts like docker CLI output).
    pub fields: Record<'o>,
    /// Whether `fields.level` beats whatever the payload says: an event's
    /// Warning / Normal type does, journald's `PRIORITY` does not (services
    /// log everything at 6 and say the real level in the text).
    pub level_wins: bool,
}

/// Build the record for a structured envelope: its fields first, then its
/// message through the line path (envelopes, then the payload formats).
pub(crate) fn wrap<'a>(
    outer: Outer<'a>,
    message: &'a str,
    ctx: &LineContext,
    depth: u8,
) -> Record<'a> {
    let Outer { fields, level_wins } = outer;
    let (level, format) = (fields.level, fields.format);
    let base = Record {
        format: Format::Plain,
        message: Cow::Borrowed(""),
        image: None,
        count: fields.count.max(1),
        ..fields
    };
    let mut rec = parse_into(message, ctx, depth, base);
    if level_wins && level != Level::Unknown {
        rec.level = level;
    }
    if format != Format::Plain {
        rec.format = format;
    }
    rec
}

/// Fold a record read from a JSON payload into the record of the envelope
/// around it (a CRI line whose payload is a Kubernetes Event object): the
/// outer envelope and fields stay, the inner ones fill the gaps, and the
/// inner message is the message.
fn absorb<'a>(rec: &mut Record<'a>, inner: Record<'static>) {
    if rec.envelope.is_none() {
        rec.envelope = inner.envelope;
    }
    rec.format = inner.format;
    if rec.emitter == Emitter::Unknown {
        rec.emitter = inner.emitter;
    }
    if inner.level != Level::Unknown {
        rec.level = inner.level;
    }
    if let Some(t) = inner.time {
        set_time(rec, t);
    }
    fn fill<'a>(slot: &mut Option<Cow<'a, str>>, inner: Option<Cow<'static, str>>) {
        if slot.is_none() {
            *slot = inner;
        }
    }
    fill(&mut rec.host, inner.host);
    fill(&mut rec.image, inner.image);
    fill(&mut rec.pod, inner.pod);
    fill(&mut rec.namespace, inner.namespace);
    fill(&mut rec.container, inner.container);
    fill(&mut rec.app, inner.app);
    fill(&mut rec.revision, inner.revision);
    fill(&mut rec.replica, inner.replica);
    rec.count = rec.count.max(inner.count);
    rec.message = inner.message;
}

fn parse_payload<'a>(payload: &'a str, ctx: &LineContext, rec: &mut Record<'a>) {
    let mut payload = payload;
    let mut ci = false;
    if let Some(p) = docker_cli::ci_prefix(payload) {
        if let Some(t) = p.time {
            set_time(rec, t);
        }
        // Inside an envelope the stamp is the application's own, not a CI runner's.
        if p.is_ci && rec.emitter == Emitter::Unknown && rec.envelope.is_none() {
            rec.emitter = Emitter::Ci;
            ci = true;
        }
        payload = p.rest;
    }
    if klog::parse_start(payload, ctx.years, rec) || logfmt::parse_logrus(payload, rec) {
        return;
    }
    if logfmt::starts_logfmt(payload) {
        logfmt::parse(payload, rec);
        return;
    }
    if events::parse(payload, rec) {
        return;
    }
    if logfmt::has_logfmt_keys(payload) {
        logfmt::parse(payload, rec);
        return;
    }
    if docker_cli::parse(payload, ci, rec) || klog::parse_embedded(payload, ctx.years, rec) {
        return;
    }
    rec.format = Format::Plain;
    rec.message = unescape(payload);
}

/// Record a time the line states. An inner (payload) time replaces an outer
/// one only when the outer one is missing or naive: a zoned instant from a
/// CRI or CI prefix beats a klog reading with a guessed year, while a
/// logfmt `time=` with its zone beats syslog's yearless wall clock.
pub(crate) fn set_time(rec: &mut Record<'_>, t: Timestamp) {
    if rec.time.is_none_or(|old| old.naive) {
        rec.time = Some(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Envelope;

    /// (line, envelope, format, emitter, level, time, host, image, message substring)
    type Row = (
        &'static str,
        Option<Envelope>,
        Format,
        Emitter,
        Level,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    );

    const ROWS: &[Row] = &[
        (
            "2024-01-01T00:00:00.000000000Z stderr F E0101 00:00:01.500000       7 remote_image.go:180] \"PullImage from image service failed\" err=\"x\" image=\"nginx\"\r\n",
            Some(Envelope::Cri), Format::Klog, Emitter::Kubelet, Level::Error, "2024-01-01T00:00:00Z", "", "nginx", "PullImage from image service failed",
        ),
        (
            "<30>1 2024-03-01T10:00:00Z node-2 containerd 99 - - time=\"2024-03-01T10:00:00.25Z\" level=error msg=\"boom\"",
            Some(Envelope::Syslog5424), Format::Logfmt, Emitter::Containerd, Level::Error, "2024-03-01T10:00:00Z", "node-2", "", "msg=\"boom\"",
        ),
        (
            "2024-01-01T00:00:00+0000 node-1 kubelet[1234]: E0101 00:00:01.000001    1234 pod_workers.go:1298] \"Error syncing pod, skipping\" pod=\"ns/p\"",
            Some(Envelope::Journald), Format::Klog, Emitter::Kubelet, Level::Error, "2024-01-01T00:00:00Z", "node-1", "", "Error syncing pod",
        ),
        (
            "Nov 22 09:26:00 node-3 dockerd[1]: Error response from daemon: manifest unknown",
            Some(Envelope::Syslog), Format::DockerCli, Emitter::Dockerd, Level::Error, "2024-11-22T09:26:00", "node-3", "", "manifest unknown",
        ),
        (
            "Sep 22 03:43:05 bogon registry[14710]: 172.18.0.6 - - [22/Sep/2017:03:43:05 +0000] \"POST /v2/opera/debian7/blobs/uploads/ HTTP/1.1\" 202 0",
            Some(Envelope::Syslog), Format::Plain, Emitter::Registry, Level::Unknown, "2024-09-22T03:43:05", "bogon", "", "POST /v2/opera/debian7/blobs/uploads/",
        ),
        (
            // An ACA system-log object is a JSON envelope (see `json.rs` for more).
            r#"{"TimeStamp":"2023-04-18 15:51:52 \u002B0000 UTC","Msg":"Pulling image \u0022docker.io/nginx:1.23.4\u0022","Reason":"PullingImage"}"#,
            Some(Envelope::AcaJson), Format::Plain, Emitter::Aca, Level::Unknown, "2023-04-18T15:51:52Z", "", "", "Pulling image \"docker.io/nginx:1.23.4\"",
        ),
        (
            r#"{"message":"manifest for registry:2222 not found: manifest unknown: manifest unknown"}"#,
            None, Format::Plain, Emitter::Unknown, Level::Unknown, "", "", "", r#"{"message":"manifest for registry:2222 not found"#,
        ),
        (
            "   ",
            None, Format::Plain, Emitter::Unknown, Level::Unknown, "", "", "", "   ",
        ),
        (
            "Nov 22 09:26:00 node-3 kubelet[1]: ",
            Some(Envelope::Syslog), Format::Plain, Emitter::Kubelet, Level::Unknown, "2024-11-22T09:26:00", "node-3", "", "Nov 22 09:26:00 node-3 kubelet[1]:",
        ),
        (
            "Dec 10 07:51:15 LabSZ sshd[24324]: error: Received disconnect from 195.154.37.122: 3: com.jcraft.jsch.JSchException: Auth fail [preauth]",
            Some(Envelope::Syslog), Format::Plain, Emitter::Unknown, Level::Unknown, "2024-12-10T07:51:15", "LabSZ", "", "error: Received disconnect",
        ),
        (
            "Aug 29 10:43:59 172.18.0.1 ui[2646]: 2017-08-29T02:43:59Z [WARNING] Failed to get secret cookie, error: http: named cookie not present",
            Some(Envelope::Syslog), Format::Plain, Emitter::Unknown, Level::Unknown, "2017-08-29T02:43:59Z", "172.18.0.1", "", "[WARNING] Failed to get secret cookie",
        ),
        (
            r#" Failed to pull image "k8s.gcr.io/conformance:v1.28.5": rpc error: code = DeadlineExceeded desc = failed to pull and unpack image "k8s.gcr.io/conformance:v1.28.5": failed to resolve reference "k8s.gcr.io/conformance:v1.28.5": failed to do request: Head "https://k8s.gcr.io/v2/conformance/manifests/v1.28.5": dial tcp 64.233.189.82:443: i/o timeout"#,
            None, Format::Plain, Emitter::Unknown, Level::Unknown, "", "", "", "dial tcp 64.233.189.82:443: i/o timeout",
        ),
        (
            "Unable to retrieve some image pull secrets (qryn-write-test-regcred); attempting to pull the image may not succeed.",
            None, Format::Plain, Emitter::Unknown, Level::Unknown, "", "", "", "Unable to retrieve some image pull secrets",
        ),
        (
            "\t[ERROR ImagePull]: failed to pull image registry.k8s.io/kube-apiserver:v1.22.17: output: Error response from daemon: received unexpected HTTP status: 503 Service Unavailable",
            None, Format::Plain, Emitter::Unknown, Level::Unknown, "", "", "", "503 Service Unavailable",
        ),
        (
            "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref 366590864501.dkr.ecr.us-west-2.amazonaws.com/bedrock-proxy-api-ecs:latest@sha256:5de4: unexpected status from HEAD request to https://366590864501.dkr.ecr.us-west-2.amazonaws.com/v2/bedrock-proxy-api-ecs/blobs/sha256:5de4: 403 Forbidden",
            None, Format::Plain, Emitter::Unknown, Level::Unknown, "", "", "", "403 Forbidden",
        ),
    ];

    #[test]
    fn lines() {
        let ctx = LineContext::in_year(2024);
        for &(line, env, format, emitter, level, time, host, image, msg) in ROWS {
            let r = parse_line(line, &ctx);
            assert_eq!(r.envelope, env, "{line}");
            assert_eq!(r.format, format, "{line}");
            assert_eq!(r.emitter, emitter, "{line}");
            assert_eq!(r.level, level, "{line}");
            assert_eq!(r.time.map(|t| t.to_string()).unwrap_or_default(), time, "{line}");
            assert_eq!(r.host.as_deref().unwrap_or_default(), host, "{line}");
            assert_eq!(r.image.as_deref().unwrap_or_default(), image, "{line}");
            assert!(r.message.contains(msg), "{line}\n  message: {}", r.message);
            assert_eq!(r.count, 1);
        }
    }

    /// Every line of the seed corpus and of the noise samples, every prefix
    /// of each seed line, and some hostile inputs: no panic, and a message
    /// for every non-empty line.
    #[test]
    fn never_panics_and_never_empty() {
        let ctx = LineContext::in_year(2024);
        fn check<'a>(line: &'a str, ctx: &LineContext) -> Record<'a> {
            let r = parse_line(line, ctx);
            if !line.is_empty() {
                assert!(!r.message.is_empty(), "empty message for {line:?}");
            }
            assert!(r.count >= 1);
            r
        }
        let check_all = |line: &str| {
            let r = check(line, &ctx);
            let _ = crate::image::find_image(&r.message);
            let _ = crate::image::find_registry_host(&r.message);
        };
        // The shared data sits beside the crate (`../shared`); scratch
        // checkouts elsewhere fall back to the workspace path.
        let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
        let shared =
            if shared.exists() { shared } else { std::path::PathBuf::from("/work/shared") };
        let mut seen = 0;
        if let Ok(seed) = std::fs::read_to_string(shared.join("corpus-seed/real-lines.jsonl")) {
            for row in seed.lines() {
                let v: serde_json::Value = serde_json::from_str(row).expect("seed rows are JSON");
                let line = v["line"].as_str().unwrap_or_default();
                check_all(line);
                // Truncated lines: prefixes and suffixes cut at every char
                // in the first 96 (where the sniffing happens), next to
                // every non-ASCII char, and at every 5th char after that.
                for (k, (i, c)) in line.char_indices().enumerate() {
                    if k < 96 || k % 5 == 0 || !c.is_ascii() {
                        check(&line[..i], &ctx);
                        check(&line[i..], &ctx);
                    }
                }
                seen += 1;
            }
        }
        if let Ok(dir) = std::fs::read_dir(shared.join("bench/noise")) {
            for entry in dir.flatten() {
                if entry.path().extension().is_some_and(|e| e == "log") {
                    let bytes = std::fs::read(entry.path()).expect("noise file readable");
                    for line in String::from_utf8_lossy(&bytes).lines() {
                        check_all(line);
                        seen += 1;
                    }
                }
            }
        }
        assert!(seen > 0 || !shared.exists(), "no corpus lines found under {}", shared.display());
        let hostile = [
            "",
            "\r",
            "\n",
            "\\",
            "\"",
            "\\u",
            "\\ud800",
            "<",
            "<1>",
            "<1>1",
            "* ",
            "E",
            "E0101 ",
            "E0101 00:00:00.000000 ",
            "E0101 00:00:00.000000 1 a.go:1]",
            "INFO[",
            "FATA[]",
            "time=",
            "time=\"",
            "level=\"\\",
            "msg=\"\\\\\\",
            "Warning Failed 1s (x",
            "Warning Failed 1s (x2 over",
            "  16m\t{",
            "2s {kubelet",
            "##[",
            "#1",
            "2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00Z stdout",
            "2024-01-01T00:00:00Z stdout F",
            "Nov 22 09:26:00",
            "Nov 22 09:26:00 h",
            "Nov 22 09:26:00 h p[",
            "p[1]:",
            "\u{feff}é\u{0}\u{7f}ü日本語",
            "{",
            "{}",
            "{\"log\":",
            "{\"log\":1,\"stream\":[],\"time\":{}}",
            "{\"MESSAGE\":[300,-1,\"x\",[1.5]],\"_HOSTNAME\":1,\"PRIORITY\":\"99\"}",
            "{\"MESSAGE\":null,\"__REALTIME_TIMESTAMP\":\"-9223372036854775808\"}",
            "{\"MESSAGE\":\"\",\"__REALTIME_TIMESTAMP\":9223372036854775807}",
            "{\"kind\":\"Event\",\"involvedObject\":[],\"series\":{\"count\":\"NaN\"},\"count\":-5}",
            "{\"kind\":\"Event\",\"message\":\"\",\"lastTimestamp\":\"9999-99-99T99:99:99Z\"}",
            "{\"TimeGenerated\":\"13/45/2024, 99:00:00 PM\",\"Log_s\":null,\"Count_d\":\"inf\"}",
            "{\"type\":\"ADDED\",\"object\":{\"object\":{}}}",
            "{\"a\":\"\\ud800\"}",
            "2024-01-01T00:00:00Z stdout F {\"kind\":\"Event\"}",
            "E0101 00:00:00.000000 1 a.go:1] \"é",
            "Failed to pull image \"é",
        ];
        for line in hostile {
            check_all(line);
        }
        let huge = "Error response from daemon: ".to_string() + &"é\\\"x ".repeat(200_000);
        check_all(&huge);
    }
}
