//! SEARCH and UID SEARCH (RFC 9051 6.4.4) with ESEARCH's result options
//! (RFC 4731: MIN MAX COUNT ALL), SEARCHRES (RFC 5182: SAVE and `$`) and
//! PARTIAL (RFC 9394). The criteria are evaluated by `search_eval.rs`.
//! A MODSEQ criterion turns CONDSTORE on and adds the highest MODSEQ of the
//! messages returned (RFC 7162 3.1.5).

use std::collections::HashMap;

use crate::commands::need_selected;
use crate::commands::search_eval::{self, Ctx};
use crate::error::CommandError;
use crate::session::{CmdResult, Done, Session};
use tidemark_imap_proto::{
    Data, ESearchData, ESearchItem, PartialRange, Response, SearchCommand, SearchKey,
    SearchReturnOpt, SequenceSet, Tag, UidMode,
};
use tidemark_store::{Flags, InternalDate, MessageMeta, ModSeq, Uid, UidSet};

pub(crate) async fn run(s: &mut Session, tag: &Tag, cmd: SearchCommand) -> CmdResult {
    // IMAP4rev2 (RFC 9051 6.4.4): SEARCH answers with ESEARCH, ALL being
    // the default result option.
    let opts = match cmd.return_opts.clone() {
        None if s.enabled.imap4rev2 => Some(Vec::new()),
        o => o,
    };
    let save = opts
        .as_ref()
        .is_some_and(|o| o.contains(&SearchReturnOpt::Save));
    let with_modseq = crate::commands::sort::uses_modseq(&cmd.criteria);
    if with_modseq {
        s.enable_condstore(true);
    }
    let hits = match evaluate(s, cmd.charset.as_deref(), &cmd.criteria, false).await {
        Ok(h) => h,
        Err(e) => {
            // RFC 5182 2.1: a failed SEARCH ... SAVE empties the saved result.
            if save && let Ok((_, view)) = need_selected(s) {
                view.saved_search = Vec::new();
            }
            return Err(e);
        }
    };
    let id = |h: &Hit| match cmd.mode {
        UidMode::Uid => h.uid.0,
        UidMode::Sequence => h.seq,
    };
    let ids: Vec<u32> = hits.iter().map(id).collect();
    let Some(opts) = opts else {
        let modseq = with_modseq
            .then(|| hits.iter().map(|h| h.meta.modseq.0).max())
            .flatten();
        s.send(Response::Data(Data::Search { ids, modseq }));
        return Ok(Done::ok("SEARCH completed"));
    };
    // RETURN () means ALL (RFC 4731 3.1).
    let opts = if opts.is_empty() {
        vec![SearchReturnOpt::All]
    } else {
        opts
    };
    if save {
        let (_, view) = need_selected(s)?;
        view.saved_search = saved_result(&opts, &hits);
    }
    let mut items = Vec::new();
    for o in &opts {
        match o {
            SearchReturnOpt::Min => items.extend(ids.first().map(|&n| ESearchItem::Min(n))),
            SearchReturnOpt::Max => items.extend(ids.last().map(|&n| ESearchItem::Max(n))),
            SearchReturnOpt::Count => items.push(ESearchItem::Count(ids.len() as u32)),
            SearchReturnOpt::All if !ids.is_empty() => {
                items.push(ESearchItem::All(SequenceSet::from_numbers(&ids)))
            }
            SearchReturnOpt::Partial(range) => items.push(ESearchItem::Partial {
                range: *range,
                results: partial(&ids, *range).map(|p| SequenceSet::from_numbers(&p)),
            }),
            _ => {}
        }
    }
    if with_modseq {
        // Of the messages returned: just MIN's and MAX's when only those
        // were asked for (RFC 7162 3.1.5 with RFC 4731).
        let returned = saved_result(&opts, &hits);
        let highest = hits
            .iter()
            .filter(|h| returned.binary_search(&h.uid).is_ok())
            .map(|h| h.meta.modseq.0)
            .max();
        items.extend(highest.map(ESearchItem::ModSeq));
    }
    // RFC 5182 2.1: SAVE alone returns no ESEARCH response.
    if !opts.iter().all(|o| *o == SearchReturnOpt::Save) {
        s.send(Response::Data(Data::ESearch(ESearchData {
            tag: Some(tag.clone()),
            uid: cmd.mode == UidMode::Uid,
            items,
        })));
    }
    Ok(Done::ok(if save {
        "SEARCH completed, result saved"
    } else {
        "SEARCH completed"
    }))
}

/// What SAVE keeps (RFC 5182 2.1): every match, unless only MIN and/or MAX
/// were asked for, which keep just those messages (the first and last of
/// `hits`, in whatever order the command returns them: SORT's too).
pub(crate) fn saved_result(opts: &[SearchReturnOpt], hits: &[Hit]) -> Vec<Uid> {
    use SearchReturnOpt as O;
    let min_max_only = !opts
        .iter()
        .any(|o| matches!(o, O::All | O::Count | O::Partial(_)))
        && opts.iter().any(|o| matches!(o, O::Min | O::Max));
    let mut uids: Vec<Uid> = if min_max_only {
        let mut v = Vec::new();
        if opts.contains(&O::Min) {
            v.extend(hits.first().map(|h| h.uid));
        }
        if opts.contains(&O::Max) {
            v.extend(hits.last().map(|h| h.uid));
        }
        v
    } else {
        hits.iter().map(|h| h.uid).collect()
    };
    uids.sort_unstable();
    uids.dedup();
    uids
}

/// The results at the positions `range` names (RFC 9394: `1:10` counts
/// from the first result, `-1:-10` from the last), ascending; `None` when
/// it names none.
pub(crate) fn partial(ids: &[u32], range: PartialRange) -> Option<Vec<u32>> {
    let n = ids.len() as i64;
    let (a, b) = (range.first.min(range.last), range.first.max(range.last));
    let (lo, hi) = if a > 0 {
        (a - 1, (b - 1).min(n - 1))
    } else {
        // -1 is the last result.
        ((n + a).max(0), n + b)
    };
    if n == 0 || lo > hi || lo >= n || hi < 0 {
        return None;
    }
    Some(ids[lo as usize..=hi as usize].to_vec())
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
/// argument, if any. With `need_meta` false, a search whose keys read no
/// metadata (text keys, UID and sequence sets) skips reading it, and the
/// hits carry only UID and sequence number.
pub(crate) async fn evaluate(
    s: &mut Session,
    charset: Option<&str>,
    criteria: &SearchKey,
    need_meta: bool,
) -> Result<Vec<Hit>, CommandError> {
    let enc = search_eval::charset(charset)?;
    let root = search_eval::compile(criteria, enc)?;
    let (account, view) = need_selected(s)?;
    if view.exists() == 0 {
        return Ok(Vec::new());
    }
    let metas = if need_meta || root.needs_meta() {
        account
            .fetch_meta(view.id, &UidSet::range(1, view.max_uid().max(1)))
            .await?
    } else {
        view.uids()
            .iter()
            .filter(|&&uid| !view.is_pending_expunge(uid))
            .map(|&uid| MessageMeta {
                uid,
                flags: Flags::new(),
                internal_date: InternalDate {
                    unix: 0,
                    offset_minutes: 0,
                },
                size: 0,
                modseq: ModSeq(0),
            })
            .collect()
    };
    let mut index: HashMap<_, HashMap<String, _>> = HashMap::new();
    for (field, needle) in root.index_queries() {
        match account.search_index(view.id, field, &needle).await? {
            Some(hits) => {
                index.entry(field).or_default().insert(needle, hits);
            }
            // No index: the text keys are scanned.
            None => break,
        }
    }
    let mut objects = HashMap::new();
    for (kind, id) in root.object_queries() {
        let uids = account.find_object_id(view.id, kind, &id).await?;
        objects.insert((kind, id), uids);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let ctx = Ctx {
        exists: view.exists(),
        max_uid: view.max_uid(),
        now,
        saved: if root.uses_saved() {
            view.saved_search.clone()
        } else {
            Vec::new()
        },
        index,
        objects,
    };
    let mut cands: Vec<(&MessageMeta, u32, Option<bool>)> = metas
        .iter()
        .filter_map(|m| Some((m, view.seq(m.uid)?, None)))
        .collect();
    let mailbox = view.id;
    search_eval::decide(&*account, mailbox, &root, &ctx, &mut cands).await?;
    let mut hits: Vec<Hit> = cands
        .into_iter()
        .filter(|c| c.2 == Some(true))
        .map(|(m, seq, _)| Hit {
            seq,
            uid: m.uid,
            meta: m.clone(),
        })
        .collect();
    hits.sort_by_key(|h| h.seq);
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{ConnInfo, Outcome, ServerContext, SessionConfig};
    use std::sync::Arc;
    use tidemark_store::Store;
    use tidemark_store_sqlite::SqliteStore;

    async fn talk(s: &mut Session, input: &[u8]) -> String {
        let (out, outcome) = s.handle_input(input).await;
        assert_eq!(outcome, Outcome::Continue);
        String::from_utf8(out).expect("utf8")
    }

    /// Text past the index's size limit is still found: the index calls the
    /// message unsure and SEARCH reads it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn text_past_the_index_limit_is_found_by_reading() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("store");
        let phc = crate::password::hash_password("pass").expect("hash");
        store.create_account("alice", &phc).await.expect("account");
        let ctx = Arc::new(ServerContext::new(
            Arc::new(store),
            SessionConfig::default(),
        ));
        let peer = "127.0.0.1:40000".parse().expect("addr");
        let mut s = Session::new(ctx, ConnInfo::new(peer, false));
        s.greeting();
        talk(&mut s, b"a LOGIN alice pass\r\n").await;
        let mut big = String::from("Subject: big\r\n\r\n");
        big.push_str(&"filler text line\r\n".repeat(40_000));
        big.push_str("needle at the very end\r\n");
        for raw in [big.as_str(), "Subject: small\r\n\r\nfiller\r\n"] {
            let mut cmd = format!("a APPEND INBOX {{{}+}}\r\n", raw.len()).into_bytes();
            cmd.extend_from_slice(raw.as_bytes());
            cmd.extend_from_slice(b"\r\n");
            let out = talk(&mut s, &cmd).await;
            assert!(out.contains("a OK"), "{out}");
        }
        talk(&mut s, b"a SELECT INBOX\r\n").await;
        let out = talk(&mut s, b"b SEARCH BODY \"NEEDLE at the\"\r\n").await;
        assert!(out.starts_with("* SEARCH 1\r\n"), "{out}");
        let out = talk(&mut s, b"c SEARCH NOT BODY needle\r\n").await;
        assert!(out.starts_with("* SEARCH 2\r\n"), "{out}");
        let out = talk(&mut s, b"d SEARCH BODY filler\r\n").await;
        assert!(out.starts_with("* SEARCH 1 2\r\n"), "{out}");
    }

    fn r(first: i64, last: i64) -> PartialRange {
        PartialRange { first, last }
    }

    #[test]
    fn partial_ranges() {
        let ids = [2, 4, 6, 8, 10];
        assert_eq!(partial(&ids, r(1, 2)), Some(vec![2, 4]));
        assert_eq!(partial(&ids, r(4, 100)), Some(vec![8, 10]));
        assert_eq!(partial(&ids, r(6, 10)), None);
        assert_eq!(partial(&ids, r(-1, -2)), Some(vec![8, 10]));
        assert_eq!(partial(&ids, r(-5, -100)), Some(vec![2]));
        assert_eq!(partial(&ids, r(-6, -9)), None);
        assert_eq!(partial(&[], r(1, 5)), None);
    }
}
