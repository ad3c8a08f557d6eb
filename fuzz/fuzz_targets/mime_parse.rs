//! Arbitrary bytes as a stored message: parsing, serialisation and every FETCH
//! conversion (ENVELOPE, BODYSTRUCTURE, sections, BINARY, PREVIEW) must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tidemark_imap_proto::{EncodeOptions, Section, SectionText};
use tidemark_imap_server::mime_imap;
use tidemark_mime::MessageStructure;

fuzz_target!(|data: &[u8]| {
    let ms = tidemark_mime::parse(data);
    let bytes = ms.to_bytes();
    assert_eq!(MessageStructure::from_bytes(&bytes).as_ref(), Some(&ms));
    let _ = MessageStructure::from_bytes(data);
    let _ = tidemark_mime::preview(data, &ms);
    let env = mime_imap::envelope(&ms);
    let bs = mime_imap::body_structure(&ms, true);
    let b = mime_imap::body_structure(&ms, false);
    let r = tidemark_imap_proto::Response::Data(tidemark_imap_proto::Data::Fetch {
        seq: 1,
        items: vec![
            tidemark_imap_proto::FetchItem::Envelope(Box::new(env)),
            tidemark_imap_proto::FetchItem::BodyStructure(Box::new(bs)),
            tidemark_imap_proto::FetchItem::Body(Box::new(b)),
        ],
    });
    let _ = tidemark_imap_proto::encode::to_bytes(&r, &EncodeOptions::default());
    // Section numbers from the first bytes, plus a fixed set.
    let mut paths: Vec<Vec<u32>> = vec![
        vec![],
        vec![1],
        vec![2],
        vec![1, 1],
        vec![1, 2, 1],
        vec![3, 1, 1, 1],
    ];
    paths.push(data.iter().take(6).map(|&b| u32::from(b % 5)).collect());
    for part in &paths {
        let texts = [
            None,
            Some(SectionText::Header),
            Some(SectionText::Text),
            Some(SectionText::Mime),
            Some(SectionText::HeaderFields {
                not: false,
                fields: vec!["From".into(), "Subject".into()],
            }),
            Some(SectionText::HeaderFields {
                not: true,
                fields: vec!["Received".into()],
            }),
        ];
        for text in texts {
            let s = Section {
                part: part.clone(),
                text,
            };
            let _ = mime_imap::body_section(&ms, data, &s);
        }
        let _ = mime_imap::binary(&ms, data, part);
        let _ = mime_imap::binary_size(&ms, data, part);
    }
});
