//! Differential tests against imap-codec (test oracle only, see dependencies.md §2).

mod common;

use common::events;
use imap_codec::decode::Decoder;
use imap_codec::{CommandCodec, ResponseCodec};
use tidemark_imap_proto::*;

/// Commands both parsers support.
const ACCEPTED: &[&str] = &[
    "a CAPABILITY\r\n",
    "a NOOP\r\n",
    "a LOGOUT\r\n",
    "a STARTTLS\r\n",
    "a AUTHENTICATE PLAIN\r\n",
    "a AUTHENTICATE PLAIN AGJvYgBzZWNyZXQ=\r\n",
    "a AUTHENTICATE PLAIN =\r\n",
    "a AUTHENTICATE SCRAM-SHA-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=\r\n",
    "a AUTHENTICATE XOAUTH2\r\n",
    "a LOGIN bob secret\r\n",
    "a LOGIN \"bob\" \"sec \\\"ret\\\\\"\r\n",
    "a LOGIN {3}\r\nbob {6}\r\nsecret\r\n",
    "a LOGIN {3+}\r\nbob {6+}\r\nsecret\r\n",
    "a ENABLE CONDSTORE\r\n",
    "a ENABLE QRESYNC UTF8=ACCEPT\r\n",
    "a ID NIL\r\n",
    "a ID (\"name\" \"Thunderbird\" \"version\" NIL)\r\n",
    "a SELECT INBOX\r\n",
    "a SELECT inbox (CONDSTORE)\r\n",
    "a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n",
    "a EXAMINE \"Sent Items\"\r\n",
    "a CREATE foo/bar\r\n",
    "a DELETE foo\r\n",
    "a RENAME foo bar\r\n",
    "a SUBSCRIBE \"a b\"\r\n",
    "a UNSUBSCRIBE {3}\r\na b\r\n",
    "a LIST \"\" *\r\n",
    "a LIST \"\" %\r\n",
    "a LIST \"~/Mail/\" \"%\"\r\n",
    "a LIST \"\" \"INBOX.*\"\r\n",
    "a LSUB \"\" *\r\n",
    "a NAMESPACE\r\n",
    "a STATUS INBOX (MESSAGES UNSEEN)\r\n",
    "a STATUS blurdybloop (UIDNEXT MESSAGES UIDVALIDITY RECENT)\r\n",
    "a STATUS INBOX (DELETED SIZE HIGHESTMODSEQ)\r\n",
    "a APPEND INBOX {5}\r\nhello\r\n",
    "a APPEND saved-messages (\\Seen) {5}\r\nhello\r\n",
    "a APPEND INBOX (\\Seen $Junk) \"17-Jul-1996 02:44:25 -0700\" {5+}\r\nhello\r\n",
    "a APPEND INBOX ~{3}\r\na\0b\r\n",
    "a IDLE\r\n",
    "a CHECK\r\n",
    "a CLOSE\r\n",
    "a UNSELECT\r\n",
    "a EXPUNGE\r\n",
    "a UID EXPUNGE 3000:3002\r\n",
    "a SEARCH ALL\r\n",
    "a SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n",
    "a SEARCH TEXT \"string not in mailbox\"\r\n",
    "a SEARCH CHARSET UTF-8 TEXT {6}\r\nXXXXXX\r\n",
    "a SEARCH OR SEEN (UNSEEN DELETED) 1:*\r\n",
    "a SEARCH HEADER Message-ID <a@b> UID 1,3:5 LARGER 100\r\n",
    "a UID SEARCH SENTBEFORE \"2-Mar-2004\" KEYWORD $Forwarded UNKEYWORD foo\r\n",
    "a SEARCH MODSEQ 20010320162338\r\n",
    "a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338\r\n",
    "a SEARCH YOUNGER 3600 OLDER 60\r\n",
    "a SEARCH NEW OLD RECENT ANSWERED UNANSWERED DRAFT UNDRAFT\r\n",
    "a FETCH 1 ALL\r\n",
    "a FETCH 1:* FAST\r\n",
    "a FETCH 2:4 FULL\r\n",
    "a FETCH 12 (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)\r\n",
    "a FETCH 12 BODY[HEADER]\r\n",
    "a FETCH 1 (BODY.PEEK[1.2.3.MIME]<42.1337>)\r\n",
    "a FETCH 1 BODY.PEEK[HEADER.FIELDS (DATE FROM)]\r\n",
    "a FETCH 1 BODY[1.HEADER.FIELDS.NOT (X-A)]\r\n",
    "a FETCH 1 (RFC822 RFC822.HEADER RFC822.TEXT UID BODY)\r\n",
    "a FETCH 1 (BINARY[] BINARY.PEEK[1.2]<0.10> BINARY.SIZE[1])\r\n",
    "a UID FETCH 1:* (FLAGS MODSEQ) (CHANGEDSINCE 12345)\r\n",
    "a UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n",
    "a STORE 2:4 +FLAGS (\\Deleted)\r\n",
    "a STORE 2:4 -FLAGS.SILENT \\Seen \\Flagged\r\n",
    "a UID STORE 1 FLAGS ($Label1)\r\n",
    "a STORE 7 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)\r\n",
    "a COPY 2:4 MEETING\r\n",
    "a UID COPY 1,5 \"Other box\"\r\n",
    "a MOVE 1:3 Trash\r\n",
    "a UID MOVE 42 Archive\r\n",
    "a SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994\r\n",
    "a UID SORT (REVERSE DATE FROM) US-ASCII ALL\r\n",
    "a THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000\r\n",
    "a UID THREAD REFERENCES US-ASCII ALL\r\n",
    "a COMPRESS DEFLATE\r\n",
    "a GETQUOTA \"\"\r\n",
    "a GETQUOTAROOT INBOX\r\n",
    "a SETQUOTA \"\" (STORAGE 512)\r\n",
    "a GETMETADATA \"\" /shared/comment\r\n",
    "a GETMETADATA (MAXSIZE 1024) INBOX (/shared/comment /private/comment)\r\n",
    "a SETMETADATA INBOX (/private/comment \"My comment\")\r\n",
    "a SETMETADATA INBOX (/private/comment NIL)\r\n",
    "a SELECT \"Entw\u{fc}rfe\"\r\n",
];

/// Malformed lines both must reject.
const REJECTED: &[&str] = &[
    "a\r\n",
    "a FOO\r\n",
    "a NOOP extra\r\n",
    "a SELECT\r\n",
    "a LOGIN bob\r\n",
    "a LOGIN \"bob secret\r\n",
    "a FETCH 0 ALL\r\n",
    "a FETCH 1: ALL\r\n",
    "a FETCH 1 (FLAGS\r\n",
    "a FETCH 1 BODY[HEADER\r\n",
    "a FETCH 1 FOO\r\n",
    "a FETCH x FLAGS\r\n",
    "a STORE 1 +FLAGZ (\\Seen)\r\n",
    "a SEARCH\r\n",
    "a SEARCH FOO\r\n",
    "a SEARCH SINCE 31-Feb-2020\r\n",
    "a SEARCH (SEEN\r\n",
    "a SEARCH OR SEEN\r\n",
    "a STATUS INBOX (BOGUS)\r\n",
    "a APPEND INBOX\r\n",
    "a APPEND INBOX \"32-Jan-2020 10:00:00 +0000\" {1}\r\nx\r\n",
    "a COPY 1\r\n",
    "a RENAME foo\r\n",
    "a UID\r\n",
    "a UID NOOP\r\n",
    "a ENABLE\r\n",
    "a COMPRESS\r\n",
    "a SELECT INBOX (BOGUS)\r\n",
    "a LIST \"\"\r\n",
    "(a NOOP\r\n",
    "a LOGIN a\0 b\r\n",
];

fn ours(line: &str) -> Result<Command, DecodeError> {
    let evs: Vec<Event> = events(line.as_bytes())
        .into_iter()
        .filter(|e| !matches!(e, Event::LiteralRequest { .. }))
        .collect();
    match evs.as_slice() {
        [Event::Command(c)] => Ok(c.clone()),
        [Event::Error(e)] => Err(e.clone()),
        other => panic!("{line:?}: unexpected events {other:?}"),
    }
}

#[test]
fn both_accept() {
    let codec = CommandCodec::default();
    for line in ACCEPTED {
        let theirs = codec.decode(line.as_bytes());
        let (rest, theirs) = match theirs {
            Ok(v) => v,
            Err(e) => panic!("imap-codec rejects {line:?}: {e:?}"),
        };
        assert!(rest.is_empty(), "{line:?}");
        let ours = ours(line).unwrap_or_else(|e| panic!("we reject {line:?}: {e:?}"));
        assert_eq!(ours.tag.as_str(), theirs.tag.inner(), "{line:?}");
        let name = ours.body.name().trim_start_matches("UID ");
        assert_eq!(name, theirs.name(), "{line:?}");
        // Mailbox names agree where there is one.
        let their_dbg = format!("{:?}", theirs.body);
        if let CommandBody::Select { mailbox, .. } | CommandBody::Examine { mailbox, .. } =
            &ours.body
        {
            let s = String::from_utf8_lossy(mailbox.as_bytes()).into_owned();
            assert!(
                their_dbg.contains(&format!("{s:?}")) || their_dbg.contains("Inbox"),
                "{line:?}: {their_dbg}"
            );
        }
    }
}

#[test]
fn both_reject() {
    let codec = CommandCodec::default();
    let mut bad = Vec::new();
    for line in REJECTED {
        let theirs = codec.decode(line.as_bytes());
        if matches!(theirs, Ok((rest, _)) if rest.is_empty()) {
            bad.push(format!("imap-codec accepts {line:?}"));
        }
        if ours(line).is_ok() {
            bad.push(format!("we accept {line:?}"));
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn sequence_sets_agree() {
    let codec = CommandCodec::default();
    for (line, expect) in [
        ("a FETCH 1,2:4,7:* FLAGS\r\n", "1,2:4,7:*"),
        ("a UID COPY 5:3,9 x\r\n", "5:3,9"),
    ] {
        let Ok((_, theirs)) = codec.decode(line.as_bytes()) else {
            panic!("{line}")
        };
        let dbg = format!("{:?}", theirs.body);
        assert!(dbg.contains("Range") || dbg.contains("Single"), "{dbg}");
        let c = ours(line).unwrap_or_else(|e| panic!("{e:?}"));
        let set = match c.body {
            CommandBody::Fetch { set, .. } | CommandBody::Copy { set, .. } => set,
            _ => panic!(),
        };
        let r = Response::Data(Data::Vanished {
            earlier: false,
            uids: set,
        });
        let enc =
            String::from_utf8(encode::to_bytes(&r, &EncodeOptions::default())).unwrap_or_default();
        assert_eq!(enc, format!("* VANISHED {expect}\r\n"));
    }
}

fn their_response_ok(bytes: &[u8]) {
    match ResponseCodec::default().decode(bytes) {
        Ok((rest, _)) => assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(bytes)),
        Err(e) => panic!(
            "imap-codec rejects {:?}: {e:?}",
            String::from_utf8_lossy(bytes)
        ),
    }
}

#[test]
fn our_responses_parse_with_imap_codec() {
    let opts = EncodeOptions::default();
    let dt = DateTime {
        year: 1996,
        month: 7,
        day: 17,
        hour: 2,
        minute: 44,
        second: 25,
        zone_minutes: -420,
    };
    let env = Envelope {
        date: Some(b"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)".to_vec()),
        subject: Some(b"IMAP4rev2 WG mtg summary".to_vec()),
        from: vec![Address {
            name: Some(b"Terry Gray".to_vec()),
            adl: None,
            mailbox: Some(b"gray".to_vec()),
            host: Some(b"cac.washington.edu".to_vec()),
        }],
        to: vec![Address {
            name: None,
            adl: None,
            mailbox: Some(b"imap".to_vec()),
            host: Some(b"cac.washington.edu".to_vec()),
        }],
        message_id: Some(b"<B27397-0100000@cac.washington.edu>".to_vec()),
        ..Envelope::default()
    };
    let text = BodyStructure::Single {
        fields: BodyFields {
            params: vec![("CHARSET".into(), b"US-ASCII".to_vec())],
            encoding: "7BIT".into(),
            octets: 3028,
            ..BodyFields::default()
        },
        kind: SinglePartKind::Text {
            media_type: String::new(),
            subtype: "PLAIN".into(),
            lines: 92,
        },
        extension: Some(SinglePartExt {
            md5: None,
            disposition: Some(Disposition {
                kind: "inline".into(),
                params: vec![],
            }),
            language: vec!["en".into()],
            location: None,
        }),
    };
    let multi = BodyStructure::Multipart {
        parts: vec![text.clone(), text.clone()],
        subtype: "MIXED".into(),
        extension: Some(MultipartExt {
            params: vec![("BOUNDARY".into(), b"xx".to_vec())],
            ..MultipartExt::default()
        }),
    };
    let rs = vec![
        Response::Data(Data::Fetch {
            seq: 12,
            items: vec![
                FetchItem::Flags(vec![Flag::Seen, Flag::Keyword("$Junk".into())]),
                FetchItem::Uid(4827313),
                FetchItem::InternalDate(dt),
                FetchItem::Rfc822Size(44827),
                FetchItem::ModSeq(12121231000),
                FetchItem::Envelope(Box::new(env)),
                FetchItem::BodyStructure(Box::new(multi.clone())),
                FetchItem::Body(Box::new(multi)),
                FetchItem::BodySection {
                    section: Section {
                        part: vec![1, 2],
                        text: Some(SectionText::Mime),
                    },
                    origin: None,
                    data: Some(b"abc\r\n".to_vec()),
                },
                FetchItem::BodySection {
                    section: Section {
                        part: vec![],
                        text: Some(SectionText::HeaderFields {
                            not: false,
                            fields: vec!["From".into()],
                        }),
                    },
                    origin: Some(0),
                    data: None,
                },
                FetchItem::BinarySize {
                    part: vec![1],
                    size: 10,
                },
            ],
        }),
        Response::Data(Data::Fetch {
            seq: 1,
            items: vec![FetchItem::Binary {
                part: vec![],
                origin: None,
                data: Some(b"a\0b".to_vec()),
            }],
        }),
        Response::Data(Data::Status {
            mailbox: Mailbox::from("blurdybloop"),
            items: vec![
                StatusValue::Messages(231),
                StatusValue::UidNext(44292),
                StatusValue::Size(9_000_000_000),
                StatusValue::HighestModSeq(7),
            ],
        }),
        Response::Data(Data::List(ListData {
            attributes: vec![MailboxAttr::HasNoChildren, MailboxAttr::Sent],
            delimiter: Some('/'),
            mailbox: Mailbox::from("Sent"),
            extended: vec![],
        })),
        Response::Data(Data::List(ListData {
            attributes: vec![],
            delimiter: Some('\\'),
            mailbox: Mailbox::from("a \"q\""),
            extended: vec![],
        })),
        Response::Data(Data::Lsub(ListData {
            attributes: vec![MailboxAttr::NoSelect],
            delimiter: None,
            mailbox: Mailbox::inbox(),
            extended: vec![],
        })),
        Response::Data(Data::Capability(vec![
            "IMAP4rev1".into(),
            "IDLE".into(),
            "AUTH=PLAIN".into(),
        ])),
        Response::Data(Data::Flags(vec![
            Flag::Answered,
            Flag::Flagged,
            Flag::Deleted,
            Flag::Seen,
            Flag::Draft,
        ])),
        Response::Data(Data::Exists(23)),
        Response::Data(Data::Expunge(3)),
        Response::Data(Data::Vanished {
            earlier: true,
            uids: SequenceSet::from_ranges(&[(300, 310), (405, 405)]),
        }),
        Response::Data(Data::Search {
            ids: vec![2, 84, 882],
            modseq: None,
        }),
        Response::Data(Data::Search {
            ids: vec![],
            modseq: None,
        }),
        Response::Data(Data::Sort {
            ids: vec![5, 3, 4],
            modseq: None,
        }),
        Response::Data(Data::Thread(vec![
            Thread {
                chain: vec![2],
                children: vec![],
            },
            Thread {
                chain: vec![3, 6],
                children: vec![
                    Thread {
                        chain: vec![4, 23],
                        children: vec![],
                    },
                    Thread {
                        chain: vec![44, 7, 96],
                        children: vec![],
                    },
                ],
            },
        ])),
        Response::Data(Data::Enabled(vec!["CONDSTORE".into()])),
        Response::Data(Data::Namespace {
            personal: vec![NamespaceDesc {
                prefix: Mailbox::from(""),
                delimiter: Some('/'),
            }],
            other: vec![],
            shared: vec![],
        }),
        Response::Data(Data::Id(Some(vec![
            ("name".into(), Some("tidemark".into())),
            ("version".into(), None),
        ]))),
        Response::Data(Data::Quota {
            root: b"".to_vec(),
            resources: vec![("STORAGE".into(), 10, 512)],
        }),
        Response::Data(Data::QuotaRoot {
            mailbox: Mailbox::inbox(),
            roots: vec![b"".to_vec()],
        }),
        Response::Status(StatusResponse::untagged(
            StatusKind::Ok,
            Some(Code::PermanentFlags(vec![
                FlagPerm::Flag(Flag::Deleted),
                FlagPerm::Flag(Flag::Seen),
                FlagPerm::Wildcard,
            ])),
            "Limited",
        )),
        Response::Status(StatusResponse::untagged(
            StatusKind::Ok,
            Some(Code::UidValidity(3857529045)),
            "UIDs valid",
        )),
        Response::Status(StatusResponse::untagged(
            StatusKind::Ok,
            Some(Code::UidNext(4392)),
            "Predicted next UID",
        )),
        Response::Status(StatusResponse::untagged(
            StatusKind::Ok,
            Some(Code::HighestModSeq(715194045007)),
            "Highest",
        )),
        Response::Status(StatusResponse::untagged(
            StatusKind::Bye,
            None,
            "Autologout; idle for too long",
        )),
        Response::Status(StatusResponse::tagged(
            Tag::new("A003").unwrap_or_else(|| panic!()),
            StatusKind::Ok,
            Some(Code::AppendUid {
                uidvalidity: 38505,
                uids: SequenceSet::from_ranges(&[(3955, 3955)]),
            }),
            "APPEND completed",
        )),
        Response::Status(StatusResponse::tagged(
            Tag::new("A004").unwrap_or_else(|| panic!()),
            StatusKind::Ok,
            Some(Code::CopyUid {
                uidvalidity: 38505,
                source: SequenceSet::from_ranges(&[(304, 304), (319, 320)]),
                dest: SequenceSet::from_ranges(&[(3956, 3958)]),
            }),
            "Done",
        )),
        Response::Status(StatusResponse::tagged(
            Tag::new("a").unwrap_or_else(|| panic!()),
            StatusKind::No,
            Some(Code::TryCreate),
            "No such mailbox",
        )),
        Response::Status(StatusResponse::tagged(
            Tag::new("a").unwrap_or_else(|| panic!()),
            StatusKind::Ok,
            Some(Code::ReadWrite),
            "",
        )),
        Response::Status(StatusResponse::tagged(
            Tag::new("a").unwrap_or_else(|| panic!()),
            StatusKind::No,
            Some(Code::AlreadyExists),
            "exists",
        )),
        Response::Status(StatusResponse::tagged(
            Tag::new("a").unwrap_or_else(|| panic!()),
            StatusKind::Ok,
            Some(Code::Modified(SequenceSet::from_ranges(&[(7, 7), (9, 9)]))),
            "Conditional STORE failed",
        )),
        Response::Status(StatusResponse::untagged(
            StatusKind::Ok,
            Some(Code::Closed),
            "x",
        )),
        Response::Status(StatusResponse::untagged(
            StatusKind::No,
            Some(Code::Alert),
            "line1\r\nline2",
        )),
        Response::Continuation(Continuation::Text("Ready".into())),
        Response::Continuation(Continuation::Base64(b"challenge".to_vec())),
    ];
    for r in &rs {
        their_response_ok(&encode::to_bytes(r, &opts));
    }
}
