//! A hook for whoever watches sessions from outside (metrics, logs), so
//! this crate stays free of any metrics or HTTP dependency.
//!
//! The session calls the observer at a handful of places only:
//! - [`SessionObserver::command`] when a command gets its tagged answer
//!   ([`crate::Session`]'s one `tagged` method; the command started in
//!   `run_command`, the one dispatch point). Commands the decoder refused
//!   before they could run are reported as [`INVALID`].
//! - [`SessionObserver::auth_failed`] with each failed authentication.
//! - [`SessionObserver::logged_in`] / [`SessionObserver::logged_out`] when
//!   a session starts and stops counting for an account (the same place
//!   the per-account session limit counts).
//!
//! Calls are synchronous and on the session's task: keep them cheap.

use std::time::Duration;

/// The name reported for a command line that never ran (unparsable, or
/// refused before its literal arrived).
pub const INVALID: &str = "INVALID";

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandResult {
    Ok,
    No,
    Bad,
}

impl CommandResult {
    /// `ok`, `no` or `bad` (metric labels).
    pub fn as_str(self) -> &'static str {
        match self {
            CommandResult::Ok => "ok",
            CommandResult::No => "no",
            CommandResult::Bad => "bad",
        }
    }
}

/// Watches sessions; see the module docs for when each method is called.
pub trait SessionObserver: Send + Sync {
    /// A command ended; `name` as in `CommandBody::name` (`"UID FETCH"`) or
    /// [`INVALID`]; `elapsed` from dispatch to the tagged answer (for IDLE
    /// and AUTHENTICATE that includes waiting for the client).
    fn command(&self, name: &str, result: CommandResult, elapsed: Duration);
    /// An authentication failed; `mechanism` is `LOGIN`, a SASL mechanism
    /// name, or `auth_http` (the HTTP proxy check).
    fn auth_failed(&self, mechanism: &str);
    /// A session now counts for `user`.
    fn logged_in(&self, user: &str);
    /// A session no longer counts for `user` (logout, closed connection).
    fn logged_out(&self, user: &str);
}
