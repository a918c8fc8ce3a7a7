//! Follow mode: watch log files as `tail -F` does and classify each new
//! line as it is written.
//!
//! [`run`] polls every followed path (no inotify: a poll of a few stat
//! calls every [`FollowOptions::poll`] costs nothing next to the work a
//! busy log asks for, works the same on every filesystem, NFS and overlay
//! included, and needs no dependency). Appended bytes are split into
//! lines; a last line without its newline is held until the newline
//! arrives. Each complete line is classified as the scan classifies it
//! (the prefilter, [`format::parse_line`], [`scan::account`] into one
//! running [`Summary`]); a CRI or docker json-file log (told by
//! [`format::sniff`] on its first non-blank line, or by its path) has its
//! partial lines joined by a [`CriJoiner`] first.
//!
//! The `tail -F` semantics, per path:
//! - **Start**: a file that exists when following starts is read from its
//!   end (from the start with [`FollowOptions::from_start`]). Its existing
//!   lines are counted, not classified, so line numbers stay positions in
//!   the file; a last line still being written is read whole.
//! - **Rotation**: when the path names another file (another device or
//!   inode), the old file is read to its end first (its last lines are not
//!   lost, and a last line without a newline counts as a line), then the
//!   new file is read from its start. Lines written to the old file after
//!   that switch are lost, as with `tail -F`.
//! - **Truncation**: when the file is shorter than what was read, it is
//!   read again from its start (a held partial line counts as a line). A
//!   file truncated and then written past the old length between two
//!   polls cannot be told from one that grew (`tail -F` has the same
//!   limit; `copytruncate` with writers not using `O_APPEND` does this).
//! - **Missing**: a path that does not exist (yet, or any more) is tried
//!   again at every poll, saying once on stderr that it is waited for; a
//!   file that appears is read from its start.
//!
//! Line numbers are 1-based positions in the file the path named when the
//! line was read: they start again at 1 after a rotation or truncation.
//! Dedup across inputs is off (each path is its own live stream), and the
//! year of yearless timestamps is that of the current time.
//!
//! Output: [`FollowOutput::Events`] prints each reported line as a jsonl
//! event (the `--output jsonl` format, so redacted the same way), flushed
//! as it is found; events are dropped once printed, so memory stays
//! bounded by the summary's caps. [`FollowOutput::Table`] clears the
//! terminal and redraws the summary table at most every
//! [`FollowOptions::redraw`], when something was read. When the caller
//! sets the stop flag (from a Ctrl-C handler), the files are read once
//! more (up to one block each: a large backlog is left unread), held
//! partial lines count as lines, and the final summary table is printed
//! (Events mode: a one-line summary on stderr instead).
//!
//! Standard input (`-`, once) is followed too: `kubectl logs -f POD |
//! pullscan -f -` prints each failure as it comes, where a scan would
//! print nothing before the pipe ends. A thread reads it (a read blocks
//! until data comes, which must not hold up the files or the stop flag)
//! and passes chunks over a bounded channel; it is read from its start,
//! and when it ends and no file is followed, following ends as a scan
//! would, with the final summary. A directory cannot be followed: give
//! the files. A JSON document or a CSV export is followed line by line,
//! as plain lines, after a note on stderr.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::app::Outcome;
use crate::format::{self, CriJoiner, Joined, LineContext, PathInfo, Shape};
use crate::input::Input;
use crate::output::{self, OutputKind};
use crate::plan::Plan;
use crate::redact::redact;
use crate::scan::{self, InputScan, ScanOptions};
use crate::summary::{Report, Summary};
use crate::time::{Timestamp, YearPolicy};

/// What follow mode prints while it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FollowOutput {
    /// Each reported line as a jsonl event, as soon as it is read.
    Events,
    /// The summary table, redrawn on a terminal.
    Table,
}

/// How to follow.
#[derive(Clone, Debug)]
pub struct FollowOptions {
    /// How often the paths are checked for new bytes, rotation and
    /// truncation (default 250 ms).
    pub poll: Duration,
    /// The shortest time between two redraws of the table (default 2 s).
    pub redraw: Duration,
    /// What to print.
    pub mode: FollowOutput,
    /// Read files that exist at the start from their start, not from their
    /// end (default `false`, as `tail -F`).
    pub from_start: bool,
}

impl Default for FollowOptions {
    fn default() -> FollowOptions {
        FollowOptions {
            poll: Duration::from_millis(250),
            redraw: Duration::from_secs(2),
            mode: FollowOutput::Table,
            from_start: false,
        }
    }
}

/// Clears a terminal and moves the cursor home, before each redraw.
const CLEAR: &str = "\x1b[2J\x1b[H";

/// Bytes read per `read` call.
const READ_SIZE: usize = 64 * 1024;

/// Follow the plan's files until `stop` is set (or standard input, when
/// it is all that is followed, ends), printing to `out` as
/// `opts` says, and notes (waiting, rotation, truncation, read errors) to
/// stderr.
///
/// Fails at once if an input is a directory, or standard input is given
/// twice. Returns
/// [`Outcome::Errors`] if an input could not be expanded or read at some
/// point, else [`Outcome::FailOn`] if a `--fail-on` cause was seen, else
/// [`Outcome::Ok`].
pub fn run(
    plan: &Plan,
    opts: &FollowOptions,
    stop: &AtomicBool,
    out: &mut dyn Write,
) -> Result<Outcome> {
    let paths = ensure_files(&plan.inputs)?;
    for e in &plan.input_errors {
        note(&format!("{}: {}", e.path, e.message));
    }
    let scan_opts = ScanOptions {
        keep_events: opts.mode == FollowOutput::Events,
        threads: 1,
        ..plan.scan.clone()
    };
    let names: Vec<String> = plan.inputs.iter().map(Input::name).collect();
    let mut files: Vec<Followed> = paths
        .into_iter()
        .enumerate()
        .map(|(i, p)| match p {
            Some(p) => Followed::new(i, p.to_path_buf(), !opts.from_start),
            None => Followed::stdin(i),
        })
        .collect();
    let mut summary = Summary::default();
    let (mut dirty, mut drawn): (bool, Option<Instant>) = (true, None);
    loop {
        // Read once more after the stop, so that nothing already written
        // is left out of the final summary. Standard input alone stops at
        // its end, as a scan would.
        let stopping = stop.load(Ordering::Relaxed) || files.iter().all(|f| f.ended);
        let ctx = LineContext { years: years(&scan_opts) };
        for f in &mut files {
            let s = InputScan {
                input: f.index,
                ctx: &ctx,
                classifier: &plan.classifier,
                opts: &scan_opts,
                dedup: None,
            };
            dirty |= f.poll(&s, &mut summary, stop);
            if stopping {
                f.finish(&s, &mut summary);
            }
        }
        match opts.mode {
            FollowOutput::Events => write_events(&mut summary, plan, &names, out)?,
            FollowOutput::Table if stopping => {}
            FollowOutput::Table => {
                if dirty && drawn.is_none_or(|t| t.elapsed() >= opts.redraw) {
                    write_table(&summary, plan, &names, out)?;
                    (dirty, drawn) = (false, Some(Instant::now()));
                }
            }
        }
        if stopping {
            break;
        }
        std::thread::sleep(opts.poll);
    }
    let errors = files.iter().filter(|f| f.failed).count() + plan.input_errors.len();
    let report = summary.finish_with(plan.classifier.rules(), &names, &plan.report);
    write_end(&report, opts.mode, plan.color, out)?;
    if errors > 0 {
        return Ok(Outcome::Errors);
    }
    let failed = plan.fail_on.as_ref().is_some_and(|set| {
        report.causes.iter().any(|c| c.count > 0 && set.is_match(c.cause.as_str()))
    });
    Ok(if failed { Outcome::FailOn } else { Outcome::Ok })
}

/// What is printed when following stops: the final table, or (events
/// mode, whose stdout holds only events) a line of totals on stderr.
fn write_end(
    report: &Report,
    mode: FollowOutput,
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    match mode {
        FollowOutput::Table => {
            out.write_all(CLEAR.as_bytes())?;
            output::write_color(OutputKind::Table, report, color, out)?;
        }
        FollowOutput::Events => {
            let (t, n) = (&report.stats.total, report.stats.inputs.len());
            note(&format!(
                "followed {n} file{}: {} lines read, {} classified, {} unclassified",
                if n == 1 { "" } else { "s" },
                t.lines,
                t.classified,
                t.unclassified
            ));
        }
    }
    out.flush()
}

/// The inputs as files to follow, `None` standing for standard input
/// (once at most); directories cannot be followed.
fn ensure_files(inputs: &[Input]) -> Result<Vec<Option<&Path>>> {
    let mut paths = Vec::with_capacity(inputs.len());
    for input in inputs {
        match input {
            Input::Stdin if paths.contains(&None) => {
                bail!("-: standard input is given twice; it can be followed once")
            }
            Input::Stdin => paths.push(None),
            Input::Path(p) if p.is_dir() => bail!(
                "{}: is a directory; follow mode follows files: give them (e.g. {}/*.log)",
                p.display(),
                p.display()
            ),
            Input::Path(p) => paths.push(Some(p.as_path())),
        }
    }
    if paths.is_empty() {
        bail!("nothing to follow: give the files to follow");
    }
    Ok(paths)
}

/// The year of yearless timestamps: `--year`, or that of now.
fn years(opts: &ScanOptions) -> YearPolicy {
    match opts.year {
        Some(y) => YearPolicy::fixed(y),
        None => YearPolicy::ending_at(Timestamp::from_system(std::time::SystemTime::now())),
    }
}

/// Print the events read since the last call, one jsonl line each,
/// flushed, and drop them.
fn write_events(
    summary: &mut Summary,
    plan: &Plan,
    names: &[String],
    out: &mut dyn Write,
) -> io::Result<()> {
    for ev in std::mem::take(&mut summary.events) {
        // A report of this one event, printed by the jsonl output itself:
        // one format and one redaction for `--output jsonl` and follow
        // mode. Events are failures, few; the report of one costs little.
        let mut one = Summary::default();
        one.events.push(ev);
        let report = one.finish_with(plan.classifier.rules(), names, &plan.report);
        output::write(OutputKind::Jsonl, &report, out)?;
        out.flush()?;
    }
    Ok(())
}

/// Clear the terminal and print the summary so far.
fn write_table(
    summary: &Summary,
    plan: &Plan,
    names: &[String],
    out: &mut dyn Write,
) -> io::Result<()> {
    let report = summary.clone().finish_with(plan.classifier.rules(), names, &plan.report);
    out.write_all(CLEAR.as_bytes())?;
    output::write_color(OutputKind::Table, &report, plan.color, out)?;
    out.flush()
}

/// Say something on stderr, redacted.
fn note(message: &str) {
    let _ = writeln!(io::stderr(), "pullscan: {}", redact(message));
}

/// One followed path.
struct Followed {
    /// The input's index (its slot in the summary's per-input stats).
    index: usize,
    path: PathBuf,
    /// The file the path named when last opened.
    open: Option<Open>,
    /// Read the next file opened from its end (only a file that exists
    /// when following starts, without `from_start`).
    from_end: bool,
    /// The last waiting or error note said, not repeated while it holds.
    said: Option<String>,
    /// Whether a read or open error happened (the exit code says so).
    failed: bool,
    /// What the path says of a container log (pod, namespace, container).
    info: Option<PathInfo>,
    /// Standard input (path `-`): the chunks its reader thread read, in
    /// order; disconnected at its end.
    stdin: Option<Receiver<Vec<u8>>>,
    /// Standard input ended: nothing more will come.
    ended: bool,
}

/// An open file and how far it was read.
struct Open {
    /// `None` for standard input, whose bytes come from a reader thread.
    file: Option<File>,
    /// Device and inode: a rotation replaces them.
    id: (u64, u64),
    /// Bytes of the file read so far.
    offset: u64,
    /// Complete lines read so far (or skipped, at the start).
    lines: u64,
    /// The line being read: its first `max_line` bytes ...
    head: Vec<u8>,
    /// ... and its length so far.
    head_len: u64,
    /// How to read its lines; `None` until a non-blank line is read.
    shape: Option<Shape>,
    joiner: CriJoiner,
}

impl Open {
    fn new(file: Option<File>, id: (u64, u64)) -> Open {
        Open {
            file,
            id,
            offset: 0,
            lines: 0,
            head: Vec::new(),
            head_len: 0,
            shape: None,
            joiner: CriJoiner::new(),
        }
    }
}

impl Followed {
    fn new(index: usize, path: PathBuf, from_end: bool) -> Followed {
        let info = format::path_info(&path);
        Followed {
            index,
            path,
            open: None,
            from_end,
            said: None,
            failed: false,
            info,
            stdin: None,
            ended: false,
        }
    }

    /// Standard input, read from its start by a thread as it comes.
    fn stdin(index: usize) -> Followed {
        let mut f = Followed::new(index, PathBuf::from("-"), false);
        f.stdin = Some(spawn_stdin_reader());
        f.info = None;
        f
    }

    /// Account for what standard input's reader passed on since the last
    /// poll; at its end, the held partial line too. Returns whether
    /// anything came.
    fn poll_stdin(&mut self, s: &InputScan<'_>, out: &mut Summary) -> bool {
        let Some(rx) = self.stdin.take() else { return false };
        let mut open = self.open.take().unwrap_or_else(|| Open::new(None, (0, 0)));
        let mut changed = false;
        loop {
            match rx.try_recv() {
                Ok(bytes) => {
                    open.offset += bytes.len() as u64;
                    self.feed(&mut open, &bytes, s, out);
                    changed = true;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    self.end_file(&mut open, s, out);
                    self.ended = true;
                    return true;
                }
            }
        }
        self.open = Some(open);
        self.stdin = Some(rx);
        changed
    }

    /// Say `message` about this path on stderr unless it was the last
    /// thing said.
    fn say_once(&mut self, message: String) {
        if self.said.as_deref() != Some(message.as_str()) {
            note(&message);
            self.said = Some(message);
        }
    }

    /// Check the path (rotation, truncation, disappearance) and read what
    /// was appended. Returns whether anything was read or changed.
    fn poll(&mut self, s: &InputScan<'_>, out: &mut Summary, stop: &AtomicBool) -> bool {
        if self.ended {
            return false;
        }
        if self.stdin.is_some() {
            return self.poll_stdin(s, out);
        }
        let shown = self.path.display().to_string();
        let meta = match fs::metadata(&self.path) {
            Ok(m) if m.is_dir() => Err(format!("{shown}: is a directory; waiting for a file")),
            Ok(m) => Ok(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(format!("waiting for {shown}")),
            Err(e) => Err(format!("{shown}: {e}; trying again")),
        };
        let meta = match meta {
            Ok(m) => m,
            Err(message) => {
                // Gone: what the old file still holds is read first.
                let changed = self.open.is_some();
                if let Some(mut open) = self.open.take() {
                    self.read(&mut open, s, out, stop);
                    self.end_file(&mut open, s, out);
                }
                // A file that appears later is new: read from its start.
                self.from_end = false;
                self.say_once(message);
                return changed;
            }
        };
        let mut changed = false;
        let id = (meta.dev(), meta.ino());
        if let Some(mut open) = self.open.take() {
            if open.id != id {
                self.read(&mut open, s, out, stop);
                self.end_file(&mut open, s, out);
                note(&format!("{shown}: replaced (rotated); following the new file"));
                changed = true;
            } else {
                let len = open.file.as_ref().and_then(|f| f.metadata().ok());
                let len = len.map_or(open.offset, |m| m.len());
                if len < open.offset {
                    note(&format!("{shown}: truncated; reading it again from the start"));
                    self.end_file(&mut open, s, out);
                    let mut file = open.file;
                    match file.as_mut().map(|f| f.seek(SeekFrom::Start(0))) {
                        Some(Err(e)) => self.fail(format!("{shown}: {e}")),
                        _ => self.open = Some(Open::new(file, open.id)),
                    }
                    changed = true;
                } else {
                    self.open = Some(open);
                }
            }
        }
        if self.open.is_none() {
            match self.open_file(&shown, stop) {
                Some(open) => self.open = Some(open),
                None => return changed,
            }
            changed = true;
        }
        if let Some(mut open) = self.open.take() {
            changed |= self.read(&mut open, s, out, stop);
            self.open = Some(open);
        }
        changed
    }

    /// Open the path; read from its end if it existed at the start.
    fn open_file(&mut self, shown: &str, stop: &AtomicBool) -> Option<Open> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.from_end = false;
                self.say_once(format!("waiting for {shown}"));
                return None;
            }
            Err(e) => {
                self.fail(format!("{shown}: {e}; trying again"));
                return None;
            }
        };
        // The file opened, which a rotation right after the stat may have
        // made another than the one stat saw.
        let id = match file.metadata() {
            Ok(m) => (m.dev(), m.ino()),
            Err(e) => {
                self.fail(format!("{shown}: {e}; trying again"));
                return None;
            }
        };
        if self.said.take().is_some() {
            note(&format!("{shown}: found; following it"));
        }
        let mut open = Open::new(Some(file), id);
        if std::mem::take(&mut self.from_end) {
            if let Err(e) = skip_to_last_line(&mut open, stop) {
                self.fail(format!("{shown}: {e}; trying again"));
                return None;
            }
        }
        Some(open)
    }

    /// Note a read or open error once, and remember it for the exit code.
    fn fail(&mut self, message: String) {
        self.failed = true;
        self.say_once(message);
    }

    /// Read what was appended to `open` and account for its complete
    /// lines. Returns whether any byte was read. A read error is noted
    /// and recorded; the next poll reads on.
    fn read(
        &mut self,
        open: &mut Open,
        s: &InputScan<'_>,
        out: &mut Summary,
        stop: &AtomicBool,
    ) -> bool {
        let Some(mut file) = open.file.take() else { return false };
        let any = self.read_file(&mut file, open, s, out, stop);
        open.file = Some(file);
        any
    }

    /// [`Followed::read`] on the file taken out of `open`.
    fn read_file(
        &mut self,
        file: &mut File,
        open: &mut Open,
        s: &InputScan<'_>,
        out: &mut Summary,
        stop: &AtomicBool,
    ) -> bool {
        let mut buf = vec![0u8; READ_SIZE];
        let mut any = false;
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => return any,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let message = format!("{}: {e}", self.path.display());
                    out.input_mut(s.input).add_error(message.clone());
                    self.fail(message);
                    return any;
                }
            };
            any = true;
            open.offset += n as u64;
            self.feed(open, &buf[..n], s, out);
            // A large backlog (`from_start`) yields to a stop between reads.
            if stop.load(Ordering::Relaxed) && n == buf.len() {
                return any;
            }
        }
    }

    /// Split bytes read into lines: complete ones are accounted for, the
    /// last one is held (its first `max_line` bytes) until its newline.
    fn feed(&self, open: &mut Open, mut bytes: &[u8], s: &InputScan<'_>, out: &mut Summary) {
        let max = s.opts.max_line;
        while let Some(nl) = memchr::memchr(b'\n', bytes) {
            let piece = &bytes[..=nl];
            if open.head_len == 0 && nl <= max {
                self.line(open, piece, piece.len() as u64, false, s, out);
            } else {
                hold(open, piece, max);
                let head = std::mem::take(&mut open.head);
                let len = std::mem::take(&mut open.head_len);
                self.line(open, &head, len, len - 1 > max as u64, s, out);
                open.head = head;
                open.head.clear();
            }
            bytes = &bytes[nl + 1..];
        }
        hold(open, bytes, max);
    }

    /// The file ends here (rotated away, truncated, gone, or following
    /// stops): a held partial line counts as a line, as at the end of a
    /// scanned file, and the CRI joiner gives back what it holds.
    fn end_file(&self, open: &mut Open, s: &InputScan<'_>, out: &mut Summary) {
        if open.head_len > 0 {
            let head = std::mem::take(&mut open.head);
            let len = std::mem::take(&mut open.head_len);
            self.line(open, &head, len, len > s.opts.max_line as u64, s, out);
        }
        for j in open.joiner.finish() {
            self.joined(j, s, out);
        }
    }

    /// Following stops: account for what the open file holds back.
    fn finish(&mut self, s: &InputScan<'_>, out: &mut Summary) {
        if let Some(mut open) = self.open.take() {
            self.end_file(&mut open, s, out);
        }
    }

    /// Account for one complete line of `len` bytes (line end included)
    /// whose first bytes are `text`; `cut` when it was over the limit.
    fn line(
        &self,
        open: &mut Open,
        text: &[u8],
        len: u64,
        cut: bool,
        s: &InputScan<'_>,
        out: &mut Summary,
    ) {
        open.lines += 1;
        let counts = &mut out.input_mut(s.input).counts;
        counts.bytes += len;
        counts.lines += 1;
        counts.truncated += u64::from(cut);
        let text = text.strip_suffix(b"\n").unwrap_or(text);
        let shape = match open.shape {
            Some(shape) => shape,
            None if text.trim_ascii().is_empty() => Shape::Lines,
            None => {
                let shape = self.sniff(text);
                open.shape = Some(shape);
                shape
            }
        };
        if shape == Shape::Cri {
            let text = String::from_utf8_lossy(text);
            for j in open.joiner.push(open.lines, &text) {
                self.joined(j, s, out);
            }
            return;
        }
        scan::scan_line(text, open.lines, s, out);
    }

    /// How to read this file's lines, from its first non-blank one.
    fn sniff(&self, first: &[u8]) -> Shape {
        match format::sniff(first, Some(&self.path)) {
            shape @ (Shape::Lines | Shape::Cri) => shape,
            other => {
                let what = if other == Shape::Csv { "a CSV export" } else { "a JSON document" };
                note(&format!(
                    "{}: looks like {what}, which follow mode cannot read record by record; \
                     reading its lines as plain lines (scan it without follow mode)",
                    self.path.display()
                ));
                Shape::Lines
            }
        }
    }

    /// Account for one line of a container log, its pieces joined.
    fn joined(&self, j: Joined<'_>, s: &InputScan<'_>, out: &mut Summary) {
        scan::scan_joined(&j, self.info.as_ref(), s, out);
    }
}

/// Read standard input on a thread of its own (a read blocks until data
/// comes, which must not stop the other files or the stop flag), passing
/// each chunk on. The channel is bounded, so a fast writer waits for the
/// follower instead of filling memory; it closes at the end of input or on
/// an error (which ends input as a pipe's end would).
fn spawn_stdin_reader() -> Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(64);
    std::thread::spawn(move || {
        let stdin = io::stdin();
        let mut input = stdin.lock();
        let mut buf = vec![0u8; READ_SIZE];
        loop {
            match input.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    note(&format!("-: {e}; standard input ends here"));
                    return;
                }
            }
        }
    });
    rx
}

/// Add bytes of a line not yet complete to what is held of it.
fn hold(open: &mut Open, bytes: &[u8], max: usize) {
    let room = max.saturating_sub(open.head.len());
    open.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
    open.head_len += bytes.len() as u64;
}

/// Start following a file that exists at the start from its end: count
/// its lines (so line numbers stay positions in the file) and position
/// it after its last newline, so that a line still being written is read
/// whole. A stop while counting leaves it at its end.
fn skip_to_last_line(open: &mut Open, stop: &AtomicBool) -> io::Result<()> {
    let Some(file) = open.file.as_mut() else { return Ok(()) };
    let mut buf = vec![0u8; READ_SIZE];
    let (mut at, mut after_nl, mut lines) = (0u64, 0u64, 0u64);
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        lines += memchr::memchr_iter(b'\n', chunk).count() as u64;
        if let Some(nl) = memchr::memrchr(b'\n', chunk) {
            after_nl = at + nl as u64 + 1;
        }
        at += n as u64;
        if stop.load(Ordering::Relaxed) {
            open.offset = file.seek(SeekFrom::End(0))?;
            return Ok(());
        }
    }
    file.seek(SeekFrom::Start(after_nl))?;
    open.offset = after_nl;
    open.lines = lines;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;
    use std::sync::{Arc, Mutex, OnceLock};
    use std::thread::JoinHandle;

    use super::*;
    use crate::classify::Classifier;
    use crate::summary::ReportOptions;

    const DNS: &str = r#"E0825 12:00:00.1 1 remote_image.go:180] "PullImage from image service failed" err="rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/library/nginx:1.25\": failed to resolve reference \"docker.io/library/nginx:1.25\": failed to do request: Head \"https://registry-1.docker.io/v2/library/nginx/manifests/1.25\": dial tcp: lookup registry-1.docker.io on 10.0.0.2:53: no such host""#;
    const RATE: &str =
        "Error response from daemon: toomanyrequests: You have reached your pull rate limit.";
    const NOISE: &str = "I0825 12:00:01.0 1 kubelet.go:100] all is well";

    /// Wait this long at most for output to show.
    const PATIENCE: Duration = Duration::from_millis(1500);

    fn classifier() -> Classifier {
        static C: OnceLock<Classifier> = OnceLock::new();
        C.get_or_init(|| Classifier::new(crate::rules::builtin().unwrap()).unwrap()).clone()
    }

    fn plan(paths: &[&Path]) -> Plan {
        Plan {
            inputs: paths.iter().map(|p| Input::Path(p.to_path_buf())).collect(),
            input_errors: Vec::new(),
            classifier: classifier(),
            output: OutputKind::Jsonl,
            fail_on: None,
            scan: ScanOptions { year: Some(2024), ..ScanOptions::default() },
            report: ReportOptions::default(),
            color: false,
        }
    }

    /// A writer the test reads while `run` writes.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }

        /// The output once `done` holds of it (panics after [`PATIENCE`]).
        fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
            let start = Instant::now();
            loop {
                let text = self.text();
                if done(&text) {
                    return text;
                }
                assert!(start.elapsed() < PATIENCE, "no {what} in time; output so far:\n{text}");
                std::thread::sleep(Duration::from_millis(5));
            }
        }

        /// The first `n` jsonl events, once printed (a line is written in
        /// pieces: only complete ones count).
        fn wait_events(&self, n: usize) -> Vec<serde_json::Value> {
            let text = self.wait_for(&format!("{n} events"), |t| t.matches('\n').count() >= n);
            text.lines().take(n).map(|l| serde_json::from_str(l).unwrap()).collect()
        }
    }

    struct Running {
        stop: Arc<AtomicBool>,
        out: Shared,
        handle: JoinHandle<Result<Outcome>>,
    }

    impl Running {
        fn stop(self) -> (Outcome, String) {
            self.stop.store(true, Ordering::Relaxed);
            let outcome = self.handle.join().unwrap().unwrap();
            (outcome, self.out.text())
        }
    }

    fn start(paths: &[&Path], mode: FollowOutput, from_start: bool) -> Running {
        let plan = plan(paths);
        let opts = FollowOptions {
            poll: Duration::from_millis(10),
            redraw: Duration::from_millis(50),
            mode,
            from_start,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let out = Shared::default();
        let (s, mut o) = (stop.clone(), out.clone());
        let handle = std::thread::spawn(move || run(&plan, &opts, &s, &mut o));
        Running { stop, out, handle }
    }

    fn append(path: &Path, text: &str) {
        let mut f = OpenOptions::new().append(true).create(true).open(path).unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    /// Give the follower a few polls (10 ms each): time for it to start and
    /// open the files, with room for a loaded machine, before a test
    /// appends what it must read as new.
    fn settle() {
        std::thread::sleep(Duration::from_millis(250));
    }

    #[test]
    fn appended_lines_are_classified_and_printed_as_they_come() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubelet.log");
        // Existing lines are not reported, but they are counted.
        fs::write(&path, format!("{DNS}\n{NOISE}\n")).unwrap();
        let r = start(&[&path], FollowOutput::Events, false);
        settle();
        assert_eq!(r.out.text(), "");
        append(&path, &format!("{NOISE}\n{DNS}\n"));
        let events = r.out.wait_events(1);
        assert_eq!(events[0]["cause"], "network.dns");
        assert_eq!(events[0]["line"], 4);
        assert_eq!(events[0]["file"], path.display().to_string());
        append(&path, &format!("{RATE}\n"));
        let events = r.out.wait_events(2);
        assert_eq!(events[1]["cause"], "registry.rate-limit");
        assert_eq!(events[1]["line"], 5);
        let (outcome, text) = r.stop();
        assert_eq!(outcome, Outcome::Ok);
        assert_eq!(text.lines().count(), 2, "{text}");
    }

    #[test]
    fn a_partial_line_is_held_until_its_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubelet.log");
        // A partial line already there at the start is read whole.
        let (a, b) = DNS.split_at(DNS.len() / 2);
        fs::write(&path, format!("{NOISE}\n{a}")).unwrap();
        let r = start(&[&path], FollowOutput::Events, false);
        settle();
        let (b1, b2) = b.split_at(b.len() / 2);
        append(&path, b1);
        settle();
        assert_eq!(r.out.text(), "");
        append(&path, &format!("{b2}\n"));
        let events = r.out.wait_events(1);
        assert_eq!(events[0]["cause"], "network.dns");
        assert_eq!(events[0]["line"], 2);
        let message = events[0]["message"].as_str().unwrap();
        assert!(
            message.contains("PullImage from image") && message.contains("no such host"),
            "{message}"
        );
        let (_, text) = r.stop();
        assert_eq!(text.lines().count(), 1, "{text}");
    }

    #[test]
    fn truncation_is_survived() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubelet.log");
        fs::write(&path, format!("{DNS}\n{NOISE}\n{NOISE}\n")).unwrap();
        let r = start(&[&path], FollowOutput::Events, true);
        assert_eq!(r.out.wait_events(1)[0]["line"], 1);
        // Shorter than what was read: read again from the start.
        fs::write(&path, format!("{RATE}\n")).unwrap();
        let events = r.out.wait_events(2);
        assert_eq!(events[1]["cause"], "registry.rate-limit");
        assert_eq!(events[1]["line"], 1);
        append(&path, &format!("{DNS}\n"));
        let events = r.out.wait_events(3);
        assert_eq!((&events[2]["cause"], &events[2]["line"]), (&"network.dns".into(), &2.into()));
        let (_, text) = r.stop();
        assert_eq!(text.lines().count(), 3, "{text}");
    }

    #[test]
    fn rotation_is_survived_and_the_old_file_read_to_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubelet.log");
        fs::write(&path, "").unwrap();
        let r = start(&[&path], FollowOutput::Events, false);
        settle();
        append(&path, &format!("{DNS}\n"));
        r.out.wait_events(1);
        // Written to the old file just before it is rotated away (its last
        // line without a newline), then a new file under the path.
        append(&path, &format!("{NOISE}\n{RATE}"));
        fs::rename(&path, dir.path().join("kubelet.log.1")).unwrap();
        let tmp = dir.path().join("new");
        fs::write(&tmp, format!("{NOISE}\n{DNS}\n")).unwrap();
        fs::rename(&tmp, &path).unwrap();
        let events = r.out.wait_events(3);
        assert_eq!(
            (&events[1]["cause"], &events[1]["line"]),
            (&"registry.rate-limit".into(), &3.into())
        );
        assert_eq!((&events[2]["cause"], &events[2]["line"]), (&"network.dns".into(), &2.into()));
        // The new file is followed on.
        append(&path, &format!("{RATE}\n"));
        let events = r.out.wait_events(4);
        assert_eq!(events[3]["line"], 3);
        let (_, text) = r.stop();
        assert_eq!(text.lines().count(), 4, "{text}");
    }

    #[test]
    fn a_missing_file_is_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("later.log");
        let r = start(&[&path], FollowOutput::Events, false);
        settle();
        // A file that appears is read from its start.
        fs::write(&path, format!("{NOISE}\n{DNS}\n")).unwrap();
        let events = r.out.wait_events(1);
        assert_eq!((&events[0]["cause"], &events[0]["line"]), (&"network.dns".into(), &2.into()));
        // Gone, then back (a new file): followed again.
        fs::remove_file(&path).unwrap();
        settle();
        fs::write(&path, format!("{RATE}\n")).unwrap();
        let events = r.out.wait_events(2);
        assert_eq!(
            (&events[1]["cause"], &events[1]["line"]),
            (&"registry.rate-limit".into(), &1.into())
        );
        r.stop();
    }

    #[test]
    fn cri_partial_lines_are_joined() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        fs::write(&path, "").unwrap();
        let r = start(&[&path], FollowOutput::Events, false);
        settle();
        let (a, b) = DNS.split_at(DNS.len() / 2);
        append(&path, &format!("2024-08-25T12:00:00.1Z stderr P {a}\n"));
        settle();
        assert_eq!(r.out.text(), "");
        append(&path, &format!("2024-08-25T12:00:00.2Z stderr F {b}\n"));
        let events = r.out.wait_events(1);
        assert_eq!((&events[0]["cause"], &events[0]["line"]), (&"network.dns".into(), &1.into()));
        assert_eq!(events[0]["envelope"], "cri");
        r.stop();
    }

    #[test]
    fn stop_prints_the_final_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubelet.log");
        fs::write(&path, format!("{DNS}\n")).unwrap();
        let r = start(&[&path], FollowOutput::Table, true);
        r.out.wait_for("a table", |t| t.contains("network.dns"));
        append(&path, &format!("{RATE}\n"));
        r.out.wait_for("a redrawn table", |t| t.contains("registry.rate-limit"));
        // Held at the stop, counted then.
        append(&path, NOISE);
        let (outcome, text) = r.stop();
        assert_eq!(outcome, Outcome::Ok);
        let last = &text[text.rfind(CLEAR).unwrap() + CLEAR.len()..];
        assert!(last.starts_with("pullscan: 1 input, 3 lines"), "{last}");
        assert!(last.contains("network.dns") && last.contains("registry.rate-limit"), "{last}");
    }

    #[test]
    fn directories_and_stdin_twice_cannot_be_followed() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(ensure_files(&[Input::Stdin]).unwrap(), vec![None]);
        let err = ensure_files(&[Input::Stdin, Input::Stdin]).unwrap_err().to_string();
        assert!(err.contains("given twice"), "{err}");
        let err = ensure_files(&[Input::Path(dir.path().into())]).unwrap_err().to_string();
        assert!(err.contains("is a directory"), "{err}");
    }
}
