//! Sort and thread keys of RFC 5256 (SORT, THREAD) and RFC 5957
//! (SORT=DISPLAY).

use tidemark_mime::Address;

use crate::decode::decode_header_value;
use crate::fold;

/// The base subject of a decoded subject (RFC 5256 2.1), folded so equal
/// base subjects compare equal.
pub fn base_subject(subject: &str) -> String {
    let mut s: String = collapse_ws(subject);
    loop {
        let before = s.clone();
        // (2) trailing "(fwd)" and whitespace.
        loop {
            let t = s.trim_end();
            if t.get(t.len().saturating_sub(5)..)
                .is_some_and(|x| x.eq_ignore_ascii_case("(fwd)"))
            {
                s = t[..t.len() - 5].to_string();
            } else {
                s = t.to_string();
                break;
            }
        }
        // (3) leading "re:", "fw:", "fwd:" with optional [blob]s.
        loop {
            let t = s.trim_start();
            let lower = t.to_ascii_lowercase();
            let mut cut = None;
            for p in ["re:", "fwd:", "fw:"] {
                if lower.starts_with(p) {
                    cut = Some(p.len());
                    break;
                }
            }
            match cut {
                Some(n) => s = t[n..].to_string(),
                None => {
                    s = t.to_string();
                    break;
                }
            }
        }
        // (5) "[fwd: ... ]".
        if s.len() >= 6
            && s.get(..5).is_some_and(|x| x.eq_ignore_ascii_case("[fwd:"))
            && s.ends_with(']')
        {
            s = s[5..s.len() - 1].to_string();
        }
        if s == before {
            break;
        }
    }
    fold(s.trim())
}

fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut ws = false;
    for c in s.chars() {
        if c.is_whitespace() {
            ws = true;
        } else {
            if ws && !out.is_empty() {
                out.push(' ');
            }
            ws = false;
            out.push(c);
        }
    }
    out
}

/// The SORT FROM/TO/CC key: the mailbox (local part) of the first address,
/// folded; empty when there is none.
pub fn sort_address(addrs: &[Address]) -> String {
    addrs
        .iter()
        .find_map(|a| a.mailbox.as_deref().filter(|_| a.host.is_some()))
        .map(|m| fold(&String::from_utf8_lossy(m)))
        .unwrap_or_default()
}

/// The SORT DISPLAYFROM/DISPLAYTO key (RFC 5957): the first address's
/// decoded display name, else its `mailbox@host`, folded.
pub fn display_address(addrs: &[Address]) -> String {
    let Some(a) = addrs.iter().find(|a| a.host.is_some()) else {
        return String::new();
    };
    if let Some(n) = a.name.as_deref().filter(|n| !n.is_empty()) {
        return fold(&decode_header_value(n));
    }
    let mut s = String::from_utf8_lossy(a.mailbox.as_deref().unwrap_or_default()).into_owned();
    s.push('@');
    s.push_str(&String::from_utf8_lossy(
        a.host.as_deref().unwrap_or_default(),
    ));
    fold(&s)
}

/// The `<id>` message identifiers in a Message-ID, References or
/// In-Reply-To value, without the angle brackets.
pub fn msg_ids(v: &[u8]) -> Vec<String> {
    let s = String::from_utf8_lossy(v);
    let mut out = Vec::new();
    let mut rest = &s[..];
    while let Some(a) = rest.find('<') {
        let Some(b) = rest[a..].find('>') else { break };
        let id: String = rest[a + 1..a + b]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if !id.is_empty() {
            out.push(id);
        }
        rest = &rest[a + b + 1..];
    }
    out
}
