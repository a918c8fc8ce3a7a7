//! The classifier: which rule, and so which cause, a record's message shows.
//!
//! A [`Classifier`] owns the compiled [`RuleSet`] and the [`Prefilter`] built
//! from its literals. For one record it finds the rules whose literals occur
//! in the message, runs only their regexes, and lets the highest priority
//! win (ties go to the rule loaded first), so the most specific reason on a
//! line beats its wrappers. Lines that mention a pull or push and an error
//! but match no rule are [`Verdict::Unclassified`]: counted, never dropped.
//! Debug-level lines are never failures (token handshakes log 401s there).

use std::sync::LazyLock;

use regex::bytes::Regex;

use crate::prefilter::{Found, Prefilter};
use crate::record::Record;
use crate::rules::{CauseKind, RuleSet};

/// The text of the regex of error words for the unclassified bucket
/// (public for `rules export`).
pub const ERROR: &str = r"(?i)\b(?:err(?:or)?s?|fail(?:ed|ure|s)?|fatal|denied|unable|can ?not|can't|could ?n[o']t|refused|invalid|forbidden|unauthori[sz]ed|time[sd]? ?out|exceeded|rejected|retrying|not found|(?:does )?not exist|(?:not |un)supported|missing|unavailable)\b";

static ERROR_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(ERROR).expect("static regex compiles"));

/// A necessary condition for [`ERROR_RE`] that holds on raw, still escaped
/// text: one of these pieces occurs wherever an error word does, whatever
/// wraps it. No word boundaries (a JSON `\\n` before a word glues an `n`
/// to it in the raw text) and no apostrophes (`can\\u0027t`).
static ERROR_PIECES_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)err|fail|fatal|denied|unable|can|could|refused|invalid|forbidden|unauthori|time|exceeded|rejected|retrying|found|exist|support|missing|unavailable",
    )
    .expect("static regex compiles")
});

/// Build the classifier's and the image finder's static regexes now
/// (they are otherwise built on the first candidate line). The planner
/// calls this on a second thread while it parses the rule table: they
/// were 18 M of the 104 M instructions of a run on the 200 KB bench log.
pub fn warm_up() {
    for re in [&ERROR_RE, &ERROR_PIECES_RE] {
        LazyLock::force(re);
    }
    crate::image::warm_up();
}

/// What a candidate line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A pull or push failed; the rule (index into the rule set) that won.
    Failure {
        /// Winning rule.
        rule: usize,
    },
    /// A pull succeeded.
    Success {
        /// Winning rule.
        rule: usize,
    },
    /// Looks like a failure but is normal: a benign rule won, or a failure
    /// rule matched a debug-level line.
    LookAlike {
        /// The rule that matched.
        rule: usize,
    },
    /// Mentions a pull or push and an error, but no rule matched.
    Unclassified,
    /// A candidate line that is not about a pull failure.
    Unrelated,
}

impl Verdict {
    /// The rule that decided, if one did.
    pub fn rule(self) -> Option<usize> {
        match self {
            Verdict::Failure { rule } | Verdict::Success { rule } | Verdict::LookAlike { rule } => {
                Some(rule)
            }
            Verdict::Unclassified | Verdict::Unrelated => None,
        }
    }

    /// Whether this is reported as a failure (classified or unclassified).
    pub fn is_reported(self) -> bool {
        matches!(self, Verdict::Failure { .. } | Verdict::Unclassified)
    }
}

/// The compiled rule table plus its prefilter.
#[derive(Clone, Debug)]
pub struct Classifier {
    rules: RuleSet,
    prefilter: Prefilter,
}

impl Classifier {
    /// Compile the prefilter for a rule set.
    pub fn new(rules: RuleSet) -> Result<Classifier, String> {
        let lits = rules
            .rules
            .iter()
            .enumerate()
            .flat_map(|(i, r)| r.literals.iter().map(move |l| (l.as_str(), i)));
        let generic: Vec<&str> = rules.context.literals.iter().map(String::as_str).collect();
        let prefilter = Prefilter::new(lits, &generic)?;
        Ok(Classifier { rules, prefilter })
    }

    /// The rule table.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The literal prefilter over raw buffers.
    pub fn prefilter(&self) -> &Prefilter {
        &self.prefilter
    }

    /// Classify one parsed record.
    pub fn classify(&self, record: &Record<'_>) -> Verdict {
        self.classify_found(record, &self.prefilter.rules_in(record.message.as_bytes()))
    }

    /// Classify a record given the literals found in its raw text (a line
    /// before parsing and unescaping holds every literal its message does:
    /// literals are free of the characters escaping rewrites), so a
    /// candidate line is searched once.
    pub fn classify_found(&self, record: &Record<'_>, found: &Found) -> Verdict {
        let text = record.message.as_bytes();
        let Some(rule) = self.best_of(&found.rules, record) else {
            // The pull context cannot match without one of its literals,
            // which are the generic prefilter words: most candidates skip
            // both regexes.
            let pull_error =
                found.generic && ERROR_RE.is_match(text) && self.rules.context.is_pull(text);
            return if pull_error && !self.is_chatter(record) {
                Verdict::Unclassified
            } else {
                Verdict::Unrelated
            };
        };
        match self.rules.cause_of(&self.rules.rules[rule]).kind {
            CauseKind::Failure if self.is_chatter(record) => Verdict::LookAlike { rule },
            CauseKind::Failure => Verdict::Failure { rule },
            CauseKind::Success => Verdict::Success { rule },
            CauseKind::Benign => Verdict::LookAlike { rule },
        }
    }

    /// Whether a record is debug-level chatter: clients log 401s and
    /// retries there during normal pulls. A debug line that says the pull
    /// ended in failure (the context's `ends` patterns: CRI-O logs `Error
    /// pulling image` at debug level) is not chatter.
    fn is_chatter(&self, record: &Record<'_>) -> bool {
        record.level.is_debug() && !self.rules.context.is_end(record.message.as_bytes())
    }

    /// Whether a candidate's raw text (a whole line or a raw CSV row, before
    /// any parsing or unescaping) can only be [`Verdict::Unrelated`]: it
    /// holds no rule literal, and no pull word beside an error word. Such
    /// candidates need no parsing: most `Pulling image` lines are these.
    pub fn surely_unrelated(&self, raw: &[u8], found: &Found) -> bool {
        found.rules.is_empty() && !(found.generic && ERROR_PIECES_RE.is_match(raw))
    }

    /// Whether a record is about a pull, so that generic network and TLS
    /// wording counts: the rule table's pull context (`rules/context.toml`).
    /// Decided on the message alone, never on the envelope or format, so a
    /// message is classified the same whatever wraps it. (A first version
    /// also accepted any bare line, for pasted `docker pull` output; the
    /// full loghub background logs showed why not: plain application logs
    /// are full of `Connection reset by peer`.)
    pub fn has_pull_context(&self, record: &Record<'_>) -> bool {
        self.rules.context.is_about_pull(record.message.as_bytes())
    }

    /// The winning rule on a record's message: highest priority, then load
    /// order.
    pub fn best_rule(&self, record: &Record<'_>) -> Option<usize> {
        self.best_of(&self.prefilter.rules_in(record.message.as_bytes()).rules, record)
    }

    /// The winning rule among `candidates` (rule indices in load order).
    fn best_of(&self, candidates: &[usize], record: &Record<'_>) -> Option<usize> {
        let text = record.message.as_bytes();
        // containers/image puts the errors of the mirrors it tried first in
        // `(Mirrors also failed: [...])`, before the primary's own error:
        // the primary decides, the mirrors only when it names nothing.
        if let Some(primary) = without_mirrors(text) {
            if let Some(rule) = self.best_in(candidates, record, &primary) {
                return Some(rule);
            }
        }
        self.best_in(candidates, record, text)
    }

    /// [`Classifier::best_of`] on one text of the record.
    fn best_in(&self, candidates: &[usize], record: &Record<'_>, text: &[u8]) -> Option<usize> {
        let mut context: Option<bool> = None;
        // Highest priority first, then load order: the first rule that
        // applies wins, and the regexes of the rules it beats (the generic
        // wrappers of a specific error, mostly) never run.
        let mut order: Vec<usize> = candidates.to_vec();
        order.sort_by_key(|&i| (std::cmp::Reverse(self.rules.rules[i].priority), i));
        order.into_iter().find(|&i| {
            let rule = &self.rules.rules[i];
            rule.is_match(text)
                && (!rule.needs_pull_context
                    || *context.get_or_insert_with(|| self.has_pull_context(record)))
        })
    }

    /// Whether one rule matches a record as the classifier applies it: its
    /// regex matches the message and, for generic wording, the line is
    /// about a pull.
    pub fn rule_applies(&self, rule: usize, record: &Record<'_>) -> bool {
        let r = &self.rules.rules[rule];
        r.is_match(record.message.as_bytes())
            && (!r.needs_pull_context || self.has_pull_context(record))
    }
}

/// `text` without containers/image's `(Mirrors also failed: [...]): `
/// part, if it has one. The part ends at the first `]): ` (an IPv6 address
/// inside has `]:` but no `)` after it).
fn without_mirrors(text: &[u8]) -> Option<Vec<u8>> {
    // Built once: `memmem::find` builds its searcher on every call, which
    // cost 1,100 instructions a candidate line (a tenth of classifying it).
    static OPEN: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(b"(Mirrors also failed: ["));
    let start = OPEN.find(text)?;
    let len = memchr::memmem::find(&text[start..], b"]): ")?;
    let mut out = Vec::with_capacity(text.len());
    out.extend_from_slice(&text[..start]);
    out.extend_from_slice(&text[start + len + 4..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_pieces_hold_wherever_an_error_word_does() {
        let words = [
            "err",
            "errors",
            "error",
            "errs",
            "fail",
            "failed",
            "failure",
            "fails",
            "fatal",
            "denied",
            "unable",
            "cannot",
            "can't",
            "could not",
            "couldn't",
            "refused",
            "invalid",
            "forbidden",
            "unauthorized",
            "unauthorised",
            "timeout",
            "timed out",
            "time out",
            "times out",
            "exceeded",
            "rejected",
            "retrying",
            "not found",
            "can not",
            "does not exist",
            "not exist",
            "unsupported",
            "not supported",
            "missing",
            "unavailable",
        ];
        for w in words {
            let plain = format!("pull x: {w}");
            assert!(ERROR_RE.is_match(plain.as_bytes()), "{w} is no error word");
            // Raw forms: JSON escapes around and inside the word, any case.
            for raw in [
                plain.clone(),
                format!(r#"{{"msg":"pull\n{}"}}"#, w.to_ascii_uppercase()),
                format!(r#"msg="pull \"{}\"""#, w.replace('\'', r"\u0027")),
            ] {
                assert!(ERROR_PIECES_RE.is_match(raw.as_bytes()), "raw {raw}");
            }
        }
    }

    #[test]
    fn the_primary_error_wins_over_its_mirrors() {
        let c = Classifier::new(crate::rules::builtin().unwrap()).unwrap();
        let line = "Error: initializing source docker://quay.io/a/b:1: (Mirrors also failed: \
                    [mirror.local/a/b:1: reading manifest 1 in mirror.local/a/b: manifest \
                    unknown]): quay.io/a/b:1: pinging container registry quay.io: Get \
                    \"https://quay.io/v2/\": dial tcp [2600::1]:443: i/o timeout";
        let ctx = crate::format::LineContext::in_year(2024);
        let record = crate::format::parse_line(line, &ctx);
        let rule = c.best_rule(&record).unwrap();
        assert_eq!(c.rules().cause_of(&c.rules().rules[rule]).id, "network.timeout");
        assert!(without_mirrors(b"no mirrors here").is_none());
        // The mirrors decide when the primary's error is unknown.
        let unknown = "initializing source docker://q/a:1: (Mirrors also failed: [m/a:1: \
                       manifest unknown]): q/a:1: something new";
        let record = crate::format::parse_line(unknown, &ctx);
        let rule = c.best_rule(&record).unwrap();
        assert_eq!(c.rules().cause_of(&c.rules().rules[rule]).id, "image.not-found");
    }

    #[test]
    fn pulling_lines_are_surely_unrelated_and_failures_are_not() {
        let c = Classifier::new(crate::rules::builtin().unwrap()).unwrap();
        let unrelated: [&[u8]; 3] = [
            br#"I1122 kubelet[9]: "Pulling image" image="nginx:1.25""#,
            b"Started container 'api'",
            b"pull request #42 merged",
        ];
        let unrelated_by = |raw: &[u8]| c.surely_unrelated(raw, &c.prefilter().rules_in(raw));
        for raw in unrelated {
            assert!(unrelated_by(raw), "{}", String::from_utf8_lossy(raw));
        }
        let not: [&[u8]; 3] = [
            b"Failed to pull image \"x\": rpc error: no such host",
            b"Successfully pulled image \"nginx\" in 1s",
            br#"{"log":"pull\nERROR x"}"#,
        ];
        for raw in not {
            assert!(!unrelated_by(raw), "{}", String::from_utf8_lossy(raw));
        }
    }
}
