//! Where `parsim pairs` gets its points: a `.npy` array (numpy's own
//! format, as the lessons hold points), a CSV table, an HDF5 dataset
//! (`FILE.h5:/path`), or generated from a seed. Read by rank 0 only; every
//! problem with a file is one line that names it.
//!
//! `.npy` files are read by `ndarray-npy` (maintained with ndarray: a real
//! parser of the Python-literal header, either byte order, C or Fortran
//! order, and a refusal of missing or extra data), not by hand.

use std::path::{Path, PathBuf};

use super::kernel::Points;

/// A points file as given on the command line, its format told by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PointsFile {
    Npy(PathBuf),
    Csv(PathBuf),
    Hdf5 { file: PathBuf, dataset: String },
}

impl PointsFile {
    /// `FILE.npy`, `FILE.csv` or `FILE.h5:/path/to/dataset`.
    pub fn parse(s: &str) -> Result<Self, String> {
        if let Some((file, path)) = s.split_once(":/") {
            return if file.is_empty() {
                Err(format!("--points '{s}': no file before ':/'"))
            } else {
                Ok(Self::Hdf5 {
                    file: file.into(),
                    dataset: format!("/{path}"),
                })
            };
        }
        let lower = s.to_ascii_lowercase();
        if lower.ends_with(".npy") {
            Ok(Self::Npy(s.into()))
        } else if lower.ends_with(".csv") {
            Ok(Self::Csv(s.into()))
        } else {
            Err(format!(
                "--points '{s}': cannot tell its format: give FILE.npy, FILE.csv or FILE.h5:/DATASET"
            ))
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            Self::Npy(p) | Self::Csv(p) => p,
            Self::Hdf5 { file, .. } => file,
        }
    }

    /// As messages and reports show it.
    pub fn shown(&self) -> String {
        match self {
            Self::Hdf5 { file, dataset } => format!("{}:{dataset}", file.display()),
            other => other.path().display().to_string(),
        }
    }

    /// Read the points (rank 0). Only a regular file is opened: a FIFO
    /// would block rank 0 while the other ranks wait.
    pub fn read(&self) -> Result<Points, String> {
        let cannot = |why: String| format!("cannot read points '{}': {why}", self.shown());
        match std::fs::metadata(self.path()) {
            Err(e) => return Err(cannot(e.to_string())),
            Ok(m) if !m.is_file() => return Err(cannot("not a regular file".into())),
            Ok(_) => {}
        }
        match self {
            Self::Npy(p) => std::fs::read(p)
                .map_err(|e| e.to_string())
                .and_then(|b| parse_npy(&b)),
            Self::Csv(p) => std::fs::read_to_string(p)
                .map_err(|e| e.to_string())
                .and_then(|t| parse_csv(&t)),
            Self::Hdf5 { file, dataset } => read_hdf5(file, dataset),
        }
        .map_err(cannot)
    }
}

/// A `.npy` file's bytes: a 2-D array of f64 (or f32, widened exactly),
/// either byte order, C or Fortran order; one line for anything else.
pub fn parse_npy(bytes: &[u8]) -> Result<Points, String> {
    use ndarray::Array2;
    use ndarray_npy::{ReadNpyError, ReadNpyExt};
    if !bytes.starts_with(b"\x93NUMPY") {
        return Err("not a .npy file (no \\x93NUMPY magic)".into());
    }
    let array = match Array2::<f64>::read_npy(bytes) {
        Err(ReadNpyError::WrongDescriptor(_)) => {
            Array2::<f32>::read_npy(bytes).map(|a| a.mapv(f64::from))
        }
        other => other,
    }
    .map_err(|e| match e {
        ReadNpyError::Io(e) => format!("truncated header ({e})"),
        ReadNpyError::ParseHeader(e) => {
            format!("not a .npy file or a malformed header ({})", one_line(&e))
        }
        ReadNpyError::WrongDescriptor(d) => {
            format!(
                "dtype {} is not a float ('<f8' or '<f4', either byte order)",
                one_line(&d)
            )
        }
        ReadNpyError::WrongNdim(_, got) => {
            format!("a {got}-D array: the points must be a 2-D array (N points x D coordinates)")
        }
        ReadNpyError::MissingData => {
            "the data are shorter than the header's shape says (truncated?)".into()
        }
        ReadNpyError::ExtraBytes(n) => {
            format!("{n} byte(s) after the data the header's shape describes")
        }
        ReadNpyError::LengthOverflow => "the header's shape is too large".into(),
        e => one_line(&e),
    })?;
    let (n, dim) = array.dim();
    // In the array's logical order (row by row) whatever its memory order.
    let xs = array.iter().copied().collect();
    Ok(Points { n, dim, xs })
}

/// A value as one line of a message (a header's text may hold newlines).
fn one_line(v: &dyn std::fmt::Display) -> String {
    crate::error::one_line(&v.to_string())
}

/// A CSV table: one point per line, coordinates separated by commas; the
/// header, comment and blank-line rules of [`crate::table`]. A value
/// written as an integer is taken to be that integer: one f64 cannot hold
/// (beyond 2^53) is refused, not rounded (2^62 + 1 and 2^62 would be 0
/// apart); a value in floating-point notation is rounded as usual.
pub fn parse_csv(text: &str) -> Result<Points, String> {
    let table = crate::table::read(text)?;
    let mut xs = Vec::new();
    let mut dim = None;
    for (i, (line, cells)) in table.rows.iter().enumerate() {
        let row = crate::table::numbers(cells).map_err(|_| {
            format!(
                "line {line}: '{}' is not a row of numbers",
                crate::error::one_line(&cells.join(","))
            )
        })?;
        match dim {
            Some(d) if d != row.len() => {
                return Err(format!(
                    "line {line}: {} values, the rows before have {d}",
                    row.len()
                ))
            }
            _ => dim = Some(row.len()),
        }
        if let Some(k) = (0..row.len()).find(|&k| !integer_held(&cells[k], row[k])) {
            return Err(format!(
                "line {line} (row {i}, coordinate {k}): {}",
                not_held(&cells[k], row[k])
            ));
        }
        xs.extend(row);
    }
    if table.rows.is_empty() {
        return Err("no rows of numbers".into());
    }
    Ok(Points {
        n: table.rows.len(),
        dim: dim.unwrap_or(0),
        xs,
    })
}

/// Whether `cell`, parsed as `x`, is not an integer literal or is one that
/// `x` holds exactly (one of up to 15 digits always is).
fn integer_held(cell: &str, x: f64) -> bool {
    let digits = cell.strip_prefix(['+', '-']).unwrap_or(cell);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let digits = digits.trim_start_matches('0');
    // Rust prints an f64 with precision 0 exactly, every digit.
    digits.len() <= 15 || (x.is_finite() && format!("{:.0}", x.abs()) == digits)
}

/// Why an integer `v` that f64 rounds to `x` is refused.
fn not_held(v: &dyn std::fmt::Display, x: f64) -> String {
    format!(
        "the integer {v} is not an f64 (it would be rounded to {x:.0}, and distances with \
         it): f64 holds every integer only up to 2^53 = 9007199254740992; offset the \
         coordinates, or give them as floating point to accept rounding"
    )
}

/// Integers of a dataset as f64, each exactly or the first that is not
/// refused (row, coordinate): the library would round them silently.
fn exact_f64<I: Copy + Into<i128> + std::fmt::Display>(
    values: &[I],
    dim: usize,
) -> Result<Vec<f64>, String> {
    values
        .iter()
        .enumerate()
        .map(|(k, &v)| {
            let x = v.into() as f64;
            if x as i128 == v.into() {
                Ok(x)
            } else {
                Err(format!(
                    "row {}, coordinate {}: {}",
                    k / dim,
                    k % dim,
                    not_held(&v, x)
                ))
            }
        })
        .collect()
}

/// A 2-D numeric dataset of an HDF5 file: floats converted to f64 by the
/// library (exactly: f32 widens), integers read as 64-bit and converted
/// here, exactly or refused.
fn read_hdf5(file: &Path, dataset: &str) -> Result<Points, String> {
    let one = |e: hdf5::Error| crate::error::one_line(&e.to_string());
    let f = hdf5::File::open(file).map_err(|e| format!("not an HDF5 file? {}", one(e)))?;
    let ds = f
        .dataset(dataset)
        .map_err(|_| format!("no dataset {dataset} in the file"))?;
    let shape = ds.shape();
    let [n, dim] = shape[..] else {
        return Err(format!(
            "dataset {dataset} has shape {shape:?}: the points must be 2-D (N points x D coordinates)"
        ));
    };
    use hdf5::types::TypeDescriptor as T;
    let in_dataset = |e: String| format!("dataset {dataset}: {e}");
    let xs = match ds.dtype().map_err(one)?.to_descriptor().map_err(one)? {
        T::Float(_) => ds.read_raw::<f64>().map_err(one)?,
        T::Integer(_) => exact_f64(&ds.read_raw::<i64>().map_err(one)?, dim).map_err(in_dataset)?,
        T::Unsigned(_) => {
            exact_f64(&ds.read_raw::<u64>().map_err(one)?, dim).map_err(in_dataset)?
        }
        _ => return Err(format!("dataset {dataset} does not hold numbers")),
    };
    Ok(Points { n, dim, xs })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A .npy file as numpy 1.x/2.x writes it (version 1, header padded to
    /// a multiple of 64 bytes).
    pub fn npy(descr: &str, shape: &str, fortran: bool, data: &[u8]) -> Vec<u8> {
        let mut h = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
            if fortran { "True" } else { "False" }
        );
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend((h.len() as u16).to_le_bytes());
        b.extend(h.as_bytes());
        b.extend(data);
        b
    }

    fn f8(v: &[f64]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn npy_arrays_in_either_order_and_precision() {
        let c = parse_npy(&npy("<f8", "(2, 3)", false, &f8(&[1., 2., 3., 4., 5., 6.]))).unwrap();
        assert_eq!(
            (c.n, c.dim, c.xs.clone()),
            (2, 3, vec![1., 2., 3., 4., 5., 6.])
        );
        let f = parse_npy(&npy("<f8", "(2, 3)", true, &f8(&[1., 4., 2., 5., 3., 6.]))).unwrap();
        assert_eq!(f, c);
        let s: Vec<u8> = [1f32, 2., 3., 4., 5., 6.]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(parse_npy(&npy("<f4", "(2, 3)", false, &s)).unwrap(), c);
        let big: Vec<u8> = [1f64, 2., 3., 4., 5., 6.]
            .iter()
            .flat_map(|x| x.to_be_bytes())
            .collect();
        assert_eq!(parse_npy(&npy(">f8", "(2, 3)", false, &big)).unwrap(), c);
    }

    #[test]
    fn bad_npy_files_say_what_is_wrong() {
        let ok = f8(&[1., 2., 3., 4.]);
        let mut extra = ok.clone();
        extra.extend([0u8; 8]);
        let mut open_header = npy("<f8", "(2, 2)", false, &ok);
        let close = open_header.iter().position(|&c| c == b'}').unwrap();
        open_header[close] = b' ';
        let cases: [(Vec<u8>, &str); 8] = [
            (b"PK\x03\x04".to_vec(), "no \\x93NUMPY magic"),
            (
                npy("<f8", "(2, 2)", false, &ok[..24]),
                "shorter than the header's shape says",
            ),
            (
                npy("<i8", "(2, 2)", false, &ok),
                "dtype '<i8' is not a float",
            ),
            (npy("<f8", "(4,)", false, &ok), "must be a 2-D array"),
            (b"\x93NUMPY\x01\x00\xff\x00{".to_vec(), "truncated header"),
            (
                npy("<f8", "(2, 2)", false, &extra),
                "8 byte(s) after the data",
            ),
            (open_header, "malformed header"),
            (npy("|b1", "(2, 2)", false, &ok[..4]), "is not a float"),
        ];
        for (bytes, want) in cases {
            let err = parse_npy(&bytes).unwrap_err();
            assert!(err.contains(want), "{err} lacks {want}");
        }
    }

    #[test]
    fn csv_tables_with_header_comments_and_bad_rows() {
        let p = parse_csv("x,y\n# a comment\n0, 1\n\n2.5,-3e2\n").unwrap();
        assert_eq!((p.n, p.dim, p.xs), (2, 2, vec![0., 1., 2.5, -300.]));
        assert!(parse_csv("1,2\n3\n")
            .unwrap_err()
            .contains("line 2: 1 values, the rows before have 2"));
        assert!(parse_csv("1,2\n3,x\n")
            .unwrap_err()
            .contains("line 2: '3,x' is not a row"));
        assert!(parse_csv("x,y\n").unwrap_err().contains("no rows"));
        // A NaN parses: the run refuses it with its row and column.
        assert!(parse_csv("1,nan\n").unwrap().xs[1].is_nan());
    }

    #[test]
    fn integers_beyond_what_f64_holds_are_refused() {
        // 2^62 + 1 would read as 2^62: the two points 0 apart.
        let err = parse_csv("x,y\n4611686018427387904,0\n4611686018427387905,0\n").unwrap_err();
        assert!(
            err.starts_with("line 3 (row 1, coordinate 0): the integer 4611686018427387905 is not an f64 (it would be rounded to 4611686018427387904"),
            "{err}"
        );
        assert!(parse_csv("1,-9007199254740993\n")
            .unwrap_err()
            .contains("coordinate 1"));
        assert!(parse_csv("1,1000000000000000000000000000000000000000000000000000\n").is_err());
        // What f64 holds exactly passes, as does floating-point notation.
        let p = parse_csv(
            "4611686018427387904,-9007199254740992,+0007\n1e300,4611686018427387905.0,-0\n",
        )
        .unwrap();
        assert_eq!(p.xs[..3], [2f64.powi(62), -(2f64.powi(53)), 7.0]);
        assert_eq!(p.xs[4], 2f64.powi(62));
        // Integer datasets.
        let big = [0i64, 0, (1 << 62) + 1, 0];
        assert_eq!(
            exact_f64(&big, 2).unwrap_err(),
            format!("row 1, coordinate 0: {}", not_held(&big[2], 2f64.powi(62)))
        );
        assert_eq!(
            exact_f64(&[u64::MAX], 1).unwrap_err().split(':').next(),
            Some("row 0, coordinate 0")
        );
        assert_eq!(
            exact_f64(&[1i64 << 62, -3], 2),
            Ok(vec![2f64.powi(62), -3.0])
        );
        assert_eq!(exact_f64(&[1u64 << 63], 1), Ok(vec![2f64.powi(63)]));
    }

    #[test]
    fn the_format_is_told_by_the_name() {
        assert_eq!(
            PointsFile::parse("a.npy"),
            Ok(PointsFile::Npy("a.npy".into()))
        );
        assert_eq!(
            PointsFile::parse("B.CSV"),
            Ok(PointsFile::Csv("B.CSV".into()))
        );
        assert_eq!(
            PointsFile::parse("run.h5:/pairs/x"),
            Ok(PointsFile::Hdf5 {
                file: "run.h5".into(),
                dataset: "/pairs/x".into()
            })
        );
        assert!(PointsFile::parse("pts.txt")
            .unwrap_err()
            .contains("cannot tell its format"));
        assert!(PointsFile::parse(":/x").is_err());
    }
}
