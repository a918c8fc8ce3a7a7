//! The `pullscan` binary: parse arguments, run, map the result to an exit
//! code. Everything else lives in the library.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;

use pullscan::{app, cli::Cli, plan::Mode};

/// Set by Ctrl-C (SIGINT, SIGTERM) in follow mode.
static STOP: AtomicBool = AtomicBool::new(false);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = Mode::from_cli(cli).and_then(|mode| {
        if matches!(mode, Mode::Follow(..)) {
            // Follow mode runs until interrupted, then prints its summary.
            ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst))?;
        }
        let stdout = io::stdout();
        let mut out = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
        app::run_mode(&mode, &STOP, &mut out)
    });
    match result {
        Ok(outcome) => ExitCode::from(outcome.code()),
        // `pullscan ... | head`: the reader left; that is not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let message = format!("{e:#}");
            let _ = writeln!(io::stderr(), "pullscan: {}", pullscan::redact::redact(&message));
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
