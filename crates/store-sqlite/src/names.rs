//! Mailbox name validation and normalisation.

use tidemark_store::{StoreError, StoreResult};

/// Longest accepted mailbox name, in bytes.
pub(crate) const MAX_NAME_LEN: usize = 1000;

/// Validates a mailbox name and normalises the case of `INBOX` (also as
/// the first component of a child name: `inbox/x` is `INBOX/x`).
pub(crate) fn normalise(name: &str) -> StoreResult<String> {
    let bad = |why: &str| Err(StoreError::InvalidName(why.to_string()));
    if name.is_empty() {
        return bad("empty name");
    }
    if name.len() > MAX_NAME_LEN {
        return bad("name too long");
    }
    if name.starts_with('/') || name.ends_with('/') {
        return bad("leading or trailing hierarchy delimiter");
    }
    if name.contains("//") {
        return bad("empty hierarchy level");
    }
    if name.chars().any(|c| c == '\0' || c == '\r' || c == '\n') {
        return bad("control character in name");
    }
    if name.split('/').any(|c| c == "." || c == "..") {
        return bad("'.' or '..' as a hierarchy level");
    }
    let first = name.split('/').next().unwrap_or(name);
    if first.eq_ignore_ascii_case("INBOX") && first != "INBOX" {
        return Ok(format!("INBOX{}", &name[first.len()..]));
    }
    Ok(name.to_string())
}

/// The proper ancestors of `name`, outermost first (`a/b/c` → `a`, `a/b`).
pub(crate) fn parents(name: &str) -> impl Iterator<Item = &str> {
    name.match_indices('/').map(move |(i, _)| &name[..i])
}

/// Whether `name` is `ancestor` or lies below it.
pub(crate) fn is_self_or_child(name: &str, ancestor: &str) -> bool {
    name == ancestor
        || (name.len() > ancestor.len()
            && name.starts_with(ancestor)
            && name.as_bytes()[ancestor.len()] == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(normalise("inbox").as_deref(), Ok("INBOX"));
        assert_eq!(normalise("Inbox/x").as_deref(), Ok("INBOX/x"));
        assert_eq!(normalise("Inboxes").as_deref(), Ok("Inboxes"));
        for bad in ["", "/a", "a/", "a//b", "a/./b", "..", "a\nb", "a\0"] {
            assert!(normalise(bad).is_err(), "{bad:?}");
        }
        assert!(normalise(&"x".repeat(1001)).is_err());
        assert!(normalise(&"x".repeat(1000)).is_ok());
        assert_eq!(parents("a/b/c").collect::<Vec<_>>(), vec!["a", "a/b"]);
        assert!(is_self_or_child("a/b", "a") && is_self_or_child("a", "a"));
        assert!(!is_self_or_child("ab", "a"));
    }
}
