//! The IMAP session layer of tidemark: async, but socket-free.
//!
//! ```text
//! session.rs        Session: the four states, the input loop, dispatch, sync
//! command_table.rs  one row per command: allowed states, sequence/expunge flags
//! commands/*.rs     one file per command (MOVE shares copy.rs)
//! selected.rs       the selected mailbox view: MSN<->UID map, pending expunges
//! error.rs          CommandError and the one StoreError -> response code mapping
//! list_match.rs     LIST/LSUB wildcard matching
//! observer.rs       SessionObserver: the hook metrics hang on
//! password.rs       password hashing for LOGIN/PLAIN
//! throttle.rs       failed-authentication throttling per address and account
//! ```
//!
//! The network layer feeds bytes with [`Session::handle_input`] and writes
//! what it returns; STARTTLS and COMPRESS are [`Outcome`]s it applies. No handler ever
//! touches a socket.

pub mod command_table;
mod commands;
pub mod error;
pub mod list_match;
pub mod mime_imap;
mod names;
pub mod observer;
pub mod password;
pub mod selected;
pub mod session;
pub mod throttle;

pub use observer::{CommandResult, SessionObserver};
pub use session::{ConnInfo, Outcome, ServerContext, Session, SessionConfig, TokenValidator};
