//! The tree's unit tests: Morton keys, the box bound never above a
//! distance the kernel computes, pruning never skipping a tie, and every
//! point's neighbour bitwise the ring kernel's on awkward sets.

use super::super::kernel::{nearest_brute, Columns, Piece, Points, Tally};
use super::super::meet::meet;
use super::*;

/// Every neighbour by the ring kernel itself (one rank: its own block).
fn ring(points: &Points) -> Nearest {
    let mut nearest = Nearest::new(points.n);
    let cols = Columns::from_rows(0, points.dim, &points.xs);
    let piece = Piece {
        rows: 0..points.n,
        cols: 0..points.n,
        diag: true,
    };
    let mut tally = Tally {
        nearest: &mut nearest,
        histogram: None,
        strip: None,
        n_total: points.n,
    };
    meet(&points.xs, 0, &cols, &piece, &mut tally, &mut Vec::new());
    nearest
}

/// Every neighbour by the tree, its leaves asked in `parts` ranges.
fn tree(points: &Points, parts: usize) -> Nearest {
    let t = Tree::new(&points.xs, points.dim);
    let mut nearest = Nearest::new(points.n);
    for r in 0..parts {
        t.nearest(
            crate::partition::split_range(t.leaves(), parts, r),
            &mut nearest,
        );
    }
    nearest
}

fn same(a: &Nearest, b: &Nearest) -> bool {
    a.index == b.index
        && a.d2
            .iter()
            .zip(&b.d2)
            .all(|(x, y)| x.to_bits() == y.to_bits())
}

/// A small deterministic generator (no rand streams needed here).
fn lcg(seed: &mut u64) -> f64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*seed >> 11) as f64 / (1u64 << 53) as f64
}

/// The awkward sets: uniform, Gaussian-ish blobs, many duplicates (on a
/// coarse lattice: equal distances everywhere), all on a line.
fn sets(n: usize, dim: usize) -> Vec<(&'static str, Points)> {
    let mut s = 11 + dim as u64;
    let uniform = Points::generated(n, dim, 5);
    let mut blobs = Vec::new();
    for i in 0..n {
        let c = (i % 4) as f64;
        for _ in 0..dim {
            let g: f64 = (0..4).map(|_| lcg(&mut s)).sum::<f64>() - 2.0;
            blobs.push(c * 3.0 + g * 0.05);
        }
    }
    let dup: Vec<f64> = (0..n * dim).map(|_| (lcg(&mut s) * 3.0).floor()).collect();
    let line: Vec<f64> = (0..n)
        .flat_map(|_| {
            let t = (lcg(&mut s) * 64.0).floor() / 8.0;
            (0..dim).map(move |k| t * (k + 1) as f64)
        })
        .collect();
    [
        ("uniform", uniform.xs),
        ("blobs", blobs),
        ("dup", dup),
        ("line", line),
    ]
    .into_iter()
    .map(|(name, xs)| (name, Points { n, dim, xs }))
    .collect()
}

#[test]
fn the_tree_gives_the_ring_kernels_neighbours_bit_for_bit() {
    for dim in [1, 2, 3, 5, 8] {
        for n in [2, 3, 33, 300, 1000] {
            for (name, pts) in sets(n, dim) {
                let want = ring(&pts);
                for parts in [1, 3] {
                    let got = tree(&pts, parts);
                    assert!(same(&got, &want), "{name} n={n} dim={dim} parts={parts}");
                }
                // And brute force, point by point (ties to the smaller index).
                for i in [0, n / 2, n - 1] {
                    let (d, j) = nearest_brute(&pts, i, 1.0);
                    assert_eq!((d.to_bits(), j), (want.d2[i].to_bits(), want.index[i]));
                }
            }
        }
    }
}

#[test]
fn morton_keys_interleave_the_cells_bits() {
    let naive = |cells: &[u64], bits: u32| {
        let mut key = 0u64;
        for b in 0..bits as usize {
            for (k, c) in cells.iter().enumerate() {
                key |= ((c >> b) & 1) << (b * cells.len() + k);
            }
        }
        key
    };
    let mut s = 3;
    for _ in 0..1000 {
        let (a, b, c) = (
            (lcg(&mut s) * 2f64.powi(21)) as u64,
            (lcg(&mut s) * 2f64.powi(21)) as u64,
            (lcg(&mut s) * 2f64.powi(21)) as u64,
        );
        assert_eq!(spread2(a) | spread2(b) << 1, naive(&[a, b], 32));
        assert_eq!(
            spread3(a) | spread3(b) << 1 | spread3(c) << 2,
            naive(&[a, b, c], 21)
        );
    }
    // Cells of the grid over [0, 1]: the corners, and clamping.
    let (lo, inv) = ([0.0, 0.0], [4.0, 4.0]);
    assert_eq!(morton_key(&[0.0, 0.0], &lo, &inv, 2), 0);
    assert_eq!(morton_key(&[1.0, 0.0], &lo, &inv, 2), 0b0101);
    assert_eq!(morton_key(&[0.0, 1.0], &lo, &inv, 2), 0b1010);
    assert_eq!(morton_key(&[0.3, 0.6], &lo, &inv, 2), 0b1001);
    // A flat axis (inv 0) and any D: still a key.
    assert_eq!(morton_key(&[5.0; 8], &[5.0; 8], &[0.0; 8], key_bits(8)), 0);
}

#[test]
fn the_box_bound_is_never_above_the_kernels_distance() {
    let mut s = 17;
    for dim in [1, 2, 3, 8] {
        for t in 0..20000 {
            // Points at awkward magnitudes, on the boxes' faces.
            let m = [1e-3, 1.0, 1e7][t % 3];
            let mut pt = |m: f64| (lcg(&mut s) - 0.5) * m;
            let x: Vec<f64> = (0..dim).map(|_| pt(m)).collect();
            let y: Vec<f64> = (0..dim).map(|_| pt(m)).collect();
            let ax: Vec<f64> = x.iter().map(|v| v - pt(m).abs() * 0.1).collect();
            let bx: Vec<f64> = y.iter().map(|v| v + pt(m).abs() * 0.1).collect();
            let a = [ax.clone(), x.clone()].concat(); // x on a's upper faces
            let b = [y.clone(), bx.clone()].concat(); // y on b's lower faces
            let d = super::super::kernel::d2(&x, &y);
            assert!(box_d2(&a, &b) <= d, "{x:?} {y:?}");
            assert!(point_box_d2(&x, &b) <= d);
            // Degenerate boxes (a point each): the bound is the distance.
            let (pa, pb) = (
                [x.clone(), x.clone()].concat(),
                [y.clone(), y.clone()].concat(),
            );
            assert_eq!(box_d2(&pa, &pb).to_bits(), d.to_bits());
        }
    }
}

#[test]
fn pruning_never_skips_a_tie_with_a_smaller_index() {
    // The best so far (d, 9); a box at exactly d holding index 4: visited.
    let d = 0.1f64 * 0.1 + 0.2 * 0.2;
    assert!(may_beat(d, 4, (d, 9)));
    // Holding nothing below 9, at exactly d: visited anyway (the margin
    // shrinks the bound); beyond the margin: skipped.
    assert!(may_beat(d, 12, (d, 9)));
    assert!(!may_beat(d * (1.0 + 1e-8), 12, (d, 9)));
    // Nearer: visited whatever its indices; farther (beyond the margin): not.
    assert!(may_beat(d * (1.0 - 1e-12), 12, (d, 9)));
    assert!(!may_beat(d * (1.0 + 1e-6), 0, (d, 9)));
    // Duplicates: distance 0 ties only with smaller indices.
    assert!(may_beat(0.0, 2, (0.0, 3)) && !may_beat(0.0, 3, (0.0, 3)));
    // A query on the face of a box at the tie: visited (the bound is the
    // distance itself, bit for bit).
    let (x, y) = ([0.3, 0.7], [0.3 + 0.1, 0.7 - 0.2]);
    let b = [y[0], y[1], y[0] + 1.0, y[1]];
    let dist = super::super::kernel::d2(&x, &y);
    assert!(point_box_d2(&x, &b) <= dist);
    assert!(may_beat(point_box_d2(&x, &b), 0, (dist, 1)));
}
