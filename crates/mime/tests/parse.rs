//! Unit checks of the part tree, parameters, addresses, serialisation and limits.

use tidemark_mime::{Address, MAX_DEPTH, MessageStructure, Part, PartKind, parse};

fn body<'a>(raw: &'a [u8], p: &Part) -> &'a [u8] {
    &raw[p.body_start..p.end]
}

fn children(p: &Part) -> &[Part] {
    match &p.kind {
        PartKind::Multipart(c) => c,
        _ => panic!("not multipart: {:?}", p.kind),
    }
}

#[test]
fn multipart_offsets() {
    let raw = b"Subject: x\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\npre\r\n--XX\r\nContent-Type: text/plain\r\n\r\nline one\r\nline two\r\n--XX\r\n\r\nno headers\r\n--XX--\r\nepilogue\r\n";
    let m = parse(raw);
    let ch = children(&m.root);
    assert_eq!(ch.len(), 2);
    assert_eq!(body(raw, &ch[0]), b"line one\r\nline two");
    assert_eq!(ch[0].body_lines, 1);
    assert_eq!(
        &raw[ch[0].header_start..ch[0].body_start],
        b"Content-Type: text/plain\r\n\r\n"
    );
    assert_eq!(body(raw, &ch[1]), b"no headers");
    assert_eq!(ch[1].content.media_type, None);
    assert_eq!(m.root.end, raw.len());
    assert!(body(raw, &m.root).ends_with(b"epilogue\r\n"));
}

#[test]
fn nested_message_and_parent_boundary_closes_child() {
    let raw = b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: message/rfc822\r\n\r\nFrom: X <x@y.z>\r\nSubject: inner\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n\r\ninner text\r\n--a\r\n\r\nlast\r\n--a--\r\n";
    let m = parse(raw);
    let ch = children(&m.root);
    assert_eq!(ch.len(), 2);
    let PartKind::Message(inner) = &ch[0].kind else {
        panic!("{:?}", ch[0].kind)
    };
    let env = inner.envelope.as_deref().unwrap();
    assert_eq!(env.subject.as_deref(), Some(&b"inner"[..]));
    assert_eq!(env.sender, env.from);
    let ich = children(inner);
    assert_eq!(body(raw, &ich[0]), b"inner text");
    assert_eq!(body(raw, &ch[1]), b"last");
}

#[test]
fn header_cut_by_boundary_and_missing_boundary() {
    let raw = b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: text/plain\r\n--a--\r\n";
    let m = parse(raw);
    let ch = children(&m.root);
    assert_eq!(
        &raw[ch[0].header_start..ch[0].body_start],
        b"Content-Type: text/plain"
    );
    assert_eq!(ch[0].body_start, ch[0].end);
    // multipart without boundary: no children
    let m = parse(b"Content-Type: multipart/mixed\r\n\r\nbody\r\n");
    assert!(children(&m.root).is_empty());
    // unparsable Content-Type
    let m = parse(b"Content-Type: <html>\r\n\r\nx");
    assert_eq!(m.root.content.media_type.as_deref(), Some(&b""[..]));
}

#[test]
fn rfc2231_and_params() {
    let raw = b"Content-Type: application/x; name*0*=utf-8''a%20; name*1=b%; x=\"q\\\"s\"\r\nContent-Disposition: attachment; filename*=utf-8''c\r\nContent-Language: en, de\r\n\r\n";
    let m = parse(raw);
    let c = &m.root.content;
    assert_eq!(
        c.params,
        vec![
            (b"x".to_vec(), b"q\"s".to_vec()),
            (b"name*".to_vec(), b"utf-8''a%20b%25".to_vec())
        ]
    );
    assert_eq!(
        c.disposition_params,
        vec![(b"filename*".to_vec(), b"utf-8''c".to_vec())]
    );
    assert_eq!(c.language, vec![b"en".to_vec(), b"de".to_vec()]);
}

#[test]
fn addresses_and_groups() {
    let raw = b"From: =?utf-8?q?J=C3=B6?= <jo@ex.com>, bare@host\r\nTo: team: a@b.c, \"Q\" <q@r.s>;, undisclosed\r\nSubject:  many   spaces \r\n\r\n";
    let m = parse(raw);
    let e = m.root.envelope.as_deref().unwrap();
    let a = |n: Option<&str>, mb: Option<&str>, h: Option<&str>| Address {
        name: n.map(|s| s.as_bytes().to_vec()),
        route: None,
        mailbox: mb.map(|s| s.as_bytes().to_vec()),
        host: h.map(|s| s.as_bytes().to_vec()),
    };
    assert_eq!(
        e.from,
        vec![
            a(Some("=?utf-8?q?J=C3=B6?="), Some("jo"), Some("ex.com")),
            a(None, Some("bare"), Some("host"))
        ]
    );
    assert_eq!(
        e.to,
        vec![
            a(None, Some("team"), None),
            a(None, Some("a"), Some("b.c")),
            a(Some("Q"), Some("q"), Some("r.s")),
            a(None, None, None),
            a(None, Some("undisclosed"), Some("MISSING_DOMAIN")),
        ]
    );
    assert_eq!(e.subject.as_deref(), Some(&b"many spaces"[..]));
}

#[test]
fn serialisation_round_trip_and_corruption() {
    let raw = b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: message/rfc822\r\n\r\nFrom: a@b\r\n\r\nx\r\n--a--\r\n";
    let m = parse(raw);
    let b = m.to_bytes();
    assert_eq!(MessageStructure::from_bytes(&b), Some(m));
    assert_eq!(MessageStructure::from_bytes(&b[..b.len() - 1]), None);
    assert_eq!(MessageStructure::from_bytes(&[]), None);
    let mut wrong = b.clone();
    wrong[0] = 99;
    assert_eq!(MessageStructure::from_bytes(&wrong), None);
}

fn depth(p: &Part) -> usize {
    match &p.kind {
        PartKind::Leaf => 1,
        PartKind::Multipart(c) => 1 + c.iter().map(depth).max().unwrap_or(0),
        PartKind::Message(m) => 1 + depth(m),
    }
}

#[test]
fn hostile_nesting_is_bounded() {
    let mut raw = Vec::new();
    for i in 0..5000 {
        raw.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n").as_bytes(),
        );
    }
    raw.extend_from_slice(b"\r\nleaf\r\n");
    let m = parse(&raw);
    assert!(depth(&m.root) <= MAX_DEPTH + 1, "{}", depth(&m.root));
    assert_eq!(
        MessageStructure::from_bytes(&m.to_bytes()).as_ref(),
        Some(&m)
    );
    let mut raw = Vec::new();
    for _ in 0..5000 {
        raw.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
    }
    let m = parse(&raw);
    assert!(depth(&m.root) <= MAX_DEPTH + 1);
    // many parts
    let mut raw = b"Content-Type: multipart/mixed; boundary=z\r\n\r\n".to_vec();
    for _ in 0..20_000 {
        raw.extend_from_slice(b"--z\r\n\r\nx\r\n");
    }
    let m = parse(&raw);
    assert!(children(&m.root).len() < tidemark_mime::MAX_PARTS);
}
