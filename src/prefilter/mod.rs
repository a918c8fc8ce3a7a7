//! The literal prefilter: which lines are worth parsing at all.
//!
//! Every rule pattern is reduced to literals that any match must contain
//! ([`literals_of`], using `regex-syntax`'s extractor, so the prefilter is
//! derived from the rules and cannot drift from them). Whole buffers go
//! through a SIMD 4-gram filter over all of them, plus the generic pull
//! words that let unclassified pull lines be counted
//! ([`Prefilter::candidate_lines`], see the `gram` module); only lines it reports are
//! parsed and matched. Single messages go through a case-insensitive
//! Aho-Corasick automaton ([`Prefilter::find`], [`Prefilter::rules_in`]).
//!
//! The raw buffer still has its escapes (`\"`, `\u0027`) while rules match
//! the unescaped message, so literals are cut at characters that escaping
//! changes: the longest escape-free piece of a necessary literal is itself
//! necessary, and it reads the same before and after unescaping.

mod common;
// SIMD intrinsics (AVX2 gathers), checked at run time; every unsafe block
// states its invariant and the scalar path is tested against it.
#[allow(unsafe_code)]
mod gram;

use std::sync::OnceLock;

use aho_corasick::automaton::{Automaton, OverlappingState};
use aho_corasick::nfa::contiguous;
use aho_corasick::{Input, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor};

/// Shortest literal accepted: shorter ones would make most lines candidates.
pub const MIN_LITERAL_LEN: usize = 4;

/// Characters that JSON, logfmt or CSV escaping may rewrite.
const ESCAPED: &[u8] = b"\"'\\<>&+\n\r\t";

/// The lowercase literals that every match of `pattern` contains (at least
/// one of them), or a message saying why there are none usable.
pub fn literals_of(pattern: &str) -> Result<Vec<String>, String> {
    // The automaton is ASCII case-insensitive, so a leading `(?i)` adds
    // nothing to the literals but case variants (which the extractor's
    // limits would cut short): extract from the case-sensitive pattern.
    // Unicode case folding is ignored for the same reason.
    let pattern = pattern.strip_prefix("(?i)").unwrap_or(pattern);
    let ascii =
        regex_syntax::ParserBuilder::new().unicode(false).utf8(false).build().parse(pattern);
    let hir = match ascii {
        Ok(hir) => hir,
        Err(_) => regex_syntax::Parser::new().parse(pattern).map_err(|e| e.to_string())?,
    };
    let mut best: Option<Vec<String>> = None;
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        let mut ex = Extractor::new();
        // Small class limit: `\d` or `[0-9a-f]` end a literal instead of
        // multiplying it into dozens of near-copies.
        ex.kind(kind).limit_class(4).limit_total(256);
        let seq = ex.extract(&hir);
        let Some(lits) = seq.literals() else { continue };
        if lits.is_empty() {
            continue;
        }
        let mut out: Vec<String> = lits
            .iter()
            .map(|l| escape_free_piece(l.as_bytes()).to_ascii_lowercase())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect();
        out.sort();
        out.dedup();
        if out.iter().all(|s| s.len() >= MIN_LITERAL_LEN) {
            let shortest = out.iter().map(String::len).min().unwrap_or(0);
            let prev = best.as_ref().and_then(|b| b.iter().map(String::len).min()).unwrap_or(0);
            if best.is_none() || shortest > prev {
                best = Some(out);
            }
        }
    }
    best.ok_or_else(|| {
        format!(
            "no literal of {MIN_LITERAL_LEN}+ bytes that every match must contain \
             (start or end the pattern with plain text, or give the rule `keywords`)"
        )
    })
}

/// The longest piece of `lit` free of characters that escaping rewrites.
fn escape_free_piece(lit: &[u8]) -> Vec<u8> {
    lit.split(|b| ESCAPED.contains(b)).max_by_key(|p| p.len()).unwrap_or(&[]).to_vec()
}

/// Buffers smaller than this are scanned with the automaton, without
/// building the gram filter.
const GRAMS_MIN_BUFFER: usize = 64 << 10;

/// Push the start of the line of every hit `next_hit(from)` finds, looking
/// again after the end of that line, until it finds none.
fn hit_lines(hay: &[u8], out: &mut Vec<usize>, mut next_hit: impl FnMut(usize) -> Option<usize>) {
    let mut from = 0;
    while from < hay.len() {
        let Some(at) = next_hit(from) else { break };
        out.push(memchr::memrchr(b'\n', &hay[..at]).map_or(0, |i| i + 1));
        from = memchr::memchr(b'\n', &hay[at..]).map_or(hay.len(), |i| at + i + 1);
    }
}

/// A compiled multi-literal prefilter.
#[derive(Clone, Debug)]
pub struct Prefilter {
    /// Every literal, for single texts and small buffers.
    text: TextSearch,
    /// The same literals as a SIMD gram filter for whole buffers, built on
    /// the first large one (`None` inside if a literal is too short for it).
    grams: OnceLock<Option<gram::GramFilter>>,
    /// The literals, for building `grams`.
    lits: Vec<String>,
    /// For each literal, the rules (indices) it stands for.
    owners: Vec<Vec<usize>>,
    /// For each literal, whether it is one of the generic words.
    is_generic: Vec<bool>,
}

/// How single texts (`rules_in`, `find`) are searched for every literal.
#[derive(Clone, Debug)]
enum TextSearch {
    /// A gram table. Through an Aho-Corasick DFA, `rules_in` took 12 % of
    /// a one-thread profile of the 1 GiB bench syslog (cache misses on a
    /// 2.7 MB table).
    Grams(gram::TextGrams),
    /// An automaton, when a literal is shorter than 4 bytes. Building it
    /// for the builtin table when it was not needed was a tenth of the
    /// instructions of a whole run on the 200 KB bench log.
    Automaton(Box<contiguous::NFA>),
}

pub use gram::Tuned;

/// The literals one text holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// The rules any of whose literals occur (sorted, deduplicated).
    pub rules: Vec<usize>,
    /// Whether a generic word (`pull`, `push`) occurs.
    pub generic: bool,
}

impl Found {
    /// Whether no literal at all occurs (the text is no candidate).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && !self.generic
    }
}

impl Prefilter {
    /// Build from `(literal, rule index)` pairs plus owner-less generic words.
    pub fn new<'a>(
        rule_literals: impl IntoIterator<Item = (&'a str, usize)>,
        generic: &[&str],
    ) -> Result<Prefilter, String> {
        let mut lits: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<usize>> = Vec::new();
        let mut is_generic: Vec<bool> = Vec::new();
        let mut add = |lit: &str, owner: Option<usize>| {
            let lit = lit.to_ascii_lowercase();
            let i = match lits.iter().position(|l| *l == lit) {
                Some(i) => i,
                None => {
                    lits.push(lit);
                    owners.push(Vec::new());
                    is_generic.push(false);
                    lits.len() - 1
                }
            };
            match owner {
                Some(o) if !owners[i].contains(&o) => owners[i].push(o),
                Some(_) => {}
                None => is_generic[i] = true,
            }
        };
        for (lit, rule) in rule_literals {
            add(lit, Some(rule));
        }
        // A generic word that contains another adds no line the other
        // does not (`pulling`, `imagepull`, `not continuing with pull` all
        // hold `pull`); only the shortest are searched for.
        let lowered: Vec<String> = generic.iter().map(|g| g.to_ascii_lowercase()).collect();
        for g in &lowered {
            if !lowered.iter().any(|o| o != g && g.contains(o.as_str())) {
                add(g, None);
            }
        }
        // Whole buffers go through `grams`: with a few hundred
        // case-insensitive literals an Aho-Corasick NFA scanned 1 GiB in
        // 9.0 s, a DFA in 3.3 s, a DFA walked in 4 interleaved lanes in
        // 1.5 s and the gram filter in 0.5-0.75 s (one core; 1.4-2.0 GB/s
        // in repeated runs on a noisy machine). Texts and small buffers go
        // through `text`, or the automaton if a literal is too short.
        let text = match gram::TextGrams::new(&lits) {
            Some(t) => TextSearch::Grams(t),
            None => TextSearch::Automaton(Box::new(
                contiguous::Builder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&lits)
                    .map_err(|e| e.to_string())?,
            )),
        };
        Ok(Prefilter { text, grams: OnceLock::new(), lits, owners, is_generic })
    }

    /// The offset of a literal hit at or after `start`, if any: one in the
    /// first line (after `start`) that holds any.
    #[inline]
    pub fn find(&self, haystack: &[u8], start: usize) -> Option<usize> {
        match &self.text {
            TextSearch::Grams(t) => {
                let mut first = None;
                t.each(&haystack[start.min(haystack.len())..], |_, at| {
                    first = Some(start + at);
                    false
                });
                first
            }
            TextSearch::Automaton(ac) => {
                let input = Input::new(haystack).span(start..haystack.len());
                ac.try_find(&input).ok().flatten().map(|m| m.start())
            }
        }
    }

    /// Push the start offset of every line of `hay` that contains a literal,
    /// in order. Lines end at `\n`; no literal contains one.
    pub fn candidate_lines(&self, hay: &[u8], out: &mut Vec<usize>) {
        self.candidate_lines_with(None, hay, out);
    }

    /// A choice of the gram filter's grams for `sample` and the text of
    /// the same input that follows it (see `gram::GramFilter::tuned_for`);
    /// `None` when the sample is too small to tell or the gram filter
    /// cannot hold the literals.
    pub fn tuned_for(&self, sample: &[u8]) -> Option<Tuned> {
        self.grams(sample.len())?.tuned_for(sample)
    }

    /// [`Prefilter::candidate_lines`] with grams chosen beforehand, if any
    /// (else a large `hay` is tuned for itself).
    pub fn candidate_lines_with(&self, tuned: Option<&Tuned>, hay: &[u8], out: &mut Vec<usize>) {
        match self.grams(hay.len()) {
            Some(grams) => grams.candidate_lines(tuned, hay, out),
            None => hit_lines(hay, out, |from| self.find(hay, from)),
        }
    }

    /// The gram filter, for a buffer of `len` bytes; `None` for small ones
    /// (the automaton is enough) or if a literal is too short for it.
    fn grams(&self, len: usize) -> Option<&gram::GramFilter> {
        if len < GRAMS_MIN_BUFFER {
            return None;
        }
        self.grams.get_or_init(|| gram::GramFilter::new(&self.lits)).as_ref()
    }

    /// The rules any of whose literals occur in `text`, and whether a
    /// generic word does.
    pub fn rules_in(&self, text: &[u8]) -> Found {
        let mut found = Found::default();
        let mut add = |lit: usize| {
            found.generic |= self.is_generic[lit];
            found.rules.extend_from_slice(&self.owners[lit]);
        };
        match &self.text {
            TextSearch::Grams(t) => t.each(text, |lit, _| {
                add(lit);
                true
            }),
            TextSearch::Automaton(ac) => {
                let input = Input::new(text);
                let mut state = OverlappingState::start();
                while let Ok(()) = ac.try_find_overlapping(&input, &mut state) {
                    let Some(m) = state.get_match() else { break };
                    add(m.pattern().as_usize());
                }
            }
        }
        found.rules.sort_unstable();
        found.rules.dedup();
        found
    }

    /// Heap bytes the automaton uses, if there is one.
    pub fn memory_usage(&self) -> usize {
        match &self.text {
            TextSearch::Automaton(ac) => ac.memory_usage(),
            TextSearch::Grams(_) => 0,
        }
    }

    /// How many literals the automaton holds.
    pub fn len(&self) -> usize {
        self.owners.len()
    }

    /// Whether the automaton holds no literal.
    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_from_patterns() {
        let cases: &[(&str, &[&str])] = &[
            ("no such host", &["no such host"]),
            ("(?i)TLS handshake timeout", &["tls handshake timeout"]),
            (r#"Failed to pull image "[^"]+""#, &["failed to pull image "]),
            (
                r"(connection reset by peer|broken pipe)",
                &["broken pipe", "connection reset by peer"],
            ),
            (r"received unexpected HTTP status: 5\d\d", &["received unexpected http status: 5"]),
            (r"\S+: no space left on device", &[": no space left on device"]),
            (r"client with IP '[^']*' is not allowed", &["client with ip "]),
        ];
        for (p, want) in cases {
            let got = literals_of(p).unwrap();
            assert_eq!(got, *want, "pattern {p}");
        }
        assert!(literals_of(r".*").is_err());
        assert!(literals_of(r"\d+ \w+").is_err());
    }

    #[test]
    fn candidate_lines_agree_with_find_on_any_cut() {
        let pf = Prefilter::new([("no such host", 0), ("i/o timeout", 1)], &["pull"]).unwrap();
        let mut hay = Vec::new();
        for i in 0..400 {
            let line: &[u8] = match i % 7 {
                0 => b"x lookup r: NO SUCH HOST",
                3 => b"dial tcp: i/o timeout and no such host",
                5 => b"ImagePullBackOff",
                _ => b"nothing to see",
            };
            hay.extend_from_slice(line);
            hay.push(b'\n');
        }
        // Repeat until the gram filter path is exercised too.
        let unit = hay.clone();
        while hay.len() < GRAMS_MIN_BUFFER + 4096 {
            hay.extend_from_slice(&unit);
        }
        for cut in [0, 1, 7, 100, 2000, GRAMS_MIN_BUFFER + 7, hay.len() - 1, hay.len()] {
            let hay = &hay[..cut];
            let mut want = Vec::new();
            let mut pos = 0;
            while let Some(h) = pf.find(hay, pos) {
                let s = memchr::memrchr(b'\n', &hay[..h]).map_or(0, |i| i + 1);
                want.push(s);
                pos = memchr::memchr(b'\n', &hay[h..]).map_or(hay.len(), |i| h + i + 1);
            }
            let mut got = Vec::new();
            pf.candidate_lines(hay, &mut got);
            assert_eq!(got, want, "cut {cut}");
        }
    }

    #[test]
    fn text_grams_answer_as_the_automaton_does() {
        let lits = [("no such host", 0), ("i/o timeout", 1), ("host", 2), ("pull", 3)];
        let pf = Prefilter::new(lits, &["pull", "push"]).unwrap();
        let mut slow = pf.clone();
        slow.text = TextSearch::Automaton(Box::new(
            contiguous::Builder::new().ascii_case_insensitive(true).build(&slow.lits).unwrap(),
        ));
        let texts: [&[u8]; 7] = [
            b"lookup x: I/O timeout; no such HOST",
            b"ImagePullBackOff",
            b"git push",
            b"nothing",
            b"",
            b"hos",
            b"xhost",
        ];
        for t in texts {
            assert_eq!(pf.rules_in(t), slow.rules_in(t), "{:?}", String::from_utf8_lossy(t));
            assert_eq!(pf.find(t, 0).is_some(), slow.find(t, 0).is_some());
        }
        let all = pf.rules_in(texts[0]);
        assert_eq!(all, Found { rules: vec![0, 1, 2], generic: false });
        // `pull` is a rule literal and a generic word at once.
        assert_eq!(pf.rules_in(texts[1]), Found { rules: vec![3], generic: true });
        assert_eq!(pf.rules_in(texts[2]), Found { rules: vec![], generic: true });
    }

    #[test]
    fn finds_case_insensitively_and_maps_rules() {
        let pf = Prefilter::new([("no such host", 0), ("i/o timeout", 1)], &["pull"]).unwrap();
        let hay = b"aaa\nbbb NO SUCH HOST\nccc";
        assert_eq!(pf.find(hay, 0), Some(8));
        assert_eq!(pf.find(hay, 9), None);
        assert_eq!(pf.rules_in(b"lookup x: i/o timeout; no such host").rules, vec![0, 1]);
        assert_eq!(pf.rules_in(b"ImagePullBackOff"), Found { rules: vec![], generic: true });
        assert!(pf.find(b"ImagePullBackOff", 0).is_some());
    }
}
