//! Queries. All run inside one read transaction, so multi-query answers
//! (a snapshot's counters and its message list) are consistent.

use crate::db::Db;
use crate::mailbox::decode_special_use;
use rusqlite::{Connection, OptionalExtension, Row, params};
use tidemark_store::{
    Changes, Flags, InternalDate, MailboxId, MailboxInfo, MailboxSnapshot, MailboxStatus,
    MessageMeta, ModSeq, StoreError, StoreResult, Uid, UidSet, UidValidity,
};

/// Columns read by [`meta_from_row`], in order.
pub(crate) const META_COLS: &str = "uid, flags, keywords, internal_date, tz_offset, size, modseq";

/// Keywords are stored joined by '\n' (IMAP atoms never contain it).
pub(crate) fn encode_keywords(flags: &Flags) -> String {
    flags.keywords().join("\n")
}

pub(crate) fn decode_flags(system: i64, keywords: &str) -> Flags {
    if keywords.is_empty() {
        Flags::from_parts(system as u8, std::iter::empty())
    } else {
        Flags::from_parts(system as u8, keywords.split('\n').map(str::to_string))
    }
}

pub(crate) fn meta_from_row(r: &Row<'_>) -> rusqlite::Result<MessageMeta> {
    let keywords: String = r.get_ref(2)?.as_str()?.to_string();
    Ok(MessageMeta {
        uid: Uid(r.get::<_, i64>(0)? as u32),
        flags: decode_flags(r.get(1)?, &keywords),
        internal_date: InternalDate {
            unix: r.get(3)?,
            offset_minutes: r.get::<_, i64>(4)? as i16,
        },
        size: r.get::<_, i64>(5)? as u64,
        modseq: ModSeq(r.get::<_, i64>(6)? as u64),
    })
}

fn info_from_row(r: &Row<'_>) -> rusqlite::Result<MailboxInfo> {
    Ok(MailboxInfo {
        id: MailboxId(r.get::<_, i64>(0)? as u64),
        name: r.get(1)?,
        uid_validity: UidValidity(r.get::<_, i64>(2)? as u32),
        special_use: decode_special_use(r.get_ref(3)?.as_str()?),
    })
}

pub(crate) fn mailbox_exists(conn: &Connection, name: &str) -> StoreResult<bool> {
    conn.prepare_cached("SELECT 1 FROM mailboxes WHERE name=?1")
        .db()?
        .query_row([name], |_| Ok(()))
        .optional()
        .db()
        .map(|o| o.is_some())
}

/// Looks a mailbox up by its (normalised) name.
pub(crate) fn lookup_mailbox(conn: &Connection, name: &str) -> StoreResult<MailboxInfo> {
    conn.prepare_cached("SELECT id, name, uidvalidity, special_use FROM mailboxes WHERE name=?1")
        .db()?
        .query_row([name], info_from_row)
        .optional()
        .db()?
        .ok_or(StoreError::NoSuchMailbox)
}

pub(crate) fn list_mailboxes(conn: &Connection) -> StoreResult<Vec<MailboxInfo>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, name, uidvalidity, special_use FROM mailboxes ORDER BY name")
        .db()?;
    let rows = stmt.query_map([], info_from_row).db()?;
    rows.collect::<Result<Vec<_>, _>>().db()
}

pub(crate) fn subscriptions(conn: &Connection) -> StoreResult<Vec<String>> {
    let mut stmt = conn
        .prepare_cached("SELECT name FROM subscriptions ORDER BY name")
        .db()?;
    let rows = stmt.query_map([], |r| r.get(0)).db()?;
    rows.collect::<Result<Vec<_>, _>>().db()
}

pub(crate) fn status(conn: &Connection, mailbox: MailboxId) -> StoreResult<MailboxStatus> {
    conn.prepare_cached(
        "SELECT uidvalidity, uidnext, messages, unseen, deleted, size, highestmodseq
         FROM mailboxes WHERE id=?1",
    )
    .db()?
    .query_row([mailbox.0 as i64], |r| {
        Ok(MailboxStatus {
            id: mailbox,
            uid_validity: UidValidity(r.get::<_, i64>(0)? as u32),
            uid_next: Uid(r.get::<_, i64>(1)?.min(u32::MAX as i64) as u32),
            messages: r.get::<_, i64>(2)? as u32,
            unseen: r.get::<_, i64>(3)? as u32,
            deleted: r.get::<_, i64>(4)? as u32,
            size: r.get::<_, i64>(5)? as u64,
            highest_modseq: ModSeq(r.get::<_, i64>(6)? as u64),
        })
    })
    .optional()
    .db()?
    .ok_or(StoreError::NoSuchMailbox)
}

pub(crate) fn snapshot(conn: &Connection, mailbox: MailboxId) -> StoreResult<MailboxSnapshot> {
    let status = status(conn, mailbox)?;
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {META_COLS} FROM messages WHERE mailbox_id=?1 ORDER BY uid"
        ))
        .db()?;
    let mut messages = Vec::with_capacity(status.messages as usize);
    let rows = stmt.query_map([mailbox.0 as i64], meta_from_row).db()?;
    for m in rows {
        messages.push(m.db()?);
    }
    Ok(MailboxSnapshot { status, messages })
}

pub(crate) fn fetch_meta(
    conn: &Connection,
    mailbox: MailboxId,
    uids: &UidSet,
) -> StoreResult<Vec<MessageMeta>> {
    status(conn, mailbox)?;
    metas_in(conn, mailbox, uids)
}

/// Metadata of the messages in `uids`, ascending: one indexed range query
/// per range (also used inside write transactions).
pub(crate) fn metas_in(
    conn: &Connection,
    mailbox: MailboxId,
    uids: &UidSet,
) -> StoreResult<Vec<MessageMeta>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {META_COLS} FROM messages WHERE mailbox_id=?1 AND uid BETWEEN ?2 AND ?3 ORDER BY uid"
        ))
        .db()?;
    let mut out = Vec::new();
    for &(lo, hi) in uids.ranges() {
        let rows = stmt
            .query_map(params![mailbox.0 as i64, lo, hi], meta_from_row)
            .db()?;
        for m in rows {
            out.push(m.db()?);
        }
    }
    Ok(out)
}

pub(crate) fn read_message(
    conn: &Connection,
    mailbox: MailboxId,
    uid: Uid,
) -> StoreResult<Vec<u8>> {
    let data: Option<Vec<u8>> = conn
        .prepare_cached(
            "SELECT b.data FROM messages m JOIN blobs b ON b.id = m.blob_id
             WHERE m.mailbox_id=?1 AND m.uid=?2",
        )
        .db()?
        .query_row(params![mailbox.0 as i64, uid.0], |r| r.get(0))
        .optional()
        .db()?;
    match data {
        Some(d) => Ok(d),
        None => {
            status(conn, mailbox)?;
            Err(StoreError::Expunged)
        }
    }
}

/// The structure stored with a message's bytes (empty when none).
pub(crate) fn read_structure(
    conn: &Connection,
    mailbox: MailboxId,
    uid: Uid,
) -> StoreResult<Vec<u8>> {
    let structure: Option<Option<Vec<u8>>> = conn
        .prepare_cached(
            "SELECT b.structure FROM messages m JOIN blobs b ON b.id = m.blob_id
             WHERE m.mailbox_id=?1 AND m.uid=?2",
        )
        .db()?
        .query_row(params![mailbox.0 as i64, uid.0], |r| r.get(0))
        .optional()
        .db()?;
    match structure {
        Some(s) => Ok(s.unwrap_or_default()),
        None => {
            status(conn, mailbox)?;
            Err(StoreError::Expunged)
        }
    }
}

/// Bytes `[offset, min(offset + len, size))` of a message, read with
/// incremental BLOB I/O: only the pages holding the range are copied, never
/// the whole message.
pub(crate) fn read_range(
    conn: &Connection,
    mailbox: MailboxId,
    uid: Uid,
    offset: u64,
    len: u64,
) -> StoreResult<Vec<u8>> {
    let row: Option<(i64, i64)> = conn
        .prepare_cached("SELECT blob_id, size FROM messages WHERE mailbox_id=?1 AND uid=?2")
        .db()?
        .query_row(params![mailbox.0 as i64, uid.0], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .db()?;
    let Some((blob_id, size)) = row else {
        status(conn, mailbox)?;
        return Err(StoreError::Expunged);
    };
    let (start, end) = tidemark_store::clamp_range(size.max(0) as u64, offset, len);
    if start == end {
        return Ok(Vec::new());
    }
    let (Ok(start), Ok(end)) = (usize::try_from(start), usize::try_from(end)) else {
        return Err(StoreError::TooBig);
    };
    let blob = conn
        .blob_open("main", "blobs", "data", blob_id, true)
        .db()?;
    if blob.len() as i64 != size {
        return Err(StoreError::Internal(format!(
            "blob {blob_id} holds {} bytes, message says {size}",
            blob.len()
        )));
    }
    let mut buf = vec![0u8; end - start];
    blob.read_at_exact(&mut buf, start).db()?;
    Ok(buf)
}

pub(crate) fn changes_since(
    conn: &Connection,
    mailbox: MailboxId,
    since: ModSeq,
) -> StoreResult<Changes> {
    let status = status(conn, mailbox)?;
    let since = since.0.min(i64::MAX as u64) as i64;
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {META_COLS} FROM messages WHERE mailbox_id=?1 AND modseq > ?2 ORDER BY uid"
        ))
        .db()?;
    let changed = stmt
        .query_map(params![mailbox.0 as i64, since], meta_from_row)
        .db()?
        .collect::<Result<Vec<_>, _>>()
        .db()?;
    let mut stmt = conn
        .prepare_cached(
            "SELECT uid FROM tombstones WHERE mailbox_id=?1 AND modseq > ?2 ORDER BY uid",
        )
        .db()?;
    let vanished = stmt
        .query_map(params![mailbox.0 as i64, since], |r| {
            Ok(Uid(r.get::<_, i64>(0)? as u32))
        })
        .db()?
        .collect::<Result<Vec<_>, _>>()
        .db()?;
    Ok(Changes {
        status,
        changed,
        vanished,
    })
}
