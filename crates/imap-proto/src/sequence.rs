//! Sequence sets.
//!
//! ```text
//! sequence-set = (seq-number / seq-range) ["," sequence-set] / "$"   ; "$" from RFC 5182 (SEARCHRES)
//! seq-range    = seq-number ":" seq-number
//! seq-number   = nz-number / "*"
//! ```

/// `seq-number = nz-number / "*"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeqBound {
    Num(u32),
    /// `*`: the largest number in use.
    Star,
}

impl SeqBound {
    fn resolve(self, max: u32) -> u32 {
        match self {
            SeqBound::Num(n) => n,
            SeqBound::Star => max,
        }
    }
}

/// One `seq-number` (then `start == end`) or `seq-range`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeqItem {
    pub start: SeqBound,
    pub end: SeqBound,
}

impl SeqItem {
    pub fn single(n: u32) -> SeqItem {
        SeqItem {
            start: SeqBound::Num(n),
            end: SeqBound::Num(n),
        }
    }
    pub fn range(a: u32, b: u32) -> SeqItem {
        SeqItem {
            start: SeqBound::Num(a),
            end: SeqBound::Num(b),
        }
    }
}

/// `sequence-set`, or `$` (the saved search result, RFC 5182).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SequenceSet {
    /// `$`: the result saved by `SEARCH RETURN (SAVE)`.
    Saved,
    /// A non-empty list of numbers and ranges.
    Items(Vec<SeqItem>),
}

impl SequenceSet {
    /// A set from inclusive ranges (e.g. UIDs for COPYUID / VANISHED). Ranges are kept as given.
    pub fn from_ranges(ranges: &[(u32, u32)]) -> SequenceSet {
        SequenceSet::Items(
            ranges
                .iter()
                .map(|&(a, b)| {
                    if a == b {
                        SeqItem::single(a)
                    } else {
                        SeqItem::range(a, b)
                    }
                })
                .collect(),
        )
    }

    /// A set from individual numbers, compressed into ranges (`1,2,3,5` → `1:3,5`).
    pub fn from_numbers(nums: &[u32]) -> SequenceSet {
        let mut sorted = nums.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        SequenceSet::from_ranges(&merge(sorted.into_iter().map(|n| (n, n)).collect()))
    }

    pub fn is_saved(&self) -> bool {
        matches!(self, SequenceSet::Saved)
    }

    /// Resolves to sorted, merged, inclusive ranges, `*` being `max`.
    ///
    /// `a:b` and `b:a` are the same range (so `UID 100:*` with a largest UID of 50 means `50:100`,
    /// as RFC 9051 §9 requires). Nothing is clamped to `max`: callers intersect with what exists.
    /// In an empty mailbox (`max == 0`) any item mentioning `*` resolves to nothing, and number 0
    /// never appears in the output. `$` resolves to nothing: use [`SequenceSet::resolve_with_saved`].
    pub fn resolve(&self, max: u32) -> Vec<(u32, u32)> {
        self.resolve_with_saved(max, &[])
    }

    /// Like [`SequenceSet::resolve`], with `$` replaced by the given saved ranges.
    pub fn resolve_with_saved(&self, max: u32, saved: &[(u32, u32)]) -> Vec<(u32, u32)> {
        let items = match self {
            SequenceSet::Saved => return merge(saved.to_vec()),
            SequenceSet::Items(items) => items,
        };
        let mut out = Vec::with_capacity(items.len());
        for it in items {
            if max == 0 && (it.start == SeqBound::Star || it.end == SeqBound::Star) {
                continue;
            }
            let (a, b) = (it.start.resolve(max), it.end.resolve(max));
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            if hi == 0 {
                continue;
            }
            out.push((lo.max(1), hi));
        }
        merge(out)
    }

    /// Whether `n` is in the set (`*` = `max`). Always false for `$`.
    pub fn contains(&self, n: u32, max: u32) -> bool {
        match self {
            SequenceSet::Saved => false,
            SequenceSet::Items(items) => items.iter().any(|it| {
                let (a, b) = (it.start.resolve(max), it.end.resolve(max));
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                n != 0 && lo <= n && n <= hi
            }),
        }
    }
}

/// Sorts and merges overlapping or adjacent ranges.
fn merge(mut v: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    v.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_merges_and_orders() {
        let s = SequenceSet::Items(vec![
            SeqItem::range(5, 3),
            SeqItem::single(1),
            SeqItem::single(2),
            SeqItem {
                start: SeqBound::Num(9),
                end: SeqBound::Star,
            },
        ]);
        assert_eq!(s.resolve(7), vec![(1, 5), (7, 9)]);
    }

    #[test]
    fn star_in_empty_mailbox() {
        let s = SequenceSet::Items(vec![SeqItem {
            start: SeqBound::Num(1),
            end: SeqBound::Star,
        }]);
        assert!(s.resolve(0).is_empty());
        let s = SequenceSet::Items(vec![SeqItem {
            start: SeqBound::Star,
            end: SeqBound::Star,
        }]);
        assert!(s.resolve(0).is_empty());
        assert!(SequenceSet::Saved.resolve(10).is_empty());
        assert_eq!(
            SequenceSet::Saved.resolve_with_saved(10, &[(4, 4), (3, 3)]),
            vec![(3, 4)]
        );
    }

    #[test]
    fn numbers_compress() {
        assert_eq!(
            SequenceSet::from_numbers(&[5, 1, 2, 3, 3, u32::MAX]),
            SequenceSet::Items(vec![
                SeqItem::range(1, 3),
                SeqItem::single(5),
                SeqItem::single(u32::MAX)
            ])
        );
        assert!(SequenceSet::from_numbers(&[1, 2]).contains(2, 0));
    }
}
