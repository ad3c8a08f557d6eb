//! The MIME structure of a stored message, computed once at delivery.
//!
//! ```text
//! lib.rs        the data model (MessageStructure, Part, ContentInfo, Envelope)
//! header.rs     header field splitting and unfolding
//! rfc822.rs     the RFC 822/2045 tokenizer (comments, atoms, tokens, quoted strings)
//! params.rs     Content-Type / Content-Disposition parsing with RFC 2231 merging
//! address.rs    RFC 5322 address lists (with groups) from raw header bytes
//! tree.rs       the boundary scanner that builds the part tree
//! serialize.rs  compact versioned binary form
//! decode.rs     Content-Transfer-Encoding decoding (BINARY)
//! preview.rs    RFC 8970 preview text
//! ```
//!
//! The parser follows the behaviour of Dovecot 2.3 (the reference used for the
//! FETCH corpus) on malformed input: boundaries match by prefix, a parent's
//! boundary closes every open child, a header block may be cut short by a
//! boundary line, and raw header values are kept undecoded (RFC 2047 words and
//! RFC 2231 values are reported as they appear in the message).
//!
//! Work is bounded: at most [`MAX_DEPTH`] nested multipart/message levels and
//! [`MAX_PARTS`] parts; beyond that the rest is treated as a leaf body.

mod address;
mod decode;
mod header;
mod params;
mod preview;
/// The RFC 822 tokenizer (Dovecot's `rfc822-parser`), shared by the
/// search keys' Message-ID, Date and display-name readers.
pub mod rfc822;
mod serialize;
mod tree;

pub use address::{for_humans, parse_addresses};
pub use decode::{DecodeError, decode_transfer};
pub use header::{HeaderField, header_fields};
pub use preview::preview;

/// Nesting limit for multipart and message/rfc822 levels (Dovecot: 100).
pub const MAX_DEPTH: usize = 100;
/// Limit on the total number of parts (Dovecot: 10000).
pub const MAX_PARTS: usize = 10_000;

/// A MIME parameter: name and value exactly as found (RFC 2231 continuations merged).
pub type Param = (Vec<u8>, Vec<u8>);

/// The parsed structure of a whole message; `root` covers the entire message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageStructure {
    pub root: Part,
}

/// One MIME entity: its byte ranges in the raw message and what its headers say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Offset of the first header byte.
    pub header_start: usize,
    /// Offset of the first body byte (the header range includes the blank line).
    pub body_start: usize,
    /// Offset one past the last body byte.
    pub end: usize,
    /// Body size with every bare LF counted as CRLF (what IMAP reports).
    pub body_size: u64,
    /// Number of LF in the body.
    pub body_lines: u64,
    pub content: ContentInfo,
    pub kind: PartKind,
    /// For a message (the root and the child of a message/rfc822 part): its envelope.
    pub envelope: Option<Box<Envelope>>,
}

/// What kind of entity a part is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartKind {
    Leaf,
    /// `multipart/*`; empty when no boundary could be used.
    Multipart(Vec<Part>),
    /// `message/rfc822`: the embedded message (its header starts at the part's body).
    Message(Box<Part>),
}

/// The Content-* header fields of a part, as Dovecot reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentInfo {
    /// Media type as written (`None`: no usable Content-Type, or not a MIME part).
    pub media_type: Option<Vec<u8>>,
    pub media_subtype: Option<Vec<u8>>,
    pub params: Vec<Param>,
    pub id: Option<Vec<u8>>,
    pub description: Option<Vec<u8>>,
    pub transfer_encoding: Option<Vec<u8>>,
    pub md5: Option<Vec<u8>>,
    pub disposition: Option<Vec<u8>>,
    pub disposition_params: Vec<Param>,
    pub language: Vec<Vec<u8>>,
    pub location: Option<Vec<u8>>,
    /// The first token of the last Content-Transfer-Encoding header, even when BODYSTRUCTURE
    /// ignores it (not a MIME part, or trailing garbage): what BINARY decodes with.
    pub decode_cte: Option<Vec<u8>>,
}

/// The envelope of a message, from the raw (undecoded) header values.
/// `None` means the header field is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    pub date: Option<Vec<u8>>,
    pub subject: Option<Vec<u8>>,
    pub from: Vec<Address>,
    pub sender: Vec<Address>,
    pub reply_to: Vec<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub bcc: Vec<Address>,
    pub in_reply_to: Option<Vec<u8>>,
    pub message_id: Option<Vec<u8>>,
}

/// One address. A group start is `(None, None, Some(name), None)`, a group end is all `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub name: Option<Vec<u8>>,
    pub route: Option<Vec<u8>>,
    pub mailbox: Option<Vec<u8>>,
    pub host: Option<Vec<u8>>,
}

impl Part {
    /// The children a section number indexes: multipart children, or for a
    /// message/rfc822 part the parts of the embedded message.
    pub fn is_multipart(&self) -> bool {
        matches!(self.kind, PartKind::Multipart(_))
    }

    /// Case-insensitive test of the media type (`text` when absent, as IMAP defaults).
    pub fn media_type_is(&self, t: &str) -> bool {
        match &self.content.media_type {
            Some(m) => m.eq_ignore_ascii_case(t.as_bytes()),
            None => t.eq_ignore_ascii_case("text"),
        }
    }
}

impl MessageStructure {
    /// The compact binary form (see `serialize.rs`).
    pub fn to_bytes(&self) -> Vec<u8> {
        serialize::to_bytes(self)
    }

    /// Reads [`MessageStructure::to_bytes`] output; `None` on any corruption or unknown version.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        serialize::from_bytes(b)
    }
}

/// Parses a message (CRLF or LF line ends). Never panics; bounded work.
pub fn parse(raw: &[u8]) -> MessageStructure {
    tree::parse(raw)
}
