//! The storage port of tidemark.
//!
//! This crate speaks *mail*, not key-value: accounts, mailboxes, UIDs, flags,
//! MODSEQ, append/copy/move/expunge and a change feed. It knows nothing of
//! IMAP syntax and nothing of any database. Backends (`tidemark-store-sqlite`
//! today, PostgreSQL later) implement [`Store`] and [`Account`], and every
//! backend runs the same [`conformance`] suite (feature `conformance`).
//!
//! Invariants every backend keeps (checked by the conformance suite):
//! - UIDs in a mailbox are strictly increasing and never reused within one
//!   UIDVALIDITY; UIDNEXT never goes back.
//! - Each mailbox has its own MODSEQ counter; every change to a message
//!   (append, flag change, expunge) takes a new, strictly greater MODSEQ.
//! - Expunged UIDs are remembered as tombstones with the MODSEQ of their
//!   expunge, so [`Account::changes_since`] can report them (QRESYNC VANISHED).
//! - Message bytes are immutable once stored; COPY shares them.
//! - A call that returned `Ok` is durable (survives kill -9 and power loss).

mod error;
mod model;
mod uidset;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use error::{StoreError, StoreResult};
pub use model::*;
pub use uidset::UidSet;

use async_trait::async_trait;
use bytes::Bytes;
use std::sync::Arc;

/// The part of `[offset, offset + len)` inside a message of `size` bytes, as
/// `(start, end)` with `start <= end <= size` (empty when `offset >= size`
/// or `len == 0`). Never overflows.
pub fn clamp_range(size: u64, offset: u64, len: u64) -> (u64, u64) {
    let start = offset.min(size);
    let end = offset.saturating_add(len).min(size).max(start);
    (start, end)
}

/// Maps `Expunged` to `None` for the batch reads.
pub fn missing_is_none<T>(r: StoreResult<T>) -> StoreResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(StoreError::Expunged) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A whole mail store: the set of accounts.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates an account with its default mailboxes (INBOX, Drafts, Sent,
    /// Trash, Junk, Archive with their RFC 6154 special-use attributes, all
    /// subscribed). `credential` is an opaque string (a password hash); the
    /// store never interprets it.
    async fn create_account(&self, name: &str, credential: &str) -> StoreResult<()>;
    /// Deletes an account and all its mail.
    async fn delete_account(&self, name: &str) -> StoreResult<()>;
    /// Account names, sorted.
    async fn list_accounts(&self) -> StoreResult<Vec<String>>;
    /// Replaces the stored credential of an account.
    async fn set_credential(&self, name: &str, credential: &str) -> StoreResult<()>;
    /// The stored credential, or `None` when the account does not exist.
    async fn credential(&self, name: &str) -> StoreResult<Option<String>>;
    /// Opens an account for mail operations. Handles are shared: every
    /// caller opening the same account gets the same change feed.
    async fn open_account(&self, name: &str) -> StoreResult<Arc<dyn Account>>;
}

/// Mail operations on one account.
///
/// Mailbox names are UTF-8 with `/` as the hierarchy delimiter; `INBOX` is
/// always spelled `INBOX` (the session normalises its case).
#[async_trait]
pub trait Account: Send + Sync + 'static {
    /// The account's name.
    fn name(&self) -> &str;

    /// Every existing mailbox, sorted by name.
    async fn list_mailboxes(&self) -> StoreResult<Vec<MailboxInfo>>;
    /// Looks a mailbox up by name.
    async fn mailbox(&self, name: &str) -> StoreResult<MailboxInfo>;
    /// Creates a mailbox. Missing parents are created too (RFC 9051 6.3.4).
    async fn create_mailbox(
        &self,
        name: &str,
        special_use: &[SpecialUse],
    ) -> StoreResult<MailboxInfo>;
    /// Deletes a mailbox and its messages. INBOX cannot be deleted. Children
    /// stay (the parent becomes a non-existent intermediate name).
    async fn delete_mailbox(&self, name: &str) -> StoreResult<()>;
    /// Renames a mailbox and all its children. Renaming INBOX moves its
    /// messages to a new mailbox and leaves INBOX empty (RFC 9051 6.3.6).
    async fn rename_mailbox(&self, from: &str, to: &str) -> StoreResult<()>;
    /// Adds or removes a name from the subscription list. The name need not
    /// exist.
    async fn set_subscribed(&self, name: &str, subscribed: bool) -> StoreResult<()>;
    /// The subscription list, sorted.
    async fn subscriptions(&self) -> StoreResult<Vec<String>>;

    /// Counters of one mailbox (STATUS).
    async fn status(&self, mailbox: MailboxId) -> StoreResult<MailboxStatus>;
    /// Counters plus the metadata of every message, in UID order (SELECT).
    async fn snapshot(&self, mailbox: MailboxId) -> StoreResult<MailboxSnapshot>;
    /// The sequence map, keywords and first unseen message of a mailbox
    /// (SELECT), plus the changes after `since` when given (QRESYNC), all
    /// from one consistent state. Backends should answer this in time that
    /// grows with the changes since they last answered it, not with the
    /// mailbox; the default implementation reads every message.
    async fn select_view(
        &self,
        mailbox: MailboxId,
        since: Option<ModSeq>,
    ) -> StoreResult<MailboxView> {
        let snap = self.snapshot(mailbox).await?;
        let changes = match since {
            Some(since) => {
                // Read after the snapshot: keep only what it can explain.
                let mut c = self.changes_since(mailbox, since).await?;
                let hms = snap.status.highest_modseq;
                c.changed.retain(|m| m.modseq <= hms);
                c.status = snap.status.clone();
                Some(c)
            }
            None => None,
        };
        Ok(MailboxView::from_snapshot(snap, changes))
    }
    /// Metadata of the messages whose UIDs are in `uids` and still exist, in
    /// UID order.
    async fn fetch_meta(&self, mailbox: MailboxId, uids: &UidSet) -> StoreResult<Vec<MessageMeta>>;
    /// The full bytes of one message.
    async fn read_message(&self, mailbox: MailboxId, uid: Uid) -> StoreResult<Bytes>;
    /// The structure stored with one message's bytes ([`NewMessage::structure`]);
    /// empty when none was stored. Errors like [`Account::read_message`]
    /// (`Expunged` for a UID that does not exist).
    ///
    /// The structure belongs to the bytes, so COPY and MOVE keep it and
    /// messages with identical bytes share it: the first non-empty structure
    /// given for some bytes is kept (a later empty or different one is
    /// ignored) for as long as any message has those bytes.
    ///
    /// The default implementation stores no structures: it checks that the
    /// message exists and answers empty. Backends override it.
    async fn read_structure(&self, mailbox: MailboxId, uid: Uid) -> StoreResult<Bytes> {
        let found = self.fetch_meta(mailbox, &UidSet::from_uids([uid])).await?;
        if found.is_empty() {
            Err(StoreError::Expunged)
        } else {
            Ok(Bytes::new())
        }
    }
    /// The bytes `[offset, min(offset + len, size))` of one message: empty
    /// when `offset >= size` or `len == 0`. Errors like
    /// [`Account::read_message`].
    ///
    /// Backends read only the requested range (a 1 MB slice of a 50 MB
    /// message must not load 50 MB); the default implementation is correct
    /// but reads the whole message.
    async fn read_range(
        &self,
        mailbox: MailboxId,
        uid: Uid,
        offset: u64,
        len: u64,
    ) -> StoreResult<Bytes> {
        let data = self.read_message(mailbox, uid).await?;
        let (start, end) = clamp_range(data.len() as u64, offset, len);
        Ok(data.slice(start as usize..end as usize))
    }

    /// [`Account::read_structure`] for several messages in one call (a FETCH
    /// of many messages): one entry per UID, in order, `None` for a message
    /// that does not exist. Backends answer it in one round trip.
    async fn read_structures(
        &self,
        mailbox: MailboxId,
        uids: &[Uid],
    ) -> StoreResult<Vec<Option<Bytes>>> {
        let mut out = Vec::with_capacity(uids.len());
        for uid in uids {
            out.push(missing_is_none(self.read_structure(mailbox, *uid).await)?);
        }
        Ok(out)
    }

    /// [`Account::read_range`] for several `(uid, offset, len)` requests in
    /// one call: one entry per request, in order, `None` for a message that
    /// does not exist. Backends answer it in one round trip.
    async fn read_ranges(
        &self,
        mailbox: MailboxId,
        requests: &[(Uid, u64, u64)],
    ) -> StoreResult<Vec<Option<Bytes>>> {
        let mut out = Vec::with_capacity(requests.len());
        for &(uid, offset, len) in requests {
            out.push(missing_is_none(
                self.read_range(mailbox, uid, offset, len).await,
            )?);
        }
        Ok(out)
    }

    /// The stored search summary (`tidemark_search::Summary::to_bytes`) of
    /// each message, in order; `None` where the backend keeps none (or the
    /// message does not exist): the caller then computes it from the message.
    async fn read_summaries(
        &self,
        _mailbox: MailboxId,
        uids: &[Uid],
    ) -> StoreResult<Vec<Option<Bytes>>> {
        Ok(vec![None; uids.len()])
    }

    /// Asks the backend's text index which messages of `mailbox` have
    /// `needle` (already folded by `tidemark_search::fold`) as a substring of
    /// their folded [`TextField`] text. `Ok(None)`: the backend has no index
    /// (the caller scans). An answer must be exact for every message it does
    /// not list in [`IndexHits::unsure`].
    async fn search_index(
        &self,
        _mailbox: MailboxId,
        _field: TextField,
        _needle: &str,
    ) -> StoreResult<Option<IndexHits>> {
        Ok(None)
    }

    /// The RFC 8474 EMAILID and THREADID of each message, in order; `None`
    /// for a message that does not exist.
    async fn object_ids(
        &self,
        mailbox: MailboxId,
        uids: &[Uid],
    ) -> StoreResult<Vec<Option<MessageObjectIds>>>;
    /// The messages of `mailbox` whose EMAILID or THREADID is `id`,
    /// ascending (empty for an id this backend never gives out).
    async fn find_object_id(
        &self,
        mailbox: MailboxId,
        kind: ObjectKind,
        id: &str,
    ) -> StoreResult<Vec<Uid>>;

    /// Appends messages atomically (all or none; MULTIAPPEND).
    async fn append(
        &self,
        mailbox: MailboxId,
        messages: Vec<NewMessage>,
    ) -> StoreResult<AppendOutcome>;
    /// Appends messages atomically like [`Account::append`], keeping the
    /// UIDs (and the UIDVALIDITY) they had in another store (import of a
    /// Maildir with `dovecot-uidlist`). MODSEQ rules are those of `append`.
    ///
    /// Refused with [`StoreError::NotAllowed`], changing nothing, when a
    /// UID is below UIDNEXT at its turn or not above the UID before it, when
    /// `uid_validity` differs from the mailbox's and the mailbox has held a
    /// message (UIDNEXT > 1), or when that UIDVALIDITY may have been given
    /// out in this account before (UIDs are never reused within one); with
    /// [`StoreError::Limit`] when a UID would exceed the UID space.
    async fn import_messages(
        &self,
        mailbox: MailboxId,
        batch: ImportBatch,
    ) -> StoreResult<AppendOutcome>;
    /// Changes flags of the messages in `uids`. Messages whose MODSEQ is above
    /// `unchanged_since` are left alone and reported in `modified`.
    async fn store_flags(
        &self,
        mailbox: MailboxId,
        uids: &UidSet,
        update: &FlagUpdate,
    ) -> StoreResult<StoreOutcome>;
    /// Expunges the messages flagged `\Deleted` (only those in `uids` when
    /// given). Returns the expunged UIDs.
    async fn expunge(
        &self,
        mailbox: MailboxId,
        uids: Option<&UidSet>,
    ) -> StoreResult<ExpungeOutcome>;
    /// Copies messages to another mailbox, keeping flags and INTERNALDATE.
    async fn copy(&self, from: MailboxId, uids: &UidSet, to: MailboxId)
    -> StoreResult<CopyOutcome>;
    /// Moves messages atomically: copy then expunge from the source.
    async fn move_messages(
        &self,
        from: MailboxId,
        uids: &UidSet,
        to: MailboxId,
    ) -> StoreResult<CopyOutcome>;

    /// Messages changed (new or flags) and UIDs expunged after `since`.
    async fn changes_since(&self, mailbox: MailboxId, since: ModSeq) -> StoreResult<Changes>;

    /// A receiver of change notices for this account. A notice only says that
    /// something changed; callers then ask [`Account::changes_since`], so a
    /// lagged receiver loses nothing.
    fn watch(&self) -> tokio::sync::broadcast::Receiver<ChangeNotice>;
}
