//! A hashed 4-gram filter that finds the lines holding any of a few hundred
//! case-insensitive literals at SIMD speed.
//!
//! Why not Aho-Corasick over the buffer: a DFA walk is one dependent table
//! load per byte (about 600 MB/s per core here, even interleaved), and the
//! SIMD searcher that makes ripgrep fast (Teddy) takes at most 64 patterns
//! and loses its discrimination on case-folded text. The rule table has
//! ~330 case-insensitive literals.
//!
//! How: every literal is represented by one or two 4-byte *grams* (its
//! rarest ones, see [`super::common`]). The buffer is sampled at every
//! second offset; each 4-byte window is case-folded (`| 0x20` per byte),
//! hashed, and looked up in a small bitmap. A literal of 5+ bytes has two
//! consecutive grams registered, so one of them starts on the sampling grid
//! wherever the literal is; a 4-byte literal has its own gram plus every
//! `?xyz` gram (one unknown byte before its first three). A bitmap hit is
//! checked against a second bitmap with another hash, then against the
//! exact gram table, and finally the literal itself is compared. So the
//! filter is exact: it reports a line if and only if the line contains a
//! literal (ASCII case-insensitively), like the automaton it replaces.
//!
//! With AVX2 (checked at run time) 32 windows are hashed per round and the
//! bitmap is read with gathers: 1 GiB of the bench syslog in 0.5-0.75 s on
//! one core (1.4-2.0 GB/s, a noisy machine), against 1.6 s for the
//! interleaved DFA. Without AVX2 the same algorithm runs scalar.

use super::common;

/// log2 of the first-level bitmap size in bits (32 KiB). With ~330
/// literals, 8 KiB scanned the 1 GiB bench syslog at 1.2 GB/s against
/// 1.4-1.5 GB/s for 16 KiB, and 32 KiB cut the bitmap hits from 3.9 M to
/// 2.4 M but its slower gathers gave no gain. With the ~640 literals of
/// every client's vocabulary (issue 15) 16 KiB filled up: 32 KiB took 3 %
/// fewer instructions for a whole run on 300 MB of it (callgrind, one
/// thread: 1.635 G against 1.581 G).
const L1_BITS: u32 = 18;
const K1: u32 = 0x9E37_79B1;
const K2: u32 = 0x85EB_CA77;
/// Per-byte ASCII case folding that never misses: it maps `A` and `a` to the
/// same byte (and conflates some punctuation, which only costs a check).
const FOLD: u32 = 0x2020_2020;

#[inline(always)]
fn fold(w: u32) -> u32 {
    w | FOLD
}

#[inline(always)]
fn h1(g: u32) -> usize {
    (g.wrapping_mul(K1) >> (32 - L1_BITS)) as usize
}

#[inline(always)]
fn h2(g: u32) -> usize {
    (g.wrapping_mul(K2) >> 16) as usize
}

/// The folded gram at the start of `b` (at least 4 bytes).
#[inline(always)]
#[cfg(test)]
pub(super) fn fold_gram(b: &[u8]) -> u32 {
    gram_at(b)
}

#[inline(always)]
fn gram_at(b: &[u8]) -> u32 {
    fold(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// One registered gram: literal `lit` starts `off` bytes before the gram
/// (`off` is -1 for the `?xyz` grams of 4-byte literals).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    gram: u32,
    lit: u32,
    off: i32,
}

/// Grams to entries: an open-addressing table over the distinct grams, so a
/// bitmap false positive costs one probe of an empty slot.
#[derive(Clone, Debug, Default)]
struct GramTable {
    /// Sorted by gram.
    entries: Vec<Entry>,
    /// `(gram, first entry, entry count)`; count 0 marks an empty slot.
    slots: Vec<(u32, u32, u32)>,
    /// The first-level bitmap: bit `h1(gram)` is set for every gram.
    level1: Vec<u32>,
}

impl GramTable {
    fn new(mut entries: Vec<Entry>) -> GramTable {
        entries.sort_unstable();
        entries.dedup();
        let size = (entries.len() * 4).next_power_of_two().max(16);
        let mut slots = vec![(0, 0, 0); size];
        let mut level1 = vec![0u32; 1 << (L1_BITS - 5)];
        let mut i = 0;
        while i < entries.len() {
            let g = entries[i].gram;
            let n = entries[i..].iter().take_while(|e| e.gram == g).count();
            let mut s = h2(g) & (size - 1);
            while slots[s].2 != 0 {
                s = (s + 1) & (size - 1);
            }
            slots[s] = (g, i as u32, n as u32);
            let a = h1(g);
            level1[a >> 5] |= 1 << (a & 31);
            i += n;
        }
        GramTable { entries, slots, level1 }
    }

    /// The slot holding `g`, if any.
    #[inline]
    fn slot(&self, g: u32) -> Option<usize> {
        let mask = self.slots.len() - 1;
        let mut s = h2(g) & mask;
        loop {
            let (gram, _, n) = self.slots[s];
            if n == 0 {
                return None;
            }
            if gram == g {
                return Some(s);
            }
            s = (s + 1) & mask;
        }
    }

    #[inline]
    fn get(&self, g: u32) -> &[Entry] {
        match self.slot(g) {
            Some(s) => {
                let (_, first, n) = self.slots[s];
                &self.entries[first as usize..(first + n) as usize]
            }
            None => &[],
        }
    }

    #[inline]
    fn maybe(&self, g: u32) -> bool {
        let a = h1(g);
        self.level1[a >> 5] >> (a & 31) & 1 != 0
    }
}

/// Buffers at least this long get grams chosen for their own text.
const TUNE_MIN_BUFFER: usize = 1 << 20;
/// The text sampled to tune: this many slices of [`SAMPLE_SLICE`] bytes,
/// spread over the buffer.
const SAMPLE_SLICES: usize = 4;
const SAMPLE_SLICE: usize = 16 << 10;

/// A choice of grams for one input (see `GramFilter::tuned_for`).
#[derive(Clone, Debug)]
pub struct Tuned(GramTable);

/// The compiled filter.
#[derive(Clone, Debug)]
pub struct GramFilter {
    /// The literals, lowercase, none containing another.
    lits: Vec<Vec<u8>>,
    /// Every gram that could represent a literal, for counting samples.
    all: GramTable,
    /// Grams chosen by how common they are in ordinary logs.
    fixed: GramTable,
    avx2: bool,
}

impl GramFilter {
    /// Build for `lits` (any case); `None` if a literal is shorter than 4
    /// bytes, which this filter cannot represent.
    pub fn new<S: AsRef<[u8]>>(lits: &[S]) -> Option<GramFilter> {
        let mut lits: Vec<Vec<u8>> = lits.iter().map(|l| l.as_ref().to_ascii_lowercase()).collect();
        if lits.iter().any(|l| l.len() < 4) {
            return None;
        }
        // A literal containing another needs no grams of its own: any line
        // holding it holds the shorter one.
        lits.sort_by_key(|l| (l.len(), l.clone()));
        lits.dedup();
        let mut kept: Vec<Vec<u8>> = Vec::with_capacity(lits.len());
        for l in lits {
            if !kept.iter().any(|k| contains(&l, k)) {
                kept.push(l);
            }
        }
        let mut all = Vec::new();
        for (i, l) in kept.iter().enumerate() {
            for o in 0..=l.len() - 4 {
                all.push(Entry { gram: gram_at(&l[o..]), lit: i as u32, off: o as i32 });
            }
        }
        let all = GramTable::new(all);
        let fixed = select(&kept, common::cost);
        Some(GramFilter { lits: kept, all, fixed, avx2: has_avx2() })
    }

    /// Grams for `sample` and text like it, if it is large enough to tell.
    /// Any choice finds the same lines; a good one finds them faster.
    pub fn tuned_for(&self, sample: &[u8]) -> Option<Tuned> {
        (sample.len() >= TUNE_MIN_BUFFER).then(|| Tuned(self.tune(sample)))
    }

    /// Push the start offset of every line of `hay` that contains a
    /// literal, in order (lines end at `\n`; no literal contains one).
    /// `tuned` is a choice of grams made beforehand: the scanner tunes once
    /// per input, not once per chunk (tuning reads 64 KiB, and a GiB has
    /// over a hundred chunks). Without one, a large `hay` is tuned for
    /// itself and a small one uses the fixed choice.
    pub fn candidate_lines(&self, tuned: Option<&Tuned>, hay: &[u8], out: &mut Vec<usize>) {
        let own = if tuned.is_none() { self.tuned_for(hay) } else { None };
        let table = tuned.or(own.as_ref()).map_or(&self.fixed, |t| &t.0);
        super::hit_lines(hay, out, |from| self.next_hit(table, hay, from));
    }

    /// Grams chosen for `hay`: each literal's pair that is rarest in a
    /// sample of it. A host name on every line (`ip-10-0-1-2.ec2.internal`)
    /// makes `tern` common in that log and nowhere else; on the 1 GiB
    /// bench syslog the fixed choice had 3.8 M hits of registered grams,
    /// the tuned one 1.0 M.
    fn tune(&self, hay: &[u8]) -> GramTable {
        let mut counts = vec![0u32; self.all.slots.len()];
        for k in 0..SAMPLE_SLICES {
            let at = (hay.len() - SAMPLE_SLICE) / (SAMPLE_SLICES - 1) * k;
            let slice = &hay[at..at + SAMPLE_SLICE];
            for w in slice.windows(4) {
                let g = gram_at(w);
                if self.all.maybe(g) {
                    if let Some(s) = self.all.slot(g) {
                        counts[s] += 1;
                    }
                }
            }
        }
        let seen = |g: u32| self.all.slot(g).map_or(0, |s| counts[s]);
        // Seen counts first; ordinary-log commonness breaks ties.
        select(&self.lits, |g| seen(g) * 64 + common::cost(g))
    }

    /// The offset of a literal occurrence found by scanning windows at
    /// `from`, `from + 2`, ...: the first one on or after `from` if a
    /// literal starts there (only the line of the hit matters to callers).
    fn next_hit(&self, table: &GramTable, hay: &[u8], from: usize) -> Option<usize> {
        let mut found = None;
        passing_windows(table, hay, from, self.avx2, |q| {
            found = self.confirm(table, hay, q, gram_at(&hay[q..]));
            found.is_none()
        });
        found
    }

    /// The start of a literal whose gram `g` is the window at `q`, if any.
    #[inline]
    fn confirm(&self, table: &GramTable, hay: &[u8], q: usize, g: u32) -> Option<usize> {
        for e in table.get(g) {
            let Some(s) = q.checked_add_signed(-(e.off as isize)) else { continue };
            let lit = &self.lits[e.lit as usize];
            if hay.get(s..s + lit.len()).is_some_and(|t| t.eq_ignore_ascii_case(lit)) {
                return Some(s);
            }
        }
        None
    }
}

/// Every literal (none dropped for containing another) in one gram table,
/// for short texts: which literals occur in a message, and where the first
/// one is.
///
/// The same sampling and the same AVX2 rounds as [`GramFilter`] (every
/// second window, the fixed grams), without stopping at the first hit. On a candidate line
/// this replaces an Aho-Corasick walk, which is one dependent load per byte
/// from a table too large for the L1 cache.
#[derive(Clone, Debug)]
pub struct TextGrams {
    /// The literals, lowercase, in the caller's order.
    lits: Vec<Vec<u8>>,
    table: GramTable,
    avx2: bool,
}

impl TextGrams {
    /// Build for `lits` (any case); `None` if one is shorter than 4 bytes.
    pub fn new<S: AsRef<[u8]>>(lits: &[S]) -> Option<TextGrams> {
        let lits: Vec<Vec<u8>> = lits.iter().map(|l| l.as_ref().to_ascii_lowercase()).collect();
        if lits.iter().any(|l| l.len() < 4) {
            return None;
        }
        let table = select(&lits, common::cost);
        Some(TextGrams { lits, table, avx2: has_avx2() })
    }

    /// Call `f(literal index, start)` for every occurrence of a literal in
    /// `text`, in order of the sampled window that found it; stop early
    /// when `f` returns `false`. Each occurrence is reported once: exactly
    /// one of a literal's two grams (or, for a 4-byte literal, of its own
    /// gram and its `?xyz` grams) lies on the even grid.
    #[inline]
    pub fn each(&self, text: &[u8], mut f: impl FnMut(usize, usize) -> bool) {
        passing_windows(&self.table, text, 0, self.avx2, |q| {
            for e in self.table.get(gram_at(&text[q..])) {
                let Some(s) = q.checked_add_signed(-(e.off as isize)) else { continue };
                let lit = &self.lits[e.lit as usize];
                let hit = text.get(s..s + lit.len()).is_some_and(|t| t.eq_ignore_ascii_case(lit));
                if hit && !f(e.lit as usize, s) {
                    return false;
                }
            }
            true
        });
    }
}

/// Call `f(q)`, in order, for each sampled window `q` (`p`, `p + 2`, ...)
/// of `hay` whose gram is in `table`'s first-level bitmap, until `f`
/// returns `false`. With `avx2` (which the caller checked at run time) 32
/// windows are looked up per round.
#[inline(always)]
fn passing_windows(
    table: &GramTable,
    hay: &[u8],
    p: usize,
    avx2: bool,
    mut f: impl FnMut(usize) -> bool,
) {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: the caller checked AVX2 support at run time.
        let Some(p) = (unsafe { passing_windows_avx2(table, hay, p, &mut f) }) else { return };
        return passing_windows_scalar(table, hay, p, f);
    }
    let _ = avx2;
    passing_windows_scalar(table, hay, p, f)
}

#[inline(always)]
fn passing_windows_scalar(
    table: &GramTable,
    hay: &[u8],
    mut q: usize,
    mut f: impl FnMut(usize) -> bool,
) {
    while q + 4 <= hay.len() {
        if table.maybe(gram_at(&hay[q..])) && !f(q) {
            return;
        }
        q += 2;
    }
}

/// The rounds of [`passing_windows`] that AVX2 can take: windows `p, p+2,
/// ... p+62` per round (lane `j` of the load at `p` is the window at
/// `p + 4j`, of the load at `p + 2` the window at `p + 2 + 4j`, and so on
/// at `p + 32`, `p + 34`). Returns where the scalar tail starts, or `None`
/// if `f` stopped the scan.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn passing_windows_avx2(
    table: &GramTable,
    hay: &[u8],
    mut p: usize,
    f: &mut impl FnMut(usize) -> bool,
) -> Option<usize> {
    use std::arch::x86_64::*;
    let bits = table.level1.as_ptr() as *const i32;
    // Two 32-byte steps per round keep four gathers in flight.
    while p + 66 <= hay.len() {
        // SAFETY: p + 2 + 64 <= hay.len(), so all four loads are in
        // bounds; `bits` is a level-1 bitmap, as `lookup_avx2` requires.
        let (a, b, c, d) = unsafe {
            let base = hay.as_ptr().add(p);
            let load = |at: usize| _mm256_loadu_si256(base.add(at) as *const __m256i);
            (
                lookup_avx2(bits, load(0)),
                lookup_avx2(bits, load(2)),
                lookup_avx2(bits, load(32)),
                lookup_avx2(bits, load(34)),
            )
        };
        if a | b | c | d != 0 {
            let lo = spread(a) | spread(b) << 1;
            let hi = spread(c) | spread(d) << 1;
            let mut hits = u64::from(lo) | u64::from(hi) << 16;
            while hits != 0 {
                let q = p + 2 * hits.trailing_zeros() as usize;
                hits &= hits - 1;
                if !f(q) {
                    return None;
                }
            }
        }
        p += 64;
    }
    Some(p)
}

/// Whether `needle` occurs in `hay`. The first-byte test before each
/// compare brought `GramFilter::new` from 4 ms to about 2 ms (a plain
/// window compare calls memcmp for every window).
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else { return true };
    hay.windows(needle.len()).any(|w| w[0] == first && &w[1..] == rest)
}

/// For each literal, the two consecutive grams with the lowest summed
/// `cost` (a 4-byte literal: itself and every `?xyz`, see the module docs).
fn select(lits: &[Vec<u8>], cost: impl Fn(u32) -> u32) -> GramTable {
    let mut entries = Vec::new();
    for (i, l) in lits.iter().enumerate() {
        let lit = i as u32;
        if l.len() == 4 {
            entries.push(Entry { gram: gram_at(l), lit, off: 0 });
            for x in 0..=255u8 {
                entries.push(Entry { gram: gram_at(&[x, l[0], l[1], l[2]]), lit, off: -1 });
            }
            continue;
        }
        let pair = |o: usize| cost(gram_at(&l[o..])) + cost(gram_at(&l[o + 1..]));
        let best = (0..=l.len() - 5).min_by_key(|&o| pair(o)).unwrap_or(0);
        for o in [best, best + 1] {
            entries.push(Entry { gram: gram_at(&l[o..]), lit, off: o as i32 });
        }
    }
    GramTable::new(entries)
}

/// The level-1 bitmap bits of the 8 windows in `v`, one bit per lane.
///
/// # Safety
/// AVX2 must be available and `table` must point at the `level1` bitmap
/// (`2^L1_BITS` bits): every index read is below `2^(L1_BITS - 5)`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn lookup_avx2(table: *const i32, v: std::arch::x86_64::__m256i) -> u32 {
    use std::arch::x86_64::*;
    let folded = _mm256_or_si256(v, _mm256_set1_epi32(FOLD as i32));
    let hashed = _mm256_mullo_epi32(folded, _mm256_set1_epi32(K1 as i32));
    let h = _mm256_srli_epi32(hashed, 32 - L1_BITS as i32);
    // SAFETY: h < 2^L1_BITS, so h >> 5 indexes within the bitmap.
    let words = unsafe { _mm256_i32gather_epi32(table, _mm256_srli_epi32(h, 5), 4) };
    // Move each lane's bit to its sign bit, then collect the signs.
    let bit = _mm256_set1_epi32(31);
    let set = _mm256_sllv_epi32(words, _mm256_sub_epi32(bit, _mm256_and_si256(h, bit)));
    _mm256_movemask_ps(_mm256_castsi256_ps(set)) as u32
}

/// Bits 0..8 of `m` moved to the even bits 0, 2, ..., 14.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[inline(always)]
fn spread(m: u32) -> u32 {
    let mut x = m & 0xff;
    x = (x | x << 4) & 0x0f0f;
    x = (x | x << 2) & 0x3333;
    (x | x << 1) & 0x5555
}

fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slow truth: lines holding a literal, case-insensitively.
    fn naive(lits: &[&str], hay: &[u8]) -> Vec<usize> {
        let mut out = Vec::new();
        let mut start = 0;
        for line in hay.split_inclusive(|&b| b == b'\n') {
            let low = line.to_ascii_lowercase();
            if lits
                .iter()
                .any(|l| memchr::memmem::find(&low, l.to_ascii_lowercase().as_bytes()).is_some())
            {
                out.push(start);
            }
            start += line.len();
        }
        out
    }

    /// Up to `max - 1` of `words` picked by a xorshift generator.
    fn random_text(seed: &mut u64, words: &[&str], max: u64) -> String {
        let mut text = String::new();
        for _ in 0..*seed % max {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            text.push_str(words[(*seed % words.len() as u64) as usize]);
        }
        text
    }

    fn check(f: &GramFilter, lits: &[&str], hay: &[u8]) {
        let mut got = Vec::new();
        f.candidate_lines(None, hay, &mut got);
        assert_eq!(got, naive(lits, hay), "hay {:?}", String::from_utf8_lossy(hay));
        if f.avx2 {
            let mut scalar = f.clone();
            scalar.avx2 = false;
            let mut got = Vec::new();
            scalar.candidate_lines(None, hay, &mut got);
            assert_eq!(got, naive(lits, hay), "scalar");
        }
    }

    #[test]
    fn spread_interleaves() {
        assert_eq!(spread(0b1011), 0b1000101);
        assert_eq!(spread(0xff), 0x5555);
    }

    #[test]
    fn finds_every_literal_at_every_offset_and_case() {
        let lits = ["pull", "no such host", ": eof", "denied", "x509: ", "toomanyrequests"];
        let f = GramFilter::new(&lits).unwrap();
        for lit in lits {
            for case in [lit.to_string(), lit.to_ascii_uppercase()] {
                for pad in 0..40 {
                    let mut hay = b"noise line\n".to_vec();
                    hay.extend(std::iter::repeat_n(b'x', pad));
                    hay.extend_from_slice(case.as_bytes());
                    hay.extend_from_slice(b" tail\nmore noise here and there\n");
                    check(&f, &lits, &hay);
                    // Literal at the very end, no newline.
                    let cut = hay.len() - b" tail\nmore noise here and there\n".len();
                    check(&f, &lits, &hay[..cut]);
                }
            }
        }
    }

    #[test]
    fn near_misses_and_punctuation_folding_are_not_hits() {
        let lits = ["denied", "x509: "];
        let f = GramFilter::new(&lits).unwrap();
        // `|0x20` folds `@` to a backtick and `\n` to `*`: the exact check
        // must still reject them.
        let hay = b"deni`d\nx509* \nDENIE\nden\nied\nx509:\n";
        check(&f, &lits, hay);
    }

    #[test]
    fn agrees_with_naive_on_generated_text() {
        let lits = ["pull", "push", "manifest unknown", "i/o timeout", "denied", "statuscode=5"];
        let f = GramFilter::new(&lits).unwrap();
        let words = [
            "Pull", "pu", "ll", "manifest", " unknown", "I/O", " timeout", "DENI", "ed", "status",
            "code=5", "\n", " ", "x", "\u{e9}",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..300 {
            let hay = random_text(&mut seed, &words, 200);
            check(&f, &lits, hay.as_bytes());
        }
    }

    #[test]
    fn tuned_grams_agree_with_naive_on_large_buffers() {
        let lits = ["pull", "internal server error", "no such host", "denied"];
        let f = GramFilter::new(&lits).unwrap();
        // Every line carries `internal`, as an EC2 host name would: tuning
        // must move off `tern` and still find every literal.
        let mut hay = Vec::new();
        let mut i = 0u32;
        while hay.len() < TUNE_MIN_BUFFER + 12345 {
            let msg: &[u8] = match i % 97 {
                0 => b"500 Internal Server Error",
                13 => b"lookup x: no such host",
                50 => b"ImagePullBackOff",
                77 => b"access DENIED",
                _ => b"nothing to report",
            };
            hay.extend_from_slice(format!("ip-10-0-{}.ec2.internal app[{i}]: ", i % 7).as_bytes());
            hay.extend_from_slice(msg);
            hay.push(b'\n');
            i += 1;
        }
        check(&f, &lits, &hay);
        let tuned = f.tune(&hay);
        assert!(tuned.get(gram_at(b"tern")).is_empty(), "tuning kept a gram on every line");
    }

    #[test]
    fn text_grams_report_every_occurrence_once() {
        // `host` lies inside `no such host`: both are reported.
        let lits = ["pull", "no such host", "host", "i/o timeout", ": eof"];
        let t = TextGrams::new(&lits).unwrap();
        let words =
            ["Pull", "pu", "ll", "no such", " HOST", "host", "I/O", " timeout", ": EOF", " ", "x"];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..500 {
            let text = random_text(&mut seed, &words, 40);
            let low = text.to_ascii_lowercase();
            let mut want: Vec<(usize, usize)> = Vec::new();
            for (i, l) in lits.iter().enumerate() {
                for (s, _) in low.match_indices(l) {
                    want.push((i, s));
                }
            }
            let mut got = Vec::new();
            t.each(text.as_bytes(), |i, s| {
                got.push((i, s));
                true
            });
            want.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, want, "text {text:?}");
            let mut any = false;
            t.each(text.as_bytes(), |_, _| {
                any = true;
                false
            });
            assert_eq!(any, !want.is_empty());
        }
    }

    #[test]
    fn short_literals_are_refused() {
        assert!(GramFilter::new(&["abc"]).is_none());
        assert!(GramFilter::new(&["abcd"]).is_some());
    }
}
