//! `format::CriJoiner` fed the lines of any bytes (decoded lossily, each
//! with its `\n`, numbered from 1, as `scan_cri` does), then `finish`.
//!
//! Properties (from `CriJoiner`'s docs):
//! - no panic;
//! - a line that is neither a CRI line nor a docker json-file entry passes
//!   through unchanged, with its own line number (checked for lines that
//!   cannot be either: not starting with a digit or `{"log":"`);
//! - every line given back is numbered by a line that was pushed, and no
//!   number is given back twice (one output per first piece);
//! - `pending_since` never names a line after the current one;
//! - payload kept is at most `MAX_JOINED`; `truncated` only past it.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use pullscan::format::{CriJoiner, Joined, MAX_JOINED};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut joiner = CriJoiner::new();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut must_pass: Vec<(u64, &str)> = Vec::new();
    let mut passed: HashSet<u64> = HashSet::new();
    let mut check = |j: Joined<'_>, now: u64, passed: &mut HashSet<u64>| {
        assert!(j.line >= 1 && j.line <= now, "line {} given back at line {now}", j.line);
        assert!(seen.insert(j.line), "line {} given back twice", j.line);
        assert!(!j.truncated || j.payload_bytes > MAX_JOINED as u64);
        if j.payload_bytes == 0 {
            passed.insert(j.line);
        }
    };
    let mut line_no = 0u64;
    for line in text.split_inclusive('\n') {
        line_no += 1;
        let neither =
            !line.starts_with(|c: char| c.is_ascii_digit()) && !line.starts_with("{\"log\":\"");
        if neither {
            must_pass.push((line_no, line));
        }
        for j in joiner.push(line_no, line) {
            if neither && j.line == line_no {
                assert_eq!(j.text, line, "line {line_no} not passed through unchanged");
            }
            check(j, line_no, &mut passed);
        }
        if let Some(p) = joiner.pending_since() {
            assert!(p >= 1 && p <= line_no, "pending since {p} at line {line_no}");
        }
    }
    for j in joiner.finish() {
        check(j, line_no, &mut passed);
    }
    assert_eq!(joiner.pending_since(), None, "pending after finish");
    for (n, line) in must_pass {
        assert!(passed.contains(&n), "line {n} {line:?} was not passed through");
    }
});
