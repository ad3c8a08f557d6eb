//! The searchable text of one message, exactly as SEARCH compares it: an
//! index stores this text, and a scan computes the same text, so both give
//! the same answer.
//!
//! - `header`: the top-level header, one `name:value` line per field, the
//!   value as written after the colon, unfolded and RFC 2047-decoded (what
//!   HEADER and TEXT look in; RFC 3501 HEADER: "what comes after the colon").
//! - `mime`: the same for the header of every body part and of attached
//!   messages (RFC 9051 TEXT: "header (including MIME header fields) or
//!   body"; BODY does not look here).
//! - `body`: the decoded text (transfer encoding and charset undone) of
//!   every text/* leaf, attached messages' included.

use tidemark_mime::MessageStructure;

use crate::decode::{body_text, part_headers, push_header_text};
use crate::fold;

/// Version of what [`SearchDoc`] holds; bumped when extraction or folding
/// changes, so stored docs are rebuilt.
pub const TEXT_VERSION: u32 = 3;

/// Folded text of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchDoc {
    pub header: String,
    pub mime: String,
    pub body: String,
    /// `false` when `mime` or `body` was cut at the size limit: a search
    /// over them may miss text beyond the cut and must not be trusted to say
    /// "no".
    pub complete: bool,
}

impl SearchDoc {
    /// The text of `raw` (whose structure is `structure`), `mime` and
    /// `body` each cut once they reach `limit` bytes.
    pub fn new(raw: &[u8], structure: &MessageStructure, limit: usize) -> Self {
        let (body, body_cut) = body(raw, structure, limit);
        let (mime, mime_cut) = mime_headers(raw, structure, limit);
        Self {
            header: header_text(raw, structure),
            mime,
            body,
            complete: !body_cut && !mime_cut,
        }
    }
}

/// Cuts `s` to at most `limit` bytes (at a character boundary); whether
/// anything was cut (text that reached the limit counts as cut).
fn truncate(s: &mut String, limit: usize) -> bool {
    if limit == usize::MAX || s.len() < limit {
        return false;
    }
    let mut end = limit;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    true
}

/// The folded top-level header text of `raw`.
pub fn header_text(raw: &[u8], structure: &MessageStructure) -> String {
    let root = &structure.root;
    let mut s = String::new();
    push_header_text(raw, root.header_start, root.body_start, &mut s);
    fold(&s)
}

/// The folded header text of the body parts, and whether it was cut.
pub fn mime_headers(raw: &[u8], structure: &MessageStructure, limit: usize) -> (String, bool) {
    let mut s = String::new();
    part_headers(raw, &structure.root, true, 0, &mut s, limit);
    let cut = truncate(&mut s, limit);
    (fold(&s), cut)
}

/// The folded body text, and whether it was cut at `limit` bytes.
pub fn body(raw: &[u8], structure: &MessageStructure, limit: usize) -> (String, bool) {
    let mut s = String::new();
    body_text(raw, &structure.root, 0, &mut s, limit);
    let cut = truncate(&mut s, limit);
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
        assert!(d.header.contains(&fold("SUBJECT: GRÜßE AUS KÖLN")));
        assert!(!d.header.contains(&fold("GRÜSSE")));
        assert!(d.header.contains(&fold("andré <ANDRE@")));
        assert!(!d.header.contains("=?"));
        assert!(d.body.contains(&fold("CAFÉ CRÈME")));
        assert!(!d.body.contains("subject"));
        assert!(d.complete);
    }

    #[test]
    fn part_headers_are_text_but_not_body() {
        let d = doc(
            "Subject:  two  spaces\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n\
             --B\nContent-Type: text/plain\n\nouter text\n\
             --B\nContent-Type: application/pdf; name=report.pdf\n\nJVBERi0=\n\
             --B\nContent-Type: message/rfc822\n\nSubject: inner subject\nX-Tag: nested\n\ninner text\n\
             --B--\n",
            usize::MAX,
        );
        // The value as written after the colon.
        assert!(d.header.contains(&fold("Subject:  two  spaces\n")));
        assert!(d.mime.contains(&fold("name=report.pdf")));
        assert!(d.mime.contains(&fold("Subject: inner subject")));
        assert!(d.mime.contains(&fold("X-Tag: nested")));
        assert!(!d.header.contains(&fold("report.pdf")));
        assert!(d.body.contains(&fold("outer text")));
        assert!(d.body.contains(&fold("inner text")));
        assert!(!d.body.contains(&fold("nested")));
        assert!(!d.body.contains(&fold("Content-Type")));
        assert!(!d.body.contains(&fold("JVBER")));
    }

    #[test]
    fn body_limit_marks_the_doc_incomplete() {
        let d = doc(MSG, 4);
        assert!(!d.complete);
        assert!(d.body.len() <= 8, "cut at the limit: {:?}", d.body);
        assert!(doc(MSG, 1000).complete);
    }
}
