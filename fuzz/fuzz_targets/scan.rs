//! `scan::scan_reader` over any bytes: scanned in small blocks and chunks,
//! it must give the `Summary` (events kept) of one block, one chunk, one
//! thread, as `tests/oracle.rs` checks on the corpus.
//!
//! The first four input bytes (which stay part of the log) choose:
//! - byte 0: `block_size` 1..=256, byte 1: `min_chunk` 1..=64;
//! - byte 2: `threads` 2..=4 for the second variant (chunks split as for
//!   that many threads, run on a one-worker rayon pool, so one core);
//! - byte 3: bit 0-1 == 0: the input is repeated to past 70 000 bytes (the
//!   read loop fills at least 64 KiB per block, so only then are there
//!   several blocks and lines cut by block ends); bit 2: a small
//!   `max_line` (16..=271, the same on both sides) for the long-line path.
//!
//! Variants compared with the one-block scan: threads 1 with the small
//! block and chunk sizes; `threads` with the same sizes.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pullscan::classify::Classifier;
use pullscan::format::LineContext;
use pullscan::rules;
use pullscan::scan::{scan_reader, InputScan, ScanOptions};
use pullscan::summary::Summary;

fn classifier() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| Classifier::new(rules::builtin().unwrap()).unwrap())
}

fn pool() -> &'static rayon::ThreadPool {
    static P: OnceLock<rayon::ThreadPool> = OnceLock::new();
    P.get_or_init(|| rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap())
}

fn scan_bytes(data: &[u8], opts: &ScanOptions) -> Summary {
    let ctx = LineContext::in_year(2024);
    let s = InputScan { input: 0, ctx: &ctx, classifier: classifier(), opts, dedup: None };
    let mut out = Summary::default();
    scan_reader(&mut &data[..], &s, &mut out).unwrap();
    out
}

fuzz_target!(|data: &[u8]| {
    let cfg = |i: usize| data.get(i).copied().unwrap_or(0) as usize;
    let repeat = cfg(3) & 3 == 0 && !data.is_empty();
    let max_line = if cfg(3) & 4 != 0 { 16 + cfg(0) } else { pullscan::scan::MAX_LINE };
    let owned;
    let data = if repeat {
        owned = data.repeat(70_000 / data.len() + 1);
        &owned[..]
    } else {
        data
    };
    let one = ScanOptions { threads: 1, keep_events: true, max_line, ..ScanOptions::default() };
    let want = scan_bytes(data, &one);
    let small = ScanOptions { block_size: 1 + cfg(0), min_chunk: 1 + cfg(1) % 64, ..one.clone() };
    let got = scan_bytes(data, &small);
    assert!(got == want, "threads 1, block {}, min chunk {}", small.block_size, small.min_chunk);
    let threads = ScanOptions { threads: 2 + cfg(2) % 3, ..small };
    let got = pool().install(|| scan_bytes(data, &threads));
    assert!(
        got == want,
        "threads {}, block {}, min chunk {}",
        threads.threads,
        threads.block_size,
        threads.min_chunk
    );
});
