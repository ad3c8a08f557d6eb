//! Server responses (RFC 9051 §7 and extensions).

use super::{
    BodyStructure, DateTime, Envelope, Flag, FlagPerm, Mailbox, MailboxAttr, NString, PartialRange,
    Section, Tag,
};
use crate::sequence::SequenceSet;

/// Anything the server sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// `resp-cond-state`, `resp-cond-bye`, greeting (`* OK`/`* PREAUTH`/`* BYE`) and tagged completion.
    Status(StatusResponse),
    /// `continue-req = "+" SP (resp-text / base64) CRLF`
    Continuation(Continuation),
    /// Untagged data (`* ...`).
    Data(Data),
}

/// `resp-cond-* = ("OK" / "NO" / "BAD" / "PREAUTH" / "BYE") SP resp-text`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusResponse {
    /// `None` for untagged (`*`).
    pub tag: Option<Tag>,
    pub kind: StatusKind,
    pub code: Option<Code>,
    /// `text = 1*TEXT-CHAR`; CR/LF are replaced by spaces when encoding.
    pub text: String,
}

impl StatusResponse {
    pub fn tagged(tag: Tag, kind: StatusKind, code: Option<Code>, text: impl Into<String>) -> Self {
        StatusResponse {
            tag: Some(tag),
            kind,
            code,
            text: text.into(),
        }
    }
    pub fn untagged(kind: StatusKind, code: Option<Code>, text: impl Into<String>) -> Self {
        StatusResponse {
            tag: None,
            kind,
            code,
            text: text.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusKind {
    Ok,
    No,
    Bad,
    PreAuth,
    Bye,
}

/// `resp-text-code` (RFC 9051, RFC 5530, RFC 4315, RFC 7162, RFC 8474, RFC 4978, RFC 5465, RFC 6154, RFC 3516).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    Alert,
    BadCharset(Vec<String>),
    Capability(Vec<String>),
    Parse,
    PermanentFlags(Vec<FlagPerm>),
    ReadOnly,
    ReadWrite,
    TryCreate,
    UidNext(u32),
    UidValidity(u32),
    /// rev1
    Unseen(u32),
    AppendUid {
        uidvalidity: u32,
        uids: SequenceSet,
    },
    CopyUid {
        uidvalidity: u32,
        source: SequenceSet,
        dest: SequenceSet,
    },
    UidNotSticky,
    HighestModSeq(u64),
    NoModSeq,
    Modified(SequenceSet),
    Closed,
    MailboxId(String),
    NotSaved,
    Unavailable,
    AuthenticationFailed,
    AuthorizationFailed,
    Expired,
    PrivacyRequired,
    ContactAdmin,
    NoPerm,
    InUse,
    ExpungeIssued,
    Corruption,
    ServerBug,
    ClientBug,
    Cannot,
    Limit,
    OverQuota,
    AlreadyExists,
    NonExistent,
    HasChildren,
    TooBig,
    CompressionActive,
    UnknownCte,
    NotificationOverflow,
    BadEvent(Vec<String>),
    UseAttr,
    /// RFC 9586: a message number was used after ENABLE UIDONLY.
    UidRequired,
    /// `atom [SP 1*<any TEXT-CHAR except "]">]`
    Other(String, Option<String>),
}

/// `continue-req`
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Continuation {
    /// `+ text` (e.g. "Ready for literal data"). Empty text writes `+ ` (a lone space).
    Text(String),
    /// `+ base64` (SASL challenge); the bytes are base64-encoded by the encoder.
    Base64(Vec<u8>),
}

/// Untagged `response-data` payloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    Capability(Vec<String>),
    /// `enable-data = "ENABLED" *(SP capability)`
    Enabled(Vec<String>),
    /// `id-response = "ID" SP id-params-list`
    Id(Option<Vec<(String, Option<String>)>>),
    /// `namespace-response = "NAMESPACE" SP namespace SP namespace SP namespace` (empty list = NIL)
    Namespace {
        personal: Vec<NamespaceDesc>,
        other: Vec<NamespaceDesc>,
        shared: Vec<NamespaceDesc>,
    },
    List(ListData),
    Lsub(ListData),
    /// `"STATUS" SP mailbox SP "(" [status-att-list] ")"`
    Status {
        mailbox: Mailbox,
        items: Vec<StatusValue>,
    },
    Flags(Vec<Flag>),
    Exists(u32),
    /// rev1
    Recent(u32),
    Expunge(u32),
    /// `"VANISHED" [SP "(EARLIER)"] SP known-uids` (RFC 7162)
    Vanished {
        earlier: bool,
        uids: SequenceSet,
    },
    /// `"SEARCH" *(SP nz-number) [SP "(" "MODSEQ" SP mod-sequence-value ")"]`
    Search {
        ids: Vec<u32>,
        modseq: Option<u64>,
    },
    ESearch(ESearchData),
    /// `sort-data = "SORT" *(SP nz-number)`
    Sort {
        ids: Vec<u32>,
        modseq: Option<u64>,
    },
    /// `thread-data = "THREAD" [SP 1*thread-list]`
    Thread(Vec<Thread>),
    /// `message-data = nz-number SP "FETCH" SP msg-att`
    Fetch {
        seq: u32,
        items: Vec<FetchItem>,
    },
    /// `uidfetch-resp = uniqueid SP "UIDFETCH" SP msg-att` (RFC 9586): FETCH
    /// once UIDONLY is on, keyed by UID instead of message number.
    UidFetch {
        uid: u32,
        items: Vec<FetchItem>,
    },
    /// `quota-response = "QUOTA" SP quota-root-name SP quota-list`: (resource, usage, limit)
    Quota {
        root: Vec<u8>,
        resources: Vec<(String, u64, u64)>,
    },
    /// `quotaroot-response = "QUOTAROOT" SP mailbox *(SP quota-root-name)`
    QuotaRoot {
        mailbox: Mailbox,
        roots: Vec<Vec<u8>>,
    },
    /// `metadata-resp = "METADATA" SP mailbox SP (entry-values / entry-list)`
    Metadata {
        mailbox: Mailbox,
        entries: MetadataEntries,
    },
    /// `acl-data = "ACL" SP mailbox *(SP identifier SP rights)`
    Acl {
        mailbox: Mailbox,
        entries: Vec<(Vec<u8>, String)>,
    },
    /// `listrights-data = "LISTRIGHTS" SP mailbox SP identifier SP rights *(SP rights)`
    ListRights {
        mailbox: Mailbox,
        identifier: Vec<u8>,
        required: String,
        optional: Vec<String>,
    },
    /// `myrights-data = "MYRIGHTS" SP mailbox SP rights`
    MyRights {
        mailbox: Mailbox,
        rights: String,
    },
}

/// `Namespace-Descr = "(" string SP (DQUOTE QUOTED-CHAR DQUOTE / nil) [Namespace-Response-Extensions] ")"`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceDesc {
    pub prefix: Mailbox,
    pub delimiter: Option<char>,
}

/// `mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox [SP mbox-list-extended]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListData {
    pub attributes: Vec<MailboxAttr>,
    pub delimiter: Option<char>,
    pub mailbox: Mailbox,
    pub extended: Vec<ListExtendedItem>,
}

/// `mbox-list-extended-item` (RFC 5258 CHILDINFO, RFC 9051 OLDNAME)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListExtendedItem {
    /// `"CHILDINFO" SP "(" "SUBSCRIBED" ")"` (the tags, e.g. `SUBSCRIBED`)
    ChildInfo(Vec<String>),
    /// `"OLDNAME" SP "(" mailbox ")"`
    OldName(Mailbox),
}

/// `status-att-val`
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusValue {
    Messages(u32),
    UidNext(u32),
    UidValidity(u32),
    Unseen(u32),
    Deleted(u32),
    Size(u64),
    Recent(u32),
    HighestModSeq(u64),
    MailboxId(String),
    /// `None` is `NIL` (no limit).
    AppendLimit(Option<u64>),
}

/// `esearch-response = "ESEARCH" [search-correlator] [SP "UID"] *(SP search-return-data)`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ESearchData {
    /// `search-correlator = SP "(" "TAG" SP tag-string ")"`
    pub tag: Option<Tag>,
    pub uid: bool,
    pub items: Vec<ESearchItem>,
}

/// `search-return-data`
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ESearchItem {
    Min(u32),
    Max(u32),
    All(SequenceSet),
    Count(u32),
    ModSeq(u64),
    /// `"PARTIAL" SP "(" partial-range SP partial-results ")"`; `None` results is `NIL`.
    Partial {
        range: PartialRange,
        results: Option<SequenceSet>,
    },
}

/// `thread-list = "(" (thread-members / thread-nested) ")"`: a chain of messages, each the
/// parent of the next, then the sub-threads of the last one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Thread {
    pub chain: Vec<u32>,
    pub children: Vec<Thread>,
}

/// `msg-att-dynamic / msg-att-static` items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchItem {
    Flags(Vec<Flag>),
    Uid(u32),
    InternalDate(DateTime),
    Rfc822Size(u64),
    /// `"MODSEQ" SP "(" permsg-modsequence ")"`
    ModSeq(u64),
    /// `"BODY" section ["<" number ">"] SP nstring` (always written as a literal)
    BodySection {
        section: Section,
        origin: Option<u64>,
        data: NString,
    },
    /// `"BINARY" section-binary ["<" number ">"] SP (nstring / literal8)`
    Binary {
        part: Vec<u32>,
        origin: Option<u64>,
        data: NString,
    },
    BinarySize {
        part: Vec<u32>,
        size: u64,
    },
    Rfc822(NString),
    Rfc822Header(NString),
    Rfc822Text(NString),
    Envelope(Box<Envelope>),
    BodyStructure(Box<BodyStructure>),
    /// `BODY` (no extension data is written)
    Body(Box<BodyStructure>),
    EmailId(String),
    /// `None` is `NIL`
    ThreadId(Option<String>),
    /// `None` is `NIL`
    Preview(Option<String>),
    /// `None` is `NIL`
    SaveDate(Option<DateTime>),
}

/// `entry-values` or `entry-list` of a METADATA response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataEntries {
    Values(Vec<(String, NString)>),
    /// Unsolicited: entry names only.
    List(Vec<String>),
}
