//! Output: a [`Report`] into bytes, one module per format.
//!
//! Output never scans and never computes: everything printed is already in
//! the report. Every string that came from a log passes through
//! `crate::redact` here, at the boundary.

mod csv;
mod json;
mod jsonl;
mod markdown;
mod table;

use std::io::{self, Write};

use crate::summary::Report;

pub use json::SCHEMA_VERSION;

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    /// Human summary table.
    Table,
    /// One JSON document.
    Json,
    /// One JSON event per reported line.
    Jsonl,
    /// The summary as CSV rows.
    Csv,
    /// The summary as Markdown.
    Markdown,
}

impl OutputKind {
    /// Whether this output needs every event kept.
    pub fn needs_events(self) -> bool {
        self == OutputKind::Jsonl
    }
}

/// Write the report in the chosen format, without colour.
pub fn write(kind: OutputKind, report: &Report, out: &mut dyn Write) -> io::Result<()> {
    write_color(kind, report, false, out)
}

/// Write the report in the chosen format; with `color`, the table is
/// coloured by severity (ANSI escapes). The other formats are for
/// programs and files: never coloured.
pub fn write_color(
    kind: OutputKind,
    report: &Report,
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    match kind {
        OutputKind::Table => table::write(report, color, out),
        OutputKind::Json => json::write(report, out),
        OutputKind::Jsonl => jsonl::write(report, out),
        OutputKind::Csv => csv::write(report, out),
        OutputKind::Markdown => markdown::write(report, out),
    }
}

/// What people should know about how complete the report is: lines cut
/// for matching, lists cut at their cap.
fn notes(report: &Report) -> Vec<String> {
    let mut notes = Vec::new();
    let cut = report.stats.total.truncated;
    if cut > 0 {
        notes.push(format!(
            "{} line{} over {} MiB matched on {} first MiB only",
            human(cut),
            if cut == 1 { "" } else { "s" },
            crate::scan::MAX_LINE >> 20,
            if cut == 1 { "its" } else { "their" },
        ));
    }
    let dups = report.stats.total.duplicates;
    if dups > 0 {
        notes.push(if report.stats.dedup {
            format!(
                "{} line{} repeating an earlier input's (same time, host and message) counted once; \
                 --no-dedup counts them again",
                human(dups),
                if dups == 1 { "" } else { "s" }
            )
        } else {
            format!("{} line{} repeat an earlier input's, counted again (--no-dedup)", human(dups), if dups == 1 { "" } else { "s" })
        });
    }
    if report.stats.duplicates_unchecked > 0 {
        notes.push(format!(
            "{} lines not checked for duplicates in later inputs (over {} remembered)",
            human(report.stats.duplicates_unchecked),
            human(crate::summary::FINGERPRINT_CAP as u64)
        ));
    }
    let a = &report.attribution;
    if a.symptoms > 0 {
        notes.push(format!(
            "{} of {} symptom-only occurrences (back-off, bare ErrImagePull) attributed to the cause \
             last seen for their image",
            human(a.attributed),
            human(a.symptoms)
        ));
    }
    if a.lines_left_out > 0 {
        notes.push(format!(
            "incidents and attribution from the first {} reported lines; {} more are only counted",
            human(crate::summary::MARK_CAP as u64),
            human(a.lines_left_out)
        ));
    }
    if report.capped {
        notes.push(format!(
            "lists capped at {} distinct values ({} --by groups); the rest are counted under \"other\"",
            human(crate::summary::TALLY_CAP as u64),
            human(crate::summary::GROUP_CAP as u64)
        ));
    }
    notes
}

/// `a (3), b (1)`: a top list on one line.
fn join_top(items: &[(String, u64)]) -> String {
    let each = items.iter().map(|(k, n)| format!("{} ({n})", crate::redact::redact(k)));
    each.collect::<Vec<_>>().join(", ")
}

/// `first → last`, or what is known.
fn seen(report: &crate::summary::CauseReport) -> String {
    match (report.first_seen, report.last_seen) {
        (Some(a), Some(b)) if a == b => a.to_string(),
        (Some(a), Some(b)) => format!("{a} → {b}"),
        _ => String::new(),
    }
}

/// Thousands separators for counts shown to people.
fn human(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
