//! FETCH attributes and body sections.

/// What to fetch: a macro or a list (a single attribute is a list of one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchAttrs {
    /// `ALL` = FLAGS INTERNALDATE RFC822.SIZE ENVELOPE
    All,
    /// `FAST` = FLAGS INTERNALDATE RFC822.SIZE
    Fast,
    /// `FULL` = FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY
    Full,
    List(Vec<FetchAttribute>),
}

impl FetchAttrs {
    /// The attributes with macros expanded.
    pub fn expand(&self) -> Vec<FetchAttribute> {
        use FetchAttribute::*;
        match self {
            FetchAttrs::All => vec![Flags, InternalDate, Rfc822Size, Envelope],
            FetchAttrs::Fast => vec![Flags, InternalDate, Rfc822Size],
            FetchAttrs::Full => vec![Flags, InternalDate, Rfc822Size, Envelope, Body],
            FetchAttrs::List(v) => v.clone(),
        }
    }
}

/// `fetch-att` (RFC 9051, RFC 3501 rev1 forms, RFC 7162, RFC 8474, RFC 8970, RFC 8514).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchAttribute {
    Envelope,
    Flags,
    InternalDate,
    /// `RFC822` (rev1)
    Rfc822,
    Rfc822Header,
    Rfc822Size,
    Rfc822Text,
    /// `BODY` (non-extensible BODYSTRUCTURE)
    Body,
    BodyStructure,
    Uid,
    /// `"BODY" [".PEEK"] section [partial]`
    BodySection {
        peek: bool,
        section: Section,
        partial: Option<Partial>,
    },
    /// `"BINARY" [".PEEK"] section-binary [partial]`
    Binary {
        peek: bool,
        part: Vec<u32>,
        partial: Option<Partial>,
    },
    /// `"BINARY.SIZE" section-binary`
    BinarySize {
        part: Vec<u32>,
    },
    ModSeq,
    EmailId,
    ThreadId,
    /// `"PREVIEW" [SP "(" "LAZY" ")"]`
    Preview {
        lazy: bool,
    },
    SaveDate,
}

/// `partial = "<" number64 "." nz-number64 ">"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Partial {
    pub offset: u64,
    pub length: u64,
}

/// `section = "[" [section-spec] "]"`;
/// `section-spec = section-msgtext / (section-part ["." section-text])`
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Section {
    /// `section-part = nz-number *("." nz-number)`; empty for the whole message.
    pub part: Vec<u32>,
    pub text: Option<SectionText>,
}

/// `section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"`;
/// `section-text = section-msgtext / "MIME"`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SectionText {
    Header,
    /// Field names as sent.
    HeaderFields {
        not: bool,
        fields: Vec<String>,
    },
    Text,
    Mime,
}
