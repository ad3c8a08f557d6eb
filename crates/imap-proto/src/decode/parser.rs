//! A cursor over one complete, framed command and the shared grammar primitives.

use std::borrow::Cow;

use super::{ErrorKind, Limits};
use crate::sequence::{SeqBound, SeqItem, SequenceSet};
use crate::types::{
    Date, DateTime, Flag, Mailbox, Tag,
    datetime::{MONTHS, days_in_month},
    is_astring_char, is_atom_char, is_list_char,
};

/// A parse error; the tag is filled in by the caller when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub tag: Option<Tag>,
    pub kind: ErrorKind,
    pub text: String,
}

pub(crate) type PResult<T> = Result<T, ParseError>;

pub(crate) fn syntax<T>(text: impl Into<String>) -> PResult<T> {
    Err(ParseError {
        tag: None,
        kind: ErrorKind::Syntax,
        text: text.into(),
    })
}

pub(crate) struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    depth: usize,
    max_depth: usize,
}

impl<'a> Parser<'a> {
    pub fn new(input: &'a [u8], limits: &Limits) -> Self {
        Parser {
            input,
            pos: 0,
            depth: 0,
            max_depth: limits.max_depth,
        }
    }

    pub fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn rest(&self) -> &'a [u8] {
        self.input.get(self.pos..).unwrap_or_default()
    }

    /// True at the line end (CRLF or bare LF) that closes the command.
    pub fn at_eol(&self) -> bool {
        matches!(self.rest(), b"\r\n" | b"\n")
    }

    /// `CRLF` (or bare LF) at the end of the command.
    pub fn eol(&mut self) -> PResult<()> {
        if self.at_eol() {
            self.pos = self.input.len();
            Ok(())
        } else {
            syntax(format!(
                "Unexpected characters at end of command: {}",
                self.snippet()
            ))
        }
    }

    /// A short, printable excerpt of the input at the cursor, for error messages.
    pub fn snippet(&self) -> String {
        let rest = self.rest();
        let end = rest
            .iter()
            .position(|&b| b == b'\r' || b == b'\n')
            .unwrap_or(rest.len())
            .min(24);
        let s = String::from_utf8_lossy(rest.get(..end).unwrap_or_default());
        if s.is_empty() {
            "end of line".into()
        } else {
            format!("\"{s}\"")
        }
    }

    pub fn take(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn expect(&mut self, b: u8, what: &str) -> PResult<()> {
        if self.take(b) {
            Ok(())
        } else {
            syntax(format!("Expected {what} at {}", self.snippet()))
        }
    }

    /// `SP` before a required argument: reports "Missing argument" at the line end.
    pub fn arg(&mut self, name: &str) -> PResult<()> {
        if self.at_eol() || self.pos >= self.input.len() {
            return syntax(format!("Missing argument: {name}"));
        }
        self.expect(b' ', "space")
    }

    pub fn sp(&mut self) -> PResult<()> {
        self.expect(b' ', "space")
    }

    /// Consumes `kw` (case-insensitive) if the next word is exactly it.
    pub fn keyword(&mut self, kw: &str) -> bool {
        let rest = self.rest();
        let n = kw.len();
        match rest.get(..n) {
            Some(w) if w.eq_ignore_ascii_case(kw.as_bytes()) => {
                if rest
                    .get(n)
                    .is_some_and(|&b| is_atom_char(b) && b != b'[' && b != b'.' && b != b'<')
                {
                    return false;
                }
                self.pos += n;
                true
            }
            _ => false,
        }
    }

    /// Enters a nested list; enforces [`Limits::max_depth`].
    pub fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(ParseError {
                tag: None,
                kind: ErrorKind::TooDeep,
                text: "Too deeply nested".into(),
            });
        }
        Ok(())
    }

    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a [u8] {
        let rest = self.rest();
        let n = rest.iter().position(|&b| !f(b)).unwrap_or(rest.len());
        self.pos += n;
        rest.get(..n).unwrap_or_default()
    }

    /// `atom = 1*ATOM-CHAR`
    pub fn atom(&mut self) -> PResult<&'a str> {
        let a = self.take_while(is_atom_char);
        if a.is_empty() {
            return syntax(format!("Expected atom at {}", self.snippet()));
        }
        // ATOM-CHAR is ASCII, so this cannot fail.
        std::str::from_utf8(a).or_else(|_| syntax("Invalid atom"))
    }

    /// A word made of `[A-Za-z0-9.-]`-ish atom characters, stopping at `[`, `<`, `.`-led sections
    /// are the caller's business. Used for command names and fetch attribute names.
    pub fn word(&mut self) -> &'a [u8] {
        self.take_while(|b| is_atom_char(b) && b != b'[' && b != b'<')
    }

    /// `number = 1*DIGIT` (fits in 32 bits)
    pub fn number(&mut self) -> PResult<u32> {
        let n = self.number64()?;
        u32::try_from(n).or_else(|_| syntax("Number too large"))
    }

    /// `nz-number = digit-nz *DIGIT`
    pub fn nz_number(&mut self) -> PResult<u32> {
        match self.number()? {
            0 => syntax("Expected a non-zero number"),
            n => Ok(n),
        }
    }

    /// `number64 = 1*DIGIT` (0 ≤ n < 2^63)
    pub fn number64(&mut self) -> PResult<u64> {
        let d = self.take_while(|b| b.is_ascii_digit());
        if d.is_empty() {
            return syntax(format!("Expected a number at {}", self.snippet()));
        }
        let n = d.iter().try_fold(0u64, |a, &c| {
            a.checked_mul(10)?.checked_add(u64::from(c - b'0'))
        });
        match n {
            Some(n) if n <= i64::MAX as u64 => Ok(n),
            _ => syntax("Number too large"),
        }
    }

    /// `quoted = DQUOTE *QUOTED-CHAR DQUOTE`;
    /// `QUOTED-CHAR = <any TEXT-CHAR except quoted-specials> / "\" quoted-specials / UTF8-2 / UTF8-3 / UTF8-4`
    pub fn quoted(&mut self) -> PResult<Cow<'a, [u8]>> {
        self.expect(b'"', "'\"'")?;
        let rest = self.rest();
        let mut owned: Option<Vec<u8>> = None;
        let mut i = 0;
        loop {
            match rest.get(i).copied() {
                None | Some(b'\r' | b'\n') => return syntax("Unterminated quoted string"),
                Some(0) => return syntax("NUL in quoted string"),
                Some(b'"') => {
                    self.pos += i + 1;
                    let raw = rest.get(..i).unwrap_or_default();
                    return Ok(match owned {
                        Some(v) => Cow::Owned(v),
                        None => Cow::Borrowed(raw),
                    });
                }
                Some(b'\\') => {
                    let c = match rest.get(i + 1).copied() {
                        Some(c @ (b'"' | b'\\')) => c,
                        _ => return syntax("Invalid escape in quoted string"),
                    };
                    let v = owned.get_or_insert_with(|| rest.get(..i).unwrap_or_default().to_vec());
                    v.push(c);
                    i += 2;
                }
                Some(c) => {
                    if let Some(v) = owned.as_mut() {
                        v.push(c);
                    }
                    i += 1;
                }
            }
        }
    }

    /// `literal = "{" number64 ["+"] "}" CRLF *CHAR8`; with `allow8`, also
    /// `literal8 = "~{" number64 ["+"] "}" CRLF *OCTET`. Returns the data and whether it was literal8.
    pub fn literal(&mut self, allow8: bool) -> PResult<(&'a [u8], bool)> {
        let binary = self.take(b'~');
        if binary && !allow8 {
            return syntax("literal8 not allowed here");
        }
        self.expect(b'{', "'{'")?;
        let len = self.number64()?;
        self.take(b'+');
        self.expect(b'}', "'}'")?;
        self.take(b'\r');
        self.expect(b'\n', "line end after literal announcement")?;
        let len = usize::try_from(len).or_else(|_| syntax("Literal too big"))?;
        let end = self.pos.checked_add(len).filter(|&e| e <= self.input.len());
        let Some(end) = end else {
            return syntax("Truncated literal");
        };
        let data = self.input.get(self.pos..end).unwrap_or_default();
        if !binary && data.contains(&0) {
            return syntax("NUL in literal (use literal8)");
        }
        self.pos = end;
        Ok((data, binary))
    }

    /// `string = quoted / literal`
    pub fn string(&mut self) -> PResult<Cow<'a, [u8]>> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{') => Ok(Cow::Borrowed(self.literal(false)?.0)),
            _ => syntax(format!("Expected string at {}", self.snippet())),
        }
    }

    /// `astring = 1*ASTRING-CHAR / string`
    pub fn astring(&mut self) -> PResult<Cow<'a, [u8]>> {
        match self.peek() {
            Some(b'"' | b'{') => self.string(),
            _ => {
                let a = self.take_while(is_astring_char);
                if a.is_empty() {
                    return syntax(format!("Expected astring at {}", self.snippet()));
                }
                Ok(Cow::Borrowed(a))
            }
        }
    }

    /// An astring that must be UTF-8 text.
    pub fn astring_utf8(&mut self) -> PResult<String> {
        let a = self.astring()?;
        String::from_utf8(a.into_owned()).or_else(|_| syntax("Invalid UTF-8"))
    }

    /// `nstring = string / nil`
    pub fn nstring(&mut self) -> PResult<Option<Cow<'a, [u8]>>> {
        if self.keyword("NIL") {
            Ok(None)
        } else {
            self.string().map(Some)
        }
    }

    /// `mailbox = "INBOX" / astring`
    pub fn mailbox(&mut self) -> PResult<Mailbox> {
        Ok(Mailbox::new(self.astring()?.into_owned()))
    }

    /// `list-mailbox = 1*list-char / string`
    pub fn list_mailbox(&mut self) -> PResult<Vec<u8>> {
        match self.peek() {
            Some(b'"' | b'{') => Ok(self.string()?.into_owned()),
            _ => {
                let a = self.take_while(is_list_char);
                if a.is_empty() {
                    return syntax(format!("Expected mailbox pattern at {}", self.snippet()));
                }
                Ok(a.to_vec())
            }
        }
    }

    /// `flag = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" / "\Draft" / flag-keyword / flag-extension`
    pub fn flag(&mut self) -> PResult<Flag> {
        let start = self.pos;
        self.take(b'\\');
        self.take_while(is_atom_char);
        let raw = self.input.get(start..self.pos).unwrap_or_default();
        let s = std::str::from_utf8(raw).unwrap_or_default();
        match Flag::parse(s) {
            Some(Flag::Recent) => syntax("\\Recent cannot be set"),
            Some(f) => Ok(f),
            None => syntax(format!("Invalid flag at {}", self.snippet())),
        }
    }

    /// `flag-list = "(" [flag *(SP flag)] ")"`
    pub fn flag_list(&mut self) -> PResult<Vec<Flag>> {
        self.expect(b'(', "'('")?;
        let mut v = Vec::new();
        if self.take(b')') {
            return Ok(v);
        }
        loop {
            v.push(self.flag()?);
            if self.take(b')') {
                return Ok(v);
            }
            self.sp()?;
        }
    }

    /// `"(" item *(SP item) ")"`, at least one item.
    pub fn paren_list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        self.expect(b'(', "'('")?;
        self.enter()?;
        let mut v = Vec::new();
        loop {
            v.push(item(self)?);
            if self.take(b')') {
                self.leave();
                return Ok(v);
            }
            self.sp()?;
        }
    }

    /// `sequence-set` (including `$`)
    pub fn sequence_set(&mut self) -> PResult<SequenceSet> {
        if self.take(b'$') {
            return Ok(SequenceSet::Saved);
        }
        let mut items = Vec::new();
        loop {
            let start = self.seq_number()?;
            let end = if self.take(b':') {
                self.seq_number()?
            } else {
                start
            };
            items.push(SeqItem { start, end });
            if !self.take(b',') {
                break;
            }
        }
        if self
            .peek()
            .is_some_and(|b| b != b' ' && b != b')' && b != b'\r' && b != b'\n')
        {
            return syntax("Invalid sequence set");
        }
        Ok(SequenceSet::Items(items))
    }

    fn seq_number(&mut self) -> PResult<SeqBound> {
        if self.take(b'*') {
            return Ok(SeqBound::Star);
        }
        match self.peek() {
            Some(b'1'..=b'9') => Ok(SeqBound::Num(
                self.nz_number()
                    .or_else(|_| syntax("Invalid sequence set"))?,
            )),
            _ => syntax("Invalid sequence set"),
        }
    }

    fn month(&mut self) -> PResult<u8> {
        let m = self.rest().get(..3).unwrap_or_default();
        let idx = MONTHS
            .iter()
            .position(|n| n.as_bytes().eq_ignore_ascii_case(m));
        match idx {
            Some(i) => {
                self.pos += 3;
                Ok(i as u8 + 1)
            }
            None => syntax("Invalid month"),
        }
    }

    fn digits(&mut self, n: usize) -> PResult<u32> {
        let d = self.rest().get(..n).unwrap_or_default();
        if d.len() != n || !d.iter().all(u8::is_ascii_digit) {
            return syntax("Invalid date");
        }
        self.pos += n;
        Ok(d.iter().fold(0u32, |a, &c| a * 10 + u32::from(c - b'0')))
    }

    /// `date = date-text / DQUOTE date-text DQUOTE`; `date-text = date-day "-" date-month "-" date-year`
    pub fn date(&mut self) -> PResult<Date> {
        let q = self.take(b'"');
        let d1 = self.digits(1)?;
        let day = match self.digits(1) {
            Ok(d2) => d1 * 10 + d2,
            Err(_) => d1,
        };
        self.expect(b'-', "'-' in date")?;
        let month = self.month()?;
        self.expect(b'-', "'-' in date")?;
        let year = self.digits(4)? as u16;
        if q {
            self.expect(b'"', "'\"' after date")?;
        }
        if day == 0 || day > u32::from(days_in_month(year, month)) {
            return syntax("Invalid date");
        }
        Ok(Date {
            year,
            month,
            day: day as u8,
        })
    }

    /// `date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE`
    pub fn date_time(&mut self) -> PResult<DateTime> {
        self.expect(b'"', "'\"'")?;
        let day = if self.take(b' ') {
            self.digits(1)?
        } else {
            self.digits(2)?
        };
        self.expect(b'-', "'-' in date-time")?;
        let month = self.month()?;
        self.expect(b'-', "'-' in date-time")?;
        let year = self.digits(4)? as u16;
        self.sp()?;
        let hour = self.digits(2)?;
        self.expect(b':', "':'")?;
        let minute = self.digits(2)?;
        self.expect(b':', "':'")?;
        let second = self.digits(2)?;
        self.sp()?;
        let sign = match self.peek() {
            Some(b'+') => 1i16,
            Some(b'-') => -1,
            _ => return syntax("Invalid time zone"),
        };
        self.pos += 1;
        let zh = self.digits(2)?;
        let zm = self.digits(2)?;
        self.expect(b'"', "'\"' after date-time")?;
        if day == 0
            || day > u32::from(days_in_month(year, month))
            || hour > 23
            || minute > 59
            || second > 60
            || zm > 59
        {
            return syntax("Invalid date-time");
        }
        Ok(DateTime {
            year,
            month,
            day: day as u8,
            hour: hour as u8,
            minute: minute as u8,
            second: second as u8,
            zone_minutes: sign * (zh as i16 * 60 + zm as i16),
        })
    }
}

impl Parser<'_> {
    /// The byte `n` positions after the cursor.
    pub fn peek_at(&self, n: usize) -> Option<u8> {
        self.input.get(self.pos + n).copied()
    }
}
