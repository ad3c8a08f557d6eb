//! Test harness: runs the real `tidemark` binary on loopback ports in a
//! temporary data dir.
#![allow(dead_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Path of the binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tidemark")
}

/// A running server. Killed on drop.
pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub imap: SocketAddr,
    pub imaps: SocketAddr,
    /// Every listener the server reported (`"lmtp"`, `"http"`, ...), by
    /// the name in its `listening on ADDR (name)` log line.
    pub listeners: std::collections::HashMap<String, SocketAddr>,
    /// Extra arguments for `serve` (e.g. `["--lmtp", "127.0.0.1:0"]`);
    /// a listener named here with port 0 keeps its first port on restart.
    pub extra_args: Vec<String>,
    child: Option<Child>,
}

impl TestServer {
    /// Starts a server with one user `alice` / `pass`.
    pub fn start() -> TestServer {
        TestServer::start_with_users(&[])
    }

    /// Starts a server with `alice` / `pass` plus the given users.
    pub fn start_with_users(users: &[(String, String)]) -> TestServer {
        TestServer::start_with_args(users, &[])
    }

    /// [`TestServer::start_with_users`] with extra `serve` arguments.
    pub fn start_with_args(users: &[(String, String)], args: &[&str]) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        add_user(dir.path(), "alice", "pass");
        for (u, p) in users {
            add_user(dir.path(), u, p);
        }
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let mut s = TestServer {
            dir,
            imap: any,
            imaps: any,
            listeners: Default::default(),
            extra_args: args.iter().map(|a| a.to_string()).collect(),
            child: None,
        };
        s.spawn();
        s
    }

    /// The data dir.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// (Re)starts the process on the same data dir. The first start binds
    /// port 0 and learns the ports from the server's log, so parallel tests
    /// never race for a port; restarts reuse them.
    pub fn spawn(&mut self) {
        use std::io::BufRead;
        // On a restart, listeners given as port 0 get the port they had.
        let mut extra = self.extra_args.clone();
        for i in 1..extra.len() {
            let name = extra[i - 1].trim_start_matches("--").to_string();
            if extra[i].ends_with(":0")
                && let Some(a) = self.listeners.get(&name)
            {
                extra[i] = a.to_string();
            }
        }
        let mut child = Command::new(bin())
            .args(["serve", "--data-dir"])
            .arg(self.dir.path())
            .args([
                "--imap",
                &self.imap.to_string(),
                "--imaps",
                &self.imaps.to_string(),
            ])
            .args(&extra)
            .env("TIDEMARK_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tidemark serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let _ = tx.send(rest.to_string());
                } else if line.contains("WARN") || line.contains("ERROR") {
                    eprintln!("server: {line}");
                }
            }
        });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        let (mut imap, mut imaps) = (None, None);
        // Other listeners named in the extra arguments must report too.
        let mut others: Vec<String> = extra
            .windows(2)
            .filter(|w| w[0].starts_with("--") && w[1].parse::<SocketAddr>().is_ok())
            .map(|w| w[0].trim_start_matches("--").to_string())
            .collect();
        while imap.is_none() || imaps.is_none() || !others.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .expect("server did not report its listeners within 30 s");
            let mut parts = line.split_whitespace();
            let addr: SocketAddr = parts
                .next()
                .and_then(|a| a.parse().ok())
                .expect("listen address");
            let name = parts.next().unwrap_or("").trim_matches(['(', ')']);
            match name {
                "imap" => imap = Some(addr),
                "imaps" => imaps = Some(addr),
                _ => {}
            }
            others.retain(|o| o != name);
            self.listeners.insert(name.to_string(), addr);
        }
        self.imap = imap.expect("imap address");
        self.imaps = imaps.expect("imaps address");
        wait_for_port(self.imap, Duration::from_secs(30));
    }

    /// The server's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// SIGTERM, then waits (at most `limit`) for the process to exit;
    /// its exit status, or `None` if it was still running at `limit`
    /// (then it is killed).
    pub fn terminate(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let pid = self.pid()?;
        let st = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(st.success(), "kill -TERM failed");
        self.wait_exit(limit)
    }

    /// Waits (at most `limit`) for the process to exit by itself; its exit
    /// status, or `None` if it still ran at `limit` (then it is killed).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    /// kill -9.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Adds a user through the CLI.
pub fn add_user(dir: &Path, name: &str, password: &str) {
    let mut child = Command::new(bin())
        .args(["user", "add", name, "--data-dir"])
        .arg(dir)
        .arg("--password-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn tidemark user add");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write password");
    let status = child.wait().expect("wait user add");
    assert!(status.success(), "tidemark user add failed");
}

/// Frees a port for a program that needs a fixed one (nginx, Postfix).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Waits until something listens on `addr` (bounded).
pub fn wait_for_port(addr: SocketAddr, limit: Duration) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server did not listen on {addr} within {limit:?}");
}

/// The repository root (for test data).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A minimal raw IMAP client for tests (blocking, loopback).
pub struct Client {
    reader: std::io::BufReader<std::net::TcpStream>,
    writer: std::net::TcpStream,
    next: u32,
}

impl Client {
    /// Connects and reads the greeting.
    pub fn connect(addr: SocketAddr) -> std::io::Result<Client> {
        let s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut c = Client {
            reader: std::io::BufReader::new(s.try_clone()?),
            writer: s,
            next: 1,
        };
        let greeting = c.read_response()?;
        if !greeting.starts_with(b"* OK") {
            return Err(std::io::Error::other("bad greeting"));
        }
        Ok(c)
    }

    /// Connects and logs in.
    pub fn login(addr: SocketAddr, user: &str, pass: &str) -> std::io::Result<Client> {
        let mut c = Client::connect(addr)?;
        let (ok, _) = c.cmd(&format!("LOGIN {user} {pass}"))?;
        if !ok {
            return Err(std::io::Error::other("login failed"));
        }
        Ok(c)
    }

    /// Reads one response with its literals inlined (raw bytes).
    pub fn read_response(&mut self) -> std::io::Result<Vec<u8>> {
        use std::io::{BufRead, Read};
        let mut out = Vec::new();
        loop {
            let mut line = Vec::new();
            let n = self.reader.read_until(b'\n', &mut line)?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "closed",
                ));
            }
            out.extend_from_slice(&line);
            let trimmed = line.strip_suffix(b"\r\n").unwrap_or(&line);
            if let Some(rest) = trimmed.strip_suffix(b"}")
                && let Some(open) = rest.iter().rposition(|b| *b == b'{')
                && let Ok(len) = std::str::from_utf8(&rest[open + 1..])
                    .unwrap_or("x")
                    .parse::<usize>()
            {
                let mut buf = vec![0u8; len];
                self.reader.read_exact(&mut buf)?;
                out.extend_from_slice(&buf);
                continue;
            }
            return Ok(out);
        }
    }

    /// Sends a command (tag added) and collects responses until the tagged
    /// one. Returns (tagged OK?, all responses including the tagged one).
    pub fn cmd(&mut self, command: &str) -> std::io::Result<(bool, Vec<Vec<u8>>)> {
        self.cmd_bytes(command.as_bytes())
    }

    /// Like [`Client::cmd`] with raw bytes (may contain `{n+}` literals).
    pub fn cmd_bytes(&mut self, command: &[u8]) -> std::io::Result<(bool, Vec<Vec<u8>>)> {
        let tag = format!("t{}", self.next);
        self.next += 1;
        let mut line = tag.as_bytes().to_vec();
        line.push(b' ');
        line.extend_from_slice(command);
        line.extend_from_slice(b"\r\n");
        self.writer.write_all(&line)?;
        let mut all = Vec::new();
        loop {
            let r = self.read_response()?;
            let done = r.starts_with(format!("{tag} ").as_bytes());
            let ok = r.starts_with(format!("{tag} OK").as_bytes());
            all.push(r);
            if done {
                return Ok((ok, all));
            }
        }
    }

    /// Sends raw bytes (part of a literal) without waiting.
    pub fn write_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.writer.write_all(bytes)?;
        self.writer.flush()
    }

    /// Sends one line (CRLF added) without waiting for an answer (IDLE,
    /// DONE).
    pub fn send_line(&mut self, line: &str) -> std::io::Result<()> {
        self.writer.write_all(line.as_bytes())?;
        self.writer.write_all(b"\r\n")
    }

    /// The tag the next [`Client::cmd`] uses; `send_line` callers take one
    /// with this.
    pub fn take_tag(&mut self) -> String {
        let tag = format!("t{}", self.next);
        self.next += 1;
        tag
    }

    /// Reads one response, or `None` when none starts within `wait`.
    pub fn read_within(&mut self, wait: Duration) -> std::io::Result<Option<Vec<u8>>> {
        use std::io::BufRead;
        self.writer.set_read_timeout(Some(wait))?;
        let ready = match self.reader.fill_buf() {
            Ok(b) => !b.is_empty(),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                false
            }
            Err(e) => return Err(e),
        };
        self.writer
            .set_read_timeout(Some(Duration::from_secs(30)))?;
        if ready {
            self.read_response().map(Some)
        } else {
            Ok(None)
        }
    }

    /// APPEND with LITERAL+; returns the APPENDUID uid on success.
    pub fn append(&mut self, mailbox: &str, data: &[u8]) -> std::io::Result<Option<u32>> {
        let mut c = format!("APPEND {mailbox} {{{}+}}\r\n", data.len()).into_bytes();
        c.extend_from_slice(data);
        let (ok, resp) = self.cmd_bytes(&c)?;
        if !ok {
            return Ok(None);
        }
        let last =
            String::from_utf8_lossy(resp.last().map(|v| v.as_slice()).unwrap_or(b"")).to_string();
        let uid = last
            .split("[APPENDUID ")
            .nth(1)
            .and_then(|r| r.split(']').next())
            .and_then(|r| r.split(' ').nth(1))
            .and_then(|u| u.parse().ok());
        Ok(uid)
    }
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// In CI every client must be there (.ci/run installs them); elsewhere a
/// missing tool is reported loudly and the test skipped.
pub fn require(tool: &str) -> bool {
    if have(tool) {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{tool} is not installed, but CI must have it (see .ci/run)");
    }
    eprintln!("SKIPPED: {tool} is not installed");
    false
}

/// Runs `tests/clients/<script>` with python3 and `args`, and expects it to
/// succeed and print `marker`. The scripts bound every client run with a
/// subprocess timeout.
pub fn run_script(script: &str, args: &[String], marker: &str) {
    let (ok, text) = script_output(script, args);
    assert!(ok, "{script} failed:\n{text}");
    assert!(text.contains(marker), "{text}");
}

/// Runs `tests/clients/<script>` with python3 and `args`: whether it
/// succeeded, and its stdout then stderr.
pub fn script_output(script: &str, args: &[String]) -> (bool, String) {
    let out = Command::new("python3")
        .arg(repo_root().join("tests/clients").join(script))
        .args(args)
        .output()
        .expect("run python3");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Runs `tests/clients/<script>` against a fresh server with the arguments
/// `TLS_PORT PLAIN_PORT CAFILE WORKDIR` and expects `marker` in its output.
pub fn run_client_script(script: &str, marker: &str) {
    let server = TestServer::start();
    let work = tempfile::tempdir().expect("tempdir");
    let cert = server.data_dir().join("tls/cert.pem");
    let args = [
        server.imaps.port().to_string(),
        server.imap.port().to_string(),
        cert.to_string_lossy().to_string(),
        work.path().to_string_lossy().to_string(),
    ];
    run_script(script, &args, marker);
}

/// An HTTP answer: status code, headers (names lower-cased), body.
pub struct HttpAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpAnswer {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `GET path` over HTTP/1.0 with extra request headers (bounded waits).
pub fn http_get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> HttpAnswer {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .expect("connect to the HTTP listener");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("send the request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the answer");
    let text = String::from_utf8(raw).expect("UTF-8 answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("header end");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    HttpAnswer {
        status,
        headers,
        body: body.to_string(),
    }
}

/// The value of the Prometheus sample `series` (name with its labels, as
/// printed, e.g. `tidemark_users_online` or
/// `tidemark_auth_failures_total{mechanism="LOGIN"}`), if present.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(series)?;
        if !rest.starts_with(' ') {
            return None;
        }
        rest.split_whitespace().next()?.parse().ok()
    })
}
