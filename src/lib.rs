//! pullscan finds container image pull (and push) failures in logs, names
//! the cause of each, and says how to fix it for that registry.
//!
//! The pipeline, in module order (each module uses only those before it):
//! inputs ([`input`]) are read in large blocks; a literal [`prefilter`]
//! drawn from the rule table finds candidate lines; each candidate line is
//! unwrapped and parsed by [`format`](mod@format) into a [`record::Record`]; the
//! [`classify::Classifier`] runs the [`rules`] that can match it and the
//! most specific wins; [`scan`] aggregates reported lines into a
//! [`summary::Summary`] per chunk (chunks run in parallel and merge with
//! `+=`); unclassified lines are grouped by [`template`];
//! [`summary::Summary::finish`] attributes symptoms and splits incidents
//! ([`incident`], in time order across inputs) and makes a
//! [`summary::Report`]; and [`output`] prints it, redacting secrets
//! ([`redact`]). [`explain`] shows that work on a single line: every rule
//! that matched, which one won and why. [`follow`] runs the per-line path
//! over files as they grow (`tail -F`). [`ruletool`] lists, tests and
//! lints the rule table, and [`export`] writes it as a KQL, LogQL or SPL
//! query. [`cli`], [`plan`] and [`app`] are the command line; [`progress`]
//! draws the progress bar.
//!
//! ```
//! use pullscan::{classify::Classifier, format, rules};
//!
//! let classifier = Classifier::new(rules::builtin().unwrap()).unwrap();
//! let ctx = format::LineContext::in_year(2024);
//! let line = r#"E0825 12:00:00.1 1 remote_image.go:180] "PullImage from image service failed" err="rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/library/nginx:1.25\": failed to resolve reference \"docker.io/library/nginx:1.25\": failed to do request: Head \"https://registry-1.docker.io/v2/library/nginx/manifests/1.25\": dial tcp: lookup registry-1.docker.io on 10.0.0.2:53: no such host""#;
//! let record = format::parse_line(line, &ctx);
//! let rule = classifier.classify(&record).rule().unwrap();
//! let cause = classifier.rules().cause_of(&classifier.rules().rules[rule]);
//! assert_eq!(cause.id, "network.dns");
//! ```

// Unsafe code is denied everywhere except where a module opts in with a
// reason: the AVX2 gram filter (`prefilter::gram`).
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod classify;
pub mod cli;
pub mod explain;
pub mod export;
pub mod follow;
pub mod format;
pub mod image;
pub mod incident;
pub mod input;
pub mod output;
pub mod plan;
pub mod prefilter;
pub mod progress;
pub mod record;
pub mod redact;
pub mod rules;
pub mod ruletool;
pub mod scan;
pub mod summary;
pub mod template;
pub mod time;
