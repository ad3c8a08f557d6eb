//! Command failures and the one mapping from store errors to IMAP
//! response codes (RFC 5530).

use tidemark_imap_proto::{Code, StatusKind};
use tidemark_store::StoreError;

/// Why a command failed: becomes a tagged NO or BAD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    pub kind: StatusKind,
    pub code: Option<Code>,
    pub text: String,
}

impl CommandError {
    /// A tagged NO.
    pub fn no(code: Option<Code>, text: impl Into<String>) -> CommandError {
        CommandError {
            kind: StatusKind::No,
            code,
            text: text.into(),
        }
    }

    /// A tagged BAD (the client misused the protocol).
    pub fn bad(code: Option<Code>, text: impl Into<String>) -> CommandError {
        CommandError {
            kind: StatusKind::Bad,
            code,
            text: text.into(),
        }
    }

    /// The error for a destination mailbox (APPEND, COPY, MOVE): a missing
    /// one gets `[TRYCREATE]` (RFC 9051 6.3.12).
    pub fn for_destination(e: StoreError) -> CommandError {
        match e {
            StoreError::NoSuchMailbox => {
                CommandError::no(Some(Code::TryCreate), "Destination mailbox does not exist")
            }
            other => other.into(),
        }
    }
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> CommandError {
        let code = match &e {
            StoreError::NoSuchMailbox => Code::NonExistent,
            StoreError::MailboxExists => Code::AlreadyExists,
            StoreError::InvalidName(_) | StoreError::NotAllowed(_) => Code::Cannot,
            StoreError::Expunged => Code::ExpungeIssued,
            StoreError::Limit(_) => Code::Limit,
            StoreError::TooBig => Code::TooBig,
            StoreError::OverQuota => Code::OverQuota,
            StoreError::Unavailable(_) => Code::Unavailable,
            StoreError::NoSuchAccount | StoreError::AccountExists | StoreError::Internal(_) => {
                Code::ServerBug
            }
        };
        if matches!(e, StoreError::Internal(_)) {
            tracing::error!(error = %e, "store failure");
        }
        let text = match &e {
            StoreError::Internal(_) => "Internal error; the incident was logged".to_string(),
            other => capitalise(&other.to_string()),
        };
        CommandError::no(Some(code), text)
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_codes() {
        let e: CommandError = StoreError::NoSuchMailbox.into();
        assert_eq!(e.code, Some(Code::NonExistent));
        assert_eq!(e.kind, StatusKind::No);
        assert_eq!(e.text, "Mailbox does not exist");
        let e = CommandError::for_destination(StoreError::NoSuchMailbox);
        assert_eq!(e.code, Some(Code::TryCreate));
        let e: CommandError = StoreError::Internal("disk on fire".into()).into();
        assert!(!e.text.contains("disk"), "internal details stay in the log");
    }
}
