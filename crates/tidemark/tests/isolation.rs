//! Isolation between accounts: nothing one user sends can list, open,
//! change or reveal the existence of another user's mailboxes. Bob has
//! mailboxes with telling names; Alice tries relative paths, wildcards,
//! other namespaces, modified-UTF-7 spellings and very long names. Every
//! answer about Bob's names must be the answer for a name that exists
//! nowhere, and Bob's mail must be unchanged afterwards.

mod common;

use common::{Client, TestServer};

fn text(resp: &[Vec<u8>]) -> Vec<String> {
    resp.iter()
        .map(|r| String::from_utf8_lossy(r).trim_end().to_string())
        .collect()
}

/// The tagged line without its tag (so answers can be compared).
fn answer(resp: &[Vec<u8>]) -> String {
    let last = text(resp).pop().unwrap_or_default();
    last.split_once(' ')
        .map(|(_, rest)| rest.to_string())
        .unwrap_or(last)
}

#[test]
fn users_cannot_see_or_touch_each_other() {
    let server = TestServer::start_with_users(&[("bob".into(), "bobpw".into())]);
    let mut bob = Client::login(server.imap, "bob", "bobpw").expect("bob");
    for m in ["BobSecret", "BobSecret/Deeper", "Bob Private"] {
        let (ok, _) = bob.cmd(&format!("CREATE \"{m}\"")).expect("create");
        assert!(ok, "create {m}");
    }
    assert!(
        bob.append("BobSecret", b"Subject: bob only\r\n\r\nsecret\r\n")
            .expect("append")
            .is_some()
    );

    let mut alice = Client::login(server.imap, "alice", "pass").expect("alice");
    // LIST with every pattern trick: nothing of Bob's appears.
    for (reference, pattern) in [
        ("\"\"", "*"),
        ("\"\"", "%"),
        ("\"\"", "*Bob*"),
        ("\"../bob\"", "*"),
        ("\"\"", "../*"),
        ("\"\"", "../bob/*"),
        ("\"\"", "~bob/*"),
        ("\"~bob\"", "*"),
        ("\"\"", "/*"),
        ("\"/\"", "*"),
        ("\"\"", "#shared/*"),
        ("\"\"", "#public/*"),
        ("\"\"", "Other Users/*"),
        ("\"\"", "&AC4ALg-/*"),
        ("\"\"", "*/*/*/*/*"),
    ] {
        let (ok, resp) = alice
            .cmd(&format!("LIST {reference} \"{pattern}\""))
            .expect("list");
        let lines = text(&resp);
        assert!(
            !lines.iter().any(|l| l.contains("Bob")),
            "LIST {reference} {pattern} showed: {lines:?}"
        );
        let _ = ok;
    }
    let (_, resp) = alice.cmd("NAMESPACE").expect("namespace");
    let ns = text(&resp);
    assert!(
        ns.iter()
            .any(|l| l.starts_with("* NAMESPACE ((\"\" \"/\")) NIL NIL")),
        "{ns:?}"
    );

    // Opening, reading, changing Bob's names answers exactly like a name
    // that exists nowhere.
    let spellings = [
        "BobSecret",
        "../bob/BobSecret",
        "~bob/BobSecret",
        "/BobSecret",
        "bob/BobSecret",
        "#shared/bob/BobSecret",
        "&ZeVnLIqe-/BobSecret",
        "BobSecret/Deeper",
    ];
    // Each spelling is compared with the same spelling of a name that
    // exists nowhere (only the last part differs), so any difference could
    // only come from Bob's mailbox existing.
    for verb in [
        "SELECT {}",
        "EXAMINE {}",
        "STATUS {} (MESSAGES)",
        "DELETE {}",
        "RENAME {} Stolen",
        "SUBSCRIBE {}",
        "GETACL {}",
        "MYRIGHTS {}",
        "GETQUOTAROOT {}",
        "APPEND {} {5+}\r\nhello",
    ] {
        for name in spellings {
            let ghost = name.replace("BobSecret", "NoSuchMailboxAnywhere");
            let run = |c: &mut Client, n: &str| {
                let command = verb.replace("{}", &format!("\"{n}\""));
                let (ok, resp) = c.cmd(&command).expect("cmd");
                (ok, answer(&resp).replace(n, "NAME"), command)
            };
            let (ghost_ok, ghost_answer, _) = run(&mut alice, &ghost);
            let (ok, got, command) = run(&mut alice, name);
            if verb.starts_with("SUBSCRIBE") && ok && ghost_ok {
                // Subscribing to a name that does not exist is allowed
                // (RFC 9051 6.3.7); it stays Alice's own list.
                continue;
            }
            assert!(!ok, "{command} succeeded");
            assert_eq!(
                got, ghost_answer,
                "{command} answers differently from {ghost}"
            );
        }
    }
    // Alice's own odd names stay hers; long names are refused cleanly.
    let (ok, _) = alice.cmd("CREATE \"../bob/Planted\"").expect("create");
    let _ = ok;
    let (ok, resp) = alice
        .cmd(&format!("CREATE \"{}\"", "x".repeat(10_000)))
        .expect("long");
    assert!(!ok, "{:?}", text(&resp));
    let (ok, resp) = alice
        .cmd(&format!("CREATE \"{}\"", "a/".repeat(2_000)))
        .expect("deep");
    assert!(!ok, "{:?}", text(&resp));
    let (ok, _) = alice.cmd("SELECT INBOX").expect("select");
    assert!(ok);
    let (ok, resp) = alice.cmd("COPY 1:* BobSecret").expect("copy");
    assert!(!ok || text(&resp).iter().all(|l| !l.contains("COPYUID")));

    // Bob's side is exactly as he left it.
    let (_, resp) = bob.cmd("LIST \"\" \"*\"").expect("list");
    let lines = text(&resp);
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("Planted") || l.contains("Stolen")),
        "{lines:?}"
    );
    let (_, resp) = bob.cmd("STATUS BobSecret (MESSAGES)").expect("status");
    assert!(text(&resp)[0].contains("MESSAGES 1"), "{:?}", text(&resp));
}
