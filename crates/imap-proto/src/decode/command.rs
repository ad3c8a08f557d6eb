//! `command = tag SP (command-any / command-auth / command-nonauth / command-select) CRLF`

use super::parser::{PResult, ParseError, Parser, syntax};
use super::{ErrorKind, Limits, fetch, search};
use crate::types::*;

/// Every command name we know, with whether it takes the `UID` prefix.
const NAMES: &[&str] = &[
    "CAPABILITY",
    "NOOP",
    "LOGOUT",
    "STARTTLS",
    "AUTHENTICATE",
    "LOGIN",
    "ENABLE",
    "ID",
    "SELECT",
    "EXAMINE",
    "CREATE",
    "DELETE",
    "RENAME",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "LIST",
    "LSUB",
    "NAMESPACE",
    "STATUS",
    "APPEND",
    "IDLE",
    "CHECK",
    "CLOSE",
    "UNSELECT",
    "EXPUNGE",
    "SEARCH",
    "FETCH",
    "STORE",
    "COPY",
    "MOVE",
    "SORT",
    "THREAD",
    "COMPRESS",
    "GETQUOTA",
    "GETQUOTAROOT",
    "SETQUOTA",
    "GETACL",
    "SETACL",
    "DELETEACL",
    "LISTRIGHTS",
    "MYRIGHTS",
    "GETMETADATA",
    "SETMETADATA",
    "NOTIFY",
    "UNAUTHENTICATE",
];
const UID_NAMES: &[&str] = &[
    "FETCH", "STORE", "COPY", "MOVE", "SEARCH", "SORT", "THREAD", "EXPUNGE",
];

fn tag(p: &mut Parser<'_>) -> PResult<Tag> {
    let w = p.word();
    let s = std::str::from_utf8(w).unwrap_or_default();
    match Tag::new(s) {
        Some(t) if p.peek() == Some(b' ') || p.at_eol() => Ok(t),
        _ => syntax("Invalid tag"),
    }
}

/// Reads `tag SP name [SP uid-name]`; returns the tag, the upper-cased name and the UID mode.
fn head(p: &mut Parser<'_>) -> PResult<(Tag, String, UidMode)> {
    let t = tag(p)?;
    let with_tag = |mut e: ParseError| {
        e.tag = Some(t.clone());
        e
    };
    if p.at_eol() {
        return Err(with_tag(ParseError {
            tag: None,
            kind: ErrorKind::Syntax,
            text: "Missing command".into(),
        }));
    }
    p.sp().map_err(with_tag)?;
    let mut name = String::from_utf8_lossy(p.word()).to_ascii_uppercase();
    let mut mode = UidMode::Sequence;
    if name == "UID" {
        if !p.take(b' ') {
            return Err(with_tag(ParseError {
                tag: None,
                kind: ErrorKind::Syntax,
                text: "Missing argument: UID command".into(),
            }));
        }
        mode = UidMode::Uid;
        name = String::from_utf8_lossy(p.word()).to_ascii_uppercase();
        if !UID_NAMES.contains(&name.as_str()) {
            return Err(with_tag(ParseError {
                tag: None,
                kind: ErrorKind::UnknownCommand,
                text: format!("Unknown UID command: {name}"),
            }));
        }
    } else if !NAMES.contains(&name.as_str()) {
        let text = if name.is_empty() {
            "Missing command".to_owned()
        } else {
            format!("Unknown command: {name}")
        };
        let kind = if name.is_empty() {
            ErrorKind::Syntax
        } else {
            ErrorKind::UnknownCommand
        };
        return Err(with_tag(ParseError {
            tag: None,
            kind,
            text,
        }));
    }
    Ok((t, name, mode))
}

/// Checks tag and command name on the first line of a command before any literal is accepted.
pub(crate) fn precheck(line: &[u8]) -> PResult<()> {
    let mut p = Parser::new(line, &Limits::default());
    head(&mut p).map(|_| ())
}

/// Parses one complete command frame (all lines and literals, ending with the final line end).
pub(crate) fn parse_command(frame: &[u8], limits: &Limits) -> PResult<Command> {
    let mut p = Parser::new(frame, limits);
    let (tag, name, mode) = head(&mut p)?;
    let body = body(&mut p, &name, mode).and_then(|b| p.eol().map(|_| b));
    match body {
        Ok(body) => Ok(Command { tag, body }),
        Err(mut e) => {
            e.tag = Some(tag);
            if e.kind == ErrorKind::Syntax && !e.text.contains(&name) {
                e.text = format!("{name}: {}", e.text);
            }
            Err(e)
        }
    }
}

fn body(p: &mut Parser<'_>, name: &str, mode: UidMode) -> PResult<CommandBody> {
    use CommandBody as C;
    Ok(match name {
        "CAPABILITY" => C::Capability,
        "NOOP" => C::Noop,
        "LOGOUT" => C::Logout,
        "STARTTLS" => C::StartTls,
        "NAMESPACE" => C::Namespace,
        "IDLE" => C::Idle,
        "CHECK" => C::Check,
        "CLOSE" => C::Close,
        "UNSELECT" => C::Unselect,
        "UNAUTHENTICATE" => C::Unauthenticate,
        "EXPUNGE" if mode == UidMode::Uid => {
            p.arg("sequence set")?;
            C::UidExpunge(p.sequence_set()?)
        }
        "EXPUNGE" => C::Expunge,
        "AUTHENTICATE" => authenticate(p)?,
        "LOGIN" => {
            p.arg("user name")?;
            let username = p.astring()?.into_owned();
            p.arg("password")?;
            C::Login {
                username,
                password: Secret::new(p.astring()?.into_owned()),
            }
        }
        "ENABLE" => {
            let mut caps = Vec::new();
            while !p.at_eol() {
                p.sp()?;
                caps.push(p.atom()?.to_owned());
            }
            if caps.is_empty() {
                return syntax("Missing argument: capability");
            }
            C::Enable(caps)
        }
        "ID" => {
            p.arg("parameter list")?;
            C::Id(id_params(p)?)
        }
        "SELECT" | "EXAMINE" => {
            p.arg("mailbox")?;
            let mailbox = p.mailbox()?;
            let params = select_params(p)?;
            if name == "SELECT" {
                C::Select { mailbox, params }
            } else {
                C::Examine { mailbox, params }
            }
        }
        "CREATE" => create(p)?,
        "DELETE" => C::Delete(mailbox_arg(p)?),
        "SUBSCRIBE" => C::Subscribe(mailbox_arg(p)?),
        "UNSUBSCRIBE" => C::Unsubscribe(mailbox_arg(p)?),
        "GETQUOTAROOT" => C::GetQuotaRoot(mailbox_arg(p)?),
        "GETACL" => C::GetAcl(mailbox_arg(p)?),
        "MYRIGHTS" => C::MyRights(mailbox_arg(p)?),
        "RENAME" => {
            let from = mailbox_arg(p)?;
            p.arg("new mailbox name")?;
            C::Rename {
                from,
                to: p.mailbox()?,
            }
        }
        "LIST" => C::List(list(p)?),
        "LSUB" => {
            let reference = mailbox_arg(p)?;
            p.arg("mailbox pattern")?;
            C::Lsub {
                reference,
                pattern: p.list_mailbox()?,
            }
        }
        "STATUS" => {
            let mailbox = mailbox_arg(p)?;
            p.arg("status items")?;
            C::Status {
                mailbox,
                items: status_items(p)?,
            }
        }
        "APPEND" => append(p)?,
        "SEARCH" => C::Search(search::search(p, mode)?),
        "SORT" => search::sort(p, mode)?,
        "THREAD" => search::thread(p, mode)?,
        "FETCH" => fetch::fetch(p, mode)?,
        "STORE" => store(p, mode)?,
        "COPY" | "MOVE" => {
            p.arg("sequence set")?;
            let set = p.sequence_set()?;
            p.arg("mailbox")?;
            let mailbox = p.mailbox()?;
            if name == "COPY" {
                C::Copy { mode, set, mailbox }
            } else {
                C::Move { mode, set, mailbox }
            }
        }
        "COMPRESS" => {
            p.arg("mechanism")?;
            C::Compress {
                mechanism: p.atom()?.to_ascii_uppercase(),
            }
        }
        "GETQUOTA" => {
            p.arg("quota root")?;
            C::GetQuota(p.astring()?.into_owned())
        }
        "SETQUOTA" => {
            p.arg("quota root")?;
            let root = p.astring()?.into_owned();
            p.arg("resource limits")?;
            p.expect(b'(', "'('")?;
            let mut limits = Vec::new();
            while !p.take(b')') {
                if !limits.is_empty() {
                    p.sp()?;
                }
                let res = p.atom()?.to_ascii_uppercase();
                p.sp()?;
                limits.push((res, p.number64()?));
            }
            C::SetQuota { root, limits }
        }
        "SETACL" => {
            let mailbox = mailbox_arg(p)?;
            p.arg("identifier")?;
            let identifier = p.astring()?.into_owned();
            p.arg("rights")?;
            C::SetAcl {
                mailbox,
                identifier,
                rights: p.astring()?.into_owned(),
            }
        }
        "DELETEACL" | "LISTRIGHTS" => {
            let mailbox = mailbox_arg(p)?;
            p.arg("identifier")?;
            let identifier = p.astring()?.into_owned();
            if name == "DELETEACL" {
                C::DeleteAcl {
                    mailbox,
                    identifier,
                }
            } else {
                C::ListRights {
                    mailbox,
                    identifier,
                }
            }
        }
        "GETMETADATA" => get_metadata(p)?,
        "SETMETADATA" => set_metadata(p)?,
        "NOTIFY" => notify(p)?,
        _ => return syntax(format!("Unknown command: {name}")),
    })
}

fn mailbox_arg(p: &mut Parser<'_>) -> PResult<Mailbox> {
    p.arg("mailbox")?;
    p.mailbox()
}

/// `authenticate = "AUTHENTICATE" SP auth-type [SP initial-resp]`; `initial-resp = (base64 / "=")`
fn authenticate(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.arg("mechanism")?;
    let mechanism = p.atom()?.to_ascii_uppercase();
    let mut initial_response = None;
    if p.take(b' ') {
        let raw = p.atom()?;
        if raw == "=" {
            initial_response = Some(Secret::default());
        } else if is_base64(raw.as_bytes()) {
            initial_response = Some(Secret::new(raw.as_bytes().to_vec()));
        } else {
            return syntax("Invalid base64 in initial response");
        }
    }
    Ok(CommandBody::Authenticate {
        mechanism,
        initial_response,
    })
}

/// `base64 = *(4base64-char) [base64-terminal]`
pub(crate) fn is_base64(s: &[u8]) -> bool {
    let body = s
        .iter()
        .position(|&b| b == b'=')
        .map_or(s, |i| s.get(..i).unwrap_or_default());
    let pad = s.len() - body.len();
    s.len().is_multiple_of(4)
        && pad <= 2
        && s.get(body.len()..)
            .unwrap_or_default()
            .iter()
            .all(|&b| b == b'=')
        && body
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// `id-params-list = "(" *(string SP nstring *(SP string SP nstring)) ")" / nil`
type IdParams = Option<Vec<(String, Option<String>)>>;

fn id_params(p: &mut Parser<'_>) -> PResult<IdParams> {
    if p.keyword("NIL") {
        return Ok(None);
    }
    p.expect(b'(', "'(' or NIL")?;
    let mut v = Vec::new();
    let text = |b: std::borrow::Cow<'_, [u8]>| String::from_utf8_lossy(&b).into_owned();
    while !p.take(b')') {
        if !v.is_empty() {
            p.sp()?;
        }
        let k = text(p.string()?);
        p.sp()?;
        let val = p.nstring()?.map(text);
        v.push((k, val));
        if v.len() > 30 {
            return syntax("Too many ID parameters");
        }
    }
    Ok(Some(v))
}

/// `select-params = SP "(" select-param *(SP select-param) ")"`
fn select_params(p: &mut Parser<'_>) -> PResult<SelectParams> {
    let mut params = SelectParams::default();
    if !p.take(b' ') {
        return Ok(params);
    }
    p.paren_list(|p| {
        if p.keyword("CONDSTORE") {
            params.condstore = true;
            Ok(())
        } else if p.keyword("QRESYNC") {
            p.sp()?;
            p.expect(b'(', "'('")?;
            let uidvalidity = p.nz_number()?;
            p.sp()?;
            let modseq = p.number64()?;
            let mut q = QResyncParams {
                uidvalidity,
                modseq,
                known_uids: None,
                seq_match: None,
            };
            if p.take(b' ') {
                if p.peek() != Some(b'(') {
                    q.known_uids = Some(p.sequence_set()?);
                    p.take(b' ');
                }
                if p.take(b'(') {
                    let seqs = p.sequence_set()?;
                    p.sp()?;
                    let uids = p.sequence_set()?;
                    p.expect(b')', "')'")?;
                    q.seq_match = Some((seqs, uids));
                }
            }
            p.expect(b')', "')'")?;
            params.qresync = Some(q);
            Ok(())
        } else {
            syntax(format!("Unknown SELECT parameter at {}", p.snippet()))
        }
    })?;
    Ok(params)
}

/// `create = "CREATE" SP mailbox [create-params]`; `create-param = "USE" SP "(" [use-attr *(SP use-attr)] ")"`
fn create(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mailbox = mailbox_arg(p)?;
    let mut special_use = Vec::new();
    if p.take(b' ') {
        p.paren_list(|p| {
            if !p.keyword("USE") {
                return syntax(format!("Unknown CREATE parameter at {}", p.snippet()));
            }
            p.sp()?;
            p.expect(b'(', "'('")?;
            while !p.take(b')') {
                if !special_use.is_empty() {
                    p.sp()?;
                }
                special_use.push(mailbox_attr(p)?);
            }
            Ok(())
        })?;
    }
    Ok(CommandBody::Create {
        mailbox,
        special_use,
    })
}

fn mailbox_attr(p: &mut Parser<'_>) -> PResult<MailboxAttr> {
    p.expect(b'\\', "'\\'")?;
    let a = p.atom()?;
    MailboxAttr::parse(&format!("\\{a}")).map_or_else(|| syntax("Invalid attribute"), Ok)
}

/// `list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]`
fn list(p: &mut Parser<'_>) -> PResult<ListCommand> {
    p.arg("reference")?;
    let mut cmd = ListCommand {
        selection: Vec::new(),
        reference: Mailbox::new(Vec::new()),
        patterns: Vec::new(),
        return_opts: Vec::new(),
        extended: false,
    };
    if p.take(b'(') {
        cmd.extended = true;
        while !p.take(b')') {
            if !cmd.selection.is_empty() {
                p.sp()?;
            }
            let opt = p.atom()?.to_ascii_uppercase();
            cmd.selection.push(match opt.as_str() {
                "SUBSCRIBED" => ListSelectOpt::Subscribed,
                "REMOTE" => ListSelectOpt::Remote,
                "RECURSIVEMATCH" => ListSelectOpt::RecursiveMatch,
                "SPECIAL-USE" => ListSelectOpt::SpecialUse,
                _ => ListSelectOpt::Other(opt),
            });
        }
        p.sp()?;
    }
    cmd.reference = p.mailbox()?;
    p.arg("mailbox pattern")?;
    if p.peek() == Some(b'(') {
        cmd.extended = true;
        cmd.patterns = p.paren_list(|p| p.list_mailbox())?;
    } else {
        cmd.patterns.push(p.list_mailbox()?);
    }
    if p.take(b' ') {
        if !p.keyword("RETURN") {
            return syntax(format!("Expected RETURN at {}", p.snippet()));
        }
        cmd.extended = true;
        p.sp()?;
        p.expect(b'(', "'('")?;
        while !p.take(b')') {
            if !cmd.return_opts.is_empty() {
                p.sp()?;
            }
            let opt = p.atom()?.to_ascii_uppercase();
            cmd.return_opts.push(match opt.as_str() {
                "SUBSCRIBED" => ListReturnOpt::Subscribed,
                "CHILDREN" => ListReturnOpt::Children,
                "SPECIAL-USE" => ListReturnOpt::SpecialUse,
                "MYRIGHTS" => ListReturnOpt::MyRights,
                "STATUS" => {
                    p.sp()?;
                    ListReturnOpt::Status(status_items(p)?)
                }
                _ => ListReturnOpt::Other(opt),
            });
        }
    }
    Ok(cmd)
}

/// `"(" status-att *(SP status-att) ")"`
fn status_items(p: &mut Parser<'_>) -> PResult<Vec<StatusItem>> {
    p.paren_list(|p| {
        let a = p.atom()?;
        Ok(match a.to_ascii_uppercase().as_str() {
            "MESSAGES" => StatusItem::Messages,
            "UIDNEXT" => StatusItem::UidNext,
            "UIDVALIDITY" => StatusItem::UidValidity,
            "UNSEEN" => StatusItem::Unseen,
            "DELETED" => StatusItem::Deleted,
            "SIZE" => StatusItem::Size,
            "RECENT" => StatusItem::Recent,
            "HIGHESTMODSEQ" => StatusItem::HighestModSeq,
            "MAILBOXID" => StatusItem::MailboxId,
            "APPENDLIMIT" => StatusItem::AppendLimit,
            _ => return syntax(format!("Unknown status item: {a}")),
        })
    })
}

/// `append = "APPEND" SP mailbox 1*append-message` (RFC 3502);
/// `append-message = [SP flag-list] [SP date-time] SP append-data`; `append-data = literal / literal8`
fn append(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mailbox = mailbox_arg(p)?;
    let mut messages = Vec::new();
    while !p.at_eol() || messages.is_empty() {
        p.arg("message literal")?;
        let mut flags = Vec::new();
        if p.peek() == Some(b'(') {
            flags = p.flag_list()?;
            p.arg("message literal")?;
        }
        let mut date = None;
        if p.peek() == Some(b'"') {
            date = Some(p.date_time()?);
            p.arg("message literal")?;
        }
        if !matches!(p.peek(), Some(b'{' | b'~')) {
            return syntax(format!("Expected message literal at {}", p.snippet()));
        }
        let (data, binary) = p.literal(true)?;
        messages.push(AppendMessage {
            flags,
            date,
            data: data.to_vec(),
            binary,
        });
    }
    Ok(CommandBody::Append { mailbox, messages })
}

/// `store = "STORE" SP sequence-set [store-modifiers] SP store-att-flags`;
/// `store-modifier = "UNCHANGEDSINCE" SP mod-sequence-valzer`
fn store(p: &mut Parser<'_>, mode: UidMode) -> PResult<CommandBody> {
    p.arg("sequence set")?;
    let set = p.sequence_set()?;
    p.arg("flags")?;
    let mut unchanged_since = None;
    if p.peek() == Some(b'(') {
        p.paren_list(|p| {
            if !p.keyword("UNCHANGEDSINCE") {
                return syntax(format!("Unknown STORE modifier at {}", p.snippet()));
            }
            p.sp()?;
            unchanged_since = Some(p.number64()?);
            Ok(())
        })?;
        p.arg("flags")?;
    }
    let action = if p.take(b'+') {
        StoreAction::Add
    } else if p.take(b'-') {
        StoreAction::Remove
    } else {
        StoreAction::Replace
    };
    let silent = if p.keyword("FLAGS.SILENT") {
        true
    } else if p.keyword("FLAGS") {
        false
    } else {
        return syntax(format!("Expected FLAGS at {}", p.snippet()));
    };
    p.arg("flag list")?;
    let flags = if p.peek() == Some(b'(') {
        p.flag_list()?
    } else {
        let mut v = vec![p.flag()?];
        while p.take(b' ') {
            v.push(p.flag()?);
        }
        v
    };
    Ok(CommandBody::Store {
        mode,
        set,
        unchanged_since,
        action,
        silent,
        flags,
    })
}

/// `getmetadata = "GETMETADATA" [SP getmetadata-options] SP mailbox SP entries`
fn get_metadata(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.arg("mailbox")?;
    let mut options = MetadataOptions::default();
    if p.peek() == Some(b'(') {
        p.paren_list(|p| {
            if p.keyword("MAXSIZE") {
                p.sp()?;
                options.max_size = Some(p.number64()?);
            } else if p.keyword("DEPTH") {
                p.sp()?;
                options.depth = if p.keyword("infinity") {
                    MetadataDepth::Infinity
                } else {
                    match p.number()? {
                        0 => MetadataDepth::Zero,
                        1 => MetadataDepth::One,
                        _ => return syntax("Invalid DEPTH"),
                    }
                };
            } else {
                return syntax(format!("Unknown GETMETADATA option at {}", p.snippet()));
            }
            Ok(())
        })?;
        p.arg("mailbox")?;
    }
    let mailbox = p.mailbox()?;
    p.arg("entries")?;
    let entries = if p.peek() == Some(b'(') {
        p.paren_list(|p| p.astring_utf8())?
    } else {
        vec![p.astring_utf8()?]
    };
    Ok(CommandBody::GetMetadata {
        options,
        mailbox,
        entries,
    })
}

/// `setmetadata = "SETMETADATA" SP mailbox SP entry-values`;
/// `entry-values = "(" entry-value *(SP entry-value) ")"`; `entry-value = entry SP value`; `value = nstring / literal8`
fn set_metadata(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mailbox = mailbox_arg(p)?;
    p.arg("entry values")?;
    let entries = p.paren_list(|p| {
        let entry = p.astring_utf8()?;
        p.sp()?;
        let value = if p.peek() == Some(b'~') {
            Some(p.literal(true)?.0.to_vec())
        } else {
            p.nstring()?.map(|v| v.into_owned())
        };
        Ok((entry, value))
    })?;
    Ok(CommandBody::SetMetadata { mailbox, entries })
}

/// `notify = "NOTIFY" SP (notify-set / notify-none)`
fn notify(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.arg("NONE or SET")?;
    if p.keyword("NONE") {
        return Ok(CommandBody::Notify(None));
    }
    if !p.keyword("SET") {
        return syntax("Expected NONE or SET");
    }
    let mut set = NotifySet {
        status: false,
        groups: Vec::new(),
    };
    p.arg("event groups")?;
    if p.keyword("STATUS") {
        set.status = true;
        p.arg("event groups")?;
    }
    loop {
        set.groups.push(notify_group(p)?);
        if !p.take(b' ') {
            break;
        }
    }
    Ok(CommandBody::Notify(Some(set)))
}

/// `event-group = "(" filter-mailboxes SP events ")"`
fn notify_group(p: &mut Parser<'_>) -> PResult<NotifyGroup> {
    p.expect(b'(', "'('")?;
    let name = p.atom()?.to_ascii_lowercase();
    let mailboxes = |p: &mut Parser<'_>| -> PResult<Vec<Mailbox>> {
        p.sp()?;
        if p.peek() == Some(b'(') {
            p.paren_list(|p| p.mailbox())
        } else {
            Ok(vec![p.mailbox()?])
        }
    };
    let filter = match name.as_str() {
        "selected" => NotifyFilter::Selected,
        "selected-delayed" => NotifyFilter::SelectedDelayed,
        "personal" => NotifyFilter::Personal,
        "inboxes" => NotifyFilter::Inboxes,
        "subscribed" => NotifyFilter::Subscribed,
        "subtree" => NotifyFilter::Subtree(mailboxes(p)?),
        "mailboxes" => NotifyFilter::Mailboxes(mailboxes(p)?),
        _ => return syntax(format!("Unknown NOTIFY filter: {name}")),
    };
    p.sp()?;
    let events = if p.keyword("NONE") {
        None
    } else {
        Some(p.paren_list(|p| {
            let ev = p.atom()?;
            Ok(match ev.to_ascii_lowercase().as_str() {
                "messagenew" => {
                    let mut atts = Vec::new();
                    if p.peek() == Some(b' ') && p_next_is_paren(p) {
                        p.sp()?;
                        atts = p.paren_list(fetch::fetch_att)?;
                    }
                    NotifyEvent::MessageNew(atts)
                }
                "messageexpunge" => NotifyEvent::MessageExpunge,
                "flagchange" => NotifyEvent::FlagChange,
                "annotationchange" => NotifyEvent::AnnotationChange,
                "mailboxname" => NotifyEvent::MailboxName,
                "subscriptionchange" => NotifyEvent::SubscriptionChange,
                "mailboxmetadatachange" => NotifyEvent::MailboxMetadataChange,
                "servermetadatachange" => NotifyEvent::ServerMetadataChange,
                _ => NotifyEvent::Other(ev.to_owned()),
            })
        })?)
    };
    p.expect(b')', "')'")?;
    Ok(NotifyGroup { filter, events })
}

fn p_next_is_paren(p: &Parser<'_>) -> bool {
    p.peek_at(1) == Some(b'(')
}
