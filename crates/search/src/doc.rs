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

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(raw: &str, limit: usize) -> SearchDoc {
        let raw = raw.replace('\n', "\r\n");
        SearchDoc::new(raw.as_bytes(), &tidemark_mime::parse(raw.as_bytes()), limit)
    }

    const MSG: &str = "From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.org>\n\
        Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus\n =?UTF-8?B?S8O2bG4=?=\n\
        MIME-Version: 1.0\n\
        Content-Type: text/plain; charset=iso-8859-1\n\
        Content-Transfer-Encoding: quoted-printable\n\
        \n\
        Caf=E9 cr=\n=E8me\n";

    #[test]
    fn header_and_body_are_decoded_and_folded() {
        let d = doc(MSG, usize::MAX);
        assert!(d.header.contains(&fold("SUBJECT: GRÜSSE AUS KÖLN")));
        assert!(d.header.contains(&fold("andré <ANDRE@")));
        assert!(!d.header.contains("=?"));
        assert!(d.body.contains(&fold("CAFÉ CRÈME")));
        assert!(!d.body.contains("subject"));
        assert!(d.complete);
    }

    #[test]
    fn body_limit_marks_the_doc_incomplete() {
        let d = doc(MSG, 4);
        assert!(!d.complete);
        assert!(doc(MSG, 1000).complete);
    }
}
