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

/// Every pattern of the builtin table is shown winning by an example, no
/// example is won by another rule, and no tie is decided by load order:
/// `rules lint --strict` would pass. A new pattern needs a real example.
#[test]
fn builtin_rules_are_lint_clean() {
    let c = Classifier::new(rules::builtin().unwrap()).unwrap();
    let found = ruletool::findings(&c);
    let listed: Vec<String> = found
        .iter()
        .map(|f| {
            let mut s = format!("{}: {}: {}", f.file, f.rules.join(", "), f.message);
            if let Some(p) = &f.pattern {
                s.push_str(&format!("\n    pattern: '''{p}'''"));
            }
            if let Some(ex) = &f.example {
                s.push_str(&format!("\n    example: {ex}"));
            }
            s
        })
        .collect();
    assert!(found.is_empty(), "{} lint findings:\n{}", found.len(), listed.join("\n"));
}
