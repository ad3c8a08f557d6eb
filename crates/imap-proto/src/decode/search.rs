//! SEARCH, SORT and THREAD (RFC 9051, RFC 5256, RFC 5267, RFC 7162, RFC 5032, RFC 8474, RFC 8514, RFC 9394).

use super::parser::{PResult, Parser, syntax};
use crate::types::{
    CommandBody, EntryType, PartialRange, SearchCommand, SearchKey, SearchReturnOpt, SortCriterion,
    SortKey, ThreadAlgorithm, UidMode,
};

/// `search = "SEARCH" [search-return-opts] SP search-program`;
/// `search-program = ["CHARSET" SP charset SP] search-key *(SP search-key)`
pub(crate) fn search(p: &mut Parser<'_>, mode: UidMode) -> PResult<SearchCommand> {
    p.arg("search criteria")?;
    let return_opts = return_opts(p)?;
    let mut charset = None;
    if p.keyword("CHARSET") {
        p.arg("charset")?;
        charset = Some(charset_arg(p)?);
        p.arg("search criteria")?;
    }
    let criteria = keys(p)?;
    Ok(SearchCommand {
        mode,
        charset,
        return_opts,
        criteria,
    })
}

/// `charset = atom / quoted`
fn charset_arg(p: &mut Parser<'_>) -> PResult<String> {
    let raw = if p.peek() == Some(b'"') {
        p.quoted()?.into_owned()
    } else {
        p.atom()?.as_bytes().to_vec()
    };
    String::from_utf8(raw).or_else(|_| syntax("Invalid charset"))
}

/// `search-return-opts = SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"`
/// (called after the SP; consumes the trailing SP too).
fn return_opts(p: &mut Parser<'_>) -> PResult<Option<Vec<SearchReturnOpt>>> {
    if !p.keyword("RETURN") {
        return Ok(None);
    }
    p.sp()?;
    p.expect(b'(', "'('")?;
    let mut v = Vec::new();
    while !p.take(b')') {
        if !v.is_empty() {
            p.sp()?;
        }
        let opt = p.atom()?.to_ascii_uppercase();
        v.push(match opt.as_str() {
            "MIN" => SearchReturnOpt::Min,
            "MAX" => SearchReturnOpt::Max,
            "ALL" => SearchReturnOpt::All,
            "COUNT" => SearchReturnOpt::Count,
            "SAVE" => SearchReturnOpt::Save,
            "PARTIAL" => {
                p.sp()?;
                SearchReturnOpt::Partial(partial_range(p)?)
            }
            _ => return syntax(format!("Unknown RETURN option: {opt}")),
        });
    }
    p.arg("search criteria")?;
    Ok(Some(v))
}

/// `partial-range = partial-range-first / partial-range-last` (RFC 9394)
fn partial_range(p: &mut Parser<'_>) -> PResult<PartialRange> {
    let neg = p.take(b'-');
    let first = i64::from(p.nz_number()?);
    p.expect(b':', "':'")?;
    if neg {
        p.expect(b'-', "'-'")?;
    }
    let last = i64::from(p.nz_number()?);
    Ok(if neg {
        PartialRange {
            first: -first,
            last: -last,
        }
    } else {
        PartialRange { first, last }
    })
}

/// `search-key *(SP search-key)`: several keys give an implicit AND.
fn keys(p: &mut Parser<'_>) -> PResult<SearchKey> {
    let mut v = vec![key(p)?];
    while p.take(b' ') {
        v.push(key(p)?);
    }
    Ok(if v.len() == 1 {
        v.pop().unwrap_or(SearchKey::All)
    } else {
        SearchKey::And(v)
    })
}

fn astr(p: &mut Parser<'_>) -> PResult<Vec<u8>> {
    p.sp()?;
    Ok(p.astring()?.into_owned())
}

fn date(p: &mut Parser<'_>) -> PResult<crate::types::Date> {
    p.sp()?;
    p.date()
}

/// `objectid = 1*255(ALPHA / DIGIT / "_" / "-")` (RFC 8474)
fn objectid(p: &mut Parser<'_>) -> PResult<String> {
    p.sp()?;
    let a = p.atom()?;
    if a.len() > 255
        || !a
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return syntax("Invalid object id");
    }
    Ok(a.to_owned())
}

/// `search-key` (all RFC 9051 keys, rev1 NEW/OLD/RECENT, and the extensions).
pub(crate) fn key(p: &mut Parser<'_>) -> PResult<SearchKey> {
    use SearchKey as K;
    match p.peek() {
        Some(b'(') => {
            p.take(b'(');
            p.enter()?;
            let mut v = vec![key(p)?];
            while p.take(b' ') {
                v.push(key(p)?);
            }
            p.expect(b')', "')'")?;
            p.leave();
            return Ok(K::And(v));
        }
        Some(b'0'..=b'9' | b'*' | b'$') => return Ok(K::SequenceSet(p.sequence_set()?)),
        _ => {}
    }
    let name = match p.atom() {
        Ok(a) => a.to_ascii_uppercase(),
        Err(_) => return syntax(format!("Expected search key at {}", p.snippet())),
    };
    Ok(match name.as_str() {
        "ALL" => K::All,
        "ANSWERED" => K::Answered,
        "DELETED" => K::Deleted,
        "DRAFT" => K::Draft,
        "FLAGGED" => K::Flagged,
        "NEW" => K::New,
        "OLD" => K::Old,
        "RECENT" => K::Recent,
        "SEEN" => K::Seen,
        "UNANSWERED" => K::Unanswered,
        "UNDELETED" => K::Undeleted,
        "UNDRAFT" => K::Undraft,
        "UNFLAGGED" => K::Unflagged,
        "UNSEEN" => K::Unseen,
        "SAVEDATESUPPORTED" => K::SaveDateSupported,
        "BCC" => K::Bcc(astr(p)?),
        "BODY" => K::Body(astr(p)?),
        "CC" => K::Cc(astr(p)?),
        "FROM" => K::From(astr(p)?),
        "SUBJECT" => K::Subject(astr(p)?),
        "TEXT" => K::Text(astr(p)?),
        "TO" => K::To(astr(p)?),
        "HEADER" => {
            let field = astr(p)?;
            K::Header(field, astr(p)?)
        }
        "BEFORE" => K::Before(date(p)?),
        "ON" => K::On(date(p)?),
        "SINCE" => K::Since(date(p)?),
        "SENTBEFORE" => K::SentBefore(date(p)?),
        "SENTON" => K::SentOn(date(p)?),
        "SENTSINCE" => K::SentSince(date(p)?),
        "SAVEDATEBEFORE" => K::SaveDateBefore(date(p)?),
        "SAVEDATEON" => K::SaveDateOn(date(p)?),
        "SAVEDATESINCE" => K::SaveDateSince(date(p)?),
        "KEYWORD" | "UNKEYWORD" => {
            p.sp()?;
            let kw = p.atom()?.to_owned();
            if name == "KEYWORD" {
                K::Keyword(kw)
            } else {
                K::Unkeyword(kw)
            }
        }
        "LARGER" => {
            p.sp()?;
            K::Larger(p.number64()?)
        }
        "SMALLER" => {
            p.sp()?;
            K::Smaller(p.number64()?)
        }
        "OLDER" => {
            p.sp()?;
            K::Older(p.nz_number()?)
        }
        "YOUNGER" => {
            p.sp()?;
            K::Younger(p.nz_number()?)
        }
        "UID" => {
            p.sp()?;
            K::Uid(p.sequence_set()?)
        }
        "NOT" => {
            p.sp()?;
            p.enter()?;
            let k = key(p)?;
            p.leave();
            K::Not(Box::new(k))
        }
        "OR" => {
            p.sp()?;
            p.enter()?;
            let a = key(p)?;
            p.sp()?;
            let b = key(p)?;
            p.leave();
            K::Or(Box::new(a), Box::new(b))
        }
        "MODSEQ" => {
            // search-modsequence = "MODSEQ" [search-modseq-ext] SP mod-sequence-valzer
            // search-modseq-ext = SP entry-name SP entry-type-req
            p.sp()?;
            let mut entry = None;
            if p.peek() == Some(b'"') {
                let name = p.quoted()?.into_owned();
                p.sp()?;
                let t = p.atom()?.to_ascii_lowercase();
                let t = match t.as_str() {
                    "priv" => EntryType::Private,
                    "shared" => EntryType::Shared,
                    "all" => EntryType::All,
                    _ => return syntax("Invalid entry type"),
                };
                p.sp()?;
                entry = Some((name, t));
            }
            K::ModSeq {
                entry,
                modseq: p.number64()?,
            }
        }
        "EMAILID" => K::EmailId(objectid(p)?),
        "THREADID" => K::ThreadId(objectid(p)?),
        _ => return syntax(format!("Unknown search key: {name}")),
    })
}

/// `sort = ["UID" SP] "SORT" [search-return-opts] SP sort-criteria SP search-criteria`;
/// `sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"`; `search-criteria = charset 1*(SP search-key)`
pub(crate) fn sort(p: &mut Parser<'_>, mode: UidMode) -> PResult<CommandBody> {
    p.arg("sort criteria")?;
    let return_opts = return_opts(p)?;
    let criteria = p.paren_list(|p| {
        let reverse = p.keyword("REVERSE");
        if reverse {
            p.sp()?;
        }
        let k = p.atom()?.to_ascii_uppercase();
        let key = match k.as_str() {
            "ARRIVAL" => SortKey::Arrival,
            "CC" => SortKey::Cc,
            "DATE" => SortKey::Date,
            "FROM" => SortKey::From,
            "SIZE" => SortKey::Size,
            "SUBJECT" => SortKey::Subject,
            "TO" => SortKey::To,
            "DISPLAYFROM" => SortKey::DisplayFrom,
            "DISPLAYTO" => SortKey::DisplayTo,
            _ => return syntax(format!("Unknown sort key: {k}")),
        };
        Ok(SortCriterion { reverse, key })
    })?;
    p.arg("charset")?;
    let charset = charset_arg(p)?;
    p.arg("search criteria")?;
    let search = keys(p)?;
    Ok(CommandBody::Sort {
        mode,
        return_opts,
        criteria,
        charset,
        search,
    })
}

/// `thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria`
pub(crate) fn thread(p: &mut Parser<'_>, mode: UidMode) -> PResult<CommandBody> {
    p.arg("algorithm")?;
    let alg = p.atom()?.to_ascii_uppercase();
    let algorithm = match alg.as_str() {
        "ORDEREDSUBJECT" => ThreadAlgorithm::OrderedSubject,
        "REFERENCES" => ThreadAlgorithm::References,
        _ => ThreadAlgorithm::Other(alg),
    };
    p.arg("charset")?;
    let charset = charset_arg(p)?;
    p.arg("search criteria")?;
    let search = keys(p)?;
    Ok(CommandBody::Thread {
        mode,
        algorithm,
        charset,
        search,
    })
}
