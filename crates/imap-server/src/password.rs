//! Password hashing for stored account credentials.
//!
//! A credential (opaque to the store) is an argon2id PHC string
//! (`$argon2id$v=19$m=19456,t=2,p=1$...`, the OWASP-recommended 19 MiB, 2
//! passes, 1 lane) for LOGIN and PLAIN, then, on a second line, the
//! SCRAM-SHA-256 keys (`SCRAM-SHA-256$4096:salt$StoredKey:ServerKey`).
//! Never the password. A credential of one line (made before SCRAM, or for
//! a password SASLprep refuses) works for LOGIN and PLAIN only.
//!
//! [`dummy_verify`] burns the same time as a real verification so that a
//! login for an unknown user cannot be told apart from a wrong password by
//! timing.
//!
//! Needs the dependency `argon2 = "0.6"` (default features: `alloc`,
//! `getrandom`, `password-hash`).

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use std::fmt;
use tidemark_sasl::scram::ScramKeys;

/// Hashing a password failed (the OS random source failed, or the password
/// is absurdly long).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordError(String);

impl fmt::Display for PasswordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "password hashing failed: {}", self.0)
    }
}

impl std::error::Error for PasswordError {}

/// A hash of a password nobody knows, made with [`params`]. Verifying
/// against it costs what verifying against a real credential costs.
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$fSr3xPLEFN8w0xi3CLXORg$5hwSZh9Tt3ZeegdZZ6w4cCLsv63LwhJYSNwFhKXAMYA";

/// The argon2id parameters for new hashes: m=19456 KiB, t=2, p=1.
fn params() -> Params {
    Params::DEFAULT
}

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

/// Hashes `pw` with argon2id and a fresh random salt; returns the PHC string.
pub fn hash_password(pw: &str) -> Result<String, PasswordError> {
    hasher()
        .hash_password(pw.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PasswordError(e.to_string()))
}

/// A new stored credential for `pw` (argon2id, then the SCRAM keys with a
/// fresh salt).
pub fn make_credential(pw: &str) -> Result<String, PasswordError> {
    let phc = hash_password(pw)?;
    let salt: [u8; 16] = rand::random();
    match ScramKeys::derive(pw, &salt, tidemark_sasl::scram::DEFAULT_ITERATIONS) {
        Ok(keys) => Ok(format!("{phc}\n{}", keys.encode())),
        // SASLprep refuses the password: LOGIN and PLAIN still work.
        Err(_) => Ok(phc),
    }
}

/// The SCRAM-SHA-256 keys of a stored credential, if it has them.
pub fn scram_keys(credential: &str) -> Option<ScramKeys> {
    credential.lines().skip(1).find_map(ScramKeys::parse)
}

/// Whether `pw` matches the credential's argon2id PHC string (its first
/// line). The parameters are taken from the PHC string; the final
/// comparison is constant-time. A malformed or non-argon2 PHC string never
/// matches.
pub fn verify_password(credential: &str, pw: &str) -> bool {
    let phc = credential.lines().next().unwrap_or("");
    hasher().verify_password(pw.as_bytes(), phc).is_ok()
}

/// Spends the time of one [`verify_password`] against a current-parameter
/// hash, and always "fails". Call it when the user does not exist.
pub fn dummy_verify(pw: &str) {
    let ok = verify_password(DUMMY_PHC, pw);
    std::hint::black_box(ok);
}

type Job = Box<dyn FnOnce() + Send>;

/// A few long-lived threads that do all password verification.
///
/// Each argon2 verification allocates ~19 MiB. Run on arbitrary blocking
/// threads, every thread's malloc arena keeps that memory after use (20
/// sequential logins left ~240 MB resident); on a fixed pool of `threads`
/// workers the resident cost is bounded by `threads` × 19 MiB, and a login
/// storm queues instead of using every core.
pub struct HashPool {
    tx: std::sync::mpsc::Sender<Job>,
}

impl HashPool {
    /// Starts `threads` workers (at least one).
    pub fn new(threads: usize) -> HashPool {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("tidemark-hash-{i}"))
                .spawn(move || {
                    loop {
                        let job = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!("cannot start a password hashing thread: {e}");
            }
        }
        HashPool { tx }
    }

    /// Verifies `pw` against `phc`, or spends the same time on the dummy
    /// hash when `phc` is `None` (unknown user) and returns false.
    pub async fn verify(&self, phc: Option<String>, pw: String) -> bool {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let ok = match phc {
                Some(phc) => verify_password(&phc, &pw),
                None => {
                    dummy_verify(&pw);
                    false
                }
            };
            let _ = done.send(ok);
        });
        if self.tx.send(job).is_err() {
            return false;
        }
        result.await.unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn round_trip() {
        let phc = hash_password("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password(&phc, "correct horse"));
        assert!(!verify_password(&phc, "correct horsf"));
        assert!(!verify_password(&phc, ""));
    }

    #[test]
    fn credential_has_both_forms() {
        let cred = make_credential("pencil").unwrap();
        assert!(verify_password(&cred, "pencil"));
        assert!(!verify_password(&cred, "pencil2"));
        let keys = scram_keys(&cred).expect("SCRAM keys");
        assert_eq!(keys.iterations, 4096);
        let again = ScramKeys::derive("pencil", &keys.salt, keys.iterations).unwrap();
        assert_eq!(keys, again, "the keys are the password's");
        assert!(!cred.contains("pencil"));
        // One line: LOGIN only.
        let old = hash_password("pencil").unwrap();
        assert!(verify_password(&old, "pencil") && scram_keys(&old).is_none());
        // A password SASLprep refuses (a control character): no SCRAM keys.
        let odd = make_credential("a\u{7}b").unwrap();
        assert!(verify_password(&odd, "a\u{7}b") && scram_keys(&odd).is_none());
    }

    #[test]
    fn salts_differ() {
        let a = hash_password("pw").unwrap();
        let b = hash_password("pw").unwrap();
        assert_ne!(a, b);
        assert!(verify_password(&a, "pw") && verify_password(&b, "pw"));
    }

    #[test]
    fn unicode_and_empty() {
        let phc = hash_password("pässwörd ✓").unwrap();
        assert!(verify_password(&phc, "pässwörd ✓"));
        assert!(!verify_password(&phc, "passwort"));
        let empty = hash_password("").unwrap();
        assert!(verify_password(&empty, ""));
    }

    #[test]
    fn malformed_never_matches() {
        for bad in [
            "",
            "plaintext",
            "$argon2id$",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$2b$12$abcdefghijklmnopqrstuv",
            "$argon2id$v=19$m=19456,t=2,p=1$!!!$!!!",
        ] {
            assert!(!verify_password(bad, "x"), "{bad:?}");
        }
    }

    #[test]
    fn dummy_has_current_params() {
        // If the parameters change, regenerate DUMMY_PHC so that unknown
        // users keep costing what real users cost.
        let real = hash_password("x").unwrap();
        let prefix = |s: &str| s.rsplitn(3, '$').nth(2).map(str::to_owned);
        assert_eq!(prefix(&real), prefix(DUMMY_PHC));
        assert!(!verify_password(DUMMY_PHC, "x"));
    }

    #[test]
    fn dummy_costs_like_real() {
        let phc = hash_password("secret").unwrap();
        // Warm up.
        verify_password(&phc, "wrong");
        dummy_verify("wrong");
        let n = 3;
        let t = Instant::now();
        for _ in 0..n {
            assert!(!verify_password(&phc, "wrong"));
        }
        let real = t.elapsed();
        let t = Instant::now();
        for _ in 0..n {
            dummy_verify("wrong");
        }
        let dummy = t.elapsed();
        eprintln!("verify: {:?}/call, dummy: {:?}/call", real / n, dummy / n);
        // Generous bounds: CI machines are noisy.
        let ratio = dummy.as_secs_f64() / real.as_secs_f64();
        assert!((0.33..3.0).contains(&ratio), "ratio {ratio}");
    }
}
