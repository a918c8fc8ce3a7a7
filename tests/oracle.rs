//! The parallel scan must equal the sequential one: for every corpus file,
//! scanning in many small blocks and chunks on several threads gives the
//! same summary (and events) as one block, one chunk, one thread. This is
//! what lets scan.rs be optimised without fear.

use pullscan::classify::Classifier;
use pullscan::format::LineContext;
use pullscan::rules;
use pullscan::scan::{scan_reader, InputScan, ScanOptions};
use pullscan::summary::Summary;

fn scan_bytes(data: &[u8], c: &Classifier, opts: &ScanOptions) -> Summary {
    let mut out = Summary::default();
    let ctx = LineContext::in_year(2024);
    let mut reader = data;
    let scan = InputScan { input: 0, ctx: &ctx, classifier: c, opts };
    scan_reader(&mut reader, &scan, &mut out).unwrap();
    out
}

#[test]
fn n_chunks_equal_one_chunk_on_every_corpus_file() {
    let c = Classifier::new(rules::builtin().unwrap()).unwrap();
    let sequential = ScanOptions { threads: 1, keep_events: true, ..ScanOptions::default() };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
    let mut files: Vec<_> = walk("corpus");
    files.sort();
    assert!(files.len() > 15);
    for path in files {
        let data = std::fs::read(&path).unwrap();
        let want = scan_bytes(&data, &c, &sequential);
        // Block sizes that cut lines in many places, chunks of a few lines.
        for (block, min_chunk) in [(4096, 64), (1000, 1), (65_536, 512), (777, 100)] {
            let opts = ScanOptions {
                threads: 4,
                keep_events: true,
                block_size: block,
                min_chunk,
                ..ScanOptions::default()
            };
            let got = pool.install(|| scan_bytes(&data, &c, &opts));
            assert_eq!(got, want, "{} with block {block}, min chunk {min_chunk}", path.display());
        }
        // Without a trailing newline, too.
        if data.ends_with(b"\n") {
            let trimmed = &data[..data.len() - 1];
            let want = scan_bytes(trimmed, &c, &sequential);
            let opts = ScanOptions {
                threads: 3,
                keep_events: true,
                block_size: 512,
                min_chunk: 8,
                ..ScanOptions::default()
            };
            let got = pool.install(|| scan_bytes(trimmed, &c, &opts));
            assert_eq!(got, want, "{} without final newline", path.display());
        }
    }
}

fn walk(dir: &str) -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "log") {
                out.push(p);
            }
        }
    }
    out
}
