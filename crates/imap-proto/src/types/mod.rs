//! Public IMAP types shared by the decoder, the encoder and the session.

mod basic;
mod body;
mod command;
pub(crate) mod datetime;
mod fetch;
mod response;
mod search;

pub use basic::*;
pub use body::*;
pub use command::*;
pub use datetime::*;
pub use fetch::*;
pub use response::*;
pub use search::*;
