//! Golden transcript tests: every `tests/transcripts/**/*.imap` file is
//! replayed against the real binary over loopback.
//!
//! Format (one directive per line):
//! - `# ...` comment, blank lines ignored.
//! - `C: text` / `2C: text`: a client line for connection 1 (or N), sent with
//!   CRLF. The escape `\r\n` inside sends CRLF (for literal data), and
//!   `$name` is replaced by a value captured earlier (see `S:`; a `$` not
//!   followed by a captured name is sent as is, e.g. SEARCHRES's `$`).
//! - `S: text` / `2S: text`: the next server line on that connection must
//!   match. A server line ending in a literal `{n}` has its n bytes appended
//!   (CRLF shown as `\r\n`) and the rest of the line after them. In the
//!   pattern, `...` matches any text and `$name` captures a token (later
//!   uses must equal the first).
//! - `S+: text`: like `S:`, but untagged lines before the match that are not
//!   listed are allowed and skipped (for greetings and capability noise).
//! - `@user name password`: adds a user before the server starts.
//!
//! Each connection starts by consuming the greeting (`* OK ...`), unless the
//! first line for it is an `S:` line that checks the greeting.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn open(addr: std::net::SocketAddr) -> Conn {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        Conn {
            reader: BufReader::new(s.try_clone().expect("clone")),
            writer: s,
        }
    }

    /// Reads one logical response line (literals inlined, CRLF escaped).
    fn read_line(&mut self) -> String {
        let mut out = String::new();
        loop {
            let mut raw = Vec::new();
            let n = self
                .reader
                .read_until(b'\n', &mut raw)
                .expect("read from server");
            assert!(n > 0, "server closed the connection; got so far: {out:?}");
            let line = String::from_utf8_lossy(&raw).to_string();
            let line = line.trim_end_matches('\n').trim_end_matches('\r');
            out.push_str(line);
            if let Some(len) = literal_len(line) {
                let mut buf = vec![0u8; len];
                self.reader.read_exact(&mut buf).expect("read literal");
                out.push_str(&String::from_utf8_lossy(&buf).replace("\r\n", "\\r\\n"));
                continue;
            }
            return out;
        }
    }
}

fn literal_len(line: &str) -> Option<usize> {
    let rest = line.strip_suffix('}')?;
    let open = rest.rfind('{')?;
    let digits = rest[open + 1..].trim_end_matches('+');
    digits.parse().ok()
}

/// Matches `line` against a pattern with `...` and `$name`.
fn matches(pattern: &str, line: &str, vars: &mut HashMap<String, String>) -> bool {
    fn go(p: &[u8], l: &[u8], vars: &mut HashMap<String, String>) -> bool {
        if p.is_empty() {
            return l.is_empty();
        }
        if p.starts_with(b"...") {
            return (0..=l.len()).any(|i| {
                let mut v = vars.clone();
                if go(&p[3..], &l[i..], &mut v) {
                    *vars = v;
                    true
                } else {
                    false
                }
            });
        }
        if p[0] == b'$' {
            let name_len = p[1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            if name_len > 0 {
                let name = String::from_utf8_lossy(&p[1..1 + name_len]).to_string();
                let tok_len = l
                    .iter()
                    .take_while(|c| !matches!(c, b' ' | b')' | b']' | b'(' | b'['))
                    .count();
                let tok = String::from_utf8_lossy(&l[..tok_len]).to_string();
                if let Some(prev) = vars.get(&name) {
                    if *prev != tok {
                        return false;
                    }
                } else {
                    vars.insert(name, tok);
                }
                return go(&p[1 + name_len..], &l[tok_len..], vars);
            }
        }
        !l.is_empty() && p[0] == l[0] && go(&p[1..], &l[1..], vars)
    }
    go(pattern.as_bytes(), line.as_bytes(), vars)
}

/// `line` with every `$name` of a captured variable replaced by its value.
fn substitute(line: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let n = after
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        match vars.get(&after[..n]) {
            Some(v) if n > 0 => {
                out.push_str(v);
                rest = &after[n..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn run_file(path: &Path) {
    let text = std::fs::read_to_string(path).expect("read transcript");
    let mut users = Vec::new();
    let mut steps = Vec::new();
    for (no, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("@user ") {
            let mut it = rest.split_whitespace();
            let (u, p) = (it.next().unwrap_or(""), it.next().unwrap_or(""));
            users.push((u.to_string(), p.to_string()));
            continue;
        }
        let (head, body) = line
            .split_once(": ")
            .or_else(|| line.strip_suffix(':').map(|h| (h, "")))
            .unwrap_or_else(|| panic!("{}:{}: bad line {line:?}", path.display(), no + 1));
        let digits: String = head.chars().take_while(|c| c.is_ascii_digit()).collect();
        let conn: usize = if digits.is_empty() {
            1
        } else {
            digits.parse().expect("conn number")
        };
        let kind = head[digits.len()..].to_string();
        steps.push((no + 1, conn, kind, body.to_string()));
    }

    // Killed on drop, also when a step panics.
    let server = common::TestServer::start_with_users(&users);
    let imap = server.imap;

    let mut conns: HashMap<usize, Conn> = HashMap::new();
    let mut vars = HashMap::new();
    let mut failure = None;
    for (no, c, kind, body) in &steps {
        let first_use = !conns.contains_key(c);
        let conn = conns.entry(*c).or_insert_with(|| Conn::open(imap));
        if first_use && kind != "S" {
            let greeting = conn.read_line();
            assert!(greeting.starts_with("* OK"), "greeting: {greeting}");
        }
        match kind.as_str() {
            "C" => {
                let data = substitute(&body.replace("\\r\\n", "\r\n"), &vars);
                conn.writer.write_all(data.as_bytes()).expect("write");
                conn.writer.write_all(b"\r\n").expect("write");
            }
            "S" | "S+" => {
                let mut skipped = Vec::new();
                loop {
                    let got = conn.read_line();
                    if matches(body, &got, &mut vars) {
                        break;
                    }
                    if kind == "S+" && got.starts_with("* ") && skipped.len() < 100 {
                        skipped.push(got);
                        continue;
                    }
                    failure = Some(format!(
                        "{}:{no}: connection {c}\n  expected: {body}\n  got:      {got}",
                        path.display()
                    ));
                    break;
                }
            }
            other => panic!("{}:{no}: unknown directive {other}", path.display()),
        }
        if failure.is_some() {
            break;
        }
    }
    if let Some(f) = failure {
        panic!("{f}");
    }
}

fn transcript_files() -> Vec<PathBuf> {
    let root = common::repo_root().join("tests/transcripts");
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .expect("read transcripts dir")
            .flatten()
        {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "imap") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn golden_transcripts() {
    let files = transcript_files();
    assert!(
        files.len() >= 10,
        "expected transcript files, found {}",
        files.len()
    );
    let mut failed = Vec::new();
    for f in &files {
        let r = std::panic::catch_unwind(|| run_file(f));
        if let Err(e) = r {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!("{}: {msg}", f.display()));
        }
    }
    println!("{} transcripts, {} failed", files.len(), failed.len());
    assert!(
        failed.is_empty(),
        "failed transcripts:\n{}",
        failed.join("\n\n")
    );
}

#[test]
fn matcher_works() {
    let mut v = HashMap::new();
    assert!(matches("a1 OK ...", "a1 OK LOGIN done", &mut v));
    assert!(!matches("a1 OK ...", "a1 NO nope", &mut v));
    assert!(matches("* $n EXISTS", "* 3 EXISTS", &mut v));
    assert!(matches(
        "* OK [UIDVALIDITY $uv] ...",
        "* OK [UIDVALIDITY 77] x",
        &mut v
    ));
    assert!(!matches(
        "a OK [APPENDUID $uv 1] ...",
        "a OK [APPENDUID 78 1] x",
        &mut v
    ));
    assert!(matches(
        "a OK [APPENDUID $uv 1] ...",
        "a OK [APPENDUID 77 1] x",
        &mut v
    ));
}

#[test]
fn substitution_works() {
    let vars = HashMap::from([("uv".to_string(), "77".to_string())]);
    assert_eq!(
        substitute("a SELECT INBOX (QRESYNC ($uv 5)) $ $x", &vars),
        "a SELECT INBOX (QRESYNC (77 5)) $ $x"
    );
}
