//! AUTHENTICATE (RFC 9051 6.2.2) with SASL-IR (RFC 4959). Mechanisms:
//! PLAIN (RFC 4616). The exchange is a small state machine: `start` either
//! finishes with the initial response or sends an empty continuation and
//! leaves `Pending::Authenticate`; `respond` takes the client's line.

use crate::commands::login::{authenticate, check_privacy};
use crate::error::CommandError;
use crate::session::{CmdResult, Pending, Session};
use base64::Engine;
use tidemark_imap_proto::decode::AuthResponse;
use tidemark_imap_proto::{Code, Continuation, Response, Secret, Tag};

pub(crate) async fn start(
    s: &mut Session,
    tag: Tag,
    mechanism: String,
    initial: Option<Secret>,
) -> CmdResult {
    check_privacy(s)?;
    if !mechanism.eq_ignore_ascii_case("PLAIN") {
        return Err(CommandError::no(
            Some(Code::Cannot),
            format!("Unsupported authentication mechanism {mechanism}"),
        ));
    }
    match initial {
        // SASL-IR: the initial response came with the command ("=" is empty).
        Some(ir) => plain(s, ir.expose()).await,
        None => {
            s.send(Response::Continuation(Continuation::Base64(Vec::new())));
            s.decoder.expect_auth_line();
            s.pending = Pending::Authenticate {
                tag,
                mechanism: "PLAIN".into(),
            };
            // The tagged answer comes with the client's response.
            Ok(crate::session::Done::ok(""))
        }
    }
}

pub(crate) async fn respond(s: &mut Session, _mechanism: &str, resp: AuthResponse) -> CmdResult {
    match resp {
        AuthResponse::Cancel => Err(CommandError::bad(None, "Authentication cancelled")),
        AuthResponse::Data(line) => plain(s, line.expose()).await,
    }
}

/// PLAIN: base64 of `authzid NUL authcid NUL passwd`.
async fn plain(s: &mut Session, b64: &[u8]) -> CmdResult {
    let raw = if b64 == b"=" {
        Vec::new()
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| CommandError::bad(None, "Invalid base64 in SASL response"))?
    };
    let mut parts = raw.split(|b| *b == 0);
    let (Some(authz), Some(authc), Some(pw), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(CommandError::bad(None, "Malformed PLAIN response"));
    };
    let (Ok(authz), Ok(authc), Ok(pw)) = (
        std::str::from_utf8(authz),
        std::str::from_utf8(authc),
        std::str::from_utf8(pw),
    ) else {
        return Err(CommandError::no(
            Some(Code::AuthenticationFailed),
            "Authentication failed",
        ));
    };
    if !authz.is_empty() && authz != authc {
        return Err(CommandError::no(
            Some(Code::AuthorizationFailed),
            "Authorization identity must be empty or equal the user",
        ));
    }
    authenticate(s, authc, pw).await
}
