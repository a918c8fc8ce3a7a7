//! `image::find_image`, `image::find_registry_host` and `ImageRef::parse`
//! on any string (and `ImageRef::parse` on what `find_image` finds).
//!
//! Properties (from the docs):
//! - no panic;
//! - `find_image` never returns a value with whitespace (its checks are
//!   ASCII: `plausible_image`), nor an empty one;
//! - `ImageRef::parse` gives `None` for an empty string or one with
//!   whitespace inside; when it gives a reference, the repository is not
//!   empty and the tag is set unless a digest is (`latest` by default).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullscan::image::{find_image, find_registry_host, ImageRef};

fn check_parse(s: &str) {
    let Some(r) = ImageRef::parse(s) else { return };
    let t = s.trim();
    assert!(!t.is_empty(), "parsed an empty reference from {s:?}");
    assert!(!t.bytes().any(|c| c.is_ascii_whitespace()), "parsed {s:?} with whitespace");
    assert!(!r.repository.is_empty(), "{s:?} -> {r:?}");
    assert!(r.tag.is_some() || r.digest.is_some(), "{s:?} -> {r:?}");
    let _ = (r.kind(), r.acr_name(), r.ecr_account_region(), r.registry_host(), r.to_string());
}

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    if let Some(img) = find_image(&s) {
        assert!(!img.is_empty());
        assert!(!img.bytes().any(|c| c.is_ascii_whitespace()), "image {img:?} from {s:?}");
        check_parse(&img);
    }
    let _ = find_registry_host(&s);
    check_parse(&s);
});
