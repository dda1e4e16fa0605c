//! Where the time of `parsim pairs` goes on one core, no MPI: the kernel
//! alone, then with each consumer. `cargo run --release --example pairs_kernel -- N D`.
use parsim::pairs::kernel::{Columns, Histogram, Nearest, Piece, Points, Tally};
use parsim::pairs::meet::meet;
use std::time::Instant;

fn main() {
    let a: Vec<usize> = std::env::args()
        .skip(1)
        .map(|s| s.parse().unwrap())
        .collect();
    let (n, dim) = (
        a.first().copied().unwrap_or(2000),
        a.get(1).copied().unwrap_or(2),
    );
    let pts = Points::generated(n, dim, 7);
    let cols = Columns::from_rows(0, dim, &pts.xs);
    let piece = Piece {
        rows: 0..n,
        cols: 0..n,
        diag: true,
    };
    let mut buf = Vec::new();
    for (label, bins) in [("neighbours", 0), ("neighbours + histogram", 64)] {
        let mut best = f64::INFINITY;
        for _ in 0..20 {
            let mut nn = Nearest::new(n);
            let mut h = Histogram::new(bins.max(1), pts.diagonal());
            let mut t = Tally {
                nearest: &mut nn,
                histogram: (bins > 0).then_some(&mut h),
                strip: None,
                n_total: n,
            };
            let t0 = Instant::now();
            meet(&pts.xs, 0, &cols, &piece, &mut t, &mut buf);
            best = best.min(t0.elapsed().as_secs_f64());
        }
        let pairs = (n * (n - 1) / 2) as f64;
        println!(
            "{label:<26} {:8.3} ms  {:6.3} ns/pair",
            best * 1e3,
            best / pairs * 1e9
        );
    }
}
