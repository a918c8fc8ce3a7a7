//! `format::parse_line` on any bytes (decoded lossily, as the scanner does).
//!
//! Property (promised by `parse_line`'s docs and its unit test): it never
//! panics, the count is at least 1, and a non-empty line never gives an
//! empty message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullscan::format::{parse_line, LineContext};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let ctx = LineContext::in_year(2024);
    let rec = parse_line(&text, &ctx);
    assert!(rec.count >= 1, "count {} for {text:?}", rec.count);
    if !text.is_empty() {
        assert!(!rec.message.is_empty(), "empty message for {text:?}");
    }
    let _ = rec.into_owned();
});
