//! COMPRESS (RFC 4978): DEFLATE only. The tagged OK goes out
//! uncompressed; from the byte after it (and after the client's CRLF), both
//! directions are raw DEFLATE, which the network layer applies (an
//! [`Outcome`], like STARTTLS).

use crate::error::CommandError;
use crate::session::{CmdResult, Done, Outcome, Session};
use tidemark_imap_proto::Code;

pub(crate) fn run(s: &mut Session, mechanism: String) -> CmdResult {
    if s.conn.compressed {
        return Err(CommandError::no(
            Some(Code::CompressionActive),
            "DEFLATE is already active",
        ));
    }
    if !mechanism.eq_ignore_ascii_case("DEFLATE") {
        return Err(CommandError::no(
            Some(Code::Cannot),
            format!("Unknown compression mechanism {mechanism}; DEFLATE is supported"),
        ));
    }
    s.conn.compressed = true;
    s.outcome = Outcome::Compress;
    Ok(Done::ok("DEFLATE active"))
}
