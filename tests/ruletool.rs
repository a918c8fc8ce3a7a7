//! `rules list` of the builtin table, snapshotted: rule and cause ids are
//! public API (`--fail-on`, JSON consumers), so renaming or removing one
//! must show in review as a change of `tests/snapshots/`.

use pullscan::classify::Classifier;
use pullscan::rules;
use pullscan::ruletool;

fn list(json: bool) -> String {
    let set = rules::builtin().expect("builtin rules load");
    let mut out = Vec::new();
    ruletool::list(&set, json, &mut out).expect("writes to a Vec");
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn rules_list() {
    insta::assert_snapshot!("rules_list", list(false));
}

#[test]
fn rules_list_json() {
    insta::assert_snapshot!("rules_list_json", list(true));
}

#[test]
fn rules_test_passes_on_the_builtin_table() {
    let c = Classifier::new(rules::builtin().unwrap()).unwrap();
    let mut out = Vec::new();
    let ok = ruletool::test(&c, None, false, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(ok, "{text}");
    assert!(text.ends_with(": ok\n"), "{text}");
}
