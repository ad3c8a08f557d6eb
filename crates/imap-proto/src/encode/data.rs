//! Untagged data responses (`response-data`).

use super::Writer;
use crate::types::{
    Data, ESearchData, ESearchItem, FetchItem, ListData, ListExtendedItem, MetadataEntries,
    NamespaceDesc, Section, SectionText, StatusValue, Thread,
};

impl Writer<'_> {
    pub(crate) fn data(&mut self, d: &Data) {
        match d {
            Data::Capability(caps) => {
                self.raw(b"CAPABILITY ");
                self.atoms(caps);
            }
            Data::Enabled(caps) => {
                self.raw(b"ENABLED");
                for c in caps {
                    self.raw(b" ");
                    self.raw(c.as_bytes());
                }
            }
            Data::Id(params) => {
                self.raw(b"ID ");
                match params {
                    None => self.raw(b"NIL"),
                    Some(ps) => self.list(ps, |w, (k, v)| {
                        w.string(k.as_bytes());
                        w.raw(b" ");
                        w.nstring(v.as_deref().map(str::as_bytes));
                    }),
                }
            }
            Data::Namespace {
                personal,
                other,
                shared,
            } => {
                self.raw(b"NAMESPACE ");
                self.namespace(personal);
                self.raw(b" ");
                self.namespace(other);
                self.raw(b" ");
                self.namespace(shared);
            }
            Data::List(l) => {
                self.raw(b"LIST ");
                self.list_data(l);
            }
            Data::Lsub(l) => {
                self.raw(b"LSUB ");
                self.list_data(l);
            }
            Data::Status { mailbox, items } => {
                self.raw(b"STATUS ");
                self.mailbox(mailbox);
                self.raw(b" ");
                self.list(items, Self::status_value);
            }
            Data::Flags(flags) => {
                self.raw(b"FLAGS ");
                self.flag_list(flags);
            }
            Data::Exists(n) => self.num_then(u64::from(*n), b" EXISTS"),
            Data::Recent(n) => self.num_then(u64::from(*n), b" RECENT"),
            Data::Expunge(n) => self.num_then(u64::from(*n), b" EXPUNGE"),
            Data::Vanished { earlier, uids } => {
                self.raw(if *earlier {
                    b"VANISHED (EARLIER) "
                } else {
                    b"VANISHED "
                });
                self.sequence_set(uids);
            }
            Data::Search { ids, modseq } => self.id_list(b"SEARCH", ids, *modseq),
            Data::Sort { ids, modseq } => self.id_list(b"SORT", ids, *modseq),
            Data::ESearch(e) => self.esearch(e),
            Data::Thread(threads) => {
                self.raw(b"THREAD");
                if !threads.is_empty() {
                    self.raw(b" ");
                }
                for t in threads {
                    self.thread(t);
                }
            }
            Data::Fetch { seq, items } => {
                self.num_then(u64::from(*seq), b" FETCH ");
                self.list(items, Self::fetch_item);
            }
            Data::UidFetch { uid, items } => {
                self.num_then(u64::from(*uid), b" UIDFETCH ");
                self.list(items, Self::fetch_item);
            }
            Data::Quota { root, resources } => {
                self.raw(b"QUOTA ");
                self.astring(root);
                self.raw(b" ");
                self.list(resources, |w, (name, usage, limit)| {
                    w.raw(name.as_bytes());
                    w.raw(b" ");
                    w.num(*usage);
                    w.raw(b" ");
                    w.num(*limit);
                });
            }
            Data::QuotaRoot { mailbox, roots } => {
                self.raw(b"QUOTAROOT ");
                self.mailbox(mailbox);
                for r in roots {
                    self.raw(b" ");
                    self.astring(r);
                }
            }
            Data::Metadata { mailbox, entries } => {
                self.raw(b"METADATA ");
                self.mailbox(mailbox);
                self.raw(b" ");
                match entries {
                    MetadataEntries::Values(v) => self.list(v, |w, (k, val)| {
                        w.astring(k.as_bytes());
                        w.raw(b" ");
                        match val {
                            Some(b) if b.contains(&0) => w.literal(b, true),
                            Some(b) => w.string(b),
                            None => w.raw(b"NIL"),
                        }
                    }),
                    MetadataEntries::List(v) => self.sep(v, b" ", |w, k| w.astring(k.as_bytes())),
                }
            }
            Data::Acl { mailbox, entries } => {
                self.raw(b"ACL ");
                self.mailbox(mailbox);
                for (id, rights) in entries {
                    self.raw(b" ");
                    self.astring(id);
                    self.raw(b" ");
                    self.astring(rights.as_bytes());
                }
            }
            Data::ListRights {
                mailbox,
                identifier,
                required,
                optional,
            } => {
                self.raw(b"LISTRIGHTS ");
                self.mailbox(mailbox);
                self.raw(b" ");
                self.astring(identifier);
                self.raw(b" ");
                self.string(required.as_bytes());
                for r in optional {
                    self.raw(b" ");
                    self.astring(r.as_bytes());
                }
            }
            Data::MyRights { mailbox, rights } => {
                self.raw(b"MYRIGHTS ");
                self.mailbox(mailbox);
                self.raw(b" ");
                self.astring(rights.as_bytes());
            }
        }
    }

    fn num_then(&mut self, n: u64, s: &[u8]) {
        self.num(n);
        self.raw(s);
    }

    fn namespace(&mut self, ns: &[NamespaceDesc]) {
        if ns.is_empty() {
            return self.raw(b"NIL");
        }
        self.raw(b"(");
        for d in ns {
            self.raw(b"(");
            self.mailbox(&d.prefix);
            self.raw(b" ");
            self.delimiter(d.delimiter);
            self.raw(b")");
        }
        self.raw(b")");
    }

    fn list_data(&mut self, l: &ListData) {
        self.list(&l.attributes, |w, a| w.raw(a.as_str().as_bytes()));
        self.raw(b" ");
        self.delimiter(l.delimiter);
        self.raw(b" ");
        self.mailbox(&l.mailbox);
        if !l.extended.is_empty() {
            self.raw(b" ");
            self.list(&l.extended, |w, item| match item {
                ListExtendedItem::ChildInfo(tags) => {
                    w.raw(b"\"CHILDINFO\" ");
                    w.list(tags, |w, t| w.string(t.as_bytes()));
                }
                ListExtendedItem::OldName(m) => {
                    w.raw(b"\"OLDNAME\" (");
                    w.mailbox(m);
                    w.raw(b")");
                }
            });
        }
    }

    fn status_value(&mut self, v: &StatusValue) {
        let (name, n): (&[u8], u64) = match v {
            StatusValue::Messages(n) => (b"MESSAGES ", u64::from(*n)),
            StatusValue::UidNext(n) => (b"UIDNEXT ", u64::from(*n)),
            StatusValue::UidValidity(n) => (b"UIDVALIDITY ", u64::from(*n)),
            StatusValue::Unseen(n) => (b"UNSEEN ", u64::from(*n)),
            StatusValue::Deleted(n) => (b"DELETED ", u64::from(*n)),
            StatusValue::Size(n) => (b"SIZE ", *n),
            StatusValue::Recent(n) => (b"RECENT ", u64::from(*n)),
            StatusValue::HighestModSeq(n) => (b"HIGHESTMODSEQ ", *n),
            StatusValue::MailboxId(id) => {
                self.raw(b"MAILBOXID (");
                self.raw(id.as_bytes());
                return self.raw(b")");
            }
            StatusValue::AppendLimit(None) => return self.raw(b"APPENDLIMIT NIL"),
            StatusValue::AppendLimit(Some(n)) => (b"APPENDLIMIT ", *n),
        };
        self.raw(name);
        self.num(n);
    }

    fn id_list(&mut self, name: &[u8], ids: &[u32], modseq: Option<u64>) {
        self.raw(name);
        for id in ids {
            self.raw(b" ");
            self.num(*id);
        }
        if let Some(m) = modseq {
            self.raw(b" (MODSEQ ");
            self.num(m);
            self.raw(b")");
        }
    }

    fn esearch(&mut self, e: &ESearchData) {
        self.raw(b"ESEARCH");
        if let Some(t) = &e.tag {
            self.raw(b" (TAG ");
            self.string(t.as_str().as_bytes());
            self.raw(b")");
        }
        if e.uid {
            self.raw(b" UID");
        }
        for item in &e.items {
            self.raw(b" ");
            match item {
                ESearchItem::Min(n) => self.num_then_pre(b"MIN ", u64::from(*n)),
                ESearchItem::Max(n) => self.num_then_pre(b"MAX ", u64::from(*n)),
                ESearchItem::Count(n) => self.num_then_pre(b"COUNT ", u64::from(*n)),
                ESearchItem::ModSeq(n) => self.num_then_pre(b"MODSEQ ", *n),
                ESearchItem::All(set) => {
                    self.raw(b"ALL ");
                    self.sequence_set(set);
                }
                ESearchItem::Partial { range, results } => {
                    self.raw(b"PARTIAL (");
                    let s = format!("{}:{}", range.first, range.last);
                    self.raw(s.as_bytes());
                    self.raw(b" ");
                    match results {
                        Some(set) => self.sequence_set(set),
                        None => self.raw(b"NIL"),
                    }
                    self.raw(b")");
                }
            }
        }
    }

    fn num_then_pre(&mut self, name: &[u8], n: u64) {
        self.raw(name);
        self.num(n);
    }

    /// `thread-list = "(" (thread-members / thread-nested) ")"`
    fn thread(&mut self, t: &Thread) {
        self.raw(b"(");
        self.thread_inner(t);
        self.raw(b")");
    }

    fn thread_inner(&mut self, t: &Thread) {
        self.sep(&t.chain, b" ", |w, n| w.num(*n));
        match t.children.as_slice() {
            [] => {}
            [only] if !t.chain.is_empty() => {
                // A single child continues the chain.
                self.raw(b" ");
                self.thread_inner(only);
            }
            children => {
                if !t.chain.is_empty() {
                    self.raw(b" ");
                }
                for c in children {
                    self.thread(c);
                }
            }
        }
    }

    pub(crate) fn section(&mut self, s: &Section) {
        self.raw(b"[");
        self.sep(&s.part, b".", |w, n| w.num(*n));
        if let Some(text) = &s.text {
            if !s.part.is_empty() {
                self.raw(b".");
            }
            match text {
                SectionText::Header => self.raw(b"HEADER"),
                SectionText::Text => self.raw(b"TEXT"),
                SectionText::Mime => self.raw(b"MIME"),
                SectionText::HeaderFields { not, fields } => {
                    self.raw(if *not {
                        b"HEADER.FIELDS.NOT "
                    } else {
                        b"HEADER.FIELDS "
                    });
                    self.list(fields, |w, f| w.astring(f.as_bytes()));
                }
            }
        }
        self.raw(b"]");
    }

    fn origin(&mut self, o: Option<u64>) {
        if let Some(o) = o {
            self.raw(b"<");
            self.num(o);
            self.raw(b">");
        }
    }

    fn literal_data(&mut self, d: Option<&[u8]>, allow8: bool) {
        match d {
            Some(d) => self.literal(d, allow8 && d.contains(&0)),
            None => self.raw(b"NIL"),
        }
    }

    /// `msg-att-dynamic / msg-att-static`
    fn fetch_item(&mut self, item: &FetchItem) {
        match item {
            FetchItem::Flags(f) => {
                self.raw(b"FLAGS ");
                self.flag_list(f);
            }
            FetchItem::Uid(n) => self.num_then_pre(b"UID ", u64::from(*n)),
            FetchItem::InternalDate(d) => {
                self.raw(b"INTERNALDATE ");
                self.date_time(d);
            }
            FetchItem::Rfc822Size(n) => self.num_then_pre(b"RFC822.SIZE ", *n),
            FetchItem::ModSeq(n) => {
                self.num_then_pre(b"MODSEQ (", *n);
                self.raw(b")");
            }
            FetchItem::BodySection {
                section,
                origin,
                data,
            } => {
                self.raw(b"BODY");
                self.section(section);
                self.origin(*origin);
                self.raw(b" ");
                self.literal_data(data.as_deref(), false);
            }
            FetchItem::Binary { part, origin, data } => {
                self.raw(b"BINARY[");
                self.sep(part, b".", |w, n| w.num(*n));
                self.raw(b"]");
                self.origin(*origin);
                self.raw(b" ");
                self.literal_data(data.as_deref(), true);
            }
            FetchItem::BinarySize { part, size } => {
                self.raw(b"BINARY.SIZE[");
                self.sep(part, b".", |w, n| w.num(*n));
                self.raw(b"] ");
                self.num(*size);
            }
            FetchItem::Rfc822(d) => {
                self.raw(b"RFC822 ");
                self.literal_data(d.as_deref(), false);
            }
            FetchItem::Rfc822Header(d) => {
                self.raw(b"RFC822.HEADER ");
                self.literal_data(d.as_deref(), false);
            }
            FetchItem::Rfc822Text(d) => {
                self.raw(b"RFC822.TEXT ");
                self.literal_data(d.as_deref(), false);
            }
            FetchItem::Envelope(e) => {
                self.raw(b"ENVELOPE ");
                self.envelope(e);
            }
            FetchItem::BodyStructure(b) => {
                self.raw(b"BODYSTRUCTURE ");
                self.body(b, true);
            }
            FetchItem::Body(b) => {
                self.raw(b"BODY ");
                self.body(b, false);
            }
            FetchItem::EmailId(id) => {
                self.raw(b"EMAILID (");
                self.raw(id.as_bytes());
                self.raw(b")");
            }
            FetchItem::ThreadId(id) => match id {
                Some(id) => {
                    self.raw(b"THREADID (");
                    self.raw(id.as_bytes());
                    self.raw(b")");
                }
                None => self.raw(b"THREADID NIL"),
            },
            FetchItem::Preview(p) => {
                self.raw(b"PREVIEW ");
                self.nstring(p.as_deref().map(str::as_bytes));
            }
            FetchItem::SaveDate(d) => {
                self.raw(b"SAVEDATE ");
                match d {
                    Some(d) => self.date_time(d),
                    None => self.raw(b"NIL"),
                }
            }
        }
    }
}
