//! `--output csv`: the summary, one row per cause, for spreadsheets.

use std::io::{self, Write};

use super::join_top;
use crate::redact::redact;
use crate::summary::Report;

const HEADER: &[&str] = &[
    "cause",
    "title",
    "count",
    "lines",
    "attributed_count",
    "incidents",
    "images_hit",
    "first_seen",
    "last_seen",
    "images",
    "registries",
    "hosts",
    "rules",
    "sample_file",
    "sample_line",
    "sample",
    "remediation",
];

/// Write the CSV summary: one row per cause, or per `--by` group.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if !report.groups.is_empty() {
        return write_groups(report, out);
    }
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    for c in &report.causes {
        let remediation = c
            .remediation
            .iter()
            .map(|f| match &f.registry_kind {
                Some(k) => format!("[{k}] {}", f.steps.trim()),
                None => f.steps.trim().to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        let time = |t: Option<crate::time::Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
        w.write_record([
            c.cause.as_str(),
            c.title.as_str(),
            &c.count.to_string(),
            &c.lines.to_string(),
            &c.attributed_count.to_string(),
            &c.incidents.to_string(),
            &c.images_hit.to_string(),
            &time(c.first_seen),
            &time(c.last_seen),
            &join_top(&c.images),
            &join_top(&c.registries),
            &join_top(&c.hosts),
            &join_top(&c.rules),
            c.sample.as_ref().map_or("", |s| s.file.as_str()),
            &c.sample.as_ref().map_or(String::new(), |s| s.line.to_string()),
            &c.sample.as_ref().map_or(String::new(), |s| redact(&s.text).into_owned()),
            &remediation,
        ])?;
    }
    w.flush()
}

fn write_groups(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["group", "count", "lines", "causes", "images", "first_seen", "last_seen"])?;
    let time = |t: Option<crate::time::Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
    for g in &report.groups {
        w.write_record([
            redact(&g.key).as_ref(),
            &g.count.to_string(),
            &g.lines.to_string(),
            &join_top(&g.causes),
            &join_top(&g.images),
            &time(g.first_seen),
            &time(g.last_seen),
        ])?;
    }
    w.flush()
}
