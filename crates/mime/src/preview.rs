//! RFC 8970 PREVIEW: up to 200 characters of plain text from the first text/plain
//! part (else the first text/html part, tags stripped, entities decoded), with
//! the transfer encoding and charset decoded and whitespace collapsed.

use crate::{MessageStructure, Part, PartKind, decode_transfer};

/// Maximum preview length in characters (RFC 8970 section 3).
pub const PREVIEW_CHARS: usize = 200;

/// The preview text; `None` when the message has no text part to take it from.
pub fn preview(raw: &[u8], m: &MessageStructure) -> Option<String> {
    let part = find(&m.root, b"plain", 0).or_else(|| find(&m.root, b"html", 0))?;
    let body = raw.get(part.body_start..part.end)?;
    let decoded = decode_transfer(part.content.decode_cte.as_deref(), body).ok()?;
    let text = to_unicode(&decoded, charset(part));
    let is_html = part
        .content
        .media_subtype
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case(b"html"));
    let text = if is_html { strip_html(&text) } else { text };
    Some(collapse(&text))
}

fn is_attachment(p: &Part) -> bool {
    p.content
        .disposition
        .as_deref()
        .is_some_and(|d| d.eq_ignore_ascii_case(b"attachment"))
}

fn find<'a>(p: &'a Part, subtype: &[u8], depth: usize) -> Option<&'a Part> {
    if depth > crate::MAX_DEPTH + 2 {
        return None;
    }
    match &p.kind {
        PartKind::Multipart(ch) => ch.iter().find_map(|c| find(c, subtype, depth + 1)),
        // An attached message is not the text of this one.
        PartKind::Message(_) => None,
        PartKind::Leaf => {
            let sub = p.content.media_subtype.as_deref().unwrap_or(b"plain");
            (p.media_type_is("text") && sub.eq_ignore_ascii_case(subtype) && !is_attachment(p))
                .then_some(p)
        }
    }
}

fn charset(p: &Part) -> &[u8] {
    p.content
        .params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(b"charset"))
        .map_or(b"us-ascii", |(_, v)| v.as_slice())
}

fn to_unicode(b: &[u8], cs: &[u8]) -> String {
    match encoding_rs::Encoding::for_label(cs) {
        Some(enc) => enc.decode_without_bom_handling(b).0.into_owned(),
        None => String::from_utf8_lossy(b).into_owned(),
    }
}

fn strip_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut skip_until: Option<&str> = None;
    while let Some(c) = rest.chars().next() {
        if let Some(end) = skip_until {
            match find_ci(rest, end) {
                Some(i) => {
                    rest = &rest[i..];
                    skip_until = None;
                }
                None => break,
            }
            continue;
        }
        if c == '<' {
            let lower: String = rest
                .chars()
                .take(8)
                .collect::<String>()
                .to_ascii_lowercase();
            if lower.starts_with("<script") {
                skip_until = Some("</script");
            } else if lower.starts_with("<style") {
                skip_until = Some("</style");
            } else if lower.starts_with("<!--") {
                match rest.find("-->") {
                    Some(i) => {
                        rest = &rest[i + 3..];
                        continue;
                    }
                    None => break,
                }
            }
            if skip_until.is_some() {
                continue;
            }
            match rest.find('>') {
                Some(i) => {
                    out.push(' ');
                    rest = &rest[i + 1..];
                }
                None => break,
            }
        } else if c == '&' {
            let (ch, used) = entity(rest);
            out.push(ch);
            rest = &rest[used..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    (0..h.len().saturating_sub(n.len()) + 1)
        .find(|&i| {
            h.get(i..i + n.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(n))
        })
        .filter(|&i| hay.is_char_boundary(i))
}

/// Decodes an entity at the start of `s` ("&..."): (character, bytes used).
fn entity(s: &str) -> (char, usize) {
    let end = s
        .char_indices()
        .take(12)
        .find(|&(_, c)| c == ';')
        .map(|(i, _)| i);
    let Some(end) = end else { return ('&', 1) };
    let name = &s[1..end];
    let c = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let num = name.strip_prefix('#');
            num.and_then(|n| match n.strip_prefix(['x', 'X']) {
                Some(h) => u32::from_str_radix(h, 16).ok(),
                None => n.parse().ok(),
            })
            .and_then(char::from_u32)
        }
    };
    match c {
        Some(c) => (c, end + 1),
        None => ('&', 1),
    }
}

fn collapse(s: &str) -> String {
    let mut out = String::new();
    let mut n = 0;
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
            continue;
        }
        if space {
            if n + 2 > PREVIEW_CHARS {
                break;
            }
            out.push(' ');
            n += 1;
            space = false;
        }
        if n >= PREVIEW_CHARS {
            break;
        }
        out.push(c);
        n += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pv(m: &[u8]) -> Option<String> {
        preview(m, &crate::parse(m))
    }

    #[test]
    fn plain_qp_latin1() {
        let m = b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nH=E9llo   w=\r\norld\r\n\r\nbye\r\n";
        assert_eq!(pv(m).as_deref(), Some("H\u{e9}llo world bye"));
    }

    #[test]
    fn html_fallback_and_limit() {
        let m = b"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<html><style>p{}</style><p>A &amp; B&#33;</p></html>\r\n--b--\r\n";
        assert_eq!(pv(m).as_deref(), Some("A & B!"));
        let long = format!("Subject: x\r\n\r\n{}\r\n", "word ".repeat(100));
        let p = pv(long.as_bytes()).unwrap();
        assert_eq!(p.chars().count(), 199);
        assert!(p.ends_with("word"));
        let long = format!("Subject: x\r\n\r\n{}\r\n", "\u{e9}".repeat(300));
        let m = long.replace("Subject: x", "Content-Type: text/plain; charset=utf-8");
        assert_eq!(pv(m.as_bytes()).unwrap().chars().count(), 200);
    }

    #[test]
    fn no_text() {
        let m = b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n";
        assert_eq!(pv(m), None);
    }
}
