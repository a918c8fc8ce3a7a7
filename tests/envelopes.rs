//! The envelope must not change the classification: a message gets the same
//! cause bare and wrapped in any of the envelopes pullscan unwraps.
//!
//! Every labelled failure line of `corpus/real/seed.log` and
//! `corpus/own/own.log` (label not `none`) is classified bare with the
//! library, then wrapped in each envelope of [`ENVELOPES`] (RFC 3164
//! syslog, journald short-iso, RFC 5424, CRI, journald `-o json`, docker
//! json-file) and classified again. Every difference is collected and
//! reported in one failure: line, envelope, bare cause, wrapped cause.
//!
//! The cause is the winning rule's cause id; a look-alike verdict (a benign
//! rule, or a failure rule on a debug line) is marked `(look-alike)`, a pull
//! failure no rule knows is `unclassified`, and a line that is not about a
//! pull failure is `-`.

use pullscan::classify::{Classifier, Verdict};
use pullscan::format::{parse_line, LineContext};

use crate::util::path;

/// An envelope: its name and how it wraps a message line.
type Envelope = (&'static str, fn(&str) -> String);

const ENVELOPES: &[Envelope] = &[
    ("syslog RFC 3164", syslog_3164),
    ("journald short-iso", journald_short_iso),
    ("syslog RFC 5424", syslog_5424),
    ("CRI", cri),
    ("journald -o json", journald_json),
    ("docker json-file", docker_json),
];

fn syslog_3164(line: &str) -> String {
    format!("Nov 22 09:26:00 node-1 containerd[123]: {line}")
}

fn journald_short_iso(line: &str) -> String {
    format!("2024-11-22T09:26:00+0000 node-1 kubelet[99]: {line}")
}

fn syslog_5424(line: &str) -> String {
    format!("<14>1 2024-11-22T09:26:00Z node-1 dockerd 812 - - {line}")
}

fn cri(line: &str) -> String {
    format!("2024-11-22T09:26:00.000000000Z stderr F {line}")
}

fn journald_json(line: &str) -> String {
    format!(
        "{{\"MESSAGE\":{},\"_HOSTNAME\":\"node-1\",\"SYSLOG_IDENTIFIER\":\"containerd\",\
         \"__REALTIME_TIMESTAMP\":\"1732267560000000\"}}",
        json_string(line)
    )
}

fn docker_json(line: &str) -> String {
    format!(
        "{{\"log\":{},\"stream\":\"stderr\",\"time\":\"2024-11-22T09:26:00.000000000Z\"}}",
        json_string(&format!("{line}\n"))
    )
}

/// A JSON string literal (quoted and escaped).
fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// The cause a line gets, as described in the module docs.
fn cause(classifier: &Classifier, line: &str) -> String {
    let record = parse_line(line, &LineContext::in_year(2024));
    let verdict = classifier.classify(&record);
    let rules = classifier.rules();
    match verdict.rule() {
        Some(rule) => {
            let id = &rules.cause_of(&rules.rules[rule]).id;
            match verdict {
                Verdict::LookAlike { .. } => format!("{id} (look-alike)"),
                _ => id.clone(),
            }
        }
        None if verdict == Verdict::Unclassified => "unclassified".to_string(),
        None => "-".to_string(),
    }
}

/// The lines of a labelled corpus file whose label is not `none`, with
/// their 1-based line numbers.
fn failure_lines(log: &str) -> Vec<(usize, String)> {
    let log_path = path(log);
    let labels_path = log_path.with_extension("labels.jsonl");
    let text = std::fs::read_to_string(&log_path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", log_path.display()));
    let labels = std::fs::read_to_string(&labels_path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", labels_path.display()));
    let lines: Vec<&str> = text.lines().collect();
    let labels: Vec<&str> = labels.lines().collect();
    assert_eq!(lines.len(), labels.len(), "{log} and its labels differ in length");
    lines
        .iter()
        .zip(&labels)
        .enumerate()
        .filter_map(|(i, (line, label))| {
            let label: serde_json::Value = serde_json::from_str(label)
                .unwrap_or_else(|e| panic!("{}:{}: bad label: {e}", labels_path.display(), i + 1));
            let cause = label["cause"].as_str().expect("every label has a cause");
            (cause != "none").then(|| (i + 1, line.to_string()))
        })
        .collect()
}

#[test]
fn cause_does_not_depend_on_the_envelope() {
    let rules = pullscan::rules::builtin().expect("the builtin rules load");
    let classifier = Classifier::new(rules).expect("the builtin rules compile");
    let mut checked = 0;
    let mut report = Vec::new();
    let mut differing = 0;
    let mut classified = 0;
    for log in ["corpus/real/seed.log", "corpus/own/own.log"] {
        for (number, line) in failure_lines(log) {
            checked += 1;
            let bare = cause(&classifier, &line);
            if bare != "-" && bare != "unclassified" {
                classified += 1;
            }
            let mut diffs = Vec::new();
            for (name, wrap) in ENVELOPES {
                let wrapped = cause(&classifier, &wrap(&line));
                if wrapped != bare {
                    diffs.push(format!("    {name:<20} bare {bare:<28} wrapped {wrapped}"));
                }
            }
            if !diffs.is_empty() {
                differing += 1;
                let shown: String = line.chars().take(160).collect();
                report.push(format!("{log}:{number}: {shown}\n{}", diffs.join("\n")));
            }
        }
    }
    assert!(checked > 240, "only {checked} labelled failure lines found");
    // Not vacuous: most bare lines get a cause (the corpus test holds the bar).
    assert!(classified * 10 > checked * 9, "only {classified} of {checked} bare lines classified");
    assert!(
        report.is_empty(),
        "{differing} of {checked} failure lines change cause in some envelope:\n{}",
        report.join("\n")
    );
}

#[test]
fn envelopes_escape_what_json_needs() {
    let line = "msg=\"a \\\"b\\\"\"\tc";
    let journald: serde_json::Value = serde_json::from_str(&journald_json(line)).unwrap();
    assert_eq!(journald["MESSAGE"], line);
    assert_eq!(journald["__REALTIME_TIMESTAMP"], "1732267560000000");
    let docker: serde_json::Value = serde_json::from_str(&docker_json(line)).unwrap();
    assert_eq!(docker["log"], format!("{line}\n"));
    for (name, wrap) in &ENVELOPES[..4] {
        assert!(wrap(line).ends_with(&format!(" {line}")), "{name} keeps the line verbatim");
    }
}
