//! The client messages of OAUTHBEARER (RFC 7628) and XOAUTH2 (Google's
//! format, also used by Microsoft), and the JSON error challenges a server
//! sends before failing. The token itself is checked by the caller.
//!
//! ```text
//! OAUTHBEARER: gs2-header %x01 *(key "=" value %x01) %x01
//!              e.g. "n,a=user@example.com,\x01host=...\x01auth=Bearer <token>\x01\x01"
//! XOAUTH2:     "user=" user %x01 "auth=Bearer " token %x01 %x01
//! ```

use crate::{SaslError, check_len};

/// What a client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerRequest {
    /// OAUTHBEARER's `a=` authzid, XOAUTH2's `user=`.
    pub user: Option<String>,
    /// The bearer token.
    pub token: String,
}

/// Parses `auth=Bearer <token>` out of the key/value pairs.
fn bearer(value: &str) -> Result<String, SaslError> {
    // RFC 6750 2.1: the scheme is case-insensitive; b64token characters.
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(SaslError::Malformed("auth= needs \"Bearer <token>\""))?;
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err(SaslError::Malformed("auth= scheme is not Bearer"));
    }
    let token = token.trim_start_matches(' ');
    let b64token = |b: u8| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b);
    if token.is_empty() || !token.bytes().all(b64token) {
        return Err(SaslError::Malformed("bad bearer token"));
    }
    Ok(token.to_string())
}

/// `key = 1*(ALPHA)`, `value = *(VCHAR / SP / HTAB / CR / LF)`.
fn kv_pairs(s: &str) -> Result<Vec<(&str, &str)>, SaslError> {
    let body = s
        .strip_suffix("\x01\x01")
        .ok_or(SaslError::Malformed("missing final ^A^A"))?;
    let mut out = Vec::new();
    for pair in body.split('\x01') {
        let (k, v) = pair
            .split_once('=')
            .ok_or(SaslError::Malformed("key/value pair without ="))?;
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(SaslError::Malformed("bad key"));
        }
        if !v
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) || b"\t\r\n".contains(&b))
        {
            return Err(SaslError::Malformed("bad value"));
        }
        out.push((k, v));
    }
    Ok(out)
}

/// Parses an OAUTHBEARER initial client response (RFC 7628 3.1).
pub fn parse_oauthbearer(msg: &[u8]) -> Result<BearerRequest, SaslError> {
    check_len(msg)?;
    let s = std::str::from_utf8(msg).map_err(|_| SaslError::Malformed("not UTF-8"))?;
    // gs2-header: channel binding is not supported by OAUTHBEARER.
    let (flag, rest) = s
        .split_once(',')
        .ok_or(SaslError::Malformed("no GS2 header"))?;
    if flag != "n" && flag != "y" {
        return Err(SaslError::Malformed("OAUTHBEARER takes no channel binding"));
    }
    let (authz, rest) = rest
        .split_once(',')
        .ok_or(SaslError::Malformed("no GS2 header"))?;
    let user = match authz {
        "" => None,
        a => {
            let name = a
                .strip_prefix("a=")
                .ok_or(SaslError::Malformed("bad authzid"))?;
            Some(name.replace("=2C", ",").replace("=3D", "="))
        }
    };
    let rest = rest
        .strip_prefix('\x01')
        .ok_or(SaslError::Malformed("no ^A after the GS2 header"))?;
    let mut token = None;
    for (k, v) in kv_pairs(rest)? {
        if k == "auth" {
            if token.is_some() {
                return Err(SaslError::Malformed("auth= twice"));
            }
            token = Some(bearer(v)?);
        }
    }
    Ok(BearerRequest {
        user,
        token: token.ok_or(SaslError::Malformed("no auth= pair"))?,
    })
}

/// Parses an XOAUTH2 initial client response.
pub fn parse_xoauth2(msg: &[u8]) -> Result<BearerRequest, SaslError> {
    check_len(msg)?;
    let s = std::str::from_utf8(msg).map_err(|_| SaslError::Malformed("not UTF-8"))?;
    let (mut user, mut token) = (None, None);
    for (k, v) in kv_pairs(s)? {
        match k {
            "user" if user.is_none() => user = Some(v.to_string()),
            "auth" if token.is_none() => token = Some(bearer(v)?),
            "user" | "auth" => return Err(SaslError::Malformed("repeated key")),
            _ => {}
        }
    }
    Ok(BearerRequest {
        user: Some(user.ok_or(SaslError::Malformed("no user= pair"))?),
        token: token.ok_or(SaslError::Malformed("no auth= pair"))?,
    })
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// RFC 7628 3.2.2: the error sent as a challenge before the failure
/// (`{"status":"invalid_token",...}`); the client answers `%x01`.
pub fn oauthbearer_error(scope: Option<&str>, config_url: Option<&str>) -> String {
    let mut out = String::from("{\"status\":\"invalid_token\"");
    if let Some(s) = scope {
        out.push_str(&format!(",\"scope\":{}", json_string(s)));
    }
    if let Some(u) = config_url {
        out.push_str(&format!(",\"openid-configuration\":{}", json_string(u)));
    }
    out.push('}');
    out
}

/// XOAUTH2's error challenge (the client answers with an empty response).
pub fn xoauth2_error(scope: Option<&str>) -> String {
    let mut out = String::from("{\"status\":\"401\",\"schemes\":\"bearer\"");
    if let Some(s) = scope {
        out.push_str(&format!(",\"scope\":{}", json_string(s)));
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauthbearer_rfc7628_example() {
        // RFC 7628 4.1 (the token of the example).
        let msg = b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01";
        let r = parse_oauthbearer(msg).expect("valid");
        assert_eq!(r.user.as_deref(), Some("user@example.com"));
        assert_eq!(r.token, "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
        let r = parse_oauthbearer(b"n,,\x01auth=bearer abc.def-ghi\x01\x01").expect("no authzid");
        assert_eq!((r.user, r.token.as_str()), (None, "abc.def-ghi"));
    }

    #[test]
    fn xoauth2_format() {
        let r = parse_xoauth2(b"user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01")
            .expect("valid");
        assert_eq!(r.user.as_deref(), Some("someuser@example.com"));
        assert_eq!(r.token, "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
    }

    #[test]
    fn malformed() {
        for bad in [
            &b""[..],
            b"n,,",
            b"n,,\x01auth=Bearer x\x01",
            b"p=tls-exporter,,\x01auth=Bearer x\x01\x01",
            b"n,,\x01auth=Basic x\x01\x01",
            b"n,,\x01auth=Bearer \x01\x01",
            b"n,,\x01auth=Bearer a b\x01\x01",
            b"n,,\x01host=x\x01\x01",
            b"n,,\x01auth=Bearer x\x01auth=Bearer y\x01\x01",
            b"n,,\x01=x\x01\x01",
            b"n,b,\x01auth=Bearer x\x01\x01",
        ] {
            assert!(parse_oauthbearer(bad).is_err(), "{bad:?}");
        }
        for bad in [
            &b"user=a\x01\x01"[..],
            b"auth=Bearer x\x01\x01",
            b"user=a\x01auth=Bearer x\x01",
        ] {
            assert!(parse_xoauth2(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn error_challenges_are_json() {
        assert_eq!(
            oauthbearer_error(None, None),
            "{\"status\":\"invalid_token\"}"
        );
        assert_eq!(
            oauthbearer_error(
                Some("mail \"x\""),
                Some("https://a/.well-known/openid-configuration")
            ),
            "{\"status\":\"invalid_token\",\"scope\":\"mail \\\"x\\\"\",\"openid-configuration\":\"https://a/.well-known/openid-configuration\"}"
        );
        assert_eq!(
            xoauth2_error(None),
            "{\"status\":\"401\",\"schemes\":\"bearer\"}"
        );
    }
}
