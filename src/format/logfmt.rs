//! logfmt and logrus-text payloads: dockerd, containerd, cri-o, crictl, ctr,
//! the registry.
//!
//! This module owns the `key=value` tokenizer (quoted values with `\"` and
//! nested `\\\"` escapes, as logrus writes them), the logfmt payload
//! (`time="..." level=error msg="..." error="..."`) and logrus's text form
//! (`INFO[0050] msg  key=v`, cri-o's `INFO[2024-07-25 17:32:26.0968Z] ...`).
//! The message the classifier sees is the whole payload, keys included,
//! with escapes undone: error text is spread over `msg`, `error` and `err`,
//! and dropping any of it would hide the cause. `host=` is the registry a
//! containerd resolver talked to, not the node, so it is left in the message
//! (`image::find_registry_host` reads it) rather than put in `Record::host`.
//! klog's structured fields use [`pairs`] too.

use std::borrow::Cow;

use memchr::memmem;

use super::{set_time, unescape};
use crate::record::{Format, Level, Record};
use crate::time::Timestamp;

/// Iterate `key=value` pairs; values are returned without their quotes and
/// with escapes still in place. Bare words (no `=`) are skipped.
pub(crate) fn pairs(s: &str) -> Pairs<'_> {
    Pairs { s, i: 0 }
}

/// Iterator returned by [`pairs`].
pub(crate) struct Pairs<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        let b = self.s.as_bytes();
        loop {
            while self.i < b.len() && b[self.i] == b' ' {
                self.i += 1;
            }
            if self.i >= b.len() {
                return None;
            }
            let key_start = self.i;
            while self.i < b.len() && !matches!(b[self.i], b'=' | b' ' | b'"') {
                self.i += 1;
            }
            let key = &self.s[key_start..self.i];
            match b.get(self.i) {
                Some(b'=') if !key.is_empty() => {
                    self.i += 1;
                    if b.get(self.i) == Some(&b'"') {
                        let start = self.i + 1;
                        let (value, next) = match quoted_end(self.s, self.i) {
                            Some(end) => (&self.s[start..end - 1], end),
                            None => (&self.s[start..], b.len()),
                        };
                        self.i = next;
                        return Some((key, value));
                    }
                    let start = self.i;
                    while self.i < b.len() && b[self.i] != b' ' {
                        self.i += 1;
                    }
                    return Some((key, &self.s[start..self.i]));
                }
                Some(b'"') if key.is_empty() => {
                    // A stray quoted word: skip it whole.
                    self.i = quoted_end(self.s, self.i).unwrap_or(b.len());
                }
                _ => {
                    // A bare word (or `=` with no key): skip to the next space.
                    while self.i < b.len() && b[self.i] != b' ' {
                        self.i += 1;
                    }
                }
            }
        }
    }
}

/// The byte offset just past the closing quote of the quoted string that
/// starts at `at` (`\` escapes the next byte). `None` if `at` is not a quote
/// or the string is unterminated.
pub(crate) fn quoted_end(s: &str, at: usize) -> Option<usize> {
    let b = s.as_bytes();
    if b.get(at) != Some(&b'"') {
        return None;
    }
    let mut i = at + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Whether a payload starts like logfmt (`time=`, `level=`, `ts=`).
pub(crate) fn starts_logfmt(payload: &str) -> bool {
    ["time=", "level=", "ts=", "lvl="].iter().any(|p| payload.starts_with(p))
}

/// Whether a payload carries logfmt keys elsewhere (` level=` and `msg=`).
pub(crate) fn has_logfmt_keys(payload: &str) -> bool {
    let b = payload.as_bytes();
    memmem::find(b, b" level=").is_some() && memmem::find(b, b"msg=").is_some()
}

/// Parse a logfmt payload.
pub(crate) fn parse<'a>(payload: &'a str, rec: &mut Record<'a>) {
    rec.format = Format::Logfmt;
    fields(payload, rec);
    rec.message = unescape(payload);
}

/// Parse logrus's text form `LEVL[xxxx] message  key=value`. Returns false
/// when the payload is not in that form.
pub(crate) fn parse_logrus<'a>(payload: &'a str, rec: &mut Record<'a>) -> bool {
    let b = payload.as_bytes();
    if b.len() < 6 || b[4] != b'[' || !b[..4].iter().all(u8::is_ascii_uppercase) {
        return false;
    }
    let level = Level::from_word(&payload[..4]);
    if level == Level::Unknown {
        return false;
    }
    let Some(close) = b[5..].iter().take(64).position(|&c| c == b']') else { return false };
    let inside = &payload[5..5 + close];
    rec.format = Format::Logrus;
    rec.level = level;
    if let Some((t, _)) = Timestamp::parse_rfc3339(inside) {
        set_time(rec, t);
    }
    let rest = &payload[5 + close + 1..];
    if memmem::find(rest.as_bytes(), b"=").is_some() {
        fields(rest, rec);
        rec.level = level;
    }
    rec.message = unescape(payload);
    true
}

/// Fields common to logfmt and logrus: time, level, image, pod sandbox.
fn fields<'a>(s: &'a str, rec: &mut Record<'a>) {
    for (key, value) in pairs(s) {
        match key {
            "time" | "ts" => {
                if let Some((t, _)) = Timestamp::parse_rfc3339(value) {
                    set_time(rec, t);
                }
            }
            "level" | "lvl" => rec.level = Level::from_word(value),
            "image" if !value.is_empty() => rec.image = Some(unescape(value)),
            "msg" => sandbox_metadata(value, rec),
            _ => {}
        }
    }
}

/// containerd's `&PodSandboxMetadata{Name:x,Uid:y,Namespace:z,...}` and
/// `&ContainerMetadata{Name:c,...}`.
fn sandbox_metadata<'a>(msg: &'a str, rec: &mut Record<'a>) {
    const SANDBOX: &str = "&PodSandboxMetadata{Name:";
    const CONTAINER: &str = "&ContainerMetadata{Name:";
    if let Some(at) = memmem::find(msg.as_bytes(), SANDBOX.as_bytes()) {
        let rest = &msg[at + SANDBOX.len()..];
        let body = rest.split('}').next().unwrap_or_default();
        let name = body.split(',').next().unwrap_or_default();
        if !name.is_empty() {
            rec.pod = Some(Cow::Borrowed(name));
        }
        if let Some(ns) = body.split(',').find_map(|f| f.strip_prefix("Namespace:")) {
            if !ns.is_empty() {
                rec.namespace = Some(Cow::Borrowed(ns));
            }
        }
    }
    if let Some(at) = memmem::find(msg.as_bytes(), CONTAINER.as_bytes()) {
        let name = msg[at + CONTAINER.len()..].split([',', '}']).next().unwrap_or_default();
        if !name.is_empty() {
            rec.container = Some(Cow::Borrowed(name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{parse_line, LineContext};
    use crate::record::{Emitter, Envelope};

    #[test]
    fn pairs_table() {
        let table: &[(&str, &[(&str, &str)])] = &[
            (
                r#"a=1 b="two words" c="x \"q\" y""#,
                &[("a", "1"), ("b", "two words"), ("c", r#"x \"q\" y"#)],
            ),
            (
                r#"msg="PullImage xxxxx" failed" error="e""#,
                &[("msg", "PullImage xxxxx"), ("error", "e")],
            ),
            (r#"bare words k=v "quoted" z="#, &[("k", "v"), ("z", "")]),
            (r#"k="unterminated \"#, &[("k", r#"unterminated \"#)]),
            (r#"k="""#, &[("k", "")]),
            ("=v k=é", &[("k", "é")]),
            ("", &[]),
        ];
        for (input, want) in table {
            let got: Vec<_> = pairs(input).collect();
            assert_eq!(&got, want, "{input}");
        }
    }

    /// (line, format, envelope, emitter, level, time, host, pod, namespace, image, message substring)
    type Row = (
        &'static str,
        Format,
        Option<Envelope>,
        Emitter,
        Level,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    );

    const ROWS: &[Row] = &[
        (
            r#"Feb 07 13:36:48.024915 bootstrap-e2e-master containerd[1191]: time="2024-02-07T13:36:48.024858788Z" level=error msg="PullImage \"registry.k8s.io/kube-apiserver-amd64:v1.30.0-alpha.1.107_052bce26f4f48b\" failed" error="rpc error: code = NotFound desc = failed to pull and unpack image \"registry.k8s.io/kube-apiserver-amd64:v1.30.0-alpha.1.107_052bce26f4f48b\": not found""#,
            Format::Logfmt, Some(Envelope::Syslog), Emitter::Containerd, Level::Error, "2024-02-07T13:36:48.024858788Z", "bootstrap-e2e-master", "", "", "",
            r#"msg="PullImage "registry.k8s.io/kube-apiserver-amd64:v1.30.0-alpha.1.107_052bce26f4f48b" failed" error="rpc error"#,
        ),
        (
            r#"Jul 20 23:07:17 xdlinux containerd[26160]: time="2025-07-20T23:07:17.337678802+08:00" level=info msg="fetch failed" error="pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed" host=registry.aliyuncs.com"#,
            Format::Logfmt, Some(Envelope::Syslog), Emitter::Containerd, Level::Info, "2025-07-20T15:07:17.337678802Z", "xdlinux", "", "", "",
            "insufficient_scope: authorization failed\" host=registry.aliyuncs.com",
        ),
        (
            r#"containerd[15986]: time="2025-09-11T00:05:51.904195916+08:00" level=error msg="PullImage xxxxx" failed" error="rpc error: code = NotFound desc = failed to pull and unpack image xxxx": failed to extract layer sha256:7da9: blob not found: not found""#,
            Format::Logfmt, None, Emitter::Containerd, Level::Error, "2025-09-10T16:05:51.904195916Z", "", "", "", "",
            "failed to extract layer sha256:7da9: blob not found",
        ),
        (
            r#"May 13 03:52:00 centos02 containerd: time="2023-05-13T03:52:00.916348843+08:00" level=info msg="trying next host" error="failed to do request: Head \"https://us-west2-docker.pkg.dev/v2/k8s-artifacts-prod/images/pause/manifests/3.9\": dial tcp 142.251.8.82:443: connect: connection refused" host=registry.k8s.io"#,
            Format::Logfmt, Some(Envelope::Syslog), Emitter::Containerd, Level::Info, "2023-05-12T19:52:00.916348843Z", "centos02", "", "", "",
            r#"Head "https://us-west2-docker.pkg.dev/v2/k8s-artifacts-prod/images/pause/manifests/3.9": dial tcp"#,
        ),
        (
            r#"Apr 04 21:45:08 wsdocker6 dockerd[28751]: time="2018-04-04T21:45:08.454280456+02:00" level=info msg="Ignoring extra error returned from registry: unauthorized: authentication required""#,
            Format::Logfmt, Some(Envelope::Syslog), Emitter::Dockerd, Level::Info, "2018-04-04T19:45:08.454280456Z", "wsdocker6", "", "", "",
            "unauthorized: authentication required",
        ),
        (
            r#"dockerd[1476]: time="2019-03-20T14:31:17.616397018+02:00" level=error msg="Download failed, retrying: received unexpected HTTP status: 503 Service Unavailable""#,
            Format::Logfmt, None, Emitter::Dockerd, Level::Error, "2019-03-20T12:31:17.616397018Z", "", "", "", "",
            "503 Service Unavailable",
        ),
        (
            r#"time="2018-02-10T00:57:21.041472828Z" level=error msg="Not continuing with pull after error: errors:\ndenied: requested access to the resource is denied\nunauthorized: authentication required\n""#,
            Format::Logfmt, None, Emitter::Unknown, Level::Error, "2018-02-10T00:57:21.041472828Z", "", "", "", "",
            "errors: denied: requested access to the resource is denied unauthorized: authentication required",
        ),
        (
            r#"level=error msg="pulling image failed" error="pull access denied for 123123.dkr.ecr.us-east-2.amazonaws.com/test, repository does not exist or may require 'docker login': denied: Your authorization token has expired. Reauthenticate and try again." module=node/agent/taskmanager"#,
            Format::Logfmt, None, Emitter::Unknown, Level::Error, "", "", "", "", "",
            "Your authorization token has expired.",
        ),
        (
            r#"Dec 12 15:22:28 KUB-MAST-01 crio[5083]: time="2024-12-12 15:22:28.074056338+01:00" level=info msg="Resolving \"jc21/nginx-proxy-manager\" using unqualified-search registries (/etc/containers/registries.conf.d/crio.conf)""#,
            Format::Logfmt, Some(Envelope::Syslog), Emitter::Crio, Level::Info, "2024-12-12T14:22:28.074056338Z", "KUB-MAST-01", "", "", "",
            r#"Resolving "jc21/nginx-proxy-manager" using"#,
        ),
        (
            r#"Apr 17 22:55:20 master-0 crio[13767]: time="2020-04-17 22:55:20.000439093Z" level=debug msg="Trying to access \"k8s.gcr.io/kube-apiserver:v1.18.2\"" file="docker/docker_image_src.go:68""#,
            Format::Logfmt, Some(Envelope::Syslog), Emitter::Crio, Level::Debug, "2020-04-17T22:55:20.000439093Z", "master-0", "", "", "",
            r#"Trying to access "k8s.gcr.io/kube-apiserver:v1.18.2""#,
        ),
        (
            r#"time="2023-04-26T15:17:15Z" level=fatal msg="pulling image: rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing dial unix /var/run/cri-dockerd.sockk: connect: no such file or directory\"""#,
            Format::Logfmt, None, Emitter::Unknown, Level::Error, "2023-04-26T15:17:15Z", "", "", "", "",
            r#"desc = "transport: Error while dialing dial unix /var/run/cri-dockerd.sockk"#,
        ),
        (
            r#"time="2015-08-14T19:41:39Z" level=warning msg="error authorizing context: authorization token required" http.request.host=registry.thinknode.dev http.request.uri="/v2/""#,
            Format::Logfmt, None, Emitter::Unknown, Level::Warning, "2015-08-14T19:41:39Z", "", "", "", "",
            "authorization token required",
        ),
        (
            r#"2023-01-17T12:47:09.3994680Z time="2023-01-17T12:47:08Z" level=debug msg="fetch response received" response.header.www-authenticate="***"https://ghcr.io/token\",service=\"ghcr.io\"" response.status="401 Unauthorized"#,
            Format::Logfmt, None, Emitter::Ci, Level::Debug, "2023-01-17T12:47:09.399468Z", "", "", "", "",
            r#"response.status="401 Unauthorized"#,
        ),
        (
            r#"Nov 22 00:00:00 k8s-worker-03 containerd[1300]: time="2024-11-22T00:00:00.153810433Z" level=info msg="RunPodSandbox for &PodSandboxMetadata{Name:api-2wdarfrzk4-07ehf,Uid:104f5415,Namespace:staging,Attempt:0,} returns sandbox id \"f6de\"""#,
            Format::Logfmt, Some(Envelope::Syslog), Emitter::Containerd, Level::Info, "2024-11-22T00:00:00.153810433Z", "k8s-worker-03", "api-2wdarfrzk4-07ehf", "staging", "",
            "RunPodSandbox for",
        ),
        (
            r#"level=info msg="x" image="docker.io/library/busybox:1.36""#,
            Format::Logfmt, None, Emitter::Unknown, Level::Info, "", "", "", "", "docker.io/library/busybox:1.36",
            "msg=\"x\"",
        ),
        (
            "INFO[2024-07-25 17:32:26.096806574Z] Pulled image: docker.io/calico/kube-controllers@sha256:0954  file=\"server/image_pull.go:122\" id=1caf name=/runtime.v1.ImageService/PullImage",
            Format::Logrus, None, Emitter::Unknown, Level::Info, "2024-07-25T17:32:26.096806574Z", "", "", "", "",
            "Pulled image: docker.io/calico/kube-controllers@sha256:0954",
        ),
        (
            r#"FATA[0007] pulling image failed: rpc error: code = Unknown desc = failed to pull and unpack image "xxxxxx": failed commit on ref "layer-sha256:55ae": unexpected commit digest sha256:a8f2, expected sha256:55ae: failed precondition"#,
            Format::Logrus, None, Emitter::Unknown, Level::Error, "", "", "", "", "",
            "unexpected commit digest sha256:a8f2",
        ),
        (
            "DEBU[0000] PullImageResponse: &PullImageResponse{ImageRef:sha256:367c,}",
            Format::Logrus, None, Emitter::Unknown, Level::Debug, "", "", "", "", "",
            "PullImageResponse",
        ),
        (
            "WARN[0050] Error getting v2 registry: Get https://localhost:5000/v2/: http: server gave HTTP response to HTTPS client",
            Format::Logrus, None, Emitter::Unknown, Level::Warning, "", "", "", "", "",
            "server gave HTTP response to HTTPS client",
        ),
        (
            r#"INFO[0030] trying next host                              error="failed to do request: Head \"https://registry-1.docker.io/v2/rayproject/ray/manifests/2.34.0\": dial tcp 128.242.240.180:443: i/o timeout" host=registry-1.docker.io"#,
            Format::Logrus, None, Emitter::Unknown, Level::Info, "", "", "", "", "",
            r#"Head "https://registry-1.docker.io/v2/rayproject/ray/manifests/2.34.0": dial tcp"#,
        ),
    ];

    #[test]
    fn logfmt_lines() {
        let ctx = LineContext::in_year(2024);
        for &(line, format, env, emitter, level, time, host, pod, ns, image, msg) in ROWS {
            let r = parse_line(line, &ctx);
            assert_eq!(r.format, format, "{line}");
            assert_eq!(r.envelope, env, "{line}");
            assert_eq!(r.emitter, emitter, "{line}");
            assert_eq!(r.level, level, "{line}");
            assert_eq!(r.time.map(|t| t.to_string()).unwrap_or_default(), time, "{line}");
            assert_eq!(r.host.as_deref().unwrap_or_default(), host, "{line}");
            assert_eq!(r.pod.as_deref().unwrap_or_default(), pod, "{line}");
            assert_eq!(r.namespace.as_deref().unwrap_or_default(), ns, "{line}");
            assert_eq!(r.image.as_deref().unwrap_or_default(), image, "{line}");
            assert!(r.message.contains(msg), "{line}\n  message: {}", r.message);
            assert_eq!(r.count, 1);
        }
    }
}
