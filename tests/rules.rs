//! The builtin rule table checks itself: examples, counterexamples,
//! priorities, prefilter literals, and that every public cause id exists.

use pullscan::classify::Classifier;
use pullscan::format::{self, LineContext};
use pullscan::rules::{self, CauseKind};

/// The stable cause ids of DESIGN.md. Ids are public API: add, never rename.
const DESIGN_CAUSES: &[&str] = &[
    "auth.unauthorized",
    "auth.denied",
    "image.not-found-or-denied",
    "image.not-found",
    "image.bad-reference",
    "image.platform-mismatch",
    "image.integrity",
    "network.dns",
    "network.timeout",
    "network.tls-handshake-timeout",
    "network.connection-reset",
    "network.connection-refused",
    "network.proxy",
    "network.firewall",
    "tls.certificate",
    "tls.plain-http-registry",
    "registry.unavailable",
    "registry.rate-limit",
    "node.disk-full",
    "runtime.daemon-unavailable",
    "config.pull-secret-missing",
    "policy.never-pull",
    "policy.signature",
    "node.image-store",
    "pull.cancelled",
    "registry.unexpected-status",
    "push.payload-too-large",
    "push.blob-upload",
    "symptom.backoff",
    "symptom.unspecified",
];

fn classifier() -> Classifier {
    Classifier::new(rules::builtin().expect("builtin rules load")).expect("prefilter builds")
}

#[test]
fn builtin_rules_pass_their_own_examples() {
    let c = classifier();
    let ctx = LineContext::in_year(2024);
    let classify = |line: &str| {
        let rec = format::parse_line(line, &ctx);
        c.classify(&rec).rule()
    };
    let matches = |rule: usize, line: &str| {
        let rec = format::parse_line(line, &ctx);
        c.rule_applies(rule, &rec)
    };
    let problems = rules::check(c.rules(), &classify, &matches);
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), text.join("\n"));
}

#[test]
fn every_design_cause_has_a_rule() {
    let set = rules::builtin().unwrap();
    for id in DESIGN_CAUSES {
        let cause = set.cause(id).unwrap_or_else(|| panic!("cause {id} missing"));
        assert_eq!(cause.kind, CauseKind::Failure, "{id}");
        assert!(cause.remediation.general.is_some(), "{id} has no general remediation");
        assert!(set.rules.iter().any(|r| set.causes[r.cause].id == *id), "{id} has no rule");
    }
}

#[test]
fn every_example_contains_a_prefilter_literal_of_its_rule() {
    // Redundant with `check` for the one rule, but this is the guarantee
    // the prefilter rests on, so it gets its own named test.
    let set = rules::builtin().unwrap();
    for r in &set.rules {
        for ex in &r.examples {
            let lower = ex.to_ascii_lowercase();
            assert!(
                r.literals.iter().any(|l| lower.contains(l.as_str())),
                "rule {}: no literal of {:?} in {ex:?}",
                r.id,
                r.literals
            );
        }
    }
}
