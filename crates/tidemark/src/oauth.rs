//! OAuth 2.0 bearer tokens for OAUTHBEARER and XOAUTH2: JWT access tokens
//! checked against the issuer's public keys (a JWK set or one PEM file),
//! with `iss`, `aud` and `exp` required and checked (60 s leeway). A
//! configured claim (default `sub`) names the account.

use crate::config::OAuthConfig;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, jwk};
use tidemark_imap_server::TokenValidator;

struct Key {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
}

pub struct JwtValidator {
    keys: Vec<Key>,
    issuer: String,
    audience: String,
    claim: String,
}

fn alg_of_jwk(j: &jwk::Jwk) -> Option<Algorithm> {
    if let Some(a) = &j.common.key_algorithm {
        return a.to_string().parse().ok();
    }
    match &j.algorithm {
        jwk::AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        jwk::AlgorithmParameters::EllipticCurve(p) => match p.curve {
            jwk::EllipticCurve::P256 => Some(Algorithm::ES256),
            jwk::EllipticCurve::P384 => Some(Algorithm::ES384),
            _ => None,
        },
        jwk::AlgorithmParameters::OctetKeyPair(_) => Some(Algorithm::EdDSA),
        _ => None,
    }
}

impl JwtValidator {
    /// Loads the issuer's keys; an error names the file and what is wrong.
    pub fn load(cfg: &OAuthConfig) -> Result<JwtValidator, String> {
        let path = cfg.keys_file.display();
        let bytes =
            std::fs::read(&cfg.keys_file).map_err(|e| format!("[oauth] keys file {path}: {e}"))?;
        let mut keys = Vec::new();
        if bytes.trim_ascii_start().starts_with(b"{") {
            let set: jwk::JwkSet = serde_json::from_slice(&bytes)
                .map_err(|e| format!("[oauth] {path}: not a JWK set: {e}"))?;
            for j in &set.keys {
                // Symmetric keys are refused: the issuer's secret has no
                // business on a mail server.
                let Some(alg) = alg_of_jwk(j) else { continue };
                let key = DecodingKey::from_jwk(j)
                    .map_err(|e| format!("[oauth] {path}: unusable key: {e}"))?;
                keys.push(Key {
                    kid: j.common.key_id.clone(),
                    alg,
                    key,
                });
            }
        } else {
            let key = [
                (DecodingKey::from_rsa_pem(&bytes), Algorithm::RS256),
                (DecodingKey::from_ec_pem(&bytes), Algorithm::ES256),
                (DecodingKey::from_ed_pem(&bytes), Algorithm::EdDSA),
            ]
            .into_iter()
            .find_map(|(k, alg)| {
                k.ok().map(|key| Key {
                    kid: None,
                    alg,
                    key,
                })
            })
            .ok_or_else(|| format!("[oauth] {path}: no RSA, EC or Ed25519 public key in PEM"))?;
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(format!("[oauth] {path}: no usable public key"));
        }
        Ok(JwtValidator {
            keys,
            issuer: cfg.issuer.clone(),
            audience: cfg.audience.clone(),
            claim: cfg.user_claim.clone(),
        })
    }
}

impl TokenValidator for JwtValidator {
    fn validate(&self, token: &str) -> Result<String, String> {
        let header = decode_header(token).map_err(|e| format!("bad token: {e}"))?;
        let candidates = self.keys.iter().filter(|k| {
            k.alg == header.alg
                && match (&header.kid, &k.kid) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
        });
        let mut last = format!("no key for algorithm {:?}", header.alg);
        for k in candidates {
            let mut v = Validation::new(k.alg);
            v.set_issuer(&[&self.issuer]);
            v.set_audience(&[&self.audience]);
            v.set_required_spec_claims(&["exp", "iss", "aud"]);
            v.leeway = 60;
            match decode::<serde_json::Map<String, serde_json::Value>>(token, &k.key, &v) {
                Ok(data) => {
                    return data
                        .claims
                        .get(&self.claim)
                        .and_then(|c| c.as_str())
                        .filter(|u| !u.is_empty() && u.len() <= 255)
                        .map(str::to_string)
                        .ok_or_else(|| format!("token has no usable {:?} claim", self.claim));
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use jsonwebtoken::{EncodingKey, Header, encode};

    /// A JWK set file: the token's `kid` picks the key; claims are checked.
    #[test]
    fn jwk_set_keys_and_claims() {
        let kp = rcgen::KeyPair::generate().expect("key pair");
        let raw = kp.public_key_raw(); // 04 || x || y
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let set = serde_json::json!({"keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "sym"},
            {"kty": "EC", "crv": "P-256", "kid": "k1", "x": b64(&raw[1..33]), "y": b64(&raw[33..65])}
        ]});
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("jwks.json");
        std::fs::write(&file, set.to_string()).expect("write");
        let v = JwtValidator::load(&OAuthConfig {
            issuer: "https://i".into(),
            audience: "imap".into(),
            keys_file: file,
            user_claim: "sub".into(),
        })
        .expect("load");
        assert_eq!(v.keys.len(), 1, "the symmetric key is not used");
        let signer = EncodingKey::from_ec_pem(kp.serialize_pem().as_bytes()).expect("key");
        let sign = |kid: &str, claims: serde_json::Value| {
            let mut h = Header::new(Algorithm::ES256);
            h.kid = Some(kid.into());
            encode(&h, &claims, &signer).expect("sign")
        };
        let claims = |sub: &str, iss: &str| serde_json::json!({"iss": iss, "aud": "imap", "exp": jsonwebtoken::get_current_timestamp() + 60, "sub": sub});
        assert_eq!(
            v.validate(&sign("k1", claims("alice", "https://i"))),
            Ok("alice".into())
        );
        assert!(
            v.validate(&sign("k2", claims("alice", "https://i")))
                .is_err(),
            "unknown kid"
        );
        assert!(
            v.validate(&sign("k1", claims("alice", "https://other")))
                .is_err(),
            "issuer"
        );
        assert!(
            v.validate(&sign("k1", claims("", "https://i"))).is_err(),
            "empty account"
        );
        assert!(v.validate("not.a.token").is_err());
        let no_exp = sign(
            "k1",
            serde_json::json!({"iss": "https://i", "aud": "imap", "sub": "a"}),
        );
        assert!(v.validate(&no_exp).is_err(), "exp is required");
    }
}
