//! `--output table`: the human summary, fitted to a 100-column terminal.
//!
//! A ranked table of causes first (what failed, how often, where), then one
//! block per cause with its top lists, a sample line and the remediation for
//! the registry kinds seen.
//!
//! With colour (`--color`), severity shows: root-cause failures red and
//! bold, symptoms yellow, unclassified lines magenta, secondary counts and
//! notes dim. Lines are wrapped and tables sized on the plain text; the
//! escapes are added after, so they never count towards the width.

use std::io::{self, Write};

use anstyle::{AnsiColor, Effects, Style};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, CellAlignment, Color, ContentArrangement, Table};

use super::{human, join_top, notes, seen};
use crate::redact::redact;
use crate::summary::{CauseReport, Report, UNCLASSIFIED};

/// Columns the output is fitted to.
pub const WIDTH: u16 = 100;

/// How a cause is shown: by what it means for the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Severity {
    /// A root cause: something to fix.
    Failure,
    /// A symptom (`symptom.*`, as `Cause::is_symptom` says): a pull
    /// failed, and no line said why.
    Symptom,
    /// No rule knew the line.
    Unclassified,
}

impl Severity {
    fn of(cause: &str) -> Severity {
        if cause == UNCLASSIFIED {
            Severity::Unclassified
        } else if cause.starts_with("symptom.") {
            Severity::Symptom
        } else {
            Severity::Failure
        }
    }

    fn style(self) -> Style {
        match self {
            Severity::Failure => AnsiColor::Red.on_default().effects(Effects::BOLD),
            Severity::Symptom => AnsiColor::Yellow.on_default(),
            Severity::Unclassified => AnsiColor::Magenta.on_default(),
        }
    }

    fn cell(self, cell: Cell) -> Cell {
        match self {
            Severity::Failure => cell.fg(Color::DarkRed).add_attribute(Attribute::Bold),
            Severity::Symptom => cell.fg(Color::DarkYellow),
            Severity::Unclassified => cell.fg(Color::DarkMagenta),
        }
    }
}

/// Colour on or off: styles text that is already laid out.
#[derive(Clone, Copy, Debug)]
struct Paint {
    on: bool,
}

impl Paint {
    fn text(self, style: Style, text: &str) -> String {
        if self.on {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }

    fn dim(self, text: &str) -> String {
        self.text(Style::new().effects(Effects::DIMMED), text)
    }

    fn bold(self, text: &str) -> String {
        self.text(Style::new().effects(Effects::BOLD), text)
    }

    fn cause(self, cause: &str, text: &str) -> String {
        self.text(Severity::of(cause).style(), text)
    }

    /// A cell holding a cause id (or text standing for it).
    fn cause_cell(self, cause: &str, text: String) -> Cell {
        let cell = Cell::new(text);
        if self.on {
            Severity::of(cause).cell(cell)
        } else {
            cell
        }
    }

    fn dim_cell(self, cell: Cell) -> Cell {
        if self.on {
            cell.add_attribute(Attribute::Dim)
        } else {
            cell
        }
    }

    /// A table in the house style, `WIDTH` wide, headers bold when
    /// coloured. comfy-table would colour a terminal on its own: it is told.
    fn table(self, header: &[&str]) -> Table {
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(WIDTH);
        if self.on {
            table.enforce_styling().style_text_only();
            let bold = |h: &&str| Cell::new(h).add_attribute(Attribute::Bold);
            table.set_header(header.iter().map(bold).collect::<Vec<_>>());
        } else {
            table.force_no_tty().set_header(header.to_vec());
        }
        table
    }
}

/// Write the table summary, coloured by severity if `color`.
pub fn write(report: &Report, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint { on: color };
    let t = &report.stats.total;
    let head = format!(
        "pullscan: {} input{}, {} lines ({} bytes), {} candidate, {} classified, {} unclassified{}",
        report.stats.inputs.len(),
        if report.stats.inputs.len() == 1 { "" } else { "s" },
        human(t.lines),
        human(t.bytes),
        human(t.candidate),
        human(t.classified),
        human(t.unclassified),
        if report.stats.errors > 0 {
            format!(", {} input error(s)", report.stats.errors)
        } else {
            String::new()
        }
    );
    writeln!(out, "{}", paint.dim(&head))?;
    for note in notes(report) {
        let wrapped = wrap(&note, usize::from(WIDTH) - 6);
        let lines: Vec<String> = wrapped.iter().map(|l| paint.dim(l)).collect();
        writeln!(out, "{} {}", paint.dim("note:"), lines.join("\n      "))?;
    }
    if report.causes.is_empty() {
        writeln!(out, "No image pull failures found.")?;
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "{}", paint.bold("Root causes, what to fix first:"))?;
    writeln!(out, "{}", overview(report, paint))?;
    if report.root_causes.iter().any(|r| r.symptom) {
        let footnote = [
            "* symptom lines no cause line explained (none seen for their image): the pod's events",
            "  (kubectl describe pod) or the runtime's log on its node say why",
        ];
        for line in footnote {
            writeln!(out, "{}", paint.dim(line))?;
        }
    }
    if report.incidents.len() > 1 {
        writeln!(out)?;
        let n: u64 = report.causes.iter().map(|c| c.incidents).sum();
        let shown = report.incidents.len().min(INCIDENTS_SHOWN);
        let title = format!("Largest incidents ({shown} of {}):", human(n));
        writeln!(out, "{}", paint.bold(&title))?;
        writeln!(out, "{}", incidents(report, paint))?;
    }
    if !report.groups.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", groups(report, paint))?;
    }
    if report.images.iter().any(|i| i.successes > 0) {
        writeln!(out)?;
        writeln!(out, "{}", images(report, paint))?;
    }
    // One block per cause, in the order of the ranking above.
    let rank = |c: &CauseReport| report.root_causes.iter().position(|r| r.cause == c.cause);
    let mut blocks: Vec<&CauseReport> = report.causes.iter().collect();
    blocks.sort_by_key(|c| rank(c).unwrap_or(usize::MAX));
    for c in blocks {
        writeln!(out)?;
        detail(c, paint, out)?;
        if c.cause == UNCLASSIFIED {
            shapes(report, paint, out)?;
        }
    }
    Ok(())
}

/// The root causes, ranked: what to fix first. Counts are after
/// attribution (symptom lines counted with the cause they followed); the
/// raw count of the cause's own lines is beside it. The images of each
/// follow in its block, and in the incidents table.
fn overview(report: &Report, paint: Paint) -> Table {
    let header = ["#", "Root cause", "Incidents", "Images", "Count", "Own lines' count"];
    let mut table = paint.table(&header);
    let right = |s: String| Cell::new(s).set_alignment(CellAlignment::Right);
    for (rank, r) in report.root_causes.iter().enumerate() {
        let Some(c) = report.causes.iter().find(|c| c.cause == r.cause) else { continue };
        let name = if r.symptom { format!("{}*", r.cause) } else { r.cause.clone() };
        table.add_row(vec![
            paint.dim_cell(right((rank + 1).to_string())),
            paint.cause_cell(&r.cause, name),
            right(human(r.incidents)),
            right(human(r.images)),
            right(human(r.count)),
            paint.dim_cell(right(human(c.count))),
        ]);
    }
    table
}

/// The largest incidents: one image failing for one cause, over a time.
fn incidents(report: &Report, paint: Paint) -> Table {
    let mut table = paint.table(&["Cause", "Image", "Seen", "Count"]);
    for i in report.incidents.iter().take(INCIDENTS_SHOWN) {
        let seen = match (i.first_seen, i.last_seen) {
            (Some(a), Some(b)) => span(&a.to_string(), &b.to_string()),
            _ => format!("{}:{}", redact(&i.file), i.line),
        };
        table.add_row(vec![
            paint.cause_cell(&i.cause, i.cause.clone()),
            Cell::new(truncate(&redact(i.image.as_deref().unwrap_or("-")), 44)),
            Cell::new(seen),
            Cell::new(human(i.count)).set_alignment(CellAlignment::Right),
        ]);
    }
    table
}

/// `2024-11-22 09:26:00 → 11:02:13`: two RFC 3339 times to the second,
/// the date once when it is the same.
fn span(first: &str, last: &str) -> String {
    let short = |t: &str| t.get(..19).unwrap_or(t).replacen('T', " ", 1);
    let (a, b) = (short(first), short(last));
    if a == b {
        a
    } else if a.get(..10) == b.get(..10) {
        format!("{a} → {}", b.get(11..).unwrap_or(&b))
    } else {
        format!("{a} → {b}")
    }
}

/// Incidents the table shows (the JSON output has more).
const INCIDENTS_SHOWN: usize = 5;

fn groups(report: &Report, paint: Paint) -> Table {
    let mut table = paint.table(&["Group", "Count", "Causes"]);
    for g in &report.groups {
        table.add_row(vec![
            Cell::new(truncate(&redact(&g.key), 40)),
            Cell::new(human(g.count)).set_alignment(CellAlignment::Right),
            Cell::new(join_top(&g.causes)),
        ]);
    }
    table
}

fn images(report: &Report, paint: Paint) -> Table {
    let mut table = paint.table(&["Image", "Failed", "Pulled", "Failure ratio"]);
    for i in &report.images {
        table.add_row(vec![
            Cell::new(truncate(&redact(&i.image), 60)),
            Cell::new(human(i.failures)).set_alignment(CellAlignment::Right),
            Cell::new(human(i.successes)).set_alignment(CellAlignment::Right),
            Cell::new(format!("{:.0} %", i.failure_ratio() * 100.0))
                .set_alignment(CellAlignment::Right),
        ]);
    }
    table
}

fn detail(c: &CauseReport, paint: Paint, out: &mut dyn Write) -> io::Result<()> {
    let lines = if c.lines == c.count {
        format!("{} line{}", human(c.lines), if c.lines == 1 { "" } else { "s" })
    } else {
        format!("{} occurrences in {} lines", human(c.count), human(c.lines))
    };
    let mut head = format!("■ {} — {} ({lines})", c.cause, c.title);
    if c.attributed_count > c.count {
        let n = c.attributed_count - c.count;
        head.push_str(&format!("; {} symptom occurrence{} attributed", human(n), plural(n)));
    } else if c.attributed_count < c.count {
        let n = c.count - c.attributed_count;
        head.push_str(&format!("; {} attributed to their root cause", human(n)));
    }
    let mut wrapped = wrap(&head, usize::from(WIDTH));
    // The mark and the cause id in the colour of its severity.
    let mark = format!("■ {}", c.cause);
    if let Some(rest) = wrapped.first().and_then(|l| l.strip_prefix(&mark)) {
        wrapped[0] = format!("{}{rest}", paint.cause(&c.cause, &mark));
    }
    writeln!(out, "{}", wrapped.join("\n  "))?;
    let field = |out: &mut dyn Write, name: &str, value: String| -> io::Result<()> {
        if value.is_empty() {
            return Ok(());
        }
        let indent = " ".repeat(14);
        let wrapped = wrap(&value, usize::from(WIDTH) - 14);
        let name = paint.dim(&format!("{name:<11}"));
        writeln!(out, "  {name} {}", wrapped.join(&format!("\n{indent}")))
    };
    if c.incidents > 0 {
        let images = match c.images_hit {
            0 => String::new(),
            n => format!(" over {} image{}", human(n), plural(n)),
        };
        field(out, "incidents", format!("{}{images}", human(c.incidents)))?;
    }
    field(out, "images", join_top(&c.images))?;
    field(out, "registries", join_top(&c.registries))?;
    field(out, "nodes", join_top(&c.hosts))?;
    field(out, "pods", join_top(&c.pods))?;
    field(out, "seen", seen(c))?;
    field(out, "rules", join_top(&c.rules))?;
    if let Some(s) = &c.sample {
        let text = truncate(&redact(&s.text), 400);
        field(out, "sample", format!("{}:{}: {text}", s.file, s.line))?;
    }
    for fix in &c.remediation {
        let head = match (&fix.registry_kind, &fix.registry) {
            (Some(k), Some(r)) => format!("  fix ({k}, {r}):"),
            (Some(k), None) => format!("  fix ({k}):"),
            _ => "  fix:".to_string(),
        };
        writeln!(out, "{head}")?;
        // Our own text with image and registry names filled in: nothing
        // to redact. Continuation lines hang under the step's text.
        for line in fix.steps.trim_end().lines() {
            let hang = hanging_indent(line);
            let wrapped = wrap(line.trim_end(), usize::from(WIDTH) - 4 - hang.len());
            for (i, w) in wrapped.iter().enumerate() {
                if i == 0 {
                    writeln!(out, "    {w}")?;
                } else {
                    writeln!(out, "    {hang}{}", w.trim_start())?;
                }
            }
        }
    }
    Ok(())
}

/// The most frequent shapes of the unclassified lines, each with its
/// earliest line: what a new rule would have to match.
fn shapes(report: &Report, paint: Paint, out: &mut dyn Write) -> io::Result<()> {
    if report.templates.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "  shapes (variable parts masked; `pullscan rules suggest` drafts rules for them):"
    )?;
    for t in &report.templates {
        let head = format!("{} × {}", human(t.count), truncate(&redact(&t.template), 300));
        let wrapped = wrap(&head, usize::from(WIDTH) - 6);
        writeln!(out, "    {}", wrapped.join("\n      "))?;
        if let Some(s) = t.samples.first() {
            let line = format!("e.g. {}:{}", s.file, s.line);
            writeln!(out, "      {}", paint.dim(&redact(&line)))?;
        }
    }
    Ok(())
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The indent under which a wrapped step continues: its own leading spaces
/// plus the width of a `1. ` or `- ` marker.
fn hanging_indent(line: &str) -> String {
    let lead = line.len() - line.trim_start().len();
    let rest = line.trim_start();
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let marker = if digits > 0 && rest[digits..].starts_with(". ") {
        digits + 2
    } else if rest.starts_with("- ") || rest.starts_with("* ") {
        2
    } else {
        0
    };
    " ".repeat(lead + marker)
}

/// Cut `s` to at most `max` characters, marking the cut.
fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Greedy word wrap to `width` characters; words longer than a line are
/// split.
fn wrap(s: &str, width: usize) -> Vec<String> {
    let lead: String = s.chars().take_while(|c| *c == ' ').collect();
    let mut lines = Vec::new();
    let mut cur = lead.clone();
    for word in s.split(' ').filter(|w| !w.is_empty()) {
        let mut word = word.to_string();
        loop {
            let cur_len = cur.chars().count();
            let sep = usize::from(cur_len > lead.len());
            if cur_len + sep + word.chars().count() <= width {
                if sep == 1 {
                    cur.push(' ');
                }
                cur.push_str(&word);
                break;
            }
            if cur_len > lead.len() {
                lines.push(std::mem::replace(&mut cur, lead.clone()));
                continue;
            }
            // The word alone is too long: split it.
            let room = width.saturating_sub(cur_len).max(1);
            let split = word.char_indices().nth(room).map_or(word.len(), |(i, _)| i);
            cur.push_str(&word[..split]);
            lines.push(std::mem::replace(&mut cur, lead.clone()));
            word = word[split..].to_string();
            if word.is_empty() {
                break;
            }
        }
    }
    if cur.chars().count() > lead.len() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_to_width() {
        let w = wrap("aaa bbb ccc ddd", 7);
        assert_eq!(w, vec!["aaa bbb", "ccc ddd"]);
        let w = wrap("abcdefghij", 4);
        assert_eq!(w, vec!["abcd", "efgh", "ij"]);
        let w = wrap("   1. step one two", 10);
        assert!(w.iter().all(|l| l.chars().count() <= 10), "{w:?}");
    }
}
