//! A decorator around the store ports that times every call into
//! `tidemark_store_operation_duration_seconds{operation}`.
//!
//! Why here and not in the session layer: a command's time is already
//! measured there (per command); this shows which store call a slow
//! command waits on (`append`, `fetch_meta`, `read_ranges`, ...), for every
//! caller (IMAP sessions, LMTP delivery, the HTTP health check), without
//! touching the store crates or the handlers. The cost is one
//! `Instant::now()` pair and a histogram update per call.

use crate::metrics::Metrics;
use async_trait::async_trait;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Instant;
use tidemark_store::*;

/// `#[async_trait] impl $trait for $ty`: each listed method forwards to
/// `self.inner` and records its time under its own name; `$extra` holds
/// the methods written out.
macro_rules! timed_impl {
    ($trait:ident for $ty:ident {
        $(fn $name:ident(&self $(, $arg:ident: $argty:ty)*) -> $ret:ty;)*
    } $($extra:tt)*) => {
        #[async_trait]
        impl $trait for $ty {
            $(async fn $name(&self $(, $arg: $argty)*) -> $ret {
                let start = Instant::now();
                let r = self.inner.$name($($arg),*).await;
                self.metrics.store_operation(stringify!($name), start.elapsed());
                r
            })*
            $($extra)*
        }
    };
}

/// [`Store`] with timings.
pub struct TimedStore {
    inner: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl TimedStore {
    pub fn wrap(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> Arc<dyn Store> {
        Arc::new(TimedStore { inner, metrics })
    }
}

#[rustfmt::skip]
timed_impl!(Store for TimedStore {
    fn create_account(&self, name: &str, credential: &str) -> StoreResult<()>;
    fn delete_account(&self, name: &str) -> StoreResult<()>;
    fn list_accounts(&self) -> StoreResult<Vec<String>>;
    fn set_credential(&self, name: &str, credential: &str) -> StoreResult<()>;
    fn credential(&self, name: &str) -> StoreResult<Option<String>>;
}
    async fn open_account(&self, name: &str) -> StoreResult<Arc<dyn Account>> {
        let start = Instant::now();
        let inner = self.inner.open_account(name).await;
        self.metrics.store_operation("open_account", start.elapsed());
        Ok(Arc::new(TimedAccount {
            inner: inner?,
            metrics: self.metrics.clone(),
        }))
    }
);

/// [`Account`] with timings. Every method is forwarded, the provided ones
/// too, so the backend's own (batched) versions keep running.
struct TimedAccount {
    inner: Arc<dyn Account>,
    metrics: Arc<Metrics>,
}

#[rustfmt::skip]
timed_impl!(Account for TimedAccount {
    fn list_mailboxes(&self) -> StoreResult<Vec<MailboxInfo>>;
    fn mailbox(&self, name: &str) -> StoreResult<MailboxInfo>;
    fn create_mailbox(&self, name: &str, special_use: &[SpecialUse]) -> StoreResult<MailboxInfo>;
    fn delete_mailbox(&self, name: &str) -> StoreResult<()>;
    fn rename_mailbox(&self, from: &str, to: &str) -> StoreResult<()>;
    fn set_subscribed(&self, name: &str, subscribed: bool) -> StoreResult<()>;
    fn subscriptions(&self) -> StoreResult<Vec<String>>;
    fn status(&self, mailbox: MailboxId) -> StoreResult<MailboxStatus>;
    fn snapshot(&self, mailbox: MailboxId) -> StoreResult<MailboxSnapshot>;
    fn select_view(&self, mailbox: MailboxId, since: Option<ModSeq>) -> StoreResult<MailboxView>;
    fn fetch_meta(&self, mailbox: MailboxId, uids: &UidSet) -> StoreResult<Vec<MessageMeta>>;
    fn read_message(&self, mailbox: MailboxId, uid: Uid) -> StoreResult<Bytes>;
    fn read_structure(&self, mailbox: MailboxId, uid: Uid) -> StoreResult<Bytes>;
    fn read_range(&self, mailbox: MailboxId, uid: Uid, offset: u64, len: u64) -> StoreResult<Bytes>;
    fn read_structures(&self, mailbox: MailboxId, uids: &[Uid]) -> StoreResult<Vec<Option<Bytes>>>;
    fn read_ranges(&self, mailbox: MailboxId, requests: &[(Uid, u64, u64)]) -> StoreResult<Vec<Option<Bytes>>>;
    fn read_summaries(&self, mailbox: MailboxId, uids: &[Uid]) -> StoreResult<Vec<Option<Bytes>>>;
    fn search_index(&self, mailbox: MailboxId, field: TextField, needle: &str) -> StoreResult<Option<IndexHits>>;
    fn object_ids(&self, mailbox: MailboxId, uids: &[Uid]) -> StoreResult<Vec<Option<MessageObjectIds>>>;
    fn find_object_id(&self, mailbox: MailboxId, kind: ObjectKind, id: &str) -> StoreResult<Vec<Uid>>;
    fn append(&self, mailbox: MailboxId, messages: Vec<NewMessage>) -> StoreResult<AppendOutcome>;
    fn import_messages(&self, mailbox: MailboxId, batch: ImportBatch) -> StoreResult<AppendOutcome>;
    fn store_flags(&self, mailbox: MailboxId, uids: &UidSet, update: &FlagUpdate) -> StoreResult<StoreOutcome>;
    fn expunge(&self, mailbox: MailboxId, uids: Option<&UidSet>) -> StoreResult<ExpungeOutcome>;
    fn copy(&self, from: MailboxId, uids: &UidSet, to: MailboxId) -> StoreResult<CopyOutcome>;
    fn move_messages(&self, from: MailboxId, uids: &UidSet, to: MailboxId) -> StoreResult<CopyOutcome>;
    fn changes_since(&self, mailbox: MailboxId, since: ModSeq) -> StoreResult<Changes>;
}
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn watch(&self) -> tokio::sync::broadcast::Receiver<ChangeNotice> {
        self.inner.watch()
    }
);
