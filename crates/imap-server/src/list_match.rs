//! LIST/LSUB pattern matching (RFC 9051 6.3.9): `*` matches anything,
//! `%` anything but the hierarchy delimiter. Matching is a dynamic program
//! over (pattern, name) so hostile patterns like `*%*%*%` stay linear-ish.

/// The hierarchy delimiter of every mailbox name.
pub const DELIMITER: char = '/';

/// Joins a LIST reference and pattern the way RFC 9051 describes: the
/// reference is a prefix ("a/" + "b*" = "a/b*"); a pattern starting with
/// the delimiter is taken relative to the root.
pub fn join_reference(reference: &str, pattern: &str) -> String {
    if reference.is_empty() || pattern.starts_with(DELIMITER) {
        return pattern.to_string();
    }
    if reference.ends_with(DELIMITER) {
        format!("{reference}{pattern}")
    } else {
        format!("{reference}{DELIMITER}{pattern}")
    }
}

/// A compiled pattern. `INBOX` at the start is matched case-insensitively.
#[derive(Debug, Clone)]
pub struct Pattern {
    chars: Vec<char>,
}

impl Pattern {
    /// Compiles a pattern (already joined with its reference).
    pub fn new(pattern: &str) -> Pattern {
        let mut chars: Vec<char> = pattern.chars().collect();
        // INBOX is case-insensitive: normalise a leading "inbox" component.
        if chars.len() >= 5 {
            let head: String = chars[..5].iter().collect();
            let boundary = chars.get(5).is_none_or(|c| *c == DELIMITER);
            if head.eq_ignore_ascii_case("INBOX") && boundary {
                for (i, c) in "INBOX".chars().enumerate() {
                    chars[i] = c;
                }
            }
        }
        Pattern { chars }
    }

    /// True if `name` matches the whole pattern.
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        self.match_chars(&name)
    }

    /// True if some name with `name` as a proper hierarchy prefix
    /// (`name` + "/" + ...) could match: used to decide whether a parent
    /// of a matching child should be reported (e.g. `%` on `a` when only
    /// `a/b` exists).
    pub fn matches_prefix_of_child(&self, name: &str) -> bool {
        let mut probe: Vec<char> = name.chars().collect();
        probe.push(DELIMITER);
        // Can the pattern consume `probe` as a prefix and still have
        // something left that can match a non-empty remainder?
        let states = self.run(&probe);
        states
            .iter()
            .enumerate()
            .any(|(i, &live)| live && i < self.chars.len())
    }

    fn match_chars(&self, name: &[char]) -> bool {
        let states = self.run(name);
        states.last().copied().unwrap_or(false)
    }

    /// NFA simulation: `states[i]` is true when the first `i` pattern chars
    /// can match the whole of `input`.
    fn run(&self, input: &[char]) -> Vec<bool> {
        let p = &self.chars;
        let mut cur = vec![false; p.len() + 1];
        cur[0] = true;
        close_wildcards(p, &mut cur);
        for &c in input {
            let mut next = vec![false; p.len() + 1];
            for i in 0..p.len() {
                if !cur[i] {
                    continue;
                }
                match p[i] {
                    '*' => next[i] = true,
                    '%' => {
                        if c != DELIMITER {
                            next[i] = true;
                        }
                    }
                    pc => {
                        if pc == c {
                            next[i + 1] = true;
                        }
                    }
                }
            }
            close_wildcards(p, &mut next);
            cur = next;
        }
        cur
    }
}

/// A wildcard may match the empty string: propagate states past it.
fn close_wildcards(p: &[char], states: &mut [bool]) {
    for i in 0..p.len() {
        if states[i] && (p[i] == '*' || p[i] == '%') {
            states[i + 1] = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let star = Pattern::new("*");
        assert!(star.matches("INBOX") && star.matches("a/b/c"));
        let pct = Pattern::new("%");
        assert!(pct.matches("a") && !pct.matches("a/b"));
        assert!(Pattern::new("a/%").matches("a/b") && !Pattern::new("a/%").matches("a/b/c"));
        assert!(Pattern::new("a*c").matches("a/b/c"));
        assert!(!Pattern::new("a%c").matches("a/c"));
        assert!(Pattern::new("inbox").matches("INBOX"));
        assert!(Pattern::new("Inbox/%").matches("INBOX/x"));
        assert!(!Pattern::new("inboxes").matches("INBOX"));
        assert!(Pattern::new("").matches(""));
        assert!(!Pattern::new("").matches("a"));
    }

    #[test]
    fn child_prefix() {
        assert!(Pattern::new("a/%").matches_prefix_of_child("a"));
        assert!(Pattern::new("*").matches_prefix_of_child("a"));
        assert!(!Pattern::new("b/%").matches_prefix_of_child("a"));
        assert!(!Pattern::new("%").matches_prefix_of_child("a"));
    }

    #[test]
    fn hostile_pattern_is_fast() {
        let p = Pattern::new(&"*%".repeat(500));
        let name = "x".repeat(1000) + "/";
        let t = std::time::Instant::now();
        assert!(p.matches(&name));
        assert!(t.elapsed().as_secs() < 2);
    }

    #[test]
    fn reference_join() {
        assert_eq!(join_reference("", "a*"), "a*");
        assert_eq!(join_reference("a/", "b"), "a/b");
        assert_eq!(join_reference("a", "b"), "a/b");
        assert_eq!(join_reference("a", "/b"), "/b");
    }
}
