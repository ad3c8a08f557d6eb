//! A compact, versioned binary form of [`MessageStructure`] (stored beside the message).
//!
//! Layout: version byte, then the root part. Integers are LEB128 varints; byte strings are
//! a length then the bytes; optional byte strings are 0 (absent) or 1 + length.

use crate::{Address, ContentInfo, Envelope, MAX_DEPTH, MessageStructure, Param, Part, PartKind};

const VERSION: u8 = 1;

pub fn to_bytes(m: &MessageStructure) -> Vec<u8> {
    let mut w = vec![VERSION];
    part(&mut w, &m.root);
    w
}

fn uv(w: &mut Vec<u8>, mut n: u64) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            w.push(b);
            return;
        }
        w.push(b | 0x80);
    }
}

fn bytes(w: &mut Vec<u8>, b: &[u8]) {
    uv(w, b.len() as u64);
    w.extend_from_slice(b);
}

fn opt(w: &mut Vec<u8>, b: &Option<Vec<u8>>) {
    match b {
        None => uv(w, 0),
        Some(b) => {
            uv(w, b.len() as u64 + 1);
            w.extend_from_slice(b);
        }
    }
}

fn params(w: &mut Vec<u8>, p: &[Param]) {
    uv(w, p.len() as u64);
    for (k, v) in p {
        bytes(w, k);
        bytes(w, v);
    }
}

fn addrs(w: &mut Vec<u8>, a: &[Address]) {
    uv(w, a.len() as u64);
    for a in a {
        opt(w, &a.name);
        opt(w, &a.route);
        opt(w, &a.mailbox);
        opt(w, &a.host);
    }
}

fn part(w: &mut Vec<u8>, p: &Part) {
    uv(w, p.header_start as u64);
    uv(w, (p.body_start - p.header_start.min(p.body_start)) as u64);
    uv(w, (p.end - p.body_start.min(p.end)) as u64);
    uv(w, p.body_size);
    uv(w, p.body_lines);
    let c = &p.content;
    opt(w, &c.media_type);
    opt(w, &c.media_subtype);
    params(w, &c.params);
    opt(w, &c.id);
    opt(w, &c.description);
    opt(w, &c.transfer_encoding);
    opt(w, &c.md5);
    opt(w, &c.disposition);
    params(w, &c.disposition_params);
    uv(w, c.language.len() as u64);
    for l in &c.language {
        bytes(w, l);
    }
    opt(w, &c.location);
    opt(w, &c.decode_cte);
    match &p.envelope {
        None => uv(w, 0),
        Some(e) => {
            uv(w, 1);
            opt(w, &e.date);
            opt(w, &e.subject);
            for l in [&e.from, &e.sender, &e.reply_to, &e.to, &e.cc, &e.bcc] {
                addrs(w, l);
            }
            opt(w, &e.in_reply_to);
            opt(w, &e.message_id);
        }
    }
    match &p.kind {
        PartKind::Leaf => uv(w, 0),
        PartKind::Multipart(ch) => {
            uv(w, 1);
            uv(w, ch.len() as u64);
            for c in ch {
                part(w, c);
            }
        }
        PartKind::Message(m) => {
            uv(w, 2);
            part(w, m);
        }
    }
}

struct R<'a> {
    b: &'a [u8],
    pos: usize,
}

impl R<'_> {
    fn u(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.b.get(self.pos)?;
            self.pos += 1;
            n |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }
    fn us(&mut self) -> Option<usize> {
        usize::try_from(self.u()?).ok()
    }
    fn take(&mut self, n: usize) -> Option<Vec<u8>> {
        let end = self.pos.checked_add(n)?;
        let v = self.b.get(self.pos..end)?.to_vec();
        self.pos = end;
        Some(v)
    }
    fn bytes(&mut self) -> Option<Vec<u8>> {
        let n = self.us()?;
        self.take(n)
    }
    fn opt(&mut self) -> Option<Option<Vec<u8>>> {
        match self.us()? {
            0 => Some(None),
            n => Some(Some(self.take(n - 1)?)),
        }
    }
    /// A count, bounded by the remaining input (every element takes at least one byte).
    fn count(&mut self) -> Option<usize> {
        let n = self.us()?;
        (n <= self.b.len() - self.pos.min(self.b.len())).then_some(n)
    }
    fn params(&mut self) -> Option<Vec<Param>> {
        let n = self.count()?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push((self.bytes()?, self.bytes()?));
        }
        Some(v)
    }
    fn addrs(&mut self) -> Option<Vec<Address>> {
        let n = self.count()?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(Address {
                name: self.opt()?,
                route: self.opt()?,
                mailbox: self.opt()?,
                host: self.opt()?,
            });
        }
        Some(v)
    }
    fn part(&mut self, depth: usize) -> Option<Part> {
        if depth > MAX_DEPTH + 1 {
            return None;
        }
        let header_start = self.us()?;
        let body_start = header_start.checked_add(self.us()?)?;
        let end = body_start.checked_add(self.us()?)?;
        let body_size = self.u()?;
        let body_lines = self.u()?;
        let media_type = self.opt()?;
        let media_subtype = self.opt()?;
        let params = self.params()?;
        let id = self.opt()?;
        let description = self.opt()?;
        let transfer_encoding = self.opt()?;
        let md5 = self.opt()?;
        let disposition = self.opt()?;
        let disposition_params = self.params()?;
        let nl = self.count()?;
        let mut language = Vec::with_capacity(nl);
        for _ in 0..nl {
            language.push(self.bytes()?);
        }
        let location = self.opt()?;
        let decode_cte = self.opt()?;
        let content = ContentInfo {
            media_type,
            media_subtype,
            params,
            id,
            description,
            transfer_encoding,
            md5,
            disposition,
            disposition_params,
            language,
            location,
            decode_cte,
        };
        let envelope = match self.u()? {
            0 => None,
            1 => Some(Box::new(Envelope {
                date: self.opt()?,
                subject: self.opt()?,
                from: self.addrs()?,
                sender: self.addrs()?,
                reply_to: self.addrs()?,
                to: self.addrs()?,
                cc: self.addrs()?,
                bcc: self.addrs()?,
                in_reply_to: self.opt()?,
                message_id: self.opt()?,
            })),
            _ => return None,
        };
        let kind = match self.u()? {
            0 => PartKind::Leaf,
            1 => {
                let n = self.count()?;
                let mut ch = Vec::with_capacity(n);
                for _ in 0..n {
                    ch.push(self.part(depth + 1)?);
                }
                PartKind::Multipart(ch)
            }
            2 => PartKind::Message(Box::new(self.part(depth + 1)?)),
            _ => return None,
        };
        Some(Part {
            header_start,
            body_start,
            end,
            body_size,
            body_lines,
            content,
            kind,
            envelope,
        })
    }
}

pub fn from_bytes(b: &[u8]) -> Option<MessageStructure> {
    if b.first() != Some(&VERSION) {
        return None;
    }
    let mut r = R { b, pos: 1 };
    let root = r.part(0)?;
    (r.pos == b.len()).then_some(MessageStructure { root })
}
