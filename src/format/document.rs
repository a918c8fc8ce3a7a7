//! Inputs that are documents, not line streams: shape sniffing, Log
//! Analytics CSV exports, and JSON documents read element by element.
//!
//! This module owns deciding, once per input, how it must be read
//! ([`sniff`]: lines, CRI container log, CSV export, JSON document), and
//! reading the two document shapes into records in bounded memory:
//! [`read_csv`] holds one row at a time, [`read_json_document`] one array
//! or `items[]` element at a time, however large the input. Each row or
//! element becomes a record through the same field mappings the line path
//! uses (`super::aca`, `super::json`), and its message through the same
//! payload parsers. It does not open files or decompress (the caller hands
//! it a reader over the decompressed bytes) and knows nothing about rules.
//!
//! A line stream of one JSON object per line is *not* a document: it is
//! [`Shape::Lines`] (`journalctl -o json`) or [`Shape::Cri`] (docker
//! json-file logs, whose long lines come in pieces), and the line path
//! reads each object on its own, so the prefilter can skip the lines that
//! cannot matter.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize as _;
use serde_json::{Map, Value};

use super::{aca, cri, json, wrap, LineContext};
use crate::record::{Envelope, Record};

/// How many leading bytes (after decompression) [`sniff`] wants to see.
pub const SNIFF_LEN: usize = 64 * 1024;

/// How an input must be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    /// A stream of log lines, each parsed on its own (syslog, journald
    /// text or `-o json`, klog, logfmt, docker json-file, pasted output).
    Lines,
    /// A container log: CRI (`/var/log/pods/**`) or docker json-file
    /// (`/var/lib/docker/containers/*/*-json.log`, dockershim's
    /// `/var/log/containers/*`). Lines, but the runtime splits long lines
    /// into pieces that must be joined first ([`super::CriJoiner`]), and
    /// the path may name the pod ([`super::path_info`]).
    Cri,
    /// A Log Analytics CSV export ([`read_csv`]).
    Csv,
    /// One or more JSON values: an array of rows or events, a `kubectl get
    /// ... -o json` list, pretty-printed objects ([`read_json_document`]).
    JsonDocument,
}

/// Decide how to read an input from its first bytes (up to [`SNIFF_LEN`],
/// after decompression) and its path, if it has one.
///
/// - JSON document: the first non-blank byte is `[` followed by a JSON
///   value, or `{` where the first line is not one complete object (a
///   pretty-printed document) or is a whole one-line `List` with `items`;
/// - CSV: the first line is a CSV header naming a message column (`Log_s`,
///   `Log`, `Msg`, `Message`) and `TimeGenerated` (any suffix, such as
///   ` [UTC]`);
/// - CRI (container log): the first non-empty line is a CRI line or a
///   docker json-file entry, or the path is a kubelet container-log path;
/// - else lines (including other one-object-per-line JSON, such as
///   `journalctl -o json`).
pub fn sniff(head: &[u8], path: Option<&Path>) -> Shape {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = head.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(head.len());
    let body = &head[start..];
    match body.first() {
        Some(b'[') => {
            let next = body[1..].iter().find(|c| !c.is_ascii_whitespace());
            if matches!(next, Some(b'{' | b'[' | b']' | b'"') | None) {
                return Shape::JsonDocument;
            }
        }
        Some(b'{') => {
            let line = first_line(body);
            return match serde_json::from_slice::<Map<String, Value>>(line) {
                Ok(obj) if obj.get("items").is_some_and(Value::is_array) => Shape::JsonDocument,
                // Docker json-file entries may be split like CRI lines.
                Ok(obj) if obj.contains_key("log") && obj.contains_key("stream") => Shape::Cri,
                Ok(_) => Shape::Lines,
                Err(_) => Shape::JsonDocument,
            };
        }
        _ => {}
    }
    let line = first_line(head);
    if memchr::memmem::find(line, b"TimeGenerated").is_some() && is_export_header(line) {
        return Shape::Csv;
    }
    let text = String::from_utf8_lossy(first_line(body));
    if cri::is_cri_line(&text) || path.and_then(cri::path_info).is_some() {
        return Shape::Cri;
    }
    Shape::Lines
}

/// The first line of `b`, without its line end.
fn first_line(b: &[u8]) -> &[u8] {
    let end = memchr::memchr(b'\n', b).unwrap_or(b.len());
    let line = &b[..end];
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Whether a line is a Log Analytics export header.
fn is_export_header(line: &[u8]) -> bool {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_reader(line);
    let mut header = csv::ByteRecord::new();
    if !matches!(rdr.read_byte_record(&mut header), Ok(true)) {
        return false;
    }
    let names: Vec<std::borrow::Cow<'_, str>> =
        header.iter().map(String::from_utf8_lossy).collect();
    aca::Columns::from_names(names.iter().map(|n| n.as_ref())).is_export()
}

/// A document that could not be read (on)ward from a position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocError {
    /// 1-based line of the input where the problem is.
    pub line: u64,
    /// 0-based byte offset, where known.
    pub byte: Option<u64>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for DocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.byte {
            Some(b) => write!(f, "line {} (byte {b}): {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

impl std::error::Error for DocError {}

/// Read a Log Analytics CSV export (`ContainerAppSystemLogs_CL`,
/// `ContainerAppSystemLogs`, and any table with the same column names),
/// one row at a time.
///
/// Columns are found by header name: `TimeGenerated [UTC]` / `TimeGenerated`
/// (ISO or the portal's `11/22/2024, 9:26:00.123 AM`), `Log_s` / `Log` /
/// `Msg` (the message), `ContainerAppName_s`, `RevisionName_s`,
/// `ReplicaName_s` (with or without `_s`), `Type_s` / `Type` (Warning /
/// Normal; a `Type` holding the table name is ignored), `Count_d` / `Count`,
/// `Computer` (host, when not empty). Records have envelope `AcaCsv` and
/// emitter `aca`; the message goes through the payload parsers (it may be
/// containerd or kubelet text). Quoted fields, embedded commas, doubled
/// quotes, embedded newlines, CRLF and a UTF-8 BOM are all CSV as the csv
/// crate reads it; invalid UTF-8 is decoded lossily.
///
/// `each(line, record)` gets the 1-based line on which the row starts. A
/// row with the wrong number of fields goes to `bad` and reading goes on.
/// An I/O error, or a header without a message column, ends the reading
/// with `Err` (after every row before it was delivered). One row is held
/// at a time, however long the file; a single row is as long as its quoting
/// says (an unterminated quote makes the rest of the file one field).
pub fn read_csv(
    r: &mut dyn Read,
    ctx: &LineContext,
    each: &mut dyn FnMut(u64, Record<'_>),
    bad: &mut dyn FnMut(DocError),
) -> Result<(), DocError> {
    read_csv_rows(r, &mut |line, row| row.with_record(ctx, |rec| each(line, rec)), bad)
}

/// The header of a CSV export: which column is which.
#[derive(Clone, Debug)]
pub struct CsvHeader {
    cols: aca::Columns,
    message_col: usize,
    width: usize,
}

impl CsvHeader {
    /// From the header record's fields; an error if no column holds the
    /// message.
    fn new(row: &csv::ByteRecord) -> Result<CsvHeader, DocError> {
        let names: Vec<String> =
            row.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
        let cols = aca::Columns::from_names(names.iter().map(String::as_str));
        let Some(message_col) = cols.message() else {
            return Err(DocError {
                line: 1,
                byte: Some(0),
                message: "the CSV header names no message column (Log_s, Log, Msg, Message)".into(),
            });
        };
        Ok(CsvHeader { cols, message_col, width: row.len() })
    }

    /// How many fields every row must have.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Read the header record at the start of `buf`, which holds it whole;
    /// the header and the offset just past it. `Ok(None)` for an input
    /// without any record.
    pub fn read(buf: &[u8]) -> Result<Option<(CsvHeader, usize)>, DocError> {
        let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(buf);
        let mut row = csv::ByteRecord::new();
        if !next_row(&mut rdr, &mut row, (1, 0))? {
            return Ok(None);
        }
        let end = rdr.position().byte() as usize;
        // The reader stops before the `\n` of a CRLF.
        let end = if buf.get(end) == Some(&b'\n') { end + 1 } else { end };
        Ok(Some((CsvHeader::new(&row)?, end)))
    }

    /// Parse one record (`bytes` holds it whole, line end included) and
    /// hand it to `each`; a record with the wrong number of fields is an
    /// error at `at` (line, byte). A blank record is no row at all.
    pub fn row(
        &self,
        bytes: &[u8],
        at: (u64, u64),
        parser: &mut CsvParser,
        each: &mut dyn FnMut(u64, CsvRow<'_>),
    ) -> Result<(), DocError> {
        if parser.parse(bytes) {
            self.deliver(&parser.record, at, each)
        } else {
            Ok(())
        }
    }

    fn deliver(
        &self,
        row: &csv::ByteRecord,
        (line, byte): (u64, u64),
        each: &mut dyn FnMut(u64, CsvRow<'_>),
    ) -> Result<(), DocError> {
        if row.len() != self.width {
            return Err(DocError {
                line,
                byte: Some(byte),
                message: format!("row has {} fields, the header has {}", row.len(), self.width),
            });
        }
        each(line, CsvRow { header: self, row });
        Ok(())
    }
}

/// Parses single CSV records with buffers kept from one to the next.
#[derive(Debug)]
pub struct CsvParser {
    core: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    record: csv::ByteRecord,
}

impl Default for CsvParser {
    fn default() -> CsvParser {
        CsvParser {
            core: csv_core::Reader::new(),
            out: Vec::new(),
            ends: Vec::new(),
            record: csv::ByteRecord::new(),
        }
    }
}

impl CsvParser {
    /// Parse the one record `bytes` holds into `self.record`; `false` for
    /// a blank record (the csv crate skips those too).
    fn parse(&mut self, bytes: &[u8]) -> bool {
        self.core.reset();
        self.record.clear();
        // Unquoting only shrinks a record, and it has at most one field
        // more than it has bytes. The buffers only grow: resizing them to
        // each record re-zeroed them for every candidate row.
        if self.out.len() < bytes.len().max(1) {
            self.out.resize(bytes.len().max(1), 0);
        }
        if self.ends.len() < bytes.len() + 1 {
            self.ends.resize(bytes.len() + 1, 0);
        }
        let (res, _, _, fields) = self.core.read_record(bytes, &mut self.out, &mut self.ends);
        if !matches!(res, csv_core::ReadRecordResult::Record) {
            // No line end after the record (the last one of the input, or
            // an unterminated quote): the end of input ends it, which the
            // crate's reader handles.
            let mut rdr =
                csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
            return rdr.read_byte_record(&mut self.record).unwrap_or(false);
        }
        let mut start = 0;
        for &end in &self.ends[..fields] {
            self.record.push_field(&self.out[start..end]);
            start = end;
        }
        true
    }
}

/// One data row of a CSV export, not yet turned into a record.
pub struct CsvRow<'r> {
    header: &'r CsvHeader,
    row: &'r csv::ByteRecord,
}

impl<'r> CsvRow<'r> {
    /// The raw message field (unescaped CSV, not yet decoded).
    pub fn message(&self) -> &'r [u8] {
        self.row.get(self.header.message_col).unwrap_or_default()
    }

    /// The row as a record (envelope `AcaCsv`, the message through the
    /// payload parsers), handed to `f`.
    pub fn with_record<T>(&self, ctx: &LineContext, f: impl FnOnce(Record<'_>) -> T) -> T {
        let get = |i: usize| self.row.get(i).map(String::from_utf8_lossy);
        let outer = self.header.cols.outer(Envelope::AcaCsv, get);
        let message = get(self.header.message_col).unwrap_or_default();
        f(wrap(outer, &message, ctx, 0))
    }
}

/// [`read_csv`] one row at a time before the record is built: `each`
/// decides from the raw message whether a row is worth a record (the
/// scanner skips most rows of an export that way). Every row with the
/// header's width reaches `each`; the others go to `bad`.
pub fn read_csv_rows(
    r: &mut dyn Read,
    each: &mut dyn FnMut(u64, CsvRow<'_>),
    bad: &mut dyn FnMut(DocError),
) -> Result<(), DocError> {
    let starts = Rc::new(RefCell::new(VecDeque::new()));
    let lines = LineStarts::new(r, (1, 0), Rc::clone(&starts));
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(lines);
    let mut row = csv::ByteRecord::new();
    if !next_row(&mut rdr, &mut row, (1, 0))? {
        return Ok(());
    }
    let header = CsvHeader::new(&row)?;
    read_csv_body(&mut rdr, &header, &starts, (1, 0), each, bad)
}

/// Continue reading rows after the header with the csv crate: the
/// scanner's fallback for a block its record framing cannot read (see
/// [`super::csv_frame`]). `r` starts at a record start on line `line`,
/// `offset` bytes into the input.
pub fn read_csv_rows_from(
    r: &mut dyn Read,
    header: &CsvHeader,
    (line, offset): (u64, u64),
    each: &mut dyn FnMut(u64, CsvRow<'_>),
    bad: &mut dyn FnMut(DocError),
) -> Result<(), DocError> {
    // The csv crate strips a UTF-8 BOM at the start of what it reads: a
    // BOM that opens the rest of an input mid-file is data, as it is to a
    // reader of the whole file. A blank line before it (the reader skips
    // it) keeps the BOM from being first; the bases step back over it.
    let mut chained = io::Read::chain(&b"\n"[..], r);
    let base = (line.saturating_sub(1), offset.saturating_sub(1));
    let starts = Rc::new(RefCell::new(VecDeque::new()));
    let lines = LineStarts::new(&mut chained, base, Rc::clone(&starts));
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(lines);
    read_csv_body(&mut rdr, header, &starts, base, each, bad)
}

fn read_csv_body<R: Read>(
    rdr: &mut csv::Reader<R>,
    header: &CsvHeader,
    starts: &RefCell<VecDeque<LineStart>>,
    base: (u64, u64),
    each: &mut dyn FnMut(u64, CsvRow<'_>),
    bad: &mut dyn FnMut(DocError),
) -> Result<(), DocError> {
    let mut row = csv::ByteRecord::new();
    while next_row(rdr, &mut row, base)? {
        let at = row_start(&row, starts, base);
        if let Err(e) = header.deliver(&row, at, each) {
            bad(e);
        }
    }
    Ok(())
}

/// Read the next CSV record; `Ok(false)` at the end. The reader started
/// on line `base.0`, `base.1` bytes into the input.
fn next_row<R: Read>(
    rdr: &mut csv::Reader<R>,
    row: &mut csv::ByteRecord,
    base: (u64, u64),
) -> Result<bool, DocError> {
    rdr.read_byte_record(row).map_err(|e| {
        let pos = e.position().cloned().unwrap_or_else(|| rdr.position().clone());
        DocError {
            line: pos.line() + base.0 - 1,
            byte: Some(pos.byte() + base.1),
            message: e.to_string(),
        }
    })
}

/// A line start seen by [`LineStarts`]: byte offset, 1-based line, and
/// whether the line is blank (starts with a line end).
type LineStart = (u64, u64, bool);

/// The line and byte on which a CSV row starts.
///
/// The csv crate's record position is where reading resumed after the
/// previous record, which is before any blank lines and before the `\n`
/// of a CRLF: the row itself starts on the first non-blank line at or after
/// that byte. Line starts already passed are dropped, so the queue holds
/// only what the csv reader has buffered ahead.
fn row_start(
    row: &csv::ByteRecord,
    starts: &RefCell<VecDeque<LineStart>>,
    base: (u64, u64),
) -> (u64, u64) {
    let Some(pos) = row.position() else { return (0, 0) };
    let at = pos.byte() + base.1;
    let mut starts = starts.borrow_mut();
    while starts.front().is_some_and(|&(offset, _, blank)| offset < at || blank) {
        starts.pop_front();
    }
    match starts.front() {
        Some(&(offset, line, _)) => (line, offset),
        None => (pos.line() + base.0 - 1, at),
    }
}

/// A reader that notes where each line starts, for [`row_start`].
///
/// The csv crate ends a record at a bare CR (one no LF follows) as well
/// as at LF, so a row can start mid-line after a bare CR: such a start is
/// noted too, on the line the CR is on. A CR that ends one read is
/// decided by the first byte of the next (`after_cr`).
struct LineStarts<'r> {
    inner: &'r mut dyn Read,
    offset: u64,
    line: u64,
    at_start: bool,
    after_cr: bool,
    starts: Rc<RefCell<VecDeque<LineStart>>>,
}

impl LineStarts<'_> {
    fn new(
        inner: &mut dyn Read,
        (line, offset): (u64, u64),
        starts: Rc<RefCell<VecDeque<LineStart>>>,
    ) -> LineStarts<'_> {
        LineStarts { inner, offset, line, at_start: true, after_cr: false, starts }
    }
}

impl Read for LineStarts<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut starts = self.starts.borrow_mut();
        let read = &buf[..n];
        if self.after_cr && !read.is_empty() {
            self.after_cr = false;
            self.at_start = read[0] != b'\n';
        }
        let mut i = 0;
        while i < read.len() {
            if self.at_start {
                let blank = matches!(read[i], b'\r' | b'\n');
                starts.push_back((self.offset + i as u64, self.line, blank));
                self.at_start = false;
            }
            let Some(end) = memchr::memchr2(b'\n', b'\r', &read[i..]) else { break };
            i += end + 1;
            if read[i - 1] == b'\n' {
                self.line += 1;
                self.at_start = true;
            } else if i == read.len() {
                self.after_cr = true;
            } else if read[i] != b'\n' {
                self.at_start = true;
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// Read a JSON document, streaming, one element at a time.
///
/// A top-level array is read element by element; a top-level object is
/// scanned key by key, its `items` array (a `kubectl get ... -o json`
/// list) read element by element and its other keys skipped, or, when it
/// has no `items`, taken as one record itself (a single Event). Several
/// top-level values one after another (`kubectl get events -w -o json`, a
/// `cluster-info dump`) are read in turn. Each object goes to
/// [`super::record_from_json`]: Kubernetes Events, Log Analytics rows and
/// the other known shapes become records; elements of other shapes are
/// skipped, not errors.
///
/// `each(line, record)` gets the 1-based line on which the element's `{`
/// stands. A syntax error ends the reading with `Err`, at the error's line,
/// after every complete element before it was delivered. Memory holds one
/// element (plus, for a top-level object, the few keys an Event uses).
pub fn read_json_document(
    r: &mut dyn Read,
    ctx: &LineContext,
    each: &mut dyn FnMut(u64, Record<'_>),
) -> Result<(), DocError> {
    let pos = Rc::new(Cell::new(Pos::default()));
    let reader = Counting { inner: BufReader::new(r), pos: Rc::clone(&pos) };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut sink = Sink { ctx, each, pos: Rc::clone(&pos) };
    loop {
        // `end` only peeks: it says whether another value follows.
        match de.end() {
            Ok(()) => return Ok(()),
            Err(e) if e.is_io() => return Err(doc_error(&e, pos.get())),
            Err(_) => {}
        }
        Top(&mut sink).deserialize(&mut de).map_err(|e| doc_error(&e, pos.get()))?;
    }
}

/// How far the JSON reader has read.
#[derive(Clone, Copy, Debug, Default)]
struct Pos {
    newlines: u64,
    bytes: u64,
}

impl Pos {
    /// The line and byte of the last byte read: while a value is being
    /// visited, serde_json has read exactly through its first byte.
    fn last_byte(self) -> (u64, u64) {
        (self.newlines + 1, self.bytes.saturating_sub(1))
    }
}

/// A reader that counts what passes through it. serde_json reads one
/// byte at a time, so the buffering sits underneath.
struct Counting<R> {
    inner: R,
    pos: Rc<Cell<Pos>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let read = &buf[..n];
        let mut p = self.pos.get();
        p.bytes += n as u64;
        p.newlines += memchr::memchr_iter(b'\n', read).count() as u64;
        self.pos.set(p);
        Ok(n)
    }
}

fn doc_error(e: &serde_json::Error, pos: Pos) -> DocError {
    let text = e.to_string();
    // serde_json appends its own position; ours is in the fields.
    let message = match text.rsplit_once(" at line ") {
        Some((m, _)) if e.line() > 0 => m.to_string(),
        _ => text,
    };
    let line = if e.line() > 0 { e.line() as u64 } else { pos.newlines + 1 };
    DocError { line, byte: Some(pos.bytes), message }
}

/// Where records go.
struct Sink<'s> {
    ctx: &'s LineContext,
    each: &'s mut dyn FnMut(u64, Record<'_>),
    pos: Rc<Cell<Pos>>,
}

impl Sink<'_> {
    fn line(&self) -> u64 {
        self.pos.get().last_byte().0
    }

    /// One object: a record if it has a known shape; a list's items if it
    /// is a list held whole (a list inside an array).
    fn deliver(&mut self, line: u64, obj: &Map<String, Value>) {
        if let Some(rec) = json::record_at(obj, self.ctx, 1) {
            (self.each)(line, rec);
        } else if let Some(items) = obj.get("items").and_then(Value::as_array) {
            for item in items.iter().filter_map(Value::as_object) {
                if let Some(rec) = json::record_at(item, self.ctx, 1) {
                    (self.each)(line, rec);
                }
            }
        }
    }
}

/// A top-level value.
struct Top<'a, 's>(&'a mut Sink<'s>);

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(TopVisitor(self.0))
    }
}

/// A scalar where a document, list or object was expected is skipped, not
/// an error (the same for every visitor below).
macro_rules! ignore_scalars {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            Ok(())
        }
    };
}

struct TopVisitor<'a, 's>(&'a mut Sink<'s>);

impl<'de> Visitor<'de> for TopVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON document")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Element(&mut *self.0))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let line = self.0.line();
        let mut kept = Map::new();
        let mut listed = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                listed = true;
                map.next_value_seed(Items(&mut *self.0))?;
            } else if json::is_wanted_key(&key) {
                let v: Value = map.next_value()?;
                kept.insert(key, v);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if !listed {
            self.0.deliver(line, &kept);
        }
        Ok(())
    }

    ignore_scalars!();
}

/// A list's `items`: an array read element by element (anything else is
/// skipped).
struct Items<'a, 's>(&'a mut Sink<'s>);

impl<'de> DeserializeSeed<'de> for Items<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(ItemsVisitor(self.0))
    }
}

struct ItemsVisitor<'a, 's>(&'a mut Sink<'s>);

impl<'de> Visitor<'de> for ItemsVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an items array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Element(&mut *self.0))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    ignore_scalars!();
}

/// One array element, held whole while it becomes a record.
struct Element<'a, 's>(&'a mut Sink<'s>);

impl<'de> DeserializeSeed<'de> for Element<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        // serde_json has read the element's first byte: this is its line.
        let line = self.0.line();
        if let Value::Object(obj) = Value::deserialize(d)? {
            self.0.deliver(line, &obj);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Emitter, Format, Level};

    /// Records as `(line, summary)`, bad rows as text, and the result.
    type CsvRun = (Vec<(u64, String)>, Vec<String>, Result<(), DocError>);

    fn csv_records(input: &[u8]) -> CsvRun {
        let ctx = LineContext::in_year(2024);
        let mut got = Vec::new();
        let mut bad = Vec::new();
        let res = read_csv(
            &mut &input[..],
            &ctx,
            &mut |line, r| {
                got.push((
                    line,
                    format!(
                        "{}|{}|{:?}|{}|{}|{}|{}|{}|{}",
                        r.time.map(|t| t.to_string()).unwrap_or_default(),
                        r.level.is_debug(),
                        r.level,
                        r.app.as_deref().unwrap_or_default(),
                        r.revision.as_deref().unwrap_or_default(),
                        r.replica.as_deref().unwrap_or_default(),
                        r.count,
                        r.host.as_deref().unwrap_or_default(),
                        r.message
                    ),
                ));
                assert_eq!(r.envelope, Some(Envelope::AcaCsv));
                assert_eq!(r.emitter, Emitter::Aca);
            },
            &mut |e| bad.push(e.to_string()),
        );
        (got, bad, res)
    }

    /// A portal export of `ContainerAppSystemLogs_CL` (the 19 columns Log
    /// Analytics writes) with real ACA pull-failure messages (see
    /// `corpus-seed/real-lines.jsonl`, format `aca-system-log`): quoted
    /// fields, embedded commas, doubled quotes, an embedded newline, CRLF,
    /// a BOM, a short row.
    const EXPORT: &str = "\u{feff}TenantId,SourceSystem,MG,ManagementGroupName,TimeGenerated [UTC],Computer,RawData,ContainerAppName_s,EnvironmentName_s,RevisionName_s,ReplicaName_s,Log_s,Reason_s,Type_s,EventSource_s,Count_d,_timestamp_d,Type,_ResourceId\r\n\
30dd6553-c725-8f04-cb29-a9464e660ea6,RestAPI,,,\"11/22/2024, 9:26:00.123 AM\",,,ca-web,cae-prod,ca-web--r1,ca-web--r1-5d65b5999-nm2l2,\"Failed to pull image \"\"someacr.azurecr.io/image:tag\"\": rpc error: code = Unknown desc = failed to pull and unpack image \"\"someacr.azurecr.io/image:tag\"\": failed to resolve reference \"\"someacr.azurecr.io/image:tag\"\": failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized\",ImagePullFailure,Warning,ContainerAppController,3,1732267560.123,ContainerAppSystemLogs_CL,/SUBSCRIPTIONS/X\r\n\
30dd6553-c725-8f04-cb29-a9464e660ea6,RestAPI,,,\"11/22/2024, 9:26:01.000 PM\",aks-node-1,,ca-web,cae-prod,ca-web--r1,ca-web--r1-5d65b5999-nm2l2,\"Persistent Image Pull Errors for image \"\"someregistry.com/image:atest\"\".\nPlease check https://aka.ms/cappsimagepullerrors.\",ImagePullFailure,Warning,ContainerAppController,1,1732267561.0,ContainerAppSystemLogs_CL,/SUBSCRIPTIONS/X\r\n\
short,row\r\n\
30dd6553-c725-8f04-cb29-a9464e660ea6,RestAPI,,,2024-11-22T09:27:00.5Z,,,ca-web,cae-prod,ca-web--r1,,\"Replica 'ca-web--r1-x' has been scheduled to run on a node.\",AssigningReplica,Normal,ContainerAppController,,1732267620.5,ContainerAppSystemLogs_CL,/SUBSCRIPTIONS/X\r\n";

    #[test]
    fn csv_export() {
        let (got, bad, res) = csv_records(EXPORT.as_bytes());
        assert_eq!(res, Ok(()));
        let want = [
            (2, "2024-11-22T09:26:00.123Z|false|Warning|ca-web|ca-web--r1|ca-web--r1-5d65b5999-nm2l2|3||Failed to pull image \"someacr.azurecr.io/image:tag\": rpc error"),
            (3, "2024-11-22T21:26:01Z|false|Warning|ca-web|ca-web--r1|ca-web--r1-5d65b5999-nm2l2|1|aks-node-1|Persistent Image Pull Errors for image \"someregistry.com/image:atest\". Please check"),
            (6, "2024-11-22T09:27:00.5Z|false|Info|ca-web|ca-web--r1||1||Replica 'ca-web--r1-x' has been scheduled"),
        ];
        assert_eq!(got.len(), want.len(), "{got:#?}");
        for ((line, rec), (wline, wrec)) in got.iter().zip(want) {
            assert_eq!(*line, wline, "{rec}");
            assert!(rec.starts_with(wrec), "{rec}\n  wanted {wrec}");
        }
        assert_eq!(
            bad,
            vec!["line 5 (byte 1145): row has 2 fields, the header has 19".to_string()]
        );
    }

    #[test]
    fn csv_azure_monitor_table_and_payloads() {
        // The Azure Monitor table (no `_s` suffixes), a containerd logfmt
        // payload, and invalid UTF-8.
        let mut input = b"TimeGenerated,ContainerAppName,RevisionName,ReplicaName,Log,Type,Count\n\
2024-11-22T09:26:00Z,app,app--r2,app--r2-x,\"time=\"\"2024-11-22T09:25:59Z\"\" level=error msg=\"\"PullImage \\\"\"nginx\\\"\"  failed\"\"\",ContainerAppSystemLogs,2\n"
            .to_vec();
        input.extend_from_slice(
            b"2024-11-22T09:26:01Z,app,app--r2,app--r2-x,bad \xff byte,Warning,1\n",
        );
        let ctx = LineContext::in_year(2024);
        let mut got = Vec::new();
        let res = read_csv(
            &mut &input[..],
            &ctx,
            &mut |line, r| got.push((line, r.format, r.level, r.count, r.message.into_owned())),
            &mut |e| panic!("unexpected bad row: {e}"),
        );
        assert_eq!(res, Ok(()));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, 2);
        assert_eq!(got[0].1, Format::Logfmt);
        // The table's `Type` is its name, not a level, so the payload's
        // logfmt level stands.
        assert_eq!(got[0].2, Level::Error);
        assert_eq!(got[0].3, 2);
        assert!(got[0].4.contains("PullImage \"nginx\""), "{}", got[0].4);
        assert_eq!(got[1].4, "bad \u{fffd} byte");
        assert_eq!(got[1].2, Level::Warning);
    }

    #[test]
    fn csv_without_message_column_is_an_error() {
        let (got, _, res) = csv_records(b"a,b\n1,2\n");
        assert!(got.is_empty());
        assert_eq!(res.map_err(|e| e.line), Err(1));
        let (got, _, res) = csv_records(b"");
        assert!(got.is_empty());
        assert_eq!(res, Ok(()));
    }

    fn json_records(input: &str) -> (Vec<(u64, String)>, Result<(), DocError>) {
        let ctx = LineContext::in_year(2024);
        let mut got = Vec::new();
        let res = read_json_document(&mut input.as_bytes(), &ctx, &mut |line, r| {
            got.push((
                line,
                format!(
                    "{}|{}|{}|{}|{}|{}",
                    r.envelope.map_or("", |e| e.name()),
                    r.pod.as_deref().unwrap_or_default(),
                    r.container.as_deref().unwrap_or_default(),
                    r.host.as_deref().unwrap_or_default(),
                    r.count,
                    r.message
                ),
            ));
        });
        (got, res)
    }

    /// `kubectl get events -o json` as kubectl prints it (indentation and
    /// field order of a real minikube cluster's EventList), with a pull
    /// failure and a Pulling event.
    const EVENT_LIST: &str = r#"{
    "apiVersion": "v1",
    "items": [
        {
            "apiVersion": "v1",
            "count": 3,
            "eventTime": null,
            "firstTimestamp": "2024-11-17T10:20:01Z",
            "involvedObject": {
                "apiVersion": "v1",
                "fieldPath": "spec.containers{web}",
                "kind": "Pod",
                "name": "web-5d65b5999-nm2l2",
                "namespace": "default",
                "resourceVersion": "512",
                "uid": "039e0c2f-3dbe-4622-ae3f-ce05113b939e"
            },
            "kind": "Event",
            "lastTimestamp": "2024-11-17T10:21:30Z",
            "message": "Failed to pull image \"nginx:1.27-bad\": rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nginx:1.27-bad\": failed to resolve reference \"docker.io/library/nginx:1.27-bad\": docker.io/library/nginx:1.27-bad: not found",
            "metadata": {
                "creationTimestamp": "2024-11-17T10:20:01Z",
                "name": "web-5d65b5999-nm2l2.1808ba3428d48a61",
                "namespace": "default",
                "resourceVersion": "540",
                "uid": "abc86464-b7eb-43a7-9fb5-9d5fb42715a6"
            },
            "reason": "Failed",
            "reportingComponent": "kubelet",
            "reportingInstance": "minikube",
            "source": {
                "component": "kubelet",
                "host": "minikube"
            },
            "type": "Warning"
        },
        {
            "apiVersion": "v1",
            "count": 1,
            "involvedObject": {
                "kind": "Pod",
                "name": "web-5d65b5999-nm2l2",
                "namespace": "default",
                "fieldPath": "spec.containers{web}"
            },
            "kind": "Event",
            "lastTimestamp": "2024-11-17T10:20:01Z",
            "message": "Pulling image \"nginx:1.27-bad\"",
            "reason": "Pulling",
            "source": {"component": "kubelet", "host": "minikube"},
            "type": "Normal"
        },
        {"kind": "Pod", "metadata": {"name": "not-an-event"}}
    ],
    "kind": "List",
    "metadata": {
        "resourceVersion": ""
    }
}
"#;

    #[test]
    fn json_event_list() {
        let (got, res) = json_records(EVENT_LIST);
        assert_eq!(res, Ok(()));
        let want = [
            (4, "k8s-event-json|web-5d65b5999-nm2l2|web|minikube|3|Failed to pull image \"nginx:1.27-bad\""),
            (37, "k8s-event-json|web-5d65b5999-nm2l2|web|minikube|1|Pulling image"),
        ];
        assert_eq!(got.len(), 2, "{got:#?}");
        for ((line, rec), (wline, wrec)) in got.iter().zip(want) {
            assert_eq!(*line, wline, "{rec}");
            assert!(rec.starts_with(wrec), "{rec}\n  wanted {wrec}");
        }
    }

    #[test]
    fn json_shapes() {
        // `az monitor log-analytics query -o json`: an array of string rows.
        let rows = r#"[
  {
    "ContainerAppName_s": "ca-web",
    "Log_s": "Failed to pull image \"acr1.azurecr.io/web:1.4\": rpc error: code = Unknown desc = failed to pull and unpack image \"acr1.azurecr.io/web:1.4\": failed to resolve reference \"acr1.azurecr.io/web:1.4\": failed to do request: Head \"https://acr1.azurecr.io/v2/web/manifests/1.4\": dial tcp: lookup acr1.azurecr.io on 168.63.129.16:53: no such host",
    "RevisionName_s": "ca-web--r1",
    "TableName": "PrimaryResult",
    "TimeGenerated": "2024-11-22T09:26:00.123Z"
  },
  {
    "Log_s": "Pulling image \"acr1.azurecr.io/web:1.4\"",
    "TableName": "PrimaryResult",
    "TimeGenerated": "2024-11-22T09:25:58Z"
  },
  42,
  {"unrelated": true}
]"#;
        let (got, res) = json_records(rows);
        assert_eq!(res, Ok(()));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, 2);
        assert!(got[0].1.starts_with("aca-json||||1|Failed to pull image"), "{}", got[0].1);
        assert_eq!(got[1].0, 9);

        // A single pretty-printed Event, then another (`kubectl get events -w -o json`).
        let watch = "{\n  \"kind\": \"Event\",\n  \"message\": \"Back-off pulling image \\\"x\\\"\",\n  \"involvedObject\": {\"kind\": \"Pod\", \"name\": \"p\"},\n  \"huge\": [1, 2, {\"deep\": [[]]}]\n}\n\n  {\"kind\": \"Event\", \"message\": \"Error: ErrImagePull\", \"count\": 4}\n";
        let (got, res) = json_records(watch);
        assert_eq!(res, Ok(()));
        let lines: Vec<u64> = got.iter().map(|g| g.0).collect();
        assert_eq!(lines, vec![1, 8]);
        assert!(got[1].1.ends_with("|4|Error: ErrImagePull"), "{}", got[1].1);

        // A list inside an array (a cluster-info dump wrapped in []).
        let nested = r#"[{"kind":"EventList","items":[{"kind":"Event","message":"m1"},{"kind":"Event","message":"m2"}]}]"#;
        let (got, res) = json_records(nested);
        assert_eq!(res, Ok(()));
        assert_eq!(got.len(), 2);

        // Empty, whitespace, scalars, an empty list.
        for doc in [
            "",
            "  \n",
            "42",
            "\"x\"",
            "null",
            "[]",
            "{\"items\": null}",
            "{\"items\": {\"a\": 1}}",
        ] {
            let (got, res) = json_records(doc);
            assert_eq!(res, Ok(()), "{doc}");
            assert!(got.is_empty(), "{doc}");
        }
    }

    #[test]
    fn json_errors_come_after_good_elements() {
        let doc = "[\n{\"kind\":\"Event\",\"message\":\"one\"},\n{\"kind\":\"Event\",\"message\":\"two\"},\n{\"kind\":\"Event\",\"mess";
        let (got, res) = json_records(doc);
        assert_eq!(got.len(), 2);
        let err = res.expect_err("truncated document");
        assert_eq!(err.line, 4);
        assert!(err.message.contains("EOF"), "{err}");
        assert!(err.to_string().starts_with("line 4 (byte "), "{err}");

        let (got, res) = json_records("{\"kind\":\"Event\",\"message\":\"one\"}\n]");
        assert_eq!(got.len(), 1);
        assert_eq!(res.map_err(|e| e.line), Err(2));
    }

    #[test]
    fn json_documents_stream() {
        // 20k events in one list: delivered one by one with the right lines.
        let mut doc = String::from("{\"kind\":\"List\",\"items\":[\n");
        for i in 0..20_000 {
            if i > 0 {
                doc.push_str(",\n");
            }
            doc.push_str(&format!("{{\"kind\":\"Event\",\"message\":\"event {i}\"}}"));
        }
        doc.push_str("\n]}\n");
        let mut n = 0u64;
        let ctx = LineContext::in_year(2024);
        let res = read_json_document(&mut doc.as_bytes(), &ctx, &mut |line, r| {
            assert_eq!(line, n + 2);
            assert_eq!(r.message, format!("event {n}"));
            n += 1;
        });
        assert_eq!(res, Ok(()));
        assert_eq!(n, 20_000);
    }

    #[test]
    fn shapes() {
        let pods =
            Path::new("/var/log/pods/default_web-0_8dcdd4e8-981e-43f3-92a8-456f5b5bb591/app/0.log");
        // (head, path, shape)
        let table: [(&[u8], Option<&Path>, Shape); 17] = [
            (EVENT_LIST.as_bytes(), None, Shape::JsonDocument),
            (b"[\n  {\n    \"Log_s\": \"x\"", None, Shape::JsonDocument),
            (b"[]", None, Shape::JsonDocument),
            (b"[preflight] Pulling images required for setting up a Kubernetes cluster\n", None, Shape::Lines),
            (b"[INFO] starting\n", None, Shape::Lines),
            (b"{\"__REALTIME_TIMESTAMP\":\"1\",\"MESSAGE\":\"x\"}\n{\"__REALTIME_TIMESTAMP\":\"2\",", None, Shape::Lines),
            (b"{\"log\":\"x\\n\",\"stream\":\"stderr\",\"time\":\"2020-04-10T14:04:50Z\"}\n", Some(pods), Shape::Cri),
            (b"{\"apiVersion\":\"v1\",\"items\":[],\"kind\":\"List\"}\n", None, Shape::JsonDocument),
            (b"{\"kind\":\"Event\",\"message\":\"a very long line cut by the sniff window", None, Shape::JsonDocument),
            (EXPORT.as_bytes(), None, Shape::Csv),
            (b"TimeGenerated,Log\r\n", None, Shape::Csv),
            (b"\"TimeGenerated [UTC]\",\"Msg\"\n", None, Shape::Csv),
            (b"TimeGenerated,Computer\n", None, Shape::Lines),
            (b"\n\n2024-01-01T00:00:00.000000000Z stderr F E0101 x\n", None, Shape::Cri),
            (b"whatever\n", Some(pods), Shape::Cri),
            (b"Nov 22 09:26:00 node-3 kubelet[1]: x\n", None, Shape::Lines),
            (b"", None, Shape::Lines),
        ];
        for (head, path, want) in table {
            assert_eq!(sniff(head, path), want, "{}", String::from_utf8_lossy(head));
        }
    }

    /// Truncated and garbage documents: never a panic, and errors carry a
    /// position.
    #[test]
    fn documents_never_panic() {
        let ctx = LineContext::in_year(2024);
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for doc in [EVENT_LIST, EXPORT] {
            let b = doc.as_bytes();
            for cut in (0..b.len()).step_by(7) {
                inputs.push(b[..cut].to_vec());
                inputs.push(b[cut..].to_vec());
            }
        }
        inputs.extend(
            [
                &b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["[..],
                b"{\"items\":[{\"items\":[{\"items\":[]}]}]}",
                b"\xff\xfe\x00{\"a\"",
                b"{\"message\":\"\\ud800\"}",
                b"\"unterminated",
                b"TimeGenerated,Log_s\n\"unterminated quote\n",
                b"TimeGenerated,Log_s\n,,,,,\n\xff\xff,\"\"\"\"\n",
                b",\n,\n",
            ]
            .iter()
            .map(|b| b.to_vec()),
        );
        let deep = "[".repeat(100_000);
        inputs.push(deep.into_bytes());
        for input in &inputs {
            let _ = sniff(input, None);
            let mut n = 0;
            let _ = read_json_document(&mut &input[..], &ctx, &mut |_, _| n += 1);
            let _ = read_csv(&mut &input[..], &ctx, &mut |_, _| n += 1, &mut |e| {
                assert!(e.line > 0, "{e}");
            });
        }
    }
}
