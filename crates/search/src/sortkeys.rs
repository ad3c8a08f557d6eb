//! Sort and thread keys of RFC 5256 (SORT, THREAD) and RFC 5957
//! (SORT=DISPLAY), computed the way Dovecot 2.3 computes them wherever the
//! RFCs leave room (the differential test compares with Dovecot 2.3.19):
//!
//! - String keys are compared as bytes of Dovecot's "decomposed titlecase"
//!   form ([`titlecase`]), not of the i;unicode-casemap fold: the order of
//!   `_` against letters depends on the direction of the case mapping.
//! - RFC 2047 words are decoded one by one ([`decode_words`]), as Dovecot's
//!   `message_header_decode_utf8` does: a character split across two words
//!   becomes U+FFFD (RFC 2047 forbids the split; SEARCH joins the halves).
//! - [`base_subject`] follows RFC 5256 2.1 step by step as Dovecot's
//!   `imap-base-subject.c` does, and also reports whether the subject is a
//!   reply or forward (THREAD REFERENCES step 5).
//! - Message-IDs are extracted like Dovecot's `message_id_get_next`.
//! - The DATE key is Dovecot's cached sent date ([`dovecot_date`]): the first
//!   `Date:` field parsed strictly, kept as an unsigned 32-bit value, 0 when
//!   missing or invalid (then INTERNALDATE is used, [`sort_date`]).

use tidemark_mime::rfc822::Parser;
use tidemark_mime::{Address, for_humans};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_canonical, decompose_compatible};

/// References kept per message (the last ones: the nearest ancestors).
/// Dovecot keeps all; a cap bounds the stored summary and THREAD's work.
pub const MAX_REFERENCES: usize = 128;
/// Longer message identifiers are ignored (RFC 5322 lines hold 998 octets).
pub const MAX_MSG_ID_LEN: usize = 998;
/// Tokenised ("slow path") Message-ID parses tried per header value; each
/// may scan the rest of the value, so unbounded tries would be quadratic.
const MAX_SLOW_PARSES: usize = 64;

// ---------------------------------------------------------------------------
// Decomposed titlecase (Dovecot's uni_utf8_to_decomposed_titlecase).

/// Dovecot's comparison form of `s`: every character mapped to its simple
/// titlecase (UnicodeData field 14), then replaced by one level of its
/// decomposition mapping (canonical or compatibility), Hangul syllables by
/// their jamo. The output is not mapped again (`ﬁ` becomes `fi`, U+01D6
/// becomes U+00DC U+0304). A NUL ends the string, as in C. (Checked
/// against Dovecot 2.3.19: `É`, `E` U+0301 and `é` sort as one key.)
pub fn titlecase(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_str(&mut out, s, true);
    c_string(out)
}

/// [`titlecase`] of raw bytes: each invalid UTF-8 sequence becomes one
/// U+FFFD, never two in a row (Dovecot's replacement rule).
pub fn titlecase_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    push_utf8(&mut out, b, true);
    c_string(out)
}

/// Cut at the first NUL (Dovecot's keys are C strings).
fn c_string(mut s: String) -> String {
    if let Some(i) = s.find('\0') {
        s.truncate(i);
    }
    s
}

fn push_str(out: &mut String, s: &str, titlecased: bool) {
    if titlecased {
        s.chars().for_each(|c| push_titlecase(c, out));
    } else {
        out.push_str(s);
    }
}

/// Appends bytes taken as UTF-8; an invalid sequence adds U+FFFD unless the
/// output already ends with one.
fn push_utf8(out: &mut String, b: &[u8], titlecased: bool) {
    for chunk in b.utf8_chunks() {
        push_str(out, chunk.valid(), titlecased);
        if !chunk.invalid().is_empty() && !out.ends_with('\u{FFFD}') {
            out.push('\u{FFFD}');
        }
    }
}

fn push_titlecase(c: char, out: &mut String) {
    let t = title_char(c);
    let cp = u32::from(t);
    // Characters whose titlecase mapping is themselves (the Lt digraphs)
    // are left out of Dovecot's decomposition tables.
    if matches!(cp, 0x01C5 | 0x01C8 | 0x01CB | 0x01F2) {
        out.push(t);
        return;
    }
    if (0xAC00..=0xD7A3).contains(&cp) {
        decompose_canonical(t, |d| out.push(d));
        return;
    }
    // One level of the UnicodeData decomposition mapping, canonical or
    // compatibility; its result is not decomposed again (Dovecot maps
    // U+01D6 to U+00DC U+0304, not to U+0055 U+0308 U+0304).
    let mut nfd: Vec<char> = Vec::new();
    decompose_canonical(t, |d| nfd.push(d));
    if nfd.len() > 1 || nfd.first() != Some(&t) {
        let nfd_str: String = nfd.iter().collect();
        let mut recomposed = nfd_str.as_str().nfc();
        match (recomposed.next(), recomposed.next()) {
            // A singleton mapping (U+212B to U+00C5).
            (Some(one), None) if one != t => out.push(one),
            // A pair: the (recomposed) first part and the last mark.
            _ => {
                let (last, first) = nfd.split_last().map_or((t, &[][..]), |(l, f)| (*l, f));
                out.extend(first.iter().collect::<String>().as_str().nfc());
                out.push(last);
            }
        }
        return;
    }
    let mut compat = String::new();
    decompose_compatible(t, |d| compat.push(d));
    if compat.chars().ne(std::iter::once(t)) {
        // A tagged mapping; the full NFKD recomposed canonically gives its
        // one level back in all but a few exotic cases (U+FFE3).
        out.extend(compat.as_str().nfc());
    } else {
        out.push(t);
    }
}

/// The simple titlecase mapping. Rust has the full uppercase mapping only;
/// where that is one character it is also the simple titlecase except for
/// the cases listed here, and a multi-character full mapping means there is
/// no simple one (`ß` stays `ß`).
pub fn title_char(c: char) -> char {
    let cp = u32::from(c);
    let mapped = match cp {
        0x01C4..=0x01C6 => 0x01C5,
        0x01C7..=0x01C9 => 0x01C8,
        0x01CA..=0x01CC => 0x01CB,
        0x01F1..=0x01F3 => 0x01F2,
        // Greek with ypogegrammeni: titlecase is the prosgegrammeni form.
        0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7 => cp + 8,
        0x1FB3 => 0x1FBC,
        0x1FC3 => 0x1FCC,
        0x1FF3 => 0x1FFC,
        // Georgian Mkhedruli: uppercase Mtavruli exists, titlecase is itself.
        0x10D0..=0x10FA | 0x10FD..=0x10FF => cp,
        _ => {
            let mut up = c.to_uppercase();
            return match (up.next(), up.next()) {
                (Some(u), None) => u,
                _ => c,
            };
        }
    };
    char::from_u32(mapped).unwrap_or(c)
}

// ---------------------------------------------------------------------------
// RFC 2047 (Dovecot's message_header_decode_utf8).

/// A raw header value with its RFC 2047 encoded words decoded one word at a
/// time (in [`titlecase`] form if `titlecased`). Like Dovecot: whitespace
/// between two encoded words (or before the first) is dropped; a word is
/// `=?charset?Q|B?text?=` with any text up to the third `?`; invalid UTF-8,
/// including a character split across two words, becomes U+FFFD (one for a
/// run); a charset that is not known leaves the decoded bytes as UTF-8 and
/// not titlecased. The result is cut at a NUL.
pub fn decode_words(v: &[u8], titlecased: bool) -> String {
    let mut out = String::with_capacity(v.len());
    let (mut start, mut pos) = (0usize, 0usize);
    while pos + 1 < v.len() {
        if v[pos] != b'=' || v[pos + 1] != b'?' {
            pos += 1;
            continue;
        }
        let gap = &v[start..pos];
        if !gap
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            push_utf8(&mut out, gap, titlecased);
        }
        pos += 2;
        let Some((charset, text, used)) = encoded_word(&v[pos..]) else {
            start = pos - 2;
            continue;
        };
        pos += used;
        if !text.is_empty() {
            push_decoded(&mut out, charset, &text, titlecased);
        }
        start = pos;
    }
    if start < v.len() {
        push_utf8(&mut out, &v[start..], titlecased);
    }
    c_string(out)
}

/// `charset?E?text?=` at the start of `d`: (charset, decoded text, length).
fn encoded_word(d: &[u8]) -> Option<(&[u8], Vec<u8>, usize)> {
    let mut q = d
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'?')
        .map(|(i, _)| i);
    let (q0, q1, q2) = (q.next()?, q.next()?, q.next()?);
    if d.get(q2 + 1) != Some(&b'=') {
        return None;
    }
    let text = &d[q1 + 1..q2];
    let decoded = match d[q0 + 1] {
        b'q' | b'Q' => q_decode(text),
        b'b' | b'B' => b64_decode(text),
        _ => return None,
    };
    Some((&d[..q0], decoded, q2 + 2))
}

/// RFC 2047 Q: `_` is a space, `=XX` a byte; a bad escape stays as it is.
fn q_decode(t: &[u8]) -> Vec<u8> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        match t[i] {
            b'_' => out.push(b' '),
            b'=' if i + 2 >= t.len() => {
                out.extend_from_slice(&t[i..]);
                break;
            }
            b'=' => match (hex(t[i + 1]), hex(t[i + 2])) {
                (Some(a), Some(b)) => {
                    out.push((a * 16 + b) as u8);
                    i += 2;
                }
                _ => out.push(b'='),
            },
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// Base64 up to the first character outside the alphabet (or `=`).
fn b64_decode(t: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(t.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in t {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => break,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn push_decoded(out: &mut String, charset: &[u8], text: &[u8], titlecased: bool) {
    if charset.eq_ignore_ascii_case(b"utf-8") || charset.eq_ignore_ascii_case(b"utf8") {
        push_utf8(out, text, titlecased);
    } else if let Some(enc) = encoding_rs::Encoding::for_label(charset) {
        let (s, _) = enc.decode_without_bom_handling(text);
        push_str(out, &s, titlecased);
    } else {
        push_utf8(out, text, false);
    }
}

// ---------------------------------------------------------------------------
// Base subject (RFC 5256 2.1).

/// The base subject (RFC 5256 2.1) of a raw Subject value, decoded by
/// [`decode_words`] in [`titlecase`] form, and whether extracting it removed a reply/forward marker (`re:`,
/// `fw:`, `fwd:` in step 3, a `(fwd)` trailer in step 2 or a `[fwd: ...]`
/// wrapper in step 6; removed blobs and whitespace do not count).
///
/// Follows Dovecot where the RFC grammar is loose: whitespace is packed
/// only for SP, HTAB, CR and LF (after the titlecase mapping, so NBSP is a
/// space); a blob is removed in step 4 only if text follows it; a blob ends
/// at the first `]` and takes at most one following space.
pub fn base_subject(raw: &[u8]) -> (String, bool) {
    let mut buf = pack_whitespace(&decode_words(raw, true));
    let mut start = 0usize;
    let mut reply = false;
    loop {
        // (2) subj-trailer: "(fwd)" and whitespace at the end.
        let mut end = buf.len();
        while end > start {
            if buf[end - 1] == b' ' {
                end -= 1;
            } else if end >= 5 && &buf[end - 5..end] == b"(FWD)" {
                reply = true;
                end -= 5;
            } else {
                break;
            }
        }
        buf.truncate(end.max(start));
        // (3)-(5) subj-leader and subj-blob, until neither matches.
        loop {
            let leader = remove_leader(&buf, &mut start, &mut reply);
            let blob = remove_blob_if_text_follows(&buf, &mut start);
            if !leader && !blob {
                break;
            }
        }
        // (6) subj-fwd: "[fwd:" ... "]" around the rest; then from (2).
        if buf[start..].starts_with(b"[FWD:") && buf.last() == Some(&b']') {
            reply = true;
            buf.pop();
            start += 5;
            continue;
        }
        break;
    }
    let out = String::from_utf8_lossy(buf.get(start..).unwrap_or_default()).into_owned();
    (out, reply)
}

/// Runs of SP/HTAB/CR/LF become one space (not trimmed), as Dovecot's
/// `pack_whitespace` does, including its quirk: packing starts at the
/// first HTAB/CR/LF or double blank, so a space followed by a line break
/// there (a fold after a trailing space) leaves two spaces.
fn pack_whitespace(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let first = (0..b.len()).find(|&i| {
        matches!(b[i], b'\t' | b'\n' | b'\r')
            || (b[i] == b' ' && matches!(b.get(i + 1), Some(b' ' | b'\t')))
    });
    let Some(first) = first else {
        return b.to_vec();
    };
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..first]);
    let mut last_ws = false;
    for &c in &b[first..] {
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            if !last_ws {
                out.push(b' ');
            }
            last_ws = true;
        } else {
            out.push(c);
            last_ws = false;
        }
    }
    out
}

/// `subj-blob` at `buf[i..]`: the index after it (and one space), if any.
fn blob_end(buf: &[u8], i: usize) -> Option<usize> {
    if buf.get(i) != Some(&b'[') {
        return None;
    }
    let close = i + 1 + buf[i + 1..].iter().position(|&b| b == b'[' || b == b']')?;
    if buf[close] != b']' {
        return None;
    }
    let mut j = close + 1;
    if buf.get(j) == Some(&b' ') {
        j += 1;
    }
    Some(j)
}

/// (3) `subj-leader = (*subj-blob subj-refwd) / WSP`; a leading space is
/// always removed on its own. True if anything was removed.
fn remove_leader(buf: &[u8], start: &mut usize, reply: &mut bool) -> bool {
    let mut removed = false;
    if buf.get(*start) == Some(&b' ') {
        *start += 1;
        removed = true;
    }
    let mut i = *start;
    while buf.get(i) == Some(&b'[') {
        match blob_end(buf, i) {
            Some(j) => i = j,
            None => return removed,
        }
    }
    let rest = &buf[i..];
    if rest.starts_with(b"RE") {
        i += 2;
    } else if rest.starts_with(b"FWD") {
        i += 3;
    } else if rest.starts_with(b"FW") {
        i += 2;
    } else {
        return removed;
    }
    if buf.get(i) == Some(&b' ') {
        i += 1;
    }
    if buf.get(i) == Some(&b'[') {
        match blob_end(buf, i) {
            Some(j) => i = j,
            None => return removed,
        }
    }
    if buf.get(i) != Some(&b':') {
        return removed;
    }
    *start = i + 1;
    *reply = true;
    true
}

/// (4) a leading `subj-blob`, removed only when text follows it.
fn remove_blob_if_text_follows(buf: &[u8], start: &mut usize) -> bool {
    match blob_end(buf, *start) {
        Some(j) if j < buf.len() => {
            *start = j;
            true
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Address keys.

/// The SORT FROM/TO/CC key (RFC 5256): the addr-mailbox (local part) of the
/// first address, in [`titlecase`] form; empty when there is none. As in
/// Dovecot the first entry counts even when it opens a group (its mailbox is
/// the group name: `undisclosed-recipients:;` sorts as that name).
pub fn sort_address(addrs: &[Address]) -> String {
    addrs
        .first()
        .and_then(|a| a.mailbox.as_deref())
        .map(titlecase_bytes)
        .unwrap_or_default()
}

/// The SORT DISPLAYFROM/DISPLAYTO key (RFC 5957): the first address's
/// decoded display name if not empty, else `mailbox@domain` (or the mailbox
/// alone when there is no domain, as for a group), in [`titlecase`] form.
///
/// `addrs` is the envelope's list, whose names have their whitespace
/// packed; `raw` (the first field's value) gives the name as Dovecot's
/// SORT sees it (`"Alice  Anderson"` keeps both spaces) whenever it reads
/// as the same name.
pub fn display_address(addrs: &[Address], raw: Option<&[u8]>) -> String {
    let Some(a) = addrs.first() else {
        return String::new();
    };
    if let Some(n) = a.name.as_deref() {
        let name = match raw.and_then(first_display_name) {
            Some(r) if for_humans(&r) == n => r,
            _ => n.to_vec(),
        };
        let d = decode_words(&name, false);
        if !d.is_empty() {
            return titlecase(&d);
        }
    }
    match (a.mailbox.as_deref(), a.host.as_deref()) {
        (Some(m), Some(h)) => {
            let mut v = m.to_vec();
            v.push(b'@');
            v.extend_from_slice(h);
            titlecase_bytes(&v)
        }
        (Some(m), None) => titlecase_bytes(m),
        _ => String::new(),
    }
}

/// The display name of the first address of a raw address-list value as
/// Dovecot's `message_address_parse` reads it: a group has none, a
/// `phrase <addr>` has the phrase (quoted strings verbatim, so inner
/// whitespace runs stay), an addr-spec has its last comment. `None` also
/// when the form is one this reading does not cover.
fn first_display_name(v: &[u8]) -> Option<Vec<u8>> {
    let mut p = Parser::new(v);
    if p.skip_lwsp() <= 0 {
        return None;
    }
    let start = p.pos;
    let mut s = Vec::new();
    if p.parse_phrase(&mut s) > 0 && p.peek() == b':' {
        return None;
    }
    p.pos = start;
    s.clear();
    if p.parse_phrase(&mut s) > 0 && p.peek() == b'<' {
        return (!s.is_empty()).then_some(s);
    }
    p.pos = start;
    s.clear();
    p.last_comment = Some(Vec::new());
    let r = if p.peek() == b'"' {
        p.parse_quoted_string(&mut s)
    } else {
        p.parse_dot_atom(&mut s)
    };
    if r == 0 || p.at_end() || p.peek() != b'@' {
        return None;
    }
    p.pos += 1;
    p.skip_lwsp();
    if p.peek() == b'[' {
        while !p.at_end() && p.peek() != b']' {
            p.pos += if p.peek() == b'\\' { 2 } else { 1 };
        }
        p.pos += 1;
        p.skip_lwsp();
    } else {
        p.parse_dot_atom(&mut s);
    }
    p.last_comment.filter(|c| !c.is_empty())
}

// ---------------------------------------------------------------------------
// Message identifiers (Dovecot's message_id_get_next).

/// Every message identifier of a Message-ID, References or In-Reply-To
/// value, in order, without the angle brackets; the last [`MAX_REFERENCES`]
/// when there are more.
///
/// Like Dovecot: `<` starts a candidate; if `>` comes before any `"` or `(`
/// the text in between (whitespace removed) is an id when it holds an `@`;
/// otherwise it is parsed as `[CFWS] (dot-atom / quoted-string) "@"
/// [CFWS] dot-atom ">"` with comments and whitespace dropped. Identifiers
/// compare case-sensitively.
pub fn msg_ids(v: &[u8]) -> Vec<String> {
    let mut it = MsgIds::new(v);
    let mut out: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    while let Some(id) = it.next_id() {
        if out.len() == MAX_REFERENCES {
            out.pop_front();
        }
        out.push_back(id);
    }
    out.into()
}

/// The first message identifier of a value (see [`msg_ids`]).
pub fn first_msg_id(v: &[u8]) -> Option<String> {
    MsgIds::new(v).next_id()
}

struct MsgIds<'a> {
    /// The value up to its first NUL (a C string in Dovecot).
    v: &'a [u8],
    pos: usize,
    slow_left: usize,
}

impl<'a> MsgIds<'a> {
    fn new(v: &'a [u8]) -> Self {
        let v = v.split(|&b| b == 0).next().unwrap_or_default();
        Self {
            v,
            pos: 0,
            slow_left: MAX_SLOW_PARSES,
        }
    }

    fn at(&self, i: usize) -> u8 {
        self.v.get(i).copied().unwrap_or(0)
    }

    fn next_id(&mut self) -> Option<String> {
        loop {
            let id = self.next_raw()?;
            if id.len() <= MAX_MSG_ID_LEN {
                return Some(String::from_utf8_lossy(&id).into_owned());
            }
        }
    }

    fn next_raw(&mut self) -> Option<Vec<u8>> {
        let mut p = self.pos;
        // Dovecot reuses one buffer for the tokenised parses of one call
        // without clearing it, so a failed attempt's text stays in front.
        let mut slow = Vec::new();
        loop {
            while self.at(p) != b'<' {
                if self.at(p) == 0 {
                    self.pos = p;
                    return None;
                }
                p += 1;
            }
            p += 1;
            let start = p;
            let mut q = start;
            let mut found_at = false;
            let stop = loop {
                let c = self.at(q);
                if c >= b'A' {
                    q += 1;
                    continue;
                }
                if c == b'@' {
                    found_at = true;
                }
                if matches!(c, b'>' | b'"' | b'(') {
                    break c;
                }
                if c == 0 {
                    self.pos = q;
                    return None;
                }
                q += 1;
            };
            if stop == b'>' {
                self.pos = q + 1;
                if found_at {
                    return Some(
                        self.v[start..q]
                            .iter()
                            .copied()
                            .filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                            .collect(),
                    );
                }
                p = q + 1;
            } else {
                self.pos = start;
                if self.slow_left > 0 {
                    self.slow_left -= 1;
                    let mut r = Parser {
                        data: self.v,
                        pos: start,
                        last_comment: None,
                    };
                    if untokenized_msg_id(&mut r, &mut slow) {
                        self.pos = r.pos + 1;
                        return Some(slow);
                    }
                }
                p = start;
            }
        }
    }
}

/// `[CFWS] (dot-atom / quoted-string) "@" [CFWS] dot-atom ">"`; on
/// success `p.pos` is at the `>`.
fn untokenized_msg_id(p: &mut Parser<'_>, out: &mut Vec<u8>) -> bool {
    p.skip_lwsp();
    let r = if p.peek() == b'"' {
        p.parse_quoted_string(out)
    } else {
        p.parse_dot_atom(out)
    };
    if r <= 0 || p.peek() != b'@' {
        return false;
    }
    out.push(b'@');
    p.pos += 1;
    p.skip_lwsp();
    p.parse_dot_atom(out) > 0 && p.peek() == b'>'
}

// ---------------------------------------------------------------------------
// Dates.

/// Dovecot's `message_date_parse` of a `Date:` value: the instant in UTC
/// seconds, or `None` when it does not parse. Stricter than SEARCH's
/// [`crate::parse_date`]: the time is required (`hh:mm[:ss]`, `:` or `.`),
/// the year has 2 (70-99 → 19xx, else 20xx) or 4 digits (≥ 1900), the
/// fields must be in range (second 60 counts as 59), an unknown zone is
/// +0000 and anything but a comment after the zone token is ignored.
pub fn dovecot_date(v: &[u8]) -> Option<i64> {
    let v = v.split(|&b| b == 0).next().unwrap_or_default();
    let mut p = Parser::new(v);
    let mut tok = Vec::new();
    let next = |p: &mut Parser<'_>, tok: &mut Vec<u8>| -> i32 {
        tok.clear();
        let r = if p.at_end() { 0 } else { p.parse_atom(tok) };
        if r < 0 {
            -1
        } else {
            i32::from(!tok.is_empty())
        }
    };
    let digits = |t: &[u8]| -> Option<i64> {
        if t.is_empty() || !t.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(t.iter().fold(0i64, |n, &d| n * 10 + i64::from(d - b'0')))
    };
    p.skip_lwsp();
    if next(&mut p, &mut tok) <= 0 {
        return None;
    }
    if tok.len() == 3 {
        // a weekday, which must be followed by ','
        if p.peek() != b',' {
            return None;
        }
        p.pos += 1;
        p.skip_lwsp();
        if next(&mut p, &mut tok) <= 0 {
            return None;
        }
    }
    if tok.is_empty() || tok.len() > 2 {
        return None;
    }
    let mday = digits(&tok)?;
    if next(&mut p, &mut tok) <= 0 || tok.len() < 3 {
        return None;
    }
    const MONTHS: [&[u8]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    let mon = MONTHS
        .iter()
        .position(|m| tok[..3].eq_ignore_ascii_case(m))? as i64;
    if next(&mut p, &mut tok) <= 0 || (tok.len() != 2 && tok.len() != 4) {
        return None;
    }
    let mut year = digits(&tok)?;
    if tok.len() == 2 {
        year += if year < 70 { 2000 } else { 1900 };
    } else if year < 1900 {
        return None;
    }
    if next(&mut p, &mut tok) <= 0 || tok.len() > 2 {
        return None;
    }
    let hour = digits(&tok)?;
    if !matches!(p.peek(), b':' | b'.') {
        return None;
    }
    p.pos += 1;
    p.skip_lwsp();
    if next(&mut p, &mut tok) < 0 || tok.len() != 2 {
        return None;
    }
    let min = digits(&tok)?;
    let mut sec = 0;
    if !p.at_end() && matches!(p.peek(), b':' | b'.') {
        p.pos += 1;
        p.skip_lwsp();
        if next(&mut p, &mut tok) <= 0 || tok.len() != 2 {
            return None;
        }
        sec = digits(&tok)?;
    }
    let zone = match next(&mut p, &mut tok) {
        r if r < 0 => return None,
        0 => 0,
        _ => zone_minutes(&tok),
    };
    if sec == 60 {
        sec = 59;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let mdays = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if mday < 1 || mday > mdays[mon as usize] || hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    let days = crate::date::days_from_civil(year, mon as u8 + 1, mday as u8);
    let t = days * 86_400 + hour * 3600 + min * 60 + sec;
    // utc_mktime's error value.
    if t == -1 {
        return None;
    }
    Some(t - zone * 60)
}

/// Dovecot's `parse_timezone`: ±hhmm, military letters (with its quirks),
/// UT/GMT and the US zones; anything else is +0000.
fn zone_minutes(t: &[u8]) -> i64 {
    let d = |b: u8| i64::from(b.wrapping_sub(b'0'));
    match t {
        [s @ (b'+' | b'-'), a, b, c, e] if [a, b, c, e].iter().all(|x| x.is_ascii_digit()) => {
            let off = (d(*a) * 10 + d(*b)) * 60 + d(*c) * 10 + d(*e);
            if *s == b'+' { off } else { -off }
        }
        [c] => {
            let up = c.to_ascii_uppercase();
            let raw = i64::from(*c);
            if up < b'J' {
                (raw - i64::from(b'A') + 1) * 60
            } else if up == b'J' {
                0
            } else if up <= b'M' {
                (raw - i64::from(b'A')) * 60
            } else if up < b'Z' {
                (i64::from(b'M') - raw) * 60
            } else {
                0
            }
        }
        [z, _, b'T'] => {
            let base = match z.to_ascii_uppercase() {
                b'E' => -5 * 60,
                b'C' => -6 * 60,
                b'M' => -7 * 60,
                b'P' => -8 * 60,
                _ => return 0,
            };
            match t[1].to_ascii_uppercase() {
                b'D' => base + 60,
                b'S' => base,
                _ => 0,
            }
        }
        _ => 0,
    }
}

/// Dovecot's stored form of a sent date: the parsed instant as an unsigned
/// 32-bit number (dates before 1970 wrap), 0 for none.
pub fn stored_sent_date(utc: Option<i64>) -> u32 {
    utc.map_or(0, |t| t as u32)
}

/// The SORT DATE / THREAD date of a message: its stored sent date, or the
/// INTERNALDATE when that is 0 (missing or invalid `Date:`), as Dovecot.
pub fn sort_date(stored_sent: u32, internal_unix: i64) -> i64 {
    if stored_sent == 0 {
        internal_unix
    } else {
        i64::from(stored_sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> (String, bool) {
        base_subject(s.as_bytes())
    }

    #[test]
    fn base_subject_rfc_examples() {
        assert_eq!(base("Re: [fwd: Re: hello] (fwd)"), ("HELLO".into(), true));
        assert_eq!(base("Re: hello"), ("HELLO".into(), true));
        assert_eq!(base("hello"), ("HELLO".into(), false));
        assert_eq!(base("  hello   world  "), ("HELLO WORLD".into(), false));
        assert_eq!(base("Fwd: Fw: RE: re:hello"), ("HELLO".into(), true));
        assert_eq!(base("Re[2]: hello"), ("HELLO".into(), true));
        assert_eq!(base("Re [list]: hello"), ("HELLO".into(), true));
        assert_eq!(base("[list] Re: hello"), ("HELLO".into(), true));
        assert_eq!(base("[list] hello"), ("HELLO".into(), false));
        assert_eq!(base("hello (fwd)"), ("HELLO".into(), true));
        assert_eq!(base("hello (fwd) (FWD)  "), ("HELLO".into(), true));
        assert_eq!(base("[fwd: hello]"), ("HELLO".into(), true));
        assert_eq!(base("\thello\r\n world"), ("HELLO WORLD".into(), false));
        // Dovecot's packing quirk: a blank before the first line break stays.
        assert_eq!(base("hello \n\tworld"), ("HELLO  WORLD".into(), false));
        assert_eq!(base("a\tb \n c"), ("A B C".into(), false));
        assert_eq!(base(""), (String::new(), false));
        assert_eq!(base("Re:"), (String::new(), true));
    }

    #[test]
    fn base_subject_blobs_like_dovecot() {
        // A blob with nothing after it stays (step 4 needs a non-empty rest).
        assert_eq!(base("[list]"), ("[LIST]".into(), false));
        assert_eq!(base("Re: [list]"), ("[LIST]".into(), true));
        // An unterminated blob stops the leader.
        assert_eq!(base("[list Re: hello"), ("[LIST RE: HELLO".into(), false));
        // Only "re", "fw", "fwd" count; "AW:" is not a reply marker.
        assert_eq!(base("AW: hello"), ("AW: HELLO".into(), false));
        // "Rex: hello" is no leader.
        assert_eq!(base("Rex: hello"), ("REX: HELLO".into(), false));
        // Blob removal alone does not make a reply.
        assert_eq!(base("[a] [b] hello"), ("HELLO".into(), false));
        // A [fwd: ...] wrapper must close at the very end, else it is a blob.
        assert_eq!(base("[fwd: a] b"), ("B".into(), false));
        assert_eq!(base("[Fwd: Re: [x] (fwd)]"), ("[X]".into(), true));
    }

    /// Subject pairs Dovecot 2.3.19 puts in one ORDEREDSUBJECT thread.
    #[test]
    fn groupings_seen_in_dovecot() {
        let same = [
            ("Re: [fwd: Re: hello] (fwd)", "hello"),
            ("[a] [b] hello", "hello"),
            ("Re: [list]", "[list]"),
            ("[list Re: hello", "[LIST RE: HELLO"),
            ("[fwd: a] b", "b"),
            ("[Fwd: Re: [x] (fwd)]", "[x]"),
            ("Re[2]: hello2", "hello2"),
            ("Re [l]: hello3", "hello3"),
            ("hello4 (fwd) (FWD)  ", "hello4"),
            ("Fwd: Fw: RE: re:hello5", "hello5"),
            ("Re:  x7", "x7"),
            ("[]z10", "z10"),
            ("[] ", "[]"),
            ("Re: [fwd:q11]", "q11"),
            ("Fwd:(fwd)", ""),
            ("=?utf-8?q?Re:_w12?=", "w12"),
        ];
        for (a, b) in same {
            assert_eq!(base(a).0, base(b).0, "{a:?} / {b:?}");
        }
        // A fold after a blank keeps two spaces; a double blank does not.
        assert_ne!(base("hello6 \n\tworld").0, base("hello6  world").0);
    }

    #[test]
    fn encoded_words_one_by_one() {
        let d = |s: &str| decode_words(s.as_bytes(), false);
        assert_eq!(d("=?utf-8?q?caf=C3=A9_au_lait?="), "café au lait");
        assert_eq!(
            d("=?ISO-8859-1?Q?J=FCrgen?= =?utf-8?B?R3Jvw58=?="),
            "JürgenGroß"
        );
        assert_eq!(d("Re: =?koi8-r?Q?=F0=F2=E9=F7=E5=F4?= x"), "Re: ПРИВЕТ x");
        // A character split across two words: one U+FFFD.
        let split = "=?utf-8?B?0J/QoNA=?=\n =?utf-8?B?mNCS0JU=?=\n =?utf-8?B?0KI=?=";
        assert_eq!(d(split), "ПР\u{fffd}ВЕТ");
        assert_eq!(base(split).0, "ПР\u{fffd}ВЕТ");
        // Not words: kept as they are.
        assert_eq!(d("=?utf-8?x?abc?= =?bad"), "=?utf-8?x?abc?= =?bad");
        assert_eq!(d("a =?utf-8?q?=4?= b"), "a =4 b");
        assert_eq!(d("=?x-unknown?q?=C3=A9?="), "é");
        assert_eq!(
            decode_words("=?x-unknown?q?=C3=A9?= é".as_bytes(), true),
            "é E\u{301}"
        );
    }

    #[test]
    fn titlecase_like_dovecot() {
        assert_eq!(titlecase("abc_x"), "ABC_X");
        assert_eq!(titlecase("straße"), "STRAßE");
        assert_eq!(titlecase("ﬁx"), "fiX");
        assert_eq!(titlecase("é"), "E\u{301}");
        assert_eq!(titlecase("\u{c9}"), titlecase("e\u{301}"));
        assert_eq!(titlecase("\u{1d6}"), "\u{dc}\u{304}");
        assert_eq!(titlecase("\u{dc}\u{304}"), "U\u{308}\u{304}");
        assert_eq!(titlecase("\u{2126}"), "\u{3a9}");
        assert_eq!(titlecase("\u{212b}"), "\u{c5}");
        assert_eq!(titlecase("\u{1f80}"), "\u{1f08}\u{345}");
        assert_eq!(titlecase("D\u{17d}"), "DZ\u{30c}");
        assert_eq!(titlecase("ǆ"), "\u{1c5}");
        assert_eq!(titlecase("ａ①"), "A1");
        assert_eq!(titlecase("a\u{a0}b"), "A B");
        assert_eq!(titlecase("ſ"), "S");
        assert_eq!(titlecase("σς"), "ΣΣ");
        assert_eq!(titlecase("한"), "\u{1112}\u{1161}\u{11ab}");
        assert_eq!(titlecase("a\0b"), "A");
        assert_eq!(titlecase_bytes(b"a\xff\xfeb"), "A\u{fffd}B");
        // The order of '_' against letters follows the uppercase form.
        assert!(titlecase("_x") > titlecase("b"));
    }

    #[test]
    fn display_names_keep_quoted_whitespace() {
        let name =
            |v: &str| first_display_name(v.as_bytes()).map(|n| String::from_utf8(n).unwrap());
        assert_eq!(
            name("\"Alice  Anderson\" <a@x>, b@y").as_deref(),
            Some("Alice  Anderson")
        );
        assert_eq!(
            name("Alice   Anderson <a@x>").as_deref(),
            Some("Alice Anderson")
        );
        assert_eq!(
            name("a@x (Invoice\n Department)").as_deref(),
            Some("Invoice\n Department")
        );
        assert_eq!(name("<a@x>"), None);
        assert_eq!(name("undisclosed-recipients:;"), None);
        assert_eq!(name("a@x"), None);
        assert_eq!(for_humans(b" a \t b\n"), b"a b");
        let addr = Address {
            name: Some(b"Alice Anderson".to_vec()),
            route: None,
            mailbox: Some(b"a".to_vec()),
            host: Some(b"x".to_vec()),
        };
        let raw = b"\"Alice  Anderson\" <a@x>";
        assert_eq!(
            display_address(std::slice::from_ref(&addr), Some(raw)),
            "ALICE  ANDERSON"
        );
        assert_eq!(
            display_address(std::slice::from_ref(&addr), None),
            "ALICE ANDERSON"
        );
        // A raw value that reads differently is not trusted.
        assert_eq!(
            display_address(&[addr], Some(b"Bob <b@y>")),
            "ALICE ANDERSON"
        );
    }

    #[test]
    fn message_ids_like_dovecot() {
        assert_eq!(msg_ids(b"<foo@bar>"), vec!["foo@bar"]);
        assert_eq!(
            msg_ids(b"<foo@bar>,skipped,<foo2@bar2>"),
            vec!["foo@bar", "foo2@bar2"]
        );
        assert_eq!(
            msg_ids(b"(c) < (c) foo (c) @ (c) bar (c) > (c)"),
            vec!["foo@bar"]
        );
        assert_eq!(msg_ids(b"<\"foo 2\"@bar>"), vec!["foo 2@bar"]);
        assert_eq!(msg_ids(b"<a b\n @c>"), vec!["ab@c"]);
        // No '@': not an id; the next one is found.
        assert_eq!(msg_ids(b"<nope> <x@y>"), vec!["x@y"]);
        assert_eq!(msg_ids(b"<x@y"), Vec::<String>::new());
        assert_eq!(first_msg_id(b"junk <a@b> <c@d>"), Some("a@b".into()));
        assert_eq!(first_msg_id(b""), None);
        let many: Vec<u8> = (0..300)
            .flat_map(|i| format!("<{i}@x> ").into_bytes())
            .collect();
        let ids = msg_ids(&many);
        assert_eq!(ids.len(), MAX_REFERENCES);
        assert_eq!(ids.last().map(String::as_str), Some("299@x"));
        // Hostile input stays cheap and never panics.
        let evil: Vec<u8> = b"<\"(".repeat(20_000);
        assert!(msg_ids(&evil).is_empty());
    }

    #[test]
    fn dates_like_dovecot() {
        let d = |s: &str| dovecot_date(s.as_bytes());
        assert_eq!(d("Thu, 1 Jan 1970 00:00:10 +0000"), Some(10));
        assert_eq!(d("1 Jan 1970 01:00:10 +0100"), Some(10));
        assert_eq!(d("1 jan 70 00:00 GMT"), Some(0));
        assert_eq!(d("1 Jan 1970 00:00:00 EST"), Some(5 * 3600));
        assert_eq!(d("1 Jan 1970 00:00:00 PDT"), Some(7 * 3600));
        assert_eq!(d("1 Jan 1970 00:00:00 +0000 (UTC)"), Some(0));
        assert_eq!(d("1 Jan 1970 00:00:00 (UTC)"), Some(0));
        assert_eq!(d("1 Jan 1970 00:00:00 XYZ"), Some(0));
        assert_eq!(d("1 Jan 01 00:00:00 +0000"), d("1 Jan 2001 00:00:00 +0000"));
        assert_eq!(d("31 Dec 1969 23:59:59 +0000"), None);
        assert_eq!(d("31 Dec 1969 23:59:58 +0000"), Some(-2));
        assert_eq!(d("5 Dec 2023"), None);
        assert_eq!(d("Tue, 30 Feb 2024 10:00:00 +0000"), None);
        assert_eq!(d("Mon, 1 Jan 10000 00:00:00 +0000"), None);
        assert_eq!(d("2024-01-05T10:00:00Z"), None);
        assert_eq!(d("Tues, 1 Jan 2024 10:00 +0000"), None);
        assert_eq!(d("yesterday"), None);
        assert_eq!(d(""), None);
        assert_eq!(stored_sent_date(Some(-2)), u32::MAX - 1);
        assert_eq!(sort_date(0, 77), 77);
        assert_eq!(sort_date(5, 77), 5);
    }
}
