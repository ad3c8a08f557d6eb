//! RFC 5322 address lists from raw header bytes (encoded words are kept as they
//! are), following Dovecot's parser: groups become a start marker
//! `(NIL NIL "name" NIL)` and an end marker `(NIL NIL NIL NIL)`; a missing local
//! part or domain becomes `MISSING_MAILBOX` / `MISSING_DOMAIN`.

use crate::header::HeaderField;
use crate::rfc822::Parser;
use crate::{Address, Envelope};

/// Upper bound on addresses from one header (hostile input).
const MAX_ADDRESSES: usize = 10_000;

#[derive(Default)]
struct Addr {
    name: Option<Vec<u8>>,
    route: Option<Vec<u8>>,
    mailbox: Option<Vec<u8>>,
    domain: Option<Vec<u8>>,
}

struct Ctx<'a> {
    p: Parser<'a>,
    out: Vec<Address>,
    addr: Addr,
}

impl Ctx<'_> {
    fn add(&mut self) {
        let a = std::mem::take(&mut self.addr);
        self.out.push(Address {
            name: a.name.map(|n| for_humans(&n)),
            route: a.route,
            mailbox: a.mailbox,
            host: a.domain,
        });
    }

    fn add_fixed(&mut self) {
        if self.addr.mailbox.is_none() {
            self.addr.mailbox = Some(b"MISSING_MAILBOX".to_vec());
        }
        if self.addr.domain.is_none() {
            self.addr.domain = Some(b"MISSING_DOMAIN".to_vec());
        }
        self.add();
    }

    fn local_part(&mut self) -> i32 {
        let mut s = Vec::new();
        let ret = if self.p.peek() == b'"' {
            self.p.parse_quoted_string(&mut s)
        } else {
            self.p.parse_dot_atom(&mut s)
        };
        if ret < 0 {
            return -1;
        }
        self.addr.mailbox = Some(s);
        ret
    }

    fn domain(&mut self) -> i32 {
        let mut s = Vec::new();
        let ret = self.p.parse_domain(&mut s);
        if ret < 0 {
            return -1;
        }
        self.addr.domain = Some(s);
        ret
    }

    fn domain_list(&mut self) -> i32 {
        let mut s = Vec::new();
        loop {
            if self.p.at_end() {
                return 0;
            }
            if self.p.peek() != b'@' {
                break;
            }
            if !s.is_empty() {
                s.push(b',');
            }
            s.push(b'@');
            let ret = self.p.parse_domain(&mut s);
            if ret <= 0 {
                return ret;
            }
            while self.p.skip_lwsp() > 0 && self.p.peek() == b',' {
                self.p.pos += 1;
            }
        }
        self.addr.route = Some(s);
        1
    }

    fn angle_addr(&mut self) -> i32 {
        self.p.pos += 1;
        let ret = self.p.skip_lwsp();
        if ret <= 0 {
            return ret;
        }
        if self.p.peek() == b'@' {
            if self.domain_list() <= 0 || self.p.peek() != b':' {
                self.addr.route = Some(b"INVALID_ROUTE".to_vec());
                return -1;
            }
            self.p.pos += 1;
            let ret = self.p.skip_lwsp();
            if ret <= 0 {
                return ret;
            }
        }
        // `<>`: an empty address, which Dovecot accepts (mailbox and domain
        // then read MISSING_MAILBOX / MISSING_DOMAIN).
        if self.p.peek() != b'>' {
            let ret = self.local_part();
            if ret <= 0 {
                return ret;
            }
        }
        if self.p.peek() == b'@' {
            let ret = self.domain();
            if ret <= 0 {
                return ret;
            }
        }
        if self.p.peek() != b'>' {
            return -1;
        }
        self.p.pos += 1;
        self.p.skip_lwsp()
    }

    fn name_addr(&mut self) -> i32 {
        let mut s = Vec::new();
        if self.p.parse_phrase(&mut s) <= 0 || self.p.peek() != b'<' {
            return -1;
        }
        self.addr.name = if s.is_empty() { None } else { Some(s) };
        if self.angle_addr() < 0 {
            self.addr.domain = Some(b"SYNTAX_ERROR".to_vec());
        }
        i32::from(!self.p.at_end())
    }

    fn addr_spec(&mut self) -> i32 {
        self.p.last_comment = Some(Vec::new());
        let quoted = self.p.peek() == b'"';
        let mut ret = self.local_part();
        let mut r2 = -2;
        if ret != 0 && self.p.peek() == b'@' {
            r2 = self.domain();
            if r2 <= 0 {
                ret = r2;
            }
        }
        let comment = self.p.last_comment.take().unwrap_or_default();
        if !comment.is_empty() {
            self.addr.name = Some(comment);
        } else if r2 == -2 {
            // "user" alone is a mailbox; "user more words" is a display name.
            let mut s = self.addr.mailbox.clone().unwrap_or_default();
            s.push(b' ');
            let before = s.len();
            self.p.parse_phrase(&mut s);
            if s.len() != before {
                self.addr.mailbox = None;
                self.addr.name = Some(s);
            } else if quoted {
                // a quoted string alone is a display name
                self.addr.name = self.addr.mailbox.take();
            }
            ret = -1;
        }
        ret
    }

    fn mailbox(&mut self) -> i32 {
        let start = self.p.pos;
        let mut ret = self.name_addr();
        if ret < 0 {
            self.p.pos = start;
            self.addr = Addr::default();
            ret = self.addr_spec();
        }
        self.add_fixed();
        ret
    }

    fn group(&mut self) -> i32 {
        let mut s = Vec::new();
        if self.p.parse_phrase(&mut s) <= 0 || self.p.peek() != b':' {
            return -1;
        }
        self.p.pos += 1;
        let mut ret = self.p.skip_lwsp();
        self.addr.mailbox = Some(s);
        self.add();
        if ret > 0 && self.p.peek() != b';' {
            loop {
                if self.out.len() > MAX_ADDRESSES {
                    ret = -1;
                    break;
                }
                if self.mailbox() <= 0 {
                    ret = -1;
                    break;
                }
                if self.p.peek() != b',' {
                    break;
                }
                self.p.pos += 1;
                if self.p.skip_lwsp() <= 0 {
                    ret = -1;
                    break;
                }
            }
        }
        if ret >= 0 {
            if self.p.peek() != b';' || self.p.at_end() {
                ret = -1;
            } else {
                self.p.pos += 1;
                ret = self.p.skip_lwsp();
            }
        }
        self.add();
        if ret == 0 { 0 } else { 1 }
    }

    fn address(&mut self) -> i32 {
        let start = self.p.pos;
        let mark = self.out.len();
        let ret = self.group();
        if ret < 0 {
            self.p.pos = start;
            self.out.truncate(mark);
            self.addr = Addr::default();
            return self.mailbox();
        }
        ret
    }

    fn list(&mut self) {
        while self.out.len() < MAX_ADDRESSES {
            let before = self.p.pos;
            if self.address() == 0 {
                break;
            }
            if self.p.peek() != b',' || self.p.at_end() {
                break;
            }
            self.p.pos += 1;
            let ret = self.p.skip_lwsp();
            if ret <= 0 {
                if ret < 0 {
                    self.add_fixed();
                }
                break;
            }
            if self.p.pos <= before {
                break;
            }
        }
    }
}

/// Parses an address list header value.
pub fn parse_addresses(value: &[u8]) -> Vec<Address> {
    let mut ctx = Ctx {
        p: Parser::new(value),
        out: Vec::new(),
        addr: Addr::default(),
    };
    if ctx.p.skip_lwsp() <= 0 {
        return Vec::new();
    }
    ctx.list();
    ctx.out
}

/// Dovecot's "string for humans" (ENVELOPE subject and display names): whitespace
/// runs become one space, leading and trailing whitespace is removed, NUL becomes 0x80.
pub fn for_humans(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut last_lwsp = true;
    for &b in v {
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                if !last_lwsp {
                    out.push(b' ');
                }
                last_lwsp = true;
            }
            0 => {
                out.push(0x80);
                last_lwsp = false;
            }
            _ => {
                out.push(b);
                last_lwsp = false;
            }
        }
    }
    if last_lwsp && out.last() == Some(&b' ') {
        out.pop();
    }
    out
}

fn strip_lf(v: &[u8]) -> Vec<u8> {
    v.iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect()
}

/// The envelope of a header block.
pub fn envelope(fields: &[HeaderField<'_>]) -> Envelope {
    let mut e = Envelope::default();
    let (mut from, mut sender, mut reply_to) = (None, None, None);
    for f in fields {
        let n = f.name;
        let is = |s: &str| n.eq_ignore_ascii_case(s.as_bytes());
        if is("Date") {
            e.date = Some(strip_lf(&f.value));
        } else if is("Subject") {
            e.subject = Some(for_humans(&f.value));
        } else if is("Message-ID") {
            e.message_id = Some(strip_lf(&f.value));
        } else if is("In-Reply-To") {
            e.in_reply_to = Some(strip_lf(&f.value));
        } else if is("From") {
            from.get_or_insert_with(Vec::new)
                .extend(parse_addresses(&f.value));
        } else if is("Sender") {
            sender
                .get_or_insert_with(Vec::new)
                .extend(parse_addresses(&f.value));
        } else if is("Reply-To") {
            reply_to
                .get_or_insert_with(Vec::new)
                .extend(parse_addresses(&f.value));
        } else if is("To") {
            e.to.extend(parse_addresses(&f.value));
        } else if is("Cc") {
            e.cc.extend(parse_addresses(&f.value));
        } else if is("Bcc") {
            e.bcc.extend(parse_addresses(&f.value));
        }
    }
    let from = from.unwrap_or_default();
    e.sender = sender
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| from.clone());
    e.reply_to = reply_to
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| from.clone());
    e.from = from;
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(v: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
        let a = parse_addresses(v);
        assert_eq!(a.len(), 1, "{a:?}");
        (a[0].mailbox.clone(), a[0].host.clone())
    }

    #[test]
    fn empty_angle_address_is_missing_mailbox_and_domain() {
        // As Dovecot 2.3 answers ENVELOPE for `From: <>`.
        assert_eq!(
            one(b"<>"),
            (
                Some(b"MISSING_MAILBOX".to_vec()),
                Some(b"MISSING_DOMAIN".to_vec())
            )
        );
        assert_eq!(
            one(b"Name <>"),
            (
                Some(b"MISSING_MAILBOX".to_vec()),
                Some(b"MISSING_DOMAIN".to_vec())
            )
        );
        assert_eq!(one(b"<a@b>"), (Some(b"a".to_vec()), Some(b"b".to_vec())));
    }
}
