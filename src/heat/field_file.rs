//! An initial field from a file (`--init FILE.npy`, `--init
//! FILE.h5:/dataset`): `[ny, nx]` in 2D, `[nz, ny, nx]` in 3D (`--nz`).
//! In the inputs step rank 0 reads its shape and type
//! and goes through its values strip by strip ([`FieldMeta::read`]):
//! every one must be a finite number, and their checksum is kept, so
//! `--dry-run` refuses what the run refuses and shows the checksum. The
//! plan takes the grid from the shape; each rank then reads only its own
//! block ([`read_block`], [`read_block3`]): a hyperslab of the HDF5 dataset (serial HDF5,
//! the file opened read-only by every rank), or, for `.npy`, one
//! positioned read per row segment, and the blocks' checksum must be the
//! one rank 0 found. No rank ever holds the whole field (rank 0 a strip
//! of [`super::layout::strip_rows`] rows at a time, a 3D field plane by
//! plane). A 3D field's cells are numbered `(k ny + j) nx + i`, its rows
//! `k ny + j`: the same checksum as a 3D run's (`super::output3d`).
//!
//! Why not `ndarray-npy` (which `pairs` uses): it reads whole arrays;
//! here the header is all rank 0 reads, and each rank seeks to its rows.

use std::os::unix::fs::FileExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::config::InitFile;
use super::decomp::Block;
use super::decomp3d::Block3;
use super::kernel::Field;
use crate::error::{Failure, Outcome};

/// A field file's element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Element {
    F64,
    F32,
}

impl Element {
    fn size(self) -> usize {
        match self {
            Element::F64 => 8,
            Element::F32 => 4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Element::F64 => "f64",
            Element::F32 => "f32",
        }
    }
}

/// What the inputs step learns of a field file: enough for every rank to
/// read its block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMeta {
    /// As messages name it.
    pub shown: String,
    /// [ny, nx], or [nz, ny, nx] for a 3D field.
    pub shape: Vec<usize>,
    pub element: Element,
    /// `.npy`: the byte offset of the data and whether it is big-endian.
    pub npy: Option<(u64, bool)>,
    /// The checksum of the values (`super::meta::checksum`, as f64).
    pub checksum: u64,
}

impl FieldMeta {
    /// Rank 0: the shape and type of the field `file` names, or one line
    /// naming the file: missing, not a regular file, not a 2-D or 3-D
    /// array of f64 or f32, Fortran order, or shorter (or longer) than its
    /// shape. Whether it is the run's dimension is [`Self::dimensions`]'.
    pub fn read(file: &InitFile) -> Outcome<Self> {
        let shown = file.shown();
        let fail = |why: String| Failure::usage(format!("--init '{shown}': {why}"));
        match std::fs::metadata(&file.path) {
            Err(e) => return Err(fail(format!("cannot read it ({e})"))),
            Ok(m) if !m.is_file() => return Err(fail("not a regular file".into())),
            Ok(_) => {}
        }
        let (shape, element, npy) = match &file.dataset {
            None => {
                let mut bytes = Vec::new();
                std::fs::File::open(&file.path)
                    .and_then(|f| {
                        std::io::Read::read_to_end(
                            &mut std::io::Read::take(f, HEADER_MAX),
                            &mut bytes,
                        )
                    })
                    .map_err(|e| fail(format!("cannot read it ({e})")))?;
                let size = std::fs::metadata(&file.path).map_or(0, |m| m.len());
                let h = parse_npy_header(&bytes).map_err(&fail)?;
                h.check_size(size).map_err(&fail)?;
                (h.shape, h.element, Some((h.offset, h.big_endian)))
            }
            Some(dataset) => {
                let (shape, element) = h5_meta(&file.path, dataset).map_err(&fail)?;
                (shape, element, None)
            }
        };
        if shape.contains(&0) {
            return Err(fail(format!("an empty field {shape:?}")));
        }
        let mut meta = Self {
            shown: shown.clone(),
            shape,
            element,
            npy,
            checksum: 0,
        };
        meta.checksum = meta.scan(file).map_err(fail)?;
        Ok(meta)
    }

    /// The field's shape for a run of `dims` dimensions (2 or 3), or one
    /// line saying it is the other's: a 2D run takes `[ny, nx]`, a 3D run
    /// (`--nz`) `[nz, ny, nx]`.
    pub fn dimensions(&self, dims: usize) -> Outcome<&[usize]> {
        let kind = if self.npy.is_some() {
            "array"
        } else {
            "dataset"
        };
        let (shape, shown) = (&self.shape, &self.shown);
        match (self.shape.len(), dims) {
            (d, want) if d == want => Ok(&self.shape),
            (3, _) => Err(Failure::usage(format!(
                "--init '{shown}': a 3-D {kind} {shape:?}: the field must be 2-D [ny, nx] in a \
                 2D run; give --nz {} to run it in 3D",
                shape[0]
            ))),
            _ => Err(Failure::usage(format!(
                "--init '{shown}': a 2-D {kind} {shape:?}: the field must be 3-D [nz, ny, nx] in \
                 a 3D run (--nz)"
            ))),
        }
    }

    /// `[planes, ny, nx]`: a 2D field is one plane.
    fn planes(&self) -> [usize; 3] {
        match self.shape[..] {
            [nz, ny, nx] => [nz, ny, nx],
            [ny, nx] => [1, ny, nx],
            _ => unreachable!("FieldMeta::read takes 2-D and 3-D fields only"),
        }
    }

    /// Rank 0: the values strip by strip (plane by plane in 3D): the first
    /// that is not a finite number refused, by its cell; the checksum of
    /// them all.
    fn scan(&self, file: &InitFile) -> Result<u64, String> {
        let [nz, ny, nx] = self.planes();
        let step = super::layout::strip_rows(nx);
        let source = match (&file.dataset, self.npy) {
            (Some(d), _) => Source::H5(
                hdf5::File::open(&file.path)
                    .and_then(|f| f.dataset(d))
                    .map_err(|e| e.to_string())?,
            ),
            (None, Some(at)) => Source::Npy(
                std::fs::File::open(&file.path).map_err(|e| e.to_string())?,
                at,
            ),
            (None, None) => return Err("no .npy header was read".into()),
        };
        let mut sum = 0u64;
        for (plane, r) in (0..nz).flat_map(|p| (0..ny).step_by(step).map(move |r| (p, r))) {
            let rows = r..(r + step).min(ny);
            let strip = source.rows(self, plane, rows.clone())?;
            if let Some(k) = strip.iter().position(|v| !v.is_finite()) {
                let (j, i) = (rows.start + k / nx, k % nx);
                let at = match self.shape.len() {
                    3 => format!("[{plane}, {j}, {i}] ([z, y, x] indices)"),
                    _ => format!("[{j}, {i}] ([row, column])"),
                };
                return Err(format!(
                    "the value at {at} is {}: every value must be a finite number",
                    strip[k]
                ));
            }
            let flat = plane * ny + rows.start..plane * ny + rows.end;
            sum = sum.wrapping_add(super::meta::strip_sum(&strip, flat, nx));
        }
        Ok(sum)
    }
}

/// A field file opened for reading rows.
enum Source {
    H5(hdf5::Dataset),
    /// With the data's offset and byte order.
    Npy(std::fs::File, (u64, bool)),
}

impl Source {
    /// Whole rows `rows` of the field (of its plane `plane` in 3D, 0 in
    /// 2D), as f64.
    fn rows(
        &self,
        meta: &FieldMeta,
        plane: usize,
        rows: std::ops::Range<usize>,
    ) -> Result<Vec<f64>, String> {
        let cannot = |e: String| format!("cannot read rows {}..{} ({e})", rows.start, rows.end);
        let [_, ny, nx] = meta.planes();
        match self {
            Source::H5(ds) => {
                let a: ndarray::Array2<f64> = if meta.shape.len() == 3 {
                    ds.read_slice_2d(ndarray::s![plane, rows.clone(), ..])
                } else {
                    ds.read_slice_2d(ndarray::s![rows.clone(), ..])
                }
                .map_err(|e| cannot(e.to_string()))?;
                Ok(a.iter().copied().collect())
            }
            Source::Npy(f, (offset, big)) => {
                let size = meta.element.size();
                let mut bytes = vec![0u8; rows.len() * nx * size];
                let at = offset + ((plane * ny + rows.start) * nx * size) as u64;
                f.read_exact_at(&mut bytes, at)
                    .map_err(|e| cannot(e.to_string()))?;
                Ok(bytes
                    .chunks_exact(size)
                    .map(|b| decode(b, meta.element, *big))
                    .collect())
            }
        }
    }
}

/// The most of a `.npy` file's start read for its header.
const HEADER_MAX: u64 = 1 << 16;

/// A `.npy` header: the shape, element and where the data start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    /// [ny, nx] or [nz, ny, nx].
    pub shape: Vec<usize>,
    pub element: Element,
    pub big_endian: bool,
    pub offset: u64,
}

impl NpyHeader {
    /// The file's `size` must be the header's and the data's exactly.
    fn check_size(&self, size: u64) -> Result<(), String> {
        let cells = self.shape.iter().fold(1u128, |c, &n| c * n as u128);
        let data = cells * self.element.size() as u128;
        let want = self.offset as u128 + data;
        match (size as u128).cmp(&want) {
            std::cmp::Ordering::Less => Err(format!(
                "truncated: {} bytes of data, its shape {:?} of {} needs {data}",
                size.saturating_sub(self.offset),
                self.shape,
                self.element.name()
            )),
            std::cmp::Ordering::Greater => Err(format!(
                "{} byte(s) after the data its shape {:?} describes",
                size as u128 - want,
                self.shape
            )),
            std::cmp::Ordering::Equal => Ok(()),
        }
    }
}

/// Parse the start of a `.npy` file: magic, version, header length and
/// the header's dict (`descr`, `fortran_order`, `shape`).
pub fn parse_npy_header(bytes: &[u8]) -> Result<NpyHeader, String> {
    if !bytes.starts_with(b"\x93NUMPY") || bytes.len() < 10 {
        return Err("not a .npy file (no \\x93NUMPY magic)".into());
    }
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!(".npy format version {v} is not known")),
    };
    let dict = bytes
        .get(start..start + len)
        .ok_or("truncated: the header is cut short")?;
    let dict = String::from_utf8_lossy(dict);
    let descr = dict_value(&dict, "descr").ok_or("no 'descr' in the header")?;
    let (element, big_endian) = match descr.trim_matches(['\'', '"']) {
        "<f8" => (Element::F64, false),
        ">f8" => (Element::F64, true),
        "<f4" => (Element::F32, false),
        ">f4" => (Element::F32, true),
        d => {
            return Err(format!(
                "dtype '{d}' is not f64 or f32 ('<f8', '>f8', '<f4' or '>f4')"
            ))
        }
    };
    match dict_value(&dict, "fortran_order").as_deref() {
        Some("False") => {}
        Some("True") => {
            return Err("Fortran order: save it in C order (numpy.ascontiguousarray)".into())
        }
        _ => return Err("no 'fortran_order' False in the header".into()),
    }
    let shape = dict_value(&dict, "shape").ok_or("no 'shape' in the header")?;
    let dims: Vec<usize> = shape
        .trim_matches(['(', ')'])
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.parse()
                .map_err(|_| format!("shape {shape} is not whole numbers"))
        })
        .collect::<Result<_, _>>()?;
    if !(2..=3).contains(&dims.len()) {
        return Err(format!(
            "a {}-D array {shape}: the field must be 2-D [ny, nx] (3-D [nz, ny, nx] with --nz)",
            dims.len()
        ));
    }
    Ok(NpyHeader {
        shape: dims,
        element,
        big_endian,
        offset: (start + len) as u64,
    })
}

/// The value of `key` in a Python dict literal's text: a quoted string,
/// `True`/`False`, or a parenthesised tuple.
fn dict_value(dict: &str, key: &str) -> Option<String> {
    let at = dict
        .find(&format!("'{key}'"))
        .or_else(|| dict.find(&format!("\"{key}\"")))?;
    let rest = dict[at + key.len() + 2..].trim_start().strip_prefix(':')?;
    let rest = rest.trim_start();
    let end = match rest.chars().next()? {
        '(' => rest.find(')')? + 1,
        q @ ('\'' | '"') => rest[1..].find(q)? + 2,
        _ => rest.find([',', '}']).unwrap_or(rest.len()),
    };
    Some(rest[..end].trim().to_string())
}

/// An HDF5 dataset's shape and element type (2-D or 3-D, f64 or f32).
fn h5_meta(path: &Path, dataset: &str) -> Result<(Vec<usize>, Element), String> {
    let file = hdf5::File::open(path)
        .map_err(|_| "cannot open it as HDF5 (truncated or corrupt?)".to_string())?;
    let ds = file
        .dataset(dataset)
        .map_err(|_| format!("no dataset {dataset}"))?;
    use hdf5::types::{FloatSize, TypeDescriptor};
    let element = match ds.dtype().and_then(|t| t.to_descriptor()) {
        Ok(TypeDescriptor::Float(FloatSize::U8)) => Element::F64,
        Ok(TypeDescriptor::Float(FloatSize::U4)) => Element::F32,
        Ok(t) => return Err(format!("its type {t} is not f64 or f32")),
        Err(e) => return Err(format!("its type cannot be read ({e})")),
    };
    match ds.shape() {
        s if (2..=3).contains(&s.len()) => Ok((s, element)),
        s => Err(format!(
            "a {}-D dataset {s:?}: the field must be 2-D [ny, nx] (3-D [nz, ny, nx] with --nz)",
            s.len()
        )),
    }
}

/// This rank's block of the field into `u`'s interior.
pub fn read_block(
    file: &InitFile,
    meta: &FieldMeta,
    block: &Block,
    u: &mut Field,
) -> anyhow::Result<()> {
    match (&file.dataset, meta.npy) {
        (Some(dataset), _) => {
            // Not `super::gather::read_block`: the result file's modules
            // plan 3D runs, whose plans hold a `FieldMeta`.
            let ds = hdf5::File::open(&file.path)?.dataset(dataset)?;
            let data: ndarray::Array2<f64> =
                ds.read_slice_2d(ndarray::s![block.rows.clone(), block.cols.clone()])?;
            for ((j, i), v) in data.indexed_iter() {
                u.set(i, j, *v);
            }
            Ok(())
        }
        (None, Some((offset, big))) => read_npy_block(&file.path, meta, (offset, big), block, u),
        (None, None) => anyhow::bail!("no .npy header was read"),
    }
}

/// One positioned read per row of the block, each converted to f64.
fn read_npy_block(
    path: &Path,
    meta: &FieldMeta,
    (offset, big): (u64, bool),
    block: &Block,
    u: &mut Field,
) -> anyhow::Result<()> {
    let f = std::fs::File::open(path)?;
    let size = meta.element.size();
    let nx = meta.planes()[2];
    let mut row = vec![0u8; block.nx() * size];
    for j in 0..block.ny() {
        let first = (block.rows.start + j) * nx + block.cols.start;
        f.read_exact_at(&mut row, offset + (first * size) as u64)?;
        for (i, b) in row.chunks_exact(size).enumerate() {
            u.set(i, j, decode(b, meta.element, big));
        }
    }
    Ok(())
}

/// This rank's 3D block of the field: `set(i, j, k, value)` for each of
/// its cells (block-local indices), from one HDF5 hyperslab or, for
/// `.npy`, one positioned read per row segment.
pub fn read_block3(
    file: &InitFile,
    meta: &FieldMeta,
    block: &Block3,
    mut set: impl FnMut(usize, usize, usize, f64),
) -> anyhow::Result<()> {
    let (planes, rows, cols) = (block.planes.clone(), block.rows.clone(), block.cols.clone());
    match (&file.dataset, meta.npy) {
        (Some(dataset), _) => {
            let ds = hdf5::File::open(&file.path)?.dataset(dataset)?;
            let data: ndarray::Array3<f64> = ds.read_slice(ndarray::s![planes, rows, cols])?;
            for ((k, j, i), v) in data.indexed_iter() {
                set(i, j, k, *v);
            }
            Ok(())
        }
        (None, Some((offset, big))) => {
            let f = std::fs::File::open(&file.path)?;
            let (size, [_, ny, nx]) = (meta.element.size(), meta.planes());
            let mut row = vec![0u8; cols.len() * size];
            for (k, gk) in planes.enumerate() {
                for (j, gj) in rows.clone().enumerate() {
                    let first = (gk * ny + gj) * nx + cols.start;
                    f.read_exact_at(&mut row, offset + (first * size) as u64)?;
                    for (i, b) in row.chunks_exact(size).enumerate() {
                        set(i, j, k, decode(b, meta.element, big));
                    }
                }
            }
            Ok(())
        }
        (None, None) => anyhow::bail!("no .npy header was read"),
    }
}

/// One element's bytes as f64 (an f32 widened exactly).
fn decode(b: &[u8], element: Element, big: bool) -> f64 {
    match element {
        Element::F64 => {
            let b: [u8; 8] = b.try_into().expect("8 bytes");
            if big {
                f64::from_be_bytes(b)
            } else {
                f64::from_le_bytes(b)
            }
        }
        Element::F32 => {
            let b: [u8; 4] = b.try_into().expect("4 bytes");
            f64::from(if big {
                f32::from_be_bytes(b)
            } else {
                f32::from_le_bytes(b)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, fortran: &str, shape: &str) -> Vec<u8> {
        let dict =
            format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
        let mut h = dict.into_bytes();
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(b' ');
        }
        h.push(b'\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend((h.len() as u16).to_le_bytes());
        b.extend(h);
        b
    }

    #[test]
    fn npy_headers_of_f64_and_f32_either_byte_order() {
        let bytes = npy("<f8", "False", "(3, 5)");
        let h = parse_npy_header(&bytes).unwrap();
        let at = bytes.len() as u64;
        assert_eq!(at % 64, 0, "numpy pads the header to 64 bytes");
        assert_eq!(
            (h.shape, h.element, h.big_endian, h.offset),
            (vec![3, 5], Element::F64, false, at)
        );
        let bytes = npy(">f4", "False", "(7,2)");
        let h = parse_npy_header(&bytes).unwrap();
        let at = bytes.len() as u64;
        assert_eq!(
            (h.shape.clone(), h.element, h.big_endian, h.offset),
            (vec![7, 2], Element::F32, true, at)
        );
        assert!(h.check_size(at + 7 * 2 * 4).is_ok());
        let short = h.check_size(at + 7 * 2 * 4 - 1).unwrap_err();
        assert!(short.contains("truncated"), "{short}");
        let long = h.check_size(at + 7 * 2 * 4 + 3).unwrap_err();
        assert!(long.contains("3 byte(s) after"), "{long}");
    }

    #[test]
    fn a_3d_header_and_the_runs_dimension() {
        let bytes = npy("<f8", "False", "(4, 3, 5)");
        let h = parse_npy_header(&bytes).unwrap();
        assert_eq!(h.shape, vec![4, 3, 5]);
        let at = bytes.len() as u64;
        assert!(h.check_size(at + 4 * 3 * 5 * 8).is_ok());
        assert!(h.check_size(at + 3 * 5 * 8).is_err());
        let meta = |shape: Vec<usize>, npy| FieldMeta {
            shown: "f".into(),
            shape,
            element: Element::F64,
            npy,
            checksum: 0,
        };
        let cube = meta(vec![4, 3, 5], Some((at, false)));
        assert_eq!(cube.dimensions(3).unwrap(), [4, 3, 5]);
        assert_eq!(cube.planes(), [4, 3, 5]);
        let e = cube.dimensions(2).unwrap_err().to_string();
        assert!(
            e.contains("a 3-D array [4, 3, 5]") && e.contains("--nz 4"),
            "{e}"
        );
        let flat = meta(vec![3, 5], None);
        assert_eq!(flat.planes(), [1, 3, 5]);
        let e = flat.dimensions(3).unwrap_err().to_string();
        assert!(
            e.contains("a 2-D dataset [3, 5]: the field must be 3-D"),
            "{e}"
        );
    }

    #[test]
    fn other_npy_arrays_refused_in_words() {
        for (bytes, words) in [
            (
                npy("<i8", "False", "(3, 5)"),
                "dtype '<i8' is not f64 or f32",
            ),
            (npy("<f8", "True", "(3, 5)"), "Fortran order"),
            (npy("<f8", "False", "(3, 5, 2, 2)"), "a 4-D array"),
            (npy("<f8", "False", "(3,)"), "a 1-D array"),
            (b"PK\x03\x04".to_vec(), "not a .npy file"),
        ] {
            let e = parse_npy_header(&bytes).unwrap_err();
            assert!(e.contains(words), "{e}");
        }
        let mut cut = npy("<f8", "False", "(3, 5)");
        cut.truncate(30);
        assert!(parse_npy_header(&cut).unwrap_err().contains("truncated"));
    }

    #[test]
    fn elements_decode_exactly() {
        assert_eq!(decode(&1.5f64.to_le_bytes(), Element::F64, false), 1.5);
        assert_eq!(decode(&0.1f64.to_be_bytes(), Element::F64, true), 0.1);
        assert_eq!(
            decode(&0.1f32.to_le_bytes(), Element::F32, false),
            f64::from(0.1f32)
        );
        assert_eq!(decode(&(-2.5f32).to_be_bytes(), Element::F32, true), -2.5);
    }
}
