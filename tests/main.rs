//! The one integration test binary (ripgrep's layout): one link for all.

mod cli;
mod corpus;
mod envelopes;
mod export;
mod golden;
mod incidents;
mod lab;
mod oracle;
mod props;
mod regressions;
mod robust;
mod rules;
mod ruletool;
mod tools;
mod util;
mod vocabulary;
