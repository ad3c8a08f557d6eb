//! The embedded default backend of tidemark: SQLite, one database per
//! account.
//!
//! Layout of the store directory:
//! - `accounts.db`: account names, credentials and numeric ids;
//! - `accounts/<id>.db`: one database per account (the file name is the
//!   numeric id, never user input; ids are never reused).
//!
//! Every mutation of an account goes through that account's writer thread
//! ([`writer`]), which batches concurrent requests into one transaction
//! (group commit) and answers only after the commit is fsynced. Reads run
//! on a small pool of connections on tokio's blocking threads. Message
//! bytes are stored once, as blobs in the account database, shared by
//! COPY and deduplicated by SHA-256.

mod account;
mod db;
mod index;
mod indexer;
mod mailbox;
mod messages;
mod names;
mod read;
mod schema;
mod threads;
mod views;
mod writer;

pub use account::MAX_MESSAGE_SIZE;
pub use db::Durability;

use account::{ReaderPool, SqliteAccount};
use db::{Db, now_unix, open_conn, sync_dir};
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use tidemark_store::{Account, Store, StoreError, StoreResult};
use tokio::sync::broadcast;

/// Tuning knobs of the SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteConfig {
    /// Commit durability; [`Durability::Full`] unless you know better.
    pub durability: Durability,
    /// Idle read connections kept per open account.
    pub readers_per_account: usize,
    /// Most write requests in one group commit.
    pub max_batch: usize,
    /// Capacity of each account's change feed.
    pub feed_capacity: usize,
    /// Keep the search index (`index.rs`): written at delivery, rebuilt for
    /// what is missing at account open. Off: `search_index` answers "no
    /// index" and summaries are computed by the caller.
    pub search_index: bool,
    /// How long an account stays open after its last handle is dropped (a
    /// reconnect then finds its caches, reader connections and threads
    /// warm). Zero: accounts close with their last handle. At most
    /// [`MAX_LINGERING`] accounts linger; expired ones are closed at the
    /// next account open.
    pub linger: std::time::Duration,
}

/// Most accounts kept open by [`SqliteConfig::linger`].
pub const MAX_LINGERING: usize = 512;

impl Default for SqliteConfig {
    fn default() -> SqliteConfig {
        SqliteConfig {
            durability: Durability::Full,
            readers_per_account: 4,
            max_batch: 256,
            feed_capacity: 1024,
            search_index: true,
            linger: std::time::Duration::from_secs(120),
        }
    }
}

/// The SQLite mail store. Cheap to clone.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    accounts_dir: PathBuf,
    config: SqliteConfig,
    /// The `accounts.db` connection.
    directory: Mutex<Connection>,
    /// Open account handles, shared while anyone holds them.
    open: Mutex<HashMap<String, Weak<SqliteAccount>>>,
    /// Recently opened accounts, kept open for `config.linger`, oldest
    /// first.
    lingering: Mutex<std::collections::VecDeque<(std::time::Instant, Arc<SqliteAccount>)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn io_err(what: &str, e: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("{what}: {e}"))
}

impl SqliteStore {
    /// Opens (creating it if needed) the store in `dir`, with default
    /// settings.
    pub fn open(dir: &Path) -> StoreResult<SqliteStore> {
        SqliteStore::open_with(dir, SqliteConfig::default())
    }

    /// Opens (creating it if needed) the store in `dir`.
    pub fn open_with(dir: &Path, config: SqliteConfig) -> StoreResult<SqliteStore> {
        let accounts_dir = dir.join("accounts");
        std::fs::create_dir_all(&accounts_dir).map_err(|e| io_err("create store directory", e))?;
        sync_dir(dir)?;
        let conn = open_conn(&dir.join("accounts.db"), config.durability, true)?;
        schema::init_directory(&conn)?;
        sweep_orphans(&conn, &accounts_dir)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                accounts_dir,
                config,
                directory: Mutex::new(conn),
                open: Mutex::new(HashMap::new()),
                lingering: Mutex::new(std::collections::VecDeque::new()),
            }),
        })
    }

    async fn blocking<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> StoreResult<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| StoreError::Internal(format!("store task failed: {e}")))?
    }
}

/// The database file of account `id`.
fn account_path(accounts_dir: &Path, id: i64) -> PathBuf {
    accounts_dir.join(format!("{id}.db"))
}

/// Removes an account database and its WAL files.
fn remove_account_files(accounts_dir: &Path, id: i64) -> StoreResult<()> {
    let base = account_path(accounts_dir, id);
    db::remove_db_files(&indexer::index_path(&base))?;
    db::remove_db_files(&base)?;
    match std::fs::remove_dir_all(views::views_dir(&base)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err("remove sequence-map cache", e)),
    }
    sync_dir(accounts_dir)
}

/// Deletes account databases that `accounts.db` does not know (left by a
/// crash in the middle of creating or deleting an account).
fn sweep_orphans(conn: &Connection, accounts_dir: &Path) -> StoreResult<()> {
    let entries = std::fs::read_dir(accounts_dir).map_err(|e| io_err("list accounts", e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(id) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".db"))
            .map(|n| n.strip_suffix(".search").unwrap_or(n))
            .and_then(|n| n.parse::<i64>().ok())
        else {
            continue;
        };
        let known = conn
            .query_row("SELECT 1 FROM accounts WHERE id=?1", [id], |_| Ok(()))
            .optional()
            .db()?
            .is_some();
        if !known {
            tracing::warn!("removing orphaned account database {id}.db");
            remove_account_files(accounts_dir, id)?;
        }
    }
    Ok(())
}

fn validate_account_name(name: &str) -> StoreResult<()> {
    if name.is_empty() || name.len() > 255 || name.chars().any(char::is_control) {
        return Err(StoreError::NotAllowed("invalid account name".into()));
    }
    Ok(())
}

impl Inner {
    fn account_id(&self, name: &str) -> StoreResult<Option<i64>> {
        lock(&self.directory)
            .prepare_cached("SELECT id FROM accounts WHERE name=?1")
            .db()?
            .query_row([name], |r| r.get(0))
            .optional()
            .db()
    }

    fn create_account(&self, name: &str, credential: &str) -> StoreResult<()> {
        validate_account_name(name)?;
        let dir = lock(&self.directory);
        let tx = dir.unchecked_transaction().db()?;
        let id: i64 = match tx.query_row(
            "INSERT INTO accounts(name, credential, created) VALUES(?1, ?2, ?3) RETURNING id",
            params![name, credential, now_unix()],
            |r| r.get(0),
        ) {
            Ok(id) => id,
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                return Err(StoreError::AccountExists);
            }
            Err(e) => return Err(db::map_err(e)),
        };
        // The mail database is made (and durable) before the account row
        // commits; a crash in between leaves an orphan that the next open
        // sweeps away.
        remove_account_files(&self.accounts_dir, id)?;
        let path = account_path(&self.accounts_dir, id);
        let conn = open_conn(&path, self.config.durability, true)?;
        schema::init_account(&conn)?;
        drop(conn);
        sync_dir(&self.accounts_dir)?;
        tx.commit().db()
    }

    fn delete_account(&self, name: &str) -> StoreResult<()> {
        let mut open = lock(&self.open);
        let id = self.account_id(name)?.ok_or(StoreError::NoSuchAccount)?;
        lock(&self.directory)
            .execute("DELETE FROM accounts WHERE id=?1", [id])
            .db()?;
        if let Some(acc) = open.remove(name).and_then(|w| w.upgrade()) {
            acc.closed.store(true, Ordering::Release);
        }
        drop(open);
        let dropped: std::collections::VecDeque<_> = {
            let mut l = lock(&self.lingering);
            let (gone, keep) = std::mem::take(&mut *l)
                .into_iter()
                .partition(|(_, a)| a.name == name);
            *l = keep;
            gone
        };
        drop(dropped);
        remove_account_files(&self.accounts_dir, id)
    }

    fn open_account(&self, name: &str) -> StoreResult<Arc<SqliteAccount>> {
        let acc = self.open_account_inner(name)?;
        self.linger(&acc);
        Ok(acc)
    }

    /// Keeps `acc` open for `config.linger`, and closes the accounts whose
    /// time is up (outside the lock: closing joins their threads).
    fn linger(&self, acc: &Arc<SqliteAccount>) {
        let linger = self.config.linger;
        if linger.is_zero() {
            return;
        }
        let now = std::time::Instant::now();
        let expired: Vec<_> = {
            let mut l = lock(&self.lingering);
            l.retain(|(_, a)| !Arc::ptr_eq(a, acc));
            let mut expired = Vec::new();
            while l
                .front()
                .is_some_and(|(t, _)| now.duration_since(*t) >= linger || l.len() >= MAX_LINGERING)
            {
                expired.extend(l.pop_front());
            }
            l.push_back((now, acc.clone()));
            expired
        };
        drop(expired);
    }

    fn open_account_inner(&self, name: &str) -> StoreResult<Arc<SqliteAccount>> {
        let mut open = lock(&self.open);
        if let Some(acc) = open.get(name).and_then(Weak::upgrade) {
            return Ok(acc);
        }
        let id = self.account_id(name)?.ok_or(StoreError::NoSuchAccount)?;
        let path = account_path(&self.accounts_dir, id);
        let conn = open_conn(&path, self.config.durability, true)?;
        schema::init_account(&conn)?;
        threads::backfill(&conn)?;
        // Without a working index database the account still opens: SEARCH
        // then reads messages, and the docs queued meanwhile are indexed at
        // a later open.
        let indexer = if self.config.search_index {
            index::rebuild(&conn)?;
            indexer::Indexer::start(
                &conn,
                &path,
                self.config.durability,
                format!("tidemark-index-{id}"),
            )
            .inspect_err(|e| {
                tracing::error!(
                    "search index of account {id} unavailable, searches read mail: {e}"
                );
            })
            .ok()
        } else {
            None
        };
        let search_index = indexer.is_some();
        if !search_index {
            index::docs_incomplete(&conn)?;
        }
        let (feed, _) = broadcast::channel(self.config.feed_capacity.max(1));
        let writer = writer::Writer::start(
            conn,
            feed.clone(),
            self.config.max_batch,
            format!("tidemark-writer-{id}"),
            indexer.map(|i| i.progress),
        )?;
        let readers = Arc::new(ReaderPool::new(
            path.clone(),
            search_index.then(|| indexer::index_path(&path)),
            self.config.durability,
            self.config.readers_per_account,
        ));
        readers.warm();
        let acc = Arc::new(SqliteAccount {
            name: name.to_string(),
            writer,
            readers,
            feed,
            closed: AtomicBool::new(false),
            search_index,
            views: Arc::new(views::ViewCache::new(Some(views::views_dir(&path)))),
        });
        open.retain(|_, w| w.strong_count() > 0);
        open.insert(name.to_string(), Arc::downgrade(&acc));
        Ok(acc)
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn create_account(&self, name: &str, credential: &str) -> StoreResult<()> {
        let (name, credential) = (name.to_string(), credential.to_string());
        self.blocking(move |i| i.create_account(&name, &credential))
            .await
    }

    async fn delete_account(&self, name: &str) -> StoreResult<()> {
        let name = name.to_string();
        self.blocking(move |i| i.delete_account(&name)).await
    }

    async fn list_accounts(&self) -> StoreResult<Vec<String>> {
        self.blocking(|i| {
            let dir = lock(&i.directory);
            let mut stmt = dir
                .prepare_cached("SELECT name FROM accounts ORDER BY name")
                .db()?;
            let rows = stmt.query_map([], |r| r.get(0)).db()?;
            rows.collect::<Result<Vec<String>, _>>().db()
        })
        .await
    }

    async fn set_credential(&self, name: &str, credential: &str) -> StoreResult<()> {
        let (name, credential) = (name.to_string(), credential.to_string());
        self.blocking(move |i| {
            let n = lock(&i.directory)
                .prepare_cached("UPDATE accounts SET credential=?2 WHERE name=?1")
                .db()?
                .execute([&name, &credential])
                .db()?;
            if n == 0 {
                Err(StoreError::NoSuchAccount)
            } else {
                Ok(())
            }
        })
        .await
    }

    async fn credential(&self, name: &str) -> StoreResult<Option<String>> {
        let name = name.to_string();
        self.blocking(move |i| {
            lock(&i.directory)
                .prepare_cached("SELECT credential FROM accounts WHERE name=?1")
                .db()?
                .query_row([&name], |r| r.get(0))
                .optional()
                .db()
        })
        .await
    }

    async fn open_account(&self, name: &str) -> StoreResult<Arc<dyn Account>> {
        let name = name.to_string();
        let acc = self.blocking(move |i| i.open_account(&name)).await?;
        Ok(acc as Arc<dyn Account>)
    }
}
