//! Text keys of SEARCH (RFC 9051 6.4.4), answered by scanning one message:
//! BCC, BODY, CC, FROM, HEADER, SUBJECT, TEXT, TO and SENTBEFORE/SENTON/
//! SENTSINCE. No index is used (the indexed search is a later issue).
//!
//! Matching is a case-insensitive substring test under i;unicode-casemap,
//! approximated by Unicode full case folding: both sides are folded with
//! `nfkd().default_case_fold().nfkd()` (so `ß` matches `SS`).
//!
//! - Header values are unfolded and RFC 2047 encoded words are decoded;
//!   address fields (FROM, TO, CC, BCC) match against the decoded text of the
//!   field, every occurrence of the field counts. Only the top-level header
//!   of the message is searched by the header keys.
//! - BODY searches the decoded text (transfer encoding undone, charset
//!   converted to UTF-8) of every `text/*` leaf part, including those inside
//!   attached messages (whose decoded header counts as body text too); a
//!   non-MIME message is one text part. `text/html` is searched as written
//!   (tags included). Non-text parts are never searched.
//! - TEXT matches when the decoded header or the BODY text contains the string.
//! - HEADER with an empty string matches every message that has the field.
//! - SENT* compare the day written in the `Date:` header (its own zone, time
//!   ignored). A message without a Date header, or with one whose day, month
//!   and year cannot be parsed, never matches any SENT* key (so
//!   `NOT SENTON x` does match it).

use std::cell::OnceCell;

use caseless::Caseless;
use tidemark_imap_proto::{Date, SearchKey};
use tidemark_mime::{MessageStructure, Part, PartKind, decode_transfer, header_fields};
use unicode_normalization::UnicodeNormalization;

/// The i;unicode-casemap key of `s` (approximated by full case folding).
pub(crate) fn fold(s: &str) -> String {
    s.nfkd().default_case_fold().nfkd().collect()
}

fn fold_bytes(b: &[u8]) -> String {
    fold(&String::from_utf8_lossy(b))
}

/// Whether `key` is one of the keys this module answers.
pub(crate) fn is_text_key(key: &SearchKey) -> bool {
    use SearchKey as K;
    matches!(
        key,
        K::Bcc(_)
            | K::Body(_)
            | K::Cc(_)
            | K::From(_)
            | K::Header(..)
            | K::Subject(_)
            | K::Text(_)
            | K::To(_)
            | K::SentBefore(_)
            | K::SentOn(_)
            | K::SentSince(_)
    )
}

/// One message's text, decoded lazily: headers on the first header key,
/// body text only for BODY/TEXT.
pub(crate) struct MessageText<'a> {
    raw: &'a [u8],
    structure: &'a MessageStructure,
    /// (field name, folded decoded value) of the top-level header.
    headers: OnceCell<Vec<(Vec<u8>, String)>>,
    /// Folded "name: value\n" lines of the top-level header.
    header_text: OnceCell<String>,
    body: OnceCell<String>,
}

impl<'a> MessageText<'a> {
    pub(crate) fn new(raw: &'a [u8], structure: &'a MessageStructure) -> Self {
        Self {
            raw,
            structure,
            headers: OnceCell::new(),
            header_text: OnceCell::new(),
            body: OnceCell::new(),
        }
    }

    fn headers(&self) -> &[(Vec<u8>, String)] {
        self.headers.get_or_init(|| {
            let root = &self.structure.root;
            decoded_header(self.raw, root.header_start, root.body_start)
                .into_iter()
                .map(|(n, v)| (n, fold(&v)))
                .collect()
        })
    }

    fn header_text(&self) -> &str {
        self.header_text.get_or_init(|| {
            let mut s = String::new();
            for (n, v) in self.headers() {
                s.push_str(&fold_bytes(n));
                s.push_str(": ");
                s.push_str(v);
                s.push('\n');
            }
            s
        })
    }

    fn body(&self) -> &str {
        self.body.get_or_init(|| {
            let mut s = String::new();
            body_text(self.raw, &self.structure.root, 0, &mut s);
            fold(&s)
        })
    }

    fn field_contains(&self, name: &[u8], needle: &[u8]) -> bool {
        let needle = fold_bytes(needle);
        self.headers()
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(name) && v.contains(needle.as_str()))
    }

    fn sent_day(&self) -> Option<i64> {
        let root = &self.structure.root;
        let date = header_fields(self.raw, root.header_start, root.body_start)
            .into_iter()
            .find(|f| f.name.eq_ignore_ascii_case(b"Date"))?;
        parse_date_day(&date.value)
    }

    /// The value of a text key (see [`is_text_key`]); `false` for any other key.
    pub(crate) fn matches(&self, key: &SearchKey) -> bool {
        use SearchKey as K;
        match key {
            K::Bcc(s) => self.field_contains(b"Bcc", s),
            K::Cc(s) => self.field_contains(b"Cc", s),
            K::From(s) => self.field_contains(b"From", s),
            K::To(s) => self.field_contains(b"To", s),
            K::Subject(s) => self.field_contains(b"Subject", s),
            K::Header(name, s) => self.field_contains(name, s),
            K::Body(s) => self.body().contains(fold_bytes(s).as_str()),
            K::Text(s) => {
                let needle = fold_bytes(s);
                self.header_text().contains(needle.as_str())
                    || self.body().contains(needle.as_str())
            }
            K::SentBefore(d) => self.sent_day().is_some_and(|x| x < day(d)),
            K::SentOn(d) => self.sent_day().is_some_and(|x| x == day(d)),
            K::SentSince(d) => self.sent_day().is_some_and(|x| x >= day(d)),
            _ => false,
        }
    }
}

fn day(d: &Date) -> i64 {
    d.to_unix_midnight_utc().div_euclid(86_400)
}

/// (name, decoded value) of every field in `raw[start..end]`.
fn decoded_header(raw: &[u8], start: usize, end: usize) -> Vec<(Vec<u8>, String)> {
    header_fields(raw, start, end)
        .into_iter()
        .map(|f| (f.name.to_vec(), decode_header_value(&f.value)))
        .collect()
}

/// Unfolds a header value (continuation lines joined by `\n`) and decodes RFC
/// 2047 encoded words; whitespace between two adjacent encoded words is
/// dropped. Raw non-ASCII bytes are taken as UTF-8 (lossy).
pub(crate) fn decode_header_value(v: &[u8]) -> String {
    let v: Vec<u8> = v.iter().copied().filter(|&b| b != b'\n').collect();
    let mut out = String::new();
    // Bytes of consecutive encoded words in one charset, decoded together so
    // a character split across words survives.
    let mut pending: Option<(Vec<u8>, Vec<u8>)> = None;
    let mut lit_start = 0;
    let mut i = 0;
    while i + 1 < v.len() {
        if v[i] == b'='
            && v[i + 1] == b'?'
            && let Some((charset, bytes, end)) = encoded_word(&v, i)
        {
            let gap = &v[lit_start..i];
            let gap_is_ws = gap.iter().all(|b| b.is_ascii_whitespace());
            if !(gap_is_ws && pending.is_some()) {
                flush(&mut pending, &mut out);
                out.push_str(&String::from_utf8_lossy(gap));
            }
            match &mut pending {
                Some((cs, buf)) if cs.eq_ignore_ascii_case(&charset) => buf.extend(bytes),
                _ => {
                    flush(&mut pending, &mut out);
                    pending = Some((charset, bytes));
                }
            }
            i = end;
            lit_start = end;
            continue;
        }
        i += 1;
    }
    let rest = &v[lit_start..];
    if !rest.is_empty() {
        flush(&mut pending, &mut out);
        out.push_str(&String::from_utf8_lossy(rest));
    }
    flush(&mut pending, &mut out);
    out
}

fn flush(pending: &mut Option<(Vec<u8>, Vec<u8>)>, out: &mut String) {
    if let Some((cs, bytes)) = pending.take() {
        out.push_str(&to_unicode(&bytes, Some(&cs)));
    }
}

/// Parses `=?charset?B|Q?text?=` at `v[i..]`: (charset, decoded bytes, end).
fn encoded_word(v: &[u8], i: usize) -> Option<(Vec<u8>, Vec<u8>, usize)> {
    let s = &v[i + 2..];
    let q1 = s.iter().position(|&b| b == b'?')?;
    let charset = &s[..q1];
    if charset.is_empty() || charset.iter().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    // RFC 2231 section 5: charset*language.
    let charset = charset.split(|&b| b == b'*').next().unwrap_or(charset);
    let enc = *s.get(q1 + 1)?;
    if s.get(q1 + 2) != Some(&b'?') {
        return None;
    }
    let text_start = q1 + 3;
    let rel_end = s[text_start..].windows(2).position(|w| w == b"?=")?;
    let text = &s[text_start..text_start + rel_end];
    if text.iter().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let bytes = match enc {
        b'B' | b'b' => base64_lenient(text),
        b'Q' | b'q' => q_decode(text),
        _ => return None,
    };
    Some((charset.to_vec(), bytes, i + 2 + text_start + rel_end + 2))
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn q_decode(t: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        match t[i] {
            b'_' => out.push(b' '),
            b'=' => {
                match (
                    t.get(i + 1).and_then(|&b| hex(b)),
                    t.get(i + 2).and_then(|&b| hex(b)),
                ) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'='),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Base64 ignoring characters outside the alphabet and missing padding.
fn base64_lenient(t: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(t.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for &b in t {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => continue,
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// Converts `b` to UTF-8. No charset, US-ASCII or an unknown label: UTF-8
/// when valid, else lossy; otherwise `encoding_rs` for the label.
fn to_unicode(b: &[u8], charset: Option<&[u8]>) -> String {
    let ascii_like = charset
        .is_none_or(|c| c.eq_ignore_ascii_case(b"us-ascii") || c.eq_ignore_ascii_case(b"ascii"));
    if ascii_like {
        return match std::str::from_utf8(b) {
            Ok(s) => s.to_owned(),
            Err(_) => String::from_utf8_lossy(b).into_owned(),
        };
    }
    match charset.and_then(encoding_rs::Encoding::for_label) {
        Some(enc) => enc.decode_without_bom_handling(b).0.into_owned(),
        None => String::from_utf8_lossy(b).into_owned(),
    }
}

fn charset_param(p: &Part) -> Option<&[u8]> {
    p.content
        .params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(b"charset"))
        .map(|(_, v)| v.as_slice())
}

/// Appends the decoded text of every text/* leaf under `p` to `out`.
fn body_text(raw: &[u8], p: &Part, depth: usize, out: &mut String) {
    if depth > tidemark_mime::MAX_DEPTH + 2 {
        return;
    }
    match &p.kind {
        PartKind::Multipart(children) => {
            for c in children {
                body_text(raw, c, depth + 1, out);
            }
        }
        PartKind::Message(inner) => {
            for (n, v) in decoded_header(raw, inner.header_start, inner.body_start) {
                out.push_str(&String::from_utf8_lossy(&n));
                out.push_str(": ");
                out.push_str(&v);
                out.push('\n');
            }
            body_text(raw, inner, depth + 1, out);
        }
        PartKind::Leaf => {
            if !p.media_type_is("text") {
                return;
            }
            let Some(body) = raw.get(p.body_start..p.end.min(raw.len())) else {
                return;
            };
            let decoded = decode_transfer(p.content.decode_cte.as_deref(), body)
                .unwrap_or_else(|_| body.to_vec());
            out.push_str(&to_unicode(&decoded, charset_param(p)));
            out.push('\n');
        }
    }
}

/// The day number (days since 1970-01-01) of the date written in an RFC 5322
/// `Date:` value, in the value's own zone: `[day-of-week ,] day month year
/// ...`. Two- and three-digit years follow RFC 5322 4.3. `None` when the day,
/// month or year is missing or invalid.
pub(crate) fn parse_date_day(v: &[u8]) -> Option<i64> {
    let s = String::from_utf8_lossy(v);
    let s = match s.find(',') {
        Some(i) => &s[i + 1..],
        None => &s[..],
    };
    let mut words = s
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !w.is_empty());
    let day: u8 = words.next()?.parse().ok()?;
    let month_word = words.next()?;
    let month = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .iter()
    .position(|m| month_word.len() >= 3 && month_word[..3].eq_ignore_ascii_case(m))?
        as u8
        + 1;
    let year_word = words.next()?;
    if !year_word.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut year: u16 = year_word.parse().ok()?;
    match year_word.len() {
        2 if year < 50 => year += 2000,
        2 | 3 => year += 1900,
        4 => {}
        _ => return None,
    }
    let dim = match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day == 0 || day > dim {
        return None;
    }
    Some(self::day(&Date { year, month, day }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, key: SearchKey) -> bool {
        let raw = raw.replace('\n', "\r\n");
        let st = tidemark_mime::parse(raw.as_bytes());
        MessageText::new(raw.as_bytes(), &st).matches(&key)
    }

    fn d(year: u16, month: u8, day: u8) -> Date {
        Date { year, month, day }
    }

    const ENC_SUBJECT: &str = "From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.org>\n\
        To: bob@example.com\n\
        Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus\n =?UTF-8?B?S8O2bG4=?=\n\
        Date: Tue, 2 Jan 2024 23:30:00 -0500\n\
        \n\
        plain body\n";

    #[test]
    fn encoded_word_subject_full_case_folding() {
        assert!(check(ENC_SUBJECT, SearchKey::Subject("GRÜSSE".into())));
        assert!(check(
            ENC_SUBJECT,
            SearchKey::Subject("grüße aus köln".into())
        ));
        assert!(check(ENC_SUBJECT, SearchKey::Subject("AUS".into())));
        assert!(!check(ENC_SUBJECT, SearchKey::Subject("GRUSSE".into())));
        assert!(!check(ENC_SUBJECT, SearchKey::Subject("=?UTF-8".into())));
        assert!(check(ENC_SUBJECT, SearchKey::From("andré".into())));
        assert!(check(ENC_SUBJECT, SearchKey::From("ANDRE@EXAMPLE".into())));
        assert!(!check(ENC_SUBJECT, SearchKey::To("andre".into())));
        assert!(check(ENC_SUBJECT, SearchKey::Text("Grüße".into())));
        assert!(check(ENC_SUBJECT, SearchKey::Text("PLAIN BODY".into())));
        assert!(!check(ENC_SUBJECT, SearchKey::Body("grüße".into())));
        assert!(check(ENC_SUBJECT, SearchKey::Body("plain".into())));
    }

    #[test]
    fn decode_adjacent_words() {
        assert_eq!(decode_header_value(b"=?UTF-8?Q?a?= =?UTF-8?Q?b?="), "ab");
        assert_eq!(
            decode_header_value(b"=?UTF-8?Q?a?= x =?UTF-8?Q?b?="),
            "a x b"
        );
        // A character split across two words.
        assert_eq!(
            decode_header_value(b"=?UTF-8?Q?=C3?=\n =?UTF-8?Q?=BC?="),
            "ü"
        );
        assert_eq!(decode_header_value(b"=?utf-8?q?a_b?="), "a b");
        assert_eq!(decode_header_value(b"no =? words"), "no =? words");
    }

    #[test]
    fn quoted_printable_body() {
        let m = "Subject: x\n\
            MIME-Version: 1.0\n\
            Content-Type: text/plain; charset=iso-8859-1\n\
            Content-Transfer-Encoding: quoted-printable\n\
            \n\
            Caf=E9 cr=\n\
            =E8me soft line break\n";
        assert!(check(m, SearchKey::Body("CAFÉ CRÈME".into())));
        assert!(!check(m, SearchKey::Body("=E9".into())));
        assert!(check(m, SearchKey::Text("crème".into())));
    }

    #[test]
    fn base64_body_and_non_text_parts() {
        // "Hej världen" in UTF-8, base64.
        let m = "Subject: y\n\
            MIME-Version: 1.0\n\
            Content-Type: multipart/mixed; boundary=XX\n\
            \n\
            --XX\n\
            Content-Type: text/plain; charset=utf-8\n\
            Content-Transfer-Encoding: base64\n\
            \n\
            SGVqIHbDpHJsZGVu\n\
            --XX\n\
            Content-Type: application/octet-stream\n\
            \n\
            secret binary\n\
            --XX--\n";
        assert!(check(m, SearchKey::Body("VÄRLDEN".into())));
        assert!(!check(m, SearchKey::Body("SGVq".into())));
        assert!(!check(m, SearchKey::Body("secret".into())));
    }

    #[test]
    fn header_empty_string_means_present() {
        let m = "Subject: z\nX-Empty:\nX-Prio: High\n\nbody\n";
        assert!(check(m, SearchKey::Header(b"x-empty".to_vec(), Vec::new())));
        assert!(check(m, SearchKey::Header(b"X-PRIO".to_vec(), Vec::new())));
        assert!(check(
            m,
            SearchKey::Header(b"X-Prio".to_vec(), b"hig".to_vec())
        ));
        assert!(!check(
            m,
            SearchKey::Header(b"X-Missing".to_vec(), Vec::new())
        ));
        assert!(!check(
            m,
            SearchKey::Header(b"X-Prio".to_vec(), b"low".to_vec())
        ));
    }

    #[test]
    fn sent_dates_use_the_header_zone() {
        // 23:30 -0500 on 2 Jan is 3 Jan in UTC; SENTON uses the written day.
        assert!(check(ENC_SUBJECT, SearchKey::SentOn(d(2024, 1, 2))));
        assert!(!check(ENC_SUBJECT, SearchKey::SentOn(d(2024, 1, 3))));
        assert!(check(ENC_SUBJECT, SearchKey::SentBefore(d(2024, 1, 3))));
        assert!(!check(ENC_SUBJECT, SearchKey::SentBefore(d(2024, 1, 2))));
        assert!(check(ENC_SUBJECT, SearchKey::SentSince(d(2024, 1, 2))));
        assert!(!check(ENC_SUBJECT, SearchKey::SentSince(d(2024, 1, 3))));
        let no_date = "Subject: a\n\nb\n";
        assert!(!check(no_date, SearchKey::SentBefore(d(2100, 1, 1))));
        assert!(!check(no_date, SearchKey::SentSince(d(1900, 1, 1))));
        let bad = "Date: yesterday\n\nb\n";
        assert!(!check(bad, SearchKey::SentSince(d(1900, 1, 1))));
    }

    #[test]
    fn date_parsing() {
        assert_eq!(
            parse_date_day(b"2 Jan 24 10:00 +0000"),
            Some(day(&d(2024, 1, 2)))
        );
        assert_eq!(
            parse_date_day(b"Fri, 21 Nov 1997 09:55:06 -0600"),
            Some(day(&d(1997, 11, 21)))
        );
        assert_eq!(parse_date_day(b"31 Feb 2024 10:00 +0000"), None);
        assert_eq!(parse_date_day(b""), None);
    }

    #[test]
    fn folding() {
        assert!(fold("Straße").contains(&fold("STRASSE")));
        assert!(fold("ﬁnancial").contains(&fold("FIN")));
    }
}
