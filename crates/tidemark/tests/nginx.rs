//! nginx's mail proxy in front of tidemark: `auth_http` points at the
//! `/auth` endpoint, Python's imaplib talks to nginx only (see
//! tests/clients/nginx_proxy.py). A private nginx on loopback, killed at
//! the end.

mod common;

use common::{Client, TestServer};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const MAIL_MODULE: &str = "/usr/lib/nginx/modules/ngx_mail_module.so";

/// Kills nginx when the test ends, however it ends.
struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn imap_through_nginx_mail_proxy() {
    if !common::require("nginx") || !common::require("python3") {
        return;
    }
    if !std::path::Path::new(MAIL_MODULE).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{MAIL_MODULE} missing: CI must install libnginx-mod-mail (.ci/run)"
        );
        eprintln!("SKIPPED: {MAIL_MODULE} missing (apt-get install libnginx-mod-mail)");
        return;
    }
    let users = [("carol".to_string(), "sp ace%41".to_string())];
    let server = TestServer::start_with_args(&users, &["--http", "127.0.0.1:0"]);
    let http = server.listeners["http"];
    let message = b"From: Bob <bob@example.org>\r\nTo: alice@example.org\r\nSubject: via nginx\r\n\r\nProxied body.\r\n";
    let mut c = Client::login(server.imap, "alice", "pass").unwrap();
    assert!(c.append("INBOX", message).unwrap().is_some());
    drop(c);

    let tmp = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let conf = tmp.path().join("nginx.conf");
    let t = tmp.path().display();
    std::fs::write(
        &conf,
        format!(
            "load_module {MAIL_MODULE};\n\
             daemon off;\nmaster_process off;\nworker_processes 1;\n\
             pid {t}/nginx.pid;\nerror_log {t}/error.log info;\n\
             events {{ worker_connections 64; }}\n\
             mail {{\n\
               server_name test;\n\
               auth_http 127.0.0.1:{}/auth;\n\
               auth_http_timeout 20s;\n\
               proxy_pass_error_message on;\n\
               imap_capabilities IMAP4rev1 LITERAL+ SASL-IR;\n\
               imap_auth plain login;\n\
               server {{ listen 127.0.0.1:{port}; protocol imap; }}\n\
             }}\n",
            http.port()
        ),
    )
    .unwrap();
    let nginx = Nginx(
        Command::new("nginx")
            .arg("-p")
            .arg(tmp.path())
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(tmp.path().join("error.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx"),
    );
    let log = || std::fs::read_to_string(tmp.path().join("error.log")).unwrap_or_default();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    common::wait_for_port(addr, Duration::from_secs(10));
    let msg_file = tmp.path().join("message.eml");
    std::fs::write(&msg_file, message).unwrap();
    // The script bounds every network wait (20 s socket timeouts).
    let args = [port.to_string(), msg_file.display().to_string()];
    let (ok, text) = common::script_output("nginx_proxy.py", &args);
    assert!(
        ok && text.contains("NGINX-PROXY-OK"),
        "{text}\nnginx log:\n{}",
        log()
    );
    // The logins went through /auth (one refused) and reached the backend.
    let m = common::http_get(http, "/metrics", &[]).body;
    assert_eq!(
        common::metric(&m, "tidemark_auth_failures_total{mechanism=\"auth_http\"}"),
        Some(1.0),
        "{m}"
    );
    assert!(
        common::metric(
            &m,
            "tidemark_imap_commands_total{command=\"FETCH\",result=\"ok\"}"
        ) == Some(1.0),
        "{m}"
    );
    drop(nginx);
}
