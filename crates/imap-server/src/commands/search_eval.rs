//! Evaluation of SEARCH criteria (RFC 9051 6.4.4), shared by SEARCH, SORT
//! and THREAD.
//!
//! The criteria are first compiled into a [`Node`] tree: string arguments
//! are converted from the command's CHARSET and folded (i;unicode-casemap,
//! see `tidemark_search::fold`) once. Each message is then decided with as
//! little as possible, in three rounds; a round only looks at the messages
//! the previous ones left undecided (three-valued logic, so `NOT`/`OR` work
//! on partial knowledge):
//!
//! 1. metadata (flags, sizes, dates, UIDs, sequence numbers, `$`) and the
//!    store's text index: an index "no" is final, an index "yes" is final
//!    for BODY and TEXT (the index holds exactly the text a scan compares);
//! 2. the per-message [`Summary`]: FROM, TO, CC, BCC, SUBJECT and SENT*;
//! 3. a scan of the message: HEADER, and BODY/TEXT where the index is
//!    unsure (text beyond its size limit) or absent.

use std::collections::HashMap;

use crate::commands::search_text::MessageText;
use crate::commands::summaries;
use crate::error::CommandError;
use tidemark_imap_proto::{Code, Date, SearchKey};
use tidemark_mime::MessageStructure;
use tidemark_search::{Summary, fold};
use tidemark_store::{
    Account, IndexHits, MailboxId, MessageMeta, ObjectKind, StoreError, SystemFlag, TextField, Uid,
};

/// A compiled search key.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    And(Vec<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    /// Decided by message metadata alone.
    Meta(SearchKey),
    /// `$`: the saved result (RFC 5182).
    Saved,
    /// FROM, TO, CC, BCC or SUBJECT with a folded needle, and the needle's
    /// longest run of letters and digits (at least 3) for the index.
    Field(Field, String, Option<String>),
    /// SENTBEFORE / SENTON / SENTSINCE with a day number.
    Sent(DayCmp, i64),
    /// HEADER name needle (folded).
    Header(Vec<u8>, String),
    Body(String),
    Text(String),
    /// EMAILID / THREADID (RFC 8474): decided by the store's answer.
    Object(ObjectKind, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    From,
    To,
    Cc,
    Bcc,
    Subject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DayCmp {
    Before,
    On,
    Since,
}

/// Charsets accepted by CHARSET, as BADCHARSET lists them (any label
/// `encoding_rs` knows is accepted too).
const CHARSETS: [&str; 2] = ["UTF-8", "US-ASCII"];

/// The decoder for a CHARSET argument; `[BADCHARSET]` for an unknown one.
pub(crate) fn charset(
    cs: Option<&str>,
) -> Result<Option<&'static encoding_rs::Encoding>, CommandError> {
    let Some(cs) = cs else { return Ok(None) };
    if cs.eq_ignore_ascii_case("US-ASCII") || cs.eq_ignore_ascii_case("UTF-8") {
        return Ok(None);
    }
    match encoding_rs::Encoding::for_label(cs.as_bytes()) {
        Some(e) => Ok(Some(e)),
        None => Err(CommandError::no(
            Some(Code::BadCharset(
                CHARSETS.iter().map(|s| s.to_string()).collect(),
            )),
            format!("Unsupported charset {cs}"),
        )),
    }
}

/// Compiles `key`, converting strings from `enc` (UTF-8 when `None`).
pub(crate) fn compile(
    key: &SearchKey,
    enc: Option<&'static encoding_rs::Encoding>,
) -> Result<Node, CommandError> {
    use SearchKey as K;
    let text = |b: &[u8]| -> String {
        match enc {
            Some(e) => fold(&e.decode_without_bom_handling(b).0),
            None => fold(&String::from_utf8_lossy(b)),
        }
    };
    Ok(match key {
        K::And(keys) => Node::And(
            keys.iter()
                .map(|k| compile(k, enc))
                .collect::<Result<_, _>>()?,
        ),
        K::Or(a, b) => Node::Or(Box::new(compile(a, enc)?), Box::new(compile(b, enc)?)),
        K::Not(k) => Node::Not(Box::new(compile(k, enc)?)),
        K::Uid(set) | K::SequenceSet(set) if set.is_saved() => Node::Saved,
        K::From(s) => field(Field::From, text(s)),
        K::To(s) => field(Field::To, text(s)),
        K::Cc(s) => field(Field::Cc, text(s)),
        K::Bcc(s) => field(Field::Bcc, text(s)),
        K::Subject(s) => field(Field::Subject, text(s)),
        K::SentBefore(d) => Node::Sent(DayCmp::Before, day(d)),
        K::SentOn(d) => Node::Sent(DayCmp::On, day(d)),
        K::SentSince(d) => Node::Sent(DayCmp::Since, day(d)),
        K::Header(name, s) => Node::Header(name.clone(), text(s)),
        K::Body(s) => Node::Body(text(s)),
        K::Text(s) => Node::Text(text(s)),
        K::EmailId(id) => Node::Object(ObjectKind::Email, id.clone()),
        K::ThreadId(id) => Node::Object(ObjectKind::Thread, id.clone()),
        K::SaveDateBefore(_) | K::SaveDateOn(_) | K::SaveDateSince(_) | K::SaveDateSupported => {
            return Err(CommandError::no(
                Some(Code::Cannot),
                "SAVEDATE search keys are not supported",
            ));
        }
        k => Node::Meta(k.clone()),
    })
}

/// A header-key node. The values it is compared with are the header's text
/// with whitespace runs and address punctuation rewritten, so only a run of
/// letters and digits of the needle is sure to appear in the header text
/// the index holds when the key matches.
fn field(f: Field, needle: String) -> Node {
    let run = needle
        .split(|c: char| !c.is_alphanumeric())
        .max_by_key(|w| w.chars().count())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_string);
    Node::Field(f, needle, run)
}

fn day(d: &Date) -> i64 {
    d.to_unix_midnight_utc().div_euclid(86_400)
}

/// What the evaluation knows besides the message's metadata.
pub(crate) struct Ctx {
    pub(crate) exists: u32,
    pub(crate) max_uid: u32,
    pub(crate) now: i64,
    /// The saved result (`$`), ascending.
    pub(crate) saved: Vec<Uid>,
    /// The index's answers by (field, needle); a missing entry means the
    /// store has no index.
    pub(crate) index: HashMap<TextField, HashMap<String, IndexHits>>,
    /// The messages with each EMAILID / THREADID asked for, ascending.
    pub(crate) objects: HashMap<(ObjectKind, String), Vec<Uid>>,
}

/// What is known of one message in the current round.
#[derive(Clone, Copy, Default)]
pub(crate) struct Known<'a> {
    pub(crate) summary: Option<&'a Summary>,
    pub(crate) text: Option<&'a MessageText<'a>>,
}

impl Node {
    /// Whether any node needs the summary / the text index.
    fn any(&self, f: &impl Fn(&Node) -> bool) -> bool {
        f(self)
            || match self {
                Node::And(v) => v.iter().any(|n| n.any(f)),
                Node::Or(a, b) => a.any(f) || b.any(f),
                Node::Not(n) => n.any(f),
                _ => false,
            }
    }

    pub(crate) fn needs_summary(&self) -> bool {
        self.any(&|n| matches!(n, Node::Field(..) | Node::Sent(..)))
    }

    /// Whether any key reads message metadata beyond UID and sequence
    /// number (flags, sizes, dates, MODSEQ).
    pub(crate) fn needs_meta(&self) -> bool {
        use SearchKey as K;
        self.any(&|n| {
            matches!(n, Node::Meta(k)
                if !matches!(k, K::All | K::Old | K::New | K::Recent | K::Uid(_) | K::SequenceSet(_)))
        })
    }

    /// The EMAILID / THREADID values asked for.
    pub(crate) fn object_queries(&self) -> Vec<(ObjectKind, String)> {
        let mut out = Vec::new();
        self.visit(&mut |n| {
            if let Node::Object(k, id) = n {
                out.push((*k, id.clone()));
            }
        });
        out
    }

    fn visit(&self, f: &mut dyn FnMut(&Node)) {
        f(self);
        match self {
            Node::And(v) => v.iter().for_each(|n| n.visit(f)),
            Node::Or(a, b) => {
                a.visit(f);
                b.visit(f);
            }
            Node::Not(n) => n.visit(f),
            _ => {}
        }
    }

    pub(crate) fn uses_saved(&self) -> bool {
        self.any(&|n| matches!(n, Node::Saved))
    }

    /// The (field, needle) pairs the index is asked about.
    pub(crate) fn index_queries(&self) -> Vec<(TextField, String)> {
        let mut out = Vec::new();
        self.visit(&mut |n| match n {
            Node::Body(s) => out.push((TextField::Body, s.clone())),
            Node::Text(s) => {
                out.push((TextField::Header, s.clone()));
                out.push((TextField::MimeHeaders, s.clone()));
                out.push((TextField::Body, s.clone()));
            }
            // An empty needle only asks whether the field exists.
            Node::Header(_, s) if !s.is_empty() => out.push((TextField::Header, s.clone())),
            Node::Field(_, _, Some(run)) => out.push((TextField::Header, run.clone())),
            _ => {}
        });
        out.sort_by(|a, b| (a.0 as u8, &a.1).cmp(&(b.0 as u8, &b.1)));
        out.dedup();
        out
    }

    /// The value of this key for message `m` (sequence number `seq`), or
    /// `None` when what is known does not decide it.
    pub(crate) fn eval(&self, m: &MessageMeta, seq: u32, ctx: &Ctx, k: Known<'_>) -> Option<bool> {
        match self {
            Node::And(nodes) => {
                let mut unknown = false;
                for n in nodes {
                    match n.eval(m, seq, ctx, k) {
                        Some(false) => return Some(false),
                        Some(true) => {}
                        None => unknown = true,
                    }
                }
                if unknown { None } else { Some(true) }
            }
            Node::Or(a, b) => match a.eval(m, seq, ctx, k) {
                Some(true) => Some(true),
                x => match (x, b.eval(m, seq, ctx, k)) {
                    (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                },
            },
            Node::Not(n) => n.eval(m, seq, ctx, k).map(|v| !v),
            Node::Meta(key) => Some(eval_meta(key, m, seq, ctx)),
            Node::Saved => Some(ctx.saved.binary_search(&m.uid).is_ok()),
            Node::Object(kind, id) => Some(
                ctx.objects
                    .get(&(*kind, id.clone()))
                    .is_some_and(|uids| uids.binary_search(&m.uid).is_ok()),
            ),
            Node::Field(f, needle, run) => {
                // A run of letters and digits absent from the whole header
                // text is absent from every field value made from it.
                let Some(s) = k.summary else {
                    let run = run.as_deref()?;
                    return match index_says(ctx, m.uid, TextField::Header, run) {
                        Some(false) => Some(false),
                        _ => None,
                    };
                };
                let v = match f {
                    Field::From => &s.from,
                    Field::To => &s.to,
                    Field::Cc => &s.cc,
                    Field::Bcc => &s.bcc,
                    Field::Subject => &s.subject,
                };
                // Each occurrence of the field is one line.
                Some(
                    v.as_deref()
                        .is_some_and(|v| v.split('\n').any(|x| x.contains(needle.as_str()))),
                )
            }
            Node::Sent(cmp, d) => {
                let s = k.summary?;
                Some(s.sent.is_some_and(|sent| match cmp {
                    DayCmp::Before => sent.day < *d,
                    DayCmp::On => sent.day == *d,
                    DayCmp::Since => sent.day >= *d,
                }))
            }
            Node::Body(needle) => match k.text {
                Some(t) => Some(t.body().contains(needle.as_str())),
                None => index_says(ctx, m.uid, TextField::Body, needle),
            },
            Node::Text(needle) => match k.text {
                Some(t) => Some(
                    t.header_text().contains(needle.as_str())
                        || t.mime_text().contains(needle.as_str())
                        || t.body().contains(needle.as_str()),
                ),
                None => {
                    let says = [TextField::Header, TextField::MimeHeaders, TextField::Body]
                        .map(|f| index_says(ctx, m.uid, f, needle));
                    if says.contains(&Some(true)) {
                        Some(true)
                    } else if says.iter().all(|s| *s == Some(false)) {
                        Some(false)
                    } else {
                        None
                    }
                }
            },
            Node::Header(name, needle) => match k.text {
                Some(t) => Some(t.field_contains(name, needle)),
                // The index holds `name: value` lines: a needle absent from
                // the whole header is absent from every field; a hit still
                // needs the field checked.
                None if !needle.is_empty() => {
                    match index_says(ctx, m.uid, TextField::Header, needle) {
                        Some(false) => Some(false),
                        _ => None,
                    }
                }
                None => None,
            },
        }
    }
}

/// The index's exact answer for one message, `None` when it has none.
fn index_says(ctx: &Ctx, uid: Uid, field: TextField, needle: &str) -> Option<bool> {
    let hits = ctx.index.get(&field)?.get(needle)?;
    if hits.hits.binary_search(&uid).is_ok() {
        Some(true)
    } else if hits.unsure.binary_search(&uid).is_ok() {
        None
    } else {
        Some(false)
    }
}

/// Day number of an INTERNALDATE in its own zone (RFC 9051: dates compare
/// "disregarding time and timezone").
fn local_day(m: &MessageMeta) -> i64 {
    (m.internal_date.unix + i64::from(m.internal_date.offset_minutes) * 60).div_euclid(86_400)
}

/// A metadata key's value.
fn eval_meta(key: &SearchKey, m: &MessageMeta, seq: u32, ctx: &Ctx) -> bool {
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
        K::Before(d) => local_day(m) < day(d),
        K::On(d) => local_day(m) == day(d),
        K::Since(d) => local_day(m) >= day(d),
        K::Older(secs) => ctx.now - m.internal_date.unix >= i64::from(*secs),
        K::Younger(secs) => ctx.now - m.internal_date.unix <= i64::from(*secs),
        K::ModSeq { modseq, .. } => m.modseq.0 >= *modseq,
        K::Uid(set) => set.contains(m.uid.0, ctx.max_uid),
        K::SequenceSet(set) => set.contains(seq, ctx.exists),
        // Everything else was compiled into another node.
        _ => false,
    }
}

/// Messages read per batch in round 3.
const SCAN_CHUNK: usize = 256;

/// Runs the three rounds over `cands` (metadata, sequence number, decision
/// so far) and fills in every decision.
pub(crate) async fn decide(
    account: &dyn Account,
    mailbox: MailboxId,
    root: &Node,
    ctx: &Ctx,
    cands: &mut [(&MessageMeta, u32, Option<bool>)],
) -> Result<(), CommandError> {
    for c in cands.iter_mut() {
        c.2 = root.eval(c.0, c.1, ctx, Known::default());
    }
    let undecided: Vec<usize> = (0..cands.len()).filter(|&i| cands[i].2.is_none()).collect();
    if undecided.is_empty() {
        return Ok(());
    }
    let mut summaries: HashMap<usize, Summary> = HashMap::new();
    if root.needs_summary() {
        let uids: Vec<Uid> = undecided.iter().map(|&i| cands[i].0.uid).collect();
        let loaded = summaries::load(account, mailbox, &uids, true).await?;
        for (&i, s) in undecided.iter().zip(loaded) {
            match s {
                // Expunged meanwhile: it matches nothing.
                None => cands[i].2 = Some(false),
                Some(s) => {
                    let known = Known {
                        summary: Some(&s),
                        text: None,
                    };
                    cands[i].2 = root.eval(cands[i].0, cands[i].1, ctx, known);
                    summaries.insert(i, s);
                }
            }
        }
    }
    let undecided: Vec<usize> = undecided
        .into_iter()
        .filter(|&i| cands[i].2.is_none())
        .collect();
    for chunk in undecided.chunks(SCAN_CHUNK) {
        let uids: Vec<Uid> = chunk.iter().map(|&i| cands[i].0.uid).collect();
        let structures = account.read_structures(mailbox, &uids).await?;
        for (&i, stored) in chunk.iter().zip(structures) {
            let (m, seq, _) = cands[i];
            let Some(stored) = stored else {
                cands[i].2 = Some(false);
                continue;
            };
            let raw = match account.read_message(mailbox, m.uid).await {
                Ok(raw) => raw,
                Err(StoreError::Expunged) => {
                    cands[i].2 = Some(false);
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let structure =
                MessageStructure::from_bytes(&stored).unwrap_or_else(|| tidemark_mime::parse(&raw));
            let text = MessageText::new(&raw, &structure);
            let known = Known {
                summary: summaries.get(&i),
                text: Some(&text),
            };
            // Summary and text decide every key.
            cands[i].2 = Some(root.eval(m, seq, ctx, known).unwrap_or(false));
        }
    }
    Ok(())
}
