//! Client commands (RFC 9051 §6 and extensions).

use super::{DateTime, FetchAttrs, Flag, Mailbox, MailboxAttr, SearchKey, Secret, Tag};
use crate::sequence::SequenceSet;

/// `command = tag SP (command-any / command-auth / command-nonauth / command-select) CRLF`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub tag: Tag,
    pub body: CommandBody,
}

/// Whether a command works on message sequence numbers or on UIDs (`UID` prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UidMode {
    Sequence,
    Uid,
}

/// One variant per command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandBody {
    Capability,
    Noop,
    Logout,
    StartTls,
    /// `authenticate = "AUTHENTICATE" SP auth-type [SP initial-resp]`;
    /// `initial-resp = (base64 / "=")` (RFC 4959). `=` gives `Some` of an empty secret.
    /// The response is kept as sent (base64 text), not decoded.
    Authenticate {
        mechanism: String,
        initial_response: Option<Secret>,
    },
    /// `login = "LOGIN" SP userid SP password`
    Login {
        username: Vec<u8>,
        password: Secret,
    },
    /// `enable = "ENABLE" 1*(SP capability)` (RFC 5161)
    Enable(Vec<String>),
    /// `id = "ID" SP id-params-list` (RFC 2971); `None` for `ID NIL`.
    Id(Option<Vec<(String, Option<String>)>>),
    /// `select = "SELECT" SP mailbox [select-params]`
    Select {
        mailbox: Mailbox,
        params: SelectParams,
    },
    /// `examine = "EXAMINE" SP mailbox [select-params]`
    Examine {
        mailbox: Mailbox,
        params: SelectParams,
    },
    /// `create = "CREATE" SP mailbox [create-params]`; only `USE (...)` (RFC 6154) is understood.
    Create {
        mailbox: Mailbox,
        special_use: Vec<MailboxAttr>,
    },
    Delete(Mailbox),
    Rename {
        from: Mailbox,
        to: Mailbox,
    },
    Subscribe(Mailbox),
    Unsubscribe(Mailbox),
    List(ListCommand),
    /// `lsub = "LSUB" SP mailbox SP list-mailbox`
    Lsub {
        reference: Mailbox,
        pattern: Vec<u8>,
    },
    Namespace,
    /// `status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"`
    Status {
        mailbox: Mailbox,
        items: Vec<StatusItem>,
    },
    /// `append = "APPEND" SP mailbox 1*append-message` (MULTIAPPEND, RFC 3502)
    Append {
        mailbox: Mailbox,
        messages: Vec<AppendMessage>,
    },
    Idle,
    Check,
    Close,
    Unselect,
    Expunge,
    /// `uid-expunge = "UID" SP "EXPUNGE" SP sequence-set`
    UidExpunge(SequenceSet),
    Search(SearchCommand),
    /// `fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]`
    Fetch {
        mode: UidMode,
        set: SequenceSet,
        attributes: FetchAttrs,
        modifiers: FetchModifiers,
    },
    /// `store = "STORE" SP sequence-set [store-modifiers] SP store-att-flags`
    Store {
        mode: UidMode,
        set: SequenceSet,
        unchanged_since: Option<u64>,
        action: StoreAction,
        silent: bool,
        flags: Vec<Flag>,
    },
    /// `copy = "COPY" SP sequence-set SP mailbox`
    Copy {
        mode: UidMode,
        set: SequenceSet,
        mailbox: Mailbox,
    },
    /// `move = "MOVE" SP sequence-set SP mailbox` (RFC 6851)
    Move {
        mode: UidMode,
        set: SequenceSet,
        mailbox: Mailbox,
    },
    /// `sort = ["UID" SP] "SORT" [SP sort-return-opts] SP sort-criteria SP search-criteria` (RFC 5256, RFC 5267)
    Sort {
        mode: UidMode,
        return_opts: Option<Vec<SearchReturnOpt>>,
        criteria: Vec<SortCriterion>,
        charset: String,
        search: SearchKey,
    },
    /// `thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria` (RFC 5256)
    Thread {
        mode: UidMode,
        algorithm: ThreadAlgorithm,
        charset: String,
        search: SearchKey,
    },
    /// `compress = "COMPRESS" SP algorithm` (RFC 4978)
    Compress {
        mechanism: String,
    },
    /// `getquota = "GETQUOTA" SP quota-root-name` (RFC 9208)
    GetQuota(Vec<u8>),
    /// `getquotaroot = "GETQUOTAROOT" SP mailbox`
    GetQuotaRoot(Mailbox),
    /// `setquota = "SETQUOTA" SP quota-root-name SP setquota-list`
    SetQuota {
        root: Vec<u8>,
        limits: Vec<(String, u64)>,
    },
    /// `getacl = "GETACL" SP mailbox` (RFC 4314)
    GetAcl(Mailbox),
    /// `setacl = "SETACL" SP mailbox SP identifier SP mod-rights`
    SetAcl {
        mailbox: Mailbox,
        identifier: Vec<u8>,
        rights: Vec<u8>,
    },
    /// `deleteacl = "DELETEACL" SP mailbox SP identifier`
    DeleteAcl {
        mailbox: Mailbox,
        identifier: Vec<u8>,
    },
    /// `listrights = "LISTRIGHTS" SP mailbox SP identifier`
    ListRights {
        mailbox: Mailbox,
        identifier: Vec<u8>,
    },
    /// `myrights = "MYRIGHTS" SP mailbox`
    MyRights(Mailbox),
    /// `getmetadata = "GETMETADATA" [SP getmetadata-options] SP mailbox SP entries` (RFC 5464).
    /// The server entries use the empty mailbox name.
    GetMetadata {
        options: MetadataOptions,
        mailbox: Mailbox,
        entries: Vec<String>,
    },
    /// `setmetadata = "SETMETADATA" SP mailbox SP entry-values`
    SetMetadata {
        mailbox: Mailbox,
        entries: Vec<(String, Option<Vec<u8>>)>,
    },
    /// `notify = "NOTIFY" SP (notify-set / notify-none)` (RFC 5465); `None` is `NOTIFY NONE`.
    Notify(Option<NotifySet>),
    /// `UNAUTHENTICATE` (RFC 8437)
    Unauthenticate,
}

impl CommandBody {
    /// The command name as it appears on the wire (`UID FETCH` for UID forms).
    pub fn name(&self) -> &'static str {
        use CommandBody::*;
        let uid =
            |m: &UidMode, a: &'static str, b: &'static str| if *m == UidMode::Uid { b } else { a };
        match self {
            Capability => "CAPABILITY",
            Noop => "NOOP",
            Logout => "LOGOUT",
            StartTls => "STARTTLS",
            Authenticate { .. } => "AUTHENTICATE",
            Login { .. } => "LOGIN",
            Enable(_) => "ENABLE",
            Id(_) => "ID",
            Select { .. } => "SELECT",
            Examine { .. } => "EXAMINE",
            Create { .. } => "CREATE",
            Delete(_) => "DELETE",
            Rename { .. } => "RENAME",
            Subscribe(_) => "SUBSCRIBE",
            Unsubscribe(_) => "UNSUBSCRIBE",
            List(_) => "LIST",
            Lsub { .. } => "LSUB",
            Namespace => "NAMESPACE",
            Status { .. } => "STATUS",
            Append { .. } => "APPEND",
            Idle => "IDLE",
            Check => "CHECK",
            Close => "CLOSE",
            Unselect => "UNSELECT",
            Expunge => "EXPUNGE",
            UidExpunge(_) => "UID EXPUNGE",
            Search(s) => uid(&s.mode, "SEARCH", "UID SEARCH"),
            Fetch { mode, .. } => uid(mode, "FETCH", "UID FETCH"),
            Store { mode, .. } => uid(mode, "STORE", "UID STORE"),
            Copy { mode, .. } => uid(mode, "COPY", "UID COPY"),
            Move { mode, .. } => uid(mode, "MOVE", "UID MOVE"),
            Sort { mode, .. } => uid(mode, "SORT", "UID SORT"),
            Thread { mode, .. } => uid(mode, "THREAD", "UID THREAD"),
            Compress { .. } => "COMPRESS",
            GetQuota(_) => "GETQUOTA",
            GetQuotaRoot(_) => "GETQUOTAROOT",
            SetQuota { .. } => "SETQUOTA",
            GetAcl(_) => "GETACL",
            SetAcl { .. } => "SETACL",
            DeleteAcl { .. } => "DELETEACL",
            ListRights { .. } => "LISTRIGHTS",
            MyRights(_) => "MYRIGHTS",
            GetMetadata { .. } => "GETMETADATA",
            SetMetadata { .. } => "SETMETADATA",
            Notify(_) => "NOTIFY",
            Unauthenticate => "UNAUTHENTICATE",
        }
    }
}

/// `select-params = SP "(" select-param *(SP select-param) ")"` (RFC 7162: CONDSTORE, QRESYNC).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectParams {
    pub condstore: bool,
    pub qresync: Option<QResyncParams>,
}

/// `"QRESYNC" SP "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")"`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QResyncParams {
    pub uidvalidity: u32,
    pub modseq: u64,
    pub known_uids: Option<SequenceSet>,
    /// `seq-match-data = "(" known-sequence-set SP known-uid-set ")"`
    pub seq_match: Option<(SequenceSet, SequenceSet)>,
}

/// LIST, basic or extended (RFC 9051 / RFC 5258 / RFC 5819 / RFC 6154).
///
/// ```text
/// list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
/// mbox-or-pat = list-mailbox / patterns
/// patterns = "(" list-mailbox *(SP list-mailbox) ")"
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCommand {
    pub selection: Vec<ListSelectOpt>,
    pub reference: Mailbox,
    /// Raw patterns (may contain `*` and `%`).
    pub patterns: Vec<Vec<u8>>,
    pub return_opts: Vec<ListReturnOpt>,
    /// True when any LIST-EXTENDED syntax was used (selection options, a pattern list, or RETURN).
    pub extended: bool,
}

/// `list-select-opt = "SUBSCRIBED" / "REMOTE" / "RECURSIVEMATCH" / "SPECIAL-USE" / option-extension`
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListSelectOpt {
    Subscribed,
    Remote,
    RecursiveMatch,
    SpecialUse,
    Other(String),
}

/// `return-option = "SUBSCRIBED" / "CHILDREN" / "SPECIAL-USE" / "STATUS" SP "(" status-att ... ")" / "MYRIGHTS" / option-extension`
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListReturnOpt {
    Subscribed,
    Children,
    SpecialUse,
    Status(Vec<StatusItem>),
    MyRights,
    Other(String),
}

/// `status-att = "MESSAGES" / "UIDNEXT" / "UIDVALIDITY" / "UNSEEN" / "DELETED" / "SIZE"`
/// + `RECENT` (rev1), `HIGHESTMODSEQ` (RFC 7162), `MAILBOXID` (RFC 8474), `APPENDLIMIT` (RFC 7889).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusItem {
    Messages,
    UidNext,
    UidValidity,
    Unseen,
    Deleted,
    Size,
    Recent,
    HighestModSeq,
    MailboxId,
    AppendLimit,
}

/// One message of APPEND: `append-message = [SP flag-list] [SP date-time] SP append-data`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    pub flags: Vec<Flag>,
    pub date: Option<DateTime>,
    pub data: Vec<u8>,
    /// Sent as `literal8` (`~{n}`, RFC 3516 BINARY).
    pub binary: bool,
}

/// `search = "SEARCH" [search-return-opts] SP search-program`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchCommand {
    pub mode: UidMode,
    /// `CHARSET` argument, as sent.
    pub charset: Option<String>,
    /// `None`: no RETURN (classic `* SEARCH`). `Some(vec![])`: `RETURN ()` (ESEARCH with ALL).
    pub return_opts: Option<Vec<SearchReturnOpt>>,
    /// The criteria; several top-level keys are an implicit AND, given as [`SearchKey::And`].
    pub criteria: SearchKey,
}

/// `search-return-opt = "MIN" / "MAX" / "ALL" / "COUNT" / "SAVE" / "PARTIAL" SP partial-range`
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchReturnOpt {
    Min,
    Max,
    All,
    Count,
    Save,
    /// RFC 9394
    Partial(PartialRange),
}

/// `partial-range = partial-range-first / partial-range-last` (RFC 9394): `1:100` or `-1:-100`.
/// Both bounds are non-zero and have the same sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartialRange {
    pub first: i64,
    pub last: i64,
}

/// `store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreAction {
    Replace,
    Add,
    Remove,
}

/// `fetch-modifiers`: `CHANGEDSINCE` and `VANISHED` (RFC 7162).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchModifiers {
    pub changed_since: Option<u64>,
    pub vanished: bool,
}

/// `sort-criterion = ["REVERSE" SP] sort-key`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortCriterion {
    pub reverse: bool,
    pub key: SortKey,
}

/// `sort-key = "ARRIVAL" / "CC" / "DATE" / "FROM" / "SIZE" / "SUBJECT" / "TO" / "DISPLAYFROM" / "DISPLAYTO"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    Arrival,
    Cc,
    Date,
    From,
    Size,
    Subject,
    To,
    DisplayFrom,
    DisplayTo,
}

/// `thread-alg = "ORDEREDSUBJECT" / "REFERENCES" / thread-alg-ext`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThreadAlgorithm {
    OrderedSubject,
    References,
    Other(String),
}

/// `getmetadata-options = "(" getmetadata-option *(SP getmetadata-option) ")"`
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataOptions {
    pub max_size: Option<u64>,
    pub depth: MetadataDepth,
}

/// `"DEPTH" SP ("0" / "1" / "infinity")`
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum MetadataDepth {
    #[default]
    Zero,
    One,
    Infinity,
}

/// `notify-set = "SET" [status-indicator] SP event-groups`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifySet {
    /// `status-indicator = SP "STATUS"`
    pub status: bool,
    pub groups: Vec<NotifyGroup>,
}

/// `event-group = "(" filter-mailboxes SP events ")"`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyGroup {
    pub filter: NotifyFilter,
    /// `None` is `NONE`.
    pub events: Option<Vec<NotifyEvent>>,
}

/// `filter-mailboxes = filter-mailboxes-selected / filter-mailboxes-other`
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyFilter {
    Selected,
    SelectedDelayed,
    Personal,
    Inboxes,
    Subscribed,
    Subtree(Vec<Mailbox>),
    Mailboxes(Vec<Mailbox>),
}

/// `event = message-event / mailbox-event / user-event / event-ext`
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyEvent {
    /// `"MessageNew" [SP "(" fetch-att *(SP fetch-att) ")"]`
    MessageNew(Vec<super::FetchAttribute>),
    MessageExpunge,
    FlagChange,
    AnnotationChange,
    MailboxName,
    SubscriptionChange,
    MailboxMetadataChange,
    ServerMetadataChange,
    Other(String),
}
