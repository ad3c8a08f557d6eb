//! Session-level tests of the plaintext rules (RFC 9051 6.2.3, 11.1):
//! what is advertised must match what is accepted, for a non-loopback peer
//! without TLS, with TLS, and with `allow_plaintext_auth`. Driven in-process
//! (no socket), since tests may only use loopback addresses.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tidemark_imap_server::{ConnInfo, Outcome, ServerContext, Session, SessionConfig, password};
use tidemark_store::Store;
use tidemark_store_sqlite::SqliteStore;

async fn context(dir: &std::path::Path, allow_plaintext: bool) -> Arc<ServerContext> {
    let store = SqliteStore::open(dir).expect("open store");
    let phc = password::hash_password("pass").expect("hash");
    store.create_account("alice", &phc).await.expect("account");
    let config = SessionConfig {
        allow_plaintext_auth: allow_plaintext,
        auth_failure_delay: Duration::from_millis(1),
        ..SessionConfig::default()
    };
    Arc::new(ServerContext::new(Arc::new(store), config))
}

fn peer(remote: bool) -> SocketAddr {
    if remote {
        // TEST-NET-1 (RFC 5737): never contacted, only used as a label.
        "192.0.2.10:40000".parse().expect("addr")
    } else {
        "127.0.0.1:40000".parse().expect("addr")
    }
}

async fn talk(s: &mut Session, input: &str) -> String {
    let (out, outcome) = s.handle_input(input.as_bytes()).await;
    assert_ne!(outcome, Outcome::Close);
    String::from_utf8(out).expect("utf8")
}

#[tokio::test]
async fn remote_plaintext_is_refused_and_advertised_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = context(dir.path(), false).await;
    let mut s = Session::new(ctx, ConnInfo::new(peer(true), false));
    let greeting = String::from_utf8(s.greeting()).expect("utf8");
    assert!(greeting.contains("LOGINDISABLED"), "{greeting}");
    assert!(greeting.contains("STARTTLS"), "{greeting}");
    assert!(!greeting.contains("AUTH=PLAIN"), "{greeting}");
    let out = talk(&mut s, "a1 LOGIN alice pass\r\n").await;
    assert!(out.starts_with("a1 NO [PRIVACYREQUIRED]"), "{out}");
    let out = talk(&mut s, "a2 AUTHENTICATE PLAIN AGFsaWNlAHBhc3M=\r\n").await;
    assert!(out.starts_with("a2 NO [PRIVACYREQUIRED]"), "{out}");
    // STARTTLS is offered and accepted; afterwards authentication works.
    let (out, outcome) = s.handle_input(b"a3 STARTTLS\r\n").await;
    assert_eq!(outcome, Outcome::StartTls);
    assert!(String::from_utf8_lossy(&out).starts_with("a3 OK"));
    s.tls_started(None);
    let out = talk(&mut s, "a4 CAPABILITY\r\n").await;
    assert!(
        out.contains("AUTH=PLAIN") && !out.contains("LOGINDISABLED"),
        "{out}"
    );
    assert!(!out.contains("STARTTLS"), "{out}");
    let out = talk(&mut s, "a5 LOGIN alice pass\r\n").await;
    assert!(out.starts_with("a5 OK"), "{out}");
}

#[tokio::test]
async fn plaintext_injection_before_tls_is_discarded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = context(dir.path(), false).await;
    let mut s = Session::new(ctx, ConnInfo::new(peer(true), false));
    s.greeting();
    // A command pipelined behind STARTTLS must not run after the handshake.
    let (out, outcome) = s
        .handle_input(b"a1 STARTTLS\r\na2 LOGIN alice pass\r\n")
        .await;
    assert_eq!(outcome, Outcome::StartTls);
    assert!(!String::from_utf8_lossy(&out).contains("a2"));
    s.tls_started(None);
    let out = talk(&mut s, "a3 NOOP\r\n").await;
    assert!(!out.contains("a2"), "{out}");
    assert!(out.starts_with("a3 OK"), "{out}");
}

#[tokio::test]
async fn configured_plaintext_and_loopback_are_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = context(dir.path(), true).await;
    let mut s = Session::new(ctx.clone(), ConnInfo::new(peer(true), false));
    let greeting = String::from_utf8(s.greeting()).expect("utf8");
    assert!(greeting.contains("AUTH=PLAIN") && !greeting.contains("LOGINDISABLED"));
    let out = talk(&mut s, "a1 LOGIN alice pass\r\n").await;
    assert!(out.starts_with("a1 OK"), "{out}");

    let dir2 = tempfile::tempdir().expect("tempdir");
    let ctx = context(dir2.path(), false).await;
    let mut s = Session::new(ctx, ConnInfo::new(peer(false), false));
    s.greeting();
    let out = talk(&mut s, "a1 LOGIN alice wrong\r\n").await;
    assert!(out.starts_with("a1 NO [AUTHENTICATIONFAILED]"), "{out}");
    let out = talk(&mut s, "a2 LOGIN bob pass\r\n").await;
    assert!(out.starts_with("a2 NO [AUTHENTICATIONFAILED]"), "{out}");
    let out = talk(&mut s, "a3 LOGIN alice pass\r\n").await;
    assert!(out.starts_with("a3 OK"), "{out}");
}
