//! The RFC 822 / RFC 2045 tokenizer used for structured header values.
//!
//! Return values follow one convention throughout: `-1` broken input, `0` the
//! end of the value was reached, `1` more input follows.

/// atext: 1, alpha/digit (and 8-bit): 2, atext that is a MIME tspecial: 4.
fn class(b: u8) -> u8 {
    match b {
        b'!' | b'#'..=b'\'' | b'*' | b'+' | b'-' | b'^' | b'_' | b'`' | b'{'..=b'~' => 1,
        b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' | 0x80..=0xff => 2,
        b'/' | b'=' | b'?' => 4,
        _ => 0,
    }
}

pub fn is_atext(b: u8) -> bool {
    class(b) != 0
}

fn is_token(b: u8) -> bool {
    matches!(class(b), 1 | 2) || b == b'.'
}

pub struct Parser<'a> {
    pub data: &'a [u8],
    pub pos: usize,
    /// When `Some`, the text of the last comment skipped.
    pub last_comment: Option<Vec<u8>>,
}

impl<'a> Parser<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Parser {
            data,
            pos: 0,
            last_comment: None,
        }
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The current byte (0 at the end, which matches no syntax character).
    pub fn peek(&self) -> u8 {
        self.data.get(self.pos).copied().unwrap_or(0)
    }

    fn more(&self) -> i32 {
        i32::from(!self.at_end())
    }

    fn skip_comment(&mut self) -> i32 {
        let mut level = 1;
        if let Some(c) = self.last_comment.as_mut() {
            c.clear();
        }
        self.pos += 1;
        let mut start = self.pos;
        while self.pos < self.data.len() {
            match self.data[self.pos] {
                b'(' => level += 1,
                b')' => {
                    level -= 1;
                    if level == 0 {
                        if let Some(c) = self.last_comment.as_mut() {
                            c.extend_from_slice(&self.data[start..self.pos]);
                        }
                        self.pos += 1;
                        return self.more();
                    }
                }
                b'\\' => {
                    if let Some(c) = self.last_comment.as_mut() {
                        c.extend_from_slice(&self.data[start..self.pos]);
                    }
                    start = self.pos + 1;
                    self.pos += 1;
                    if self.pos >= self.data.len() {
                        return -1;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        -1
    }

    /// Skips whitespace (including CR/LF) and comments.
    pub fn skip_lwsp(&mut self) -> i32 {
        while let Some(&b) = self.data.get(self.pos) {
            if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
                self.pos += 1;
                continue;
            }
            if b != b'(' {
                break;
            }
            if self.skip_comment() < 0 {
                return -1;
            }
        }
        self.more()
    }

    pub fn parse_atom(&mut self, out: &mut Vec<u8>) -> i32 {
        if !is_atext(self.peek()) || self.at_end() {
            return -1;
        }
        let start = self.pos;
        while self.pos < self.data.len() && is_atext(self.data[self.pos]) {
            self.pos += 1;
        }
        out.extend_from_slice(&self.data[start..self.pos]);
        if self.at_end() { 0 } else { self.skip_lwsp() }
    }

    pub fn parse_dot_atom(&mut self, out: &mut Vec<u8>) -> i32 {
        if self.at_end() || !is_atext(self.peek()) {
            return -1;
        }
        let mut start = self.pos;
        self.pos += 1;
        while self.pos < self.data.len() {
            if is_atext(self.data[self.pos]) {
                self.pos += 1;
                continue;
            }
            out.extend_from_slice(&self.data[start..self.pos]);
            let ret = self.skip_lwsp();
            if ret <= 0 {
                return ret;
            }
            if self.peek() != b'.' {
                return 1;
            }
            self.pos += 1;
            out.push(b'.');
            let ret = self.skip_lwsp();
            if ret <= 0 {
                return ret;
            }
            start = self.pos;
        }
        out.extend_from_slice(&self.data[start..self.pos]);
        0
    }

    /// MIME token (RFC 2045), '.' allowed.
    pub fn parse_mime_token(&mut self, out: &mut Vec<u8>) -> i32 {
        let start = self.pos;
        while self.pos < self.data.len() && is_token(self.data[self.pos]) {
            self.pos += 1;
        }
        out.extend_from_slice(&self.data[start..self.pos]);
        if self.at_end() { 0 } else { self.skip_lwsp() }
    }

    pub fn parse_quoted_string(&mut self, out: &mut Vec<u8>) -> i32 {
        self.pos += 1;
        let mut start = self.pos;
        while self.pos < self.data.len() {
            match self.data[self.pos] {
                b'"' => {
                    out.extend_from_slice(&self.data[start..self.pos]);
                    self.pos += 1;
                    return self.skip_lwsp();
                }
                b'\n' => {
                    let mut end = self.pos;
                    if end > start && self.data[end - 1] == b'\r' {
                        end -= 1;
                    }
                    out.extend_from_slice(&self.data[start..end]);
                    start = self.pos + 1;
                }
                b'\\' => {
                    self.pos += 1;
                    if self.pos >= self.data.len() {
                        return -1;
                    }
                    out.extend_from_slice(&self.data[start..self.pos - 1]);
                    start = self.pos;
                }
                _ => {}
            }
            self.pos += 1;
        }
        -1
    }

    fn parse_atom_or_dot(&mut self, out: &mut Vec<u8>) -> i32 {
        let start = self.pos;
        while self.pos < self.data.len()
            && (is_atext(self.data[self.pos]) || self.data[self.pos] == b'.')
        {
            self.pos += 1;
        }
        out.extend_from_slice(&self.data[start..self.pos]);
        if self.at_end() { 0 } else { self.skip_lwsp() }
    }

    /// phrase = 1*word / obs-phrase; words joined by one space.
    pub fn parse_phrase(&mut self, out: &mut Vec<u8>) -> i32 {
        if self.at_end() {
            return 0;
        }
        if self.peek() == b'.' {
            return -1;
        }
        loop {
            let ret = if self.peek() == b'"' {
                self.parse_quoted_string(out)
            } else {
                self.parse_atom_or_dot(out)
            };
            if ret <= 0 {
                return ret;
            }
            let c = self.peek();
            if !is_atext(c) && c != b'"' && c != b'.' {
                break;
            }
            out.push(b' ');
        }
        self.skip_lwsp()
    }

    fn parse_domain_literal(&mut self, out: &mut Vec<u8>) -> i32 {
        let start = self.pos;
        while self.pos < self.data.len() {
            match self.data[self.pos] {
                b'\\' => {
                    self.pos += 1;
                    if self.pos >= self.data.len() {
                        break;
                    }
                }
                b']' => {
                    self.pos += 1;
                    out.extend_from_slice(&self.data[start..self.pos]);
                    return self.skip_lwsp();
                }
                _ => {}
            }
            self.pos += 1;
        }
        -1
    }

    /// At '@': the domain after it.
    pub fn parse_domain(&mut self, out: &mut Vec<u8>) -> i32 {
        self.pos += 1;
        if self.skip_lwsp() <= 0 {
            return -1;
        }
        if self.peek() == b'[' {
            self.parse_domain_literal(out)
        } else {
            self.parse_dot_atom(out)
        }
    }

    /// `type "/" subtype` into `out` (with the '/').
    pub fn parse_content_type(&mut self, out: &mut Vec<u8>) -> i32 {
        if self.skip_lwsp() <= 0 {
            return -1;
        }
        if self.parse_mime_token(out) <= 0 {
            return -1;
        }
        if self.peek() != b'/' {
            return -1;
        }
        self.pos += 1;
        if self.skip_lwsp() <= 0 {
            return -1;
        }
        out.push(b'/');
        self.parse_mime_token(out)
    }

    /// `";" attribute "=" value`; `Ok(None)` at the end, `Err(())` when broken.
    pub(crate) fn parse_content_param(&mut self) -> Result<Option<Param>, ()> {
        if self.at_end() {
            return Ok(None);
        }
        if self.peek() != b';' {
            return Err(());
        }
        self.pos += 1;
        if self.skip_lwsp() <= 0 {
            return Err(());
        }
        let mut key = Vec::new();
        if self.parse_mime_token(&mut key) <= 0 {
            return Err(());
        }
        if self.peek() != b'=' || self.at_end() {
            return Err(());
        }
        self.pos += 1;
        let mut value = Vec::new();
        let mut ret = self.skip_lwsp();
        if ret <= 0 {
            // broken / no value
        } else if self.peek() == b'"' {
            ret = self.parse_quoted_string(&mut value);
        } else if self.peek() == b'=' {
            // workaround for name==?utf-8?b?...?=
            while let Some(&b) = self.data.get(self.pos) {
                if matches!(b, b';' | b' ' | b'\t' | b'\r' | b'\n') {
                    break;
                }
                value.push(b);
                self.pos += 1;
            }
        } else {
            ret = self.parse_mime_token(&mut value);
        }
        if ret < 0 {
            Err(())
        } else {
            Ok(Some((key, value)))
        }
    }
}

use crate::Param;
