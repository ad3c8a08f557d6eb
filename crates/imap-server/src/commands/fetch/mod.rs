//! FETCH and UID FETCH (RFC 9051 6.4.5): FLAGS, UID, INTERNALDATE,
//! RFC822.SIZE, MODSEQ, RFC822, RFC822.HEADER, RFC822.TEXT and the
//! top-level BODY[...] sections (whole message, HEADER, HEADER.FIELDS
//! (.NOT), TEXT) with partial `<o.n>`. A non-PEEK body fetch sets \Seen and
//! reports the new FLAGS. MIME-aware items (ENVELOPE, BODYSTRUCTURE, part
//! numbers, BINARY, PREVIEW) belong to the MIME layer and answer NO
//! [CANNOT] until it lands.

use crate::commands::{flags_to_wire, need_selected, resolve_set};
use crate::error::CommandError;
use crate::session::{CmdResult, Done, Session};
use tidemark_imap_proto::{
    Code, Data, DateTime, FetchAttribute, FetchAttrs, FetchItem, Partial, Response, Section,
    SectionText, SequenceSet, UidMode,
};
use tidemark_store::{FlagOp, FlagUpdate, Flags, SystemFlag, UidSet};

pub(crate) async fn run(
    s: &mut Session,
    mode: UidMode,
    set: SequenceSet,
    attrs: FetchAttrs,
) -> CmdResult {
    let mut attrs = attrs.expand();
    for a in &attrs {
        check_supported(a)?;
    }
    if mode == UidMode::Uid && !attrs.contains(&FetchAttribute::Uid) {
        attrs.insert(0, FetchAttribute::Uid);
    }
    let (account, view) = need_selected(s)?;
    let uids = resolve_set(view, mode, &set)?;
    let mailbox = view.id;
    let read_only = view.read_only;
    let sets_seen = !read_only && attrs.iter().any(sets_seen);
    let needs_body = attrs.iter().any(needs_body);

    let mut metas = account.fetch_meta(mailbox, &uids).await?;
    if sets_seen {
        let unseen: Vec<_> = metas
            .iter()
            .filter(|m| !m.flags.contains(SystemFlag::Seen))
            .map(|m| m.uid)
            .collect();
        if !unseen.is_empty() {
            let mut seen = Flags::new();
            seen.insert(SystemFlag::Seen);
            let update = FlagUpdate {
                op: FlagOp::Add,
                flags: seen,
                unchanged_since: None,
            };
            let out = account
                .store_flags(mailbox, &UidSet::from_uids(unseen), &update)
                .await?;
            for changed in out.changed {
                if let Ok(i) = metas.binary_search_by(|m| m.uid.cmp(&changed.uid)) {
                    metas[i] = changed.clone();
                }
                if let Some(v) = s.selected() {
                    v.note_reported(changed.uid, changed.modseq);
                }
            }
        }
    }

    for meta in metas {
        let Some(seq) = s.selected().and_then(|v| v.seq(meta.uid)) else {
            continue;
        };
        let body = if needs_body {
            match account.read_message(mailbox, meta.uid).await {
                Ok(b) => Some(b),
                // Expunged meanwhile: RFC 9051 allows omitting it.
                Err(tidemark_store::StoreError::Expunged) => continue,
                Err(e) => return Err(e.into()),
            }
        } else {
            None
        };
        let raw: &[u8] = body.as_deref().unwrap_or(&[]);
        let mut items = Vec::with_capacity(attrs.len() + 1);
        let mut has_flags = false;
        for a in &attrs {
            let item = match a {
                FetchAttribute::Uid => FetchItem::Uid(meta.uid.0),
                FetchAttribute::Flags => {
                    has_flags = true;
                    FetchItem::Flags(flags_to_wire(&meta.flags))
                }
                FetchAttribute::InternalDate => FetchItem::InternalDate(DateTime::from_unix(
                    meta.internal_date.unix,
                    meta.internal_date.offset_minutes,
                )),
                FetchAttribute::Rfc822Size => FetchItem::Rfc822Size(meta.size),
                FetchAttribute::ModSeq => FetchItem::ModSeq(meta.modseq.0),
                FetchAttribute::Rfc822 => FetchItem::Rfc822(Some(raw.to_vec())),
                FetchAttribute::Rfc822Header => FetchItem::Rfc822Header(Some(header(raw).to_vec())),
                FetchAttribute::Rfc822Text => FetchItem::Rfc822Text(Some(text(raw).to_vec())),
                FetchAttribute::BodySection {
                    section, partial, ..
                } => {
                    let data = section_bytes(raw, section);
                    let (origin, data) = apply_partial(data, *partial);
                    FetchItem::BodySection {
                        section: section.clone(),
                        origin,
                        data: Some(data.to_vec()),
                    }
                }
                _ => continue,
            };
            items.push(item);
        }
        if sets_seen && !has_flags {
            items.push(FetchItem::Flags(flags_to_wire(&meta.flags)));
        }
        s.send(Response::Data(Data::Fetch { seq, items }));
    }
    Ok(Done::ok("FETCH completed"))
}

fn check_supported(a: &FetchAttribute) -> Result<(), CommandError> {
    let unsupported = match a {
        FetchAttribute::BodySection { section, .. } => {
            !section.part.is_empty() || matches!(section.text, Some(SectionText::Mime))
        }
        FetchAttribute::Envelope
        | FetchAttribute::Body
        | FetchAttribute::BodyStructure
        | FetchAttribute::Binary { .. }
        | FetchAttribute::BinarySize { .. }
        | FetchAttribute::EmailId
        | FetchAttribute::ThreadId
        | FetchAttribute::Preview { .. }
        | FetchAttribute::SaveDate => true,
        _ => false,
    };
    if unsupported {
        Err(CommandError::no(
            Some(Code::Cannot),
            "This FETCH item needs MIME structure support, which is not available yet",
        ))
    } else {
        Ok(())
    }
}

fn sets_seen(a: &FetchAttribute) -> bool {
    matches!(
        a,
        FetchAttribute::Rfc822
            | FetchAttribute::Rfc822Text
            | FetchAttribute::BodySection { peek: false, .. }
    )
}

fn needs_body(a: &FetchAttribute) -> bool {
    matches!(
        a,
        FetchAttribute::Rfc822
            | FetchAttribute::Rfc822Header
            | FetchAttribute::Rfc822Text
            | FetchAttribute::BodySection { .. }
    )
}

/// Length of the header block including the blank line that ends it (the
/// whole message when there is no blank line).
fn header_len(raw: &[u8]) -> usize {
    let mut i = 0;
    // An empty header: the message starts with the blank line.
    if raw.starts_with(b"\r\n") {
        return 2;
    }
    if raw.starts_with(b"\n") {
        return 1;
    }
    while let Some(off) = raw[i..].iter().position(|b| *b == b'\n') {
        let nl = i + off;
        let rest = &raw[nl + 1..];
        if rest.starts_with(b"\r\n") {
            return nl + 3;
        }
        if rest.starts_with(b"\n") {
            return nl + 2;
        }
        i = nl + 1;
    }
    raw.len()
}

fn header(raw: &[u8]) -> &[u8] {
    &raw[..header_len(raw)]
}

fn text(raw: &[u8]) -> &[u8] {
    &raw[header_len(raw)..]
}

/// The bytes of a top-level section.
fn section_bytes(raw: &[u8], section: &Section) -> Vec<u8> {
    match &section.text {
        None => raw.to_vec(),
        Some(SectionText::Header) => header(raw).to_vec(),
        Some(SectionText::Text) => text(raw).to_vec(),
        Some(SectionText::HeaderFields { not, fields }) => header_fields(header(raw), fields, *not),
        // Refused by check_supported.
        Some(SectionText::Mime) => Vec::new(),
    }
}

/// HEADER.FIELDS / HEADER.FIELDS.NOT: the matching fields (with their
/// continuation lines) in message order, then a blank line.
fn header_fields(hdr: &[u8], fields: &[String], not: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut include = false;
    for line in hdr.split_inclusive(|b| *b == b'\n') {
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        let continuation = matches!(line.first(), Some(b' ' | b'\t'));
        if !continuation {
            let name = line.split(|b| *b == b':').next().unwrap_or(b"");
            let name = trim_ascii_end(name);
            let listed = fields
                .iter()
                .any(|f| f.as_bytes().eq_ignore_ascii_case(name));
            include = listed != not && line.contains(&b':');
        }
        if include {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn trim_ascii_end(b: &[u8]) -> &[u8] {
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(0, |p| p + 1);
    &b[..end]
}

/// `<o.n>`: the answer is named with the origin `o`; an origin past the
/// end gives an empty string (RFC 9051 6.4.5).
fn apply_partial(data: Vec<u8>, partial: Option<Partial>) -> (Option<u64>, Vec<u8>) {
    match partial {
        None => (None, data),
        Some(p) => {
            let start = (p.offset as usize).min(data.len());
            let end = start.saturating_add(p.length as usize).min(data.len());
            (Some(p.offset), data[start..end].to_vec())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"From: a@b\r\nSubject: hi\r\n there\r\nTo: c@d\r\n\r\nbody\r\n";

    #[test]
    fn header_and_text() {
        assert_eq!(
            header(MSG),
            b"From: a@b\r\nSubject: hi\r\n there\r\nTo: c@d\r\n\r\n"
        );
        assert_eq!(text(MSG), b"body\r\n");
        assert_eq!(header(b"no blank line"), b"no blank line");
        assert_eq!(text(b"\r\nonly body"), b"only body");
    }

    #[test]
    fn fields() {
        let f = header_fields(header(MSG), &["subject".into()], false);
        assert_eq!(f, b"Subject: hi\r\n there\r\n\r\n");
        let f = header_fields(header(MSG), &["subject".into()], true);
        assert_eq!(f, b"From: a@b\r\nTo: c@d\r\n\r\n");
    }

    #[test]
    fn partial() {
        let (o, d) = apply_partial(
            b"0123456789".to_vec(),
            Some(Partial {
                offset: 8,
                length: 5,
            }),
        );
        assert_eq!((o, d.as_slice()), (Some(8), &b"89"[..]));
        let (_, d) = apply_partial(
            b"01".to_vec(),
            Some(Partial {
                offset: 8,
                length: 5,
            }),
        );
        assert!(d.is_empty());
    }
}
