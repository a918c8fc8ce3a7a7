//! Wiring: scan, report, print, and the exit code.

use std::io::{self, Write};

use anyhow::Result;

use crate::output;
use crate::plan::Plan;
use crate::redact::redact;
use crate::scan;

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

/// Run a plan, printing the report to `out` and input errors to stderr.
pub fn run(plan: &Plan, out: &mut dyn Write) -> Result<Outcome> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(plan.scan.threads).build()?;
    let summary = pool.install(|| scan::scan(&plan.inputs, &plan.classifier, &plan.scan));
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
    output::write(plan.output, &report, out)?;
    out.flush()?;

    if errors > 0 {
        return Ok(Outcome::Errors);
    }
    let failed = plan.fail_on.as_ref().is_some_and(|set| {
        report.causes.iter().any(|c| c.count > 0 && set.is_match(c.cause.as_str()))
    });
    Ok(if failed { Outcome::FailOn } else { Outcome::Ok })
}
