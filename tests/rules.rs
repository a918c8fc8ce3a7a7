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

#[test]
fn envelope_keys_do_not_make_every_line_a_candidate() {
    // A literal such as `message` (from a pattern on `"message":"denied"`)
    // matches every journald JSON line's `"MESSAGE":` key and once made
    // every line of a journal a candidate (5x slower). Wrap the background
    // logs in each structured envelope and require a low candidate rate.
    let c = classifier();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/noise");
    let mut lines = Vec::new();
    for e in std::fs::read_dir(root).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        lines.extend(text.lines().map(str::to_string));
    }
    type Wrap = fn(&str) -> String;
    let wrappers: [(&str, Wrap); 3] = [
        ("journald-json", |l| {
            serde_json::json!({"__REALTIME_TIMESTAMP": "1732267560000000", "_HOSTNAME": "node-1",
                "PRIORITY": "6", "SYSLOG_IDENTIFIER": "app", "_SYSTEMD_UNIT": "app.service", "MESSAGE": l})
            .to_string()
        }),
        ("docker-json", |l| {
            serde_json::json!({"log": format!("{l}\n"), "stream": "stderr", "time": "2024-11-22T09:26:00Z"})
                .to_string()
        }),
        ("aca-csv", |l| {
            format!("tenant,\"11/22/2024, 9:26:00.123 AM\",app,env,app--r1,app--r1-x,\"{}\",Reason,Normal,ContainerAppController,1,ContainerAppSystemLogs_CL", l.replace('"', "\"\""))
        }),
    ];
    for (name, wrap) in wrappers {
        let mut hay = String::new();
        for l in &lines {
            hay.push_str(&wrap(l));
            hay.push('\n');
        }
        let mut starts = Vec::new();
        c.prefilter().candidate_lines(hay.as_bytes(), &mut starts);
        let rate = starts.len() as f64 / lines.len() as f64;
        assert!(rate < 0.02, "{name}: {:.1} % of background lines are candidates", rate * 100.0);
    }
}
