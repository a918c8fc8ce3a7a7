//! Line envelopes: the prefixes that wrap a payload in its own format.
//!
//! This module owns recognising and peeling one envelope off a line: RFC 3164
//! syslog (also what `journalctl -o short` / `short-precise` print, with an
//! optional `<pri>` and the `* ` minikube pastes), `journalctl -o short-iso`,
//! RFC 5424, the CRI container-log prefix, and the bare `prog[pid]: ` prefix
//! left when a journal line is pasted without its date. It yields the time,
//! host, program and the payload; `format::parse_line` calls it repeatedly
//! (envelopes nest) and then hands the payload to the payload parsers. It
//! knows nothing about payload formats. Everything is byte sniffing: no
//! regex runs here.

use crate::record::{Envelope, Level};
use crate::time::{Timestamp, YearPolicy};

/// One peeled envelope.
#[derive(Debug, Default)]
pub(crate) struct Unwrapped<'a> {
    /// Which envelope; `None` for a bare `prog[pid]: ` prefix.
    pub envelope: Option<Envelope>,
    pub time: Option<Timestamp>,
    pub host: Option<&'a str>,
    pub program: Option<&'a str>,
    /// Severity from a syslog `<pri>`, when given.
    pub level: Level,
    pub payload: &'a str,
}

/// Peel one envelope off `line`, if it has one.
pub(crate) fn unwrap(line: &str, year: YearPolicy) -> Option<Unwrapped<'_>> {
    let first = *line.as_bytes().first()?;
    match first {
        b'<' => rfc5424(line).or_else(|| rfc3164(line, year)),
        b'0'..=b'9' => cri(line).or_else(|| short_iso(line)),
        b'*' => rfc3164(line.strip_prefix("* ")?, year),
        b'A'..=b'Z' => rfc3164(line, year).or_else(|| program_prefix(line)),
        b'a'..=b'z' => program_prefix(line),
        _ => None,
    }
}

/// RFC 3164: `[<pri>]Mmm dd hh:mm:ss[.frac] host prog[pid]: payload`.
fn rfc3164(line: &str, year: YearPolicy) -> Option<Unwrapped<'_>> {
    let (level, rest) = match pri(line) {
        Some((pri, used)) => (pri_level(pri), &line[used..]),
        None => (Level::Unknown, line),
    };
    let (time, used) = Timestamp::parse_syslog(rest, year)?;
    let rest = rest.get(used..)?.strip_prefix(' ')?;
    let (host, rest) = split_token(rest).filter(|(h, _)| is_host(h))?;
    let mut out = Unwrapped {
        envelope: Some(Envelope::Syslog),
        time: Some(time),
        host: Some(host),
        level,
        payload: rest,
        ..Unwrapped::default()
    };
    if let Some((program, payload)) = program_token(rest) {
        out.program = Some(program);
        out.payload = payload;
    }
    Some(out)
}

/// `journalctl -o short-iso`: `2024-01-01T00:00:00+0000 host prog[pid]: payload`.
/// The program is required: without it the line is a CI or application
/// timestamp, not a journal line.
fn short_iso(line: &str) -> Option<Unwrapped<'_>> {
    let (time, used) = Timestamp::parse_rfc3339(line)?;
    // journalctl writes a numeric offset; a `Z` stamp is a CI runner's.
    let b = line.as_bytes();
    let zulu = matches!(b.get(used.wrapping_sub(1)), Some(b'Z' | b'z'));
    if b.get(10) != Some(&b'T') || time.naive || zulu {
        return None;
    }
    let rest = line.get(used..)?.strip_prefix(' ')?;
    let (host, rest) = split_token(rest).filter(|(h, _)| is_host(h))?;
    let (program, payload) = program_token(rest)?;
    Some(Unwrapped {
        envelope: Some(Envelope::Journald),
        time: Some(time),
        host: Some(host),
        program: Some(program),
        payload,
        ..Unwrapped::default()
    })
}

/// RFC 5424: `<pri>1 TIMESTAMP HOST APP PROCID MSGID [SD]|- MSG`.
fn rfc5424(line: &str) -> Option<Unwrapped<'_>> {
    let (pri, used) = pri(line)?;
    let rest = line.get(used..)?;
    let rest = rest.strip_prefix("1 ")?;
    let (ts, rest) = split_token(rest)?;
    let (host, rest) = split_token(rest)?;
    let (app, rest) = split_token(rest)?;
    let (_procid, rest) = split_token(rest)?;
    let (_msgid, rest) = split_token(rest)?;
    let payload = skip_structured_data(rest)?;
    let payload = payload.strip_prefix('\u{feff}').unwrap_or(payload);
    Some(Unwrapped {
        envelope: Some(Envelope::Syslog5424),
        time: Timestamp::parse_rfc3339(ts).map(|(t, _)| t),
        host: nil(host),
        program: nil(app),
        level: pri_level(pri),
        payload,
    })
}

/// CRI: `<RFC3339Nano> stdout|stderr P|F payload`.
fn cri(line: &str) -> Option<Unwrapped<'_>> {
    let (time, used) = Timestamp::parse_rfc3339(line)?;
    let rest = line.get(used..)?.strip_prefix(' ')?;
    let rest = rest.strip_prefix("stdout ").or_else(|| rest.strip_prefix("stderr "))?;
    let rest = rest.strip_prefix("F").or_else(|| rest.strip_prefix("P"))?;
    let payload = match rest.strip_prefix(' ') {
        Some(p) => p,
        None if rest.is_empty() => rest,
        None => return None,
    };
    Some(Unwrapped {
        envelope: Some(Envelope::Cri),
        time: Some(time),
        payload,
        ..Unwrapped::default()
    })
}

/// A bare `prog[pid]: payload` (a journal line without its date and host).
/// The `[pid]` is required: `docker: Error ...` is docker CLI output.
fn program_prefix(line: &str) -> Option<Unwrapped<'_>> {
    let (program, payload) = program_token(line)?;
    let after = line.as_bytes().get(program.len())?;
    if *after != b'[' {
        return None;
    }
    Some(Unwrapped { program: Some(program), payload, ..Unwrapped::default() })
}

/// `prog[pid]: rest` or `prog: rest` at the start of `s`.
fn program_token(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    let end = b.iter().position(|&c| matches!(c, b'[' | b':' | b' ')).unwrap_or(b.len());
    if end == 0 || end > 64 || !b[0].is_ascii_alphabetic() {
        return None;
    }
    let program = &s[..end];
    let mut i = end;
    if b.get(i) == Some(&b'[') {
        let close = b[i..].iter().position(|&c| c == b']')? + i;
        if close == i + 1 || close - i > 12 || !b[i + 1..close].iter().all(u8::is_ascii_digit) {
            return None;
        }
        i = close + 1;
    }
    if b.get(i) != Some(&b':') {
        return None;
    }
    let rest = s.get(i + 1..)?;
    Some((program, rest.strip_prefix(' ').unwrap_or(rest)))
}

/// `<pri>` at the start: the value and the bytes used.
fn pri(s: &str) -> Option<(u8, usize)> {
    let b = s.as_bytes();
    if b.first() != Some(&b'<') {
        return None;
    }
    let close = b.iter().take(5).position(|&c| c == b'>')?;
    let digits = s.get(1..close)?;
    let v: u8 = digits.parse().ok()?;
    (v <= 191).then_some((v, close + 1))
}

fn pri_level(pri: u8) -> Level {
    match pri & 7 {
        0..=3 => Level::Error,
        4 => Level::Warning,
        5 | 6 => Level::Info,
        _ => Level::Debug,
    }
}

/// The next space-delimited token and the text after its single space.
fn split_token(s: &str) -> Option<(&str, &str)> {
    let end = s.as_bytes().iter().position(|&c| c == b' ')?;
    if end == 0 {
        return None;
    }
    Some((&s[..end], &s[end + 1..]))
}

/// Skip RFC 5424 structured data (`-` or one or more `[id k="v"]` elements,
/// with `\]` and `\"` escapes inside values) and the space after it.
fn skip_structured_data(s: &str) -> Option<&str> {
    if let Some(rest) = s.strip_prefix('-') {
        return Some(rest.strip_prefix(' ').unwrap_or(rest));
    }
    let b = s.as_bytes();
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let mut in_quotes = false;
        i += 1;
        loop {
            match *b.get(i)? {
                b'\\' => i += 1,
                b'"' => in_quotes = !in_quotes,
                b']' if !in_quotes => break,
                _ => {}
            }
            i += 1;
        }
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let rest = s.get(i..)?;
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

/// A plausible host name or address: `node-3`, `172.18.0.1`, `ip-10-0-1-2.ec2.internal`.
fn is_host(s: &str) -> bool {
    s.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
}

fn nil(s: &str) -> Option<&str> {
    (s != "-").then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes() {
        // (line, envelope, time, host, program, level, payload)
        type Row = (
            &'static str,
            Option<Envelope>,
            &'static str,
            &'static str,
            &'static str,
            Level,
            &'static str,
        );
        let table: [Row; 12] = [
            (
                "Feb 07 13:36:48.024915 bootstrap-e2e-master containerd[1191]: time=\"x\"",
                Some(Envelope::Syslog), "2024-02-07T13:36:48.024915", "bootstrap-e2e-master", "containerd", Level::Unknown, "time=\"x\"",
            ),
            (
                "May 13 03:52:00 centos02 containerd: time=\"2023\" level=info",
                Some(Envelope::Syslog), "2024-05-13T03:52:00", "centos02", "containerd", Level::Unknown, "time=\"2023\" level=info",
            ),
            (
                "* Feb 22 09:44:20 minikube kubelet[3889]: E0222 09:44:20.447117    3889 x.go:803] boom",
                Some(Envelope::Syslog), "2024-02-22T09:44:20", "minikube", "kubelet", Level::Unknown, "E0222 09:44:20.447117    3889 x.go:803] boom",
            ),
            (
                "Jan 22 15:54:35 4b19c703a7bd kubelet-crio.sh[512]: E0122 x",
                Some(Envelope::Syslog), "2024-01-22T15:54:35", "4b19c703a7bd", "kubelet-crio.sh", Level::Unknown, "E0122 x",
            ),
            (
                "<11>Nov  2 09:26:00 node-3 dockerd[1]: boom",
                Some(Envelope::Syslog), "2024-11-02T09:26:00", "node-3", "dockerd", Level::Error, "boom",
            ),
            (
                "Nov 22 09:26:00 node-3 no program here",
                Some(Envelope::Syslog), "2024-11-22T09:26:00", "node-3", "", Level::Unknown, "no program here",
            ),
            (
                "2024-01-01T00:00:00+0000 node-1 kubelet[1234]: E0101 boom",
                Some(Envelope::Journald), "2024-01-01T00:00:00Z", "node-1", "kubelet", Level::Unknown, "E0101 boom",
            ),
            (
                "<14>1 2024-03-01T10:00:00.5Z node-2 containerd 99 - [meta x=\"a]b\"][o k=\"v\"] \u{feff}level=error msg=x",
                Some(Envelope::Syslog5424), "2024-03-01T10:00:00.5Z", "node-2", "containerd", Level::Info, "level=error msg=x",
            ),
            (
                "<12>1 - - - - - - bare",
                Some(Envelope::Syslog5424), "", "", "", Level::Warning, "bare",
            ),
            (
                "2024-01-01T00:00:00.000000001Z stderr F E0101 00:00:00.000000 1 a.go:1] x",
                Some(Envelope::Cri), "2024-01-01T00:00:00.000000001Z", "", "", Level::Unknown, "E0101 00:00:00.000000 1 a.go:1] x",
            ),
            (
                "containerd[15986]: time=\"2025-09-11T00:05:51.904195916+08:00\" level=error",
                None, "", "", "containerd", Level::Unknown, "time=\"2025-09-11T00:05:51.904195916+08:00\" level=error",
            ),
            (
                "dockerd[1476]: ",
                None, "", "", "dockerd", Level::Unknown, "",
            ),
        ];
        for (line, env, time, host, program, level, payload) in table {
            let u = unwrap(line, YearPolicy::fixed(2024))
                .unwrap_or_else(|| panic!("no envelope: {line}"));
            assert_eq!(u.envelope, env, "{line}");
            assert_eq!(u.time.map(|t| t.to_string()).unwrap_or_default(), time, "{line}");
            assert_eq!(u.host.unwrap_or_default(), host, "{line}");
            assert_eq!(u.program.unwrap_or_default(), program, "{line}");
            assert_eq!(u.level, level, "{line}");
            assert_eq!(u.payload, payload, "{line}");
        }
    }

    #[test]
    fn not_envelopes() {
        let table = [
            "docker: Error response from daemon: manifest unknown",
            "Error response from daemon: Get https://x/v2/: EOF",
            "2023-01-17T12:47:09.3994680Z time=\"2023-01-17T12:47:08Z\" level=debug",
            "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop",
            "Apr 28 09:35:34.104: INFO: At 2021-04-28 09:30:27 +0100 BST - event",
            "E0102 21:10:37.610356   13696 remote_image.go:180] x",
            "  Warning  Failed  29s  kubelet  Failed to pull image",
            "<html>",
            "ctr: failed to resolve reference",
            "",
            "*",
            "<999>1 x",
        ];
        for line in table {
            assert!(unwrap(line, YearPolicy::fixed(2024)).is_none(), "{line}");
        }
    }
}
