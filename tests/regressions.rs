//! Inputs the cargo-fuzz targets (fuzz/) found, kept as plain tests: each
//! embeds the minimised input and checks the property its target checks.

use std::cell::RefCell;

use pullscan::classify::Classifier;
use pullscan::format::{self, CsvHeader, CsvParser, LineContext};
use pullscan::rules;
use pullscan::scan::{scan_csv, scan_csv_by_crate, InputScan, ScanOptions};
use pullscan::summary::Summary;

/// A row as a reader gives it: `Ok((line, message))`, or the line of a
/// row of the wrong width.
type Row = Result<(u64, Vec<u8>), u64>;

/// Every row the csv crate reads (`read_csv_rows`), in order.
fn crate_rows(data: &[u8]) -> Vec<Row> {
    crate_rows_from(&mut &data[..])
}

/// Every row the csv crate reads from `r`.
fn crate_rows_from(r: &mut dyn std::io::Read) -> Vec<Row> {
    let rows = RefCell::new(Vec::new());
    format::read_csv_rows(
        r,
        &mut |line, row| rows.borrow_mut().push(Ok((line, row.message().to_vec()))),
        &mut |e| rows.borrow_mut().push(Err(e.line)),
    )
    .unwrap();
    rows.into_inner()
}

/// The rows the record framing gives after the header (`csv_frame`, each
/// record through `CsvHeader::row`, its line the line its first byte is
/// on), as `scan_csv` reads a conforming block; `None` when the framing
/// finds the quoting nonconforming (`scan_csv` then reads with the crate).
fn framed_rows(data: &[u8]) -> Option<Vec<Row>> {
    let (header, used) = CsvHeader::read(data).unwrap()?;
    let body = &data[used..];
    let framed = format::csv_frame(body, false);
    if framed.nonconforming {
        return None;
    }
    let mut ends = framed.ends;
    if ends.last().copied().unwrap_or(0) < body.len() {
        ends.push(body.len());
    }
    let mut parser = CsvParser::default();
    let mut rows = Vec::new();
    let mut start = 0;
    for end in ends {
        let record = &body[start..end];
        if !format::is_blank_record(record) {
            let at = used + start;
            let line = 1 + data[..at].iter().filter(|&&b| b == b'\n').count() as u64;
            let res = header.row(record, (line, at as u64), &mut parser, &mut |line, row| {
                rows.push(Ok((line, row.message().to_vec())));
            });
            if let Err(e) = res {
                rows.push(Err(e.line));
            }
        }
        start = end;
    }
    Some(rows)
}

/// fuzz target `csv`, found on the tree before 0933b61 (which fixed it): a
/// bare CR (one no LF follows) outside quotes ends a record for the csv
/// crate, which reads rows `L` and `L`; the framing ended records only at
/// LF and read one row `L\rL` (whose parse stops at the CR: one row `L`),
/// without marking the text nonconforming. Since 0933b61 such a CR makes
/// the block nonconforming, and the crate reads it.
#[test]
fn fuzz_csv_bare_cr_ends_a_row_for_the_framing_too() {
    let data: &[u8] = b"Log\nL\rL";
    let by_crate = crate_rows(data);
    assert_eq!(by_crate, vec![Ok((2, b"L".to_vec())), Ok((2, b"L".to_vec()))]);
    if let Some(framed) = framed_rows(data) {
        assert_eq!(framed, by_crate);
    }
}

/// fuzz target `csv`: a row that starts right after a bare CR, in the
/// middle of a line. The header record `Log` ends at the CR, and row `#`
/// starts on line 1; `read_csv_rows` said line 2. Root cause:
/// `document::LineStarts` notes only the starts of LF-ended lines, so
/// `row_start` takes the first line start after the crate's record
/// position, the next line's. The framed scan (`scan_csv`) says line 1.
/// Fixed: `LineStarts` notes a start after every bare CR too.
#[test]
fn fuzz_csv_row_after_a_bare_cr_is_on_the_crs_line() {
    let data: &[u8] = b"Log\r#\n2";
    let framed = framed_rows(data).expect("the body `#\\n2` conforms");
    assert_eq!(framed, vec![Ok((1, b"#".to_vec())), Ok((2, b"2".to_vec()))]);
    assert_eq!(crate_rows(data), framed);
}

/// fuzz target `scan_csv`: a line that opens with a bare CR (`\rC`) after
/// the header. `scan_csv` (the CR makes the block nonconforming, so the
/// csv crate reads on from the line's start) reports the one-field row at
/// line 2, byte 53; `scan_csv_by_crate` said line 1, byte 52. Root cause:
/// `document::LineStarts` marks a line that starts with `\r` as blank
/// (as if it were `\r\n`), so `row_start` drops it, finds no later line
/// start and falls back to the crate's own position, which is before the
/// LF of the header's CRLF (line 1). The summaries must be equal.
/// Fixed: `LineStarts` now also notes the start after the bare CR (`C`,
/// line 2), which `row_start` finds.
#[test]
fn fuzz_scan_csv_row_after_a_line_opening_with_a_bare_cr() {
    assert_scan_csv_agrees(b"TimeGenerated [UTC],ContainerAppName_s,Log_s,Type_s\r\n\rC");
}

/// `scan_csv` (framed) and `scan_csv_by_crate` (the reference) give the
/// same summary, events kept, accounting and errors first.
fn assert_scan_csv_agrees(data: &[u8]) {
    let classifier = Classifier::new(rules::builtin().unwrap()).unwrap();
    let ctx = LineContext::in_year(2024);
    let opts = ScanOptions { threads: 1, keep_events: true, ..ScanOptions::default() };
    let s = InputScan { input: 0, ctx: &ctx, classifier: &classifier, opts: &opts, dedup: None };
    let mut want = Summary::default();
    scan_csv_by_crate(&mut &data[..], &s, &mut want);
    let mut got = Summary::default();
    scan_csv(&mut &data[..], &s, &mut got).unwrap();
    assert_eq!(got.inputs, want.inputs);
    assert_eq!(got, want);
}

/// A reader that gives one byte per read, so every CR ends a read.
struct OneByte<'a>(&'a [u8]);

impl std::io::Read for OneByte<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((&b, rest)), Some(slot)) => {
                *slot = b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

/// The bare-CR fix decides a CR that ends one read by the first byte of
/// the next: rows read one byte at a time are the rows read at once.
#[test]
fn csv_rows_after_a_cr_at_a_read_boundary() {
    for data in [&b"Log\r#\n2"[..], b"Log\r\n\rC\r\rD\r\nE\r", b"Log\r\n\"a\rb\"\r\r\nc\n\rd"] {
        let rows = crate_rows_from(&mut OneByte(data));
        assert_eq!(rows, crate_rows(data), "{:?}", String::from_utf8_lossy(data));
    }
}

/// fuzz target `scan_csv`: a body of a BOM and bare-CR-separated one-field
/// rows after the header. The bare CRs make the framing give up, and the
/// csv crate reads on from the line's start with a fresh reader, which
/// stripped the BOM as if it opened the file: one row fewer, the next
/// ones at the wrong bytes. Fixed: the resumed reader is given a blank
/// line first, so a BOM there is data, as it is to a reader of the whole
/// file.
#[test]
fn fuzz_scan_csv_bom_and_bare_crs() {
    assert_scan_csv_agrees(
        b"TimeGenerated [UTC],ContainerAppName_s,Log_s,Type_s\r\n\xef\xbb\xbf\r\xa8\r\xa8\r",
    );
}
