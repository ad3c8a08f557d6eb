//! STARTTLS (RFC 9051 6.2.1): the tagged OK goes out in plaintext, then the
//! network layer starts TLS (an [`Outcome`], never a socket operation here).

use crate::error::CommandError;
use crate::session::{CmdResult, Done, Outcome, Session};
use tidemark_imap_proto::Code;

pub(crate) fn run(s: &mut Session) -> CmdResult {
    if s.conn.tls {
        return Err(CommandError::bad(
            Some(Code::ClientBug),
            "TLS is already active",
        ));
    }
    if s.conn.compressed {
        // RFC 4978 4: TLS goes under compression, never over it.
        return Err(CommandError::bad(
            Some(Code::ClientBug),
            "STARTTLS after COMPRESS is not allowed",
        ));
    }
    if !s.ctx.config.starttls_available {
        return Err(CommandError::no(
            Some(Code::Unavailable),
            "TLS is not configured",
        ));
    }
    s.outcome = Outcome::StartTls;
    Ok(Done::ok("Begin TLS negotiation now"))
}
