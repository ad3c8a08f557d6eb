//! CLI contract tests against the built binary: `user` round trip, config
//! errors, `serve` start-up (first start, TLS, SIGHUP, SIGTERM).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod password {
    /// Checks a stored credential's argon2id line (what LOGIN will do).
    pub fn verify_password(credential: &str, pw: &str) -> bool {
        use argon2::{Argon2, PasswordVerifier};
        let phc = credential.lines().next().unwrap_or("");
        Argon2::default()
            .verify_password(pw.as_bytes(), phc)
            .is_ok()
    }
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tidemark")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind :0")
}

/// Runs the binary to completion (bounded), feeding `stdin`.
fn run(args: &[&str], dir: &Path, stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args).arg("--data-dir").arg(dir);
    run_cmd(cmd, stdin)
}

fn run_cmd(mut cmd: Command, stdin: Option<&str>) -> Output {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .env("TIDEMARK_LOG", "warn");
    let mut child = Killer(cmd.spawn().expect("spawn tidemark"));
    if let Some(s) = stdin {
        let mut w = child.0.stdin.take().expect("stdin");
        w.write_all(s.as_bytes()).expect("write stdin");
    }
    let start = Instant::now();
    loop {
        if child.0.try_wait().expect("try_wait").is_some() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "tidemark did not exit in time"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut out = Vec::new();
    let mut err = Vec::new();
    child
        .0
        .stdout
        .take()
        .expect("stdout")
        .read_to_end(&mut out)
        .expect("read stdout");
    child
        .0
        .stderr
        .take()
        .expect("stderr")
        .read_to_end(&mut err)
        .expect("read stderr");
    let status = child.0.wait().expect("wait");
    Output {
        status,
        stdout: out,
        stderr: err,
    }
}

/// Kills the child on drop: no leaked processes even when a test fails.
struct Killer(Child);

impl Drop for Killer {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn stored_credential(dir: &Path, name: &str) -> Option<String> {
    use tidemark_store::Store;
    let store = tidemark_store_sqlite::SqliteStore::open(&dir.join("store")).expect("open store");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(store.credential(name)).expect("credential")
}

#[test]
fn user_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");

    // No data directory yet: list/del/passwd say so; add creates it.
    let o = run(&["user", "list"], &dir, None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("no data directory"),
        "{}",
        text(&o.stderr)
    );
    assert!(!dir.exists());

    let o = run(
        &["user", "add", "alice", "--password-stdin"],
        &dir,
        Some("first pw\n"),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let o = run(
        &["user", "add", "bob", "--password-stdin"],
        &dir,
        Some("bobpw\r\n"),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));

    let o = run(&["user", "list"], &dir, None);
    assert_eq!(text(&o.stdout), "alice\nbob\n");

    let phc = stored_credential(&dir, "alice").expect("alice exists");
    assert!(phc.starts_with("$argon2id$"), "{phc}");
    assert!(password::verify_password(&phc, "first pw"));
    assert!(password::verify_password(
        &stored_credential(&dir, "bob").unwrap(),
        "bobpw"
    ));

    // Duplicate.
    let o = run(
        &["user", "add", "alice", "--password-stdin"],
        &dir,
        Some("x\n"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("already exists"),
        "{}",
        text(&o.stderr)
    );

    // Change the password.
    let o = run(
        &["user", "passwd", "alice", "--password-stdin"],
        &dir,
        Some("second pw\n"),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let phc2 = stored_credential(&dir, "alice").unwrap();
    assert!(password::verify_password(&phc2, "second pw"));
    assert!(!password::verify_password(&phc2, "first pw"));

    // Errors.
    let o = run(
        &["user", "passwd", "nobody", "--password-stdin"],
        &dir,
        Some("x\n"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("no such account"),
        "{}",
        text(&o.stderr)
    );
    let o = run(
        &["user", "add", "carol", "--password-stdin"],
        &dir,
        Some("\n"),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("empty password"),
        "{}",
        text(&o.stderr)
    );
    let o = run(
        &["user", "add", "carol", "--password-stdin"],
        &dir,
        Some(""),
    );
    assert_eq!(o.status.code(), Some(2));
    let o = run(
        &["user", "add", "car ol", "--password-stdin"],
        &dir,
        Some("x\n"),
    );
    assert_eq!(o.status.code(), Some(2));

    // Delete.
    let o = run(&["user", "del", "bob"], &dir, None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = run(&["user", "list"], &dir, None);
    assert_eq!(text(&o.stdout), "alice\n");
    assert_eq!(stored_credential(&dir, "bob"), None);
    let o = run(&["user", "del", "bob"], &dir, None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("no such account"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn bad_cli_and_config() {
    let tmp = tempfile::tempdir().unwrap();
    // clap errors exit 2.
    let o = run_cmd(
        {
            let mut c = Command::new(bin());
            c.args(["serve", "--no-such-flag"]);
            c
        },
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let o = run_cmd(
        {
            let mut c = Command::new(bin());
            c.args(["user", "add"]);
            c
        },
        None,
    );
    assert_eq!(o.status.code(), Some(2));

    // Unknown key in --config.
    let cfg = tmp.path().join("t.toml");
    std::fs::write(&cfg, "[limits]\nmax_lines = 5\n").unwrap();
    let mut c = Command::new(bin());
    c.args(["serve", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(tmp.path().join("d"));
    let o = run_cmd(c, None);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("max_lines") && err.contains("t.toml"), "{err}");
    assert!(err.contains("line 2"), "the error names the line: {err}");
    assert!(
        !tmp.path().join("d").exists(),
        "nothing created on a config error"
    );

    // A value out of range names the file and line; an environment
    // override names its variable, and wins over the file.
    std::fs::write(&cfg, "hostname = \"a.example\"\n\n[limits]\nmax_line = 5\n").unwrap();
    let serve_cfg = |env: &[(&str, &str)]| {
        let mut c = Command::new(bin());
        c.args(["serve", "--config"])
            .arg(&cfg)
            .arg("--data-dir")
            .arg(tmp.path().join("d"));
        for (k, v) in env {
            c.env(k, v);
        }
        run_cmd(c, None)
    };
    let o = serve_cfg(&[]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("t.toml line 4 ([limits] max_line)"), "{err}");
    let o = serve_cfg(&[("TIDEMARK__LIMITS__MAX_LINE", "3")]);
    let err = text(&o.stderr);
    assert!(
        err.contains("environment variable TIDEMARK__LIMITS__MAX_LINE ([limits] max_line)"),
        "{err}"
    );
    let o = serve_cfg(&[("TIDEMARK__LIMITS__MAX_LINES", "3000")]);
    let err = text(&o.stderr);
    assert!(
        err.contains("TIDEMARK__LIMITS__MAX_LINES") && err.contains("max_lines"),
        "{err}"
    );
    assert_eq!(o.status.code(), Some(2));

    // Unknown key in DATA_DIR/tidemark.toml, for `user list` too.
    let dd = tmp.path().join("dd");
    std::fs::create_dir(&dd).unwrap();
    std::fs::write(dd.join("tidemark.toml"), "hostnmae = \"x\"\n").unwrap();
    let o = run(&["user", "list"], &dd, None);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("hostnmae"), "{}", text(&o.stderr));

    // Bad listen address.
    let o = run(
        &["serve", "--imap", "localhost"],
        &tmp.path().join("d2"),
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("localhost"), "{}", text(&o.stderr));
}

#[test]
fn port_in_use() {
    let tmp = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let imaps = format!("127.0.0.1:{}", free_port());
    let o = run(
        &["serve", "--imap", &addr, "--imaps", &imaps],
        tmp.path(),
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("cannot listen on") && err.contains(&addr),
        "{err}"
    );
}

/// A running `serve` whose output is collected in the background.
struct Server {
    child: Killer,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn start(dir: &Path, imap: SocketAddr, imaps: SocketAddr) -> Server {
        let mut child = Killer(
            Command::new(bin())
                .args(["serve", "--data-dir"])
                .arg(dir)
                .args(["--imap", &imap.to_string(), "--imaps", &imaps.to_string()])
                .env("TIDEMARK_LOG", "info")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn serve"),
        );
        let collect = |r: Box<dyn Read + Send>| {
            let buf = Arc::new(Mutex::new(String::new()));
            let b = buf.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(r).lines() {
                    let Ok(line) = line else { break };
                    let mut b = b.lock().unwrap();
                    b.push_str(&line);
                    b.push('\n');
                }
            });
            buf
        };
        let stdout = collect(Box::new(child.0.stdout.take().unwrap()));
        let stderr = collect(Box::new(child.0.stderr.take().unwrap()));
        let s = Server {
            child,
            stdout,
            stderr,
        };
        s.wait_log(&format!("listening on {imaps}"));
        s
    }

    fn wait_log(&self, needle: &str) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if self.stderr.lock().unwrap().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no {needle:?} in the log:\n{}", self.stderr.lock().unwrap());
    }

    fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .args([sig, &self.child.0.id().to_string()])
            .status()
            .expect("run kill");
        assert!(st.success());
    }

    /// SIGTERM, then a bounded wait for a clean exit.
    fn stop(mut self) {
        self.signal("-TERM");
        let start = Instant::now();
        loop {
            if let Some(st) = self.child.0.try_wait().unwrap() {
                assert!(
                    st.success(),
                    "exit status {st}; log:\n{}",
                    self.stderr.lock().unwrap()
                );
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "serve did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.wait_log("stopped");
    }
}

/// Handshakes with the IMAPS port, trusting only `cert`.
fn tls_handshake(addr: SocketAddr, cert: &Path, name: &str) -> Result<(), String> {
    use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(cert).map_err(|e| e.to_string())? {
        roots
            .add(c.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"imap".to_vec()];
    let mut conn = rustls::ClientConnection::new(
        Arc::new(cfg),
        ServerName::try_from(name.to_owned()).unwrap(),
    )
    .map_err(|e| e.to_string())?;
    let mut sock =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| e.to_string())?;
    }
    if conn.alpn_protocol() != Some(b"imap") {
        return Err("ALPN imap not negotiated".into());
    }
    Ok(())
}

#[test]
fn serve_first_start_tls_reload_and_stop() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let imap = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let imaps = SocketAddr::from(([127, 0, 0, 1], free_port()));

    let s = Server::start(&dir, imap, imaps);
    s.wait_log(&format!("listening on {imap}"));
    let out = s.stdout.lock().unwrap().clone();
    let cert = dir.join("tls/cert.pem");
    let key = dir.join("tls/key.pem");
    assert!(out.contains("first start"), "{out}");
    assert!(out.contains(&cert.display().to_string()), "{out}");
    assert!(out.contains("tidemark user add alice"), "{out}");
    assert!(out.contains(&format!("imaps://{imaps}/")), "{out}");
    assert!(cert.is_file() && key.is_file());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );

    tls_handshake(imaps, &cert, "localhost").unwrap();
    tls_handshake(imaps, &cert, "127.0.0.1").unwrap();
    // The plain port accepts connections.
    TcpStream::connect_timeout(&imap, Duration::from_secs(5)).unwrap();

    // SIGHUP reloads the certificate from disk.
    s.signal("-HUP");
    s.wait_log("TLS certificate reloaded");
    tls_handshake(imaps, &cert, "localhost").unwrap();
    s.stop();

    // Second start: no first-start text, same certificate.
    let cert_bytes = std::fs::read(&cert).unwrap();
    let s = Server::start(&dir, imap, imaps);
    assert!(!s.stdout.lock().unwrap().contains("first start"));
    assert!(
        s.stderr.lock().unwrap().contains("no accounts yet"),
        "{}",
        s.stderr.lock().unwrap()
    );
    assert_eq!(std::fs::read(&cert).unwrap(), cert_bytes);
    tls_handshake(imaps, &cert, "localhost").unwrap();
    s.stop();
}

#[test]
fn mailbox_admin_while_the_server_runs() {
    let server = common::TestServer::start();
    let dir = server.data_dir();
    let o = run(
        &[
            "mailbox",
            "create",
            "--user",
            "alice",
            "Lists/rust",
            "--special-use",
            "Archive",
        ],
        dir,
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = run(&["mailbox", "list", "--user", "alice"], dir, None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let line = out
        .lines()
        .find(|l| l.starts_with("Lists/rust "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.ends_with("\\Archive"), "{line}");
    assert!(out.lines().any(|l| l.starts_with("INBOX ")), "{out}");

    // The running server's sessions see it.
    let mut c = common::Client::login(server.imap, "alice", "pass").unwrap();
    let (ok, r) = c.cmd("LIST \"\" \"Lists/*\"").unwrap();
    assert!(ok);
    assert!(text(&r.concat()).contains("\"Lists/rust\""), "{r:?}");
    let (ok, _) = c.cmd("APPEND Lists/rust {5+}\r\nhello").unwrap();
    assert!(ok);
    let o = run(&["mailbox", "list", "--user", "alice"], dir, None);
    let out = text(&o.stdout);
    let line = out.lines().find(|l| l.starts_with("Lists/rust ")).unwrap();
    assert_eq!(line.split_whitespace().nth(1), Some("1"), "{line}");

    let o = run(
        &["mailbox", "delete", "--user", "alice", "Lists/rust"],
        dir,
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let (ok, r) = c.cmd("LIST \"\" \"Lists/*\"").unwrap();
    assert!(ok);
    assert!(!text(&r.concat()).contains("\"Lists/rust\""), "{r:?}");

    // Errors are clear and exit non-zero.
    for (args, needle) in [
        (
            &["mailbox", "delete", "--user", "alice", "INBOX"][..],
            "INBOX",
        ),
        (
            &["mailbox", "list", "--user", "nobody"][..],
            "no such account",
        ),
        (
            &[
                "mailbox",
                "create",
                "--user",
                "alice",
                "X",
                "--special-use",
                "Bogus",
            ][..],
            "Bogus",
        ),
    ] {
        let o = run(args, dir, None);
        assert!(!o.status.success(), "{args:?}");
        assert!(
            text(&o.stderr).contains(needle),
            "{args:?}: {}",
            text(&o.stderr)
        );
    }
}
