//! The data model shared by the store trait, its backends and the session.

use bytes::Bytes;
use std::fmt;

/// A message UID (RFC 9051 2.3.1.1). Never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uid(pub u32);

/// A modification sequence (RFC 7162). Per mailbox, strictly increasing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ModSeq(pub u64);

/// UIDVALIDITY of a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UidValidity(pub u32);

/// A stable mailbox identity: survives RENAME (OBJECTID's MAILBOXID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MailboxId(pub u64);

impl fmt::Display for MailboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// RFC 6154 special-use attributes (plus RFC 8457 \Important).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpecialUse {
    All,
    Archive,
    Drafts,
    Flagged,
    Junk,
    Sent,
    Trash,
    Important,
}

impl SpecialUse {
    /// Every attribute, in a fixed order.
    pub const ALL: [SpecialUse; 8] = [
        SpecialUse::All,
        SpecialUse::Archive,
        SpecialUse::Drafts,
        SpecialUse::Flagged,
        SpecialUse::Junk,
        SpecialUse::Sent,
        SpecialUse::Trash,
        SpecialUse::Important,
    ];

    /// The attribute as written in IMAP, e.g. `\Sent`.
    pub fn as_str(self) -> &'static str {
        match self {
            SpecialUse::All => "\\All",
            SpecialUse::Archive => "\\Archive",
            SpecialUse::Drafts => "\\Drafts",
            SpecialUse::Flagged => "\\Flagged",
            SpecialUse::Junk => "\\Junk",
            SpecialUse::Sent => "\\Sent",
            SpecialUse::Trash => "\\Trash",
            SpecialUse::Important => "\\Important",
        }
    }

    /// Parses an attribute, case-insensitively, with its backslash.
    pub fn parse(s: &str) -> Option<SpecialUse> {
        SpecialUse::ALL
            .into_iter()
            .find(|u| u.as_str().eq_ignore_ascii_case(s))
    }
}

/// A mailbox as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxInfo {
    pub id: MailboxId,
    pub name: String,
    pub uid_validity: UidValidity,
    pub special_use: Vec<SpecialUse>,
}

/// Counters of a mailbox (STATUS, SELECT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxStatus {
    pub id: MailboxId,
    pub uid_validity: UidValidity,
    pub uid_next: Uid,
    pub messages: u32,
    pub unseen: u32,
    pub deleted: u32,
    /// Sum of RFC822.SIZE of all messages (STATUS=SIZE).
    pub size: u64,
    pub highest_modseq: ModSeq,
}

/// The system flags of RFC 9051 2.3.2 (without \Recent, which is
/// session state and not stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SystemFlag {
    Seen,
    Answered,
    Flagged,
    Deleted,
    Draft,
}

impl SystemFlag {
    pub const ALL: [SystemFlag; 5] = [
        SystemFlag::Answered,
        SystemFlag::Flagged,
        SystemFlag::Deleted,
        SystemFlag::Seen,
        SystemFlag::Draft,
    ];

    fn bit(self) -> u8 {
        match self {
            SystemFlag::Seen => 1,
            SystemFlag::Answered => 2,
            SystemFlag::Flagged => 4,
            SystemFlag::Deleted => 8,
            SystemFlag::Draft => 16,
        }
    }

    /// As written in IMAP.
    pub fn as_str(self) -> &'static str {
        match self {
            SystemFlag::Seen => "\\Seen",
            SystemFlag::Answered => "\\Answered",
            SystemFlag::Flagged => "\\Flagged",
            SystemFlag::Deleted => "\\Deleted",
            SystemFlag::Draft => "\\Draft",
        }
    }

    /// Parses `\Seen` etc. case-insensitively.
    pub fn parse(s: &str) -> Option<SystemFlag> {
        SystemFlag::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
    }
}

/// A set of stored flags: system flags as bits, keywords sorted and unique.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Flags {
    system: u8,
    keywords: Vec<String>,
}

impl Flags {
    /// No flags.
    pub fn new() -> Flags {
        Flags::default()
    }

    /// Builds from the raw parts (as a backend stores them).
    pub fn from_parts(system: u8, keywords: impl IntoIterator<Item = String>) -> Flags {
        let mut f = Flags {
            system: system & 31,
            keywords: Vec::new(),
        };
        for k in keywords {
            f.insert_keyword(k);
        }
        f
    }

    /// The system flag bits (stable encoding, for backends).
    pub fn system_bits(&self) -> u8 {
        self.system
    }

    /// Keywords, sorted.
    pub fn keywords(&self) -> &[String] {
        &self.keywords
    }

    pub fn contains(&self, flag: SystemFlag) -> bool {
        self.system & flag.bit() != 0
    }

    pub fn insert(&mut self, flag: SystemFlag) {
        self.system |= flag.bit();
    }

    pub fn remove(&mut self, flag: SystemFlag) {
        self.system &= !flag.bit();
    }

    pub fn insert_keyword(&mut self, k: String) {
        if let Err(pos) = self.keywords.binary_search(&k) {
            self.keywords.insert(pos, k);
        }
    }

    pub fn remove_keyword(&mut self, k: &str) {
        if let Ok(pos) = self.keywords.binary_search_by(|x| x.as_str().cmp(k)) {
            self.keywords.remove(pos);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.system == 0 && self.keywords.is_empty()
    }

    /// System flags present, in a fixed order.
    pub fn system_flags(&self) -> impl Iterator<Item = SystemFlag> + '_ {
        SystemFlag::ALL.into_iter().filter(|f| self.contains(*f))
    }

    /// Applies an update and returns the result.
    pub fn apply(&self, op: FlagOp, other: &Flags) -> Flags {
        match op {
            FlagOp::Replace => other.clone(),
            FlagOp::Add => {
                let mut f = self.clone();
                f.system |= other.system;
                for k in &other.keywords {
                    f.insert_keyword(k.clone());
                }
                f
            }
            FlagOp::Remove => {
                let mut f = self.clone();
                f.system &= !other.system;
                for k in &other.keywords {
                    f.remove_keyword(k);
                }
                f
            }
        }
    }
}

/// INTERNALDATE: an instant plus the zone it was given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InternalDate {
    /// Seconds since the Unix epoch (UTC).
    pub unix: i64,
    /// Offset of the original zone from UTC, in minutes.
    pub offset_minutes: i16,
}

/// Metadata of one stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMeta {
    pub uid: Uid,
    pub flags: Flags,
    pub internal_date: InternalDate,
    /// RFC822.SIZE: exact octet count of the stored message.
    pub size: u64,
    pub modseq: ModSeq,
}

/// A message to append.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub data: Bytes,
    pub flags: Flags,
    /// `None` means "now".
    pub internal_date: Option<InternalDate>,
    /// The parsed MIME structure of `data`, computed by the caller at
    /// delivery; opaque to the store, may be empty ("none"). It belongs to
    /// the bytes: messages with identical `data` share one stored structure
    /// (see [`crate::Account::read_structure`]).
    pub structure: Bytes,
}

/// A batch of messages to import with the UIDs they had elsewhere
/// ([`crate::Account::import_messages`]), so that clients which cached the
/// old mailbox need not download it again.
#[derive(Debug, Clone, Default)]
pub struct ImportBatch {
    /// Keep this UIDVALIDITY. Allowed only while the mailbox has never held
    /// a message (UIDNEXT is 1) and when the value was never given out in
    /// this account before; equal to the current one: nothing to do.
    pub uid_validity: Option<UidValidity>,
    /// Raise UIDNEXT to at least this once every message of the batch that
    /// carries a UID is placed (before the first message without one, else
    /// at the end): the source's own UIDNEXT, so UIDs it gave to messages
    /// expunged there are not given again.
    pub uid_next: Option<Uid>,
    /// The messages, in order. A given UID must be at least UIDNEXT at its
    /// turn and greater than every UID before it; `None` takes UIDNEXT.
    pub messages: Vec<(Option<Uid>, NewMessage)>,
}

/// Result of an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendOutcome {
    pub uid_validity: UidValidity,
    /// One UID per appended message, in order.
    pub uids: Vec<Uid>,
}

/// How STORE combines flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagOp {
    Add,
    Remove,
    Replace,
}

/// A STORE request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagUpdate {
    pub op: FlagOp,
    pub flags: Flags,
    /// CONDSTORE UNCHANGEDSINCE.
    pub unchanged_since: Option<ModSeq>,
}

/// Result of a STORE.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreOutcome {
    /// Messages whose flags actually changed (new flags, new MODSEQ).
    pub changed: Vec<MessageMeta>,
    /// Messages left unchanged because of UNCHANGEDSINCE.
    pub modified: Vec<Uid>,
}

/// Result of an EXPUNGE.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExpungeOutcome {
    /// UIDs removed, ascending.
    pub uids: Vec<Uid>,
    /// The mailbox MODSEQ after the expunge.
    pub modseq: ModSeq,
}

/// Result of a COPY or MOVE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOutcome {
    /// UIDVALIDITY of the destination.
    pub uid_validity: UidValidity,
    /// Source UIDs actually copied, ascending.
    pub source_uids: Vec<Uid>,
    /// The new UIDs in the destination, parallel to `source_uids`.
    pub dest_uids: Vec<Uid>,
}

/// The state of a mailbox at one moment (SELECT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxSnapshot {
    pub status: MailboxStatus,
    /// Every message, ascending UID.
    pub messages: Vec<MessageMeta>,
}

/// The RFC 8474 MAILBOXID of a mailbox: stable across RENAME (the id and
/// the UIDVALIDITY stay), new for every incarnation of a name (a new
/// mailbox gets a new id and a new UIDVALIDITY), never reused within an
/// account.
pub fn mailbox_object_id(id: MailboxId, uid_validity: UidValidity) -> String {
    format!("F{:08x}{:x}", uid_validity.0, id.0)
}

/// The RFC 8474 object ids of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageObjectIds {
    /// EMAILID: names the immutable content, so COPY and MOVE keep it (and
    /// identical content shares it).
    pub email: String,
    /// THREADID: shared by the messages linked by References /
    /// In-Reply-To / Message-ID, assigned when the content first arrives
    /// and never changed.
    pub thread: String,
}

/// Which kind of message object id a search asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    Email,
    Thread,
}

/// What SELECT needs of a mailbox, read without touching every message
/// where the backend can (a cached sequence map brought up to date with the
/// changes since it was saved): [`Account::select_view`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxView {
    pub status: MailboxStatus,
    /// Every message's UID, ascending (the sequence-number map). Shared
    /// with the backend's cache: callers copy on write.
    pub uids: std::sync::Arc<Vec<Uid>>,
    /// Each message's MODSEQ, parallel to `uids`.
    pub modseqs: std::sync::Arc<Vec<ModSeq>>,
    /// Keywords defined in the mailbox (the FLAGS response): every keyword
    /// a message has, and possibly keywords no message has any more.
    pub keywords: Vec<String>,
    /// The lowest UID without `\Seen` (`[UNSEEN n]` for IMAP4rev1).
    pub first_unseen: Option<Uid>,
    /// With a `since` MODSEQ (QRESYNC): what changed after it, read in the
    /// same snapshot as the rest (`changes.status == status`).
    pub changes: Option<Changes>,
}

impl MailboxView {
    /// The view of a snapshot (every message read).
    pub fn from_snapshot(snap: MailboxSnapshot, changes: Option<Changes>) -> MailboxView {
        let mut keywords: Vec<String> = snap
            .messages
            .iter()
            .flat_map(|m| m.flags.keywords().iter().cloned())
            .collect();
        keywords.sort();
        keywords.dedup();
        let first_unseen = snap
            .messages
            .iter()
            .find(|m| !m.flags.contains(SystemFlag::Seen))
            .map(|m| m.uid);
        MailboxView {
            uids: std::sync::Arc::new(snap.messages.iter().map(|m| m.uid).collect()),
            modseqs: std::sync::Arc::new(snap.messages.iter().map(|m| m.modseq).collect()),
            status: snap.status,
            keywords,
            first_unseen,
            changes,
        }
    }
}

/// What changed in a mailbox since a MODSEQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    pub status: MailboxStatus,
    /// Messages appended or whose flags changed, ascending UID.
    pub changed: Vec<MessageMeta>,
    /// UIDs expunged, ascending.
    pub vanished: Vec<Uid>,
}

/// A notice on the change feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeNotice {
    /// Messages of this mailbox changed; its MODSEQ is now `modseq`.
    Mailbox { mailbox: MailboxId, modseq: ModSeq },
    /// The mailbox list or subscriptions changed.
    MailboxList,
}

/// Which folded text of a message [`crate::Account::search_index`] looks in
/// (`tidemark_search::SearchDoc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextField {
    /// The top-level header, `name: value` lines (SEARCH HEADER, TEXT).
    Header,
    /// The headers of body parts and attached messages (SEARCH TEXT).
    MimeHeaders,
    /// The decoded text parts (SEARCH BODY, TEXT).
    Body,
}

/// An index's answer for one needle in one mailbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexHits {
    /// Messages whose text contains the needle, ascending.
    pub hits: Vec<Uid>,
    /// Messages the index cannot answer for (not indexed yet, or text cut at
    /// the index's size limit), ascending; the caller scans them.
    pub unsure: Vec<Uid>,
}
