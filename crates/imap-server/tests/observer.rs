//! The `SessionObserver` hook: every command is reported once, when its
//! tagged answer is sent, with its name and result; failed authentications
//! with their mechanism; logins and logouts per account. Driven in-process.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tidemark_imap_server::{
    CommandResult, ConnInfo, ServerContext, Session, SessionConfig, SessionObserver, password,
};
use tidemark_store::Store;
use tidemark_store_sqlite::SqliteStore;

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Recorder {
    fn push(&self, s: String) {
        self.0.lock().unwrap().push(s);
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

impl SessionObserver for Recorder {
    fn command(&self, name: &str, result: CommandResult, elapsed: Duration) {
        assert!(elapsed < Duration::from_secs(30));
        self.push(format!("{name} {}", result.as_str()));
    }
    fn auth_failed(&self, mechanism: &str) {
        self.push(format!("auth_failed {mechanism}"));
    }
    fn logged_in(&self, user: &str) {
        self.push(format!("in {user}"));
    }
    fn logged_out(&self, user: &str) {
        self.push(format!("out {user}"));
    }
}

async fn talk(s: &mut Session, input: &str) -> String {
    String::from_utf8(s.handle_input(input.as_bytes()).await.0).expect("utf8")
}

#[tokio::test]
async fn observer_sees_commands_auth_and_logins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path()).expect("open store");
    let phc = password::make_credential("pass").expect("hash");
    store.create_account("alice", &phc).await.expect("account");
    let config = SessionConfig {
        auth_failure_delay: Duration::from_millis(1),
        ..SessionConfig::default()
    };
    let mut ctx = ServerContext::new(Arc::new(store), config);
    let rec = Arc::new(Recorder::default());
    ctx.observer = Some(rec.clone());
    let ctx = Arc::new(ctx);
    let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();

    let mut s = Session::new(ctx.clone(), ConnInfo::new(peer, false));
    s.greeting();
    talk(&mut s, "a1 LOGIN alice wrong\r\n").await;
    // base64("\0alice\0nope")
    talk(&mut s, "a2 AUTHENTICATE PLAIN AGFsaWNlAG5vcGU=\r\n").await;
    talk(&mut s, "a3 SELECT INBOX\r\n").await;
    assert_eq!(
        rec.take(),
        [
            "auth_failed LOGIN",
            "LOGIN no",
            "auth_failed PLAIN",
            "AUTHENTICATE no",
            "SELECT bad"
        ]
    );
    // Two-step AUTHENTICATE is reported when it ends; then a login.
    let out = talk(&mut s, "a4 AUTHENTICATE PLAIN\r\n").await;
    assert!(out.starts_with('+'), "{out}");
    assert!(rec.take().is_empty(), "not finished yet");
    talk(&mut s, "AGFsaWNlAHBhc3M=\r\n").await;
    assert_eq!(rec.take(), ["in alice", "AUTHENTICATE ok"]);
    talk(&mut s, "a5 SELECT INBOX\r\na6 FROB\r\n").await;
    assert_eq!(rec.take(), ["SELECT ok", "INVALID bad"]);
    // IDLE counts when DONE arrives.
    let out = talk(&mut s, "a7 IDLE\r\n").await;
    assert!(out.starts_with('+'), "{out}");
    assert!(rec.take().is_empty());
    talk(&mut s, "DONE\r\n").await;
    assert_eq!(rec.take(), ["IDLE ok"]);
    // A second session of the same account, then both end.
    let mut t = Session::new(ctx.clone(), ConnInfo::new(peer, false));
    talk(&mut t, "b1 LOGIN alice pass\r\n").await;
    assert_eq!(rec.take(), ["in alice", "LOGIN ok"]);
    talk(&mut s, "a8 LOGOUT\r\n").await;
    drop(s);
    assert_eq!(rec.take(), ["LOGOUT ok", "out alice"]);
    drop(t);
    assert_eq!(rec.take(), ["out alice"]);

    // The proxy check (nginx auth_http) shares LOGIN's code and reports.
    let ip = "192.0.2.1".parse().unwrap();
    assert!(ctx.check_login(ip, "alice", "pass", "auth_http").await);
    assert!(!ctx.check_login(ip, "alice", "bad", "auth_http").await);
    assert!(!ctx.check_login(ip, "", "bad", "auth_http").await);
    assert_eq!(
        rec.take(),
        ["auth_failed auth_http", "auth_failed auth_http"]
    );
}
