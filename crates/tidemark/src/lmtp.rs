//! The LMTP listener (RFC 2033): how mail from an MTA (Postfix's
//! `lmtp:inet:` transport, Exim, swaks...) enters the store.
//!
//! The grammar, replies and DATA decoding are in `tidemark-lmtp` (no I/O);
//! this file is the connection driver and the delivery. One message is
//! read, given its `Return-Path`/`Received` lines, parsed once, and
//! appended to every recipient's mailbox at the same time; each recipient
//! gets its own reply after its account's commit returned (RFC 2033 4.2),
//! so a `250` means the message is on disk for that recipient.

use crate::serve::Shared;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tidemark_lmtp::{Command, DataDecoder, DataEnd, MAX_COMMAND_LINE, Reply, parse_command};
use tidemark_store::{Account, Flags, MailboxId, NewMessage, Store, StoreError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// RFC 5321 4.5.3.2.7: a server waits at least 5 minutes for a command.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// ... and for each block of DATA (4.5.3.2.6: 3 minutes on the client side).
const DATA_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Recipients in one transaction: the least RFC 5321 4.5.3.1.8 allows,
/// since each distinct account is opened at RCPT (Postfix sends at most
/// 50 by default; more get 452 and come in the next transaction).
pub const MAX_RECIPIENTS: usize = 100;
/// Bytes read at a time.
const READ_BUF: usize = 64 * 1024;

/// One accepted recipient of the current transaction.
struct Recipient {
    /// The address as given in RCPT TO.
    address: String,
    account: Arc<dyn Account>,
    mailbox: MailboxId,
    mailbox_name: String,
}

struct Transaction {
    from: String,
    recipients: Vec<Recipient>,
}

/// The state of one LMTP connection.
struct Conn {
    peer: SocketAddr,
    tls: bool,
    /// The name given in LHLO.
    lhlo: Option<String>,
    txn: Option<Transaction>,
    /// Input read but not yet used.
    input: Vec<u8>,
    /// Replies not yet written (flushed when the input runs dry, so
    /// pipelined commands get their replies in one write: RFC 2920).
    output: Vec<u8>,
}

/// What ended a run over one transport.
enum End {
    Close,
    StartTls,
}

/// Serves one accepted TCP connection.
pub async fn handle_lmtp(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let mut conn = Conn {
        peer,
        tls: false,
        lhlo: None,
        txn: None,
        input: Vec::new(),
        output: Vec::new(),
    };
    let greeting = Reply::plain(
        220,
        vec![format!("{} LMTP tidemark ready", shared.config.hostname)],
    );
    greeting.encode_into(&mut conn.output);
    let mut stream = stream;
    match drive(&mut stream, &mut conn, &shared).await {
        Ok(End::StartTls) => {
            let acceptor = shared.tls.acceptor();
            let tls = match tokio::time::timeout(Duration::from_secs(30), acceptor.accept(stream))
                .await
            {
                Ok(Ok(tls)) => tls,
                _ => {
                    tracing::debug!(%peer, "LMTP: TLS handshake failed");
                    return;
                }
            };
            // RFC 3207 4.2: forget everything learnt before TLS.
            conn.tls = true;
            conn.lhlo = None;
            conn.txn = None;
            conn.input.clear();
            let mut tls = tls;
            let _ = drive(&mut tls, &mut conn, &shared).await;
            let _ = tls.shutdown().await;
        }
        _ => {
            let _ = stream.shutdown().await;
        }
    }
}

/// Writes what is pending.
async fn flush<S: AsyncWrite + Unpin>(stream: &mut S, conn: &mut Conn) -> std::io::Result<()> {
    if !conn.output.is_empty() {
        stream.write_all(&conn.output).await?;
        stream.flush().await?;
        conn.output.clear();
    }
    Ok(())
}

/// Reads more input (after writing pending replies). `Ok(false)` at end
/// of stream or timeout; `Err` with `Interrupted` on shutdown when
/// `watch_shutdown`.
async fn fill<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    conn: &mut Conn,
    shared: &Shared,
    watch_shutdown: bool,
) -> std::io::Result<bool> {
    flush(stream, conn).await?;
    // Read straight into the input buffer's spare room (no buffer in the
    // connection's future: it stays small).
    conn.input.reserve(READ_BUF);
    let mut shutdown = shared.shutdown.clone();
    let limit = if watch_shutdown {
        COMMAND_TIMEOUT
    } else {
        DATA_TIMEOUT
    };
    let n = tokio::select! {
        r = tokio::time::timeout(limit, stream.read_buf(&mut conn.input)) => match r {
            Ok(r) => r?,
            Err(_) => {
                Reply::new(421, (4, 4, 2), "Timeout, closing connection").encode_into(&mut conn.output);
                flush(stream, conn).await?;
                return Ok(false);
            }
        },
        _ = async { shutdown.wait_for(|s| *s).await.is_ok() }, if watch_shutdown => {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
    };
    Ok(n > 0)
}

/// Takes one line (without its line end) from the buffered input.
/// `Some(Err(()))`: the line is too long (it was dropped).
fn take_line(conn: &mut Conn) -> Option<Result<Vec<u8>, ()>> {
    match conn.input.iter().position(|&b| b == b'\n') {
        Some(i) => {
            let mut line: Vec<u8> = conn.input.drain(..=i).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            Some(if line.len() + 2 > MAX_COMMAND_LINE {
                Err(())
            } else {
                Ok(line)
            })
        }
        None => None,
    }
}

async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    conn: &mut Conn,
    shared: &Shared,
) -> std::io::Result<End> {
    // A line longer than the limit is being skipped.
    let mut skipping = false;
    loop {
        let line = match take_line(conn) {
            Some(Ok(line)) if !skipping => line,
            // Too long, or the tail of a line cut at the limit.
            Some(_) => {
                skipping = false;
                Reply::new(500, (5, 5, 2), "Line too long").encode_into(&mut conn.output);
                continue;
            }
            None => {
                if conn.input.len() > MAX_COMMAND_LINE {
                    // Keep no more than the limit of an over-long line.
                    conn.input.clear();
                    skipping = true;
                }
                match fill(stream, conn, shared, true).await {
                    Ok(true) => continue,
                    Ok(false) => return Ok(End::Close),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                        Reply::new(421, (4, 3, 2), "Server shutting down, try again later")
                            .encode_into(&mut conn.output);
                        flush(stream, conn).await?;
                        return Ok(End::Close);
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        let command = match parse_command(&line) {
            Ok(c) => c,
            Err(reply) => {
                reply.encode_into(&mut conn.output);
                continue;
            }
        };
        match command {
            Command::Quit => {
                Reply::new(221, (2, 0, 0), "Bye").encode_into(&mut conn.output);
                flush(stream, conn).await?;
                return Ok(End::Close);
            }
            Command::StartTls => {
                if conn.tls {
                    Reply::new(503, (5, 5, 1), "TLS is already active")
                        .encode_into(&mut conn.output);
                    continue;
                }
                Reply::new(220, (2, 0, 0), "Ready to start TLS").encode_into(&mut conn.output);
                flush(stream, conn).await?;
                return Ok(End::StartTls);
            }
            Command::Data => {
                let Some(txn) = conn.txn.take() else {
                    Reply::new(503, (5, 5, 1), "MAIL first").encode_into(&mut conn.output);
                    continue;
                };
                if txn.recipients.is_empty() {
                    // The transaction stays open (RFC 5321 3.3): RCPT may follow.
                    conn.txn = Some(txn);
                    Reply::new(554, (5, 5, 1), "No valid recipients").encode_into(&mut conn.output);
                    continue;
                }
                Reply::plain(354, vec!["Start mail input; end with <CRLF>.<CRLF>".into()])
                    .encode_into(&mut conn.output);
                let started = Instant::now();
                let limit = usize::try_from(shared.config.limits.max_literal).unwrap_or(usize::MAX);
                let mut decoder = DataDecoder::new(limit);
                let end = loop {
                    let (used, end) = decoder.feed(&conn.input);
                    conn.input.drain(..used);
                    if let Some(end) = end {
                        break end;
                    }
                    if !fill(stream, conn, shared, false).await? {
                        // The client left mid-DATA: nothing was delivered.
                        return Ok(End::Close);
                    }
                };
                let recipients = txn.recipients.len();
                let replies: Vec<Reply> = match end {
                    DataEnd::TooBig => txn
                        .recipients
                        .iter()
                        .map(|_| {
                            Reply::new(
                                552,
                                (5, 3, 4),
                                "Message size exceeds fixed maximum message size",
                            )
                        })
                        .collect(),
                    DataEnd::Complete => {
                        deliver(conn, shared, txn, decoder.into_message(), started).await
                    }
                };
                let stored = replies.iter().filter(|r| r.is_positive()).count();
                let result = match end {
                    DataEnd::TooBig => "too_big",
                    DataEnd::Complete if stored == recipients => "ok",
                    DataEnd::Complete if stored == 0 => "failed",
                    DataEnd::Complete => "partial",
                };
                shared
                    .metrics
                    .delivery(result, recipients, started.elapsed());
                for r in replies {
                    r.encode_into(&mut conn.output);
                }
            }
            other => {
                let reply = command_reply(conn, shared, other).await;
                reply.encode_into(&mut conn.output);
            }
        }
    }
}

/// The reply to every command but DATA, QUIT and STARTTLS.
async fn command_reply(conn: &mut Conn, shared: &Shared, command: Command) -> Reply {
    let max = shared.config.limits.max_literal;
    match command {
        Command::Lhlo(name) => {
            conn.lhlo = Some(name);
            conn.txn = None;
            let mut lines = vec![
                shared.config.hostname.clone(),
                "PIPELINING".into(),
                "ENHANCEDSTATUSCODES".into(),
                "8BITMIME".into(),
                "SMTPUTF8".into(),
                format!("SIZE {max}"),
            ];
            if !conn.tls {
                lines.push("STARTTLS".into());
            }
            Reply::plain(250, lines)
        }
        Command::HeloOrEhlo => Reply::new(500, (5, 5, 1), "This is LMTP: use LHLO"),
        Command::Mail(from, params) => {
            if conn.lhlo.is_none() {
                Reply::new(503, (5, 5, 1), "LHLO first")
            } else if conn.txn.is_some() {
                Reply::new(503, (5, 5, 1), "Nested MAIL command")
            } else if params.size.is_some_and(|s| s > max) {
                Reply::new(
                    552,
                    (5, 3, 4),
                    "Message size exceeds fixed maximum message size",
                )
            } else {
                conn.txn = Some(Transaction {
                    from,
                    recipients: Vec::new(),
                });
                Reply::new(250, (2, 1, 0), "Ok")
            }
        }
        Command::Rcpt(to) => {
            let Some(txn) = conn.txn.as_mut() else {
                return Reply::new(503, (5, 5, 1), "MAIL first");
            };
            if txn.recipients.len() >= MAX_RECIPIENTS {
                return Reply::new(452, (4, 5, 3), "Too many recipients");
            }
            match resolve(shared.store.as_ref(), &to).await {
                Ok(r) => {
                    txn.recipients.push(r);
                    Reply::new(250, (2, 1, 5), "Ok")
                }
                Err(reply) => reply,
            }
        }
        Command::Rset => {
            conn.txn = None;
            Reply::new(250, (2, 0, 0), "Ok")
        }
        Command::Noop => Reply::new(250, (2, 0, 0), "Ok"),
        Command::Vrfy => Reply::new(252, (2, 5, 2), "Cannot VRFY; send the message to try"),
        Command::Help => Reply::new(214, (2, 0, 0), "See RFC 2033"),
        // The driver answers these itself; never here.
        Command::Data | Command::Quit | Command::StartTls => {
            Reply::new(503, (5, 5, 1), "Bad sequence of commands")
        }
    }
}

/// The account names an address may mean, most specific first, and the
/// `+detail` folder when there is one: `alice+Lists@example.org` is tried
/// as the account `alice+Lists@example.org`, `alice@example.org`,
/// `alice+Lists` and `alice`.
fn candidates(address: &str) -> (Vec<String>, Option<String>) {
    let (local, domain) = match address.rfind('@') {
        Some(i) => (&address[..i], Some(&address[i + 1..])),
        None => (address, None),
    };
    let local = local
        .strip_prefix('"')
        .and_then(|l| l.strip_suffix('"'))
        .unwrap_or(local);
    let (user, detail) = match local.split_once('+') {
        Some((u, d)) if !u.is_empty() => (u, Some(d.to_owned()).filter(|d| !d.is_empty())),
        _ => (local, None),
    };
    let mut given = Vec::new();
    if let Some(d) = domain {
        given.push(format!("{local}@{d}"));
        given.push(format!("{user}@{d}"));
    }
    given.push(local.to_owned());
    given.push(user.to_owned());
    let lower = given.iter().map(|n| n.to_lowercase()).collect::<Vec<_>>();
    let mut names: Vec<String> = Vec::new();
    for n in given.into_iter().chain(lower) {
        if !n.is_empty() && !names.contains(&n) {
            names.push(n);
        }
    }
    (names, detail)
}

/// The reply when the store fails for a reason the client can wait out.
fn temporary() -> Reply {
    Reply::new(451, (4, 3, 0), "Temporary failure, try again later")
}

/// Finds the account (and mailbox) of a recipient address.
async fn resolve(store: &dyn Store, address: &str) -> Result<Recipient, Reply> {
    let (names, detail) = candidates(address);
    for name in &names {
        let account = match store.open_account(name).await {
            Ok(a) => a,
            Err(StoreError::NoSuchAccount) => continue,
            Err(e) => {
                tracing::warn!(%address, "LMTP: cannot open account {name:?}: {e}");
                return Err(temporary());
            }
        };
        // The +detail names a folder only when the account was found
        // without it; a folder that does not exist means INBOX (as
        // Dovecot's lmtp_save_to_detail_mailbox).
        let folder = detail
            .as_deref()
            .filter(|_| !name.contains('+'))
            .unwrap_or("INBOX");
        let info = match account.mailbox(folder).await {
            Ok(i) => Ok(i),
            Err(_) if folder != "INBOX" => account.mailbox("INBOX").await,
            Err(e) => Err(e),
        }
        .map_err(|e| {
            tracing::warn!(%address, "LMTP: no INBOX: {e}");
            temporary()
        })?;
        return Ok(Recipient {
            address: address.to_owned(),
            account,
            mailbox: info.id,
            mailbox_name: info.name,
        });
    }
    Err(Reply::new(
        550,
        (5, 1, 1),
        format!("<{address}> User unknown"),
    ))
}

/// The trace lines put before the message (RFC 5321 4.4): the same for
/// every recipient, so one stored text serves them all.
fn trace_headers(conn: &Conn, shared: &Shared, from: &str, id: &str) -> String {
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    // Header text must not carry line ends from the client.
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    };
    format!(
        "Return-Path: <{}>\r\nReceived: from {} ({})\r\n\tby {} (tidemark) with LMTP{} id {id};\r\n\t{date}\r\n",
        clean(from),
        clean(conn.lhlo.as_deref().unwrap_or("unknown")),
        // TCP-info is an address literal (RFC 5321 4.4, 4.1.3).
        match conn.peer.ip() {
            std::net::IpAddr::V4(a) => format!("[{a}]"),
            std::net::IpAddr::V6(a) => format!("[IPv6:{a}]"),
        },
        shared.config.hostname,
        if conn.tls { "S" } else { "" },
    )
}

/// Stores the message for every recipient; one reply each, in RCPT order.
async fn deliver(
    conn: &Conn,
    shared: &Shared,
    txn: Transaction,
    body: Vec<u8>,
    started: Instant,
) -> Vec<Reply> {
    let id = format!("{:016x}", rand::random::<u64>());
    let trace = trace_headers(conn, shared, &txn.from, &id);
    let mut data = Vec::with_capacity(trace.len() + body.len());
    data.extend_from_slice(trace.as_bytes());
    data.extend_from_slice(&body);
    drop(body);
    let data = Bytes::from(data);
    let structure = tidemark_imap_server::mime_imap::parse_structure(data.clone()).await;
    let message = NewMessage {
        data,
        flags: Flags::new(),
        internal_date: None,
        structure,
    };
    // All recipients at once: each account commits on its own writer, so
    // n recipients cost about one fsync of wall time, not n.
    let results = futures::future::join_all(txn.recipients.iter().map(|r| {
        let m = message.clone();
        async move { r.account.append(r.mailbox, vec![m]).await }
    }))
    .await;
    let size = message.data.len();
    txn.recipients
        .iter()
        .zip(results)
        .map(|(r, result)| match result {
            Ok(out) => {
                tracing::info!(
                    id = %id,
                    from = %txn.from,
                    to = %r.address,
                    mailbox = %r.mailbox_name,
                    uid = out.uids.first().map(|u| u.0).unwrap_or(0),
                    size,
                    ms = started.elapsed().as_millis() as u64,
                    "LMTP: delivered"
                );
                Reply::new(250, (2, 0, 0), format!("<{}> {id} Saved", r.address))
            }
            Err(e) => {
                tracing::warn!(id = %id, to = %r.address, "LMTP: delivery failed: {e}");
                match e {
                    StoreError::TooBig => Reply::new(552, (5, 3, 4), "Message too big"),
                    StoreError::OverQuota => {
                        Reply::new(552, (5, 2, 2), format!("<{}> Mailbox is full", r.address))
                    }
                    _ => temporary(),
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::candidates;

    #[test]
    fn address_candidates() {
        let (names, detail) = candidates("Alice+Lists@Example.org");
        assert_eq!(
            names,
            [
                "Alice+Lists@Example.org",
                "Alice@Example.org",
                "Alice+Lists",
                "Alice",
                "alice+lists@example.org",
                "alice@example.org",
                "alice+lists",
                "alice"
            ]
        );
        assert_eq!(detail.as_deref(), Some("Lists"));
        let (names, detail) = candidates("bob");
        assert_eq!((names, detail), (vec!["bob".to_string()], None));
        let (names, detail) = candidates("\"carol\"@x");
        assert_eq!(names, ["carol@x", "carol"]);
        assert_eq!(detail, None);
        let (_, detail) = candidates("+x@y");
        assert_eq!(detail, None);
    }
}
