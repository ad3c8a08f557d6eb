use tidemark_imap_proto::*;

fn enc(r: Response) -> String {
    enc_with(r, EncodeOptions::default())
}

fn enc_with(r: Response, opts: EncodeOptions) -> String {
    String::from_utf8_lossy(&encode::to_bytes(&r, &opts)).into_owned()
}

fn tag(s: &str) -> Tag {
    Tag::new(s).unwrap_or_else(|| panic!("bad tag"))
}

#[test]
fn status_responses() {
    assert_eq!(
        enc(Response::Status(StatusResponse::tagged(
            tag("a1"),
            StatusKind::No,
            Some(Code::TryCreate),
            "no\r\nsuch"
        ))),
        "a1 NO [TRYCREATE] no  such\r\n"
    );
    assert_eq!(
        enc(Response::Status(StatusResponse::untagged(
            StatusKind::Ok,
            Some(Code::ReadWrite),
            ""
        ))),
        "* OK [READ-WRITE] Completed\r\n"
    );
    assert_eq!(
        enc(Response::Status(StatusResponse::untagged(
            StatusKind::Ok,
            Some(Code::PermanentFlags(vec![
                FlagPerm::Flag(Flag::Seen),
                FlagPerm::Wildcard
            ])),
            "x"
        ))),
        "* OK [PERMANENTFLAGS (\\Seen \\*)] x\r\n"
    );
    assert_eq!(
        enc(Response::Status(StatusResponse::tagged(
            tag("A"),
            StatusKind::Ok,
            Some(Code::CopyUid {
                uidvalidity: 9,
                source: SequenceSet::from_numbers(&[1, 2, 3, 7]),
                dest: SequenceSet::from_ranges(&[(10, 13)])
            }),
            "Done"
        ))),
        "A OK [COPYUID 9 1:3,7 10:13] Done\r\n"
    );
    assert_eq!(
        enc(Response::Status(StatusResponse::untagged(
            StatusKind::No,
            Some(Code::BadCharset(vec!["UTF-8".into()])),
            "x"
        ))),
        "* NO [BADCHARSET (UTF-8)] x\r\n"
    );
    assert_eq!(
        enc(Response::Status(StatusResponse::untagged(
            StatusKind::Ok,
            Some(Code::MailboxId("F2212ea87-6097-4256-9d51-71338625".into())),
            "x"
        ))),
        "* OK [MAILBOXID (F2212ea87-6097-4256-9d51-71338625)] x\r\n"
    );
    assert_eq!(
        enc(Response::Status(StatusResponse::untagged(
            StatusKind::No,
            Some(Code::Other("X-FOO".into(), Some("a]b".into()))),
            "x"
        ))),
        "* NO [X-FOO ab] x\r\n"
    );
    assert_eq!(
        enc(Response::Continuation(Continuation::Base64(
            b"hi!".to_vec()
        ))),
        "+ aGkh\r\n"
    );
    assert_eq!(
        enc(Response::Continuation(Continuation::Text(String::new()))),
        "+ \r\n"
    );
}

#[test]
fn strings_and_mailboxes() {
    let list = |name: &str| {
        Response::Data(Data::List(ListData {
            attributes: vec![MailboxAttr::HasChildren],
            delimiter: Some('/'),
            mailbox: Mailbox::from(name),
            extended: vec![ListExtendedItem::ChildInfo(vec!["SUBSCRIBED".into()])],
        }))
    };
    assert_eq!(
        enc(list("a\"b\\c")),
        "* LIST (\\HasChildren) \"/\" \"a\\\"b\\\\c\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
    );
    // 8-bit: literal without UTF-8 permission, quoted with it, mUTF-7 when asked.
    assert_eq!(
        enc(list("Entwürfe")),
        "* LIST (\\HasChildren) \"/\" {9}\r\nEntwürfe (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
    );
    assert_eq!(
        enc_with(
            list("Entwürfe"),
            EncodeOptions {
                utf8: true,
                mailbox: MailboxEncoding::Raw
            }
        ),
        "* LIST (\\HasChildren) \"/\" \"Entwürfe\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
    );
    assert_eq!(
        enc_with(
            list("Entwürfe"),
            EncodeOptions {
                utf8: false,
                mailbox: MailboxEncoding::Utf7
            }
        ),
        "* LIST (\\HasChildren) \"/\" \"Entw&APw-rfe\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
    );
    assert_eq!(
        enc(list("a\r\nb")),
        "* LIST (\\HasChildren) \"/\" {4}\r\na\r\nb (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
    );
}

#[test]
fn fetch_items() {
    let dt = DateTime {
        year: 2020,
        month: 3,
        day: 5,
        hour: 1,
        minute: 2,
        second: 3,
        zone_minutes: -90,
    };
    let r = Response::Data(Data::Fetch {
        seq: 3,
        items: vec![
            FetchItem::Uid(7),
            FetchItem::Flags(vec![
                Flag::Seen,
                Flag::Recent,
                Flag::Extension("Foo".into()),
            ]),
            FetchItem::InternalDate(dt),
            FetchItem::ModSeq(5),
            FetchItem::BodySection {
                section: Section {
                    part: vec![1],
                    text: Some(SectionText::HeaderFields {
                        not: true,
                        fields: vec!["X-A".into()],
                    }),
                },
                origin: Some(4),
                data: Some(b"ab".to_vec()),
            },
            FetchItem::Binary {
                part: vec![2],
                origin: None,
                data: Some(b"\0".to_vec()),
            },
            FetchItem::BinarySize {
                part: vec![],
                size: 4,
            },
            FetchItem::EmailId("M1".into()),
            FetchItem::ThreadId(None),
            FetchItem::Preview(Some("hi".into())),
            FetchItem::SaveDate(None),
        ],
    });
    assert_eq!(
        enc(r),
        "* 3 FETCH (UID 7 FLAGS (\\Seen \\Recent \\Foo) INTERNALDATE \"05-Mar-2020 01:02:03 -0130\" MODSEQ (5) BODY[1.HEADER.FIELDS.NOT (X-A)]<4> {2}\r\nab BINARY[2] ~{1}\r\n\0 BINARY.SIZE[] 4 EMAILID (M1) THREADID NIL PREVIEW \"hi\" SAVEDATE NIL)\r\n"
    );
    let text = BodyStructure::Single {
        fields: BodyFields {
            encoding: "7BIT".into(),
            octets: 3,
            ..BodyFields::default()
        },
        kind: SinglePartKind::Text {
            media_type: String::new(),
            subtype: "PLAIN".into(),
            lines: 1,
        },
        extension: Some(SinglePartExt::default()),
    };
    let multi = BodyStructure::Multipart {
        parts: vec![text.clone(), text],
        subtype: "MIXED".into(),
        extension: Some(MultipartExt::default()),
    };
    assert_eq!(
        enc(Response::Data(Data::Fetch {
            seq: 1,
            items: vec![
                FetchItem::BodyStructure(Box::new(multi.clone())),
                FetchItem::Body(Box::new(multi))
            ]
        })),
        "* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1 NIL NIL NIL NIL)(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1 NIL NIL NIL NIL) \"MIXED\" NIL NIL NIL NIL) BODY ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1)(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1) \"MIXED\"))\r\n"
    );
}

#[test]
fn other_data() {
    assert_eq!(
        enc(Response::Data(Data::ESearch(ESearchData {
            tag: Some(tag("A1")),
            uid: true,
            items: vec![
                ESearchItem::Min(1),
                ESearchItem::All(SequenceSet::from_numbers(&[1, 2, 5])),
                ESearchItem::Partial {
                    range: PartialRange {
                        first: -1,
                        last: -10
                    },
                    results: None
                }
            ]
        }))),
        "* ESEARCH (TAG \"A1\") UID MIN 1 ALL 1:2,5 PARTIAL (-1:-10 NIL)\r\n"
    );
    assert_eq!(
        enc(Response::Data(Data::Thread(vec![Thread {
            chain: vec![3, 6],
            children: vec![
                Thread {
                    chain: vec![4, 23],
                    children: vec![]
                },
                Thread {
                    chain: vec![44],
                    children: vec![Thread {
                        chain: vec![7, 96],
                        children: vec![]
                    }]
                }
            ]
        }]))),
        "* THREAD (3 6 (4 23)(44 7 96))\r\n"
    );
    assert_eq!(
        enc(Response::Data(Data::Status {
            mailbox: Mailbox::inbox(),
            items: vec![
                StatusValue::AppendLimit(None),
                StatusValue::MailboxId("F1".into()),
                StatusValue::Size(9_000_000_000)
            ]
        })),
        "* STATUS \"INBOX\" (APPENDLIMIT NIL MAILBOXID (F1) SIZE 9000000000)\r\n"
    );
    assert_eq!(
        enc(Response::Data(Data::Search {
            ids: vec![1, 4],
            modseq: Some(9)
        })),
        "* SEARCH 1 4 (MODSEQ 9)\r\n"
    );
    assert_eq!(
        enc(Response::Data(Data::Namespace {
            personal: vec![NamespaceDesc {
                prefix: Mailbox::from(""),
                delimiter: Some('/')
            }],
            other: vec![],
            shared: vec![]
        })),
        "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n"
    );
    assert_eq!(
        enc(Response::Data(Data::Metadata {
            mailbox: Mailbox::inbox(),
            entries: MetadataEntries::Values(vec![
                ("/private/a".into(), Some(b"v".to_vec())),
                ("/shared/b".into(), None)
            ])
        })),
        "* METADATA \"INBOX\" (/private/a \"v\" /shared/b NIL)\r\n"
    );
    assert_eq!(
        enc(Response::Data(Data::Acl {
            mailbox: Mailbox::from("x"),
            entries: vec![(b"bob".to_vec(), "lrs".into())]
        })),
        "* ACL \"x\" bob lrs\r\n"
    );
    assert_eq!(
        enc(Response::Data(Data::Vanished {
            earlier: false,
            uids: SequenceSet::from_ranges(&[(1, 3)])
        })),
        "* VANISHED 1:3\r\n"
    );
}

#[test]
fn uidonly_responses() {
    // RFC 9586 4: `* 7 UIDFETCH (...)` is keyed by UID; UIDREQUIRED is an atom code.
    assert_eq!(
        enc(Response::Data(Data::UidFetch {
            uid: 4827313,
            items: vec![FetchItem::Flags(vec![Flag::Seen]), FetchItem::ModSeq(9)],
        })),
        "* 4827313 UIDFETCH (FLAGS (\\Seen) MODSEQ (9))\r\n"
    );
    assert_eq!(
        enc(Response::Status(StatusResponse::tagged(
            tag("a1"),
            StatusKind::Bad,
            Some(Code::UidRequired),
            "Message numbers are not allowed",
        ))),
        "a1 BAD [UIDREQUIRED] Message numbers are not allowed\r\n"
    );
}
