//! What we will do: the user's arguments resolved, validated and compiled.
//!
//! All fallible setup happens here, before any scanning: inputs expanded,
//! rules loaded and compiled, globs parsed. Each user mistake has an
//! `ensure_*` check whose message says what to do.

use std::io::IsTerminal;

use anyhow::{bail, Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::classify::Classifier;
use crate::cli::{Cli, OutputArg};
use crate::input::{self, Input, InputError};
use crate::output::OutputKind;
use crate::rules;
use crate::scan::ScanOptions;
use crate::summary::UNCLASSIFIED;

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
}

impl Plan {
    /// Resolve a parsed command line.
    pub fn from_cli(cli: Cli) -> Result<Plan> {
        let mut set = rules::builtin().context("built-in rules")?;
        for dir in &cli.rules {
            rules::load_dir(&mut set, dir).context("bad rule file")?;
        }
        let classifier = Classifier::new(set).map_err(anyhow::Error::msg)?;
        let fail_on = ensure_fail_on(&cli.fail_on, &classifier)?;
        let glob = ensure_globs(&cli.glob)?;
        let paths = if cli.paths.is_empty() {
            ensure_stdin_is_piped()?;
            vec!["-".into()]
        } else {
            cli.paths.clone()
        };
        let (inputs, input_errors) = input::expand(&paths, glob.as_ref());
        let threads = ensure_threads(cli.threads)?;
        let output = match cli.output {
            OutputArg::Table => OutputKind::Table,
            OutputArg::Json => OutputKind::Json,
            OutputArg::Jsonl => OutputKind::Jsonl,
            OutputArg::Csv => OutputKind::Csv,
            OutputArg::Markdown => OutputKind::Markdown,
        };
        let scan = ScanOptions {
            threads,
            keep_events: output.needs_events(),
            year: cli.year,
            ..ScanOptions::default()
        };
        Ok(Plan { inputs, input_errors, classifier, output, fail_on, scan })
    }
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

fn ensure_globs(globs: &[String]) -> Result<Option<GlobSet>> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for g in globs {
        builder.add(Glob::new(g).with_context(|| format!("--glob {g:?}: invalid glob"))?);
    }
    Ok(Some(builder.build()?))
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
