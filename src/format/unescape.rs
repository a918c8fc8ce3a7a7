//! Undo the escaping log writers put around messages.
//!
//! Real pull errors arrive quoted one to three levels deep: logfmt values
//! (`msg="PullImage \"x\" failed"`), klog values holding logfmt-style text
//! (`err="... \\\"docker.io/x\\\" ..."`), JSON strings (`\u0027`, `\u003e`)
//! and literal `\n` inside quoted values. The classifier's regexes are written
//! against plain text, so every format parser passes its message through
//! [`unescape`]. This module knows nothing about formats: it maps escape
//! sequences to text, borrowing when there is nothing to undo, and keeps any
//! backslash it does not understand (Windows paths such as
//! `c:\program files\docker` must survive).

use std::borrow::Cow;

/// Undo logfmt / klog / JSON escaping, at any nesting depth.
///
/// - a run of backslashes before `"` becomes `"` (`\"`, `\\\"`, `\\\\\"`);
/// - `\'` becomes `'`, `\/` becomes `/`;
/// - escaped `\n`, `\r`, `\t` (at any depth) become one space, and a run of
///   them (`\r\n`) becomes one space;
/// - `\uXXXX` (at any depth) becomes that character (surrogate pairs are
///   joined; a lone surrogate becomes U+FFFD);
/// - a run of `2k` or `2k-1` backslashes before anything else becomes `k`
///   backslashes, so `\\` is one backslash and a lone `\` stays.
///
/// Real line breaks (a multi-line CSV or JSON field) become one space too,
/// so a message reads the same whether its writer escaped its newlines or
/// not.
///
/// Returns the input borrowed when it has no backslash and no line break.
pub fn unescape(s: &str) -> Cow<'_, str> {
    if memchr::memchr2(b'\n', b'\r', s.as_bytes()).is_some() {
        let mut flat = String::with_capacity(s.len());
        for (i, part) in s.split(['\n', '\r']).filter(|p| !p.is_empty()).enumerate() {
            if i > 0 {
                flat.push(' ');
            }
            flat.push_str(part);
        }
        return Cow::Owned(unescape_escapes(&flat).into_owned());
    }
    unescape_escapes(s)
}

fn unescape_escapes(s: &str) -> Cow<'_, str> {
    let Some(first) = memchr::memchr(b'\\', s.as_bytes()) else {
        return Cow::Borrowed(s);
    };
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..first]);
    let mut i = first;
    let mut last_was_ws_escape = false;
    while i < b.len() {
        let Some(off) = memchr::memchr(b'\\', &b[i..]) else {
            out.push_str(&s[i..]);
            break;
        };
        if off > 0 {
            out.push_str(&s[i..i + off]);
            last_was_ws_escape = false;
        }
        let run_start = i + off;
        let mut j = run_start;
        while j < b.len() && b[j] == b'\\' {
            j += 1;
        }
        let run = j - run_start;
        match b.get(j) {
            Some(b'"') => {
                out.push('"');
                i = j + 1;
                last_was_ws_escape = false;
            }
            Some(b'\'') if run % 2 == 1 => {
                out.push('\'');
                i = j + 1;
                last_was_ws_escape = false;
            }
            Some(b'/') if run == 1 => {
                out.push('/');
                i = j + 1;
                last_was_ws_escape = false;
            }
            Some(b'n' | b'r' | b't') => {
                if !last_was_ws_escape {
                    out.push(' ');
                }
                i = j + 1;
                last_was_ws_escape = true;
            }
            Some(b'u') => match hex4(b, j + 1) {
                Some(unit) => {
                    let (c, used) = decode_utf16(b, unit, j + 5);
                    out.push(c);
                    i = used;
                    last_was_ws_escape = false;
                }
                None => {
                    push_backslashes(&mut out, run);
                    i = j;
                    last_was_ws_escape = false;
                }
            },
            _ => {
                push_backslashes(&mut out, run);
                i = j;
                last_was_ws_escape = false;
            }
        }
    }
    Cow::Owned(out)
}

fn push_backslashes(out: &mut String, run: usize) {
    for _ in 0..run.div_ceil(2) {
        out.push('\\');
    }
}

/// Four hex digits at `at`, as a UTF-16 code unit.
fn hex4(b: &[u8], at: usize) -> Option<u16> {
    let digits = b.get(at..at + 4)?;
    let mut v = 0u16;
    for &d in digits {
        v = v * 16 + (d as char).to_digit(16)? as u16;
    }
    Some(v)
}

/// Decode one UTF-16 unit, joining a following `\uDC00`-style low surrogate
/// (escaped at the same or any depth). Returns the char and where to go on.
fn decode_utf16(b: &[u8], unit: u16, next: usize) -> (char, usize) {
    if (0xD800..0xDC00).contains(&unit) {
        let mut k = next;
        while b.get(k) == Some(&b'\\') {
            k += 1;
        }
        if k > next && b.get(k) == Some(&b'u') {
            if let Some(low) = hex4(b, k + 1).filter(|l| (0xDC00..0xE000).contains(l)) {
                let c = 0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                return (char::from_u32(c).unwrap_or('\u{FFFD}'), k + 5);
            }
        }
    }
    (char::from_u32(u32::from(unit)).unwrap_or('\u{FFFD}'), next)
}

#[cfg(test)]
mod real_newlines {
    use super::unescape;

    #[test]
    fn real_line_breaks_read_like_escaped_ones() {
        let real = "errors:\ndenied: requested access\r\nunauthorized: authentication required\n";
        let escaped =
            r"errors:\ndenied: requested access\r\nunauthorized: authentication required\n";
        assert_eq!(unescape(real).trim_end(), unescape(escaped).trim_end());
        assert_eq!(
            unescape(real),
            "errors: denied: requested access unauthorized: authentication required"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let table = [
            ("plain text", "plain text"),
            (r#"msg="PullImage \"x\" failed""#, r#"msg="PullImage "x" failed""#),
            (
                r#"error="rpc error: code = NotFound desc = failed to pull and unpack image \"registry.k8s.io/a:v1\": failed to resolve reference \"registry.k8s.io/a:v1\": not found""#,
                r#"error="rpc error: code = NotFound desc = failed to pull and unpack image "registry.k8s.io/a:v1": failed to resolve reference "registry.k8s.io/a:v1": not found""#,
            ),
            (
                r#"err="failed to \"StartContainer\" for \"nginx\" with ErrImagePull: \"rpc error: failed to pull and unpack image \\\"docker.io/library/nginx:1.25.3\\\": not found\"""#,
                r#"err="failed to "StartContainer" for "nginx" with ErrImagePull: "rpc error: failed to pull and unpack image "docker.io/library/nginx:1.25.3": not found"""#,
            ),
            (r#"five \\\\\"deep\\\\\""#, r#"five "deep""#),
            (
                r#"msg="Not continuing with pull after error: errors:\ndenied: requested access to the resource is denied\nunauthorized: authentication required\n""#,
                r#"msg="Not continuing with pull after error: errors: denied: requested access to the resource is denied unauthorized: authentication required ""#,
            ),
            (
                r#""<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body bgcolor=\"white\">""#,
                r#""<html> <head><title>413 Request Entity Too Large</title></head> <body bgcolor="white">""#,
            ),
            (
                r"client with IP \u0027172.214.169.102\u0027 is not allowed",
                "client with IP '172.214.169.102' is not allowed",
            ),
            (
                r"Pulling image \u0022docker.io/nginx:1.23.4\u0022",
                r#"Pulling image "docker.io/nginx:1.23.4""#,
            ),
            (
                r"read tcp 10.0.2.15:58184-\u003e52.45.33.149:443",
                "read tcp 10.0.2.15:58184->52.45.33.149:443",
            ),
            (
                r"\u003chtml\u003e \u0026 2023-04-18 15:51:52 \u002B0000",
                "<html> & 2023-04-18 15:51:52 +0000",
            ),
            (r"nested \\u0027x\\u0027", "nested 'x'"),
            (r"emoji \ud83d\ude00 lone \ud83d end", "emoji \u{1F600} lone \u{FFFD} end"),
            (
                r"c:\program files\docker toolbox\docker.exe: invald reference format.",
                r"c:\program files\docker toolbox\docker.exe: invald reference format.",
            ),
            (r"unc \\\\server\\share", r"unc \\server\share"),
            (r"it\'s", "it's"),
            (r"https:\/\/ghcr.io", "https://ghcr.io"),
            (r"bad \uZZZZ hex", r"bad \uZZZZ hex"),
            (r"trailing \", r"trailing \"),
            (r"\", r"\"),
            (r"tab\tsep", "tab sep"),
            ("é\\\"ü", "é\"ü"),
        ];
        for (input, want) in table {
            assert_eq!(unescape(input), want, "{input}");
        }
    }

    #[test]
    fn borrows_when_clean() {
        assert!(matches!(unescape("no escapes here"), Cow::Borrowed(_)));
        assert!(matches!(unescape(r#"one \" here"#), Cow::Owned(_)));
    }
}
