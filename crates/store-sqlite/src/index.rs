//! The search index of an account database.
//!
//! Every blob (distinct message bytes) has one `search_docs` row: its
//! [`Summary`] (header keys, dates, sort and thread keys) and its folded
//! [`SearchDoc`] text (i;unicode-casemap by `tidemark_search::fold`). The
//! text is what SEARCH compares, so `text GLOB '*needle*'` with the needle
//! folded the same way (metacharacters escaped) is the exact answer.
//!
//! `search_fts` makes that fast: a contentless FTS5 table (`trigram
//! case_sensitive 1`, `detail=none`, rows deletable) that holds, per doc,
//! the *set* of trigrams of its header and body text (see
//! [`trigram_set_text`]). A search asks it for the docs that contain every
//! trigram of the needle (`MATCH "abc" AND "bcd" ...`) and checks those
//! candidates with the GLOB above; needles shorter than three characters
//! are answered by the GLOB over the mailbox's docs alone.
//!
//! Why a trigram set and not the text: FTS5's cost is per token, and a
//! message's text repeats its trigrams many times (about 4,800 tokens for a
//! 5 KB body, against about 1,300 distinct trigrams in our benchmark mail).
//! Why contentless with our own recheck: with `content=` FTS5 needs the
//! indexed values again to delete a row, and it would recheck GLOB against
//! the set, not the text.
//!
//! Docs are written in the same transaction as the blob, so a message is
//! searchable as soon as its APPEND is acknowledged. The FTS table is not:
//! it lives in its own database, kept by the indexer thread (`indexer.rs`),
//! which takes docs from the queue `search_pending`. Searches stay exact
//! and complete meanwhile: [`search`] runs the GLOB over the docs the index
//! has not reached too. (Measured alternatives, all slower for APPEND:
//! FTS inserts inside each job's savepoint, 13x; a flush per group commit;
//! chunks moved on the writer thread when idle, 2.3-2.7x against no index.)
//!
//! A doc whose text was cut at [`BODY_LIMIT`] is marked incomplete: the
//! index may say "yes" for it but never "no" ([`IndexHits::unsure`]). Docs
//! of an older [`DOC_VERSION`] (or missing, after the migration to schema 4
//! or with the index turned off) are rebuilt when the account is opened.

use rusqlite::{Connection, OptionalExtension, params};
use tidemark_mime::MessageStructure;
use tidemark_search::{SearchDoc, Summary};
use tidemark_store::{IndexHits, MailboxId, StoreResult, TextField, Uid};

use crate::db::Db;

/// Decoded text bytes of one message that are indexed; the rest is found
/// by scanning the message.
pub(crate) const BODY_LIMIT: usize = 512 * 1024;

/// Version of what a doc holds: `tidemark_search::summary::VERSION` and the
/// text extraction. Bumped when either changes, so docs are rebuilt.
pub(crate) const DOC_VERSION: i64 =
    tidemark_search::doc::TEXT_VERSION as i64 * 1000 + tidemark_search::summary::VERSION as i64;

/// The queues of the index in the account database (see `indexer.rs`):
/// docs written since the indexer last looked (`search_pending`) and docs
/// deleted (`search_gone`), each in commit order. A macro so that the
/// schema and the migration to schema 5 share one text.
macro_rules! index_queues {
    () => {
        "
CREATE TABLE search_pending(seq INTEGER PRIMARY KEY AUTOINCREMENT, id INTEGER NOT NULL);
CREATE TABLE search_gone(seq INTEGER PRIMARY KEY AUTOINCREMENT, id INTEGER NOT NULL);
CREATE TRIGGER search_docs_del AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_gone(id) VALUES(OLD.id);
END;
"
    };
}

/// Schema objects of the index in the account database (schema version 5;
/// the FTS table is in the index database, `indexer.rs`).
pub(crate) const INDEX_SCHEMA: &str = concat!(
    "
CREATE TABLE search_docs(
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    complete INTEGER NOT NULL,
    header TEXT NOT NULL,
    mime TEXT NOT NULL,
    body TEXT NOT NULL
);
-- Summaries apart from the (large) text rows, so SORT and THREAD read a
-- few hundred bytes per message, packed many to a page.
CREATE TABLE search_summaries(
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    summary BLOB NOT NULL
);
CREATE INDEX search_docs_incomplete ON search_docs(id) WHERE complete = 0;
CREATE TRIGGER blobs_del_doc AFTER DELETE ON blobs BEGIN
    DELETE FROM search_docs WHERE id = OLD.id;
    DELETE FROM search_summaries WHERE id = OLD.id;
END;
",
    index_queues!()
);

/// Migration 4 -> 5: the FTS table moves to its own database and is built
/// again there from the docs, which stay.
pub(crate) const MIGRATE_TO_5: &str = concat!(
    "
DROP TRIGGER search_docs_del;
DROP TABLE IF EXISTS search_fts;
DROP TABLE search_pending;
DROP TABLE IF EXISTS search_gone;
",
    index_queues!(),
    "
INSERT INTO search_pending(id) SELECT id FROM search_docs ORDER BY id;
"
);

/// What is indexed of one message, computed before the write transaction.
#[derive(Debug)]
pub(crate) struct IndexDoc {
    complete: bool,
    summary: Vec<u8>,
    header: String,
    mime: String,
    body: String,
}

impl IndexDoc {
    /// The stored search summary (`Summary::to_bytes`).
    pub(crate) fn summary_bytes(&self) -> &[u8] {
        &self.summary
    }

    /// The doc of `data`; `structure` is the caller's serialised structure
    /// (parsed again when it is empty or unreadable).
    pub(crate) fn new(data: &[u8], structure: &[u8]) -> Self {
        let st =
            MessageStructure::from_bytes(structure).unwrap_or_else(|| tidemark_mime::parse(data));
        let doc = SearchDoc::new(data, &st, BODY_LIMIT);
        let header_cut = doc.header.len() > BODY_LIMIT;
        let mut header = doc.header;
        if header_cut {
            let mut end = BODY_LIMIT;
            while !header.is_char_boundary(end) {
                end -= 1;
            }
            header.truncate(end);
        }
        Self {
            complete: doc.complete && !header_cut,
            summary: Summary::new(data, &st).to_bytes(),
            header,
            mime: doc.mime,
            body: doc.body,
        }
    }
}

/// Stores the doc of blob `id` (replacing an older one).
pub(crate) fn put_doc(conn: &Connection, id: i64, doc: &IndexDoc) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM search_docs WHERE id=?1")
        .db()?
        .execute([id])
        .db()?;
    conn.prepare_cached(
        "INSERT INTO search_docs(id, version, complete, header, mime, body) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .db()?
    .execute(params![
        id,
        DOC_VERSION,
        doc.complete,
        doc.header,
        doc.mime,
        doc.body
    ])
    .db()?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO search_summaries(id, version, summary) VALUES(?1, ?2, ?3)",
    )
    .db()?
    .execute(params![id, DOC_VERSION, doc.summary])
    .db()?;
    conn.prepare_cached("INSERT INTO search_pending(id) VALUES(?1)")
        .db()?
        .execute([id])
        .db()?;
    Ok(())
}

/// Separates runs in [`trigram_set_text`]; it never occurs in a needle's
/// trigrams the index is asked about (a needle's trigrams with it only add
/// candidates, which the GLOB check removes).
const BREAK: char = '\u{1}';

/// A short text whose trigrams include every trigram of `parts` (none
/// across parts) exactly once, plus some containing [`BREAK`]: each new
/// trigram extends the text by one character when it continues the last
/// one, else starts a new run after a BREAK.
pub(crate) fn trigram_set_text(parts: &[&str]) -> String {
    ASCII_SEEN.with(|bits| {
        let mut bits = bits.borrow_mut();
        let mut seen = TrigramSet {
            ascii: &mut bits,
            touched: Vec::new(),
            other: Default::default(),
        };
        let out = build_trigram_set(parts, &mut seen);
        // Leave the bitmap clear for the next message.
        for i in seen.touched {
            seen.ascii[i as usize] = 0;
        }
        out
    })
}

fn build_trigram_set(parts: &[&str], seen: &mut TrigramSet<'_>) -> String {
    let mut out = String::new();
    let mut last: Option<[char; 2]> = None;
    for part in parts {
        let mut w: [char; 3] = ['\0'; 3];
        for (i, c) in part.chars().enumerate() {
            w = [w[1], w[2], c];
            if i < 2 || !seen.insert(w) {
                continue;
            }
            if last == Some([w[0], w[1]]) {
                out.push(w[2]);
            } else {
                if !out.is_empty() {
                    out.push(BREAK);
                }
                out.extend(w);
            }
            last = Some([w[1], w[2]]);
        }
        last = None;
    }
    out
}

thread_local! {
    /// One bit per all-ASCII trigram (2^21 bits, 256 KiB), reused by every
    /// message a thread indexes: a bit test instead of a hash insert for the
    /// common case (hashing was a quarter of APPEND's CPU time).
    static ASCII_SEEN: std::cell::RefCell<Vec<u64>> =
        std::cell::RefCell::new(vec![0; (1 << 21) / 64]);
}

/// The trigrams seen so far in one message.
struct TrigramSet<'a> {
    ascii: &'a mut Vec<u64>,
    /// Words of `ascii` set for this message (cleared afterwards).
    touched: Vec<u32>,
    other: std::collections::HashSet<u64, std::hash::BuildHasherDefault<PackedHasher>>,
}

impl TrigramSet<'_> {
    /// Adds `w`; whether it was new.
    fn insert(&mut self, w: [char; 3]) -> bool {
        if w.iter().all(char::is_ascii) {
            let n = (u32::from(w[0]) << 14) | (u32::from(w[1]) << 7) | u32::from(w[2]);
            let (word, bit) = ((n / 64) as usize, 1u64 << (n % 64));
            let x = &mut self.ascii[word];
            if *x & bit != 0 {
                return false;
            }
            if *x == 0 {
                self.touched.push(word as u32);
            }
            *x |= bit;
            true
        } else {
            let packed = (u64::from(w[0]) << 42) | (u64::from(w[1]) << 21) | u64::from(w[2]);
            self.other.insert(packed)
        }
    }
}

/// Hashes a trigram packed into a `u64` (three 21-bit code points) with
/// one multiplication: the keys are not attacker-chosen in a way that
/// matters (a set per message, bounded by the message's size).
#[derive(Default)]
struct PackedHasher(u64);

impl std::hash::Hasher for PackedHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// An FTS5 query for the docs holding every trigram of `needle` (at most
/// [`MAX_QUERY_TRIGRAMS`], spread over it); `None` when it has none.
fn trigram_query(needle: &str) -> Option<String> {
    let chars: Vec<char> = needle.chars().collect();
    if chars.len() < 3 {
        return None;
    }
    let mut tris: Vec<String> = chars.windows(3).map(|w| w.iter().collect()).collect();
    tris.sort();
    tris.dedup();
    if tris.len() > MAX_QUERY_TRIGRAMS {
        let step = tris.len().div_ceil(MAX_QUERY_TRIGRAMS);
        tris = tris.into_iter().step_by(step).collect();
    }
    let terms: Vec<String> = tris
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect();
    Some(terms.join(" AND "))
}

/// Trigrams of one needle the index is asked about; a subset still gives a
/// superset of the answer, which the GLOB check makes exact.
const MAX_QUERY_TRIGRAMS: usize = 24;

/// Whether blob `id` has a current doc.
pub(crate) fn has_current_doc(conn: &Connection, id: i64) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT version FROM search_docs WHERE id=?1")
        .db()?
        .query_row([id], |r| r.get::<_, i64>(0))
        .optional()
        .db()?
        == Some(DOC_VERSION))
}

/// Blobs processed per transaction by [`rebuild`].
const REBUILD_BATCH: usize = 256;

/// Meta key: every blob has a doc of this version. Set by [`rebuild`];
/// removed by [`docs_incomplete`] when messages may be stored without docs.
const DOCS_COMPLETE: &str = "docs_complete_version";

/// Notes that messages stored from now on may lack docs (the account is
/// open without the index), so the next [`rebuild`] looks for them.
pub(crate) fn docs_incomplete(conn: &Connection) -> StoreResult<()> {
    conn.execute("DELETE FROM meta WHERE key=?1", [DOCS_COMPLETE])
        .db()
        .map(|_| ())
}

/// Builds the docs that are missing or of an older version; returns how
/// many were built. Runs at account open, before the writer starts. The
/// search for them reads every blob row (≈ 0.3 s for 100,000 messages), so
/// it is skipped while the docs are known to be complete.
pub(crate) fn rebuild(conn: &Connection) -> StoreResult<usize> {
    let complete: Option<i64> = conn
        .query_row(
            "SELECT value FROM meta WHERE key=?1",
            [DOCS_COMPLETE],
            |r| r.get(0),
        )
        .optional()
        .db()?;
    if complete == Some(DOC_VERSION) {
        return Ok(0);
    }
    let ids: Vec<i64> = conn
        .prepare(
            "SELECT b.id FROM blobs b LEFT JOIN search_docs d ON d.id = b.id
             WHERE d.id IS NULL OR d.version != ?1 ORDER BY b.id",
        )
        .db()?
        .query_map([DOC_VERSION], |r| r.get(0))
        .db()?
        .collect::<Result<_, _>>()
        .db()?;
    for batch in ids.chunks(REBUILD_BATCH) {
        let tx = conn.unchecked_transaction().db()?;
        for &id in batch {
            let row: Option<(Vec<u8>, Option<Vec<u8>>)> = tx
                .prepare_cached("SELECT data, structure FROM blobs WHERE id=?1")
                .db()?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .db()?;
            if let Some((data, structure)) = row {
                let doc = IndexDoc::new(&data, structure.as_deref().unwrap_or_default());
                put_doc(&tx, id, &doc)?;
            }
        }
        tx.commit().db()?;
    }
    conn.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
        params![DOCS_COMPLETE, DOC_VERSION],
    )
    .db()?;
    if !ids.is_empty() {
        tracing::info!("search index: built {} message docs", ids.len());
    }
    Ok(ids.len())
}

/// The stored summaries of `uids` in `mailbox` (`None`: no such message or
/// no current doc).
pub(crate) fn read_summaries(
    conn: &Connection,
    mailbox: MailboxId,
    uids: &[Uid],
) -> StoreResult<Vec<Option<Vec<u8>>>> {
    // One range scan over the UIDs asked for (callers ask for runs of
    // ascending UIDs), instead of one lookup each.
    let (Some(lo), Some(hi)) = (uids.iter().min(), uids.iter().max()) else {
        return Ok(Vec::new());
    };
    let mut found: std::collections::HashMap<u32, Vec<u8>> = conn
        .prepare_cached(
            "SELECT m.uid, s.summary FROM messages m JOIN search_summaries s ON s.id = m.blob_id
             WHERE m.mailbox_id=?1 AND m.uid BETWEEN ?2 AND ?3 AND s.version=?4",
        )
        .db()?
        .query_map(params![mailbox.0 as i64, lo.0, hi.0, DOC_VERSION], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .db()?
        .collect::<Result<_, _>>()
        .db()?;
    Ok(uids.iter().map(|u| found.remove(&u.0)).collect())
}

/// `needle` as a GLOB pattern matching any text that contains it.
fn glob_pattern(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 8);
    p.push('*');
    for c in needle.chars() {
        match c {
            '*' => p.push_str("[*]"),
            '?' => p.push_str("[?]"),
            '[' => p.push_str("[[]"),
            c => p.push(c),
        }
    }
    p.push('*');
    p
}

/// The index's answer for `needle` (folded) in `field` of `mailbox`.
pub(crate) fn search(
    conn: &Connection,
    mailbox: MailboxId,
    field: TextField,
    needle: &str,
) -> StoreResult<IndexHits> {
    let column = match field {
        TextField::Header => "header",
        TextField::MimeHeaders => "mime",
        TextField::Body => "body",
    };
    let pattern = glob_pattern(needle);
    let mb = mailbox.0 as i64;
    let collect = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> StoreResult<Vec<Uid>> {
        conn.prepare_cached(sql)
            .db()?
            .query_map(p, |r| Ok(Uid(r.get(0)?)))
            .db()?
            .collect::<Result<_, _>>()
            .db()
    };
    let mut hits = match trigram_query(needle) {
        Some(q) => {
            // The account database's snapshot first: the indexer's marks
            // only let the writer drop queue entries once the index database
            // has them, so an index snapshot taken after this one holds
            // every doc this one no longer lists as pending.
            conn.prepare_cached("SELECT count(*) FROM main.meta")
                .db()?
                .query_row([], |r| r.get::<_, i64>(0))
                .db()?;
            // Candidates from the trigram index (a rare needle touches few
            // rows), checked against the text; then the docs the index has
            // not reached (in the same index snapshot as its mark).
            let mut h = collect(
                &format!(
                    "SELECT m.uid FROM search_docs d JOIN messages m ON m.blob_id = d.id
                     WHERE d.id IN (SELECT rowid FROM idx.search_fts WHERE search_fts MATCH ?1)
                     AND m.mailbox_id = ?2 AND d.{column} GLOB ?3"
                ),
                &[&q, &mb, &pattern],
            )?;
            h.extend(collect(
                &format!(
                    "SELECT m.uid FROM search_pending p JOIN search_docs d ON d.id = p.id
                     JOIN messages m ON m.blob_id = d.id
                     WHERE p.seq > (SELECT value FROM idx.search_state WHERE key = 'pending')
                     AND m.mailbox_id = ?1 AND d.{column} GLOB ?2"
                ),
                &[&mb, &pattern],
            )?);
            h
        }
        // Too short for a trigram: the GLOB over every doc of the mailbox.
        None => collect(
            &format!(
                "SELECT m.uid FROM messages m JOIN search_docs d ON d.id = m.blob_id
                 WHERE m.mailbox_id = ?1 AND d.{column} GLOB ?2"
            ),
            &[&mb, &pattern],
        )?,
    };
    hits.sort_unstable();
    hits.dedup();
    // Messages whose text was cut: the index cannot say "no" for them. (Every
    // blob has a current doc: written with it, or rebuilt at open.)
    let unsure = collect(
        "SELECT m.uid FROM search_docs d JOIN messages m ON m.blob_id = d.id
         WHERE d.complete = 0 AND m.mailbox_id = ?1 ORDER BY m.uid",
        &[&mb],
    )?;
    Ok(IndexHits { hits, unsure })
}

#[cfg(test)]
mod tests {
    use super::glob_pattern;

    #[test]
    fn trigram_set_holds_every_trigram_once() {
        use super::trigram_set_text;
        let tris = |s: &str| -> std::collections::BTreeSet<String> {
            let c: Vec<char> = s.chars().collect();
            c.windows(3).map(|w| w.iter().collect()).collect()
        };
        let header = "subject: hello hello world";
        let body = "the quick brown fox jumps over the lazy dog; the end ÄÖÜ ß";
        let set = trigram_set_text(&[header, body]);
        let got = tris(&set);
        for t in tris(header).union(&tris(body)) {
            assert!(got.contains(t), "{t:?} missing from {set:?}");
        }
        // Only trigrams of the parts, or ones containing the break.
        for t in &got {
            assert!(
                t.contains('\u{1}') || tris(header).contains(t) || tris(body).contains(t),
                "stray {t:?}"
            );
        }
        assert!(set.chars().count() < header.len() + body.len());
        assert_eq!(trigram_set_text(&["ab", ""]), "");
        assert_eq!(trigram_set_text(&["aaaa"]), "aaa");
        // The per-thread bitmap starts clear for every message.
        assert_eq!(trigram_set_text(&[header, body]), set);
        assert_eq!(trigram_set_text(&["aaaa"]), "aaa");
    }

    #[test]
    fn trigram_queries() {
        use super::trigram_query;
        assert_eq!(trigram_query("ab"), None);
        assert_eq!(
            trigram_query("abcb").as_deref(),
            Some("\"abc\" AND \"bcb\"")
        );
        assert_eq!(
            trigram_query("a\"bc").as_deref(),
            Some("\"\"\"bc\" AND \"a\"\"b\"")
        );
        let long: String = (0..200)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        assert!(trigram_query(&long).unwrap().matches(" AND ").count() < 24);
    }

    #[test]
    fn glob_escapes_metacharacters() {
        assert_eq!(glob_pattern("a*b?c[d]"), "*a[*]b[?]c[[]d]*");
        assert_eq!(glob_pattern(""), "**");
    }
}
