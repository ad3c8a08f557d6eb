//! Scanning one message for the text keys that the index could not decide
//! (RFC 9051 6.4.4): HEADER, BODY and TEXT. The text compared is exactly
//! what the index stores (`tidemark_search::doc`), so a scan and the index
//! give the same answer:
//!
//! - Header values are what follows the colon as written, unfolded and RFC
//!   2047 decoded; only the top-level header is searched by HEADER.
//! - BODY searches the decoded text (transfer encoding undone, charset
//!   converted to UTF-8) of every `text/*` leaf part, including those inside
//!   attached messages (whose decoded header counts as body text too); a
//!   non-MIME message is one text part. `text/html` is searched as written
//!   (tags included). Non-text parts, and the headers of attached
//!   messages, are not BODY.
//! - TEXT matches when the decoded header, the headers of body parts and
//!   attached messages, or the BODY text contain the string.
//! - HEADER with an empty string matches every message that has the field.
//!
//! FROM, TO, CC, BCC, SUBJECT and SENT* are answered from the message's
//! `tidemark_search::Summary` instead (see `search_eval.rs`).

use std::cell::OnceCell;

use tidemark_mime::MessageStructure;
use tidemark_search::{decoded_header, doc, fold};

/// One message's text, decoded lazily.
pub(crate) struct MessageText<'a> {
    raw: &'a [u8],
    structure: &'a MessageStructure,
    /// (field name, folded decoded value) of the top-level header.
    headers: OnceCell<Vec<(Vec<u8>, String)>>,
    header_text: OnceCell<String>,
    mime_text: OnceCell<String>,
    body: OnceCell<String>,
}

impl<'a> MessageText<'a> {
    pub(crate) fn new(raw: &'a [u8], structure: &'a MessageStructure) -> Self {
        Self {
            raw,
            structure,
            headers: OnceCell::new(),
            header_text: OnceCell::new(),
            mime_text: OnceCell::new(),
            body: OnceCell::new(),
        }
    }

    /// The folded `name: value` lines of the top-level header.
    pub(crate) fn header_text(&self) -> &str {
        self.header_text
            .get_or_init(|| doc::header_text(self.raw, self.structure))
    }

    /// The folded headers of body parts and attached messages, whole.
    pub(crate) fn mime_text(&self) -> &str {
        self.mime_text
            .get_or_init(|| doc::mime_headers(self.raw, self.structure, usize::MAX).0)
    }

    /// The folded text of the body's text parts, whole.
    pub(crate) fn body(&self) -> &str {
        self.body
            .get_or_init(|| doc::body(self.raw, self.structure, usize::MAX).0)
    }

    /// Whether a field named `name` (ASCII case-insensitive) has a value
    /// containing `needle` (folded).
    pub(crate) fn field_contains(&self, name: &[u8], needle: &str) -> bool {
        let headers = self.headers.get_or_init(|| {
            let root = &self.structure.root;
            decoded_header(self.raw, root.header_start, root.body_start)
                .into_iter()
                .map(|(n, v)| (n, fold(&v)))
                .collect()
        });
        headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(name) && v.contains(needle))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(raw: &str) -> (Vec<u8>, MessageStructure) {
        let raw = raw.replace('\n', "\r\n").into_bytes();
        let st = tidemark_mime::parse(&raw);
        (raw, st)
    }

    #[test]
    fn quoted_printable_and_base64_bodies() {
        let (raw, st) = text(
            "Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n\
             --XX\nContent-Type: text/plain; charset=iso-8859-1\n\
             Content-Transfer-Encoding: quoted-printable\n\nCaf=E9 cr=\n=E8me\n\
             --XX\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n\
             SGVqIHbDpHJsZGVu\n\
             --XX\nContent-Type: application/octet-stream\n\nsecret binary\n--XX--\n",
        );
        let t = MessageText::new(&raw, &st);
        assert!(t.body().contains(&fold("CAFÉ CRÈME")));
        assert!(t.body().contains(&fold("VÄRLDEN")));
        assert!(!t.body().contains("=E9"));
        assert!(!t.body().contains("SGVQ"));
        assert!(!t.body().contains("SECRET"));
        assert!(t.header_text().contains("SUBJECT: X"));
        assert!(t.mime_text().contains("APPLICATION/OCTET-STREAM"));
    }

    #[test]
    fn header_fields() {
        let (raw, st) = text("Subject: z\nX-Empty:\nX-Prio: High\n\nbody\n");
        let t = MessageText::new(&raw, &st);
        assert!(t.field_contains(b"x-empty", ""));
        assert!(t.field_contains(b"X-PRIO", "HIG"));
        assert!(t.field_contains(b"X-PRIO", " HIG"));
        assert!(!t.field_contains(b"X-Prio", "LOW"));
        assert!(!t.field_contains(b"X-Missing", ""));
    }
}
