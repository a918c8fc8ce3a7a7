//! Wiring: scan, report, print, and the exit code.

use std::io::{self, Write};
use std::sync::atomic::AtomicBool;

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::Cli;
use crate::explain;
use crate::export;
use crate::follow;
use crate::output;
use crate::plan::{ExplainPlan, Mode, Plan, RulesPlan};
use crate::progress::Ticker;
use crate::redact::redact;
use crate::ruletool;
use crate::scan;
use crate::summary::{Report, CAPPED_GROUP};
use crate::template;

/// How the run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Ran; nothing asked to fail.
    Ok,
    /// A `--fail-on` cause was found.
    FailOn,
    /// Some input could not be read (what could be read was reported).
    Errors,
}

impl Outcome {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Ok => 0,
            Outcome::FailOn => 1,
            Outcome::Errors => 2,
        }
    }
}

/// Run what the command line asked for.
/// `stop` is set on Ctrl-C; only follow mode watches it (a scan ends by
/// itself, and an interrupted one prints nothing).
pub fn run_mode(mode: &Mode, stop: &AtomicBool, out: &mut dyn Write) -> Result<Outcome> {
    match mode {
        Mode::Scan(plan) => run(plan, out),
        Mode::Follow(plan, opts) => follow::run(plan, opts, stop, out),
        Mode::Explain(plan) => run_explain(plan, out),
        Mode::Rules(rules) => run_rules(rules, out),
        Mode::Completions(shell) => {
            clap_complete::generate(*shell, &mut Cli::command(), "pullscan", out);
            out.flush()?;
            Ok(Outcome::Ok)
        }
        Mode::Man => {
            man(out)?;
            Ok(Outcome::Ok)
        }
    }
}

/// `pullscan man`: the manual page of pullscan, then one for each
/// command (`pullscan-explain`, `pullscan-rules-list`, ...), in one roff
/// stream that `man -l -` shows page after page.
fn man(out: &mut dyn Write) -> io::Result<()> {
    fn page(cmd: &clap::Command, out: &mut dyn Write) -> io::Result<()> {
        let source = concat!("pullscan ", env!("CARGO_PKG_VERSION"));
        clap_mangen::Man::new(cmd.clone()).source(source).render(out)?;
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            page(sub, out)?;
        }
        Ok(())
    }
    let mut cmd = Cli::command().disable_help_subcommand(true);
    // Built, subcommands are named `pullscan-explain` and so on.
    cmd.build();
    page(&cmd, out)?;
    out.flush()
}

/// `pullscan explain`: each line given, `-` standing for the lines of
/// standard input.
fn run_explain(plan: &ExplainPlan, out: &mut dyn Write) -> Result<Outcome> {
    let mut first = true;
    let mut one = |line: &str, out: &mut dyn Write| -> io::Result<()> {
        let e = explain::explain(&plan.classifier, line, &plan.ctx);
        if plan.json {
            explain::write_json(&e, out)
        } else {
            if !std::mem::take(&mut first) {
                writeln!(out)?;
            }
            explain::write_human(&e, out)
        }
    };
    for line in &plan.lines {
        if line != "-" {
            one(line, out)?;
            continue;
        }
        let mut buf = Vec::new();
        let stdin = io::stdin();
        let mut input = stdin.lock();
        while io::BufRead::read_until(&mut input, b'\n', &mut buf)? > 0 {
            let text = String::from_utf8_lossy(&buf);
            let text = text.trim_end_matches(['\n', '\r']);
            if !text.trim().is_empty() {
                one(text, out)?;
            }
            buf.clear();
        }
    }
    out.flush()?;
    Ok(Outcome::Ok)
}

/// `pullscan rules ...`.
fn run_rules(plan: &RulesPlan, out: &mut dyn Write) -> Result<Outcome> {
    let passed = match plan {
        RulesPlan::List { classifier, json } => {
            ruletool::list(classifier.rules(), *json, out)?;
            true
        }
        RulesPlan::Show { classifier, id, json } => {
            ruletool::show(classifier.rules(), id, *json, out)?;
            true
        }
        RulesPlan::Test { classifier, dir, json } => {
            ruletool::test(classifier, dir.as_deref(), *json, out)?
        }
        RulesPlan::Lint { classifier, json, strict } => {
            let found = ruletool::lint(classifier, *json, out)?;
            let errors = found.iter().any(|f| f.severity == ruletool::Severity::Error);
            if *strict {
                found.is_empty()
            } else {
                !errors
            }
        }
        RulesPlan::Export { classifier, target, table } => {
            export::export(classifier.rules(), *target, *table, out)?;
            true
        }
        RulesPlan::Suggest { plan, top } => return suggest(plan, *top, out),
    };
    out.flush()?;
    Ok(if passed { Outcome::Ok } else { Outcome::FailOn })
}

/// Scan and report, printing input errors to stderr; returns the report
/// and the number of errors.
fn scan_and_report(plan: &Plan) -> Result<(Report, usize)> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(plan.scan.threads).build()?;
    let ticker = plan.scan.progress.clone().map(|p| Ticker::start(p, &plan.inputs));
    let summary = pool.install(|| scan::scan(&plan.inputs, &plan.classifier, &plan.scan));
    // The bar is gone before anything else is written.
    drop(ticker);
    let names: Vec<String> = plan.inputs.iter().map(|i| i.name()).collect();
    let report = summary.finish_with(plan.classifier.rules(), &names, &plan.report);

    let mut errors = plan.input_errors.len();
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for e in &plan.input_errors {
        let _ = writeln!(err, "pullscan: {}: {}", redact(&e.path), redact(&e.message));
    }
    for i in &report.stats.inputs {
        for e in &i.errors {
            let _ = writeln!(err, "pullscan: {}: {}", redact(&i.path), redact(e));
        }
        if i.errors_dropped > 0 {
            let _ = writeln!(err, "pullscan: {}: {} more errors", i.path, i.errors_dropped);
        }
        errors += i.error_count() as usize;
    }
    Ok((report, errors))
}

/// `pullscan rules suggest`: scan, then a rule skeleton per frequent
/// template of the unclassified lines.
fn suggest(plan: &Plan, top: usize, out: &mut dyn Write) -> Result<Outcome> {
    let (report, errors) = scan_and_report(plan)?;
    let suggestions: Vec<template::Suggestion> = report
        .templates
        .iter()
        .filter(|t| t.template != CAPPED_GROUP)
        .take(top)
        .map(|t| template::Suggestion {
            template: t.template.clone(),
            count: t.count,
            samples: t.samples.iter().map(|s| s.text.clone()).collect(),
        })
        .collect();
    if suggestions.is_empty() {
        writeln!(
            out,
            "# pullscan rules suggest: {} unclassified pull errors in {} lines read; nothing to suggest.",
            report.stats.total.unclassified, report.stats.total.lines
        )?;
    } else {
        out.write_all(template::suggest_toml(&suggestions).as_bytes())?;
    }
    out.flush()?;
    Ok(if errors > 0 { Outcome::Errors } else { Outcome::Ok })
}

/// Run a plan, printing the report to `out` and input errors to stderr.
pub fn run(plan: &Plan, out: &mut dyn Write) -> Result<Outcome> {
    let (report, errors) = scan_and_report(plan)?;
    output::write_color(plan.output, &report, plan.color, out)?;
    out.flush()?;

    if errors > 0 {
        return Ok(Outcome::Errors);
    }
    let failed = plan.fail_on.as_ref().is_some_and(|set| {
        report.causes.iter().any(|c| c.count > 0 && set.is_match(c.cause.as_str()))
    });
    Ok(if failed { Outcome::FailOn } else { Outcome::Ok })
}
