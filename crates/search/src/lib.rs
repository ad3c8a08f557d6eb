//! What SEARCH, SORT and THREAD see of a message, computed without I/O so a
//! store can index it at delivery and a scan computes exactly the same:
//!
//! - [`fold`]: the comparison key of i;unicode-casemap (RFC 5051),
//!   approximated by NFKD + Unicode full case folding + NFKD.
//! - [`SearchDoc`]: the folded header and body text that SEARCH's HEADER,
//!   BODY and TEXT keys look in.
//! - [`Summary`]: the per-message values of the header keys (FROM, TO, CC,
//!   BCC, SUBJECT), SENT* dates, SORT keys and THREAD inputs.
//! - [`thread`]: the THREAD algorithms (ORDEREDSUBJECT, REFERENCES) over
//!   those inputs.

pub mod date;
pub mod decode;
pub mod doc;
pub mod sortkeys;
pub mod summary;
pub mod thread;

pub use date::{SentDate, days_from_civil, parse_date};
pub use decode::{decode_header_value, decoded_header, to_unicode};
pub use doc::SearchDoc;
pub use summary::Summary;

use unicode_normalization::UnicodeNormalization;

/// The i;unicode-casemap key of `s` (RFC 5051): every character mapped to
/// its simple titlecase (UnicodeData.txt), then NFKD. So `é`, `E\u{301}`
/// and `É` compare equal and `ß` does not equal `SS`. NUL becomes U+FFFD:
/// SQL text functions (and so the index) end a string at NUL, and text and
/// needles must be folded alike.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // ASCII runs take a fast path: titlecase is uppercase and NFKD leaves
    // them alone. Splitting there is exact: ASCII characters are starters,
    // so no decomposition or reordering crosses them.
    let mut rest = s;
    while !rest.is_empty() {
        let ascii = rest.bytes().take_while(u8::is_ascii).count();
        for b in rest[..ascii].bytes() {
            out.push(if b == 0 {
                '\u{fffd}'
            } else {
                b.to_ascii_uppercase() as char
            });
        }
        rest = &rest[ascii..];
        let other = rest.bytes().take_while(|b| !b.is_ascii()).count();
        let titled: String = rest[..other].chars().map(sortkeys::title_char).collect();
        out.extend(titled.nfkd());
        rest = &rest[other..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_agrees_with_the_full_fold() {
        let full = |s: &str| -> String {
            let titled: String = s
                .chars()
                .map(|c| {
                    if c == '\0' {
                        '\u{fffd}'
                    } else {
                        sortkeys::title_char(c)
                    }
                })
                .collect();
            titled.nfkd().collect()
        };
        for s in [
            "Hello World",
            "Straße STRASSE",
            "e\u{301}te\u{301} É",
            "A\u{308}\u{323}b ΣΊΣΥΦΟΣ ﬁ İstanbul",
            "mixed ASCII,\0 日本語 Ωmega x\u{327}\u{301}",
            "",
        ] {
            assert_eq!(fold(s), full(s), "{s:?}");
        }
    }

    #[test]
    fn folding() {
        // RFC 5051: simple titlecase (ß has none) then NFKD.
        assert!(!fold("Straße").contains(&fold("STRASSE")));
        assert!(fold("Straße").contains(&fold("STRAßE")));
        // RFC 5051 to the letter: U+FB01 has no simple titlecase, and NFKD
        // then gives a lowercase "fi", which no needle but "ﬁ" reaches
        // (Dovecot agrees).
        assert!(!fold("ﬁnancial").contains(&fold("FIN")));
        assert!(fold("ﬁnancial").contains(&fold("ﬁN")));
        assert!(!fold("Entwürfe").contains(&fold("WURF")));
        assert!(fold("Entwürfe").contains(&fold("WU\u{308}RF")));
        assert_eq!(fold("é"), fold("E\u{301}"));
        assert_eq!(fold("ǆ"), fold("Ǆ"));
        assert_eq!(fold("σ"), fold("ς"));
    }
}
