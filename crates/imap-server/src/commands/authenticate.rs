//! AUTHENTICATE (RFC 9051 6.2.2) with SASL-IR (RFC 4959). Mechanisms:
//! PLAIN (RFC 4616), SCRAM-SHA-256 (RFC 7677) and, on TLS 1.3,
//! SCRAM-SHA-256-PLUS with `tls-exporter` channel binding (RFC 9266); with
//! a token validator configured, OAUTHBEARER (RFC 7628) and XOAUTH2. A
//! refused token gets the mechanism's JSON error as a challenge, then NO
//! after the client's dummy response (RFC 7628 3.2.3).
//!
//! The client's messages are parsed and checked by `tidemark-sasl`; this
//! module is the state machine between them. [`start`] takes the command
//! (and its initial response), [`respond`] each client line; a step that
//! needs another client line sends a continuation and leaves
//! `Pending::Authenticate` with the next [`Step`]. `*` cancels (BAD).
//!
//! SCRAM for an unknown user, or one whose stored credential has no SCRAM
//! keys (created before SCRAM existed: `tidemark user passwd` adds them),
//! runs with decoy keys whose salt is stable per name, and fails at the
//! proof like a wrong password, after the same delay.

use crate::commands::login::{
    auth_failed, check_privacy, complete_login, plausible_user, throttled, verify,
};
use crate::error::CommandError;
use crate::session::{CmdResult, Done, Pending, Session};
use base64::Engine;
use tidemark_imap_proto::decode::AuthResponse;
use tidemark_imap_proto::{Code, Continuation, Response, Secret, Tag};
use tidemark_sasl::{SaslError, oauth, plain, scram};

/// Where an exchange stands: what the next client line is.
pub(crate) enum Step {
    Plain,
    /// The client-first message.
    ScramFirst {
        plus: bool,
    },
    /// The client-final message.
    ScramFinal {
        exchange: Box<scram::Exchange>,
        user: String,
        known: bool,
    },
    /// The empty response after the server-final message.
    ScramDone {
        user: String,
    },
    /// The client's token message.
    OAuth {
        xoauth2: bool,
    },
    /// The dummy response after an error challenge (`user`: the one the
    /// client named).
    OAuthFailed {
        user: Option<String>,
    },
}

/// The mechanisms offered on this connection (for CAPABILITY).
pub(crate) fn mechanisms(s: &Session) -> Vec<&'static str> {
    let mut m = vec!["PLAIN", "SCRAM-SHA-256"];
    if s.conn.channel_binding.is_some() {
        m.push("SCRAM-SHA-256-PLUS");
    }
    if s.ctx.oauth.is_some() {
        m.extend(["OAUTHBEARER", "XOAUTH2"]);
    }
    m
}

pub(crate) async fn start(
    s: &mut Session,
    tag: Tag,
    mechanism: String,
    initial: Option<Secret>,
) -> CmdResult {
    check_privacy(s)?;
    // One list decides what is offered (CAPABILITY) and what is accepted.
    let name = mechanism.to_ascii_uppercase();
    let offered = mechanisms(s).contains(&name.as_str());
    if let Some(m) = mechanisms(s).into_iter().find(|m| *m == name) {
        s.auth_mechanism = m;
    }
    let step = match name.as_str() {
        "PLAIN" if offered => Step::Plain,
        "SCRAM-SHA-256" if offered => Step::ScramFirst { plus: false },
        "SCRAM-SHA-256-PLUS" if offered => Step::ScramFirst { plus: true },
        "OAUTHBEARER" if offered => Step::OAuth { xoauth2: false },
        "XOAUTH2" if offered => Step::OAuth { xoauth2: true },
        _ => {
            return Err(CommandError::no(
                Some(Code::Cannot),
                format!("Unsupported authentication mechanism {mechanism}"),
            ));
        }
    };
    match initial {
        // SASL-IR: the initial response came with the command ("=" is empty).
        Some(ir) => advance(s, tag, step, decode(ir.expose())?).await,
        None => Ok(challenge(s, tag, step, Vec::new())),
    }
}

/// A client line while an exchange is pending.
pub(crate) async fn respond(
    s: &mut Session,
    tag: Tag,
    step: Step,
    resp: AuthResponse,
) -> CmdResult {
    match resp {
        AuthResponse::Cancel => Err(CommandError::bad(None, "Authentication cancelled")),
        AuthResponse::Data(line) => advance(s, tag, step, decode(line.expose())?).await,
    }
}

/// Sends `+ base64(data)` and waits for the client's next line.
fn challenge(s: &mut Session, tag: Tag, step: Step, data: Vec<u8>) -> Done {
    s.send(Response::Continuation(Continuation::Base64(data)));
    s.decoder.expect_auth_line();
    s.pending = Pending::Authenticate { tag, step };
    // The tagged answer comes with a later client line.
    Done::ok("")
}

fn decode(b64: &[u8]) -> Result<Vec<u8>, CommandError> {
    if b64.is_empty() || b64 == b"=" {
        return Ok(Vec::new());
    }
    if b64.len() > tidemark_sasl::MAX_MESSAGE * 4 / 3 + 4 {
        return Err(CommandError::bad(
            Some(Code::TooBig),
            "SASL response too long",
        ));
    }
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| CommandError::bad(None, "Invalid base64 in SASL response"))
}

async fn fail(s: &Session, e: SaslError, user: Option<&str>) -> CommandError {
    match e {
        SaslError::Malformed(m) => CommandError::bad(None, format!("Malformed SASL message: {m}")),
        SaslError::Refused(m) => CommandError::no(Some(Code::AuthenticationFailed), m.to_string()),
        SaslError::AuthFailed => auth_failed(s, user).await,
    }
}

async fn advance(s: &mut Session, tag: Tag, step: Step, msg: Vec<u8>) -> CmdResult {
    match step {
        Step::Plain => {
            let p = match plain::parse(&msg) {
                Ok(p) => p,
                Err(e) => return Err(fail(s, e, None).await),
            };
            if !p.authzid.is_empty() && p.authzid != p.authcid {
                return Err(CommandError::no(
                    Some(Code::AuthorizationFailed),
                    "Authorization identity must be empty or equal the user",
                ));
            }
            if verify(s, &p.authcid, &p.password).await {
                complete_login(s, &p.authcid).await
            } else {
                Err(auth_failed(s, Some(&p.authcid)).await)
            }
        }
        Step::ScramFirst { plus } => {
            let binding = s.channel_binding();
            let first = match scram::parse_client_first(&msg, plus, &binding) {
                Ok(f) => f,
                Err(e) => return Err(fail(s, e, None).await),
            };
            if first.authzid.as_ref().is_some_and(|a| *a != first.username) {
                return Err(CommandError::no(
                    Some(Code::AuthorizationFailed),
                    "Authorization identity must be empty or equal the user",
                ));
            }
            let user = first.username.clone();
            // A throttled address gets decoy keys: it cannot succeed.
            let keys = if throttled(s) {
                None
            } else {
                scram_keys(s, &user).await
            };
            let known = keys.is_some();
            let keys =
                keys.unwrap_or_else(|| scram::ScramKeys::decoy(&user, &s.ctx.config.sasl_secret));
            let nonce =
                base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 18]>());
            let (exchange, server_first) = scram::Exchange::start(first, keys, &nonce, &binding);
            let next = Step::ScramFinal {
                exchange: Box::new(exchange),
                user,
                known,
            };
            Ok(challenge(s, tag, next, server_first.into_bytes()))
        }
        Step::ScramFinal {
            exchange,
            user,
            known,
        } => match exchange.finish(&msg) {
            Ok(server_final) if known => Ok(challenge(
                s,
                tag,
                Step::ScramDone { user },
                server_final.into_bytes(),
            )),
            Ok(_) => Err(auth_failed(s, Some(&user)).await),
            Err(e) => Err(fail(s, e, Some(&user)).await),
        },
        Step::OAuth { xoauth2 } => {
            let parsed = if xoauth2 {
                oauth::parse_xoauth2(&msg)
            } else {
                oauth::parse_oauthbearer(&msg)
            };
            let req = match parsed {
                Ok(r) => r,
                Err(e) => return Err(fail(s, e, None).await),
            };
            let verdict = match &s.ctx.oauth {
                _ if throttled(s) => Err("address throttled".into()),
                Some(v) => v.validate(&req.token),
                None => Err("OAuth is not configured".into()),
            };
            match verdict {
                // The token's account; a user named in the message must be it.
                Ok(user) if req.user.as_ref().is_none_or(|u| *u == user) => {
                    complete_login(s, &user).await
                }
                other => {
                    let why = other
                        .err()
                        .unwrap_or_else(|| "token is for another user".into());
                    tracing::info!(peer = %s.conn.peer, "OAuth token refused: {why}");
                    let error = if xoauth2 {
                        oauth::xoauth2_error(None)
                    } else {
                        oauth::oauthbearer_error(None, None)
                    };
                    Ok(challenge(
                        s,
                        tag,
                        Step::OAuthFailed { user: req.user },
                        error.into_bytes(),
                    ))
                }
            }
        }
        Step::OAuthFailed { user } => Err(auth_failed(s, user.as_deref()).await),
        Step::ScramDone { user } => {
            if !msg.is_empty() {
                return Err(CommandError::bad(
                    None,
                    "Expected an empty response after the server's final message",
                ));
            }
            complete_login(s, &user).await
        }
    }
}

/// The user's stored SCRAM keys; `None` for an unknown user or a
/// credential without them.
async fn scram_keys(s: &Session, user: &str) -> Option<scram::ScramKeys> {
    if !plausible_user(user) {
        return None;
    }
    let credential = s.ctx.store.credential(user).await.ok().flatten()?;
    crate::password::scram_keys(&credential)
}
