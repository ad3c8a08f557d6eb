//! What SEARCH, SORT and THREAD see of a message, computed without I/O so a
//! store can index it at delivery and a scan computes exactly the same:
//!
//! - [`fold`]: the comparison key of i;unicode-casemap (RFC 5051),
//!   approximated by NFKD + Unicode full case folding + NFKD.
//! - [`SearchDoc`]: the folded header and body text that SEARCH's HEADER,
//!   BODY and TEXT keys look in.
//! - [`Summary`]: the per-message values of the header keys (FROM, TO, CC,
//!   BCC, SUBJECT), SENT* dates, SORT keys and THREAD inputs.

pub mod date;
pub mod decode;
pub mod doc;
pub mod sortkeys;
pub mod summary;

pub use date::{SentDate, days_from_civil, parse_date};
pub use decode::{decode_header_value, decoded_header, to_unicode};
pub use doc::SearchDoc;
pub use summary::Summary;

use caseless::Caseless;
use unicode_normalization::UnicodeNormalization;

/// The i;unicode-casemap key of `s` (approximated by full case folding).
/// NUL becomes U+FFFD: SQL text functions (and so the index) end a string
/// at NUL, and text and needles must be folded alike.
pub fn fold(s: &str) -> String {
    s.nfkd()
        .default_case_fold()
        .nfkd()
        .map(|c| if c == '\0' { '\u{fffd}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding() {
        assert!(fold("Straße").contains(&fold("STRASSE")));
        assert!(fold("ﬁnancial").contains(&fold("FIN")));
        assert!(!fold("Entwürfe").contains(&fold("WURF")));
    }
}
