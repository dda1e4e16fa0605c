//! Point sets for the pairs tests: uniform, clustered, duplicate-heavy and
//! all-on-a-line, as CSV files whose values read back as their bits.

use std::path::Path;

/// A small deterministic generator.
pub fn lcg(s: &mut u64) -> f64 {
    *s = s
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*s >> 11) as f64 / (1u64 << 53) as f64
}

/// The points of set `kind` (n x dim) as CSV, every value in the digits
/// that read back as its bits.
pub fn points_csv(dir: &Path, kind: &str, n: usize, dim: usize) -> String {
    let mut s = 5 + dim as u64;
    let mut rows = Vec::new();
    for i in 0..n {
        let row: Vec<f64> = match kind {
            "uniform" => (0..dim).map(|_| lcg(&mut s)).collect(),
            // Gaussian-ish blobs around 5 centres.
            "blobs" => (0..dim)
                .map(|k| {
                    let g: f64 = (0..4).map(|_| lcg(&mut s)).sum::<f64>() - 2.0;
                    ((i % 5) * (k + 1)) as f64 + 0.03 * g
                })
                .collect(),
            // A 3-wide lattice: most points repeated many times.
            "duplicates" => (0..dim).map(|_| (lcg(&mut s) * 3.0).floor()).collect(),
            // All on a line, many equally spaced (ties everywhere).
            "line" => {
                let t = (lcg(&mut s) * 200.0).floor() * 0.125;
                (0..dim).map(|k| t * (k as f64 + 1.0) - 3.0).collect()
            }
            _ => unreachable!(),
        };
        rows.push(
            row.iter()
                .map(|x| format!("{x:?}"))
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    let name = format!("{kind}_{dim}.csv");
    std::fs::write(dir.join(&name), rows.join("\n") + "\n").unwrap();
    name
}
