//! Secret redaction for everything pullscan prints.
//!
//! Logs carry credentials: passwords in URLs, bearer tokens, signed-URL
//! query strings (S3 / CloudFront / Azure SAS), `docker login -p`. The output
//! layer passes every string it prints through [`redact`], which replaces
//! the secret part with `REDACTED` and leaves the rest readable. Borrowed
//! when there is nothing to hide (the common case costs one prefilter).

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// The replacement text.
pub const MASK: &str = "REDACTED";

struct Redaction {
    re: Regex,
    /// The capture group that holds the secret.
    group: usize,
}

static REDACTIONS: LazyLock<Vec<Redaction>> = LazyLock::new(|| {
    let r = |p: &str, group: usize| Redaction { re: Regex::new(p).expect("static regex"), group };
    vec![
        // scheme://user:password@host
        r(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s:/@'\x22]+:([^\s@/'\x22]+)@", 1),
        // Authorization: Bearer|Basic <token>
        r(r"(?i)\b(?:bearer|basic)\s+([A-Za-z0-9._~+/=-]{8,})", 1),
        // JWT-shaped tokens.
        r(r"\b(eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,})", 1),
        // Signed URL query values.
        r(
            r"(?i)[?&](?:x-amz-signature|x-amz-credential|x-amz-security-token|signature|sig|se|token|key-pair-id|verify|_state)=([^&\s'\x22]+)",
            1,
        ),
        // docker login -p / --password VALUE
        r(r"(?i)\blogin\b.*?\s(?:-p|--password)(?:\s+|=)([^\s'\x22]+)", 1),
        // password= / secret= / passwd= pairs
        r(
            r#"(?i)\b(?:password|passwd|secret|client_secret|access_token|refresh_token)["']?[ \t]*[=:][ \t]*["']?([^\s&'",}`)\]]+)"#,
            1,
        ),
    ]
});

/// Cheap test before running the regexes.
fn may_hold_secret(s: &str) -> bool {
    let b = s.as_bytes();
    memchr::memchr3(b'@', b'=', b'-', b).is_some()
        || memchr::memmem::find(b, b"earer").is_some()
        || memchr::memmem::find(b, b"asic").is_some()
        || memchr::memmem::find(b, b"eyJ").is_some()
}

/// `s` with every secret replaced by [`MASK`].
pub fn redact(s: &str) -> Cow<'_, str> {
    if !may_hold_secret(s) {
        return Cow::Borrowed(s);
    }
    let mut out: Cow<'_, str> = Cow::Borrowed(s);
    for red in REDACTIONS.iter() {
        if !red.re.is_match(&out) {
            continue;
        }
        let mut buf = String::with_capacity(out.len());
        let mut last = 0;
        for caps in red.re.captures_iter(&out) {
            let Some(m) = caps.get(red.group) else { continue };
            if m.as_str() == MASK {
                continue;
            }
            buf.push_str(&out[last..m.start()]);
            buf.push_str(MASK);
            last = m.end();
        }
        buf.push_str(&out[last..]);
        out = Cow::Owned(buf);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_each_kind() {
        let cases = [
            ("Get https://bob:hunter2@reg.example/v2/", "Get https://bob:REDACTED@reg.example/v2/"),
            ("Authorization: Bearer abcdefghijklmnop", "Authorization: Bearer REDACTED"),
            ("header Basic dXNlcjpwYXNzd29yZA==", "header Basic REDACTED"),
            ("tok eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlaGVyZQ end", "tok REDACTED end"),
            (
                "GET https://s3/x?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc123&x=1",
                "GET https://s3/x?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&x=1",
            ),
            ("blob?sv=2020&se=2024-01-01&sig=Zm9vYmFy", "blob?sv=2020&se=REDACTED&sig=REDACTED"),
            ("docker login -p s3cr3t reg.io", "docker login -p REDACTED reg.io"),
            ("docker login --password=s3cr3t", "docker login --password=REDACTED"),
            ("db password=hunter2 user=x", "db password=REDACTED user=x"),
            ("docker run -p 8080:80 nginx", "docker run -p 8080:80 nginx"),
            ("nothing to see here", "nothing to see here"),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "input {input}");
        }
    }

    #[test]
    fn leaves_image_refs_and_digests_alone() {
        let s = "Failed to pull image \"nginx@sha256:0123\": rpc error: code = Unknown desc = x";
        assert_eq!(redact(s), s);
        let s = "pulling from host registry-1.docker.io failed with status code [manifests 20.10]";
        assert_eq!(redact(s), s);
    }
}
