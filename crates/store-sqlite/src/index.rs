//! The search index of an account database.
//!
//! Every blob (distinct message bytes) has one `search_docs` row: its
//! [`Summary`] (header keys, dates, sort and thread keys) and its folded
//! [`SearchDoc`] text. `search_fts` is an FTS5 table over that text with the
//! `trigram` tokenizer in `case_sensitive 1` mode, external content
//! (`search_docs`), so the text is stored once. The text is already folded
//! (i;unicode-casemap by `tidemark_search::fold`), so a GLOB `*needle*` with
//! the needle folded the same way is an exact substring test, and FTS5
//! answers it from the trigram index (patterns with a literal run shorter
//! than three characters make FTS5 scan its content, which is slower but
//! still exact).
//!
//! Docs are written in the same transaction as the blob, so a message is
//! searchable as soon as its APPEND is acknowledged. A doc whose text was cut
//! at [`BODY_LIMIT`] is marked incomplete: the index may say "yes" for it but
//! never "no" ([`IndexHits::unsure`]). Docs of an older [`DOC_VERSION`] (or
//! missing, after the migration to schema 4) are rebuilt when the account is
//! opened.

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
pub(crate) const DOC_VERSION: i64 = 1000 + tidemark_search::summary::VERSION as i64;

/// Schema objects of the index (schema version 4).
pub(crate) const INDEX_SCHEMA: &str = "
CREATE TABLE search_docs(
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    complete INTEGER NOT NULL,
    summary BLOB NOT NULL,
    header TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX search_docs_incomplete ON search_docs(id) WHERE complete = 0;
CREATE VIRTUAL TABLE search_fts USING fts5(
    header, body,
    content='search_docs', content_rowid='id',
    tokenize='trigram case_sensitive 1'
);
CREATE TRIGGER search_docs_del AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts(search_fts, rowid, header, body)
        VALUES('delete', OLD.id, OLD.header, OLD.body);
END;
CREATE TRIGGER blobs_del_doc AFTER DELETE ON blobs BEGIN
    DELETE FROM search_docs WHERE id = OLD.id;
END;
";

/// What is indexed of one message, computed before the write transaction.
#[derive(Debug)]
pub(crate) struct IndexDoc {
    complete: bool,
    summary: Vec<u8>,
    header: String,
    body: String,
}

impl IndexDoc {
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
        "INSERT INTO search_docs(id, version, complete, summary, header, body) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .db()?
    .execute(params![
        id,
        DOC_VERSION,
        doc.complete,
        doc.summary,
        doc.header,
        doc.body
    ])
    .db()?;
    conn.prepare_cached("INSERT INTO search_fts(rowid, header, body) VALUES(?1, ?2, ?3)")
        .db()?
        .execute(params![id, doc.header, doc.body])
        .db()?;
    Ok(())
}

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

/// Builds the docs that are missing or of an older version; returns how
/// many were built. Runs at account open, before the writer starts.
pub(crate) fn rebuild(conn: &Connection) -> StoreResult<usize> {
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
    let mut stmt = conn
        .prepare_cached(
            "SELECT d.summary FROM messages m JOIN search_docs d ON d.id = m.blob_id
             WHERE m.mailbox_id=?1 AND m.uid=?2 AND d.version=?3",
        )
        .db()?;
    uids.iter()
        .map(|uid| {
            stmt.query_row(params![mailbox.0 as i64, uid.0, DOC_VERSION], |r| r.get(0))
                .optional()
                .db()
        })
        .collect()
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
        TextField::Body => "body",
    };
    // From the index side: a rare needle touches few rows.
    let sql = format!(
        "SELECT m.uid FROM search_fts f JOIN messages m ON m.blob_id = f.rowid
         WHERE f.{column} GLOB ?2 AND m.mailbox_id=?1"
    );
    let mut hits: Vec<Uid> = conn
        .prepare_cached(&sql)
        .db()?
        .query_map(params![mailbox.0 as i64, glob_pattern(needle)], |r| {
            Ok(Uid(r.get(0)?))
        })
        .db()?
        .collect::<Result<_, _>>()
        .db()?;
    hits.sort_unstable();
    // Messages whose text was cut: the index cannot say "no" for them. (Every
    // blob has a current doc: written with it, or rebuilt at open.)
    let unsure: Vec<Uid> = conn
        .prepare_cached(
            "SELECT m.uid FROM search_docs d JOIN messages m ON m.blob_id = d.id
             WHERE d.complete = 0 AND m.mailbox_id=?1 ORDER BY m.uid",
        )
        .db()?
        .query_map(params![mailbox.0 as i64], |r| Ok(Uid(r.get(0)?)))
        .db()?
        .collect::<Result<_, _>>()
        .db()?;
    Ok(IndexHits { hits, unsure })
}

#[cfg(test)]
mod tests {
    use super::glob_pattern;

    #[test]
    fn glob_escapes_metacharacters() {
        assert_eq!(glob_pattern("a*b?c[d]"), "*a[*]b[?]c[[]d]*");
        assert_eq!(glob_pattern(""), "**");
    }
}
