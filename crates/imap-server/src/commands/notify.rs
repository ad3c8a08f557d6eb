//! NOTIFY (RFC 5465): which changes a client hears of, for several
//! mailboxes, without polling and outside IDLE.
//!
//! `NOTIFY SET [STATUS] (filter events)...` replaces the session's
//! settings; `NOTIFY NONE` turns notifications off. The network layer waits
//! on the account's change feed whenever NOTIFY is on (not only in IDLE) and
//! calls [`Session::handle_notice`], which sends:
//! - for the selected mailbox (a `SELECTED` / `SELECTED-DELAYED` group with
//!   message events): the usual EXISTS / EXPUNGE (VANISHED) / FETCH FLAGS,
//!   at once (`SELECTED-DELAYED`: expunges wait for a command that allows
//!   them), and for MessageNew with fetch attributes a FETCH of those of
//!   each new message. Without such a group nothing about the selected
//!   mailbox is sent between commands (commands still report as usual).
//! - for other mailboxes matched by a group with message events: a
//!   `* STATUS` with MESSAGES, UIDNEXT, UIDVALIDITY and UNSEEN (and
//!   HIGHESTMODSEQ once CONDSTORE is on) whenever one of them changed;
//! - MailboxName: `* LIST` for a mailbox created, deleted (`\NonExistent`)
//!   or renamed (`OLDNAME`), and for the parent of a created or deleted one
//!   (its children changed); SubscriptionChange: `* LIST` with or without
//!   `\Subscribed`. Attributes are computed as LIST computes them.
//!
//! Only the events this server can report are accepted: others get
//! `NO [BADEVENT (...)]`. A lagged change feed is answered by comparing
//! every watched mailbox again, so nothing is lost.

use crate::commands::list::special_use_attr;
use crate::commands::need_account;
use crate::error::CommandError;
use crate::names;
use crate::session::{CmdResult, Done, Session, State};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tidemark_imap_proto::{
    Code, Data, FetchAttribute, ListData, ListExtendedItem, MailboxAttr, NotifyEvent, NotifyFilter,
    NotifySet, Response, StatusValue,
};
use tidemark_store::{Account, MailboxId, MailboxInfo, MailboxStatus};

/// The events this server reports.
const SUPPORTED: [&str; 5] = [
    "MessageNew",
    "MessageExpunge",
    "FlagChange",
    "MailboxName",
    "SubscriptionChange",
];

/// Which mailboxes a group is about.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Filter {
    Inboxes,
    Personal,
    Subscribed,
    Subtree(Vec<String>),
    Mailboxes(Vec<String>),
}

/// A group for mailboxes other than the selected one.
#[derive(Debug, Clone)]
struct Group {
    filter: Filter,
    /// MessageNew / MessageExpunge (/ FlagChange).
    messages: bool,
    flags: bool,
    mailbox_names: bool,
    subscriptions: bool,
}

/// The session's NOTIFY settings and what it last told the client.
#[derive(Debug, Clone, Default)]
pub(crate) struct NotifyState {
    /// Events for the selected mailbox: `Some((delayed, flags, fetch))`
    /// when a SELECTED group asks for message events.
    selected: Option<(bool, bool, Vec<FetchAttribute>)>,
    groups: Vec<Group>,
    /// Last status reported (or known when NOTIFY was set) per mailbox.
    known: HashMap<MailboxId, MailboxStatus>,
    /// Mailboxes by id, and subscriptions, as last seen (for MailboxName /
    /// SubscriptionChange).
    mailboxes: BTreeMap<MailboxId, MailboxInfo>,
    subscriptions: BTreeSet<String>,
}

impl NotifyState {
    /// Whether the selected mailbox is reported between commands: whether
    /// its expunges wait (SELECTED-DELAYED) and whether flag changes are
    /// reported (FlagChange).
    pub(crate) fn selected_events(&self) -> Option<(bool, bool)> {
        self.selected
            .as_ref()
            .map(|(delayed, flags, _)| (*delayed, *flags))
    }

    /// The attributes to FETCH for each new message of the selected mailbox.
    pub(crate) fn new_message_fetch(&self) -> &[FetchAttribute] {
        self.selected.as_ref().map_or(&[], |(_, _, f)| f.as_slice())
    }

    fn wants_list(&self) -> bool {
        self.groups
            .iter()
            .any(|g| g.mailbox_names || g.subscriptions)
    }

    /// Whether `info` is watched for message events (not when selected).
    fn watches(&self, info: &MailboxInfo, flags_only: bool) -> bool {
        self.groups.iter().any(|g| {
            (if flags_only { g.flags } else { g.messages })
                && matches(&g.filter, &info.name, &self.subscriptions)
        })
    }
}

fn matches(filter: &Filter, name: &str, subscribed: &BTreeSet<String>) -> bool {
    match filter {
        // RFC 5465 6: a server that cannot tell where mail may be delivered
        // treats INBOXES as PERSONAL (delivery to `user+folder` can reach
        // any mailbox).
        Filter::Inboxes | Filter::Personal => true,
        Filter::Subscribed => subscribed.contains(name),
        Filter::Subtree(roots) => roots.iter().any(|r| {
            name == r
                || name
                    .strip_prefix(r.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        }),
        Filter::Mailboxes(list) => list.iter().any(|m| m == name),
    }
}

pub(crate) async fn run(s: &mut Session, set: Option<NotifySet>) -> CmdResult {
    let account = need_account(s)?;
    let Some(set) = set else {
        s.notify = None;
        return Ok(Done::ok("NOTIFY NONE completed"));
    };
    let mut state = NotifyState::default();
    let mut bad: Vec<String> = Vec::new();
    let mut seen_selected = false;
    for g in &set.groups {
        let events = g.events.clone().unwrap_or_default();
        let has = |name: &str| events.iter().any(|e| event_name(e) == name);
        let (new, expunge, flags) = (has("MessageNew"), has("MessageExpunge"), has("FlagChange"));
        for e in &events {
            let n = event_name(e);
            if !SUPPORTED.contains(&n.as_str()) {
                bad.push(n);
            }
        }
        // RFC 5465 5: MessageNew and MessageExpunge come together, and
        // FlagChange needs them.
        if new != expunge || (flags && !new) {
            return Err(CommandError::bad(
                Some(Code::ClientBug),
                "MessageNew and MessageExpunge go together, and FlagChange needs both",
            ));
        }
        match &g.filter {
            NotifyFilter::Selected | NotifyFilter::SelectedDelayed => {
                if seen_selected {
                    return Err(CommandError::bad(
                        Some(Code::ClientBug),
                        "SELECTED given twice",
                    ));
                }
                seen_selected = true;
                if events.iter().any(|e| {
                    matches!(
                        e,
                        NotifyEvent::MailboxName | NotifyEvent::SubscriptionChange
                    )
                }) {
                    return Err(CommandError::bad(
                        Some(Code::ClientBug),
                        "mailbox events do not apply to SELECTED",
                    ));
                }
                if new {
                    let fetch = events
                        .iter()
                        .find_map(|e| match e {
                            NotifyEvent::MessageNew(f) => Some(f.clone()),
                            _ => None,
                        })
                        .unwrap_or_default();
                    let delayed = matches!(g.filter, NotifyFilter::SelectedDelayed);
                    state.selected = Some((delayed, flags, fetch));
                }
            }
            other => {
                if events
                    .iter()
                    .any(|e| matches!(e, NotifyEvent::MessageNew(f) if !f.is_empty()))
                {
                    return Err(CommandError::bad(
                        Some(Code::ClientBug),
                        "MessageNew with fetch attributes needs SELECTED",
                    ));
                }
                let decode_all = |list: &Vec<tidemark_imap_proto::Mailbox>| {
                    list.iter()
                        .map(|m| names::decode(m, s.utf8()))
                        .collect::<Result<Vec<_>, _>>()
                };
                let filter = match other {
                    NotifyFilter::Inboxes => Filter::Inboxes,
                    NotifyFilter::Personal => Filter::Personal,
                    NotifyFilter::Subscribed => Filter::Subscribed,
                    NotifyFilter::Subtree(l) => Filter::Subtree(decode_all(l)?),
                    NotifyFilter::Mailboxes(l) => Filter::Mailboxes(decode_all(l)?),
                    NotifyFilter::Selected | NotifyFilter::SelectedDelayed => unreachable!(),
                };
                state.groups.push(Group {
                    filter,
                    messages: new,
                    flags,
                    mailbox_names: events.iter().any(|e| matches!(e, NotifyEvent::MailboxName)),
                    subscriptions: events
                        .iter()
                        .any(|e| matches!(e, NotifyEvent::SubscriptionChange)),
                });
            }
        }
    }
    if !bad.is_empty() {
        return Err(CommandError::no(
            Some(Code::BadEvent(
                SUPPORTED.iter().map(|e| e.to_string()).collect(),
            )),
            format!("Unsupported events: {}", bad.join(" ")),
        ));
    }
    // What the client knows now: the baseline later changes are compared
    // with (and, with STATUS, reported at once).
    refresh_lists(&account, &mut state).await?;
    let selected = selected_id(s);
    let watched: Vec<MailboxInfo> = state
        .mailboxes
        .values()
        .filter(|m| state.watches(m, false) || state.watches(m, true))
        .cloned()
        .collect();
    for info in watched {
        let Ok(st) = account.status(info.id).await else {
            continue;
        };
        if set.status && Some(info.id) != selected {
            let unseen = state.watches(&info, true);
            send_status(s, &info, &st, unseen);
        }
        state.known.insert(info.id, st);
    }
    s.notify = Some(state);
    Ok(Done::ok("NOTIFY completed"))
}

fn event_name(e: &NotifyEvent) -> String {
    match e {
        NotifyEvent::MessageNew(_) => "MessageNew".into(),
        NotifyEvent::MessageExpunge => "MessageExpunge".into(),
        NotifyEvent::FlagChange => "FlagChange".into(),
        NotifyEvent::AnnotationChange => "AnnotationChange".into(),
        NotifyEvent::MailboxName => "MailboxName".into(),
        NotifyEvent::SubscriptionChange => "SubscriptionChange".into(),
        NotifyEvent::MailboxMetadataChange => "MailboxMetadataChange".into(),
        NotifyEvent::ServerMetadataChange => "ServerMetadataChange".into(),
        NotifyEvent::Other(s) => s.clone(),
    }
}

fn selected_id(s: &Session) -> Option<MailboxId> {
    match &s.state {
        State::Selected(_, v) => Some(v.id),
        _ => None,
    }
}

async fn refresh_lists(
    account: &std::sync::Arc<dyn Account>,
    state: &mut NotifyState,
) -> Result<(), CommandError> {
    state.mailboxes = account
        .list_mailboxes()
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    state.subscriptions = account.subscriptions().await?.into_iter().collect();
    Ok(())
}

/// A `* STATUS` for a watched mailbox (RFC 5465 5.1-5.3): MESSAGES,
/// UIDNEXT and UIDVALIDITY; UNSEEN when FlagChange is watched;
/// HIGHESTMODSEQ once CONDSTORE is on.
fn send_status(s: &mut Session, info: &MailboxInfo, st: &MailboxStatus, unseen: bool) {
    let mut items = vec![
        StatusValue::Messages(st.messages),
        StatusValue::UidNext(st.uid_next.0),
        StatusValue::UidValidity(st.uid_validity.0),
    ];
    if unseen {
        items.push(StatusValue::Unseen(st.unseen));
    }
    if s.enabled.condstore {
        items.push(StatusValue::HighestModSeq(st.highest_modseq.0));
    }
    s.send(Response::Data(Data::Status {
        mailbox: names::encode(&info.name),
        items,
    }));
}

fn send_list(s: &mut Session, name: &str, attributes: Vec<MailboxAttr>, old: Option<&str>) {
    s.send(Response::Data(Data::List(ListData {
        attributes,
        delimiter: Some('/'),
        mailbox: names::encode(name),
        extended: old
            .map(|o| vec![ListExtendedItem::OldName(names::encode(o))])
            .unwrap_or_default(),
    })));
}

/// Takes this session's own changes (APPEND, COPY, MOVE, CREATE, ...)
/// into the baseline, so they are not reported back to it.
pub(crate) async fn absorb_own(s: &mut Session) {
    let Some(mut state) = s.notify.take() else {
        return;
    };
    if let Some(account) = s.account()
        && refresh_lists(&account, &mut state).await.is_ok()
    {
        let watched: Vec<MailboxId> = state
            .mailboxes
            .values()
            .filter(|m| state.watches(m, false) || state.watches(m, true))
            .map(|m| m.id)
            .collect();
        state.known.retain(|id, _| watched.contains(id));
        for id in watched {
            if let Ok(st) = account.status(id).await {
                state.known.insert(id, st);
            }
        }
    }
    s.notify = Some(state);
}

/// MessageNew with fetch attributes (RFC 5465 5.2): a FETCH of them for
/// each message that arrived in the selected mailbox since it held
/// `before` messages.
pub(crate) async fn fetch_new(s: &mut Session, before: Option<u32>) {
    let fetch = match &s.notify {
        Some(n) if !n.new_message_fetch().is_empty() => n.new_message_fetch().to_vec(),
        _ => return,
    };
    let Some(before) = before else { return };
    let uids: Vec<u32> = match s.selected() {
        Some(v) if v.exists() > before => v.uids()[before as usize..].iter().map(|u| u.0).collect(),
        _ => return,
    };
    let set = tidemark_imap_proto::SequenceSet::from_numbers(&uids);
    if let Err(e) = crate::commands::fetch::run(
        s,
        tidemark_imap_proto::UidMode::Uid,
        set,
        tidemark_imap_proto::FetchAttrs::List(fetch),
        tidemark_imap_proto::FetchModifiers::default(),
    )
    .await
    {
        tracing::debug!("NOTIFY MessageNew fetch: {}", e.text);
    }
}

/// Reports what changed in mailboxes other than the selected one:
/// `changed` lists the mailboxes with message changes (`None`: check all
/// watched ones), `list_changed` says the mailbox list or subscriptions
/// may have changed.
pub(crate) async fn report_others(
    s: &mut Session,
    changed: Option<&BTreeSet<MailboxId>>,
    list_changed: bool,
) {
    let Some(mut state) = s.notify.take() else {
        return;
    };
    let Some(account) = s.account() else {
        s.notify = Some(state);
        return;
    };
    // Re-read even without list events: SUBSCRIBED and SUBTREE groups
    // follow the list (RFC 5465 6).
    if list_changed {
        let before = (state.mailboxes.clone(), state.subscriptions.clone());
        if refresh_lists(&account, &mut state).await.is_ok() && state.wants_list() {
            report_list_changes(s, &state, &before.0, &before.1);
        }
    }
    let selected = selected_id(s);
    let candidates: Vec<MailboxInfo> = state
        .mailboxes
        .values()
        .filter(|m| Some(m.id) != selected)
        .filter(|m| changed.is_none_or(|c| c.contains(&m.id)))
        .filter(|m| state.watches(m, false) || state.watches(m, true))
        .cloned()
        .collect();
    for info in candidates {
        let Ok(st) = account.status(info.id).await else {
            continue;
        };
        let old = state.known.get(&info.id);
        let counts_changed = old.is_none_or(|o| {
            o.messages != st.messages
                || o.uid_next != st.uid_next
                || o.uid_validity != st.uid_validity
        });
        let flags_changed =
            old.is_none_or(|o| o.unseen != st.unseen || o.highest_modseq != st.highest_modseq);
        let report = (counts_changed && state.watches(&info, false))
            || (flags_changed && state.watches(&info, true));
        if report {
            let unseen = state.watches(&info, true);
            send_status(s, &info, &st, unseen);
        }
        state.known.insert(info.id, st);
    }
    s.notify = Some(state);
}

/// `* LIST` responses for created, deleted and renamed mailboxes
/// (MailboxName) and subscription changes (SubscriptionChange).
fn report_list_changes(
    s: &mut Session,
    state: &NotifyState,
    before: &BTreeMap<MailboxId, MailboxInfo>,
    subs_before: &BTreeSet<String>,
) {
    let wants = |name: &str, names: bool| {
        state.groups.iter().any(|g| {
            (if names {
                g.mailbox_names
            } else {
                g.subscriptions
            }) && matches(&g.filter, name, &state.subscriptions)
        })
    };
    // Attributes as LIST computes them (RFC 5465 5.5: "accurately").
    let attrs_of = |name: &str| {
        let info = state.mailboxes.values().find(|m| m.name == name);
        let prefix = format!("{name}/");
        let children = state
            .mailboxes
            .values()
            .any(|m| m.name.starts_with(&prefix));
        let mut a = Vec::new();
        if info.is_none() {
            a.push(MailboxAttr::NonExistent);
        }
        if info.is_some() || children {
            a.push(if children {
                MailboxAttr::HasChildren
            } else {
                MailboxAttr::HasNoChildren
            });
        }
        if state.subscriptions.contains(name) {
            a.push(MailboxAttr::Subscribed);
        }
        if let Some(i) = info {
            a.extend(i.special_use.iter().map(|u| special_use_attr(*u)));
        }
        a
    };
    // RFC 5465 5.4: a created or deleted mailbox affects its parent too.
    let mut parents: BTreeSet<String> = BTreeSet::new();
    let parent_of = |name: &str| name.rsplit_once('/').map(|(p, _)| p.to_string());
    for (id, info) in &state.mailboxes {
        match before.get(id) {
            None if wants(&info.name, true) => {
                send_list(s, &info.name, attrs_of(&info.name), None);
                parents.extend(parent_of(&info.name));
            }
            Some(old)
                if old.name != info.name && (wants(&info.name, true) || wants(&old.name, true)) =>
            {
                send_list(s, &info.name, attrs_of(&info.name), Some(&old.name));
            }
            _ => {}
        }
    }
    for (id, old) in before {
        if !state.mailboxes.contains_key(id) && wants(&old.name, true) {
            send_list(s, &old.name, attrs_of(&old.name), None);
            parents.extend(parent_of(&old.name));
        }
    }
    for p in parents {
        if wants(&p, true) {
            send_list(s, &p, attrs_of(&p), None);
        }
    }
    for name in state.subscriptions.symmetric_difference(subs_before) {
        if wants(name, false) {
            send_list(s, name, attrs_of(name), None);
        }
    }
}
