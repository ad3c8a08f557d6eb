//! SEARCH and UID SEARCH (RFC 9051 6.4.4) and ESEARCH's
//! `RETURN (MIN MAX COUNT ALL)` (RFC 4731). Keys answered from message
//! metadata (sequence sets, UID, flags, keywords, sizes, INTERNALDATE dates,
//! MODSEQ, OLDER/YOUNGER, NOT/OR/AND) are evaluated first; only messages they
//! leave undecided are read and scanned for the text keys (headers, bodies,
//! sent dates; see `search_text.rs`). EMAILID/THREADID and SAVEDATE keys
//! answer `NO [CANNOT]`; they are never silently treated as matching.

use crate::commands::need_selected;
use crate::commands::search_text::{MessageText, is_text_key};
use crate::error::CommandError;
use crate::session::{CmdResult, Done, Session};
use tidemark_imap_proto::{
    Code, Data, Date, ESearchData, ESearchItem, Response, SearchCommand, SearchKey,
    SearchReturnOpt, SequenceSet, Tag, UidMode,
};
use tidemark_mime::MessageStructure;
use tidemark_store::{MessageMeta, StoreError, SystemFlag, Uid, UidSet};

pub(crate) async fn run(s: &mut Session, tag: &Tag, cmd: SearchCommand) -> CmdResult {
    let returns = match &cmd.return_opts {
        None => None,
        Some(opts) => {
            for o in opts {
                if matches!(o, SearchReturnOpt::Save | SearchReturnOpt::Partial(_)) {
                    return Err(CommandError::no(
                        Some(Code::Cannot),
                        "SEARCH RETURN (SAVE/PARTIAL) is not supported yet",
                    ));
                }
            }
            Some(opts.clone())
        }
    };
    let hits = evaluate(s, cmd.charset.as_deref(), &cmd.criteria).await?;
    let ids: Vec<u32> = hits
        .iter()
        .map(|h| match cmd.mode {
            UidMode::Uid => h.uid.0,
            UidMode::Sequence => h.seq,
        })
        .collect();
    match returns {
        None => s.send(Response::Data(Data::Search { ids, modseq: None })),
        Some(opts) => {
            // RETURN () means ALL (RFC 4731 3.1).
            let opts = if opts.is_empty() {
                vec![SearchReturnOpt::All]
            } else {
                opts
            };
            let mut items = Vec::new();
            for o in opts {
                match o {
                    SearchReturnOpt::Min => items.extend(ids.first().map(|&n| ESearchItem::Min(n))),
                    SearchReturnOpt::Max => items.extend(ids.last().map(|&n| ESearchItem::Max(n))),
                    SearchReturnOpt::Count => items.push(ESearchItem::Count(ids.len() as u32)),
                    SearchReturnOpt::All if !ids.is_empty() => {
                        items.push(ESearchItem::All(SequenceSet::from_numbers(&ids)))
                    }
                    _ => {}
                }
            }
            s.send(Response::Data(Data::ESearch(ESearchData {
                tag: Some(tag.clone()),
                uid: cmd.mode == UidMode::Uid,
                items,
            })));
        }
    }
    Ok(Done::ok("SEARCH completed"))
}

/// One message that matched a search.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub(crate) seq: u32,
    pub(crate) uid: Uid,
    pub(crate) meta: MessageMeta,
}

/// The messages of the selected mailbox that match `criteria`, in sequence
/// order (SEARCH, SORT and THREAD share this). `charset` is the CHARSET
/// argument, if any.
pub(crate) async fn evaluate(
    s: &mut Session,
    charset: Option<&str>,
    criteria: &SearchKey,
) -> Result<Vec<Hit>, CommandError> {
    if let Some(cs) = charset
        && !cs.eq_ignore_ascii_case("UTF-8")
        && !cs.eq_ignore_ascii_case("US-ASCII")
    {
        return Err(CommandError::no(
            Some(Code::BadCharset(vec!["UTF-8".into(), "US-ASCII".into()])),
            format!("Unsupported charset {cs}"),
        ));
    }
    check_supported(criteria)?;
    let (account, view) = need_selected(s)?;
    if let Some(set) = uses_saved(criteria) {
        return Err(CommandError::bad(
            None,
            format!("{set}: no saved search result"),
        ));
    }
    let all = UidSet::range(1, view.max_uid().max(1));
    let metas = if view.exists() == 0 {
        Vec::new()
    } else {
        account.fetch_meta(view.id, &all).await?
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let ctx = Ctx {
        exists: view.exists(),
        max_uid: view.max_uid(),
        now,
    };
    // Cheap keys first: a message is read only when metadata cannot decide.
    let mut decided: Vec<(&MessageMeta, u32, Option<bool>)> = Vec::with_capacity(metas.len());
    for m in &metas {
        let Some(seq) = view.seq(m.uid) else { continue };
        decided.push((m, seq, eval_meta(criteria, m, seq, &ctx)));
    }
    let undecided: Vec<usize> = (0..decided.len())
        .filter(|&i| decided[i].2.is_none())
        .collect();
    for chunk in undecided.chunks(TEXT_CHUNK) {
        let uids: Vec<Uid> = chunk.iter().map(|&i| decided[i].0.uid).collect();
        let structures = account.read_structures(view.id, &uids).await?;
        for (&i, stored) in chunk.iter().zip(structures) {
            let (m, seq, _) = decided[i];
            // Gone since the metadata was read: it matches nothing.
            let Some(stored) = stored else {
                decided[i].2 = Some(false);
                continue;
            };
            let raw = match account.read_message(view.id, m.uid).await {
                Ok(raw) => raw,
                Err(StoreError::Expunged) => {
                    decided[i].2 = Some(false);
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let structure =
                MessageStructure::from_bytes(&stored).unwrap_or_else(|| tidemark_mime::parse(&raw));
            let text = MessageText::new(&raw, &structure);
            decided[i].2 = Some(eval_full(criteria, m, seq, &ctx, &text));
        }
    }
    let mut hits: Vec<Hit> = decided
        .into_iter()
        .filter(|(_, _, r)| *r == Some(true))
        .map(|(m, seq, _)| Hit {
            seq,
            uid: m.uid,
            meta: m.clone(),
        })
        .collect();
    hits.sort_by_key(|h| h.seq);
    Ok(hits)
}

/// Messages whose structures are read in one batch call.
const TEXT_CHUNK: usize = 256;

struct Ctx {
    exists: u32,
    max_uid: u32,
    now: i64,
}

/// The first `$` (SEARCHRES) reference, if any.
fn uses_saved(key: &SearchKey) -> Option<&'static str> {
    match key {
        SearchKey::Uid(set) | SearchKey::SequenceSet(set) if set.is_saved() => Some("$"),
        SearchKey::And(keys) => keys.iter().find_map(uses_saved),
        SearchKey::Not(k) => uses_saved(k),
        SearchKey::Or(a, b) => uses_saved(a).or_else(|| uses_saved(b)),
        _ => None,
    }
}

fn check_supported(key: &SearchKey) -> Result<(), CommandError> {
    use SearchKey as K;
    match key {
        K::And(keys) => keys.iter().try_for_each(check_supported),
        K::Not(k) => check_supported(k),
        K::Or(a, b) => {
            check_supported(a)?;
            check_supported(b)
        }
        K::EmailId(_)
        | K::ThreadId(_)
        | K::SaveDateBefore(_)
        | K::SaveDateOn(_)
        | K::SaveDateSince(_)
        | K::SaveDateSupported => Err(CommandError::no(
            Some(Code::Cannot),
            "EMAILID, THREADID and SAVEDATE search keys are not supported",
        )),
        _ => Ok(()),
    }
}

/// Day number of an INTERNALDATE in its own zone (RFC 9051: dates compare
/// "disregarding time and timezone").
fn local_day(m: &MessageMeta) -> i64 {
    (m.internal_date.unix + i64::from(m.internal_date.offset_minutes) * 60).div_euclid(86_400)
}

fn key_day(d: &Date) -> i64 {
    d.to_unix_midnight_utc().div_euclid(86_400)
}

/// The value of `key` from metadata alone; `None` when it depends on a text
/// key. AND/OR short-circuit on any decided operand.
fn eval_meta(key: &SearchKey, m: &MessageMeta, seq: u32, ctx: &Ctx) -> Option<bool> {
    use SearchKey as K;
    match key {
        K::And(keys) => {
            let mut unknown = false;
            for k in keys {
                match eval_meta(k, m, seq, ctx) {
                    Some(false) => return Some(false),
                    Some(true) => {}
                    None => unknown = true,
                }
            }
            if unknown { None } else { Some(true) }
        }
        K::Or(a, b) => match (eval_meta(a, m, seq, ctx), eval_meta(b, m, seq, ctx)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        K::Not(k) => eval_meta(k, m, seq, ctx).map(|v| !v),
        k if is_text_key(k) => None,
        k => Some(eval_leaf(k, m, seq, ctx)),
    }
}

/// The value of `key` with the message text at hand (cheap operands first).
fn eval_full(key: &SearchKey, m: &MessageMeta, seq: u32, ctx: &Ctx, t: &MessageText<'_>) -> bool {
    use SearchKey as K;
    // Metadata decides whenever it can, so text is scanned only when needed.
    if let Some(v) = eval_meta(key, m, seq, ctx) {
        return v;
    }
    match key {
        K::And(keys) => keys.iter().all(|k| eval_full(k, m, seq, ctx, t)),
        K::Or(a, b) => eval_full(a, m, seq, ctx, t) || eval_full(b, m, seq, ctx, t),
        K::Not(k) => !eval_full(k, m, seq, ctx, t),
        k if is_text_key(k) => t.matches(k),
        k => eval_leaf(k, m, seq, ctx),
    }
}

/// A metadata key's value (`key` must not be a text key or a boolean node).
fn eval_leaf(key: &SearchKey, m: &MessageMeta, seq: u32, ctx: &Ctx) -> bool {
    use SearchKey as K;
    let f = &m.flags;
    match key {
        K::All | K::Old => true,
        // No session here ever sees a message as \Recent.
        K::New | K::Recent => false,
        K::Answered => f.contains(SystemFlag::Answered),
        K::Deleted => f.contains(SystemFlag::Deleted),
        K::Draft => f.contains(SystemFlag::Draft),
        K::Flagged => f.contains(SystemFlag::Flagged),
        K::Seen => f.contains(SystemFlag::Seen),
        K::Unanswered => !f.contains(SystemFlag::Answered),
        K::Undeleted => !f.contains(SystemFlag::Deleted),
        K::Undraft => !f.contains(SystemFlag::Draft),
        K::Unflagged => !f.contains(SystemFlag::Flagged),
        K::Unseen => !f.contains(SystemFlag::Seen),
        K::Keyword(k) => f.keywords().iter().any(|x| x.eq_ignore_ascii_case(k)),
        K::Unkeyword(k) => !f.keywords().iter().any(|x| x.eq_ignore_ascii_case(k)),
        K::Larger(n) => m.size > *n,
        K::Smaller(n) => m.size < *n,
        K::Before(d) => local_day(m) < key_day(d),
        K::On(d) => local_day(m) == key_day(d),
        K::Since(d) => local_day(m) >= key_day(d),
        K::Older(secs) => ctx.now - m.internal_date.unix >= i64::from(*secs),
        K::Younger(secs) => ctx.now - m.internal_date.unix <= i64::from(*secs),
        K::ModSeq { modseq, .. } => m.modseq.0 >= *modseq,
        K::Uid(set) => set.contains(m.uid.0, ctx.max_uid),
        K::SequenceSet(set) => set.contains(seq, ctx.exists),
        // Text keys are answered by eval_full; the rest are refused by
        // check_supported before evaluation.
        _ => false,
    }
}
