//! What the user typed: the clap definition. Doc comments are the help
//! text. No logic and no I/O here; `plan` resolves and validates.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Find out why container images fail to pull, from the logs you have.
///
/// pullscan reads syslog, journald, kubelet, containerd, dockerd, docker CLI
/// and CI output and Kubernetes events, names the cause of every image pull
/// failure, and prints what failed, how often, where, and how to fix it for
/// that registry.
#[derive(Debug, Parser)]
#[command(name = "pullscan", version, max_term_width = 100)]
#[command(args_conflicts_with_subcommands = true)]
#[command(after_help = "Examples:
  pullscan /var/log/syslog
  journalctl -u kubelet -u containerd | pullscan
  pullscan /var/log/ --glob '*.log*'
  pullscan --output json --fail-on 'auth.*' build.log
  pullscan explain 'Back-off pulling image \"nginx:1.25\"'
  pullscan rules suggest /var/log/syslog > rules.d/suggested.toml
  pullscan completions bash > ~/.local/share/bash-completion/completions/pullscan
  pullscan man | man -l -

A file named like a command (explain, rules, completions, man) is scanned as ./explain.

Exit status: 0 ran, 1 a --fail-on cause was found, 2 errors (after reporting what could be read).")]
pub struct Cli {
    /// Explain a line, or work with the rule table.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// What to read and how.
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputArg::Table)]
    pub output: OutputArg,

    /// Exit with status 1 when a cause matching this glob is found
    /// (e.g. `auth.*`, `unclassified`). Repeatable.
    #[arg(long, value_name = "CAUSE_GLOB")]
    pub fail_on: Vec<String>,

    /// Also summarize the failures grouped by these fields (comma-separated
    /// or repeated; several make a combined key): cause, registry, image,
    /// node, pod, namespace, revision.
    #[arg(long, value_name = "FIELD", value_delimiter = ',')]
    pub by: Vec<String>,

    /// Count lines that repeat a line of an earlier input (same time, host
    /// and message, as in a log and its rotated copy) again. By default
    /// they are counted once; the stats say how many there were.
    #[arg(long)]
    pub no_dedup: bool,

    /// The longest quiet time within one incident (failures of one image
    /// for one cause): `90s`, `30m`, `2h`, `1d`.
    #[arg(long, value_name = "DURATION", default_value = "30m")]
    pub incident_gap: String,

    /// Follow the files as `tail -F` does (rotation and truncation
    /// survived; a missing file is waited for), from their end: print each
    /// failure as a JSON line (`-o jsonl`, or when stdout is not a
    /// terminal), or redraw the summary table every few seconds. Ctrl-C
    /// prints the final summary. `-` follows standard input (`kubectl logs
    /// -f POD | pullscan -f -`), which ends at its end; directories cannot
    /// be followed.
    #[arg(short = 'f', long = "tail")]
    pub tail: bool,

    /// Colour the table by severity: auto colours when standard output is
    /// a terminal and NO_COLOR is not set. Other outputs are never
    /// coloured.
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

/// The inputs, and how to read them: shared by a scan and `rules suggest`.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Files or directories to scan; `-` is standard input. With no path,
    /// piped standard input is read. Gzip files are decompressed, whatever
    /// their name.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Add the rule files (*.toml) of this directory to the built-in rules.
    /// Repeatable.
    #[arg(long, value_name = "DIR")]
    pub rules: Vec<PathBuf>,

    /// Only scan files in walked directories whose name or path matches this
    /// glob (e.g. '*.log*'); a glob starting with `!` excludes instead
    /// ('!*.md'). Repeatable; files named explicitly are always scanned.
    #[arg(short, long, value_name = "GLOB")]
    pub glob: Vec<String>,

    /// Follow symlinks while walking directories (a link back to an
    /// ancestor is reported as a loop). By default a link to a directory is
    /// skipped and a link to a file is scanned.
    #[arg(short = 'L', long)]
    pub follow: bool,

    /// Worker threads (default: all cores).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Read files instead of mapping them. Large plain files are scanned
    /// from memory maps, which is faster but can stop the process if
    /// another one truncates the file mid-scan (copytruncate log rotation).
    #[arg(long)]
    pub no_mmap: bool,

    /// Year for timestamps that carry none (syslog, klog). By default a
    /// file's newest line is taken to be as old as the file (its
    /// modification time), and lines from later months belong to the
    /// year before.
    #[arg(long, value_name = "YEAR")]
    pub year: Option<i32>,

    /// Only lines at or after this time: RFC 3339 (`2024-11-22T09:00:00Z`,
    /// `2024-11-22`) or an age (`30m`, `2h`, `7d`, `1w`). Lines without a
    /// time are kept.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only lines at or before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Never show the progress bar. It is only shown on a terminal
    /// (standard error), for scans that take over a second.
    #[arg(long)]
    pub no_progress: bool,
}

/// The commands besides scanning.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show how pullscan reads one line: the format and envelopes found,
    /// the fields, the image, every rule that matched, which one won and
    /// why, and the fix for that registry.
    Explain(ExplainArgs),
    /// List, show, test and lint the rules, and suggest new ones for the
    /// errors no rule knows.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Print a completion script for a shell, e.g. `pullscan completions
    /// bash > ~/.local/share/bash-completion/completions/pullscan`.
    Completions {
        /// The shell.
        #[arg(value_name = "SHELL", value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `pullscan man | man -l -`.
    Man,
}

/// `pullscan explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The log lines, as they appear in the log (quote them); `-` reads
    /// lines from standard input.
    #[arg(value_name = "LINE", required = true)]
    pub lines: Vec<String>,

    /// Add the rule files (*.toml) of this directory to the built-in rules.
    #[arg(long, value_name = "DIR")]
    pub rules: Vec<PathBuf>,

    /// Year for timestamps that carry none (default: this year).
    #[arg(long, value_name = "YEAR")]
    pub year: Option<i32>,

    /// Output format (json: one object per line).
    #[arg(short, long, value_enum, default_value_t = ToolOutput::Text)]
    pub output: ToolOutput,
}

/// `pullscan rules ...`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// The rules (id, cause, priority, title) in load order, and the
    /// causes.
    List(RulesArgs),
    /// Everything about one rule or cause: patterns, literals,
    /// remediation, examples.
    Show {
        /// A rule or cause id.
        #[arg(value_name = "ID")]
        id: String,
        /// Rules and output.
        #[command(flatten)]
        args: RulesArgs,
    },
    /// Check every example and counterexample: of the built-in rules, or,
    /// given DIR, of the rules in DIR (classified with the whole table).
    /// Exit status 1 when one fails.
    Test {
        /// A directory of rule files (*.toml).
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = ToolOutput::Text)]
        output: ToolOutput,
    },
    /// Find patterns no example shows winning, examples another rule wins,
    /// causes without rules and equal-priority overlaps. Exit status 1 on
    /// an error (with --strict, on any finding).
    Lint {
        /// Rules and output.
        #[command(flatten)]
        args: RulesArgs,
        /// Fail on warnings too.
        #[arg(long)]
        strict: bool,
    },
    /// Write the rule table as a query that classifies raw log text into
    /// the cause ids inside a log engine, most specific rule first, and
    /// counts them by cause and image: KQL (Azure Log Analytics), LogQL
    /// (Loki) or SPL (Splunk). A pattern the engine cannot express is
    /// refused, naming the rule.
    Export {
        /// The query language.
        #[arg(long, value_name = "TARGET", value_parser = ["kql", "logql", "spl"])]
        to: String,
        /// KQL: the table and its text column: ContainerAppSystemLogs_CL
        /// (Log_s), ContainerAppSystemLogs (Log), KubeEvents (Message),
        /// ContainerLogV2 (LogMessage).
        #[arg(long, value_name = "TABLE", default_value = "ContainerAppSystemLogs_CL")]
        table: String,
        /// Add the rule files (*.toml) of this directory to the built-in
        /// rules.
        #[arg(long, value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
    /// Scan logs and print a rule skeleton (TOML) for each frequent
    /// template of the pull errors no rule knows, ready to edit and use
    /// with --rules DIR.
    Suggest {
        /// What to scan.
        #[command(flatten)]
        input: InputArgs,
        /// Templates to suggest rules for, most frequent first.
        #[arg(long, value_name = "N", default_value_t = 10)]
        top: usize,
    },
}

/// Options of the `rules` commands that read the rule table.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Add the rule files (*.toml) of this directory to the built-in rules.
    #[arg(long, value_name = "DIR")]
    pub rules: Vec<PathBuf>,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ToolOutput::Text)]
    pub output: ToolOutput,
}

/// `--output` of `explain` and the `rules` commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ToolOutput {
    /// For people.
    Text,
    /// JSON.
    Json,
}

/// `--output` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputArg {
    /// Summary table for people.
    Table,
    /// One JSON document: stats and causes.
    Json,
    /// One JSON object per reported line.
    Jsonl,
    /// The summary as CSV.
    Csv,
    /// The summary as Markdown.
    Markdown,
}

/// `--color` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    /// When standard output is a terminal and NO_COLOR is not set.
    Auto,
    /// Always, even into a pipe or with NO_COLOR set.
    Always,
    /// Never.
    Never,
}
