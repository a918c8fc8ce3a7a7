//! The classifier on `parse_line` of any bytes, and the prefilter on the
//! raw bytes.
//!
//! Properties: no panic; `Prefilter::rules_in` gives sorted, deduplicated
//! rule indices of the table; the verdict's rule is the table's, the one
//! `best_rule` picks, and one `rule_applies` to the record.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pullscan::classify::Classifier;
use pullscan::format::{parse_line, LineContext};
use pullscan::prefilter::Found;
use pullscan::rules;

fn classifier() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| Classifier::new(rules::builtin().unwrap()).unwrap())
}

fn check_found(f: &Found, n: usize) {
    assert!(f.rules.windows(2).all(|w| w[0] < w[1]), "not sorted / deduplicated: {f:?}");
    assert!(f.rules.iter().all(|&r| r < n), "rule index out of range: {f:?}");
}

fuzz_target!(|data: &[u8]| {
    let c = classifier();
    let n = c.rules().rules.len();
    let raw = c.prefilter().rules_in(data);
    check_found(&raw, n);
    let text = String::from_utf8_lossy(data);
    let ctx = LineContext::in_year(2024);
    let rec = parse_line(&text, &ctx);
    let found = c.prefilter().rules_in(rec.message.as_bytes());
    check_found(&found, n);
    let verdict = c.classify(&rec);
    assert_eq!(verdict, c.classify_found(&rec, &found));
    assert_eq!(verdict.rule(), c.best_rule(&rec));
    if let Some(rule) = verdict.rule() {
        assert!(rule < n);
        assert!(c.rule_applies(rule, &rec));
        let _ = c.rules().cause_of(&c.rules().rules[rule]);
    }
    // As the scanner classifies: with what the raw line holds.
    let _ = c.classify_found(&rec, &raw);
    let _ = c.surely_unrelated(data, &raw);
});
