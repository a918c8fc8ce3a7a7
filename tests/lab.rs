//! The fault lab's captures (issue 14): real clients and daemons made to
//! fail against real registries, labelled by the fault injected.
//!
//! `corpus/lab/<client>/<scenario>.log` holds what a client or daemon
//! printed, `<scenario>.labels.jsonl` one label per line (from the
//! scenario, never from pullscan), `scenarios.json` each run's expected
//! cause, and `known.jsonl` the few lines where pullscan knowingly answers
//! otherwise, with why. Two checks:
//!
//! 1. every labelled line gets its label (or its known answer), `none`
//!    lines are never reported;
//! 2. a whole-file scan of each capture that shows the scenario's fault
//!    ranks that cause first among the root causes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use crate::util::{json_lines, path, pullscan};

fn captures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for client in std::fs::read_dir(path("corpus/lab")).unwrap() {
        let dir = client.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "log") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// `client/scenario.log` of a capture.
fn key(log: &std::path::Path) -> String {
    let client = log.parent().unwrap().file_name().unwrap().to_string_lossy();
    format!("{client}/{}", log.file_name().unwrap().to_string_lossy())
}

fn known() -> BTreeMap<(String, u64), String> {
    json_lines(&std::fs::read(path("corpus/lab/known.jsonl")).unwrap())
        .into_iter()
        .map(|v: Value| {
            let file = v["file"].as_str().unwrap().to_string();
            ((file, v["line"].as_u64().unwrap()), v["pullscan"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn every_labelled_lab_line_gets_its_label() {
    let known = known();
    let mut used = 0;
    let (mut total, mut problems) = (0, Vec::new());
    // One run over every capture: events name their file.
    let logs = captures();
    let out = pullscan().arg("--output").arg("jsonl").arg("--no-dedup").args(&logs).output();
    let out = out.unwrap();
    assert!(out.status.success(), "pullscan failed on corpus/lab: {out:?}");
    let mut events: BTreeMap<(String, u64), String> = BTreeMap::new();
    for ev in json_lines(&out.stdout) {
        let file = ev["file"].as_str().unwrap().to_string();
        let cause = ev["cause"].as_str().unwrap().to_string();
        events.insert((file, ev["line"].as_u64().unwrap()), cause);
    }
    for log in logs {
        let k = key(&log);
        let labels: Vec<Value> =
            json_lines(&std::fs::read(log.with_extension("labels.jsonl")).unwrap());
        let text = String::from_utf8_lossy(&std::fs::read(&log).unwrap()).into_owned();
        let file = log.display().to_string();
        let got = |n: u64| events.get(&(file.clone(), n)).map(String::as_str);
        // A JSON document (`skopeo inspect` output) is read as one record.
        if !text.starts_with('{') {
            assert_eq!(labels.len(), text.lines().count(), "{k}: labels and lines differ");
        }
        for (i, label) in labels.iter().enumerate() {
            let n = i as u64 + 1;
            let mut want = label["cause"].as_str().unwrap().to_string();
            if let Some(answer) = known.get(&(k.clone(), n)) {
                want = answer.clone();
                used += 1;
            }
            let have = got(n);
            total += usize::from(want != "none");
            let ok = if want == "none" { have.is_none() } else { have == Some(want.as_str()) };
            if !ok {
                let line: String = text.lines().nth(i).unwrap_or("").chars().take(160).collect();
                problems.push(format!(
                    "{k}:{n}: want {want}, got {}: {line}",
                    have.unwrap_or("nothing")
                ));
            }
        }
    }
    assert!(total > 250, "only {total} labelled failure lines in corpus/lab");
    assert_eq!(used, known.len(), "a known.jsonl entry names no labelled line");
    assert!(problems.is_empty(), "{} lab lines:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn a_whole_capture_ranks_its_scenario_first() {
    let scenarios: Vec<Value> =
        serde_json::from_slice(&std::fs::read(path("corpus/lab/scenarios.json")).unwrap()).unwrap();
    let (mut checked, mut problems) = (0, Vec::new());
    for s in scenarios {
        let cause = s["cause"].as_str().unwrap();
        let log = path(&format!(
            "corpus/lab/{}/{}.log",
            s["client"].as_str().unwrap(),
            s["scenario"].as_str().unwrap()
        ));
        // Runs with no fault, and captures where the client printed nothing
        // that shows the fault (a progress bar cut off by a timeout), rank
        // nothing.
        let Ok(labels) = std::fs::read(log.with_extension("labels.jsonl")) else { continue };
        let shows = json_lines(&labels).iter().any(|l: &Value| l["cause"] == cause);
        if cause == "none" || !shows {
            continue;
        }
        let out = pullscan().arg("--output").arg("json").arg(&log).output().unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let first = report["root_causes"][0]["cause"].as_str().unwrap_or("nothing");
        checked += 1;
        if first != cause {
            problems.push(format!("{}: want {cause} first, got {first}", key(&log)));
        }
    }
    assert!(checked > 150, "only {checked} captures show their fault");
    // The captures whose only fault lines are known differences.
    let allowed =
        ["ctr/firewall-403-html.log", "ctr/azure-ip-403.log", "dockerd/plain-http-as-https.log"];
    problems.retain(|p| !allowed.iter().any(|a| p.starts_with(a)));
    assert!(problems.is_empty(), "{} captures:\n{}", problems.len(), problems.join("\n"));
}
