//! LIST (RFC 9051 6.3.9) with LIST-EXTENDED (RFC 5258), SPECIAL-USE
//! (RFC 6154), LIST-STATUS (RFC 5819) and CHILDREN; LSUB (RFC 3501 6.3.9).
//!
//! Candidates are the existing mailboxes, their missing ancestors (listed
//! as `\NonExistent`/`\Noselect` so a `%` walk can descend), and with the
//! SUBSCRIBED selection the subscription list. Each candidate matching a
//! pattern is listed once, in name order.

use crate::commands::{need_account, status};
use crate::error::CommandError;
use crate::list_match::{DELIMITER, Pattern, join_reference};
use crate::names;
use crate::session::{CmdResult, Done, Session};
use std::collections::{BTreeMap, BTreeSet};
use tidemark_imap_proto::{
    Data, ListCommand, ListData, ListExtendedItem, ListReturnOpt, ListSelectOpt, Mailbox,
    MailboxAttr, Response, StatusItem,
};
use tidemark_store::{MailboxInfo, SpecialUse};

pub(crate) fn special_use_attr(u: SpecialUse) -> MailboxAttr {
    match u {
        SpecialUse::All => MailboxAttr::All,
        SpecialUse::Archive => MailboxAttr::Archive,
        SpecialUse::Drafts => MailboxAttr::Drafts,
        SpecialUse::Flagged => MailboxAttr::Flagged,
        SpecialUse::Junk => MailboxAttr::Junk,
        SpecialUse::Sent => MailboxAttr::Sent,
        SpecialUse::Trash => MailboxAttr::Trash,
        SpecialUse::Important => MailboxAttr::Important,
    }
}

/// Every name with its ancestors: `a/b/c` gives `a`, `a/b`.
fn ancestors(name: &str) -> impl Iterator<Item = &str> {
    name.match_indices(DELIMITER).map(move |(i, _)| &name[..i])
}

struct Options {
    subscribed_sel: bool,
    recursive: bool,
    special_use_sel: bool,
    ret_subscribed: bool,
    ret_special_use: bool,
    status: Option<Vec<StatusItem>>,
    extended: bool,
}

pub(crate) async fn run_list(s: &mut Session, l: ListCommand) -> CmdResult {
    let account = need_account(s)?;
    let utf8 = s.utf8();
    let reference = names::decode_pattern(l.reference.as_bytes(), utf8)?;
    let mut o = Options {
        subscribed_sel: false,
        recursive: false,
        special_use_sel: false,
        ret_subscribed: false,
        ret_special_use: false,
        status: None,
        extended: l.extended,
    };
    for sel in &l.selection {
        match sel {
            ListSelectOpt::Subscribed => o.subscribed_sel = true,
            ListSelectOpt::RecursiveMatch => o.recursive = true,
            ListSelectOpt::SpecialUse => o.special_use_sel = true,
            ListSelectOpt::Remote | ListSelectOpt::Other(_) => {}
        }
    }
    if o.recursive && !o.subscribed_sel {
        return Err(CommandError::bad(
            None,
            "RECURSIVEMATCH needs another selection option (RFC 5258 3.1)",
        ));
    }
    for r in &l.return_opts {
        match r {
            ListReturnOpt::Subscribed => o.ret_subscribed = true,
            ListReturnOpt::SpecialUse => o.ret_special_use = true,
            ListReturnOpt::Status(items) => o.status = Some(items.clone()),
            ListReturnOpt::Children | ListReturnOpt::MyRights | ListReturnOpt::Other(_) => {}
        }
    }
    if l.patterns.len() == 1 && l.patterns[0].is_empty() && l.selection.is_empty() {
        // `LIST "" ""`: the hierarchy delimiter and root (RFC 9051 6.3.9).
        s.send(Response::Data(Data::List(ListData {
            attributes: vec![MailboxAttr::NoSelect],
            delimiter: Some(DELIMITER),
            mailbox: Mailbox::new(Vec::new()),
            extended: vec![],
        })));
        return Ok(Done::ok("LIST completed"));
    }
    let mut patterns = Vec::new();
    for p in &l.patterns {
        let p = names::decode_pattern(p, utf8)?;
        patterns.push(Pattern::new(&join_reference(&reference, &p)));
    }

    let mailboxes = account.list_mailboxes().await?;
    let subs: BTreeSet<String> = if o.subscribed_sel || o.ret_subscribed {
        account.subscriptions().await?.into_iter().collect()
    } else {
        BTreeSet::new()
    };
    let existing: BTreeMap<&str, &MailboxInfo> =
        mailboxes.iter().map(|m| (m.name.as_str(), m)).collect();

    // Candidate names.
    let mut candidates: BTreeSet<&str> = BTreeSet::new();
    if o.subscribed_sel {
        for name in &subs {
            candidates.insert(name);
            if o.recursive {
                candidates.extend(ancestors(name));
            }
        }
    } else {
        for m in &mailboxes {
            candidates.insert(&m.name);
            candidates.extend(ancestors(&m.name));
        }
    }

    let matches = |name: &str| patterns.iter().any(|p| p.matches(name));
    let mut lines = Vec::new();
    for name in candidates {
        if !matches(name) {
            continue;
        }
        let info = existing.get(name).copied();
        let prefix = format!("{name}{DELIMITER}");
        let has_children = existing
            .range::<str, _>((std::ops::Bound::Excluded(name), std::ops::Bound::Unbounded))
            .next()
            .is_some_and(|(n, _)| n.starts_with(&prefix));
        let subscribed = subs.contains(name);
        let mut extended = Vec::new();
        if o.subscribed_sel {
            let sub_child = subs.iter().any(|s| s.starts_with(&prefix));
            if !subscribed {
                // Only reachable with RECURSIVEMATCH: a parent of a
                // subscribed name.
                if !sub_child {
                    continue;
                }
                extended.push(ListExtendedItem::ChildInfo(vec!["SUBSCRIBED".into()]));
            } else if o.recursive && sub_child {
                extended.push(ListExtendedItem::ChildInfo(vec!["SUBSCRIBED".into()]));
            }
        }
        let special: Vec<SpecialUse> = info.map(|i| i.special_use.clone()).unwrap_or_default();
        if o.special_use_sel && special.is_empty() {
            continue;
        }
        let mut attributes = Vec::new();
        match info {
            None if o.extended => attributes.push(MailboxAttr::NonExistent),
            None => attributes.push(MailboxAttr::NoSelect),
            Some(_) => {}
        }
        if info.is_some() || has_children || !o.extended {
            attributes.push(if has_children {
                MailboxAttr::HasChildren
            } else {
                MailboxAttr::HasNoChildren
            });
        }
        if (o.subscribed_sel || o.ret_subscribed) && subscribed {
            attributes.push(MailboxAttr::Subscribed);
        }
        // Special-use attributes are cheap, so they are always returned
        // (RFC 6154 5.1 allows it; clients rely on them).
        let _ = o.ret_special_use;
        attributes.extend(special.iter().map(|u| special_use_attr(*u)));
        lines.push((name.to_string(), info.is_some(), attributes, extended));
    }

    for (name, exists, attributes, extended) in lines {
        s.send(Response::Data(Data::List(ListData {
            attributes,
            delimiter: Some(DELIMITER),
            mailbox: names::encode(&name),
            extended,
        })));
        if let Some(items) = &o.status
            && exists
        {
            // LIST-STATUS (RFC 5819): a failure for one mailbox is skipped.
            if let Ok(info) = account.mailbox(&name).await {
                let _ = status::send_status(s, &account, &info, &name, items).await;
            }
        }
    }
    Ok(Done::ok("LIST completed"))
}

pub(crate) async fn run_lsub(s: &mut Session, reference: Mailbox, pattern: Vec<u8>) -> CmdResult {
    let account = need_account(s)?;
    let utf8 = s.utf8();
    let reference = names::decode_pattern(reference.as_bytes(), utf8)?;
    let pattern = Pattern::new(&join_reference(
        &reference,
        &names::decode_pattern(&pattern, utf8)?,
    ));
    let subs: BTreeSet<String> = account.subscriptions().await?.into_iter().collect();
    let existing: BTreeSet<String> = account
        .list_mailboxes()
        .await?
        .into_iter()
        .map(|m| m.name)
        .collect();
    let mut listed: BTreeMap<String, bool> = BTreeMap::new();
    for name in &subs {
        if pattern.matches(name) {
            listed.insert(name.clone(), existing.contains(name));
        }
        // RFC 3501 6.3.9: a `%` that skips a subscribed child lists the
        // unsubscribed parent as \Noselect.
        if pattern.matches(name) {
            continue;
        }
        for a in ancestors(name) {
            if !subs.contains(a) && pattern.matches(a) {
                listed.entry(a.to_string()).or_insert(false);
            }
        }
    }
    for (name, selectable) in listed {
        let attributes = if selectable && subs.contains(&name) {
            vec![]
        } else {
            vec![MailboxAttr::NoSelect]
        };
        s.send(Response::Data(Data::Lsub(ListData {
            attributes,
            delimiter: Some(DELIMITER),
            mailbox: names::encode(&name),
            extended: vec![],
        })));
    }
    Ok(Done::ok("LSUB completed"))
}
