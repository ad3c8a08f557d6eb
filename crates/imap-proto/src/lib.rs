//! Sans-io IMAP4rev2 (RFC 9051) protocol layer for tidemark.
//!
//! * [`types`]: commands, search keys, fetch attributes, responses.
//! * [`decode::CommandDecoder`]: incremental, limit-checked command decoder.
//! * [`encode::encode_response`]: the one response encoder.
//! * [`utf7`]: modified UTF-7 for mailbox names (RFC 3501 §5.1.3).
//! * [`sequence`]: sequence sets and their resolution.
//!
//! No I/O happens here: the network layer feeds bytes in and writes bytes out.

pub mod decode;
pub mod encode;
pub mod sequence;
pub mod types;
pub mod utf7;

pub use decode::{CommandDecoder, DecodeError, ErrorKind, Event, Limits};
pub use encode::{EncodeOptions, MailboxEncoding, encode_response};
pub use sequence::{SeqBound, SeqItem, SequenceSet};
pub use types::*;
