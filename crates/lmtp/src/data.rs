//! The DATA phase (RFC 5321 4.1.1.4, 4.5.2): removes dot-stuffing, finds
//! the `CRLF.CRLF` end, turns bare LF line ends into CRLF (IMAP clients
//! expect CRLF; a bare CR is kept), and stops storing at the size limit
//! while still reading to the end so the transaction can be answered.

/// How DATA ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataEnd {
    /// The whole message is in [`DataDecoder::into_message`].
    Complete,
    /// More than the limit arrived; nothing beyond it was kept.
    TooBig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    LineStart,
    Mid,
    AfterCr,
    Dot,
    DotCr,
}

/// Incremental decoder of one message's DATA.
#[derive(Debug)]
pub struct DataDecoder {
    state: State,
    out: Vec<u8>,
    limit: usize,
    too_big: bool,
}

impl DataDecoder {
    /// A decoder that keeps at most `limit` bytes of message.
    pub fn new(limit: usize) -> DataDecoder {
        DataDecoder {
            state: State::LineStart,
            out: Vec::new(),
            limit,
            too_big: false,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        if self.too_big {
            return;
        }
        if self.out.len() + bytes.len() > self.limit {
            self.too_big = true;
            self.out = Vec::new();
            return;
        }
        self.out.extend_from_slice(bytes);
    }

    /// Feeds bytes; returns how many were consumed and, once the end line
    /// was seen, how DATA ended (bytes after it are not consumed: they are
    /// the next pipelined command).
    pub fn feed(&mut self, input: &[u8]) -> (usize, Option<DataEnd>) {
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            match self.state {
                State::Mid => {
                    // Copy the run up to the next line-end byte at once.
                    let run = input[i..]
                        .iter()
                        .position(|&c| c == b'\r' || c == b'\n')
                        .unwrap_or(input.len() - i);
                    if run > 0 {
                        self.push(&input[i..i + run]);
                        i += run;
                        continue;
                    }
                    self.state = if b == b'\r' {
                        State::AfterCr
                    } else {
                        self.push(b"\r\n");
                        State::LineStart
                    };
                }
                State::AfterCr => match b {
                    b'\n' => {
                        self.push(b"\r\n");
                        self.state = State::LineStart;
                    }
                    b'\r' => self.push(b"\r"),
                    _ => {
                        self.push(b"\r");
                        self.state = State::Mid;
                        continue;
                    }
                },
                State::LineStart => {
                    if b == b'.' {
                        self.state = State::Dot;
                    } else {
                        self.state = State::Mid;
                        continue;
                    }
                }
                State::Dot => match b {
                    b'\r' => self.state = State::DotCr,
                    b'\n' => return (i + 1, Some(self.end())),
                    // A stuffed dot: dropped, the rest of the line is text.
                    _ => {
                        self.state = State::Mid;
                        continue;
                    }
                },
                State::DotCr => {
                    if b == b'\n' {
                        return (i + 1, Some(self.end()));
                    }
                    // `.\r` then text: the dot was stuffing, the CR is data.
                    self.state = State::AfterCr;
                    continue;
                }
            }
            i += 1;
        }
        (input.len(), None)
    }

    fn end(&self) -> DataEnd {
        if self.too_big {
            DataEnd::TooBig
        } else {
            DataEnd::Complete
        }
    }

    /// Bytes kept so far.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// Whether nothing was kept.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// The message (after [`DataEnd::Complete`]).
    pub fn into_message(self) -> Vec<u8> {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&[u8]], limit: usize) -> (Vec<u8>, Option<DataEnd>, Vec<u8>) {
        let mut d = DataDecoder::new(limit);
        let mut rest = Vec::new();
        let mut end = None;
        for c in chunks {
            if end.is_some() {
                rest.extend_from_slice(c);
                continue;
            }
            let (n, e) = d.feed(c);
            if e.is_some() {
                end = e;
                rest.extend_from_slice(&c[n..]);
            } else {
                assert_eq!(n, c.len());
            }
        }
        (d.into_message(), end, rest)
    }

    #[test]
    fn unstuffs_and_ends() {
        let wire = b"Subject: x\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n";
        let (m, e, rest) = decode(&[wire], 1000);
        assert_eq!(m, b"Subject: x\r\n\r\n.leading dot\r\n");
        assert_eq!(e, Some(DataEnd::Complete));
        assert_eq!(rest, b"QUIT\r\n");
    }

    #[test]
    fn every_split_point_gives_the_same_message() {
        let wire: &[u8] = b"A: b\r\n\r\nline\nbare lf\r\n..\r\n.x\r\nx\rcr\r\r\n.\r\n";
        let (whole, e, _) = decode(&[wire], 1000);
        assert_eq!(e, Some(DataEnd::Complete));
        assert_eq!(
            whole,
            b"A: b\r\n\r\nline\r\nbare lf\r\n.\r\nx\r\nx\rcr\r\r\n"
        );
        for i in 0..wire.len() {
            for j in i..wire.len() {
                let (m, e2, rest) = decode(&[&wire[..i], &wire[i..j], &wire[j..]], 1000);
                assert_eq!((m.as_slice(), e2), (whole.as_slice(), e), "split {i} {j}");
                assert!(rest.is_empty());
            }
        }
    }

    #[test]
    fn empty_message_and_lf_end() {
        let (m, e, _) = decode(&[b".\r\n"], 10);
        assert!(m.is_empty());
        assert_eq!(e, Some(DataEnd::Complete));
        let (m, e, rest) = decode(&[b"a\n.\nNOOP\n"], 10);
        assert_eq!((m.as_slice(), e), (&b"a\r\n"[..], Some(DataEnd::Complete)));
        assert_eq!(rest, b"NOOP\n");
    }

    #[test]
    fn limit_keeps_reading_to_the_end() {
        let body = vec![b'x'; 100];
        let mut wire = body.clone();
        wire.extend_from_slice(b"\r\n.\r\nRSET\r\n");
        let (m, e, rest) = decode(&[&wire], 50);
        assert!(m.is_empty());
        assert_eq!(e, Some(DataEnd::TooBig));
        assert_eq!(rest, b"RSET\r\n");
        // Exactly at the limit is fine.
        let (m, e, _) = decode(&[b"abc\r\n.\r\n"], 5);
        assert_eq!((m.len(), e), (5, Some(DataEnd::Complete)));
        // A dot line in the middle of a line does not end.
        let (_, e, _) = decode(&[b"a.\r\nb\r\n"], 50);
        assert_eq!(e, None);
    }
}
