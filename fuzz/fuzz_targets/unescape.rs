//! `format::unescape` on any string.
//!
//! Properties (from the code and its docs): no panic; every rule only
//! shrinks the text (`\"`-runs, `\'`, `\/`, `\n`/`\r`/`\t` runs, `\uXXXX`
//! and backslash runs all map to no more bytes than they take, and real
//! line-break runs become one space), so the output is never longer than
//! the input; a text without backslash and line break comes back borrowed
//! and unchanged; a text without backslash has no line break left.
#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;
use pullscan::format::unescape;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let out = unescape(&s);
    assert!(out.len() <= s.len(), "{} bytes out of {} for {s:?}: {out:?}", out.len(), s.len());
    let has_backslash = s.contains('\\');
    if !has_backslash && !s.contains(['\n', '\r']) {
        assert!(matches!(out, Cow::Borrowed(_)), "clean text not borrowed: {s:?}");
        assert_eq!(out, s);
    }
    if !has_backslash {
        assert!(!out.contains(['\n', '\r']), "line break left in {out:?} from {s:?}");
    }
});
