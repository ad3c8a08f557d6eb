//! SCRAM-SHA-256 and SCRAM-SHA-256-PLUS, server side (RFC 5802 with
//! SHA-256 from RFC 7677; channel binding `tls-exporter`, RFC 9266).
//!
//! The account stores [`ScramKeys`] (salt, iteration count, StoredKey,
//! ServerKey), never the password. An exchange is:
//! 1. [`parse_client_first`] on the client's first message, which names the
//!    user;
//! 2. [`Exchange::start`] with that user's keys (or [`ScramKeys::decoy`] for
//!    an unknown user, so the answer does not tell) gives the server-first
//!    message;
//! 3. [`Exchange::finish`] checks the client's proof and gives the
//!    server-final message (`v=` ServerSignature).

use crate::{SaslError, check_len};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Iterations for new keys: RFC 7677's minimum, what Dovecot and Cyrus use.
pub const DEFAULT_ITERATIONS: u32 = 4096;
/// Stored keys with more iterations than this are refused (each login would
/// burn that much client and server time).
pub const MAX_ITERATIONS: u32 = 1_000_000;
/// The only channel binding type offered (RFC 9266: for TLS 1.3).
pub const CHANNEL_BINDING: &str = "tls-exporter";
/// Length of the `tls-exporter` binding data (RFC 9266 section 2).
pub const EXPORTER_LEN: usize = 32;
/// Its exporter label.
pub const EXPORTER_LABEL: &[u8] = b"EXPORTER-Channel-Binding";
const PREFIX: &str = "SCRAM-SHA-256$";

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length; this cannot fail.
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(data);
    let mut out = [0u8; 32];
    out.copy_from_slice(&m.finalize().into_bytes());
    out
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&Sha256::digest(data));
    out
}

/// What an account stores for SCRAM-SHA-256 (RFC 5802 section 3).
#[derive(Clone, PartialEq, Eq)]
pub struct ScramKeys {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub stored_key: [u8; 32],
    pub server_key: [u8; 32],
}

impl std::fmt::Debug for ScramKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramKeys")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl ScramKeys {
    /// Derives the keys from a password (prepared with SASLprep, RFC 4013).
    pub fn derive(password: &str, salt: &[u8], iterations: u32) -> Result<ScramKeys, SaslError> {
        let prepared = stringprep::saslprep(password)
            .map_err(|_| SaslError::Refused("password is not valid for SASLprep"))?;
        let mut salted = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(prepared.as_bytes(), salt, iterations, &mut salted);
        let client_key = hmac(&salted, b"Client Key");
        Ok(ScramKeys {
            iterations,
            salt: salt.to_vec(),
            stored_key: sha256(&client_key),
            server_key: hmac(&salted, b"Server Key"),
        })
    }

    /// Keys for a user that does not exist: the salt is derived from the
    /// name and a server secret, so asking twice gives the same salt, as
    /// for a real user; no proof ever matches.
    pub fn decoy(username: &str, secret: &[u8]) -> ScramKeys {
        let salt = hmac(secret, username.as_bytes());
        ScramKeys {
            iterations: DEFAULT_ITERATIONS,
            salt: salt[..16].to_vec(),
            stored_key: hmac(secret, &salt),
            server_key: hmac(&salt, secret),
        }
    }

    /// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64),
    /// the form Dovecot and Cyrus use for stored SCRAM credentials.
    pub fn encode(&self) -> String {
        format!(
            "{PREFIX}{}:{}${}:{}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(self.stored_key),
            B64.encode(self.server_key)
        )
    }

    /// Reads [`ScramKeys::encode`]'s form.
    pub fn parse(s: &str) -> Option<ScramKeys> {
        let rest = s.strip_prefix(PREFIX)?;
        let (params, keys) = rest.split_once('$')?;
        let (iterations, salt) = params.split_once(':')?;
        let (stored, server) = keys.split_once(':')?;
        let iterations: u32 = iterations.parse().ok()?;
        if iterations == 0 || iterations > MAX_ITERATIONS {
            return None;
        }
        let key = |k: &str| -> Option<[u8; 32]> { B64.decode(k).ok()?.try_into().ok() };
        Some(ScramKeys {
            iterations,
            salt: B64.decode(salt).ok().filter(|s| !s.is_empty())?,
            stored_key: key(stored)?,
            server_key: key(server)?,
        })
    }
}

/// The connection's channel binding, as the server sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// No TLS: only SCRAM-SHA-256 is offered.
    Unavailable,
    /// TLS with the `tls-exporter` data: SCRAM-SHA-256-PLUS is offered too.
    TlsExporter(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum CbFlag {
    /// `n`: the client does not support channel binding.
    No,
    /// `y`: it does, but thinks the server does not.
    ClientOnly,
    /// `p=name`: it binds to the channel.
    Used,
}

/// The client-first message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFirst {
    /// The user to authenticate as (decoded `saslname`, SASLprep'd).
    pub username: String,
    /// `a=`: the identity to act as, if given.
    pub authzid: Option<String>,
    gs2_header: String,
    bare: String,
    nonce: String,
    cbind: CbFlag,
}

/// Decodes a `saslname` (`=2C` is `,`, `=3D` is `=`).
fn saslname(s: &str) -> Result<String, SaslError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        let esc = rest.get(i..i + 3);
        match esc {
            Some("=2C") => out.push(','),
            Some("=3D") => out.push('='),
            _ => return Err(SaslError::Malformed("bad escape in a SCRAM name")),
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    if out.is_empty() {
        return Err(SaslError::Malformed("empty SCRAM name"));
    }
    Ok(out)
}

/// `attr-val = ALPHA "=" value`.
fn is_attr_val(a: &str) -> bool {
    let b = a.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b'='
}

/// `printable = %x21-2B / %x2D-7E` (no comma).
fn valid_nonce(n: &str) -> bool {
    !n.is_empty() && n.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b',')
}

/// Parses the client-first message. `plus`: the mechanism was
/// SCRAM-SHA-256-PLUS.
pub fn parse_client_first(
    msg: &[u8],
    plus: bool,
    binding: &Binding,
) -> Result<ClientFirst, SaslError> {
    check_len(msg)?;
    let msg = std::str::from_utf8(msg).map_err(|_| SaslError::Malformed("not UTF-8"))?;
    // gs2-header = gs2-cbind-flag "," [authzid] ","
    let (flag, rest) = msg
        .split_once(',')
        .ok_or(SaslError::Malformed("no GS2 header"))?;
    let (authz, bare) = rest
        .split_once(',')
        .ok_or(SaslError::Malformed("no GS2 header"))?;
    let gs2_header = &msg[..flag.len() + authz.len() + 2];
    let cbind = match flag {
        "n" => CbFlag::No,
        "y" => CbFlag::ClientOnly,
        f => match f.strip_prefix("p=") {
            Some(name) if name == CHANNEL_BINDING => CbFlag::Used,
            Some(name)
                if !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') =>
            {
                return Err(SaslError::Refused("unsupported-channel-binding-type"));
            }
            _ => return Err(SaslError::Malformed("bad channel binding flag")),
        },
    };
    match (&cbind, plus, binding) {
        (CbFlag::Used, false, _) => {
            // RFC 5802 6: p= only with a -PLUS mechanism.
            return Err(SaslError::Refused(
                "channel binding needs SCRAM-SHA-256-PLUS",
            ));
        }
        (CbFlag::Used, true, Binding::Unavailable) => {
            return Err(SaslError::Refused("channel-binding-not-supported"));
        }
        (CbFlag::No | CbFlag::ClientOnly, true, _) => {
            return Err(SaslError::Refused(
                "SCRAM-SHA-256-PLUS needs channel binding",
            ));
        }
        (CbFlag::ClientOnly, false, Binding::TlsExporter(_)) => {
            // The client could bind and we offer it: a downgrade.
            return Err(SaslError::Refused("server-does-support-channel-binding"));
        }
        _ => {}
    }
    let authzid = match authz {
        "" => None,
        a => Some(saslname(
            a.strip_prefix("a=")
                .ok_or(SaslError::Malformed("bad authzid"))?,
        )?),
    };
    let mut attrs = bare.split(',');
    let user = attrs.next().unwrap_or("");
    if user.starts_with("m=") {
        return Err(SaslError::Refused("extensions-not-supported"));
    }
    let user = user
        .strip_prefix("n=")
        .ok_or(SaslError::Malformed("no n= username"))?;
    let nonce = attrs
        .next()
        .and_then(|a| a.strip_prefix("r="))
        .ok_or(SaslError::Malformed("no r= nonce"))?;
    if !valid_nonce(nonce) {
        return Err(SaslError::Malformed("bad nonce"));
    }
    // Extensions after the nonce (`ALPHA "=" value`) are ignored (RFC 5802 5.1).
    if !attrs.all(is_attr_val) {
        return Err(SaslError::Malformed("bad SCRAM extension"));
    }
    let username = stringprep::saslprep(&saslname(user)?)
        .map_err(|_| SaslError::Refused("invalid-username-encoding"))?
        .into_owned();
    Ok(ClientFirst {
        username,
        authzid,
        gs2_header: gs2_header.to_string(),
        bare: bare.to_string(),
        nonce: nonce.to_string(),
        cbind,
    })
}

/// An exchange between the server-first and the client-final message.
pub struct Exchange {
    auth_prefix: String,
    nonce: String,
    expected_c: String,
    keys: ScramKeys,
}

impl Exchange {
    /// Answers the client-first message with the user's `keys`.
    /// `server_nonce`: fresh random printable characters (at least 18 bytes
    /// of randomness, base64-encoded, is customary).
    pub fn start(
        first: ClientFirst,
        keys: ScramKeys,
        server_nonce: &str,
        binding: &Binding,
    ) -> (Exchange, String) {
        let nonce = format!("{}{}", first.nonce, server_nonce);
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&keys.salt),
            keys.iterations
        );
        let mut c = first.gs2_header.as_bytes().to_vec();
        if let (CbFlag::Used, Binding::TlsExporter(data)) = (&first.cbind, binding) {
            c.extend_from_slice(data);
        }
        let exchange = Exchange {
            auth_prefix: format!("{},{server_first},", first.bare),
            nonce,
            expected_c: B64.encode(c),
            keys,
        };
        (exchange, server_first)
    }

    /// Checks the client-final message; gives the server-final message.
    pub fn finish(self, msg: &[u8]) -> Result<String, SaslError> {
        check_len(msg)?;
        let msg = std::str::from_utf8(msg).map_err(|_| SaslError::Malformed("not UTF-8"))?;
        let (without_proof, proof) = msg
            .rsplit_once(",p=")
            .ok_or(SaslError::Malformed("no p= proof"))?;
        let mut attrs = without_proof.split(',');
        let c = attrs
            .next()
            .and_then(|a| a.strip_prefix("c="))
            .ok_or(SaslError::Malformed("no c= channel binding"))?;
        let r = attrs
            .next()
            .and_then(|a| a.strip_prefix("r="))
            .ok_or(SaslError::Malformed("no r= nonce"))?;
        let proof: [u8; 32] = B64
            .decode(proof)
            .ok()
            .and_then(|p| p.try_into().ok())
            .ok_or(SaslError::Malformed("bad proof"))?;
        if r != self.nonce {
            return Err(SaslError::Refused("nonce mismatch"));
        }
        if c != self.expected_c {
            return Err(SaslError::Refused("channel-bindings-dont-match"));
        }
        let auth_message = format!("{}{without_proof}", self.auth_prefix);
        let signature = hmac(&self.keys.stored_key, auth_message.as_bytes());
        let mut client_key = [0u8; 32];
        for (k, (p, s)) in client_key.iter_mut().zip(proof.iter().zip(signature)) {
            *k = p ^ s;
        }
        if !bool::from(sha256(&client_key).ct_eq(&self.keys.stored_key)) {
            return Err(SaslError::AuthFailed);
        }
        let server_signature = hmac(&self.keys.server_key, auth_message.as_bytes());
        Ok(format!("v={}", B64.encode(server_signature)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 section 3: user "user", password "pencil".
    const CLIENT_FIRST: &str = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const SALT: &str = "W22ZaJ0SNY7soEsUEjb6gQ==";
    const SERVER_FIRST: &str =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const CLIENT_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    const SERVER_FINAL: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    fn rfc_keys() -> ScramKeys {
        ScramKeys::derive("pencil", &B64.decode(SALT).expect("salt"), 4096).expect("keys")
    }

    #[test]
    fn rfc7677_example() {
        let first = parse_client_first(CLIENT_FIRST.as_bytes(), false, &Binding::Unavailable)
            .expect("client-first");
        assert_eq!(first.username, "user");
        let (ex, server_first) =
            Exchange::start(first, rfc_keys(), SERVER_NONCE, &Binding::Unavailable);
        assert_eq!(server_first, SERVER_FIRST);
        assert_eq!(
            ex.finish(CLIENT_FINAL.as_bytes()).as_deref(),
            Ok(SERVER_FINAL)
        );
    }

    #[test]
    fn wrong_password_and_tampering_fail() {
        let start = |keys| {
            let first = parse_client_first(CLIENT_FIRST.as_bytes(), false, &Binding::Unavailable)
                .expect("client-first");
            Exchange::start(first, keys, SERVER_NONCE, &Binding::Unavailable).0
        };
        let wrong =
            ScramKeys::derive("pencil2", &B64.decode(SALT).expect("salt"), 4096).expect("k");
        assert_eq!(
            start(wrong).finish(CLIENT_FINAL.as_bytes()),
            Err(SaslError::AuthFailed)
        );
        let other_nonce = CLIENT_FINAL.replace("k0,p=", "k1,p=");
        assert!(matches!(
            start(rfc_keys()).finish(other_nonce.as_bytes()),
            Err(SaslError::Refused(_))
        ));
        let bound = CLIENT_FINAL.replace("c=biws", "c=eSws");
        assert_eq!(
            start(rfc_keys()).finish(bound.as_bytes()).err(),
            Some(SaslError::Refused("channel-bindings-dont-match"))
        );
        let decoy = ScramKeys::decoy("user", b"secret");
        assert_eq!(
            decoy.salt,
            ScramKeys::decoy("user", b"secret").salt,
            "stable salt"
        );
        assert_eq!(
            start(decoy).finish(CLIENT_FINAL.as_bytes()),
            Err(SaslError::AuthFailed)
        );
    }

    #[test]
    fn keys_round_trip() {
        let k = rfc_keys();
        assert_eq!(ScramKeys::parse(&k.encode()), Some(k.clone()));
        assert!(
            k.encode()
                .starts_with("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$")
        );
        for bad in [
            "",
            "SCRAM-SHA-256$0:AA==$AA==:AA==",
            "SCRAM-SHA-1$4096:AA==$x:y",
            "SCRAM-SHA-256$4096:$a:b",
        ] {
            assert_eq!(ScramKeys::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn channel_binding_rules() {
        let tls = Binding::TlsExporter(vec![7; EXPORTER_LEN]);
        let refused = |msg: &str, plus: bool, b: &Binding| match parse_client_first(
            msg.as_bytes(),
            plus,
            b,
        ) {
            Err(SaslError::Refused(r)) => r,
            other => panic!("{msg}: {other:?}"),
        };
        assert_eq!(
            refused("y,,n=u,r=abc", false, &tls),
            "server-does-support-channel-binding"
        );
        assert!(parse_client_first(b"y,,n=u,r=abc", false, &Binding::Unavailable).is_ok());
        assert_eq!(
            refused("p=tls-exporter,,n=u,r=abc", false, &tls),
            "channel binding needs SCRAM-SHA-256-PLUS"
        );
        assert_eq!(
            refused("n,,n=u,r=abc", true, &tls),
            "SCRAM-SHA-256-PLUS needs channel binding"
        );
        assert_eq!(
            refused("p=tls-unique,,n=u,r=abc", true, &tls),
            "unsupported-channel-binding-type"
        );
        assert_eq!(
            refused("p=tls-exporter,,n=u,r=abc", true, &Binding::Unavailable),
            "channel-binding-not-supported"
        );
        assert_eq!(
            refused("n,,m=x,n=u,r=abc", false, &tls),
            "extensions-not-supported"
        );

        // A bound exchange: c= carries the header and the exporter data.
        let keys = ScramKeys::derive("pw", b"salty", 4096).expect("keys");
        let first = parse_client_first(b"p=tls-exporter,a=u,n=u,r=abc", true, &tls).expect("first");
        assert_eq!(first.authzid.as_deref(), Some("u"));
        let (ex, server_first) = Exchange::start(first, keys.clone(), "xyz", &tls);
        let mut c = b"p=tls-exporter,a=u,".to_vec();
        c.extend_from_slice(&[7; EXPORTER_LEN]);
        let without_proof = format!("c={},r=abcxyz", B64.encode(&c));
        let auth = format!("n=u,r=abc,{server_first},{without_proof}");
        // Client side, from the password (as any client computes it).
        let mut salted = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(b"pw", b"salty", 4096, &mut salted);
        let client_key = hmac(&salted, b"Client Key");
        let sig = hmac(&sha256(&client_key), auth.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(sig).map(|(a, b)| a ^ b).collect();
        let fin = format!("{without_proof},p={}", B64.encode(proof));
        let v = ex.finish(fin.as_bytes()).expect("bound exchange verifies");
        assert_eq!(
            v,
            format!("v={}", B64.encode(hmac(&keys.server_key, auth.as_bytes())))
        );
    }

    #[test]
    fn malformed_first_messages() {
        for bad in [
            "",
            "n",
            "n,",
            "n,,",
            "x,,n=u,r=a",
            "n,,r=a",
            "n,,n=u",
            "n,,n=u,r=",
            "n,,n=u,r=a,b",
            "n,,n==,r=a",
            "n,,n=a=2,r=a",
            "n,b,n=u,r=a",
            "n,,n=,r=a",
        ] {
            let r = parse_client_first(bad.as_bytes(), false, &Binding::Unavailable);
            assert!(r.is_err(), "{bad:?} accepted: {r:?}");
        }
        let long = format!("n,,n=u,r={}", "a".repeat(crate::MAX_MESSAGE));
        assert!(parse_client_first(long.as_bytes(), false, &Binding::Unavailable).is_err());
        // Escapes decode.
        let f =
            parse_client_first(b"n,,n=a=2Cb=3Dc,r=abc", false, &Binding::Unavailable).expect("ok");
        assert_eq!(f.username, "a,b=c");
    }
}
