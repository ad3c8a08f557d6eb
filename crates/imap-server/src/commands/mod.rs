//! One module per IMAP command; [`dispatch`] routes a decoded command to
//! its handler. Handlers emit untagged responses through the session and
//! return the tagged result; they never see a socket.

pub(crate) mod append;
pub(crate) mod authenticate;
pub(crate) mod capability;
pub(crate) mod close;
pub(crate) mod compress;
pub(crate) mod copy;
pub(crate) mod create;
pub(crate) mod delete;
pub(crate) mod enable;
pub(crate) mod expunge;
pub(crate) mod fetch;
pub(crate) mod id;
pub(crate) mod idle;
pub(crate) mod list;
pub(crate) mod login;
pub(crate) mod logout;
pub(crate) mod namespace;
pub(crate) mod noop;
pub(crate) mod notify;
pub(crate) mod rename;
pub(crate) mod search;
pub(crate) mod search_eval;
pub(crate) mod search_text;
pub(crate) mod select;
pub(crate) mod sort;
pub(crate) mod starttls;
pub(crate) mod status;
pub(crate) mod store;
pub(crate) mod subscribe;
pub(crate) mod summaries;
pub(crate) mod thread;

use crate::error::CommandError;
use crate::session::{CmdResult, Session};
use tidemark_imap_proto::{Code, Command, CommandBody, Flag, SequenceSet, UidMode};
use tidemark_store::{Flags, SystemFlag, UidSet};

/// Runs one command whose state was already checked by the command table.
pub(crate) async fn dispatch(s: &mut Session, cmd: Command) -> CmdResult {
    use CommandBody as C;
    let tag = cmd.tag;
    match cmd.body {
        C::Capability => capability::run(s),
        C::Noop => noop::run(s, "NOOP"),
        C::Check => noop::run(s, "CHECK"),
        C::Logout => logout::run(s),
        C::Id(_) => id::run(s),
        C::Enable(exts) => enable::run(s, exts),
        C::Notify(set) => notify::run(s, set).await,
        C::StartTls => starttls::run(s),
        C::Login { username, password } => login::run(s, username, password).await,
        C::Authenticate {
            mechanism,
            initial_response,
        } => authenticate::start(s, tag, mechanism, initial_response).await,
        C::Namespace => namespace::run(s),
        C::List(l) => list::run_list(s, l).await,
        C::Lsub { reference, pattern } => list::run_lsub(s, reference, pattern).await,
        C::Create {
            mailbox,
            special_use,
        } => create::run(s, mailbox, special_use).await,
        C::Delete(m) => delete::run(s, m).await,
        C::Rename { from, to } => rename::run(s, from, to).await,
        C::Subscribe(m) => subscribe::run(s, m, true).await,
        C::Unsubscribe(m) => subscribe::run(s, m, false).await,
        C::Status { mailbox, items } => status::run(s, mailbox, items).await,
        C::Select { mailbox, params } => select::run(s, mailbox, params, false).await,
        C::Examine { mailbox, params } => select::run(s, mailbox, params, true).await,
        C::Close => close::run_close(s).await,
        C::Unselect => close::run_unselect(s),
        C::Append { mailbox, messages } => append::run(s, mailbox, messages).await,
        C::Fetch {
            mode,
            set,
            attributes,
            modifiers,
        } => fetch::run(s, mode, set, attributes, modifiers).await,
        C::Store {
            mode,
            set,
            unchanged_since,
            action,
            silent,
            flags,
        } => store::run(s, mode, set, unchanged_since, action, silent, flags).await,
        C::Expunge => expunge::run(s, None).await,
        C::UidExpunge(set) => expunge::run(s, Some(set)).await,
        C::Copy { mode, set, mailbox } => copy::run(s, mode, set, mailbox, false).await,
        C::Move { mode, set, mailbox } => copy::run(s, mode, set, mailbox, true).await,
        C::Idle => idle::start(s, tag),
        C::Search(search) => search::run(s, &tag, search).await,
        C::Sort {
            mode,
            return_opts,
            criteria,
            charset,
            search,
        } => {
            let cmd = sort::SortCommand {
                mode,
                return_opts,
                criteria,
                charset,
                search,
            };
            sort::run(s, &tag, cmd).await
        }
        C::Thread {
            mode,
            algorithm,
            charset,
            search,
        } => thread::run(s, mode, algorithm, charset, search).await,
        C::Compress { mechanism } => compress::run(s, mechanism),
        other => Err(CommandError::bad(
            Some(Code::Cannot),
            format!("{} is not supported by this server yet", other.name()),
        )),
    }
}

/// Stored flags as wire flags, system flags first.
pub(crate) fn flags_to_wire(f: &Flags) -> Vec<Flag> {
    let mut out: Vec<Flag> = f
        .system_flags()
        .map(|sf| match sf {
            SystemFlag::Seen => Flag::Seen,
            SystemFlag::Answered => Flag::Answered,
            SystemFlag::Flagged => Flag::Flagged,
            SystemFlag::Deleted => Flag::Deleted,
            SystemFlag::Draft => Flag::Draft,
        })
        .collect();
    out.extend(f.keywords().iter().map(|k| Flag::Keyword(k.clone())));
    out
}

/// Wire flags as stored flags. `\Recent` cannot be set by clients and is
/// ignored (RFC 9051 drops it); other `\Extension` flags are refused.
pub(crate) fn flags_from_wire(flags: &[Flag]) -> Result<Flags, CommandError> {
    let mut f = Flags::new();
    for flag in flags {
        match flag {
            Flag::Seen => f.insert(SystemFlag::Seen),
            Flag::Answered => f.insert(SystemFlag::Answered),
            Flag::Flagged => f.insert(SystemFlag::Flagged),
            Flag::Deleted => f.insert(SystemFlag::Deleted),
            Flag::Draft => f.insert(SystemFlag::Draft),
            Flag::Recent => {}
            Flag::Keyword(k) => {
                if k.len() > 250 {
                    return Err(CommandError::bad(None, "Keyword too long"));
                }
                f.insert_keyword(k.clone())
            }
            Flag::Extension(e) => {
                return Err(CommandError::bad(
                    None,
                    format!("Flag \\{e} cannot be stored"),
                ));
            }
        }
    }
    if f.keywords().len() > 100 {
        return Err(CommandError::no(Some(Code::Limit), "Too many keywords"));
    }
    Ok(f)
}

/// Resolves a sequence set (by number or UID) against the selected view
/// into the UIDs it names that the client knows.
pub(crate) fn resolve_set(
    view: &crate::selected::SelectedMailbox,
    mode: UidMode,
    set: &SequenceSet,
) -> Result<UidSet, CommandError> {
    if set.is_saved() {
        // RFC 5182: `$` names the saved messages that still exist, whether
        // used as sequence numbers or UIDs.
        let mut uids = UidSet::new();
        for &u in &view.saved_search {
            if view.seq(u).is_some() {
                uids.insert_range(u.0, u.0);
            }
        }
        return Ok(uids);
    }
    match mode {
        UidMode::Sequence => {
            let ranges = set.resolve(view.exists());
            if let Some(&(_, hi)) = ranges.last()
                && hi > view.exists()
            {
                return Err(CommandError::bad(None, "Invalid message sequence number"));
            }
            Ok(view.seq_ranges_to_uids(&ranges))
        }
        UidMode::Uid => {
            let ranges = set.resolve(view.max_uid());
            let mut uids = UidSet::new();
            for (lo, hi) in ranges {
                uids.insert_range(lo, hi);
            }
            Ok(uids)
        }
    }
}

/// Requires a selected mailbox and returns what handlers need from it.
pub(crate) fn need_selected(
    s: &mut Session,
) -> Result<
    (
        std::sync::Arc<dyn tidemark_store::Account>,
        &mut crate::selected::SelectedMailbox,
    ),
    CommandError,
> {
    match &mut s.state {
        crate::session::State::Selected(a, v) => Ok((a.clone(), v)),
        _ => Err(CommandError::bad(None, "No mailbox selected")),
    }
}

/// Requires an authenticated account.
pub(crate) fn need_account(
    s: &Session,
) -> Result<std::sync::Arc<dyn tidemark_store::Account>, CommandError> {
    s.account()
        .ok_or_else(|| CommandError::bad(None, "Authenticate first"))
}
