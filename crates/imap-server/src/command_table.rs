//! The command table (Dovecot's imap-commands.c as data): for each command,
//! the states that allow it and how it interacts with the mailbox view.
//! Session dispatch consults it before a handler runs, so state gating and
//! the "no EXPUNGE while sequence numbers are in use" rule are generic.

use tidemark_imap_proto::{CommandBody, SearchKey, UidMode};

/// A set of session states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct States(u8);

impl States {
    pub const NOT_AUTH: States = States(1);
    pub const AUTH: States = States(2);
    pub const SELECTED: States = States(4);
    pub const ANY: States = States(7);
    pub const AUTH_OR_SELECTED: States = States(6);

    pub fn contains(self, other: States) -> bool {
        self.0 & other.0 == other.0
    }
}

/// Behaviour flags of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    /// The command refers to messages by sequence number, so the client's
    /// numbers must not shift while it runs: no EXPUNGE may be sent.
    pub uses_seqs: bool,
    /// Untagged EXPUNGE may be sent at its end (RFC 9051 7.5.1).
    pub may_expunge: bool,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub states: States,
    pub flags: Flags,
    /// Shown when the state is wrong.
    pub wrong_state: &'static str,
}

const NOSEQ: Flags = Flags {
    uses_seqs: false,
    may_expunge: true,
};
const SEQ: Flags = Flags {
    uses_seqs: true,
    may_expunge: false,
};

const fn row(states: States, flags: Flags, wrong_state: &'static str) -> Spec {
    Spec {
        states,
        flags,
        wrong_state,
    }
}

const ANY: Spec = row(States::ANY, NOSEQ, "");
const PRE_AUTH: Spec = row(States::NOT_AUTH, NOSEQ, "Already authenticated");
const AUTHED: Spec = row(States::AUTH_OR_SELECTED, NOSEQ, "Authenticate first");
const SELECTED: Spec = row(States::SELECTED, NOSEQ, "No mailbox selected");
const SELECTED_SEQ: Spec = row(States::SELECTED, SEQ, "No mailbox selected");

fn by_mode(mode: UidMode) -> Spec {
    match mode {
        UidMode::Sequence => SELECTED_SEQ,
        UidMode::Uid => SELECTED,
    }
}

/// The table lookup.
pub fn spec(body: &CommandBody) -> Spec {
    use CommandBody::*;
    match body {
        Capability | Noop | Logout | Id(_) => ANY,
        StartTls | Authenticate { .. } | Login { .. } => PRE_AUTH,
        // RFC 5161 3.1: ENABLE only in the authenticated state.
        Enable(_) => row(States::AUTH, NOSEQ, "ENABLE is only valid before SELECT"),
        Select { .. }
        | Examine { .. }
        | Create { .. }
        | Delete(_)
        | Rename { .. }
        | Subscribe(_)
        | Unsubscribe(_)
        | List(_)
        | Lsub { .. }
        | Namespace
        | Status { .. }
        | Append { .. }
        | Idle
        | Compress { .. }
        | GetQuota(_)
        | GetQuotaRoot(_)
        | SetQuota { .. }
        | GetAcl(_)
        | SetAcl { .. }
        | DeleteAcl { .. }
        | ListRights { .. }
        | MyRights(_)
        | GetMetadata { .. }
        | SetMetadata { .. }
        | Notify(_)
        | Unauthenticate => AUTHED,
        Check | Close | Unselect | Expunge | UidExpunge(_) => SELECTED,
        // COPY by sequence numbers must not see its numbers shift; MOVE
        // expunges itself and reports it, which RFC 6851 allows.
        // RFC 3501 7.4.1: the rule does not apply to the UID forms.
        Fetch { mode, .. }
        | Store { mode, .. }
        | Sort { mode, .. }
        | Thread { mode, .. }
        | Copy { mode, .. } => by_mode(*mode),
        Search(s) => by_mode(s.mode),
        Move { .. } => SELECTED,
    }
}

/// Whether the command names messages by sequence number (RFC 9586 3: once
/// UIDONLY is on, such a command is refused with `BAD [UIDREQUIRED]`):
/// FETCH, STORE, COPY, MOVE, SEARCH, SORT and THREAD without `UID`, a
/// sequence set among search keys (`$`, the saved UIDs, is allowed), and
/// QRESYNC's sequence-match data.
pub fn uses_message_numbers(body: &CommandBody) -> bool {
    use CommandBody::*;
    match body {
        Fetch { mode, .. } | Store { mode, .. } | Copy { mode, .. } | Move { mode, .. } => {
            *mode == UidMode::Sequence
        }
        Search(s) => s.mode == UidMode::Sequence || key_has_numbers(&s.criteria),
        Sort { mode, search, .. } | Thread { mode, search, .. } => {
            *mode == UidMode::Sequence || key_has_numbers(search)
        }
        Select { params, .. } | Examine { params, .. } => params
            .qresync
            .as_ref()
            .is_some_and(|q| q.seq_match.is_some()),
        _ => false,
    }
}

fn key_has_numbers(key: &SearchKey) -> bool {
    match key {
        SearchKey::SequenceSet(set) => !set.is_saved(),
        SearchKey::And(keys) => keys.iter().any(key_has_numbers),
        SearchKey::Or(a, b) => key_has_numbers(a) || key_has_numbers(b),
        SearchKey::Not(k) => key_has_numbers(k),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gating() {
        assert!(spec(&CommandBody::Noop).states.contains(States::NOT_AUTH));
        assert!(
            !spec(&CommandBody::Namespace)
                .states
                .contains(States::NOT_AUTH)
        );
        assert!(!spec(&CommandBody::Expunge).states.contains(States::AUTH));
        assert!(
            spec(&CommandBody::Expunge)
                .states
                .contains(States::SELECTED)
        );
        assert!(!spec(&CommandBody::StartTls).states.contains(States::AUTH));
    }
}
