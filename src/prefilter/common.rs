//! How common a folded 4-gram is in ordinary logs, so that each literal is
//! represented by its rarest grams (see [`super::gram`]).
//!
//! The table holds the most frequent grams of `corpus/noise/` (the loghub
//! 2k samples: sixteen real system and application logs) with the base-2
//! log of their count. It is generated: `PULLSCAN_BLESS=1 cargo test
//! common_grams` rewrites `common_grams.in` from the corpus, and the same
//! test fails when the file is stale. Only the choice of grams depends on
//! it, never which lines are found.

/// `(folded gram, log2 of its count + 1)`, sorted by gram.
static COMMON: &[(u32, u8)] = &include!("common_grams.in");

/// How many grams the table keeps.
#[cfg(test)]
const KEEP: usize = 2048;

/// 0 for a gram not in the table, else 1 + log2 of its count there.
pub fn cost(gram: u32) -> u32 {
    COMMON.binary_search_by_key(&gram, |&(g, _)| g).map_or(0, |i| u32::from(COMMON[i].1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table, computed from the corpus.
    fn generate() -> String {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/noise");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        paths.sort();
        let mut counts = std::collections::HashMap::<u32, u64>::new();
        for p in paths {
            let text = std::fs::read(p).unwrap();
            for w in text.windows(4) {
                *counts.entry(super::super::gram::fold_gram(w)).or_default() += 1;
            }
        }
        let mut top: Vec<(u32, u64)> = counts.into_iter().collect();
        top.sort_by_key(|&(g, c)| (std::cmp::Reverse(c), g));
        top.truncate(KEEP);
        top.sort();
        let mut out = String::from("[\n");
        for (g, c) in top {
            out.push_str(&format!("    (0x{g:08x}, {}),\n", c.ilog2() + 1));
        }
        out.push_str("]\n");
        out
    }

    #[test]
    fn common_grams_are_current() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/prefilter/common_grams.in");
        let want = generate();
        if std::env::var_os("PULLSCAN_BLESS").is_some() {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap();
        assert!(have == want, "stale: run PULLSCAN_BLESS=1 cargo test common_grams");
    }

    #[test]
    fn ordinary_words_cost_more_than_rare_ones() {
        let g = |s: &[u8]| cost(super::super::gram::fold_gram(s));
        assert!(g(b"tion") > 5);
        assert!(g(b"TION") == g(b"tion"));
        assert_eq!(g(b"x509"), 0);
    }
}
