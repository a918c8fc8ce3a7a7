//! The labelled corpus: every real line must get its expected cause.
//!
//! Each `corpus/**/X.log` with a sibling `X.labels.jsonl` holds one labelled
//! line per log line. The binary runs over the whole file (`--output jsonl`)
//! and each line's event (or its absence, for `none`) is compared with the
//! label. Real lines (`corpus/real/`) must be at least 97 % right; lines we
//! wrote (`corpus/own/`) must all be right; no `none` line and no line of
//! the background logs (`corpus/noise/`) may be reported at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::util::{json_lines, path, pullscan};

struct Outcome {
    total: usize,
    right: usize,
    misses: Vec<String>,
    false_reports: Vec<String>,
}

/// Run the binary on one labelled file and compare line by line.
fn check_labelled(log: &Path) -> Outcome {
    let labels_path = log.with_extension("labels.jsonl");
    let labels: Vec<serde_json::Value> = json_lines(&std::fs::read(&labels_path).unwrap());
    let lines: Vec<String> =
        std::fs::read_to_string(log).unwrap().lines().map(str::to_string).collect();
    assert_eq!(labels.len(), lines.len(), "{} and its labels differ in length", log.display());
    let out = pullscan().arg("--output").arg("jsonl").arg(log).output().unwrap();
    assert!(out.status.success(), "pullscan failed on {}: {:?}", log.display(), out);
    let mut got: BTreeMap<u64, String> = BTreeMap::new();
    for ev in json_lines(&out.stdout) {
        let line = ev["line"].as_u64().unwrap();
        got.insert(line, ev["cause"].as_str().unwrap().to_string());
    }
    let mut o = Outcome { total: 0, right: 0, misses: vec![], false_reports: vec![] };
    for (i, label) in labels.iter().enumerate() {
        let want = label["cause"].as_str().unwrap();
        let line_no = i as u64 + 1;
        let have = got.get(&line_no).map(String::as_str);
        let short: String = lines[i].chars().take(160).collect();
        if want == "none" {
            if let Some(h) = have {
                o.false_reports.push(format!("{}:{line_no}: none → {h}: {short}", log.display()));
            }
            continue;
        }
        o.total += 1;
        if have == Some(want) {
            o.right += 1;
        } else {
            o.misses.push(format!(
                "{}:{line_no}: want {want}, got {}: {short}",
                log.display(),
                have.unwrap_or("nothing")
            ));
        }
    }
    o
}

fn logs_under(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(path(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    v.sort();
    v
}

#[test]
fn real_lines_are_classified() {
    let mut total = 0;
    let mut right = 0;
    let mut misses = Vec::new();
    let mut false_reports = Vec::new();
    for log in logs_under("corpus/real") {
        let o = check_labelled(&log);
        total += o.total;
        right += o.right;
        misses.extend(o.misses);
        false_reports.extend(o.false_reports);
    }
    let accuracy = right as f64 / total as f64;
    println!("corpus accuracy on real failure lines: {right}/{total} = {:.1} %", accuracy * 100.0);
    for m in &misses {
        println!("  miss: {m}");
    }
    assert!(false_reports.is_empty(), "none lines reported:\n{}", false_reports.join("\n"));
    assert!(total > 250, "corpus shrank: {total} failure lines");
    assert!(accuracy >= 0.97, "accuracy {:.1} % < 97 %:\n{}", accuracy * 100.0, misses.join("\n"));
}

#[test]
fn own_lines_are_all_right() {
    let o = check_labelled(&path("corpus/own/own.log"));
    let mut problems = o.misses;
    problems.extend(o.false_reports);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(o.total >= 25);
}

#[test]
fn background_logs_report_nothing() {
    let logs = logs_under("corpus/noise");
    assert!(logs.len() >= 10);
    let out = pullscan().arg("--output").arg("jsonl").args(&logs).output().unwrap();
    assert!(out.status.success());
    let events = json_lines(&out.stdout);
    assert!(events.is_empty(), "background lines reported: {events:#?}");
}
