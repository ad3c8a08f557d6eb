//! Per-message values that SEARCH's header and SENT* keys, SORT and THREAD
//! need, computed once at delivery so none of them reads the message again.

use tidemark_mime::MessageStructure;

use crate::date::{SentDate, parse_date};
use crate::decode::{decode_header_value, written_value};
use crate::{fold, sortkeys};

/// What SEARCH (header fields, sent date), SORT and THREAD use of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The first parseable `Date:` field.
    pub sent: Option<SentDate>,
    /// What SUBJECT/FROM/TO/CC/BCC search (RFC 9051: the envelope's
    /// fields), one line per occurrence of the field in the top-level header
    /// (joined by `\n`, which no line holds), folded; `None` when the message
    /// has no such field. Subjects have the whitespace runs written in the
    /// header made one space (as ENVELOPE shows them), then encoded words
    /// decoded; address fields are the parsed
    /// addresses written `name <mailbox@host>` (or `mailbox@host`), names
    /// decoded and whitespace collapsed, joined by `, `.
    pub subject: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub cc: Option<String>,
    pub bcc: Option<String>,
    /// SORT SUBJECT / THREAD key: the base subject (RFC 5256 2.1) of the
    /// first Subject field, in Dovecot's comparison form
    /// ([`sortkeys::base_subject`]); empty without a Subject field.
    pub base_subject: String,
    /// Whether extracting the base subject removed a reply or forward
    /// marker (THREAD REFERENCES step 5).
    pub subject_reply: bool,
    /// SORT DATE / THREAD date: the first `Date:` field as Dovecot stores
    /// it ([`sortkeys::dovecot_date`], [`sortkeys::stored_sent_date`]); 0
    /// when missing or invalid, meaning "use INTERNALDATE"
    /// ([`sortkeys::sort_date`]).
    pub sort_sent: u32,
    /// SORT FROM/TO/CC keys (RFC 5256): the first address's mailbox, in
    /// Dovecot's comparison form.
    pub sort_from: String,
    pub sort_to: String,
    pub sort_cc: String,
    /// SORT DISPLAYFROM/DISPLAYTO keys (RFC 5957).
    pub display_from: String,
    pub display_to: String,
    /// THREAD REFERENCES inputs: the first identifier of the first
    /// Message-ID field, the identifiers of the first References field (at
    /// most [`sortkeys::MAX_REFERENCES`], the last ones) and the first of
    /// the first In-Reply-To field ([`sortkeys::msg_ids`]).
    pub message_id: Option<String>,
    pub references: Vec<String>,
    pub in_reply_to: Option<String>,
}

impl Summary {
    pub fn new(raw: &[u8], structure: &MessageStructure) -> Self {
        let root = &structure.root;
        let raw_fields = tidemark_mime::header_fields(raw, root.header_start, root.body_start);
        let joined = |name: &str, render: &dyn Fn(&tidemark_mime::HeaderField<'_>) -> String| {
            let mut out: Option<String> = None;
            for f in raw_fields
                .iter()
                .filter(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
            {
                let o = out.get_or_insert_with(String::new);
                if !o.is_empty() {
                    o.push('\n');
                }
                o.push_str(&fold(&render(f)));
            }
            out
        };
        // As Dovecot compares: whitespace runs written in the header become
        // one space (unfolding, ENVELOPE's form), then encoded words are
        // decoded, their own whitespace kept as encoded.
        let subject = |f: &tidemark_mime::HeaderField<'_>| {
            decode_header_value(&tidemark_mime::for_humans(&written_value(raw, f)))
        };
        let addresses = |f: &tidemark_mime::HeaderField<'_>| {
            render_addresses(&tidemark_mime::parse_addresses(&f.value))
        };
        let first_raw = |name: &str| -> Option<&[u8]> {
            raw_fields
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
                .map(|f| f.value.as_slice())
        };
        let no_envelope = tidemark_mime::Envelope::default();
        let env = root.envelope.as_deref().unwrap_or(&no_envelope);
        let sent = raw_fields
            .iter()
            .filter(|f| f.name.eq_ignore_ascii_case(b"Date"))
            .find_map(|f| parse_date(&f.value));
        let (base_subject, subject_reply) =
            sortkeys::base_subject(first_raw("Subject").unwrap_or_default());
        let sort_sent =
            sortkeys::stored_sent_date(first_raw("Date").and_then(sortkeys::dovecot_date));
        Self {
            sent,
            subject: joined("Subject", &subject),
            from: joined("From", &addresses),
            to: joined("To", &addresses),
            cc: joined("Cc", &addresses),
            bcc: joined("Bcc", &addresses),
            base_subject,
            subject_reply,
            sort_sent,
            sort_from: sortkeys::sort_address(&env.from),
            sort_to: sortkeys::sort_address(&env.to),
            sort_cc: sortkeys::sort_address(&env.cc),
            display_from: sortkeys::display_address(&env.from, first_raw("From")),
            display_to: sortkeys::display_address(&env.to, first_raw("To")),
            message_id: first_raw("Message-ID").and_then(sortkeys::first_msg_id),
            references: first_raw("References")
                .map(sortkeys::msg_ids)
                .unwrap_or_default(),
            in_reply_to: first_raw("In-Reply-To").and_then(sortkeys::first_msg_id),
        }
    }

    /// A compact versioned binary form (stored with the message).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![VERSION];
        match self.sent {
            Some(d) => {
                out.push(1);
                out.extend_from_slice(&d.day.to_le_bytes());
                out.extend_from_slice(&d.utc.to_le_bytes());
            }
            None => out.push(0),
        }
        for s in [&self.subject, &self.from, &self.to, &self.cc, &self.bcc] {
            put_opt(&mut out, s.as_deref());
        }
        out.push(u8::from(self.subject_reply));
        out.extend_from_slice(&self.sort_sent.to_le_bytes());
        for s in [
            &self.base_subject,
            &self.sort_from,
            &self.sort_to,
            &self.sort_cc,
            &self.display_from,
            &self.display_to,
        ] {
            put(&mut out, s);
        }
        put_opt(&mut out, self.message_id.as_deref());
        put_opt(&mut out, self.in_reply_to.as_deref());
        out.extend_from_slice(&(self.references.len() as u32).to_le_bytes());
        for r in &self.references {
            put(&mut out, r);
        }
        out
    }

    /// Reads [`Summary::to_bytes`] output; `None` on corruption or another version.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        Self::decode(b, true)
    }

    /// [`Summary::from_bytes`] without the SUBJECT/FROM/TO/CC/BCC search
    /// text (left `None`): what SORT and THREAD read, without allocating
    /// the largest strings.
    pub fn keys_from_bytes(b: &[u8]) -> Option<Self> {
        Self::decode(b, false)
    }

    fn decode(b: &[u8], with_text: bool) -> Option<Self> {
        let mut r = Reader(b);
        if r.byte()? != VERSION {
            return None;
        }
        let sent = match r.byte()? {
            0 => None,
            1 => Some(SentDate {
                day: r.i64()?,
                utc: r.i64()?,
            }),
            _ => return None,
        };
        let mut text = || -> Option<Option<String>> {
            if with_text {
                r.opt()
            } else {
                r.skip_opt().map(|()| None)
            }
        };
        let (subject, from, to, cc, bcc) = (text()?, text()?, text()?, text()?, text()?);
        let subject_reply = match r.byte()? {
            0 => false,
            1 => true,
            _ => return None,
        };
        let sort_sent = r.u32()?;
        let mut s = Self {
            sent,
            subject,
            from,
            to,
            cc,
            bcc,
            subject_reply,
            sort_sent,
            base_subject: r.string()?,
            sort_from: r.string()?,
            sort_to: r.string()?,
            sort_cc: r.string()?,
            display_from: r.string()?,
            display_to: r.string()?,
            message_id: r.opt()?,
            in_reply_to: r.opt()?,
            references: Vec::new(),
        };
        let n = r.u32()? as usize;
        if n > r.0.len() / 4 {
            return None;
        }
        for _ in 0..n {
            s.references.push(r.string()?);
        }
        if !r.0.is_empty() {
            return None;
        }
        Some(s)
    }
}

/// Whitespace runs as one space, none at either end (ENVELOPE's form).
fn collapse_ws(s: &str) -> String {
    s.split([' ', '\t', '\r', '\n'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parsed addresses as text: `name <mailbox@host>` or `mailbox@host`,
/// groups as `name: ...;`, joined by `, `.
fn render_addresses(addrs: &[tidemark_mime::Address]) -> String {
    let text = |b: &Option<Vec<u8>>| {
        b.as_deref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    let mut out: Vec<String> = Vec::new();
    for a in addrs {
        match (text(&a.mailbox), text(&a.host)) {
            (Some(group), None) => out.push(format!(
                "{}:",
                collapse_ws(&decode_header_value(group.as_bytes()))
            )),
            (None, None) => out.push(";".into()),
            (mailbox, host) => {
                let spec = format!(
                    "{}@{}",
                    mailbox.unwrap_or_default(),
                    host.unwrap_or_default()
                );
                match a.name.as_deref().filter(|n| !n.is_empty()) {
                    Some(n) => {
                        out.push(format!("{} <{spec}>", collapse_ws(&decode_header_value(n))))
                    }
                    None => out.push(spec),
                }
            }
        }
    }
    out.join(", ")
}

/// Bumped whenever what [`Summary::new`] computes changes, so stores can
/// recompute old summaries.
pub const VERSION: u8 = 5;

fn put(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            out.push(1);
            put(out, s);
        }
        None => out.push(0),
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn string(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
    fn skip_opt(&mut self) -> Option<()> {
        match self.byte()? {
            0 => Some(()),
            1 => {
                let n = self.u32()? as usize;
                self.take(n).map(|_| ())
            }
            _ => None,
        }
    }
    fn opt(&mut self) -> Option<Option<String>> {
        match self.byte()? {
            0 => Some(None),
            1 => Some(Some(self.string()?)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_fields() {
        let raw = b"From: =?UTF-8?Q?J=C3=B6rg?= <Joerg@Example.org>\r\n\
            To: a@x.org, b@y.org\r\n\
            Subject: Re: [list] Hello\r\n\
            Date: Tue, 2 Jan 2024 23:30:00 -0500\r\n\
            Message-ID: <m2@x>\r\n\
            References: <m0@x> <m1@x>\r\n\
            In-Reply-To: <m1@x>\r\n\r\nbody\r\n";
        let st = tidemark_mime::parse(raw);
        let s = Summary::new(raw, &st);
        assert_eq!(s.from, Some(fold("Jörg <Joerg@Example.org>")));
        assert_eq!(s.cc, None);
        assert_eq!(
            s.sent.unwrap().day,
            crate::date::days_from_civil(2024, 1, 2)
        );
        assert_eq!(s.message_id.as_deref(), Some("m2@x"));
        assert_eq!(s.references, vec!["m0@x".to_string(), "m1@x".to_string()]);
        assert_eq!(s.in_reply_to.as_deref(), Some("m1@x"));
        assert_eq!(s.base_subject, "HELLO");
        assert!(s.subject_reply);
        assert_eq!(s.sort_from, "JOERG");
        assert_eq!(s.display_from, "JO\u{308}RG");
        assert_eq!(s.sort_to, "A");
        assert_eq!(s.sort_cc, "");
        let utc = crate::date::days_from_civil(2024, 1, 3) * 86_400 + 4 * 3600 + 30 * 60;
        assert_eq!(i64::from(s.sort_sent), utc);
        let b = s.to_bytes();
        let keys = Summary::keys_from_bytes(&b).expect("keys");
        assert_eq!((keys.from, keys.subject), (None, None));
        assert_eq!(keys.message_id, s.message_id);
        assert_eq!(keys.references, s.references);
        assert_eq!(Summary::from_bytes(&b), Some(s));
        assert_eq!(Summary::from_bytes(&b[..b.len() - 1]), None);
        assert_eq!(Summary::from_bytes(b"\x09"), None);
    }
}
