//! Content-Transfer-Encoding decoding for BINARY (RFC 3516).

/// Why a part could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The CTE is not one of 7bit, 8bit, binary, base64, quoted-printable: `[UNKNOWN-CTE]`.
    UnknownCte,
    /// The content is not valid for its CTE: `[PARSE]`.
    Invalid,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::UnknownCte => f.write_str("unknown content-transfer-encoding"),
            DecodeError::Invalid => f.write_str("invalid data in MIME part"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decodes `body` per its Content-Transfer-Encoding token (`None`: no header, 7bit).
pub fn decode_transfer(cte: Option<&[u8]>, body: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let cte = cte.unwrap_or(b"7bit");
    let is = |s: &str| cte.eq_ignore_ascii_case(s.as_bytes());
    if is("7bit") || is("8bit") || is("binary") {
        Ok(body.to_vec())
    } else if is("base64") {
        base64(body)
    } else if is("quoted-printable") {
        quoted_printable(body)
    } else {
        Err(DecodeError::UnknownCte)
    }
}

fn b64val(b: u8) -> Option<u32> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

fn base64(body: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(body.len() / 4 * 3 + 3);
    let mut acc = 0u32;
    let mut n = 0u8;
    let mut pad = false;
    for &b in body {
        if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
            continue;
        }
        if b == b'=' {
            pad = true;
            continue;
        }
        let v = b64val(b).ok_or(DecodeError::Invalid)?;
        if pad {
            // data after the padding
            return Err(DecodeError::Invalid);
        }
        acc = (acc << 6) | v;
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        0 => {}
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => return Err(DecodeError::Invalid),
    }
    Ok(out)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

fn quoted_printable(body: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(body.len());
    for line in body.split_inclusive(|&b| b == b'\n') {
        let (content, nl): (&[u8], &[u8]) = if let Some(c) = line.strip_suffix(b"\r\n") {
            (c, b"\r\n")
        } else if let Some(c) = line.strip_suffix(b"\n") {
            (c, b"\r\n")
        } else {
            (line, b"")
        };
        // trailing whitespace is not part of the data
        let mut end = content.len();
        while end > 0 && matches!(content[end - 1], b' ' | b'\t') {
            end -= 1;
        }
        let content = &content[..end];
        let mut i = 0;
        let mut soft = false;
        while i < content.len() {
            let b = content[i];
            if b != b'=' {
                out.push(b);
                i += 1;
                continue;
            }
            if i + 1 == content.len() {
                soft = true;
                break;
            }
            match (
                content.get(i + 1).copied().and_then(hex),
                content.get(i + 2).copied().and_then(hex),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                }
                _ => return Err(DecodeError::Invalid),
            }
        }
        if !soft {
            out.extend_from_slice(nl);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctes() {
        assert_eq!(
            decode_transfer(Some(b"BASE64"), b"aGVs\r\nbG8=\r\n").unwrap(),
            b"hello"
        );
        assert_eq!(
            decode_transfer(Some(b"quoted-printable"), b"a=3Db=\r\nc  \r\nd").unwrap(),
            b"a=bc\r\nd"
        );
        assert_eq!(decode_transfer(None, b"x\0y").unwrap(), b"x\0y");
        assert_eq!(
            decode_transfer(Some(b"x-uue"), b"x"),
            Err(DecodeError::UnknownCte)
        );
        assert_eq!(
            decode_transfer(Some(b"base64"), b"a*b="),
            Err(DecodeError::Invalid)
        );
    }
}
