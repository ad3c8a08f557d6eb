//! Mailbox names between the wire and the store: the store speaks UTF-8
//! with `/`; IMAP4rev1 clients speak modified UTF-7 (RFC 3501 5.1.3),
//! IMAP4rev2 / UTF8=ACCEPT clients UTF-8.

use crate::error::CommandError;
use crate::list_match::DELIMITER;
use tidemark_imap_proto::Mailbox;

/// Decodes a mailbox name from the wire. A trailing delimiter is dropped
/// (`CREATE a/` creates `a`).
pub fn decode(name: &Mailbox, utf8: bool) -> Result<String, CommandError> {
    let mut s = name.to_utf8(!utf8).ok_or_else(|| {
        CommandError::bad(
            None,
            if utf8 {
                "Mailbox name is not valid UTF-8"
            } else {
                "Mailbox name is not valid modified UTF-7"
            },
        )
    })?;
    if s.len() > 1 && s.ends_with(DELIMITER) {
        s.pop();
    }
    if s.eq_ignore_ascii_case("INBOX") {
        return Ok("INBOX".to_string());
    }
    if let Some(rest) = s.get(..6)
        && rest.eq_ignore_ascii_case("INBOX/")
    {
        s.replace_range(..5, "INBOX");
    }
    Ok(s)
}

/// Decodes a LIST pattern or reference (no trailing-delimiter rule).
pub fn decode_pattern(raw: &[u8], utf8: bool) -> Result<String, CommandError> {
    let m = Mailbox::new(raw.to_vec());
    let s = if m.is_inbox() {
        Some("INBOX".to_string())
    } else {
        m.to_utf8(!utf8)
    };
    s.ok_or_else(|| CommandError::bad(None, "Pattern is not valid for this mailbox name encoding"))
}

/// Encodes a store name for the wire as a [`Mailbox`]; the encoder applies
/// modified UTF-7 when the session needs it.
pub fn encode(name: &str) -> Mailbox {
    Mailbox::new(name.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_both_encodings() {
        let m = Mailbox::new(b"Entw&APw-rfe".to_vec());
        assert_eq!(decode(&m, false).unwrap(), "Entwürfe");
        assert_eq!(decode(&m, true).unwrap(), "Entw&APw-rfe");
        let u = Mailbox::new("Entwürfe".as_bytes().to_vec());
        assert_eq!(decode(&u, true).unwrap(), "Entwürfe");
        assert_eq!(
            decode(&Mailbox::new(b"inbox/Sub/".to_vec()), true).unwrap(),
            "INBOX/Sub"
        );
    }
}
