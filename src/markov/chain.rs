//! The user's transition matrix (`parsim markov --matrix`): read from the
//! option's text or a CSV/.npy file, checked to be stochastic, and what
//! its graph says of it (irreducible, aperiodic). Pure: no MPI.
//!
//! A matrix is refused, never repaired: a row that does not sum to 1
//! within [`row_tolerance`] names its row and its sum, and is not
//! renormalised (a silently rescaled chain is another chain than the one
//! the user wrote).

use std::path::{Path, PathBuf};

/// States a matrix may have: the validation's dense solves are O(n^3) on
/// rank 0 (1024 states: about a second) and every chain's counts are n
/// numbers gathered to rank 0.
pub const MAX_STATES: usize = 1024;

/// Largest matrix file read (bytes): a 1024 x 1024 CSV of 17-digit values
/// is about 20 MB; anything far larger is not a matrix parsim can take.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// Where a matrix came from, as the report, the file and messages show it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Source {
    /// Today's 3-state chain (no `--matrix`).
    Builtin,
    /// `--matrix 'p11,p12;p21,p22'`: its text.
    Inline(String),
    /// `--matrix FILE.csv|FILE.npy`.
    File(PathBuf),
}

impl Source {
    /// The option as messages quote it.
    pub fn shown(&self) -> String {
        match self {
            Self::Builtin => "the built-in chain".into(),
            Self::Inline(t) => format!("--matrix '{}'", crate::error::one_line(t)),
            Self::File(p) => format!("--matrix '{}'", p.display()),
        }
    }
}

/// A checked row-stochastic matrix: `p[i * n + j]` the probability of
/// moving from state i to state j in a day. Serialisable: rank 0 reads
/// it in the inputs step and every rank gets the same bits (serde_json's
/// float round trip is exact).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Matrix {
    pub n: usize,
    pub p: Vec<f64>,
    pub source: Source,
    /// FNV-1a 64 of the file's bytes or the option's text (not a
    /// cryptographic hash: it tells two inputs apart, as a record).
    pub checksum: u64,
}

/// How far a row's sum may be from 1: 1e-12 per state (a row of n
/// decimals rounded to doubles sums within n * 1.1e-16 of its exact sum;
/// a row written with 6 digits does not pass, which is meant).
pub fn row_tolerance(n: usize) -> f64 {
    1e-12 * n as f64
}

/// FNV-1a, 64 bits.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `--matrix VALUE`: a file when it ends in `.csv` or `.npy` (any case),
/// else rows of numbers separated by `;`, entries by `,`.
pub fn read(value: &str) -> Result<Matrix, String> {
    let lower = value.trim().to_ascii_lowercase();
    if lower.ends_with(".csv") || lower.ends_with(".npy") {
        let path = PathBuf::from(value.trim());
        let source = Source::File(path.clone());
        let (rows, bytes) = read_file(&path).map_err(|e| format!("{}: {e}", source.shown()))?;
        return checked(rows, source, fnv1a64(&bytes));
    }
    let source = Source::Inline(value.to_string());
    let rows = parse_inline(value).map_err(|e| {
        let t = value.trim();
        if t.is_empty() || t.contains([',', ';']) || t.parse::<f64>().is_ok() {
            format!("{}: {e}", source.shown())
        } else {
            format!(
                "{}: neither rows of numbers ('0.9,0.1;0.5,0.5') nor a file FILE.csv or FILE.npy",
                source.shown()
            )
        }
    })?;
    checked(rows, source, fnv1a64(value.as_bytes()))
}

/// Rows separated by `;`, entries by `,`, spaces allowed around both.
pub fn parse_inline(text: &str) -> Result<Vec<Vec<f64>>, String> {
    if text.trim().is_empty() {
        return Err("empty: give rows such as '0.9,0.1;0.5,0.5'".into());
    }
    text.split(';')
        .enumerate()
        .map(|(i, row)| {
            if row.trim().is_empty() {
                return Err(format!("row {i} is empty (rows are separated by ';')"));
            }
            row.split(',')
                .enumerate()
                .map(|(j, cell)| {
                    cell.trim().parse::<f64>().map_err(|_| {
                        format!(
                            "row {i}, entry {j}: '{}' is not a number",
                            crate::error::one_line(cell.trim())
                        )
                    })
                })
                .collect()
        })
        .collect()
}

/// A matrix file's rows and its bytes (for the checksum). Only a regular
/// file is opened, and only up to [`MAX_FILE_BYTES`].
fn read_file(path: &Path) -> Result<(Vec<Vec<f64>>, Vec<u8>), String> {
    let cannot = |e: std::io::Error| format!("cannot read it: {e}");
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{} bytes: more than a matrix of {MAX_STATES} states needs",
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(cannot)?;
    let npy = path
        .to_string_lossy()
        .to_ascii_lowercase()
        .ends_with(".npy");
    let rows = if npy {
        parse_npy(&bytes)?
    } else {
        let text = std::str::from_utf8(&bytes).map_err(|_| "not a text (UTF-8) CSV file")?;
        parse_csv(text)?
    };
    Ok((rows, bytes))
}

/// A CSV matrix: one row per line (the rules of [`crate::table`]: `#`
/// comments, blank lines, an optional header of names).
pub fn parse_csv(text: &str) -> Result<Vec<Vec<f64>>, String> {
    let table = crate::table::read(text)?;
    table
        .rows
        .iter()
        .enumerate()
        .map(|(i, (line, cells))| {
            crate::table::numbers(cells).map_err(|cell| {
                format!(
                    "line {line} (row {i}): '{}' is not a number",
                    crate::error::one_line(&cell)
                )
            })
        })
        .collect()
}

/// A `.npy` matrix: a 2-D array of float64 (C or Fortran order, either
/// byte order), read by `ndarray-npy`; anything else is one line.
pub fn parse_npy(bytes: &[u8]) -> Result<Vec<Vec<f64>>, String> {
    use ndarray::Array2;
    use ndarray_npy::{ReadNpyError, ReadNpyExt};
    if !bytes.starts_with(b"\x93NUMPY") {
        return Err("not a .npy file (no \\x93NUMPY magic)".into());
    }
    let array = Array2::<f64>::read_npy(bytes).map_err(|e| match e {
        ReadNpyError::Io(e) => format!("truncated header ({e})"),
        ReadNpyError::WrongDescriptor(d) => format!(
            "dtype {} is not float64 ('<f8' or '>f8')",
            crate::error::one_line(&d.to_string())
        ),
        ReadNpyError::WrongNdim(_, got) => {
            format!("a {got}-D array: a transition matrix is a 2-D array (n x n)")
        }
        ReadNpyError::MissingData => {
            "the data are shorter than the header's shape says (truncated?)".into()
        }
        ReadNpyError::ExtraBytes(n) => {
            format!("{n} byte(s) after the data the header's shape describes")
        }
        e => crate::error::one_line(&e.to_string()),
    })?;
    Ok(array.rows().into_iter().map(|r| r.to_vec()).collect())
}

/// The rows as a checked matrix: square, 2 to [`MAX_STATES`] states,
/// every entry finite in [0, 1], every row summing to 1 within
/// [`row_tolerance`]. The message names the source and the first bad row.
pub fn checked(rows: Vec<Vec<f64>>, source: Source, checksum: u64) -> Result<Matrix, String> {
    let bad = |why: String| format!("{}: {why}", source.shown());
    let n = rows.len();
    if n < 2 {
        return Err(bad(format!("{n} row(s): a chain needs at least 2 states")));
    }
    if n > MAX_STATES {
        return Err(bad(format!(
            "{n} states: at most {MAX_STATES} (the validation's solves are O(n^3) on rank 0)"
        )));
    }
    let tol = row_tolerance(n);
    let mut p = Vec::with_capacity(n * n);
    for (i, row) in rows.iter().enumerate() {
        if row.len() != n {
            return Err(bad(format!(
                "row {i} has {} entries, not {n}: the matrix must be square ({n} rows)",
                row.len()
            )));
        }
        if let Some(j) = row
            .iter()
            .position(|x| !(x.is_finite() && (0.0..=1.0).contains(x)))
        {
            return Err(bad(format!(
                "row {i}, entry {j} is {}: a probability is a finite number in [0, 1]",
                row[j]
            )));
        }
        let sum: f64 = row.iter().sum();
        if (sum - 1.0).abs() > tol {
            return Err(bad(format!(
                "row {i} sums to {sum:.17}, not 1 (off by {:.2e}, tolerance {tol:.0e} = 1e-12 \
                 x {n} states); rows are not renormalised: correct the row, or write its entries with more digits",
                sum - 1.0
            )));
        }
        p.extend_from_slice(row);
    }
    Ok(Matrix {
        n,
        p,
        source,
        checksum,
    })
}

/// What the matrix's graph (an edge i -> j where p_ij > 0) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Every state reaches every other, period 1: one stationary
    /// distribution, which the chain's law converges to.
    Ergodic,
    /// State `from` never reaches state `to`.
    Reducible { from: usize, to: usize },
    /// Irreducible with period `period` > 1.
    Periodic { period: usize },
}

impl Shape {
    /// Why the chain is not validated, in a sentence (None when it is).
    pub fn not_validated(&self) -> Option<String> {
        match *self {
            Self::Ergodic => None,
            Self::Reducible { from, to } => Some(format!(
                "the chain is reducible (state {from} never reaches state {to}): no unique \
                 stationary distribution to compare with"
            )),
            Self::Periodic { period } => Some(format!(
                "the chain is periodic (period {period}): its law does not converge, and the \
                 scores assume an aperiodic chain"
            )),
        }
    }
}

/// States reachable from `from` (breadth first), with their distance.
fn distances(m: &Matrix, from: usize, reverse: bool) -> Vec<Option<usize>> {
    let n = m.n;
    let edge = |i: usize, j: usize| if reverse { m.p[j * n + i] } else { m.p[i * n + j] } > 0.0;
    let mut dist = vec![None; n];
    dist[from] = Some(0);
    let mut queue = std::collections::VecDeque::from([from]);
    while let Some(i) = queue.pop_front() {
        for j in 0..n {
            if dist[j].is_none() && edge(i, j) {
                dist[j] = dist[i].map(|d| d + 1);
                queue.push_back(j);
            }
        }
    }
    dist
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Irreducible (state 0 reaches every state and every state reaches 0)
/// and aperiodic (the gcd of level[i] + 1 - level[j] over the edges i ->
/// j, levels the distances from state 0, is 1).
pub fn shape(m: &Matrix) -> Shape {
    let n = m.n;
    let down = distances(m, 0, false);
    if let Some(to) = down.iter().position(Option::is_none) {
        return Shape::Reducible { from: 0, to };
    }
    if let Some(from) = distances(m, 0, true).iter().position(Option::is_none) {
        return Shape::Reducible { from, to: 0 };
    }
    let level = |i: usize| down[i].unwrap_or(0);
    let mut period = 0;
    for i in 0..n {
        for j in 0..n {
            if m.p[i * n + j] > 0.0 {
                period = gcd(period, (level(i) + 1).abs_diff(level(j)));
            }
        }
    }
    if period == 1 {
        Shape::Ergodic
    } else {
        Shape::Periodic { period }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inline(t: &str) -> Result<Matrix, String> {
        read(t)
    }

    // A .npy file as numpy writes it: the pairs reader's test helper.
    use crate::pairs::points::tests::npy;

    #[test]
    fn inline_rows_are_read_and_checked() {
        let m = inline("0.9, 0.1; 0.5,0.5").unwrap();
        assert_eq!((m.n, m.p.clone()), (2, vec![0.9, 0.1, 0.5, 0.5]));
        assert_eq!(m.checksum, fnv1a64(b"0.9, 0.1; 0.5,0.5"));
        for (text, words) in [
            ("", "empty"),
            ("m.h5", "neither rows of numbers"),
            ("1", "1 row(s): a chain needs at least 2 states"),
            ("0.5,0.5;", "row 1 is empty"),
            ("0.5,0.5;0.5", "row 1 has 1 entries, not 2"),
            ("0.5,0.5,0;0.5,0.5,0", "row 0 has 3 entries, not 2"),
            ("0.5,x;0.5,0.5", "row 0, entry 1: 'x' is not a number"),
            ("1.5,-0.5;0.5,0.5", "row 0, entry 0 is 1.5"),
            ("0.5,0.5;NaN,0.5", "row 1, entry 0 is NaN"),
            ("0.5,0.5;0.3,0.6", "row 1 sums to 0.8999"),
            ("0.5,0.5;0.5,0.500001", "row 1 sums to 1.000001"),
        ] {
            let e = inline(text).unwrap_err();
            assert!(
                e.contains(words) && e.starts_with("--matrix '"),
                "{text}: {e}"
            );
        }
        // Within 1e-12 per state: accepted, kept as written.
        let m = inline("0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1;1,0,0,0,0,0,0,0,0,0;1,0,0,0,0,0,0,0,0,0;1,0,0,0,0,0,0,0,0,0;1,0,0,0,0,0,0,0,0,0;1,0,0,0,0,0,0,0,0,0;1,0,0,0,0,0,0,0,0,0;1,0,0,0,0,0,0,0,0,0;1,0,0,0,0,0,0,0,0,0;1,0,0,0,0,0,0,0,0,0").unwrap();
        assert_eq!(m.p[0], 0.1);
    }

    #[test]
    fn csv_and_npy_give_the_inline_rows() {
        let csv = parse_csv("# a chain\n0.9,0.1\n\n0.5,0.5 # second\n").unwrap();
        assert_eq!(csv, parse_inline("0.9,0.1;0.5,0.5").unwrap());
        let e = parse_csv("0.9,0.1\n0.5,oops\n").unwrap_err();
        assert!(e.contains("line 2 (row 1): 'oops'"), "{e}");
        let f8 = |v: &[f64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let data = f8(&[0.9, 0.1, 0.5, 0.5]);
        assert_eq!(parse_npy(&npy("<f8", "(2, 2)", false, &data)).unwrap(), csv);
        let e = parse_npy(&npy("<f8", "(2, 2)", false, &data[..24])).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
        let e = parse_npy(&npy("<f4", "(2, 2)", false, &data[..16])).unwrap_err();
        assert!(e.contains("not float64"), "{e}");
        let e = parse_npy(&npy("<f8", "(4,)", false, &data)).unwrap_err();
        assert!(e.contains("1-D array"), "{e}");
        assert!(parse_npy(b"0.9,0.1").unwrap_err().contains("magic"));
    }

    #[test]
    fn the_graph_tells_ergodic_reducible_and_periodic_chains() {
        let m = |t: &str| shape(&inline(t).unwrap());
        assert_eq!(m("0.9,0.1;0.5,0.5"), Shape::Ergodic);
        assert_eq!(m("0,1;1,0"), Shape::Periodic { period: 2 });
        assert_eq!(m("0,1,0;0,0,1;1,0,0"), Shape::Periodic { period: 3 });
        assert_eq!(m("0,1,0;0,0,1;0.5,0.5,0"), Shape::Ergodic);
        assert_eq!(m("1,0;0.5,0.5"), Shape::Reducible { from: 0, to: 1 });
        assert_eq!(m("0.5,0.5;0,1"), Shape::Reducible { from: 1, to: 0 });
        assert!(m("0,1;1,0").not_validated().unwrap().contains("period 2"));
    }
}
