//! SASL over the real server: SCRAM-SHA-256 with an independent client
//! (Perl's Authen::SCRAM), SCRAM-SHA-256-PLUS over TLS 1.3 with the
//! `tls-exporter` binding computed by a rustls client, downgrade and
//! binding mismatches, unknown users answered like wrong passwords, and
//! OAUTHBEARER / XOAUTH2 (Python imaplib) with tokens the test signs.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::{TestServer, repo_root, require};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

fn perl(server: &TestServer, user: &str, pass: &str) -> String {
    let out = Command::new("perl")
        .arg(repo_root().join("tests/clients/scram_perl.pl"))
        .args([&server.imap.port().to_string(), user, pass])
        .output()
        .expect("run perl");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn scram_sha256_with_an_independent_client() {
    if !require("perl") {
        return;
    }
    let have_module = Command::new("perl")
        .args(["-MAuthen::SCRAM::Client", "-e", "1"])
        .status()
        .is_ok_and(|s| s.success());
    if !have_module {
        assert!(
            std::env::var_os("CI").is_none(),
            "libauthen-scram-perl must be installed in CI (.ci/run)"
        );
        eprintln!("SKIPPED: Authen::SCRAM::Client is not installed");
        return;
    }
    let server = TestServer::start();
    let ok = perl(&server, "alice", "pass");
    assert!(ok.contains("server signature valid"), "{ok}");
    assert!(ok.contains("a1 OK [CAPABILITY"), "{ok}");
    let wrong = perl(&server, "alice", "wrong");
    assert!(wrong.contains("a1 NO [AUTHENTICATIONFAILED]"), "{wrong}");
    // An unknown user gets a challenge of the same shape, then the same NO.
    let unknown = perl(&server, "nobody", "wrong");
    assert!(
        unknown.contains("a1 NO [AUTHENTICATIONFAILED]"),
        "{unknown}"
    );
    let challenge = |out: &str| {
        let line = out
            .lines()
            .find(|l| l.starts_with("S: + "))
            .expect("challenge")
            .to_string();
        let raw = B64
            .decode(line.trim_start_matches("S: + ").trim())
            .expect("base64");
        String::from_utf8(raw).expect("utf8")
    };
    let (real, decoy) = (challenge(&wrong), challenge(&unknown));
    let shape = |s: &str| {
        let salt = s
            .split(',')
            .find_map(|a| a.strip_prefix("s="))
            .expect("salt")
            .to_string();
        let iters = s
            .split(',')
            .find_map(|a| a.strip_prefix("i="))
            .expect("i")
            .to_string();
        (salt.len(), iters)
    };
    assert_eq!(shape(&real), shape(&decoy), "{real} vs {decoy}");
    // The decoy salt is stable, as a real user's is.
    let again = challenge(&perl(&server, "nobody", "other"));
    assert_eq!(
        decoy.split(",s=").nth(1).map(|s| s.split(',').next()),
        again.split(",s=").nth(1).map(|s| s.split(',').next())
    );
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

fn tls_connect(server: &TestServer) -> BufReader<Tls> {
    use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    let cert = server.data_dir().join("tls/cert.pem");
    for c in CertificateDer::pem_file_iter(&cert).expect("cert") {
        roots.add(c.expect("cert")).expect("root");
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("tls13")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn = rustls::ClientConnection::new(
        Arc::new(cfg),
        ServerName::try_from("localhost").expect("name"),
    )
    .expect("client");
    let sock = TcpStream::connect(server.imaps).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut r = BufReader::new(rustls::StreamOwned::new(conn, sock));
    let greeting = line(&mut r);
    assert!(greeting.starts_with("* OK"), "{greeting}");
    r
}

fn line(r: &mut BufReader<Tls>) -> String {
    let mut l = String::new();
    r.read_line(&mut l).expect("read");
    l.trim_end().to_string()
}

fn send(r: &mut BufReader<Tls>, s: &str) {
    r.get_mut()
        .write_all(format!("{s}\r\n").as_bytes())
        .expect("write");
}

fn exporter(r: &BufReader<Tls>) -> Vec<u8> {
    r.get_ref()
        .conn
        .export_keying_material(vec![0u8; 32], b"EXPORTER-Channel-Binding", Some(&[]))
        .expect("export")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("key");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// One SCRAM-SHA-256-PLUS exchange; `tamper` flips a bit of the binding
/// data the client sends. Returns the tagged line.
fn scram_plus(r: &mut BufReader<Tls>, tag: &str, pass: &str, tamper: bool) -> String {
    let mut cb = exporter(r);
    if tamper {
        cb[0] ^= 1;
    }
    let header = "p=tls-exporter,,";
    let bare = "n=alice,r=fyko+d2lbbFgONRv9qkxdawL";
    send(
        r,
        &format!(
            "{tag} AUTHENTICATE SCRAM-SHA-256-PLUS {}",
            B64.encode(format!("{header}{bare}"))
        ),
    );
    let challenge = line(r);
    let server_first = String::from_utf8(
        B64.decode(challenge.strip_prefix("+ ").expect("challenge"))
            .expect("b64"),
    )
    .expect("utf8");
    let attr = |k: &str| {
        server_first
            .split(',')
            .find_map(|a| a.strip_prefix(k))
            .expect(k)
            .to_string()
    };
    let (nonce, salt, iters) = (
        attr("r="),
        B64.decode(attr("s=")).expect("salt"),
        attr("i="),
    );
    let mut salted = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(
        pass.as_bytes(),
        &salt,
        iters.parse().expect("i"),
        &mut salted,
    );
    let client_key = hmac(&salted, b"Client Key");
    let stored_key = Sha256::digest(&client_key);
    let mut c = header.as_bytes().to_vec();
    c.extend_from_slice(&cb);
    let without_proof = format!("c={},r={nonce}", B64.encode(&c));
    let auth = format!("{bare},{server_first},{without_proof}");
    let sig = hmac(&stored_key, auth.as_bytes());
    let proof: Vec<u8> = client_key.iter().zip(&sig).map(|(a, b)| a ^ b).collect();
    send(
        r,
        &B64.encode(format!("{without_proof},p={}", B64.encode(proof))),
    );
    let answer = line(r);
    let Some(v) = answer.strip_prefix("+ ") else {
        return answer;
    };
    let server_final = String::from_utf8(B64.decode(v).expect("b64")).expect("utf8");
    let server_key = hmac(&salted, b"Server Key");
    assert_eq!(
        server_final,
        format!("v={}", B64.encode(hmac(&server_key, auth.as_bytes()))),
        "server signature"
    );
    send(r, "");
    line(r)
}

#[test]
fn scram_plus_binds_to_the_tls_channel() {
    let server = TestServer::start();
    let mut r = tls_connect(&server);
    send(&mut r, "c1 CAPABILITY");
    let caps = line(&mut r);
    assert!(
        caps.contains("AUTH=SCRAM-SHA-256-PLUS") && caps.contains("AUTH=SCRAM-SHA-256 "),
        "{caps}"
    );
    line(&mut r);
    // Binding data that is not this channel's: refused.
    let bad = scram_plus(&mut r, "a1", "pass", true);
    assert!(bad.starts_with("a1 NO [AUTHENTICATIONFAILED]"), "{bad}");
    // A client that could bind but thinks we cannot: a downgrade, refused.
    send(
        &mut r,
        &format!(
            "a2 AUTHENTICATE SCRAM-SHA-256 {}",
            B64.encode("y,,n=alice,r=abcdef")
        ),
    );
    let down = line(&mut r);
    assert!(down.starts_with("a2 NO [AUTHENTICATIONFAILED]"), "{down}");
    // `*` cancels an exchange.
    send(&mut r, "a3 AUTHENTICATE SCRAM-SHA-256-PLUS");
    assert_eq!(
        line(&mut r),
        "+",
        "an empty challenge (trailing space trimmed)"
    );
    send(&mut r, "*");
    assert!(line(&mut r).starts_with("a3 BAD"));
    // The real thing.
    let ok = scram_plus(&mut r, "a4", "pass", false);
    assert!(ok.starts_with("a4 OK [CAPABILITY"), "{ok}");
    send(&mut r, "a5 LOGOUT");

    // No TLS, no -PLUS.
    let mut plain = common::Client::connect(server.imap).expect("connect");
    let (_, resp) = plain.cmd("CAPABILITY").expect("capability");
    let caps = String::from_utf8_lossy(&resp[0]).to_string();
    assert!(
        caps.contains("AUTH=SCRAM-SHA-256") && !caps.contains("SCRAM-SHA-256-PLUS"),
        "{caps}"
    );
    let (ok, resp) = plain
        .cmd(&format!(
            "AUTHENTICATE SCRAM-SHA-256-PLUS {}",
            B64.encode("p=tls-exporter,,n=alice,r=x")
        ))
        .expect("auth");
    assert!(!ok && String::from_utf8_lossy(resp.last().expect("tagged")).contains("NO [CANNOT]"));
}

/// A token signed with `key` (ES256).
fn token(key: &jsonwebtoken::EncodingKey, claims: serde_json::Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256),
        &claims,
        key,
    )
    .expect("sign")
}

#[test]
fn oauthbearer_and_xoauth2_with_signed_tokens() {
    // The issuer's key pair; the server gets the public half in PEM.
    let kp = rcgen::KeyPair::generate().expect("key pair");
    let signer =
        jsonwebtoken::EncodingKey::from_ec_pem(kp.serialize_pem().as_bytes()).expect("key");
    let mut server = TestServer::start();
    server.kill9();
    let dir = server.data_dir().to_path_buf();
    std::fs::write(dir.join("issuer.pem"), kp.public_key_pem()).expect("pem");
    std::fs::write(
        dir.join("tidemark.toml"),
        "[oauth]\nissuer = \"https://idp.test\"\naudience = \"imap\"\npem_file = \"issuer.pem\"\nuser_claim = \"email\"\n",
    )
    .expect("config");
    server.spawn();

    let claims = |email: &str, aud: &str, exp: u64| serde_json::json!({"iss": "https://idp.test", "aud": aud, "exp": exp, "email": email, "sub": "x1"});
    let good = token(
        &signer,
        claims("alice", "imap", jsonwebtoken::get_current_timestamp() + 600),
    );
    let bearer =
        |authz: &str, tok: &str| B64.encode(format!("n,{authz},\x01auth=Bearer {tok}\x01\x01"));
    let mut c = common::Client::connect(server.imap).expect("connect");
    let (_, resp) = c.cmd("CAPABILITY").expect("caps");
    let caps = String::from_utf8_lossy(&resp[0]).to_string();
    assert!(
        caps.contains("AUTH=OAUTHBEARER") && caps.contains("AUTH=XOAUTH2"),
        "{caps}"
    );

    // Refused tokens: the RFC 7628 error challenge, then NO after the
    // client's %x01.
    let other_key = rcgen::KeyPair::generate().expect("key pair");
    let forged = token(
        &jsonwebtoken::EncodingKey::from_ec_pem(other_key.serialize_pem().as_bytes()).expect("key"),
        claims("alice", "imap", jsonwebtoken::get_current_timestamp() + 600),
    );
    let refused = [
        (
            "expired",
            bearer(
                "",
                &token(
                    &signer,
                    claims(
                        "alice",
                        "imap",
                        jsonwebtoken::get_current_timestamp() - 3600,
                    ),
                ),
            ),
        ),
        (
            "wrong audience",
            bearer(
                "",
                &token(
                    &signer,
                    claims("alice", "smtp", jsonwebtoken::get_current_timestamp() + 600),
                ),
            ),
        ),
        ("another issuer's key", bearer("", &forged)),
        ("authzid of someone else", bearer("a=bob", &good)),
    ];
    for (what, ir) in refused {
        let tag = c.take_tag();
        c.send_line(&format!("{tag} AUTHENTICATE OAUTHBEARER {ir}"))
            .expect("send");
        let challenge = text_line(&c.read_response().expect("challenge"));
        let json = B64
            .decode(
                challenge
                    .strip_prefix("+ ")
                    .unwrap_or_else(|| panic!("{what}: {challenge}")),
            )
            .expect("b64");
        assert_eq!(json, br#"{"status":"invalid_token"}"#, "{what}");
        c.send_line("AQ==").expect("dummy");
        let end = text_line(&c.read_response().expect("tagged"));
        assert!(
            end.starts_with(&format!("{tag} NO [AUTHENTICATIONFAILED]")),
            "{what}: {end}"
        );
    }
    let (ok, resp) = c
        .cmd(&format!(
            "AUTHENTICATE OAUTHBEARER {}",
            bearer("a=alice", &good)
        ))
        .expect("auth");
    assert!(
        ok,
        "{:?}",
        resp.iter().map(|r| text_line(r)).collect::<Vec<_>>()
    );

    // XOAUTH2 from Python's imaplib (a real client), the same token.
    if require("python3") {
        let args = [server.imap.port().to_string(), good];
        common::run_script("xoauth2_imaplib.py", &args, "xoauth2 ok");
    }
}

fn text_line(r: &[u8]) -> String {
    String::from_utf8_lossy(r).trim_end().to_string()
}
