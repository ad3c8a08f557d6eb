//! ENVELOPE and BODYSTRUCTURE trees (RFC 9051 `envelope`, `body`).

/// `nstring = string / nil`, as raw bytes.
pub type NString = Option<Vec<u8>>;

/// `envelope = "(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP env-to SP env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")"`
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    pub date: NString,
    pub subject: NString,
    pub from: Vec<Address>,
    pub sender: Vec<Address>,
    pub reply_to: Vec<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub bcc: Vec<Address>,
    pub in_reply_to: NString,
    pub message_id: NString,
}

/// `address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"`.
/// Group syntax: start `(NIL NIL "group" NIL)`, end `(NIL NIL NIL NIL)`. An empty address list
/// is written `NIL`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub name: NString,
    pub adl: NString,
    pub mailbox: NString,
    pub host: NString,
}

/// `body = "(" (body-type-1part / body-type-mpart) ")"`
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyStructure {
    /// `body-type-1part = (body-type-basic / body-type-msg / body-type-text) [SP body-ext-1part]`
    Single {
        fields: BodyFields,
        kind: SinglePartKind,
        extension: Option<SinglePartExt>,
    },
    /// `body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]`
    Multipart {
        parts: Vec<BodyStructure>,
        subtype: String,
        extension: Option<MultipartExt>,
    },
}

/// `body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP body-fld-octets`
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyFields {
    pub params: Vec<(String, Vec<u8>)>,
    pub id: NString,
    pub description: NString,
    /// `body-fld-enc`, e.g. `7BIT`, `BASE64`.
    pub encoding: String,
    pub octets: u64,
}

/// The media type specific part of a single-part body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinglePartKind {
    /// `body-type-basic = media-basic SP body-fields`
    Basic { media_type: String, subtype: String },
    /// `body-type-text = media-text SP body-fields SP body-fld-lines`; `media_type` is
    /// `text` in the case the message used (empty: written `TEXT`).
    Text {
        media_type: String,
        subtype: String,
        lines: u64,
    },
    /// `body-type-msg = media-message SP body-fields SP envelope SP body SP body-fld-lines`
    /// (`MESSAGE/RFC822` or `MESSAGE/GLOBAL`).
    Message {
        subtype: String,
        envelope: Box<Envelope>,
        body: Box<BodyStructure>,
        lines: u64,
    },
}

/// `body-ext-1part = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]]]`
/// (all fields are written when present).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinglePartExt {
    pub md5: NString,
    pub disposition: Option<Disposition>,
    pub language: Vec<String>,
    pub location: NString,
}

/// `body-ext-mpart = body-fld-param [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]]]`
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MultipartExt {
    pub params: Vec<(String, Vec<u8>)>,
    pub disposition: Option<Disposition>,
    pub language: Vec<String>,
    pub location: NString,
}

/// `body-fld-dsp = "(" string SP body-fld-param ")" / nil`
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Disposition {
    pub kind: String,
    pub params: Vec<(String, Vec<u8>)>,
}
