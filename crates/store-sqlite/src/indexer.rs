//! The indexer: the trigram FTS table of an account, in its own database
//! (`accounts/<id>.search.db`), kept by its own thread.
//!
//! Why apart from the writer: moving docs into FTS5 (tokenizing each doc's
//! trigram set, flushing and merging segments) was more than half of the
//! writer thread's time, and every APPEND waited behind it. In its own
//! database file the index has its own write lock, so this thread runs on
//! another core while the writer commits mail, and no APPEND ever waits
//! for FTS5.
//!
//! How the two databases stay consistent:
//! - A job writes a message's doc and a row in `search_pending`, in the
//!   transaction of the message (`index::put_doc`); deleting a doc adds a
//!   row to `search_gone`. Both queues are ordered by an AUTOINCREMENT
//!   `seq`, committed in that order by the one writer.
//! - A round of this thread reads, in one snapshot of the account database,
//!   the gone rows and then the pending docs after its marks, and in one
//!   transaction of the index database removes the gone docs, (re)inserts
//!   the pending ones, and advances its marks (`search_state`). That commit
//!   is fsynced (with [`Durability::Full`]).
//! - Only then may the writer drop the queue rows up to the marks (it does
//!   so at the start of a batch, and records how far in `meta`).
//! - A search reads the account database first, then the index: FTS
//!   candidates plus the pending docs after the mark of the same index
//!   snapshot, all rechecked against the stored text (`index::search`).
//! - At account open the index database is checked against the account
//!   database (a token, and its marks against what the writer dropped); a
//!   missing, foreign, stale or unreadable one is made again from the docs.
//!   The index database is a cache: deleting it is always safe.
//!
//! Back-pressure: when the queue holds more than [`MAX_BACKLOG`] docs the
//! writer waits for the indexer before its next batch, so a sustained load
//! runs at the speed of both (and searches never scan a long queue).

use crate::db::{Db, Durability, open_conn};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tidemark_store::StoreResult;

/// Queued docs beyond which the writer waits for the indexer.
pub(crate) const MAX_BACKLOG: i64 = 4096;

/// Most docs per indexer round, and most bytes of trigram text.
const ROUND_DOCS: usize = 512;
const ROUND_BYTES: usize = 32 << 20;

/// Most gone rows per round (a round with more does only those).
const ROUND_GONE: usize = 8192;

/// How long the indexer waits for more docs before a round of fewer than
/// [`ROUND_MIN`]: FTS5's cost per commit (a new segment, and the merges
/// segments lead to) is shared by the docs in it. Meanwhile searches read
/// the queued docs' text.
const COALESCE: Duration = Duration::from_millis(250);
const ROUND_MIN: i64 = 256;

/// The indexer's nice value: it yields the CPU to the threads a client
/// waits for (the writer, the sessions) and uses what they leave; the
/// back-pressure above bounds how far behind that lets it fall.
const NICE: i32 = 10;

/// Version of the index database's layout.
const INDEX_DB_VERSION: i64 = 1;

const INDEX_DB_SCHEMA: &str = "
CREATE TABLE search_state(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE VIRTUAL TABLE search_fts USING fts5(
    trigrams, content='', contentless_delete=1,
    tokenize='trigram case_sensitive 1', detail=none
);
-- No incremental merging at insert time (segments merge once 64 pile up
-- at a level): measured 1.7x faster indexing than FTS5's default of 4.
INSERT INTO search_fts(search_fts, rank) VALUES('automerge', 0);
INSERT INTO search_fts(search_fts, rank) VALUES('crisismerge', 64);
-- Room for a whole round's terms in memory (FTS5's default, 1 MiB, wrote
-- a new segment every ~130 docs, and merged them later).
INSERT INTO search_fts(search_fts, rank) VALUES('hashsize', 16777216);
";

/// The index database beside account database `main`.
pub(crate) fn index_path(main: &Path) -> PathBuf {
    main.with_extension("search.db")
}

/// What the writer and the indexer tell each other.
#[derive(Default)]
pub(crate) struct Progress {
    state: Mutex<State>,
    cv: Condvar,
}

#[derive(Default, Clone, Copy)]
struct State {
    /// Newest `search_pending` / `search_gone` seq committed by the writer.
    written: i64,
    gone_written: i64,
    /// The index database's marks, durable.
    indexed: i64,
    gone_indexed: i64,
    /// The indexer cannot work (errors); the writer does not wait for it.
    failing: bool,
    /// The account is closing.
    stop: bool,
}

impl Progress {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writer: the queues' newest seqs after a commit.
    pub(crate) fn written(&self, pending: i64, gone: i64) {
        let mut s = self.lock();
        if pending > s.written || gone > s.gone_written {
            s.written = s.written.max(pending);
            s.gone_written = s.gone_written.max(gone);
            self.cv.notify_all();
        }
    }

    /// Writer: the marks up to which queue rows may be dropped.
    pub(crate) fn marks(&self) -> (i64, i64) {
        let s = self.lock();
        (s.indexed, s.gone_indexed)
    }

    /// Writer: waits while the queue is over [`MAX_BACKLOG`].
    pub(crate) fn wait_for_room(&self) {
        let mut s = self.lock();
        while s.written - s.indexed > MAX_BACKLOG && !s.failing && !s.stop {
            s = self
                .cv
                .wait_timeout(s, Duration::from_secs(1))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Writer: the account is closing; the indexer finishes its round.
    pub(crate) fn stop(&self) {
        self.lock().stop = true;
        self.cv.notify_all();
    }
}

/// The newest seqs of the two queues in `conn`'s snapshot.
pub(crate) fn queue_heads(conn: &Connection) -> StoreResult<(i64, i64)> {
    let mut pending = 0;
    let mut gone = 0;
    let mut stmt = conn
        .prepare_cached(
            "SELECT name, seq FROM sqlite_sequence WHERE name IN ('search_pending', 'search_gone')",
        )
        .db()?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .db()?;
    for row in rows {
        let (name, seq) = row.db()?;
        if name == "search_pending" {
            pending = seq;
        } else {
            gone = seq;
        }
    }
    Ok((pending, gone))
}

fn meta_get(conn: &Connection, key: &str) -> StoreResult<Option<i64>> {
    conn.prepare_cached("SELECT value FROM meta WHERE key=?1")
        .db()?
        .query_row([key], |r| r.get(0))
        .optional()
        .db()
}

fn meta_set(conn: &Connection, key: &str, value: i64) -> StoreResult<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)")
        .db()?
        .execute(params![key, value])
        .db()
        .map(|_| ())
}

fn state_get(idx: &Connection, key: &str) -> StoreResult<Option<i64>> {
    idx.prepare_cached("SELECT value FROM search_state WHERE key=?1")
        .db()?
        .query_row([key], |r| r.get(0))
        .optional()
        .db()
}

/// Writer, inside its batch transaction: drops the queue rows the index
/// database has durably, and records how far.
pub(crate) fn prune(
    conn: &Connection,
    marks: (i64, i64),
    done: &mut (i64, i64),
) -> StoreResult<()> {
    if marks.0 > done.0 {
        conn.prepare_cached("DELETE FROM search_pending WHERE seq <= ?1")
            .db()?
            .execute([marks.0])
            .db()?;
        meta_set(conn, "search_pruned", marks.0)?;
    }
    if marks.1 > done.1 {
        conn.prepare_cached("DELETE FROM search_gone WHERE seq <= ?1")
            .db()?
            .execute([marks.1])
            .db()?;
        meta_set(conn, "search_gone_pruned", marks.1)?;
    }
    *done = (done.0.max(marks.0), done.1.max(marks.1));
    Ok(())
}

/// Opens the index database for account database `main` (open, no
/// transaction), making it again when it does not belong to `main` or is
/// behind what `main` dropped from its queues. Returns the connection and
/// the marks.
fn open_checked(
    main: &Connection,
    path: &Path,
    durability: Durability,
) -> StoreResult<(Connection, i64, i64)> {
    let token = meta_get(main, "search_token")?;
    let pruned = meta_get(main, "search_pruned")?.unwrap_or(0);
    let gone_pruned = meta_get(main, "search_gone_pruned")?.unwrap_or(0);
    let (head, gone_head) = queue_heads(main)?;
    let check = |idx: &Connection| -> StoreResult<Option<(i64, i64)>> {
        let has_state: i64 = idx
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name='search_state'",
                [],
                |r| r.get(0),
            )
            .db()?;
        if has_state == 0 {
            return Ok(None);
        }
        let (Some(version), Some(t), Some(p), Some(g)) = (
            state_get(idx, "version")?,
            state_get(idx, "token")?,
            state_get(idx, "pending")?,
            state_get(idx, "gone")?,
        ) else {
            return Ok(None);
        };
        let ok = version == INDEX_DB_VERSION
            && Some(t) == token
            && (pruned..=head).contains(&p)
            && (gone_pruned..=gone_head).contains(&g);
        Ok(ok.then_some((p, g)))
    };
    if path.exists() {
        match open_conn(path, durability, false).and_then(|c| Ok((check(&c)?, c))) {
            Ok((Some((p, g)), c)) => return Ok((c, p, g)),
            Ok((None, _)) => tracing::warn!(
                "search index {} does not match its account database; building it again",
                path.display()
            ),
            Err(e) => tracing::warn!(
                "search index {} unreadable ({e}); building it again",
                path.display()
            ),
        }
    }
    crate::db::remove_db_files(path)?;
    let idx = open_conn(path, durability, true)?;
    let token = new_token();
    {
        let tx = idx.unchecked_transaction().db()?;
        tx.execute_batch(INDEX_DB_SCHEMA).db()?;
        tx.execute(
            "INSERT INTO search_state(key, value) VALUES('version', ?1), ('token', ?2), ('pending', 0), ('gone', 0)",
            params![INDEX_DB_VERSION, token],
        )
        .db()?;
        tx.commit().db()?;
    }
    // Every doc is queued again (after the marks of 0), and the account
    // database is bound to the new index only once that is committed.
    let tx = main.unchecked_transaction().db()?;
    tx.execute_batch(
        "DELETE FROM search_pending; DELETE FROM search_gone;
         INSERT INTO search_pending(id) SELECT id FROM search_docs ORDER BY id;",
    )
    .db()?;
    meta_set(&tx, "search_token", token)?;
    meta_set(&tx, "search_pruned", 0)?;
    meta_set(&tx, "search_gone_pruned", 0)?;
    tx.commit().db()?;
    Ok((idx, 0, 0))
}

/// A random token binding an index database to its account database.
fn new_token() -> i64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (h.finish() >> 1) as i64
}

/// One round from `marks`: returns the new marks (`None`: nothing to do).
fn round(
    main: &Connection,
    idx: &Connection,
    marks: (i64, i64),
) -> StoreResult<Option<(i64, i64)>> {
    // One snapshot of the account database for both queues and the docs.
    let tx = main.unchecked_transaction().db()?;
    let heads = queue_heads(&tx)?;
    let gone: Vec<(i64, i64)> = tx
        .prepare_cached("SELECT seq, id FROM search_gone WHERE seq > ?1 ORDER BY seq LIMIT ?2")
        .db()?
        .query_map(params![marks.1, ROUND_GONE as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .db()?
        .collect::<Result<_, _>>()
        .db()?;
    // Pending docs only once every gone row of this snapshot is handled, so
    // that a doc deleted and written again under the same id is removed
    // before it is inserted.
    let mut docs: Vec<(i64, String)> = Vec::new();
    let mut pending_mark = marks.0;
    let mut gone_mark = gone.last().map_or(marks.1, |g| g.0);
    if gone.len() < ROUND_GONE {
        // Every gone row of the snapshot is here (the rest are seqs of
        // rolled-back jobs).
        gone_mark = gone_mark.max(heads.1);
        let mut stmt = tx
            .prepare_cached(
                "SELECT p.seq, p.id, d.header, d.mime, d.body FROM search_pending p
                 LEFT JOIN search_docs d ON d.id = p.id
                 WHERE p.seq > ?1 ORDER BY p.seq LIMIT ?2",
            )
            .db()?;
        let mut rows = stmt.query(params![marks.0, ROUND_DOCS as i64]).db()?;
        let mut bytes = 0;
        let mut seen = 0;
        let mut all = true;
        while let Some(row) = rows.next().db()? {
            seen += 1;
            let seq: i64 = row.get(0).db()?;
            let id: i64 = row.get(1).db()?;
            pending_mark = seq;
            // A doc deleted since it was queued has nothing to index.
            let texts: Option<(String, String, String)> =
                match row.get::<_, Option<String>>(2).db()? {
                    Some(h) => Some((h, row.get(3).db()?, row.get(4).db()?)),
                    None => None,
                };
            if let Some((h, m, b)) = texts {
                let set = crate::index::trigram_set_text(&[&h, &m, &b]);
                bytes += set.len();
                docs.push((id, set));
            }
            if bytes > ROUND_BYTES {
                all = false;
                break;
            }
        }
        if all && seen < ROUND_DOCS {
            pending_mark = pending_mark.max(heads.0);
        }
    }
    drop(tx);
    if gone_mark == marks.1 && pending_mark == marks.0 {
        return Ok(None);
    }
    let itx = idx.unchecked_transaction().db()?;
    let remove = |id: i64| -> StoreResult<()> {
        let present = itx
            .prepare_cached("SELECT 1 FROM search_fts_docsize WHERE id=?1")
            .db()?
            .query_row([id], |_| Ok(()))
            .optional()
            .db()?
            .is_some();
        if present {
            itx.prepare_cached("DELETE FROM search_fts WHERE rowid=?1")
                .db()?
                .execute([id])
                .db()?;
        }
        Ok(())
    };
    for &(_, id) in &gone {
        remove(id)?;
    }
    for (id, set) in &docs {
        remove(*id)?;
        itx.prepare_cached("INSERT INTO search_fts(rowid, trigrams) VALUES(?1, ?2)")
            .db()?
            .execute(params![id, set])
            .db()?;
    }
    // max(): another indexer of the same account (see `indexer_loop`) may
    // have gone further.
    for (key, mark) in [("pending", pending_mark), ("gone", gone_mark)] {
        itx.prepare_cached("UPDATE search_state SET value=max(value, ?2) WHERE key=?1")
            .db()?
            .execute(params![key, mark])
            .db()?;
    }
    itx.commit().db()?;
    Ok(Some((pending_mark, gone_mark)))
}

/// The index of one account: checked at open, then kept by a thread.
pub(crate) struct Indexer {
    pub(crate) progress: Arc<Progress>,
}

impl Indexer {
    /// Checks (or makes) the index database of `main_path`, indexes what is
    /// queued when that is more than [`MAX_BACKLOG`], drops what the index
    /// has from the queues, and starts the thread. `main` is the writer's
    /// connection, not yet in use.
    pub(crate) fn start(
        main: &Connection,
        main_path: &Path,
        durability: Durability,
        thread_name: String,
    ) -> StoreResult<Indexer> {
        let path = index_path(main_path);
        let (idx, mut p, mut g) = open_checked(main, &path, durability)?;
        let reader = open_conn(main_path, durability, false)?;
        let (head, gone_head) = queue_heads(main)?;
        if head - p > MAX_BACKLOG {
            let started = Instant::now();
            while let Some(m) = round(&reader, &idx, (p, g))? {
                (p, g) = m;
            }
            tracing::info!(
                "search index: caught up with {} docs in {:.1} s",
                head - p.min(head),
                started.elapsed().as_secs_f64()
            );
        }
        let mut done = (
            meta_get(main, "search_pruned")?.unwrap_or(0),
            meta_get(main, "search_gone_pruned")?.unwrap_or(0),
        );
        {
            let tx = main.unchecked_transaction().db()?;
            prune(&tx, (p, g), &mut done)?;
            tx.commit().db()?;
        }
        let progress = Arc::new(Progress::default());
        {
            let mut s = progress.lock();
            s.written = head;
            s.gone_written = gone_head;
            s.indexed = p;
            s.gone_indexed = g;
        }
        let shared = progress.clone();
        std::thread::Builder::new()
            .name(thread_name)
            .spawn(move || indexer_loop(reader, idx, shared))
            .map_err(|e| {
                tidemark_store::StoreError::Unavailable(format!("cannot start indexer thread: {e}"))
            })?;
        Ok(Indexer { progress })
    }
}

/// Lowers the calling thread's priority to [`NICE`] (Linux: per thread).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and setpriority take no pointers; on Linux
        // PRIO_PROCESS with a thread id sets that thread's nice value.
        let r = unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::setpriority(libc::PRIO_PROCESS, tid, NICE)
        };
        if r != 0 {
            tracing::debug!(
                "search indexer: cannot lower priority: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// The indexer thread. When the account closes (`Progress::stop`) it
/// finishes what is queued (at most about [`MAX_BACKLOG`] docs) before it
/// ends, so an account opened only briefly (a delivery) still gets its
/// mail indexed; should the account be opened again meanwhile, two
/// indexers briefly share the index database, which is safe: a round is
/// idempotent and the marks only move forward.
fn indexer_loop(main: Connection, idx: Connection, progress: Arc<Progress>) {
    lower_priority();
    let mut failures = 0u32;
    loop {
        let (marks, stopping) = {
            let mut s = progress.lock();
            // Sleep until there is work, then let a few more docs arrive.
            while !s.stop && s.written <= s.indexed && s.gone_written <= s.gone_indexed {
                s = progress.cv.wait(s).unwrap_or_else(|e| e.into_inner());
            }
            let deadline = Instant::now() + COALESCE;
            while !s.stop && s.written - s.indexed < ROUND_MIN {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                s = progress
                    .cv
                    .wait_timeout(s, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            ((s.indexed, s.gone_indexed), s.stop)
        };
        match round(&main, &idx, marks) {
            Ok(Some((p, g))) => {
                failures = 0;
                let mut s = progress.lock();
                s.failing = false;
                s.indexed = p;
                s.gone_indexed = g;
                progress.cv.notify_all();
            }
            Ok(None) if stopping => break,
            // Nothing new in the snapshot (cannot be while the writer's heads
            // are ahead, as it reads them after its commits): do not spin.
            Ok(None) => {
                let s = progress.lock();
                drop(progress.cv.wait_timeout(s, COALESCE));
            }
            Err(e) => {
                tracing::warn!("search index: {e}");
                if stopping {
                    break;
                }
                failures += 1;
                let mut s = progress.lock();
                s.failing = true;
                progress.cv.notify_all();
                // Back off (bounded); the next round (or the stop) follows.
                let wait = Duration::from_millis(100u64 << failures.min(6));
                drop(
                    progress
                        .cv
                        .wait_timeout_while(s, wait, |s| !s.stop)
                        .unwrap_or_else(|e| e.into_inner()),
                );
            }
        }
    }
    tracing::debug!("search indexer stopped");
}
