//! The IMAP connection driver: moves bytes between a socket and a
//! [`Session`], applies STARTTLS when the session asks, waits on the change
//! feed while the session idles, and enforces inactivity timeouts. The
//! session itself never sees the socket.

use crate::serve::Shared;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tidemark_imap_server::{ConnInfo, Outcome, Session};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Time allowed for a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle time allowed before authentication.
const PRE_AUTH_TIMEOUT: Duration = Duration::from_secs(60);
/// Inactivity after authentication: at least 30 minutes (RFC 9051 5.4).
const AUTH_TIMEOUT: Duration = Duration::from_secs(31 * 60);

/// Serves one accepted TCP connection. `implicit_tls`: the IMAPS port, so
/// the handshake comes first.
pub async fn handle_imap(
    stream: TcpStream,
    peer: SocketAddr,
    implicit_tls: bool,
    shared: Arc<Shared>,
) {
    let _ = stream.set_nodelay(true);
    let ctx = shared.imap_context();
    let conn = ConnInfo::new(peer, implicit_tls);
    let mut session = Session::new(ctx, conn);
    if implicit_tls {
        let Some(tls) = handshake(&shared, stream, peer).await else {
            return;
        };
        session.tls_started(channel_binding(&tls));
        drive_to_end(tls, &mut session, &shared).await;
        return;
    }
    let mut stream = stream;
    match drive(&mut stream, &mut session, &shared).await {
        Ok(Outcome::StartTls) => {
            let Some(tls) = handshake(&shared, stream, peer).await else {
                return;
            };
            session.tls_started(channel_binding(&tls));
            drive_to_end(tls, &mut session, &shared).await;
        }
        Ok(Outcome::Compress) => compressed(stream, &mut session, &shared).await,
        _ => {
            let _ = stream.shutdown().await;
        }
    }
}

/// Runs the session over `stream` (no STARTTLS possible any more) until it
/// ends, switching to DEFLATE if the client asks.
async fn drive_to_end<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    session: &mut Session,
    shared: &Shared,
) {
    match drive(&mut stream, session, shared).await {
        Ok(Outcome::Compress) => compressed(stream, session, shared).await,
        _ => {
            let _ = stream.shutdown().await;
        }
    }
}

/// The rest of the session under COMPRESS=DEFLATE (RFC 4978).
async fn compressed<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    session: &mut Session,
    shared: &Shared,
) {
    let buffered = session.take_compressed_input();
    let mut z = crate::compress::Deflate::new(stream, buffered);
    let _ = drive(&mut z, session, shared).await;
    let _ = z.shutdown().await;
}

/// A connection over the per-address limit: the plain port gets a BYE
/// greeting (RFC 9051 7.1.5), LMTP a 421; the TLS port is closed without a handshake
/// (not worth the CPU).
pub async fn refuse(mut stream: TcpStream, proto: crate::serve::Proto) {
    let bye: &[u8] = match proto {
        crate::serve::Proto::Imap => {
            b"* BYE [UNAVAILABLE] Too many connections from your address\r\n"
        }
        crate::serve::Proto::Lmtp => b"421 4.7.0 Too many connections from your address\r\n",
        crate::serve::Proto::Imaps => b"",
    };
    if !bye.is_empty() {
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.write_all(bye)).await;
    }
    let _ = stream.shutdown().await;
}

async fn handshake(
    shared: &Shared,
    stream: TcpStream,
    peer: SocketAddr,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let acceptor = shared.tls.acceptor();
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => Some(tls),
        Ok(Err(e)) => {
            tracing::debug!(%peer, "TLS handshake failed: {e}");
            None
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            None
        }
    }
}

/// The `tls-exporter` channel binding (RFC 9266) for SCRAM-SHA-256-PLUS:
/// 32 bytes exported with the label `EXPORTER-Channel-Binding` and an empty
/// context. Only for TLS 1.3 (with TLS 1.2 the exporter is safe only with
/// the extended master secret, RFC 9266 3).
fn channel_binding(tls: &tokio_rustls::server::TlsStream<TcpStream>) -> Option<Vec<u8>> {
    let (_, conn) = tls.get_ref();
    if conn.protocol_version() != Some(rustls::ProtocolVersion::TLSv1_3) {
        return None;
    }
    conn.export_keying_material(
        vec![0u8; tidemark_sasl::scram::EXPORTER_LEN],
        tidemark_sasl::scram::EXPORTER_LABEL,
        Some(&[]),
    )
    .ok()
}

/// Runs the commands in `data`, writing large output while they run: the
/// session sends chunks through a channel of two, drained here at the same
/// time, so a slow reader holds the command back instead of the server
/// buffering the whole answer.
async fn run_input<S: AsyncWrite + Unpin>(
    stream: &mut S,
    session: &mut Session,
    data: &[u8],
) -> std::io::Result<(Vec<u8>, Outcome)> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(2);
    session.set_output_sink(Some(tx));
    let work = async {
        let r = session.handle_input(data).await;
        session.set_output_sink(None);
        r
    };
    let drain = async {
        let mut result = Ok(());
        while let Some(chunk) = rx.recv().await {
            // After a write error the rest is read and dropped, so the
            // command is never stuck on a full channel.
            if result.is_ok() {
                result = stream.write_all(&chunk).await;
            }
        }
        result
    };
    let (r, written) = tokio::join!(work, drain);
    written?;
    Ok(r)
}

enum Wake {
    /// Bytes read; `true` when into the small IDLE buffer.
    Read(std::io::Result<usize>, bool),
    /// The change feed spoke (IDLE, or NOTIFY between commands).
    Notice(Result<tidemark_store::ChangeNotice, tokio::sync::broadcast::error::RecvError>),
    Timeout,
    Shutdown,
}

/// Bytes read from the client at a time.
const READ_BUF: usize = 16 * 1024;
/// ... and while the session is in IDLE.
const IDLE_READ_BUF: usize = 512;

/// Runs the session over one transport until it closes or asks for TLS.
/// The greeting is sent once, on the first transport.
async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    session: &mut Session,
    shared: &Shared,
) -> std::io::Result<Outcome> {
    if !session.greeted() {
        let greeting = session.greeting();
        stream.write_all(&greeting).await?;
        stream.flush().await?;
    }
    let mut shutdown = shared.shutdown.clone();
    let mut buf = vec![0u8; READ_BUF];
    // While in IDLE the client sends at most DONE (and maybe the next
    // command), so the big buffer is given back and a small one on the
    // stack used: an idling connection then holds ~16 KiB less.
    let mut small = [0u8; IDLE_READ_BUF];
    loop {
        if session.is_idling() {
            buf = Vec::new();
        } else if buf.is_empty() {
            buf = vec![0u8; READ_BUF];
        }
        // Before authentication: idle at most PRE_AUTH_TIMEOUT, and done
        // within `[limits] login_timeout_secs` of connecting however slowly
        // bytes trickle in (slowloris).
        let limit = if session.is_authenticated() {
            AUTH_TIMEOUT
        } else {
            let deadline = shared.config.limits.login_timeout;
            PRE_AUTH_TIMEOUT.min(deadline.saturating_sub(session.age()))
        };
        let idling = session.is_idling();
        // On shutdown a command partly received (an APPEND literal still
        // arriving) is read to its end and run; the BYE comes after it.
        let stoppable = !session.mid_command();
        let wake = if session.wants_notices()
            && let Some(rx) = session.idle_receiver()
        {
            let read_buf: &mut [u8] = if idling { &mut small } else { &mut buf };
            tokio::select! {
                r = stream.read(read_buf) => Wake::Read(r, idling),
                n = rx.recv() => match n {
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => Wake::Timeout,
                    n => Wake::Notice(n),
                },
                _ = tokio::time::sleep(limit) => Wake::Timeout,
                _ = shutdown.wait_for(|s| *s), if stoppable => Wake::Shutdown,
            }
        } else {
            tokio::select! {
                r = stream.read(&mut buf) => Wake::Read(r, false),
                _ = tokio::time::sleep(limit) => Wake::Timeout,
                _ = shutdown.wait_for(|s| *s), if stoppable => Wake::Shutdown,
            }
        };
        match wake {
            Wake::Read(Ok(0), _) => return Ok(Outcome::Close),
            Wake::Read(Ok(n), in_small) => {
                let data = if in_small { &small[..n] } else { &buf[..n] };
                let (out, outcome) = run_input(stream, session, data).await?;
                if !out.is_empty() {
                    stream.write_all(&out).await?;
                    stream.flush().await?;
                }
                if outcome != Outcome::Continue {
                    return Ok(outcome);
                }
            }
            Wake::Read(Err(e), _) => return Err(e),
            Wake::Notice(n) => {
                let out = session.handle_notice(n).await;
                if !out.is_empty() {
                    stream.write_all(&out).await?;
                    stream.flush().await?;
                }
            }
            Wake::Timeout => {
                stream
                    .write_all(&session.bye(if session.is_authenticated() {
                        "Autologout; idle for too long"
                    } else {
                        "Authentication took too long"
                    }))
                    .await?;
                stream.flush().await?;
                return Ok(Outcome::Close);
            }
            Wake::Shutdown => {
                stream.write_all(&session.shutdown_bye()).await?;
                stream.flush().await?;
                return Ok(Outcome::Close);
            }
        }
    }
}
