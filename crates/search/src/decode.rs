//! Decoding what a message says into text: RFC 2047 encoded words in header
//! values, transfer encodings and charsets of text parts.

use tidemark_mime::{HeaderField, Part, PartKind, decode_transfer, header_fields};

/// (name, value) of every field in `raw[start..end]`; the value is what
/// comes after the colon as written (leading whitespace kept), unfolded
/// (line ends removed, RFC 5322 3.2.2) and RFC 2047-decoded.
pub fn decoded_header(raw: &[u8], start: usize, end: usize) -> Vec<(Vec<u8>, String)> {
    header_fields(raw, start, end)
        .into_iter()
        .map(|f| {
            (
                f.name.to_vec(),
                decode_header_value(&written_value(raw, &f)),
            )
        })
        .collect()
}

/// The bytes after the colon of field `f`, line ends removed.
pub fn written_value(raw: &[u8], f: &HeaderField<'_>) -> Vec<u8> {
    let field = raw.get(f.start..f.end.min(raw.len())).unwrap_or_default();
    let colon = field
        .iter()
        .position(|&b| b == b':')
        .map_or(field.len(), |i| i + 1);
    field[colon..]
        .iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect()
}

/// Appends `name:value\n` for every field of `raw[start..end]` (values as
/// [`decoded_header`] gives them).
pub fn push_header_text(raw: &[u8], start: usize, end: usize, out: &mut String) {
    for (n, v) in decoded_header(raw, start, end) {
        out.push_str(&String::from_utf8_lossy(&n));
        out.push(':');
        out.push_str(&v);
        out.push('\n');
    }
}

/// Appends the header text of every body part under `p` (multipart
/// children, message/rfc822 parts and the messages inside them): the MIME
/// header fields RFC 9051 counts as part of TEXT. `p`'s own header is left
/// out when `is_root`. Stops once `out` holds `limit` bytes or more.
pub(crate) fn part_headers(
    raw: &[u8],
    p: &Part,
    is_root: bool,
    depth: usize,
    out: &mut String,
    limit: usize,
) {
    if depth > tidemark_mime::MAX_DEPTH + 2 || out.len() >= limit {
        return;
    }
    if !is_root {
        push_header_text(raw, p.header_start, p.body_start, out);
    }
    match &p.kind {
        PartKind::Multipart(children) => {
            for c in children {
                part_headers(raw, c, false, depth + 1, out, limit);
            }
        }
        PartKind::Message(inner) => part_headers(raw, inner, false, depth + 1, out, limit),
        PartKind::Leaf => {}
    }
}

/// Unfolds a header value (continuation lines joined by `\n`) and decodes RFC
/// 2047 encoded words; whitespace between two adjacent encoded words is
/// dropped. Raw non-ASCII bytes are taken as UTF-8 (lossy).
pub fn decode_header_value(v: &[u8]) -> String {
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
pub fn to_unicode(b: &[u8], charset: Option<&[u8]>) -> String {
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

/// Appends the decoded text of every text/* leaf under `p` (inside attached
/// messages too, but not their headers: RFC 3501 BODY is "in the body of
/// the message") to `out`, stopping
/// once `out` holds `limit` bytes or more (the caller sees it by the length).
pub(crate) fn body_text(raw: &[u8], p: &Part, depth: usize, out: &mut String, limit: usize) {
    if depth > tidemark_mime::MAX_DEPTH + 2 || out.len() >= limit {
        return;
    }
    match &p.kind {
        PartKind::Multipart(children) => {
            for c in children {
                body_text(raw, c, depth + 1, out, limit);
            }
        }
        PartKind::Message(inner) => body_text(raw, inner, depth + 1, out, limit),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjacent_encoded_words() {
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
        assert_eq!(
            decode_header_value(b"=?ISO-8859-1?Q?Andr=E9?= <a@b>"),
            "André <a@b>"
        );
        assert_eq!(decode_header_value(b"=?koi8-r?B?8NLJ18XU?="), "Привет");
    }

    #[test]
    fn charsets() {
        assert_eq!(to_unicode(b"caf\xe9", Some(b"windows-1252")), "café");
        assert_eq!(to_unicode("ü".as_bytes(), None), "ü");
        assert_eq!(to_unicode(b"\xff", Some(b"x-unknown")), "\u{fffd}");
    }
}
