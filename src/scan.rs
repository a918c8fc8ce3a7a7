//! The engine: read inputs in blocks, prefilter, parse and classify the
//! candidate lines, aggregate.
//!
//! Search the buffer, not the lines (ripgrep): each input is read in large
//! blocks that end on a line boundary; a block is split into line-aligned
//! chunks that rayon scans in parallel. In a chunk the literal prefilter
//! jumps from hit to hit; only the line around a hit is decoded, parsed
//! (`crate::format`) and classified. Lines between hits are only counted
//! (memchr), never allocated. Chunk summaries are merged in order with `+=`,
//! so one chunk and N chunks give the same [`Summary`] (the oracle test in
//! tests/ relies on this).
//!
//! CSV exports go the same way, with blocks framed into records by quote
//! parity instead of newlines (`format::csv_frame`). CRI logs are read line
//! by line (partial lines are joined first) and JSON documents record by
//! record; each record goes through the same [`account`].

use std::borrow::Cow;
use std::collections::HashSet;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{self, BufRead, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rayon::prelude::*;

use crate::classify::{Classifier, Verdict};
use crate::format::{self, CriJoiner, CsvHeader, CsvParser, CsvRow, Joined, LineContext, Shape};
use crate::image::{self, ImageRef};
use crate::input::{self, Input};
use crate::prefilter::{Found, Tuned};
use crate::record::Record;
use crate::summary::{Event, GroupKey, Origin, Position, Summary, FINGERPRINT_CAP};
use crate::time::{Timestamp, YearPolicy};

/// How to scan.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Worker threads for chunks (1 = sequential).
    pub threads: usize,
    /// Keep every reported event (for `--output jsonl`).
    pub keep_events: bool,
    /// Year for lines that carry none; `None` = the year policy of
    /// `YearPolicy::ending_at` the file's modification time (now for
    /// stdin), which handles a year rollover inside one file.
    pub year: Option<i32>,
    /// Bytes read per block.
    pub block_size: usize,
    /// Smallest chunk worth handing to another thread.
    pub min_chunk: usize,
    /// Only the first this many bytes of a line are matched (see
    /// [`MAX_LINE`]).
    pub max_line: usize,
    /// Plain files of at least this many bytes are scanned from mapped
    /// windows rather than read (`None`: always read, `--no-mmap`).
    pub map_min: Option<u64>,
    /// Only records at or after this time (records without a time are kept).
    pub since: Option<Timestamp>,
    /// Only records at or before this time (records without a time are kept).
    pub until: Option<Timestamp>,
    /// Extra grouping of the reported lines (`--by`); empty = by cause only.
    pub group_by: Vec<GroupKey>,
    /// Leave out of the summary a line that repeats (same time, host and
    /// message) a line of an earlier input, such as a log and its rotated
    /// copy. Duplicates are counted either way (`--no-dedup`: kept).
    pub dedup: bool,
    /// Bytes scanned so far, for a progress bar; `None`: not counted.
    pub progress: Option<Progress>,
}

/// A counter of the bytes scanned, shared with whoever shows progress.
/// The scan adds to it once per block (per read for documents), not per
/// line, so counting costs nothing measurable; when an input is done it
/// has added that input's byte count (`counts.bytes`).
#[derive(Clone, Debug, Default)]
pub struct Progress(Arc<AtomicU64>);

impl Progress {
    /// Bytes scanned so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions {
            threads: 1,
            keep_events: false,
            year: None,
            block_size: 16 << 20,
            min_chunk: 256 << 10,
            map_min: Some(MAP_MIN),
            max_line: MAX_LINE,
            since: None,
            until: None,
            group_by: Vec::new(),
            dedup: true,
            progress: None,
        }
    }
}

/// Fingerprints of the reported lines of the inputs scanned so far.
pub type Fingerprints = HashSet<u64>;

/// Lines longer than this are matched on their first `MAX_LINE` bytes
/// (and counted, as `truncated`): a line of 64 MiB from a binary file or a
/// dumped blob costs no more than one of 1 MiB, and the read buffer never
/// has to hold it whole. No real log line comes near it.
pub const MAX_LINE: usize = 1 << 20;

/// The smallest file worth mapping: below it, reading costs less than
/// setting up the mappings.
pub const MAP_MIN: u64 = 4 << 20;

/// What every function scanning one input needs: which input it is, how to
/// read its lines, the classifier and the options.
#[derive(Clone, Copy, Debug)]
pub struct InputScan<'a> {
    /// Index of the input (its slot in the summary's per-input stats).
    pub input: usize,
    /// Line parsing context (the year policy of this input).
    pub ctx: &'a LineContext,
    /// The compiled rules and prefilter.
    pub classifier: &'a Classifier,
    /// How to scan.
    pub opts: &'a ScanOptions,
    /// When there are several inputs: duplicates of earlier inputs' lines
    /// are looked for.
    pub dedup: Option<Dedup<'a>>,
}

/// Finding lines that repeat an earlier input's.
#[derive(Clone, Copy, Debug)]
pub struct Dedup<'a> {
    /// The fingerprints of the reported lines of the inputs before.
    pub earlier: &'a Fingerprints,
    /// Collect this input's fingerprints too (an input follows).
    pub remember: bool,
}

impl InputScan<'_> {
    /// Count `n` more bytes of the input as scanned: in its stats and in
    /// the progress counter.
    fn add_bytes(&self, out: &mut Summary, n: u64) {
        out.input_mut(self.input).counts.bytes += n;
        self.progress(n);
    }

    /// Add `n` bytes to the progress counter only (their stats are kept
    /// elsewhere).
    fn progress(&self, n: u64) {
        if let Some(p) = &self.opts.progress {
            p.add(n);
        }
    }

    /// Account for a candidate whose raw text can only be unrelated (see
    /// [`Classifier::surely_unrelated`]) without parsing it, and say so.
    /// With a time window every candidate is parsed, for its time.
    pub fn surely_unrelated(&self, raw: &[u8], found: &Found, out: &mut Summary) -> bool {
        let windowed = self.opts.since.is_some() || self.opts.until.is_some();
        if windowed || !self.classifier.surely_unrelated(raw, found) {
            return false;
        }
        let counts = &mut out.input_mut(self.input).counts;
        counts.candidate += 1;
        counts.benign += 1;
        true
    }
}

/// Scan every input; errors on one input are recorded in its stats and the
/// others are still scanned.
///
/// Inputs are scanned one after another (each in parallel chunks), so
/// when one is scanned every earlier one is complete, and a line that
/// repeats an earlier input's is found the same way in every run.
pub fn scan(inputs: &[Input], classifier: &Classifier, opts: &ScanOptions) -> Summary {
    let mut total = Summary::default();
    let mut earlier: Option<Fingerprints> = (inputs.len() > 1).then(Fingerprints::new);
    for (i, input) in inputs.iter().enumerate() {
        let years = match opts.year {
            Some(y) => YearPolicy::fixed(y),
            None => YearPolicy::ending_at(input.modified().unwrap_or_else(now)),
        };
        let ctx = LineContext { years };
        let mut part = Summary::after(total.marks.len());
        let remember = i + 1 < inputs.len();
        let dedup = earlier.as_ref().map(|earlier| Dedup { earlier, remember });
        let scan = InputScan { input: i, ctx: &ctx, classifier, opts, dedup };
        let result = scan_input(input, &scan, &mut part);
        let stats = part.input_mut(i);
        if let Err(e) = result {
            stats.add_error(e.to_string());
        }
        if let Some(seen) = &mut earlier {
            for fp in part.fingerprints.drain(..) {
                if seen.len() < FINGERPRINT_CAP || seen.contains(&fp) {
                    seen.insert(fp);
                } else {
                    total.fingerprints_dropped += 1;
                }
            }
        }
        total += part;
    }
    total
}

/// Open one input, tell its shape from its first bytes, and scan it.
fn scan_input(input: &Input, s: &InputScan<'_>, out: &mut Summary) -> io::Result<()> {
    let input::Opened { reader: mut r, file } = input::open(input)?;
    let path = match input {
        Input::Path(p) => Some(p.as_path()),
        Input::Stdin => None,
    };
    let shape = format::sniff(r.fill_buf()?, path);
    match shape {
        Shape::Lines => match file.filter(|&(_, len)| s.opts.map_min.is_some_and(|m| len >= m)) {
            Some((file, len)) => scan_mapped(&file, len, s, out),
            None => scan_reader(&mut r, s, out),
        },
        Shape::Cri => scan_cri(&mut r, path, s, out),
        Shape::Csv => scan_csv(&mut r, s, out),
        Shape::JsonDocument => scan_document(&mut r, s, out),
    }
}

/// A CRI (or docker json-file) log: read line by line so that partial
/// lines can be joined before they are matched; pod, namespace and
/// container come from the file's path where the lines do not say.
fn scan_cri(
    r: &mut dyn BufRead,
    path: Option<&Path>,
    s: &InputScan<'_>,
    out: &mut Summary,
) -> io::Result<()> {
    let i = s.input;
    let info = path.and_then(format::path_info);
    let mut joiner = CriJoiner::new();
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let handle = |j: Joined<'_>, out: &mut Summary| scan_joined(&j, info.as_ref(), s, out);
    // Progress is told every MiB or so, not on every line.
    let mut untold = 0u64;
    let read = loop {
        let (n, cut) = match read_line_capped(r, &mut buf, s.opts.max_line) {
            Ok((0, _)) => break Ok(()),
            Ok(read) => read,
            Err(e) => break Err(e),
        };
        line_no += 1;
        let counts = &mut out.input_mut(i).counts;
        counts.bytes += n as u64;
        counts.lines += 1;
        counts.truncated += u64::from(cut);
        untold += n as u64;
        if untold >= 1 << 20 {
            s.progress(std::mem::take(&mut untold));
        }
        let text = String::from_utf8_lossy(&buf);
        for j in joiner.push(line_no, &text) {
            handle(j, out);
        }
    };
    s.progress(untold);
    read?;
    for j in joiner.finish() {
        handle(j, out);
    }
    Ok(())
}

/// Account for one line of a container log, its pieces joined: pod,
/// namespace and container from the file's path where the line does not
/// say (`info`). Shared by the scan and follow mode.
pub fn scan_joined(
    j: &Joined<'_>,
    info: Option<&format::PathInfo>,
    s: &InputScan<'_>,
    out: &mut Summary,
) {
    let found = s.classifier.prefilter().rules_in(j.text.as_bytes());
    if found.is_empty() || s.surely_unrelated(j.text.as_bytes(), &found, out) {
        return;
    }
    let mut rec = format::parse_line(&j.text, s.ctx);
    if let Some(info) = info {
        let fill = |slot: &mut Option<Cow<'_, str>>, v: &Option<String>| {
            if slot.is_none() {
                *slot = v.clone().map(Cow::Owned);
            }
        };
        fill(&mut rec.pod, &info.pod);
        fill(&mut rec.namespace, &info.namespace);
        fill(&mut rec.container, &info.container);
    }
    account(rec, (s.input, j.line), &found, s, out);
}

/// Read one line (with its `\n`, if any) into `buf`, keeping at most `max`
/// bytes of it and skipping the rest: returns the bytes consumed (0 at the
/// end of input) and whether the line was cut.
fn read_line_capped(
    r: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<(usize, bool)> {
    buf.clear();
    let (mut consumed, mut cut) = (0, false);
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok((consumed, cut));
        }
        let (take, done) = match memchr::memchr(b'\n', avail) {
            Some(nl) => (nl + 1, true),
            None => (avail.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        cut |= take - usize::from(done) > room;
        buf.extend_from_slice(&avail[..take.min(room)]);
        r.consume(take);
        consumed += take;
        if done {
            return Ok((consumed, cut));
        }
    }
}

/// A JSON document (an array or object): streamed record by record; each
/// record counts as one line. A syntax error ends the input after every
/// complete record before it.
fn scan_document(r: &mut dyn BufRead, s: &InputScan<'_>, out: &mut Summary) -> io::Result<()> {
    let InputScan { input: i, ctx, classifier, .. } = *s;
    let mut counting = CountingReader { inner: r, bytes: 0, progress: s.opts.progress.as_ref() };
    let mut out_lines = 0u64;
    let mut each = |line: u64, rec: Record<'_>| {
        out_lines += 1;
        let found = classifier.prefilter().rules_in(rec.message.as_bytes());
        if !found.is_empty() {
            account(rec, (i, line), &found, s, out);
        }
    };
    let result = format::read_json_document(&mut counting, ctx, &mut each);
    let stats = out.input_mut(i);
    stats.counts.bytes += counting.bytes;
    stats.counts.lines += out_lines;
    if let Err(e) = result {
        stats.add_error(e.to_string());
    }
    Ok(())
}

/// A Log Analytics CSV export, read like a line stream: blocks framed into
/// records by quote parity ([`format::csv_frame`]), the gram filter over
/// the raw bytes, and only the records holding a hit parsed (by the csv
/// crate) and classified, in parallel chunks. Every record counts as one
/// line; a row with the wrong number of fields is an error of the input
/// when it is parsed (rows without any literal are counted, not checked).
/// A block whose quoting the framing cannot follow is read, with the rest
/// of the input, row by row with the csv crate.
pub fn scan_csv(r: &mut dyn BufRead, s: &InputScan<'_>, out: &mut Summary) -> io::Result<()> {
    let mut blocks = Blocks::new(s.opts.block_size);
    // Line and byte offset of the buffer's first byte in the input.
    let (mut line, mut offset) = (1u64, 0u64);
    let mut header: Option<CsvHeader> = None;
    let mut tuned: Option<Tuned> = None;
    loop {
        let eof = blocks.fill(r)?;
        let (buf, len) = (&blocks.buf, blocks.len);
        let region_end = match memchr::memrchr(b'\n', &buf[..len]) {
            _ if eof => len,
            Some(nl) => nl + 1,
            None => continue,
        };
        let Some(h) = &header else {
            // The header: the first record.
            // (Blank lines before it are skipped, as the csv crate does.)
            let ends = format::csv_frame(&buf[..region_end], false).ends;
            let first = (0..ends.len())
                .map(|k| (if k == 0 { 0 } else { ends[k - 1] }, ends[k]))
                .find(|&(start, end)| !format::is_blank_record(&buf[start..end]))
                .map(|(_, end)| end);
            let Some(end) = first.or(eof.then_some(region_end)) else { continue };
            match CsvHeader::read(&buf[..end]) {
                Ok(Some((h, used))) => {
                    header = Some(h);
                    line += count_newlines(&buf[..used]);
                    offset += used as u64;
                    s.add_bytes(out, used as u64);
                    blocks.consume(used);
                    if eof && blocks.len == 0 {
                        return Ok(());
                    }
                    continue;
                }
                Ok(None) => return Ok(()),
                Err(e) => {
                    out.input_mut(s.input).add_error(e.to_string());
                    return Ok(());
                }
            }
        };
        let region = &buf[..region_end];
        if tuned.is_none() {
            tuned = s.classifier.prefilter().tuned_for(region);
        }
        let at = (line, offset);
        let Some(done) = csv_block(region, eof, at, tuned.as_ref(), h, s, out) else {
            // Quoting the framing cannot follow: the csv crate reads on.
            let mut rest = io::Read::chain(&buf[..len], r);
            csv_rows_by_crate(&mut rest, s, out, |rest, each, bad| {
                format::read_csv_rows_from(rest, h, (line, offset), each, bad)
            });
            return Ok(());
        };
        if eof {
            return Ok(());
        }
        line += count_newlines(&buf[..done]);
        offset += done as u64;
        blocks.consume(done);
    }
}

/// A CSV export read row by row with the csv crate, every row parsed:
/// the reference the framed scan is tested against.
pub fn scan_csv_by_crate(r: &mut dyn BufRead, s: &InputScan<'_>, out: &mut Summary) {
    csv_rows_by_crate(r, s, out, |r, each, bad| format::read_csv_rows(r, each, bad));
}

/// Account for the rows `read` delivers from `r` (the csv crate's reader),
/// and for its errors.
fn csv_rows_by_crate(
    r: &mut dyn BufRead,
    s: &InputScan<'_>,
    out: &mut Summary,
    read: impl FnOnce(
        &mut dyn Read,
        &mut dyn FnMut(u64, CsvRow<'_>),
        &mut dyn FnMut(format::DocError),
    ) -> Result<(), format::DocError>,
) {
    let mut counting = CountingReader { inner: r, bytes: 0, progress: s.opts.progress.as_ref() };
    let mut bad = Vec::new();
    let mut lines = 0u64;
    let result = read(
        &mut counting,
        &mut |line, row| {
            lines += 1;
            csv_row(line, &row, s, out);
        },
        &mut |e| bad.push(e.to_string()),
    );
    let stats = out.input_mut(s.input);
    stats.counts.bytes += counting.bytes;
    stats.counts.lines += lines + bad.len() as u64;
    for e in bad {
        stats.add_error(e);
    }
    if let Err(e) = result {
        stats.add_error(e.to_string());
    }
}

/// Scan one block of a CSV export that starts at a record start; returns
/// how many bytes of it were whole records (all of it at `eof`), or `None`
/// if its quoting does not conform.
fn csv_block(
    region: &[u8],
    eof: bool,
    (line, offset): (u64, u64),
    tuned: Option<&Tuned>,
    header: &CsvHeader,
    s: &InputScan<'_>,
    out: &mut Summary,
) -> Option<usize> {
    let chunks = split_chunks(region, s.opts.threads, s.opts.min_chunk);
    let par = chunks.len() > 1;
    // Where each chunk starts: its offset, and whether inside quotes.
    let odd: Vec<bool> = if par {
        chunks.par_iter().map(|c| format::quotes_odd(c)).collect()
    } else {
        chunks.iter().map(|c| format::quotes_odd(c)).collect()
    };
    let mut starts = Vec::with_capacity(chunks.len());
    let (mut at, mut inside) = (0, false);
    for (c, odd) in chunks.iter().zip(&odd) {
        starts.push((at, inside));
        at += c.len();
        inside ^= odd;
    }
    let frame = |(c, &(_, inside)): (&&[u8], &(usize, bool))| {
        let mut hits = Vec::new();
        s.classifier.prefilter().candidate_lines_with(tuned, c, &mut hits);
        (format::csv_frame(c, inside), hits)
    };
    let framed: Vec<(format::Framed, Vec<usize>)> = if par {
        chunks.par_iter().zip(starts.par_iter()).map(frame).collect()
    } else {
        chunks.iter().zip(starts.iter()).map(frame).collect()
    };
    if framed.iter().any(|(f, _)| f.nonconforming) {
        return None;
    }
    // Every record end in the block and its field count; at the end of
    // input the last record may lack its line end.
    let mut ends: Vec<usize> = Vec::new();
    let mut fields: Vec<u32> = Vec::new();
    let mut carry = 0;
    for ((f, _), &(at, _)) in framed.iter().zip(&starts) {
        ends.extend(f.ends.iter().map(|e| at + e));
        let first = fields.len();
        fields.extend(f.commas.iter().map(|c| c + 1));
        match fields.get_mut(first) {
            Some(n) => {
                *n += carry;
                carry = f.tail_commas;
            }
            None => carry += f.tail_commas,
        }
    }
    if eof && ends.last().copied().unwrap_or(0) < region.len() {
        ends.push(region.len());
        fields.push(carry + 1);
    }
    let done = ends.last().copied().unwrap_or(0);
    // Record `k` is `region[start_of(k)..ends[k]]`.
    let start_of = |k: usize| if k == 0 { 0 } else { ends[k - 1] };
    let blank = |k: usize| format::is_blank_record(&region[start_of(k)..ends[k]]);
    // Rows of the wrong width are errors, whether they hold a hit or not.
    let width = header.width() as u32;
    let wrong = |k: usize| fields[k] != width && !blank(k);
    let mut counted = (0, line);
    for k in (0..ends.len()).filter(|&k| wrong(k)) {
        let start = start_of(k);
        counted = (start, counted.1 + count_newlines(&region[counted.0..start]));
        let e = format::DocError {
            line: counted.1,
            byte: Some(offset + start as u64),
            message: format!("row has {} fields, the header has {width}", fields[k]),
        };
        out.input_mut(s.input).add_error(e.to_string());
    }
    // Each record holding a hit once, with the chunk its start lies in.
    let mut by_chunk: Vec<Vec<(usize, usize)>> = vec![Vec::new(); chunks.len()];
    let mut last = usize::MAX;
    for ((_, hits), &(at, _)) in framed.iter().zip(&starts) {
        for &h in hits {
            let k = ends.partition_point(|&e| e <= at + h);
            if k == ends.len() || k == last || wrong(k) {
                continue;
            }
            last = k;
            let start = start_of(k);
            let c = starts.partition_point(|&(a, _)| a <= start) - 1;
            by_chunk[c].push((start, ends[k]));
        }
    }
    // Chunk line bases, then the candidate records parsed in parallel: per
    // chunk, its records holding a hit, its offset and its first line.
    let mut jobs: Vec<CsvJob> = Vec::with_capacity(chunks.len());
    let mut acc = line;
    for ((records, (f, _)), &(at, _)) in by_chunk.into_iter().zip(&framed).zip(&starts) {
        jobs.push((records, at, acc));
        acc += f.newlines;
    }
    let marks_before = out.marks_before + out.marks.len();
    let work = |(records, at, base): &CsvJob| {
        let mut part = Summary::after(marks_before);
        let mut parser = CsvParser::default();
        let (mut counted_to, mut line) = (*at, *base);
        let mut bad = Vec::new();
        for &(start, end) in records {
            line += count_newlines(&region[counted_to..start]);
            counted_to = start;
            let where_ = (line, offset + start as u64);
            let mut each = |line, row: CsvRow<'_>| csv_row(line, &row, s, &mut part);
            if let Err(e) = header.row(&region[start..end], where_, &mut parser, &mut each) {
                bad.push(e.to_string());
            }
        }
        for e in bad {
            part.input_mut(s.input).add_error(e);
        }
        part
    };
    let parts: Vec<Summary> =
        if par { jobs.par_iter().map(work).collect() } else { jobs.iter().map(work).collect() };
    for p in parts {
        *out += p;
    }
    // Every record is a line, blank ones (which hold no row) aside.
    let records = (0..ends.len()).filter(|&k| !blank(k)).count() as u64;
    out.input_mut(s.input).counts.lines += records;
    s.add_bytes(out, done as u64);
    Some(done)
}

/// One chunk's share of a CSV block: the spans of its records holding a
/// hit, the chunk's offset in the block, and the line it starts on.
type CsvJob = (Vec<(usize, usize)>, usize, u64);

/// Account for one CSV row (already counted as a line): a candidate when
/// its message holds a literal.
fn csv_row(line: u64, row: &CsvRow<'_>, s: &InputScan<'_>, out: &mut Summary) {
    let message = row.message();
    let found = s.classifier.prefilter().rules_in(message);
    if found.is_empty() || s.surely_unrelated(message, &found, out) {
        return;
    }
    row.with_record(s.ctx, |rec| account(rec, (s.input, line), &found, s, out));
}

/// Counts the bytes a document reader consumed, and tells progress per
/// read (of a buffer, not a record).
struct CountingReader<'r> {
    inner: &'r mut dyn BufRead,
    bytes: u64,
    progress: Option<&'r Progress>,
}

impl Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        if let Some(p) = self.progress {
            p.add(n as u64);
        }
        Ok(n)
    }
}

/// Scan one reader into `out`, block by block. On a read error, what was
/// read so far is still in `out`.
pub fn scan_reader(reader: &mut dyn Read, s: &InputScan<'_>, out: &mut Summary) -> io::Result<()> {
    let mut blocks = Blocks::new(s.opts.block_size);
    let mut lines_before = 0u64;
    // The gram filter's grams, tuned to the first large block and kept.
    let mut tuned: Option<Tuned> = None;
    // Inside a line over the limit, already matched on its first bytes.
    let mut skipping = false;
    loop {
        let filled = blocks.fill(reader);
        if skipping {
            let read = &blocks.buf[..blocks.len];
            let n = memchr::memchr(b'\n', read).map_or(read.len(), |nl| nl + 1);
            skipping = n == read.len() && read.last() != Some(&b'\n');
            s.add_bytes(out, n as u64);
            blocks.consume(n);
            if skipping {
                match filled {
                    Ok(false) => continue,
                    Ok(true) => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
        }
        let read = &blocks.buf[..blocks.len];
        if tuned.is_none() {
            tuned = s.classifier.prefilter().tuned_for(read);
        }
        match filled {
            Ok(false) => {}
            Ok(true) => {
                scan_block(read, lines_before, tuned.as_ref(), s, out);
                return Ok(());
            }
            Err(e) => {
                scan_block(read, lines_before, tuned.as_ref(), s, out);
                return Err(e);
            }
        }
        // Scan up to the last newline; carry the partial line over. A block
        // without any newline grows until the line ends, or until it is
        // over the line limit: then its first bytes are matched as a line
        // of their own and the rest of it is skipped.
        let Some(nl) = memchr::memrchr(b'\n', read) else {
            if read.len() > s.opts.max_line {
                lines_before += long_line_head(read, lines_before, tuned.as_ref(), s, out);
                blocks.consume(read.len());
                skipping = true;
            }
            continue;
        };
        lines_before += scan_block(&read[..=nl], lines_before, tuned.as_ref(), s, out);
        blocks.consume(nl + 1);
    }
}

/// Scan the start of a line over the limit that `held` (no line end in
/// it, longer than the limit) begins, and account for all of `held`: one
/// line, truncated, whose first bytes were matched. Returns 1, the lines
/// it adds.
fn long_line_head(
    held: &[u8],
    lines_before: u64,
    tuned: Option<&Tuned>,
    s: &InputScan<'_>,
    out: &mut Summary,
) -> u64 {
    let max = s.opts.max_line;
    // A block without a line end: one (unterminated) line to scan_block.
    scan_block(&held[..max], lines_before, tuned, s, out);
    out.input_mut(s.input).counts.truncated += 1;
    s.add_bytes(out, (held.len() - max) as u64);
    1
}

/// Scan the first `len` bytes of a plain file from mapped windows of about
/// the block size, each ending at a line end, unmapped when scanned: the
/// same blocks [`scan_reader`] would read, without copying them.
///
/// A file that grows while scanned is scanned up to the length it had when
/// opened, as if read then. The length is checked again before each
/// window, so a truncation is only a risk during one window's scan (see
/// [`input::map_window`]).
pub fn scan_mapped(file: &File, len: u64, s: &InputScan<'_>, out: &mut Summary) -> io::Result<()> {
    // Mapping offsets are multiples of the page size; 64 KiB is one of
    // every page size in use (4, 16 and 64 KiB).
    const ALIGN: u64 = 64 << 10;
    let (mut start, mut lines_before) = (0u64, 0u64);
    let mut window = s.opts.block_size.max(1) as u64;
    let mut tuned: Option<Tuned> = None;
    let mut len = len;
    // Inside a line over the limit, already matched on its first bytes.
    let mut skipping = false;
    // The input's stats exist even when it has no bytes, as when read.
    out.input_mut(s.input);
    while start < len {
        len = len.min(file.metadata()?.len());
        if start >= len {
            break;
        }
        let base = start - start % ALIGN;
        let map_len = (start - base + window).min(len - base);
        let skip = (start - base) as usize;
        let map = input::map_window(file, base, map_len as usize)?;
        let view = &map[skip..];
        let last = base + map_len == len;
        if skipping {
            let n = memchr::memchr(b'\n', view).map_or(view.len(), |nl| nl + 1);
            skipping = n == view.len() && view.last() != Some(&b'\n');
            s.add_bytes(out, n as u64);
            start += n as u64;
            continue;
        }
        if tuned.is_none() {
            tuned = s.classifier.prefilter().tuned_for(view);
        }
        let nl = memchr::memrchr(b'\n', view);
        if nl.is_none() && view.len() > s.opts.max_line {
            // As in `scan_reader`: the head of a line over the limit.
            lines_before += long_line_head(view, lines_before, tuned.as_ref(), s, out);
            start += view.len() as u64;
            skipping = true;
            continue;
        }
        let end = match nl {
            _ if last => view.len(),
            Some(nl) => nl + 1,
            None => {
                // One line longer than the window: map more of it.
                window *= 2;
                continue;
            }
        };
        lines_before += scan_block(&view[..end], lines_before, tuned.as_ref(), s, out);
        start += end as u64;
    }
    Ok(())
}

/// The read buffer of one input: `buf[..len]` holds bytes not yet
/// consumed. Blocks start small and double up to the block size, so a
/// small input does not pay for zeroing a 16 MiB buffer; the buffer only
/// grows, so it is zeroed once per size rather than on every block.
struct Blocks {
    buf: Vec<u8>,
    len: usize,
    block: usize,
    max: usize,
}

impl Blocks {
    fn new(max: usize) -> Blocks {
        Blocks { buf: Vec::new(), len: 0, block: max.min(256 * 1024), max }
    }

    /// Grow to the next block size (and to twice what is held, so that one
    /// line or record longer than a block still ends up whole), then read
    /// until the buffer is full; `Ok(true)` at the end of input. After an
    /// error, what was read before it is in `buf[..len]`.
    fn fill(&mut self, r: &mut dyn Read) -> io::Result<bool> {
        let want = self.block.max(self.len * 2).max(64 * 1024);
        self.block = (self.block * 2).min(self.max);
        if self.buf.len() < want {
            self.buf.resize(want, 0);
        }
        while self.len < self.buf.len() {
            match r.read(&mut self.buf[self.len..]) {
                Ok(0) => return Ok(true),
                Ok(n) => self.len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    /// Drop the first `n` bytes held.
    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
    }
}

/// Scan a block that holds whole lines (the last may lack its newline at
/// EOF); returns the number of newlines in it.
fn scan_block(
    block: &[u8],
    lines_before: u64,
    tuned: Option<&Tuned>,
    s: &InputScan<'_>,
    out: &mut Summary,
) -> u64 {
    let chunks = split_chunks(block, s.opts.threads, s.opts.min_chunk);
    // Two parallel passes: find each chunk's candidate lines (numbered
    // within the chunk, counting its newlines once), then, with every
    // chunk's first line number known, parse and classify them.
    let found: Vec<Candidates> = if chunks.len() > 1 {
        chunks.par_iter().map(|c| candidates(c, tuned, s)).collect()
    } else {
        chunks.iter().map(|c| candidates(c, tuned, s)).collect()
    };
    let mut bases = Vec::with_capacity(chunks.len());
    let mut acc = lines_before;
    for f in &found {
        bases.push(acc);
        acc += f.newlines;
    }
    let marks_before = out.marks_before + out.marks.len();
    let work = |((chunk, found), base): ((&&[u8], &Candidates), &u64)| {
        let mut part = Summary::after(marks_before);
        for &(start, line) in &found.lines {
            let end = memchr::memchr(b'\n', &chunk[start..]).map_or(chunk.len(), |i| start + i);
            scan_line(&chunk[start..end], base + line + 1, s, &mut part);
        }
        part
    };
    let parts: Vec<Summary> = if chunks.len() > 1 {
        chunks.par_iter().zip(found.par_iter()).zip(bases.par_iter()).map(work).collect()
    } else {
        chunks.iter().zip(found.iter()).zip(bases.iter()).map(work).collect()
    };
    for p in parts {
        *out += p;
    }
    let total = acc - lines_before;
    let unterminated = u64::from(block.last().is_some_and(|&b| b != b'\n'));
    s.progress(block.len() as u64);
    let stats = &mut out.input_mut(s.input).counts;
    stats.bytes += block.len() as u64;
    stats.lines += total + unterminated;
    stats.truncated += found.iter().map(|f| f.long).sum::<u64>();
    total
}

/// Split a block into at most `n` line-aligned chunks of at least `min` bytes.
pub fn split_chunks(block: &[u8], n: usize, min: usize) -> Vec<&[u8]> {
    let n = n.max(1).min(block.len() / min.max(1)).max(1);
    let mut chunks = Vec::with_capacity(n);
    let mut start = 0;
    for k in 1..n {
        let target = block.len() * k / n;
        if target <= start {
            continue;
        }
        match memchr::memchr(b'\n', &block[target..]) {
            Some(i) => {
                let end = target + i + 1;
                chunks.push(&block[start..end]);
                start = end;
            }
            None => break,
        }
    }
    if start < block.len() || chunks.is_empty() {
        chunks.push(&block[start..]);
    }
    chunks
}

fn count_newlines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}

/// A chunk's candidate lines, its newline count and its lines longer than
/// the line limit.
struct Candidates {
    /// `(start offset, newlines before it in the chunk)` per candidate line.
    lines: Vec<(usize, u64)>,
    newlines: u64,
    long: u64,
}

/// How many lines of `chunk` are longer than `max` bytes (line ends not
/// counted). Such a line holds a whole window of `max / 2` bytes of the
/// grid walked here, so one memchr per window finds them all; on ordinary
/// text each memchr meets a newline within a line's length.
fn count_long_lines(chunk: &[u8], max: usize) -> u64 {
    let w = (max / 2).max(1);
    let (mut at, mut long) = (0, 0);
    while at + w <= chunk.len() {
        if memchr::memchr(b'\n', &chunk[at..at + w]).is_some() {
            at += w;
            continue;
        }
        let start = memchr::memrchr(b'\n', &chunk[..at]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &chunk[at + w..]).map_or(chunk.len(), |i| at + w + i);
        long += u64::from(end - start > max);
        at = end;
    }
    long
}

/// The candidate lines of one chunk of whole lines, numbered within it.
fn candidates(chunk: &[u8], tuned: Option<&Tuned>, s: &InputScan<'_>) -> Candidates {
    let classifier = s.classifier;
    let mut starts = Vec::new();
    classifier.prefilter().candidate_lines_with(tuned, chunk, &mut starts);
    let mut lines = Vec::with_capacity(starts.len());
    let (mut newlines, mut counted_to) = (0, 0);
    for start in starts {
        newlines += count_newlines(&chunk[counted_to..start]);
        counted_to = start;
        lines.push((start, newlines));
    }
    newlines += count_newlines(&chunk[counted_to..]);
    Candidates { lines, newlines, long: count_long_lines(chunk, s.opts.max_line) }
}

/// Parse, classify and account for one line (without its line end) if it
/// is a candidate. The buffer filter hands over candidates only; a line
/// over the limit is matched on its first bytes and is a candidate only if
/// they hold a literal (as when the read loop had to cut it, see
/// `scan_reader`), and follow mode hands over every line.
pub fn scan_line(line: &[u8], line_no: u64, s: &InputScan<'_>, out: &mut Summary) {
    let line = &line[..line.len().min(s.opts.max_line)];
    let found = s.classifier.prefilter().rules_in(line);
    if found.is_empty() {
        return;
    }
    if s.surely_unrelated(line, &found, out) {
        return;
    }
    let text = String::from_utf8_lossy(line);
    let record = format::parse_line(&text, s.ctx);
    account(record, (s.input, line_no), &found, s, out);
}

/// Account for one candidate record, whatever it was read from: the time
/// window, classification, line accounting, successes and events. `found`
/// is what the prefilter found in the record's raw text (every caller has
/// searched it already, to decide it is a candidate).
pub fn account(
    record: Record<'_>,
    at: Position,
    found: &Found,
    s: &InputScan<'_>,
    out: &mut Summary,
) {
    let InputScan { classifier, opts, .. } = *s;
    let counts = &mut out.input_mut(at.0).counts;
    counts.candidate += 1;
    if let Some(t) = record.time {
        let early = opts.since.is_some_and(|s| t < s);
        let late = opts.until.is_some_and(|u| t > u);
        if early || late {
            counts.outside_window += 1;
            return;
        }
    }
    let verdict = classifier.classify_found(&record, found);
    match verdict {
        Verdict::Failure { .. } => counts.classified += 1,
        Verdict::Unclassified => counts.unclassified += 1,
        Verdict::Success { .. } => {
            counts.benign += 1;
            counts.successful += 1;
        }
        Verdict::LookAlike { .. } | Verdict::Unrelated => counts.benign += 1,
    }
    let success = matches!(verdict, Verdict::Success { .. });
    if !verdict.is_reported() && !success {
        return;
    }
    let image_text = record.image.clone().or_else(|| image::find_image(&record.message));
    let image = image_text.as_deref().and_then(ImageRef::parse);
    let registry = match &image {
        Some(img) => Some(img.registry_host().to_string()),
        None => image::find_registry_host(&record.message).map(str::to_string),
    };
    if let (Some(dedup), Some(t)) = (s.dedup, record.time) {
        let fp = fingerprint(t, record.host.as_deref(), &record.message);
        if dedup.earlier.contains(&fp) {
            if !success {
                out.input_mut(at.0).counts.duplicates += 1;
            }
            if opts.dedup {
                return;
            }
        } else if dedup.remember {
            if out.fingerprints.len() < FINGERPRINT_CAP {
                out.fingerprints.push(fp);
            } else {
                out.fingerprints_dropped += 1;
            }
        }
    }
    if success {
        out.add_success(image.as_ref(), registry.as_deref(), u64::from(record.count.max(1)));
        return;
    }
    let rules = classifier.rules();
    let rule = verdict.rule();
    let own = |c: Option<std::borrow::Cow<'_, str>>| c.map(std::borrow::Cow::into_owned);
    let ev = Event {
        at,
        time: record.time,
        envelope: record.envelope,
        format: record.format,
        emitter: record.emitter,
        rule,
        cause: rule.map(|r| rules.rules[r].cause),
        image,
        registry,
        origin: Origin {
            host: own(record.host),
            pod: own(record.pod),
            namespace: own(record.namespace),
            container: own(record.container),
            app: own(record.app),
            revision: own(record.revision),
            replica: own(record.replica),
        },
        count: record.count.max(1),
        message: record.message.into_owned(),
    };
    out.add_event(ev, rules, &opts.group_by, opts.keep_events);
}

/// What makes two lines one event: the time to the nanosecond, the host
/// and the message. Lines without a time are never duplicates: two equal
/// messages could be two events.
fn fingerprint(t: Timestamp, host: Option<&str>, message: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    (t.secs, t.nanos, host, message).hash(&mut h);
    h.finish()
}

fn now() -> Timestamp {
    Timestamp::from_system(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::{count_long_lines, read_line_capped, split_chunks};

    #[test]
    fn capped_lines_keep_their_head_and_skip_the_rest() {
        let data = b"short\nabcdefghij\nabcd\nabcde\nno end";
        // A tiny reader buffer, so lines span several fills.
        let mut r = std::io::BufReader::with_capacity(3, &data[..]);
        let mut buf = Vec::new();
        let mut got = Vec::new();
        loop {
            let (n, cut) = read_line_capped(&mut r, &mut buf, 4).unwrap();
            if n == 0 {
                break;
            }
            got.push((String::from_utf8(buf.clone()).unwrap(), n, cut));
        }
        let want = [
            ("shor", 6, true),
            ("abcd", 11, true),
            ("abcd", 5, false),
            ("abcd", 6, true),
            ("no e", 6, true),
        ];
        let want: Vec<_> = want.iter().map(|&(s, n, c)| (s.to_string(), n, c)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn long_lines_are_counted_wherever_they_fall() {
        for max in [1, 2, 3, 7, 10] {
            for text in [
                "",
                "a",
                "\n\n",
                "abc\nabcdefghijk\n\nab",
                "abcdefghijklmnopqrstuvwxyz",
                "a\nbbbbbbbbbbbbbbbbbbbbbbbbbbb\nccccccccccc",
            ] {
                let naive = text.split('\n').filter(|l| l.len() > max).count() as u64;
                assert_eq!(count_long_lines(text.as_bytes(), max), naive, "{text:?} max {max}");
            }
        }
    }

    #[test]
    fn chunks_are_line_aligned_and_cover_the_block() {
        let block = b"aaaa\nbbbb\ncccc\ndddd\neeee\nffff";
        for n in 1..8 {
            let chunks = split_chunks(block, n, 1);
            assert_eq!(chunks.concat(), block.to_vec(), "n={n}");
            for c in &chunks[..chunks.len() - 1] {
                assert_eq!(c.last(), Some(&b'\n'));
            }
        }
        assert_eq!(split_chunks(b"", 4, 1), vec![&b""[..]]);
    }
}

#[cfg(test)]
mod progress_tests {
    use std::io::Write;

    use super::{scan, Progress, ScanOptions};
    use crate::classify::Classifier;
    use crate::input::{self, Globs, Input};

    /// Every file of the corpus (each shape: lines, CRI, CSV, JSON
    /// documents), plus a gzip file and one with lines over the limit:
    /// read, mapped, in small blocks and in large ones, the counter ends
    /// at the bytes the stats say were scanned.
    #[test]
    fn the_progress_counter_adds_up_to_the_bytes_scanned() {
        let dir = tempfile::tempdir().unwrap();
        let long = dir.path().join("long.log");
        let mut text = "x".repeat(300_000);
        text.push_str("\nshort line\n");
        text.push_str(&"failed to pull image y:1 ".repeat(20_000));
        std::fs::write(&long, &text).unwrap();
        let gz = dir.path().join("rotated.log.1");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();

        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let (mut inputs, errors) = input::expand(&[corpus], &Globs::default(), false);
        assert!(errors.is_empty(), "{errors:?}");
        inputs.extend([Input::Path(long), Input::Path(gz)]);
        let classifier = Classifier::new(crate::rules::builtin().unwrap()).unwrap();
        for (block_size, map_min, max_line) in
            [(64 << 10, Some(0), 100_000), (16 << 20, None, 1 << 20), (4096, None, 1000)]
        {
            let progress = Progress::default();
            let opts = ScanOptions {
                threads: 2,
                block_size,
                min_chunk: 1024,
                map_min,
                max_line,
                progress: Some(progress.clone()),
                ..ScanOptions::default()
            };
            let summary = scan(&inputs, &classifier, &opts);
            let bytes: u64 = summary.inputs.values().map(|i| i.counts.bytes).sum();
            assert!(bytes > 1_000_000, "{bytes}");
            assert_eq!(progress.get(), bytes, "block {block_size}, map {map_min:?}");
        }
    }
}
