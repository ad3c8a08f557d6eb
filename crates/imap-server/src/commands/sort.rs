//! SORT and UID SORT (RFC 5256), the DISPLAYFROM/DISPLAYTO keys (RFC 5957,
//! SORT=DISPLAY) and ESORT's result options (RFC 5267 4.2: MIN, MAX, COUNT,
//! ALL in sort order, PARTIAL; SAVE from RFC 5182).
//!
//! The keys are the per-message [`Summary`] values (see
//! `tidemark_search::sortkeys` for how they follow Dovecot 2.3): strings
//! compare as bytes of Dovecot's titlecase form, an empty or missing key
//! sorts first, DATE is the `Date:` instant in UTC or INTERNALDATE when it
//! is missing or invalid. Ties fall to the next criterion, finally to the
//! sequence number in ascending order even under REVERSE (RFC 5256, as
//! Dovecot). As in Dovecot, MIN and MAX are the first and last messages of
//! the sorted result and ALL lists the result in sort order, with ranges
//! only for ascending runs (`5,2:4,1`).

use std::cmp::Ordering;

use crate::commands::search::{Hit, evaluate, partial, saved_result};
use crate::commands::{need_selected, summaries};
use crate::error::CommandError;
use crate::session::{CmdResult, Done, Session};
use tidemark_imap_proto::{
    Data, ESearchData, ESearchItem, Response, SearchKey, SearchReturnOpt, SequenceSet,
    SortCriterion, SortKey, Tag, UidMode,
};
use tidemark_search::Summary;
use tidemark_search::sortkeys::sort_date;
use tidemark_store::Uid;

/// The parsed SORT command.
pub(crate) struct SortCommand {
    pub(crate) mode: UidMode,
    pub(crate) return_opts: Option<Vec<SearchReturnOpt>>,
    pub(crate) criteria: Vec<SortCriterion>,
    pub(crate) charset: String,
    pub(crate) search: SearchKey,
}

pub(crate) async fn run(s: &mut Session, tag: &Tag, cmd: SortCommand) -> CmdResult {
    use SearchReturnOpt as O;
    // RETURN () means ALL (RFC 4731 3.1, RFC 5267 4.2).
    let opts = cmd
        .return_opts
        .map(|o| if o.is_empty() { vec![O::All] } else { o });
    if let Some(o) = &opts
        && o.contains(&O::All)
        && o.iter().any(|x| matches!(x, O::Partial(_)))
    {
        // As Dovecot: both ask for the result, in different shapes.
        return Err(CommandError::bad(None, "PARTIAL conflicts with ALL"));
    }
    let save = opts.as_ref().is_some_and(|o| o.contains(&O::Save));
    let hits = match sorted(s, &cmd.criteria, &cmd.charset, &cmd.search).await {
        Ok(h) => h,
        Err(e) => {
            // RFC 5182 2.1: a failed command with SAVE empties the result.
            if save && let Ok((_, view)) = need_selected(s) {
                view.saved_search = Vec::new();
            }
            return Err(e);
        }
    };
    let ids: Vec<u32> = hits
        .iter()
        .map(|h| match cmd.mode {
            UidMode::Uid => h.uid.0,
            UidMode::Sequence => h.seq,
        })
        .collect();
    // RFC 7162 3.1.5: with a MODSEQ criterion, the highest mod-sequence.
    let modseq = if uses_modseq(&cmd.search) {
        hits.iter().map(|h| h.meta.modseq.0).max()
    } else {
        None
    };
    let Some(opts) = opts else {
        s.send(Response::Data(Data::Sort { ids, modseq }));
        return Ok(Done::ok("SORT completed"));
    };
    if save {
        let (_, view) = need_selected(s)?;
        view.saved_search = saved_result(&opts, &hits);
    }
    let mut items = Vec::new();
    if opts.contains(&O::Min) {
        items.extend(ids.first().map(|&n| ESearchItem::Min(n)));
    }
    if opts.contains(&O::Max) {
        items.extend(ids.last().map(|&n| ESearchItem::Max(n)));
    }
    if opts.contains(&O::All) && !ids.is_empty() {
        items.push(ESearchItem::All(in_order(&ids)));
    }
    for o in &opts {
        if let O::Partial(range) = o {
            items.push(ESearchItem::Partial {
                range: *range,
                results: partial(&ids, *range).map(|p| in_order(&p)),
            });
        }
    }
    if opts.contains(&O::Count) {
        items.push(ESearchItem::Count(ids.len() as u32));
    }
    items.extend(modseq.map(ESearchItem::ModSeq));
    // RFC 5182 2.1: SAVE alone returns no ESEARCH response.
    if !opts.iter().all(|o| *o == O::Save) {
        s.send(Response::Data(Data::ESearch(ESearchData {
            tag: Some(tag.clone()),
            uid: cmd.mode == UidMode::Uid,
            items,
        })));
    }
    Ok(Done::ok("SORT completed"))
}

/// The matching messages in sort order.
async fn sorted(
    s: &mut Session,
    criteria: &[SortCriterion],
    charset: &str,
    search: &SearchKey,
) -> Result<Vec<Hit>, CommandError> {
    let hits = evaluate(s, Some(charset), search, true).await?;
    let by_meta = criteria
        .iter()
        .all(|c| matches!(c.key, SortKey::Arrival | SortKey::Size));
    let mut rows: Vec<(Hit, Option<Summary>)> = if by_meta {
        hits.into_iter().map(|h| (h, None)).collect()
    } else {
        with_summaries(s, hits)
            .await?
            .into_iter()
            .map(|(h, sum)| (h, Some(sum)))
            .collect()
    };
    rows.sort_by(|a, b| compare(criteria, a, b));
    Ok(rows.into_iter().map(|(h, _)| h).collect())
}

/// The hits with their summaries; a message expunged meanwhile is left out.
pub(crate) async fn with_summaries(
    s: &mut Session,
    hits: Vec<Hit>,
) -> Result<Vec<(Hit, Summary)>, CommandError> {
    let (account, view) = need_selected(s)?;
    let mailbox = view.id;
    let uids: Vec<Uid> = hits.iter().map(|h| h.uid).collect();
    let sums = summaries::load(&*account, mailbox, &uids, false).await?;
    Ok(hits
        .into_iter()
        .zip(sums)
        .filter_map(|(h, sum)| Some((h, sum?)))
        .collect())
}

fn compare(
    criteria: &[SortCriterion],
    (a, sa): &(Hit, Option<Summary>),
    (b, sb): &(Hit, Option<Summary>),
) -> Ordering {
    for c in criteria {
        let ord = match c.key {
            SortKey::Arrival => a.meta.internal_date.unix.cmp(&b.meta.internal_date.unix),
            SortKey::Size => a.meta.size.cmp(&b.meta.size),
            SortKey::Date => date(a, sa.as_ref()).cmp(&date(b, sb.as_ref())),
            key => text(key, sa.as_ref()).cmp(text(key, sb.as_ref())),
        };
        let ord = if c.reverse { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.seq.cmp(&b.seq)
}

fn date(h: &Hit, s: Option<&Summary>) -> i64 {
    sort_date(s.map_or(0, |s| s.sort_sent), h.meta.internal_date.unix)
}

fn text(key: SortKey, s: Option<&Summary>) -> &str {
    let Some(s) = s else { return "" };
    match key {
        SortKey::Cc => &s.sort_cc,
        SortKey::From => &s.sort_from,
        SortKey::To => &s.sort_to,
        SortKey::Subject => &s.base_subject,
        SortKey::DisplayFrom => &s.display_from,
        SortKey::DisplayTo => &s.display_to,
        SortKey::Arrival | SortKey::Date | SortKey::Size => "",
    }
}

/// A sequence set listing `ids` in their order, ascending runs as ranges.
fn in_order(ids: &[u32]) -> SequenceSet {
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for &id in ids {
        match ranges.last_mut() {
            Some((_, hi)) if hi.checked_add(1) == Some(id) => *hi = id,
            _ => ranges.push((id, id)),
        }
    }
    SequenceSet::from_ranges(&ranges)
}

/// Whether the criteria use MODSEQ (RFC 7162 3.1.5).
pub(crate) fn uses_modseq(key: &SearchKey) -> bool {
    match key {
        SearchKey::ModSeq { .. } => true,
        SearchKey::And(keys) => keys.iter().any(uses_modseq),
        SearchKey::Not(k) => uses_modseq(k),
        SearchKey::Or(a, b) => uses_modseq(a) || uses_modseq(b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::session::{ConnInfo, Outcome, ServerContext, Session, SessionConfig};
    use std::sync::Arc;
    use tidemark_store::Store;
    use tidemark_store_sqlite::SqliteStore;

    const MESSAGES: [(&str, &str); 4] = [
        (
            "03-Jan-2024 00:00:00 +0000",
            "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nFrom: \"Zed\" <b@x>\r\n\
             Subject: Re: apple\r\nMessage-ID: <1@x>\r\n\r\none\r\n",
        ),
        (
            "01-Jan-2024 00:00:00 +0000",
            "From: a@x\r\nSubject: banana\r\nMessage-ID: <2@x>\r\n\
             References: <1@x>\r\n\r\ntwo, a little longer\r\n",
        ),
        (
            "02-Jan-2024 00:00:00 +0000",
            "Date: Sun, 31 Dec 2023 12:00:00 +0000\r\nFrom: Amy <z@x>\r\n\
             Subject: apple\r\nMessage-ID: <3@x>\r\nIn-Reply-To: <2@x>\r\n\r\n3\r\n",
        ),
        (
            "04-Jan-2024 00:00:00 +0000",
            "Date: Tue, 2 Jan 2024 00:00:00 +0000\r\nFrom: _u@x\r\n\
             Subject: [list] banana (fwd)\r\nMessage-ID: <4@x>\r\n\r\nfour\r\n",
        ),
    ];

    async fn session(dir: &std::path::Path) -> Session {
        let store = SqliteStore::open(dir).expect("open store");
        let phc = crate::password::hash_password("pass").expect("hash");
        store.create_account("alice", &phc).await.expect("account");
        let ctx = Arc::new(ServerContext::new(
            Arc::new(store),
            SessionConfig::default(),
        ));
        let peer = "127.0.0.1:40000".parse().expect("addr");
        let mut s = Session::new(ctx, ConnInfo::new(peer, false));
        s.greeting();
        talk(&mut s, "a LOGIN alice pass\r\n").await;
        for (date, raw) in MESSAGES {
            let cmd = format!("a APPEND INBOX \"{date}\" {{{}+}}\r\n{raw}\r\n", raw.len());
            let out = talk(&mut s, &cmd).await;
            assert!(out.contains("a OK"), "{out}");
        }
        talk(&mut s, "a SELECT INBOX\r\n").await;
        s
    }

    async fn talk(s: &mut Session, input: &str) -> String {
        let (out, outcome) = s.handle_input(input.as_bytes()).await;
        assert_eq!(outcome, Outcome::Continue);
        String::from_utf8(out).expect("utf8")
    }

    /// The untagged lines of a command, checking it completed with OK.
    async fn untagged(s: &mut Session, cmd: &str) -> String {
        let out = talk(s, &format!("t {cmd}\r\n")).await;
        let (data, done) = out.split_at(out.find("t OK").unwrap_or_else(|| panic!("{out}")));
        assert!(done.starts_with("t OK"), "{out}");
        data.trim_end().to_string()
    }

    #[tokio::test]
    async fn sort_esort_and_thread_over_a_session() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut s = session(dir.path()).await;
        let caps = talk(&mut s, "c CAPABILITY\r\n").await;
        for c in [
            "SORT",
            "SORT=DISPLAY",
            "ESORT",
            "THREAD=ORDEREDSUBJECT",
            "THREAD=REFERENCES",
        ] {
            assert!(caps.contains(&format!(" {c} ")), "{caps}");
        }
        let cases = [
            ("SORT (SUBJECT) UTF-8 ALL", "* SORT 1 3 2 4"),
            // REVERSE does not reverse the sequence-number tie-break.
            ("SORT (REVERSE SUBJECT) UTF-8 ALL", "* SORT 2 4 1 3"),
            // 2 has no Date: its INTERNALDATE counts.
            ("SORT (DATE) UTF-8 ALL", "* SORT 3 2 1 4"),
            // Titlecase order: "_U" sorts after "Z".
            ("SORT (FROM) UTF-8 ALL", "* SORT 2 1 3 4"),
            ("SORT (DISPLAYFROM) UTF-8 ALL", "* SORT 2 3 1 4"),
            ("SORT (ARRIVAL) UTF-8 ALL", "* SORT 2 3 1 4"),
            ("SORT (SUBJECT REVERSE DATE) US-ASCII 2:4", "* SORT 3 4 2"),
            ("UID SORT (REVERSE SIZE) UTF-8 UID 2:3", "* SORT 3 2"),
            ("SORT (SUBJECT) UTF-8 SUBJECT nothing", "* SORT"),
            (
                "SORT RETURN (MIN MAX COUNT ALL) (ARRIVAL) UTF-8 ALL",
                "* ESEARCH (TAG \"t\") MIN 2 MAX 4 ALL 2:3,1,4 COUNT 4",
            ),
            (
                "SORT RETURN () (REVERSE ARRIVAL) UTF-8 ALL",
                "* ESEARCH (TAG \"t\") ALL 4,1,3,2",
            ),
            (
                "UID SORT RETURN (COUNT) (DATE) UTF-8 SUBJECT nothing",
                "* ESEARCH (TAG \"t\") UID COUNT 0",
            ),
            ("THREAD REFERENCES UTF-8 ALL", "* THREAD (1 2 3)(4)"),
            // Without 2, 3 is a root; 1 (a reply) joins it by subject.
            ("THREAD REFERENCES UTF-8 NOT 2", "* THREAD (3 1)(4)"),
            ("THREAD ORDEREDSUBJECT UTF-8 ALL", "* THREAD (3 1)(2 4)"),
            ("UID THREAD ORDEREDSUBJECT UTF-8 1:3", "* THREAD (3 1)(2)"),
        ];
        for (cmd, want) in cases {
            assert_eq!(untagged(&mut s, cmd).await, want, "{cmd}");
        }
        let out = talk(&mut s, "t THREAD X-FOO UTF-8 ALL\r\n").await;
        assert!(out.starts_with("t BAD"), "{out}");
        let out = talk(
            &mut s,
            "t SORT RETURN (ALL PARTIAL 1:2) (DATE) UTF-8 ALL\r\n",
        )
        .await;
        assert!(out.starts_with("t BAD"), "{out}");
        let out = talk(&mut s, "t SORT (DATE) X-UNKNOWN ALL\r\n").await;
        assert!(out.starts_with("t NO [BADCHARSET"), "{out}");
    }
}
