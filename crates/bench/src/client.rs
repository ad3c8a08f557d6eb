//! A deliberately tiny IMAP client: tagged commands, literal-aware response
//! reading, LITERAL+ (`{n+}`) and synchronising (`{n}` + wait for `+`)
//! literals for APPEND. Enough for benchmarking; not a general client.

use std::io;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

pub type Reader = BufReader<OwnedReadHalf>;
pub type Writer = BufWriter<OwnedWriteHalf>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bad,
}

/// The outcome of one tagged command.
#[derive(Debug)]
pub struct Response {
    pub status: Status,
    /// The tagged completion line, without CRLF.
    pub tagged: String,
    /// Number of untagged (`* ...`) responses received before completion.
    pub untagged: usize,
    /// Total bytes read for this command (untagged + tagged, literals included).
    pub bytes: usize,
    /// Untagged responses, kept only when asked for (`keep = true`).
    pub lines: Vec<Vec<u8>>,
}

impl Response {
    pub fn ok(&self) -> bool {
        self.status == Status::Ok
    }
}

pub fn err(msg: impl Into<String>) -> io::Error {
    io::Error::other(msg.into())
}

/// Reads one logical response line: a CRLF line plus any literals it
/// announces (`{n}` / `{n+}` at the end of a physical line) and the text that
/// follows them. Appends to `buf`. Returns the bytes read.
pub async fn read_logical_line(rd: &mut Reader, buf: &mut Vec<u8>) -> io::Result<usize> {
    let start = buf.len();
    // Bounded: a response can announce at most this many literals.
    for _ in 0..1_000_000 {
        let seg = buf.len();
        let n = rd.read_until(b'\n', buf).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the connection",
            ));
        }
        match literal_len(&buf[seg..]) {
            Some(len) => {
                let old = buf.len();
                buf.resize(old + len, 0);
                rd.read_exact(&mut buf[old..]).await?;
            }
            None => return Ok(buf.len() - start),
        }
    }
    Err(err("too many literals in one response"))
}

/// If the physical line ends with `{n}\r\n` or `{n+}\r\n`, returns n.
fn literal_len(line: &[u8]) -> Option<usize> {
    let line = line
        .strip_suffix(b"\r\n")
        .or_else(|| line.strip_suffix(b"\n"))?;
    let line = line.strip_suffix(b"}")?;
    let open = line.iter().rposition(|&b| b == b'{')?;
    let mut digits = &line[open + 1..];
    if let Some(d) = digits.strip_suffix(b"+") {
        digits = d;
    }
    if digits.is_empty() || digits.len() > 12 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Parses `TAG STATUS text` if the line carries `tag`.
pub fn tagged_status(line: &[u8], tag: &str) -> Option<Status> {
    let rest = line.strip_prefix(tag.as_bytes())?.strip_prefix(b" ")?;
    let word: Vec<u8> = rest
        .iter()
        .take_while(|&&b| b != b' ' && b != b'\r')
        .map(u8::to_ascii_uppercase)
        .collect();
    Some(match &word[..] {
        b"OK" => Status::Ok,
        b"NO" => Status::No,
        _ => Status::Bad,
    })
}

pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

pub fn trim_crlf(b: &[u8]) -> String {
    let b = b.strip_suffix(b"\r\n").unwrap_or(b);
    String::from_utf8_lossy(b).into_owned()
}

pub struct Client {
    pub rd: Reader,
    pub wr: Writer,
    next_tag: u64,
    prefix: String,
    pub caps: Vec<String>,
}

impl Client {
    /// Connects, reads the greeting, logs in and fetches the capabilities.
    pub async fn login(addr: &str, user: &str, pass: &str, prefix: &str) -> io::Result<Client> {
        let sock = TcpStream::connect(addr).await?;
        sock.set_nodelay(true)?;
        let (r, w) = sock.into_split();
        let mut c = Client {
            rd: BufReader::with_capacity(256 * 1024, r),
            wr: BufWriter::with_capacity(256 * 1024, w),
            next_tag: 1,
            prefix: prefix.to_string(),
            caps: Vec::new(),
        };
        let mut greet = Vec::new();
        read_logical_line(&mut c.rd, &mut greet).await?;
        if !greet.starts_with(b"* OK") {
            return Err(err(format!("unexpected greeting: {}", trim_crlf(&greet))));
        }
        let r = c
            .command(&format!("LOGIN {} {}", quote(user), quote(pass)), false)
            .await?;
        if !r.ok() {
            return Err(err(format!("LOGIN failed: {}", r.tagged)));
        }
        let r = c.command("CAPABILITY", true).await?;
        for l in &r.lines {
            let s = trim_crlf(l);
            if let Some(rest) = s.strip_prefix("* CAPABILITY ") {
                c.caps = rest
                    .split_ascii_whitespace()
                    .map(|w| w.to_ascii_uppercase())
                    .collect();
            }
        }
        Ok(c)
    }

    pub fn has_cap(&self, cap: &str) -> bool {
        self.caps.iter().any(|c| c.eq_ignore_ascii_case(cap))
    }

    pub fn tag(&mut self) -> String {
        let t = format!("{}{}", self.prefix, self.next_tag);
        self.next_tag += 1;
        t
    }

    /// Sends one command (no literals) and reads up to its tagged completion.
    pub async fn command(&mut self, cmd: &str, keep: bool) -> io::Result<Response> {
        let tag = self.tag();
        self.wr
            .write_all(format!("{tag} {cmd}\r\n").as_bytes())
            .await?;
        self.wr.flush().await?;
        self.read_until_tagged(&tag, keep).await
    }

    pub async fn read_until_tagged(&mut self, tag: &str, keep: bool) -> io::Result<Response> {
        let mut bytes = 0;
        let mut lines = Vec::new();
        let mut buf = Vec::with_capacity(256);
        // Bounded: 100M response lines is far beyond any benchmark here.
        for untagged in 0..100_000_000usize {
            buf.clear();
            bytes += read_logical_line(&mut self.rd, &mut buf).await?;
            if let Some(status) = tagged_status(&buf, tag) {
                return Ok(Response {
                    status,
                    tagged: trim_crlf(&buf),
                    untagged,
                    bytes,
                    lines,
                });
            }
            if buf.starts_with(b"+") {
                return Err(err(format!("unexpected continuation: {}", trim_crlf(&buf))));
            }
            if keep {
                lines.push(buf.clone());
            }
        }
        Err(err("response too long"))
    }

    /// APPENDs one or more messages in a single command (several = MULTIAPPEND),
    /// using LITERAL+ when `literal_plus`, synchronising literals otherwise.
    pub async fn append(
        &mut self,
        mailbox: &str,
        msgs: &[(String, Vec<u8>)],
        literal_plus: bool,
    ) -> io::Result<Response> {
        let tag = self.tag();
        if literal_plus {
            let buf = build_append(&tag, mailbox, msgs);
            self.wr.write_all(&buf).await?;
            self.wr.flush().await?;
            return self.read_until_tagged(&tag, false).await;
        }
        let mut head = format!("{tag} APPEND {}", quote(mailbox));
        for (i, (flags, body)) in msgs.iter().enumerate() {
            if i > 0 {
                head.clear();
            }
            if !flags.is_empty() {
                head.push_str(&format!(" ({flags})"));
            }
            head.push_str(&format!(" {{{}}}\r\n", body.len()));
            self.wr.write_all(head.as_bytes()).await?;
            self.wr.flush().await?;
            // Wait for the continuation request (or an early tagged NO/BAD).
            let mut line = Vec::new();
            read_logical_line(&mut self.rd, &mut line).await?;
            if let Some(status) = tagged_status(&line, &tag) {
                return Ok(Response {
                    status,
                    tagged: trim_crlf(&line),
                    untagged: 0,
                    bytes: line.len(),
                    lines: vec![],
                });
            }
            if !line.starts_with(b"+") {
                return Err(err(format!(
                    "expected continuation, got: {}",
                    trim_crlf(&line)
                )));
            }
            self.wr.write_all(body).await?;
        }
        self.wr.write_all(b"\r\n").await?;
        self.wr.flush().await?;
        self.read_until_tagged(&tag, false).await
    }
}

/// `TAG APPEND "mbox" (flags) {n+}\r\n<msg> (flags) {n+}\r\n<msg>\r\n`
pub fn build_append(tag: &str, mailbox: &str, msgs: &[(String, Vec<u8>)]) -> Vec<u8> {
    let total: usize = msgs.iter().map(|(_, b)| b.len() + 40).sum();
    let mut buf = Vec::with_capacity(total + 64);
    buf.extend_from_slice(format!("{tag} APPEND {}", quote(mailbox)).as_bytes());
    for (flags, body) in msgs {
        if !flags.is_empty() {
            buf.extend_from_slice(format!(" ({flags})").as_bytes());
        }
        buf.extend_from_slice(format!(" {{{}+}}\r\n", body.len()).as_bytes());
        buf.extend_from_slice(body);
    }
    buf.extend_from_slice(b"\r\n");
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_detection() {
        assert_eq!(literal_len(b"* 1 FETCH (BODY[] {12}\r\n"), Some(12));
        assert_eq!(literal_len(b"* 1 FETCH (BODY[] {12+}\r\n"), Some(12));
        assert_eq!(literal_len(b"* OK {x}\r\n"), None);
        assert_eq!(literal_len(b"* OK done\r\n"), None);
        assert_eq!(literal_len(b"* OK {}\r\n"), None);
    }

    #[test]
    fn tagged() {
        assert_eq!(tagged_status(b"a1 OK done\r\n", "a1"), Some(Status::Ok));
        assert_eq!(tagged_status(b"a1 NO nope\r\n", "a1"), Some(Status::No));
        assert_eq!(tagged_status(b"a10 OK done\r\n", "a1"), None);
        assert_eq!(tagged_status(b"* OK x\r\n", "a1"), None);
    }

    #[test]
    fn append_wire_format() {
        let b = build_append(
            "t1",
            "Box",
            &[
                ("\\Seen".into(), b"ab".to_vec()),
                (String::new(), b"c".to_vec()),
            ],
        );
        assert_eq!(
            b,
            b"t1 APPEND \"Box\" (\\Seen) {2+}\r\nab {1+}\r\nc\r\n".to_vec()
        );
    }
}
