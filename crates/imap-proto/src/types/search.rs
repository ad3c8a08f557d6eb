//! Search keys (RFC 9051 `search-key` plus rev1, CONDSTORE, WITHIN, OBJECTID, SAVEDATE).

use super::Date;
use crate::sequence::SequenceSet;

/// `search-key`. String arguments are raw bytes in the command's CHARSET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    /// A parenthesised list, or the implicit AND of a search program's top-level keys.
    And(Vec<SearchKey>),
    All,
    Answered,
    Bcc(Vec<u8>),
    Before(Date),
    Body(Vec<u8>),
    Cc(Vec<u8>),
    Deleted,
    Draft,
    Flagged,
    From(Vec<u8>),
    /// `"HEADER" SP header-fld-name SP astring`
    Header(Vec<u8>, Vec<u8>),
    Keyword(String),
    /// `"LARGER" SP number64`
    Larger(u64),
    /// rev1: `NEW` (= RECENT UNSEEN)
    New,
    Not(Box<SearchKey>),
    /// rev1
    Old,
    On(Date),
    Or(Box<SearchKey>, Box<SearchKey>),
    /// rev1
    Recent,
    Seen,
    SentBefore(Date),
    SentOn(Date),
    SentSince(Date),
    Since(Date),
    /// `"SMALLER" SP number64`
    Smaller(u64),
    Subject(Vec<u8>),
    Text(Vec<u8>),
    To(Vec<u8>),
    Uid(SequenceSet),
    Unanswered,
    Undeleted,
    Undraft,
    Unflagged,
    Unkeyword(String),
    Unseen,
    /// A bare `sequence-set` (including `$`).
    SequenceSet(SequenceSet),
    /// `search-modsequence = "MODSEQ" [search-modseq-ext] SP mod-sequence-valzer` (RFC 7162)
    ModSeq {
        entry: Option<(Vec<u8>, EntryType)>,
        modseq: u64,
    },
    /// `"OLDER" SP nz-number` (RFC 5032, seconds)
    Older(u32),
    /// `"YOUNGER" SP nz-number` (RFC 5032, seconds)
    Younger(u32),
    /// `"EMAILID" SP objectid` (RFC 8474)
    EmailId(String),
    /// `"THREADID" SP objectid` (RFC 8474)
    ThreadId(String),
    /// RFC 8514
    SaveDateBefore(Date),
    SaveDateOn(Date),
    SaveDateSince(Date),
    SaveDateSupported,
}

/// `entry-type-req = entry-type-resp / "all"`; `entry-type-resp = "priv" / "shared"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryType {
    Private,
    Shared,
    All,
}
