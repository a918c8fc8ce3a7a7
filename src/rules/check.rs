//! Rules test themselves: every example must be won by its rule's cause and
//! no counterexample may be classified as that cause.
//!
//! One checker serves `cargo test` (on the builtin table) and, later, users'
//! `pullscan rules test DIR`. The checker is given the whole-line classifier
//! as a function so that examples are tested the way real lines are: parsed,
//! unescaped, prefiltered and matched against every rule, the most specific
//! winning. This keeps `rules` below `classify` in the module order.

use std::fmt;

use super::{CauseKind, RuleSet};

/// One failed expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The file that defined the rule (or cause).
    pub file: String,
    /// The rule or cause id.
    pub rule: String,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: rule {}: {}", self.file, self.rule, self.message)
    }
}

/// Check every rule of `set`.
///
/// `classify(line)` returns the index of the rule that wins on a whole log
/// line, or `None`; `matches(rule, line)` tells whether one rule matches the
/// line's message as the classifier sees it.
pub fn check(
    set: &RuleSet,
    classify: &dyn Fn(&str) -> Option<usize>,
    matches: &dyn Fn(usize, &str) -> bool,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, rule) in set.rules.iter().enumerate() {
        let mut say = |message: String| {
            problems.push(Problem { file: rule.origin.clone(), rule: rule.id.clone(), message })
        };
        if rule.examples.is_empty() {
            say("rule has no examples".into());
        }
        let cause = &set.causes[rule.cause];
        for ex in &rule.examples {
            if !matches(i, ex) {
                say(format!("does not match its example {ex:?}"));
                continue;
            }
            let lower = ex.to_ascii_lowercase();
            if !rule.literals.iter().any(|l| lower.contains(l.as_str())) {
                say(format!("no prefilter literal {:?} occurs in example {ex:?}", rule.literals));
            }
            match classify(ex) {
                Some(w) if set.rules[w].cause == rule.cause => {}
                Some(w) => say(format!(
                    "example {ex:?} is won by rule {} (cause {}, priority {}) over this rule \
                     (cause {}, priority {})",
                    set.rules[w].id,
                    set.causes[set.rules[w].cause].id,
                    set.rules[w].priority,
                    cause.id,
                    rule.priority
                )),
                None => say(format!("example {ex:?} is not classified at all")),
            }
        }
        // A counterexample may match this rule's regex as long as the line
        // is not reported as this rule's cause (a look-alike rule or the
        // pull-context condition may be what protects it).
        for cx in &rule.counterexamples {
            if let Some(w) = classify(cx).filter(|&w| set.rules[w].cause == rule.cause) {
                let by =
                    if w == i { String::new() } else { format!(" (by rule {})", set.rules[w].id) };
                say(format!("counterexample {cx:?} is classified as {}{by}", cause.id));
            }
        }
    }
    for cause in &set.causes {
        let used = set.rules.iter().any(|r| set.causes[r.cause].id == cause.id);
        if cause.kind == CauseKind::Failure && !used {
            problems.push(Problem {
                file: cause.origin.clone(),
                rule: cause.id.clone(),
                message: "cause has no rule".into(),
            });
        }
    }
    problems
}
