//! Arbitrary bytes as an APPENDed message: what the search index computes
//! of it (folded texts, summary, sort and thread keys) must never panic, and
//! a summary must read back as written.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tidemark_search::{SearchDoc, Summary, fold};

fuzz_target!(|data: &[u8]| {
    let ms = tidemark_mime::parse(data);
    let _ = SearchDoc::new(data, &ms, 4096);
    let sum = Summary::new(data, &ms);
    assert_eq!(Summary::from_bytes(&sum.to_bytes()).as_ref(), Some(&sum));
    let _ = Summary::from_bytes(data);
    let _ = Summary::keys_from_bytes(data);
    let _ = fold(&String::from_utf8_lossy(data));
    let _ = tidemark_search::parse_date(data);
    let _ = tidemark_search::sortkeys::base_subject(data);
    let _ = tidemark_search::sortkeys::msg_ids(data);
});
