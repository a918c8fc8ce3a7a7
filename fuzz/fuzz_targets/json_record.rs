//! `format::record_from_json` on any bytes that parse as one JSON object,
//! and the same bytes through the line path (`parse_line`), which takes a
//! one-object line as a JSON envelope.
//!
//! Property: no panic (json.rs: "Nothing here panics on any input");
//! through `parse_line`, a count of at least 1 and a non-empty message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullscan::format::{parse_line, record_from_json, LineContext};
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    let ctx = LineContext::in_year(2024);
    if let Ok(obj) = serde_json::from_slice::<Map<String, Value>>(data) {
        if let Some(rec) = record_from_json(&obj, &ctx) {
            let _ = rec.message.len();
        }
        // A watch event wrapping it, and a list holding it.
        let mut watch = Map::new();
        watch.insert("type".into(), Value::String("ADDED".into()));
        watch.insert("object".into(), Value::Object(obj));
        let _ = record_from_json(&watch, &ctx);
    }
    let text = String::from_utf8_lossy(data);
    let rec = parse_line(&text, &ctx);
    assert!(rec.count >= 1);
    if !text.is_empty() {
        assert!(!rec.message.is_empty(), "empty message for {text:?}");
    }
});
