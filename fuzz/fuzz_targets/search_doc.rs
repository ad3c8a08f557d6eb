//! Arbitrary bytes as an APPENDed message: what the search index computes
//! of it (folded texts, summary, sort and thread keys) must never panic, and
//! a summary must read back as written.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tidemark_search::thread::{ThreadMsg, ordered_subject, references};
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
    // The input as a mailbox of up to 16 messages (split at NUL), threaded
    // both ways: threading arbitrary ids, references and subjects must not
    // panic or loop.
    let sums: Vec<(u32, Summary)> = data
        .split(|&b| b == 0)
        .take(16)
        .enumerate()
        .map(|(i, m)| (i as u32 + 1, Summary::new(m, &tidemark_mime::parse(m))))
        .collect();
    let msgs: Vec<ThreadMsg<'_>> = sums
        .iter()
        .map(|(id, s)| ThreadMsg {
            id: *id,
            date: i64::from(s.sort_sent),
            base_subject: &s.base_subject,
            reply: s.subject_reply,
            message_id: s.message_id.as_deref(),
            references: if s.references.is_empty() {
                s.in_reply_to.as_slice()
            } else {
                &s.references
            },
        })
        .collect();
    let _ = ordered_subject(&msgs);
    let _ = references(&msgs);
});
