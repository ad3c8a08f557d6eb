//! The HTTP endpoint (`[http] listen`, `--http ADDR`; off by default):
//!
//! - `GET /metrics`: Prometheus/OpenMetrics text of [`crate::metrics::Metrics`];
//! - `GET /health`: `200 ok` when the store answers within 2 s, `503`
//!   otherwise and once shutdown has begun;
//! - `GET /status`: JSON for `tidemark status` (version, uptime, open
//!   connections per listener, accounts online);
//! - `GET /auth`: nginx's mail `auth_http` protocol
//!   (<https://nginx.org/en/docs/mail/ngx_mail_auth_http_module.html>):
//!   checks the password as IMAP LOGIN does and names the IMAP backend.
//!
//! It has no TLS and no authentication of its own: bind it to loopback (or
//! a private network) only. It stops with the server's shutdown signal.

use crate::serve::Shared;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long `/health` waits for the store.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);
/// nginx's `Auth-Wait` after a wrong password (seconds).
const AUTH_WAIT: &str = "3";
/// After this many attempts on one nginx session, a failure is answered
/// without `Auth-Wait`, so nginx closes the connection (its docs ask for
/// this: each attempt costs it memory until the session ends).
const MAX_LOGIN_ATTEMPTS: u32 = 10;

/// The routes, over the server's shared state.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/health", get(health))
        .route("/status", get(status))
        .route("/auth", get(auth))
        .with_state(shared)
}

/// Serves `listener` until the server shuts down (in-flight requests
/// finish; idle keep-alive connections are closed).
pub async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let mut stop = shared.shutdown.clone();
    let app = router(shared);
    let r = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await;
    if let Err(e) = r {
        tracing::warn!("HTTP listener failed: {e}");
    }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        shared.metrics.render(),
    )
        .into_response()
}

async fn health(State(shared): State<Arc<Shared>>) -> Response {
    if *shared.shutdown.borrow() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    match tokio::time::timeout(HEALTH_TIMEOUT, shared.store.list_accounts()).await {
        Ok(Ok(_)) => (StatusCode::OK, "ok\n").into_response(),
        Ok(Err(e)) => {
            tracing::warn!("health check: the store failed: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "store failed\n").into_response()
        }
        Err(_) => {
            tracing::warn!("health check: the store did not answer within {HEALTH_TIMEOUT:?}");
            (StatusCode::SERVICE_UNAVAILABLE, "store not answering\n").into_response()
        }
    }
}

async fn status(State(shared): State<Arc<Shared>>) -> Response {
    let m = &shared.metrics;
    let connections: serde_json::Map<String, serde_json::Value> = m
        .open_connections()
        .into_iter()
        .map(|(name, n)| (name, n.into()))
        .collect();
    let body = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_secs": m.uptime().as_secs(),
        "connections": connections,
        "users_online": m.users_online(),
        "shutting_down": *shared.shutdown.borrow(),
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        format!("{body}\n"),
    )
        .into_response()
}

/// An nginx `auth_http` answer: always HTTP 200, the verdict in headers.
fn auth_answer(headers: &[(&'static str, String)]) -> Response {
    let mut r = StatusCode::OK.into_response();
    for (name, value) in headers {
        match HeaderValue::from_str(value) {
            Ok(v) => {
                r.headers_mut().insert(*name, v);
            }
            Err(_) => tracing::error!(name, "auth_http: unencodable header value"),
        }
    }
    r
}

/// A refusal without `Auth-Wait`: nginx passes the text on and closes.
fn auth_refused(text: &str) -> Response {
    auth_answer(&[("Auth-Status", text.to_owned())])
}

/// `%XX` escapes decoded (nginx escapes `Auth-User` and `Auth-Pass`);
/// `None` when the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    // Invalid escapes are kept as they are; the result must be UTF-8.
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

async fn auth(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .trim()
    };
    let protocol = h("Auth-Protocol").to_ascii_lowercase();
    if protocol != "imap" {
        return auth_refused("Unsupported protocol: this server speaks IMAP only");
    }
    let method = h("Auth-Method").to_ascii_lowercase();
    if method != "plain" && method != "login" {
        return auth_refused("Unsupported authentication method: use LOGIN or PLAIN");
    }
    let Ok(client) = h("Client-IP").parse::<IpAddr>() else {
        return auth_refused("Missing or invalid Client-IP");
    };
    let Some(backend) = shared.auth_backend else {
        tracing::error!(
            "auth_http: no IMAP backend (no plain imap listener, no [http] auth_backend)"
        );
        return auth_refused("Temporary server problem, try again later");
    };
    let attempt: u32 = h("Auth-Login-Attempt").parse().unwrap_or(1);
    let (user, pass) = match (
        percent_decode(h("Auth-User")),
        percent_decode(h("Auth-Pass")),
    ) {
        (Some(u), Some(p)) if !u.is_empty() => (u, p),
        _ => return auth_refused("Invalid login or password"),
    };
    // The same check as LOGIN: throttled by the real client address,
    // argon2 on the hashing threads, the same delay after a failure.
    if shared
        .imap
        .check_login(client, &user, &pass, "auth_http")
        .await
    {
        tracing::info!(%client, user = %user, "auth_http: accepted");
        return auth_answer(&[
            ("Auth-Status", "OK".into()),
            ("Auth-Server", backend.ip().to_string()),
            ("Auth-Port", backend.port().to_string()),
        ]);
    }
    let mut answer = vec![("Auth-Status", "Invalid login or password".to_owned())];
    if attempt < MAX_LOGIN_ATTEMPTS {
        answer.push(("Auth-Wait", AUTH_WAIT.to_owned()));
    }
    auth_answer(&answer)
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("alice").as_deref(), Some("alice"));
        assert_eq!(percent_decode("p%20w%25d").as_deref(), Some("p w%d"));
        assert_eq!(percent_decode("%C3%A4").as_deref(), Some("ä"));
        assert_eq!(percent_decode("100%").as_deref(), Some("100%"));
        assert_eq!(percent_decode("%zz%4").as_deref(), Some("%zz%4"));
        assert_eq!(percent_decode("%ff"), None);
    }
}
