//! SEARCH and UID SEARCH (RFC 9051 6.4.4), first stage: every key that
//! can be answered from message metadata (sequence sets, UID, flags,
//! keywords, sizes, INTERNALDATE dates, MODSEQ, OLDER/YOUNGER, NOT/OR/AND)
//! and ESEARCH's `RETURN (MIN MAX COUNT ALL)` (RFC 4731). Keys that need
//! message text (headers, bodies, sent dates) answer `NO [CANNOT]` until the
//! indexed search lands; they are never silently treated as matching.

use crate::commands::need_selected;
use crate::error::CommandError;
use crate::session::{CmdResult, Done, Session};
use tidemark_imap_proto::{
    Code, Data, Date, ESearchData, ESearchItem, Response, SearchCommand, SearchKey,
    SearchReturnOpt, SequenceSet, Tag, UidMode,
};
use tidemark_store::{MessageMeta, SystemFlag, UidSet};

pub(crate) async fn run(s: &mut Session, tag: &Tag, cmd: SearchCommand) -> CmdResult {
    if let Some(cs) = &cmd.charset
        && !cs.eq_ignore_ascii_case("UTF-8")
        && !cs.eq_ignore_ascii_case("US-ASCII")
    {
        return Err(CommandError::no(
            Some(Code::BadCharset(vec!["UTF-8".into(), "US-ASCII".into()])),
            format!("Unsupported charset {cs}"),
        ));
    }
    check_supported(&cmd.criteria)?;
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
    let (account, view) = need_selected(s)?;
    if let Some(set) = uses_saved(&cmd.criteria) {
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
    let mut ids = Vec::new();
    for m in &metas {
        let Some(seq) = view.seq(m.uid) else { continue };
        if eval(&cmd.criteria, m, seq, &ctx) {
            ids.push(match cmd.mode {
                UidMode::Uid => m.uid.0,
                UidMode::Sequence => seq,
            });
        }
    }
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
        K::Bcc(_)
        | K::Body(_)
        | K::Cc(_)
        | K::From(_)
        | K::Header(..)
        | K::Subject(_)
        | K::Text(_)
        | K::To(_)
        | K::SentBefore(_)
        | K::SentOn(_)
        | K::SentSince(_)
        | K::EmailId(_)
        | K::ThreadId(_)
        | K::SaveDateBefore(_)
        | K::SaveDateOn(_)
        | K::SaveDateSince(_)
        | K::SaveDateSupported => Err(CommandError::no(
            Some(Code::Cannot),
            "Searching message text, headers and sent dates is not supported yet",
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

fn eval(key: &SearchKey, m: &MessageMeta, seq: u32, ctx: &Ctx) -> bool {
    use SearchKey as K;
    let f = &m.flags;
    match key {
        K::And(keys) => keys.iter().all(|k| eval(k, m, seq, ctx)),
        K::Not(k) => !eval(k, m, seq, ctx),
        K::Or(a, b) => eval(a, m, seq, ctx) || eval(b, m, seq, ctx),
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
        // Refused by check_supported before evaluation.
        _ => false,
    }
}
