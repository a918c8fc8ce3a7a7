//! How long the builtin rule table takes to load and compile, best of 7:
//! `cargo run --release --example rxtime`. The figures quoted in
//! `rules::compile_patterns` come from here.

use std::error::Error;
use std::time::{Duration, Instant};

use regex_automata::{meta, nfa::thompson::WhichCaptures, util::syntax};

fn best(f: impl Fn() -> Result<(), Box<dyn Error>>) -> Result<Duration, Box<dyn Error>> {
    let mut best = Duration::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed());
    }
    Ok(best)
}

fn main() -> Result<(), Box<dyn Error>> {
    let rules = pullscan::rules::builtin()?;
    let pats: Vec<String> = rules.rules.iter().flat_map(|r| r.patterns.clone()).collect();
    println!("{} patterns", pats.len());
    let t = best(|| {
        for p in &pats {
            regex::bytes::RegexBuilder::new(p).size_limit(1 << 20).build()?;
        }
        Ok(())
    })?;
    println!("regex::bytes defaults: {t:?}");
    let base = meta::Config::new().which_captures(WhichCaptures::None);
    for (name, cfg) in [
        ("meta, no captures", base.clone()),
        ("meta, no captures, no DFA", base.clone().dfa(false)),
        ("meta, no captures, no DFA, no prefilter", base.clone().dfa(false).auto_prefilter(false)),
    ] {
        let t = best(|| {
            for p in &pats {
                meta::Builder::new()
                    .configure(cfg.clone())
                    .syntax(syntax::Config::new().utf8(false))
                    .build(p)?;
            }
            Ok(())
        })?;
        println!("{name}: {t:?}");
    }
    println!(
        "pullscan::rules::compile_patterns: {:?}",
        best(|| {
            for r in &rules.rules {
                pullscan::rules::compile_patterns(&r.patterns)
                    .map_err(|(p, e)| format!("{p}: {e}"))?;
            }
            Ok(())
        })?
    );
    println!(
        "rules::builtin: {:?}",
        best(|| pullscan::rules::builtin().map(drop).map_err(Into::into))?
    );
    let classifier =
        || pullscan::classify::Classifier::new(rules.clone()).map(drop).map_err(Into::into);
    println!("Classifier::new: {:?}", best(classifier)?);
    Ok(())
}
