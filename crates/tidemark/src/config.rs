//! Configuration: defaults, the TOML file, CLI overrides.
//!
//! Precedence: CLI flag > config file > built-in default. The config file is
//! `--config FILE` when given, otherwise `DATA_DIR/tidemark.toml` when it
//! exists. Relative paths inside a config file are relative to the file's
//! directory. Every key is documented in `tidemark.example.toml`.

use crate::cli::{DataDirArgs, ServeArgs};
use crate::error::{Fail, Result};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_DATA_DIR: &str = "./tidemark-data";
pub const DEFAULT_IMAP: &str = "127.0.0.1:1143";
pub const DEFAULT_IMAPS: &str = "127.0.0.1:1993";
pub const CONFIG_FILE_NAME: &str = "tidemark.toml";

pub const DEFAULT_MAX_LITERAL: u64 = 64 * 1024 * 1024;
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;
pub const DEFAULT_AUTH_FAILURE_DELAY_MS: u64 = 1000;

/// The fully resolved configuration the server runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The data directory (store, TLS material, config file).
    pub data_dir: PathBuf,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
    /// The server's name (greeting, certificate SAN).
    pub hostname: String,
    /// Plain IMAP listeners (STARTTLS available). Empty: disabled.
    pub imap_listen: Vec<SocketAddr>,
    /// Implicit-TLS IMAP listeners. Empty: disabled.
    pub imaps_listen: Vec<SocketAddr>,
    /// LMTP listeners. Empty: disabled.
    pub lmtp_listen: Vec<SocketAddr>,
    pub tls: TlsConfig,
    pub auth: AuthConfig,
    pub limits: Limits,
    /// `[search] index`: keep the text index (default on).
    pub search_index: bool,
    /// OAUTHBEARER / XOAUTH2 token checking; `None`: not offered.
    pub oauth: Option<OAuthConfig>,
    /// `[store] account_linger`: how long an account stays open after its
    /// last session ends (default 120 s).
    pub account_linger: Duration,
    /// `[http]`: metrics, health, status and nginx `auth_http`.
    pub http: HttpConfig,
    /// `[log] format` (or `TIDEMARK_LOG_FORMAT`).
    pub log_format: LogFormat,
}

/// `[http]`: the HTTP endpoint (no TLS, no authentication of its own).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpConfig {
    /// Listen addresses. Empty: off (the default).
    pub listen: Vec<SocketAddr>,
    /// The IMAP backend `GET /auth` sends nginx to; `None`: the first
    /// plain IMAP listener.
    pub auth_backend: Option<SocketAddr>,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// `text` or `json`.
    pub fn parse(s: &str) -> Option<LogFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsConfig {
    /// PEM certificate chain; `None` (with `key` `None`): self-signed in DATA_DIR/tls.
    pub cert: Option<PathBuf>,
    /// PEM private key.
    pub key: Option<PathBuf>,
}

/// `[oauth]`: JWT access tokens signed by an issuer whose public keys are
/// in a JWK set file or one PEM file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthConfig {
    /// Required `iss`.
    pub issuer: String,
    /// Required `aud`.
    pub audience: String,
    /// A JWK set (`{"keys": [...]}`), or one public key in PEM.
    pub keys_file: PathBuf,
    /// The claim naming the account (default `sub`).
    pub user_claim: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthConfig {
    /// Allow LOGIN / AUTHENTICATE PLAIN on non-TLS connections from
    /// non-loopback peers. Loopback peers may always log in without TLS.
    pub allow_plaintext: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest literal accepted (APPENDLIMIT), in bytes.
    pub max_literal: u64,
    /// Longest command line (excluding literals), in bytes.
    pub max_line: usize,
    /// Pause after a failed authentication.
    pub auth_failure_delay: Duration,
    /// Open connections per client address (IPv6: per /64); 0: no limit.
    pub max_connections_per_ip: usize,
    /// Failed authentications per address in 10 minutes before the address
    /// is refused for the rest of them; 0: no limit.
    pub auth_failures_per_ip: u32,
    /// Failed authentications per account name in 10 minutes before each
    /// further failure is answered 5 s later; 0: no limit.
    pub auth_failures_per_account: u32,
    /// Loopback clients (a local proxy) are exempt from the per-address
    /// limits.
    pub exempt_loopback: bool,
    /// Sessions per account at once; 0: no limit.
    pub max_connections_per_account: usize,
    /// Time from connecting to authenticating, however active the client.
    pub login_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_literal: DEFAULT_MAX_LITERAL,
            max_line: DEFAULT_MAX_LINE,
            auth_failure_delay: Duration::from_millis(DEFAULT_AUTH_FAILURE_DELAY_MS),
            max_connections_per_ip: 64,
            auth_failures_per_ip: 10,
            auth_failures_per_account: 20,
            exempt_loopback: true,
            max_connections_per_account: 100,
            login_timeout: Duration::from_secs(120),
        }
    }
}

// ---- the file format -------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    hostname: Option<String>,
    imap: Option<ListenSection>,
    imaps: Option<ListenSection>,
    lmtp: Option<ListenSection>,
    tls: Option<TlsSection>,
    auth: Option<AuthSection>,
    limits: Option<LimitsSection>,
    search: Option<SearchSection>,
    store: Option<StoreSection>,
    oauth: Option<OAuthSection>,
    http: Option<HttpSection>,
    log: Option<LogSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpSection {
    listen: Option<Vec<String>>,
    auth_backend: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogSection {
    format: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OAuthSection {
    issuer: Option<String>,
    audience: Option<String>,
    jwks_file: Option<PathBuf>,
    pem_file: Option<PathBuf>,
    user_claim: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreSection {
    account_linger: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchSection {
    index: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListenSection {
    listen: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsSection {
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthSection {
    allow_plaintext: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsSection {
    max_literal: Option<u64>,
    max_line: Option<u64>,
    auth_failure_delay_ms: Option<u64>,
    max_connections_per_ip: Option<usize>,
    auth_failures_per_ip: Option<u32>,
    auth_failures_per_account: Option<u32>,
    exempt_loopback: Option<bool>,
    max_connections_per_account: Option<usize>,
    login_timeout_secs: Option<u64>,
}

/// Where the settings came from, to name them in errors: the file (and
/// its text, for line numbers) and the keys set by environment variables.
#[derive(Debug, Default)]
struct Source {
    path: Option<PathBuf>,
    text: String,
    /// `"[limits] max_line"` -> `"TIDEMARK__LIMITS__MAX_LINE"`.
    env: Vec<(String, String)>,
}

impl Source {
    /// Names a setting for an error message: `[limits] max_line` becomes
    /// `/etc/tidemark.toml line 12 ([limits] max_line)`, or the environment
    /// variable that set it.
    fn name(&self, what: &str) -> String {
        if let Some((_, var)) = self.env.iter().find(|(k, _)| k == what) {
            return format!("environment variable {var} ({what})");
        }
        match &self.path {
            Some(p) => match line_of(&self.text, what) {
                Some(n) => format!("{} line {n} ({what})", p.display()),
                None => format!("{} ({what})", p.display()),
            },
            None => what.to_owned(),
        }
    }
}

/// The line (1-based) where `what` (`key`, `[section]` or `[section] key`)
/// is set in a config file's text.
fn line_of(text: &str, what: &str) -> Option<usize> {
    let (section, key) = match what.strip_prefix('[') {
        Some(rest) => {
            let (sec, key) = rest.split_once(']')?;
            (Some(sec.trim()), key.trim())
        }
        None => (None, what.trim()),
    };
    let mut current: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(h) = t.strip_prefix('[') {
            let name = h.split(']').next().unwrap_or("").trim().to_owned();
            if key.is_empty() && section == Some(name.as_str()) {
                return Some(i + 1);
            }
            current = Some(name);
            continue;
        }
        if key.is_empty() || current.as_deref() != section {
            continue;
        }
        if let Some((k, _)) = t.split_once('=')
            && k.trim().trim_matches('"') == key
        {
            return Some(i + 1);
        }
    }
    None
}

/// The prefix of environment variables that override config keys:
/// `TIDEMARK__SECTION__KEY` (or `TIDEMARK__KEY` at the top level).
pub const ENV_PREFIX: &str = "TIDEMARK__";

/// Applies `TIDEMARK__SECTION__KEY=value` overrides to the parsed file.
/// A value is read as a TOML value when it is one (`1000`, `true`,
/// `["a", "b"]`), else as a string; `listen` also takes `a,b`.
fn apply_env(
    table: &mut toml::Table,
    vars: impl Iterator<Item = (String, String)>,
) -> Result<Vec<(String, String)>> {
    let mut applied = Vec::new();
    for (var, raw) in vars {
        let Some(path) = var.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let parts: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
        let (section, key) = match parts.as_slice() {
            [key] => (None, key.clone()),
            [section, key] => (Some(section.clone()), key.clone()),
            _ => {
                return Err(Fail::config(format!(
                    "environment variable {var}: expected {ENV_PREFIX}KEY or {ENV_PREFIX}SECTION__KEY"
                )));
            }
        };
        let value = match format!("v = {raw}").parse::<toml::Table>() {
            Ok(mut t) => t.remove("v").unwrap_or(toml::Value::String(raw.clone())),
            Err(_) if key == "listen" => toml::Value::Array(
                raw.split(',')
                    .map(|a| toml::Value::String(a.trim().to_owned()))
                    .collect(),
            ),
            Err(_) => toml::Value::String(raw.clone()),
        };
        let target = match &section {
            None => &mut *table,
            Some(sec) => match table
                .entry(sec.clone())
                .or_insert_with(|| toml::Value::Table(Default::default()))
            {
                toml::Value::Table(t) => t,
                _ => {
                    return Err(Fail::config(format!(
                        "environment variable {var}: `{sec}` is not a section"
                    )));
                }
            },
        };
        target.insert(key.clone(), value);
        let what = match section {
            Some(sec) => format!("[{sec}] {key}"),
            None => key,
        };
        applied.push((what, var));
    }
    Ok(applied)
}

/// Reads the config file (when there is one) and applies the environment.
fn parse_source(path: Option<&Path>) -> Result<(FileConfig, Source)> {
    let text = match path {
        Some(path) => std::fs::read_to_string(path).map_err(|e| {
            Fail::config(format!("cannot read config file {}: {e}", path.display()))
        })?,
        None => String::new(),
    };
    let at = |e: String| match path {
        Some(p) => Fail::config(format!("config file {}: {e}", p.display())),
        None => Fail::config(e),
    };
    // Parsed from the text first: TOML's errors then carry line numbers.
    let mut fc = parse_str(&text).map_err(at)?;
    let mut table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| at(e.to_string()))?;
    let mut vars: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with(ENV_PREFIX))
        .collect();
    vars.sort();
    let env = apply_env(&mut table, vars.into_iter())?;
    if !env.is_empty() {
        let names: Vec<&str> = env.iter().map(|(_, v)| v.as_str()).collect();
        fc = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| {
                Fail::config(format!(
                    "environment ({}): {}",
                    names.join(", "),
                    e.to_string().trim_end()
                ))
            })?;
    }
    Ok((
        fc,
        Source {
            path: path.map(Path::to_path_buf),
            text,
            env,
        },
    ))
}

fn parse_str(text: &str) -> Result<FileConfig, String> {
    toml::from_str::<FileConfig>(text).map_err(|e| e.to_string().trim_end().to_owned())
}

/// Parses listen addresses. `off`/`none` (alone) or an empty list disable.
fn parse_listen(what: &str, items: &[String]) -> Result<Vec<SocketAddr>> {
    if items.len() == 1 && matches!(items[0].trim(), "off" | "none" | "") {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for s in items {
        let a: SocketAddr = s.trim().parse().map_err(|_| {
            Fail::config(format!(
                "{what}: invalid listen address {s:?} (expected IP:PORT such as 127.0.0.1:1143 or [::]:993, or `off`)"
            ))
        })?;
        // Port 0 (an ephemeral port, for tests) never collides.
        if a.port() == 0 || !out.contains(&a) {
            out.push(a);
        }
    }
    Ok(out)
}

fn relative_to(base: Option<&Path>, p: PathBuf) -> PathBuf {
    match base {
        Some(b) if p.is_relative() => b.join(p),
        _ => p,
    }
}

/// The machine's host name, or "localhost".
pub fn system_hostname() -> String {
    for f in ["/proc/sys/kernel/hostname", "/etc/hostname"] {
        if let Ok(s) = std::fs::read_to_string(f) {
            let s = s.trim();
            if valid_hostname(s) {
                return s.to_owned();
            }
        }
    }
    "localhost".to_owned()
}

fn valid_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Locates and reads the config file for `dirs`, with the environment's
/// overrides. Returns the file config, where it came from, and the data
/// dir to use.
fn load_file(dirs: &DataDirArgs) -> Result<(FileConfig, Source, PathBuf)> {
    if let Some(path) = &dirs.config {
        let (fc, src) = parse_source(Some(path))?;
        let base = path.parent().map(Path::to_path_buf);
        let data_dir = match (&dirs.data_dir, &fc.data_dir) {
            (Some(d), _) => d.clone(),
            (None, Some(d)) => relative_to(base.as_deref(), d.clone()),
            (None, None) => PathBuf::from(DEFAULT_DATA_DIR),
        };
        return Ok((fc, src, data_dir));
    }
    // The data directory from the flag, else from the environment, else
    // the default; its own config file may not move it.
    let data_dir = dirs
        .data_dir
        .clone()
        .or_else(|| std::env::var_os(format!("{ENV_PREFIX}DATA_DIR")).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    let path = data_dir.join(CONFIG_FILE_NAME);
    let (fc, src) = parse_source(Some(&path).filter(|p| p.is_file()).map(|p| p.as_path()))?;
    if src.path.is_some() && line_of(&src.text, "data_dir").is_some() {
        return Err(Fail::config(format!(
            "{}: `data_dir` is not allowed in the data directory's own config file \
             (use --config FILE to keep the config elsewhere)",
            src.name("data_dir")
        )));
    }
    Ok((fc, src, data_dir))
}

/// Just the data directory (for the `user` subcommands), after reading the
/// config file if one is named or present.
pub fn resolve_data_dir(dirs: &DataDirArgs) -> Result<PathBuf> {
    load_file(dirs).map(|(_, _, d)| d)
}

/// The HTTP listen addresses of the configuration `dirs` names (for
/// `tidemark status`).
pub fn http_listen(dirs: &DataDirArgs) -> Result<Vec<SocketAddr>> {
    let (fc, source, _) = load_file(dirs)?;
    match fc.http.and_then(|h| h.listen) {
        Some(l) => parse_listen(&source.name("[http] listen"), &l),
        None => Ok(Vec::new()),
    }
}

/// The log format before the rest of the configuration is read:
/// `TIDEMARK_LOG_FORMAT`, else `[log] format` of the config file `dirs`
/// names. A bad value or file means `text` here; `resolve` reports it.
pub fn early_log_format(dirs: &DataDirArgs) -> LogFormat {
    if let Ok(v) = std::env::var("TIDEMARK_LOG_FORMAT") {
        return LogFormat::parse(&v).unwrap_or_default();
    }
    load_file(dirs)
        .ok()
        .and_then(|(fc, _, _)| fc.log?.format)
        .and_then(|f| LogFormat::parse(&f))
        .unwrap_or_default()
}

/// The full configuration for `serve`.
pub fn resolve(args: &ServeArgs) -> Result<Config> {
    let (fc, source, data_dir) = load_file(&args.dirs)?;
    let config_file = source.path.clone();
    let base = config_file
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf);
    let file_name = |k: &str| source.name(k);

    let hostname = match fc.hostname {
        Some(h) => {
            let h = h.trim().to_owned();
            if !valid_hostname(&h) && h.parse::<std::net::IpAddr>().is_err() {
                return Err(Fail::config(format!(
                    "{}: invalid hostname {h:?}",
                    file_name("hostname")
                )));
            }
            h
        }
        None => system_hostname(),
    };

    let listen = |cli: &[String], sec: &Option<ListenSection>, key: &str, default: Option<&str>| {
        if !cli.is_empty() {
            return parse_listen(&format!("--{key}"), cli);
        }
        if let Some(list) = sec.as_ref().and_then(|s| s.listen.as_ref()) {
            return parse_listen(&file_name(&format!("[{key}] listen")), list);
        }
        match default {
            Some(d) => parse_listen(key, &[d.to_owned()]),
            None => Ok(Vec::new()),
        }
    };
    let imap_listen = listen(&args.imap, &fc.imap, "imap", Some(DEFAULT_IMAP))?;
    let imaps_listen = listen(&args.imaps, &fc.imaps, "imaps", Some(DEFAULT_IMAPS))?;
    let lmtp_listen = listen(&args.lmtp, &fc.lmtp, "lmtp", None)?;
    let http_sec = fc.http.unwrap_or_default();
    let http_listen = listen(
        &args.http,
        &Some(ListenSection {
            listen: http_sec.listen,
        }),
        "http",
        None,
    )?;
    let auth_backend = match http_sec.auth_backend {
        None => None,
        Some(a) => Some(a.trim().parse::<SocketAddr>().map_err(|_| {
            Fail::config(format!(
                "{}: invalid address {a:?} (expected IP:PORT)",
                file_name("[http] auth_backend")
            ))
        })?),
    };
    for a in http_listen.iter().filter(|a| a.port() != 0) {
        if imap_listen.contains(a) || imaps_listen.contains(a) || lmtp_listen.contains(a) {
            return Err(Fail::config(format!("listen address {a} is used twice")));
        }
    }
    let log_format = match std::env::var("TIDEMARK_LOG_FORMAT") {
        Ok(v) => LogFormat::parse(&v).ok_or_else(|| {
            Fail::config(format!(
                "TIDEMARK_LOG_FORMAT: expected `text` or `json` (got {v:?})"
            ))
        })?,
        Err(_) => match fc.log.and_then(|l| l.format) {
            None => LogFormat::Text,
            Some(f) => LogFormat::parse(&f).ok_or_else(|| {
                Fail::config(format!(
                    "{}: expected \"text\" or \"json\" (got {f:?})",
                    file_name("[log] format")
                ))
            })?,
        },
    };
    for a in imap_listen.iter().filter(|a| a.port() != 0) {
        if imaps_listen.contains(a) || lmtp_listen.contains(a) {
            return Err(Fail::config(format!("listen address {a} is used twice")));
        }
    }
    for a in imaps_listen.iter().filter(|a| a.port() != 0) {
        if lmtp_listen.contains(a) {
            return Err(Fail::config(format!("listen address {a} is used twice")));
        }
    }

    let tls_sec = fc.tls.unwrap_or_default();
    let tls = TlsConfig {
        cert: tls_sec.cert.map(|p| relative_to(base.as_deref(), p)),
        key: tls_sec.key.map(|p| relative_to(base.as_deref(), p)),
    };
    if tls.cert.is_some() != tls.key.is_some() {
        return Err(Fail::config(format!(
            "{}: set both `cert` and `key`, or neither (for a self-signed certificate)",
            file_name("[tls]")
        )));
    }

    let auth = AuthConfig {
        allow_plaintext: fc.auth.and_then(|a| a.allow_plaintext).unwrap_or(false),
    };

    let oauth = match fc.oauth {
        None => None,
        Some(o) => {
            let need = |v: Option<String>, key: &str| {
                v.filter(|v| !v.is_empty()).ok_or_else(|| {
                    Fail::config(format!(
                        "{}: required in [oauth]",
                        file_name(&format!("[oauth] {key}"))
                    ))
                })
            };
            let keys_file = match (o.jwks_file, o.pem_file) {
                (Some(f), None) | (None, Some(f)) => relative_to(base.as_deref(), f),
                _ => {
                    return Err(Fail::config(format!(
                        "{}: set exactly one of `jwks_file` and `pem_file`",
                        file_name("[oauth]")
                    )));
                }
            };
            Some(OAuthConfig {
                issuer: need(o.issuer, "issuer")?,
                audience: need(o.audience, "audience")?,
                keys_file,
                user_claim: o.user_claim.unwrap_or_else(|| "sub".into()),
            })
        }
    };

    let ls = fc.limits.unwrap_or_default();
    let max_literal = ls.max_literal.unwrap_or(DEFAULT_MAX_LITERAL);
    if max_literal == 0 {
        return Err(Fail::config(format!(
            "{}: must be at least 1",
            file_name("[limits] max_literal")
        )));
    }
    let max_line = ls.max_line.unwrap_or(DEFAULT_MAX_LINE as u64);
    if !(1024..=16 * 1024 * 1024).contains(&max_line) {
        return Err(Fail::config(format!(
            "{}: must be between 1024 and 16777216 (got {max_line})",
            file_name("[limits] max_line")
        )));
    }
    let delay = ls
        .auth_failure_delay_ms
        .unwrap_or(DEFAULT_AUTH_FAILURE_DELAY_MS);
    if delay > 60_000 {
        return Err(Fail::config(format!(
            "{}: at most 60000 (got {delay})",
            file_name("[limits] auth_failure_delay_ms")
        )));
    }

    let login_timeout = ls.login_timeout_secs.unwrap_or(120);
    if !(1..=3600).contains(&login_timeout) {
        return Err(Fail::config(format!(
            "{}: between 1 and 3600 (got {login_timeout})",
            file_name("[limits] login_timeout_secs")
        )));
    }

    Ok(Config {
        data_dir,
        config_file,
        hostname,
        imap_listen,
        imaps_listen,
        lmtp_listen,
        tls,
        auth,
        limits: Limits {
            max_literal,
            max_line: max_line as usize,
            auth_failure_delay: Duration::from_millis(delay),
            max_connections_per_ip: ls.max_connections_per_ip.unwrap_or(64),
            auth_failures_per_ip: ls.auth_failures_per_ip.unwrap_or(10),
            auth_failures_per_account: ls.auth_failures_per_account.unwrap_or(20),
            exempt_loopback: ls.exempt_loopback.unwrap_or(true),
            max_connections_per_account: ls.max_connections_per_account.unwrap_or(100),
            login_timeout: Duration::from_secs(login_timeout),
        },
        search_index: fc.search.and_then(|s| s.index).unwrap_or(true),
        oauth,
        account_linger: Duration::from_secs(fc.store.and_then(|s| s.account_linger).unwrap_or(120)),
        http: HttpConfig {
            listen: http_listen,
            auth_backend,
        },
        log_format,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(args: &[&str]) -> ServeArgs {
        use clap::Parser;
        let mut v = vec!["tidemark", "serve"];
        v.extend_from_slice(args);
        match crate::cli::Cli::try_parse_from(v).unwrap().command {
            crate::cli::Command::Serve(s) => s,
            _ => unreachable!(),
        }
    }

    #[test]
    fn defaults() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("data");
        let c = resolve(&serve(&["--data-dir", d.to_str().unwrap()])).unwrap();
        assert_eq!(c.data_dir, d);
        assert_eq!(c.config_file, None);
        assert_eq!(c.imap_listen, vec!["127.0.0.1:1143".parse().unwrap()]);
        assert_eq!(c.imaps_listen, vec!["127.0.0.1:1993".parse().unwrap()]);
        assert!(c.lmtp_listen.is_empty());
        assert_eq!(c.http, HttpConfig::default(), "HTTP is off by default");
        assert_eq!(c.tls, TlsConfig::default());
        assert!(!c.auth.allow_plaintext);
        assert_eq!(c.limits, Limits::default());
        assert!(!c.hostname.is_empty());
    }

    #[test]
    fn example_file_parses_and_documents_everything() {
        let text = include_str!("../tidemark.example.toml");
        let fc = parse_str(text).unwrap();
        // The example is all comments: it must mean the defaults.
        assert!(fc.data_dir.is_none() && fc.hostname.is_none());
        assert!(fc.imap.and_then(|s| s.listen).is_none());
        assert!(fc.tls.is_some_and(|t| t.cert.is_none()));
        let l = fc.limits.unwrap();
        assert!(l.max_literal.is_none() && l.max_line.is_none());
        // Uncommented, it must still parse, and name every key.
        // Settings are written `#key = value` / `#[section]` (no space after
        // `#`); prose comments are `# text`.
        let uncommented: String = text
            .lines()
            .filter_map(|l| {
                if l.starts_with('[') {
                    Some(l)
                } else {
                    l.strip_prefix('#')
                }
            })
            .filter(|r| r.starts_with(|c: char| c.is_ascii_alphabetic() || c == '['))
            .map(|l| format!("{l}\n"))
            .collect();
        let fc = parse_str(&uncommented).unwrap_or_else(|e| panic!("{e}\n---\n{uncommented}"));
        assert!(fc.data_dir.is_some());
        assert!(fc.hostname.is_some());
        assert!(fc.imap.and_then(|s| s.listen).is_some());
        assert!(fc.imaps.and_then(|s| s.listen).is_some());
        assert!(fc.lmtp.and_then(|s| s.listen).is_some());
        let tls = fc.tls.unwrap();
        assert!(tls.cert.is_some() && tls.key.is_some());
        assert!(fc.auth.and_then(|a| a.allow_plaintext).is_some());
        let l = fc.limits.unwrap();
        assert!(
            l.max_literal.is_some() && l.max_line.is_some() && l.auth_failure_delay_ms.is_some()
        );
        assert!(fc.store.and_then(|s| s.account_linger).is_some());
        let http = fc.http.unwrap();
        assert!(http.listen.is_some() && http.auth_backend.is_some());
        assert!(fc.log.and_then(|l| l.format).is_some());
    }

    #[test]
    fn file_and_cli_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("t.toml");
        std::fs::write(
            &cfg,
            r#"
data_dir = "dd"
hostname = "mail.example.org"
[imap]
listen = ["0.0.0.0:143", "[::]:143"]
[imaps]
listen = []
[tls]
cert = "c.pem"
key = "/abs/k.pem"
[auth]
allow_plaintext = true
[limits]
max_literal = 1000
max_line = 2048
auth_failure_delay_ms = 0
"#,
        )
        .unwrap();
        let c = resolve(&serve(&["--config", cfg.to_str().unwrap()])).unwrap();
        assert_eq!(c.data_dir, dir.path().join("dd"));
        assert_eq!(c.hostname, "mail.example.org");
        assert_eq!(c.imap_listen.len(), 2);
        assert!(c.imaps_listen.is_empty());
        assert_eq!(c.tls.cert, Some(dir.path().join("c.pem")));
        assert_eq!(c.tls.key, Some(PathBuf::from("/abs/k.pem")));
        assert!(c.auth.allow_plaintext);
        assert_eq!(c.limits.max_literal, 1000);
        assert_eq!(c.limits.max_line, 2048);
        assert_eq!(c.limits.auth_failure_delay, Duration::ZERO);

        let c = resolve(&serve(&[
            "--config",
            cfg.to_str().unwrap(),
            "--data-dir",
            "/x",
            "--imap",
            "127.0.0.1:5",
            "--imaps",
            "127.0.0.1:6",
        ]))
        .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/x"));
        assert_eq!(c.imap_listen, vec!["127.0.0.1:5".parse().unwrap()]);
        assert_eq!(c.imaps_listen, vec!["127.0.0.1:6".parse().unwrap()]);
    }

    #[test]
    fn data_dir_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE_NAME),
            "[imaps]\nlisten = [\"127.0.0.1:7\"]\n",
        )
        .unwrap();
        let c = resolve(&serve(&["--data-dir", dir.path().to_str().unwrap()])).unwrap();
        assert_eq!(c.imaps_listen, vec!["127.0.0.1:7".parse().unwrap()]);
        assert_eq!(c.config_file, Some(dir.path().join(CONFIG_FILE_NAME)));
        std::fs::write(
            dir.path().join(CONFIG_FILE_NAME),
            "data_dir = \"/elsewhere\"\n",
        )
        .unwrap();
        let e = resolve(&serve(&["--data-dir", dir.path().to_str().unwrap()])).unwrap_err();
        assert!(e.msg.contains("data_dir"), "{e}");
    }

    #[test]
    fn errors_are_clear() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("t.toml");
        let cases: &[(&str, &str)] = &[
            ("bogus = 1\n", "bogus"),
            ("[limits]\nmax_lines = 5\n", "max_lines"),
            ("[imap]\nlisten = [\"nope\"]\n", "nope"),
            ("[imap]\nlisten = \"127.0.0.1:1\"\n", "listen"),
            ("[tls]\ncert = \"x\"\n", "key"),
            ("[limits]\nmax_line = 5\n", "max_line"),
            ("[limits]\nmax_literal = -1\n", "max_literal"),
            ("hostname = \"bad host\"\n", "hostname"),
            ("[imap\n", "t.toml"),
            (
                "[oauth]\naudience = \"a\"\npem_file = \"k.pem\"\n",
                "[oauth] issuer",
            ),
            (
                "[oauth]\nissuer = \"i\"\npem_file = \"k.pem\"\n",
                "[oauth] audience",
            ),
            ("[oauth]\nissuer = \"i\"\naudience = \"a\"\n", "jwks_file"),
            (
                "[oauth]\nissuer = \"i\"\naudience = \"a\"\njwks = \"x\"\n",
                "jwks",
            ),
        ];
        for (text, needle) in cases {
            std::fs::write(&cfg, text).unwrap();
            let e = resolve(&serve(&["--config", cfg.to_str().unwrap()])).unwrap_err();
            assert_eq!(e.code, crate::error::EXIT_CONFIG);
            assert!(e.msg.contains(needle), "{text:?}: {e}");
        }
        let e = resolve(&serve(&["--config", "/nonexistent/t.toml"])).unwrap_err();
        assert!(e.msg.contains("/nonexistent/t.toml"), "{e}");
        let e = resolve(&serve(&["--data-dir", "/nonexistent", "--imap", "1.2.3.4"])).unwrap_err();
        assert!(e.msg.contains("1.2.3.4"), "{e}");
        let e = resolve(&serve(&[
            "--data-dir",
            "/nonexistent",
            "--imap",
            "127.0.0.1:9",
            "--imaps",
            "127.0.0.1:9",
        ]))
        .unwrap_err();
        assert!(e.msg.contains("twice"), "{e}");
    }

    #[test]
    fn oauth_section() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("t.toml");
        std::fs::write(
            &cfg,
            "[oauth]\nissuer = \"https://i\"\naudience = \"imap\"\njwks_file = \"keys.json\"\n",
        )
        .unwrap();
        let c = resolve(&serve(&["--config", cfg.to_str().unwrap()])).unwrap();
        let o = c.oauth.expect("oauth");
        assert_eq!(
            (
                o.issuer.as_str(),
                o.audience.as_str(),
                o.user_claim.as_str()
            ),
            ("https://i", "imap", "sub")
        );
        assert_eq!(
            o.keys_file,
            dir.path().join("keys.json"),
            "relative to the file"
        );
        let c = resolve(&serve(&["--data-dir", "/nonexistent"])).unwrap();
        assert!(c.oauth.is_none(), "off by default");
    }

    #[test]
    fn http_and_log_sections() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("t.toml");
        std::fs::write(
            &cfg,
            "[http]\nlisten = [\"127.0.0.1:9100\"]\nauth_backend = \"10.0.0.2:143\"\n[log]\nformat = \"json\"\n",
        )
        .unwrap();
        let c = resolve(&serve(&["--config", cfg.to_str().unwrap()])).unwrap();
        assert_eq!(c.http.listen, vec!["127.0.0.1:9100".parse().unwrap()]);
        assert_eq!(c.http.auth_backend, Some("10.0.0.2:143".parse().unwrap()));
        if std::env::var_os("TIDEMARK_LOG_FORMAT").is_none() {
            assert_eq!(c.log_format, LogFormat::Json);
        }
        let c = resolve(&serve(&[
            "--config",
            cfg.to_str().unwrap(),
            "--http",
            "127.0.0.1:9200",
        ]))
        .unwrap();
        assert_eq!(c.http.listen, vec!["127.0.0.1:9200".parse().unwrap()]);
        let dirs = DataDirArgs {
            data_dir: None,
            config: Some(cfg.clone()),
        };
        assert_eq!(
            http_listen(&dirs).unwrap(),
            vec!["127.0.0.1:9100".parse::<SocketAddr>().unwrap()]
        );
        for (text, needle) in [
            ("[http]\nauth_backend = \"nope\"\n", "auth_backend"),
            ("[log]\nformat = \"xml\"\n", "[log] format"),
            ("[http]\nlisten = [\"x\"]\n", "[http] listen"),
        ] {
            std::fs::write(&cfg, text).unwrap();
            let e = resolve(&serve(&["--config", cfg.to_str().unwrap()])).unwrap_err();
            assert!(e.msg.contains(needle), "{text:?}: {e}");
        }
        let e = resolve(&serve(&[
            "--data-dir",
            "/nonexistent",
            "--imap",
            "127.0.0.1:9",
            "--http",
            "127.0.0.1:9",
        ]))
        .unwrap_err();
        assert!(e.msg.contains("twice"), "{e}");
    }

    #[test]
    fn errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("t.toml");
        std::fs::write(
            &cfg,
            "# comment\n[imap]\nlisten = [\"127.0.0.1:1\"]\n\n[limits]\nmax_literal = 5\nlogin_timeout_secs = 0\n",
        )
        .unwrap();
        let e = resolve(&serve(&["--config", cfg.to_str().unwrap()])).unwrap_err();
        assert!(
            e.msg
                .contains("t.toml line 7 ([limits] login_timeout_secs)"),
            "{e}"
        );
        std::fs::write(&cfg, "[imaps]\nlisten = [\"x\"]\n").unwrap();
        let e = resolve(&serve(&["--config", cfg.to_str().unwrap()])).unwrap_err();
        assert!(e.msg.contains("t.toml line 2 ([imaps] listen)"), "{e}");
        assert_eq!(line_of("a = 1\n[s]\n b = 2\n[t]\nb=3\n", "[t] b"), Some(5));
        assert_eq!(line_of("[s]\nb = 2\n", "[t] b"), None);
        assert_eq!(line_of("[s]\n[t]\n", "[t]"), Some(2));
    }

    #[test]
    fn environment_overrides() {
        let mut t: toml::Table = "hostname = \"file.example\"\n[limits]\nmax_line = 2048\n"
            .parse()
            .unwrap();
        let vars = [
            ("PATH", "/bin"),
            ("TIDEMARK_LOG", "debug"),
            ("TIDEMARK__HOSTNAME", "env.example"),
            ("TIDEMARK__LIMITS__MAX_LINE", "4096"),
            ("TIDEMARK__IMAP__LISTEN", "127.0.0.1:1, 127.0.0.1:2"),
            ("TIDEMARK__IMAPS__LISTEN", "[\"127.0.0.1:3\"]"),
            ("TIDEMARK__AUTH__ALLOW_PLAINTEXT", "true"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let applied = apply_env(&mut t, vars.into_iter()).unwrap();
        assert_eq!(applied.len(), 5);
        assert!(applied.contains(&(
            "[limits] max_line".into(),
            "TIDEMARK__LIMITS__MAX_LINE".into()
        )));
        let fc: FileConfig = toml::Value::Table(t).try_into().unwrap();
        assert_eq!(fc.hostname.as_deref(), Some("env.example"));
        assert_eq!(fc.limits.unwrap().max_line, Some(4096));
        assert_eq!(
            fc.imap.unwrap().listen.unwrap(),
            ["127.0.0.1:1", "127.0.0.1:2"]
        );
        assert_eq!(fc.imaps.unwrap().listen.unwrap(), ["127.0.0.1:3"]);
        assert_eq!(fc.auth.unwrap().allow_plaintext, Some(true));
        let bad = [("TIDEMARK__A__B__C".to_string(), "1".to_string())];
        let e = apply_env(&mut toml::Table::new(), bad.into_iter()).unwrap_err();
        assert!(e.msg.contains("TIDEMARK__A__B__C"), "{e}");
        let bad = [("TIDEMARK__HOSTNAME__X".to_string(), "1".to_string())];
        let mut t: toml::Table = "hostname = \"h\"".parse().unwrap();
        assert!(apply_env(&mut t, bad.into_iter()).is_err());
    }

    #[test]
    fn off_disables() {
        let c = resolve(&serve(&["--data-dir", "/nonexistent", "--imap", "off"])).unwrap();
        assert!(c.imap_listen.is_empty());
        assert_eq!(c.imaps_listen.len(), 1);
    }
}
