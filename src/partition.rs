//! Cutting n items into contiguous, balanced parts: grid rows and columns
//! for the heat solver, members and chunks for the ensembles.

use std::ops::Range;

/// Split `n` items into `parts` contiguous ranges as evenly as possible: the
/// first `n % parts` ranges get one item more. Returns range `index`.
pub fn split_range(n: usize, parts: usize, index: usize) -> Range<usize> {
    debug_assert!(parts >= 1 && index < parts);
    let base = n / parts;
    let extra = n % parts;
    let start = index * base + index.min(extra);
    let len = base + usize::from(index < extra);
    start..start + len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_range_is_contiguous_and_even() {
        for n in 1..60 {
            for parts in 1..=n.min(13) {
                let ranges: Vec<_> = (0..parts).map(|k| split_range(n, parts, k)).collect();
                assert_eq!(ranges[0].start, 0);
                assert_eq!(ranges[parts - 1].end, n);
                for w in ranges.windows(2) {
                    assert_eq!(w[0].end, w[1].start);
                }
                let lens: Vec<_> = ranges.iter().map(|r| r.len()).collect();
                let (min, max) = (lens.iter().min().unwrap(), lens.iter().max().unwrap());
                assert!(*min >= 1 && max - min <= 1, "n={n} parts={parts} {lens:?}");
            }
        }
    }
}
