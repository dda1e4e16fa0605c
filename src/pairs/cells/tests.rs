use super::*;
use crate::pairs::kernel::{d2, Points};

/// Every pair's distance binned one by one: the ring's counts.
fn brute(p: &Points, bins: usize, rmax: f64) -> Histogram {
    let mut h = Histogram::within(bins, rmax);
    for i in 0..p.n {
        for j in i + 1..p.n {
            h.add(d2(p.row(i), p.row(j)).sqrt());
        }
    }
    h
}

/// The grid's counts on `parts` shares added up, and the pairs in bulk.
fn by_grid(p: &Points, bins: usize, rmax: f64, parts: usize) -> (Vec<u64>, u64) {
    let grid = Grid::new(&p.xs, p.dim, rmax);
    let mut h = Histogram::within(bins, rmax);
    let mut bulk = 0;
    for r in 0..parts {
        bulk += grid.count(grid.share(parts, r), &mut h).1;
    }
    (h.counts, bulk)
}

fn sets(dim: usize) -> Vec<Points> {
    let uniform = Points::generated(600, dim, 3);
    let mut clustered = Points::generated(600, dim, 4);
    for x in clustered.xs.iter_mut() {
        *x = 0.5 + (*x - 0.5) * 0.01;
    }
    // Many copies of few points: distance 0 and ties at bin edges.
    let mut dup = Points::generated(500, dim, 5);
    for x in dup.xs.iter_mut() {
        *x = (*x * 4.0).floor() / 8.0;
    }
    // All on a line along the last axis (a flat grid elsewhere).
    let mut line = Points::generated(500, dim, 6);
    for (i, x) in line.xs.iter_mut().enumerate() {
        if i % dim != dim - 1 {
            *x = 0.25;
        }
    }
    vec![uniform, clustered, dup, line]
}

#[test]
fn the_grid_counts_what_brute_force_counts_on_any_share() {
    for dim in [1, 2, 3, 8] {
        for (s, p) in sets(dim).iter().enumerate() {
            for (bins, rmax) in [(1, 0.2), (4, 0.125), (16, 0.3), (3, 5.0), (7, 0.005)] {
                let want = brute(p, bins, rmax).counts;
                for parts in [1, 2, 3, 7] {
                    let (got, _) = by_grid(p, bins, rmax, parts);
                    assert_eq!(
                        got, want,
                        "dim {dim} set {s} bins {bins} R {rmax} parts {parts}"
                    );
                }
            }
        }
    }
}

#[test]
fn whole_cells_are_counted_in_bulk_when_they_can_be() {
    // One bin wider than the box: every pair within R goes in bulk.
    let p = Points::generated(400, 2, 9);
    let (counts, bulk) = by_grid(&p, 1, 2.0, 1);
    assert_eq!(counts, vec![400 * 399 / 2]);
    assert!(bulk > 400 * 399 / 4, "{bulk}");
}

#[test]
fn the_decision_brackets_the_bounds() {
    let h = Histogram::within(4, 1.0);
    assert_eq!(decide(&h, 0.0, 0.01), Decision::Bulk(0));
    assert_eq!(decide(&h, 0.3, 0.35), Decision::Bulk(2));
    // Straddling an edge (0.25^2), or R: each distance.
    assert_eq!(decide(&h, 0.06, 0.07), Decision::Each);
    assert_eq!(decide(&h, 0.9, 1.1), Decision::Each);
    // Beyond R: skipped; from R exactly the widened bound is below R,
    // so its distances are computed (a pair at R is then not counted).
    assert_eq!(decide(&h, 1.0001, 1.5), Decision::Beyond);
    assert_eq!(decide(&h, 1.0, 1.5), Decision::Each);
    // Just below an edge, by an ulp: widening keeps it out of bulk.
    let edge = 0.25f64 * 0.25;
    assert_eq!(
        decide(&h, edge.next_down(), edge.next_down()),
        Decision::Each
    );
    assert_eq!(
        decide(&h, 1.0f64.next_down(), 1.0f64.next_down()),
        Decision::Each
    );
}

#[test]
fn the_bounds_bracket_the_kernels_distance() {
    let p = Points::generated(300, 3, 11);
    let b = [0.2, 0.3, 0.4, 0.6, 0.7, 0.9];
    let inside: Vec<&[f64]> = (0..p.n)
        .map(|i| p.row(i))
        .filter(|y| (0..3).all(|k| (b[k]..=b[3 + k]).contains(&y[k])))
        .collect();
    assert!(!inside.is_empty());
    for i in 0..p.n {
        let x = p.row(i);
        for y in &inside {
            let d = d2(x, y);
            assert!(near_d2(x, &b) <= d && d <= far_d2(x, &b));
        }
    }
}
