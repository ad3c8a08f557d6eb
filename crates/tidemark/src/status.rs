//! `tidemark status`: asks a running server's HTTP endpoint for `/status`
//! and prints it. A tiny HTTP/1.0 client over a std `TcpStream` (loopback
//! or a private network; no TLS).

use crate::cli::StatusArgs;
use crate::error::{Fail, Result};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read.
const MAX_ANSWER: u64 = 1 << 20;

pub fn run(args: &StatusArgs) -> Result<()> {
    let addr = match &args.http {
        Some(a) => a.trim().parse::<SocketAddr>().map_err(|_| {
            Fail::config(format!("--http: invalid address {a:?} (expected IP:PORT)"))
        })?,
        None => *crate::config::http_listen(&args.dirs)?
            .first()
            .ok_or_else(|| {
                Fail::config(
                    "no HTTP address: pass --http ADDR, or set [http] listen in the config file",
                )
            })?,
    };
    let addr = crate::serve::connectable(addr);
    let body = get(addr, "/status")
        .map_err(|e| Fail::runtime(format!("cannot get the status from http://{addr}: {e}")))?;
    if args.json {
        print!("{body}");
        return Ok(());
    }
    let v: serde_json::Value = serde_json::from_str(&body)
        .map_err(|e| Fail::runtime(format!("http://{addr}/status: not JSON: {e}")))?;
    print!("{}", render(&v));
    Ok(())
}

/// The status in lines for people.
fn render(v: &serde_json::Value) -> String {
    let secs = v["uptime_secs"].as_u64().unwrap_or(0);
    let mut s = format!(
        "tidemark {} up {}d {:02}h {:02}m {:02}s{}\n",
        v["version"].as_str().unwrap_or("?"),
        secs / 86400,
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60,
        if v["shutting_down"].as_bool() == Some(true) {
            " (shutting down)"
        } else {
            ""
        }
    );
    let conns: Vec<String> = v["connections"]
        .as_object()
        .map(|m| m.iter().map(|(k, n)| format!("{k} {n}")).collect())
        .unwrap_or_default();
    s.push_str(&format!("connections: {}\n", conns.join(", ")));
    let users: Vec<&str> = v["users_online"]
        .as_array()
        .map(|a| a.iter().filter_map(|u| u.as_str()).collect())
        .unwrap_or_default();
    s.push_str(&format!(
        "users online ({}): {}\n",
        users.len(),
        users.join(", ")
    ));
    s
}

/// `GET path` over HTTP/1.0; the body of a 200 answer.
fn get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    s.set_read_timeout(Some(TIMEOUT))?;
    s.set_write_timeout(Some(TIMEOUT))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut raw = Vec::new();
    s.take(MAX_ANSWER).read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("malformed HTTP answer"))?;
    let status = head.lines().next().unwrap_or("");
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(std::io::Error::other(format!("answered {status:?}")));
    }
    Ok(body.to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders() {
        let v = serde_json::json!({
            "version": "1.2.3", "uptime_secs": 90061,
            "connections": {"imap": 2, "imaps": 0},
            "users_online": ["alice", "bob"], "shutting_down": false,
        });
        assert_eq!(
            super::render(&v),
            "tidemark 1.2.3 up 1d 01h 01m 01s\nconnections: imap 2, imaps 0\nusers online (2): alice, bob\n"
        );
    }
}
