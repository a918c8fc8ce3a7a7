//! Image references and registries.
//!
//! This module owns [`ImageRef`] (an image reference parsed into registry,
//! repository, tag and digest with docker's normalisation: `nginx` is
//! `docker.io/library/nginx:latest`), [`RegistryKind`] (which hosted
//! registry a host name belongs to, so that remediation can name the right
//! login command), and the two finders the classifier and the format parsers
//! use on free text: [`find_image`] (the reference a pull-failure message is
//! about) and [`find_registry_host`] (the registry a message talks to when it
//! names no image). It knows nothing about log formats or rules; it is pure
//! string work, tolerant of the redacted and malformed references real logs
//! carry (`<acrname>.azurecr.io/<image>:tag`, `xxxxx`), and never panics.

use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use memchr::memchr2;

/// The kind of registry a host belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RegistryKind {
    /// Docker Hub (`docker.io`, `registry-1.docker.io`, ...).
    DockerHub,
    /// Azure Container Registry (`*.azurecr.io`).
    Acr,
    /// Amazon ECR (`*.dkr.ecr.<region>.amazonaws.com`, `public.ecr.aws`).
    Ecr,
    /// Google Container Registry (`gcr.io`, `*.gcr.io`).
    Gcr,
    /// Google Artifact Registry (`*-docker.pkg.dev`).
    Gar,
    /// GitHub Container Registry (`ghcr.io`).
    Ghcr,
    /// Red Hat Quay (`quay.io`).
    Quay,
    /// Microsoft Container Registry (`mcr.microsoft.com`).
    Mcr,
    /// Anything else: a self-hosted or unrecognised registry.
    Private,
}

impl RegistryKind {
    /// The stable name used in output.
    pub fn name(self) -> &'static str {
        match self {
            RegistryKind::DockerHub => "dockerhub",
            RegistryKind::Acr => "acr",
            RegistryKind::Ecr => "ecr",
            RegistryKind::Gcr => "gcr",
            RegistryKind::Gar => "gar",
            RegistryKind::Ghcr => "ghcr",
            RegistryKind::Quay => "quay",
            RegistryKind::Mcr => "mcr",
            RegistryKind::Private => "private",
        }
    }

    /// Recognise a registry from its host name. Case-insensitive; a `:port`
    /// and a trailing dot are ignored.
    pub fn from_host(host: &str) -> RegistryKind {
        let h = strip_port(host.trim()).trim_end_matches('.').to_ascii_lowercase();
        match h.as_str() {
            "docker.io"
            | "registry-1.docker.io"
            | "index.docker.io"
            | "auth.docker.io"
            | "registry.hub.docker.com"
            | "hub.docker.com"
            | "registry.docker.io" => RegistryKind::DockerHub,
            "gcr.io" => RegistryKind::Gcr,
            "ghcr.io" => RegistryKind::Ghcr,
            "quay.io" => RegistryKind::Quay,
            "mcr.microsoft.com" => RegistryKind::Mcr,
            "public.ecr.aws" => RegistryKind::Ecr,
            _ if [".azurecr.io", ".azurecr.cn", ".azurecr.us"].iter().any(|s| h.ends_with(s)) => {
                RegistryKind::Acr
            }
            _ if (h.contains(".dkr.ecr.") || h.contains(".dkr.ecr-fips."))
                && (h.ends_with(".amazonaws.com") || h.ends_with(".amazonaws.com.cn")) =>
            {
                RegistryKind::Ecr
            }
            _ if h.ends_with(".gcr.io") => RegistryKind::Gcr,
            _ if h.ends_with(".pkg.dev") => RegistryKind::Gar,
            _ if h.ends_with(".mcr.microsoft.com") => RegistryKind::Mcr,
            _ => RegistryKind::Private,
        }
    }
}

/// An image reference, normalised the way docker does it.
///
/// `registry` is the host (with `:port` when one was given, lowercased, and
/// `index.docker.io` / `registry-1.docker.io` folded into `docker.io`);
/// `repository` is the path (`library/` is added for Docker Hub official
/// images); `tag` is `latest` only when neither a tag nor a digest was given.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageRef {
    /// Registry host, with port if given: `docker.io`, `localhost:5000`.
    pub registry: String,
    /// Repository path: `library/nginx`, `team/app`.
    pub repository: String,
    /// Tag, if any (`latest` by default when there is no digest either).
    pub tag: Option<String>,
    /// Digest (`sha256:...`), if given.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parse an image reference. Returns `None` for empty strings, strings
    /// with whitespace or characters no reference (or redacted reference)
    /// carries, image ids (`sha256:...`) and structurally broken references
    /// (`/x`, `x:`, `a//b`). Case is kept: logs carry invalid upper-case
    /// references, and naming them is more useful than refusing them.
    pub fn parse(s: &str) -> Option<ImageRef> {
        let s = s.trim();
        let s = s.strip_prefix("docker://").unwrap_or(s);
        if s.is_empty() || s.len() > 512 || !s.bytes().all(is_ref_byte) {
            return None;
        }
        let b = s.as_bytes();
        if matches!(b[0], b'/' | b'-' | b'.' | b':' | b'@')
            || matches!(b[b.len() - 1], b'/' | b':' | b'@' | b'.' | b'-')
            || s.contains("//")
            || s.starts_with("sha256:")
            || (s.len() == 64 && s.bytes().all(|c| c.is_ascii_hexdigit()))
        {
            return None;
        }
        let (name, digest) = match s.split_once('@') {
            Some((n, d)) => {
                let (algo, hex) = d.split_once(':')?;
                if algo.is_empty() || hex.is_empty() || hex.contains([':', '@', '/']) {
                    return None;
                }
                (n, Some(d))
            }
            None => (s, None),
        };
        let last_slash = name.rfind('/');
        let (name, tag) = match name.rfind(':') {
            Some(i) if last_slash.is_none_or(|j| i > j) => (&name[..i], Some(&name[i + 1..])),
            _ => (name, None),
        };
        if name.is_empty() || tag.is_some_and(|t| t.is_empty()) {
            return None;
        }
        let (registry, repo) = match name.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':']) || first.eq_ignore_ascii_case("localhost") =>
            {
                (normalise_registry(first), rest)
            }
            _ => ("docker.io".to_string(), name),
        };
        if repo.is_empty() || repo.contains(':') || registry.starts_with(':') {
            return None;
        }
        let repository = if registry == "docker.io" && !repo.contains('/') {
            format!("library/{repo}")
        } else {
            repo.to_string()
        };
        let tag = match (tag, digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, None) => Some("latest".to_string()),
            (None, Some(_)) => None,
        };
        Some(ImageRef { registry, repository, tag, digest: digest.map(str::to_string) })
    }

    /// The kind of registry this image lives in.
    pub fn kind(&self) -> RegistryKind {
        RegistryKind::from_host(&self.registry)
    }

    /// The registry as a client addresses it, port included
    /// (`localhost:5000`, `docker.io`): what `docker login` takes and what
    /// [`RegistryKind::from_host`] reads.
    pub fn registry_host(&self) -> String {
        self.registry.clone()
    }

    /// The ACR registry name (`myacr` for `myacr.azurecr.io`), for `az acr
    /// login --name`; `None` when the image is not in ACR.
    pub fn acr_name(&self) -> Option<&str> {
        host_acr_name(&self.registry)
    }

    /// The AWS account id and region of an ECR private registry
    /// (`123456789012.dkr.ecr.eu-west-1.amazonaws.com`), for `aws ecr
    /// get-login-password --region`; `None` for other registries.
    pub fn ecr_account_region(&self) -> Option<(String, String)> {
        host_ecr_account_region(&self.registry)
    }
}

impl fmt::Display for ImageRef {
    /// The full normalised form: `registry/repository[:tag][@digest]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// The ACR registry name of a host (`myacr` for `myacr.azurecr.io:443`).
pub fn host_acr_name(host: &str) -> Option<&str> {
    if RegistryKind::from_host(host) != RegistryKind::Acr {
        return None;
    }
    strip_port(host.trim()).split('.').next().filter(|l| !l.is_empty())
}

/// The AWS account id and region of an ECR private registry host.
pub fn host_ecr_account_region(host: &str) -> Option<(String, String)> {
    let h = strip_port(host.trim());
    let mut labels = h.split('.');
    let account = labels.next()?;
    let dkr = labels.next()?;
    let ecr = labels.next()?;
    let region = labels.next()?;
    let ok = !account.is_empty()
        && dkr.eq_ignore_ascii_case("dkr")
        && (ecr.eq_ignore_ascii_case("ecr") || ecr.eq_ignore_ascii_case("ecr-fips"))
        && !region.is_empty()
        && RegistryKind::from_host(h) == RegistryKind::Ecr;
    ok.then(|| (account.to_string(), region.to_ascii_lowercase()))
}

fn is_ref_byte(c: u8) -> bool {
    // `<>` and `*` appear in redacted references (`<acrname>.azurecr.io`,
    // GitHub's `***` masking); keeping them still names the registry kind.
    c.is_ascii_alphanumeric()
        || matches!(c, b'.' | b'_' | b'-' | b'/' | b':' | b'@' | b'+' | b'<' | b'>' | b'*')
}

fn normalise_registry(host: &str) -> String {
    let h = host.to_ascii_lowercase();
    match h.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        _ => h,
    }
}

/// `host:port` → `host`; `[::1]:5000` → `[::1]`.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(i) => &host[..=i],
            None => host,
        };
    }
    match host.find(':') {
        Some(i) => &host[..i],
        None => host,
    }
}

/// How the value after an anchor ends.
#[derive(Clone, Copy)]
enum End {
    /// A quoted value (`"`, or `'` for docker's `Unable to find image 'x'`);
    /// escaped quotes (`\"`) are accepted.
    Quoted(u8),
    /// A bare token ending at whitespace, `,` or `"`.
    Token,
    /// A bare token that must be followed by `:` (`X: more error text`).
    Colon,
    /// A bare token that must be followed by ` not found`.
    NotFound,
    /// A bare token ending at `]`.
    Bracket,
    /// `reading manifest TAG in REPO`, yielding `REPO:TAG`.
    ReadingManifest,
}

/// Anchors for [`find_image`], tried in order. Anchors of quoted values are
/// matched ASCII case-insensitively (kubelet wrote `pulling image` before
/// 1.14; the sandbox path writes `failed to pull image "x"`); anchors of bare
/// values are matched exactly, since a bare value is easier to mistake
/// (`Error while pulling image: Get https://...` is not about image `Get`).
const ANCHORS: &[(&str, End)] = &[
    ("failed to pull image ", End::Quoted(b'"')),
    ("failed to pull and unpack image ", End::Quoted(b'"')),
    ("PullImage ", End::Quoted(b'"')),
    ("failed to resolve reference ", End::Quoted(b'"')),
    ("failed to resolve ref ", End::Colon),
    ("Back-off pulling image ", End::Quoted(b'"')),
    ("Pulling image ", End::Quoted(b'"')),
    ("Successfully pulled image ", End::Quoted(b'"')),
    ("Pulled image ", End::Quoted(b'"')),
    ("Container image ", End::Quoted(b'"')),
    ("Persistent Image Pull Errors for image ", End::Quoted(b'"')),
    ("pull access denied for ", End::Token),
    ("manifest for ", End::NotFound),
    ("Error: image ", End::NotFound),
    ("failed to pull image ", End::Colon),
    ("initializing source docker://", End::Colon),
    ("image=", End::Quoted(b'"')),
    ("image=", End::Token),
    ("Invalid value: ", End::Quoted(b'"')),
    ("reading manifest ", End::ReadingManifest),
    ("ERROR: failed to solve: ", End::Colon),
    ("load metadata for ", End::Token),
    ("Unable to find image ", End::Quoted(b'\'')),
    ("Pulling image: ", End::Token),
    ("Pulled image: ", End::Token),
    ("Trying to access ", End::Quoted(b'"')),
    ("failed to put manifest ", End::Colon),
    ("couldn't parse image reference ", End::Quoted(b'"')),
    ("Failed to apply default image tag ", End::Quoted(b'"')),
    ("The push refers to repository ", End::Bracket),
];

/// The image reference a pull-failure message is about, as written in the
/// message (not normalised; pass it to [`ImageRef::parse`] for that).
///
/// Known anchors are tried in order (`Failed to pull image "X"`,
/// `failed to pull and unpack image "X"`, `PullImage "X"`, `pull access
/// denied for X,`, `image="X"`, ...); `reading manifest TAG in REPO` yields
/// `REPO:TAG`; failing all anchors, a registry manifest URL
/// (`https://HOST/v2/REPO/manifests/REF`) yields `HOST/REPO:REF` (or
/// `@REF` for a digest). Values with whitespace are never returned.
pub fn find_image(message: &str) -> Option<Cow<'_, str>> {
    // One pass tells which anchors occur at all (ignoring case, a superset
    // for the exact ones, which `find` then checks); most lines have none.
    let mut present = [false; ANCHORS.len()];
    for m in ANCHOR_SET.find_overlapping_iter(message) {
        present[m.pattern().as_usize()] = true;
    }
    for (i, &(needle, end)) in ANCHORS.iter().enumerate() {
        if !present[i] {
            continue;
        }
        let quoted = matches!(end, End::Quoted(_));
        let mut from = 0;
        while let Some(at) =
            if quoted { find_ci(message, needle, from) } else { find(message, needle, from) }
        {
            from = at + needle.len();
            if needle == "image=" && at > 0 && is_word_byte(message.as_bytes()[at - 1]) {
                continue;
            }
            if let End::ReadingManifest = end {
                if let Some(v) = reading_manifest(message, from) {
                    return Some(Cow::Owned(v));
                }
            } else if let Some(v) = value_after(message, from, end) {
                return Some(Cow::Borrowed(v));
            }
        }
    }
    manifest_url_image(message).map(Cow::Owned)
}

/// Build the static regexes now (see [`crate::classify::warm_up`]).
pub fn warm_up() {
    LazyLock::force(&ANCHOR_SET);
}

/// Which of [`ANCHORS`] occur in a message, ignoring ASCII case. A DFA:
/// the anchors are few, so its table stays small, and it is searched on
/// every reported line (as a `RegexSet` it took 12 % of the instructions
/// of a one-thread scan of a 20 MB head of the 5 % bench syslog).
static ANCHOR_SET: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(AhoCorasickKind::DFA))
        .build(ANCHORS.iter().map(|&(needle, _)| needle))
        .expect("anchor literals build an automaton")
});

/// The registry host a message talks to, for lines that name no image:
/// `https://HOST/v2/`, `host=HOST`, `lookup HOST on`, `registry 'HOST'`,
/// `for registry HOST`, `pulling from host HOST`, `Get https://HOST/...`.
/// A `:port` is kept (it tells registries apart); quotes and trailing
/// punctuation are stripped.
pub fn find_registry_host(message: &str) -> Option<&str> {
    let b = message.as_bytes();
    // 1. Registry API URLs.
    let mut from = 0;
    while let Some(at) = find_ci(message, "://", from) {
        from = at + 3;
        let host = take_while(message, from, |c| {
            !matches!(c, b'/' | b'"' | b'\'') && !c.is_ascii_whitespace()
        });
        let rest = &b[from + host.len()..];
        if rest.starts_with(b"/v2/") || rest.starts_with(b"/v1/") || rest == b"/v2" {
            if let Some(h) = clean_host(host) {
                return Some(h);
            }
        }
    }
    // 2. Named hosts.
    const NAMED: &[(&str, u8)] = &[
        ("host=", 0),
        ("lookup ", 0),
        ("registry '", b'\''),
        ("for registry ", 0),
        ("pulling from host ", 0),
    ];
    for &(needle, quote) in NAMED {
        let mut from = 0;
        while let Some(at) = find_ci(message, needle, from) {
            from = at + needle.len();
            if needle == "host=" && at > 0 && is_word_byte(b[at - 1]) {
                continue;
            }
            let v = if quote != 0 {
                take_while(message, from, |c| c != quote)
            } else {
                take_while(message, from, |c| !c.is_ascii_whitespace())
            };
            if let Some(h) = clean_host(v) {
                return Some(h);
            }
        }
    }
    // 3. Any request URL.
    for method in ["Get ", "Head ", "Post ", "Put ", "Patch "] {
        let mut from = 0;
        while let Some(at) = find_ci(message, method, from) {
            from = at + method.len();
            let mut i = from;
            if b.get(i) == Some(&b'"') {
                i += 1;
            }
            let rest = &message[i..];
            let scheme = if starts_with_ci(rest, "https://") {
                8
            } else if starts_with_ci(rest, "http://") {
                7
            } else {
                continue;
            };
            let host = take_while(message, i + scheme, |c| {
                !matches!(c, b'/' | b'"' | b'\'' | b'?') && !c.is_ascii_whitespace()
            });
            if let Some(h) = clean_host(host) {
                return Some(h);
            }
        }
    }
    None
}

/// Extract the value after an anchor ending at `from`.
fn value_after(s: &str, from: usize, end: End) -> Option<&str> {
    let b = s.as_bytes();
    let v = match end {
        End::Quoted(q) => {
            let mut i = from;
            while b.get(i) == Some(&b'\\') {
                i += 1;
            }
            if b.get(i) != Some(&q) {
                return None;
            }
            let v = take_while(s, i + 1, |c| c != q && c != b'\n');
            v.trim_end_matches('\\')
        }
        End::Token => {
            take_while(s, from, |c| !c.is_ascii_whitespace() && !matches!(c, b',' | b'"' | b'\\'))
                .trim_end_matches(['.', ':', ')'])
        }
        End::NotFound => {
            let v = take_while(s, from, |c| !c.is_ascii_whitespace() && !matches!(c, b'"' | b'\\'));
            if !s.get(from + v.len()..).is_some_and(|r| r.starts_with(" not found")) {
                return None;
            }
            v
        }
        End::Colon => {
            let v = take_while(s, from, |c| !c.is_ascii_whitespace() && !matches!(c, b'"' | b'\\'));
            v.strip_suffix(':')?
        }
        End::Bracket => {
            if b.get(from) != Some(&b'[') {
                return None;
            }
            take_while(s, from + 1, |c| c != b']' && !c.is_ascii_whitespace())
        }
        End::ReadingManifest => return None,
    };
    plausible_image(v).then_some(v)
}

/// A loose check: something that could be (or stand for) an image reference.
fn plausible_image(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 512
        && !v.bytes().any(|c| c.is_ascii_whitespace() || c.is_ascii_control())
        && v.bytes().any(|c| c.is_ascii_alphanumeric())
        && !v.contains("://")
}

/// `reading manifest TAG in REPO` (containers/image) → `REPO:TAG`.
fn reading_manifest(s: &str, at: usize) -> Option<String> {
    let tag = take_while(s, at, |c| !c.is_ascii_whitespace());
    let rest = s.get(at + tag.len()..)?;
    let rest = rest.strip_prefix(" in ")?;
    let repo = take_while(rest, 0, |c| !c.is_ascii_whitespace() && c != b'"');
    let repo = repo.trim_end_matches([':', ',', '.']);
    if !plausible_image(tag) || !plausible_image(repo) {
        return None;
    }
    let sep = if tag.contains(':') { '@' } else { ':' };
    Some(format!("{repo}{sep}{tag}"))
}

/// `https://HOST/v2/REPO/manifests/REF` → `HOST/REPO:REF` or `HOST/REPO@REF`.
fn manifest_url_image(s: &str) -> Option<String> {
    let mut from = 0;
    while let Some(at) = find_ci(s, "://", from) {
        from = at + 3;
        let url = take_while(s, from, |c| {
            !c.is_ascii_whitespace() && !matches!(c, b'"' | b'\'' | b'?' | b',' | b'\\')
        });
        let Some((host, path)) = url.split_once("/v2/") else { continue };
        let Some((repo, reference)) = path.rsplit_once("/manifests/") else { continue };
        let reference = reference.trim_end_matches([':', '.', ')']);
        if host.is_empty() || host.contains('/') || repo.is_empty() || reference.is_empty() {
            continue;
        }
        let sep = if reference.contains(':') { '@' } else { ':' };
        let v = format!("{host}/{repo}{sep}{reference}");
        if plausible_image(&v) {
            return Some(v);
        }
    }
    None
}

fn clean_host(v: &str) -> Option<&str> {
    let v = v.trim_start_matches(['"', '\'', '(', '[']);
    let v = v.trim_end_matches(['"', '\'', '.', ',', ';', ':', ')', ']', '\\']);
    let ok = !v.is_empty()
        && v.bytes().any(|c| c.is_ascii_alphanumeric())
        && v.bytes().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, b'.' | b'-' | b'_' | b':' | b'[' | b']' | b'<' | b'>')
        });
    ok.then_some(v)
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.'
}

/// The longest run of bytes from `from` satisfying `keep`. Stops only at
/// ASCII bytes, so the slice is always on a char boundary.
fn take_while(s: &str, from: usize, keep: impl Fn(u8) -> bool) -> &str {
    let Some(rest) = s.get(from..) else { return "" };
    let end = rest.bytes().position(|c| c.is_ascii() && !keep(c)).unwrap_or(rest.len());
    &rest[..end]
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.as_bytes().get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Exact substring search from `from`.
fn find(hay: &str, needle: &str, from: usize) -> Option<usize> {
    memchr::memmem::find(hay.as_bytes().get(from..)?, needle.as_bytes()).map(|i| i + from)
}

/// ASCII case-insensitive substring search from `from`; `needle` must be
/// ASCII and start with a byte that is not a space.
pub(crate) fn find_ci(hay: &str, needle: &str, from: usize) -> Option<usize> {
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    let first = *n.first()?;
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut i = from;
    while i + n.len() <= h.len() {
        let j = i + memchr2(lo, up, h.get(i..)?)?;
        if h.get(j..j + n.len()).is_some_and(|w| w.eq_ignore_ascii_case(n)) {
            return Some(j);
        }
        i = j + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_kinds() {
        let table = [
            ("docker.io", RegistryKind::DockerHub),
            ("registry-1.docker.io:443", RegistryKind::DockerHub),
            ("Index.Docker.IO", RegistryKind::DockerHub),
            ("auth.docker.io", RegistryKind::DockerHub),
            ("registry.hub.docker.com", RegistryKind::DockerHub),
            ("myacr.azurecr.io", RegistryKind::Acr),
            ("someacr.azurecr.cn", RegistryKind::Acr),
            ("gov.azurecr.us", RegistryKind::Acr),
            ("123456789012.dkr.ecr.eu-west-2.amazonaws.com", RegistryKind::Ecr),
            ("1234.dkr.ecr.cn-north-1.amazonaws.com.cn", RegistryKind::Ecr),
            ("public.ecr.aws", RegistryKind::Ecr),
            ("gcr.io", RegistryKind::Gcr),
            ("eu.gcr.io", RegistryKind::Gcr),
            ("k8s.gcr.io", RegistryKind::Gcr),
            ("us-central1-docker.pkg.dev", RegistryKind::Gar),
            ("europe-west2-docker.pkg.dev", RegistryKind::Gar),
            ("ghcr.io", RegistryKind::Ghcr),
            ("quay.io", RegistryKind::Quay),
            ("mcr.microsoft.com", RegistryKind::Mcr),
            ("registry.k8s.io", RegistryKind::Private),
            ("localhost:5000", RegistryKind::Private),
            ("amazonaws.com", RegistryKind::Private),
            ("", RegistryKind::Private),
        ];
        for (host, want) in table {
            assert_eq!(RegistryKind::from_host(host), want, "{host}");
        }
        assert_eq!(RegistryKind::Gar.name(), "gar");
    }

    #[test]
    fn parse_refs() {
        // (input, Display of the parsed ref or "" for None)
        let table = [
            ("nginx", "docker.io/library/nginx:latest"),
            ("user/app:1", "docker.io/user/app:1"),
            ("docker.io/nginx:1.23.4", "docker.io/library/nginx:1.23.4"),
            (
                "index.docker.io/jaegertracing/all-in-one@sha256:8d0b",
                "docker.io/jaegertracing/all-in-one@sha256:8d0b",
            ),
            ("registry-1.docker.io/library/rust", "docker.io/library/rust:latest"),
            ("localhost:5000/x", "localhost:5000/x:latest"),
            ("localhost/x:2", "localhost/x:2"),
            ("a.b.c/image-0.1", "a.b.c/image-0.1:latest"),
            ("<acrname>.azurecr.io/<image>:tag", "<acrname>.azurecr.io/<image>:tag"),
            ("docker://quay.io/voucher/vouch-proxy:latest", "quay.io/voucher/vouch-proxy:latest"),
            ("registry:2222", "docker.io/library/registry:2222"),
            ("ghcr.io/a/b:v1@sha256:abc", "ghcr.io/a/b:v1@sha256:abc"),
            ("MyAcr.AzureCR.io/App:Tag", "myacr.azurecr.io/App:Tag"),
            (
                "123.dkr.ecr.eu-west-2.amazonaws.com/repo:2024.42.27+1234a5c05",
                "123.dkr.ecr.eu-west-2.amazonaws.com/repo:2024.42.27+1234a5c05",
            ),
            ("xxxxx", "docker.io/library/xxxxx:latest"),
            ("", ""),
            ("   ", ""),
            ("a b", ""),
            ("/cloudfoundry/75f1:a28a", ""),
            ("cgm_nl/cgmherhaal:", ""),
            ("sha256:367cdc8433a4581c3c9d01501b92ecd79666d23c41232013a7b11e5f7acb7eed", ""),
            ("https://ghcr.io/x", ""),
            ("a//b", ""),
            ("x@sha256", ""),
            (
                "***.dkr.ecr.eu-west-3.amazonaws.com/***",
                "***.dkr.ecr.eu-west-3.amazonaws.com/***:latest",
            ),
            ("\"quoted\"", ""),
            ("host/a:b/c:d", ""),
        ];
        for (input, want) in table {
            let got = ImageRef::parse(input).map(|r| r.to_string()).unwrap_or_default();
            assert_eq!(got, want, "{input:?}");
        }
        let r = ImageRef::parse("ghcr.io/a/b@sha256:abc").expect("parses");
        assert_eq!((r.tag, r.digest.as_deref()), (None, Some("sha256:abc")));
    }

    #[test]
    fn ref_helpers() {
        let r = ImageRef::parse("myacr.azurecr.io:443/app").expect("parses");
        assert_eq!(
            (r.kind(), r.registry_host().as_str(), r.acr_name()),
            (RegistryKind::Acr, "myacr.azurecr.io:443", Some("myacr"))
        );
        let r = ImageRef::parse("840364872350.dkr.ecr.us-west-2.amazonaws.com/amazon/x:1")
            .expect("parses");
        assert_eq!(r.ecr_account_region(), Some(("840364872350".into(), "us-west-2".into())));
        assert_eq!(r.acr_name(), None);
        assert_eq!(
            ImageRef::parse("public.ecr.aws/x/y").and_then(|r| r.ecr_account_region()),
            None
        );
        assert_eq!(ImageRef::parse("nginx").map(|r| r.kind()), Some(RegistryKind::DockerHub));
    }

    #[test]
    fn find_image_in_real_messages() {
        let table = [
            (r#"Failed to pull image "someacr.azurecr.io/image:tag": rpc error: code = Unknown desc = failed to pull and unpack image "x""#, "someacr.azurecr.io/image:tag"),
            (r#"Persistent Image Pull Errors for image "someregistry.com/image:atest". Please check"#, "someregistry.com/image:atest"),
            (r#"Pulling image "docker.io/nginx:1.23.4""#, "docker.io/nginx:1.23.4"),
            (r#"'Invalid value: "ghcr.io/ORG/USERNAME:TAG": GET https:?example.azurecr.io"#, "ghcr.io/ORG/USERNAME:TAG"),
            (r#"Failed to pull image "<acrname>.azurecr.io/<imagae-name>:02b6d84": rpc error"#, "<acrname>.azurecr.io/<imagae-name>:02b6d84"),
            ("#19 ERROR: invalid reference format: repository name must be lowercase", ""),
            ("ERROR: failed to solve: ghcr.io/celestiaorg/celestia-app-standalone:v3.10.0-rc0: failed to resolve source metadata for ghcr.io/x: not found", "ghcr.io/celestiaorg/celestia-app-standalone:v3.10.0-rc0"),
            ("ERROR: failed to solve: error writing layer blob: maximum timeout reached", ""),
            (" => ERROR [internal] load metadata for docker.io/library/builder:latest      2.4s", "docker.io/library/builder:latest"),
            ("Error response from daemon: pull access denied for minio, repository does not exist", "minio"),
            ("pull access denied for 123123.dkr.ecr.us-east-2.amazonaws.com/test, repository does not exist", "123123.dkr.ecr.us-east-2.amazonaws.com/test"),
            ("WARNING: Cannot pull the latest version of image ubuntu16.04.python:packages : Error: image library/ubuntu16.04.python not found", "library/ubuntu16.04.python"),
            ("ubuntu-2: Pulling toto:latest... : Error: image library/toto:latest not found", "library/toto:latest"),
            (r#"{"message":"manifest for registry:2222 not found: manifest unknown: manifest unknown"}"#, "registry:2222"),
            (r#"msg="PullImage \"registry.k8s.io/kube-apiserver-amd64:v1.30.0\" failed" error="rpc error""#, "registry.k8s.io/kube-apiserver-amd64:v1.30.0"),
            (r#"PullImage "registry.k8s.io/pause:3.9""#, "registry.k8s.io/pause:3.9"),
            (r#"msg="PullImage xxxxx" failed" error="rpc error: code = NotFound desc = failed to pull and unpack image xxxx": failed"#, ""),
            (r#"Pulled image "ghcr.io/flannel-io/flannel-cni-plugin:v1.7.1-flannel1" with image id"#, "ghcr.io/flannel-io/flannel-cni-plugin:v1.7.1-flannel1"),
            ("Pulled image: docker.io/calico/kube-controllers@sha256:0954  file=\"server/image_pull.go:122\"", "docker.io/calico/kube-controllers@sha256:0954"),
            ("Error: initializing source docker://quay.io/voucher/vouch-proxy:latest: reading manifest latest in quay.io/voucher/vouch-proxy: unauthorized", "quay.io/voucher/vouch-proxy:latest"),
            ("Pull image still failed due to error: reading manifest base in image-registry.openshift-image-registry.svc:5000/ci-op-4dh1trpi/pipeline: manifest unknown", "image-registry.openshift-image-registry.svc:5000/ci-op-4dh1trpi/pipeline:base"),
            ("CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref 366590864501.dkr.ecr.us-west-2.amazonaws.com/bedrock:latest@sha256:5de4: unexpected status", "366590864501.dkr.ecr.us-west-2.amazonaws.com/bedrock:latest@sha256:5de4"),
            ("\t[ERROR ImagePull]: failed to pull image registry.k8s.io/kube-apiserver:v1.22.17: output: Error response", "registry.k8s.io/kube-apiserver:v1.22.17"),
            (r#"Back-off restarting failed container"#, ""),
            (r#"Error syncing pod ("x_ns(1)"), skipping: failed to "StartContainer" for "registry-proxy" with ImagePullBackOff: "Back-off pulling image "gcr.io/google_containers/kube-registry-proxy:0.4"""#, "gcr.io/google_containers/kube-registry-proxy:0.4"),
            (r#"spec.containers{headscale}: Container image "headscale/headscale:v0.29.3" already present"#, "headscale/headscale:v0.29.3"),
            (r#""PullImage from image service failed" err="rpc error: code = Unimplemented" image="registry.k8s.io/kube-apiserver:v1.26.0""#, "registry.k8s.io/kube-apiserver:v1.26.0"),
            (r#"POST /v1.41/images/create?fromImage=localhost%3A4000%2Fraketa image=nginx"#, "nginx"),
            ("  Normal   Pulling    29s (x3 over 1m)  kubelet, ip-10  pulling image \"optaplanner/optaplanner-demo:snapshot-190326\"", "optaplanner/optaplanner-demo:snapshot-190326"),
            ("Error response from daemon: Get https://cloudtechnologies.azurecr.io/v2/poc-k8s-web/manifests/20181007.1: unauthorized", "cloudtechnologies.azurecr.io/poc-k8s-web:20181007.1"),
            ("error: GET https://ghcr.io/v2/jimbugwadia/pause/manifests/sha256:b31b: MANIFEST_UNKNOWN: manifest unknown", "ghcr.io/jimbugwadia/pause@sha256:b31b"),
            (r#"Error response from daemon: Head "https://europe-west2-docker.pkg.dev/v2/<PROJECT_ID>/ml/app/manifests/4.19.5": denied"#, "europe-west2-docker.pkg.dev/<PROJECT_ID>/ml/app:4.19.5"),
            ("Error response from daemon: Get https://registry-1.docker.io/v2/: net/http: TLS handshake timeout", ""),
            ("Unable to find image 'hello-world:latest' locally", "hello-world:latest"),
            ("The push refers to repository [***.dkr.ecr.eu-west-3.amazonaws.com/***]", "***.dkr.ecr.eu-west-3.amazonaws.com/***"),
            ("Checking image status: jc21/nginx-proxy-manager:latest", ""),
            ("Error while pulling image: Get https://index.docker.io/v1/repositories/library/jenkins/images: dial tcp", ""),
            ("no matching manifest for linux/arm64/v8 in the manifest list entries", ""),
            ("Warning  Failed  29s (x4 over 59s)  kubelet, x  Error: image not known", ""),
            ("failed to put manifest ghcr.io/apache/arrow-nanoarrow:ubuntu: unauthorized", "ghcr.io/apache/arrow-nanoarrow:ubuntu"),
            (r#"Failed to apply default image tag "/cloudfoundry/75f1:a28a": couldn't parse image reference "/cloudfoundry/75f1:a28a": invalid reference format"#, "/cloudfoundry/75f1:a28a"),
            ("", ""),
            ("failed to pull image \"", ""),
            ("image=", ""),
        ];
        for (msg, want) in table {
            assert_eq!(find_image(msg).unwrap_or_default(), want, "{msg}");
        }
    }

    #[test]
    fn find_registry_host_in_real_messages() {
        let table = [
            ("Error response from daemon: Get https://registry-1.docker.io/v2/: net/http: TLS handshake timeout", "registry-1.docker.io"),
            (r#"error response from daemon: Get "https://.azurecr.io/v2/": denied"#, ".azurecr.io"),
            ("Error response from daemon: Get https://dockerregistry:port/v2/: net/http: request canceled", "dockerregistry:port"),
            ("Error response from daemon: Get https://registry.corp.acme.com/v1/_ping: dial tcp: lookup registry.corp.acme.com on 192.168.1.1:53: no such host", "registry.corp.acme.com"),
            ("Error while pulling image: Get https://index.docker.io/v1/repositories/library/jenkins/images: dial tcp: lookup index.docker.io: no such host.", "index.docker.io"),
            (r#"level=info msg="fetch failed" error="pull access denied" host=registry.aliyuncs.com"#, "registry.aliyuncs.com"),
            ("dial tcp: lookup registry-1.docker.io on 192.168.65.1:53: server misbehaving", "registry-1.docker.io"),
            ("Access to registry '<acr-name>.azurecr.io' was denied. Response code: 403.", "<acr-name>.azurecr.io"),
            ("unable to pull image using Managed identity /subscriptions/x for registry acrappnpd.azurecr.io';..", "acrappnpd.azurecr.io"),
            ("failed to resolve reference \"x\": pulling from host registry.app.xxx.net failed with status code", "registry.app.xxx.net"),
            ("Get http://localhost:5000/v2/: dial tcp [::1]:5000: connect: connection refused", "localhost:5000"),
            ("error pulling image configuration: Get https://dseasb33srnrn.cloudfront.net/registry-v2/docker/registry/v2/blobs/sha256/a6/data?Expires=1: dial tcp", "dseasb33srnrn.cloudfront.net"),
            ("http.request.host=registry.thinknode.dev http.request.id=e210", ""),
            ("denied: requested access to the resource is denied", ""),
            ("", ""),
        ];
        for (msg, want) in table {
            assert_eq!(find_registry_host(msg).unwrap_or_default(), want, "{msg}");
        }
    }

    #[test]
    fn find_ci_cases() {
        assert_eq!(find_ci("xx Pulling IMAGE", "pulling image", 0), Some(3));
        assert_eq!(find_ci("abc", "abcd", 0), None);
        assert_eq!(find_ci("ééé pull", "pull", 0), Some(7));
        assert_eq!(find_ci("pull", "pull", 9), None);
    }
}
