//! The progress bar of a long scan, on stderr.
//!
//! The scan only adds to a byte counter ([`Progress`]), once per block. A
//! ticker thread reads it ten times a second into an indicatif bar that
//! is hidden for the first second: a scan that ends sooner shows nothing.
//! The bar knows the total when every input is a plain file (the sum of
//! their sizes); with standard input or a gzip file it is a spinner with
//! the bytes read. indicatif draws nothing where stderr is no terminal,
//! and the plan only asks for a bar where it is one.

use std::fs::File;
use std::io::Read;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::input::Input;
use crate::scan::Progress;

/// How long a scan runs before its bar is shown.
pub const DELAY: Duration = Duration::from_secs(1);

/// How often the bar reads the counter.
const TICK: Duration = Duration::from_millis(100);

/// A running progress bar. Dropping it (or [`Ticker::finish`]) stops the
/// thread and clears the bar from the terminal before returning, so that
/// what is printed next is not mixed with it.
#[derive(Debug)]
pub struct Ticker {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Show the progress of a scan of `inputs` counted in `counter`.
    pub fn start(counter: Progress, inputs: &[Input]) -> Ticker {
        let (stop, stopped) = mpsc::channel::<()>();
        let inputs = inputs.to_vec();
        let thread = std::thread::Builder::new()
            .name("pullscan-progress".into())
            .spawn(move || {
                // Fed from the start, hidden until the delay is over: the
                // rate and ETA are then those of the whole scan so far.
                let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
                let started = Instant::now();
                let mut shown = false;
                loop {
                    if !shown && started.elapsed() >= DELAY {
                        shown = true;
                        show(&bar, total(&inputs));
                    }
                    let pos = counter.get();
                    // A file that grew since it was measured.
                    if bar.length().is_some_and(|len| pos > len) {
                        bar.set_length(pos);
                    }
                    bar.set_position(pos);
                    if shown {
                        bar.tick();
                    }
                    match stopped.recv_timeout(TICK) {
                        Err(RecvTimeoutError::Timeout) => continue,
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
                bar.finish_and_clear();
            })
            .ok();
        Ticker { stop: Some(stop), thread }
    }

    /// Stop and clear the bar.
    pub fn finish(self) {}
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Put `bar` on stderr: a bar towards `total`, or a spinner.
fn show(bar: &ProgressBar, total: Option<u64>) {
    let template = match total {
        Some(_) => {
            "{spinner} scanning {binary_bytes}/{binary_total_bytes} [{wide_bar}] \
             {binary_bytes_per_sec}, ETA {eta}"
        }
        None => "{spinner} scanning {binary_bytes} ({binary_bytes_per_sec})",
    };
    let style = ProgressStyle::with_template(template)
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    bar.set_style(style);
    if let Some(total) = total {
        bar.set_length(total.max(bar.position()));
    }
    bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(10));
}

/// The bytes the scan of `inputs` will count: the sum of their sizes, if
/// every one is a plain file whose bytes are its own (not gzip).
fn total(inputs: &[Input]) -> Option<u64> {
    let mut sum = 0u64;
    for input in inputs {
        let Input::Path(path) = input else { return None };
        let mut file = File::open(path).ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() {
            return None;
        }
        let mut magic = [0u8; 2];
        if file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b] {
            return None;
        }
        sum += meta.len();
    }
    Some(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_known_for_plain_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.log");
        std::fs::write(&plain, "hello\n").unwrap();
        let empty = dir.path().join("empty.log");
        std::fs::write(&empty, "").unwrap();
        let gz = dir.path().join("b.log");
        std::fs::write(&gz, [0x1f, 0x8b, 8, 0]).unwrap();
        let p = |p: &std::path::Path| Input::Path(p.to_path_buf());
        assert_eq!(total(&[p(&plain), p(&empty)]), Some(6));
        assert_eq!(total(&[p(&plain), p(&gz)]), None);
        assert_eq!(total(&[p(&plain), Input::Stdin]), None);
        assert_eq!(total(&[p(&dir.path().join("missing"))]), None);
    }

    #[test]
    fn a_ticker_stops_when_dropped() {
        let counter = Progress::default();
        let started = Instant::now();
        Ticker::start(counter, &[Input::Stdin]).finish();
        assert!(started.elapsed() < DELAY, "stopping does not wait out the delay");
    }
}
