//! A set of UIDs as sorted, disjoint, non-adjacent inclusive ranges.

use crate::Uid;

/// A set of UIDs. Cheap for `1:*`-like sets of any size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UidSet {
    ranges: Vec<(u32, u32)>,
}

impl UidSet {
    /// The empty set.
    pub fn new() -> UidSet {
        UidSet::default()
    }

    /// A single inclusive range (bounds in any order).
    pub fn range(a: u32, b: u32) -> UidSet {
        let mut s = UidSet::new();
        s.insert_range(a, b);
        s
    }

    /// Builds from UIDs in any order.
    pub fn from_uids(uids: impl IntoIterator<Item = Uid>) -> UidSet {
        let mut v: Vec<u32> = uids.into_iter().map(|u| u.0).collect();
        v.sort_unstable();
        v.dedup();
        let mut s = UidSet::new();
        for u in v {
            match s.ranges.last_mut() {
                Some((_, hi)) if u == *hi + 1 => *hi = u,
                _ => s.ranges.push((u, u)),
            }
        }
        s
    }

    /// Adds an inclusive range (bounds in any order).
    pub fn insert_range(&mut self, a: u32, b: u32) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        self.ranges.push((lo, hi));
        self.normalise();
    }

    fn normalise(&mut self) {
        self.ranges.sort_unstable();
        let mut out: Vec<(u32, u32)> = Vec::with_capacity(self.ranges.len());
        for &(lo, hi) in &self.ranges {
            match out.last_mut() {
                Some((_, phi)) if lo <= phi.saturating_add(1) => *phi = (*phi).max(hi),
                _ => out.push((lo, hi)),
            }
        }
        self.ranges = out;
    }

    /// The ranges, ascending and disjoint.
    pub fn ranges(&self) -> &[(u32, u32)] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn contains(&self, uid: Uid) -> bool {
        let i = self.ranges.partition_point(|&(_, hi)| hi < uid.0);
        self.ranges.get(i).is_some_and(|&(lo, _)| lo <= uid.0)
    }

    /// Iterates the UIDs ascending. Beware of huge ranges; prefer
    /// [`UidSet::ranges`] for queries.
    pub fn iter(&self) -> impl Iterator<Item = Uid> + '_ {
        self.ranges.iter().flat_map(|&(lo, hi)| (lo..=hi).map(Uid))
    }

    /// Number of UIDs in the set.
    pub fn len(&self) -> u64 {
        self.ranges
            .iter()
            .map(|&(lo, hi)| (hi - lo) as u64 + 1)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_and_contains() {
        let mut s = UidSet::range(5, 3);
        s.insert_range(6, 8);
        s.insert_range(20, 20);
        assert_eq!(s.ranges(), &[(3, 8), (20, 20)]);
        assert!(s.contains(Uid(3)) && s.contains(Uid(8)) && s.contains(Uid(20)));
        assert!(!s.contains(Uid(2)) && !s.contains(Uid(9)) && !s.contains(Uid(21)));
        assert_eq!(s.len(), 7);
        let f = UidSet::from_uids([Uid(4), Uid(2), Uid(3), Uid(9)]);
        assert_eq!(f.ranges(), &[(2, 4), (9, 9)]);
        assert_eq!(f.iter().map(|u| u.0).collect::<Vec<_>>(), vec![2, 3, 4, 9]);
    }
}
