//! Message-level mutations (run on the writer thread, inside a savepoint).

use crate::db::{Db, now_unix};
use crate::read::{encode_keywords, metas_in};
use rusqlite::{Connection, OptionalExtension, params};
use tidemark_store::{
    AppendOutcome, ChangeNotice, CopyOutcome, ExpungeOutcome, FlagUpdate, MailboxId, MessageMeta,
    ModSeq, NewMessage, StoreError, StoreOutcome, StoreResult, Uid, UidSet, UidValidity,
};

/// A message ready to append: its bytes' SHA-256 computed off the writer.
pub(crate) struct Prepared {
    pub msg: NewMessage,
    pub sha256: [u8; 32],
    /// What the search index keeps of the message (`None`: no index kept).
    pub doc: Option<crate::index::IndexDoc>,
    /// The Message-IDs that place it in a thread.
    pub thread: crate::threads::ThreadKeys,
}

struct MailboxRow {
    uidvalidity: u32,
    uidnext: i64,
    highestmodseq: i64,
}

fn mailbox_row(conn: &Connection, id: MailboxId) -> StoreResult<MailboxRow> {
    conn.prepare_cached("SELECT uidvalidity, uidnext, highestmodseq FROM mailboxes WHERE id=?1")
        .db()?
        .query_row([id.0 as i64], |r| {
            Ok(MailboxRow {
                uidvalidity: r.get::<_, i64>(0)? as u32,
                uidnext: r.get(1)?,
                highestmodseq: r.get(2)?,
            })
        })
        .optional()
        .db()?
        .ok_or(StoreError::NoSuchMailbox)
}

/// Takes the mailbox's next MODSEQ.
fn bump_modseq(conn: &Connection, id: MailboxId) -> StoreResult<i64> {
    conn.prepare_cached("UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id=?1 RETURNING highestmodseq")
        .db()?
        .query_row([id.0 as i64], |r| r.get(0))
        .db()
}

/// Reserves `n` consecutive UIDs; returns the first.
fn alloc_uids(conn: &Connection, id: MailboxId, row: &MailboxRow, n: usize) -> StoreResult<u32> {
    let last = row.uidnext + n as i64 - 1;
    if last > u32::MAX as i64 - 1 {
        return Err(StoreError::Limit(
            "UID space of the mailbox exhausted".into(),
        ));
    }
    conn.prepare_cached("UPDATE mailboxes SET uidnext = uidnext + ?2 WHERE id=?1")
        .db()?
        .execute(params![id.0 as i64, n as i64])
        .db()?;
    Ok(row.uidnext as u32)
}

/// Finds or stores the blob with these bytes; returns its id. The structure
/// belongs to the bytes: an existing blob keeps its structure unless it has
/// none, in which case it takes this one.
fn put_blob(conn: &Connection, p: &Prepared) -> StoreResult<i64> {
    let (sha256, data, structure) = (&p.sha256, &p.msg.data[..], &p.msg.structure[..]);
    let existing: Option<(i64, i64, bool)> = conn
        .prepare_cached(
            "SELECT id, size, structure IS NULL OR length(structure) = 0 FROM blobs WHERE sha256=?1",
        )
        .db()?
        .query_row([&sha256[..]], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
        .db()?;
    if let Some((id, size, no_structure)) = existing {
        if size != data.len() as i64 {
            return Err(StoreError::Internal(
                "SHA-256 collision between stored messages".into(),
            ));
        }
        if no_structure && !structure.is_empty() {
            conn.prepare_cached("UPDATE blobs SET structure=?2 WHERE id=?1")
                .db()?
                .execute(params![id, structure])
                .db()?;
        }
        if let Some(doc) = &p.doc
            && !crate::index::has_current_doc(conn, id)?
        {
            crate::index::put_doc(conn, id, doc)?;
        }
        return Ok(id);
    }
    // An empty structure is stored as NULL: one spelling of "none".
    let structure = (!structure.is_empty()).then_some(structure);
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO blobs(sha256, size, refcount, structure, data) VALUES(?1, ?2, 0, ?3, ?4) RETURNING id",
        )
        .db()?
        .query_row(
            params![&sha256[..], data.len() as i64, structure, data],
            |r| r.get(0),
        )
        .db()?;
    if let Some(doc) = &p.doc {
        crate::index::put_doc(conn, id, doc)?;
    }
    crate::threads::assign(conn, id, &sha256[..], &p.thread)?;
    Ok(id)
}

const INSERT_MESSAGE: &str = "INSERT INTO messages(mailbox_id, uid, blob_id, flags, keywords, internal_date, tz_offset, size, modseq)
     VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

pub(crate) fn append(
    conn: &Connection,
    mailbox: MailboxId,
    messages: Vec<Prepared>,
    notices: &mut Vec<ChangeNotice>,
) -> StoreResult<AppendOutcome> {
    let row = mailbox_row(conn, mailbox)?;
    if messages.is_empty() {
        return Ok(AppendOutcome {
            uid_validity: UidValidity(row.uidvalidity),
            uids: Vec::new(),
        });
    }
    let first = alloc_uids(conn, mailbox, &row, messages.len())?;
    let numbered = messages
        .into_iter()
        .enumerate()
        .map(|(i, p)| (first + i as u32, p))
        .collect();
    insert_new(conn, mailbox, &row, numbered, notices)
}

/// Inserts messages whose UIDs are already reserved, with one new MODSEQ.
fn insert_new(
    conn: &Connection,
    mailbox: MailboxId,
    row: &MailboxRow,
    messages: Vec<(u32, Prepared)>,
    notices: &mut Vec<ChangeNotice>,
) -> StoreResult<AppendOutcome> {
    let modseq = bump_modseq(conn, mailbox)?;
    let now = now_unix();
    let mut insert = conn.prepare_cached(INSERT_MESSAGE).db()?;
    let mut uids = Vec::with_capacity(messages.len());
    for (uid, p) in messages {
        let blob = put_blob(conn, &p)?;
        let (date, tz) = match p.msg.internal_date {
            Some(d) => (d.unix, d.offset_minutes as i64),
            None => (now, 0),
        };
        insert
            .execute(params![
                mailbox.0 as i64,
                uid,
                blob,
                p.msg.flags.system_bits() as i64,
                encode_keywords(&p.msg.flags),
                date,
                tz,
                p.msg.data.len() as i64,
                modseq
            ])
            .db()?;
        uids.push(Uid(uid));
    }
    notices.push(ChangeNotice::Mailbox {
        mailbox,
        modseq: ModSeq(modseq as u64),
    });
    Ok(AppendOutcome {
        uid_validity: UidValidity(row.uidvalidity),
        uids,
    })
}

/// `Account::import_messages`: `messages` carry the UIDs they had
/// elsewhere (or `None`), see the trait's rules.
pub(crate) fn import(
    conn: &Connection,
    mailbox: MailboxId,
    uid_validity: Option<UidValidity>,
    uid_next: Option<Uid>,
    messages: Vec<(Option<Uid>, Prepared)>,
    notices: &mut Vec<ChangeNotice>,
) -> StoreResult<AppendOutcome> {
    let mut row = mailbox_row(conn, mailbox)?;
    if let Some(v) = uid_validity
        && v.0 != row.uidvalidity
    {
        set_uidvalidity(conn, mailbox, &row, v.0)?;
        row.uidvalidity = v.0;
        notices.push(ChangeNotice::MailboxList);
    }
    // Number everything first: a refusal changes nothing.
    let raise = uid_next.map_or(0, |u| u.0 as i64);
    let mut next = row.uidnext;
    let mut raised = raise == 0;
    let mut numbered = Vec::with_capacity(messages.len());
    for (uid, p) in messages {
        let uid = match uid {
            Some(u) => {
                if (u.0 as i64) < next {
                    return Err(StoreError::NotAllowed(format!(
                        "UID {} is below UIDNEXT {next} (UIDs are never reused)",
                        u.0
                    )));
                }
                u.0 as i64
            }
            None => {
                if !raised {
                    next = next.max(raise);
                    raised = true;
                }
                next
            }
        };
        if uid > u32::MAX as i64 - 1 {
            return Err(StoreError::Limit(
                "UID space of the mailbox exhausted".into(),
            ));
        }
        next = uid + 1;
        numbered.push((uid as u32, p));
    }
    if !raised {
        next = next.max(raise);
    }
    if next > u32::MAX as i64 {
        return Err(StoreError::Limit(
            "UID space of the mailbox exhausted".into(),
        ));
    }
    if next != row.uidnext {
        conn.prepare_cached("UPDATE mailboxes SET uidnext = ?2 WHERE id=?1")
            .db()?
            .execute(params![mailbox.0 as i64, next])
            .db()?;
    }
    if numbered.is_empty() {
        return Ok(AppendOutcome {
            uid_validity: UidValidity(row.uidvalidity),
            uids: Vec::new(),
        });
    }
    insert_new(conn, mailbox, &row, numbered, notices)
}

/// Gives a mailbox that never held a message the UIDVALIDITY `v` it had in
/// another store, unless this account may have given `v` out before: the
/// account's own values come from a counter (`mailbox::next_uidvalidity`)
/// that starts at the lowest UIDVALIDITY of the account's first import (the
/// seed of INBOX) and only grows, so a value in `[floor, next)` may have
/// been used; imported values are recorded in `meta` and never taken twice.
fn set_uidvalidity(
    conn: &Connection,
    mailbox: MailboxId,
    row: &MailboxRow,
    v: u32,
) -> StoreResult<()> {
    if row.uidnext != 1 {
        return Err(StoreError::NotAllowed(
            "UIDVALIDITY can only be kept for a mailbox that never held a message".into(),
        ));
    }
    let refuse = |why: &str| {
        Err(StoreError::NotAllowed(format!(
            "UIDVALIDITY {v} {why} (UIDs are never reused within a UIDVALIDITY)"
        )))
    };
    if v == 0 {
        return refuse("is not valid");
    }
    let meta = |key: &str| -> StoreResult<Option<i64>> {
        conn.prepare_cached("SELECT value FROM meta WHERE key=?1")
            .db()?
            .query_row([key], |r| r.get(0))
            .optional()
            .db()
    };
    let set_meta = |key: &str, value: i64| -> StoreResult<()> {
        conn.prepare_cached("INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)")
            .db()?
            .execute(params![key, value])
            .db()
            .map(|_| ())
    };
    let in_use: Option<i64> = conn
        .prepare_cached("SELECT id FROM mailboxes WHERE uidvalidity=?1 LIMIT 1")
        .db()?
        .query_row([v as i64], |r| r.get(0))
        .optional()
        .db()?;
    if in_use.is_some() {
        return refuse("belongs to another mailbox of this account");
    }
    let imported_key = format!("imported_uidvalidity:{v}");
    if meta(&imported_key)?.is_some() {
        return refuse("was imported into this account before");
    }
    let floor = match meta("uidvalidity_floor")? {
        Some(f) => f,
        None => {
            let f: i64 = conn
                .prepare_cached("SELECT coalesce(min(uidvalidity), 1) FROM mailboxes")
                .db()?
                .query_row([], |r| r.get(0))
                .db()?;
            set_meta("uidvalidity_floor", f)?;
            f
        }
    };
    let next = meta("next_uidvalidity")?.unwrap_or(1);
    if (floor..next).contains(&(v as i64)) {
        return refuse("may have been given out by this account");
    }
    set_meta(&imported_key, mailbox.0 as i64)?;
    if v as i64 >= next {
        set_meta("next_uidvalidity", v as i64 + 1)?;
    }
    conn.prepare_cached("UPDATE mailboxes SET uidvalidity=?2 WHERE id=?1")
        .db()?
        .execute(params![mailbox.0 as i64, v as i64])
        .db()?;
    Ok(())
}

pub(crate) fn store_flags(
    conn: &Connection,
    mailbox: MailboxId,
    uids: &UidSet,
    update: &FlagUpdate,
    notices: &mut Vec<ChangeNotice>,
) -> StoreResult<StoreOutcome> {
    mailbox_row(conn, mailbox)?;
    let mut out = StoreOutcome::default();
    let mut changes: Vec<MessageMeta> = Vec::new();
    for mut m in metas_in(conn, mailbox, uids)? {
        if update.unchanged_since.is_some_and(|u| m.modseq > u) {
            out.modified.push(m.uid);
            continue;
        }
        let new = m.flags.apply(update.op, &update.flags);
        if new != m.flags {
            m.flags = new;
            changes.push(m);
        }
    }
    if changes.is_empty() {
        return Ok(out);
    }
    let modseq = bump_modseq(conn, mailbox)?;
    let mut upd = conn
        .prepare_cached(
            "UPDATE messages SET flags=?3, keywords=?4, modseq=?5 WHERE mailbox_id=?1 AND uid=?2",
        )
        .db()?;
    for m in &mut changes {
        m.modseq = ModSeq(modseq as u64);
        upd.execute(params![
            mailbox.0 as i64,
            m.uid.0,
            m.flags.system_bits() as i64,
            encode_keywords(&m.flags),
            modseq
        ])
        .db()?;
    }
    out.changed = changes;
    notices.push(ChangeNotice::Mailbox {
        mailbox,
        modseq: ModSeq(modseq as u64),
    });
    Ok(out)
}

/// Removes the given (existing) messages and records tombstones.
fn remove(
    conn: &Connection,
    mailbox: MailboxId,
    uids: &[Uid],
    notices: &mut Vec<ChangeNotice>,
) -> StoreResult<i64> {
    let modseq = bump_modseq(conn, mailbox)?;
    let mut del = conn
        .prepare_cached("DELETE FROM messages WHERE mailbox_id=?1 AND uid=?2")
        .db()?;
    let mut tomb = conn
        .prepare_cached(
            "INSERT OR REPLACE INTO tombstones(mailbox_id, uid, modseq) VALUES(?1, ?2, ?3)",
        )
        .db()?;
    for uid in uids {
        del.execute(params![mailbox.0 as i64, uid.0]).db()?;
        tomb.execute(params![mailbox.0 as i64, uid.0, modseq])
            .db()?;
    }
    notices.push(ChangeNotice::Mailbox {
        mailbox,
        modseq: ModSeq(modseq as u64),
    });
    Ok(modseq)
}

pub(crate) fn expunge(
    conn: &Connection,
    mailbox: MailboxId,
    uids: Option<&UidSet>,
    notices: &mut Vec<ChangeNotice>,
) -> StoreResult<ExpungeOutcome> {
    let row = mailbox_row(conn, mailbox)?;
    let all = UidSet::range(1, u32::MAX);
    let mut stmt = conn
        .prepare_cached(
            "SELECT uid FROM messages WHERE mailbox_id=?1 AND uid BETWEEN ?2 AND ?3 AND (flags & 8) != 0 ORDER BY uid",
        )
        .db()?;
    let mut victims = Vec::new();
    for &(lo, hi) in uids.unwrap_or(&all).ranges() {
        let rows = stmt
            .query_map(params![mailbox.0 as i64, lo, hi], |r| {
                Ok(Uid(r.get::<_, i64>(0)? as u32))
            })
            .db()?;
        for u in rows {
            victims.push(u.db()?);
        }
    }
    if victims.is_empty() {
        return Ok(ExpungeOutcome {
            uids: victims,
            modseq: ModSeq(row.highestmodseq as u64),
        });
    }
    let modseq = remove(conn, mailbox, &victims, notices)?;
    Ok(ExpungeOutcome {
        uids: victims,
        modseq: ModSeq(modseq as u64),
    })
}

pub(crate) fn copy(
    conn: &Connection,
    from: MailboxId,
    uids: &UidSet,
    to: MailboxId,
    expunge_source: bool,
    notices: &mut Vec<ChangeNotice>,
) -> StoreResult<CopyOutcome> {
    mailbox_row(conn, from)?;
    let dest = mailbox_row(conn, to)?;
    // (uid, blob, flags, keywords, date, tz, size), ascending UID.
    let mut src: Vec<(u32, i64, i64, String, i64, i64, i64)> = Vec::new();
    {
        let mut stmt = conn
            .prepare_cached(
                "SELECT uid, blob_id, flags, keywords, internal_date, tz_offset, size FROM messages
                 WHERE mailbox_id=?1 AND uid BETWEEN ?2 AND ?3 ORDER BY uid",
            )
            .db()?;
        for &(lo, hi) in uids.ranges() {
            let rows = stmt
                .query_map(params![from.0 as i64, lo, hi], |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u32,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                })
                .db()?;
            for m in rows {
                src.push(m.db()?);
            }
        }
    }
    let mut out = CopyOutcome {
        uid_validity: UidValidity(dest.uidvalidity),
        source_uids: Vec::with_capacity(src.len()),
        dest_uids: Vec::with_capacity(src.len()),
    };
    if src.is_empty() {
        return Ok(out);
    }
    let first = alloc_uids(conn, to, &dest, src.len())?;
    let modseq = bump_modseq(conn, to)?;
    {
        let mut insert = conn.prepare_cached(INSERT_MESSAGE).db()?;
        for (i, (uid, blob, flags, keywords, date, tz, size)) in src.iter().enumerate() {
            let new = first + i as u32;
            insert
                .execute(params![
                    to.0 as i64,
                    new,
                    blob,
                    flags,
                    keywords,
                    date,
                    tz,
                    size,
                    modseq
                ])
                .db()?;
            out.source_uids.push(Uid(*uid));
            out.dest_uids.push(Uid(new));
        }
    }
    notices.push(ChangeNotice::Mailbox {
        mailbox: to,
        modseq: ModSeq(modseq as u64),
    });
    if expunge_source {
        // Insert first, delete second: a shared blob never loses its last reference.
        remove(conn, from, &out.source_uids, notices)?;
    }
    Ok(out)
}

/// Moves every message of `from` to `to` (RENAME INBOX).
pub(crate) fn move_all(
    conn: &Connection,
    from: MailboxId,
    to: MailboxId,
    notices: &mut Vec<ChangeNotice>,
) -> StoreResult<()> {
    copy(conn, from, &UidSet::range(1, u32::MAX), to, true, notices).map(|_| ())
}
