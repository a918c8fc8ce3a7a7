//! What we will do: the user's arguments resolved, validated and compiled.
//!
//! All fallible setup happens here, before any scanning: inputs expanded,
//! rules loaded and compiled, globs parsed. Each user mistake has an
//! `ensure_*` check whose message says what to do.

use std::ffi::OsStr;
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::classify::Classifier;
use crate::cli::{Cli, ColorArg, Command, InputArgs, OutputArg, RulesCommand, ToolOutput};
use crate::export;
use crate::follow::{FollowOptions, FollowOutput};
use crate::format::LineContext;
use crate::input::{self, Input, InputError};
use crate::output::OutputKind;
use crate::rules;
use crate::scan::{self, ScanOptions};
use crate::summary::{GroupKey, ReportOptions, UNCLASSIFIED};
use crate::time::{Timestamp, YearPolicy};

/// Everything resolved.
#[derive(Debug)]
pub struct Plan {
    /// Inputs in the order given (directories expanded).
    pub inputs: Vec<Input>,
    /// Paths that could not be expanded (reported, exit 2, rest scanned).
    pub input_errors: Vec<InputError>,
    /// Compiled rules.
    pub classifier: Classifier,
    /// Output format.
    pub output: OutputKind,
    /// `--fail-on` globs, if any.
    pub fail_on: Option<GlobSet>,
    /// Scanner options.
    pub scan: ScanOptions,
    /// How the report is made.
    pub report: ReportOptions,
    /// Colour the table (`--color`, NO_COLOR, stdout a terminal).
    pub color: bool,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Mode {
    /// Scan logs and report (the default).
    Scan(Plan),
    /// Follow files (`-f`).
    Follow(Box<Plan>, FollowOptions),
    /// `pullscan explain`.
    Explain(ExplainPlan),
    /// `pullscan rules ...`.
    Rules(RulesPlan),
    /// `pullscan completions SHELL`.
    Completions(clap_complete::Shell),
    /// `pullscan man`.
    Man,
}

/// `pullscan explain`, resolved.
#[derive(Debug)]
pub struct ExplainPlan {
    /// Compiled rules.
    pub classifier: Classifier,
    /// The lines; `-` stands for the lines of standard input.
    pub lines: Vec<String>,
    /// How to read times without a year.
    pub ctx: LineContext,
    /// JSON (one object per line) instead of text.
    pub json: bool,
}

/// `pullscan rules ...`, resolved.
#[derive(Debug)]
pub enum RulesPlan {
    /// `rules list`.
    List {
        /// Compiled rules.
        classifier: Classifier,
        /// JSON output.
        json: bool,
    },
    /// `rules show ID`.
    Show {
        /// Compiled rules.
        classifier: Classifier,
        /// Rule or cause id.
        id: String,
        /// JSON output.
        json: bool,
    },
    /// `rules test [DIR]`.
    Test {
        /// Compiled rules (built-in, plus DIR's).
        classifier: Classifier,
        /// Only the rules of this directory are tested.
        dir: Option<PathBuf>,
        /// JSON output.
        json: bool,
    },
    /// `rules lint`.
    Lint {
        /// Compiled rules.
        classifier: Classifier,
        /// JSON output.
        json: bool,
        /// Fail on warnings too.
        strict: bool,
    },
    /// `rules export --to TARGET`.
    Export {
        /// Compiled rules.
        classifier: Classifier,
        /// The query language.
        target: export::Target,
        /// The KQL table.
        table: export::KqlTable,
    },
    /// `rules suggest PATH...`.
    Suggest {
        /// The scan to take unknown errors from.
        plan: Box<Plan>,
        /// Rules to suggest.
        top: usize,
    },
}

impl Mode {
    /// Resolve a parsed command line.
    pub fn from_cli(cli: Cli) -> Result<Mode> {
        let Some(command) = cli.command else {
            if cli.tail {
                let mode = match cli.output {
                    OutputArg::Jsonl => FollowOutput::Events,
                    OutputArg::Table if std::io::stdout().is_terminal() => FollowOutput::Table,
                    OutputArg::Table => FollowOutput::Events,
                    other => bail!(
                        "-f/--tail prints JSON lines or a live table, not --output {}",
                        format!("{other:?}").to_lowercase()
                    ),
                };
                if cli.input.paths.is_empty() {
                    bail!("-f/--tail needs the files to follow");
                }
                let opts = FollowOptions { mode, ..FollowOptions::default() };
                return Ok(Mode::Follow(Box::new(Plan::from_cli(cli)?), opts));
            }
            return Ok(Mode::Scan(Plan::from_cli(cli)?));
        };
        match command {
            Command::Explain(a) => {
                let years = match a.year {
                    Some(y) => YearPolicy::fixed(y),
                    None => YearPolicy::ending_at(now()),
                };
                Ok(Mode::Explain(ExplainPlan {
                    classifier: load_classifier(&a.rules)?,
                    lines: a.lines,
                    ctx: LineContext { years },
                    json: a.output == ToolOutput::Json,
                }))
            }
            Command::Completions { shell } => Ok(Mode::Completions(shell)),
            Command::Man => Ok(Mode::Man),
            Command::Rules(r) => Ok(Mode::Rules(match r {
                RulesCommand::List(a) => RulesPlan::List {
                    classifier: load_classifier(&a.rules)?,
                    json: a.output == ToolOutput::Json,
                },
                RulesCommand::Show { id, args } => RulesPlan::Show {
                    classifier: load_classifier(&args.rules)?,
                    id,
                    json: args.output == ToolOutput::Json,
                },
                RulesCommand::Test { dir, output } => RulesPlan::Test {
                    classifier: load_classifier(dir.as_slice())?,
                    dir,
                    json: output == ToolOutput::Json,
                },
                RulesCommand::Lint { args, strict } => RulesPlan::Lint {
                    classifier: load_classifier(&args.rules)?,
                    json: args.output == ToolOutput::Json,
                    strict,
                },
                RulesCommand::Export { to, table, rules } => {
                    let target = to.parse::<export::Target>().map_err(anyhow::Error::msg)?;
                    let table = table.parse::<export::KqlTable>().map_err(anyhow::Error::msg)?;
                    RulesPlan::Export { classifier: load_classifier(&rules)?, target, table }
                }
                RulesCommand::Suggest { input, top } => {
                    let report = ReportOptions::default();
                    RulesPlan::Suggest {
                        plan: Box::new(Plan::new(
                            &input,
                            OutputKind::Json,
                            None,
                            Vec::new(),
                            true,
                            report,
                        )?),
                        top,
                    }
                }
            })),
        }
    }
}

impl Plan {
    /// Resolve a parsed command line (a scan).
    pub fn from_cli(cli: Cli) -> Result<Plan> {
        let output = match cli.output {
            OutputArg::Table => OutputKind::Table,
            OutputArg::Json => OutputKind::Json,
            OutputArg::Jsonl => OutputKind::Jsonl,
            OutputArg::Csv => OutputKind::Csv,
            OutputArg::Markdown => OutputKind::Markdown,
        };
        let report = ReportOptions {
            incident_gap_secs: ensure_duration("--incident-gap", &cli.incident_gap)?,
            dedup: !cli.no_dedup,
        };
        let group_by = ensure_group_keys(&cli.by)?;
        let mut plan = Plan::new(&cli.input, output, None, group_by, !cli.no_dedup, report)?;
        plan.fail_on = ensure_fail_on(&cli.fail_on, &plan.classifier)?;
        let no_color = std::env::var_os("NO_COLOR");
        plan.color = wants_color(cli.color, std::io::stdout().is_terminal(), no_color.as_deref());
        Ok(plan)
    }

    /// A scan of `input`, reported as `output`.
    fn new(
        input: &InputArgs,
        output: OutputKind,
        fail_on: Option<GlobSet>,
        group_by: Vec<GroupKey>,
        dedup: bool,
        report: ReportOptions,
    ) -> Result<Plan> {
        let classifier = load_classifier(&input.rules)?;
        let globs = input::Globs::new(&input.glob).context("--glob: invalid glob")?;
        let paths = if input.paths.is_empty() {
            ensure_stdin_is_piped()?;
            vec!["-".into()]
        } else {
            input.paths.clone()
        };
        let (inputs, input_errors) = input::expand(&paths, &globs, input.follow);
        let threads = ensure_threads(input.threads)?;
        let now = now();
        let since = input.since.as_deref().map(|s| ensure_time("--since", s, now)).transpose()?;
        let until = input.until.as_deref().map(|s| ensure_time("--until", s, now)).transpose()?;
        if let (Some(a), Some(b)) = (since, until) {
            if a > b {
                bail!("--since {a} is after --until {b}: nothing could match");
            }
        }
        let scan = ScanOptions {
            threads,
            keep_events: output.needs_events(),
            year: input.year,
            since,
            until,
            group_by,
            map_min: if input.no_mmap { None } else { Some(scan::MAP_MIN) },
            dedup,
            // Counted for a progress bar where one can be seen.
            progress: (!input.no_progress && std::io::stderr().is_terminal())
                .then(scan::Progress::default),
            ..ScanOptions::default()
        };
        Ok(Plan { inputs, input_errors, classifier, output, fail_on, scan, report, color: false })
    }
}

/// The built-in rules and those of `dirs`, compiled.
fn load_classifier(dirs: &[PathBuf]) -> Result<Classifier> {
    // Two independent start-up costs on two cores: the rule table, and
    // the static regexes every scan needs.
    std::thread::scope(|scope| {
        scope.spawn(crate::classify::warm_up);
        let mut set = rules::builtin().context("built-in rules")?;
        for dir in dirs {
            rules::load_dir(&mut set, dir).context("bad rule file")?;
        }
        Classifier::new(set).map_err(anyhow::Error::msg)
    })
}

fn now() -> Timestamp {
    Timestamp::from_system(std::time::SystemTime::now())
}

/// Every `--fail-on` glob must be valid and match a known cause id, so that
/// a typo cannot silently disable a CI gate.
fn ensure_fail_on(globs: &[String], classifier: &Classifier) -> Result<Option<GlobSet>> {
    if globs.is_empty() {
        return Ok(None);
    }
    let ids: Vec<&str> = classifier
        .rules()
        .causes
        .iter()
        .filter(|c| c.kind == rules::CauseKind::Failure)
        .map(|c| c.id.as_str())
        .chain([UNCLASSIFIED])
        .collect();
    let mut builder = GlobSetBuilder::new();
    for g in globs {
        let glob = Glob::new(g).with_context(|| format!("--fail-on {g:?}: invalid glob"))?;
        let m = glob.compile_matcher();
        if !ids.iter().any(|id| m.is_match(id)) {
            bail!(
                "--fail-on {g:?} matches no cause id (known: {}, ...; see rules/ or the json output)",
                ids.iter().take(6).copied().collect::<Vec<_>>().join(", ")
            );
        }
        builder.add(glob);
    }
    Ok(Some(builder.build()?))
}

/// Whether to colour: `--color always` and `never` say; `auto` colours
/// a terminal unless NO_COLOR is set to anything but the empty string
/// (no-color.org).
fn wants_color(choice: ColorArg, stdout_is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    match choice {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => stdout_is_terminal && no_color.is_none_or(OsStr::is_empty),
    }
}

fn ensure_stdin_is_piped() -> Result<()> {
    if std::io::stdin().is_terminal() {
        bail!(
            "no input: give files or directories to scan, or pipe logs in \
             (e.g. `journalctl -u kubelet | pullscan`); see --help"
        );
    }
    Ok(())
}

fn ensure_threads(threads: Option<usize>) -> Result<usize> {
    match threads {
        Some(0) => bail!("-j/--threads must be at least 1"),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// `90s`, `30m`, `2h`, `7d`, `1w` as seconds; `None` if it is not one.
fn parse_age(v: &str) -> Option<i64> {
    let digits = v.bytes().take_while(u8::is_ascii_digit).count();
    let unit = match &v[digits..] {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    let n = v[..digits].parse::<i64>().ok()?;
    Some(n.saturating_mul(unit))
}

fn ensure_duration(flag: &str, value: &str) -> Result<i64> {
    match parse_age(value.trim()) {
        Some(secs) => Ok(secs),
        None => bail!("{flag} {value:?}: expected a duration such as 90s, 30m, 2h, 1d"),
    }
}

/// `--since` / `--until`: RFC 3339 (a date alone is its midnight UTC) or an
/// age before `now` (`90s`, `30m`, `2h`, `7d`, `1w`).
fn ensure_time(flag: &str, value: &str, now: Timestamp) -> Result<Timestamp> {
    let v = value.trim();
    if let Some((t, used)) = Timestamp::parse_rfc3339(v) {
        if used == v.len() {
            return Ok(t);
        }
    }
    if v.len() == 10 {
        if let Some((t, _)) = Timestamp::parse_rfc3339(&format!("{v}T00:00:00Z")) {
            return Ok(t);
        }
    }
    match parse_age(v) {
        Some(age) => Ok(Timestamp { secs: now.secs.saturating_sub(age), ..now }),
        None => bail!(
            "{flag} {value:?}: expected an RFC 3339 time (2024-11-22T09:00:00Z, 2024-11-22) \
             or an age such as 30m, 2h, 7d"
        ),
    }
}

fn ensure_group_keys(names: &[String]) -> Result<Vec<GroupKey>> {
    let mut keys = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let Some(k) = GroupKey::from_name(name) else {
            let known: Vec<&str> = GroupKey::ALL.iter().map(|k| k.name()).collect();
            bail!("--by {name:?}: unknown field (one of {})", known.join(", "));
        };
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_absolute_and_relative() {
        let now = Timestamp::parse_rfc3339("2024-11-22T12:00:00Z").unwrap().0;
        let t = |s: &str| ensure_time("--since", s, now).map(|t| t.to_string());
        assert_eq!(t("2h").unwrap(), "2024-11-22T10:00:00Z");
        assert_eq!(t("30m").unwrap(), "2024-11-22T11:30:00Z");
        assert_eq!(t("1w").unwrap(), "2024-11-15T12:00:00Z");
        assert_eq!(t("2024-11-01").unwrap(), "2024-11-01T00:00:00Z");
        assert_eq!(t("2024-11-01T08:00:00+02:00").unwrap(), "2024-11-01T06:00:00Z");
        assert!(t("yesterday").is_err());
        assert!(t("2x").is_err());
        assert!(t("h").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(ensure_duration("--incident-gap", "30m").unwrap(), 1800);
        assert_eq!(ensure_duration("--incident-gap", " 2h ").unwrap(), 7200);
        assert_eq!(ensure_duration("--incident-gap", "0s").unwrap(), 0);
        for bad in ["", "m", "30", "30min", "-5m", "1.5h"] {
            assert!(ensure_duration("--incident-gap", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn color_choice() {
        let set = Some(OsStr::new("1"));
        let empty = Some(OsStr::new(""));
        assert!(wants_color(ColorArg::Auto, true, None));
        assert!(wants_color(ColorArg::Auto, true, empty), "empty NO_COLOR is unset");
        assert!(!wants_color(ColorArg::Auto, true, set));
        assert!(!wants_color(ColorArg::Auto, false, None), "no colour in pipes");
        assert!(wants_color(ColorArg::Always, false, set), "asked for: always");
        assert!(!wants_color(ColorArg::Never, true, None));
    }

    #[test]
    fn group_keys() {
        let keys = ensure_group_keys(&["registry".into(), " cause".into()]).unwrap();
        assert_eq!(keys, vec![GroupKey::Registry, GroupKey::Cause]);
        assert!(ensure_group_keys(&["colour".into()]).is_err());
    }
}
