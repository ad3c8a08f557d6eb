//! An open account: its writer thread, its reader pool and its change feed.

use crate::db::{Db, Durability, open_conn};
use crate::messages::Prepared;
use crate::writer::Writer;
use crate::{mailbox, messages, read};
use async_trait::async_trait;
use bytes::Bytes;
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tidemark_store::{
    Account, AppendOutcome, ChangeNotice, Changes, CopyOutcome, ExpungeOutcome, FlagUpdate,
    IndexHits, MailboxId, MailboxInfo, MailboxSnapshot, MailboxStatus, MailboxView, MessageMeta,
    MessageObjectIds, ModSeq, NewMessage, ObjectKind, SpecialUse, StoreError, StoreOutcome,
    StoreResult, TextField, Uid, UidSet, missing_is_none,
};
use tokio::sync::broadcast;

/// Largest message accepted by `append`. SQLite's blob limit
/// (SQLITE_MAX_LENGTH, 1e9 bytes) is below 1 GiB, so it is the real bound.
pub const MAX_MESSAGE_SIZE: usize = 1_000_000_000 - 1024;

/// Messages at least this large are hashed on a blocking thread.
const HASH_OFFLOAD: usize = 256 * 1024;

/// Idle read connections of one account.
pub(crate) struct ReaderPool {
    path: PathBuf,
    /// The search index database, attached as `idx` to every connection.
    index: Option<PathBuf>,
    durability: Durability,
    max_idle: usize,
    idle: Mutex<Vec<Connection>>,
}

impl ReaderPool {
    pub(crate) fn new(
        path: PathBuf,
        index: Option<PathBuf>,
        durability: Durability,
        max_idle: usize,
    ) -> ReaderPool {
        ReaderPool {
            path,
            index,
            durability,
            max_idle: max_idle.max(1),
            idle: Mutex::new(Vec::new()),
        }
    }

    fn take(&self) -> StoreResult<Connection> {
        let conn = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match conn {
            Some(c) => Ok(c),
            None => {
                let conn = open_conn(&self.path, self.durability, false)?;
                if let Some(index) = &self.index {
                    let name = index.to_str().ok_or_else(|| {
                        StoreError::Unavailable("search index path is not UTF-8".into())
                    })?;
                    conn.execute("ATTACH DATABASE ?1 AS idx", [name]).db()?;
                }
                Ok(conn)
            }
        }
    }

    /// Opens one connection ahead of the first read and loads the schema,
    /// so the first SELECT after an account opens does not pay for it
    /// (about 0.5 ms). Failures are left to the first read to report.
    pub(crate) fn warm(&self) {
        let Ok(conn) = self.take() else { return };
        if conn.prepare("SELECT 1 FROM mailboxes LIMIT 0").is_ok() {
            self.put(conn);
        }
    }

    fn put(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
    }
}

pub(crate) struct SqliteAccount {
    pub(crate) name: String,
    pub(crate) writer: Writer,
    pub(crate) readers: Arc<ReaderPool>,
    pub(crate) feed: broadcast::Sender<ChangeNotice>,
    /// Set when the account is deleted; every later call fails.
    pub(crate) closed: AtomicBool,
    /// Whether the search index is kept (`SqliteConfig::search_index`).
    pub(crate) search_index: bool,
    /// The sequence maps of recently selected mailboxes (`views.rs`).
    pub(crate) views: Arc<crate::views::ViewCache>,
}

impl SqliteAccount {
    fn check_open(&self) -> StoreResult<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(StoreError::NoSuchAccount)
        } else {
            Ok(())
        }
    }

    /// Runs a query in a read transaction on a pooled connection.
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.check_open()?;
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.take()?;
            let result = {
                let tx = conn.unchecked_transaction().db()?;
                let r = f(&tx);
                drop(tx);
                r
            };
            pool.put(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Internal(format!("reader task failed: {e}")))?
    }

    /// Hashes (and indexes) messages for appending.
    async fn prepare_all(&self, messages: Vec<NewMessage>) -> StoreResult<Vec<Prepared>> {
        let total: usize = messages.iter().map(|m| m.data.len()).sum();
        Ok(if total >= HASH_OFFLOAD {
            // Off the async workers, and for a MULTIAPPEND of many messages
            // split over the cores (hashing, parsing and indexing them is
            // the CPU-heavy part of APPEND).
            let index = self.search_index;
            let parts = std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(messages.len().div_ceil(8))
                .max(1);
            let per = messages.len().div_ceil(parts);
            let mut rest = messages;
            let mut tasks = Vec::with_capacity(parts);
            while !rest.is_empty() {
                let tail = rest.split_off(per.min(rest.len()));
                let chunk = std::mem::replace(&mut rest, tail);
                tasks.push(tokio::task::spawn_blocking(move || prepare(chunk, index)));
            }
            let mut all = Vec::new();
            for t in tasks {
                all.extend(
                    t.await
                        .map_err(|e| StoreError::Internal(format!("hash task failed: {e}")))??,
                );
            }
            all
        } else {
            prepare(messages, self.search_index)?
        })
    }

    /// Runs a mutation in the next group commit.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut Vec<ChangeNotice>) -> StoreResult<T> + Send + 'static,
    {
        self.check_open()?;
        self.writer.run(f).await
    }
}

/// Keywords are stored '\n'-separated, so they must be non-empty and free
/// of CR/LF (IMAP atoms are; the session validates them first).
fn check_keywords(flags: &tidemark_store::Flags) -> StoreResult<()> {
    if flags
        .keywords()
        .iter()
        .any(|k| k.is_empty() || k.contains(['\n', '\r']))
    {
        return Err(StoreError::NotAllowed("invalid keyword".into()));
    }
    Ok(())
}

fn prepare(messages: Vec<NewMessage>, index: bool) -> StoreResult<Vec<Prepared>> {
    messages
        .into_iter()
        .map(|msg| {
            // Bytes and structure share one row, which SQLite bounds too.
            if msg.data.len().saturating_add(msg.structure.len()) > MAX_MESSAGE_SIZE {
                return Err(StoreError::TooBig);
            }
            check_keywords(&msg.flags)?;
            let sha256: [u8; 32] = Sha256::digest(&msg.data).into();
            let doc = index.then(|| crate::index::IndexDoc::new(&msg.data, &msg.structure));
            let thread = doc
                .as_ref()
                .and_then(|d| crate::threads::ThreadKeys::from_summary_bytes(d.summary_bytes()))
                .unwrap_or_else(|| {
                    crate::threads::ThreadKeys::of_message(&msg.data, &msg.structure)
                });
            Ok(Prepared {
                msg,
                sha256,
                doc,
                thread,
            })
        })
        .collect()
}

#[async_trait]
impl Account for SqliteAccount {
    fn name(&self) -> &str {
        &self.name
    }

    async fn list_mailboxes(&self) -> StoreResult<Vec<MailboxInfo>> {
        self.read(read::list_mailboxes).await
    }

    async fn mailbox(&self, name: &str) -> StoreResult<MailboxInfo> {
        let name = crate::names::normalise(name).map_err(|_| StoreError::NoSuchMailbox)?;
        self.read(move |c| read::lookup_mailbox(c, &name)).await
    }

    async fn create_mailbox(
        &self,
        name: &str,
        special_use: &[SpecialUse],
    ) -> StoreResult<MailboxInfo> {
        let name = name.to_string();
        let uses = special_use.to_vec();
        self.write(move |c, n| mailbox::create(c, &name, &uses, n))
            .await
    }

    async fn delete_mailbox(&self, name: &str) -> StoreResult<()> {
        let name = name.to_string();
        let id = self
            .write(move |c, n| {
                let id = read::lookup_mailbox(c, &crate::names::normalise(&name)?)
                    .map(|m| m.id)
                    .ok();
                mailbox::delete(c, &name, n).map(|()| id)
            })
            .await?;
        if let Some(id) = id {
            self.views.forget(id);
        }
        Ok(())
    }

    async fn rename_mailbox(&self, from: &str, to: &str) -> StoreResult<()> {
        let (from, to) = (from.to_string(), to.to_string());
        self.write(move |c, n| mailbox::rename(c, &from, &to, n))
            .await
    }

    async fn set_subscribed(&self, name: &str, subscribed: bool) -> StoreResult<()> {
        let name = name.to_string();
        self.write(move |c, n| mailbox::set_subscribed(c, &name, subscribed, n))
            .await
    }

    async fn subscriptions(&self) -> StoreResult<Vec<String>> {
        self.read(read::subscriptions).await
    }

    async fn status(&self, mailbox: MailboxId) -> StoreResult<MailboxStatus> {
        self.read(move |c| read::status(c, mailbox)).await
    }

    async fn snapshot(&self, mailbox: MailboxId) -> StoreResult<MailboxSnapshot> {
        self.read(move |c| read::snapshot(c, mailbox)).await
    }

    async fn select_view(
        &self,
        mailbox: MailboxId,
        since: Option<ModSeq>,
    ) -> StoreResult<MailboxView> {
        let views = self.views.clone();
        self.read(move |c| views.view(c, mailbox, since).map(|(v, _)| v))
            .await
    }

    async fn object_ids(
        &self,
        mailbox: MailboxId,
        uids: &[Uid],
    ) -> StoreResult<Vec<Option<MessageObjectIds>>> {
        let uids = uids.to_vec();
        self.read(move |c| crate::threads::object_ids(c, mailbox, &uids))
            .await
    }

    async fn find_object_id(
        &self,
        mailbox: MailboxId,
        kind: ObjectKind,
        id: &str,
    ) -> StoreResult<Vec<Uid>> {
        let id = id.to_string();
        self.read(move |c| {
            read::status(c, mailbox)?;
            crate::threads::find(c, mailbox, kind, &id)
        })
        .await
    }

    async fn fetch_meta(&self, mailbox: MailboxId, uids: &UidSet) -> StoreResult<Vec<MessageMeta>> {
        let uids = uids.clone();
        self.read(move |c| read::fetch_meta(c, mailbox, &uids))
            .await
    }

    async fn read_message(&self, mailbox: MailboxId, uid: Uid) -> StoreResult<Bytes> {
        self.read(move |c| read::read_message(c, mailbox, uid))
            .await
            .map(Bytes::from)
    }

    async fn read_structure(&self, mailbox: MailboxId, uid: Uid) -> StoreResult<Bytes> {
        self.read(move |c| read::read_structure(c, mailbox, uid))
            .await
            .map(Bytes::from)
    }

    async fn read_range(
        &self,
        mailbox: MailboxId,
        uid: Uid,
        offset: u64,
        len: u64,
    ) -> StoreResult<Bytes> {
        self.read(move |c| read::read_range(c, mailbox, uid, offset, len))
            .await
            .map(Bytes::from)
    }

    async fn read_structures(
        &self,
        mailbox: MailboxId,
        uids: &[Uid],
    ) -> StoreResult<Vec<Option<Bytes>>> {
        let uids = uids.to_vec();
        self.read(move |c| {
            uids.iter()
                .map(|uid| {
                    missing_is_none(read::read_structure(c, mailbox, *uid))
                        .map(|o| o.map(Bytes::from))
                })
                .collect()
        })
        .await
    }

    async fn read_summaries(
        &self,
        mailbox: MailboxId,
        uids: &[Uid],
    ) -> StoreResult<Vec<Option<Bytes>>> {
        let uids = uids.to_vec();
        self.read(move |c| {
            Ok(crate::index::read_summaries(c, mailbox, &uids)?
                .into_iter()
                .map(|o| o.map(Bytes::from))
                .collect())
        })
        .await
    }

    async fn search_index(
        &self,
        mailbox: MailboxId,
        field: TextField,
        needle: &str,
    ) -> StoreResult<Option<IndexHits>> {
        if !self.search_index {
            return Ok(None);
        }
        let needle = needle.to_string();
        self.read(move |c| crate::index::search(c, mailbox, field, &needle).map(Some))
            .await
    }

    async fn read_ranges(
        &self,
        mailbox: MailboxId,
        requests: &[(Uid, u64, u64)],
    ) -> StoreResult<Vec<Option<Bytes>>> {
        let requests = requests.to_vec();
        self.read(move |c| {
            requests
                .iter()
                .map(|&(uid, offset, len)| {
                    missing_is_none(read::read_range(c, mailbox, uid, offset, len))
                        .map(|o| o.map(Bytes::from))
                })
                .collect()
        })
        .await
    }

    async fn append(
        &self,
        mailbox: MailboxId,
        messages: Vec<NewMessage>,
    ) -> StoreResult<AppendOutcome> {
        self.check_open()?;
        let prepared = self.prepare_all(messages).await?;
        self.write(move |c, n| messages::append(c, mailbox, prepared, n))
            .await
    }

    async fn import_messages(
        &self,
        mailbox: MailboxId,
        batch: tidemark_store::ImportBatch,
    ) -> StoreResult<AppendOutcome> {
        self.check_open()?;
        let (uids, msgs): (Vec<Option<Uid>>, Vec<NewMessage>) = batch.messages.into_iter().unzip();
        let prepared = self.prepare_all(msgs).await?;
        let numbered: Vec<_> = uids.into_iter().zip(prepared).collect();
        let (validity, next) = (batch.uid_validity, batch.uid_next);
        let out = self
            .write(move |c, n| messages::import(c, mailbox, validity, next, numbered, n))
            .await?;
        if validity.is_some() {
            // The cache refuses views of another UIDVALIDITY anyway; this
            // also drops the file.
            self.views.forget(mailbox);
        }
        Ok(out)
    }

    async fn store_flags(
        &self,
        mailbox: MailboxId,
        uids: &UidSet,
        update: &FlagUpdate,
    ) -> StoreResult<StoreOutcome> {
        check_keywords(&update.flags)?;
        let (uids, update) = (uids.clone(), update.clone());
        self.write(move |c, n| messages::store_flags(c, mailbox, &uids, &update, n))
            .await
    }

    async fn expunge(
        &self,
        mailbox: MailboxId,
        uids: Option<&UidSet>,
    ) -> StoreResult<ExpungeOutcome> {
        let uids = uids.cloned();
        self.write(move |c, n| messages::expunge(c, mailbox, uids.as_ref(), n))
            .await
    }

    async fn copy(
        &self,
        from: MailboxId,
        uids: &UidSet,
        to: MailboxId,
    ) -> StoreResult<CopyOutcome> {
        let uids = uids.clone();
        self.write(move |c, n| messages::copy(c, from, &uids, to, false, n))
            .await
    }

    async fn move_messages(
        &self,
        from: MailboxId,
        uids: &UidSet,
        to: MailboxId,
    ) -> StoreResult<CopyOutcome> {
        let uids = uids.clone();
        self.write(move |c, n| messages::copy(c, from, &uids, to, true, n))
            .await
    }

    async fn changes_since(&self, mailbox: MailboxId, since: ModSeq) -> StoreResult<Changes> {
        self.read(move |c| read::changes_since(c, mailbox, since))
            .await
    }

    fn watch(&self) -> broadcast::Receiver<ChangeNotice> {
        self.feed.subscribe()
    }
}
