//! Docker CLI, compose, buildkit and CI job output.
//!
//! This module owns two things: the CI runner prefixes that sit in front of
//! any payload (GitHub Actions' `2023-01-17T12:47:09.3994680Z `, Jenkins'
//! `19:08:24 `), which [`ci_prefix`] peels so the payload underneath can
//! still be recognised as logfmt or klog; and the client-side error lines
//! themselves (`Error response from daemon: ...`, `docker: ...`, `ERROR:
//! failed to solve: ...`, `#15 ERROR: ...`, ` => ERROR [internal] ...`,
//! `##[warning]...`, `toomanyrequests: ...`), which [`parse`] recognises by
//! their leading words. The message is the line with the CI timestamp
//! removed and nothing else dropped. Emitter: buildkit when the line is a
//! build step or says `failed to solve`, CI when a CI prefix is present,
//! `ctr` / `nerdctl` as runtime CLIs, else the docker CLI.

use memchr::memmem;

use super::unescape;
use crate::record::{Emitter, Envelope, Format, Level, Record};
use crate::time::Timestamp;

/// A CI timestamp peeled off the front of a payload.
pub(crate) struct CiPrefix<'a> {
    /// The time, when the prefix carries a date.
    pub time: Option<Timestamp>,
    /// What follows the prefix.
    pub rest: &'a str,
    /// Whether the prefix marks a CI job log (not an event log's stamp).
    pub is_ci: bool,
}

/// Peel a CI runner timestamp: an RFC 3339 `T` time followed by a space, or
/// a bare `hh:mm:ss ` (Jenkins timestamper). Event logs that stamp lines the
/// same way (`2023-12-15T19:23:25Z [Normal] ...`) are peeled but not marked CI.
pub(crate) fn ci_prefix(payload: &str) -> Option<CiPrefix<'_>> {
    let b = payload.as_bytes();
    match b.first()? {
        b'0'..=b'9' => {}
        _ => return None,
    }
    if b.get(10) == Some(&b'T') {
        let (time, used) = Timestamp::parse_rfc3339(payload)?;
        let rest = payload.get(used..)?.strip_prefix(' ')?;
        let is_ci = !(rest.starts_with("[Normal]") || rest.starts_with("[Warning]"));
        return Some(CiPrefix { time: Some(time), rest, is_ci });
    }
    let hms = b.get(..9)?;
    let is_hms = hms.iter().enumerate().all(|(i, &c)| match i {
        2 | 5 => c == b':',
        8 => c == b' ',
        _ => c.is_ascii_digit(),
    });
    is_hms.then(|| CiPrefix { time: None, rest: &payload[9..], is_ci: true })
}

/// Leading words of error lines that only docker, compose, buildx and the
/// runtime CLIs print (after any `##[...]`, `#N ` or ` => ` lead).
const ERROR_STARTS: &[&str] = &[
    "Error response from daemon",
    "error response from daemon",
    "Error response",
    "docker: ",
    "Error parsing",
    "Error while pulling",
    "Error pulling",
    "error pulling",
    "toomanyrequests",
    "An error occurred trying to connect",
    "Login did not succeed",
    "Cannot connect to the Docker daemon",
    "no basic auth credentials",
    "ctr: ",
    "nerdctl: ",
];

/// Generic error words: docker CLI evidence only when the line is not
/// inside a syslog / journald envelope (where `sshd[1]: error: ...` is
/// sshd's, not docker's).
const WEAK_ERROR_STARTS: &[&str] =
    &["ERROR:", "ERROR ", "Error:", "error:", "FATA[", "denied:", "unauthorized:"];

const WARNING_STARTS: &[&str] = &["WARNING:", "Warning:", "WARN["];

const INFO_STARTS: &[&str] = &[
    "Pulling from ",
    "Pulling fs layer",
    "Digest: sha256:",
    "Status: ",
    "Unable to find image",
    "Using default tag",
    "The push refers to repository",
    "Pulling repository",
    "Trying to pull repository",
];

/// Parse a docker CLI / buildkit / CI line. Returns false when the payload
/// has none of their shapes. `ci` says a CI prefix was peeled before.
pub(crate) fn parse<'a>(payload: &'a str, ci: bool, rec: &mut Record<'a>) -> bool {
    let mut s = payload.trim_start();
    let mut ci = ci;
    let mut buildkit = false;
    let mut level = Level::Unknown;
    // Leads: `##[warning]`, `#15 `, ` => `.
    loop {
        if let Some(rest) = s.strip_prefix("##[") {
            let Some(end) = rest.find(']') else { break };
            level = Level::from_word(&rest[..end]);
            ci = true;
            s = rest[end + 1..].trim_start();
        } else if let Some(rest) = build_step(s) {
            buildkit = true;
            s = rest;
        } else if let Some(rest) = s.strip_prefix("=> ") {
            buildkit = true;
            s = rest.trim_start();
        } else {
            break;
        }
    }
    // Under a system-log envelope the program is known; weak words there
    // are that program's, not the docker CLI's. The same holds for the
    // structured envelopes that name their writer (journald JSON, a
    // Kubernetes event's source, Azure Container Apps system logs).
    let enveloped = matches!(
        rec.envelope,
        Some(
            Envelope::Syslog
                | Envelope::Syslog5424
                | Envelope::Journald
                | Envelope::JournalJson
                | Envelope::K8sEventJson
                | Envelope::AcaJson
                | Envelope::AcaCsv
        )
    );
    let starts = |list: &[&str]| list.iter().any(|p| s.starts_with(p));
    let weak_ok = !enveloped || buildkit || ci;
    let matched = if starts(ERROR_STARTS)
        || docker_binary_prefix(s)
        || (weak_ok && (starts(WEAK_ERROR_STARTS) || s == "denied"))
    {
        level = Level::Error;
        true
    } else if weak_ok && starts(WARNING_STARTS) {
        level = Level::Warning;
        true
    } else if starts(INFO_STARTS) || memmem::find(s.as_bytes(), b": Pulling from ").is_some() {
        level = Level::Info;
        true
    } else if let Some(status) = layer_status(s) {
        level = if status.starts_with("Error") { Level::Error } else { Level::Info };
        true
    } else {
        buildkit || (ci && level != Level::Unknown)
    };
    if !matched {
        return false;
    }
    rec.format = Format::DockerCli;
    rec.level = level;
    let says_solve = memmem::find(s.as_bytes(), b"failed to solve").is_some();
    if buildkit || says_solve {
        rec.emitter = Emitter::Buildkit;
    } else if rec.emitter == Emitter::Unknown && !enveloped {
        rec.emitter = if ci {
            Emitter::Ci
        } else if s.starts_with("ctr: ") || s.starts_with("nerdctl: ") {
            Emitter::RuntimeCli
        } else {
            Emitter::DockerCli
        };
    }
    rec.message = unescape(payload.trim_start());
    true
}

/// `918c3935e3a8: Already exists` (a pull progress line): the status.
fn layer_status(s: &str) -> Option<&str> {
    let id = s.get(..12)?;
    if !id.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()) {
        return None;
    }
    s[12..].strip_prefix(": ")
}

/// `#15 ` (a buildkit step number) at the start: what follows it.
fn build_step(s: &str) -> Option<&str> {
    let rest = s.strip_prefix('#')?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    rest[digits..].strip_prefix(' ')
}

/// `/run/torcx/bin/docker: ...`, `c:\program files\docker toolbox\docker.exe: ...`.
fn docker_binary_prefix(s: &str) -> bool {
    let head_len = (0..=s.len().min(200)).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
    let Some(colon) = s[..head_len].find(": ") else { return false };
    let head = s[..colon].to_ascii_lowercase();
    let path_like = head.starts_with('/') || head.get(1..3) == Some(":\\");
    path_like
        && (head.ends_with("/docker")
            || head.ends_with("\\docker.exe")
            || head.ends_with("/docker.exe"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{parse_line, LineContext};

    /// (line, emitter, level, time, message substring)
    type Row = (&'static str, Emitter, Level, &'static str, &'static str);

    const ROWS: &[Row] = &[
        (
            "Error response from daemon: pull access denied for minio, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
            Emitter::DockerCli, Level::Error, "", "pull access denied for minio",
        ),
        (
            "  Error response from daemon: manifest unknown",
            Emitter::DockerCli, Level::Error, "", "Error response from daemon: manifest unknown",
        ),
        (
            r#"error response from daemon: Get "https://.azurecr.io/v2/": denied: {"errors":[{"code":"DENIED","message":"client with IP \u0027172.214.169.102\u0027 is not allowed access. Refer"#,
            Emitter::DockerCli, Level::Error, "", "client with IP '172.214.169.102' is not allowed access",
        ),
        (
            r#"docker: Error parsing reference: "cgm_nl/cgmherhaal:" is not a valid repository/tag."#,
            Emitter::DockerCli, Level::Error, "", "docker: Error parsing reference",
        ),
        (
            "/run/torcx/bin/docker: invalid reference format.",
            Emitter::DockerCli, Level::Error, "", "invalid reference format",
        ),
        (
            r"c:\program files\docker toolbox\docker.exe: invald reference format.",
            Emitter::DockerCli, Level::Error, "", r"c:\program files\docker toolbox\docker.exe: invald",
        ),
        (
            "denied: Permission \"artifactregistry.repositories.downloadArtifacts\" denied",
            Emitter::DockerCli, Level::Error, "", "artifactregistry.repositories.downloadArtifacts",
        ),
        ("denied", Emitter::DockerCli, Level::Error, "", "denied"),
        (
            "toomanyrequests: retry-after: 985.86µs, allowed: 44000/minute",
            Emitter::DockerCli, Level::Error, "", "toomanyrequests: retry-after: 985.86µs",
        ),
        (
            "#15 ERROR: denied: permission_denied: write_package",
            Emitter::Buildkit, Level::Error, "", "#15 ERROR: denied: permission_denied",
        ),
        (
            "ERROR: failed to solve: ghcr.io/celestiaorg/celestia-app-standalone:v3.10.0-rc0: not found",
            Emitter::Buildkit, Level::Error, "", "failed to solve: ghcr.io/celestiaorg",
        ),
        (
            " => ERROR [internal] load metadata for docker.io/library/builder:latest                                        2.4s",
            Emitter::Buildkit, Level::Error, "", "load metadata for docker.io/library/builder:latest",
        ),
        (
            "ERROR: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
            Emitter::DockerCli, Level::Error, "", "Cannot connect to the Docker daemon",
        ),
        (
            "metaphor-frontend-publish-ccb0f59-k2npz-build-push-493683026: #19 ERROR: invalid reference format: repository name must be lowercase",
            Emitter::Unknown, Level::Unknown, "", "#19 ERROR: invalid reference format",
        ),
        (
            "Error: buildx failed with: ERROR: failed to build: failed to solve: failed to fetch oauth token: 401 Unauthorized: access token has insufficient scopes",
            Emitter::Buildkit, Level::Error, "", "401 Unauthorized: access token has insufficient scopes",
        ),
        (
            "##[warning]Docker pull failed with exit code 1, back off 1.735 seconds before retry.",
            Emitter::Ci, Level::Warning, "", "##[warning]Docker pull failed",
        ),
        (
            "2023-01-17T12:47:09.3994680Z ##[error]Process completed with exit code 1.",
            Emitter::Ci, Level::Error, "2023-01-17T12:47:09.399468Z", "##[error]Process completed",
        ),
        (
            "2023-01-17T12:47:09.3994680Z Error response from daemon: Get \"https://registry-1.docker.io/v2/\": EOF",
            Emitter::Ci, Level::Error, "2023-01-17T12:47:09.399468Z", "Error response from daemon: Get",
        ),
        (
            "  Warning: Docker pull failed with exit code 1, back off 9.9[2](https://github.com/x#step:2:2)2 seconds before retry.",
            Emitter::DockerCli, Level::Warning, "", "Warning: Docker pull failed",
        ),
        (
            r#"WARNING: Failed to pull image with policy "always": Error response from daemon: pull access denied for deployphp/deployer (manager.go:237:0s)"#,
            Emitter::DockerCli, Level::Warning, "", "pull access denied for deployphp/deployer",
        ),
        (
            "19:08:24 Stderr: error pulling image configuration: Get https://registry-1.docker.io/v2/library/fedora/blobs/sha256:422d: EOF",
            Emitter::Ci, Level::Unknown, "", "Stderr: error pulling image configuration",
        ),
        (
            "ERROR: for autoscan  Head \"https://ghcr.io/v2/niniyas/autoscan/manifests/beta_amd64\": unauthorized",
            Emitter::DockerCli, Level::Error, "", "ERROR: for autoscan",
        ),
        (
            r#"ctr: failed to resolve reference "docker.io/rancher/pause:3.1": failed to do request: Head https://registry-1.docker.io/v2/rancher/pause/manifests/3.1: dial tcp 34.197.189.129:443: i/o timeout"#,
            Emitter::RuntimeCli, Level::Error, "", "i/o timeout",
        ),
        (
            r#"Error: initializing source docker://quay.io/voucher/vouch-proxy:latest: reading manifest latest in quay.io/voucher/vouch-proxy: unauthorized"#,
            Emitter::DockerCli, Level::Error, "", "reading manifest latest in quay.io/voucher/vouch-proxy",
        ),
        (
            "error: GET https://ghcr.io/v2/jimbugwadia/pause/manifests/sha256:b31b: MANIFEST_UNKNOWN: manifest unknown",
            Emitter::DockerCli, Level::Error, "", "MANIFEST_UNKNOWN",
        ),
        (
            "ERROR: denied: Your authorization token has expired. Reauthenticate and try again.",
            Emitter::DockerCli, Level::Error, "", "Your authorization token has expired",
        ),
        (
            "ERROR: read tcp 10.0.2.15:34944->52.45.33.149:443: read: connection reset by peer",
            Emitter::DockerCli, Level::Error, "", "connection reset by peer",
        ),
        (
            "5e66087f3ffe: Error downloading dependent layers",
            Emitter::DockerCli, Level::Error, "", "Error downloading",
        ),
        ("115e909eac8f: Retrying in 4 seconds", Emitter::DockerCli, Level::Info, "", "Retrying"),
        (
            "1.0.0-SNAPSHOT-default: Pulling from nethum/starfox",
            Emitter::DockerCli, Level::Info, "", "Pulling from nethum/starfox",
        ),
        (
            "Unable to find image 'hello-world:latest' locally",
            Emitter::DockerCli, Level::Info, "", "Unable to find image",
        ),
    ];

    #[test]
    fn cli_lines() {
        let ctx = LineContext::in_year(2024);
        for &(line, emitter, level, time, msg) in ROWS {
            let r = parse_line(line, &ctx);
            let want_format = if emitter == Emitter::Unknown || line.starts_with("19:08:24 Stderr")
            {
                Format::Plain
            } else {
                Format::DockerCli
            };
            assert_eq!(r.format, want_format, "{line}");
            assert_eq!(r.envelope, None, "{line}");
            assert_eq!(r.emitter, emitter, "{line}");
            assert_eq!(r.level, level, "{line}");
            assert_eq!(r.time.map(|t| t.to_string()).unwrap_or_default(), time, "{line}");
            assert!(r.message.contains(msg), "{line}\n  message: {}", r.message);
        }
    }

    #[test]
    fn ci_prefixes() {
        let table = [
            ("2023-01-17T12:47:09.3994680Z rest", "2023-01-17T12:47:09.399468Z", "rest", true),
            ("2023-12-15T19:23:25Z [Normal] x", "2023-12-15T19:23:25Z", "[Normal] x", false),
            ("19:08:24 Stderr: x", "", "Stderr: x", true),
            ("2015-10-18 18:01:47,978 INFO", "-", "", false),
            ("19:08:2x y", "-", "", false),
            ("12", "-", "", false),
        ];
        for (input, time, rest, is_ci) in table {
            match ci_prefix(input) {
                Some(p) => {
                    assert_eq!(p.time.map(|t| t.to_string()).unwrap_or_default(), time, "{input}");
                    assert_eq!((p.rest, p.is_ci), (rest, is_ci), "{input}");
                }
                None => assert_eq!(time, "-", "{input}"),
            }
        }
    }
}
