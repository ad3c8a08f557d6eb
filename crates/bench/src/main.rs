//! imap-bench: a small IMAP load generator used to compare tidemark with
//! other IMAP servers (see BENCHMARKS.md and bench/run.sh).
//!
//! Every subcommand prints one JSON object per line on stdout (machine
//! readable) and a human summary on stderr.

mod client;
mod lmtp;
mod msggen;
mod sync;

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use tokio::io::AsyncWriteExt;
use tokio::sync::{Barrier, Semaphore};

use client::{Client, err, read_logical_line, tagged_status, trim_crlf};

#[derive(Parser)]
#[command(
    name = "imap-bench",
    about = "IMAP benchmark client (loopback use only)"
)]
struct Cli {
    /// Abort the whole run after this many seconds.
    #[arg(long, global = true, default_value_t = 1200)]
    timeout: u64,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Args, Clone)]
struct Conn {
    /// Server address, e.g. 127.0.0.1:1143
    #[arg(long)]
    addr: String,
    #[arg(long)]
    user: String,
    #[arg(long)]
    pass: String,
    /// Label written into the JSON output ("server" field).
    #[arg(long, default_value = "server")]
    label: String,
}

#[derive(Subcommand)]
enum Cmd {
    /// APPEND `count` generated messages into a mailbox as fast as possible
    /// (MULTIAPPEND batches, pipelined with LITERAL+).
    Populate {
        #[command(flatten)]
        conn: Conn,
        #[arg(long)]
        mailbox: String,
        #[arg(long)]
        count: u64,
        /// Varied 1–20 KiB messages, ~25% multipart (default: ~4 KiB text).
        #[arg(long)]
        size_mix: bool,
        /// Messages per APPEND command (1 = no MULTIAPPEND).
        #[arg(long, default_value_t = 100)]
        batch: u64,
        /// APPEND commands in flight at once (needs LITERAL+; else 1).
        #[arg(long, default_value_t = 4)]
        pipeline: usize,
        /// Generator seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Time `SELECT mailbox` (full response read).
    Select {
        #[command(flatten)]
        conn: Conn,
        #[arg(long)]
        mailbox: String,
        #[arg(long, default_value_t = 10)]
        reps: usize,
        #[arg(long, default_value_t = 1)]
        warmup: usize,
    },
    /// Time `UID FETCH 1:* (UID FLAGS)` on the mailbox.
    FetchFlags {
        #[command(flatten)]
        conn: Conn,
        #[arg(long)]
        mailbox: String,
        #[arg(long, default_value_t = 10)]
        reps: usize,
        #[arg(long, default_value_t = 1)]
        warmup: usize,
    },
    /// Time any FETCH command on the mailbox (e.g. `FETCH 1:1000 (ENVELOPE
    /// BODYSTRUCTURE)`).
    Fetch {
        #[command(flatten)]
        conn: Conn,
        #[arg(long)]
        mailbox: String,
        /// The command, without tag.
        #[arg(long)]
        command: String,
        /// Name of the benchmark in the JSON output.
        #[arg(long, default_value = "fetch")]
        name: String,
        #[arg(long, default_value_t = 10)]
        reps: usize,
        #[arg(long, default_value_t = 1)]
        warmup: usize,
    },
    /// APPEND one multipart message: a short text part and a base64
    /// attachment of `size_mb` MiB (part 2), for section-fetch benchmarks.
    AppendBig {
        #[command(flatten)]
        conn: Conn,
        #[arg(long)]
        mailbox: String,
        #[arg(long, default_value_t = 10)]
        size_mb: usize,
    },
    /// `clients` concurrent connections APPEND `count` ~4 KiB messages in
    /// total, one at a time each (waiting for every tagged OK).
    Append {
        #[command(flatten)]
        conn: Conn,
        #[arg(long)]
        mailbox: String,
        #[arg(long, default_value_t = 1)]
        clients: usize,
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 2)]
        seed: u64,
        /// Client i appends into mailbox `<mailbox><i>` instead of all
        /// clients sharing one mailbox.
        #[arg(long)]
        mailbox_per_client: bool,
    },
    /// Makes `changes` changes to a mailbox (most flags, 3 expunges) after
    /// noting its HIGHESTMODSEQ, then times SELECT with QRESYNC from it.
    Qresync {
        #[command(flatten)]
        conn: Conn,
        #[arg(long)]
        mailbox: String,
        #[arg(long, default_value_t = 10)]
        changes: u64,
        #[arg(long, default_value_t = 20)]
        reps: usize,
        #[arg(long, default_value_t = 2)]
        warmup: usize,
    },
    /// Time from an APPEND on one connection to the EXISTS on another one
    /// idling on the same mailbox.
    IdleLatency {
        #[command(flatten)]
        conn: Conn,
        #[arg(long)]
        mailbox: String,
        #[arg(long, default_value_t = 30)]
        reps: usize,
        #[arg(long, default_value_t = 3)]
        warmup: usize,
    },
    /// LMTP deliveries: `sessions` connections deliver `count` messages in
    /// total, each to `recipients` addresses (`rcpt_format` with `{}` = 1..).
    Lmtp {
        #[arg(long)]
        addr: String,
        #[arg(long, default_value = "server")]
        label: String,
        #[arg(long, default_value_t = 1)]
        sessions: usize,
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 5)]
        recipients: usize,
        #[arg(long, default_value = "u{}@bench.test")]
        rcpt_format: String,
        #[arg(long, default_value_t = 3)]
        seed: u64,
    },
    /// Holds `count` connections in IDLE for `hold_secs` (memory sampling).
    IdleConns {
        #[command(flatten)]
        conn: Conn,
        #[arg(long, default_value = "INBOX")]
        mailbox: String,
        #[arg(long)]
        count: usize,
        /// Connections being set up at once.
        #[arg(long, default_value_t = 64)]
        parallel: usize,
        #[arg(long, default_value_t = 10)]
        hold_secs: u64,
    },
}

struct Stats {
    n: usize,
    min: f64,
    median: f64,
    p90: f64,
    p99: f64,
    max: f64,
    mean: f64,
}

fn stats(mut xs: Vec<f64>) -> Stats {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    // Nearest-rank percentile.
    let pct = |p: f64| {
        if n == 0 {
            f64::NAN
        } else {
            xs[((p * n as f64).ceil() as usize).clamp(1, n) - 1]
        }
    };
    let median = if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    };
    Stats {
        n,
        min: xs.first().copied().unwrap_or(f64::NAN),
        median,
        p90: pct(0.90),
        p99: pct(0.99),
        max: xs.last().copied().unwrap_or(f64::NAN),
        mean: if n == 0 {
            f64::NAN
        } else {
            xs.iter().sum::<f64>() / n as f64
        },
    }
}

fn jstr(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn jnum(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "null".into()
    }
}

fn jlist(xs: &[f64]) -> String {
    format!(
        "[{}]",
        xs.iter().map(|x| jnum(*x)).collect::<Vec<_>>().join(",")
    )
}

fn emit(fields: &[(&str, String)]) {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{}", jstr(k), v))
        .collect();
    println!("{{{}}}", body.join(","));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn ensure_mailbox(c: &mut Client, mailbox: &str) -> io::Result<()> {
    // NO [ALREADYEXISTS] is fine.
    let r = c
        .command(&format!("CREATE {}", client::quote(mailbox)), false)
        .await?;
    if r.status == client::Status::Bad {
        return Err(err(format!("CREATE: {}", r.tagged)));
    }
    Ok(())
}

async fn populate(
    conn: &Conn,
    mailbox: &str,
    count: u64,
    size_mix: bool,
    batch: u64,
    pipeline: usize,
    seed: u64,
) -> io::Result<()> {
    let mut c = Client::login(&conn.addr, &conn.user, &conn.pass, "p").await?;
    ensure_mailbox(&mut c, mailbox).await?;
    let literal_plus = c.has_cap("LITERAL+");
    let multi = c.has_cap("MULTIAPPEND");
    let batch = if multi { batch.max(1) } else { 1 };
    let pipeline = if literal_plus { pipeline.max(1) } else { 1 };
    let ncmds = count.div_ceil(batch);
    let start = Instant::now();
    let mut total_bytes = 0u64;

    if !literal_plus {
        // Synchronising literals: one command at a time, waiting for `+`.
        for b in 0..ncmds {
            let msgs = gen_batch(seed, b * batch, (count - b * batch).min(batch), size_mix);
            total_bytes += msgs.iter().map(|(_, m)| m.len() as u64).sum::<u64>();
            let r = c.append(mailbox, &msgs, false).await?;
            if !r.ok() {
                return Err(err(format!("APPEND failed: {}", r.tagged)));
            }
        }
    } else {
        // Pipelined: a writer task keeps up to `pipeline` APPENDs in flight;
        // this task reads the tagged completions in order.
        let Client { mut rd, mut wr, .. } = c;
        let sem = Arc::new(Semaphore::new(pipeline));
        let sem_w = sem.clone();
        let mbox = mailbox.to_string();
        let writer = tokio::spawn(async move {
            let mut bytes = 0u64;
            for b in 0..ncmds {
                let permit = sem_w.acquire().await.map_err(|_| err("semaphore closed"))?;
                permit.forget();
                let msgs = gen_batch(seed, b * batch, (count - b * batch).min(batch), size_mix);
                bytes += msgs.iter().map(|(_, m)| m.len() as u64).sum::<u64>();
                let buf = client::build_append(&format!("w{b}"), &mbox, &msgs);
                wr.write_all(&buf).await?;
                wr.flush().await?;
            }
            wr.write_all(b"z LOGOUT\r\n").await?;
            wr.flush().await?;
            Ok::<u64, io::Error>(bytes)
        });
        let mut buf = Vec::new();
        let mut next = 0u64;
        let mut last_report = Instant::now();
        // Bounded by the number of commands (plus untagged lines).
        while next < ncmds {
            buf.clear();
            read_logical_line(&mut rd, &mut buf).await?;
            let tag = format!("w{next}");
            match tagged_status(&buf, &tag) {
                Some(client::Status::Ok) => {
                    next += 1;
                    sem.add_permits(1);
                    if last_report.elapsed() > Duration::from_secs(10) {
                        last_report = Instant::now();
                        let done = (next * batch).min(count);
                        eprintln!(
                            "  populate {}: {done}/{count} ({:.0} msg/s)",
                            conn.label,
                            done as f64 / start.elapsed().as_secs_f64()
                        );
                    }
                }
                Some(_) => {
                    writer.abort();
                    return Err(err(format!("APPEND failed: {}", trim_crlf(&buf))));
                }
                None if buf.starts_with(b"+") => {
                    return Err(err(format!("unexpected continuation: {}", trim_crlf(&buf))));
                }
                None => {}
            }
        }
        total_bytes = writer.await.map_err(|e| err(e.to_string()))??;
    }
    let el = start.elapsed().as_secs_f64();
    emit(&[
        ("bench", jstr("populate")),
        ("server", jstr(&conn.label)),
        ("mailbox", jstr(mailbox)),
        ("count", count.to_string()),
        ("bytes", total_bytes.to_string()),
        ("batch", batch.to_string()),
        ("pipeline", pipeline.to_string()),
        ("literal_plus", literal_plus.to_string()),
        ("elapsed_s", jnum(el)),
        ("msgs_per_s", jnum(count as f64 / el)),
        ("mb_per_s", jnum(total_bytes as f64 / el / 1e6)),
    ]);
    eprintln!(
        "{}: populated {mailbox} with {count} msgs ({:.1} MB) in {el:.1} s = {:.0} msg/s (batch {batch}, pipeline {pipeline}, LITERAL+ {literal_plus})",
        conn.label,
        total_bytes as f64 / 1e6,
        count as f64 / el
    );
    Ok(())
}

fn gen_batch(seed: u64, first: u64, n: u64, size_mix: bool) -> Vec<(String, Vec<u8>)> {
    (first..first + n)
        .map(|i| (msggen::flags(i), msggen::message(seed, i, size_mix)))
        .collect()
}

fn exists_of(lines: &[Vec<u8>]) -> Option<u64> {
    lines.iter().find_map(|l| {
        let s = trim_crlf(l);
        let rest = s.strip_prefix("* ")?;
        let (n, w) = rest.split_once(' ')?;
        if w.eq_ignore_ascii_case("EXISTS") {
            n.parse().ok()
        } else {
            None
        }
    })
}

async fn select(conn: &Conn, mailbox: &str, reps: usize, warmup: usize) -> io::Result<()> {
    let mut c = Client::login(&conn.addr, &conn.user, &conn.pass, "s").await?;
    let has_unselect = c.has_cap("UNSELECT") || c.has_cap("IMAP4REV2");
    let mut times = Vec::new();
    let mut exists = None;
    let mut bytes = 0;
    for i in 0..warmup + reps {
        let t = Instant::now();
        let r = c
            .command(&format!("SELECT {}", client::quote(mailbox)), true)
            .await?;
        let d = t.elapsed();
        if !r.ok() {
            return Err(err(format!("SELECT failed: {}", r.tagged)));
        }
        exists = exists_of(&r.lines);
        bytes = r.bytes;
        if i >= warmup {
            times.push(ms(d));
        }
        // Leave the mailbox (untimed) so each SELECT opens it afresh.
        let r = if has_unselect {
            c.command("UNSELECT", false).await?
        } else {
            c.command("CLOSE", false).await?
        };
        if !r.ok() {
            return Err(err(format!("UNSELECT failed: {}", r.tagged)));
        }
    }
    let _ = c.command("LOGOUT", false).await;
    let samples = jlist(&times);
    let s = stats(times);
    emit(&[
        ("bench", jstr("select")),
        ("server", jstr(&conn.label)),
        ("mailbox", jstr(mailbox)),
        ("reps", s.n.to_string()),
        ("warmup", warmup.to_string()),
        ("exists", exists.map_or("null".into(), |e| e.to_string())),
        ("response_bytes", bytes.to_string()),
        ("median_ms", jnum(s.median)),
        ("p90_ms", jnum(s.p90)),
        ("min_ms", jnum(s.min)),
        ("max_ms", jnum(s.max)),
        ("mean_ms", jnum(s.mean)),
        ("samples_ms", samples.clone()),
    ]);
    eprintln!(
        "{}: SELECT {mailbox} (EXISTS {}) median {:.2} ms, p90 {:.2} ms (n={}, min {:.2}, max {:.2})",
        conn.label,
        exists.unwrap_or(0),
        s.median,
        s.p90,
        s.n,
        s.min,
        s.max
    );
    Ok(())
}

async fn fetch_flags(conn: &Conn, mailbox: &str, reps: usize, warmup: usize) -> io::Result<()> {
    timed_fetch(
        conn,
        mailbox,
        "UID FETCH 1:* (UID FLAGS)",
        "fetch-flags",
        reps,
        warmup,
    )
    .await
}

async fn timed_fetch(
    conn: &Conn,
    mailbox: &str,
    command: &str,
    name: &str,
    reps: usize,
    warmup: usize,
) -> io::Result<()> {
    let mut c = Client::login(&conn.addr, &conn.user, &conn.pass, "f").await?;
    let r = c
        .command(&format!("SELECT {}", client::quote(mailbox)), true)
        .await?;
    if !r.ok() {
        return Err(err(format!("SELECT failed: {}", r.tagged)));
    }
    let exists = exists_of(&r.lines);
    let mut times = Vec::new();
    let mut fetched = 0;
    let mut bytes = 0;
    for i in 0..warmup + reps {
        let t = Instant::now();
        let r = c.command(command, false).await?;
        let d = t.elapsed();
        if !r.ok() {
            return Err(err(format!("{command} failed: {}", r.tagged)));
        }
        fetched = r.untagged;
        bytes = r.bytes;
        if i >= warmup {
            times.push(ms(d));
        }
    }
    let _ = c.command("LOGOUT", false).await;
    let samples = jlist(&times);
    let s = stats(times);
    emit(&[
        ("bench", jstr(name)),
        ("command", jstr(command)),
        ("server", jstr(&conn.label)),
        ("mailbox", jstr(mailbox)),
        ("reps", s.n.to_string()),
        ("warmup", warmup.to_string()),
        ("exists", exists.map_or("null".into(), |e| e.to_string())),
        ("responses", fetched.to_string()),
        ("response_bytes", bytes.to_string()),
        ("median_ms", jnum(s.median)),
        ("p90_ms", jnum(s.p90)),
        ("min_ms", jnum(s.min)),
        ("max_ms", jnum(s.max)),
        ("mean_ms", jnum(s.mean)),
        ("samples_ms", samples.clone()),
    ]);
    eprintln!(
        "{}: {command} on {mailbox}: {fetched} responses, {:.1} MB, median {:.1} ms, p90 {:.1} ms (n={})",
        conn.label,
        bytes as f64 / 1e6,
        s.median,
        s.p90,
        s.n
    );
    Ok(())
}

/// A multipart/mixed message whose part 2 is a base64 attachment of about
/// `size_mb` MiB (76-character lines).
fn big_message(size_mb: usize) -> Vec<u8> {
    let mut m = b"From: bench@example.org\r\nTo: alice@example.org\r\nSubject: big attachment\r\n\
Date: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <big@example.org>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n--b0\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\r\nSee the attachment.\r\n--b0\r\n\
Content-Type: application/octet-stream; name=\"data.bin\"\r\n\
Content-Disposition: attachment; filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        .to_vec();
    const LINE: &[u8] =
        b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    for _ in 0..(size_mb * 1024 * 1024 / LINE.len()).max(1) {
        m.extend_from_slice(LINE);
    }
    m.extend_from_slice(b"--b0--\r\n");
    m
}

async fn append_big(conn: &Conn, mailbox: &str, size_mb: usize) -> io::Result<()> {
    let mut c = Client::login(&conn.addr, &conn.user, &conn.pass, "b").await?;
    let msg = big_message(size_mb);
    // The mailbox may exist already; a failed CREATE is fine.
    let _ = c
        .command(&format!("CREATE {}", client::quote(mailbox)), false)
        .await?;
    let t = Instant::now();
    let literal_plus = c.has_cap("LITERAL+");
    let r = c
        .append(mailbox, &[(String::new(), msg.clone())], literal_plus)
        .await?;
    if !r.ok() {
        return Err(err(format!("APPEND failed: {}", r.tagged)));
    }
    let d = t.elapsed();
    let _ = c.command("LOGOUT", false).await;
    emit(&[
        ("bench", jstr("append-big")),
        ("server", jstr(&conn.label)),
        ("mailbox", jstr(mailbox)),
        ("bytes", msg.len().to_string()),
        ("ms", jnum(ms(d))),
    ]);
    eprintln!(
        "{}: appended {} bytes in {:.1} ms",
        conn.label,
        msg.len(),
        ms(d)
    );
    Ok(())
}

async fn append(
    conn: &Conn,
    mailbox: &str,
    clients: usize,
    count: u64,
    seed: u64,
    per_client: bool,
) -> io::Result<()> {
    let clients = clients.max(1);
    let mut conns = Vec::new();
    for i in 0..clients {
        conns.push(Client::login(&conn.addr, &conn.user, &conn.pass, &format!("a{i}_")).await?);
    }
    let names: Vec<String> = (0..clients)
        .map(|i| {
            if per_client {
                format!("{mailbox}{i}")
            } else {
                mailbox.to_string()
            }
        })
        .collect();
    for (i, n) in names.iter().enumerate() {
        if i == 0 || per_client {
            ensure_mailbox(&mut conns[0], n).await?;
        }
    }
    let barrier = Arc::new(Barrier::new(clients + 1));
    let mut tasks = Vec::new();
    for (i, mut c) in conns.into_iter().enumerate() {
        let n = count / clients as u64 + u64::from((i as u64) < count % clients as u64);
        let barrier = barrier.clone();
        let mbox = names[i].clone();
        let seed = seed * 1000 + i as u64;
        tasks.push(tokio::spawn(async move {
            let lp = c.has_cap("LITERAL+");
            let msgs: Vec<(String, Vec<u8>)> = (0..n)
                .map(|j| (String::new(), msggen::message(seed, j, false)))
                .collect();
            let mut lat = Vec::with_capacity(n as usize);
            barrier.wait().await;
            for m in msgs {
                let t = Instant::now();
                let r = c.append(&mbox, std::slice::from_ref(&m), lp).await?;
                lat.push(ms(t.elapsed()));
                if !r.ok() {
                    return Err(err(format!("APPEND failed: {}", r.tagged)));
                }
            }
            let _ = c.command("LOGOUT", false).await;
            Ok::<Vec<f64>, io::Error>(lat)
        }));
    }
    barrier.wait().await;
    let start = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(|e| err(e.to_string()))??);
    }
    let el = start.elapsed().as_secs_f64();
    let s = stats(all);
    emit(&[
        ("bench", jstr("append")),
        ("server", jstr(&conn.label)),
        ("mailbox", jstr(mailbox)),
        ("clients", clients.to_string()),
        (
            "mailboxes",
            if per_client { clients } else { 1 }.to_string(),
        ),
        ("count", count.to_string()),
        ("elapsed_s", jnum(el)),
        ("msgs_per_s", jnum(count as f64 / el)),
        ("lat_median_ms", jnum(s.median)),
        ("lat_p90_ms", jnum(s.p90)),
        ("lat_p99_ms", jnum(s.p99)),
        ("lat_max_ms", jnum(s.max)),
    ]);
    eprintln!(
        "{}: APPEND x{count} with {clients} client(s) into {} mailbox(es): {el:.2} s = {:.0} msg/s; latency median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms",
        conn.label,
        if per_client { clients } else { 1 },
        count as f64 / el,
        s.median,
        s.p90,
        s.p99
    );
    Ok(())
}

async fn run(cmd: Cmd) -> io::Result<()> {
    match cmd {
        Cmd::Populate {
            conn,
            mailbox,
            count,
            size_mix,
            batch,
            pipeline,
            seed,
        } => populate(&conn, &mailbox, count, size_mix, batch, pipeline, seed).await,
        Cmd::Select {
            conn,
            mailbox,
            reps,
            warmup,
        } => select(&conn, &mailbox, reps, warmup).await,
        Cmd::FetchFlags {
            conn,
            mailbox,
            reps,
            warmup,
        } => fetch_flags(&conn, &mailbox, reps, warmup).await,
        Cmd::Fetch {
            conn,
            mailbox,
            command,
            name,
            reps,
            warmup,
        } => timed_fetch(&conn, &mailbox, &command, &name, reps, warmup).await,
        Cmd::AppendBig {
            conn,
            mailbox,
            size_mb,
        } => append_big(&conn, &mailbox, size_mb).await,
        Cmd::Append {
            conn,
            mailbox,
            clients,
            count,
            seed,
            mailbox_per_client,
        } => append(&conn, &mailbox, clients, count, seed, mailbox_per_client).await,
        Cmd::Qresync {
            conn,
            mailbox,
            changes,
            reps,
            warmup,
        } => sync::qresync(&conn, &mailbox, changes, reps, warmup).await,
        Cmd::IdleLatency {
            conn,
            mailbox,
            reps,
            warmup,
        } => sync::idle_latency(&conn, &mailbox, reps, warmup).await,
        Cmd::Lmtp {
            addr,
            label,
            sessions,
            count,
            recipients,
            rcpt_format,
            seed,
        } => {
            lmtp::run(
                &addr,
                &label,
                sessions,
                count,
                recipients,
                &rcpt_format,
                seed,
            )
            .await
        }
        Cmd::IdleConns {
            conn,
            mailbox,
            count,
            parallel,
            hold_secs,
        } => sync::idle_conns(&conn, &mailbox, count, parallel, hold_secs).await,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let cli = Cli::parse();
    let res = tokio::time::timeout(Duration::from_secs(cli.timeout), run(cli.cmd)).await;
    match res {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            eprintln!("imap-bench: error: {e}");
            std::process::exit(1);
        }
        Err(_) => {
            eprintln!("imap-bench: timed out after {} s", cli.timeout);
            std::process::exit(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let s = stats((1..=10).map(f64::from).collect());
        assert_eq!(s.median, 5.5);
        assert_eq!(s.p90, 9.0);
        assert_eq!(s.min, 1.0);
        assert_eq!(s.max, 10.0);
        assert_eq!(stats(vec![3.0, 1.0, 2.0]).median, 2.0);
    }

    #[test]
    fn exists_parse() {
        assert_eq!(
            exists_of(&[b"* FLAGS ()\r\n".to_vec(), b"* 42 EXISTS\r\n".to_vec()]),
            Some(42)
        );
    }
}
