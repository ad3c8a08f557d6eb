//! Hostile input against the real binary: over 200 malformed command
//! lines and literal tricks (oversized and negative literals, unterminated
//! quotes, NUL bytes, deep parentheses, 1 MB lines, bad modified UTF-7 and
//! UTF-8, commands in the wrong state, seeded random garbage), in each
//! session state that matters. Each must get a tagged BAD/NO, an untagged
//! BAD, or a BYE (an empty line alone is skipped, as Dovecot does), never
//! silence, a hang or a crash; after each, the same
//! connection must still answer a NOOP (unless it was told BYE), and
//! another client keeps being served throughout.

mod common;

use base64::Engine;
use common::{Client, TestServer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    PreAuth,
    Auth,
    Selected,
}

struct Case {
    name: String,
    state: St,
    /// Sent as is (each case ends its own line).
    bytes: Vec<u8>,
}

fn line(state: St, name: &str, text: &str) -> Case {
    Case {
        name: name.to_string(),
        state,
        bytes: format!("{text}\r\n").into_bytes(),
    }
}

fn raw(state: St, name: &str, bytes: &[u8]) -> Case {
    Case {
        name: name.to_string(),
        state,
        bytes: bytes.to_vec(),
    }
}

fn cases() -> Vec<Case> {
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let mut v = Vec::new();
    // Malformed in every state.
    let anywhere: Vec<(&str, String)> = vec![
        // An empty line is skipped without an answer, as Dovecot does
        // (some clients send a stray CRLF); the NOOP after it must answer.
        ("empty line (ignored)", String::new()),
        ("spaces", "   ".into()),
        ("tag only", "a".into()),
        ("tag and space", "a ".into()),
        ("star tag", "* NOOP".into()),
        ("plus tag", "+ NOOP".into()),
        ("quote in tag", "a\" NOOP".into()),
        ("brace in tag", "a{ NOOP".into()),
        ("percent in tag", "a% NOOP".into()),
        ("paren in tag", "a( NOOP".into()),
        ("unknown command", "a XYZZY".into()),
        ("number command", "a 123".into()),
        ("noop argument", "a NOOP extra".into()),
        ("capability argument", "a CAPABILITY x".into()),
        ("logout typo", "a LOGOUTX".into()),
        ("lowercase garbage", "a nOoP(".into()),
        ("control chars", "a \u{1}\u{2}\u{3}".into()),
        ("double space", "a  NOOP".into()),
        ("tab separator", "a\tNOOP".into()),
        ("login missing args", "a LOGIN".into()),
        ("login one arg", "a LOGIN alice".into()),
        ("login unterminated quote", "a LOGIN \"alice pass".into()),
        ("login bad escape", "a LOGIN alice \"pa\\qss\"".into()),
        ("login list arg", "a LOGIN (alice) pass".into()),
        ("login extra arg", "a LOGIN alice pass extra".into()),
        ("negative literal", "a LOGIN {-1}".into()),
        ("huge literal", "a LOGIN {99999999999999999999}".into()),
        ("literal over u32", "a LOGIN {4294967296}".into()),
        ("literal letters", "a LOGIN {abc}".into()),
        ("literal unclosed", "a LOGIN {5".into()),
        ("literal empty braces", "a LOGIN {}".into()),
        // A literal the client announced is read before the line is
        // judged, so these send their data as a real client would.
        ("literal8 in login", "a LOGIN ~{5}\r\nhello pass".into()),
        ("authenticate no mechanism", "a AUTHENTICATE".into()),
        (
            "authenticate unknown mechanism",
            "a AUTHENTICATE FOO".into(),
        ),
        (
            "authenticate bad base64",
            "a AUTHENTICATE PLAIN !!!notbase64".into(),
        ),
        (
            "authenticate plain one part",
            format!("a AUTHENTICATE PLAIN {}", b64(b"alice")),
        ),
        (
            "authenticate scram garbage",
            format!("a AUTHENTICATE SCRAM-SHA-256 {}", b64(b"garbage")),
        ),
        (
            "authenticate scram bad flag",
            format!("a AUTHENTICATE SCRAM-SHA-256 {}", b64(b"q,,n=a,r=b")),
        ),
        ("select no arg", "a SELECT".into()),
        ("select open paren", "a SELECT INBOX (".into()),
        ("select bad param", "a SELECT INBOX (BOGUS)".into()),
        ("status no items", "a STATUS INBOX".into()),
        ("status bad item", "a STATUS INBOX (BOGUS)".into()),
        ("status unclosed", "a STATUS INBOX (MESSAGES".into()),
        ("list one arg", "a LIST \"\"".into()),
        ("create no arg", "a CREATE".into()),
        ("rename one arg", "a RENAME a".into()),
        ("enable no arg", "a ENABLE".into()),
        ("id bad list", "a ID (\"name\")".into()),
        ("id unclosed", "a ID (\"name\" \"x\"".into()),
        ("append no mailbox", "a APPEND".into()),
        ("append no message", "a APPEND INBOX".into()),
        (
            "append bad flags",
            "a APPEND INBOX (\\Seen {5+}\r\nhello".into(),
        ),
        ("compress no arg", "a COMPRESS".into()),
        ("idle argument", "a IDLE extra".into()),
        ("getquota no arg", "a GETQUOTA".into()),
        ("setmetadata garbage", "a SETMETADATA INBOX (".into()),
        ("notify garbage", "a NOTIFY SET (".into()),
    ];
    for (state, prefix) in [
        (St::PreAuth, "pre-auth"),
        (St::Auth, "auth"),
        (St::Selected, "selected"),
    ] {
        for (name, text) in &anywhere {
            v.push(line(state, &format!("{prefix}: {name}"), text));
        }
        v.push(raw(
            state,
            &format!("{prefix}: NUL in command"),
            b"a NOOP\0\r\n",
        ));
        v.push(raw(
            state,
            &format!("{prefix}: NUL in login"),
            b"a LOGIN al\0ice pass\r\n",
        ));
        v.push(raw(state, &format!("{prefix}: only NULs"), b"\0\0\0\0\r\n"));
        v.push(raw(
            state,
            &format!("{prefix}: high bytes"),
            b"\x80\x81\xfe\xff NOOP\r\n",
        ));
        v.push(raw(
            state,
            &format!("{prefix}: bad UTF-8 name"),
            b"a SELECT \"\xc3\x28\"\r\n",
        ));
        v.push(raw(
            state,
            &format!("{prefix}: 1 MB line"),
            format!("a LOGIN {}\r\n", "x".repeat(1 << 20)).as_bytes(),
        ));
    }
    // Wrong state before authentication.
    for text in [
        "a SELECT INBOX",
        "a EXAMINE INBOX",
        "a FETCH 1 FLAGS",
        "a STORE 1 +FLAGS (\\Seen)",
        "a IDLE",
        "a ENABLE CONDSTORE",
        "a LIST \"\" *",
        "a STATUS INBOX (MESSAGES)",
        "a EXPUNGE",
        "a COMPRESS DEFLATE",
        "a NAMESPACE",
        "a CREATE x",
        "a APPEND INBOX {5+}\r\nhello",
        // Refused LITERAL+ data still arrives and is skipped.
        &format!("a APPEND INBOX {{100000+}}\r\n{}", "x".repeat(100_000)),
        &format!("a LOGIN {{9000+}}\r\n{} pass", "y".repeat(9000)),
        "a SEARCH ALL",
        "a UID FETCH 1 FLAGS",
        "a NOTIFY NONE",
    ] {
        v.push(line(
            St::PreAuth,
            &format!("pre-auth wrong state: {text}"),
            text,
        ));
    }
    v.push(line(
        St::PreAuth,
        "pre-auth 30 KB line",
        &format!("a LOGIN {} x", "y".repeat(30_000)),
    ));
    // Wrong state or refused once authenticated.
    for text in [
        "a LOGIN alice pass",
        "a AUTHENTICATE PLAIN",
        "a STARTTLS",
        "a FETCH 1 FLAGS",
        "a STORE 1 +FLAGS (\\Seen)",
        "a EXPUNGE",
        "a CLOSE",
        "a UNSELECT",
        "a CHECK",
        "a SELECT &AGE",
        "a SELECT &-&-",
        "a CREATE &AGE-&",
        "a CREATE &Jjo!",
        "a SELECT \"\"",
        "a DELETE INBOX",
        "a RENAME NoSuchBox Other",
        "a SELECT NoSuchBox",
        "a APPEND NoSuchBox {5+}\r\nhello",
        "a APPEND INBOX \"31-Feb-2020 00:00:00 +0000\" {5+}\r\nhello",
        "a APPEND INBOX \"garbage\" {5+}\r\nhello",
        "a APPEND INBOX {99999999999}",
        "a APPEND INBOX ~{5+}\r\nhello extra",
        "a ENABLE CONDSTORE CONDSTORE (",
        "a STATUS NoSuchBox (MESSAGES)",
        "a GETQUOTAROOT NoSuchBox",
        "a COMPRESS BZIP2",
    ] {
        v.push(line(St::Auth, &format!("auth: {text}"), text));
    }
    v.push(line(
        St::Auth,
        "auth 70 KB line",
        &format!("a LIST \"\" {}", "z".repeat(70_000)),
    ));
    // Selected state: sets, FETCH items, STORE, SEARCH.
    for text in [
        "a FETCH 0 FLAGS",
        "a FETCH 4294967296 FLAGS",
        "a FETCH 1,,2 FLAGS",
        "a FETCH : FLAGS",
        "a FETCH 1: FLAGS",
        "a FETCH -1 FLAGS",
        "a FETCH 1",
        "a FETCH 1 (FLAGS",
        "a FETCH 1 BODY[",
        "a FETCH 1 BODY[]<5",
        "a FETCH 1 BODY[]<99999999999999999999.1>",
        "a FETCH 1 BODY[]<5.0>",
        "a FETCH 1 BODY[HEADER.FIELDS ()]",
        "a FETCH 1 BODY[HEADER.FIELDS]",
        "a FETCH 1 BODY[0]",
        "a FETCH 1 BODY[1.0]",
        "a FETCH 1 BINARY[1]<0.-1>",
        "a FETCH 1 XYZ",
        "a FETCH 1 (FLAGS) (CHANGEDSINCE)",
        "a FETCH 1 (FLAGS) (CHANGEDSINCE x)",
        "a STORE 1 FLAGS",
        "a STORE 1 XFLAGS (\\Seen)",
        "a STORE 1 +FLAGS (\\Seen",
        "a STORE 1 +FLAGS (\\Recent)",
        "a STORE 1 (UNCHANGEDSINCE) +FLAGS (\\Seen)",
        "a COPY 1",
        "a MOVE 1",
        "a COPY 1 NoSuchBox",
        "a UID EXPUNGE",
        "a UID BOGUS 1",
        "a UID FETCH 1:* (FLAGS) (VANISHED)",
        "a SEARCH BEFORE 32-Jan-2020",
        "a SEARCH SINCE notadate",
        "a SEARCH LARGER -5",
        "a SEARCH LARGER 99999999999999999999999",
        "a SEARCH CHARSET FOO-BAR TEXT x",
        "a SEARCH HEADER",
        "a SEARCH OR ALL",
        "a SEARCH NOT",
        "a SEARCH UID",
        "a SEARCH MODSEQ x",
        "a SEARCH RETURN (BOGUS) ALL",
        "a SEARCH \"unterminated",
        "a SEARCH ALL)",
        "a SEARCH (ALL",
        "a SORT (BOGUS) UTF-8 ALL",
        "a SORT (DATE) BOGUS-CHARSET ALL",
        "a SORT DATE UTF-8 ALL",
        "a THREAD BOGUS UTF-8 ALL",
        "a SELECT INBOX (QRESYNC (1))",
        "a SELECT INBOX (CONDSTORE",
    ] {
        v.push(line(St::Selected, &format!("selected: {text}"), text));
    }
    for depth in [65, 200, 1000, 10_000] {
        v.push(line(
            St::Selected,
            &format!("selected: SEARCH nested {depth} deep"),
            &format!("a SEARCH {}ALL{}", "(".repeat(depth), ")".repeat(depth)),
        ));
        v.push(line(
            St::Selected,
            &format!("selected: NOT nested {depth} deep"),
            &format!("a SEARCH {}ALL", "NOT ".repeat(depth)),
        ));
    }
    // Seeded random garbage (no CR/LF inside), in every state.
    let mut rng = StdRng::seed_from_u64(0x7ad3);
    for i in 0..30 {
        let len = rng.random_range(1..300);
        let mut bytes: Vec<u8> = (0..len)
            .map(|_| rng.random::<u8>())
            .filter(|b| *b != b'\r' && *b != b'\n')
            .collect();
        // Garbage that happens to start like a literal or a valid command
        // is not garbage: give it a tag that names no command.
        bytes.splice(0..0, b"g ZZ".iter().copied());
        bytes.extend_from_slice(b"\r\n");
        let state = [St::PreAuth, St::Auth, St::Selected][i % 3];
        v.push(raw(state, &format!("random garbage {i}"), &bytes));
    }
    v
}

struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Conn {
    fn open(server: &TestServer, state: St) -> Conn {
        let s = TcpStream::connect(server.imap).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(15)))
            .expect("timeout");
        let mut c = Conn {
            r: BufReader::new(s.try_clone().expect("clone")),
            w: s,
        };
        let greeting = c.line().expect("greeting");
        assert!(greeting.starts_with("* OK"), "{greeting}");
        if state != St::PreAuth {
            c.send(b"l1 LOGIN alice pass\r\n");
            c.until("l1 ");
        }
        if state == St::Selected {
            c.send(b"l2 SELECT INBOX\r\n");
            c.until("l2 ");
        }
        c
    }

    fn send(&mut self, b: &[u8]) {
        // The server may close early (BYE on an over-long line).
        let _ = self.w.write_all(b);
    }

    fn line(&mut self) -> Option<String> {
        let mut buf = Vec::new();
        match self.r.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(String::from_utf8_lossy(&buf).trim_end().to_string()),
        }
    }

    /// Lines up to the one starting with `prefix` (inclusive), or up to EOF.
    fn until(&mut self, prefix: &str) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(l) = self.line() {
            let done = l.starts_with(prefix);
            out.push(l);
            if done {
                break;
            }
        }
        out
    }
}

#[test]
fn hostile_inputs_get_answers_and_never_crash() {
    let mut server = TestServer::start();
    let pid = server.pid().expect("pid");
    let mut bystander = Client::login(server.imap, "alice", "pass").expect("bystander");
    assert!(
        bystander
            .append("INBOX", b"Subject: one\r\n\r\nbody\r\n")
            .expect("append")
            .is_some()
    );
    let cases = cases();
    assert!(cases.len() >= 200, "{} cases", cases.len());
    let mut conns: [Option<Conn>; 3] = [None, None, None];
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let slot = case.state as usize;
        let mut conn = conns[slot]
            .take()
            .unwrap_or_else(|| Conn::open(&server, case.state));
        conn.send(&case.bytes);
        conn.send(b"zz NOOP\r\n");
        let started = std::time::Instant::now();
        let lines = conn.until("zz ");
        if started.elapsed() > Duration::from_millis(300) {
            eprintln!("slow: {} {:?}", case.name, started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(5) {
            failures.push(format!("{}: took {:?}", case.name, started.elapsed()));
        }
        let ignored_ok = case.name.ends_with("(ignored)") && lines.len() == 1;
        let answered = ignored_ok
            || lines.iter().any(|l| {
                l.starts_with("a BAD")
                    || l.starts_with("a NO")
                    || l.starts_with("* BAD")
                    || l.starts_with("* BYE")
                    || l.starts_with("g BAD")
                    || l.starts_with("zz BAD")
            });
        let bye = lines.iter().any(|l| l.starts_with("* BYE"));
        let alive = lines.last().is_some_and(|l| l.starts_with("zz OK"));
        if !answered || !(alive || bye) || lines.iter().any(|l| l.starts_with("a OK")) {
            let shown: Vec<String> = lines
                .iter()
                .map(|l| l.chars().take(160).collect())
                .collect();
            failures.push(format!("{}: {shown:?}", case.name));
        }
        if alive && !bye {
            conns[slot] = Some(conn);
        }
        assert!(
            std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "server died at case {i} ({})",
            case.name
        );
        if i % 20 == 0 {
            let (ok, _) = bystander.cmd("NOOP").expect("bystander NOOP");
            assert!(ok, "bystander not served at case {i}");
        }
    }
    eprintln!(
        "{} hostile cases, {} not answered as required",
        cases.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let (ok, _) = bystander.cmd("SELECT INBOX").expect("select");
    assert!(ok);
    let (ok, resp) = bystander.cmd("FETCH 1 (BODY[])").expect("fetch");
    let resp: Vec<String> = resp
        .iter()
        .map(|r| String::from_utf8_lossy(r).to_string())
        .collect();
    assert!(ok && resp.iter().any(|r| r.contains("body")), "{resp:?}");
    server.kill9();
}
