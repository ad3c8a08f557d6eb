//! FETCH and UID FETCH (RFC 9051 6.4.5): FLAGS, UID, INTERNALDATE,
//! RFC822.SIZE, MODSEQ, ENVELOPE, BODY, BODYSTRUCTURE, RFC822,
//! RFC822.HEADER, RFC822.TEXT, BODY[section]<partial> (HEADER,
//! HEADER.FIELDS (.NOT), TEXT, MIME, part numbers, parts of embedded
//! messages), BINARY[part]<partial> and BINARY.SIZE (RFC 3516), PREVIEW
//! (RFC 8970), EMAILID and THREADID (RFC 8474). Structure items come from the structure parsed at APPEND;
//! sections read only their byte range. A non-PEEK body fetch sets \Seen
//! and reports the new FLAGS (with MODSEQ once CONDSTORE is on).
//!
//! RFC 7162: MODSEQ and `(CHANGEDSINCE n)` turn CONDSTORE on; CHANGEDSINCE
//! keeps the messages whose MODSEQ is above `n` and reports MODSEQ.
//! `(CHANGEDSINCE n VANISHED)` (UID FETCH, QRESYNC on) first sends
//! `VANISHED (EARLIER)` for the UIDs of the set expunged since `n`; `*`
//! there reaches past the highest UID in use, so removals of the newest
//! messages are reported too.

mod message;

use crate::commands::{flags_to_wire, need_selected, resolve_set};
use crate::error::CommandError;
use crate::mime_imap;
use crate::session::{CmdResult, Done, Session};
use bytes::Bytes;
use message::Message;
use std::collections::HashMap;
use std::sync::Arc;
use tidemark_imap_proto::{
    Code, Data, DateTime, FetchAttribute, FetchAttrs, FetchItem, FetchModifiers, Response,
    SequenceSet, UidMode,
};
use tidemark_mime::MessageStructure;
use tidemark_store::{
    Account, FlagOp, FlagUpdate, Flags, MailboxId, MessageMeta, ModSeq, StoreError, SystemFlag,
    Uid, UidSet,
};

pub(crate) async fn run(
    s: &mut Session,
    mode: UidMode,
    set: SequenceSet,
    attrs: FetchAttrs,
    modifiers: FetchModifiers,
) -> CmdResult {
    let mut attrs = attrs.expand();
    if mode == UidMode::Uid && !attrs.contains(&FetchAttribute::Uid) {
        attrs.insert(0, FetchAttribute::Uid);
    }
    if modifiers.vanished
        && (mode != UidMode::Uid || !s.enabled.qresync || modifiers.changed_since.is_none())
    {
        return Err(CommandError::bad(
            Some(Code::ClientBug),
            "VANISHED needs UID FETCH, CHANGEDSINCE and ENABLE QRESYNC",
        ));
    }
    // CHANGEDSINCE reports MODSEQ; so does FLAGS once CONDSTORE is on (as
    // Dovecot does), keeping a client's flag cache and MODSEQs together.
    let wants_modseq = modifiers.changed_since.is_some()
        || (s.enabled.condstore && attrs.contains(&FetchAttribute::Flags));
    if wants_modseq && !attrs.contains(&FetchAttribute::ModSeq) {
        attrs.push(FetchAttribute::ModSeq);
    }
    if attrs.contains(&FetchAttribute::ModSeq) {
        s.enable_condstore(true);
    }
    let condstore = s.enabled.condstore;
    let (account, view) = need_selected(s)?;
    let uids = resolve_set(view, mode, &set)?;
    let mailbox = view.id;
    let read_only = view.read_only;
    let sets_seen = !read_only && attrs.iter().any(sets_seen);

    let mut metas = account.fetch_meta(mailbox, &uids).await?;
    if let Some(since) = modifiers.changed_since {
        if modifiers.vanished {
            let changes = account.changes_since(mailbox, ModSeq(since)).await?;
            let mut gone: Vec<u32> = changes
                .vanished
                .iter()
                .filter(|u| set.contains(u.0, u32::MAX))
                .map(|u| u.0)
                .collect();
            s.send_vanished(&mut gone, true);
        }
        metas.retain(|m| m.modseq.0 > since);
    }
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

    let structured = attrs.iter().any(message::needs_structure);
    let wants_ids = attrs
        .iter()
        .any(|a| matches!(a, FetchAttribute::EmailId | FetchAttribute::ThreadId));
    let mut next = 0;
    while next < metas.len() {
        let chunk = &metas[next..batch_end(&metas, next)];
        next += chunk.len();
        let mut prefetched = if structured {
            prefetch(&account, mailbox, chunk, &attrs).await?
        } else {
            Vec::new()
        };
        let object_ids = if wants_ids {
            let uids: Vec<Uid> = chunk.iter().map(|m| m.uid).collect();
            account.object_ids(mailbox, &uids).await?
        } else {
            Vec::new()
        };
        for (i, meta) in chunk.iter().enumerate() {
            let Some(seq) = s.selected().and_then(|v| v.seq(meta.uid)) else {
                continue;
            };
            let mut msg = Message::new(&account, mailbox, meta);
            if let Some((structure, ranges)) = prefetched.get_mut(i).map(std::mem::take) {
                msg.prefetch(structure, ranges);
            }
            let mut items = Vec::with_capacity(attrs.len() + 1);
            let mut has_flags = false;
            for a in &attrs {
                if matches!(a, FetchAttribute::Flags) {
                    has_flags = true;
                }
                let got = match a {
                    // RFC 8474 5.1, 5.2.
                    FetchAttribute::EmailId | FetchAttribute::ThreadId => {
                        match object_ids.get(i).and_then(Option::as_ref) {
                            Some(ids) if matches!(a, FetchAttribute::EmailId) => {
                                Ok(FetchItem::EmailId(ids.email.clone()))
                            }
                            Some(ids) => Ok(FetchItem::ThreadId(Some(ids.thread.clone()))),
                            None => Err(CommandError::from(StoreError::Expunged)),
                        }
                    }
                    _ => item(&mut msg, a).await,
                };
                match got {
                    Ok(item) => items.push(item),
                    // Expunged meanwhile: RFC 9051 allows omitting the message.
                    Err(e) if e.code == Some(Code::ExpungeIssued) => {
                        items.clear();
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            if items.is_empty() {
                continue;
            }
            if sets_seen && !has_flags {
                items.push(FetchItem::Flags(flags_to_wire(&meta.flags)));
            }
            // RFC 7162 3.1: a flag change is reported with UID and MODSEQ.
            if sets_seen && condstore {
                if !items.iter().any(|i| matches!(i, FetchItem::Uid(_))) {
                    items.push(FetchItem::Uid(meta.uid.0));
                }
                if !items.iter().any(|i| matches!(i, FetchItem::ModSeq(_))) {
                    items.push(FetchItem::ModSeq(meta.modseq.0));
                }
            }
            s.send(Response::Data(Data::Fetch { seq, items }));
            s.flush_partial().await;
        }
    }
    Ok(Done::ok("FETCH completed"))
}

/// Messages whose structure and section bytes are read ahead together: a
/// FETCH of 1,000 messages costs a few store round trips, not thousands.
const BATCH: usize = 256;
/// ... as long as those messages hold at most this many bytes (what is read
/// ahead sits in memory until it is answered).
const BATCH_BYTES: u64 = 8 << 20;

/// The end of the read-ahead batch that starts at `start` (at least one
/// message).
fn batch_end(metas: &[MessageMeta], start: usize) -> usize {
    let mut end = start + 1;
    let mut bytes = metas[start].size;
    while end < metas.len() && end - start < BATCH {
        bytes += metas[end].size;
        if bytes > BATCH_BYTES {
            break;
        }
        end += 1;
    }
    end
}

type Prefetched = (
    Option<Arc<MessageStructure>>,
    HashMap<(usize, usize), Bytes>,
);

/// Reads the structures of `chunk`, then every byte range its items need,
/// in two batch calls.
async fn prefetch(
    account: &Arc<dyn Account>,
    mailbox: MailboxId,
    chunk: &[MessageMeta],
    attrs: &[FetchAttribute],
) -> Result<Vec<Prefetched>, CommandError> {
    let uids: Vec<Uid> = chunk.iter().map(|m| m.uid).collect();
    let stored = account.read_structures(mailbox, &uids).await?;
    let structures: Vec<Option<Arc<MessageStructure>>> = stored
        .iter()
        .map(|b| {
            b.as_deref()
                .and_then(MessageStructure::from_bytes)
                .map(Arc::new)
        })
        .collect();
    let mut requests = Vec::new();
    let mut owners = Vec::new();
    for (i, (meta, st)) in chunk.iter().zip(&structures).enumerate() {
        let Some(st) = st else { continue };
        let first = owners.len();
        for a in attrs {
            if let Some((start, end)) = message::needed_range(st, meta.size as usize, a)
                && !owners[first..].contains(&(i, start, end))
            {
                requests.push((meta.uid, start as u64, (end.max(start) - start) as u64));
                owners.push((i, start, end));
            }
        }
    }
    let mut out: Vec<Prefetched> = structures
        .into_iter()
        .map(|s| (s, HashMap::new()))
        .collect();
    if !requests.is_empty() {
        let bytes = account.read_ranges(mailbox, &requests).await?;
        for ((i, start, end), b) in owners.into_iter().zip(bytes) {
            if let (Some(b), Some(slot)) = (b, out.get_mut(i)) {
                slot.1.insert((start, end.max(start)), b);
            }
        }
    }
    Ok(out)
}

/// One FETCH item of one message.
async fn item(msg: &mut Message<'_>, a: &FetchAttribute) -> Result<FetchItem, CommandError> {
    let meta = msg.meta;
    Ok(match a {
        FetchAttribute::Uid => FetchItem::Uid(meta.uid.0),
        FetchAttribute::Flags => FetchItem::Flags(flags_to_wire(&meta.flags)),
        FetchAttribute::InternalDate => FetchItem::InternalDate(DateTime::from_unix(
            meta.internal_date.unix,
            meta.internal_date.offset_minutes,
        )),
        FetchAttribute::Rfc822Size => FetchItem::Rfc822Size(meta.size),
        FetchAttribute::ModSeq => FetchItem::ModSeq(meta.modseq.0),
        FetchAttribute::Envelope => {
            FetchItem::Envelope(Box::new(mime_imap::envelope(&*msg.structure().await?)))
        }
        FetchAttribute::BodyStructure => FetchItem::BodyStructure(Box::new(
            mime_imap::body_structure(&*msg.structure().await?, true),
        )),
        FetchAttribute::Body => FetchItem::Body(Box::new(mime_imap::body_structure(
            &*msg.structure().await?,
            false,
        ))),
        FetchAttribute::Rfc822 => {
            FetchItem::Rfc822(Some(mime_imap::nul_to_0x80(msg.raw().await?.to_vec())))
        }
        FetchAttribute::Rfc822Header => {
            FetchItem::Rfc822Header(Some(mime_imap::nul_to_0x80(msg.top_level(true).await?)))
        }
        FetchAttribute::Rfc822Text => {
            FetchItem::Rfc822Text(Some(mime_imap::nul_to_0x80(msg.top_level(false).await?)))
        }
        FetchAttribute::BodySection {
            section, partial, ..
        } => msg.body_section(section, *partial).await?,
        FetchAttribute::Binary { part, partial, .. } => {
            let data = msg.binary(part).await?;
            let (start, end) = message::narrow(0, data.len(), *partial);
            FetchItem::Binary {
                part: part.clone(),
                origin: partial.map(|p| p.offset),
                data: Some(data[start..end].to_vec()),
            }
        }
        FetchAttribute::BinarySize { part } => FetchItem::BinarySize {
            part: part.clone(),
            size: msg.binary(part).await?.len() as u64,
        },
        FetchAttribute::Preview { .. } => FetchItem::Preview(msg.preview().await?),
        // Answered by the caller from one batch read.
        FetchAttribute::EmailId | FetchAttribute::ThreadId => {
            return Err(CommandError::from(StoreError::Internal(
                "object ids are read in batches".into(),
            )));
        }
        FetchAttribute::SaveDate => {
            return Err(CommandError::no(
                Some(Code::Cannot),
                "SAVEDATE is not supported yet",
            ));
        }
    })
}

fn sets_seen(a: &FetchAttribute) -> bool {
    matches!(
        a,
        FetchAttribute::Rfc822
            | FetchAttribute::Rfc822Text
            | FetchAttribute::BodySection { peek: false, .. }
            | FetchAttribute::Binary { peek: false, .. }
    )
}
