//! LMTP (RFC 2033) without I/O: the command grammar (RFC 5321 4.1 with
//! the LHLO greeting), typed replies serialised in one place, and an
//! incremental DATA decoder (dot-unstuffing, end detection, a size limit
//! checked before anything is buffered). The network driver and the
//! delivery live in the `tidemark` crate.

mod command;
mod data;
mod reply;

pub use command::{Command, MailParams, ParseError, parse_command};
pub use data::{DataDecoder, DataEnd};
pub use reply::Reply;

/// Longest command line accepted, CRLF included. RFC 5321 4.5.3.1.4 sets
/// 512; extensions may add to it (4.5.3.1.4), so allow some room.
pub const MAX_COMMAND_LINE: usize = 2048;
