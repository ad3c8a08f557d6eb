//! The closed error taxonomy of the store. The IMAP layer maps each variant
//! to a response code in exactly one place.

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Everything a store operation can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No such account.
    #[error("no such account")]
    NoSuchAccount,
    /// The account exists already.
    #[error("account already exists")]
    AccountExists,
    /// No such mailbox (or it was deleted meanwhile).
    #[error("mailbox does not exist")]
    NoSuchMailbox,
    /// The mailbox exists already.
    #[error("mailbox already exists")]
    MailboxExists,
    /// The name is not acceptable as a mailbox name.
    #[error("invalid mailbox name: {0}")]
    InvalidName(String),
    /// The operation is never allowed on this object (e.g. deleting INBOX).
    #[error("{0}")]
    NotAllowed(String),
    /// A message referred to no longer exists.
    #[error("message has been expunged")]
    Expunged,
    /// A configured limit was reached (message count, mailbox count...).
    #[error("limit reached: {0}")]
    Limit(String),
    /// The message is larger than allowed.
    #[error("message too large")]
    TooBig,
    /// The account is over its quota.
    #[error("over quota")]
    OverQuota,
    /// A transient failure (busy, I/O hiccup); retrying may work.
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    /// Stored data is damaged or a backend invariant broke.
    #[error("internal store error: {0}")]
    Internal(String),
}
