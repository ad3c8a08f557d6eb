//! Crash test (issue 2): kill -9 the server while 10 clients APPEND
//! concurrently; restart; every APPEND that got OK is present and intact,
//! no UID was reused and HIGHESTMODSEQ never went back. 20 cycles.

mod common;

use common::{Client, TestServer};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CYCLES: usize = 20;
const CLIENTS: usize = 10;

fn message(cycle: usize, client: usize, n: usize) -> Vec<u8> {
    let filler = "x".repeat(200 + (client * 37 + n * 11) % 3000);
    format!(
        "From: c{client}@example.org\r\nSubject: cycle {cycle} client {client} msg {n}\r\n\r\n{filler}\r\n"
    )
    .into_bytes()
}

fn highest_modseq(c: &mut Client) -> u64 {
    let (ok, resp) = c.cmd("STATUS INBOX (HIGHESTMODSEQ)").expect("status");
    assert!(ok, "STATUS failed");
    let line = String::from_utf8_lossy(&resp[0]).to_string();
    line.split("HIGHESTMODSEQ ")
        .nth(1)
        .and_then(|r| r.trim_end().trim_end_matches(')').parse().ok())
        .unwrap_or_else(|| panic!("no HIGHESTMODSEQ in {line}"))
}

#[test]
fn kill9_during_concurrent_appends() {
    let mut server = TestServer::start();
    // uid -> exact bytes, for every APPEND that got a tagged OK.
    let acked: Arc<Mutex<BTreeMap<u32, Vec<u8>>>> = Arc::new(Mutex::new(BTreeMap::new()));
    let mut last_modseq = 0u64;
    let mut max_uid_seen = 0u32;
    let started = Instant::now();
    for cycle in 0..CYCLES {
        let stop_at = Instant::now() + Duration::from_millis(300 + (cycle as u64 * 53) % 400);
        let mut handles = Vec::new();
        for client in 0..CLIENTS {
            let acked = acked.clone();
            let addr = server.imap;
            handles.push(std::thread::spawn(move || {
                let Ok(mut c) = Client::login(addr, "alice", "pass") else {
                    return;
                };
                for n in 0..10_000 {
                    if Instant::now() > stop_at + Duration::from_secs(5) {
                        break;
                    }
                    let data = message(cycle, client, n);
                    match c.append("INBOX", &data) {
                        Ok(Some(uid)) => {
                            let prev = acked.lock().expect("lock").insert(uid, data);
                            assert!(prev.is_none(), "UID {uid} acknowledged twice");
                        }
                        Ok(None) => panic!("APPEND refused"),
                        // The server was killed mid-command: not acknowledged.
                        Err(_) => break,
                    }
                }
            }));
        }
        while Instant::now() < stop_at {
            std::thread::sleep(Duration::from_millis(10));
        }
        server.kill9();
        for h in handles {
            h.join().expect("client thread panicked");
        }
        server.spawn();

        // Verify: every acknowledged message is present and intact.
        let mut c = Client::login(server.imap, "alice", "pass").expect("login after restart");
        let modseq = highest_modseq(&mut c);
        assert!(
            modseq >= last_modseq,
            "HIGHESTMODSEQ went back: {last_modseq} -> {modseq}"
        );
        last_modseq = modseq;
        let (ok, _) = c.cmd("EXAMINE INBOX").expect("examine");
        assert!(ok);
        let acked = acked.lock().expect("lock").clone();
        let (ok, resp) = c.cmd("UID FETCH 1:* (UID)").expect("uid fetch");
        assert!(ok);
        let present: std::collections::BTreeSet<u32> = resp
            .iter()
            .filter_map(|r| {
                let s = String::from_utf8_lossy(r);
                s.split("UID ").nth(1)?.split(')').next()?.parse().ok()
            })
            .collect();
        for uid in acked.keys() {
            assert!(
                present.contains(uid),
                "cycle {cycle}: acknowledged UID {uid} lost"
            );
        }
        for (uid, data) in acked.iter().filter(|(u, _)| **u > max_uid_seen) {
            let (ok, resp) = c
                .cmd(&format!("UID FETCH {uid} (BODY.PEEK[])"))
                .expect("fetch body");
            assert!(ok);
            let r = &resp[0];
            let start = r.iter().position(|b| *b == b'}').expect("literal") + 3;
            assert_eq!(
                &r[start..start + data.len()],
                data.as_slice(),
                "UID {uid} damaged"
            );
        }
        // A new APPEND gets a UID above everything seen: no reuse.
        let max_present = present.iter().next_back().copied().unwrap_or(0);
        let probe = c
            .append("INBOX", b"Subject: probe\r\n\r\nprobe\r\n")
            .expect("probe append")
            .expect("probe uid");
        assert!(
            probe > max_present && probe > acked.keys().next_back().copied().unwrap_or(0),
            "UID reused: probe got {probe}, max present {max_present}"
        );
        max_uid_seen = probe;
    }
    let total = acked.lock().expect("lock").len();
    println!(
        "crash test: {CYCLES} cycles, {total} acknowledged APPENDs verified, {:?}",
        started.elapsed()
    );
    assert!(
        total > CYCLES * 10,
        "too few APPENDs acknowledged ({total}) to mean anything"
    );
}
