//! Mail files on disk: mbox (mboxrd, RFC 4155) and Maildir / Maildir++ as
//! Dovecot and mutt lay them out. Pure format code (no store): reading
//! streams one message at a time with a size bound, writing produces what
//! Dovecot reads back with the same UIDs, flags and keywords.
//!
//! Bytes are kept as they are: LF-only messages stay LF-only, CRLF stay
//! CRLF (like Dovecot; IMAP clients get what the sender wrote). So an
//! export followed by an import gives the same bytes, with one exception
//! documented in [`mbox`]: an mbox message must end with a line break.

pub mod maildir;
pub mod mbox;

use tidemark_store::{Flags, SystemFlag};

/// The keyword Maildir's `P` ("passed": resent/forwarded) flag becomes; IMAP
/// has no system flag for it.
pub const FORWARDED: &str = "$Forwarded";

/// Whether `k` can be stored as an IMAP keyword (an atom: no specials, no
/// controls, not a system flag).
pub fn valid_keyword(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 256
        && !k.starts_with('\\')
        && k.bytes().all(|b| {
            b.is_ascii_graphic()
                && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
        })
}

/// Adds a keyword if it is valid; returns whether it was.
pub fn add_keyword(flags: &mut Flags, k: &str) -> bool {
    if valid_keyword(k) {
        flags.insert_keyword(k.to_string());
        true
    } else {
        false
    }
}

/// The system flags with their Maildir info letter, in the order Maildir
/// requires (ASCII).
pub const MAILDIR_LETTERS: [(u8, SystemFlag); 5] = [
    (b'D', SystemFlag::Draft),
    (b'F', SystemFlag::Flagged),
    (b'R', SystemFlag::Answered),
    (b'S', SystemFlag::Seen),
    (b'T', SystemFlag::Deleted),
];
