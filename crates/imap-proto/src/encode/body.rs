//! ENVELOPE and BODY/BODYSTRUCTURE encoding.

use super::Writer;
use crate::types::{
    Address, BodyFields, BodyStructure, Disposition, Envelope, NString, SinglePartKind,
};

impl Writer<'_> {
    /// `envelope = "(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP env-to SP env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")"`
    pub(crate) fn envelope(&mut self, e: &Envelope) {
        self.raw(b"(");
        self.nstring(e.date.as_deref());
        self.raw(b" ");
        self.nstring(e.subject.as_deref());
        for list in [&e.from, &e.sender, &e.reply_to, &e.to, &e.cc, &e.bcc] {
            self.raw(b" ");
            self.addresses(list);
        }
        self.raw(b" ");
        self.nstring(e.in_reply_to.as_deref());
        self.raw(b" ");
        self.nstring(e.message_id.as_deref());
        self.raw(b")");
    }

    /// `"(" 1*address ")" / nil`
    fn addresses(&mut self, list: &[Address]) {
        if list.is_empty() {
            return self.raw(b"NIL");
        }
        self.raw(b"(");
        for a in list {
            self.raw(b"(");
            self.nstring(a.name.as_deref());
            self.raw(b" ");
            self.nstring(a.adl.as_deref());
            self.raw(b" ");
            self.nstring(a.mailbox.as_deref());
            self.raw(b" ");
            self.nstring(a.host.as_deref());
            self.raw(b")");
        }
        self.raw(b")");
    }

    /// `body-fld-param = "(" string SP string *(SP string SP string) ")" / nil`
    fn params(&mut self, params: &[(String, Vec<u8>)]) {
        if params.is_empty() {
            return self.raw(b"NIL");
        }
        self.list(params, |w, (k, v)| {
            w.string(k.as_bytes());
            w.raw(b" ");
            w.string(v);
        });
    }

    fn fields(&mut self, f: &BodyFields) {
        self.params(&f.params);
        self.raw(b" ");
        self.nstring(f.id.as_deref());
        self.raw(b" ");
        self.nstring(f.description.as_deref());
        self.raw(b" ");
        self.string(f.encoding.as_bytes());
        self.raw(b" ");
        self.num(f.octets);
    }

    /// `body-fld-dsp SP body-fld-lang SP body-fld-loc`
    fn dsp_lang_loc(&mut self, dsp: &Option<Disposition>, lang: &[String], loc: &NString) {
        match dsp {
            Some(d) => {
                self.raw(b"(");
                self.string(d.kind.as_bytes());
                self.raw(b" ");
                self.params(&d.params);
                self.raw(b")");
            }
            None => self.raw(b"NIL"),
        }
        self.raw(b" ");
        match lang {
            [] => self.raw(b"NIL"),
            many => self.list(many, |w, l| w.string(l.as_bytes())),
        }
        self.raw(b" ");
        self.nstring(loc.as_deref());
    }

    /// `body = "(" (body-type-1part / body-type-mpart) ")"`; extension data only when `ext`
    /// (BODYSTRUCTURE), never for BODY.
    pub(crate) fn body(&mut self, b: &BodyStructure, ext: bool) {
        self.raw(b"(");
        match b {
            BodyStructure::Single {
                fields,
                kind,
                extension,
            } => {
                match kind {
                    SinglePartKind::Basic {
                        media_type,
                        subtype,
                    } => {
                        self.string(media_type.as_bytes());
                        self.raw(b" ");
                        self.string(subtype.as_bytes());
                        self.raw(b" ");
                        self.fields(fields);
                    }
                    SinglePartKind::Text {
                        media_type,
                        subtype,
                        lines,
                    } => {
                        if media_type.is_empty() {
                            self.raw(b"\"TEXT\" ");
                        } else {
                            self.string(media_type.as_bytes());
                            self.raw(b" ");
                        }
                        self.string(subtype.as_bytes());
                        self.raw(b" ");
                        self.fields(fields);
                        self.raw(b" ");
                        self.num(*lines);
                    }
                    SinglePartKind::Message {
                        subtype,
                        envelope,
                        body,
                        lines,
                    } => {
                        self.raw(b"\"message\" ");
                        self.string(subtype.as_bytes());
                        self.raw(b" ");
                        self.fields(fields);
                        self.raw(b" ");
                        self.envelope(envelope);
                        self.raw(b" ");
                        self.body(body, ext);
                        self.raw(b" ");
                        self.num(*lines);
                    }
                }
                if let (true, Some(e)) = (ext, extension) {
                    self.raw(b" ");
                    self.nstring(e.md5.as_deref());
                    self.raw(b" ");
                    self.dsp_lang_loc(&e.disposition, &e.language, &e.location);
                }
            }
            BodyStructure::Multipart {
                parts,
                subtype,
                extension,
            } => {
                for p in parts {
                    self.body(p, ext);
                }
                self.raw(b" ");
                self.string(subtype.as_bytes());
                if let (true, Some(e)) = (ext, extension) {
                    self.raw(b" ");
                    self.params(&e.params);
                    self.raw(b" ");
                    self.dsp_lang_loc(&e.disposition, &e.language, &e.location);
                }
            }
        }
        self.raw(b")");
    }
}
