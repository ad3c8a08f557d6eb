//! A section FETCH from a 50 MB message with 1,000 parts reads only that
//! part: a freshly started server answers `BODY[500]` and BINARY[500]
//! while its peak memory stays far below the message size.

mod common;

use common::{Client, TestServer};

const PARTS: usize = 1000;
/// Each part's base64 body: about 50 KiB.
const PART_BYTES: usize = 50 * 1024;
const LINE: &[u8] =
    b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";

fn big_message() -> Vec<u8> {
    let mut m = b"From: big@example.org\r\nSubject: fifty megabytes\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
        .to_vec();
    for i in 1..=PARTS {
        m.extend_from_slice(
            format!(
                "--b\r\nContent-Type: application/octet-stream; name=\"p{i}\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n"
            )
            .as_bytes(),
        );
        for _ in 0..PART_BYTES / LINE.len() {
            m.extend_from_slice(LINE);
        }
    }
    m.extend_from_slice(b"--b--\r\n");
    m
}

fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[test]
fn part_of_a_50mb_message_is_read_alone() {
    let mut server = TestServer::start();
    let msg = big_message();
    assert!(msg.len() > 50_000_000, "message is {} bytes", msg.len());
    {
        let mut c = Client::login(server.imap, "alice", "pass").expect("login");
        let uid = c.append("INBOX", &msg).expect("append").expect("APPENDUID");
        assert_eq!(uid, 1);
    }
    // A fresh process, so its peak memory reflects only what follows.
    server.kill9();
    server.spawn();
    let pid = server.pid().expect("pid");
    // Measured after login: a password verification alone takes ~19 MiB.
    let mut c = Client::login(server.imap, "alice", "pass").expect("login");
    let before = vm_hwm_kib(pid);
    let (ok, _) = c.cmd("EXAMINE INBOX").expect("examine");
    assert!(ok);
    let (ok, resp) = c
        .cmd("FETCH 1 (BODY.PEEK[500] BINARY.PEEK[500] BODY.PEEK[500.MIME])")
        .expect("fetch");
    assert!(
        ok,
        "FETCH failed: {:?}",
        resp.last().map(|r| String::from_utf8_lossy(r).to_string())
    );
    let text = String::from_utf8_lossy(&resp[0]).to_string();
    // Each part body is its base64 lines minus the CRLF that belongs to the
    // next boundary.
    let lines = PART_BYTES / LINE.len();
    let body = lines * LINE.len() - 2;
    assert!(
        text.contains(&format!("BODY[500] {{{body}}}")),
        "{}",
        &text[..200.min(text.len())]
    );
    assert!(
        text.contains("name=\"p500\""),
        "the MIME header of part 500"
    );
    // 76 base64 characters a line decode to 57 bytes.
    assert!(text.contains(&format!("BINARY[500] {{{}}}", lines * 57)));
    let (ok, resp) = c.cmd("FETCH 1 (BODYSTRUCTURE)").expect("fetch");
    assert!(ok);
    assert!(String::from_utf8_lossy(&resp[0]).contains("\"p1000\""));

    let after = vm_hwm_kib(pid);
    let grew_mib = after.saturating_sub(before) / 1024;
    println!(
        "server VmHWM {before} KiB -> {after} KiB (+{grew_mib} MiB) for a part of a 50 MB message"
    );
    assert!(
        grew_mib < 10,
        "peak memory grew by {grew_mib} MiB: the whole 50 MB message was loaded"
    );
}
