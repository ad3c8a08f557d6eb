//! PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd`, UTF-8.

use crate::{SaslError, check_len};

/// The parts of a PLAIN message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plain {
    /// Empty when the client asks to act as itself.
    pub authzid: String,
    pub authcid: String,
    pub password: String,
}

/// Longest authzid, authcid and password (RFC 4616 allows 255 octets each).
pub const MAX_FIELD: usize = 255;

/// Parses a PLAIN message.
pub fn parse(msg: &[u8]) -> Result<Plain, SaslError> {
    check_len(msg)?;
    let mut parts = msg.split(|b| *b == 0);
    let (Some(authz), Some(authc), Some(pw), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Malformed(
            "PLAIN needs authzid NUL authcid NUL password",
        ));
    };
    if authc.is_empty()
        || authz.len() > MAX_FIELD
        || authc.len() > MAX_FIELD
        || pw.len() > MAX_FIELD
    {
        // RFC 4616: an empty authcid or an over-long field is refused the
        // way a wrong password is.
        return Err(SaslError::AuthFailed);
    }
    let utf8 = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| SaslError::AuthFailed);
    Ok(Plain {
        authzid: utf8(authz)?,
        authcid: utf8(authc)?,
        password: utf8(pw)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts() {
        let p = parse(b"\0tim\0tanstaaftanstaaf").expect("valid");
        assert_eq!(
            (p.authzid.as_str(), p.authcid.as_str(), p.password.as_str()),
            ("", "tim", "tanstaaftanstaaf")
        );
        let p = parse(b"Ursel\0Kurt\0xipj3plmq").expect("valid");
        assert_eq!(p.authzid, "Ursel");
        assert!(matches!(parse(b"a\0b"), Err(SaslError::Malformed(_))));
        assert!(matches!(parse(b"a\0b\0c\0d"), Err(SaslError::Malformed(_))));
        assert_eq!(parse(b"\0\0pw"), Err(SaslError::AuthFailed));
        assert_eq!(parse(b"\0u\0\xff"), Err(SaslError::AuthFailed));
        let long = [b"\0u\0".as_slice(), &[b'x'; 256]].concat();
        assert_eq!(parse(&long), Err(SaslError::AuthFailed));
    }
}
