//! Kubernetes event rows, as `kubectl` prints them in text.
//!
//! This module owns the table shapes users paste: `kubectl describe pod`
//! Events rows (`Warning  Failed  29s (x3 over 67s)  kubelet, node  MSG`),
//! the legacy tab-separated describe rows (`16m  17s  6  {kubelet node}
//! spec.containers{nginx}  Warning  Failed  MSG`), `kubectl get events`
//! rows (`9m37s  Warning  Failed  pod/NAME  MSG`, with a leading NAMESPACE
//! under `-A`), the old get-events rows with `{kubelet HOST}` sources, and
//! `[Normal] MSG` / `[Warning] MSG` lines from event logs. It yields level
//! (Warning / Normal), count, node, pod, namespace, container and the
//! MESSAGE column as the message. The JSON event documents (`kubectl get
//! events -o json`) are a document format and live elsewhere.
//!
//! Every shape is recognised by its columns (an age like `9m51s` next to
//! `Warning` / `Normal`), never by the message, so a prose line that
//! mentions "Warning" stays plain.

use std::borrow::Cow;

use super::unescape;
use crate::record::{Emitter, Format, Level, Record};

/// Parse an event row. Returns false when the payload is not one.
pub(crate) fn parse<'a>(payload: &'a str, rec: &mut Record<'a>) -> bool {
    let b = payload.as_bytes();
    let Some(&first) = b.first() else { return false };
    if !(first.is_ascii_alphanumeric() || matches!(first, b' ' | b'\t' | b'<' | b'[')) {
        return false;
    }
    // get-events rows before the legacy `{source}` rows: a modern row whose
    // message holds ` {` must not be taken for a legacy source column.
    describe(payload, rec)
        || get_events(payload, rec)
        || legacy(payload, rec)
        || bracketed(payload, rec)
}

/// Whitespace-separated tokens with their byte offsets.
fn tokens(s: &str) -> impl Iterator<Item = (usize, &str)> {
    let b = s.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() && matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        let start = i;
        while i < b.len() && !matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
        Some((start, &s[start..i]))
    })
}

/// `Warning` / `Normal` as the event type column.
fn event_type(tok: &str) -> Option<Level> {
    match tok {
        "Warning" => Some(Level::Warning),
        "Normal" => Some(Level::Info),
        _ => None,
    }
}

/// An event age: `9m51s`, `17h`, `114m`, `2s`, `<unknown>`, `<invalid>`.
fn is_age(tok: &str) -> bool {
    if tok == "<unknown>" || tok == "<invalid>" {
        return true;
    }
    let b = tok.as_bytes();
    let mut i = 0;
    let mut pairs = 0;
    while i < b.len() {
        let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || !matches!(b.get(i + digits), Some(b's' | b'm' | b'h' | b'd' | b'y')) {
            return false;
        }
        i += digits + 1;
        pairs += 1;
    }
    pairs > 0
}

/// A reason column: `Failed`, `BackOff`, `FailedSync`, `failed`.
fn is_reason(tok: &str) -> bool {
    !tok.is_empty() && tok.bytes().all(|c| c.is_ascii_alphanumeric())
}

/// `kubectl describe` Events: `Type Reason Age From Message`.
fn describe<'a>(s: &'a str, rec: &mut Record<'a>) -> bool {
    let mut t = tokens(s);
    let Some(level) = t.next().and_then(|(_, tok)| event_type(tok)) else { return false };
    if !t.next().is_some_and(|(_, tok)| is_reason(tok))
        || !t.next().is_some_and(|(_, tok)| is_age(tok))
    {
        return false;
    }
    let mut count = 1;
    let mut from = t.next();
    if let Some((_, tok)) = from {
        if let Some(n) = tok.strip_prefix("(x") {
            let Ok(n) = n.parse::<u32>() else { return false };
            let over = t.next().is_some_and(|(_, w)| w == "over");
            if !over || !t.next().is_some_and(|(_, w)| w.ends_with(')')) {
                return false;
            }
            count = n;
            from = t.next();
        }
    }
    let Some((from_at, source)) = from else { return false };
    if !is_source(source) {
        return false;
    }
    let mut host = None;
    let mut msg_from = from_at + source.len();
    if source.ends_with(',') {
        let Some((at, node)) = t.next() else { return false };
        host = Some(node);
        msg_from = at + node.len();
    }
    let message = s[msg_from..].trim_start();
    if message.is_empty() {
        return false;
    }
    let source = source.trim_end_matches(',');
    fill(rec, level, count, source, host, message);
    true
}

/// An event source column: `kubelet`, `default-scheduler`, `kubelet,`.
fn is_source(tok: &str) -> bool {
    let t = tok.trim_end_matches(',');
    !t.is_empty()
        && t.as_bytes()[0].is_ascii_lowercase()
        && t.bytes().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'-' | b'.' | b'/')
        })
}

/// Legacy rows with a `{source host}` column: old `kubectl describe`
/// (`FirstSeen LastSeen Count From SubObjectPath Type Reason Message`) and
/// old `kubectl get events` (`FIRSTSEEN LASTSEEN COUNT NAME KIND SUBOBJECT
/// REASON SOURCE MESSAGE`, or `TIME SOURCE SUBOBJECT REASON MESSAGE`).
fn legacy<'a>(s: &'a str, rec: &mut Record<'a>) -> bool {
    let b = s.as_bytes();
    // The source brace follows whitespace (`spec.containers{x}` does not).
    let Some(open) = (1..b.len()).find(|&i| b[i] == b'{' && matches!(b[i - 1], b' ' | b'\t'))
    else {
        return false;
    };
    let Some(close) = b[open..].iter().position(|&c| c == b'}').map(|c| c + open) else {
        return false;
    };
    let before: Vec<&str> = tokens(&s[..open]).map(|(_, t)| t).collect();
    let dated = before
        .first()
        .is_some_and(|t| t.len() == 4 && t.ends_with(',') && t.as_bytes()[0].is_ascii_uppercase());
    if !dated && !before.first().is_some_and(|t| is_age(t)) {
        return false;
    }
    let (source, host) = match s[open + 1..close].trim().split_once(' ') {
        Some((src, h)) => (src, Some(h.trim())),
        None => (s[open + 1..close].trim(), None),
    };
    // COUNT is the third column: by tabs when the row has them (dated
    // columns hold spaces), else by whitespace after two ages.
    let columns: Vec<&str> =
        s[..open].split('\t').map(str::trim).filter(|c| !c.is_empty()).collect();
    let count = if columns.len() >= 3 && columns[2].bytes().all(|c| c.is_ascii_digit()) {
        columns[2].parse().unwrap_or(1)
    } else if before.len() >= 3 && is_age(before[0]) && is_age(before[1]) {
        before[2].parse().unwrap_or(1)
    } else {
        1
    };
    // After the source: [subobject] [Type Reason | reason<TAB/2 spaces>] message.
    let mut level = None;
    let mut rest = &s[close + 1..];
    let mut t = tokens(rest);
    let mut msg_at = None;
    while let Some((at, tok)) = t.next() {
        if tok.contains('{') || tok.starts_with("spec.") {
            continue;
        }
        if let Some(l) = event_type(tok).filter(|_| level.is_none()) {
            level = Some(l);
            // The reason follows the type.
            t.next();
            continue;
        }
        let gap = &rest[at + tok.len()..];
        if level.is_none() && is_reason(tok) && (gap.starts_with('\t') || gap.starts_with("  ")) {
            continue;
        }
        msg_at = Some(at);
        break;
    }
    let Some(msg_at) = msg_at else { return false };
    rest = &rest[msg_at..];
    // Old get-events: `... NAME Pod SUBOBJECT REASON {source}`.
    if before.len() >= 5 && before[4] == "Pod" {
        rec.pod = Some(Cow::Borrowed(before[3]));
    }
    fill(rec, level.unwrap_or(Level::Unknown), count, source, host, rest.trim_end());
    true
}

/// `kubectl get events`: `[NAMESPACE] LAST-SEEN TYPE REASON OBJECT MESSAGE`,
/// and with `-o wide` `[NAMESPACE] LAST-SEEN TYPE REASON OBJECT SUBOBJECT
/// SOURCE MESSAGE FIRST-SEEN COUNT NAME` (SUBOBJECT and SOURCE may be
/// blank; SOURCE is `kubelet, node-1` when the event names a host).
fn get_events<'a>(s: &'a str, rec: &mut Record<'a>) -> bool {
    let toks: Vec<(usize, &str)> = tokens(s).take(6).collect();
    let (ns, at) = match toks.as_slice() {
        [(_, age), (_, ty), ..] if is_age(age) && event_type(ty).is_some() => (None, 1),
        [(_, ns), (_, age), (_, ty), ..] if is_age(age) && event_type(ty).is_some() => {
            (Some(*ns), 2)
        }
        _ => return false,
    };
    let (Some(&(_, ty)), Some(&(_, reason)), Some(&(obj_at, object))) =
        (toks.get(at), toks.get(at + 1), toks.get(at + 2))
    else {
        return false;
    };
    if !is_reason(reason) || !object.contains('/') {
        return false;
    }
    let rest = &s[obj_at + object.len()..];
    let wide = wide_columns(rest);
    let message = wide.as_ref().map_or(rest, |w| w.message).trim();
    if message.is_empty() {
        return false;
    }
    let level = event_type(ty).unwrap_or(Level::Unknown);
    if let Some(name) = object.strip_prefix("pod/") {
        rec.pod = Some(Cow::Borrowed(name));
    }
    if let Some(ns) = ns {
        rec.namespace = Some(Cow::Borrowed(ns));
    }
    match wide {
        Some(w) => {
            fill(rec, level, w.count, w.source, w.host, message);
            if let Some(c) = w.container {
                rec.container = Some(Cow::Borrowed(c));
            }
        }
        None => fill(rec, level, 1, "", None, message),
    }
    true
}

/// The `-o wide` columns after OBJECT.
struct Wide<'a> {
    container: Option<&'a str>,
    source: &'a str,
    host: Option<&'a str>,
    message: &'a str,
    count: u32,
}

/// Split `SUBOBJECT SOURCE MESSAGE FIRST-SEEN COUNT NAME` (the text after
/// OBJECT), when the row ends with an age, a count and an event name.
fn wide_columns(rest: &str) -> Option<Wide<'_>> {
    let trimmed = rest.trim_end();
    let (before_name, name) = trimmed.rsplit_once([' ', '\t'])?;
    let before_name = before_name.trim_end();
    let (before_count, count) = before_name.rsplit_once([' ', '\t'])?;
    let before_count = before_count.trim_end();
    let (middle, first_seen) = before_count.rsplit_once([' ', '\t'])?;
    if !name.contains('.') || !is_age(first_seen) || !count.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let count = count.parse().ok()?;
    let mut t = tokens(middle).peekable();
    let mut container = None;
    let mut msg_from = 0;
    if let Some(&(at, tok)) = t.peek() {
        if tok.starts_with("spec.") || tok.contains('{') {
            container = container_of(tok);
            msg_from = at + tok.len();
            t.next();
        }
    }
    let (mut source, mut host) = ("", None);
    if let Some(&(at, tok)) = t.peek() {
        if is_source(tok) {
            source = tok.trim_end_matches(',');
            msg_from = at + tok.len();
            t.next();
            if tok.ends_with(',') {
                let (at, h) = t.next()?;
                host = Some(h);
                msg_from = at + h.len();
            }
        }
    }
    Some(Wide { container, source, host, message: &middle[msg_from..], count })
}

/// `[Normal] MSG` / `[Warning] MSG` (JupyterHub-style event logs).
fn bracketed<'a>(s: &'a str, rec: &mut Record<'a>) -> bool {
    let (level, message) = if let Some(m) = s.strip_prefix("[Normal] ") {
        (Level::Info, m)
    } else if let Some(m) = s.strip_prefix("[Warning] ") {
        (Level::Warning, m)
    } else {
        return false;
    };
    if message.trim().is_empty() {
        return false;
    }
    fill(rec, level, 1, "", None, message);
    true
}

fn fill<'a>(
    rec: &mut Record<'a>,
    level: Level,
    count: u32,
    source: &str,
    host: Option<&'a str>,
    message: &'a str,
) {
    rec.format = Format::K8sEvent;
    rec.level = level;
    rec.count = count.max(1);
    if source.starts_with("kubelet") && matches!(rec.emitter, Emitter::Unknown | Emitter::Ci) {
        rec.emitter = Emitter::Kubelet;
    }
    if let Some(h) = host.filter(|h| !h.is_empty()) {
        rec.host = Some(Cow::Borrowed(h));
    }
    if let Some(c) = container_of(message) {
        rec.container = Some(Cow::Borrowed(c));
    }
    rec.message = unescape(message);
}

/// `spec.containers{name}` / `spec.initContainers{name}` at the start of a
/// message (newer kubectl moved the sub-object into the message).
fn container_of(message: &str) -> Option<&str> {
    let rest = message
        .strip_prefix("spec.containers{")
        .or_else(|| message.strip_prefix("spec.initContainers{"))?;
    let end = rest.find('}')?;
    Some(&rest[..end]).filter(|c| !c.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{parse_line, LineContext};

    /// (line, emitter, level, host, pod, namespace, container, count, message prefix)
    type Row = (
        &'static str,
        Emitter,
        Level,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        u32,
        &'static str,
    );

    const ROWS: &[Row] = &[
        (
            r#"  Warning  Failed            29s (x3 over 67s)  kubelet            Failed to pull image "840364872350.dkr.ecr.us-west-2.amazonaws.com/amazon/appmesh-controller:v1.12.5": rpc error"#,
            Emitter::Kubelet, Level::Warning, "", "", "", "", 3,
            r#"Failed to pull image "840364872350.dkr.ecr.us-west-2.amazonaws.com/amazon/appmesh-controller:v1.12.5": rpc error"#,
        ),
        (
            r#"  Warning  InspectFailed  10s (x3 over 24s)  kubelet, minikube  Failed to apply default image tag "/cloudfoundry/75f1:a28a": couldn't parse image reference "/cloudfoundry/75f1:a28a": invalid reference format"#,
            Emitter::Kubelet, Level::Warning, "minikube", "", "", "", 3,
            "Failed to apply default image tag",
        ),
        (
            r#"  Warning  Failed     9m               kubelet, node1.home  Failed to pull image "docker.io/library/golang:1.9": rpc error"#,
            Emitter::Kubelet, Level::Warning, "node1.home", "", "", "", 1,
            r#"Failed to pull image "docker.io/library/golang:1.9""#,
        ),
        (
            r#"Warning Failed 18s (x2 over 37s) kubelet, kworker2 Failed to pull image "hjacobs/kube-ops-view:0.8.1": rpc error"#,
            Emitter::Kubelet, Level::Warning, "kworker2", "", "", "", 2,
            r#"Failed to pull image "hjacobs/kube-ops-view:0.8.1""#,
        ),
        (
            r#"  Normal   Pulling    29s (x3 over 1m)  kubelet, ip-10-0-139-152.ec2.internal  pulling image "optaplanner/optaplanner-demo:snapshot-190326-101059-0997""#,
            Emitter::Kubelet, Level::Info, "ip-10-0-139-152.ec2.internal", "", "", "", 3,
            "pulling image \"optaplanner",
        ),
        (
            r#"  Normal   Pulled     1s (x2 over 3s)  kubelet            spec.containers{headscale}: Container image "headscale/headscale:v0.29.3" already present on machine and can be accessed by the pod"#,
            Emitter::Kubelet, Level::Info, "", "", "", "headscale", 2,
            "spec.containers{headscale}: Container image",
        ),
        (
            "  Warning  FailedCreatePodSandBox  40m                   kubelet            Failed to create pod sandbox: rpc error",
            Emitter::Kubelet, Level::Warning, "", "", "", "", 1,
            "Failed to create pod sandbox",
        ),
        (
            "  Warning  Failed     6m15s                 kubelet, ip-x.x.x.x.ec2.internal  Error: ImagePullBackOff",
            Emitter::Kubelet, Level::Warning, "ip-x.x.x.x.ec2.internal", "", "", "", 1,
            "Error: ImagePullBackOff",
        ),
        (
            "  Normal   Scheduled  2m  default-scheduler  Successfully assigned default/x to node-1",
            Emitter::Unknown, Level::Info, "", "", "", "", 1,
            "Successfully assigned",
        ),
        (
            "  16m\t\t17s\t\t6\t{kubelet gklab-97a-012}\t\t\t\tWarning\t\tFailedSync\tError syncing pod, skipping: failed to \"StartContainer\" for \"nginx\" with ErrImagePull: \"rpc error: code = 4 desc = context deadline exceeded\"",
            Emitter::Kubelet, Level::Warning, "gklab-97a-012", "", "", "", 6,
            "Error syncing pod, skipping: failed to \"StartContainer\"",
        ),
        (
            "  16m\t\t17s\t\t6\t{kubelet gklab-97a-012}\tspec.containers{nginx}\tWarning\t\tFailed\t\tFailed to pull image \"nginx\": rpc error: code = 4 desc = context deadline exceeded",
            Emitter::Kubelet, Level::Warning, "gklab-97a-012", "", "", "", 6,
            "Failed to pull image \"nginx\": rpc error",
        ),
        (
            "  41m   41m     1       {kubelet gke-hivemp-n1-pool-4ed8d54a-5v1s}                                                      Warning FailedSync      Error syncing pod, skipping: no space left on device\"",
            Emitter::Kubelet, Level::Warning, "gke-hivemp-n1-pool-4ed8d54a-5v1s", "", "", "", 1,
            "Error syncing pod, skipping: no space",
        ),
        (
            "  18m\t12s\t73\t{kubelet rootfs-dev}\tspec.containers{web}\tNormal\tBackOff\t\tBack-off pulling image \"kubernetes/pause\"",
            Emitter::Kubelet, Level::Info, "rootfs-dev", "", "", "", 73,
            "Back-off pulling image \"kubernetes/pause\"",
        ),
        (
            "2s          2s         1         my-nginx-p70z0   Pod                     spec.containers{my-nginx}           Pulling            {kubelet 127.0.0.1}         pulling image \"ngixn\"",
            Emitter::Kubelet, Level::Unknown, "127.0.0.1", "my-nginx-p70z0", "", "", 1,
            "pulling image \"ngixn\"",
        ),
        (
            "Sat, 31 Jan 2015 03:52:18 +0000\t{kubelet k8s-littlecloud-3-node-3.c.littlebits-electronics.internal}\tspec.containers{cloud-api-stream}\tfailed\t\tFailed to pull image \"quay.io/littlebits/cloud-server-api-stream:0.2.13\"",
            Emitter::Kubelet, Level::Unknown, "k8s-littlecloud-3-node-3.c.littlebits-electronics.internal", "", "", "", 1,
            "Failed to pull image \"quay.io/littlebits",
        ),
        (
            "  Thu, 13 Aug 2015 11:16:05 -0700\tThu, 13 Aug 2015 11:17:16 -0700\t8\t{kubelet 172.17.8.101}\t\t\tfailedSync\tError syncing pod, skipping: secrets \"myregistrykey\" not found",
            Emitter::Kubelet, Level::Unknown, "172.17.8.101", "", "", "", 8,
            "Error syncing pod, skipping: secrets \"myregistrykey\"",
        ),
        (
            r#"9m37s       Warning   Failed                pod/octarine-guardrails-enforcer-5888cf98bf-xzklp          Failed to pull image "octarinesec/guardrails-enforcer:20.7": rpc error: code = Unknown desc = Error response from daemon: unauthorized: authentication required"#,
            Emitter::Unknown, Level::Warning, "", "octarine-guardrails-enforcer-5888cf98bf-xzklp", "", "", 1,
            "Failed to pull image \"octarinesec/guardrails-enforcer:20.7\"",
        ),
        (
            r#"114m        Normal    Pulled                pod/hpe-csi-controller-7c954d99c4-p2qs5         Successfully pulled image "quay.io/k8scsi/csi-provisioner:v1.5.0" in 6.307556687s"#,
            Emitter::Unknown, Level::Info, "", "hpe-csi-controller-7c954d99c4-p2qs5", "", "", 1,
            "Successfully pulled image",
        ),
        (
            "kube-system   5m   Warning   Failed   pod/coredns-abc   Error: ErrImagePull",
            Emitter::Unknown, Level::Warning, "", "coredns-abc", "kube-system", "", 1,
            "Error: ErrImagePull",
        ),
        (
            // `kubectl get events -o wide` (columns as kubectl's event printer writes them).
            r#"2m14s       Warning   Failed      pod/web-5d65b5999-nm2l2   spec.containers{web}   kubelet, minikube   Failed to pull image "nginx:1.27-bad": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:1.27-bad": failed to resolve reference "docker.io/library/nginx:1.27-bad": docker.io/library/nginx:1.27-bad: not found   3m40s        3       web-5d65b5999-nm2l2.1808ba3428d48a61"#,
            Emitter::Kubelet, Level::Warning, "minikube", "web-5d65b5999-nm2l2", "", "web", 3,
            "Failed to pull image \"nginx:1.27-bad\": rpc error",
        ),
        (
            "5m          Normal    Scheduled   pod/web-5d65b5999-nm2l2                          default-scheduler   Successfully assigned default/web-5d65b5999-nm2l2 to minikube   5m           1       web-5d65b5999-nm2l2.1808ba323d34c8e8",
            Emitter::Unknown, Level::Info, "", "web-5d65b5999-nm2l2", "", "", 1,
            "Successfully assigned default/web-5d65b5999-nm2l2 to minikube",
        ),
        (
            // `kubectl get events -A -o wide`: NAMESPACE first.
            "kube-system   18s   Normal   BackOff   pod/coredns-6f6b679f8f-5m7kq   spec.containers{coredns}   kubelet, ip-10-0-1-2.ec2.internal   Back-off pulling image \"registry.k8s.io/coredns/coredns:v1.11.9\"   2m   7   coredns-6f6b679f8f-5m7kq.1808ba35681897d0",
            Emitter::Kubelet, Level::Info, "ip-10-0-1-2.ec2.internal", "coredns-6f6b679f8f-5m7kq", "kube-system", "coredns", 7,
            "Back-off pulling image \"registry.k8s.io/coredns/coredns:v1.11.9\"",
        ),
        (
            // A plain row whose message holds ` {`: not a legacy source column.
            r#"3m          Warning   Failed      pod/api-0                 Error: failed to pull: {"code":"DENIED","message":"denied"}"#,
            Emitter::Unknown, Level::Warning, "", "api-0", "", "", 1,
            r#"Error: failed to pull: {"code":"DENIED""#,
        ),
        (
            "2023-12-15T19:23:25Z [Normal] Successfully pulled image \"alpine\" in 1.466729067s (3m53.352084967s including waiting)",
            Emitter::Unknown, Level::Info, "", "", "", "", 1,
            "Successfully pulled image \"alpine\"",
        ),
    ];

    #[test]
    fn event_rows() {
        let ctx = LineContext::in_year(2024);
        for &(line, emitter, level, host, pod, ns, container, count, msg) in ROWS {
            let r = parse_line(line, &ctx);
            assert_eq!(r.format, Format::K8sEvent, "{line}");
            assert_eq!(r.envelope, None, "{line}");
            assert_eq!(r.emitter, emitter, "{line}");
            assert_eq!(r.level, level, "{line}");
            assert_eq!(r.host.as_deref().unwrap_or_default(), host, "{line}");
            assert_eq!(r.pod.as_deref().unwrap_or_default(), pod, "{line}");
            assert_eq!(r.namespace.as_deref().unwrap_or_default(), ns, "{line}");
            assert_eq!(r.container.as_deref().unwrap_or_default(), container, "{line}");
            assert_eq!(r.count, count, "{line}");
            assert!(r.message.starts_with(msg), "{line}\n  message: {}", r.message);
        }
    }

    #[test]
    fn not_event_rows() {
        let ctx = LineContext::in_year(2024);
        for line in [
            "Warning: Docker pull failed with exit code 1",
            "Normal operation resumed",
            "  Type     Reason   Age   From     Message",
            "LAST SEEN   TYPE      REASON      OBJECT                    MESSAGE",
            "NAMESPACE     LAST SEEN   TYPE      REASON    OBJECT   SUBOBJECT   SOURCE   MESSAGE   FIRST SEEN   COUNT   NAME",
            "LASTSEEN   FIRSTSEEN   COUNT     NAME                                KIND         SUBOBJECT                         TYPE      REASON              SOURCE                                   MESSAGE",
            "Apr 28 09:35:34.104: INFO: At 2021-04-28 09:30:27 +0100 BST - event for pod-eb16: {kubelet minikube} BackOff: Back-off pulling image \"docker.io/library/busybox:1.29\"",
            "kube-system   fluentd-elasticsearch-e2e-test-mml-minion-siao   0/1       ImagePullBackOff    0          32m",
            "5m Warning",
            "{kubelet x} y",
        ] {
            assert_ne!(parse_line(line, &ctx).format, Format::K8sEvent, "{line}");
        }
    }
}
