//! LOGOUT (RFC 9051 6.1.3): BYE, tagged OK, close.

use crate::session::{CmdResult, Done, Outcome, Session, State};
use tidemark_imap_proto::{StatusKind, StatusResponse};

pub(crate) fn run(s: &mut Session) -> CmdResult {
    s.send_status(StatusResponse::untagged(
        StatusKind::Bye,
        None,
        "Logging out",
    ));
    s.state = State::Logout;
    s.outcome = Outcome::Close;
    Ok(Done::ok("LOGOUT completed"))
}
