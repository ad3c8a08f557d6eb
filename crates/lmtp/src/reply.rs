//! Replies: a code, an enhanced status code (RFC 3463, ENHANCEDSTATUSCODES
//! RFC 2034) and one or more text lines.

use std::fmt::Write;

/// One reply (possibly multi-line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// `class.subject.detail`, e.g. `(2, 1, 5)`; `None` for replies that
    /// carry none (greeting, LHLO, 354).
    pub status: Option<(u8, u16, u16)>,
    pub lines: Vec<String>,
}

impl Reply {
    /// A one-line reply with an enhanced status code.
    pub fn new(code: u16, status: (u8, u16, u16), text: impl Into<String>) -> Reply {
        Reply {
            code,
            status: Some(status),
            lines: vec![text.into()],
        }
    }

    /// A reply without an enhanced status code.
    pub fn plain(code: u16, lines: Vec<String>) -> Reply {
        Reply {
            code,
            status: None,
            lines,
        }
    }

    /// Whether the code is 2xx.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// Appends the wire form. Text is cleaned of CR/LF so a reply can never
    /// split into two.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let mut s = String::new();
        let n = self.lines.len().max(1);
        for i in 0..n {
            let text = self.lines.get(i).map(String::as_str).unwrap_or("");
            let sep = if i + 1 < n { '-' } else { ' ' };
            let _ = write!(s, "{}{sep}", self.code);
            if let Some((a, b, c)) = self.status {
                let _ = write!(s, "{a}.{b}.{c} ");
            }
            s.extend(
                text.chars()
                    .map(|c| if c == '\r' || c == '\n' { ' ' } else { c }),
            );
            s.push_str("\r\n");
        }
        out.extend_from_slice(s.as_bytes());
    }

    /// The wire form.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode_into(&mut v);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_and_many_lines() {
        assert_eq!(
            Reply::new(250, (2, 1, 0), "Ok").encode(),
            b"250 2.1.0 Ok\r\n"
        );
        let r = Reply::plain(
            250,
            vec!["host".into(), "PIPELINING".into(), "SIZE 10".into()],
        );
        assert_eq!(r.encode(), b"250-host\r\n250-PIPELINING\r\n250 SIZE 10\r\n");
        assert_eq!(
            Reply::new(550, (5, 1, 1), "no\r\nsuch").encode(),
            b"550 5.1.1 no  such\r\n"
        );
        assert!(!Reply::plain(354, vec![]).is_positive());
        assert_eq!(Reply::plain(354, vec![]).encode(), b"354 \r\n");
    }
}
