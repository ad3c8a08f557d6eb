//! COMPRESS=DEFLATE (RFC 4978) as a transport: raw DEFLATE (RFC 1951, no
//! zlib header) in both directions over any stream (TCP or TLS). Every
//! flush ends the compressed burst with a sync flush (`00 00 ff ff`), so
//! the client can inflate each response as soon as it arrives; the driver
//! flushes after every batch of responses.
//!
//! Reading is cancel-safe (the driver polls it inside `select!`): all
//! state lives in the struct, and data is handed out only when a poll
//! returns ready.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Compressed bytes read from the peer at a time.
const IN_CHUNK: usize = 8 * 1024;
/// Largest piece of a write compressed per call (bounds the output buffer).
const WRITE_CHUNK: usize = 32 * 1024;

pub struct Deflate<S> {
    inner: S,
    inflate: Decompress,
    deflate: Compress,
    /// Compressed input not inflated yet: `input[pos..]`.
    input: Vec<u8>,
    pos: usize,
    /// Compressed output not written to `inner` yet: `output[sent..]`.
    output: Vec<u8>,
    sent: usize,
    /// The peer closed its side.
    eof: bool,
}

impl<S> Deflate<S> {
    /// Wraps `inner`; `buffered`: compressed bytes that already arrived
    /// after the COMPRESS command (a pipelining client).
    pub fn new(inner: S, buffered: Vec<u8>) -> Deflate<S> {
        Deflate {
            inner,
            inflate: Decompress::new(false),
            // Level 6 (zlib's default, as Dovecot uses).
            deflate: Compress::new(Compression::new(6), false),
            input: buffered,
            pos: 0,
            output: Vec::new(),
            sent: 0,
            eof: false,
        }
    }
}

fn corrupt(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("bad DEFLATE data from the client: {e}"),
    )
}

impl<S: AsyncRead + Unpin> AsyncRead for Deflate<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            if this.pos < this.input.len() {
                let before_in = this.inflate.total_in();
                let before_out = this.inflate.total_out();
                let status = this
                    .inflate
                    .decompress(
                        &this.input[this.pos..],
                        buf.initialize_unfilled(),
                        FlushDecompress::None,
                    )
                    .map_err(corrupt)?;
                let used = (this.inflate.total_in() - before_in) as usize;
                let made = (this.inflate.total_out() - before_out) as usize;
                this.pos += used;
                buf.advance(made);
                if this.pos == this.input.len() {
                    this.input.clear();
                    this.pos = 0;
                }
                if made > 0 {
                    return Poll::Ready(Ok(()));
                }
                if status == Status::StreamEnd {
                    // The client ended the DEFLATE stream: treat as EOF.
                    return Poll::Ready(Ok(()));
                }
                if used > 0 {
                    continue;
                }
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            // Need more compressed input.
            let start = this.input.len();
            this.input.resize(start + IN_CHUNK, 0);
            let mut rb = ReadBuf::new(&mut this.input[start..]);
            let r = Pin::new(&mut this.inner).poll_read(cx, &mut rb);
            let n = match r {
                Poll::Ready(Ok(())) => rb.filled().len(),
                Poll::Ready(Err(e)) => {
                    this.input.truncate(start);
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => {
                    this.input.truncate(start);
                    return Poll::Pending;
                }
            };
            this.input.truncate(start + n);
            if n == 0 {
                this.eof = true;
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> Deflate<S> {
    /// Writes out what is compressed so far.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.output.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.output[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.output.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }

    /// Compresses all of `data` into the output buffer (growing it as
    /// needed); with `FlushCompress::Sync`, until the flush is complete.
    fn compress(&mut self, data: &[u8], flush: FlushCompress) -> io::Result<usize> {
        let start = self.deflate.total_in();
        loop {
            self.output.reserve(data.len() / 8 + 4096);
            let spare = self.output.capacity() - self.output.len();
            let len_before = self.output.len();
            let taken = (self.deflate.total_in() - start) as usize;
            self.deflate
                .compress_vec(&data[taken..], &mut self.output, flush)
                .map_err(io::Error::other)?;
            let taken = (self.deflate.total_in() - start) as usize;
            // Done when the input is taken and the space given was not
            // filled (else the compressor may hold more output).
            if taken == data.len() && self.output.len() - len_before < spare {
                return Ok(taken);
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Deflate<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        let piece = &data[..data.len().min(WRITE_CHUNK)];
        Poll::Ready(this.compress(piece, FlushCompress::None))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        this.compress(&[], FlushCompress::Sync)?;
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_flush(cx))?;
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Server side over one end of a duplex pipe, a plain flate2 peer on the
    /// other: every flushed burst inflates on its own; the peer's input,
    /// split anywhere, arrives whole.
    #[tokio::test]
    async fn round_trip_with_sync_flushes() {
        let (a, mut b) = tokio::io::duplex(1 << 20);
        let mut peer_out = Compress::new(Compression::fast(), false);
        let mut hello = Vec::with_capacity(256);
        peer_out
            .compress_vec(b"a1 NOOP\r\na2 NOOP\r\n", &mut hello, FlushCompress::Sync)
            .expect("compress");
        // Half of it arrived with the COMPRESS command's packet.
        let (early, late) = hello.split_at(hello.len() / 2);
        let mut z = Deflate::new(a, early.to_vec());
        b.write_all(late).await.expect("write");
        let mut got = vec![0u8; 18];
        z.read_exact(&mut got).await.expect("read");
        assert_eq!(got, b"a1 NOOP\r\na2 NOOP\r\n");

        let text = "* 1 FETCH (BODY[] {30}\r\nSubject: hello hello hello\r\n)\r\n".repeat(200);
        z.write_all(text.as_bytes()).await.expect("write");
        z.flush().await.expect("flush");
        let mut wire = vec![0u8; 1 << 16];
        let n = b.read(&mut wire).await.expect("read");
        assert!(n < text.len() / 10, "compressed {} to {n}", text.len());
        assert_eq!(
            &wire[n - 4..n],
            &[0, 0, 0xff, 0xff],
            "ends with a sync flush"
        );
        let mut peer_in = Decompress::new(false);
        let mut plain = Vec::with_capacity(text.len() + 16);
        peer_in
            .decompress_vec(&wire[..n], &mut plain, FlushDecompress::Sync)
            .expect("inflate");
        assert_eq!(plain, text.as_bytes());
    }

    #[tokio::test]
    async fn garbage_is_an_error() {
        let (a, mut b) = tokio::io::duplex(1024);
        let mut z = Deflate::new(a, Vec::new());
        b.write_all(&[0xff; 64]).await.expect("write");
        let mut buf = [0u8; 16];
        assert!(z.read(&mut buf).await.is_err());
    }
}
