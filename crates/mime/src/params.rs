//! Content-Type, Content-Disposition and Content-Language values, with RFC 2231
//! continuations merged the way Dovecot reports them: `name*0*=..;name*1=..`
//! becomes one `name*` parameter whose value stays percent-encoded (with its
//! `charset'lang'` prefix); parameters without `*` keep their order and come first.

use crate::Param;
use crate::rfc822::Parser;

struct Rfc2231 {
    key: Vec<u8>,
    value: Vec<u8>,
    idx: u32,
    extended: bool,
}

/// Parses `*(";" parameter)` from the parser position.
pub fn parse_params(p: &mut Parser<'_>) -> Vec<Param> {
    let mut result: Vec<Param> = Vec::new();
    let mut ext: Vec<Rfc2231> = Vec::new();
    let mut guard = 0usize;
    loop {
        guard += 1;
        if guard > 100_000 {
            break;
        }
        let (key, value) = match p.parse_content_param() {
            Ok(None) => break,
            Err(()) => {
                if p.at_end() {
                    break;
                }
                p.pos += 1;
                continue;
            }
            Ok(Some(kv)) => kv,
        };
        // Keys are C strings in Dovecot: a NUL ends them.
        let key = cut_nul(key);
        let value = cut_nul(value);
        match key.iter().position(|&b| b == b'*') {
            Some(star) => {
                let mut i = star;
                let mut idx: u32 = 0;
                if star + 1 < key.len() {
                    i = star + 1;
                    while let Some(d) = key.get(i).filter(|d| d.is_ascii_digit()) {
                        idx = idx.wrapping_mul(10).wrapping_add(u32::from(d - b'0'));
                        i += 1;
                    }
                }
                let extended = key.get(i) == Some(&b'*');
                if extended {
                    i += 1;
                }
                if i == key.len() {
                    ext.push(Rfc2231 {
                        key: key[..star].to_vec(),
                        value,
                        idx,
                        extended,
                    });
                } else {
                    result.push((key, value));
                }
            }
            None => result.push((key, value)),
        }
    }
    if ext.is_empty() {
        return result;
    }
    ext.sort_by(|a, b| a.key.cmp(&b.key).then(a.idx.cmp(&b.idx)));
    let mut i = 0;
    while i < ext.len() {
        let mut j = i;
        let mut ok = true;
        let mut have_extended = false;
        let mut next_idx = 0u32;
        while j < ext.len() && ext[j].key.eq_ignore_ascii_case(&ext[i].key) {
            if ext[j].idx != next_idx {
                ok = false;
            }
            have_extended |= ext[j].extended;
            next_idx = next_idx.wrapping_add(1);
            j += 1;
        }
        if !ok {
            for e in &ext[i..j] {
                let mut k = e.key.clone();
                k.push(b'*');
                k.extend_from_slice(e.idx.to_string().as_bytes());
                if e.extended {
                    k.push(b'*');
                }
                result.push((k, e.value.clone()));
            }
        } else {
            let mut v = Vec::new();
            if !ext[i].extended && have_extended {
                v.extend_from_slice(b"''");
            }
            for e in &ext[i..j] {
                if !e.extended && have_extended {
                    for &b in &e.value {
                        if b == b'%' {
                            v.extend_from_slice(b"%25");
                        } else {
                            v.push(b);
                        }
                    }
                } else {
                    v.extend_from_slice(&e.value);
                }
            }
            let mut k = ext[i].key.clone();
            if have_extended {
                k.push(b'*');
            }
            result.push((k, v));
        }
        i = j;
    }
    result
}

fn cut_nul(mut v: Vec<u8>) -> Vec<u8> {
    if let Some(n) = v.iter().position(|&b| b == 0) {
        v.truncate(n);
    }
    v
}

/// Content-Type: (type, subtype, params, ok). `type` is what could be read even when broken;
/// params are only read when the type/subtype parsed.
pub struct ContentType {
    pub media_type: Vec<u8>,
    pub subtype: Option<Vec<u8>>,
    pub params: Vec<Param>,
    pub ok: bool,
}

pub fn content_type(value: &[u8]) -> ContentType {
    let mut p = Parser::new(value);
    p.skip_lwsp();
    let mut s = Vec::new();
    let ret = p.parse_content_type(&mut s);
    let s = cut_nul(s);
    let (media_type, subtype) = match s.iter().position(|&b| b == b'/') {
        Some(i) => (s[..i].to_vec(), Some(s[i + 1..].to_vec())),
        None => (s, None),
    };
    // After the subtype only parameters may follow.
    let ok = ret >= 0 && (p.at_end() || p.peek() == b';');
    let params = if ok { parse_params(&mut p) } else { Vec::new() };
    ContentType {
        media_type,
        subtype,
        params,
        ok,
    }
}

/// Content-Transfer-Encoding / Content-Disposition leading token.
/// Content-Transfer-Encoding: one non-empty token and nothing after it.
pub fn transfer_encoding(value: &[u8]) -> Option<Vec<u8>> {
    let (tok, mut p) = token(value);
    let tok = tok.filter(|t| !t.is_empty())?;
    (p.skip_lwsp() == 0).then_some(tok)
}

pub fn token(value: &[u8]) -> (Option<Vec<u8>>, Parser<'_>) {
    let mut p = Parser::new(value);
    p.skip_lwsp();
    let mut s = Vec::new();
    let ret = p.parse_mime_token(&mut s);
    (if ret >= 0 { Some(cut_nul(s)) } else { None }, p)
}

pub fn disposition(value: &[u8]) -> Option<(Vec<u8>, Vec<Param>)> {
    let (tok, mut p) = token(value);
    let tok = tok?;
    let params = parse_params(&mut p);
    Some((tok, params))
}

/// Content-Language: `1#Language-tag` (atoms separated by commas).
pub fn language(value: &[u8]) -> Vec<Vec<u8>> {
    let mut p = Parser::new(value);
    let mut out = Vec::new();
    p.skip_lwsp();
    loop {
        let mut s = Vec::new();
        if p.parse_atom(&mut s) < 0 {
            break;
        }
        out.push(s);
        if p.at_end() || p.peek() != b',' {
            break;
        }
        p.pos += 1;
        p.skip_lwsp();
    }
    out
}
