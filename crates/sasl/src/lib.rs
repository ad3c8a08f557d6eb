//! SASL for tidemark, server side, without I/O: every function takes the
//! bytes a client sent (already base64-decoded) and returns what to answer.
//!
//! - [`plain`]: PLAIN (RFC 4616).
//! - [`scram`]: SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (RFC 5802, RFC 7677,
//!   `tls-exporter` channel binding from RFC 9266), and the salted keys an
//!   account stores for it instead of a password.
//! - [`oauth`]: the client messages of OAUTHBEARER (RFC 7628) and XOAUTH2,
//!   and their error challenges. Validating the token is the caller's job.
//!
//! Every parser bounds its input ([`MAX_MESSAGE`]) before looking at it and
//! never panics (fuzzed in `fuzz/fuzz_targets/sasl.rs`).

pub mod oauth;
pub mod plain;
pub mod scram;

use std::fmt;

/// Longest client message any mechanism accepts, after base64 decoding
/// (OAuth tokens are the long ones).
pub const MAX_MESSAGE: usize = 16 * 1024;

/// Why an exchange failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaslError {
    /// The client's message does not follow the mechanism's syntax: a
    /// protocol error (IMAP: BAD).
    Malformed(&'static str),
    /// Well-formed, but refused by the rules of the mechanism (channel
    /// binding misuse, unsupported extension): IMAP NO. The text is the
    /// RFC 5802 `server-error-value` where there is one.
    Refused(&'static str),
    /// The credentials did not verify (IMAP NO [AUTHENTICATIONFAILED]).
    AuthFailed,
}

impl fmt::Display for SaslError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaslError::Malformed(m) => write!(f, "malformed SASL message: {m}"),
            SaslError::Refused(m) => write!(f, "SASL exchange refused: {m}"),
            SaslError::AuthFailed => f.write_str("authentication failed"),
        }
    }
}

impl std::error::Error for SaslError {}

fn check_len(msg: &[u8]) -> Result<(), SaslError> {
    if msg.len() > MAX_MESSAGE {
        Err(SaslError::Malformed("message too long"))
    } else {
        Ok(())
    }
}
