//! `parsim mandelbrot`, the pure part: the lessons' escape-time kernel,
//! the static schedules (which rows a rank owns), and the validation
//! arithmetic (mirror rows, sampled pixels, area). No MPI here.
//!
//! Every pixel is computed by the same arithmetic whichever rank, schedule
//! or vector lane computes it (the lessons' operations in their order, no
//! FMA), so the image is bitwise the lessons' image on any number of ranks.

/// The image: W x H pixels over the window [xmin, xmax] x [ymin, ymax],
/// at most `max_iter` iterations per pixel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub width: usize,
    pub height: usize,
    pub max_iter: u32,
    pub window: [f64; 4],
    /// Pixel sizes, computed once as the lessons do: (xmax - xmin) / W.
    pub px: f64,
    pub py: f64,
}

impl Frame {
    pub fn new(width: usize, height: usize, max_iter: u32, window: [f64; 4]) -> Self {
        let [xmin, xmax, ymin, ymax] = window;
        Self {
            width,
            height,
            max_iter,
            window,
            px: (xmax - xmin) / width as f64,
            py: (ymax - ymin) / height as f64,
        }
    }

    /// Real part of column x's c: xmin + x * px.
    pub fn cr(&self, x: usize) -> f64 {
        self.window[0] + x as f64 * self.px
    }

    /// Imaginary part of row y's c: ymin + y * py.
    pub fn ci(&self, y: usize) -> f64 {
        self.window[2] + y as f64 * self.py
    }

    /// Pixels in the image.
    pub fn pixels(&self) -> u64 {
        self.width as u64 * self.height as u64
    }
}

/// The lessons' `mandel`: the iteration at which |z|^2 reaches 4, or
/// `max_iter` if it never does.
pub fn escape(cr: f64, ci: f64, max_iter: u32) -> u32 {
    let (mut zr, mut zi) = (0.0f64, 0.0f64);
    for i in 0..max_iter {
        let nr = zr * zr - zi * zi + cr;
        let ni = 2.0 * zr * zi + ci;
        zr = nr;
        zi = ni;
        if zr * zr + zi * zi >= 4.0 {
            return i;
        }
    }
    max_iter
}

/// Iterations a pixel of value `v` cost: v + 1 if it escaped, else M.
pub fn cost(v: u32, max_iter: u32) -> u64 {
    u64::from((v + 1).min(max_iter))
}

/// Row y of the image into `out` (W values); the iterations it cost.
pub fn row(frame: &Frame, y: usize, out: &mut [u32]) -> u64 {
    debug_assert_eq!(out.len(), frame.width);
    row_part(frame, y, 0, out)
}

/// Columns `x0..x0 + out.len()` of row y into `out`; the iterations they
/// cost. (Rank 0 of the dynamic schedule computes its rows in parts, to
/// answer requests in between.)
pub fn row_part(frame: &Frame, y: usize, x0: usize, out: &mut [u32]) -> u64 {
    let ci = frame.ci(y);
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            done = unsafe { avx2::row_vectors(frame, ci, x0, out) };
        }
    }
    for (k, v) in out.iter_mut().enumerate().skip(done) {
        *v = escape(frame.cr(x0 + k), ci, frame.max_iter);
    }
    out.iter().map(|&v| cost(v, frame.max_iter)).sum()
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::Frame;

    /// Vectors per group: two, so that one vector's chain of dependent
    /// operations (sub, add, mul: about 10 cycles) overlaps the other's.
    const V: usize = 2;

    /// The row's pixels in groups of 4V, each lane doing [`super::escape`]'s
    /// operations in its order (zr*zr is kept from the previous
    /// iteration's test, the same product). A group iterates until all its
    /// lanes escaped; lanes that escaped keep iterating, masked. Returns
    /// how many of `out`'s columns (from x0) it did; the scalar loop does
    /// the rest.
    #[target_feature(enable = "avx2")]
    pub unsafe fn row_vectors(frame: &Frame, ci: f64, x0: usize, out: &mut [u32]) -> usize {
        let group = 4 * V;
        let groups = out.len() / group;
        let (ci, four, one) = (_mm256_set1_pd(ci), _mm256_set1_pd(4.0), _mm256_set1_pd(1.0));
        for g in 0..groups {
            let o = g * group;
            let cr: [__m256d; V] = std::array::from_fn(|v| {
                let c = |k: usize| frame.cr(x0 + o + 4 * v + k);
                _mm256_setr_pd(c(0), c(1), c(2), c(3))
            });
            let mut zr = [_mm256_setzero_pd(); V];
            let mut zi = [_mm256_setzero_pd(); V];
            let mut zr2 = [_mm256_setzero_pd(); V];
            let mut zi2 = [_mm256_setzero_pd(); V];
            let mut done = [_mm256_setzero_pd(); V];
            let mut value = [_mm256_set1_pd(f64::from(frame.max_iter)); V];
            let mut i = _mm256_setzero_pd();
            for _ in 0..frame.max_iter {
                let mut all = true;
                for v in 0..V {
                    let nr = _mm256_add_pd(_mm256_sub_pd(zr2[v], zi2[v]), cr[v]);
                    let ni = _mm256_add_pd(_mm256_mul_pd(_mm256_add_pd(zr[v], zr[v]), zi[v]), ci);
                    zr[v] = nr;
                    zi[v] = ni;
                    zr2[v] = _mm256_mul_pd(nr, nr);
                    zi2[v] = _mm256_mul_pd(ni, ni);
                    let esc = _mm256_cmp_pd::<_CMP_GE_OQ>(_mm256_add_pd(zr2[v], zi2[v]), four);
                    let new = _mm256_andnot_pd(done[v], esc);
                    value[v] = _mm256_blendv_pd(value[v], i, new);
                    done[v] = _mm256_or_pd(done[v], esc);
                    all &= _mm256_movemask_pd(done[v]) == 0xf;
                }
                if all {
                    break;
                }
                i = _mm256_add_pd(i, one);
            }
            for v in 0..V {
                let mut lanes = [0.0f64; 4];
                _mm256_storeu_pd(lanes.as_mut_ptr(), value[v]);
                for (k, l) in lanes.iter().enumerate() {
                    out[o + 4 * v + k] = *l as u32;
                }
            }
        }
        groups * group
    }
}

/// How rows are dealt out to ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// Contiguous blocks of rows (the static split that balances badly).
    Block,
    /// Row y to rank y mod P.
    Cyclic,
    /// Chunks of rows handed out on request by rank 0 (which computes too).
    Dynamic,
}

impl Schedule {
    pub fn name(self) -> &'static str {
        match self {
            Schedule::Block => "block",
            Schedule::Cyclic => "cyclic",
            Schedule::Dynamic => "dynamic",
        }
    }
}

/// The rows rank `r` of `p` owns under a static schedule, in order.
pub fn static_rows(schedule: Schedule, height: usize, p: usize, r: usize) -> Vec<usize> {
    match schedule {
        Schedule::Block => crate::partition::split_range(height, p, r).collect(),
        Schedule::Cyclic => (r..height).step_by(p).collect(),
        Schedule::Dynamic => Vec::new(),
    }
}

/// Pairs of rows (y, y') with y < y' whose ci are exact negatives of each
/// other: negating ci negates every zi exactly, so the two rows must be
/// equal. Only rows where it holds exactly are paired, never by
/// assumption (WORKLOADS.md).
pub fn mirror_pairs(frame: &Frame) -> Vec<(usize, usize)> {
    let mut by_ci: std::collections::HashMap<u64, usize> = Default::default();
    for y in 0..frame.height {
        by_ci.insert(frame.ci(y).to_bits(), y);
    }
    (0..frame.height)
        .filter_map(|y| {
            let m = *by_ci.get(&(-frame.ci(y)).to_bits())?;
            (m > y).then_some((y, m))
        })
        .collect()
}

/// `count` pixels spread over the image (a fixed pseudo-random sample,
/// the same for every run of this size): rank 0 recomputes them one by one
/// and compares.
pub fn sample_pixels(frame: &Frame, count: usize) -> Vec<(usize, usize)> {
    let n = frame.pixels();
    (0..count as u64)
        .map(|k| {
            let p = crate::rng::mix64(k ^ 0x6d61_6e64) % n;
            (
                (p % frame.width as u64) as usize,
                (p / frame.width as u64) as usize,
            )
        })
        .collect()
}

/// What the image says about the set's area: inside pixels (value M), and
/// the edge: outside pixels with an inside 4-neighbour.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Area {
    pub inside: u64,
    pub edge_outside: u64,
    pub pixel_area: f64,
    pub estimate: f64,
    /// (inside + edge) pixel area: the set lies in the inside pixels'
    /// cells and those of the edge around them, so its area is below this
    /// at any max-iter (a finite M only adds pixels counted inside).
    pub upper: f64,
}

/// [`Area`] of an image (row-major, H x W).
pub fn area(frame: &Frame, image: &[u32]) -> Area {
    let (w, h, m) = (frame.width, frame.height, frame.max_iter);
    let at = |x: usize, y: usize| image[y * w + x] == m;
    let (mut inside, mut edge) = (0u64, 0u64);
    for y in 0..h {
        for x in 0..w {
            if at(x, y) {
                inside += 1;
            } else {
                let near = (x > 0 && at(x - 1, y))
                    || (x + 1 < w && at(x + 1, y))
                    || (y > 0 && at(x, y - 1))
                    || (y + 1 < h && at(x, y + 1));
                edge += u64::from(near);
            }
        }
    }
    let pa = frame.px * frame.py;
    Area {
        inside,
        edge_outside: edge,
        pixel_area: pa,
        estimate: inside as f64 * pa,
        upper: (inside + edge) as f64 * pa,
    }
}

/// The Mandelbrot set's area (Förstemann's pixel counting, 1.50659177...).
pub const SET_AREA: f64 = 1.506_592;

/// Whether the window holds the whole set (x in [-2, 0.4713], |y| <=
/// 1.1225), the one case where the area check applies.
pub fn holds_the_set(frame: &Frame) -> bool {
    let [xmin, xmax, ymin, ymax] = frame.window;
    xmin <= -2.0 && xmax >= 0.48 && ymin <= -1.13 && ymax >= 1.13
}

#[cfg(test)]
mod tests {
    use std::ops::Range;

    use super::*;

    /// Row y computed pixel by pixel with [`escape`] (the reference the vector
    /// kernel is pinned against).
    fn row_scalar(frame: &Frame, y: usize, out: &mut [u32]) {
        let ci = frame.ci(y);
        for (x, v) in out.iter_mut().enumerate() {
            *v = escape(frame.cr(x), ci, frame.max_iter);
        }
    }

    /// Rows `range` of the image with their iterations.
    fn rows(frame: &Frame, range: Range<usize>) -> (Vec<u32>, u64) {
        let mut out = vec![0u32; range.len() * frame.width];
        let mut it = 0;
        for (k, y) in range.enumerate() {
            it += row(frame, y, &mut out[k * frame.width..(k + 1) * frame.width]);
        }
        (out, it)
    }

    const LESSON: [f64; 4] = [-2.0, 1.0, -1.0, 1.0];

    #[test]
    fn the_vector_kernel_gives_the_scalar_kernels_bits() {
        for (w, m) in [(67, 20), (128, 256), (35, 1000)] {
            let f = Frame::new(w, 40, m, LESSON);
            for y in 0..40 {
                let (mut a, mut b) = (vec![0; w], vec![0; w]);
                row(&f, y, &mut a);
                row_scalar(&f, y, &mut b);
                assert_eq!(a, b, "row {y} of {w} x 40, M {m}");
                let mut c = vec![0; w];
                let cut = w / 3;
                row_part(&f, y, 0, &mut c[..cut]);
                row_part(&f, y, cut, &mut c[cut..]);
                assert_eq!(a, c, "row {y} in two parts");
            }
        }
    }

    #[test]
    fn known_pixels_and_iteration_counts() {
        assert_eq!(escape(0.0, 0.0, 100), 100); // the origin is inside
        assert_eq!(escape(-1.0, 0.0, 100), 100); // a 2-cycle
        assert_eq!(escape(1.0, 0.0, 100), 1); // 1, 2: |2|^2 >= 4 at i = 1
        assert_eq!(escape(2.0, 2.0, 100), 0);
        assert_eq!(cost(1, 100), 2);
        assert_eq!(cost(100, 100), 100);
        // The lesson's 3000 x 2000, M 256 image has 1521981 inside pixels
        // (bench/lessons/g_mandelbrot.py): a 300 x 200 cut keeps the ratio
        // roughly; the full image is checked end to end.
        let f = Frame::new(300, 200, 256, LESSON);
        let (img, _) = rows(&f, 0..200);
        let inside = img.iter().filter(|&&v| v == 256).count() as f64;
        assert!((inside / 60_000.0 - 1_521_981.0 / 6e6).abs() < 0.01);
    }

    #[test]
    fn static_schedules_cover_every_row_once() {
        for s in [Schedule::Block, Schedule::Cyclic] {
            for p in 1..=5 {
                let mut all: Vec<usize> = (0..p).flat_map(|r| static_rows(s, 23, p, r)).collect();
                all.sort();
                assert_eq!(all, (0..23).collect::<Vec<_>>(), "{s:?} on {p}");
            }
        }
    }

    #[test]
    fn mirror_rows_are_equal_where_exact() {
        // Dyadic window, H a power of two: every row but y = 0 has a mirror.
        let f = Frame::new(64, 64, 200, [-2.0, 0.5, -1.25, 1.25]);
        let pairs = mirror_pairs(&f);
        assert_eq!(pairs.len(), 31);
        let (img, _) = rows(&f, 0..64);
        for (a, b) in pairs {
            assert_eq!(img[a * 64..(a + 1) * 64], img[b * 64..(b + 1) * 64]);
        }
    }

    #[test]
    fn the_area_bound_holds_the_known_area() {
        let f = Frame::new(400, 400, 500, [-2.25, 0.75, -1.5, 1.5]);
        assert!(holds_the_set(&f));
        let (img, _) = rows(&f, 0..400);
        let a = area(&f, &img);
        assert!(a.upper >= SET_AREA && a.estimate < a.upper);
        assert!((a.estimate - SET_AREA).abs() < 0.05, "{a:?}");
        // Half the rows lost: the bound fails.
        let mut half = img.clone();
        half[..200 * 400].fill(0);
        assert!(area(&f, &half).upper < SET_AREA);
    }
}
