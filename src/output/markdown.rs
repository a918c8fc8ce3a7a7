//! `--output markdown`: the summary for tickets and chat.

use std::io::{self, Write};

use super::{human, join_top, notes, seen};
use crate::redact::redact;
use crate::summary::Report;

/// Escape text for a table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Write the Markdown summary.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let t = &report.stats.total;
    writeln!(out, "# Image pull failures\n")?;
    writeln!(
        out,
        "{} inputs, {} lines, {} classified, {} unclassified.\n",
        report.stats.inputs.len(),
        human(t.lines),
        human(t.classified),
        human(t.unclassified)
    )?;
    for note in notes(report) {
        writeln!(out, "> Note: {note}.\n")?;
    }
    if report.causes.is_empty() {
        return writeln!(out, "No image pull failures found.");
    }
    writeln!(out, "## Root causes, what to fix first\n")?;
    writeln!(out, "| # | Root cause | Incidents | Images | Count | Own lines' count |")?;
    writeln!(out, "| ---: | --- | ---: | ---: | ---: | ---: |")?;
    for (rank, r) in report.root_causes.iter().enumerate() {
        let own = report.causes.iter().find(|c| c.cause == r.cause).map_or(0, |c| c.count);
        let mark = if r.symptom { " (no cause line seen)" } else { "" };
        writeln!(
            out,
            "| {} | `{}`{mark} | {} | {} | {} | {own} |",
            rank + 1,
            r.cause,
            r.incidents,
            r.images,
            r.count
        )?;
    }
    if !report.incidents.is_empty() {
        writeln!(out, "\n| Incident | Image | First seen | Last seen | Count |")?;
        writeln!(out, "| --- | --- | --- | --- | ---: |")?;
        for i in report.incidents.iter().take(10) {
            let time =
                |t: Option<crate::time::Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
            writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                i.cause,
                cell(&redact(i.image.as_deref().unwrap_or("-"))),
                time(i.first_seen),
                time(i.last_seen),
                i.count
            )?;
        }
    }
    writeln!(out, "\n## Causes\n")?;
    writeln!(out, "| Cause | Count | Top images | Registries | Nodes | Seen |")?;
    writeln!(out, "| --- | ---: | --- | --- | --- | --- |")?;
    for c in &report.causes {
        writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            c.cause,
            c.count,
            cell(&join_top(&c.images)),
            cell(&join_top(&c.registries)),
            cell(&join_top(&c.hosts)),
            cell(&seen(c))
        )?;
    }
    if !report.groups.is_empty() {
        writeln!(out, "\n| Group | Count | Causes |")?;
        writeln!(out, "| --- | ---: | --- |")?;
        for g in &report.groups {
            writeln!(
                out,
                "| {} | {} | {} |",
                cell(&redact(&g.key)),
                g.count,
                cell(&join_top(&g.causes))
            )?;
        }
    }
    if !report.images.is_empty() {
        writeln!(out, "\n| Image | Failed | Pulled | Failure ratio |")?;
        writeln!(out, "| --- | ---: | ---: | ---: |")?;
        for i in &report.images {
            let ratio = i.failure_ratio() * 100.0;
            writeln!(
                out,
                "| `{}` | {} | {} | {ratio:.0} % |",
                redact(&i.image),
                i.failures,
                i.successes
            )?;
        }
    }
    for c in &report.causes {
        writeln!(out, "\n### `{}`: {}\n", c.cause, c.title)?;
        writeln!(out, "{} occurrences in {} lines.", c.count, c.lines)?;
        if !c.rules.is_empty() {
            writeln!(out, "Rules: {}.", join_top(&c.rules))?;
        }
        if let Some(s) = &c.sample {
            writeln!(out, "\nSample ({}:{}):\n\n```\n{}\n```", s.file, s.line, redact(&s.text))?;
        }
        if c.cause == crate::summary::UNCLASSIFIED && !report.templates.is_empty() {
            writeln!(
                out,
                "\nShapes (variable parts masked; `pullscan rules suggest` drafts rules):\n"
            )?;
            for t in &report.templates {
                writeln!(
                    out,
                    "- {} × `{}`",
                    t.count,
                    cell(&redact(&t.template)).replace('`', "'")
                )?;
            }
        }
        for fix in &c.remediation {
            match (&fix.registry_kind, &fix.registry) {
                (Some(k), Some(r)) => writeln!(out, "\n**Fix for {k} (`{r}`):**\n")?,
                (Some(k), None) => writeln!(out, "\n**Fix for {k}:**\n")?,
                _ => writeln!(out, "\n**Fix:**\n")?,
            }
            writeln!(out, "{}", fix.steps.trim_end())?;
        }
        if !c.references.is_empty() {
            writeln!(out)?;
            for r in &c.references {
                writeln!(out, "- <{r}>")?;
            }
        }
    }
    Ok(())
}
