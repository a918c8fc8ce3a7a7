//! klog payloads: the kubelet's (and kubeadm's, crictl's) log lines.
//!
//! This module owns the klog header `[IWEF]mmdd hh:mm:ss.uuuuuu <tid>
//! file.go:123] ` and what follows it: structured klog (`"Message" key="v"
//! pod="ns/name" image="..."`) and the older unstructured text, from which it
//! pulls pod, namespace, container and image where the line names them. It
//! also finds a header preceded by junk (`2025-08-23 00:08:47E0823 ...`,
//! kubeadm's `output: E0101 ...`) and the headerless structured fragment
//! users paste (`"PullImage from image service failed" err="..."`). It knows
//! nothing about envelopes; `format::parse_line` hands it a payload.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::{logfmt, set_time, unescape};
use crate::record::{Emitter, Format, Level, Record};
use crate::time::{Timestamp, YearPolicy};

/// A parsed klog header.
struct Header {
    level: Level,
    time: Option<Timestamp>,
    /// Byte offset of the text after `] `.
    body: usize,
}

/// Parse a payload that starts with a klog header.
pub(crate) fn parse_start<'a>(payload: &'a str, year: YearPolicy, rec: &mut Record<'a>) -> bool {
    if !matches!(payload.as_bytes().first(), Some(b'I' | b'W' | b'E' | b'F')) {
        return false;
    }
    let Some(h) = header(payload, 0, year) else { return false };
    apply(payload, &payload[h.body..], h, rec);
    true
}

/// Parse a payload with a klog header after some prefix (within the first
/// 256 bytes), or a headerless structured-klog fragment. When the prefix is
/// only a timestamp it is dropped; otherwise the whole payload stays the
/// message (kubeadm's `failed to pull image "x": output: E0101 ...` names the
/// image before the header).
pub(crate) fn parse_embedded<'a>(payload: &'a str, year: YearPolicy, rec: &mut Record<'a>) -> bool {
    let b = payload.as_bytes();
    let limit = b.len().min(256);
    for i in 1..limit {
        if !matches!(b[i], b'I' | b'W' | b'E' | b'F') || b[i - 1].is_ascii_alphabetic() {
            continue;
        }
        let prefix = &payload[..i];
        // A dated prefix (`2025-08-23 00:08:47E0823 ...`) tells the year.
        let year =
            Timestamp::parse_rfc3339(prefix).map_or(year, |(t, _)| YearPolicy::fixed(t.year()));
        let Some(h) = header(payload, i, year) else { continue };
        let stamp_only = prefix.bytes().all(|c| c.is_ascii_digit() || b"-:T. ,Z+".contains(&c));
        let message = if stamp_only { &payload[h.body..] } else { payload };
        apply(payload, message, h, rec);
        return true;
    }
    if b.first() == Some(&b'"') && structured_fragment(payload) {
        rec.format = Format::Klog;
        structured_fields(payload, rec);
        rec.message = unescape(payload);
        return true;
    }
    false
}

fn apply<'a>(payload: &'a str, message: &'a str, h: Header, rec: &mut Record<'a>) {
    rec.format = Format::Klog;
    rec.level = h.level;
    if let Some(t) = h.time {
        set_time(rec, t);
    }
    if rec.emitter == Emitter::Unknown {
        rec.emitter = Emitter::Kubelet;
    }
    let body = &payload[h.body..];
    if body.starts_with('"') {
        structured_fields(body, rec);
    } else {
        unstructured_fields(body, rec);
    }
    rec.message = unescape(message);
}

/// `[IWEF]mmdd hh:mm:ss.uuuuuu <spaces><tid> <file>:<line>] ` at `at`.
fn header(s: &str, at: usize, year: YearPolicy) -> Option<Header> {
    let b = s.as_bytes();
    let level = match b.get(at)? {
        b'I' => Level::Info,
        b'W' => Level::Warning,
        b'E' | b'F' => Level::Error,
        _ => return None,
    };
    let (time, used) = Timestamp::parse_klog(s.get(at + 1..)?, year)?;
    let mut i = at + 1 + used;
    let spaces = count(b, i, |c| c == b' ');
    let digits = count(b, i + spaces, |c| c.is_ascii_digit());
    if spaces == 0 || digits == 0 || b.get(i + spaces + digits) != Some(&b' ') {
        return None;
    }
    i += spaces + digits + 1;
    let file = count(b, i, |c| c != b']' && c != b' ');
    if file == 0 || !b[i..i + file].contains(&b':') || b.get(i + file) != Some(&b']') {
        return None;
    }
    i += file + 1;
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    Some(Header { level, time: Some(time), body: i })
}

fn count(b: &[u8], from: usize, pred: impl Fn(u8) -> bool) -> usize {
    b.get(from..).map_or(0, |r| r.iter().take_while(|&&c| pred(c)).count())
}

/// `"Message" key=...`: a quoted message followed by at least one key.
fn structured_fragment(s: &str) -> bool {
    let Some(end) = logfmt::quoted_end(s, 0) else { return false };
    let rest = &s[end..];
    rest.starts_with(' ') && rest[1..].bytes().take_while(|&c| c != b' ').any(|c| c == b'=')
}

/// Fields of structured klog: `pod="ns/name"`, `image`, `containerName`,
/// and `object="ns/name" kind="Pod"` from event lines.
fn structured_fields<'a>(body: &'a str, rec: &mut Record<'a>) {
    let start = logfmt::quoted_end(body, 0).unwrap_or(0);
    let mut object = None;
    let mut is_pod = false;
    for (key, value) in logfmt::pairs(&body[start..]) {
        match key {
            "pod" => set_pod(rec, value),
            "image" if !value.is_empty() => rec.image = Some(unescape(value)),
            "containerName" | "container" if !value.is_empty() => {
                rec.container = Some(unescape(value));
            }
            "object" => object = Some(value),
            "kind" => is_pod = value == "Pod",
            _ => {}
        }
    }
    if let (Some(o), true, None) = (object, is_pod, &rec.pod) {
        set_pod(rec, o);
    }
}

fn set_pod<'a>(rec: &mut Record<'a>, value: &'a str) {
    match value.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() => {
            rec.namespace = Some(Cow::Borrowed(ns));
            rec.pod = Some(Cow::Borrowed(name));
        }
        _ if !value.is_empty() => rec.pod = Some(Cow::Borrowed(value)),
        _ => {}
    }
}

/// `("name_namespace(uid)")` as the kubelet prints a pod in old klog.
static POD_NS_UID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\(\\*"([a-z0-9][a-z0-9.-]*)_([a-z0-9][a-z0-9-]*)\([0-9a-f-]+\)"#)
        .expect("static regex")
});

/// `... for ns/name due to ...` (pull-secret warnings).
static FOR_NS_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bfor ([a-z0-9][a-z0-9-]*)/([a-z0-9][a-z0-9.-]*) due to\b").expect("static regex")
});

/// Fields of unstructured klog.
fn unstructured_fields<'a>(body: &'a str, rec: &mut Record<'a>) {
    if body.contains("_") && body.contains('(') {
        if let Some(c) = POD_NS_UID.captures(body) {
            if let (Some(p), Some(n)) = (c.get(1), c.get(2)) {
                rec.pod = Some(Cow::Borrowed(p.as_str()));
                rec.namespace = Some(Cow::Borrowed(n.as_str()));
            }
        }
    }
    if rec.pod.is_none() && body.contains(" due to") {
        if let Some(c) = FOR_NS_NAME.captures(body) {
            if let (Some(n), Some(p)) = (c.get(1), c.get(2)) {
                rec.namespace = Some(Cow::Borrowed(n.as_str()));
                rec.pod = Some(Cow::Borrowed(p.as_str()));
            }
        }
    }
    // `container &Container{Name:hello,Image:busybox,...`
    if let Some(at) = body.find("&Container{Name:") {
        let rest = &body[at + "&Container{Name:".len()..];
        let name = rest.split(',').next().unwrap_or_default();
        if !name.is_empty() && !name.contains(' ') {
            rec.container = Some(Cow::Borrowed(name));
        }
        if let Some(i) = rest.find(",Image:") {
            let image = rest[i + ",Image:".len()..].split(',').next().unwrap_or_default();
            if !image.is_empty() && !image.contains(' ') {
                rec.image = Some(Cow::Borrowed(image));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{parse_line, LineContext};
    use crate::record::Envelope;

    /// (line, envelope, emitter, level, time, host, pod, namespace, container, image, message substring)
    type Row = (
        &'static str,
        Option<Envelope>,
        Emitter,
        Level,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    );

    const ROWS: &[Row] = &[
        (
            r#"E0102 21:10:37.610356   13696 remote_image.go:180] "PullImage from image service failed" err="rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/library/nginx:latest\": 400 Bad Request" image="nginx""#,
            None, Emitter::Kubelet, Level::Error, "2024-01-02T21:10:37.610356", "", "", "", "", "nginx",
            r#"failed to pull and unpack image "docker.io/library/nginx:latest": 400 Bad Request" image="nginx""#,
        ),
        (
            r#"W0707 09:20:09.034548   59778 kubelet_pods.go:883] Unable to retrieve pull secret default/docker-registry-poseidon for default/v2ray-x86-r5m29 due to secret "docker-registry-poseidon" not found.  The image pull may not succeed."#,
            None, Emitter::Kubelet, Level::Warning, "2024-07-07T09:20:09.034548", "", "v2ray-x86-r5m29", "default", "", "",
            "Unable to retrieve pull secret default/docker-registry-poseidon",
        ),
        (
            r#"2025-08-23 00:08:47E0823 00:08:36.232130    2669 pod_workers.go:1298] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"prepare\" with ErrImagePull: \"pull QPS exceeded\"" pod="rhodf-tenant/odr-operator-4-20-on-push-c2mlv-clone-repository-pod" podUID="03c1ff62-b2a5-4ed3-aeac-035af202b5b0""#,
            None, Emitter::Kubelet, Level::Error, "2025-08-23T00:08:36.23213", "", "odr-operator-4-20-on-push-c2mlv-clone-repository-pod", "rhodf-tenant", "", "",
            r#""Error syncing pod, skipping" err="failed to "StartContainer" for "prepare" with ErrImagePull: "pull QPS exceeded"""#,
        ),
        (
            "Jan 30 11:28:54 kind-manager-worker kubelet[222]: E0130 11:28:54.293617     222 log.go:32] \"PullImage from image service failed\" err=\"rpc error: code = NotFound desc = failed to pull and unpack image \\\"us-central1-docker.pkg.dev/k8s-staging-images/kueue/secretreader-plugin:0.0.1\\\": not found\" image=\"us-central1-docker.pkg.dev/k8s-staging-images/kueue/secretreader-plugin:0.0.1\"",
            Some(Envelope::Syslog), Emitter::Kubelet, Level::Error, "2024-01-30T11:28:54.293617", "kind-manager-worker", "", "", "", "us-central1-docker.pkg.dev/k8s-staging-images/kueue/secretreader-plugin:0.0.1",
            "failed to pull and unpack image \"us-central1-docker.pkg.dev/k8s-staging-images/kueue/secretreader-plugin:0.0.1\": not found",
        ),
        (
            r#"* Feb 22 09:44:20 minikube kubelet[3889]: E0222 09:44:20.447117    3889 kuberuntime_manager.go:803] container start failed: ErrImagePull: rpc error: code = Unknown desc = Error response from daemon: Get https://registry-1.docker.io/v2/: dial tcp: lookup registry-1.docker.io on 192.168.64.1:53: read udp 192.168.64.6:43004->192.168.64.1:53: read: connection refused"#,
            Some(Envelope::Syslog), Emitter::Kubelet, Level::Error, "2024-02-22T09:44:20.447117", "minikube", "", "", "", "",
            "container start failed: ErrImagePull: rpc error",
        ),
        (
            r#"Jun 25 16:10:34 minikube kubelet[2752]: E0625 16:10:34.884629    2752 pod_workers.go:190] Error syncing pod 64a29457-5493-4036-8dd1-6da4bc8a9a8d ("registry-proxy-msssn_kube-system(64a29457-5493-4036-8dd1-6da4bc8a9a8d)"), skipping: failed to "StartContainer" for "registry-proxy" with ImagePullBackOff: "Back-off pulling image \"gcr.io/google_containers/kube-registry-proxy:0.4\"""#,
            Some(Envelope::Syslog), Emitter::Kubelet, Level::Error, "2024-06-25T16:10:34.884629", "minikube", "registry-proxy-msssn", "kube-system", "", "",
            r#"Back-off pulling image "gcr.io/google_containers/kube-registry-proxy:0.4""#,
        ),
        (
            r#"Jan 30 11:28:54 kind-manager-worker kubelet[222]: I0130 11:28:54.293976     222 event.go:389] "Event occurred" object="kueue-system/kueue-controller-manager-8494d6795b-8vqfm" fieldPath="spec.initContainers{secretreader-plugin-init}" kind="Pod" apiVersion="v1" type="Warning" reason="Failed" message="Error: ErrImagePull""#,
            Some(Envelope::Syslog), Emitter::Kubelet, Level::Info, "2024-01-30T11:28:54.293976", "kind-manager-worker", "kueue-controller-manager-8494d6795b-8vqfm", "kueue-system", "", "",
            r#"message="Error: ErrImagePull""#,
        ),
        (
            r#"Jan 22 15:54:35 4b19c703a7bd kubelet-crio.sh[512]: E0122 15:54:35.126437      92 kuberuntime_manager.go:829] container &Container{Name:hello,Image:busybox,Command:[],Args:[echo hello u7s-test-crio],WorkingDir:,} start failed"#,
            Some(Envelope::Syslog), Emitter::Kubelet, Level::Error, "2024-01-22T15:54:35.126437", "4b19c703a7bd", "", "", "hello", "busybox",
            "container &Container{Name:hello,Image:busybox",
        ),
        (
            r#"Nov 26 12:07:44 ip-10-8-10-126 kubelet: W1126 12:07:44.833517    3683 kubelet_pods.go:842] Unable to retrieve pull secret default/artifactory-docker-secret for default/qliksense-edge-auth-565cffd699-5wp7w due to secrets "artifactory-docker-secret" not found.  The image pull may not succeed."#,
            Some(Envelope::Syslog), Emitter::Kubelet, Level::Warning, "2024-11-26T12:07:44.833517", "ip-10-8-10-126", "qliksense-edge-auth-565cffd699-5wp7w", "default", "", "",
            "The image pull may not succeed.",
        ),
        (
            r#"E1124 15:59:57.619574 2290376 remote_image.go:171] "PullImage from image service failed" err="rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing dial unix /var/run/dockershim.sock: connect: no such file or directory\"" image="registry.sonkwotest.com/ceasia_test/sk-biz-eureka:20231124152125""#,
            None, Emitter::Kubelet, Level::Error, "2024-11-24T15:59:57.619574", "", "", "", "", "registry.sonkwotest.com/ceasia_test/sk-biz-eureka:20231124152125",
            r#"desc = "transport: Error while dialing dial unix /var/run/dockershim.sock"#,
        ),
        (
            r#"failed to pull image "registry.k8s.io/kube-apiserver:v1.26.0": output: E0101 15:59:19.912124 1680941 remote_image.go:222] "PullImage from image service failed" err="rpc error: code = Unimplemented desc = unknown service runtime.v1alpha2.ImageService" image="registry.k8s.io/kube-apiserver:v1.26.0""#,
            None, Emitter::Kubelet, Level::Error, "2024-01-01T15:59:19.912124", "", "", "", "", "registry.k8s.io/kube-apiserver:v1.26.0",
            r#"failed to pull image "registry.k8s.io/kube-apiserver:v1.26.0": output: E0101"#,
        ),
        (
            r#""PullImage from image service failed" err="rpc error: code = Internal desc = Security validate failed: Validate image failed: The signatures do not satisfied! Reject reason: [signature verify failed! There is no pubkey can verify the signature!]" image="quay.io/kata-containers/confidential-containers:other_signed""#,
            None, Emitter::Unknown, Level::Unknown, "", "", "", "", "", "quay.io/kata-containers/confidential-containers:other_signed",
            "Security validate failed",
        ),
        (
            "I0426 10:38:44.364022    8551 checks.go:855] pulling: registry.k8s.io/kube-apiserver:v1.22.17",
            None, Emitter::Kubelet, Level::Info, "2024-04-26T10:38:44.364022", "", "", "", "", "",
            "pulling: registry.k8s.io/kube-apiserver:v1.22.17",
        ),
    ];

    #[test]
    fn klog_lines() {
        let ctx = LineContext::in_year(2024);
        for &(line, env, emitter, level, time, host, pod, ns, container, image, msg) in ROWS {
            let r = parse_line(line, &ctx);
            assert_eq!(r.format, Format::Klog, "{line}");
            assert_eq!(r.envelope, env, "{line}");
            assert_eq!(r.emitter, emitter, "{line}");
            assert_eq!(r.level, level, "{line}");
            assert_eq!(r.time.map(|t| t.to_string()).unwrap_or_default(), time, "{line}");
            assert_eq!(r.host.as_deref().unwrap_or_default(), host, "{line}");
            assert_eq!(r.pod.as_deref().unwrap_or_default(), pod, "{line}");
            assert_eq!(r.namespace.as_deref().unwrap_or_default(), ns, "{line}");
            assert_eq!(r.container.as_deref().unwrap_or_default(), container, "{line}");
            assert_eq!(r.image.as_deref().unwrap_or_default(), image, "{line}");
            assert!(r.message.contains(msg), "{line}\n  message: {}", r.message);
            assert_eq!(r.count, 1);
        }
    }

    #[test]
    fn not_klog() {
        let ctx = LineContext::in_year(2024);
        for line in [
            "E0102 not a header",
            "I0426 10:38:44.364022 checks.go:855] no tid",
            "Error response from daemon: manifest unknown",
            "INFO[0050] Attempting next endpoint",
        ] {
            assert_ne!(parse_line(line, &ctx).format, Format::Klog, "{line}");
        }
    }
}
