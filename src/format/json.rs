//! JSON objects as envelopes: one object in, one record out.
//!
//! This module owns recognising the JSON object shapes that wrap a log
//! message and mapping their fields onto a [`Record`]: `journalctl -o json`
//! (`MESSAGE`, `_HOSTNAME`, `_SYSTEMD_UNIT`, `__REALTIME_TIMESTAMP`,
//! `PRIORITY`), docker's json-file driver (`log`, `stream`, `time`), a
//! Kubernetes Event (core/v1 and events.k8s.io/v1, bare or inside a watch
//! event's `object`), and, through [`super::aca`], Azure Container Apps
//! system-log objects and Log Analytics rows. The message field is then
//! parsed by the ordinary line path (`super::wrap`), because envelopes
//! nest: a journald `MESSAGE` holds klog or containerd logfmt, a docker
//! `log` holds whatever the container printed.
//!
//! It serves both the per-line path (a line that is one JSON object) and
//! the document readers (`super::document`), which hand it one array or
//! `items[]` element at a time. An object of no known shape yields `None`;
//! the line path then keeps the line as plain text. Nothing here panics on
//! any input: every field is optional and type-checked.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::{aca, wrap, LineContext, Outer, MAX_JSON_DEPTH};
use crate::record::{Emitter, Envelope, Format, Level, Record};
use crate::time::Timestamp;

/// Build a record from one JSON object of a known shape (journald, docker
/// json-file, Kubernetes Event, Azure Container Apps / Log Analytics row);
/// `None` for any other object.
///
/// The object's message field is parsed as a log line in its own right, so
/// the record's format is the payload's (klog, logfmt, ...), its envelope
/// the JSON shape, and fields the object states (host, time, pod, count)
/// win over what the message text says.
pub fn record_from_json(obj: &Map<String, Value>, ctx: &LineContext) -> Option<Record<'static>> {
    record_at(obj, ctx, 1)
}

/// [`record_from_json`] for an object found `depth` JSON levels deep.
pub(crate) fn record_at(
    obj: &Map<String, Value>,
    ctx: &LineContext,
    depth: u8,
) -> Option<Record<'static>> {
    if let Some((outer, message)) = journald(obj).or_else(|| docker(obj)) {
        return Some(wrap(outer, &message, ctx, depth).into_owned());
    }
    if let Some((outer, message)) = k8s_event(obj) {
        return Some(wrap(outer, &message, ctx, depth).into_owned());
    }
    // A watch event (`{"type":"ADDED","object":{...Event...}}`).
    if let Some(inner) = obj.get("object").and_then(Value::as_object) {
        if obj.get("type").and_then(Value::as_str).is_some() {
            if let Some((outer, message)) = k8s_event(inner) {
                return Some(wrap(outer, &message, ctx, depth).into_owned());
            }
        }
    }
    let (outer, message) = aca::from_json(obj, Envelope::AcaJson)?;
    Some(wrap(outer, &message, ctx, depth).into_owned())
}

/// `text` parsed as one JSON object, when it is one and `depth` allows
/// another level. Cheap to call on any payload: only text that starts with
/// `{` and ends with `}` is handed to the JSON parser.
pub(crate) fn object(text: &str, depth: u8) -> Option<Map<String, Value>> {
    let t = text.trim();
    if depth >= MAX_JSON_DEPTH || !t.starts_with('{') || !t.ends_with('}') {
        return None;
    }
    serde_json::from_str(t).ok()
}

/// Whether a top-level object's key is one [`record_from_json`] may read:
/// the document reader keeps only these while it scans a top-level object
/// for `items`, so a huge unrelated field is skipped, not held.
pub(crate) fn is_wanted_key(key: &str) -> bool {
    const EVENT: &[&str] = &[
        "kind",
        "apiVersion",
        "metadata",
        "message",
        "note",
        "reason",
        "type",
        "count",
        "deprecatedCount",
        "series",
        "involvedObject",
        "regarding",
        "source",
        "reportingController",
        "reportingComponent",
        "reportingInstance",
        "firstTimestamp",
        "lastTimestamp",
        "eventTime",
        "deprecatedFirstTimestamp",
        "deprecatedLastTimestamp",
        "object",
        "log",
        "stream",
        "time",
        "MESSAGE",
        "_SOURCE_REALTIME_TIMESTAMP",
        "_COMM",
    ];
    EVENT.contains(&key) || JOURNAL_KEYS.contains(&key) || aca::is_column(key)
}

/// The text of a string field (`None` when absent, null, empty or not a string).
pub(crate) fn str_field<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v str> {
    obj.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A non-negative count from a number or a numeric string (`3`, `"3"`,
/// `"3.0"`, `3.0`), clamped to `u32`.
pub(crate) fn count_of(v: &Value) -> Option<u32> {
    let n = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (n.is_finite() && n >= 0.0).then(|| n.min(f64::from(u32::MAX)) as u32)
}

/// Fields any `journalctl -o json` object carries besides `MESSAGE`.
const JOURNAL_KEYS: &[&str] = &[
    "__REALTIME_TIMESTAMP",
    "__CURSOR",
    "_HOSTNAME",
    "_SYSTEMD_UNIT",
    "SYSLOG_IDENTIFIER",
    "PRIORITY",
    "_BOOT_ID",
    "_TRANSPORT",
];

/// `journalctl -o json`. Values are strings, except that a field holding
/// non-UTF-8 or control bytes is an array of byte values, a field present
/// more than once is an array of its values, and a field over the size
/// limit is `null` (systemd's journal JSON format).
fn journald(obj: &Map<String, Value>) -> Option<(Outer<'_>, Cow<'_, str>)> {
    let message = obj.get("MESSAGE")?;
    if !JOURNAL_KEYS.iter().any(|k| obj.contains_key(*k)) {
        return None;
    }
    let message = journal_text(message).unwrap_or(Cow::Borrowed(""));
    let time = ["__REALTIME_TIMESTAMP", "_SOURCE_REALTIME_TIMESTAMP"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(journal_micros))
        .map(Timestamp::from_unix_micros);
    let emitter = ["_SYSTEMD_UNIT", "SYSLOG_IDENTIFIER", "_COMM"]
        .iter()
        .filter_map(|k| str_field(obj, k))
        .map(Emitter::from_program)
        .find(|e| *e != Emitter::Unknown)
        .unwrap_or(Emitter::Unknown);
    let level = obj
        .get("PRIORITY")
        .and_then(|v| match v {
            Value::String(s) => s.trim().parse::<u8>().ok(),
            Value::Number(n) => n.as_u64().and_then(|n| u8::try_from(n).ok()),
            _ => None,
        })
        .map_or(Level::Unknown, |p| match p {
            0..=3 => Level::Error,
            4 => Level::Warning,
            5 | 6 => Level::Info,
            _ => Level::Debug,
        });
    let fields = Record {
        envelope: Some(Envelope::JournalJson),
        emitter,
        level,
        time,
        host: str_field(obj, "_HOSTNAME").map(Cow::Borrowed),
        ..Record::default()
    };
    let outer = Outer { fields, level_wins: false };
    Some((outer, message))
}

/// A journal field's text: a string, a byte array (decoded lossily), or the
/// first of several values.
fn journal_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Array(items) if items.iter().all(Value::is_number) => {
            let bytes: Vec<u8> = items
                .iter()
                .map(|b| b.as_u64().map_or(b'?', |b| u8::try_from(b).unwrap_or(b'?')))
                .collect();
            Some(Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()))
        }
        Value::Array(items) => items.iter().find_map(journal_text),
        _ => None,
    }
}

/// `__REALTIME_TIMESTAMP`: microseconds as a decimal string (or a number).
fn journal_micros(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// Docker's json-file driver: `{"log":"...\n","stream":"stderr","time":"..."}`.
fn docker(obj: &Map<String, Value>) -> Option<(Outer<'_>, Cow<'_, str>)> {
    let log = obj.get("log")?.as_str()?;
    let stream = obj.get("stream").and_then(Value::as_str);
    let time = obj.get("time").and_then(Value::as_str);
    if stream.is_none() && time.is_none() {
        return None;
    }
    let fields = Record {
        envelope: Some(Envelope::DockerJson),
        time: time.and_then(Timestamp::parse_field),
        ..Record::default()
    };
    let outer = Outer { fields, level_wins: false };
    Some((outer, Cow::Borrowed(log)))
}

/// A Kubernetes Event, core/v1 (`message`, `involvedObject`, `source`,
/// `count`, `lastTimestamp`) or events.k8s.io/v1 (`note`, `regarding`,
/// `reportingController`, `series`, `deprecatedCount`, `eventTime`).
fn k8s_event(obj: &Map<String, Value>) -> Option<(Outer<'_>, Cow<'_, str>)> {
    let object = obj.get("involvedObject").or_else(|| obj.get("regarding"));
    let object = object.and_then(Value::as_object);
    let kind = obj.get("kind").and_then(Value::as_str);
    if object.is_none() && kind != Some("Event") {
        return None;
    }
    let message = str_field(obj, "message").or_else(|| str_field(obj, "note")).unwrap_or("");
    let series = obj.get("series").and_then(Value::as_object);
    let count = series
        .and_then(|s| s.get("count"))
        .or_else(|| obj.get("count"))
        .or_else(|| obj.get("deprecatedCount"))
        .and_then(count_of)
        .unwrap_or(1);
    let meta = obj.get("metadata").and_then(Value::as_object);
    // The latest occurrence first: that is when the failure was last seen.
    let time = [
        series.and_then(|s| str_field(s, "lastObservedTime")),
        str_field(obj, "lastTimestamp"),
        str_field(obj, "deprecatedLastTimestamp"),
        str_field(obj, "eventTime"),
        str_field(obj, "firstTimestamp"),
        str_field(obj, "deprecatedFirstTimestamp"),
        meta.and_then(|m| str_field(m, "creationTimestamp")),
    ]
    .into_iter()
    .flatten()
    .find_map(Timestamp::parse_field);
    let source = obj.get("source").and_then(Value::as_object);
    let component = source
        .and_then(|s| str_field(s, "component"))
        .or_else(|| str_field(obj, "reportingController"))
        .or_else(|| str_field(obj, "reportingComponent"));
    let emitter = component.map_or(Emitter::Unknown, Emitter::from_program);
    // reportingInstance names the node only for the kubelet; for a
    // controller it is the controller's own instance.
    let host = source
        .and_then(|s| str_field(s, "host"))
        .or_else(|| str_field(obj, "reportingInstance").filter(|_| emitter == Emitter::Kubelet));
    let pod = object
        .filter(|o| o.get("kind").and_then(Value::as_str) == Some("Pod"))
        .and_then(|o| str_field(o, "name"));
    let namespace = object
        .and_then(|o| str_field(o, "namespace"))
        .or_else(|| meta.and_then(|m| str_field(m, "namespace")));
    let container = object.and_then(|o| str_field(o, "fieldPath")).and_then(container_of);
    let level = obj.get("type").and_then(Value::as_str).map_or(Level::Unknown, Level::from_word);
    let fields = Record {
        envelope: Some(Envelope::K8sEventJson),
        format: Format::K8sEvent,
        emitter,
        level,
        time,
        host: host.map(Cow::Borrowed),
        pod: pod.map(Cow::Borrowed),
        namespace: namespace.map(Cow::Borrowed),
        container: container.map(Cow::Borrowed),
        count,
        ..Record::default()
    };
    let outer = Outer { fields, level_wins: true };
    Some((outer, Cow::Borrowed(message)))
}

/// The container named by an object field path: `spec.containers{name}`,
/// `spec.initContainers{name}`, `spec.ephemeralContainers{name}`.
fn container_of(field_path: &str) -> Option<&str> {
    let rest = ["spec.containers{", "spec.initContainers{", "spec.ephemeralContainers{"]
        .iter()
        .find_map(|p| field_path.strip_prefix(p))?;
    rest.strip_suffix('}').filter(|c| !c.is_empty() && !c.contains('}'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::parse_line;

    /// What a JSON line must yield.
    struct Want {
        envelope: Option<Envelope>,
        format: Format,
        emitter: Emitter,
        level: Level,
        time: &'static str,
        host: &'static str,
        pod: &'static str,
        namespace: &'static str,
        container: &'static str,
        app: &'static str,
        revision: &'static str,
        replica: &'static str,
        count: u32,
        /// A substring of the message.
        message: &'static str,
    }

    const NONE: Want = Want {
        envelope: None,
        format: Format::Plain,
        emitter: Emitter::Unknown,
        level: Level::Unknown,
        time: "",
        host: "",
        pod: "",
        namespace: "",
        container: "",
        app: "",
        revision: "",
        replica: "",
        count: 1,
        message: "",
    };

    /// Real shapes: the journald objects follow `journalctl -o json` field
    /// for field (systemd's journal JSON format); the docker lines are from
    /// moby/moby#1211 and docker-library/docker#224; the ACA object is the
    /// one in microsoft/azure-container-apps#723; the Event objects are
    /// `kubectl get events -o json` items from a minikube cluster-info dump
    /// and from UKHomeOffice/kb8or#68 (converted from YAML).
    fn rows() -> Vec<(&'static str, Want)> {
        vec![
            (
                r#"{"__CURSOR":"s=739ad463348b4ceca5a9e69c95a3c93f;i=4ece7","__REALTIME_TIMESTAMP":"1732233600003816","__MONOTONIC_TIMESTAMP":"21415215982","_BOOT_ID":"6c7c6013a26343b29e964691ff25d04c","_TRANSPORT":"stdout","PRIORITY":"6","SYSLOG_FACILITY":"3","SYSLOG_IDENTIFIER":"kubelet","_PID":"1939","_SYSTEMD_UNIT":"kubelet.service","_HOSTNAME":"ip-10-3-0-40.ec2.internal","MESSAGE":"E1122 00:00:00.003816    1939 remote_image.go:180] \"PullImage from image service failed\" err=\"rpc error: code = NotFound desc = failed to pull and unpack image \\\"docker.io/library/ngnix:latest\\\": not found\" image=\"ngnix:latest\""}"#,
                Want {
                    envelope: Some(Envelope::JournalJson),
                    format: Format::Klog,
                    emitter: Emitter::Kubelet,
                    level: Level::Error,
                    time: "2024-11-22T00:00:00.003816Z",
                    host: "ip-10-3-0-40.ec2.internal",
                    message: "PullImage from image service failed",
                    ..NONE
                },
            ),
            (
                r#"{"__REALTIME_TIMESTAMP":"1713455512000000","_HOSTNAME":"node-1","PRIORITY":"6","SYSLOG_IDENTIFIER":"containerd","_SYSTEMD_UNIT":"containerd.service","MESSAGE":"time=\"2024-04-18T15:51:52.123Z\" level=error msg=\"PullImage \\\"nginx:1.25\\\" failed\" error=\"failed to resolve reference\""}"#,
                Want {
                    envelope: Some(Envelope::JournalJson),
                    format: Format::Logfmt,
                    emitter: Emitter::Containerd,
                    level: Level::Error,
                    time: "2024-04-18T15:51:52Z",
                    host: "node-1",
                    message: "PullImage \"nginx:1.25\" failed",
                    ..NONE
                },
            ),
            (
                // MESSAGE with a control byte arrives as a byte array.
                r#"{"__REALTIME_TIMESTAMP":"1713455512000000","_HOSTNAME":"node-1","PRIORITY":"3","_SYSTEMD_UNIT":"docker.service","MESSAGE":[69,114,114,111,114,32,112,117,108,108,105,110,103,27,255]}"#,
                Want {
                    envelope: Some(Envelope::JournalJson),
                    format: Format::DockerCli,
                    emitter: Emitter::Dockerd,
                    level: Level::Error,
                    time: "2024-04-18T15:51:52Z",
                    host: "node-1",
                    message: "Error pulling\u{1b}\u{fffd}",
                    ..NONE
                },
            ),
            (
                r#"{"log":"time=\"2020-04-10T14:04:50.847156802Z\" level=info msg=\"Processing signal 'interrupt'\"\n","stream":"stderr","time":"2020-04-10T14:04:50.847690847Z"}"#,
                Want {
                    envelope: Some(Envelope::DockerJson),
                    format: Format::Logfmt,
                    level: Level::Info,
                    time: "2020-04-10T14:04:50.847690847Z",
                    message: "Processing signal 'interrupt'",
                    ..NONE
                },
            ),
            (
                r#"{"log":"Error response from daemon: pull access denied for foo/bar, repository does not exist or may require 'docker login'\r\n","stream":"stdout","time":"2018-01-24T05:57:12.583118365Z"}"#,
                Want {
                    envelope: Some(Envelope::DockerJson),
                    format: Format::DockerCli,
                    emitter: Emitter::DockerCli,
                    level: Level::Error,
                    time: "2018-01-24T05:57:12.583118365Z",
                    message: "Error response from daemon: pull access denied",
                    ..NONE
                },
            ),
            (
                r#"{"TimeStamp":"2023-04-18 15:51:52 \u002B0000 UTC","Type":"Normal","ContainerAppName":"revision-test","RevisionName":"revision-test--bvks0q4","ReplicaName":"revision-test--bvks0q4-5d65b5999-nm2l2","Msg":"Pulling image \u0022docker.io/nginx:1.23.4\u0022","Reason":"PullingImage","EventSource":"ContainerAppController","Count":3}"#,
                Want {
                    envelope: Some(Envelope::AcaJson),
                    emitter: Emitter::Aca,
                    level: Level::Info,
                    time: "2023-04-18T15:51:52Z",
                    app: "revision-test",
                    revision: "revision-test--bvks0q4",
                    replica: "revision-test--bvks0q4-5d65b5999-nm2l2",
                    count: 3,
                    message: "Pulling image \"docker.io/nginx:1.23.4\"",
                    ..NONE
                },
            ),
            (
                // An `az monitor log-analytics query` row: every value a string.
                r#"{"ContainerAppName_s":"ca-web","Count_d":"2.0","Log_s":"Failed to pull image \"acr1.azurecr.io/web:1.4\": rpc error: code = Unknown desc = failed to pull and unpack image: 401 Unauthorized","ReplicaName_s":"ca-web--r1-5d65b5999-nm2l2","RevisionName_s":"ca-web--r1","TableName":"PrimaryResult","TimeGenerated":"2024-11-22T09:26:00.123Z","Type_s":"Warning"}"#,
                Want {
                    envelope: Some(Envelope::AcaJson),
                    emitter: Emitter::Aca,
                    level: Level::Warning,
                    time: "2024-11-22T09:26:00.123Z",
                    app: "ca-web",
                    revision: "ca-web--r1",
                    replica: "ca-web--r1-5d65b5999-nm2l2",
                    count: 2,
                    message: "401 Unauthorized",
                    ..NONE
                },
            ),
            (
                r#"{"metadata":{"name":"coredns-6f6b679f8f-5m7kq.1808ba33a0b81f1d","namespace":"kube-system","uid":"c54544b6-ef6f-4cc7-bca9-7bc7ec026d0a","resourceVersion":"415","creationTimestamp":"2024-11-17T10:19:47Z"},"involvedObject":{"kind":"Pod","namespace":"kube-system","name":"coredns-6f6b679f8f-5m7kq","uid":"039e0c2f-3dbe-4622-ae3f-ce05113b939e","apiVersion":"v1","resourceVersion":"369","fieldPath":"spec.containers{coredns}"},"reason":"Pulled","message":"Container image \"registry.k8s.io/coredns/coredns:v1.11.1\" already present on machine","source":{"component":"kubelet","host":"minikube"},"firstTimestamp":"2024-11-17T10:19:47Z","lastTimestamp":"2024-11-17T10:19:47Z","count":1,"type":"Normal","eventTime":null,"reportingComponent":"kubelet","reportingInstance":"minikube"}"#,
                Want {
                    envelope: Some(Envelope::K8sEventJson),
                    format: Format::K8sEvent,
                    emitter: Emitter::Kubelet,
                    level: Level::Info,
                    time: "2024-11-17T10:19:47Z",
                    host: "minikube",
                    pod: "coredns-6f6b679f8f-5m7kq",
                    namespace: "kube-system",
                    container: "coredns",
                    message: "already present on machine",
                    ..NONE
                },
            ),
            (
                r#"{"apiVersion":"v1","count":61,"firstTimestamp":"2016-01-29T11:44:55Z","involvedObject":{"apiVersion":"v1","fieldPath":"spec.containers{registry}","kind":"Pod","name":"registry-v1-j6noi","namespace":"srrs-ci","resourceVersion":"1765734","uid":"b5aab60b-c67d-11e5-accd-06606734e5a7"},"kind":"Event","lastTimestamp":"2016-01-29T11:54:45Z","message":"Failed to pull image \"quay.io/ukhomeofficedigital/s3registry:v2.0.0-bob\": image pull failed for quay.io/ukhomeofficedigital/s3registry:v2.0.0-bob, this may be because there are no credentials on this request.  details: (Tag v2.0.0-bob not found in repository quay.io/ukhomeofficedigital/s3registry)","metadata":{"name":"registry-v1-j6noi.142de30bef3dc23b","namespace":"srrs-ci"},"reason":"Failed","source":{"component":"kubelet","host":"ip-10-50-1-50.eu-west-1.compute.internal"},"type":"Warning"}"#,
                Want {
                    envelope: Some(Envelope::K8sEventJson),
                    format: Format::K8sEvent,
                    emitter: Emitter::Kubelet,
                    level: Level::Warning,
                    time: "2016-01-29T11:54:45Z",
                    host: "ip-10-50-1-50.eu-west-1.compute.internal",
                    pod: "registry-v1-j6noi",
                    namespace: "srrs-ci",
                    container: "registry",
                    count: 61,
                    message: "Tag v2.0.0-bob not found",
                    ..NONE
                },
            ),
            (
                // events.k8s.io/v1, as `kubectl get events.events.k8s.io -o json` prints it.
                r#"{"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"web-7d4b9.17a1","namespace":"shop"},"eventTime":"2024-05-02T08:00:01.123456Z","series":{"count":7,"lastObservedTime":"2024-05-02T08:06:40.000001Z"},"reportingController":"kubelet","reportingInstance":"aks-nodepool1-95912328-vmss000004","action":"Pulling","reason":"Failed","regarding":{"kind":"Pod","namespace":"shop","name":"web-7d4b9","fieldPath":"spec.initContainers{migrate}"},"note":"Failed to pull image \"shopacr.azurecr.io/migrate:2.1\": failed to authorize: failed to fetch anonymous token: 401 Unauthorized","type":"Warning","deprecatedCount":3}"#,
                Want {
                    envelope: Some(Envelope::K8sEventJson),
                    format: Format::K8sEvent,
                    emitter: Emitter::Kubelet,
                    level: Level::Warning,
                    time: "2024-05-02T08:06:40.000001Z",
                    host: "aks-nodepool1-95912328-vmss000004",
                    pod: "web-7d4b9",
                    namespace: "shop",
                    container: "migrate",
                    count: 7,
                    message: "401 Unauthorized",
                    ..NONE
                },
            ),
            (
                // A scheduler event: no host, not a kubelet.
                r#"{"metadata":{"name":"x.1808ba323d34c8e8","namespace":"kube-system"},"involvedObject":{"kind":"Pod","namespace":"kube-system","name":"coredns-6f6b679f8f-5m7kq"},"reason":"Scheduled","message":"Successfully assigned kube-system/coredns-6f6b679f8f-5m7kq to minikube","source":{"component":"default-scheduler"},"firstTimestamp":"2024-11-17T10:19:41Z","lastTimestamp":null,"count":1,"type":"Normal","eventTime":null,"reportingComponent":"default-scheduler","reportingInstance":""}"#,
                Want {
                    envelope: Some(Envelope::K8sEventJson),
                    format: Format::K8sEvent,
                    level: Level::Info,
                    time: "2024-11-17T10:19:41Z",
                    pod: "coredns-6f6b679f8f-5m7kq",
                    namespace: "kube-system",
                    message: "Successfully assigned",
                    ..NONE
                },
            ),
            (
                // A watch event around an Event (k8sobjects receivers, `--raw ...?watch=1`).
                r#"{"type":"MODIFIED","object":{"kind":"Event","involvedObject":{"kind":"Pod","name":"memory-hog-77bc84f698-8ddlj","namespace":"chq-demo-apps"},"message":"Back-off pulling image \"nginx:bad\"","reason":"BackOff","count":5,"lastTimestamp":"2024-11-19T19:28:06Z","source":{"component":"kubelet","host":"ip-10-181-10-113.us-east-2.compute.internal"},"type":"Normal"}}"#,
                Want {
                    envelope: Some(Envelope::K8sEventJson),
                    format: Format::K8sEvent,
                    emitter: Emitter::Kubelet,
                    level: Level::Info,
                    time: "2024-11-19T19:28:06Z",
                    host: "ip-10-181-10-113.us-east-2.compute.internal",
                    pod: "memory-hog-77bc84f698-8ddlj",
                    namespace: "chq-demo-apps",
                    count: 5,
                    message: "Back-off pulling image",
                    ..NONE
                },
            ),
            (
                // Docker Engine API error body: no known shape, stays plain.
                r#"{"message":"manifest for registry:2222 not found: manifest unknown: manifest unknown"}"#,
                Want { message: r#"{"message":"manifest for registry:2222 not found"#, ..NONE },
            ),
            (
                // An application's own JSON log: plain, escapes undone.
                r#"{"level":"error","msg":"pull failed: \u0022x\u0022 denied","ts":1}"#,
                Want { message: r#""msg":"pull failed: "x" denied""#, ..NONE },
            ),
            (
                // A CRI line whose payload is an Event object (an event exporter's stdout).
                r#"2024-06-01T10:00:00.5Z stdout F {"kind":"Event","involvedObject":{"kind":"Pod","name":"api-0","namespace":"prod"},"message":"Error: ErrImagePull","type":"Warning","count":2,"lastTimestamp":"2024-06-01T09:59:59Z","source":{"component":"kubelet","host":"node-7"}}"#,
                Want {
                    envelope: Some(Envelope::Cri),
                    format: Format::K8sEvent,
                    emitter: Emitter::Kubelet,
                    level: Level::Warning,
                    time: "2024-06-01T10:00:00.5Z",
                    host: "node-7",
                    pod: "api-0",
                    namespace: "prod",
                    count: 2,
                    message: "Error: ErrImagePull",
                    ..NONE
                },
            ),
        ]
    }

    #[test]
    fn json_lines() {
        let ctx = LineContext::in_year(2024);
        for (line, w) in rows() {
            let r = parse_line(line, &ctx);
            assert_eq!(r.envelope, w.envelope, "{line}");
            assert_eq!(r.format, w.format, "{line}");
            assert_eq!(r.emitter, w.emitter, "{line}");
            assert_eq!(r.level, w.level, "{line}");
            assert_eq!(r.time.map(|t| t.to_string()).unwrap_or_default(), w.time, "{line}");
            assert_eq!(r.host.as_deref().unwrap_or_default(), w.host, "{line}");
            assert_eq!(r.pod.as_deref().unwrap_or_default(), w.pod, "{line}");
            assert_eq!(r.namespace.as_deref().unwrap_or_default(), w.namespace, "{line}");
            assert_eq!(r.container.as_deref().unwrap_or_default(), w.container, "{line}");
            assert_eq!(r.app.as_deref().unwrap_or_default(), w.app, "{line}");
            assert_eq!(r.revision.as_deref().unwrap_or_default(), w.revision, "{line}");
            assert_eq!(r.replica.as_deref().unwrap_or_default(), w.replica, "{line}");
            assert_eq!(r.count, w.count, "{line}");
            assert!(r.message.contains(w.message), "{line}\n  message: {}", r.message);
        }
    }

    #[test]
    fn record_from_json_is_none_for_other_objects() {
        let ctx = LineContext::in_year(2024);
        for text in [
            r#"{"kind":"Pod","metadata":{"name":"x"}}"#,
            r#"{"log":"no stream or time"}"#,
            r#"{"MESSAGE":"no journal fields"}"#,
            r#"{"Log_s":"no Log Analytics columns"}"#,
            r#"{}"#,
        ] {
            let obj: Map<String, Value> = serde_json::from_str(text).expect("test JSON");
            assert!(record_from_json(&obj, &ctx).is_none(), "{text}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        // A docker line holding a journald object holding a docker line ...
        let mut line = r#"{"log":"Error response from daemon: toomanyrequests","stream":"stderr","time":"2024-01-01T00:00:00Z"}"#.to_string();
        for _ in 0..6 {
            line = serde_json::json!({"log": line, "stream": "stdout", "time": "2024-01-01T00:00:00Z"})
                .to_string();
        }
        let r = parse_line(&line, &LineContext::in_year(2024));
        assert_eq!(r.envelope, Some(Envelope::DockerJson));
        assert!(r.message.contains("toomanyrequests"));
    }

    #[test]
    fn field_helpers() {
        assert_eq!(container_of("spec.containers{web}"), Some("web"));
        assert_eq!(container_of("spec.ephemeralContainers{debugger-x}"), Some("debugger-x"));
        assert_eq!(container_of("spec.containers{}"), None);
        assert_eq!(container_of("spec.containers[0]"), None);
        assert_eq!(count_of(&serde_json::json!("3.0")), Some(3));
        assert_eq!(count_of(&serde_json::json!(-1)), None);
        assert_eq!(count_of(&serde_json::json!(1e30)), Some(u32::MAX));
        assert_eq!(count_of(&serde_json::json!(null)), None);
    }
}
