//! Mailbox-level mutations (run on the writer thread, inside a savepoint).

use crate::db::{Db, now_unix};
use crate::messages;
use crate::names::{is_self_or_child, normalise, parents};
use crate::read::{lookup_mailbox, mailbox_exists};
use rusqlite::{Connection, params};
use tidemark_store::{
    ChangeNotice, MailboxId, MailboxInfo, SpecialUse, StoreError, StoreResult, UidValidity,
};

/// Encodes special-use attributes for the `special_use` column.
pub(crate) fn encode_special_use(uses: &[SpecialUse]) -> String {
    let mut v: Vec<SpecialUse> = uses.to_vec();
    v.sort();
    v.dedup();
    v.iter().map(|u| u.as_str()).collect::<Vec<_>>().join(" ")
}

/// Decodes the `special_use` column.
pub(crate) fn decode_special_use(s: &str) -> Vec<SpecialUse> {
    s.split(' ').filter_map(SpecialUse::parse).collect()
}

/// Takes the next UIDVALIDITY of the account: never below the clock, never
/// repeated within the account.
fn next_uidvalidity(conn: &Connection, now: i64) -> StoreResult<u32> {
    let cur: i64 = conn
        .prepare_cached("SELECT value FROM meta WHERE key='next_uidvalidity'")
        .db()?
        .query_row([], |r| r.get(0))
        .db()?;
    let mut v = cur.max(now & 0xffff_ffff);
    if v > u32::MAX as i64 || v < 1 {
        v = 1;
    }
    conn.prepare_cached("UPDATE meta SET value=?1 WHERE key='next_uidvalidity'")
        .db()?
        .execute([v + 1])
        .db()?;
    Ok(v as u32)
}

/// Inserts a mailbox row (the name is already validated and free).
pub(crate) fn insert_mailbox(
    conn: &Connection,
    name: &str,
    uses: &[SpecialUse],
    now: i64,
) -> StoreResult<MailboxInfo> {
    let uidvalidity = next_uidvalidity(conn, now)?;
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO mailboxes(name, uidvalidity, uidnext, highestmodseq, special_use, created)
             VALUES(?1, ?2, 1, 1, ?3, ?4) RETURNING id",
        )
        .db()?
        .query_row(
            params![name, uidvalidity, encode_special_use(uses), now],
            |r| r.get(0),
        )
        .db()?;
    let mut special_use = uses.to_vec();
    special_use.sort();
    special_use.dedup();
    Ok(MailboxInfo {
        id: MailboxId(id as u64),
        name: name.to_string(),
        uid_validity: UidValidity(uidvalidity),
        special_use,
    })
}

/// Creates the missing ancestors of `name`.
fn create_parents(conn: &Connection, name: &str, now: i64) -> StoreResult<()> {
    for p in parents(name) {
        if !mailbox_exists(conn, p)? {
            insert_mailbox(conn, p, &[], now)?;
        }
    }
    Ok(())
}

pub(crate) fn create(
    conn: &Connection,
    name: &str,
    uses: &[SpecialUse],
    notices: &mut Vec<ChangeNotice>,
) -> StoreResult<MailboxInfo> {
    let name = normalise(name)?;
    if mailbox_exists(conn, &name)? {
        return Err(StoreError::MailboxExists);
    }
    let now = now_unix();
    create_parents(conn, &name, now)?;
    let info = insert_mailbox(conn, &name, uses, now)?;
    notices.push(ChangeNotice::MailboxList);
    Ok(info)
}

pub(crate) fn delete(
    conn: &Connection,
    name: &str,
    notices: &mut Vec<ChangeNotice>,
) -> StoreResult<()> {
    let name = normalise(name)?;
    if name == "INBOX" {
        return Err(StoreError::NotAllowed("INBOX cannot be deleted".into()));
    }
    let info = lookup_mailbox(conn, &name)?;
    let id = info.id.0 as i64;
    conn.prepare_cached("DELETE FROM messages WHERE mailbox_id=?1")
        .db()?
        .execute([id])
        .db()?;
    conn.prepare_cached("DELETE FROM tombstones WHERE mailbox_id=?1")
        .db()?
        .execute([id])
        .db()?;
    conn.prepare_cached("DELETE FROM mailbox_uid_sums WHERE mailbox_id=?1")
        .db()?
        .execute([id])
        .db()?;
    conn.prepare_cached("DELETE FROM mailboxes WHERE id=?1")
        .db()?
        .execute([id])
        .db()?;
    notices.push(ChangeNotice::MailboxList);
    Ok(())
}

/// Names in the subtree strictly below `name`, as (id, name).
fn children(conn: &Connection, name: &str) -> StoreResult<Vec<(i64, String)>> {
    // '0' is the byte after '/', so this is the range of names "name/...".
    let lo = format!("{name}/");
    let hi = format!("{name}0");
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, name FROM mailboxes WHERE name > ?1 AND name < ?2 ORDER BY name",
        )
        .db()?;
    let rows = stmt
        .query_map(params![lo, hi], |r| Ok((r.get(0)?, r.get(1)?)))
        .db()?;
    rows.collect::<Result<Vec<_>, _>>().db()
}

pub(crate) fn rename(
    conn: &Connection,
    from: &str,
    to: &str,
    notices: &mut Vec<ChangeNotice>,
) -> StoreResult<()> {
    let from = normalise(from)?;
    let to = normalise(to)?;
    let src = lookup_mailbox(conn, &from)?;
    if mailbox_exists(conn, &to)? {
        return Err(StoreError::MailboxExists);
    }
    let now = now_unix();
    if from == "INBOX" {
        // RFC 9051 6.3.6: move INBOX's messages to a new mailbox; INBOX
        // stays, empty; its children are not affected.
        create_parents(conn, &to, now)?;
        let dest = insert_mailbox(conn, &to, &[], now)?;
        messages::move_all(conn, src.id, dest.id, notices)?;
        notices.push(ChangeNotice::MailboxList);
        return Ok(());
    }
    if is_self_or_child(&to, &from) {
        return Err(StoreError::NotAllowed(
            "cannot rename a mailbox under itself".into(),
        ));
    }
    let mut moves: Vec<(i64, String)> = vec![(src.id.0 as i64, to.clone())];
    for (id, child) in children(conn, &from)? {
        let new = format!("{to}{}", &child[from.len()..]);
        if new.len() > crate::names::MAX_NAME_LEN {
            return Err(StoreError::InvalidName(
                "renamed child name too long".into(),
            ));
        }
        if mailbox_exists(conn, &new)? {
            return Err(StoreError::MailboxExists);
        }
        moves.push((id, new));
    }
    {
        let mut upd = conn
            .prepare_cached("UPDATE mailboxes SET name=?2 WHERE id=?1")
            .db()?;
        for (id, new) in &moves {
            upd.execute(params![id, new]).db()?;
        }
    }
    create_parents(conn, &to, now)?;
    // Subscriptions follow the renamed names.
    let subs: Vec<String> = {
        let mut stmt = conn.prepare_cached("SELECT name FROM subscriptions").db()?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).db()?;
        rows.collect::<Result<Vec<_>, _>>().db()?
    };
    for s in subs.iter().filter(|s| is_self_or_child(s, &from)) {
        let new = format!("{to}{}", &s[from.len()..]);
        conn.prepare_cached("DELETE FROM subscriptions WHERE name=?1")
            .db()?
            .execute([s])
            .db()?;
        conn.prepare_cached("INSERT OR IGNORE INTO subscriptions(name) VALUES(?1)")
            .db()?
            .execute([new])
            .db()?;
    }
    notices.push(ChangeNotice::MailboxList);
    Ok(())
}

pub(crate) fn set_subscribed(
    conn: &Connection,
    name: &str,
    subscribed: bool,
    notices: &mut Vec<ChangeNotice>,
) -> StoreResult<()> {
    let name = normalise(name)?;
    let sql = if subscribed {
        "INSERT OR IGNORE INTO subscriptions(name) VALUES(?1)"
    } else {
        "DELETE FROM subscriptions WHERE name=?1"
    };
    let n = conn.prepare_cached(sql).db()?.execute([name]).db()?;
    if n > 0 {
        notices.push(ChangeNotice::MailboxList);
    }
    Ok(())
}
