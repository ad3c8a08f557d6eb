//! Multi-device sync benchmarks (issue 5): a QRESYNC reconnect after a few
//! changes, the delay from an APPEND to the EXISTS an idling connection
//! sees, and many connections held in IDLE (for memory sampling).

use std::io;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use super::client::{self, Client, err, read_logical_line, trim_crlf};
use super::{Conn, emit, ensure_mailbox, exists_of, jlist, jnum, jstr, ms, msggen, stats};

/// The value of `[NAME value]` in any of `lines`.
fn code(lines: &[Vec<u8>], name: &str) -> Option<String> {
    lines.iter().find_map(|l| {
        let s = trim_crlf(l);
        let start = s.find(&format!("[{name} "))? + name.len() + 2;
        let end = s[start..].find(']')? + start;
        Some(s[start..end].to_string())
    })
}

/// Records the mailbox's UIDVALIDITY and HIGHESTMODSEQ, makes `changes`
/// changes from another connection (flags on most, 3 expunged), then times
/// `SELECT mailbox (QRESYNC (uidvalidity modseq))` on fresh connections.
pub async fn qresync(
    conn: &Conn,
    mailbox: &str,
    changes: u64,
    reps: usize,
    warmup: usize,
) -> io::Result<()> {
    let mb = client::quote(mailbox);
    let mut a = Client::login(&conn.addr, &conn.user, &conn.pass, "q").await?;
    if !a.has_cap("QRESYNC") {
        return Err(err("server lacks QRESYNC"));
    }
    a.command("ENABLE QRESYNC", false).await?;
    let r = a.command(&format!("SELECT {mb}"), true).await?;
    if !r.ok() {
        return Err(err(format!("SELECT: {}", r.tagged)));
    }
    let uv = code(&r.lines, "UIDVALIDITY").ok_or_else(|| err("no UIDVALIDITY"))?;
    let since = code(&r.lines, "HIGHESTMODSEQ").ok_or_else(|| err("no HIGHESTMODSEQ"))?;
    let exists = exists_of(&r.lines).unwrap_or(0);
    if exists < changes.max(1) * 2 {
        return Err(err(format!("mailbox too small ({exists})")));
    }
    // Spread over the mailbox; the last three are expunged.
    let expunged = changes.min(3);
    let mut uids = Vec::new();
    for k in 1..=changes {
        let seq = exists * k / (changes + 1);
        let r = a.command(&format!("FETCH {seq} (UID)"), true).await?;
        let uid = r
            .lines
            .iter()
            .find_map(|l| {
                let s = trim_crlf(l);
                let i = s.find("UID ")? + 4;
                s[i..]
                    .split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .ok_or_else(|| err("no UID"))?;
        uids.push(uid);
    }
    for (i, uid) in uids.iter().enumerate() {
        let flag = if (i as u64) < changes - expunged {
            "\\Flagged"
        } else {
            "\\Deleted"
        };
        let r = a
            .command(&format!("UID STORE {uid} +FLAGS.SILENT ({flag})"), false)
            .await?;
        if !r.ok() {
            return Err(err(format!("STORE: {}", r.tagged)));
        }
    }
    let gone: Vec<String> = uids[(changes - expunged) as usize..]
        .iter()
        .map(u64::to_string)
        .collect();
    if !gone.is_empty() {
        let r = a
            .command(&format!("UID EXPUNGE {}", gone.join(",")), false)
            .await?;
        if !r.ok() {
            return Err(err(format!("UID EXPUNGE: {}", r.tagged)));
        }
    }
    let _ = a.command("LOGOUT", false).await;
    let mut times = Vec::new();
    let (mut fetched, mut vanished_lines, mut bytes) = (0, 0, 0);
    for i in 0..warmup + reps {
        let mut c = Client::login(&conn.addr, &conn.user, &conn.pass, "r").await?;
        c.command("ENABLE QRESYNC", false).await?;
        let t = Instant::now();
        let r = c
            .command(&format!("SELECT {mb} (QRESYNC ({uv} {since}))"), true)
            .await?;
        let d = t.elapsed();
        if !r.ok() {
            return Err(err(format!("QRESYNC SELECT: {}", r.tagged)));
        }
        if i >= warmup {
            times.push(ms(d));
        }
        fetched = r
            .lines
            .iter()
            .filter(|l| trim_crlf(l).contains(" FETCH ("))
            .count();
        vanished_lines = r
            .lines
            .iter()
            .filter(|l| trim_crlf(l).starts_with("* VANISHED (EARLIER)"))
            .count();
        bytes = r.bytes;
        let _ = c.command("LOGOUT", false).await;
    }
    let samples = jlist(&times);
    let s = stats(times);
    emit(&[
        ("bench", jstr("qresync-reconnect")),
        ("server", jstr(&conn.label)),
        ("mailbox", jstr(mailbox)),
        ("exists", exists.to_string()),
        ("changes", changes.to_string()),
        ("fetch_responses", fetched.to_string()),
        ("vanished_responses", vanished_lines.to_string()),
        ("response_bytes", bytes.to_string()),
        ("reps", s.n.to_string()),
        ("median_ms", jnum(s.median)),
        ("p90_ms", jnum(s.p90)),
        ("min_ms", jnum(s.min)),
        ("samples_ms", samples),
    ]);
    eprintln!(
        "{}: QRESYNC reconnect on {mailbox} ({exists} msgs, {changes} changes: {fetched} FETCH, {vanished_lines} VANISHED): median {:.2} ms, p90 {:.2} ms",
        conn.label, s.median, s.p90
    );
    Ok(())
}

/// One connection idles on `mailbox` while another APPENDs to it: the time
/// from sending the APPEND to the idler reading its EXISTS.
pub async fn idle_latency(
    conn: &Conn,
    mailbox: &str,
    reps: usize,
    warmup: usize,
) -> io::Result<()> {
    let mb = client::quote(mailbox);
    let mut idler = Client::login(&conn.addr, &conn.user, &conn.pass, "i").await?;
    ensure_mailbox(&mut idler, mailbox).await?;
    let r = idler.command(&format!("SELECT {mb}"), false).await?;
    if !r.ok() {
        return Err(err(format!("SELECT: {}", r.tagged)));
    }
    let tag = idler.tag();
    idler
        .wr
        .write_all(format!("{tag} IDLE\r\n").as_bytes())
        .await?;
    idler.wr.flush().await?;
    let mut line = Vec::new();
    read_logical_line(&mut idler.rd, &mut line).await?;
    if !line.starts_with(b"+") {
        return Err(err(format!("IDLE: {}", trim_crlf(&line))));
    }
    // The idler's reader stamps every EXISTS as it arrives.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let mut rd = idler.rd;
    let reader = tokio::spawn(async move {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            if read_logical_line(&mut rd, &mut buf).await.is_err() {
                break;
            }
            if trim_crlf(&buf).ends_with(" EXISTS") && tx.send(Instant::now()).is_err() {
                break;
            }
        }
    });
    let mut writer = Client::login(&conn.addr, &conn.user, &conn.pass, "w").await?;
    let literal_plus = writer.has_cap("LITERAL+");
    let mut times = Vec::new();
    for i in 0..warmup + reps {
        let msg = msggen::message(7, i as u64, false);
        let t0 = Instant::now();
        let r = writer
            .append(mailbox, &[(String::new(), msg)], literal_plus)
            .await?;
        if !r.ok() {
            return Err(err(format!("APPEND: {}", r.tagged)));
        }
        let seen = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .map_err(|_| err("no EXISTS within 60 s"))?
            .ok_or_else(|| err("idler closed"))?;
        if i >= warmup {
            times.push(ms(seen.saturating_duration_since(t0)));
        }
        // Let it settle; then drop any extra EXISTS of this round.
        tokio::time::sleep(Duration::from_millis(50)).await;
        while rx.try_recv().is_ok() {}
    }
    reader.abort();
    let samples = jlist(&times);
    let s = stats(times);
    emit(&[
        ("bench", jstr("idle-latency")),
        ("server", jstr(&conn.label)),
        ("reps", s.n.to_string()),
        ("median_ms", jnum(s.median)),
        ("p90_ms", jnum(s.p90)),
        ("max_ms", jnum(s.max)),
        ("samples_ms", samples),
    ]);
    eprintln!(
        "{}: APPEND -> EXISTS on an idling connection: median {:.2} ms, p90 {:.2} ms, max {:.2} ms",
        conn.label, s.median, s.p90, s.max
    );
    Ok(())
}

/// Opens `count` connections that each log in, select `mailbox` and IDLE;
/// prints a `ready` line, holds them `hold_secs` seconds (the caller
/// samples the server's memory meanwhile), then closes them.
pub async fn idle_conns(
    conn: &Conn,
    mailbox: &str,
    count: usize,
    parallel: usize,
    hold_secs: u64,
) -> io::Result<()> {
    let started = Instant::now();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let (addr, user, pass, mb) = (
            conn.addr.clone(),
            conn.user.clone(),
            conn.pass.clone(),
            client::quote(mailbox),
        );
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire().await.map_err(|_| err("closed"))?;
            let mut c = Client::login(&addr, &user, &pass, &format!("c{i}_")).await?;
            let r = c.command(&format!("SELECT {mb}"), false).await?;
            if !r.ok() {
                return Err(err(format!("SELECT: {}", r.tagged)));
            }
            let tag = c.tag();
            c.wr.write_all(format!("{tag} IDLE\r\n").as_bytes()).await?;
            c.wr.flush().await?;
            let mut line = Vec::new();
            read_logical_line(&mut c.rd, &mut line).await?;
            if !line.starts_with(b"+") {
                return Err(err(format!("IDLE: {}", trim_crlf(&line))));
            }
            Ok::<Client, io::Error>(c)
        }));
    }
    let mut held = Vec::with_capacity(count);
    for t in tasks {
        held.push(t.await.map_err(|e| err(format!("task: {e}")))??);
    }
    let setup = started.elapsed();
    emit(&[
        ("bench", jstr("idle-conns-ready")),
        ("server", jstr(&conn.label)),
        ("connections", held.len().to_string()),
        ("setup_s", jnum(setup.as_secs_f64())),
    ]);
    eprintln!(
        "{}: {} connections in IDLE after {:.1} s; holding {hold_secs} s",
        conn.label,
        held.len(),
        setup.as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(hold_secs)).await;
    drop(held);
    Ok(())
}
