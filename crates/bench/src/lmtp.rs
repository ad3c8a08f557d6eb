//! LMTP delivery load: `sessions` concurrent LMTP connections deliver
//! `count` generated messages in total, each to `recipients` recipients,
//! with the transaction pipelined as an MTA does it (LHLO once; MAIL, the
//! RCPTs and DATA in one write; then the message). A message counts when
//! every recipient got its 250.

use crate::client::err;
use crate::{emit, jnum, jstr, ms, msggen, stats};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Reads one (possibly multi-line) reply; returns its last line.
async fn reply(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> io::Result<String> {
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await? == 0 {
            return Err(err("connection closed"));
        }
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(line.trim_end().to_string());
        }
    }
}

/// Dot-stuffs a CRLF message and appends the end line.
fn stuffed(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + 8);
    let mut at_line_start = true;
    for &b in msg {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

pub async fn run(
    addr: &str,
    label: &str,
    sessions: usize,
    count: u64,
    recipients: usize,
    rcpt_format: &str,
    seed: u64,
) -> io::Result<()> {
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..sessions {
        let next = next.clone();
        let addr = addr.to_string();
        let rcpts: Vec<String> = (1..=recipients)
            .map(|i| rcpt_format.replace("{}", &i.to_string()))
            .collect();
        tasks.push(tokio::spawn(async move {
            let s = TcpStream::connect(&addr).await?;
            s.set_nodelay(true)?;
            let (r, mut w) = s.into_split();
            let mut r = BufReader::new(r);
            let greeting = reply(&mut r).await?;
            if !greeting.starts_with("220") {
                return Err(err(format!("greeting: {greeting}")));
            }
            w.write_all(b"LHLO bench.client\r\n").await?;
            let lhlo = reply(&mut r).await?;
            if !lhlo.starts_with("250") {
                return Err(err(format!("LHLO: {lhlo}")));
            }
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let body = stuffed(&msggen::message(seed, i, false));
                let t = Instant::now();
                let mut head = String::from("MAIL FROM:<bench@sender.test>\r\n");
                for rc in &rcpts {
                    head.push_str(&format!("RCPT TO:<{rc}>\r\n"));
                }
                head.push_str("DATA\r\n");
                w.write_all(head.as_bytes()).await?;
                for what in std::iter::once("MAIL").chain(rcpts.iter().map(|_| "RCPT")) {
                    let l = reply(&mut r).await?;
                    if !l.starts_with("250") {
                        return Err(err(format!("{what}: {l}")));
                    }
                }
                let l = reply(&mut r).await?;
                if !l.starts_with("354") {
                    return Err(err(format!("DATA: {l}")));
                }
                w.write_all(&body).await?;
                for rc in &rcpts {
                    let l = reply(&mut r).await?;
                    if !l.starts_with("250") {
                        return Err(err(format!("delivery to {rc}: {l}")));
                    }
                }
                lat.push(ms(t.elapsed()));
            }
            w.write_all(b"QUIT\r\n").await?;
            let _ = tokio::time::timeout(Duration::from_secs(5), reply(&mut r)).await;
            Ok::<_, io::Error>(lat)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.map_err(|e| err(e.to_string()))??);
    }
    let elapsed = start.elapsed();
    let n = lat.len();
    let s = stats(lat);
    let per_s = n as f64 / elapsed.as_secs_f64();
    emit(&[
        ("bench", jstr("lmtp")),
        ("server", jstr(label)),
        ("sessions", sessions.to_string()),
        ("recipients", recipients.to_string()),
        ("messages", n.to_string()),
        ("elapsed_s", jnum(elapsed.as_secs_f64())),
        ("msgs_per_s", jnum(per_s)),
        ("deliveries_per_s", jnum(per_s * recipients as f64)),
        ("lat_median_ms", jnum(s.median)),
        ("lat_p90_ms", jnum(s.p90)),
        ("lat_p99_ms", jnum(s.p99)),
    ]);
    eprintln!(
        "{label}: LMTP {sessions} sessions x {recipients} recipients: {n} messages in {:.2} s = {per_s:.0} msg/s ({:.0} deliveries/s), latency median {:.1} ms p90 {:.1} ms",
        elapsed.as_secs_f64(),
        per_s * recipients as f64,
        s.median,
        s.p90
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn dot_stuffing() {
        assert_eq!(super::stuffed(b"a\r\n.b\r\n"), b"a\r\n..b\r\n.\r\n");
        assert_eq!(super::stuffed(b".x"), b"..x\r\n.\r\n");
    }
}
