mod common;

use common::*;
use tidemark_imap_proto::*;

fn mb(s: &str) -> Mailbox {
    Mailbox::from(s)
}

fn set(s: &[(u32, u32)]) -> SequenceSet {
    SequenceSet::from_ranges(s)
}

#[test]
fn every_command_variant() {
    use CommandBody as C;
    assert_eq!(body("a capability\r\n"), C::Capability);
    assert_eq!(body("a NOOP\r\n"), C::Noop);
    assert_eq!(body("a LOGOUT\r\n"), C::Logout);
    assert_eq!(body("a STARTTLS\r\n"), C::StartTls);
    assert_eq!(
        body("a AUTHENTICATE plain =\r\n"),
        C::Authenticate {
            mechanism: "PLAIN".into(),
            initial_response: Some(Secret::default())
        }
    );
    assert_eq!(
        body("a AUTHENTICATE PLAIN\r\n"),
        C::Authenticate {
            mechanism: "PLAIN".into(),
            initial_response: None
        }
    );
    assert_eq!(
        body("a LOGIN \"b\\\\o\" {2}\r\npw\r\n"),
        C::Login {
            username: b"b\\o".to_vec(),
            password: Secret::new(b"pw".to_vec())
        }
    );
    assert_eq!(
        body("a ENABLE QRESYNC utf8=accept\r\n"),
        C::Enable(vec!["QRESYNC".into(), "utf8=accept".into()])
    );
    assert_eq!(body("a ID NIL\r\n"), C::Id(None));
    assert_eq!(
        body("a ID (\"name\" \"x\" \"v\" NIL)\r\n"),
        C::Id(Some(vec![
            ("name".into(), Some("x".into())),
            ("v".into(), None)
        ]))
    );
    assert_eq!(
        body("a SELECT inBox\r\n"),
        C::Select {
            mailbox: Mailbox::inbox(),
            params: SelectParams::default()
        }
    );
    assert_eq!(
        body(
            "a EXAMINE x (QRESYNC (67890007 90060115194045000 41:211,214:541 (1:3 4:6)) CONDSTORE)\r\n"
        ),
        C::Examine {
            mailbox: mb("x"),
            params: SelectParams {
                condstore: true,
                qresync: Some(QResyncParams {
                    uidvalidity: 67890007,
                    modseq: 90060115194045000,
                    known_uids: Some(set(&[(41, 211), (214, 541)])),
                    seq_match: Some((set(&[(1, 3)]), set(&[(4, 6)]))),
                }),
            },
        }
    );
    assert_eq!(
        body("a CREATE Sent (USE (\\Sent))\r\n"),
        C::Create {
            mailbox: mb("Sent"),
            special_use: vec![MailboxAttr::Sent]
        }
    );
    assert_eq!(body("a DELETE x\r\n"), C::Delete(mb("x")));
    assert_eq!(
        body("a RENAME x y\r\n"),
        C::Rename {
            from: mb("x"),
            to: mb("y")
        }
    );
    assert_eq!(body("a SUBSCRIBE x\r\n"), C::Subscribe(mb("x")));
    assert_eq!(body("a UNSUBSCRIBE x\r\n"), C::Unsubscribe(mb("x")));
    assert_eq!(
        body(
            "a LIST (SUBSCRIBED RECURSIVEMATCH REMOTE SPECIAL-USE) \"\" (INBOX %) RETURN (CHILDREN SUBSCRIBED SPECIAL-USE MYRIGHTS STATUS (MESSAGES UIDNEXT))\r\n"
        ),
        C::List(ListCommand {
            selection: vec![
                ListSelectOpt::Subscribed,
                ListSelectOpt::RecursiveMatch,
                ListSelectOpt::Remote,
                ListSelectOpt::SpecialUse
            ],
            reference: mb(""),
            patterns: vec![b"INBOX".to_vec(), b"%".to_vec()],
            return_opts: vec![
                ListReturnOpt::Children,
                ListReturnOpt::Subscribed,
                ListReturnOpt::SpecialUse,
                ListReturnOpt::MyRights,
                ListReturnOpt::Status(vec![StatusItem::Messages, StatusItem::UidNext]),
            ],
            extended: true,
        })
    );
    assert!(matches!(
        body("a LIST \"\" *\r\n"),
        C::List(ListCommand {
            extended: false,
            ..
        })
    ));
    assert_eq!(
        body("a LSUB \"\" \"*\"\r\n"),
        C::Lsub {
            reference: mb(""),
            pattern: b"*".to_vec()
        }
    );
    assert_eq!(body("a NAMESPACE\r\n"), C::Namespace);
    assert_eq!(
        body(
            "a STATUS x (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT HIGHESTMODSEQ MAILBOXID APPENDLIMIT)\r\n"
        ),
        C::Status {
            mailbox: mb("x"),
            items: vec![
                StatusItem::Messages,
                StatusItem::UidNext,
                StatusItem::UidValidity,
                StatusItem::Unseen,
                StatusItem::Deleted,
                StatusItem::Size,
                StatusItem::Recent,
                StatusItem::HighestModSeq,
                StatusItem::MailboxId,
                StatusItem::AppendLimit,
            ],
        }
    );
    assert_eq!(
        body(
            "a APPEND x (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {2}\r\nhi (\\Draft) ~{1+}\r\n\0\r\n"
        ),
        C::Append {
            mailbox: mb("x"),
            messages: vec![
                AppendMessage {
                    flags: vec![Flag::Seen],
                    date: Some(DateTime {
                        year: 1996,
                        month: 7,
                        day: 17,
                        hour: 2,
                        minute: 44,
                        second: 25,
                        zone_minutes: -420
                    }),
                    data: b"hi".to_vec(),
                    binary: false,
                },
                AppendMessage {
                    flags: vec![Flag::Draft],
                    date: None,
                    data: vec![0],
                    binary: true
                },
            ],
        }
    );
    assert_eq!(body("a IDLE\r\n"), C::Idle);
    assert_eq!(body("a CHECK\r\n"), C::Check);
    assert_eq!(body("a CLOSE\r\n"), C::Close);
    assert_eq!(body("a UNSELECT\r\n"), C::Unselect);
    assert_eq!(body("a EXPUNGE\r\n"), C::Expunge);
    assert_eq!(body("a uid expunge 1:2\r\n"), C::UidExpunge(set(&[(1, 2)])));
    assert_eq!(
        body(
            "a UID SEARCH RETURN (MIN MAX ALL COUNT SAVE PARTIAL -1:-100) CHARSET \"UTF-8\" UNSEEN\r\n"
        ),
        C::Search(SearchCommand {
            mode: UidMode::Uid,
            charset: Some("UTF-8".into()),
            return_opts: Some(vec![
                SearchReturnOpt::Min,
                SearchReturnOpt::Max,
                SearchReturnOpt::All,
                SearchReturnOpt::Count,
                SearchReturnOpt::Save,
                SearchReturnOpt::Partial(PartialRange {
                    first: -1,
                    last: -100
                }),
            ]),
            criteria: SearchKey::Unseen,
        })
    );
    assert!(
        matches!(body("a SEARCH RETURN () ALL\r\n"), C::Search(SearchCommand { return_opts: Some(v), .. }) if v.is_empty())
    );
    assert_eq!(
        body(
            "a FETCH $ (UID PREVIEW (LAZY) EMAILID THREADID SAVEDATE MODSEQ) (CHANGEDSINCE 5 VANISHED)\r\n"
        ),
        C::Fetch {
            mode: UidMode::Sequence,
            set: SequenceSet::Saved,
            attributes: FetchAttrs::List(vec![
                FetchAttribute::Uid,
                FetchAttribute::Preview { lazy: true },
                FetchAttribute::EmailId,
                FetchAttribute::ThreadId,
                FetchAttribute::SaveDate,
                FetchAttribute::ModSeq,
            ]),
            modifiers: FetchModifiers {
                changed_since: Some(5),
                vanished: true
            },
        }
    );
    assert!(
        matches!(body("a FETCH 1 PREVIEW (CHANGEDSINCE 1)\r\n"), C::Fetch { attributes: FetchAttrs::List(v), modifiers: FetchModifiers { changed_since: Some(1), .. }, .. } if v == [FetchAttribute::Preview { lazy: false }])
    );
    assert_eq!(
        body("a UID STORE 1:* (UNCHANGEDSINCE 9) -FLAGS.SILENT (\\Seen $Junk)\r\n"),
        C::Store {
            mode: UidMode::Uid,
            set: SequenceSet::Items(vec![SeqItem {
                start: SeqBound::Num(1),
                end: SeqBound::Star
            }]),
            unchanged_since: Some(9),
            action: StoreAction::Remove,
            silent: true,
            flags: vec![Flag::Seen, Flag::Keyword("$Junk".into())],
        }
    );
    assert_eq!(
        body("a COPY 1 x\r\n"),
        C::Copy {
            mode: UidMode::Sequence,
            set: set(&[(1, 1)]),
            mailbox: mb("x")
        }
    );
    assert_eq!(
        body("a UID MOVE 1 x\r\n"),
        C::Move {
            mode: UidMode::Uid,
            set: set(&[(1, 1)]),
            mailbox: mb("x")
        }
    );
    assert_eq!(
        body(
            "a SORT RETURN (COUNT) (REVERSE ARRIVAL CC DATE FROM SIZE SUBJECT TO DISPLAYFROM DISPLAYTO) UTF-8 ALL\r\n"
        ),
        C::Sort {
            mode: UidMode::Sequence,
            return_opts: Some(vec![SearchReturnOpt::Count]),
            criteria: [
                SortKey::Arrival,
                SortKey::Cc,
                SortKey::Date,
                SortKey::From,
                SortKey::Size,
                SortKey::Subject,
                SortKey::To,
                SortKey::DisplayFrom,
                SortKey::DisplayTo
            ]
            .iter()
            .enumerate()
            .map(|(i, &key)| SortCriterion {
                reverse: i == 0,
                key
            })
            .collect(),
            charset: "UTF-8".into(),
            search: SearchKey::All,
        }
    );
    assert_eq!(
        body("a UID THREAD X-FOO UTF-8 SEEN\r\n"),
        C::Thread {
            mode: UidMode::Uid,
            algorithm: ThreadAlgorithm::Other("X-FOO".into()),
            charset: "UTF-8".into(),
            search: SearchKey::Seen
        }
    );
    assert_eq!(
        body("a COMPRESS deflate\r\n"),
        C::Compress {
            mechanism: "DEFLATE".into()
        }
    );
    assert_eq!(body("a GETQUOTA \"\"\r\n"), C::GetQuota(vec![]));
    assert_eq!(
        body("a GETQUOTAROOT INBOX\r\n"),
        C::GetQuotaRoot(Mailbox::inbox())
    );
    assert_eq!(
        body("a SETQUOTA r (storage 10 MESSAGE 5)\r\n"),
        C::SetQuota {
            root: b"r".to_vec(),
            limits: vec![("STORAGE".into(), 10), ("MESSAGE".into(), 5)]
        }
    );
    assert_eq!(body("a GETACL x\r\n"), C::GetAcl(mb("x")));
    assert_eq!(
        body("a SETACL x bob +lr\r\n"),
        C::SetAcl {
            mailbox: mb("x"),
            identifier: b"bob".to_vec(),
            rights: b"+lr".to_vec()
        }
    );
    assert_eq!(
        body("a DELETEACL x bob\r\n"),
        C::DeleteAcl {
            mailbox: mb("x"),
            identifier: b"bob".to_vec()
        }
    );
    assert_eq!(
        body("a LISTRIGHTS x bob\r\n"),
        C::ListRights {
            mailbox: mb("x"),
            identifier: b"bob".to_vec()
        }
    );
    assert_eq!(body("a MYRIGHTS x\r\n"), C::MyRights(mb("x")));
    assert_eq!(
        body("a GETMETADATA (DEPTH infinity MAXSIZE 10) \"\" (/shared/a /private/b)\r\n"),
        C::GetMetadata {
            options: MetadataOptions {
                max_size: Some(10),
                depth: MetadataDepth::Infinity
            },
            mailbox: mb(""),
            entries: vec!["/shared/a".into(), "/private/b".into()],
        }
    );
    assert_eq!(
        body("a SETMETADATA x (/private/a \"v\" /shared/b NIL /shared/c ~{2}\r\n\0x)\r\n"),
        C::SetMetadata {
            mailbox: mb("x"),
            entries: vec![
                ("/private/a".into(), Some(b"v".to_vec())),
                ("/shared/b".into(), None),
                ("/shared/c".into(), Some(b"\0x".to_vec()))
            ]
        }
    );
    assert_eq!(body("a NOTIFY NONE\r\n"), C::Notify(None));
    assert_eq!(
        body(
            "a NOTIFY SET (selected-delayed (MessageNew MessageExpunge FlagChange AnnotationChange)) (personal (MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange)) (inboxes NONE) (subscribed (MessageNew)) (mailboxes x (MessageNew))\r\n"
        ),
        C::Notify(Some(NotifySet {
            status: false,
            groups: vec![
                NotifyGroup {
                    filter: NotifyFilter::SelectedDelayed,
                    events: Some(vec![
                        NotifyEvent::MessageNew(vec![]),
                        NotifyEvent::MessageExpunge,
                        NotifyEvent::FlagChange,
                        NotifyEvent::AnnotationChange
                    ])
                },
                NotifyGroup {
                    filter: NotifyFilter::Personal,
                    events: Some(vec![
                        NotifyEvent::MailboxName,
                        NotifyEvent::SubscriptionChange,
                        NotifyEvent::MailboxMetadataChange,
                        NotifyEvent::ServerMetadataChange
                    ])
                },
                NotifyGroup {
                    filter: NotifyFilter::Inboxes,
                    events: None
                },
                NotifyGroup {
                    filter: NotifyFilter::Subscribed,
                    events: Some(vec![NotifyEvent::MessageNew(vec![])])
                },
                NotifyGroup {
                    filter: NotifyFilter::Mailboxes(vec![mb("x")]),
                    events: Some(vec![NotifyEvent::MessageNew(vec![])])
                },
            ],
        }))
    );
    assert_eq!(body("a UNAUTHENTICATE\r\n"), C::Unauthenticate);
}

#[test]
fn search_keys() {
    use SearchKey as K;
    let c = |s: &str| match body(&format!("a SEARCH {s}\r\n")) {
        CommandBody::Search(s) => s.criteria,
        other => panic!("{other:?}"),
    };
    let d = |y, m, dd| Date {
        year: y,
        month: m,
        day: dd,
    };
    assert_eq!(c("LARGER 5000000000"), K::Larger(5_000_000_000));
    assert_eq!(c("SMALLER 1"), K::Smaller(1));
    assert_eq!(c("before 1-Feb-1994"), K::Before(d(1994, 2, 1)));
    assert_eq!(c("ON \"01-feb-1994\""), K::On(d(1994, 2, 1)));
    assert_eq!(
        c("OR NOT SEEN (TO a CC b)"),
        K::Or(
            Box::new(K::Not(Box::new(K::Seen))),
            Box::new(K::And(vec![K::To(b"a".to_vec()), K::Cc(b"b".to_vec())]))
        )
        .clone()
    );
    assert_eq!(
        c("MODSEQ \"/flags/\\\\draft\" priv 5"),
        K::ModSeq {
            entry: Some((b"/flags/\\draft".to_vec(), EntryType::Private)),
            modseq: 5
        }
    );
    assert_eq!(
        c("EMAILID M6d99ac3275bb4e THREADID T64b478a75b7ea9"),
        K::And(vec![
            K::EmailId("M6d99ac3275bb4e".into()),
            K::ThreadId("T64b478a75b7ea9".into())
        ])
    );
    assert_eq!(
        c("SAVEDATESINCE 1-Jan-2020 SAVEDATESUPPORTED"),
        K::And(vec![K::SaveDateSince(d(2020, 1, 1)), K::SaveDateSupported])
    );
    assert_eq!(c("HEADER X-Foo \"\""), K::Header(b"X-Foo".to_vec(), vec![]));
    assert_eq!(c("BODY {3}\r\na\"b"), K::Body(b"a\"b".to_vec()));
    assert_eq!(c("UID $"), K::Uid(SequenceSet::Saved));
}

#[test]
fn literals_and_line_endings() {
    // Bare LF everywhere; literal bytes preserved exactly, including CR LF inside.
    let c = body("a APPEND x {4}\nab\r\n\n");
    assert!(matches!(c, CommandBody::Append { messages, .. } if messages[0].data == b"ab\r\n"));
    // Pipelined commands in one packet.
    let evs = events(b"a NOOP\r\nb NOOP\nc CHECK\r\n");
    assert_eq!(evs.len(), 3);
    // Empty lines between commands are ignored.
    assert_eq!(events(b"\r\n\na NOOP\r\n").len(), 1);
}

#[test]
fn literal_request_and_reject() {
    let mut d = CommandDecoder::default();
    d.feed(b"a1 APPEND x {10}\r\n");
    assert_eq!(
        d.next(),
        Event::LiteralRequest {
            tag: Tag::new("a1").unwrap_or_else(|| panic!()),
            len: 10,
            binary: false
        }
    );
    assert!(
        matches!(d.next(), Event::LiteralRequest { .. }),
        "repeats until decided"
    );
    d.reject_literal();
    assert_eq!(d.next(), Event::NeedMoreInput);
    d.feed(b"a2 NOOP\r\n");
    assert!(matches!(
        d.next(),
        Event::Command(Command {
            body: CommandBody::Noop,
            ..
        })
    ));
}

#[test]
fn idle_done_and_auth_lines() {
    let mut d = CommandDecoder::default();
    d.feed(b"a1 IDLE\r\n");
    assert!(matches!(
        d.next(),
        Event::Command(Command {
            body: CommandBody::Idle,
            ..
        })
    ));
    d.expect_idle_done();
    assert_eq!(d.next(), Event::NeedMoreInput);
    d.feed(b"done\r\nA2 NOOP\r\n");
    assert_eq!(d.next(), Event::IdleDone);
    assert!(matches!(
        d.next(),
        Event::Command(Command {
            body: CommandBody::Noop,
            ..
        })
    ));
    d.expect_idle_done();
    d.feed(b"a3 NOOP\r\n");
    assert!(matches!(
        d.next(),
        Event::Error(DecodeError {
            kind: ErrorKind::ExpectedDone,
            ..
        })
    ));

    d.expect_auth_line();
    d.feed(b"AGJvYgBwdw==\r\n");
    assert!(
        matches!(d.next(), Event::AuthResponse(decode::AuthResponse::Data(s)) if s.expose() == b"AGJvYgBwdw==")
    );
    d.expect_auth_line();
    d.feed(b"*\n");
    assert_eq!(d.next(), Event::AuthResponse(decode::AuthResponse::Cancel));
    assert!(!format!("{:?}", Secret::new(b"hunter2".to_vec())).contains("hunter2"));
}

#[test]
fn buffer_handoff() {
    let mut d = CommandDecoder::default();
    d.feed(b"a COMPRESS DEFLATE\r\n\x78\x9c\x01\x02");
    assert!(matches!(
        d.next(),
        Event::Command(Command {
            body: CommandBody::Compress { .. },
            ..
        })
    ));
    assert_eq!(d.take_buffered(), b"\x78\x9c\x01\x02");
    d.feed(b"a STARTTLS\r\nb LOGIN x y\r\n");
    assert!(matches!(
        d.next(),
        Event::Command(Command {
            body: CommandBody::StartTls,
            ..
        })
    ));
    d.clear_buffer();
    assert_eq!(d.next(), Event::NeedMoreInput);
}

#[test]
fn precise_errors() {
    let e = err("a FOO\r\n");
    assert_eq!(
        (e.tag.as_ref().map(Tag::as_str), e.kind),
        (Some("a"), ErrorKind::UnknownCommand)
    );
    assert!(
        err("a SELECT\r\n")
            .text
            .contains("Missing argument: mailbox")
    );
    assert!(
        err("a FETCH 1:x FLAGS\r\n")
            .text
            .contains("Invalid sequence set")
    );
    assert!(err("a FETCH 0 FLAGS\r\n").text.contains("sequence set"));
    let e = err("+ NOOP\r\n");
    assert_eq!((e.tag, e.kind), (None, ErrorKind::Syntax));
    // Unknown command with a literal: refused before the literal is requested.
    let evs = events(b"a FOO {5}\r\nb NOOP\r\n");
    assert!(matches!(
        &evs[0],
        Event::Error(DecodeError {
            kind: ErrorKind::UnknownCommand,
            ..
        })
    ));
    assert!(matches!(&evs[1], Event::Command(_)));
}

#[test]
fn hostile_inputs() {
    // Huge literal announcements are refused without allocating.
    for l in [
        "a APPEND x {99999999999}\r\n",
        "a LOGIN {99999999999999999999999}\r\n",
        "a APPEND x {67108865}\r\n",
    ] {
        assert!(matches!(err(l).kind, ErrorKind::LiteralTooBig), "{l}");
    }
    // A refused non-synchronising literal is skipped, not parsed as commands.
    let evs = events(b"a APPEND x {70000000+}\r\n");
    assert_eq!(evs.len(), 1);
    let limits = Limits {
        max_literal: 10,
        ..Limits::default()
    };
    let evs = events_with(
        b"a APPEND x {12+}\r\nb NOOP\r\nxx\r\n\r\nc NOOP\r\n",
        limits,
    );
    assert!(matches!(
        &evs[0],
        Event::Error(DecodeError {
            kind: ErrorKind::LiteralTooBig,
            ..
        })
    ));
    assert!(
        matches!(&evs[1..], [Event::Command(Command { tag, .. })] if tag.as_str() == "c"),
        "{evs:?}"
    );
    // LITERAL-
    let limits = Limits {
        literal_minus: true,
        ..Limits::default()
    };
    let mut input = b"a APPEND x {5000+}\r\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 5000));
    input.extend_from_slice(b"\r\nb NOOP\r\n");
    let evs = events_with(&input, limits);
    assert!(matches!(
        &evs[0],
        Event::Error(DecodeError {
            kind: ErrorKind::NonSyncLiteralTooBig,
            ..
        })
    ));
    assert!(matches!(&evs[1..], [Event::Command(_)]), "{evs:?}");
    // Garbage literal lengths.
    for l in [
        "a LOGIN {-5}\r\n",
        "a LOGIN {5a}\r\n",
        "a LOGIN {}\r\n",
        "a LOGIN \"unterminated\r\n",
        "a LOGIN a\0b c\r\n",
        "a SELECT \"x\0\"\r\n",
    ] {
        assert_eq!(err(l).kind, ErrorKind::Syntax, "{l}");
    }
    // A 1 MB line.
    let mut big = b"a SELECT ".to_vec();
    big.extend(std::iter::repeat_n(b'x', 1 << 20));
    big.extend_from_slice(b"\r\nb NOOP\r\n");
    let evs = events(&big);
    assert!(matches!(
        &evs[0],
        Event::Error(DecodeError {
            kind: ErrorKind::LineTooLong,
            ..
        })
    ));
    assert!(matches!(&evs[1..], [Event::Command(_)]));
    // 1000 nested parentheses, and a NOT chain.
    let deep = format!("a SEARCH {}ALL{}\r\n", "(".repeat(1000), ")".repeat(1000));
    assert_eq!(err(&deep).kind, ErrorKind::TooDeep);
    let nots = format!("a SEARCH {}ALL\r\n", "NOT ".repeat(5000));
    assert_eq!(err(&nots).kind, ErrorKind::TooDeep);
    // Command size limit across literals.
    let limits = Limits {
        max_command: 100,
        ..Limits::default()
    };
    let evs = events_with(b"a LOGIN {60}\r\n", limits);
    assert!(evs.is_empty() || matches!(&evs[0], Event::LiteralRequest { .. }));
    let evs = events_with(b"a LOGIN {200}\r\n", limits);
    assert!(matches!(
        &evs[0],
        Event::Error(DecodeError {
            kind: ErrorKind::CommandTooBig,
            ..
        })
    ));
    // Arbitrary binary noise never panics.
    let mut x: u32 = 1;
    let noise: Vec<u8> = (0..20_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            b"a1 {}()[]<>\"\\*%$+-~.:0123456789\r\n\0ABCDFLOGINSEARCHFETCH"[(x % 52) as usize]
        })
        .collect();
    let _ = events(&noise);
}

#[test]
fn dates() {
    let dt = match body("a APPEND x \" 1-Jan-1970 00:00:00 +0000\" {1}\r\nx\r\n") {
        CommandBody::Append { messages, .. } => messages[0].date.unwrap_or_else(|| panic!()),
        _ => panic!(),
    };
    assert_eq!(dt.to_unix(), 0);
    let dt = DateTime {
        year: 2024,
        month: 2,
        day: 29,
        hour: 23,
        minute: 59,
        second: 59,
        zone_minutes: 120,
    };
    assert_eq!(dt.to_unix(), 1_709_243_999);
    assert_eq!(DateTime::from_unix(dt.to_unix(), 120), dt);
}
