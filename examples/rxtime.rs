use regex_automata::{meta, nfa::thompson::WhichCaptures, util::syntax};
use std::time::{Duration, Instant};
fn best(f: impl Fn()) -> Duration {
    (0..7).map(|_| { let t = Instant::now(); f(); t.elapsed() }).min().unwrap()
}
fn main() {
    let rules = pullscan::rules::builtin().unwrap();
    let pats: Vec<String> = rules.rules.iter().flat_map(|r| r.patterns.clone()).collect();
    println!("{} patterns", pats.len());
    for uni in [true, false] {
        println!("regex unicode={uni}: {:?}", best(|| for p in &pats {
            regex::bytes::RegexBuilder::new(p).unicode(uni).size_limit(1 << 20).dfa_size_limit(1 << 20).build().unwrap();
        }));
    }
    let base = meta::Config::new().which_captures(WhichCaptures::None);
    for (name, cfg) in [
        ("meta-nocap", base.clone()),
        ("meta-nocap-nodfa", base.clone().dfa(false)),
        ("meta-nocap-nodfa-noonepass-nobt", base.clone().dfa(false).onepass(false).backtrack(false)),
        ("meta-nocap-nodfa-nopre", base.clone().dfa(false).auto_prefilter(false)),
        ("meta-nodfa", meta::Config::new().dfa(false)),
    ] {
        for uni in [true, false] {
            println!("{name} unicode={uni}: {:?}", best(|| for p in &pats {
                meta::Builder::new().configure(cfg.clone()).syntax(syntax::Config::new().utf8(false).unicode(uni)).build(p).unwrap();
            }));
        }
    }
    println!("builtin: {:?}", best(|| { pullscan::rules::builtin().unwrap(); }));
    println!("classifier: {:?}", best(|| { pullscan::classify::Classifier::new(rules.clone()).unwrap(); }));
}
