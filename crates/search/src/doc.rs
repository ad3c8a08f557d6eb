//! The searchable text of one message, exactly as SEARCH compares it: an
//! index stores this text, and a scan computes the same text, so both give
//! the same answer.

use tidemark_mime::MessageStructure;

use crate::decode::{body_text, decoded_header};
use crate::fold;

/// Folded text of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchDoc {
    /// `name: value\n` for every field of the top-level header, values
    /// unfolded and RFC 2047-decoded, then folded as a whole.
    pub header: String,
    /// The decoded text of every text/* leaf (and the decoded headers of
    /// attached messages), each followed by `\n`, then folded.
    pub body: String,
    /// `false` when `body` was cut at the size limit: a search over it may
    /// miss text beyond the cut and must not be trusted to say "no".
    pub complete: bool,
}

impl SearchDoc {
    /// The text of `raw` (whose structure is `structure`), the body cut once
    /// its decoded text reaches `body_limit` bytes.
    pub fn new(raw: &[u8], structure: &MessageStructure, body_limit: usize) -> Self {
        let (body, cut) = body(raw, structure, body_limit);
        Self {
            header: header_text(raw, structure),
            body,
            complete: !cut,
        }
    }
}

/// The folded header text of `raw`.
pub fn header_text(raw: &[u8], structure: &MessageStructure) -> String {
    let root = &structure.root;
    let mut s = String::new();
    for (n, v) in decoded_header(raw, root.header_start, root.body_start) {
        s.push_str(&String::from_utf8_lossy(&n));
        s.push_str(": ");
        s.push_str(&v);
        s.push('\n');
    }
    fold(&s)
}

/// The folded body text, and whether it was cut at `limit` bytes.
pub fn body(raw: &[u8], structure: &MessageStructure, limit: usize) -> (String, bool) {
    let mut s = String::new();
    body_text(raw, &structure.root, 0, &mut s, limit);
    let cut = limit != usize::MAX && s.len() >= limit;
    (fold(&s), cut)
}
