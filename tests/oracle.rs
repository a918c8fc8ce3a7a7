//! The parallel scan must equal the sequential one: for every corpus file,
//! scanning in many small blocks and chunks on several threads gives the
//! same summary (and events) as one block, one chunk, one thread. This is
//! what lets scan.rs be optimised without fear.

use pullscan::classify::Classifier;
use pullscan::format::LineContext;
use pullscan::rules;
use pullscan::scan::{scan_mapped, scan_reader, InputScan, ScanOptions};
use pullscan::summary::Summary;

fn scan_bytes(data: &[u8], c: &Classifier, opts: &ScanOptions) -> Summary {
    let mut out = Summary::default();
    let ctx = LineContext::in_year(2024);
    let mut reader = data;
    let scan = InputScan { input: 0, ctx: &ctx, classifier: c, opts, dedup: None };
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

/// Scanning a file from mapped windows must equal reading it: windows
/// smaller and larger than the 64 KiB mapping alignment, lines longer
/// than a window, and no final newline.
#[test]
fn mapped_windows_equal_reading() {
    let c = Classifier::new(rules::builtin().unwrap()).unwrap();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    let mut files: Vec<_> = walk("corpus");
    files.sort();
    // Every corpus log, then all of them together several times over (past
    // the alignment, so windows start mid-mapping), a line longer than any
    // window, and the whole without its final newline.
    let mut all = Vec::new();
    for f in &files {
        all.extend(std::fs::read(f).unwrap());
    }
    let mut big = all.repeat(4);
    let long = format!("{}failed to pull image \"a.io/b:c\": no such host\n", "x".repeat(300_000));
    big.extend(long.as_bytes());
    big.extend(&all);
    let mut trimmed = big.clone();
    trimmed.pop();
    let mut cases: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    cases.extend([big, trimmed]);
    let dir = tempfile::tempdir().unwrap();
    for (k, data) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case-{k}.log"));
        std::fs::write(&path, data).unwrap();
        let sequential = ScanOptions { threads: 1, keep_events: true, ..ScanOptions::default() };
        let want = scan_bytes(data, &c, &sequential);
        for (block, min_chunk) in [(4096, 64), (1000, 1), (100_000, 512), (7, 1)] {
            let opts = ScanOptions {
                threads: 3,
                keep_events: true,
                block_size: block,
                min_chunk,
                ..ScanOptions::default()
            };
            let file = std::fs::File::open(&path).unwrap();
            let ctx = LineContext::in_year(2024);
            let scan = InputScan { input: 0, ctx: &ctx, classifier: &c, opts: &opts, dedup: None };
            let mut got = Summary::default();
            pool.install(|| scan_mapped(&file, data.len() as u64, &scan, &mut got)).unwrap();
            assert_eq!(got, want, "case {k} ({} bytes), window {block}", data.len());
        }
    }
}

/// Lines over the line limit are matched on their first `max_line` bytes,
/// and counted as truncated, the same way whether a block holds them whole
/// or the read loop has to cut them, read or mapped.
#[test]
fn long_lines_are_cut_the_same_way_at_any_block_size() {
    let c = Classifier::new(rules::builtin().unwrap()).unwrap();
    let fail = "E0825 12:00:00.1 1 remote_image.go:180] \"PullImage from image service failed\" err=\"failed to pull and unpack image \\\"a.io/b:1\\\": dial tcp: lookup a.io: no such host\"";
    let max = 400;
    let pad = |n: usize| "x".repeat(n);
    let lines = [
        fail.to_string(),                   // short: classified
        format!("{fail} {}", pad(5000)),    // long, failure in the head
        format!("{} {fail}", pad(5000)),    // long, failure past the head
        pad(max),                           // exactly the limit: not long
        pad(max + 1),                       // one over
        format!("{}{fail}", pad(max - 20)), // long, literal cut by the limit
        fail.to_string(),
    ];
    let data = lines.join("\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.log");
    for data in [data.clone(), format!("{data}\n"), format!("{data}\n{}", pad(3000))] {
        std::fs::write(&path, &data).unwrap();
        let one = ScanOptions { keep_events: true, max_line: max, ..ScanOptions::default() };
        let want = scan_bytes(data.as_bytes(), &c, &one);
        let counts = &want.inputs[&0].counts;
        assert_eq!(counts.truncated, 4 + u64::from(data.ends_with('x')), "{counts:?}");
        assert_eq!(counts.classified, 3, "{counts:?}");
        assert_eq!(counts.bytes, data.len() as u64);
        for block in [64, 100, 399, 401, 1000, 4096] {
            let opts = ScanOptions { block_size: block, min_chunk: 16, threads: 2, ..one.clone() };
            let got = scan_bytes(data.as_bytes(), &c, &opts);
            assert_eq!(got, want, "read, block {block}");
            let file = std::fs::File::open(&path).unwrap();
            let ctx = LineContext::in_year(2024);
            let scan = InputScan { input: 0, ctx: &ctx, classifier: &c, opts: &opts, dedup: None };
            let mut got = Summary::default();
            scan_mapped(&file, data.len() as u64, &scan, &mut got).unwrap();
            assert_eq!(got, want, "mapped, block {block}");
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

/// The framed CSV scan (quote parity, gram filter, only hit rows parsed)
/// must give what reading every row with the csv crate gives: on the
/// corpus exports and on generated ones with quoted newlines, doubled
/// quotes, CRLF, blank lines, rows of the wrong width, no final newline,
/// and stray quotes that send the framed scan to the crate mid-file.
#[test]
fn framed_csv_scan_equals_reading_every_row() {
    use pullscan::scan::{scan_csv, scan_csv_by_crate};
    let c = Classifier::new(rules::builtin().unwrap()).unwrap();
    let ctx = LineContext::in_year(2024);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    for name in ["ContainerAppSystemLogs_CL.csv", "ContainerAppSystemLogs.csv"] {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/aca-csv").join(name);
        inputs.push((name.into(), std::fs::read(path).unwrap()));
    }
    let header = "TimeGenerated [UTC],ContainerAppName_s,Log_s,Type_s\r\n";
    let rows = [
        "\"11/22/2024, 9:26:00.123 AM\",web,\"Failed to pull image \"\"r.example/web:1\"\": dial tcp: lookup r.example: no such host\",Warning\r\n",
        "\"11/22/2024, 9:26:01.000 AM\",web,\"Pulling image \"\"nginx:1.25\"\"\",Normal\r\n",
        "\"11/22/2024, 9:26:02.000 AM\",api,\"Successfully pulled image \"\"nginx:1.25\"\" in 2s\",Normal\r\n",
        "\"11/22/2024, 9:26:03.000 AM\",api,\"line one\nFailed to pull image \"\"x.azurecr.io/a:1\"\": 401 Unauthorized\nline three\",Warning\r\n",
        "\r\n",
        "\"11/22/2024, 9:26:04.000 AM\",api,only three\r\n",
        "\"11/22/2024, 9:26:05.000 AM\",api,\"Failed to pull image: toomanyrequests: rate\",Warning,extra\r\n",
        "\"11/22/2024, 9:26:06.000 AM\",api,Started container 'api',Normal\n",
    ];
    let mut generated = header.as_bytes().to_vec();
    let mut seed = 0x1234_5678_9abc_def1u64;
    for _ in 0..400 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        generated.extend_from_slice(rows[(seed % rows.len() as u64) as usize].as_bytes());
    }
    inputs.push(("generated".into(), generated.clone()));
    let cut = generated.iter().rposition(|&b| b == b'\n').unwrap();
    inputs.push(("generated, no final newline".into(), generated[..cut - 1].to_vec()));
    let mut stray = generated.clone();
    let mid = stray.len() / 2;
    let at = mid + stray[mid..].iter().position(|&b| b == b'\n').unwrap() + 1;
    stray.splice(
        at..at,
        b"\"11/22/2024, 9:27:00.000 AM\",a\"b,Failed to pull image: no such host,Warning\n"
            .iter()
            .copied(),
    );
    inputs.push(("generated, a stray quote mid-file".into(), stray));
    inputs.push((
        "blank lines before the header".into(),
        [b"\r\n\n".as_slice(), &generated].concat(),
    ));
    for (name, data) in &inputs {
        let sequential = ScanOptions { threads: 1, keep_events: true, ..ScanOptions::default() };
        let mut want = Summary::default();
        let s = InputScan { input: 0, ctx: &ctx, classifier: &c, opts: &sequential, dedup: None };
        scan_csv_by_crate(&mut data.as_slice(), &s, &mut want);
        let counts = want.input_mut(0).counts.clone();
        assert!(counts.lines > 3 && counts.classified > 0, "{name}");
        for (block, min_chunk, threads) in
            [(16 << 20, 256 << 10, 1), (4096, 64, 4), (1000, 1, 4), (300, 8, 3), (65_536, 512, 2)]
        {
            let opts = ScanOptions {
                threads,
                keep_events: true,
                block_size: block,
                min_chunk,
                ..ScanOptions::default()
            };
            let s = InputScan { input: 0, ctx: &ctx, classifier: &c, opts: &opts, dedup: None };
            let mut got = Summary::default();
            pool.install(|| scan_csv(&mut data.as_slice(), &s, &mut got)).unwrap();
            assert_eq!(got, want, "{name} with block {block}, min chunk {min_chunk}");
        }
    }
}
