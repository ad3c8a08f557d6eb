//! Modified UTF-7 for mailbox names (RFC 3501 §5.1.3).
//!
//! Printable US-ASCII except `&` stands for itself; `&` is `&-`; everything else is UTF-16BE in
//! modified base64 (`,` instead of `/`, no padding) between `&` and `-`.

use std::fmt;

/// Invalid modified UTF-7.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utf7Error {
    /// Byte offset of the problem.
    pub offset: usize,
    pub reason: &'static str,
}

impl fmt::Display for Utf7Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid modified UTF-7 at byte {}: {}",
            self.offset, self.reason
        )
    }
}

impl std::error::Error for Utf7Error {}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

fn b64_value(b: u8) -> Option<u32> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b',' => 63,
        _ => return None,
    } as u32)
}

/// Encodes a UTF-8 name into modified UTF-7.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut units: Vec<u16> = Vec::new();
    let flush = |units: &mut Vec<u16>, out: &mut String| {
        if units.is_empty() {
            return;
        }
        out.push('&');
        let mut acc: u32 = 0;
        let mut bits = 0;
        for &u in units.iter() {
            acc = (acc << 16) | u32::from(u);
            bits += 16;
            while bits >= 6 {
                bits -= 6;
                out.push(char::from(B64[((acc >> bits) & 63) as usize]));
            }
        }
        if bits > 0 {
            out.push(char::from(B64[((acc << (6 - bits)) & 63) as usize]));
        }
        out.push('-');
        units.clear();
    };
    for c in s.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut units, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            units.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut units, &mut out);
    out
}

/// Decodes modified UTF-7 into UTF-8, rejecting anything not in canonical-enough form
/// (8-bit or control bytes, bad base64, leftover bits, lone surrogates, encoded printable ASCII).
pub fn decode(input: &[u8]) -> Result<String, Utf7Error> {
    let err = |offset, reason| Err(Utf7Error { offset, reason });
    let mut out = String::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        if !(0x20..=0x7e).contains(&b) {
            return err(i, "byte outside printable US-ASCII");
        }
        if b != b'&' {
            out.push(char::from(b));
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        if input.get(i) == Some(&b'-') {
            out.push('&');
            i += 1;
            continue;
        }
        let mut acc: u32 = 0;
        let mut bits = 0u32;
        let mut units: Vec<u16> = Vec::new();
        loop {
            match input.get(i) {
                None => return err(start, "unterminated base64 section"),
                Some(b'-') => {
                    i += 1;
                    break;
                }
                Some(&c) => {
                    let Some(v) = b64_value(c) else {
                        return err(i, "invalid base64 character");
                    };
                    acc = ((acc << 6) | v) & 0x3f_ffff;
                    bits += 6;
                    if bits >= 16 {
                        bits -= 16;
                        units.push(((acc >> bits) & 0xffff) as u16);
                    }
                    i += 1;
                }
            }
        }
        if bits >= 6 || (acc & ((1 << bits) - 1)) != 0 {
            return err(start, "non-zero or excess padding bits");
        }
        if units.is_empty() {
            return err(start, "empty base64 section");
        }
        for r in char::decode_utf16(units.iter().copied()) {
            match r {
                Ok(c) if (' '..='~').contains(&c) => {
                    return err(start, "printable ASCII must not be encoded");
                }
                Ok(c) => out.push(c),
                Err(_) => return err(start, "invalid UTF-16 surrogate"),
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        let cases = [
            ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            ("&", "&-"),
            ("Entwürfe", "Entw&APw-rfe"),
            ("INBOX", "INBOX"),
            ("😀", "&2D3eAA-"),
            ("a&b€", "a&-b&IKw-"),
        ];
        for (utf8, utf7) in cases {
            assert_eq!(encode(utf8), utf7);
            assert_eq!(decode(utf7.as_bytes()).as_deref(), Ok(utf8));
        }
    }

    #[test]
    fn rejects_invalid() {
        for bad in [
            "&",
            "&U,BTFw",
            "&AGE-",
            "&ZeVnLIqeAA-",
            "&ZeVnLIqe!-",
            "&2D0-",
            "ä",
            "&Ω-",
            "&-\u{7f}",
        ] {
            assert!(decode(bad.as_bytes()).is_err(), "{bad}");
        }
        // Non-zero padding bits: "&AGF-" differs from "&AGE-" only in the last 2 bits.
        assert!(decode(b"&2D3eAB-").is_err());
    }
}
