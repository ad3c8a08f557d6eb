//! The response encoder: the only place that turns [`Response`] values into bytes.
//!
//! Strings go out as atoms (where the grammar allows and it is legal), quoted strings when safe
//! (no CR/LF/NUL, 7-bit unless [`EncodeOptions::utf8`]), and literals otherwise. Message data
//! (BODY[], BINARY[], RFC822*) is always a literal; BINARY data with a NUL uses literal8.

mod body;
mod data;

use crate::sequence::{SeqBound, SequenceSet};
use crate::types::datetime::MONTHS;
use crate::types::{
    Code, Continuation, DateTime, Flag, FlagPerm, Mailbox, Response, StatusKind, StatusResponse,
};

/// How to write strings and mailbox names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EncodeOptions {
    /// UTF-8 may appear in quoted strings (IMAP4rev2 or UTF8=ACCEPT enabled).
    pub utf8: bool,
    pub mailbox: MailboxEncoding,
}

/// How mailbox names in responses go on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MailboxEncoding {
    /// Bytes as held (UTF-8 for IMAP4rev2 / UTF8=ACCEPT, or names already in modified UTF-7).
    #[default]
    Raw,
    /// The held UTF-8 name is converted to modified UTF-7 (IMAP4rev1 clients).
    Utf7,
}

/// Appends the wire form of `r` (including the final CRLF) to `out`.
pub fn encode_response(r: &Response, out: &mut Vec<u8>, opts: &EncodeOptions) {
    let mut w = Writer { out, opts };
    match r {
        Response::Status(s) => w.status(s),
        Response::Continuation(c) => {
            w.raw(b"+ ");
            match c {
                Continuation::Text(t) if t.is_empty() => {}
                Continuation::Text(t) => w.text(t),
                Continuation::Base64(b) => base64(w.out, b),
            }
        }
        Response::Data(d) => {
            w.raw(b"* ");
            w.data(d);
        }
    }
    w.raw(b"\r\n");
}

/// Convenience: the encoded bytes of one response.
pub fn to_bytes(r: &Response, opts: &EncodeOptions) -> Vec<u8> {
    let mut v = Vec::new();
    encode_response(r, &mut v, opts);
    v
}

pub(crate) struct Writer<'a> {
    pub out: &'a mut Vec<u8>,
    pub opts: &'a EncodeOptions,
}

/// Longest string written quoted; longer ones become literals.
const MAX_QUOTED: usize = 1024;

impl Writer<'_> {
    pub fn raw(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    pub fn num(&mut self, n: impl Into<u64>) {
        let mut buf = [0u8; 20];
        let mut n: u64 = n.into();
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.out.extend_from_slice(&buf[i..]);
    }

    /// `text = 1*TEXT-CHAR`: CR and LF become spaces; empty text is never written empty.
    pub fn text(&mut self, t: &str) {
        let t = if t.is_empty() { "Completed" } else { t };
        self.out.extend(t.bytes().map(|b| {
            if b == b'\r' || b == b'\n' || b == 0 {
                b' '
            } else {
                b
            }
        }));
    }

    fn quotable(&self, s: &[u8]) -> bool {
        s.len() <= MAX_QUOTED
            && s.iter()
                .all(|&b| b != 0 && b != b'\r' && b != b'\n' && (b < 0x80 || self.opts.utf8))
            && (s.is_ascii() || std::str::from_utf8(s).is_ok())
    }

    /// `string = quoted / literal`
    pub fn string(&mut self, s: &[u8]) {
        if self.quotable(s) {
            self.out.push(b'"');
            for &b in s {
                if b == b'"' || b == b'\\' {
                    self.out.push(b'\\');
                }
                self.out.push(b);
            }
            self.out.push(b'"');
        } else {
            self.literal(s, false);
        }
    }

    /// `nstring = string / nil`
    pub fn nstring(&mut self, s: Option<&[u8]>) {
        match s {
            Some(s) => self.string(s),
            None => self.raw(b"NIL"),
        }
    }

    /// `astring = 1*ASTRING-CHAR / string`
    pub fn astring(&mut self, s: &[u8]) {
        if !s.is_empty()
            && s.iter().all(|&b| crate::types::is_astring_char(b))
            && !s.eq_ignore_ascii_case(b"NIL")
        {
            self.raw(s);
        } else {
            self.string(s);
        }
    }

    /// `literal = "{" number64 "}" CRLF *CHAR8`, or `literal8 = "~{" number64 "}" CRLF *OCTET`.
    pub fn literal(&mut self, s: &[u8], binary: bool) {
        if binary {
            self.out.push(b'~');
        }
        self.out.push(b'{');
        self.num(s.len() as u64);
        self.raw(b"}\r\n");
        self.raw(s);
    }

    /// `mailbox`, converted per [`EncodeOptions::mailbox`], written as a string.
    pub fn mailbox(&mut self, m: &Mailbox) {
        match (self.opts.mailbox, m.as_str()) {
            (MailboxEncoding::Utf7, Some(s)) if !s.is_ascii() || s.contains('&') => {
                let enc = crate::utf7::encode(s);
                self.string(enc.as_bytes());
            }
            _ => self.string(m.as_bytes()),
        }
    }

    /// `DQUOTE QUOTED-CHAR DQUOTE / nil`
    pub fn delimiter(&mut self, d: Option<char>) {
        match d {
            Some(c) => {
                let mut b = [0u8; 4];
                self.string(c.encode_utf8(&mut b).as_bytes());
            }
            None => self.raw(b"NIL"),
        }
    }

    /// `date-time`
    pub fn date_time(&mut self, d: &DateTime) {
        let month = MONTHS
            .get(usize::from(d.month.saturating_sub(1)))
            .copied()
            .unwrap_or("Jan");
        let z = d.zone_minutes;
        let s = format!(
            "\"{:02}-{}-{:04} {:02}:{:02}:{:02} {}{:02}{:02}\"",
            d.day,
            month,
            d.year,
            d.hour,
            d.minute,
            d.second,
            if z < 0 { '-' } else { '+' },
            z.unsigned_abs() / 60,
            z.unsigned_abs() % 60
        );
        self.raw(s.as_bytes());
    }

    pub fn sequence_set(&mut self, s: &SequenceSet) {
        match s {
            SequenceSet::Saved => self.raw(b"$"),
            SequenceSet::Items(items) => {
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        self.raw(b",");
                    }
                    self.seq_bound(it.start);
                    if it.end != it.start {
                        self.raw(b":");
                        self.seq_bound(it.end);
                    }
                }
            }
        }
    }

    fn seq_bound(&mut self, b: SeqBound) {
        match b {
            SeqBound::Num(n) => self.num(n),
            SeqBound::Star => self.raw(b"*"),
        }
    }

    pub fn flag(&mut self, f: &Flag) {
        self.raw(f.as_str().as_bytes());
    }

    pub fn flag_list(&mut self, flags: &[Flag]) {
        self.list(flags, |w, f| w.flag(f));
    }

    /// `"(" [item *(SP item)] ")"`
    pub fn list<T>(&mut self, items: &[T], mut f: impl FnMut(&mut Self, &T)) {
        self.raw(b"(");
        self.sep(items, b" ", &mut f);
        self.raw(b")");
    }

    /// Items separated by `sep`, without parentheses.
    pub fn sep<T>(&mut self, items: &[T], sep: &[u8], mut f: impl FnMut(&mut Self, &T)) {
        for (i, it) in items.iter().enumerate() {
            if i > 0 {
                self.raw(sep);
            }
            f(self, it);
        }
    }

    /// Atoms separated by SP (capabilities, ENABLED).
    pub fn atoms(&mut self, items: &[String]) {
        self.sep(items, b" ", |w, a| w.raw(a.as_bytes()));
    }

    fn status(&mut self, s: &StatusResponse) {
        match &s.tag {
            Some(t) => self.raw(t.as_str().as_bytes()),
            None => self.raw(b"*"),
        }
        self.raw(match s.kind {
            StatusKind::Ok => b" OK ",
            StatusKind::No => b" NO ",
            StatusKind::Bad => b" BAD ",
            StatusKind::PreAuth => b" PREAUTH ",
            StatusKind::Bye => b" BYE ",
        });
        if let Some(c) = &s.code {
            self.raw(b"[");
            self.code(c);
            self.raw(b"] ");
        }
        self.text(&s.text);
    }

    /// `resp-text-code`
    pub fn code(&mut self, c: &Code) {
        let simple: &[u8] = match c {
            Code::Alert => b"ALERT",
            Code::Parse => b"PARSE",
            Code::ReadOnly => b"READ-ONLY",
            Code::ReadWrite => b"READ-WRITE",
            Code::TryCreate => b"TRYCREATE",
            Code::UidNotSticky => b"UIDNOTSTICKY",
            Code::NoModSeq => b"NOMODSEQ",
            Code::Closed => b"CLOSED",
            Code::NotSaved => b"NOTSAVED",
            Code::Unavailable => b"UNAVAILABLE",
            Code::AuthenticationFailed => b"AUTHENTICATIONFAILED",
            Code::AuthorizationFailed => b"AUTHORIZATIONFAILED",
            Code::Expired => b"EXPIRED",
            Code::PrivacyRequired => b"PRIVACYREQUIRED",
            Code::ContactAdmin => b"CONTACTADMIN",
            Code::NoPerm => b"NOPERM",
            Code::InUse => b"INUSE",
            Code::ExpungeIssued => b"EXPUNGEISSUED",
            Code::Corruption => b"CORRUPTION",
            Code::ServerBug => b"SERVERBUG",
            Code::ClientBug => b"CLIENTBUG",
            Code::Cannot => b"CANNOT",
            Code::Limit => b"LIMIT",
            Code::OverQuota => b"OVERQUOTA",
            Code::AlreadyExists => b"ALREADYEXISTS",
            Code::NonExistent => b"NONEXISTENT",
            Code::HasChildren => b"HASCHILDREN",
            Code::TooBig => b"TOOBIG",
            Code::CompressionActive => b"COMPRESSIONACTIVE",
            Code::UnknownCte => b"UNKNOWN-CTE",
            Code::NotificationOverflow => b"NOTIFICATIONOVERFLOW",
            Code::UseAttr => b"USEATTR",
            Code::UidRequired => b"UIDREQUIRED",
            _ => b"",
        };
        if !simple.is_empty() {
            return self.raw(simple);
        }
        match c {
            Code::BadCharset(cs) => {
                self.raw(b"BADCHARSET");
                if !cs.is_empty() {
                    self.raw(b" ");
                    self.list(cs, |w, c| w.astring(c.as_bytes()));
                }
            }
            Code::Capability(caps) => {
                self.raw(b"CAPABILITY ");
                self.atoms(caps);
            }
            Code::PermanentFlags(flags) => {
                self.raw(b"PERMANENTFLAGS ");
                self.list(flags, |w, f| match f {
                    FlagPerm::Flag(f) => w.flag(f),
                    FlagPerm::Wildcard => w.raw(b"\\*"),
                });
            }
            Code::UidNext(n) => self.code_num(b"UIDNEXT ", u64::from(*n)),
            Code::UidValidity(n) => self.code_num(b"UIDVALIDITY ", u64::from(*n)),
            Code::Unseen(n) => self.code_num(b"UNSEEN ", u64::from(*n)),
            Code::HighestModSeq(n) => self.code_num(b"HIGHESTMODSEQ ", *n),
            Code::AppendUid { uidvalidity, uids } => {
                self.code_num(b"APPENDUID ", u64::from(*uidvalidity));
                self.raw(b" ");
                self.sequence_set(uids);
            }
            Code::CopyUid {
                uidvalidity,
                source,
                dest,
            } => {
                self.code_num(b"COPYUID ", u64::from(*uidvalidity));
                self.raw(b" ");
                self.sequence_set(source);
                self.raw(b" ");
                self.sequence_set(dest);
            }
            Code::Modified(set) => {
                self.raw(b"MODIFIED ");
                self.sequence_set(set);
            }
            Code::MailboxId(id) => {
                self.raw(b"MAILBOXID (");
                self.raw(id.as_bytes());
                self.raw(b")");
            }
            Code::BadEvent(events) => {
                self.raw(b"BADEVENT ");
                self.list(events, |w, e| w.raw(e.as_bytes()));
            }
            Code::Other(atom, text) => {
                self.raw(atom.as_bytes());
                if let Some(t) = text {
                    self.raw(b" ");
                    self.out
                        .extend(t.bytes().filter(|&b| b != b']' && b != b'\r' && b != b'\n'));
                }
            }
            _ => {}
        }
    }

    fn code_num(&mut self, name: &[u8], n: u64) {
        self.raw(name);
        self.num(n);
    }
}

/// Standard base64 with padding (RFC 4648), for SASL challenges.
pub(crate) fn base64(out: &mut Vec<u8>, data: &[u8]) {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
}
