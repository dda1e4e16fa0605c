//! The pairs kernel's unit tests: every pair met once on any ring,
//! the tile kernel bitwise against plain sums, neighbours and histograms.

use super::super::meet::{group_d2, group_d2_portable, meet, Group, PS};
use super::*;

fn random(n: usize, dim: usize, seed: u64) -> Points {
    Points::generated(n, dim, seed)
}

/// Every meeting of a ring of p ranks over `points`, as the ranks
/// would do them, into one tally per rank.
fn ring(
    points: &Points,
    p: usize,
    bins: usize,
    matrix: bool,
) -> Vec<(Nearest, Histogram, Vec<f64>)> {
    let (n, dim) = (points.n, points.dim);
    let diag = points.diagonal();
    (0..p)
        .map(|r| {
            let own = block_range(n, p, r);
            let rows = &points.xs[own.start * dim..own.end * dim];
            let mut nearest = Nearest::new(n);
            let mut hist = Histogram::new(bins.max(1), diag);
            let mut strip = vec![f64::NAN; if matrix { own.len() * n } else { 0 }];
            let mut buf = Vec::new();
            for s in 0..=ring_steps(p) {
                let c = block_at(p, r, s);
                let other = block_range(n, p, c);
                let cols = Columns::from_rows(
                    other.start,
                    dim,
                    &points.xs[other.start * dim..other.end * dim],
                );
                let Some(pc) = piece(p, r, s, own.len(), other.len()) else {
                    continue;
                };
                let mut t = Tally {
                    nearest: &mut nearest,
                    histogram: (bins > 0).then_some(&mut hist),
                    strip: matrix.then_some(&mut strip[..]),
                    n_total: n,
                };
                meet(rows, own.start, &cols, &pc, &mut t, &mut buf);
            }
            (nearest, hist, strip)
        })
        .collect()
}

fn merged(parts: &[(Nearest, Histogram, Vec<f64>)], n: usize) -> (Nearest, Vec<u64>) {
    let mut all = Nearest::new(n);
    for (nn, _, _) in parts {
        for i in 0..n {
            all.offer(i, nn.d2[i], nn.index[i]);
        }
    }
    let mut counts = vec![0; parts[0].1.counts.len()];
    for (_, h, _) in parts {
        for (c, x) in counts.iter_mut().zip(&h.counts) {
            *c += x;
        }
    }
    (all, counts)
}

#[test]
fn the_ring_meets_every_pair_once_on_any_number_of_ranks() {
    for p in 1..=7 {
        for n in [2, 3, 5, 9, 17, 40] {
            let mut met = vec![0u32; n * n];
            for r in 0..p {
                let own = block_range(n, p, r);
                for s in 0..=ring_steps(p) {
                    let other = block_range(n, p, block_at(p, r, s));
                    let Some(pc) = piece(p, r, s, own.len(), other.len()) else {
                        continue;
                    };
                    for i in pc.rows.clone() {
                        for j in pc.cols.clone() {
                            let (a, b) = (own.start + i, other.start + j);
                            if !pc.diag || j > i {
                                met[a.min(b) * n + a.max(b)] += 1;
                            }
                        }
                    }
                }
            }
            for a in 0..n {
                for b in 0..n {
                    let want = u32::from(a < b);
                    assert_eq!(met[a * n + b], want, "p={p} n={n} pair ({a},{b})");
                }
            }
        }
    }
}

#[test]
fn the_kernel_gives_the_one_by_one_distances_bit_for_bit() {
    for (n, dim) in [(13, 1), (29, 2), (21, 3), (18, 100), (40, 7)] {
        let pts = random(n, dim, 3);
        let cols = Columns::from_rows(0, dim, &pts.xs);
        for start in [0, 1, 5, n - 1] {
            let mut out = vec![f64::NAN; G * PS];
            let rows = [pts.row(0), pts.row(1), pts.row(2), pts.row(n - 1)];
            let grp = Group {
                rows,
                from: [start; G],
                end: n,
                row_first: 0,
                block_first: 0,
                diag: false,
            };
            let mut nn = Nearest::new(n);
            let mins = group_d2(&grp, &cols, start, &mut out, &mut nn);
            for (g, r) in rows.iter().enumerate() {
                let want: Vec<f64> = (start..n).map(|j| d2(r, pts.row(j))).collect();
                for (j, w) in (start..n).zip(&want) {
                    assert_eq!(out[g * PS + j - start].to_bits(), w.to_bits());
                }
                let least = want.iter().fold(f64::INFINITY, |a, &b| a.min(b));
                assert_eq!(mins[g].to_bits(), least.to_bits());
            }
            let mut port = vec![f64::NAN; G * PS];
            let mut nn2 = Nearest::new(n);
            group_d2_portable(&grp, &cols, start, &mut port, &mut nn2);
            for (a, b) in out.iter().zip(&port).take(n - start) {
                assert_eq!(a.to_bits(), b.to_bits());
            }
            assert_eq!(nn, nn2);
        }
    }
}

#[test]
fn neighbours_histogram_and_matrix_are_the_same_bits_for_any_p() {
    for (n, dim) in [(2, 1), (7, 2), (37, 3), (64, 5), (1100, 2)] {
        let pts = random(n, dim, 11);
        let one = ring(&pts, 1, 16, true);
        let (nn1, h1) = merged(&one, n);
        // Brute force: every point's neighbour, every distance.
        for i in 0..n {
            let (d, j) = nearest_brute(&pts, i, 1.0);
            assert_eq!(
                (nn1.d2[i].to_bits(), nn1.index[i]),
                (d.to_bits(), j),
                "n={n} i={i}"
            );
            for j in 0..n {
                let want = if i == j {
                    0.0
                } else {
                    d2(pts.row(i), pts.row(j)).sqrt()
                };
                let got = if i == j { 0.0 } else { one[0].2[i * n + j] };
                assert_eq!(got.to_bits(), want.to_bits());
            }
        }
        assert_eq!(h1.iter().sum::<u64>(), (n * (n - 1) / 2) as u64);
        for p in 2..=5 {
            let parts = ring(&pts, p, 16, false);
            let (nn, h) = merged(&parts, n);
            assert_eq!(nn, nn1, "n={n} p={p}");
            assert_eq!(h, h1, "n={n} p={p}");
        }
    }
}

/// In 64-D a tile holds 1024 columns: 2600 points (many of them copies, so
/// ties span tiles) are met in several tiles per block on every ring, and
/// give brute force's neighbours (ties to the smallest index) and the same
/// histogram for any p.
#[test]
fn column_tiles_change_no_bit_and_no_tie() {
    let (n, dim) = (2600, 64);
    let mut pts = random(n, dim, 5);
    for i in (0..n).filter(|i| i % 3 == 0) {
        let src = (i * 7) % 700;
        let row = pts.row(src).to_vec();
        pts.xs[i * dim..(i + 1) * dim].copy_from_slice(&row);
    }
    let (nn1, h1) = merged(&ring(&pts, 1, 16, false), n);
    for i in 0..n {
        let (d, j) = nearest_brute(&pts, i, 1.0);
        assert_eq!(
            (nn1.d2[i].to_bits(), nn1.index[i]),
            (d.to_bits(), j),
            "i={i}"
        );
    }
    for p in [2, 3] {
        let (nn, h) = merged(&ring(&pts, p, 16, false), n);
        assert_eq!(nn, nn1, "p={p}");
        assert_eq!(h, h1, "p={p}");
    }
}

#[test]
fn ties_go_to_the_smallest_indices() {
    // Points on a line at 0, 1, 2, 3: pairs (0,1), (1,2), (2,3) all at 1.
    let pts = Points {
        n: 4,
        dim: 1,
        xs: vec![3.0, 0.0, 1.0, 2.0],
    };
    for p in 1..=4 {
        let (nn, _) = merged(&ring(&pts, p, 0, false), 4);
        assert_eq!(nn.index, vec![3, 2, 1, 0]);
        assert_eq!(nn.closest(), Some((0, 3, 1.0)), "p={p}");
    }
    // Duplicates: distance 0, the first pair of them.
    let dup = Points {
        n: 5,
        dim: 2,
        xs: vec![0.0, 0.0, 1.0, 1.0, 0.5, 0.5, 1.0, 1.0, 0.5, 0.5],
    };
    let (nn, _) = merged(&ring(&dup, 3, 4, false), 5);
    assert_eq!(nn.closest(), Some((1, 3, 0.0)));
    assert_eq!(dup.diagonal(), 2f64.sqrt());
}

#[test]
fn histogram_bins_cover_zero_to_the_diagonal() {
    let h = Histogram::new(4, 2.0);
    assert_eq!(
        [0.0, 0.49, 0.5, 1.99, 2.0, 2.5].map(|d| h.bin(d)),
        [0, 0, 1, 3, 3, 3].map(Some)
    );
    assert_eq!(Histogram::edges(4, 2.0), vec![0.0, 0.5, 1.0, 1.5, 2.0]);
    let flat = Histogram::new(3, 0.0);
    assert_eq!(flat.bin(0.0), Some(0));
}

#[test]
fn with_rmax_a_pair_at_r_or_beyond_is_not_binned() {
    let mut h = Histogram::within(4, 2.0);
    assert_eq!(
        [0.0, 0.49, 0.5, 1.99, 2.0, 2.5].map(|d| h.bin(d)),
        [Some(0), Some(0), Some(1), Some(3), None, None]
    );
    // Just below R: the last bin, however d * B / R rounds.
    assert_eq!(h.bin(2.0f64.next_down()), Some(3));
    for d in [0.3, 2.0, 7.0] {
        h.add(d);
    }
    assert_eq!((h.counts, h.beyond), (vec![1, 0, 0, 0], 2));
}

#[test]
fn generated_points_do_not_depend_on_who_makes_them() {
    let all = Points::generated(10, 3, 5);
    let tail = Points::generated(10, 3, 5);
    assert_eq!(all, tail);
    assert!(all.xs.iter().all(|x| (0.0..1.0).contains(x)));
    assert_ne!(Points::generated(10, 3, 6), all);
    let bad = Points {
        n: 2,
        dim: 2,
        xs: vec![0.0, 1.0, f64::NAN, 2.0],
    };
    assert_eq!(bad.first_non_finite(), Some((1, 0)));
}
