//! Corpus goldens: every input shape of DESIGN.md, run through the binary,
//! must print exactly the events recorded next to it.
//!
//! Each case is a file under one of the format directories of `corpus/`
//! (see [`FORMATS`]; directories are walked, so the CRI tree
//! `corpus/cri/var/log/pods/<ns>_<pod>_<uid>/<container>/0.log` works). A
//! case is any file there except `*.jsonl` (goldens, labels) and `*.md`.
//!
//! Golden naming: the case path with its last extension replaced by
//! `.jsonl` (`nodes.log` → `nodes.jsonl`, `get-events-v1.json` →
//! `get-events-v1.jsonl`, `ContainerAppSystemLogs.csv` →
//! `ContainerAppSystemLogs.jsonl`). Two cases in one directory may not share
//! a stem (`events.log` and `events.json`): the test fails on such a
//! collision instead of letting one golden serve two inputs, and it fails on
//! a golden whose case is gone.
//!
//! The binary runs from the repository root with the case's relative path
//! (`pullscan --output jsonl [--year 2024] corpus/<format>/<case>`), so the
//! `file` field of every event is machine-independent and CRI cases get
//! pod, namespace and container from their path. Timestamps without a year
//! are pinned with `--year 2024`, except for the cases in [`MTIME_CASES`],
//! whose modification time is set before the run so that the year policy
//! under test is the file's mtime.
//!
//! `PULLSCAN_BLESS=1 cargo test --test integration golden` writes the actual
//! output as the new golden; review the diff before committing. A missing
//! golden is a failure unless blessing.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::util::{path, pullscan, root};

/// The format directories under `corpus/`, one per input shape.
const FORMATS: &[&str] = &[
    "syslog",
    "syslog5424",
    "journald-short",
    "journald-json",
    "cri",
    "k8s-events",
    "aca-csv",
    "aca-json",
    "docker-json",
    "containerd",
    "dockerd",
    "kubelet",
    "docker-cli",
    "ci",
    "plain",
];

/// The year given to every other case with `--year`.
const YEAR: &str = "2024";

/// Cases run without `--year`, with this modification time (Unix seconds):
/// the year-rollover case must place its December lines in the year before
/// the file's mtime and its January lines in the mtime's year.
const MTIME_CASES: &[(&str, u64)] = &[
    // 2025-01-02T12:00:00Z
    ("corpus/syslog/year-rollover.log", 1_735_819_200),
];

/// How many differing lines a diff shows before it stops.
const MAX_DIFF_LINES: usize = 16;

/// How many characters of one line a diff shows.
const MAX_LINE_CHARS: usize = 400;

/// One input and the golden it is compared with.
struct Case {
    /// Relative to the repository root, `/`-separated: the path as given
    /// on the command line and as printed in the `file` field.
    input: String,
    /// Where the expected output lives.
    golden: PathBuf,
}

#[test]
fn every_corpus_case_prints_its_golden() {
    let bless = std::env::var_os("PULLSCAN_BLESS").is_some_and(|v| !v.is_empty());
    let mut problems = Vec::new();
    let cases = collect_cases(&mut problems);
    let mut blessed = Vec::new();
    for case in &cases {
        let actual = match run_case(case) {
            Ok(out) => out,
            Err(e) => {
                problems.push(format!("── {}: {e}", case.input));
                continue;
            }
        };
        let expected = std::fs::read_to_string(&case.golden).ok();
        let expected = expected.map(|s| s.replace("\r\n", "\n"));
        if expected.as_deref() == Some(actual.as_str()) {
            continue;
        }
        if bless {
            std::fs::write(&case.golden, &actual)
                .unwrap_or_else(|e| panic!("writing {}: {e}", case.golden.display()));
            blessed.push(rel(&case.golden));
            continue;
        }
        match expected {
            None => problems.push(format!(
                "── {}: no golden {} (PULLSCAN_BLESS=1 cargo test --test integration golden \
                 writes it; review it before committing)",
                case.input,
                rel(&case.golden)
            )),
            Some(expected) => problems.push(format!(
                "── {}: output differs from {}\n{}",
                case.input,
                rel(&case.golden),
                line_diff(&expected, &actual)
            )),
        }
    }
    for golden in &blessed {
        println!("blessed {golden}");
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) in {} corpus cases:\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
}

/// Every case of every format directory, sorted; naming problems (empty
/// directories, stem collisions, orphan goldens) are added to `problems`.
fn collect_cases(problems: &mut Vec<String>) -> Vec<Case> {
    let mut cases = Vec::new();
    for format in FORMATS {
        let dir = path("corpus").join(format);
        let mut files = Vec::new();
        walk(&dir, &mut files);
        files.sort();
        let mut by_golden: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
        let mut goldens = Vec::new();
        for file in files {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            let name = name.unwrap_or_default();
            if name.starts_with('.') || name.ends_with(".md") {
                continue;
            }
            if name.ends_with(".jsonl") {
                goldens.push(file);
                continue;
            }
            let golden = file.with_extension("jsonl");
            let input = rel(&file);
            by_golden.entry(golden.clone()).or_default().push(input.clone());
            cases.push(Case { input, golden });
        }
        if by_golden.is_empty() {
            problems.push(format!("── corpus/{format}/ holds no case"));
        }
        for (golden, inputs) in &by_golden {
            if inputs.len() > 1 {
                problems.push(format!(
                    "── {} would be the golden of {}: rename one case",
                    rel(golden),
                    inputs.join(" and ")
                ));
            }
        }
        for golden in goldens {
            if !by_golden.contains_key(&golden)
                && !golden.to_string_lossy().ends_with(".labels.jsonl")
            {
                problems.push(format!("── {}: no case has this golden; delete it", rel(&golden)));
            }
        }
    }
    cases
}

/// Run the binary on one case; its stdout, or why it failed.
fn run_case(case: &Case) -> Result<String, String> {
    let mut cmd = pullscan();
    cmd.args(["--output", "jsonl"]);
    match MTIME_CASES.iter().find(|(input, _)| *input == case.input) {
        Some(&(input, secs)) => {
            let mtime = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
            OpenOptions::new()
                .write(true)
                .open(path(input))
                .and_then(|f| f.set_modified(mtime))
                .map_err(|e| format!("cannot set the mtime of {input}: {e}"))?;
        }
        None => {
            cmd.args(["--year", YEAR]);
        }
    }
    cmd.arg(&case.input);
    let out = cmd.output().map_err(|e| format!("cannot run pullscan: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "pullscan exited with {}; stderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("stdout is not UTF-8: {e}"))
}

/// All files under `dir`, recursively (a missing directory yields none).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let p = entry.expect("readable directory entry").path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// A path under the repository root as a relative, `/`-separated string.
fn rel(p: &Path) -> String {
    let base = root();
    let p = p.strip_prefix(&base).unwrap_or(p);
    p.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// One step of a line diff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// The same line in both (index in expected, index in actual).
    Same(usize, usize),
    /// Only in the expected output (index in expected).
    Gone(usize),
    /// Only in the actual output (index in actual).
    New(usize),
}

/// A readable diff: the differing lines with their line numbers (`-`
/// golden, `+` actual), and for a changed event the fields that differ.
fn line_diff(expected: &str, actual: &str) -> String {
    let old: Vec<&str> = expected.lines().collect();
    let new: Vec<&str> = actual.lines().collect();
    let ops = diff_ops(&old, &new);
    let changes = ops.iter().filter(|op| !matches!(op, Op::Same(..))).count();
    let mut out = format!(
        "   golden {} lines, actual {} lines, {changes} differing line(s); - golden, + actual:\n",
        old.len(),
        new.len()
    );
    let mut shown = 0;
    let mut i = 0;
    while i < ops.len() && shown < MAX_DIFF_LINES {
        match ops[i] {
            Op::Same(..) => {}
            Op::Gone(a) => {
                out.push_str(&format!("   -{:>4} {}\n", a + 1, clip(old[a])));
                shown += 1;
                // A removed line followed by an added one: a changed event.
                if let Some(&Op::New(b)) = ops.get(i + 1) {
                    out.push_str(&format!("   +{:>4} {}\n", b + 1, clip(new[b])));
                    out.push_str(&field_diff(old[a], new[b]));
                    shown += 1;
                    i += 1;
                }
            }
            Op::New(b) => {
                out.push_str(&format!("   +{:>4} {}\n", b + 1, clip(new[b])));
                shown += 1;
            }
        }
        i += 1;
    }
    if shown < changes {
        out.push_str(&format!("   ... and {} more differing line(s)\n", changes - shown));
    }
    out
}

/// The edit script between two line lists: common prefix and suffix, and a
/// longest-common-subsequence alignment of the middle.
fn diff_ops(old: &[&str], new: &[&str]) -> Vec<Op> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (a, b) = (&old[prefix..old.len() - suffix], &new[prefix..new.len() - suffix]);
    let mut ops: Vec<Op> = (0..prefix).map(|i| Op::Same(i, i)).collect();
    // lcs[i][j]: length of the LCS of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] =
                if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push(Op::Same(prefix + i, prefix + j));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] > lcs[i + 1][j]) {
            ops.push(Op::New(prefix + j));
            j += 1;
        } else {
            ops.push(Op::Gone(prefix + i));
            i += 1;
        }
    }
    let (old_end, new_end) = (old.len() - suffix, new.len() - suffix);
    ops.extend((0..suffix).map(|k| Op::Same(old_end + k, new_end + k)));
    ops
}

/// For two JSON objects, the fields whose values differ (`key: old → new`).
fn field_diff(old: &str, new: &str) -> String {
    let parse = |s: &str| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(s);
    let (Ok(old), Ok(new)) = (parse(old), parse(new)) else { return String::new() };
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let none = serde_json::Value::Null;
    let mut out = String::new();
    for key in keys {
        let (a, b) = (old.get(key).unwrap_or(&none), new.get(key).unwrap_or(&none));
        if a != b {
            out.push_str(&format!(
                "          {key}: {} → {}\n",
                clip(&a.to_string()),
                clip(&b.to_string())
            ));
        }
    }
    out
}

/// A line cut to [`MAX_LINE_CHARS`] characters.
fn clip(line: &str) -> String {
    match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

#[test]
fn diff_names_the_changed_lines_and_fields() {
    let golden = "{\"line\":1,\"cause\":\"a\"}\n{\"line\":2,\"cause\":\"b\"}\n{\"line\":3}\n";
    let actual =
        "{\"line\":1,\"cause\":\"a\"}\n{\"line\":2,\"cause\":\"c\"}\n{\"line\":3}\n{\"x\":1}\n";
    let d = line_diff(golden, actual);
    assert!(d.contains("-   2 {\"line\":2,\"cause\":\"b\"}"), "{d}");
    assert!(d.contains("+   2 {\"line\":2,\"cause\":\"c\"}"), "{d}");
    assert!(d.contains("cause: \"b\" → \"c\""), "{d}");
    assert!(d.contains("+   4 {\"x\":1}"), "{d}");
    assert!(!d.contains("{\"line\":3}"), "unchanged lines are not shown: {d}");
    let ops = diff_ops(&["a", "b", "c"], &["a", "x", "c"]);
    assert_eq!(ops, [Op::Same(0, 0), Op::Gone(1), Op::New(1), Op::Same(2, 2)]);
    assert_eq!(diff_ops(&[], &["a"]), [Op::New(0)]);
    assert_eq!(diff_ops(&["a"], &[]), [Op::Gone(0)]);
}
