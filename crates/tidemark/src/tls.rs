//! TLS: the server certificate (configured PEM files, or a self-signed one
//! generated on first start) and a reloadable [`TlsAcceptor`].

use crate::config::Config;
use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// ALPN protocol id for IMAP (RFC 9051 / ALPACA).
pub const ALPN_IMAP: &[u8] = b"imap";

/// A TLS setup failure, with a message fit for the operator.
#[derive(Debug)]
pub struct TlsError(pub String);

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

/// Where the certificate came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedInfo {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    /// True when this start generated a new self-signed certificate.
    pub generated: bool,
    /// True when the certificate is tidemark's self-signed one (new or reused).
    pub self_signed: bool,
    /// The subject alternative names of a newly generated certificate.
    pub names: Vec<String>,
}

/// The certificate and key paths `cfg` asks for.
pub fn cert_paths(cfg: &Config, data_dir: &Path) -> (PathBuf, PathBuf, bool) {
    match (&cfg.tls.cert, &cfg.tls.key) {
        (Some(c), Some(k)) => (c.clone(), k.clone(), false),
        _ => {
            let d = data_dir.join("tls");
            (d.join("cert.pem"), d.join("key.pem"), true)
        }
    }
}

/// Loads the configured certificate, or the self-signed one in
/// `data_dir/tls` (generating it when missing), and builds an acceptor.
pub fn load_or_create(
    cfg: &Config,
    data_dir: &Path,
) -> Result<(TlsAcceptor, CreatedInfo), TlsError> {
    let (cert_path, key_path, self_signed) = cert_paths(cfg, data_dir);
    let mut info = CreatedInfo {
        cert_path: cert_path.clone(),
        key_path: key_path.clone(),
        generated: false,
        self_signed,
        names: Vec::new(),
    };
    if self_signed && !(cert_path.is_file() && key_path.is_file()) {
        info.names = generate_self_signed(&cfg.hostname, &cert_path, &key_path)?;
        info.generated = true;
    }
    let acceptor = build_acceptor(&cert_path, &key_path)?;
    Ok((acceptor, info))
}

/// Subject alternative names for the self-signed certificate.
pub fn self_signed_names(hostname: &str) -> Vec<String> {
    let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    let h = hostname.trim().to_ascii_lowercase();
    if !h.is_empty() && !names.contains(&h) {
        names.push(h);
    }
    names
}

/// Generates a self-signed certificate for `hostname` (plus localhost,
/// 127.0.0.1 and ::1) and writes it atomically: the key with mode 0600.
/// Returns the names it covers.
pub fn generate_self_signed(
    hostname: &str,
    cert_path: &Path,
    key_path: &Path,
) -> Result<Vec<String>, TlsError> {
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SanType};

    let mut names = self_signed_names(hostname);
    let mut sans = Vec::new();
    names.retain(|n| {
        let san = match n.parse::<std::net::IpAddr>() {
            Ok(ip) => Some(SanType::IpAddress(ip)),
            Err(_) => n.clone().try_into().ok().map(SanType::DnsName),
        };
        match san {
            Some(s) => {
                sans.push(s);
                true
            }
            None => {
                tracing::warn!(name = %n, "host name not usable in a certificate; left out");
                false
            }
        }
    });
    let mut params = CertificateParams::default();
    params.subject_alt_names = sans;
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        names.get(3).map_or("localhost", String::as_str),
    );
    dn.push(DnType::OrganizationName, "tidemark self-signed");
    params.distinguished_name = dn;
    let key =
        KeyPair::generate().map_err(|e| TlsError(format!("cannot generate a TLS key: {e}")))?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| TlsError(format!("cannot generate a self-signed certificate: {e}")))?;

    for p in [cert_path, key_path] {
        if let Some(dir) = p.parent() {
            create_private_dir(dir)?;
        }
    }
    write_atomic(key_path, key.serialize_pem().as_bytes(), 0o600)?;
    write_atomic(cert_path, cert.pem().as_bytes(), 0o644)?;
    Ok(names)
}

fn create_private_dir(dir: &Path) -> Result<(), TlsError> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| TlsError(format!("cannot create {}: {e}", dir.display())))
}

fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<(), TlsError> {
    crate::fsutil::write_atomic(path, data, mode)
        .map_err(|e| TlsError(format!("cannot write {}: {e}", path.display())))
}

/// Reads a PEM certificate chain and private key and builds an acceptor
/// (TLS 1.2 and 1.3, ALPN "imap", aws-lc-rs provider).
pub fn build_acceptor(cert_path: &Path, key_path: &Path) -> Result<TlsAcceptor, TlsError> {
    server_config(cert_path, key_path).map(|c| TlsAcceptor::from(Arc::new(c)))
}

/// The rustls server configuration behind [`build_acceptor`].
pub fn server_config(cert_path: &Path, key_path: &Path) -> Result<ServerConfig, TlsError> {
    let cert_bytes = std::fs::read(cert_path).map_err(|e| {
        TlsError(format!(
            "cannot read TLS certificate {}: {e}",
            cert_path.display()
        ))
    })?;
    let certs = CertificateDer::pem_slice_iter(&cert_bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            TlsError(format!(
                "invalid PEM in TLS certificate {}: {e}",
                cert_path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(TlsError(format!(
            "TLS certificate {} contains no CERTIFICATE block",
            cert_path.display()
        )));
    }
    let key_bytes = std::fs::read(key_path)
        .map_err(|e| TlsError(format!("cannot read TLS key {}: {e}", key_path.display())))?;
    let key = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|e| {
        TlsError(format!(
            "no usable private key in {}: {e}",
            key_path.display()
        ))
    })?;

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(format!("TLS setup failed: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            TlsError(format!(
                "TLS certificate {} and key {} cannot be used together: {e}",
                cert_path.display(),
                key_path.display()
            ))
        })?;
    config.alpn_protocols = vec![ALPN_IMAP.to_vec()];
    Ok(config)
}

/// A TLS acceptor that can be swapped while connections use the old one.
pub struct ReloadableTls {
    current: ArcSwap<TlsAcceptor>,
    cert_path: PathBuf,
    key_path: PathBuf,
}

impl ReloadableTls {
    pub fn new(acceptor: TlsAcceptor, cert_path: PathBuf, key_path: PathBuf) -> Self {
        ReloadableTls {
            current: ArcSwap::from_pointee(acceptor),
            cert_path,
            key_path,
        }
    }

    /// The acceptor to use for a new handshake.
    pub fn acceptor(&self) -> Arc<TlsAcceptor> {
        self.current.load_full()
    }

    /// Re-reads the certificate and key files. On error the old acceptor
    /// stays in use.
    pub fn reload(&self) -> Result<(), TlsError> {
        let a = build_acceptor(&self.cert_path, &self.key_path)?;
        self.current.store(Arc::new(a));
        Ok(())
    }

    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn cfg(data_dir: &Path) -> Config {
        let args = crate::cli::ServeArgs {
            dirs: crate::cli::DataDirArgs {
                data_dir: Some(data_dir.to_owned()),
                config: None,
            },
            ..Default::default()
        };
        let mut c = crate::config::resolve(&args).unwrap();
        c.hostname = "mail.example.test".into();
        c
    }

    fn connector(cert_path: &Path, alpn: Option<&[u8]>) -> tokio_rustls::TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(cert_path).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut cc = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        if let Some(a) = alpn {
            cc.alpn_protocols = vec![a.to_vec()];
        }
        tokio_rustls::TlsConnector::from(Arc::new(cc))
    }

    /// Accepts one connection, handshakes, writes "hi", returns.
    async fn one_handshake(
        acceptor: Arc<TlsAcceptor>,
        connector: tokio_rustls::TlsConnector,
        name: &str,
    ) -> Result<Vec<u8>, String> {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            let mut t = acceptor.accept(s).await.map_err(|e| e.to_string())?;
            t.write_all(b"hi").await.map_err(|e| e.to_string())?;
            t.shutdown().await.map_err(|e| e.to_string())?;
            Ok::<_, String>(())
        });
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let name = ServerName::try_from(name.to_owned()).unwrap();
        let client = async {
            let mut t = connector
                .connect(name, tcp)
                .await
                .map_err(|e| e.to_string())?;
            let mut buf = Vec::new();
            t.read_to_end(&mut buf).await.map_err(|e| e.to_string())?;
            Ok::<_, String>(buf)
        };
        let r = tokio::time::timeout(std::time::Duration::from_secs(20), client)
            .await
            .map_err(|_| "timeout".to_string())?;
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), server).await;
        r
    }

    #[tokio::test]
    async fn generate_reuse_and_handshake() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(dir.path());
        let (acc, info) = load_or_create(&c, dir.path()).unwrap();
        assert!(info.generated && info.self_signed);
        assert_eq!(info.cert_path, dir.path().join("tls/cert.pem"));
        assert_eq!(
            info.names,
            ["localhost", "127.0.0.1", "::1", "mail.example.test"]
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&info.key_path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let cert1 = std::fs::read(&info.cert_path).unwrap();

        let acc = Arc::new(acc);
        for name in ["localhost", "127.0.0.1", "::1", "mail.example.test"] {
            let got =
                one_handshake(acc.clone(), connector(&info.cert_path, Some(b"imap")), name).await;
            assert_eq!(got.as_deref(), Ok(&b"hi"[..]), "{name}");
        }
        // No ALPN offered: fine.
        let got = one_handshake(acc.clone(), connector(&info.cert_path, None), "localhost").await;
        assert_eq!(got.as_deref(), Ok(&b"hi"[..]));
        // A name the certificate does not cover: rejected by the client.
        assert!(
            one_handshake(acc.clone(), connector(&info.cert_path, None), "other.test")
                .await
                .is_err()
        );
        // Wrong ALPN (cross-protocol): rejected.
        assert!(
            one_handshake(
                acc.clone(),
                connector(&info.cert_path, Some(b"http/1.1")),
                "localhost"
            )
            .await
            .is_err()
        );

        // Second start reuses the files.
        let (_acc2, info2) = load_or_create(&c, dir.path()).unwrap();
        assert!(!info2.generated && info2.self_signed);
        assert_eq!(std::fs::read(&info2.cert_path).unwrap(), cert1);
    }

    #[tokio::test]
    async fn reload_swaps_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(dir.path());
        let (acc, info) = load_or_create(&c, dir.path()).unwrap();
        let r = ReloadableTls::new(acc, info.cert_path.clone(), info.key_path.clone());
        let old_cert = dir.path().join("old.pem");
        std::fs::copy(&info.cert_path, &old_cert).unwrap();
        // New certificate on disk; before reload the old one is served.
        generate_self_signed("x.test", &info.cert_path, &info.key_path).unwrap();
        assert!(
            one_handshake(r.acceptor(), connector(&old_cert, None), "localhost")
                .await
                .is_ok()
        );
        r.reload().unwrap();
        assert!(
            one_handshake(r.acceptor(), connector(&old_cert, None), "localhost")
                .await
                .is_err()
        );
        assert!(
            one_handshake(r.acceptor(), connector(&info.cert_path, None), "x.test")
                .await
                .is_ok()
        );
        // A broken file on reload keeps the current acceptor.
        std::fs::write(&info.key_path, "garbage").unwrap();
        assert!(r.reload().is_err());
        assert!(
            one_handshake(r.acceptor(), connector(&info.cert_path, None), "x.test")
                .await
                .is_ok()
        );
    }

    #[test]
    fn configured_files_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = cfg(dir.path());
        c.tls.cert = Some(dir.path().join("missing-cert.pem"));
        c.tls.key = Some(dir.path().join("missing-key.pem"));
        let e = load_or_create(&c, dir.path()).err().unwrap();
        assert!(e.0.contains("missing-cert.pem"), "{e}");
        assert!(
            !dir.path().join("tls").exists(),
            "must not generate when files are configured"
        );

        std::fs::write(dir.path().join("missing-cert.pem"), "not pem").unwrap();
        std::fs::write(dir.path().join("missing-key.pem"), "not pem").unwrap();
        let e = load_or_create(&c, dir.path()).err().unwrap();
        assert!(e.0.contains("missing-cert.pem"), "{e}");

        // A valid pair that does not match.
        let (c1, k1) = (dir.path().join("a/c.pem"), dir.path().join("a/k.pem"));
        let (c2, k2) = (dir.path().join("b/c.pem"), dir.path().join("b/k.pem"));
        generate_self_signed("a.test", &c1, &k1).unwrap();
        generate_self_signed("b.test", &c2, &k2).unwrap();
        assert!(build_acceptor(&c1, &k1).is_ok());
        let e = build_acceptor(&c1, &k2).err().unwrap();
        assert!(e.0.contains("cannot be used together"), "{e}");
        let e = build_acceptor(&c1, &c1).err().unwrap();
        assert!(e.0.contains("private key"), "{e}");
    }
}
