//! The CSV export readers on any bytes: `format::read_csv_rows` (the csv
//! crate, every row), `format::read_csv`, `CsvHeader::read` /
//! `CsvHeader::row`, and the record framing `format::csv_frame`.
//!
//! Properties:
//! - no panic;
//! - framing a text cut at any line start (the second part told whether it
//!   starts inside quotes, `quotes_odd` of the first) gives the record
//!   ends, field separators, newline count and conformance verdict of the
//!   whole (the contract `scan_csv`'s parallel chunks rely on);
//! - when the framing finds the quoting conforming, the rows its record
//!   ends give (each through `CsvHeader::row`) are the rows the csv crate
//!   reads (`read_csv_rows`): same rows, same messages, same start lines,
//!   same wrong-width rows. This is the equivalence `scan_csv` (framed)
//!   and `scan_csv_by_crate` are tested for.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use pullscan::format::{
    csv_frame, is_blank_record, quotes_odd, read_csv, read_csv_rows, CsvHeader, CsvParser, Framed,
    LineContext,
};

/// A row as either reader gives it: `Ok((line, message, fields))` or a
/// wrong-width row's `Err(line)`.
type Row = Result<(u64, Vec<u8>), u64>;

fn newlines(b: &[u8]) -> u64 {
    b.iter().filter(|&&c| c == b'\n').count() as u64
}

/// Two framings of a text cut at a line start, joined as one.
fn join(a: &Framed, b: &Framed, cut: usize) -> Framed {
    let mut ends = a.ends.clone();
    ends.extend(b.ends.iter().map(|e| e + cut));
    let mut commas = a.commas.clone();
    commas.extend(&b.commas);
    let tail_commas = match commas.get_mut(a.ends.len()) {
        Some(c) => {
            *c += a.tail_commas;
            b.tail_commas
        }
        None => a.tail_commas + b.tail_commas,
    };
    Framed {
        ends,
        commas,
        tail_commas,
        newlines: a.newlines + b.newlines,
        nonconforming: a.nonconforming || b.nonconforming,
    }
}

fuzz_target!(|data: &[u8]| {
    let ctx = LineContext::in_year(2024);

    // The csv crate's reading, rows and wrong-width rows in order.
    let by_crate: RefCell<Vec<Row>> = RefCell::new(Vec::new());
    let crate_res = read_csv_rows(
        &mut &data[..],
        &mut |line, row| {
            by_crate.borrow_mut().push(Ok((line, row.message().to_vec())));
            row.with_record(&ctx, |rec| assert!(rec.count >= 1));
        },
        &mut |e| by_crate.borrow_mut().push(Err(e.line)),
    );
    let by_crate = by_crate.into_inner();
    let _ = read_csv(&mut &data[..], &ctx, &mut |_, _| {}, &mut |_| {});

    // Framing: whole, and cut at up to 16 line starts.
    let whole = csv_frame(data, false);
    let starts: Vec<usize> = (1..data.len()).filter(|&i| data[i - 1] == b'\n').collect();
    let step = (starts.len() / 16).max(1);
    for &cut in starts.iter().step_by(step) {
        let (a, b) = data.split_at(cut);
        let fa = csv_frame(a, false);
        let fb = csv_frame(b, quotes_odd(a));
        assert_eq!(join(&fa, &fb, cut), whole, "cut at {cut}");
    }

    // Framed rows against the crate's, for conforming text after a header.
    let Ok(Some((header, used))) = CsvHeader::read(data) else { return };
    assert!(crate_res.is_ok(), "header read, crate reader failed: {crate_res:?}");
    assert!(used <= data.len());
    let body = &data[used..];
    let framed = csv_frame(body, false);
    if framed.nonconforming {
        return;
    }
    let mut ends = framed.ends.clone();
    if ends.last().copied().unwrap_or(0) < body.len() {
        ends.push(body.len());
    }
    let mut parser = CsvParser::default();
    let mut by_frame: Vec<Row> = Vec::new();
    let mut start = 0;
    for &end in &ends {
        let record = &body[start..end];
        if !is_blank_record(record) {
            let at = used + start;
            let line = 1 + newlines(&data[..at]);
            let res = header.row(record, (line, at as u64), &mut parser, &mut |line, row| {
                by_frame.push(Ok((line, row.message().to_vec())));
            });
            if let Err(e) = res {
                by_frame.push(Err(e.line));
            }
        }
        start = end;
    }
    assert_eq!(by_frame, by_crate, "framed rows differ from the csv crate's");
});
