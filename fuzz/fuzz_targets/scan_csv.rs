//! `scan::scan_csv` (blocks framed by quote parity, only rows with a hit
//! parsed) against `scan::scan_csv_by_crate` (every row read by the csv
//! crate), "the reference the framed scan is tested against": the
//! `Summary` (events kept) must be equal.
//!
//! Inputs that `format::sniff` does not take for a CSV export (the only
//! inputs `scan_csv` is used on) get an export header put in front. The
//! first three bytes choose `block_size` (1..=256), `min_chunk` (1..=64)
//! and `threads` (1..=4; chunks split as for that many threads, run on a
//! one-worker rayon pool, so one core).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pullscan::classify::Classifier;
use pullscan::format::{sniff, LineContext, Shape};
use pullscan::rules;
use pullscan::scan::{scan_csv, scan_csv_by_crate, InputScan, ScanOptions};
use pullscan::summary::Summary;

fn classifier() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| Classifier::new(rules::builtin().unwrap()).unwrap())
}

fn pool() -> &'static rayon::ThreadPool {
    static P: OnceLock<rayon::ThreadPool> = OnceLock::new();
    P.get_or_init(|| rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap())
}

const HEADER: &[u8] = b"TimeGenerated [UTC],ContainerAppName_s,Log_s,Type_s\r\n";

fuzz_target!(|data: &[u8]| {
    let cfg = |i: usize| data.get(i).copied().unwrap_or(0) as usize;
    let owned;
    let data = if sniff(data, None) == Shape::Csv {
        data
    } else {
        owned = [HEADER, data].concat();
        &owned[..]
    };
    let ctx = LineContext::in_year(2024);
    let c = classifier();
    let one = ScanOptions { threads: 1, keep_events: true, ..ScanOptions::default() };
    let mut want = Summary::default();
    let s = InputScan { input: 0, ctx: &ctx, classifier: c, opts: &one, dedup: None };
    scan_csv_by_crate(&mut &data[..], &s, &mut want);

    let opts = ScanOptions {
        threads: 1 + cfg(2) % 4,
        block_size: 1 + cfg(0),
        min_chunk: 1 + cfg(1) % 64,
        ..one.clone()
    };
    for opts in [&one, &opts] {
        let s = InputScan { input: 0, ctx: &ctx, classifier: c, opts, dedup: None };
        let mut got = Summary::default();
        pool().install(|| scan_csv(&mut &data[..], &s, &mut got)).unwrap();
        assert!(
            got == want,
            "scan_csv (threads {}, block {}, min chunk {}) differs from scan_csv_by_crate\n\
             framed: {:?}\ncrate: {:?}",
            opts.threads,
            opts.block_size,
            opts.min_chunk,
            got.inputs,
            want.inputs
        );
    }
});
