//! NOOP (RFC 9051 6.1.2) and CHECK (RFC 3501 6.4.1): nothing to do; the
//! session's end-of-command sync announces pending mailbox changes.

use crate::session::{CmdResult, Done, Session};

pub(crate) fn run(_s: &mut Session, name: &str) -> CmdResult {
    Ok(Done::ok(format!("{name} completed")))
}
