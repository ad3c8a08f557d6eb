//! FETCH: `fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]`

use super::parser::{PResult, Parser, syntax};
use crate::types::{
    CommandBody, FetchAttribute, FetchAttrs, FetchModifiers, Partial, Section, SectionText, UidMode,
};

pub(crate) fn fetch(p: &mut Parser<'_>, mode: UidMode) -> PResult<CommandBody> {
    p.arg("sequence set")?;
    let set = p.sequence_set()?;
    p.arg("fetch attributes")?;
    let attributes = if p.peek() == Some(b'(') {
        FetchAttrs::List(p.paren_list(fetch_att)?)
    } else if p.keyword("ALL") {
        FetchAttrs::All
    } else if p.keyword("FAST") {
        FetchAttrs::Fast
    } else if p.keyword("FULL") {
        FetchAttrs::Full
    } else {
        FetchAttrs::List(vec![fetch_att(p)?])
    };
    let mut modifiers = FetchModifiers::default();
    if p.take(b' ') {
        // fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")"
        p.paren_list(|p| {
            if p.keyword("CHANGEDSINCE") {
                p.sp()?;
                modifiers.changed_since = Some(p.number64()?);
            } else if p.keyword("VANISHED") {
                modifiers.vanished = true;
            } else {
                return syntax(format!("Unknown FETCH modifier at {}", p.snippet()));
            }
            Ok(())
        })?;
    }
    Ok(CommandBody::Fetch {
        mode,
        set,
        attributes,
        modifiers,
    })
}

/// `fetch-att = "ENVELOPE" / "FLAGS" / "INTERNALDATE" / "RFC822" [".HEADER" / ".SIZE" / ".TEXT"] /
///  "BODY" ["STRUCTURE"] / "UID" / "BODY" section [partial] / "BODY.PEEK" section [partial] /
///  "BINARY" [".PEEK"] section-binary [partial] / "BINARY.SIZE" section-binary / "MODSEQ" /
///  "EMAILID" / "THREADID" / "PREVIEW" [SP "(" "LAZY" ")"] / "SAVEDATE"`
pub(crate) fn fetch_att(p: &mut Parser<'_>) -> PResult<FetchAttribute> {
    use FetchAttribute as F;
    let w = p.word();
    let name = String::from_utf8_lossy(w).to_ascii_uppercase();
    Ok(match name.as_str() {
        "ENVELOPE" => F::Envelope,
        "FLAGS" => F::Flags,
        "INTERNALDATE" => F::InternalDate,
        "RFC822" => F::Rfc822,
        "RFC822.HEADER" => F::Rfc822Header,
        "RFC822.SIZE" => F::Rfc822Size,
        "RFC822.TEXT" => F::Rfc822Text,
        "BODYSTRUCTURE" => F::BodyStructure,
        "UID" => F::Uid,
        "MODSEQ" => F::ModSeq,
        "EMAILID" => F::EmailId,
        "THREADID" => F::ThreadId,
        "SAVEDATE" => F::SaveDate,
        "BODY" if p.peek() != Some(b'[') => F::Body,
        "BODY" | "BODY.PEEK" => {
            let section = section(p)?;
            F::BodySection {
                peek: name == "BODY.PEEK",
                section,
                partial: partial(p)?,
            }
        }
        "BINARY" | "BINARY.PEEK" => {
            let part = section_binary(p)?;
            F::Binary {
                peek: name == "BINARY.PEEK",
                part,
                partial: partial(p)?,
            }
        }
        "BINARY.SIZE" => F::BinarySize {
            part: section_binary(p)?,
        },
        "PREVIEW" => {
            let mut lazy = false;
            if p.peek() == Some(b' ')
                && p.peek_at(1) == Some(b'(')
                && p.peek_at(2).is_some_and(|b| b.eq_ignore_ascii_case(&b'L'))
            {
                p.sp()?;
                p.paren_list(|p| {
                    if p.keyword("LAZY") {
                        Ok(())
                    } else {
                        syntax("Unknown PREVIEW modifier")
                    }
                })?;
                lazy = true;
            }
            F::Preview { lazy }
        }
        "" => return syntax(format!("Expected fetch attribute at {}", p.snippet())),
        _ => return syntax(format!("Unknown fetch attribute: {name}")),
    })
}

/// `section = "[" [section-spec] "]"`
fn section(p: &mut Parser<'_>) -> PResult<Section> {
    p.expect(b'[', "'['")?;
    let mut s = Section::default();
    if p.take(b']') {
        return Ok(s);
    }
    if p.peek().is_some_and(|b| b.is_ascii_digit()) {
        s.part.push(p.nz_number()?);
        while p.peek() == Some(b'.') && p.peek_at(1).is_some_and(|b| b.is_ascii_digit()) {
            p.take(b'.');
            s.part.push(p.nz_number()?);
        }
        if p.take(b']') {
            return Ok(s);
        }
        p.expect(b'.', "'.'")?;
    }
    let w = String::from_utf8_lossy(p.word()).to_ascii_uppercase();
    s.text = Some(match w.as_str() {
        "HEADER" => SectionText::Header,
        "TEXT" => SectionText::Text,
        "MIME" if !s.part.is_empty() => SectionText::Mime,
        "HEADER.FIELDS" | "HEADER.FIELDS.NOT" => {
            p.sp()?;
            // header-list = "(" header-fld-name *(SP header-fld-name) ")"; header-fld-name = astring
            let fields = p.paren_list(|p| p.astring_utf8())?;
            SectionText::HeaderFields {
                not: w.ends_with(".NOT"),
                fields,
            }
        }
        _ => return syntax(format!("Invalid section: {w}")),
    });
    p.expect(b']', "']'")?;
    Ok(s)
}

/// `section-binary = "[" [section-part] "]"`
fn section_binary(p: &mut Parser<'_>) -> PResult<Vec<u32>> {
    p.expect(b'[', "'['")?;
    let mut part = Vec::new();
    if !p.take(b']') {
        loop {
            part.push(p.nz_number()?);
            if !p.take(b'.') {
                break;
            }
        }
        p.expect(b']', "']'")?;
    }
    Ok(part)
}

/// `partial = "<" number64 "." nz-number64 ">"`
fn partial(p: &mut Parser<'_>) -> PResult<Option<Partial>> {
    if !p.take(b'<') {
        return Ok(None);
    }
    let offset = p.number64()?;
    p.expect(b'.', "'.' in partial")?;
    let length = p.number64()?;
    if length == 0 {
        return syntax("Partial length must be non-zero");
    }
    p.expect(b'>', "'>'")?;
    Ok(Some(Partial { offset, length }))
}
