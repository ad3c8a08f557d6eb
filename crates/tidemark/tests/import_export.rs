//! `tidemark import` / `tidemark export` against the real binary, with a
//! server running on the same data dir (the store is shared through SQLite
//! WAL): formats, flags and keywords, dovecot-uidlist UIDs, byte-identical
//! round trips, resume after kill, hostile input, and Dovecot's own tools.

mod common;

use common::{Client, TestServer, add_user, bin};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

/// Runs the binary (bounded by the test harness's timeouts: the commands
/// end by themselves; a hang fails the test run).
fn tidemark(args: &[&str], data: &Path) -> Output {
    Command::new(bin())
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .expect("run tidemark")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn import(data: &Path, user: &str, mailbox: Option<&str>, path: &Path) -> Output {
    let mut args = vec!["import", "--user", user];
    if let Some(m) = mailbox {
        args.extend(["--mailbox", m]);
    }
    let p = path.to_str().unwrap();
    args.push(p);
    tidemark(&args, data)
}

/// `import --config CFG --mailbox MAILBOX PATH` for `alice`.
fn import_with_config(data: &Path, cfg: &Path, mailbox: &str, path: &Path) -> Output {
    let (cfg, path) = (cfg.to_str().unwrap(), path.to_str().unwrap());
    let args = [
        "import",
        "--user",
        "alice",
        "--mailbox",
        mailbox,
        "--config",
        cfg,
        path,
    ];
    tidemark(&args, data)
}

fn import_ok(data: &Path, user: &str, mailbox: Option<&str>, path: &Path) -> String {
    let o = import(data, user, mailbox, path);
    assert!(o.status.success(), "import failed: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn export(data: &Path, user: &str, format: &str, extra: &[&str], dir: &Path) -> Output {
    let mut args = vec!["export", "--user", user, "--format", format];
    args.extend(extra);
    args.push(dir.to_str().unwrap());
    tidemark(&args, data)
}

fn export_ok(data: &Path, user: &str, format: &str, dir: &Path) {
    let o = export(data, user, format, &[], dir);
    assert!(o.status.success(), "export failed: {}", text(&o));
}

fn set_mtime(p: &Path, unix: u64) {
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(unix))
        .unwrap();
}

/// One message as IMAP shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Msg {
    uid: u32,
    flags: Vec<String>,
    date: String,
    body: Vec<u8>,
}

/// Splits `* n FETCH (UID u FLAGS (...) INTERNALDATE "..." BODY[] {n}\r\n<bytes>)`.
fn parse_fetch(r: &[u8]) -> Option<Msg> {
    let open = r.windows(8).position(|w| w == b"BODY[] {")?;
    let head = String::from_utf8_lossy(&r[..open]).into_owned();
    let rest = &r[open + 8..];
    let close = rest.iter().position(|&b| b == b'}')?;
    let len: usize = std::str::from_utf8(&rest[..close]).ok()?.parse().ok()?;
    let body = rest[close + 3..close + 3 + len].to_vec();
    let uid = head.split("UID ").nth(1)?.split(' ').next()?.parse().ok()?;
    let flags_s = head.split("FLAGS (").nth(1)?.split(')').next()?;
    let mut flags: Vec<String> = flags_s.split_whitespace().map(str::to_string).collect();
    flags.sort();
    let date = head
        .split("INTERNALDATE \"")
        .nth(1)?
        .split('"')
        .next()?
        .to_string();
    Some(Msg {
        uid,
        flags,
        date,
        body,
    })
}

/// SELECTs `mailbox` and returns (UIDVALIDITY, messages in UID order).
fn mailbox_contents(c: &mut Client, mailbox: &str) -> (u32, Vec<Msg>) {
    let (ok, resp) = c.cmd(&format!("SELECT \"{mailbox}\"")).unwrap();
    assert!(ok, "SELECT {mailbox}: {resp:?}");
    let uv = resp
        .iter()
        .find_map(|r| {
            let s = String::from_utf8_lossy(r);
            s.split("[UIDVALIDITY ")
                .nth(1)
                .and_then(|x| x.split(']').next())
                .and_then(|x| x.parse().ok())
        })
        .expect("UIDVALIDITY");
    let exists = resp.iter().any(|r| {
        let s = String::from_utf8_lossy(r);
        s.starts_with("* ") && s.trim_end().ends_with(" EXISTS") && !s.starts_with("* 0 ")
    });
    if !exists {
        return (uv, Vec::new());
    }
    let (ok, resp) = c
        .cmd("UID FETCH 1:* (UID FLAGS INTERNALDATE BODY.PEEK[])")
        .unwrap();
    assert!(ok, "FETCH in {mailbox}");
    let msgs = resp.iter().filter_map(|r| parse_fetch(r)).collect();
    (uv, msgs)
}

/// Every mailbox with its messages.
fn account_contents(c: &mut Client) -> BTreeMap<String, (u32, Vec<Msg>)> {
    let (ok, resp) = c.cmd("LIST \"\" \"*\"").unwrap();
    assert!(ok);
    let mut out = BTreeMap::new();
    for r in resp {
        let s = String::from_utf8_lossy(&r).trim_end().to_string();
        if !s.starts_with("* LIST") || s.contains("\\Noselect") || s.contains("\\NonExistent") {
            continue;
        }
        let name = s
            .rsplit(" \"/\" ")
            .next()
            .unwrap()
            .trim_matches('"')
            .to_string();
        out.insert(name.clone(), mailbox_contents(c, &name));
    }
    out
}

fn mbox_fixture() -> (Vec<u8>, Vec<&'static [u8]>) {
    // As stored: what IMAP must return (status fields removed, quoting undone).
    let m1: &[u8] = b"From: a@example.org\nSubject: lf \xe9t\xe9\n\nFrom me, in the body\n>From quoted once\nbye\n";
    let m2: &[u8] = b"From: b@example.org\r\nSubject: crlf\r\n\r\nline\r\n\r\n";
    let m3: &[u8] = b"Subject: plain\n\nno flags\n";
    let file = [
        &b"From alice@example.org Mon Jan  1 10:00:00 2024\nStatus: RO\nX-Keywords: $label1 Work\n"[..],
        b"From: a@example.org\nSubject: lf \xe9t\xe9\n\n>From me, in the body\n>>From quoted once\nbye\n\n",
        b"From bob@example.org Tue Jan  2 11:30:00 +0200 2024\n",
        b"From: b@example.org\r\nX-Status: AF\r\nSubject: crlf\r\n\r\nline\r\n\r\n\n",
        b"From MAILER-DAEMON Wed Jan  3 12:00:00 2024\nSubject: plain\n\nno flags\n\n",
    ]
    .concat();
    (file, vec![m1, m2, m3])
}

/// A Maildir++ tree as Dovecot writes it: uidlist, keywords, a message in
/// new/ that the uidlist does not know yet, a subfolder with Courier's
/// keywords, and a `.Sent` folder.
fn maildir_fixture(root: &Path) {
    for d in [
        "cur",
        "new",
        "tmp",
        ".Lists.Rust/cur",
        ".Lists.Rust/new",
        ".Sent/cur",
        ".archive/cur",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(
        root.join("dovecot-uidlist"),
        "3 V1234567 N50 G3085f01b7f11094c501100008c4a11c1\n10 :1700000000.M1P1.host,S=35\n20 W40 :1700000001.M2P1.host,S=37\n",
    )
    .unwrap();
    std::fs::write(root.join("dovecot-keywords"), "0 $Important\n1 Project\n").unwrap();
    let files = [
        (
            "cur/1700000000.M1P1.host,S=35:2,Sa",
            &b"Subject: ten\n\nuid ten in the list\n"[..],
            1_700_000_000,
        ),
        (
            "cur/1700000001.M2P1.host,S=37:2,FRSbP",
            b"Subject: twenty\r\n\r\nuid twenty, crlf\r\n",
            1_700_000_100,
        ),
        (
            "new/1700000002.M3P1.host",
            b"Subject: new\n\nnot in the uidlist\n",
            1_700_000_200,
        ),
        (
            ".Lists.Rust/cur/1700000003.M4P1.host:2,S",
            b"Subject: rust\n\ncourier keywords\n",
            1_700_000_300,
        ),
        (
            ".Sent/cur/1700000004.M5P1.host:2,ST",
            b"Subject: sent\n\nmapped to Sent\n",
            1_700_000_400,
        ),
    ];
    let files = files.into_iter().chain([(
        ".archive/cur/1700000005.M6P1.host:2,S",
        &b"Subject: archived\n\nto the \\Archive mailbox\n"[..],
        1_700_000_500,
    )]);
    for (name, data, t) in files {
        std::fs::write(root.join(name), data).unwrap();
        set_mtime(&root.join(name), t);
    }
    std::fs::write(root.join(".Lists.Rust/maildirfolder"), "").unwrap();
    std::fs::create_dir_all(root.join(".Lists.Rust/courierimapkeywords")).unwrap();
    std::fs::write(
        root.join(".Lists.Rust/courierimapkeywords/:list"),
        "Urgent\nlater\n\n1700000003.M4P1.host:0 1\n",
    )
    .unwrap();
}

fn flags(m: &Msg) -> Vec<&str> {
    m.flags.iter().map(String::as_str).collect()
}

/// Import of an mbox and a Maildir++ tree (keywords from X-Keywords,
/// dovecot-keywords and Courier; UIDVALIDITY and UIDs from the uidlist;
/// INTERNALDATE from the From_ line and the mtime), then export in both
/// formats and import into two more users: every mailbox, message byte,
/// flag and date is the same; the Maildir round trip keeps INBOX's UIDs.
#[test]
fn import_export_round_trip() {
    let srv = TestServer::start();
    let data = srv.data_dir().to_path_buf();
    add_user(&data, "bob", "pass");
    add_user(&data, "carol", "pass");
    let tmp = tempfile::tempdir().unwrap();
    let (mbox, expected) = mbox_fixture();
    let mbox_path = tmp.path().join("old.mbox");
    std::fs::write(&mbox_path, &mbox).unwrap();
    let md = tmp.path().join("Maildir");
    maildir_fixture(&md);

    let mut c = Client::login(srv.imap, "alice", "pass").unwrap();
    // Selected before the import: the session sees the new message at its
    // next command.
    assert!(mailbox_contents(&mut c, "Archive").1.is_empty());
    let out = import_ok(&data, "alice", Some("Old mail"), &mbox_path);
    assert_eq!(
        out.trim(),
        "imported 3 messages into 1 mailboxes (0 skipped)"
    );
    let out = import_ok(&data, "alice", None, &md);
    assert_eq!(
        out.trim(),
        "imported 6 messages into 4 mailboxes (0 skipped)"
    );
    let (ok, resp) = c.cmd("NOOP").unwrap();
    assert!(ok);
    assert!(
        resp.iter().any(|r| r == b"* 1 EXISTS\r\n"),
        ".archive went to Archive, seen by the selected session: {resp:?}"
    );
    assert!(
        !data.join("import").read_dir().unwrap().any(|_| true),
        "checkpoints are removed after success"
    );

    let (_, old) = mailbox_contents(&mut c, "Old mail");
    let bodies: Vec<&[u8]> = old.iter().map(|m| m.body.as_slice()).collect();
    assert_eq!(
        bodies, expected,
        "mbox bytes: quoting undone, status fields removed, CRLF/LF/8-bit kept"
    );
    assert_eq!(flags(&old[0]), ["$label1", "Work", "\\Seen"]);
    assert_eq!(flags(&old[1]), ["\\Answered", "\\Flagged"]);
    assert!(flags(&old[2]).is_empty());
    assert_eq!(old[0].date, "01-Jan-2024 10:00:00 +0000");
    assert_eq!(old[1].date, "02-Jan-2024 11:30:00 +0200");

    let (uv, inbox) = mailbox_contents(&mut c, "INBOX");
    assert_eq!(uv, 1234567, "UIDVALIDITY from dovecot-uidlist");
    let uids: Vec<u32> = inbox.iter().map(|m| m.uid).collect();
    assert_eq!(
        uids,
        [10, 20, 50],
        "UIDs from the uidlist; a new file after its N"
    );
    assert_eq!(flags(&inbox[0]), ["$Important", "\\Seen"]);
    assert_eq!(
        flags(&inbox[1]),
        ["$Forwarded", "Project", "\\Answered", "\\Flagged", "\\Seen"]
    );
    assert!(flags(&inbox[2]).is_empty());
    assert_eq!(inbox[0].date, "14-Nov-2023 22:13:20 +0000", "mtime");
    assert_eq!(
        inbox[1].body,
        b"Subject: twenty\r\n\r\nuid twenty, crlf\r\n"
    );
    let (_, rust) = mailbox_contents(&mut c, "Lists/Rust");
    assert_eq!(flags(&rust[0]), ["Urgent", "\\Seen", "later"]);
    let (_, sent) = mailbox_contents(&mut c, "Sent");
    assert_eq!(flags(&sent[0]), ["\\Deleted", "\\Seen"]);
    // A new APPEND continues after the uidlist's N.
    assert_eq!(
        c.append("INBOX", b"Subject: x\r\n\r\nx\r\n").unwrap(),
        Some(51)
    );

    let alice = account_contents(&mut c);
    let mbox_out = tmp.path().join("export-mbox");
    let md_out = tmp.path().join("export-maildir");
    export_ok(&data, "alice", "mbox", &mbox_out);
    export_ok(&data, "alice", "maildir", &md_out);
    assert!(mbox_out.join("Old mail").is_file() && mbox_out.join("Lists").join("Rust").is_file());
    assert!(md_out.join(".Lists.Rust").join("dovecot-uidlist").is_file());
    let uidlist = std::fs::read_to_string(md_out.join("dovecot-uidlist")).unwrap();
    assert!(uidlist.starts_with("3 V1234567 N52\n"), "{uidlist}");

    import_ok(&data, "bob", None, &mbox_out);
    import_ok(&data, "carol", None, &md_out);
    for user in ["bob", "carol"] {
        let mut c2 = Client::login(srv.imap, user, "pass").unwrap();
        let got = account_contents(&mut c2);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            alice.keys().collect::<Vec<_>>(),
            "{user}: mailboxes"
        );
        for (name, (_, msgs)) in &alice {
            let theirs = &got[name].1;
            assert_eq!(theirs.len(), msgs.len(), "{user} {name}: count");
            for (a, b) in msgs.iter().zip(theirs) {
                assert_eq!(a.body, b.body, "{user} {name}: bytes of UID {}", a.uid);
                assert_eq!(a.flags, b.flags, "{user} {name}: flags of UID {}", a.uid);
                if a.date.ends_with("+0000") {
                    // From_ lines and mtimes are UTC: the instant survives,
                    // the zone does not (checked below).
                    assert_eq!(a.date, b.date, "{user} {name}: INTERNALDATE");
                }
            }
        }
        assert_eq!(
            got["Old mail"].1[1].date, "02-Jan-2024 09:30:00 +0000",
            "{user}: same instant, in UTC"
        );
        if user == "carol" {
            let (uv, inbox) = &got["INBOX"];
            assert_eq!(*uv, 1234567, "Maildir export keeps UIDVALIDITY");
            let uids: Vec<u32> = inbox.iter().map(|m| m.uid).collect();
            assert_eq!(uids, [10, 20, 50, 51], "and UIDs");
        }
    }
    // Export again from bob: the mbox files are identical to alice's.
    let again = tmp.path().join("again");
    export_ok(&data, "bob", "mbox", &again);
    // (Apart from the UIDs, which bob's store gave anew.)
    let without_uids = |p: &Path| -> Vec<u8> {
        let data = std::fs::read(p).unwrap();
        data.split_inclusive(|&b| b == b'\n')
            .filter(|l| !l.starts_with(b"X-UID: ") && !l.starts_with(b"X-IMAPbase: "))
            .flatten()
            .copied()
            .collect()
    };
    for name in ["INBOX", "Old mail", "Sent", "Lists/Rust"] {
        assert_eq!(
            without_uids(&mbox_out.join(name)),
            without_uids(&again.join(name)),
            "mbox export of {name}"
        );
    }
}

fn generated_mbox(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        out.extend_from_slice(
            format!(
                "From gen@example.org Mon Jan  1 10:00:00 2024\nSubject: message {i}\nX-Seq: {i}\n\nbody of {i}\n{}\n\n",
                "x".repeat(i % 200)
            )
            .as_bytes(),
        );
    }
    out
}

/// The `X-Seq` of every message of a mailbox, in UID order, and the UIDs.
fn seqs(c: &mut Client, mailbox: &str) -> (Vec<usize>, Vec<u32>) {
    let (_, msgs) = mailbox_contents(c, mailbox);
    let s = msgs
        .iter()
        .map(|m| {
            let t = String::from_utf8_lossy(&m.body).into_owned();
            t.split("X-Seq: ")
                .nth(1)
                .unwrap()
                .split('\n')
                .next()
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        })
        .collect();
    (s, msgs.iter().map(|m| m.uid).collect())
}

/// A Maildir of 1,200 messages (`X-Seq: i`) with a dovecot-uidlist of
/// UIDVALIDITY `v` giving file `i` the UID `uid(i)`.
fn make_maildir(md: &Path, v: u32, uid: impl Fn(u32) -> u32) {
    std::fs::create_dir_all(md.join("cur")).unwrap();
    let mut uidlist = format!("3 V{v} N5000\n");
    for i in 0..1_200u32 {
        let base = format!("17000{i:05}.M{i}P1.host");
        std::fs::write(
            md.join("cur").join(format!("{base}:2,S")),
            format!("Subject: md {i}\nX-Seq: {i}\n\nbody {i}\n"),
        )
        .unwrap();
        uidlist.push_str(&format!("{} :{base}\n", uid(i)));
    }
    std::fs::write(md.join("dovecot-uidlist"), uidlist).unwrap();
}

/// kill -9 (abort) after a committed batch, before or after its checkpoint
/// is written, then the same command again: every message exactly once,
/// in order, and the uidlist's UIDs kept.
#[test]
fn resume_after_abort() {
    let srv = TestServer::start();
    let data = srv.data_dir().to_path_buf();
    let tmp = tempfile::tempdir().unwrap();
    let mbox_path = tmp.path().join("big.mbox");
    std::fs::write(&mbox_path, generated_mbox(1_600)).unwrap();
    let md = tmp.path().join("md");
    make_maildir(&md, 777, |i| 3 * i + 1);
    // UIDVALIDITY of alice's own INBOX: refused by the store, so the UIDs
    // are not kept; they still order the files (the reverse of their names).
    let mut c = Client::login(srv.imap, "alice", "pass").unwrap();
    let (inbox_uv, _) = mailbox_contents(&mut c, "INBOX");
    let md2 = tmp.path().join("md2");
    make_maildir(&md2, inbox_uv, |i| 3 * (1_199 - i) + 1);

    // Batches of 500: the mbox takes 4 (the last run resumes with nothing
    // left but the end), the Maildir 3. `N!` aborts before the checkpoint,
    // so the next run must recognise what that batch committed.
    let mbox_stops: &[&str] = &["1", "1!", "1!", "1"];
    let md_stops: &[&str] = &["1", "1!", "1!"];
    let sources = [
        (&mbox_path, "Big", mbox_stops),
        (&md, "Md", md_stops),
        (&md2, "Md2", md_stops),
    ];
    for (path, mailbox, stops) in sources {
        for stop in stops {
            let o = Command::new(bin())
                .args(["import", "--user", "alice", "--mailbox", mailbox])
                .arg(path)
                .arg("--data-dir")
                .arg(&data)
                .env("TIDEMARK_IMPORT_STOP_AFTER", stop)
                .output()
                .unwrap();
            assert!(
                !o.status.success(),
                "stop after {stop} batches: aborted: {}",
                text(&o)
            );
        }
        let out = import_ok(&data, "alice", Some(mailbox), path);
        assert!(out.starts_with("imported "), "{out}");
    }
    let (s, _) = seqs(&mut c, "Big");
    assert_eq!(
        s,
        (0..1_600).collect::<Vec<_>>(),
        "mbox: each message once, in order"
    );
    let (s, uids) = seqs(&mut c, "Md");
    assert_eq!(
        s,
        (0..1_200).collect::<Vec<_>>(),
        "Maildir: each message once, in order"
    );
    assert_eq!(
        uids,
        (0..1_200u32).map(|i| 3 * i + 1).collect::<Vec<_>>(),
        "uidlist UIDs"
    );
    let (s, uids) = seqs(&mut c, "Md2");
    assert_eq!(
        s,
        (0..1_200).rev().collect::<Vec<_>>(),
        "refused UIDVALIDITY: each message once, in uidlist order"
    );
    assert_eq!(uids, (1..=1_200).collect::<Vec<_>>(), "fresh UIDs");
    assert!(
        !data.join("import").read_dir().unwrap().any(|_| true),
        "checkpoint removed"
    );
    // Importing the same mbox again is a new import (duplicates are the
    // user's choice), not a resume.
    import_ok(&data, "alice", Some("Big"), &mbox_path);
    assert_eq!(seqs(&mut c, "Big").0.len(), 3_200);
}

/// Garbage, empty files, bad names, oversized messages, unknown users:
/// clear messages, skips with warnings, and a non-zero exit only where the
/// import did not complete.
#[test]
fn hostile_input() {
    let srv = TestServer::start();
    let data = srv.data_dir().to_path_buf();
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n);

    std::fs::write(
        p("garbage"),
        b"\x00\x01binary\xff\xfe garbage\nFrom nobody\n",
    )
    .unwrap();
    let o = import(&data, "alice", None, &p("garbage"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("not an mbox"), "{}", text(&o));

    std::fs::write(p("empty"), b"").unwrap();
    let o = import(&data, "alice", Some("Empty"), &p("empty"));
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("imported 0 messages into 1 mailboxes (0 skipped)"));

    let o = import(&data, "alice", Some("a//b"), &p("empty"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("invalid mailbox name"), "{}", text(&o));
    let o = import(&data, "nobody", None, &p("empty"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no such account"), "{}", text(&o));
    let o = import(&data, "alice", None, &p("missing"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // A message over [limits] max_literal is skipped with a warning naming it.
    let cfg = p("tidemark.toml");
    std::fs::write(&cfg, "[limits]\nmax_literal = 2000\n").unwrap();
    let big = [
        &b"From a Mon Jan  1 10:00:00 2024\nSubject: small\n\nok\n\n"[..],
        b"From b Mon Jan  1 10:00:00 2024\nSubject: big\n\n",
        "y".repeat(5000).as_bytes(),
        b"\n\nFrom c Mon Jan  1 10:00:00 2024\nSubject: one long line\n\n",
        "z".repeat(100_000).as_bytes(),
        b"\n\nFrom d Mon Jan  1 10:00:00 2024\nSubject: small 2\n\nok\n\n",
    ]
    .concat();
    std::fs::write(p("big.mbox"), big).unwrap();
    let o = import_with_config(&data, &cfg, "Limits", &p("big.mbox"));
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("imported 2 messages into 1 mailboxes (2 skipped)"),
        "{t}"
    );
    assert!(
        t.contains("big.mbox message 2 (") && t.contains("big.mbox message 3 ("),
        "{t}"
    );

    // A Maildir file over the limit is skipped the same way.
    let md = p("md");
    std::fs::create_dir_all(md.join("cur")).unwrap();
    std::fs::write(md.join("cur").join("1.big:2,S"), "b".repeat(3000)).unwrap();
    std::fs::write(md.join("cur").join("2.small:2,S"), "Subject: s\n\ns\n").unwrap();
    let o = import_with_config(&data, &cfg, "MdLimits", &md);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("imported 1 messages into 1 mailboxes (1 skipped)"),
        "{t}"
    );
    assert!(t.contains("1.big:2,S (3000 bytes): skipped"), "{t}");

    // A directory with a good mbox, a garbage file and a name the store
    // refuses: the rest is imported, the exit code says it was not all.
    let tree = p("tree");
    std::fs::create_dir_all(tree.join("Sub")).unwrap();
    std::fs::write(
        tree.join("Sub").join("good"),
        b"From a Mon Jan  1 10:00:00 2024\nSubject: g\n\ng\n\n",
    )
    .unwrap();
    std::fs::write(tree.join("junkfile"), b"PK\x03\x04 zip").unwrap();
    std::fs::write(tree.join("bad\rname"), b"").unwrap();
    let o = import(&data, "alice", None, &tree);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("imported 1 messages into 1 mailboxes"), "{t}");
    assert!(
        t.contains("junkfile") && t.contains("invalid mailbox name"),
        "{t}"
    );
    let mut c = Client::login(srv.imap, "alice", "pass").unwrap();
    assert_eq!(mailbox_contents(&mut c, "Sub/good").1.len(), 1);
    assert_eq!(mailbox_contents(&mut c, "Limits").1.len(), 2);

    // Export refuses a non-empty directory and an unknown mailbox.
    let o = export(&data, "alice", "mbox", &[], &tree);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = export(&data, "alice", "mbox", &["--mailbox", "Nope"], &p("x"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// A private doveadm (no server, no auth: the mail user is `nobody`, as in
/// tests/differential) on the Maildir at `maildir`.
struct Doveadm {
    dir: tempfile::TempDir,
}

impl Doveadm {
    /// `location`: Dovecot's `mail_location`.
    fn new(location: &str) -> Doveadm {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let d = dir.path().display();
        std::fs::write(
            dir.path().join("dovecot.conf"),
            format!(
                "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/log\nssl = no\n\
                 first_valid_uid = 65534\nfirst_valid_gid = 65534\nmail_uid = 65534\nmail_gid = 65534\n\
                 mail_location = {location}\n"
            ),
        )
        .unwrap();
        let dv = Doveadm { dir };
        dv.chown(&home);
        dv
    }

    fn chown(&self, p: &Path) {
        let ok = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(p)
            .status()
            .unwrap()
            .success();
        assert!(ok, "chown {}", p.display());
    }

    /// Runs doveadm (bounded by `timeout`), feeding `stdin`.
    fn run(&self, args: &[&str], stdin: &[u8]) -> String {
        use std::io::Write;
        let mut child = Command::new("timeout")
            .arg("60")
            .arg("doveadm")
            .arg("-c")
            .arg(self.dir.path().join("dovecot.conf"))
            .args(args)
            .env("HOME", self.dir.path().join("home"))
            .env("USER", "nobody")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run doveadm");
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "doveadm {args:?}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// `(mailbox, uid) -> sorted flags` as Dovecot sees them (without
    /// \Recent), mailbox names with `/`.
    fn flags(&self) -> BTreeMap<(String, u32), Vec<String>> {
        let out = self.run(&["fetch", "mailbox uid flags", "all"], b"");
        let mut map = BTreeMap::new();
        for rec in out.split('\x0c').filter(|r| !r.trim().is_empty()) {
            let field = |k: &str| {
                rec.lines()
                    .find_map(|l| l.strip_prefix(k))
                    .unwrap_or("")
                    .trim()
                    .to_string()
            };
            let mut f: Vec<String> = field("flags:")
                .split_whitespace()
                .filter(|f| *f != "\\Recent")
                .map(str::to_string)
                .collect();
            f.sort();
            let name = field("mailbox:").replace('.', "/");
            map.insert((name, field("uid:").parse().unwrap()), f);
        }
        map
    }
}

/// Dovecot writes a Maildir++ tree (keywords, a UID gap from an expunge, a
/// subfolder); we import it keeping its UIDVALIDITY, UIDs and keywords.
/// Our Maildir export of it is read by Dovecot with the same UIDs and flags.
#[test]
fn dovecot_maildir_both_ways() {
    if !common::require("doveadm") {
        return;
    }
    let uid = Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        // doveadm runs the mail user as `nobody`: the files must be chowned.
        assert!(std::env::var_os("CI").is_none(), "CI runs as root");
        eprintln!("SKIPPED: needs root to give the Maildir to nobody");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let md = tmp.path().join("Maildir");
    std::fs::create_dir_all(&md).unwrap();
    let dv = Doveadm::new(&format!("maildir:{}", md.display()));
    dv.chown(&md);
    for (i, subject) in ["one", "two", "three"].iter().enumerate() {
        let msg = format!("From: d@example.org\nSubject: {subject}\n\nbody {i}\n");
        dv.run(&["save"], msg.as_bytes());
    }
    dv.run(
        &[
            "flags",
            "add",
            "\\Seen $Work Project",
            "mailbox",
            "INBOX",
            "uid",
            "1",
        ],
        b"",
    );
    dv.run(
        &[
            "flags",
            "add",
            "\\Flagged \\Answered",
            "mailbox",
            "INBOX",
            "uid",
            "3",
        ],
        b"",
    );
    dv.run(&["expunge", "mailbox", "INBOX", "uid", "2"], b"");
    dv.run(&["mailbox", "create", "Sub.Folder"], b"");
    dv.run(
        &["save", "-m", "Sub.Folder"],
        b"Subject: sub\n\nin a subfolder\n",
    );
    dv.run(
        &["flags", "add", "\\Draft", "mailbox", "Sub.Folder", "all"],
        b"",
    );
    let want = dv.flags();
    assert_eq!(want.len(), 3, "{want:?}");
    let uidlist = std::fs::read_to_string(md.join("dovecot-uidlist")).unwrap();
    let v: u32 = uidlist
        .split(" V")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    // Our account is created after Dovecot gave out its UIDVALIDITY (a
    // clock value), so that value is not one this account may have used.
    std::thread::sleep(Duration::from_millis(1100));
    let srv = TestServer::start();
    let data = srv.data_dir().to_path_buf();
    let out = import_ok(&data, "alice", None, &md);
    assert_eq!(
        out.trim(),
        "imported 3 messages into 2 mailboxes (0 skipped)"
    );
    let mut c = Client::login(srv.imap, "alice", "pass").unwrap();
    let mut ours = BTreeMap::new();
    for name in ["INBOX", "Sub/Folder"] {
        let (uv, msgs) = mailbox_contents(&mut c, name);
        if name == "INBOX" {
            assert_eq!(uv, v, "Dovecot's UIDVALIDITY kept");
        }
        for m in msgs {
            ours.insert((name.to_string(), m.uid), m.flags.clone());
        }
    }
    assert_eq!(ours, want, "UIDs and flags as Dovecot had them");
    assert_eq!(
        c.append("INBOX", b"Subject: new\r\n\r\nx\r\n").unwrap(),
        Some(4),
        "after Dovecot's UIDs"
    );

    let out_dir = tmp.path().join("export");
    export_ok(&data, "alice", "maildir", &out_dir);
    // An mbox written by Dovecot (X-IMAPbase, X-UID, Status, X-Status,
    // padded X-Keywords, Content-Length, an unquoted "From " body line).
    let dmb = tmp.path().join("dovecot-mbox");
    std::fs::create_dir_all(&dmb).unwrap();
    let dv3 = Doveadm::new(&format!("mbox:{0}:INBOX={0}/inbox", dmb.display()));
    dv3.chown(&dmb);
    dv3.run(&["save"], b"Subject: one\n\nFrom me\nbody\n");
    dv3.run(&["save"], b"Subject: two\n\nb2\n");
    dv3.run(
        &[
            "flags",
            "add",
            "\\Seen $Work",
            "mailbox",
            "INBOX",
            "uid",
            "1",
        ],
        b"",
    );
    dv3.run(
        &[
            "flags",
            "add",
            "\\Answered \\Deleted",
            "mailbox",
            "INBOX",
            "uid",
            "2",
        ],
        b"",
    );
    let dwant: Vec<Vec<String>> = dv3.flags().into_values().collect();
    import_ok(&data, "alice", Some("From Dovecot"), &dmb.join("inbox"));
    let (_, got) = mailbox_contents(&mut c, "From Dovecot");
    let got_flags: Vec<Vec<String>> = got.iter().map(|m| m.flags.clone()).collect();
    assert_eq!(got_flags, dwant, "flags of a Dovecot mbox");
    assert_eq!(dwant[0], ["$Work", "\\Seen"]);
    let body = String::from_utf8_lossy(&got[0].body).into_owned();
    assert!(
        body.starts_with("Subject: one\n") && body.ends_with("\n\nFrom me\nbody\n"),
        "{body:?}"
    );
    assert!(
        !body.contains("X-UID") && !body.contains("X-Keywords"),
        "{body:?}"
    );

    let mbox_dir = tmp.path().join("export-mbox");
    export_ok(&data, "alice", "mbox", &mbox_dir);
    let mut want = ours.clone();
    want.insert(("INBOX".into(), 4), Vec::new());
    for (dir, location) in [
        (&out_dir, format!("maildir:{}", out_dir.display())),
        (
            &mbox_dir,
            format!("mbox:{0}:INBOX={0}/INBOX", mbox_dir.display()),
        ),
    ] {
        let dv2 = Doveadm::new(&location);
        dv2.chown(dir);
        let theirs: BTreeMap<(String, u32), Vec<String>> = dv2
            .flags()
            .into_iter()
            .filter(|((name, _), _)| name == "INBOX" || name == "Sub/Folder")
            .collect();
        assert_eq!(
            theirs, want,
            "Dovecot reads our {location} export with our UIDs, flags and keywords"
        );
    }
}
