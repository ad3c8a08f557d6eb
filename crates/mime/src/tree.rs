//! The boundary scanner: builds the part tree with Dovecot's rules.

use crate::header::{HeaderField, HeaderLine, line_at, next_line};
use crate::{
    ContentInfo, Envelope, MAX_DEPTH, MAX_PARTS, MessageStructure, Part, PartKind, params,
};

#[derive(Default)]
struct Node {
    parent: Option<usize>,
    children: Vec<usize>,
    depth: usize,
    header_start: usize,
    body_start: usize,
    end: usize,
    multipart: bool,
    digest: bool,
    rfc822: bool,
    content: ContentInfo,
    /// The part is a message (the root or the child of message/rfc822): keep its envelope.
    want_envelope: bool,
    /// The header was cut short by a boundary line: the body is empty.
    cut: bool,
    envelope: Option<Envelope>,
}

/// Boundaries are cut to this length (RFC 2046 allows 70; Dovecot keeps 80).
const BOUNDARY_MAX: usize = 80;

struct Boundary {
    part: usize,
    text: Vec<u8>,
    epilogue: bool,
}

struct Ctx<'a> {
    raw: &'a [u8],
    nodes: Vec<Node>,
    bounds: Vec<Boundary>,
}

/// What comes after a header block.
enum Next {
    /// Scan the body of the current part from this position for boundaries (or to EOF).
    Body(usize),
    /// A message/rfc822 body: its embedded message header starts here (accounting, scan).
    Child(usize, usize),
}

pub fn parse(raw: &[u8]) -> MessageStructure {
    let mut ctx = Ctx {
        raw,
        nodes: vec![Node {
            want_envelope: true,
            ..Node::default()
        }],
        bounds: Vec::new(),
    };
    ctx.run();
    let root = ctx.build(0);
    MessageStructure { root }
}

impl Ctx<'_> {
    fn run(&mut self) {
        let len = self.raw.len();
        let mut cur = 0usize;
        let mut next = self.header(cur, 0, 0);
        // Each iteration consumes input or closes a part, so this terminates;
        // the counter is a second guard.
        let mut guard: u64 = 0;
        loop {
            guard += 1;
            if guard > 4 * (len as u64) + 4 * MAX_PARTS as u64 + 16 {
                break;
            }
            match next {
                Next::Child(acct, scan) => {
                    let child = self.add_child(cur, acct);
                    cur = child;
                    next = self.header(cur, acct, scan);
                }
                Next::Body(scan) => {
                    if self.bounds.is_empty() {
                        break;
                    }
                    match self.find_boundary_from(scan) {
                        None => break,
                        Some((bi, e, line, first)) => {
                            let (p, after) = self.finish(cur, bi, e, line, first);
                            cur = p;
                            let own = self.bounds.last().is_some_and(|b| b.part == cur);
                            if own && self.nodes.len() < MAX_PARTS {
                                let child = self.add_child(cur, after);
                                cur = child;
                                next = self.header(cur, after, after);
                            } else {
                                if own {
                                    self.bounds.clear();
                                }
                                next = Next::Body(after);
                            }
                        }
                    }
                }
            }
        }
        // EOF: everything still open ends at the end of the input.
        let mut p = Some(cur);
        while let Some(i) = p {
            let n = &mut self.nodes[i];
            n.end = len.max(n.body_start);
            p = n.parent;
        }
    }

    fn add_child(&mut self, parent: usize, at: usize) -> usize {
        let depth = self.nodes[parent].depth + 1;
        let want_envelope = self.nodes[parent].rfc822;
        self.nodes.push(Node {
            parent: Some(parent),
            depth,
            header_start: at,
            body_start: at,
            end: at,
            want_envelope,
            ..Node::default()
        });
        let id = self.nodes.len() - 1;
        self.nodes[parent].children.push(id);
        id
    }

    fn too_nested(&self, cur: usize) -> bool {
        self.nodes[cur].depth + 1 >= MAX_DEPTH
    }

    /// Parses the header block of `cur`, whose accounting start is `acct` and which is
    /// read from `scan` (they differ when a boundary cut the parent's header short).
    fn header(&mut self, cur: usize, acct: usize, scan: usize) -> Next {
        let raw = self.raw;
        let mut pos = scan;
        let mut prev_nl = 0usize;
        let mut consumed = false;
        let mut is_mime = false;
        let mut seen_ct = false;
        let mut last_boundary: Option<Vec<u8>> = None;
        let mut multipart_started = false;
        let mut fields: Vec<HeaderField<'_>> = Vec::new();
        let body_start;
        let mut scan_body;
        loop {
            if last_boundary.is_some() && is_mime && at_eoh(raw, pos) {
                if !self.too_nested(cur) {
                    if let Some(b) = last_boundary.take() {
                        self.bounds.push(Boundary {
                            part: cur,
                            text: b,
                            epilogue: false,
                        });
                        multipart_started = true;
                    }
                } else {
                    last_boundary = None;
                    self.nodes[cur].multipart = false;
                }
            }
            if let Some((bi, _)) = self.boundary_at(pos)
                && self.bounds[bi].part != cur
            {
                // A boundary line ends the header; its line break is the boundary's.
                body_start = if consumed { pos - prev_nl } else { acct };
                scan_body = pos;
                self.nodes[cur].cut = true;
                break;
            }
            match next_line(raw, pos, raw.len()) {
                HeaderLine::End(p) => {
                    // A blank line directly followed by another part's boundary is that
                    // boundary's line break: the header ends before it and the body is empty.
                    let other = self
                        .boundary_at(p)
                        .is_some_and(|(bi, _)| self.bounds[bi].part != cur);
                    if other {
                        body_start = pos;
                        scan_body = p;
                        self.nodes[cur].cut = true;
                    } else {
                        body_start = p;
                        scan_body = p;
                    }
                    break;
                }
                HeaderLine::Eof => {
                    body_start = if consumed { pos } else { acct.max(pos) };
                    scan_body = pos;
                    break;
                }
                HeaderLine::Field(f) => {
                    consumed = true;
                    prev_nl = f.newline;
                    pos = f.end;
                    if f.name.eq_ignore_ascii_case(b"Mime-Version") {
                        is_mime = true;
                    } else if f.name.eq_ignore_ascii_case(b"Content-Type") {
                        is_mime = true;
                        if !seen_ct {
                            seen_ct = true;
                            let ct = params::content_type(&f.value);
                            let n = &mut self.nodes[cur];
                            if !ct.ok {
                                fields.push(f);
                                continue;
                            }
                            let full = [
                                &ct.media_type[..],
                                b"/",
                                ct.subtype.as_deref().unwrap_or(b""),
                            ]
                            .concat();
                            let whole: &[u8] = if ct.subtype.is_some() {
                                &full
                            } else {
                                &ct.media_type
                            };
                            if whole.eq_ignore_ascii_case(b"message/rfc822") {
                                n.rfc822 = true;
                            } else if ct.media_type.eq_ignore_ascii_case(b"multipart")
                                && ct.subtype.is_some()
                            {
                                n.multipart = true;
                                if ct
                                    .subtype
                                    .as_deref()
                                    .is_some_and(|s| s.eq_ignore_ascii_case(b"digest"))
                                {
                                    n.digest = true;
                                }
                            }
                            if ct.ok && n.multipart {
                                last_boundary = ct
                                    .params
                                    .iter()
                                    .find(|(k, _)| k.eq_ignore_ascii_case(b"boundary"))
                                    // Dovecot truncates excessively long boundaries.
                                    .map(|(_, v)| v[..v.len().min(BOUNDARY_MAX)].to_vec());
                            }
                        }
                    }
                    fields.push(f);
                }
            }
        }
        if scan_body < body_start {
            scan_body = body_start;
        }
        let n = &mut self.nodes[cur];
        n.body_start = body_start.max(n.header_start);
        if !is_mime {
            n.multipart = false;
            n.digest = false;
            n.rfc822 = false;
        }
        let parent_digest = n.parent.is_some_and(|p| self.nodes[p].digest);
        let n = &mut self.nodes[cur];
        // Without a Content-Type, a part of multipart/digest is message/rfc822.
        if (!seen_ct || !is_mime) && parent_digest {
            n.rfc822 = true;
        }
        n.content = if is_mime {
            content_info(&fields)
        } else {
            ContentInfo::default()
        };
        n.content.decode_cte = fields
            .iter()
            .rev()
            .find(|f| f.name.eq_ignore_ascii_case(b"Content-Transfer-Encoding"))
            // Dovecot's decoder re-reads the field on each continuation line, where it
            // sees an empty value: a folded Content-Transfer-Encoding is unknown.
            .map(|f| {
                if f.value.contains(&b'\n') {
                    Vec::new()
                } else {
                    params::token(&f.value).0.unwrap_or_default()
                }
            });
        if n.want_envelope {
            n.envelope = Some(crate::address::envelope(&fields));
        }
        if multipart_started {
            Next::Body(scan_body)
        } else if n.rfc822 && !self.too_nested(cur) {
            Next::Child(self.nodes[cur].body_start, scan_body)
        } else {
            self.nodes[cur].rfc822 = false;
            Next::Body(scan_body)
        }
    }

    /// Boundary matching the line at `pos`: (index into bounds, epilogue).
    fn boundary_at(&mut self, pos: usize) -> Option<(usize, bool)> {
        let raw = self.raw;
        if self.bounds.is_empty() {
            return None;
        }
        let rest = raw.get(pos..)?;
        if !rest.starts_with(b"--") {
            return None;
        }
        let data = &rest[2..];
        let mut find = match data.iter().position(|&b| b == b'\n') {
            Some(lf) => lf,
            None => data.len().min(BOUNDARY_MAX + 4),
        };
        let has_lf = data.get(find) == Some(&b'\n');
        if has_lf && find > 0 && data[find - 1] == b'\r' {
            find -= 1;
        }
        let line = &data[..find];
        let trailing_dash = has_lf && find > 2 && line.ends_with(b"--");
        let mut best: Option<usize> = None;
        for i in (0..self.bounds.len()).rev() {
            let b = &self.bounds[i].text;
            if b.len() <= line.len()
                && line.starts_with(b)
                && best.is_none_or(|x| self.bounds[x].text.len() < b.len())
            {
                best = Some(i);
                if b.len() == line.len() || (b.len() + 2 == line.len() && trailing_dash) {
                    break;
                }
            }
        }
        let bi = best?;
        let blen = self.bounds[bi].text.len();
        let epi = line.len() >= blen + 2 && &line[blen..blen + 2] == b"--";
        self.bounds[bi].epilogue = epi;
        Some((bi, epi))
    }

    /// From line start `scan`, the first boundary line: (bound index, end of the body, line start).
    fn find_boundary_from(&mut self, scan: usize) -> Option<(usize, usize, usize, bool)> {
        let raw = self.raw;
        let mut line = scan;
        let mut first = true;
        loop {
            if line > raw.len() {
                return None;
            }
            if let Some((bi, _)) = self.boundary_at(line) {
                let e = if first {
                    line
                } else {
                    let mut e = line - 1;
                    if e > 0 && raw[e - 1] == b'\r' {
                        e -= 1;
                    }
                    e
                };
                return Some((bi, e, line, first));
            }
            if line >= raw.len() {
                return None;
            }
            let lf = raw[line..].iter().position(|&b| b == b'\n')?;
            line = line + lf + 1;
            first = false;
        }
    }

    /// Closes parts up to the boundary's owner; returns (owner, position after the boundary line).
    fn finish(
        &mut self,
        cur: usize,
        bi: usize,
        e: usize,
        line: usize,
        first: bool,
    ) -> (usize, usize) {
        let owner = self.bounds[bi].part;
        let mut p = cur;
        let mut guard = 0;
        while p != owner {
            let n = &mut self.nodes[p];
            n.end = if first && n.cut {
                n.body_start
            } else {
                e.max(n.body_start)
            };
            match n.parent {
                Some(q) => p = q,
                None => break,
            }
            guard += 1;
            if guard > MAX_DEPTH * 2 + 8 {
                break;
            }
        }
        if self.bounds[bi].epilogue {
            self.bounds.truncate(bi);
        } else {
            self.bounds.truncate(bi + 1);
        }
        let (_, after, _) = line_at(self.raw, line, self.raw.len());
        (owner, after)
    }

    fn build(&self, i: usize) -> Part {
        let n = &self.nodes[i];
        let raw = self.raw;
        let body = raw
            .get(n.body_start..n.end.max(n.body_start))
            .unwrap_or(&[]);
        let (size, lines) = measure(body);
        let kind = if n.multipart {
            PartKind::Multipart(n.children.iter().map(|&c| self.build(c)).collect())
        } else if n.rfc822 {
            match n.children.first() {
                Some(&c) => PartKind::Message(Box::new(self.build(c))),
                None => PartKind::Leaf,
            }
        } else {
            PartKind::Leaf
        };
        Part {
            header_start: n.header_start,
            body_start: n.body_start,
            end: n.end.max(n.body_start),
            body_size: size,
            body_lines: lines,
            content: n.content.clone(),
            kind,
            envelope: n.envelope.clone().map(Box::new),
        }
    }
}

fn at_eoh(raw: &[u8], pos: usize) -> bool {
    match raw.get(pos) {
        Some(b'\n') => true,
        Some(b'\r') => raw.get(pos + 1) == Some(&b'\n'),
        _ => false,
    }
}

/// (virtual size, LF count)
fn measure(body: &[u8]) -> (u64, u64) {
    let mut lines = 0u64;
    let mut bare = 0u64;
    for (i, &b) in body.iter().enumerate() {
        if b == b'\n' {
            lines += 1;
            if i == 0 || body[i - 1] != b'\r' {
                bare += 1;
            }
        }
    }
    (body.len() as u64 + bare, lines)
}

/// The Content-* fields of a MIME part (first occurrence of each wins).
fn content_info(fields: &[HeaderField<'_>]) -> ContentInfo {
    let mut c = ContentInfo::default();
    let mut seen_type = false;
    let mut seen_lang = false;
    for f in fields {
        let Some(name) = f
            .name
            .get(..8)
            .filter(|n| n.eq_ignore_ascii_case(b"Content-"))
            .map(|_| &f.name[8..])
        else {
            continue;
        };
        let v = &f.value;
        let one_line = || {
            v.iter()
                .copied()
                .filter(|&b| b != b'\r' && b != b'\n')
                .collect::<Vec<u8>>()
        };
        if name.eq_ignore_ascii_case(b"ID") {
            c.id.get_or_insert_with(one_line);
        } else if name.eq_ignore_ascii_case(b"MD5") {
            c.md5.get_or_insert_with(one_line);
        } else if name.eq_ignore_ascii_case(b"Type") {
            if !seen_type {
                seen_type = true;
                let ct = params::content_type(v);
                if ct.ok {
                    c.media_type = Some(ct.media_type);
                    c.media_subtype = ct.subtype;
                    c.params = ct.params;
                } else {
                    // Dovecot reports an unparsable Content-Type as ("" "").
                    c.media_type = Some(Vec::new());
                    c.media_subtype = Some(Vec::new());
                }
            }
        } else if name.eq_ignore_ascii_case(b"Transfer-Encoding") {
            if c.transfer_encoding.is_none() {
                c.transfer_encoding = params::transfer_encoding(v);
            }
        } else if name.eq_ignore_ascii_case(b"Language") {
            if !seen_lang {
                seen_lang = true;
                c.language = params::language(v);
            }
        } else if name.eq_ignore_ascii_case(b"Location") {
            c.location.get_or_insert_with(one_line);
        } else if name.eq_ignore_ascii_case(b"Description") {
            c.description.get_or_insert_with(one_line);
        } else if name.eq_ignore_ascii_case(b"Disposition")
            // Dovecot's test: a later header replaces one that had no parameters.
            && c.disposition_params.is_empty()
            && let Some((d, p)) = params::disposition(v)
        {
            c.disposition = Some(d);
            c.disposition_params = p;
        }
    }
    c
}
