//! LOGIN (RFC 9051 6.2.3) and the credential check shared with
//! AUTHENTICATE.
//!
//! Refused on a plaintext non-loopback connection unless configured
//! (`NO [PRIVACYREQUIRED]`, matching LOGINDISABLED). Failures are delayed
//! and answered identically for unknown users and wrong passwords; unknown
//! users spend the same hashing time (password::dummy_verify).

use crate::error::CommandError;
use crate::session::{CmdResult, Done, Session};
use tidemark_imap_proto::{Code, Secret};

pub(crate) async fn run(s: &mut Session, username: Vec<u8>, password: Secret) -> CmdResult {
    s.auth_mechanism = "LOGIN";
    check_privacy(s)?;
    let user = String::from_utf8(username).map_err(|_| auth_failed_now())?;
    let pw = String::from_utf8(password.into_inner()).map_err(|_| auth_failed_now())?;
    authenticate(s, &user, &pw).await
}

/// `NO [PRIVACYREQUIRED]` when authentication is not allowed here.
pub(crate) fn check_privacy(s: &Session) -> Result<(), CommandError> {
    if s.conn.secured() || s.ctx.config.allow_plaintext_auth {
        Ok(())
    } else {
        Err(CommandError::no(
            Some(Code::PrivacyRequired),
            "Use TLS (IMAPS or STARTTLS) before authenticating",
        ))
    }
}

fn auth_failed_now() -> CommandError {
    CommandError::no(Some(Code::AuthenticationFailed), "Authentication failed")
}

/// Verifies credentials and logs in, or fails after the configured delay.
pub(crate) async fn authenticate(s: &mut Session, user: &str, pw: &str) -> CmdResult {
    if verify(s, user, pw).await {
        complete_login(s, user).await
    } else {
        Err(auth_failed(s, Some(user)).await)
    }
}

/// Enters the authenticated state as `user`, whose credentials checked.
pub(crate) async fn complete_login(s: &mut Session, user: &str) -> CmdResult {
    if !s.take_account_slot(user) {
        tracing::info!(peer = %s.conn.peer, "too many sessions for one account");
        return Err(CommandError::no(
            Some(Code::Unavailable),
            "Too many connections for this account",
        ));
    }
    match s.ctx.store.open_account(user).await {
        Ok(account) => {
            s.login(account);
            let caps = crate::commands::capability::list(s);
            Ok(Done::with_code(Code::Capability(caps), "Logged in"))
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot open account after successful authentication");
            Err(CommandError::no(
                Some(Code::Unavailable),
                "Account unavailable",
            ))
        }
    }
}

/// A failed authentication (as `user`, when the client named one):
/// counted by the throttle, logged, answered after the configured delay
/// (longer for a name that failed too often), the same for every cause.
pub(crate) async fn auth_failed(s: &Session, user: Option<&str>) -> CommandError {
    s.ctx
        .authentication_failed(s.conn.peer.ip(), user, s.auth_mechanism)
        .await;
    auth_failed_now()
}

/// The client's address failed too often: attempts fail without a check.
pub(crate) fn throttled(s: &Session) -> bool {
    s.ctx.throttle.ip_blocked(s.conn.peer.ip())
}

/// Names that can be accounts (others are never looked up).
pub(crate) fn plausible_user(user: &str) -> bool {
    !user.is_empty() && user.len() <= 255
}

/// Whether `pw` is `user`'s password (unknown users cost the same time).
pub(crate) async fn verify(s: &Session, user: &str, pw: &str) -> bool {
    s.ctx.verify_password(s.conn.peer.ip(), user, pw).await
}
