//! Templates: unclassified pull-failure lines grouped by their wording.
//!
//! Lines that mention a pull and an error but match no rule are counted,
//! never dropped (issue 6). Counted one by one they are noise: the same
//! kubelet error shows up once per pod, image, digest and retry. So
//! [`template`] masks the parts that vary from line to line (URLs, image
//! references, digests, UUIDs, IPs, hosts, times, numbers, generated
//! Kubernetes names, quoted resource names, secrets) with readable
//! placeholders and keeps the wording, which is what tells one failure
//! from another. Lines that differ only in those parts share a template;
//! a report counts templates and shows a sample of each.
//!
//! The same templates are the start of new rules: [`pattern_of`] turns a
//! template back into a regex that matches every message it came from, and
//! [`suggest_toml`] writes a rule skeleton per frequent template (the
//! cause a best guess, the samples as examples) for `pullscan rules
//! suggest`, ready to edit and drop into a `--rules` directory.
//!
//! | placeholder | replaces | pattern class |
//! | --- | --- | --- |
//! | `<secret>` | what [`crate::redact`] hides | `\S+` |
//! | `<url>` | `scheme://...`, whole (its path holds the repository) | `\S+` |
//! | `<image>` | image references: anchored ones ([`find_image`]), quoted ones, and bare ones with a registry host | `\S+` |
//! | `<name>` | values of `pod=`, `object=`, `container=`...; quoted lowercase names (`secret "regcred"`); generated pod names (`web-5888cf98bf-xzklp`); `spec.containers{x}` | `\S+` |
//! | `<uuid>` | UUIDs | `[[:word:]<>-]+` |
//! | `<digest>` | `sha256:…` (any length) and bare 64-hex | `[[:word:]:<>]+` |
//! | `<ip>` | IPv4, IPv6 (`[::1]`), each with its `:port` if any | `[[:word:].:%\[\]<>]+` |
//! | `<time>` | RFC 3339 times and dates, clock times, the klog `mmdd` | `[[:word:].:,+<>-]+` |
//! | `<host>` | DNS names (`myacr.azurecr.io`, `registry-1.docker.io:443`), with the port if any | `[[:word:].<>*-]+(?::[0-9]+)?` |
//! | `<hex>` | hex ids of 8+ digits (layer ids, git commits) | `[[:word:]<>]+` |
//! | `<num>` | numbers, decimals, durations and sizes (`1.2s`, `500ms`, `9m37s`), `(x3 over` counts | `[[:word:].<>µ]+` |
//!
//! Every placeholder stands for a span without whitespace, and every class
//! also matches the placeholder itself: logs carry people's own stand-ins
//! (`<acrname>.azurecr.io`, `<IP>`) and may carry a literal `<host>`, and a
//! template is then an example of its own pattern. The masks and classes
//! are ASCII (`[[:word:]]` is `[0-9A-Za-z_]`): a Unicode `\w` compiles to
//! a large automaton, and forty of them pass the rule loader's size limit.
//! HTTP status codes 400-599 are kept: `403` is wording, not a variable.
//!
//! Cost is bounded: only the first [`MAX_INPUT`] bytes of a message are
//! looked at, and a template is at most that long. This module knows nothing
//! of summaries, scans or output; it uses [`crate::image`] to find image
//! references, [`crate::redact`] so no secret reaches a template or a
//! suggested rule, and [`crate::prefilter`] to make sure a pattern carries
//! a literal the prefilter can use.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::image::{find_image, ImageRef};
use crate::prefilter::literals_of;
use crate::redact::{redact, MASK};

/// Bytes of a message that [`template`] looks at (cut on a char boundary,
/// and back to the last whitespace so no token is cut in two).
pub const MAX_INPUT: usize = 2048;

/// Bytes of template a [`pattern_of`] pattern is built from at most: longer
/// templates are trimmed to their most distinctive part.
pub const MAX_CORE: usize = 240;

/// Samples shown as examples per suggested rule, at most.
pub const MAX_EXAMPLES: usize = 3;

/// Masking passes at most. One pass almost always gives a fixed point; a
/// second one confirms it, and the few lines where masking one part makes
/// another recognisable (an image reference that only reads as one once
/// its IPv6 host is masked) settle in the third. Text without separators
/// can take one pass per repeated field (`'image=-'image=-...`, found by
/// the property tests): passes go on while the text shrinks, which bounds
/// them by its length (at most [`MAX_INPUT`]).
const MAX_PASSES: usize = 4;

/// Each placeholder and the regex class [`pattern_of`] puts in its place.
/// A class matches every span its mask replaces (the masks below are
/// written to stay inside it: ASCII digits and word characters only) and
/// the placeholder itself.
const PLACEHOLDERS: &[(&str, &str)] = &[
    ("<secret>", r"\S+"),
    ("<url>", r"\S+"),
    ("<image>", r"\S+"),
    ("<name>", r"\S+"),
    ("<uuid>", r"[[:word:]<>-]+"),
    ("<digest>", r"[[:word:]:<>]+"),
    ("<ip>", r"[[:word:].:%\[\]<>]+"),
    ("<time>", r"[[:word:].:,+<>-]+"),
    ("<host>", r"[[:word:].<>*-]+(?::[0-9]+)?"),
    ("<hex>", r"[[:word:]<>]+"),
    ("<num>", r"[[:word:].<>µ]+"),
];

/// The template of a message: its variable parts masked with placeholders
/// (see the [module docs](self) for the list), whitespace runs collapsed to
/// one space, ends trimmed.
///
/// Deterministic and idempotent (`template(&template(m)) == template(m)`).
/// Looks at the first [`MAX_INPUT`] bytes only, and the result is at most
/// [`MAX_INPUT`] bytes too (masks can lengthen a text, `1` → `<num>`: the
/// words past the limit are dropped, as a second call would drop them).
/// Messages that differ only in hosts, images, digests, IPs, ports,
/// numbers or UUIDs have the same template; messages with different
/// wording have different ones.
pub fn template(message: &str) -> String {
    let mut t = settle(head(message));
    for _ in 0..MAX_PASSES {
        if t.len() <= MAX_INPUT {
            return t;
        }
        t = settle(cap(&t));
    }
    cap(&t).to_string()
}

/// Heads of messages whose template a thread remembers: templating costs
/// tens of microseconds, and a log repeats its unknown error.
const CACHED: usize = 1_000;

thread_local! {
    static CACHE: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

/// [`template`], remembered per thread for the first [`CACHED`] distinct
/// message heads (the template depends on the head alone, so the cache
/// is exact and never changes a result).
pub fn template_cached(message: &str) -> String {
    let key = head(message);
    CACHE.with(|cache| {
        if let Some(t) = cache.borrow().get(key) {
            return t.clone();
        }
        let t = template(message);
        let mut cache = cache.borrow_mut();
        if cache.len() < CACHED {
            cache.insert(key.to_string(), t.clone());
        }
        t
    })
}

/// Mask until nothing changes (see [`MAX_PASSES`]).
fn settle(text: &str) -> String {
    let mut t = mask(text);
    let mut pass = 1;
    loop {
        let next = mask(&t);
        if next == t {
            return t;
        }
        pass += 1;
        // Past the usual passes, go on only while masking shrinks the text.
        if pass >= MAX_PASSES && next.len() >= t.len() {
            return next;
        }
        t = next;
    }
}

/// The head of a template: [`head`], without half a placeholder at the end
/// (a template without spaces is cut mid-word).
fn cap(t: &str) -> &str {
    let h = head(t);
    if let Some(i) = h.rfind('<') {
        let tail = &h[i..];
        if PLACEHOLDERS.iter().any(|(p, _)| p.len() > tail.len() && p.starts_with(tail)) {
            return &h[..i];
        }
    }
    h
}

/// The first [`MAX_INPUT`] bytes of a message, cut on a char boundary and,
/// when that cut a token, back to the whitespace before it: half a host or
/// number would make a template of its own.
fn head(message: &str) -> &str {
    if message.len() <= MAX_INPUT {
        return message;
    }
    let mut end = MAX_INPUT;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let cut = &message[..end];
    if message[end..].starts_with(char::is_whitespace) {
        return cut;
    }
    match cut.rfind(char::is_whitespace) {
        Some(i) => &cut[..i],
        None => cut,
    }
}

/// One masking pass. The order matters: whole URLs and image references
/// first (they contain hosts, digests and numbers), then the smaller parts,
/// numbers last.
fn mask(text: &str) -> String {
    let mut s = redact(text).replace(MASK, "<secret>");
    s = replace(&URL, s, "<url>");
    s = replace(&ARM_ID, s, "<name>");
    s = mask_found_image(s);
    s = replace_with(&KEYED, s, keyed);
    s = replace_with(&QUOTED, s, quoted_image);
    s = replace_with(&REF_TOKEN, s, bare_image);
    s = replace(&UUID, s, "<uuid>");
    s = replace(&DIGEST, s, "<digest>");
    s = replace_with(&IPV6, s, ipv6);
    s = replace_with(&IPV4, s, ipv4);
    s = replace(&TIME, s, "<time>");
    s = replace(&KLOG_DATE, s, "${1}<time>${2}");
    s = replace_with(&CLOCK, s, clock);
    s = replace_with(&CONTAINERS, s, containers);
    s = replace_with(&HOST, s, host);
    s = replace_with(&QUOTED_NAME, s, quoted_name);
    s = replace(&GENERATED_NAME, s, "<name>");
    s = replace(&REVISION, s, "<name>");
    s = replace_with(&HEX, s, hex);
    s = replace(&COUNT, s, "(x<num>");
    s = replace_with(&NUM, s, num);
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `re.replace_all`, keeping `s` itself when nothing matched (a
/// `Cow::Borrowed`): most masks match nothing in most messages, and a copy
/// per mask per pass was most of the allocation.
fn replace(re: &Regex, s: String, with: &str) -> String {
    match re.replace_all(&s, with) {
        Cow::Borrowed(_) => s,
        Cow::Owned(t) => t,
    }
}

/// `re.replace_all` where the replacement also sees the whole text (to look
/// at what comes before or after a match, which `regex` cannot).
fn replace_with(re: &Regex, s: String, f: fn(&str, &Captures<'_>) -> String) -> String {
    if !re.is_match(&s) {
        return s;
    }
    re.replace_all(&s, |caps: &Captures<'_>| f(&s, caps)).into_owned()
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("static regex compiles")
}

/// `scheme://...`: up to whitespace or a quote, without trailing
/// punctuation (`Get https://x/v2/: net/http: ...`).
static URL: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)\b[a-z][a-z0-9+.-]*://[^\s"'`]*[^\s"'`.,:;)\]}]"#));

/// Azure resource ids (`/subscriptions/<uuid>/resourceGroups/rg/...`): the
/// resource group and resource names vary, the path shape does not.
static ARM_ID: LazyLock<Regex> = LazyLock::new(|| re(r#"(?i)/subscriptions/[^\s'"]*[^\s'".,;:)]"#));

/// Values of keys that name a Kubernetes object, an image or an id (klog
/// structured lines, logfmt: `pod="ns/name"`, `task.id=...`). Keys whose
/// values are wording (`msg`, `err`) are not listed.
static KEYED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"\b(pod|podUID|object|container|containerName|containerID|name|namespace|node|image|imageRef|uid|sandbox|podSandboxID|[[:word:].]+\.id)=(?:"([^"\s]+)"|([^\s"',]+))"#,
    )
});

/// A quoted token.
static QUOTED: LazyLock<Regex> = LazyLock::new(|| re(r#""([^"\s]+)"|'([^'\s]+)'"#));

/// A run of the bytes an image reference is made of (as `image.rs` counts
/// them: `<>` and `*` for redacted references).
static REF_TOKEN: LazyLock<Regex> = LazyLock::new(|| re(r"[[:word:].:/@<>*+-]+"));

static UUID: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"));

/// `sha256:...` of any length (logs and people shorten them) and bare
/// 64-hex digests.
static DIGEST: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\bsha(?:256|384|512):[0-9a-f]+\b|\b[0-9a-f]{64}\b"));

/// IPv6 candidates, bracketed with an optional port or bare; checked by
/// parsing.
static IPV6: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\[([0-9A-Fa-f:.]+(?:%[[:word:]]+)?)\](?::[0-9]{1,5})?|[0-9A-Fa-f]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(?:%[[:word:]]+)?",
    )
});

/// IPv4 candidates with an optional port; checked by parsing.
static IPV4: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})(?::[0-9]{1,5})?\b"));

/// RFC 3339 times, and dates alone.
static TIME: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2})?(?:[.,][0-9]+)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?\b",
    )
});

/// The `mmdd` of a klog header (`E0422 09:53:07.403464`); the level letter
/// stays, the clock is masked next.
static KLOG_DATE: LazyLock<Regex> =
    LazyLock::new(|| re(r"([IWEF])[0-9]{4}( +[0-9]{1,2}:[0-9]{2}:[0-9]{2}[.,][0-9])"));

/// Clock times (`12:00:00`, `09:53:07.403464Z`, `12:00:00+02:00`), also
/// glued to what follows (`00:08:47E0823`).
static CLOCK: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\b[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?")
});

/// `spec.containers{name}` in Kubernetes events.
static CONTAINERS: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\b(spec\.(?:initContainers|containers|ephemeralContainers)\{)([^{}\s]+)\}")
});

/// Dotted names with an optional port; checked by [`host`].
static HOST: LazyLock<Regex> =
    LazyLock::new(|| re(r"[[:word:]<>*-]+(?:\.[[:word:]<>*-]+)+(?::[0-9]{1,5})?"));

/// Quoted lowercase names: Kubernetes objects, containers, secrets.
static QUOTED_NAME: LazyLock<Regex> =
    LazyLock::new(|| re(r#""([a-z0-9][a-z0-9._-]*)"|'([a-z0-9][a-z0-9._-]*)'"#));

/// Names Kubernetes generates: a 5-character suffix from its alphabet
/// (no vowels, no 0, 1, 3), often after a ReplicaSet hash.
static GENERATED_NAME: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-[bcdfghjklmnpqrstvwxz2456789]{5}\b"));

/// Azure Container Apps revisions: `app--suffix`.
static REVISION: LazyLock<Regex> = LazyLock::new(|| re(r"\b[a-z][a-z0-9-]*[a-z0-9]--[a-z0-9]+\b"));

static HEX: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b[0-9a-f]{8,}\b"));

/// kubectl's repeat counts: `(x3 over 67s)`.
static COUNT: LazyLock<Regex> = LazyLock::new(|| re(r"\(x[0-9]+\b"));

/// A number with whatever unit or fraction is glued to it (Go writes
/// microseconds `µs`).
static NUM: LazyLock<Regex> = LazyLock::new(|| re(r"\b[0-9](?:[[:word:].µ]*[[:word:]µ])?"));

/// Whether `s` is exactly one of our placeholders.
fn is_placeholder(s: &str) -> bool {
    PLACEHOLDERS.iter().any(|&(p, _)| p == s)
}

/// The image [`find_image`] names, masked where it stands, and every other
/// quoted copy of it (`Failed to pull image "nginx": ... image="nginx"`).
fn mask_found_image(s: String) -> String {
    let Some((start, value)) = found_image_span(&s) else { return s };
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..start]);
    out.push_str("<image>");
    out.push_str(&s[start + value.len()..]);
    for q in ['"', '\''] {
        let quoted = format!("{q}{value}{q}");
        if out.contains(&quoted) {
            out = out.replace(&quoted, &format!("{q}<image>{q}"));
        }
    }
    out
}

/// Where the image [`find_image`] names stands in `s`, and what it is.
/// Only a value borrowed from the message has a place in it (`reading
/// manifest T in R` yields a new `R:T`).
fn found_image_span(s: &str) -> Option<(usize, String)> {
    let found = find_image(s)?;
    let v: &str = &found;
    let start = (v.as_ptr() as usize).wrapping_sub(s.as_ptr() as usize);
    let ok = !v.is_empty()
        && !v.contains(char::is_whitespace)
        && !is_placeholder(v)
        && s.get(start..start.wrapping_add(v.len())) == Some(v);
    ok.then(|| (start, v.to_string()))
}

fn keyed(_: &str, caps: &Captures<'_>) -> String {
    let key = &caps[1];
    let (value, quote) = match (caps.get(2), caps.get(3)) {
        (Some(v), _) => (v.as_str(), "\""),
        (None, Some(v)) => (v.as_str(), ""),
        (None, None) => return caps[0].to_string(),
    };
    if is_placeholder(value) {
        return caps[0].to_string();
    }
    let placeholder = if key.starts_with("image") {
        "<image>"
    } else if UUID.find(value).is_some_and(|m| m.len() == value.len()) {
        "<uuid>"
    } else {
        "<name>"
    };
    format!("{key}={quote}{placeholder}{quote}")
}

fn quoted_image(_: &str, caps: &Captures<'_>) -> String {
    let (content, quote) = match (caps.get(1), caps.get(2)) {
        (Some(c), _) => (c.as_str(), '"'),
        (None, Some(c)) => (c.as_str(), '\''),
        (None, None) => return caps[0].to_string(),
    };
    if is_quoted_image(content) {
        format!("{quote}<image>{quote}")
    } else {
        caps[0].to_string()
    }
}

/// A quoted reference: anything with a registry host, a path or a digest
/// that parses as one, or `name:tag`.
fn is_quoted_image(c: &str) -> bool {
    if c.contains("://") || c.contains("<image>") || ImageRef::parse(c).is_none() {
        return false;
    }
    if c.contains(['/', '@']) {
        return true;
    }
    match c.split_once(':') {
        Some((name, tag)) => {
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && !is_long_hex(tag)
        }
        None => false,
    }
}

fn is_long_hex(s: &str) -> bool {
    s.len() >= 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn bare_image(_: &str, caps: &Captures<'_>) -> String {
    let token = &caps[0];
    let t = token.trim_end_matches(['.', ':', ',']);
    if is_bare_image(t) {
        format!("<image>{}", &token[t.len()..])
    } else {
        token.to_string()
    }
}

/// An unquoted reference needs a registry host (`docker.io/x`,
/// `localhost:5000/x`) or a digest (`nginx@sha256:...`): `linux/arm64` and
/// `net/http` are not images.
fn is_bare_image(t: &str) -> bool {
    if t.contains("://") || ImageRef::parse(t).is_none() {
        return false;
    }
    match t.split_once('/') {
        Some((first, rest)) => !rest.is_empty() && is_registry_host(first),
        None => t.contains("@sha256:"),
    }
}

fn is_registry_host(first: &str) -> bool {
    // A host or address already masked (an IPv6 registry, `[fd00::1]:5000/x`,
    // reads as a reference only once its address is `<ip>`).
    let host = first.split(':').next().unwrap_or_default();
    if host == "<ip>" || host == "<host>" {
        return true;
    }
    let has_port = first.rsplit_once(':').is_some_and(|(h, p)| {
        !h.is_empty() && !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())
    });
    first.eq_ignore_ascii_case("localhost")
        || has_port
        || (first.contains('.') && first.bytes().any(|b| b.is_ascii_alphabetic()))
}

/// The characters just before and just after a match.
fn around<'a>(s: &'a str, caps: &Captures<'_>) -> (Option<char>, &'a str) {
    let m = caps.get(0).map_or(0..0, |m| m.range());
    (s[..m.start].chars().next_back(), &s[m.end..])
}

fn ipv6(s: &str, caps: &Captures<'_>) -> String {
    let whole = &caps[0];
    if let Some(inner) = caps.get(1) {
        let addr = inner.as_str().split('%').next().unwrap_or_default();
        return if addr.parse::<Ipv6Addr>().is_ok() { "<ip>".into() } else { whole.into() };
    }
    // Trailing `:` and `.` are punctuation (`on fe80::1: no such host`).
    let kept = whole.trim_end_matches([':', '.']);
    let trailing = &whole[kept.len()..];
    let (before, after) = around(s, caps);
    let addr = kept.split('%').next().unwrap_or_default();
    // Not a piece of a longer word (`std::io`, `10T00:57:21`).
    let glued_before = before.is_some_and(|c| c.is_alphanumeric() || "_:.".contains(c));
    let glued_after = after.starts_with(|c: char| c.is_alphanumeric() || c == '_');
    if glued_before || glued_after || addr.parse::<Ipv6Addr>().is_err() {
        return whole.into();
    }
    format!("<ip>{trailing}")
}

fn ipv4(s: &str, caps: &Captures<'_>) -> String {
    let (before, after) = around(s, caps);
    let mut rest = after.chars();
    // `1.2.3.4.5` is a version, not an address.
    let version = before == Some('.')
        || (rest.next() == Some('.') && rest.next().is_some_and(|c| c.is_ascii_digit()));
    if version || caps[1].parse::<Ipv4Addr>().is_err() {
        caps[0].to_string()
    } else {
        "<ip>".into()
    }
}

fn clock(s: &str, caps: &Captures<'_>) -> String {
    // Not the tail of an IPv6 address or of a longer colon list.
    match around(s, caps).0 {
        Some(':') => caps[0].to_string(),
        _ => "<time>".into(),
    }
}

fn containers(_: &str, caps: &Captures<'_>) -> String {
    if is_placeholder(&caps[2]) {
        caps[0].to_string()
    } else {
        format!("{}<name>}}", &caps[1])
    }
}

/// File extensions: `kubelet_pods.go:883` and `docker.sock` are not hosts.
const NOT_TLDS: &[&str] = &[
    "go", "rs", "py", "sh", "js", "ts", "rb", "java", "jar", "war", "cc", "cpp", "hpp", "json",
    "yaml", "yml", "toml", "xml", "html", "htm", "txt", "log", "md", "sock", "socket", "conf",
    "cfg", "ini", "tar", "gz", "tgz", "zip", "xz", "zst", "exe", "dll", "so", "lock", "pem", "crt",
    "cert", "key", "csr", "service", "mount", "timer", "pid", "img", "iso", "deb", "rpm", "apk",
    "whl", "ps1", "bat", "cmd", "out", "tmp", "bak", "swp", "pub", "csv", "jsonl", "proto",
];

fn host(s: &str, caps: &Captures<'_>) -> String {
    let whole = &caps[0];
    let (before, after) = around(s, caps);
    let name = whole.split(':').next().unwrap_or_default();
    let labels: Vec<&str> = name.split('.').collect();
    let tld = labels.last().copied().unwrap_or_default();
    let ok = !matches!(before, Some('/' | '.' | '@' | '\\'))
        && !after.starts_with(['(', '{', '=', '['])
        && !name.starts_with('-')
        && labels.iter().all(|l| is_host_label(l))
        && tld.len() >= 2
        && tld.bytes().all(|b| b.is_ascii_lowercase())
        && !NOT_TLDS.contains(&tld);
    if ok {
        "<host>".into()
    } else {
        whole.into()
    }
}

/// A DNS label as logs write them (lowercase), `***` (GitHub's masking) or
/// someone's own stand-in (`<acrname>`), but not one of our placeholders.
fn is_host_label(l: &str) -> bool {
    if l.starts_with('<') && l.ends_with('>') && l.len() > 2 {
        return !is_placeholder(l) && !l[1..l.len() - 1].contains(['<', '>']);
    }
    !l.is_empty()
        && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_*".contains(&b))
}

/// Keys whose quoted values are wording, not names.
const WORDING_KEYS: &[&str] = &["msg=", "err=", "error=", "message=", "reason=", "level="];

fn quoted_name(s: &str, caps: &Captures<'_>) -> String {
    let m = caps.get(0).map_or(0..0, |m| m.range());
    // Not wording (`msg="fetch"`) and not a JSON key (`{"message":...}`).
    if WORDING_KEYS.iter().any(|k| s[..m.start].ends_with(k)) || s[m.end..].starts_with(':') {
        return caps[0].to_string();
    }
    let q = &caps[0][..1];
    format!("{q}<name>{q}")
}

fn hex(_: &str, caps: &Captures<'_>) -> String {
    let h = &caps[0];
    let digit = h.bytes().any(|b| b.is_ascii_digit());
    let letter = h.bytes().any(|b| b.is_ascii_alphabetic());
    if digit && letter {
        "<hex>".into()
    } else {
        h.into()
    }
}

fn num(_: &str, caps: &Captures<'_>) -> String {
    let n = &caps[0];
    // HTTP status codes are wording: `403` says what went wrong.
    let b = n.as_bytes();
    if b.len() == 3 && matches!(b[0], b'4' | b'5') && b.iter().all(u8::is_ascii_digit) {
        n.into()
    } else {
        "<num>".into()
    }
}

// ---------------------------------------------------------------------------
// Patterns

/// A Rust regex for a rule, from a template: literal text escaped, each
/// placeholder replaced by its class (see the [module docs](self)), each
/// space by `\s+`.
///
/// The pattern matches every message whose template this is. A template
/// longer than [`MAX_CORE`] bytes is trimmed to its most distinctive run of
/// words: the part that ends with its last error word, where a Go error
/// chain names the root cause. The pattern then starts
/// (or else ends) with a literal word of at least
/// [`MIN_LITERAL_LEN`](crate::prefilter::MIN_LITERAL_LEN) bytes free of
/// characters escaping rewrites, so the prefilter can derive a literal from
/// it (`rules/README.md`). A template with no such word anywhere gives a
/// pattern the rule loader refuses (such a rule needs `keywords`); an empty
/// template gives an empty pattern.
pub fn pattern_of(template: &str) -> String {
    let words: Vec<&str> = template.split_whitespace().collect();
    let (mut lo, hi) = core(&words);
    // A cut core reads better from a word (`rpc error: ...`) than from the
    // tail of a value (`"<image>": rpc error: ...`).
    if hi - lo < words.len() {
        let limit = (lo + 3).min(hi - 1);
        while lo < limit && !has_edge_literal(words[lo], true) {
            lo += 1;
        }
    }
    for (a, b) in prefilter_windows(&words, lo, hi) {
        let p = words_pattern(&words[a..b]);
        if literals_of(&p).is_ok() {
            return p;
        }
    }
    words_pattern(&words[lo..hi])
}

/// One word as a regex: literal runs escaped, placeholders as classes.
fn word_pattern(word: &str, out: &mut String) {
    let mut literal = String::new();
    let mut rest = word;
    while !rest.is_empty() {
        if let Some(&(p, class)) = PLACEHOLDERS.iter().find(|(p, _)| rest.starts_with(p)) {
            out.push_str(&regex::escape(&literal));
            literal.clear();
            out.push_str(class);
            rest = &rest[p.len()..];
        } else {
            let c = rest.chars().next().unwrap_or_default();
            literal.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out.push_str(&regex::escape(&literal));
}

fn words_pattern(words: &[&str]) -> String {
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            out.push_str(r"\s+");
        }
        word_pattern(w, &mut out);
    }
    out
}

/// Word stems that mark the part of a message that says what went wrong.
#[rustfmt::skip]
const ERROR_STEMS: &[&str] = &[
    "error", "fail", "denied", "unauthori", "forbidden", "found", "unknown", "invalid", "timeout",
    "timed", "refused", "unable", "cannot", "exceeded", "reject", "x509", "toomanyrequests",
    "unexpected", "expired", "such", "not",
];

/// Whether a word says what went wrong: an error word or a status code.
fn is_error_word(word: &str) -> bool {
    let status = word.len() == 3
        && matches!(word.as_bytes()[0], b'4' | b'5')
        && word.bytes().all(|b| b.is_ascii_digit());
    let lower = word.to_lowercase();
    status || ERROR_STEMS.iter().any(|s| lower.contains(s))
}

/// The run of words a pattern is built from: all of them when the template
/// is short, else at most [`MAX_CORE`] bytes ending with the last error
/// word (Go error chains end with the root cause; the wrappers before it
/// are the same for many causes), extended past it if room is left.
fn core(words: &[&str]) -> (usize, usize) {
    let total: usize = words.iter().map(|w| w.len() + 1).sum();
    if total <= MAX_CORE + 1 {
        return (0, words.len());
    }
    let Some(last) = words.iter().rposition(|w| is_error_word(w)) else {
        return (0, fit(words, 0, true));
    };
    let lo = fit(words, last, false);
    let mut len: usize = words[lo..=last].iter().map(|w| w.len() + 1).sum::<usize>() - 1;
    let mut hi = last + 1;
    while hi < words.len() && len + 1 + words[hi].len() <= MAX_CORE {
        len += 1 + words[hi].len();
        hi += 1;
    }
    (lo, hi)
}

/// Characters a prefilter literal is cut at (`prefilter::ESCAPED`).
const ESCAPED: &[char] = &['"', '\'', '\\', '<', '>', '&', '+'];

/// Whether a word starts (`at_start`) or ends with literal text holding
/// 4+ bytes free of escaped characters.
fn has_edge_literal(word: &str, at_start: bool) -> bool {
    let literal = if at_start {
        PLACEHOLDERS.iter().filter_map(|(p, _)| word.find(p)).min().map_or(word, |i| &word[..i])
    } else {
        let end = PLACEHOLDERS
            .iter()
            .filter_map(|(p, _)| word.rfind(p).map(|i| i + p.len()))
            .max()
            .unwrap_or(0);
        &word[end..]
    };
    literal.split(ESCAPED).any(|piece| piece.len() >= crate::prefilter::MIN_LITERAL_LEN)
}

/// Windows to try, best first: the core itself, the core from its first
/// word that starts with a usable literal, up to its last word that ends
/// with one, then windows from or to such a word elsewhere.
fn prefilter_windows(words: &[&str], lo: usize, hi: usize) -> Vec<(usize, usize)> {
    let mut out = vec![(lo, hi)];
    if let Some(a) = (lo..hi).find(|&i| has_edge_literal(words[i], true)) {
        out.push((a, hi));
    }
    if let Some(b) = (lo..hi).rev().find(|&i| has_edge_literal(words[i], false)) {
        out.push((lo, b + 1));
    }
    let near = |i: usize| if i < lo { lo - i } else { i.saturating_sub(hi) };
    let start =
        (0..words.len()).filter(|&i| has_edge_literal(words[i], true)).min_by_key(|&i| near(i));
    if let Some(a) = start {
        out.push((a, fit(words, a, true)));
    }
    let end =
        (0..words.len()).filter(|&i| has_edge_literal(words[i], false)).min_by_key(|&i| near(i));
    if let Some(b) = end {
        out.push((fit(words, b, false), b + 1));
    }
    out
}

/// The far end of a window of at most [`MAX_CORE`] bytes from word `at`,
/// going right (`forward`, exclusive end) or left (inclusive start).
fn fit(words: &[&str], at: usize, forward: bool) -> usize {
    let mut len = words[at].len();
    if forward {
        let mut j = at + 1;
        while j < words.len() && len + 1 + words[j].len() <= MAX_CORE {
            len += 1 + words[j].len();
            j += 1;
        }
        j
    } else {
        let mut i = at;
        while i > 0 && len + 1 + words[i - 1].len() <= MAX_CORE {
            len += 1 + words[i - 1].len();
            i -= 1;
        }
        i
    }
}

// ---------------------------------------------------------------------------
// Rule suggestions

/// A frequent template and what it stands for, for [`suggest_toml`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Suggestion {
    /// The template ([`template`]) of the messages.
    pub template: String,
    /// How many lines had it.
    pub count: u64,
    /// Messages (as classified, envelopes removed) that had it, earliest
    /// first; the first [`MAX_EXAMPLES`] become examples.
    pub samples: Vec<String>,
}

/// A best guess at the cause of a template, from its words; always a
/// builtin cause id.
fn guess_cause(template: &str) -> &'static str {
    let t = template.to_lowercase();
    let has = |w: &str| t.contains(w);
    let codes: Vec<&str> = t.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    let code = |c: &str| codes.contains(&c);
    let server_error = codes
        .iter()
        .any(|w| w.len() == 3 && w.starts_with('5') && w.bytes().all(|b| b.is_ascii_digit()));
    if has("toomanyrequests") || has("too many requests") || has("rate limit") || code("429") {
        "registry.rate-limit"
    } else if has("x509") {
        "tls.certificate"
    } else if has("no such host") {
        "network.dns"
    } else if has("unauthorized") || code("401") {
        "auth.unauthorized"
    } else if has("denied") || has("forbidden") || code("403") {
        "auth.denied"
    } else if has("not found") || has("manifest unknown") {
        "image.not-found"
    } else if has("timeout") || has("timed out") {
        "network.timeout"
    } else if server_error {
        "registry.unavailable"
    } else {
        "symptom.unspecified"
    }
}

/// A TOML document with one `[[rules]]` skeleton per suggestion, in the
/// order given: id `local.suggested-N`, a guessed cause (marked `TODO`), a
/// title, the [`pattern_of`] the template, priority 50 and up to
/// [`MAX_EXAMPLES`] samples as examples (redacted, and only those the
/// pattern matches). A header says how to use the file.
///
/// The document loads with `RuleSet::add_rules` on top of the builtin
/// causes. A template whose pattern carries no literal for the prefilter
/// is written commented out, with the reason, so the file still loads.
pub fn suggest_toml(suggestions: &[Suggestion]) -> String {
    let mut out = String::from(HEADER);
    for (i, s) in suggestions.iter().enumerate() {
        out.push('\n');
        out.push_str(&rule_toml(i + 1, s));
    }
    out
}

const HEADER: &str = "\
# Rule skeletons suggested by `pullscan rules suggest`: one per frequent
# template of unclassified pull-failure lines, most frequent first.
#
# To use them:
#  1. check each cause (a guess from the words of the line), give each rule
#     a lasting id and title, and tighten its pattern where it is too loose;
#     add counterexamples for look-alikes (rules/README.md has the format);
#  2. save this file in a directory, say `my-rules/`;
#  3. `pullscan rules test my-rules` checks every example and counterexample;
#  4. `pullscan --rules my-rules ...` scans with these rules added.
#
# In the patterns, each <placeholder> of the template became a class that
# matches any value of its kind (and the placeholder itself).
";

fn rule_toml(n: usize, s: &Suggestion) -> String {
    let pattern = pattern_of(&s.template);
    let matcher = Regex::new(&pattern).ok();
    let mut examples: Vec<String> = Vec::new();
    for sample in &s.samples {
        let sample = redact(sample).into_owned();
        let matches = matcher.as_ref().is_some_and(|m| m.is_match(&sample));
        if matches && !examples.contains(&sample) {
            examples.push(sample);
        }
        if examples.len() == MAX_EXAMPLES {
            break;
        }
    }
    let mut body = String::new();
    let _ = writeln!(body, "[[rules]]");
    let _ = writeln!(body, "id = \"local.suggested-{n}\"");
    let _ = writeln!(body, "cause = \"{}\" # TODO: check the cause", guess_cause(&s.template));
    let _ = writeln!(body, "title = {}", toml_string(&title(&s.template)));
    let _ = writeln!(body, "patterns = [{}]", toml_pattern(&pattern));
    let _ = writeln!(body, "priority = 50");
    if examples.is_empty() {
        let _ = writeln!(body, "# TODO: no sample matched the pattern; add examples");
        let _ = writeln!(body, "examples = []");
    } else {
        let _ = writeln!(body, "examples = [");
        for e in &examples {
            let _ = writeln!(body, "    {},", toml_string(e));
        }
        let _ = writeln!(body, "]");
    }
    let mut out = String::new();
    let _ = writeln!(out, "# Seen {} time{}:", s.count, if s.count == 1 { "" } else { "s" });
    let _ = writeln!(out, "#   {}", comment_text(&s.template));
    if literals_of(&pattern).is_err() {
        let _ = writeln!(
            out,
            "# Commented out: the template has no plain word of {}+ characters for the \
             prefilter; give the rule `keywords` (rules/README.md).",
            crate::prefilter::MIN_LITERAL_LEN
        );
        for line in body.lines() {
            let _ = writeln!(out, "# {line}");
        }
    } else {
        out.push_str(&body);
    }
    out
}

/// A short title: the template, cut to 60 characters.
fn title(template: &str) -> String {
    const MAX: usize = 60;
    if template.chars().count() <= MAX {
        return template.to_string();
    }
    let mut t: String = template.chars().take(MAX - 1).collect();
    t.push('…');
    t
}

/// Text safe in a TOML comment: control characters (which TOML forbids
/// there) written as escapes.
fn comment_text(s: &str) -> String {
    s.chars()
        .map(
            |c| if c.is_control() && c != '\t' { c.escape_unicode().to_string() } else { c.into() },
        )
        .collect()
}

/// A TOML string: a literal string (`'...'`, nothing escaped, the way
/// people paste log lines) when it can hold `s`, else a basic string.
fn toml_string(s: &str) -> String {
    if !s.contains('\'') && !s.chars().any(|c| c.is_control() && c != '\t') {
        format!("'{s}'")
    } else {
        basic_string(s)
    }
}

/// A pattern as `'''...'''` (rules/README.md), else a basic string.
fn toml_pattern(p: &str) -> String {
    if !p.contains("'''") && !p.ends_with('\'') && !p.chars().any(|c| c.is_control() && c != '\t') {
        format!("'''{p}'''")
    } else {
        basic_string(p)
    }
}

fn basic_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::Deserialize;

    use super::*;
    use crate::classify::{Classifier, Verdict};
    use crate::format::{self, LineContext};
    use crate::rules::{self, compile_patterns};

    /// Messages as the classifier sees them: the `message` of every golden
    /// event under `corpus/`, and the shared seed lines, parsed (when the
    /// shared data is there).
    fn real_messages() -> Vec<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        let mut dirs = vec![root.join("corpus")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "jsonl") {
                    for row in std::fs::read_to_string(&p).unwrap().lines() {
                        let v: serde_json::Value = serde_json::from_str(row).unwrap();
                        out.extend(v["message"].as_str().map(String::from));
                    }
                }
            }
        }
        let shared = root.join("../shared");
        let shared = if shared.exists() { shared } else { "/work/shared".into() };
        if let Ok(seed) = std::fs::read_to_string(shared.join("corpus-seed/real-lines.jsonl")) {
            let ctx = LineContext::in_year(2024);
            for row in seed.lines() {
                let v: serde_json::Value = serde_json::from_str(row).unwrap();
                let line = v["line"].as_str().unwrap_or_default();
                out.push(format::parse_line(line, &ctx).message.into_owned());
            }
        }
        out.sort();
        out.dedup();
        assert!(out.len() > 100, "only {} corpus messages", out.len());
        out
    }

    /// Whether `pattern` matches `message` the way a rule does (the same
    /// engine and settings as the classifier).
    fn rule_matches(pattern: &str, message: &str) -> bool {
        let compiled = compile_patterns(&[pattern.to_string()])
            .unwrap_or_else(|(p, e)| panic!("pattern {p:?} does not compile: {e}"));
        compiled[0].is_match(message.as_bytes())
    }

    /// Everything a template promises, for one message.
    fn check_message(m: &str) {
        let t = template(m);
        assert_eq!(template(&t), t, "not idempotent for {m:?}");
        assert!(t.len() <= MAX_INPUT, "template of {} bytes", t.len());
        let p = pattern_of(&t);
        assert!(rule_matches(&p, m), "pattern {p:?}\nof template {t:?}\ndoes not match {m:?}");
        assert!(rule_matches(&p, &t), "pattern {p:?} does not match its template {t:?}");
    }

    #[test]
    fn masks_each_kind() {
        #[rustfmt::skip]
        let table = [
            // Digests, with the algorithm or bare.
            ("filesystem layer verification failed for digest sha256:5b8c6fdb2a7fd493f98e8dce30c94f762dca21750eb19909686668dd08e86da2",
             "filesystem layer verification failed for digest <digest>"),
            ("Image is up to date for 5b8c6fdb2a7fd493f98e8dce30c94f762dca21750eb19909686668dd08e86da2",
             "Image is up to date for <digest>"),
            (r#"FATA[0003] failed commit on ref "layer-sha256:b4e744f5f131fb2db0dd7649806f286ecaa3fcda18dc9a4245d83e902100ccb3": commit failed"#,
             r#"FATA[<num>] failed commit on ref "layer-<digest>": commit failed"#),
            // UUIDs.
            ("INFO: event for pod-eb165813-6e8a-4476-a40b-73c0bada26c0: {kubelet minikube} Failed: Error: ErrImagePull",
             "INFO: event for pod-<uuid>: {kubelet minikube} Failed: Error: ErrImagePull"),
            // IPv4 and IPv6, with and without a port: one placeholder.
            ("Get https://10.100.198.200:5000/v1/_ping: dial tcp 10.100.198.200:5000: getsockopt: connection refused",
             "Get <url>: dial tcp <ip>: getsockopt: connection refused"),
            ("Get http://localhost:5000/v2/: dial tcp [::1]:5000: connect: connection refused",
             "Get <url>: dial tcp <ip>: connect: connection refused"),
            ("dial tcp: lookup quay.io on fe80::1%eth0: no such host",
             "dial tcp: lookup <host> on <ip>: no such host"),
            ("read udp 172.17.0.2:46200->10.0.0.2:53: i/o timeout", "read udp <ip>-><ip>: i/o timeout"),
            // Hosts, with a port; file names are not hosts.
            ("Error while pulling image: Get https://index.docker.io/v1/repositories/library/jenkins/images: dial tcp: lookup index.docker.io on 192.168.65.1:53: no such host",
             "Error while pulling image: Get <url>: dial tcp: lookup <host> on <ip>: no such host"),
            ("pinging container registry registry-1.docker.io:443: connection refused",
             "pinging container registry <host>: connection refused"),
            (r#"Access to registry 'myacr.azurecr.io' was denied. Response code: 403."#,
             r#"Access to registry '<host>' was denied. Response code: 403."#),
            ("W0707 09:20:09.034548   59778 kubelet_pods.go:883] Unable to retrieve pull secret",
             "W<time> <time> <num> kubelet_pods.go:<num>] Unable to retrieve pull secret"),
            ("dial unix /var/run/cri-dockerd.sock: connect: no such file or directory",
             "dial unix /var/run/cri-dockerd.sock: connect: no such file or directory"),
            // URLs, whole, without trailing punctuation.
            ("Error response from daemon: Get https://registry-1.docker.io/v2/: net/http: TLS handshake timeout",
             "Error response from daemon: Get <url>: net/http: TLS handshake timeout"),
            (r#"Persistent Image Pull Errors for image "someregistry.com/image:atest". Please check https://aka.ms/cappsimagepullerrors."#,
             r#"Persistent Image Pull Errors for image "<image>". Please check <url>."#),
            // Images: anchored, quoted, bare with a registry, with a digest.
            (r#"Failed to pull image "myacr.azurecr.io/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": rpc error: code = NotFound"#,
             r#"Failed to pull image "<image>": rpc error: code = NotFound"#),
            (r#"Back-off pulling image "nginx""#, r#"Back-off pulling image "<image>""#),
            ("Error response from daemon: pull access denied for minio, repository does not exist",
             "Error response from daemon: pull access denied for <image>, repository does not exist"),
            ("failed to put manifest ghcr.io/apache/arrow-nanoarrow:ubuntu: unauthorized",
             "failed to put manifest <image>: unauthorized"),
            ("Error pulling image 10.1.2.3:5000/team/app:2.0: blob unknown to registry",
             "Error pulling image <image>: blob unknown to registry"),
            ("Error pulling image [fd00::12]:5000/team/app:2.0: blob unknown to registry",
             "Error pulling image <image>: blob unknown to registry"),
            (r#"ERROR: for web  Head "https://ghcr.io/v2/a/b/manifests/1": 'nginx:1.25' is unknown"#,
             r#"ERROR: for web Head "<url>": '<image>' is unknown"#),
            ("no matching manifest for linux/arm64/v8 in the manifest list entries",
             "no matching manifest for linux/arm64/v8 in the manifest list entries"),
            // Numbers, durations, sizes, counts; HTTP status codes stay.
            ("  Warning  Failed     29s (x3 over 1m7s)  kubelet  Error: ErrImagePull",
             "Warning Failed <num> (x<num> over <num>) kubelet Error: ErrImagePull"),
            ("Download failed, retrying (2/5) after 1.5s: read 500ms, 12.5MB of 985.86µs",
             "Download failed, retrying (<num>/<num>) after <num>: read <num>, <num> of <num>"),
            ("unexpected status from HEAD request to https://x.io/v2/a/manifests/1: 403 Forbidden",
             "unexpected status from HEAD request to <url>: 403 Forbidden"),
            ("#7 ERROR: authorization status: 401: authorization failed",
             "#<num> ERROR: authorization status: 401: authorization failed"),
            // Hex ids.
            ("a603fa5e3b41: Retrying in 7 seconds", "<hex>: Retrying in <num> seconds"),
            // Times: RFC 3339, clock, the klog header.
            (r#"time="2018-02-10T00:57:21.041472828Z" level=error msg="Not continuing with pull after error: unknown blob""#,
             r#"time="<time>" level=error msg="Not continuing with pull after error: unknown blob""#),
            (r#"time="2025-01-09 12:00:00.123Z" level=info msg="Pulled image""#,
             r#"time="<time> <time>" level=info msg="Pulled image""#),
            // Names: keyed, quoted, generated, in events; wording kept.
            (r#""Error syncing pod, skipping" err="failed to "StartContainer" for "prepare" with ErrImagePull: "pull QPS exceeded"" pod="odr/odr-operator-c2mlv-clone-repository-pod" podUID="03c1ff62-b2a5-4ed3-aeac-035af202b5b0""#,
             r#""Error syncing pod, skipping" err="failed to "StartContainer" for "<name>" with ErrImagePull: "pull QPS exceeded"" pod="<name>" podUID="<uuid>""#),
            (r#"Unable to retrieve pull secret default/regcred for default/web-5888cf98bf-xzklp due to secret "regcred" not found."#,
             r#"Unable to retrieve pull secret default/regcred for default/<name> due to secret "<name>" not found."#),
            ("spec.containers{apikey-manager}: Error: ErrImagePull", "spec.containers{<name>}: Error: ErrImagePull"),
            (r#"{"message":"manifest for registry:2222 not found: manifest unknown"}"#,
             r#"{"message":"manifest for <image> not found: manifest unknown"}"#),
            ("Error provisioning revision shop-web--v42. ErrorCode: [ImagePullFailure]",
             "Error provisioning revision <name>. ErrorCode: [ImagePullFailure]"),
            ("unable to pull image using Managed identity /subscriptions/6b2fd84b-7b72-4e54-a403-9303ecb51c00/resourceGroups/rg-orders/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders-api for registry acrorders.azurecr.io",
             "unable to pull image using Managed identity <name> for registry <host>"),
            // Secrets never reach a template.
            ("pull failed: Authorization: Bearer abcdefghijklmnopqrstuv rejected",
             "pull failed: Authorization: Bearer <secret> rejected"),
            ("docker login -p hunter2 myacr.azurecr.io failed", "docker login -p <secret> <host> failed"),
            // Whitespace collapsed, ends trimmed.
            ("  Pulling\t\timage   failed \r\n", "Pulling image failed"),
            ("", ""),
        ];
        for (message, want) in table {
            assert_eq!(template(message), want, "message {message:?}");
            check_message(message);
        }
    }

    #[test]
    fn variable_parts_give_one_template() {
        #[rustfmt::skip]
        let groups: &[&[&str]] = &[
            &[
                r#"Failed to pull image "nginx:1.25": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:1.25": failed to resolve reference "docker.io/library/nginx:1.25": docker.io/library/nginx:1.25: not found"#,
                r#"Failed to pull image "myacr.azurecr.io/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": rpc error: code = NotFound desc = failed to pull and unpack image "myacr.azurecr.io/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": failed to resolve reference "myacr.azurecr.io/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": myacr.azurecr.io/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef: not found"#,
                r#"Failed to pull image "localhost:5000/x": rpc error: code = NotFound desc = failed to pull and unpack image "localhost:5000/x:latest": failed to resolve reference "localhost:5000/x:latest": localhost:5000/x:latest: not found"#,
            ],
            &[
                r#"time="2024-02-07T13:36:48.024858788Z" level=info msg="trying next host" error="failed to do request: Head \"https://registry-1.docker.io/v2/library/nginx/manifests/1.25\": dial tcp 54.198.86.24:443: i/o timeout" host=registry-1.docker.io"#,
                r#"time="2025-07-20T23:07:17.337678802+08:00" level=info msg="trying next host" error="failed to do request: Head \"https://myacr.azurecr.io/v2/team/app/manifests/sha256:0123\": dial tcp [2001:db8::7]:443: i/o timeout" host=myacr.azurecr.io:443"#,
            ],
            &[
                "Error response from daemon: Get https://registry-1.docker.io/v2/: dial tcp: lookup registry-1.docker.io on 10.0.0.2:53: no such host",
                "Error response from daemon: Get https://harbor.local.lab:8443/v2/: dial tcp: lookup harbor.local.lab on 192.168.65.1: no such host",
            ],
            &[
                r#"  Warning  Failed     29s (x3 over 67s)  kubelet  Failed to pull image "foundationdb/fdb-kubernetes-operator:v2.6.0": rpc error: code = Unknown desc = Error response from daemon: unauthorized: authentication required"#,
                r#"  Warning  Failed     9m37s (x12 over 2h)  kubelet  Failed to pull image "ghcr.io/org/app:1": rpc error: code = Unknown desc = Error response from daemon: unauthorized: authentication required"#,
            ],
            &[
                r#"E0422 09:53:07.403464 2039060 remote_image.go:167] "PullImage from image service failed" err="rpc error: code = Unknown desc = failed to copy: stream error: stream ID 3; INTERNAL_ERROR" image="registry.k8s.io/pause:3.9""#,
                r#"E1231 23:59:59.000001       7 remote_image.go:167] "PullImage from image service failed" err="rpc error: code = Unknown desc = failed to copy: stream error: stream ID 17; INTERNAL_ERROR" image="nginx""#,
            ],
            &[
                "a603fa5e3b41: Retrying in 7 seconds",
                "115e909eac8f: Retrying in 10 seconds",
            ],
            &[
                r#"Unable to retrieve pull secret web/regcred for web/web-5888cf98bf-xzklp due to secret "regcred" not found."#,
                r#"Unable to retrieve pull secret web/regcred for web/api-7d9c6b5f4-k2npz due to secret "quay-creds" not found."#,
            ],
        ];
        for group in groups {
            let first = template(group[0]);
            for m in &group[1..] {
                assert_eq!(template(m), first, "{m:?}\nvs {:?}", group[0]);
            }
            for m in *group {
                check_message(m);
            }
        }
    }

    #[test]
    fn different_wording_gives_different_templates() {
        let messages = [
            r#"Failed to pull image "nginx": rpc error: code = Unknown desc = Error response from daemon: unauthorized: authentication required"#,
            r#"Failed to pull image "nginx": rpc error: code = Unknown desc = Error response from daemon: denied: requested access to the resource is denied"#,
            r#"Failed to pull image "nginx": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:latest": not found"#,
            r#"Failed to pull image "nginx": rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/nginx:latest": unexpected status from HEAD request to https://x.io/v2/: 401 Unauthorized"#,
            r#"Failed to pull image "nginx": rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/nginx:latest": unexpected status from HEAD request to https://x.io/v2/: 403 Forbidden"#,
            "Error response from daemon: Get https://x.io/v2/: net/http: TLS handshake timeout",
            "Error response from daemon: Get https://x.io/v2/: x509: certificate signed by unknown authority",
            "Error response from daemon: Get https://x.io/v2/: dial tcp: lookup x.io on 10.0.0.2:53: no such host",
            "Error response from daemon: toomanyrequests: You have reached your pull rate limit.",
            "a603fa5e3b41: Retrying in 7 seconds",
            "a603fa5e3b41: Download complete",
        ];
        let mut templates: Vec<String> = messages.iter().map(|m| template(m)).collect();
        templates.sort();
        templates.dedup();
        assert_eq!(templates.len(), messages.len(), "{templates:#?}");
    }

    #[test]
    fn real_messages_keep_every_promise() {
        let messages = real_messages();
        let mut literal_free = Vec::new();
        for m in &messages {
            check_message(m);
            let p = pattern_of(&template(m));
            if literals_of(&p).is_err() {
                literal_free.push(template(m));
            }
        }
        // Only templates that are all placeholders (a bare image, a bare
        // digest line) lack a literal for the prefilter.
        for t in &literal_free {
            let words_without_placeholders = t
                .split(' ')
                .filter(|w| !PLACEHOLDERS.iter().any(|(p, _)| w.contains(p)))
                .filter(|w| w.len() >= 4);
            assert_eq!(words_without_placeholders.count(), 0, "no prefilter literal for {t:?}");
        }
        assert!(literal_free.len() * 50 < messages.len(), "{literal_free:#?}");
    }

    #[test]
    fn looks_at_the_head_only() {
        let line = r#"Failed to pull image "nginx": rpc error: code = Unknown desc = unauthorized"#;
        // The tail past `MAX_INPUT` does not change the template...
        let long = format!("{line} {}", "x".repeat(MAX_INPUT));
        assert_eq!(template(&long), template(line));
        let longer = format!("{line} {} and more", "y".repeat(10 * MAX_INPUT));
        assert_eq!(template(&longer), template(line));
        // ...and a token cut by the limit is dropped, not kept in half.
        let cut = format!("{}{line} 10.0.0.1", " ".repeat(MAX_INPUT - line.len() - 5));
        assert_eq!(template(&cut), template(line));
        // The cut lands on a char boundary whatever the text.
        for pad in 0..4 {
            let m = format!("{}{}", "a".repeat(MAX_INPUT - 2 + pad), "é€😀".repeat(10));
            check_message(&m);
        }
        // Hostile input stays bounded.
        for unit in ["1 ", "a.bc ", "\"a\" ", "1,", "sha256:0 ", "[::1] ", "é", "x"] {
            let m = unit.repeat((1 << 20) / unit.len());
            let t = template(&m);
            assert!(t.len() <= MAX_INPUT, "{unit:?}: {} bytes", t.len());
            check_message(&m);
        }
    }

    #[test]
    fn long_templates_keep_their_distinctive_core() {
        let m = r#"E0102 21:10:37.610356   13696 remote_image.go:180] "PullImage from image service failed" err="rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/library/nginx:latest\": failed to resolve reference \"docker.io/library/nginx:latest\": failed to authorize: failed to fetch oauth token: unexpected status from GET request to https://auth.docker.io/token?scope=repository%3Alibrary%2Fnginx%3Apull&service=registry.docker.io: 403 Forbidden, and then something went sideways in the mirror configuration of the node" image="docker.io/library/nginx:latest""#;
        let t = template(m);
        assert!(t.len() > MAX_CORE, "{t}");
        let p = pattern_of(&t);
        assert!(rule_matches(&p, m), "{p}");
        assert!(literals_of(&p).is_ok(), "{p}");
        // The cause at the end of the chain is kept, the generic start is not.
        assert!(p.contains(r"403\s+Forbidden,"), "{p}");
        assert!(!p.contains("PullImage"), "{p}");
        let words = p.split(r"\s+").count();
        assert!(words < t.split(' ').count(), "{p}");
    }

    #[test]
    fn patterns_escape_and_keep_a_literal() {
        let cases = [
            (
                r#"Error "<url>": x509: (cert) [a+b] {c} $d ^e |f \g"#,
                r#"Error\s+"\S+":\s+x509:\s+\(cert\)\s+\[a\+b\]\s+\{c\}\s+\$d\s+\^e\s+\|f\s+\\g"#,
            ),
            // `Get` is too short for the prefilter, and so is `bad`.
            ("Get <url>: x509: bad", r"x509:\s+bad"),
            (
                "<hex>: Retrying in <num> seconds",
                r"[[:word:]<>]+:\s+Retrying\s+in\s+[[:word:].<>µ]+\s+seconds",
            ),
            (r#""<image>": not found"#, r#""\S+":\s+not\s+found"#),
        ];
        for (t, want) in cases {
            let p = pattern_of(t);
            assert!(p.starts_with(want), "{t:?} gave {p:?}");
            assert!(rule_matches(&p, t), "{p:?} vs {t:?}");
            assert!(literals_of(&p).is_ok(), "{p:?}");
        }
        assert_eq!(pattern_of(""), "");
        // All placeholders: a pattern, but none the loader accepts alone.
        assert!(literals_of(&pattern_of("<image>")).is_err());
    }

    /// Messages built from pieces of real lines, glued by what glues them
    /// in logs: the shapes the masks must agree on.
    fn message() -> impl Strategy<Value = String> {
        const PIECES: &[&str] = &[
            "Failed to pull image",
            "rpc error: code = Unknown desc =",
            "not found",
            "denied",
            "401 Unauthorized",
            "403",
            "i/o timeout",
            "x509:",
            "Retrying in",
            "seconds",
            "pull",
            "docker.io/library/nginx:1.25",
            "nginx",
            "myacr.azurecr.io",
            "registry-1.docker.io:443",
            "localhost:5000/x",
            "[::1]:5000",
            "fe80::1%eth0",
            "::",
            "10.0.0.2:53",
            "10.0.0.256",
            "1.2.3.4.5",
            "sha256:0123abcd",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "03c1ff62-b2a5-4ed3-aeac-035af202b5b0",
            "a603fa5e3b41",
            "2024-01-02T03:04:05.6Z",
            "12:00:00",
            "E0422",
            "1.5s",
            "500ms",
            "985.86µs",
            "(x3 over",
            "42",
            "web-5888cf98bf-xzklp",
            "shop-web--v42",
            "https://x.io/v2/a/manifests/1",
            "docker://quay.io/a/b:1",
            "pod=",
            "image=",
            "podUID=",
            "task.id=",
            "msg=",
            "<num>",
            "<host>",
            "<image>",
            "<ip>",
            "<IP>",
            "<acrname>",
            "REDACTED",
            "Bearer abcdefghijkl",
            "password=hunter2",
            "spec.containers{web}",
            "/subscriptions/x/rg",
            "kubelet_pods.go:883]",
            "a.b",
            "é",
            "😀",
            "\u{0}",
            "\\",
            "'''",
            "<",
            ">",
            "<nu",
            "m>",
            "[",
            "]",
            "%eth0",
            "x",
            "Z",
            "T",
            "+02:00",
            "µs",
            "--",
            "*",
        ];
        const GLUE: &[&str] =
            &[" ", "", ":", ": ", "\"", "'", "/", "=", ".", ",", "  ", "\t", "@", "-"];
        prop::collection::vec((prop::sample::select(PIECES), prop::sample::select(GLUE)), 0..16)
            .prop_map(|parts| parts.into_iter().flat_map(|(p, g)| [p, g]).collect())
    }

    fn config() -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok());
        ProptestConfig {
            cases: cases.unwrap_or(256),
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn built_messages_keep_every_promise(m in message()) {
            check_message(&m);
        }

        #[test]
        fn long_built_messages_keep_every_promise(m in message(), times in 1..400usize) {
            check_message(&m.repeat(times));
        }

        #[test]
        fn any_text_keeps_every_promise(m in any::<String>()) {
            check_message(&m);
        }
    }

    // -----------------------------------------------------------------------
    // Suggestions

    /// Unclassified by the builtin table (checked below): wording no rule
    /// knows yet, with variable parts.
    const UNCLASSIFIED: &[&str] = &[
        r#"time="2024-11-22T09:31:30.001993000Z" level=error msg="Not continuing with pull after error: unsupported Content-Encoding""#,
        r#"time="2024-11-23T10:01:02.5Z" level=error msg="Not continuing with pull after error: unsupported Content-Encoding""#,
        "Error pulling image 10.1.2.3:5000/team/app:2.0: schema 1 image manifests are no longer supported",
        "Error pulling image [fd00::12]:5000/team/app:2.0: schema 1 image manifests are no longer supported",
        "Error pulling image harbor.local.lab/x/y:1: schema 1 image manifests are no longer supported",
        "Error: image pull failed: layer sha256:5b8c6fdb2a7fd493f98e8dce30c94f762dca21750eb19909686668dd08e86da2 is not a valid gzip stream",
        r#"Failed to pull image "docker.io/library/nginx:1.25": rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/nginx:1.25": failed to extract layer sha256:5b8c6fdb2a7fd493f98e8dce30c94f762dca21750eb19909686668dd08e86da2: failed to get stream processor for application/vnd.oci.image.layer.v1.tar+zstd: no processor for media-type: unknown"#,
        "Pulling mssql ... error",
    ];

    /// Group messages by template, most frequent first (ties by template).
    fn suggestions(messages: &[&str]) -> Vec<Suggestion> {
        let mut out: Vec<Suggestion> = Vec::new();
        for m in messages {
            let t = template(m);
            match out.iter_mut().find(|s| s.template == t) {
                Some(s) => {
                    s.count += 1;
                    s.samples.push(m.to_string());
                }
                None => {
                    out.push(Suggestion { template: t, count: 1, samples: vec![m.to_string()] })
                }
            }
        }
        out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.template.cmp(&b.template)));
        out
    }

    #[derive(Deserialize)]
    struct File {
        rules: Vec<RuleRow>,
    }

    #[derive(Deserialize)]
    struct RuleRow {
        id: String,
        cause: String,
        patterns: Vec<String>,
        examples: Vec<String>,
    }

    #[test]
    fn suggested_rules_load_and_pass_the_rule_check() {
        let builtin = Classifier::new(rules::builtin().unwrap()).unwrap();
        let ctx = LineContext::in_year(2024);
        for m in UNCLASSIFIED {
            let v = builtin.classify(&format::parse_line(m, &ctx));
            assert_eq!(v, Verdict::Unclassified, "the builtin rules now classify {m:?}");
        }
        let suggestions = suggestions(UNCLASSIFIED);
        assert_eq!(suggestions[0].count, 3, "{suggestions:#?}");
        let text = suggest_toml(&suggestions);
        assert!(
            text.contains("pullscan --rules") && text.contains("pullscan rules test"),
            "{text}"
        );

        let mut set = rules::builtin().unwrap();
        set.add_rules("suggested.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let c = Classifier::new(set).unwrap();
        let classify = |line: &str| c.classify(&format::parse_line(line, &ctx)).rule();
        let matches =
            |rule: usize, line: &str| c.rule_applies(rule, &format::parse_line(line, &ctx));
        let problems: Vec<String> = rules::check(c.rules(), &classify, &matches)
            .into_iter()
            .filter(|p| p.file == "suggested.toml")
            .map(|p| p.to_string())
            .collect();
        assert!(problems.is_empty(), "{}\n{text}", problems.join("\n"));

        let file: File = toml::from_str(&text).unwrap();
        assert_eq!(file.rules.len(), suggestions.len());
        for (i, (row, s)) in file.rules.iter().zip(&suggestions).enumerate() {
            assert_eq!(row.id, format!("local.suggested-{}", i + 1));
            assert_eq!(row.cause, guess_cause(&s.template));
            assert_eq!(row.patterns, [pattern_of(&s.template)]);
            assert_eq!(row.examples.len(), s.samples.len().min(MAX_EXAMPLES));
            for e in &row.examples {
                assert!(rule_matches(&row.patterns[0], e), "{e}");
            }
        }
        // Each new rule now wins its own lines.
        for m in UNCLASSIFIED {
            let rule = classify(m).map(|r| c.rules().rules[r].origin.clone());
            assert_eq!(rule.as_deref(), Some("suggested.toml"), "{m}");
        }
    }

    #[test]
    fn suggested_toml_quotes_every_string_and_hides_secrets() {
        let samples = [
            "pull failed: it's 'quoted' \"twice\" \\ back\tslash é 😀 \u{1b}[31m and ''' too",
            "pull failed: Authorization: Bearer abcdefghijklmnopqrstuv rejected",
            "pull failed: token ''' here, 'x'",
        ];
        let suggestions: Vec<Suggestion> = samples
            .iter()
            .map(|m| Suggestion { template: template(m), count: 2, samples: vec![m.to_string()] })
            .collect();
        let text = suggest_toml(&suggestions);
        assert!(!text.contains("abcdefghijklmnopqrstuv"), "{text}");
        let file: File = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(file.rules.len(), samples.len());
        for (row, m) in file.rules.iter().zip(samples) {
            assert_eq!(row.examples, [redact(m).into_owned()]);
            assert!(rule_matches(&row.patterns[0], m), "{}", row.patterns[0]);
        }
        let mut set = rules::builtin().unwrap();
        set.add_rules("suggested.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }

    #[test]
    fn suggestions_without_a_literal_are_commented_out() {
        let s = [
            Suggestion { template: "<image>".into(), count: 9, samples: vec!["nginx".into()] },
            Suggestion {
                template: "Pulling <image> failed".into(),
                count: 1,
                samples: vec!["no match".into()],
            },
        ];
        let text = suggest_toml(&s);
        let file: File = toml::from_str(&text).unwrap();
        assert_eq!(file.rules.len(), 1, "{text}");
        assert_eq!(file.rules[0].id, "local.suggested-2");
        assert!(file.rules[0].examples.is_empty(), "a sample the pattern misses is left out");
        assert!(text.contains("# Commented out"), "{text}");
        assert!(text.contains("# TODO: no sample matched"), "{text}");
    }

    #[test]
    fn causes_are_guessed_from_the_words() {
        let table = [
            ("toomanyrequests: You have reached your pull rate limit", "registry.rate-limit"),
            ("unexpected status: 429 Too Many Requests", "registry.rate-limit"),
            ("Get <url>: x509: certificate signed by unknown authority", "tls.certificate"),
            ("dial tcp: lookup <host> on <ip>: no such host", "network.dns"),
            ("unexpected status from HEAD request to <url>: 401", "auth.unauthorized"),
            ("unauthorized: authentication required", "auth.unauthorized"),
            ("denied: requested access to the resource is denied", "auth.denied"),
            ("unexpected status from HEAD request to <url>: 403", "auth.denied"),
            ("manifest for <image> not found: manifest unknown", "image.not-found"),
            ("dial tcp <ip>: i/o timeout", "network.timeout"),
            ("received unexpected HTTP status: 502 Bad Gateway", "registry.unavailable"),
            ("Not continuing with pull after error: unknown blob", "symptom.unspecified"),
        ];
        let set = rules::builtin().unwrap();
        for (t, want) in table {
            assert_eq!(guess_cause(t), want, "{t}");
            assert!(set.cause(want).is_some(), "{want} is not a builtin cause");
        }
    }
}
