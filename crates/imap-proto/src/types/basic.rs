//! Small building blocks: tags, mailbox names, secrets, flags, mailbox attributes.

use std::fmt;

/// `tag = 1*<any ASTRING-CHAR except "+">`
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    /// Builds a tag, checking the `tag` grammar.
    pub fn new(s: impl Into<String>) -> Option<Tag> {
        let s = s.into();
        if !s.is_empty() && s.bytes().all(is_tag_char) {
            Some(Tag(s))
        } else {
            None
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({})", self.0)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `ATOM-CHAR = <any CHAR except atom-specials>`;
/// `atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials`
pub fn is_atom_char(b: u8) -> bool {
    matches!(b, 0x21..=0x7e) && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
}

/// `ASTRING-CHAR = ATOM-CHAR / resp-specials`
pub fn is_astring_char(b: u8) -> bool {
    is_atom_char(b) || b == b']'
}

/// `tag = 1*<any ASTRING-CHAR except "+">`
pub fn is_tag_char(b: u8) -> bool {
    is_astring_char(b) && b != b'+'
}

/// `list-char = ATOM-CHAR / list-wildcards / resp-specials`
pub fn is_list_char(b: u8) -> bool {
    is_astring_char(b) || b == b'%' || b == b'*'
}

/// A mailbox name exactly as the client sent it (after astring/quoted/literal decoding).
///
/// `mailbox = "INBOX" / astring` — "INBOX" is case-insensitive and is normalised to `INBOX`.
/// Whether the bytes are UTF-8 (IMAP4rev2, UTF8=ACCEPT) or modified UTF-7 is the session's choice:
/// see [`Mailbox::to_utf8`] and [`crate::utf7`].
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mailbox(Vec<u8>);

impl Mailbox {
    pub fn new(raw: impl Into<Vec<u8>>) -> Mailbox {
        let raw = raw.into();
        if raw.eq_ignore_ascii_case(b"INBOX") {
            Mailbox(b"INBOX".to_vec())
        } else {
            Mailbox(raw)
        }
    }
    pub fn inbox() -> Mailbox {
        Mailbox(b"INBOX".to_vec())
    }
    pub fn is_inbox(&self) -> bool {
        self.0 == b"INBOX"
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
    /// The name as UTF-8 (IMAP4rev2 semantics), if it is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
    /// The name interpreted as modified UTF-7 (IMAP4rev1 semantics), decoded to UTF-8.
    pub fn decode_utf7(&self) -> Result<String, crate::utf7::Utf7Error> {
        crate::utf7::decode(&self.0)
    }
    /// The name as UTF-8: decoded from modified UTF-7 when `utf7` is true, else taken as UTF-8.
    pub fn to_utf8(&self, utf7: bool) -> Option<String> {
        if utf7 {
            self.decode_utf7().ok()
        } else {
            self.as_str().map(str::to_owned)
        }
    }
}

impl From<&str> for Mailbox {
    fn from(s: &str) -> Mailbox {
        Mailbox::new(s.as_bytes().to_vec())
    }
}

impl From<String> for Mailbox {
    fn from(s: String) -> Mailbox {
        Mailbox::new(s.into_bytes())
    }
}

impl fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mailbox({:?})", String::from_utf8_lossy(&self.0))
    }
}

/// Secret bytes (LOGIN password, SASL data): `Debug` never shows the content.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(v: impl Into<Vec<u8>>) -> Secret {
        Secret(v.into())
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
    pub fn into_inner(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes redacted>)", self.0.len())
    }
}

/// `flag = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" / "\Draft" / flag-keyword / flag-extension`
/// plus rev1's `\Recent` (fetch only).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    Seen,
    Answered,
    Flagged,
    Deleted,
    Draft,
    /// `\Recent` (IMAP4rev1 only; never settable).
    Recent,
    /// `flag-extension = "\" atom` — stored without the backslash.
    Extension(String),
    /// `flag-keyword = "$MDNSent" / "$Forwarded" / ... / atom`
    Keyword(String),
}

impl Flag {
    /// Parses a flag from its wire form (`\Seen`, `$Junk`, ...). System flags are case-insensitive.
    pub fn parse(s: &str) -> Option<Flag> {
        if let Some(rest) = s.strip_prefix('\\') {
            if rest.is_empty() || !rest.bytes().all(is_atom_char) {
                return None;
            }
            Some(match rest.to_ascii_lowercase().as_str() {
                "seen" => Flag::Seen,
                "answered" => Flag::Answered,
                "flagged" => Flag::Flagged,
                "deleted" => Flag::Deleted,
                "draft" => Flag::Draft,
                "recent" => Flag::Recent,
                _ => Flag::Extension(rest.to_owned()),
            })
        } else if !s.is_empty() && s.bytes().all(is_atom_char) {
            Some(Flag::Keyword(s.to_owned()))
        } else {
            None
        }
    }

    /// Wire form.
    pub fn as_str(&self) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        match self {
            Flag::Seen => Cow::Borrowed("\\Seen"),
            Flag::Answered => Cow::Borrowed("\\Answered"),
            Flag::Flagged => Cow::Borrowed("\\Flagged"),
            Flag::Deleted => Cow::Borrowed("\\Deleted"),
            Flag::Draft => Cow::Borrowed("\\Draft"),
            Flag::Recent => Cow::Borrowed("\\Recent"),
            Flag::Extension(s) => Cow::Owned(format!("\\{s}")),
            Flag::Keyword(s) => Cow::Borrowed(s),
        }
    }
}

/// `flag-perm = flag / "\*"` (PERMANENTFLAGS).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FlagPerm {
    Flag(Flag),
    /// `\*`: new keywords may be created.
    Wildcard,
}

/// Mailbox attributes: `mbx-list-flags` (RFC 9051), LIST-EXTENDED (RFC 5258) and SPECIAL-USE (RFC 6154).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MailboxAttr {
    NoInferiors,
    NoSelect,
    Marked,
    Unmarked,
    NonExistent,
    Subscribed,
    Remote,
    HasChildren,
    HasNoChildren,
    All,
    Archive,
    Drafts,
    Flagged,
    Junk,
    Sent,
    Trash,
    Important,
    /// Any other `"\" atom`, stored without the backslash.
    Other(String),
}

impl MailboxAttr {
    /// Parses `\Name` (case-insensitive). Returns `None` without the backslash.
    pub fn parse(s: &str) -> Option<MailboxAttr> {
        let rest = s.strip_prefix('\\')?;
        if rest.is_empty() || !rest.bytes().all(is_atom_char) {
            return None;
        }
        Some(match rest.to_ascii_lowercase().as_str() {
            "noinferiors" => MailboxAttr::NoInferiors,
            "noselect" => MailboxAttr::NoSelect,
            "marked" => MailboxAttr::Marked,
            "unmarked" => MailboxAttr::Unmarked,
            "nonexistent" => MailboxAttr::NonExistent,
            "subscribed" => MailboxAttr::Subscribed,
            "remote" => MailboxAttr::Remote,
            "haschildren" => MailboxAttr::HasChildren,
            "hasnochildren" => MailboxAttr::HasNoChildren,
            "all" => MailboxAttr::All,
            "archive" => MailboxAttr::Archive,
            "drafts" => MailboxAttr::Drafts,
            "flagged" => MailboxAttr::Flagged,
            "junk" => MailboxAttr::Junk,
            "sent" => MailboxAttr::Sent,
            "trash" => MailboxAttr::Trash,
            "important" => MailboxAttr::Important,
            _ => MailboxAttr::Other(rest.to_owned()),
        })
    }

    /// Wire form, with the backslash.
    pub fn as_str(&self) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        Cow::Borrowed(match self {
            MailboxAttr::NoInferiors => "\\NoInferiors",
            MailboxAttr::NoSelect => "\\Noselect",
            MailboxAttr::Marked => "\\Marked",
            MailboxAttr::Unmarked => "\\Unmarked",
            MailboxAttr::NonExistent => "\\NonExistent",
            MailboxAttr::Subscribed => "\\Subscribed",
            MailboxAttr::Remote => "\\Remote",
            MailboxAttr::HasChildren => "\\HasChildren",
            MailboxAttr::HasNoChildren => "\\HasNoChildren",
            MailboxAttr::All => "\\All",
            MailboxAttr::Archive => "\\Archive",
            MailboxAttr::Drafts => "\\Drafts",
            MailboxAttr::Flagged => "\\Flagged",
            MailboxAttr::Junk => "\\Junk",
            MailboxAttr::Sent => "\\Sent",
            MailboxAttr::Trash => "\\Trash",
            MailboxAttr::Important => "\\Important",
            MailboxAttr::Other(s) => return Cow::Owned(format!("\\{s}")),
        })
    }
}
