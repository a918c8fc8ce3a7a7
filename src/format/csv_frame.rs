//! Where the records of an RFC 4180 CSV file end, without parsing it.
//!
//! A newline ends a record unless it is inside a quoted field, and it is
//! inside one when an odd number of quotes precede it in the record
//! (a doubled `""` counts twice and changes nothing). So the record ends
//! of a block are the newlines at even quote parity, found 64 bytes at a
//! time with bit masks (a prefix XOR of the quote mask gives "inside
//! quotes" for every byte at once, as simdjson does for JSON strings).
//!
//! The parity rule is what a conforming writer (Log Analytics, the portal,
//! `az`, Excel) produces. The csv crate is more lenient: a quote in the
//! middle of an unquoted field (`a"b`) is a plain character to it, and it
//! would throw the parity off. [`frame`] therefore also checks that every
//! quote stands where RFC 4180 allows one: an opening quote right after a
//! field or record start (or right after a closing quote, which makes a
//! doubled quote), a closing quote right before a comma, a line end, a
//! quote or the end of input. A block that breaks this is marked, and the
//! caller reads it with the csv crate instead.

/// Whether one record's bytes hold no row: a bare line end (the csv crate
/// skips such lines), or nothing at the end of input.
pub fn is_blank_record(r: &[u8]) -> bool {
    matches!(r, b"" | b"\n" | b"\r\n" | b"\r")
}

/// Whether `b` holds an odd number of quotes. (memchr's counter: the
/// compiler's own vectorisation of a byte filter-count took 4 bytes a
/// step, a tenth of a one-thread export scan.)
pub fn quotes_odd(b: &[u8]) -> bool {
    memchr::memchr_iter(b'"', b).count() % 2 == 1
}

/// The record ends found in one chunk.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Framed {
    /// Offset just past each record-ending newline, in order.
    pub ends: Vec<usize>,
    /// For each of `ends`, the field separators (commas outside quotes) of
    /// that record within this chunk; the first record may have more
    /// before the chunk.
    pub commas: Vec<u32>,
    /// Commas outside quotes after the last record end.
    pub tail_commas: u32,
    /// Newlines in the chunk, inside quotes or not (for line numbers).
    pub newlines: u64,
    /// Whether a quote stood where RFC 4180 allows none.
    pub nonconforming: bool,
}

/// Masks of one 64-byte word: bit `i` is set when byte `i` is the char.
#[derive(Clone, Copy)]
struct Masks {
    quote: u64,
    newline: u64,
    comma: u64,
    cr: u64,
    /// Bytes a closing quote may precede: `,` `\r` `\n` `"`.
    after_close: u64,
    /// Bytes an opening quote may follow: `,` `\n` `"`.
    before_open: u64,
}

#[inline(always)]
fn masks(w: &[u8; 64]) -> Masks {
    let [quote, newline, comma, cr] = eq_masks(w, [b'"', b'\n', b',', b'\r']);
    Masks {
        quote,
        newline,
        comma,
        cr,
        after_close: comma | cr | newline | quote,
        before_open: comma | newline | quote,
    }
}

/// For each of four bytes, the mask of where it occurs in `w`. SSE2 is part
/// of every x86_64 CPU: 16 compares and 16 mask moves per word, where the
/// portable loop below runs 256 scalar steps (the framing pass took 26 %
/// of a one-thread profile of a 20 MB head of the bench CSV with it).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(unsafe_code)]
fn eq_masks(w: &[u8; 64], bytes: [u8; 4]) -> [u64; 4] {
    use std::arch::x86_64::*;
    let mut out = [0u64; 4];
    for k in 0..4 {
        // SAFETY: SSE2 is baseline on x86_64; each unaligned 16-byte load
        // at 16 * k lies within the 64-byte array.
        let v = unsafe { _mm_loadu_si128(w.as_ptr().add(16 * k) as *const __m128i) };
        for (m, &b) in out.iter_mut().zip(&bytes) {
            // SAFETY: SSE2 is baseline on x86_64.
            let bits = unsafe { _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8))) };
            *m |= u64::from(bits as u16) << (16 * k);
        }
    }
    out
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn eq_masks(w: &[u8; 64], bytes: [u8; 4]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (i, &x) in w.iter().enumerate() {
        for (m, &b) in out.iter_mut().zip(&bytes) {
            *m |= u64::from(x == b) << i;
        }
    }
    out
}

/// Bit `i` of the result is the XOR of bits `0..=i` of `x`.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The record ends of `chunk`, which starts at a line start (or the start
/// of a record); `inside` says whether that start is inside a quoted field
/// (an odd number of quotes since the last record start, see
/// [`quotes_odd`]).
pub fn frame(chunk: &[u8], inside: bool) -> Framed {
    let mut out = Framed::default();
    let mut commas = 0u32;
    let mut inside = if inside { u64::MAX } else { 0 };
    // The byte before the chunk is a line end (or there is none): an
    // opening quote may follow it, and it is no closing quote.
    let mut prev_before_open = 1u64;
    let mut prev_close = 0u64;
    // A `\r` outside quotes in the previous word's last byte.
    let mut prev_cr = 0u64;
    let mut bad = 0u64;
    let mut base = 0;
    let mut word = [0u8; 64];
    while base < chunk.len() {
        let (m, end) = if let Some(w) = chunk[base..].first_chunk::<64>() {
            (masks(w), 0)
        } else {
            // The tail, padded with NULs (none of the characters above).
            let rest = &chunk[base..];
            word[..rest.len()].copy_from_slice(rest);
            word[rest.len()..].fill(0);
            let mut m = masks(&word);
            // The end of input may follow a closing quote.
            m.after_close |= u64::MAX << rest.len();
            (m, u64::MAX << rest.len())
        };
        let quoted = prefix_xor(m.quote) ^ inside;
        inside = 0u64.wrapping_sub(quoted >> 63);
        let open = m.quote & quoted;
        let close = m.quote & !quoted;
        bad |= open & !(m.before_open << 1 | prev_before_open);
        bad |= (close << 1 | prev_close) & !m.after_close;
        prev_before_open = m.before_open >> 63;
        prev_close = close >> 63;
        // A `\r` outside quotes ends a record for the csv crate, as `\n`
        // does: only one before a `\n` (CRLF) or at the end is framed alike.
        let cr = m.cr & !quoted;
        bad |= (cr << 1 | prev_cr) & !(m.newline | end);
        prev_cr = cr >> 63;
        let mut ends = m.newline & !quoted;
        let mut seps = m.comma & !quoted;
        while ends != 0 {
            let below = (ends & ends.wrapping_neg()) - 1;
            out.ends.push(base + ends.trailing_zeros() as usize + 1);
            out.commas.push(commas + (seps & below).count_ones());
            commas = 0;
            seps &= !below;
            ends &= ends - 1;
        }
        commas += seps.count_ones();
        out.newlines += u64::from(m.newline.count_ones());
        base += 64;
    }
    // A closing quote in the chunk's last byte is followed by what comes
    // next: a line start, since chunks end at a newline or at the input's
    // end. Either is allowed.
    out.nonconforming = bad != 0;
    out.tail_commas = commas;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Record ends as the csv crate sees them: the byte after each record.
    fn csv_crate_ends(text: &[u8]) -> Vec<usize> {
        let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text);
        let mut rec = csv::ByteRecord::new();
        let mut ends = Vec::new();
        while rdr.read_byte_record(&mut rec).unwrap() {
            let at = rdr.position().byte() as usize;
            // The crate stops before a CRLF's `\n` or after the `\n`.
            let at = if text.get(at) == Some(&b'\n') { at + 1 } else { at };
            if at <= text.len() && at > 0 && text[at - 1] == b'\n' {
                ends.push(at);
            }
        }
        ends
    }

    #[test]
    fn ends_at_newlines_outside_quotes() {
        let text = b"a,b\n\"x\ny\",2\n\"he said \"\"hi\"\"\",3\r\n,\"\"\n";
        let f = frame(text, false);
        assert!(!f.nonconforming);
        assert_eq!(f.ends.len(), 4);
        assert_eq!(f.commas, vec![1, 1, 1, 1]);
        assert_eq!(f.newlines, 5);
        assert_eq!(f.ends, csv_crate_ends(text));
    }

    #[test]
    fn parity_carries_across_words_and_chunks() {
        let mut text = Vec::new();
        for i in 0..50 {
            text.extend_from_slice(
                format!("{i},\"line {i}\nwith a \"\"quoted\"\" newline\",x\n").as_bytes(),
            );
        }
        let whole = frame(&text, false);
        assert!(!whole.nonconforming);
        assert_eq!(whole.ends.len(), 50);
        assert_eq!(whole.ends, csv_crate_ends(&text));
        // Split at every physical line start: parity from the prefix.
        for cut in (0..text.len()).filter(|&i| i == 0 || text[i - 1] == b'\n') {
            let (a, b) = text.split_at(cut);
            let fa = frame(a, false);
            let fb = frame(b, quotes_odd(a));
            let mut ends = fa.ends.clone();
            ends.extend(fb.ends.iter().map(|e| e + cut));
            assert_eq!(ends, whole.ends, "cut {cut}");
            let mut commas = fa.commas.clone();
            commas.extend(&fb.commas);
            if let Some(c) = commas.get_mut(fa.ends.len()) {
                *c += fa.tail_commas;
            }
            assert_eq!(commas, vec![2; 50], "cut {cut}");
            assert_eq!(fa.newlines + fb.newlines, whole.newlines);
        }
    }

    #[test]
    fn masks_mark_every_byte() {
        let mut w = [b'x'; 64];
        for (i, b) in w.iter_mut().enumerate() {
            *b = [b'"', b'\n', b',', b'\r', b'a'][i % 5];
        }
        let m = eq_masks(&w, [b'"', b'\n', b',', b'\r']);
        for (k, mask) in m.iter().enumerate() {
            let want = (0..64).filter(|i| i % 5 == k).fold(0u64, |acc, i| acc | 1 << i);
            assert_eq!(*mask, want, "byte {k}");
        }
    }

    #[test]
    fn stray_quotes_are_nonconforming() {
        for text in [&b"a,b\"c,d\n"[..], b"\"ab\"c,d\n", b"x,\"a\"\"\"b\",y\n", b"ab\"\n"] {
            assert!(frame(text, false).nonconforming, "{:?}", String::from_utf8_lossy(text));
        }
        for text in [&b"\"\",\"\"\n"[..], b"\"a\"\r\n", b"\"a\"\"b\",\"\"\"\"\n", b"\"end\""] {
            assert!(!frame(text, false).nonconforming, "{:?}", String::from_utf8_lossy(text));
        }
    }
}
