//! From a stored [`MessageStructure`] (and the raw message) to FETCH answers:
//! ENVELOPE, BODY/BODYSTRUCTURE, BODY[section] and BINARY[part] / BINARY.SIZE[part].
//!
//! Nothing here re-parses the MIME tree; only HEADER.FIELDS reads header bytes again.
//! The output matches Dovecot 2.3 (the reference of the FETCH corpus), including:
//! a text part without charset gets `("charset" "us-ascii")` appended; a multipart
//! without usable boundary reports one empty `text/plain` child; in `BODY[...]`
//! data a NUL byte is sent as 0x80 (a plain literal is `CHAR8`, which excludes NUL,
//! RFC 9051 section 4.3; BINARY uses literal8 and keeps it).

use std::ops::Range;

use tidemark_imap_proto::{
    Address, BodyFields, BodyStructure, Disposition, Envelope, MultipartExt, Section, SectionText,
    SinglePartExt, SinglePartKind,
};
use tidemark_mime::{DecodeError, MessageStructure, Part, PartKind, decode_transfer};

/// Why BINARY failed: maps to `NO [UNKNOWN-CTE]` or `NO [PARSE]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryError {
    /// No such part (`NO` / `BAD` is the caller's choice).
    NoSuchPart,
    UnknownCte,
    Parse,
}

impl From<DecodeError> for BinaryError {
    fn from(e: DecodeError) -> BinaryError {
        match e {
            DecodeError::UnknownCte => BinaryError::UnknownCte,
            DecodeError::Invalid => BinaryError::Parse,
        }
    }
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn params(p: &[(Vec<u8>, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    p.iter().map(|(k, v)| (s(k), v.clone())).collect()
}

fn addresses(a: &[tidemark_mime::Address]) -> Vec<Address> {
    a.iter()
        .map(|a| Address {
            name: a.name.clone(),
            adl: a.route.clone(),
            mailbox: a.mailbox.clone(),
            host: a.host.clone(),
        })
        .collect()
}

fn envelope_of(p: &Part) -> Envelope {
    let Some(e) = p.envelope.as_deref() else {
        return Envelope::default();
    };
    Envelope {
        date: e.date.clone(),
        subject: e.subject.clone(),
        from: addresses(&e.from),
        sender: addresses(&e.sender),
        reply_to: addresses(&e.reply_to),
        to: addresses(&e.to),
        cc: addresses(&e.cc),
        bcc: addresses(&e.bcc),
        in_reply_to: e.in_reply_to.clone(),
        message_id: e.message_id.clone(),
    }
}

/// FETCH ENVELOPE.
pub fn envelope(m: &MessageStructure) -> Envelope {
    envelope_of(&m.root)
}

/// FETCH BODYSTRUCTURE (`extensible`) or BODY.
pub fn body_structure(m: &MessageStructure, extensible: bool) -> BodyStructure {
    structure(&m.root, extensible)
}

fn disposition(p: &Part) -> Option<Disposition> {
    p.content.disposition.as_ref().map(|d| Disposition {
        kind: s(d),
        params: params(&p.content.disposition_params),
    })
}

fn language(p: &Part) -> Vec<String> {
    p.content.language.iter().map(|l| s(l)).collect()
}

/// Dovecot's body for a multipart without parts: `("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)`.
fn empty_text(ext: bool) -> BodyStructure {
    BodyStructure::Single {
        fields: BodyFields {
            params: vec![("charset".into(), b"us-ascii".to_vec())],
            id: None,
            description: None,
            encoding: "7bit".into(),
            octets: 0,
        },
        kind: SinglePartKind::Text {
            media_type: "text".into(),
            subtype: "plain".into(),
            lines: 0,
        },
        extension: ext.then(SinglePartExt::default),
    }
}

fn structure(p: &Part, ext: bool) -> BodyStructure {
    let c = &p.content;
    if let PartKind::Multipart(children) = &p.kind {
        let parts = if children.is_empty() {
            vec![empty_text(ext)]
        } else {
            children.iter().map(|ch| structure(ch, ext)).collect()
        };
        return BodyStructure::Multipart {
            parts,
            subtype: c
                .media_subtype
                .as_deref()
                .map_or_else(|| "x-unknown".into(), s),
            extension: ext.then(|| MultipartExt {
                params: params(&c.params),
                disposition: disposition(p),
                language: language(p),
                location: c.location.clone(),
            }),
        };
    }
    let extension = ext.then(|| SinglePartExt {
        md5: c.md5.clone(),
        disposition: disposition(p),
        language: language(p),
        location: c.location.clone(),
    });
    let mut fields = BodyFields {
        params: params(&c.params),
        id: c.id.clone(),
        description: c.description.clone(),
        encoding: c
            .transfer_encoding
            .as_deref()
            .map_or_else(|| "7bit".into(), s),
        octets: p.body_size,
    };
    if let PartKind::Message(child) = &p.kind {
        return BodyStructure::Single {
            fields,
            kind: SinglePartKind::Message {
                subtype: "rfc822".into(),
                envelope: Box::new(envelope_of(child)),
                body: Box::new(structure(child, ext)),
                lines: p.body_lines,
            },
            extension,
        };
    }
    let text = c
        .media_type
        .as_deref()
        .is_none_or(|t| t.eq_ignore_ascii_case(b"text"));
    let media_type = c.media_type.as_deref().map_or_else(|| "text".into(), s);
    let subtype = match &c.media_subtype {
        Some(st) => s(st),
        None if text => "plain".into(),
        None => "unknown".into(),
    };
    if text
        && !c
            .params
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(b"charset"))
    {
        fields.params.push(("charset".into(), b"us-ascii".to_vec()));
    }
    let kind = if text {
        SinglePartKind::Text {
            media_type,
            subtype,
            lines: p.body_lines,
        }
    } else {
        SinglePartKind::Basic {
            media_type,
            subtype,
        }
    };
    BodyStructure::Single {
        fields,
        kind,
        extension,
    }
}

/// What a section number names.
#[derive(Debug, Clone, Copy)]
pub enum Found<'a> {
    Part(&'a Part),
    /// Part 1 of a multipart that has no parts (reported as an empty text/plain) at this offset.
    Empty(usize),
}

/// The part a non-empty section number names (RFC 9051 section 6.4.5).
pub fn find_part<'a>(m: &'a MessageStructure, path: &[u32]) -> Option<Found<'a>> {
    let mut p = &m.root;
    for (i, &n) in path.iter().enumerate() {
        let container = match (&p.kind, i) {
            (PartKind::Message(child), 1..) => child.as_ref(),
            _ => p,
        };
        p = match &container.kind {
            PartKind::Multipart(ch) if ch.is_empty() && n == 1 && i + 1 == path.len() => {
                return Some(Found::Empty(container.end));
            }
            PartKind::Multipart(ch) => ch.get(usize::try_from(n).ok()?.checked_sub(1)?)?,
            _ if n == 1 => container,
            _ => return None,
        };
    }
    Some(Found::Part(p))
}

/// How to produce a `BODY[section]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionPlan {
    /// A byte range of the message.
    Range(Range<usize>),
    /// HEADER.FIELDS(.NOT): filter the header block at `header`.
    HeaderFields {
        header: Range<usize>,
        fields: Vec<String>,
        not: bool,
    },
}

/// The message whose HEADER/TEXT a section names: the root, or an
/// embedded message.
fn message_of(p: &Part) -> &Part {
    match &p.kind {
        PartKind::Message(child) => child,
        _ => p,
    }
}

/// Resolves a `BODY[section]` (RFC 9051 6.4.5); `None` when it does not
/// exist. `size` is the message size.
pub fn section_plan(m: &MessageStructure, size: usize, section: &Section) -> Option<SectionPlan> {
    let clamp = |a: usize, b: usize| {
        let a = a.min(size);
        SectionPlan::Range(a..b.min(size).max(a))
    };
    let fields = |p: &Part, fields: &[String], not: bool| SectionPlan::HeaderFields {
        header: p.header_start.min(size)..p.body_start.min(size).max(p.header_start.min(size)),
        fields: fields.to_vec(),
        not,
    };
    let (msg, part) = if section.part.is_empty() {
        (&m.root, None)
    } else {
        match find_part(m, &section.part)? {
            Found::Part(p) => (message_of(p), Some(p)),
            Found::Empty(at) => {
                return match &section.text {
                    None | Some(SectionText::Mime) => Some(clamp(at, at)),
                    _ => None,
                };
            }
        }
    };
    Some(match (&section.text, part) {
        (None, None) => clamp(0, size),
        (None, Some(p)) => clamp(p.body_start, p.end),
        (Some(SectionText::Mime), None) => return None,
        (Some(SectionText::Mime), Some(p)) => clamp(p.header_start, p.body_start),
        (Some(SectionText::Header), _) => clamp(msg.header_start, msg.body_start),
        (Some(SectionText::Text), _) => clamp(msg.body_start, msg.end),
        (Some(SectionText::HeaderFields { not, fields: f }), _) => fields(msg, f, *not),
    })
}

/// How to produce a `BINARY[part]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryPlan {
    pub range: Range<usize>,
    /// Content-Transfer-Encoding to undo.
    pub cte: Option<Vec<u8>>,
    /// False for the whole message, multiparts and messages (sent as is).
    pub decode: bool,
}

/// Resolves a `BINARY[part]` (RFC 3516).
pub fn binary_plan(
    m: &MessageStructure,
    size: usize,
    part: &[u32],
) -> Result<BinaryPlan, BinaryError> {
    let whole = |r: Range<usize>| BinaryPlan {
        range: r,
        cte: None,
        decode: false,
    };
    if part.is_empty() {
        return Ok(whole(0..size));
    }
    let p = match find_part(m, part).ok_or(BinaryError::NoSuchPart)? {
        Found::Part(p) => p,
        Found::Empty(at) => return Ok(whole(at..at)),
    };
    let start = p.body_start.min(size);
    let range = start..p.end.min(size).max(start);
    if !matches!(p.kind, PartKind::Leaf) {
        return Ok(whole(range));
    }
    Ok(BinaryPlan {
        range,
        cte: p.content.decode_cte.clone(),
        decode: true,
    })
}

/// HEADER.FIELDS / HEADER.FIELDS.NOT over a standalone header block: the
/// matching fields in order (a last field without line end gets CRLF),
/// then a blank line.
pub fn filter_header_block(block: &[u8], names: &[String], not: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for f in tidemark_mime::header_fields(block, 0, block.len()) {
        let listed = names
            .iter()
            .any(|n| n.as_bytes().eq_ignore_ascii_case(f.name));
        let line = block.get(f.start..f.end).unwrap_or(&[]);
        if listed != not && line.contains(&b':') {
            out.extend_from_slice(line);
            if f.newline == 0 {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// `BODY[...]` data: a plain literal is CHAR8, which excludes NUL (RFC 9051
/// 4.3), so NUL goes out as 0x80, as Dovecot does. BINARY keeps NUL (literal8).
pub fn nul_to_0x80(mut v: Vec<u8>) -> Vec<u8> {
    for b in v.iter_mut() {
        if *b == 0 {
            *b = 0x80;
        }
    }
    v
}

/// `BODY[section]` data as sent (NUL → 0x80), from the whole message;
/// `None` when the section does not exist.
pub fn body_section(m: &MessageStructure, raw: &[u8], section: &Section) -> Option<Vec<u8>> {
    Some(nul_to_0x80(match section_plan(m, raw.len(), section)? {
        SectionPlan::Range(r) => raw.get(r).unwrap_or(&[]).to_vec(),
        SectionPlan::HeaderFields {
            header,
            fields,
            not,
        } => filter_header_block(raw.get(header).unwrap_or(&[]), &fields, not),
    }))
}

/// `BINARY[part]`: the part body with its Content-Transfer-Encoding removed.
pub fn binary(m: &MessageStructure, raw: &[u8], part: &[u32]) -> Result<Vec<u8>, BinaryError> {
    let plan = binary_plan(m, raw.len(), part)?;
    let body = raw.get(plan.range).unwrap_or(&[]);
    if !plan.decode {
        return Ok(body.to_vec());
    }
    Ok(decode_transfer(plan.cte.as_deref(), body)?)
}

/// `BINARY.SIZE[part]`: the length of [`binary`].
pub fn binary_size(m: &MessageStructure, raw: &[u8], part: &[u32]) -> Result<u64, BinaryError> {
    binary(m, raw, part).map(|b| b.len() as u64)
}

/// Parses the MIME structure once, at delivery (APPEND, LMTP), for FETCH
/// to use later. Large messages are parsed off the async workers.
pub async fn parse_structure(data: bytes::Bytes) -> bytes::Bytes {
    if data.len() < 256 * 1024 {
        return bytes::Bytes::from(tidemark_mime::parse(&data).to_bytes());
    }
    tokio::task::spawn_blocking(move || bytes::Bytes::from(tidemark_mime::parse(&data).to_bytes()))
        .await
        // A parser panic must not lose the message: FETCH re-parses then.
        .unwrap_or_default()
}
