//! RFC 8474 object ids of messages: EMAILID and THREADID.
//!
//! - EMAILID names the message *content*: `M` and the first 8 bytes of the
//!   blob's SHA-256 in hex. COPY and MOVE share the blob, so they keep it;
//!   two deliveries of identical bytes share it too (RFC 8474 5.1 allows
//!   this: the id refers to immutable content).
//! - THREADID: each blob is given a thread when it is first stored
//!   (`message_threads`). `thread_refs` maps every Message-ID the account
//!   has seen (a message's own and those it references) to a thread. A new
//!   message joins the thread of the first of its References (oldest
//!   first), its In-Reply-To or its own Message-ID already known, so a
//!   reply that arrives before its parent pulls the parent into its thread
//!   when the parent comes. Otherwise it starts a thread named after its
//!   own content (`T` and 8 bytes of its SHA-256). A thread id is never
//!   changed once given (threads are not merged afterwards, as JMAP
//!   requires of threadId), and `thread_refs` is never pruned, so a late
//!   reply still finds the thread of a deleted parent.

use crate::db::Db;
use rusqlite::{Connection, OptionalExtension, params};
use tidemark_mime::MessageStructure;
use tidemark_search::Summary;
use tidemark_store::{MailboxId, MessageObjectIds, ObjectKind, StoreResult, Uid};

/// Idempotent: run at creation and by the 6 -> 7 migration; the threads of
/// messages stored before are assigned by [`backfill`] at open.
pub(crate) const THREADS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS message_threads(
    blob_id INTEGER PRIMARY KEY,
    thread INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS message_threads_thread ON message_threads(thread);
CREATE TABLE IF NOT EXISTS thread_refs(
    msgid TEXT PRIMARY KEY,
    thread INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS blobs_del_thread AFTER DELETE ON blobs BEGIN
    DELETE FROM message_threads WHERE blob_id = OLD.id;
END;
";

/// Most header bytes read to find a message's ids (backfill).
const HEADER_READ: usize = 256 * 1024;
/// Blobs given a thread per transaction in [`backfill`].
const BACKFILL_BATCH: usize = 500;

/// The Message-IDs a message is linked by: its References (oldest first),
/// its In-Reply-To, then its own Message-ID (last).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ThreadKeys(Vec<String>);

impl ThreadKeys {
    pub(crate) fn from_summary(s: &Summary) -> ThreadKeys {
        let mut ids: Vec<String> = s.references.clone();
        ids.extend(s.in_reply_to.iter().cloned());
        ids.extend(s.message_id.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        ids.retain(|i| !i.is_empty() && seen.insert(i.clone()));
        ThreadKeys(ids)
    }

    /// The keys of a message (`structure` as stored; parsed when empty).
    pub(crate) fn of_message(data: &[u8], structure: &[u8]) -> ThreadKeys {
        let st =
            MessageStructure::from_bytes(structure).unwrap_or_else(|| tidemark_mime::parse(data));
        ThreadKeys::from_summary(&Summary::new(data, &st))
    }

    /// The keys from a stored search summary, if it decodes.
    pub(crate) fn from_summary_bytes(b: &[u8]) -> Option<ThreadKeys> {
        Summary::keys_from_bytes(b).map(|s| ThreadKeys::from_summary(&s))
    }
}

fn content_key(sha256: &[u8]) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&sha256[..8]);
    // SQLite integers are signed; the id is the same 64 bits either way.
    i64::from_be_bytes(b)
}

fn hex16(v: u64) -> String {
    format!("{v:016x}")
}

pub(crate) fn email_id(sha256: &[u8]) -> String {
    format!("M{}", hex16(content_key(sha256) as u64))
}

pub(crate) fn thread_id(thread: i64) -> String {
    format!("T{}", hex16(thread as u64))
}

/// Parses `prefix` + 16 hex digits back into the 64-bit key.
fn parse_id(id: &str, prefix: char) -> Option<i64> {
    let hex = id.strip_prefix(prefix)?;
    if hex.len() != 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(hex, 16).ok().map(|v| v as i64)
}

/// Gives a newly stored blob its thread.
pub(crate) fn assign(
    conn: &Connection,
    blob_id: i64,
    sha256: &[u8],
    keys: &ThreadKeys,
) -> StoreResult<()> {
    let mut thread = None;
    {
        let mut find = conn
            .prepare_cached("SELECT thread FROM thread_refs WHERE msgid=?1")
            .db()?;
        for k in &keys.0 {
            if let Some(t) = find
                .query_row([k], |r| r.get::<_, i64>(0))
                .optional()
                .db()?
            {
                thread = Some(t);
                break;
            }
        }
    }
    let thread = thread.unwrap_or_else(|| content_key(sha256));
    let mut remember = conn
        .prepare_cached("INSERT OR IGNORE INTO thread_refs(msgid, thread) VALUES(?1, ?2)")
        .db()?;
    for k in &keys.0 {
        remember.execute(params![k, thread]).db()?;
    }
    conn.prepare_cached("INSERT OR REPLACE INTO message_threads(blob_id, thread) VALUES(?1, ?2)")
        .db()?
        .execute(params![blob_id, thread])
        .db()?;
    Ok(())
}

/// Gives a thread to every blob without one (messages stored before schema
/// 7), oldest first, reading at most [`HEADER_READ`] bytes of each. Runs
/// once: the meta key `threads_complete` (set for new accounts) skips it.
pub(crate) fn backfill(conn: &Connection) -> StoreResult<usize> {
    let done: Option<i64> = conn
        .query_row(
            "SELECT value FROM meta WHERE key='threads_complete'",
            [],
            |r| r.get(0),
        )
        .optional()
        .db()?;
    if done == Some(1) {
        return Ok(0);
    }
    let ids: Vec<i64> = conn
        .prepare(
            "SELECT b.id FROM blobs b LEFT JOIN message_threads t ON t.blob_id = b.id
             WHERE t.blob_id IS NULL ORDER BY b.id",
        )
        .db()?
        .query_map([], |r| r.get(0))
        .db()?
        .collect::<Result<_, _>>()
        .db()?;
    for batch in ids.chunks(BACKFILL_BATCH) {
        let tx = conn.unchecked_transaction().db()?;
        for &id in batch {
            let row: Option<(Vec<u8>, Vec<u8>)> = tx
                .prepare_cached("SELECT substr(data, 1, ?2), sha256 FROM blobs WHERE id=?1")
                .db()?
                .query_row(params![id, HEADER_READ as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
                .db()?;
            if let Some((head, sha)) = row {
                // Only the header is read: a structure parsed from the cut
                // bytes finds the same header fields.
                let keys = ThreadKeys::of_message(&head, &[]);
                assign(&tx, id, &sha, &keys)?;
            }
        }
        tx.commit().db()?;
    }
    conn.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES('threads_complete', 1)",
        [],
    )
    .db()?;
    if !ids.is_empty() {
        tracing::info!("threads assigned to {} stored messages", ids.len());
    }
    Ok(ids.len())
}

/// EMAILID and THREADID of `uids` in `mailbox`, in order.
pub(crate) fn object_ids(
    conn: &Connection,
    mailbox: MailboxId,
    uids: &[Uid],
) -> StoreResult<Vec<Option<MessageObjectIds>>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT b.sha256, t.thread FROM messages m JOIN blobs b ON b.id = m.blob_id
             LEFT JOIN message_threads t ON t.blob_id = m.blob_id
             WHERE m.mailbox_id=?1 AND m.uid=?2",
        )
        .db()?;
    let mut out = Vec::with_capacity(uids.len());
    for uid in uids {
        let row: Option<(Vec<u8>, Option<i64>)> = stmt
            .query_row(params![mailbox.0 as i64, uid.0], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .db()?;
        out.push(row.map(|(sha, thread)| MessageObjectIds {
            email: email_id(&sha),
            // A blob stored while the backfill had not run yet starts its
            // own thread (named as a thread of one would be).
            thread: thread_id(thread.unwrap_or_else(|| content_key(&sha))),
        }));
    }
    Ok(out)
}

/// The messages of `mailbox` with EMAILID or THREADID `id`.
pub(crate) fn find(
    conn: &Connection,
    mailbox: MailboxId,
    kind: ObjectKind,
    id: &str,
) -> StoreResult<Vec<Uid>> {
    let uid = |r: &rusqlite::Row<'_>| Ok(Uid(r.get::<_, i64>(0)? as u32));
    let rows = match kind {
        ObjectKind::Email => {
            let Some(key) = parse_id(id, 'M') else {
                return Ok(Vec::new());
            };
            // The SHA-256 index answers the 8-byte prefix as a range.
            let lo = key.to_be_bytes().to_vec();
            let mut hi = lo.clone();
            hi.extend_from_slice(&[0xff; 25]);
            conn.prepare_cached(
                "SELECT m.uid FROM blobs b JOIN messages m ON m.blob_id = b.id
                 WHERE b.sha256 >= ?2 AND b.sha256 <= ?3 AND m.mailbox_id = ?1 ORDER BY m.uid",
            )
            .db()?
            .query_map(params![mailbox.0 as i64, lo, hi], uid)
            .db()?
            .collect::<Result<Vec<_>, _>>()
        }
        ObjectKind::Thread => {
            let Some(key) = parse_id(id, 'T') else {
                return Ok(Vec::new());
            };
            conn.prepare_cached(
                "SELECT m.uid FROM message_threads t JOIN messages m ON m.blob_id = t.blob_id
                 WHERE t.thread = ?2 AND m.mailbox_id = ?1 ORDER BY m.uid",
            )
            .db()?
            .query_map(params![mailbox.0 as i64, key], uid)
            .db()?
            .collect::<Result<Vec<_>, _>>()
        }
    };
    rows.db()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_others() {
        let sha = [0xab; 32];
        let e = email_id(&sha);
        assert_eq!(e, "Mabababababababab");
        assert_eq!(parse_id(&e, 'M'), Some(content_key(&sha)));
        let t = thread_id(-5);
        assert_eq!(parse_id(&t, 'T'), Some(-5));
        for bad in [
            "",
            "M",
            "Mabc",
            "Tabababababababab",
            "Mzzzzzzzzzzzzzzzz",
            "Mabababababababab0",
        ] {
            assert_eq!(parse_id(bad, 'M'), None, "{bad}");
        }
    }

    #[test]
    fn keys_order_references_first_without_repeats() {
        let raw =
            b"Message-ID: <c@x>\r\nIn-Reply-To: <b@x>\r\nReferences: <a@x> <b@x>\r\n\r\nhi\r\n";
        let keys = ThreadKeys::of_message(raw, &[]);
        let ids: Vec<&str> = keys.0.iter().map(String::as_str).collect();
        assert_eq!(ids.len(), 3, "{ids:?}");
        assert!(ids[0].contains('a') && ids[1].contains('b') && ids[2].contains('c'));
    }
}
