//! `format::read_json_document` on any bytes.
//!
//! Properties: no panic; every record's line (the line its `{` stands on,
//! 1-based) is within the input; an error's line is 1-based and its byte
//! offset within the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullscan::format::{read_json_document, LineContext};

fuzz_target!(|data: &[u8]| {
    let ctx = LineContext::in_year(2024);
    let lines = data.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let mut seen = 0u64;
    let res = read_json_document(&mut &data[..], &ctx, &mut |line, rec| {
        assert!((1..=lines).contains(&line), "record line {line} of {lines}");
        assert!(rec.count >= 1);
        seen += 1;
    });
    if let Err(e) = res {
        assert!(e.line >= 1, "{e}");
        if let Some(b) = e.byte {
            assert!(b <= data.len() as u64, "{e}: byte past {} input bytes", data.len());
        }
    }
    let _ = seen;
});
