//! The sequence-map cache: SELECT in time that grows with the changes since
//! the mailbox was last selected, not with the mailbox.
//!
//! SELECT needs every message's UID and MODSEQ (the session's sequence map),
//! the keywords in use and the first unseen message. Reading them from the
//! `messages` table is O(mailbox) (≈ 55 ms for 100,000 messages). Instead,
//! each account keeps the last view it built per mailbox, in memory while the
//! account is open and in a file (`<account>.views/<mailbox id>`) for the
//! next time it is opened. A SELECT takes the cached view, applies
//! [`read::changes_since`] its MODSEQ (the same indexed query QRESYNC uses)
//! and checks the result against the mailbox row before trusting it.
//!
//! The cache is never the source of truth, so it is written without fsync:
//! - a file that is missing, torn, from another UIDVALIDITY or from a later
//!   MODSEQ than the database (a restored backup) is ignored;
//! - after the changes are applied, the message count and the sum of the
//!   UIDs (kept by triggers in `mailbox_uid_sums`) must equal the
//!   database's, else the view is read again in full (this catches anything
//!   a cache could miss, e.g. tombstones that were removed);
//! - the file carries a checksum over its contents.
//!
//! The first unseen message comes from a partial index
//! (`messages_unseen`), the keywords from the cache: the FLAGS response may
//! list a keyword no message has any more until the view is rebuilt, as
//! Dovecot's does (RFC 9051 7.3.5 lists the flags "defined" in the mailbox).

use crate::db::Db;
use crate::read;
use rusqlite::{Connection, OptionalExtension};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tidemark_store::{MailboxId, MailboxStatus, MailboxView, ModSeq, StoreResult, Uid};
use zerocopy::IntoBytes;

/// Mailboxes smaller than this are not written to a file (reading them is
/// as fast as reading the file).
const FILE_MIN_MESSAGES: u32 = 1_000;
/// A view is written to its file again once this many changes were applied
/// to it since the file was written: a SELECT after the account was closed
/// applies at most this many changes to the file's view.
const REWRITE_AFTER_CHANGES: usize = 256;
/// Views kept in memory per open account.
const MEMORY_VIEWS: usize = 16;
/// The sum of each mailbox's UIDs, kept by triggers: with the message
/// count it checks a cached view (a view that lacks one message and has
/// another that is gone fails it). Idempotent: run at creation and by the
/// 5 -> 6 migration, which also fills it.
pub(crate) const UID_SUMS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS mailbox_uid_sums(
    mailbox_id INTEGER PRIMARY KEY,
    uid_sum INTEGER NOT NULL
);
INSERT OR REPLACE INTO mailbox_uid_sums(mailbox_id, uid_sum)
    SELECT id, (SELECT coalesce(sum(uid), 0) FROM messages WHERE mailbox_id = mailboxes.id)
    FROM mailboxes;
CREATE TRIGGER IF NOT EXISTS messages_ins_uid_sum AFTER INSERT ON messages BEGIN
    INSERT INTO mailbox_uid_sums(mailbox_id, uid_sum) VALUES(NEW.mailbox_id, NEW.uid)
        ON CONFLICT(mailbox_id) DO UPDATE SET uid_sum = uid_sum + NEW.uid;
END;
CREATE TRIGGER IF NOT EXISTS messages_del_uid_sum AFTER DELETE ON messages BEGIN
    UPDATE mailbox_uid_sums SET uid_sum = uid_sum - OLD.uid WHERE mailbox_id = OLD.mailbox_id;
END;
CREATE INDEX IF NOT EXISTS messages_unseen ON messages(mailbox_id, uid) WHERE (flags & 1) = 0;
";

/// Answered from the partial index `messages_unseen` (a test checks).
const FIRST_UNSEEN: &str = "SELECT uid FROM messages INDEXED BY messages_unseen WHERE mailbox_id=?1 AND (flags & 1) = 0 ORDER BY uid LIMIT 1";
const MAGIC: &[u8; 8] = b"TMVIEW2\n";
const HEADER_LEN: usize = 8 + 8 + 4 + 4 + 8 + 4;

/// One mailbox's cached view.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cached {
    uid_validity: u32,
    /// Everything up to this MODSEQ is in the view.
    modseq: u64,
    /// Shared with the views handed out (copy on write).
    uids: Arc<Vec<Uid>>,
    modseqs: Arc<Vec<ModSeq>>,
    keywords: BTreeSet<String>,
    /// Changes applied since the file was written (or since it was read).
    unsaved_changes: usize,
    /// Last use, for eviction.
    used: u64,
}

/// The per-account cache.
pub(crate) struct ViewCache {
    /// Where the files go; `None`: memory only.
    dir: Option<PathBuf>,
    memory: Mutex<HashMap<MailboxId, Arc<Cached>>>,
    clock: AtomicU64,
}

/// How a view was obtained (for tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Memory,
    File,
    Full,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The views directory of an account database.
pub(crate) fn views_dir(db_path: &Path) -> PathBuf {
    let mut name = db_path
        .file_stem()
        .map(|s| s.to_os_string())
        .unwrap_or_default();
    name.push(".views");
    db_path.with_file_name(name)
}

impl ViewCache {
    pub(crate) fn new(dir: Option<PathBuf>) -> ViewCache {
        ViewCache {
            dir,
            memory: Mutex::new(HashMap::new()),
            clock: AtomicU64::new(0),
        }
    }

    fn file(&self, mailbox: MailboxId) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(mailbox.0.to_string()))
    }

    /// Forgets a mailbox (deleted).
    pub(crate) fn forget(&self, mailbox: MailboxId) {
        lock(&self.memory).remove(&mailbox);
        if let Some(f) = self.file(mailbox) {
            let _ = std::fs::remove_file(f);
        }
    }

    /// The view of `mailbox` in the read transaction `conn`, with the
    /// changes after `since` when given.
    pub(crate) fn view(
        &self,
        conn: &Connection,
        mailbox: MailboxId,
        since: Option<ModSeq>,
    ) -> StoreResult<(MailboxView, Source)> {
        let status = read::status(conn, mailbox)?;
        let hms = status.highest_modseq.0;
        let usable = |c: &Cached| c.uid_validity == status.uid_validity.0 && c.modseq <= hms;
        let mut source = Source::Memory;
        let mut base = lock(&self.memory)
            .get(&mailbox)
            .cloned()
            .filter(|c| usable(c));
        if base.is_none() {
            source = Source::File;
            base = self
                .file(mailbox)
                .and_then(|f| load(&f, mailbox))
                .filter(usable)
                .map(Arc::new);
        }
        let mut view = None;
        if let Some(mut cached) = base {
            let c = Arc::make_mut(&mut cached);
            let fits = c.modseq == hms || apply_changes(conn, mailbox, c)?;
            c.modseq = hms;
            if fits && consistent(conn, &status, c)? {
                view = Some(cached);
            } else {
                tracing::warn!("sequence-map cache of mailbox {mailbox} disagreed; rebuilt");
            }
        }
        let cached = match view {
            Some(v) => v,
            None => {
                source = Source::Full;
                Arc::new(full(conn, &status)?)
            }
        };
        let mut cached = cached;
        {
            let c = Arc::make_mut(&mut cached);
            c.used = self.clock.fetch_add(1, Ordering::Relaxed);
        }
        if status.messages >= FILE_MIN_MESSAGES
            && (source == Source::Full || cached.unsaved_changes >= REWRITE_AFTER_CHANGES)
            && let Some(f) = self.file(mailbox)
        {
            // A rewrite (the view is current, the file lags) is written off
            // the SELECT's path when there is a runtime to do it; the view
            // is shared, so handing it over copies nothing. Two writes of
            // one mailbox may race: whichever lands is a valid view, at
            // worst an older one with more changes to apply; a file that
            // lands after its mailbox was deleted is never read (another
            // mailbox with the id would have another UIDVALIDITY).
            Arc::make_mut(&mut cached).unsaved_changes = 0;
            let view = cached.clone();
            let write = move || {
                if let Err(e) = save(&f, mailbox, &view) {
                    tracing::debug!("sequence-map cache {}: {e}", f.display());
                }
            };
            match tokio::runtime::Handle::try_current() {
                Ok(rt) if source != Source::Full => drop(rt.spawn_blocking(write)),
                _ => write(),
            }
        }
        self.remember(mailbox, cached.clone());

        let first_unseen = conn
            .prepare_cached(FIRST_UNSEEN)
            .db()?
            .query_row([mailbox.0 as i64], |r| Ok(Uid(r.get::<_, i64>(0)? as u32)))
            .optional()
            .db()?;
        let changes = match since {
            Some(s) => Some(read::changes_since(conn, mailbox, s)?),
            None => None,
        };
        Ok((
            MailboxView {
                status,
                // Shared, not copied: whoever changes it copies it.
                uids: cached.uids.clone(),
                modseqs: cached.modseqs.clone(),
                keywords: cached.keywords.iter().cloned().collect(),
                first_unseen,
                changes,
            },
            source,
        ))
    }

    fn remember(&self, mailbox: MailboxId, cached: Arc<Cached>) {
        let mut mem = lock(&self.memory);
        if mem.get(&mailbox).is_some_and(|old| {
            old.uid_validity == cached.uid_validity && old.modseq > cached.modseq
        }) {
            return;
        }
        mem.insert(mailbox, cached);
        while mem.len() > MEMORY_VIEWS {
            let oldest = mem.iter().min_by_key(|(_, c)| c.used).map(|(id, _)| *id);
            match oldest {
                Some(id) => mem.remove(&id),
                None => break,
            };
        }
    }
}

impl Cached {
    fn default_for(status: &MailboxStatus) -> Cached {
        Cached {
            uid_validity: status.uid_validity.0,
            modseq: 0,
            uids: Arc::new(Vec::new()),
            modseqs: Arc::new(Vec::new()),
            keywords: BTreeSet::new(),
            unsaved_changes: 0,
            used: 0,
        }
    }
}

/// Reads the view from the messages table.
fn full(conn: &Connection, status: &MailboxStatus) -> StoreResult<Cached> {
    let mut c = Cached::default_for(status);
    c.modseq = status.highest_modseq.0;
    let (mut uids, mut modseqs) = (
        Vec::with_capacity(status.messages as usize),
        Vec::with_capacity(status.messages as usize),
    );
    let mut stmt = conn
        .prepare_cached(
            "SELECT uid, modseq, keywords FROM messages WHERE mailbox_id=?1 ORDER BY uid",
        )
        .db()?;
    let mut rows = stmt.query([status.id.0 as i64]).db()?;
    while let Some(r) = rows.next().db()? {
        uids.push(Uid(r.get::<_, i64>(0).db()? as u32));
        modseqs.push(ModSeq(r.get::<_, i64>(1).db()? as u64));
        let kw: String = r.get(2).db()?;
        if !kw.is_empty() {
            for k in kw.split('\n') {
                if !c.keywords.contains(k) {
                    c.keywords.insert(k.to_string());
                }
            }
        }
    }
    c.uids = Arc::new(uids);
    c.modseqs = Arc::new(modseqs);
    Ok(c)
}

/// Brings `c` up to date with the changes after `c.modseq`. `false`: the
/// changes do not fit the view (rebuild).
fn apply_changes(conn: &Connection, mailbox: MailboxId, c: &mut Cached) -> StoreResult<bool> {
    let changes = read::changes_since(conn, mailbox, ModSeq(c.modseq))?;
    c.unsaved_changes += changes.changed.len() + changes.vanished.len();
    if !changes.vanished.is_empty() {
        // Both ascending: one merge pass, compacting in place.
        let gone = &changes.vanished;
        let (uids, modseqs) = (Arc::make_mut(&mut c.uids), Arc::make_mut(&mut c.modseqs));
        let (mut w, mut g) = (0, 0);
        for r in 0..uids.len() {
            let u = uids[r];
            while g < gone.len() && gone[g] < u {
                g += 1;
            }
            if g < gone.len() && gone[g] == u {
                continue;
            }
            uids[w] = u;
            modseqs[w] = modseqs[r];
            w += 1;
        }
        uids.truncate(w);
        modseqs.truncate(w);
    }
    for m in &changes.changed {
        for k in m.flags.keywords() {
            if !c.keywords.contains(k) {
                c.keywords.insert(k.clone());
            }
        }
        if c.uids.last().is_none_or(|last| *last < m.uid) {
            Arc::make_mut(&mut c.uids).push(m.uid);
            Arc::make_mut(&mut c.modseqs).push(m.modseq);
        } else {
            match c.uids.binary_search(&m.uid) {
                Ok(i) => Arc::make_mut(&mut c.modseqs)[i] = m.modseq,
                Err(_) => return Ok(false),
            }
        }
    }
    Ok(true)
}

/// Whether a view agrees with the database on the message count and the
/// sum of the UIDs.
fn consistent(conn: &Connection, status: &MailboxStatus, c: &Cached) -> StoreResult<bool> {
    if c.uids.len() != status.messages as usize {
        return Ok(false);
    }
    let sum: i64 = conn
        .prepare_cached(
            "SELECT coalesce((SELECT uid_sum FROM mailbox_uid_sums WHERE mailbox_id=?1), 0)",
        )
        .db()?
        .query_row([status.id.0 as i64], |r| r.get(0))
        .db()?;
    let ours: i64 = c.uids.iter().map(|u| u.0 as i64).sum();
    Ok(ours == sum)
}

const MIX: u64 = 0x0000_0100_0000_01b3;

/// A 64-bit checksum (not cryptographic: it detects torn and damaged
/// files). Four independent lanes over 8-byte words, so it keeps up with
/// reading the file.
fn checksum(data: &[u8]) -> u64 {
    let mut lanes: [u64; 4] = [
        0xcbf2_9ce4_8422_2325,
        0x9e37_79b9_7f4a_7c15,
        0xc2b2_ae3d_27d4_eb4f,
        0x1656_67b1_9e37_79f9,
    ];
    let mut blocks = data.chunks_exact(32);
    for b in &mut blocks {
        for (lane, w) in lanes.iter_mut().zip(b.chunks_exact(8)) {
            let w = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
            *lane = (*lane ^ w).wrapping_mul(MIX).rotate_left(29);
        }
    }
    let mut h = lanes
        .iter()
        .fold(0, |h, l| (h ^ l).wrapping_mul(MIX).rotate_left(31));
    for &b in blocks.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(MIX);
    }
    h ^ (data.len() as u64)
}

/// The file's checksum: over its sections, which are read separately.
fn file_checksum(sections: &[&[u8]]) -> u64 {
    sections.iter().fold(0x2545_f491_4f6c_dd1d, |h, s| {
        (h ^ checksum(s)).wrapping_mul(MIX).rotate_left(17)
    })
}

/// The file: header (magic, mailbox id, UIDVALIDITY, count, MODSEQ,
/// keyword bytes), the UIDs (u32 LE), the MODSEQs (u64 LE), the keywords
/// (newline-separated), and the checksum of those four sections.
fn encode(mailbox: MailboxId, c: &Cached) -> Vec<u8> {
    let keywords: Vec<&str> = c.keywords.iter().map(String::as_str).collect();
    let keywords = keywords.join("\n");
    let mut out = Vec::with_capacity(HEADER_LEN + c.uids.len() * 12 + keywords.len() + 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&mailbox.0.to_le_bytes());
    out.extend_from_slice(&c.uid_validity.to_le_bytes());
    out.extend_from_slice(&(c.uids.len() as u32).to_le_bytes());
    out.extend_from_slice(&c.modseq.to_le_bytes());
    out.extend_from_slice(&(keywords.len() as u32).to_le_bytes());
    for u in c.uids.iter() {
        out.extend_from_slice(&u.0.to_le_bytes());
    }
    for m in c.modseqs.iter() {
        out.extend_from_slice(&m.0.to_le_bytes());
    }
    out.extend_from_slice(keywords.as_bytes());
    let (uids_end, modseqs_end) = (
        HEADER_LEN + c.uids.len() * 4,
        HEADER_LEN + c.uids.len() * 12,
    );
    let sum = file_checksum(&[
        &out[..HEADER_LEN],
        &out[HEADER_LEN..uids_end],
        &out[uids_end..modseqs_end],
        &out[modseqs_end..],
    ]);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

#[cfg(test)]
fn decode(data: &[u8], mailbox: MailboxId) -> Option<Cached> {
    decode_from(&mut &data[..], data.len() as u64, mailbox)
}

/// Reads a file of `len` bytes. The UIDs and MODSEQs are read straight into
/// the vectors the view keeps (no intermediate buffer: at 100,000 messages
/// the copy and its page faults were most of a cold SELECT). Nothing is
/// allocated before the header's sizes are checked against `len`.
fn decode_from(r: &mut impl std::io::Read, len: u64, mailbox: MailboxId) -> Option<Cached> {
    let mut header = [0u8; HEADER_LEN];
    r.read_exact(&mut header).ok()?;
    if &header[..8] != MAGIC {
        return None;
    }
    let u64_at = |i: usize| Some(u64::from_le_bytes(header.get(i..i + 8)?.try_into().ok()?));
    let u32_at = |i: usize| Some(u32::from_le_bytes(header.get(i..i + 4)?.try_into().ok()?));
    if u64_at(8)? != mailbox.0 {
        return None;
    }
    let uid_validity = u32_at(16)?;
    let count = u32_at(20)?;
    let modseq = u64_at(24)?;
    let kw_len = u32_at(32)?;
    let expected = HEADER_LEN as u64 + u64::from(count) * 12 + u64::from(kw_len) + 8;
    if len != expected {
        return None;
    }
    let mut uids = vec![0u32; count as usize];
    r.read_exact(uids.as_mut_bytes()).ok()?;
    let mut modseqs = vec![0u64; count as usize];
    r.read_exact(modseqs.as_mut_bytes()).ok()?;
    let mut kw = vec![0u8; kw_len as usize];
    r.read_exact(&mut kw).ok()?;
    let mut sum = [0u8; 8];
    r.read_exact(&mut sum).ok()?;
    let sections: [&[u8]; 4] = [&header, uids.as_bytes(), modseqs.as_bytes(), &kw];
    if file_checksum(&sections) != u64::from_le_bytes(sum) {
        return None;
    }
    // Little-endian on disk (no-ops on little-endian machines).
    for u in &mut uids {
        *u = u32::from_le(*u);
    }
    for m in &mut modseqs {
        *m = u64::from_le(*m);
    }
    if modseqs.iter().any(|&m| m > modseq) || uids.windows(2).any(|w| w[0] >= w[1]) {
        return None;
    }
    let kw = String::from_utf8(kw).ok()?;
    let keywords = if kw.is_empty() {
        BTreeSet::new()
    } else {
        kw.split('\n').map(str::to_string).collect()
    };
    Some(Cached {
        uid_validity,
        modseq,
        // Same layout: collected in place, no copy.
        uids: Arc::new(uids.into_iter().map(Uid).collect()),
        modseqs: Arc::new(modseqs.into_iter().map(ModSeq).collect()),
        keywords,
        unsaved_changes: 0,
        used: 0,
    })
}

fn load(path: &Path, mailbox: MailboxId) -> Option<Cached> {
    let file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let c = decode_from(&mut &file, len, mailbox);
    if c.is_none() {
        tracing::warn!(
            "ignoring an unusable sequence-map cache {} (damaged, or from another version)",
            path.display()
        );
    }
    c
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes the file atomically (temporary file, then rename); no fsync: a
/// lost or torn file is only a slower SELECT.
fn save(path: &Path, mailbox: MailboxId, c: &Cached) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    std::fs::write(&tmp, encode(mailbox, c))?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Cached {
        Cached {
            uid_validity: 7,
            modseq: 40,
            uids: Arc::new(vec![Uid(1), Uid(5), Uid(9)]),
            modseqs: Arc::new(vec![ModSeq(3), ModSeq(40), ModSeq(12)]),
            keywords: ["$Junk".to_string(), "work".to_string()].into(),
            unsaved_changes: 0,
            used: 0,
        }
    }

    use crate::SqliteStore;
    use crate::db::{Durability, open_conn};
    use bytes::Bytes;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use tidemark_store::{
        Account, FlagOp, FlagUpdate, Flags, MailboxSnapshot, NewMessage, SystemFlag, UidSet,
    };

    fn new_message(rng: &mut StdRng, n: usize) -> NewMessage {
        let mut flags = Flags::new();
        if rng.random_bool(0.6) {
            flags.insert(SystemFlag::Seen);
        }
        if rng.random_bool(0.1) {
            flags.insert_keyword(format!("kw{}", rng.random_range(0..4)));
        }
        NewMessage {
            data: Bytes::from(format!("Subject: m{n}\r\n\r\nbody {n}\r\n")),
            flags,
            internal_date: None,
            structure: Bytes::new(),
        }
    }

    /// What the view must be: the snapshot's, with keywords a superset.
    fn check(got: &MailboxView, snap: MailboxSnapshot, what: &str) {
        let want = MailboxView::from_snapshot(snap, None);
        assert_eq!(got.status, want.status, "{what}: status");
        let first_diff = |a: &[u64], b: &[u64]| a.iter().zip(b).position(|(x, y)| x != y);
        let (gu, wu): (Vec<u64>, Vec<u64>) = (
            got.uids.iter().map(|u| u.0 as u64).collect(),
            want.uids.iter().map(|u| u.0 as u64).collect(),
        );
        assert!(
            gu == wu,
            "{what}: uids differ ({} vs {}, first at {:?})",
            gu.len(),
            wu.len(),
            first_diff(&gu, &wu)
        );
        let (gm, wm): (Vec<u64>, Vec<u64>) = (
            got.modseqs.iter().map(|m| m.0).collect(),
            want.modseqs.iter().map(|m| m.0).collect(),
        );
        assert!(
            gm == wm,
            "{what}: modseqs differ at {:?}",
            first_diff(&gm, &wm)
        );
        assert_eq!(got.first_unseen, want.first_unseen, "{what}: first unseen");
        for k in &want.keywords {
            assert!(got.keywords.contains(k), "{what}: keyword {k} missing");
        }
    }

    async fn view_of(
        acc: &crate::account::SqliteAccount,
        db: &Path,
        mailbox: MailboxId,
    ) -> (MailboxView, Source) {
        let conn = open_conn(db, Durability::Full, false).expect("conn");
        let tx = conn.unchecked_transaction().expect("tx");
        acc.views.view(&tx, mailbox, None).expect("view")
    }

    /// Random changes between SELECTs, a reopen (the file), and damaged,
    /// future and inconsistent files: the view always equals the snapshot.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cache_follows_changes_and_refuses_bad_files() {
        let seed: u64 = rand::random();
        eprintln!("seed {seed}");
        let mut rng = StdRng::seed_from_u64(seed);
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("accounts").join("1.db");
        // Accounts close with their last handle, so a reopen reads the file.
        let config = crate::SqliteConfig {
            linger: std::time::Duration::ZERO,
            ..Default::default()
        };
        let store = SqliteStore::open_with(dir.path(), config).expect("open");
        tidemark_store::Store::create_account(&store, "a", "x")
            .await
            .expect("create");
        let acc = store.inner.open_account("a").expect("open account");
        let inbox = acc.mailbox("INBOX").await.expect("inbox").id;
        let trash = acc.mailbox("Trash").await.expect("trash").id;
        let mut n = 0;
        for _ in 0..12 {
            let batch = (0..100)
                .map(|_| {
                    n += 1;
                    new_message(&mut rng, n)
                })
                .collect();
            acc.append(inbox, batch).await.expect("append");
        }
        let (v, src) = view_of(&acc, &db, inbox).await;
        assert_eq!(src, Source::Full, "first view is read in full");
        check(&v, acc.snapshot(inbox).await.expect("snap"), "first");
        let plan: String = open_conn(&db, Durability::Full, false)
            .expect("conn")
            .query_row(&format!("EXPLAIN QUERY PLAN {FIRST_UNSEEN}"), [1], |r| {
                r.get(3)
            })
            .expect("plan");
        assert!(
            plan.contains("messages_unseen"),
            "first unseen by index: {plan}"
        );
        let file = views_dir(&db).join(inbox.0.to_string());
        assert!(file.exists(), "a view of 1,200 messages is saved");

        for round in 0..40 {
            let snap = acc.snapshot(inbox).await.expect("snap");
            let uids: Vec<Uid> = snap.messages.iter().map(|m| m.uid).collect();
            let pick = |rng: &mut StdRng| {
                UidSet::from_uids(
                    (0..rng.random_range(1..20)).map(|_| uids[rng.random_range(0..uids.len())]),
                )
            };
            match rng.random_range(0..5) {
                0 => {
                    let batch = (0..rng.random_range(1..30))
                        .map(|_| {
                            n += 1;
                            new_message(&mut rng, n)
                        })
                        .collect();
                    acc.append(inbox, batch).await.expect("append");
                }
                1 | 2 => {
                    let mut flags = Flags::new();
                    match rng.random_range(0..3) {
                        0 => flags.insert(SystemFlag::Seen),
                        1 => flags.insert(SystemFlag::Deleted),
                        _ => flags.insert_keyword(format!("kw{}", rng.random_range(0..8))),
                    }
                    let update = FlagUpdate {
                        op: if rng.random_bool(0.5) {
                            FlagOp::Add
                        } else {
                            FlagOp::Remove
                        },
                        flags,
                        unchanged_since: None,
                    };
                    acc.store_flags(inbox, &pick(&mut rng), &update)
                        .await
                        .expect("store");
                }
                3 => {
                    acc.expunge(inbox, None).await.expect("expunge");
                }
                _ => {
                    acc.move_messages(inbox, &pick(&mut rng), trash)
                        .await
                        .expect("move");
                }
            }
            let (v, src) = view_of(&acc, &db, inbox).await;
            assert_eq!(src, Source::Memory, "round {round}: from memory");
            check(&v, acc.snapshot(inbox).await.expect("snap"), "round");
        }

        // Reopened: the file (older than the database) plus the changes.
        let stale = std::fs::read(&file).expect("file");
        drop(acc);
        let acc = store.inner.open_account("a").expect("reopen");
        let (v, src) = view_of(&acc, &db, inbox).await;
        assert_eq!(src, Source::File, "reopened: from the file");
        check(&v, acc.snapshot(inbox).await.expect("snap"), "reopened");
        let current = decode(&std::fs::read(&file).expect("file"), inbox).expect("decodes");

        let reopen = |bytes: Vec<u8>| {
            std::fs::write(&file, bytes).expect("write");
            store.inner.open_account("a").expect("reopen")
        };
        // A damaged file.
        let mut bad = stale.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 1;
        drop(acc);
        let acc = reopen(bad);
        let (v, src) = view_of(&acc, &db, inbox).await;
        assert_eq!(src, Source::Full, "damaged file ignored");
        check(&v, acc.snapshot(inbox).await.expect("snap"), "damaged");
        // A file from the future (a restored database backup).
        let mut future = current.clone();
        future.modseq += 100;
        drop(acc);
        let acc = reopen(encode(inbox, &future));
        let (v, src) = view_of(&acc, &db, inbox).await;
        assert_eq!(src, Source::Full, "future file ignored");
        check(&v, acc.snapshot(inbox).await.expect("snap"), "future");
        // A file that lacks a message it should have, or has one it should
        // not (same count: the UID sum tells).
        let mut holey = current.clone();
        Arc::make_mut(&mut holey.uids).remove(1);
        Arc::make_mut(&mut holey.modseqs).remove(1);
        let extra = Uid(holey.uids.last().expect("uids").0 + 1_000_000);
        Arc::make_mut(&mut holey.uids).push(extra);
        Arc::make_mut(&mut holey.modseqs).push(ModSeq(1));
        drop(acc);
        let acc = reopen(encode(inbox, &holey));
        let (v, src) = view_of(&acc, &db, inbox).await;
        assert_eq!(src, Source::Full, "inconsistent file ignored");
        check(&v, acc.snapshot(inbox).await.expect("snap"), "inconsistent");
        // Another UIDVALIDITY.
        let mut other = current;
        other.uid_validity ^= 1;
        drop(acc);
        let acc = reopen(encode(inbox, &other));
        let (_, src) = view_of(&acc, &db, inbox).await;
        assert_eq!(src, Source::Full, "other UIDVALIDITY ignored");
        // Deleting the mailbox removes its file.
        let big = acc.create_mailbox("Big", &[]).await.expect("create").id;
        let all = UidSet::from_uids(
            acc.snapshot(inbox)
                .await
                .expect("snap")
                .messages
                .iter()
                .map(|m| m.uid),
        );
        acc.copy(inbox, &all, big).await.expect("copy");
        view_of(&acc, &db, big).await;
        let big_file = views_dir(&db).join(big.0.to_string());
        assert!(big_file.exists());
        acc.delete_mailbox("Big").await.expect("delete");
        assert!(!big_file.exists(), "deleted with its mailbox");
    }

    #[test]
    fn file_round_trips() {
        let c = sample();
        let data = encode(MailboxId(3), &c);
        assert_eq!(decode(&data, MailboxId(3)), Some(c));
    }

    #[test]
    fn damaged_files_are_refused() {
        let data = encode(MailboxId(3), &sample());
        assert_eq!(decode(&data, MailboxId(4)), None, "another mailbox");
        for cut in [0, 8, HEADER_LEN, data.len() - 1] {
            assert_eq!(decode(&data[..cut], MailboxId(3)), None, "torn at {cut}");
        }
        for i in [0, 20, HEADER_LEN + 2, data.len() - 3] {
            let mut bad = data.clone();
            bad[i] ^= 0x10;
            assert_eq!(decode(&bad, MailboxId(3)), None, "bit flipped at {i}");
        }
    }
}
