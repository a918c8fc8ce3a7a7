//! Container logs: partial lines joined, and pod / container names read
//! from the log's path.
//!
//! The kubelet's container runtime writes every line of a container's
//! output as `<RFC3339Nano> stdout|stderr P|F <payload>`; a line longer than
//! the runtime's buffer (16 KiB in containerd and CRI-O) is split into `P`
//! (partial) pieces ended by one `F` (full) piece. Docker's json-file
//! driver does the same with entries whose `log` lacks the final newline.
//! [`CriJoiner`] puts the pieces back together so that an error split
//! across pieces is one record, reported at the line of its first piece. [`path_info`] reads
//! the namespace, pod and container that `/var/log/pods/**` and
//! `/var/log/containers/*` encode in their names, since the lines
//! themselves never say. Both work on text; the line parser
//! (`super::parse_line`) then peels the CRI prefix off each joined line.
//! Nothing here knows about payload formats.

use std::borrow::Cow;
use std::path::Path;

use crate::time::Timestamp;

/// The most payload one joined line keeps (1 MiB). Further pieces are
/// counted but dropped, and the line is marked truncated: a container that
/// writes one endless line must not grow memory without bound.
pub const MAX_JOINED: usize = 1 << 20;

/// One complete line handed back by [`CriJoiner`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Joined<'a> {
    /// 1-based line number of the line's first piece in the input.
    pub line: u64,
    /// The line: unchanged for a single-piece or non-CRI line, else rebuilt
    /// as `<time of the first piece> <stream> F <joined payload>`.
    pub text: Cow<'a, str>,
    /// Whether payload was dropped because the joined line passed
    /// [`MAX_JOINED`].
    pub truncated: bool,
    /// How many payload bytes the pieces of a joined line held in all,
    /// kept or not; 0 for a line passed through unchanged.
    pub payload_bytes: u64,
}

/// The complete lines one [`CriJoiner::push`] or [`CriJoiner::finish`]
/// gives back, in input order: none while a partial line is being
/// buffered, at most three (a pending stdout line and a pending stderr line
/// flushed by a non-CRI line, then that line). Iterate it.
#[derive(Debug, Default)]
pub struct Pushed<'a> {
    items: [Option<Joined<'a>>; 3],
    next: usize,
}

impl<'a> Pushed<'a> {
    fn add(&mut self, j: Joined<'a>) {
        if let Some(slot) = self.items.iter_mut().find(|s| s.is_none()) {
            *slot = Some(j);
        }
    }
}

impl<'a> Iterator for Pushed<'a> {
    type Item = Joined<'a>;

    fn next(&mut self) -> Option<Joined<'a>> {
        while self.next < self.items.len() {
            let item = self.items[self.next].take();
            self.next += 1;
            if item.is_some() {
                return item;
            }
        }
        None
    }
}

/// A CRI line taken apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CriLine<'a> {
    /// The time text, for the rebuilt line.
    time: &'a str,
    stream: Stream,
    partial: bool,
    payload: &'a str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// `<RFC3339Nano> stdout|stderr P|F[ payload]`, without a trailing newline.
fn split(line: &str) -> Option<CriLine<'_>> {
    let (time, used) = Timestamp::parse_rfc3339(line)?;
    if time.naive || line.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let rest = line.get(used..)?.strip_prefix(' ')?;
    let (stream, rest) = if let Some(r) = rest.strip_prefix("stdout ") {
        (Stream::Stdout, r)
    } else {
        (Stream::Stderr, rest.strip_prefix("stderr ")?)
    };
    let partial = match rest.as_bytes().first()? {
        b'P' => true,
        b'F' => false,
        _ => return None,
    };
    let payload = match rest.get(1..)? {
        "" => "",
        p => p.strip_prefix(' ')?,
    };
    Some(CriLine { time: &line[..used], stream, partial, payload })
}

/// Whether `line` is a CRI container-log line.
pub(crate) fn is_cri_line(line: &str) -> bool {
    let line = line.strip_suffix('\n').unwrap_or(line);
    split(line.strip_suffix('\r').unwrap_or(line)).is_some()
}

/// Which container log format a piece is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `<time> <stream> P|F <payload>`.
    Cri,
    /// Docker's json-file driver: an entry whose `log` does not end in a
    /// newline is a partial line, continued by the next entry.
    DockerJson,
}

/// One piece of a line, in either format.
struct Piece<'a> {
    kind: Kind,
    time: Cow<'a, str>,
    stream: Stream,
    partial: bool,
    payload: Cow<'a, str>,
}

/// A docker json-file line, looked at only as far as needed: whether it is
/// a partial entry, and (when `full` or partial) its fields. `None` for any
/// other line.
fn docker_piece(line: &str, full: bool) -> Option<Option<Piece<'static>>> {
    const HEAD: &str = "{\"log\":\"";
    if !line.starts_with(HEAD) {
        return None;
    }
    // Docker writes `log` first; its raw end tells a partial entry without
    // decoding it: a complete one ends in an unescaped `\n`.
    let end = super::logfmt::quoted_end(line, HEAD.len() - 1)?;
    let raw = &line[HEAD.len()..end - 1];
    let backslashes = raw.strip_suffix('n').map_or(0, |r| r.len() - r.trim_end_matches('\\').len());
    let complete = backslashes % 2 == 1;
    if complete && !full {
        return Some(None);
    }
    let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).ok()?;
    let text =
        |k: &str| obj.get(k).and_then(serde_json::Value::as_str).unwrap_or_default().to_string();
    let stream = if text("stream") == "stderr" { Stream::Stderr } else { Stream::Stdout };
    Some(Some(Piece {
        kind: Kind::DockerJson,
        time: Cow::Owned(text("time")),
        stream,
        partial: !complete,
        payload: Cow::Owned(text("log")),
    }))
}

/// A partial line being assembled.
#[derive(Debug)]
struct Pending {
    kind: Kind,
    line: u64,
    time: String,
    payload: String,
    bytes: u64,
    truncated: bool,
}

impl Pending {
    fn append(&mut self, piece: &str) {
        self.bytes += piece.len() as u64;
        let room = MAX_JOINED.saturating_sub(self.payload.len());
        if piece.len() <= room {
            self.payload.push_str(piece);
        } else {
            let mut cut = room;
            while !piece.is_char_boundary(cut) {
                cut -= 1;
            }
            self.payload.push_str(&piece[..cut]);
            self.truncated = true;
        }
    }

    fn into_joined(self, stream: Stream) -> Joined<'static> {
        let text = match self.kind {
            Kind::Cri => format!("{} {} F {}", self.time, stream.name(), self.payload),
            Kind::DockerJson => serde_json::json!({
                "log": self.payload,
                "stream": stream.name(),
                "time": self.time,
            })
            .to_string(),
        };
        Joined {
            line: self.line,
            text: Cow::Owned(text),
            truncated: self.truncated,
            payload_bytes: self.bytes,
        }
    }
}

/// Joins container-log lines that the runtime split into pieces: CRI
/// partial (`P`) lines with the full (`F`) line that ends them, and docker
/// json-file entries whose `log` lacks its newline with the entries that
/// continue them (both runtimes split lines at 16 KiB).
///
/// Feed every line of one input, in order, with its 1-based line number;
/// each call gives back the lines that are now complete. Partial lines are
/// kept per stream, since a container's stdout and stderr interleave line
/// by line. A line that is neither passes through unchanged, after any
/// pending partial lines, each emitted on its own (a dangling `P` sequence
/// is still a line). Call [`CriJoiner::finish`] at the end of the input.
/// Memory is bounded by [`MAX_JOINED`] per stream. Complete lines are
/// handed back borrowed; only joined lines are rebuilt.
#[derive(Debug, Default)]
pub struct CriJoiner {
    stdout: Option<Pending>,
    stderr: Option<Pending>,
}

impl CriJoiner {
    /// A joiner with nothing pending.
    pub fn new() -> CriJoiner {
        CriJoiner::default()
    }

    /// Take one line (with or without its trailing newline) and return the
    /// lines it completes.
    pub fn push<'a>(&mut self, line_no: u64, line: &'a str) -> Pushed<'a> {
        let mut out = Pushed::default();
        let bare = line.strip_suffix('\n').unwrap_or(line);
        let bare = bare.strip_suffix('\r').unwrap_or(bare);
        let pass = |out: &mut Pushed<'a>| {
            out.add(Joined {
                line: line_no,
                text: Cow::Borrowed(line),
                truncated: false,
                payload_bytes: 0,
            });
        };
        let piece = match split(bare) {
            Some(c) => Piece {
                kind: Kind::Cri,
                time: Cow::Borrowed(c.time),
                stream: c.stream,
                partial: c.partial,
                payload: Cow::Borrowed(c.payload),
            },
            None => match docker_piece(bare, self.pending_since().is_some()) {
                Some(Some(piece)) => piece,
                // A complete docker entry with nothing pending.
                Some(None) => {
                    pass(&mut out);
                    return out;
                }
                None => {
                    self.flush_into(&mut out);
                    pass(&mut out);
                    return out;
                }
            },
        };
        let slot = match piece.stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        if slot.as_ref().is_some_and(|p| p.kind != piece.kind) {
            if let Some(p) = slot.take() {
                out.add(p.into_joined(piece.stream));
            }
        }
        match (slot.as_mut(), piece.partial) {
            (Some(p), true) => p.append(&piece.payload),
            (None, true) => {
                let mut p = Pending {
                    kind: piece.kind,
                    line: line_no,
                    time: piece.time.into_owned(),
                    payload: String::new(),
                    bytes: 0,
                    truncated: false,
                };
                p.append(&piece.payload);
                *slot = Some(p);
            }
            (Some(_), false) => {
                if let Some(mut p) = slot.take() {
                    p.append(&piece.payload);
                    out.add(p.into_joined(piece.stream));
                }
            }
            (None, false) => pass(&mut out),
        }
        out
    }

    /// The partial lines still pending at the end of the input, each as its
    /// own line, in input order.
    pub fn finish(&mut self) -> Pushed<'static> {
        let mut out = Pushed::default();
        self.flush_into(&mut out);
        out
    }

    /// The line number of the oldest pending piece, if any: the scan must
    /// not report a line after it as if everything before were done.
    pub fn pending_since(&self) -> Option<u64> {
        [&self.stdout, &self.stderr].iter().filter_map(|p| p.as_ref().map(|p| p.line)).min()
    }

    fn flush_into<'a>(&mut self, out: &mut Pushed<'a>) {
        let mut both = [
            self.stdout.take().map(|p| (p, Stream::Stdout)),
            self.stderr.take().map(|p| (p, Stream::Stderr)),
        ];
        both.sort_by_key(|p| p.as_ref().map_or(u64::MAX, |(p, _)| p.line));
        for (p, stream) in both.into_iter().flatten() {
            out.add(p.into_joined(stream));
        }
    }
}

/// What a container log's path says about the container.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathInfo {
    /// The pod name.
    pub pod: Option<String>,
    /// The pod's namespace.
    pub namespace: Option<String>,
    /// The container name.
    pub container: Option<String>,
}

/// Read namespace, pod and container from a kubelet container-log path:
///
/// - `…/pods/<namespace>_<pod>_<uid>/<container>/<N>.log`, also rotated
///   (`<N>.log.20240101-010101`) and compressed (`….gz`);
/// - `…/containers/<pod>_<namespace>_<container>-<64 hex id>.log`.
///
/// Only the last components are looked at, so a copied tree
/// (`./node-3/var/log/pods/...`) works too. `None` for any other path.
pub fn path_info(path: &Path) -> Option<PathInfo> {
    let file = path.file_name()?.to_str()?;
    if let Some(info) = containers_link(file) {
        return Some(info);
    }
    // `<N>.log`, `<N>.log.<stamp>`, `<N>.log.<stamp>.gz`, `<N>.log.gz`.
    let (n, rest) = file.split_once(".log")?;
    if n.is_empty() || !n.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if !(rest.is_empty() || rest.starts_with('.')) {
        return None;
    }
    let container_dir = path.parent()?;
    let container = container_dir.file_name()?.to_str()?;
    let pod_dir = container_dir.parent()?.file_name()?.to_str()?;
    let mut parts = pod_dir.split('_');
    let (namespace, pod, uid) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || !is_name(namespace)
        || !is_name(pod)
        || !is_uid(uid)
        || !is_name(container)
    {
        return None;
    }
    Some(PathInfo {
        pod: Some(pod.to_string()),
        namespace: Some(namespace.to_string()),
        container: Some(container.to_string()),
    })
}

/// `<pod>_<namespace>_<container>-<64 hex>.log` (the `/var/log/containers`
/// symlinks).
fn containers_link(file: &str) -> Option<PathInfo> {
    let stem = file.strip_suffix(".log").or_else(|| file.strip_suffix(".log.gz"))?;
    let mut parts = stem.splitn(3, '_');
    let (pod, namespace, rest) = (parts.next()?, parts.next()?, parts.next()?);
    let (container, id) = rest.rsplit_once('-')?;
    if id.len() != 64 || !id.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    if !is_name(pod) || !is_name(namespace) || !is_name(container) {
        return None;
    }
    Some(PathInfo {
        pod: Some(pod.to_string()),
        namespace: Some(namespace.to_string()),
        container: Some(container.to_string()),
    })
}

/// A Kubernetes object name: DNS labels and subdomains (lowercase
/// alphanumerics, `-`, `.`), no `_`.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
}

/// A pod UID: a UUID, or the 32-hex config hash static pods use.
fn is_uid(s: &str) -> bool {
    (s.len() == 36 || s.len() == 32) && s.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(p: Pushed<'_>) -> Vec<(u64, String, bool)> {
        p.map(|j| (j.line, j.text.into_owned(), j.truncated)).collect()
    }

    #[test]
    fn joins_partial_lines() {
        // (line, what push returns as (first line no, text))
        let table: &[(&str, &[(u64, &str)])] = &[
            ("2024-01-01T00:00:00.000000001Z stdout F hello", &[(1, "2024-01-01T00:00:00.000000001Z stdout F hello")]),
            ("2024-01-01T00:00:01.1Z stderr P E0101 00:00:01.1 1 remote_image.go:180] \"PullImage from image service failed\" err=\"rpc error: code = Unknown desc = failed to pull and unpack image \\\"nginx:1\\\": failed to ", &[]),
            ("2024-01-01T00:00:01.2Z stdout F interleaved stdout line", &[(3, "2024-01-01T00:00:01.2Z stdout F interleaved stdout line")]),
            ("2024-01-01T00:00:01.3Z stderr P resolve reference: ", &[]),
            ("2024-01-01T00:00:01.4Z stderr F 403 Forbidden\"\n", &[(2, "2024-01-01T00:00:01.1Z stderr F E0101 00:00:01.1 1 remote_image.go:180] \"PullImage from image service failed\" err=\"rpc error: code = Unknown desc = failed to pull and unpack image \\\"nginx:1\\\": failed to resolve reference: 403 Forbidden\"")]),
            ("2024-01-01T00:00:02Z stdout P dangling ", &[]),
            ("2024-01-01T00:00:02.5Z stderr P also dangling", &[]),
            ("not a CRI line", &[(6, "2024-01-01T00:00:02Z stdout F dangling "), (7, "2024-01-01T00:00:02.5Z stderr F also dangling"), (8, "not a CRI line")]),
            ("2024-01-01T00:00:03Z stdout F", &[(9, "2024-01-01T00:00:03Z stdout F")]),
            ("2024-01-01T00:00:03Z stdout X y", &[(10, "2024-01-01T00:00:03Z stdout X y")]),
        ];
        let mut j = CriJoiner::new();
        for (i, (line, want)) in table.iter().enumerate() {
            let got = collect(j.push(i as u64 + 1, line));
            let got: Vec<(u64, &str)> =
                got.iter().map(|(n, t, _)| (*n, t.trim_end_matches('\n'))).collect();
            assert_eq!(got, want.to_vec(), "{line}");
        }
        assert_eq!(j.pending_since(), None);
        j.push(11, "2024-01-01T00:00:04Z stdout P tail");
        assert_eq!(j.pending_since(), Some(11));
        let rest = collect(j.finish());
        assert_eq!(rest, vec![(11, "2024-01-01T00:00:04Z stdout F tail".to_string(), false)]);
        assert!(collect(j.finish()).is_empty());
    }

    #[test]
    fn joins_docker_json_pieces() {
        // A docker json-file log with a line split into two entries (the
        // first `log` lacks its newline), interleaved with the other stream.
        let lines = [
            r#"{"log":"Using default tag: latest\n","stream":"stdout","time":"2024-11-22T15:00:01.1Z"}"#,
            r#"{"log":"Error response from daemon: Get \"https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/ci/python/manifests/3.12\": no basic ","stream":"stderr","time":"2024-11-22T15:01:00.000000009Z"}"#,
            r#"{"log":"progress\n","stream":"stdout","time":"2024-11-22T15:01:00.1Z"}"#,
            r#"{"log":"auth credentials\n","stream":"stderr","time":"2024-11-22T15:01:00.2Z"}"#,
            r#"{"log":"ends in a backslash-n literal \\n","stream":"stdout","time":"2024-11-22T15:01:01Z"}"#,
            r#"{"log":"tail\n","stream":"stdout","time":"2024-11-22T15:01:02Z"}"#,
        ];
        let mut j = CriJoiner::new();
        let mut got = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            got.extend(collect(j.push(i as u64 + 1, line)));
        }
        got.extend(collect(j.finish()));
        let numbers: Vec<u64> = got.iter().map(|g| g.0).collect();
        assert_eq!(numbers, vec![1, 3, 2, 5]);
        let ctx = crate::format::LineContext::in_year(2024);
        let joined = crate::format::parse_line(&got[2].1, &ctx);
        assert!(
            joined.message.ends_with("manifests/3.12\": no basic auth credentials"),
            "{}",
            joined.message
        );
        assert_eq!(
            joined.time.map(|t| t.to_string()).as_deref(),
            Some("2024-11-22T15:01:00.000000009Z")
        );
        // The literal `\n` text is not a line end: it joined with `tail`.
        assert!(
            got[3].1.contains(r#""log":"ends in a backslash-n literal \\ntail"#),
            "{}",
            got[3].1
        );
        assert_eq!(got[1].1, lines[2]);
    }

    #[test]
    fn joined_lines_are_bounded() {
        let mut j = CriJoiner::new();
        let piece = format!("2024-01-01T00:00:00Z stdout P {}", "é".repeat(5000));
        for n in 1..=200 {
            assert!(j.push(n, &piece).next().is_none());
        }
        let out: Vec<Joined<'_>> = j.push(201, "2024-01-01T00:00:00Z stdout F end").collect();
        assert_eq!(out.len(), 1);
        assert!(out[0].truncated);
        assert_eq!(out[0].line, 1);
        assert_eq!(out[0].payload_bytes, 200 * 10_000 + 3);
        assert!(out[0].text.len() <= MAX_JOINED + 64);
    }

    #[test]
    fn paths() {
        // (path, namespace, pod, container)
        let table = [
            ("/var/log/pods/kube-system_coredns-6f6b679f8f-5m7kq_039e0c2f-3dbe-4622-ae3f-ce05113b939e/coredns/0.log", Some(("kube-system", "coredns-6f6b679f8f-5m7kq", "coredns"))),
            ("node-3/var/log/pods/default_web-0_8dcdd4e8-981e-43f3-92a8-456f5b5bb591/app/12.log.20240101-010101", Some(("default", "web-0", "app"))),
            ("pods/default_web-0_8dcdd4e8-981e-43f3-92a8-456f5b5bb591/app/1.log.20240101-010101.gz", Some(("default", "web-0", "app"))),
            ("/var/log/pods/kube-system_kube-apiserver-master_6c2a9b0f4e3d2c1b0a9f8e7d6c5b4a39/kube-apiserver/0.log", Some(("kube-system", "kube-apiserver-master", "kube-apiserver"))),
            ("/var/log/containers/coredns-6f6b679f8f-5m7kq_kube-system_coredns-3f0e7ab0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8.log", Some(("kube-system", "coredns-6f6b679f8f-5m7kq", "coredns"))),
            ("/var/log/containers/web_default_my-app-3f0e7ab0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8.log", Some(("default", "web", "my-app"))),
            ("/var/log/containers/web_default_app-123.log", None),
            ("/var/log/pods/default_web-0_8dcdd4e8-981e-43f3-92a8-456f5b5bb591/app/current.log", None),
            ("/var/log/pods/default_web-0/app/0.log", None),
            ("/var/log/syslog", None),
            ("0.log", None),
            ("/", None),
        ];
        for (path, want) in table {
            let got = path_info(Path::new(path));
            let want = want.map(|(ns, pod, c)| PathInfo {
                pod: Some(pod.to_string()),
                namespace: Some(ns.to_string()),
                container: Some(c.to_string()),
            });
            assert_eq!(got, want, "{path}");
        }
    }

    #[test]
    fn cri_lines() {
        for (line, yes) in [
            ("2024-01-01T00:00:00.000000000Z stderr F E0101 x", true),
            ("2016-10-06T00:17:09.669794202Z stdout P partial", true),
            ("2024-01-01T00:00:00+02:00 stdout F x\r\n", true),
            ("2024-01-01T00:00:00Z stdout F", true),
            ("2024-01-01T00:00:00Z stdout Fx", false),
            ("2024-01-01 00:00:00Z stdout F x", false),
            ("2024-01-01T00:00:00 stdout F x", false),
            ("2024-01-01T00:00:00Z stdin F x", false),
            ("", false),
        ] {
            assert_eq!(is_cri_line(line), yes, "{line}");
        }
    }
}
