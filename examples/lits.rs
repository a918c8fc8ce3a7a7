use std::collections::HashMap;
fn main() {
    let rules = pullscan::rules::builtin().unwrap();
    let text = std::fs::read(std::env::args().nth(1).unwrap()).unwrap();
    let mut lits: Vec<(String, String)> = Vec::new();
    for r in &rules.rules {
        for l in &r.literals {
            lits.push((l.to_ascii_lowercase(), r.id.clone()));
        }
    }
    lits.push(("pull".into(), "PULL".into()));
    lits.push(("push".into(), "PUSH".into()));
    let mut counts: HashMap<String, usize> = HashMap::new();
    for line in text.split(|&b| b == b'\n') {
        let low = line.to_ascii_lowercase();
        let mut first = None;
        for (l, id) in &lits {
            if low.windows(l.len()).any(|w| w == l.as_bytes()) {
                first = Some(format!("{l} [{id}]"));
                break;
            }
        }
        if let Some(f) = first {
            *counts.entry(f).or_default() += 1;
        }
    }
    let mut v: Vec<_> = counts.into_iter().collect();
    v.sort_by_key(|x| std::cmp::Reverse(x.1));
    for (k, c) in v.iter().take(40) {
        println!("{c:7} {k}");
    }
}
