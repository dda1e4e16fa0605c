//! A 3D time block's sweep (pure; no MPI): `m` steps of a block in one
//! pass through memory, as 2D's `super::sweep` does with rows.
//!
//! A plain step reads the whole field and writes the whole new one; at
//! 256^3 (128 MiB a field) it runs at memory speed. Here the wavefront
//! runs over z planes: plane `k` at level 1 is computed once planes
//! `k-1..=k+1` of the old field are read, plane `k-1` at level 2 right
//! after, and so on; levels 1..m-1 live in rings of three planes each
//! (only the rows of the band being swept are touched, so a band of rows
//! keeps the rings in L2), and only level `m` is written to the new field.
//!
//! Near the block's faces a level-`s` cell needs level `s-1` values one
//! cell further out. Toward a neighbouring rank (its `m`-deep halo, edges
//! and corners included, `super::halo3d::Halo3::deep`) or another band or
//! slab of this block, those are computed too, redundantly; toward a wall
//! they are the fixed values in the ghost layer next to the block (a
//! wall's plane is read from the field itself, a wall's row and column
//! copied from the field's plane into the ring's with the plane). Every cell of every
//! level is computed by [`kernel3d::update_plane`], the plain step's
//! expression from the same seven values, so the result is the same bits
//! for any `m`, band height, thread count or process grid.

use std::ops::Range;

use super::kernel3d::{self, Box3, Field3, Stencil3};

/// Planes a level keeps: the three a level above reads.
pub const RING: usize = 3;

/// The planes of levels 1..m-1, kept between sweeps (so a sweep
/// allocates nothing).
#[derive(Debug, Default)]
pub struct Rings {
    data: Vec<f64>,
}

impl Rings {
    /// Room for `levels` levels of `src`'s planes.
    fn ready(&mut self, src: &Field3, levels: usize) {
        let (_, plane) = src.strides();
        if self.data.len() < levels * RING * plane {
            self.data.resize(levels * RING * plane, 0.0);
        }
    }
}

/// One sweep of `m >= 1` steps: the cells `out` (storage indices inside
/// `src`'s interior) at level `m`.
pub struct Sweep3<'a> {
    pub src: &'a Field3,
    pub out: Box3,
    /// For each face (`super::decomp3d::FACES`' order): does a
    /// neighbour's `m`-deep halo lie beyond it (else a wall's values)?
    pub nb: [bool; 6],
    pub m: usize,
    pub st: &'a Stencil3,
}

impl Sweep3<'_> {
    /// Level `s`'s cells along `axis`: `out` grown by `m - s` cells, but
    /// past the block's faces only toward a neighbour.
    fn range(&self, axis: usize, s: usize) -> Range<usize> {
        let (g, n, e) = (self.src.ghosts(), self.src.extents()[axis], self.m - s);
        let lo = g - e * usize::from(self.nb[2 * axis]);
        let hi = g + n + e * usize::from(self.nb[2 * axis + 1]);
        let o = &self.out[axis];
        o.start.saturating_sub(e).max(lo)..(o.end + e).min(hi)
    }

    /// Write level `m` of `out` into `dst`, the destination's storage from
    /// index `base` on (a whole number of planes); `rings` is scratch.
    pub fn run(&self, dst: &mut [f64], base: usize, rings: &mut Rings) {
        let (m, src) = (self.m, self.src);
        assert!(m >= 1 && m <= src.ghosts());
        if self.out.iter().any(|r| r.is_empty()) {
            return;
        }
        let inside = src.inside();
        assert!((0..3)
            .all(|a| self.out[a].start >= inside[a].start && self.out[a].end <= inside[a].end));
        let (row, plane) = src.strides();
        assert_eq!(base % plane, 0);
        rings.ready(src, m - 1);
        let z: Vec<Range<usize>> = (1..=m).map(|s| self.range(2, s)).collect();
        let xy: Vec<_> = (1..=m)
            .map(|s| (self.range(0, s), self.range(1, s)))
            .collect();
        // Front p: level s computes plane p - (s - 1), once level s - 1
        // has computed plane p - (s - 2), the last one it reads.
        for p in z[0].start..z[0].end + m - 1 {
            for s in 1..=m {
                let Some(k) = p.checked_sub(s - 1) else {
                    break;
                };
                if !z[s - 1].contains(&k) {
                    continue;
                }
                let (prev, cur) = rings.data.split_at_mut((s - 1) * RING * plane);
                // Level s - 1's plane q: the old field's at level 0 and
                // on a wall's plane, else its ring's.
                let at = |q: usize| -> &[f64] {
                    if s == 1 || !z[s - 2].contains(&q) {
                        &src.as_slice()[q * plane..(q + 1) * plane]
                    } else {
                        let slot = (s - 2) * RING + q % RING;
                        &prev[slot * plane..(slot + 1) * plane]
                    }
                };
                let planes = [at(k - 1), at(k), at(k + 1)];
                let out = if s == m {
                    &mut dst[k * plane - base..(k + 1) * plane - base]
                } else {
                    let slot = &mut cur[k % RING * plane..(k % RING + 1) * plane];
                    self.walls(slot, at(k), row);
                    slot
                };
                kernel3d::update_plane(out, planes, row, xy[s - 1].clone(), self.st);
            }
        }
    }
}

impl Sweep3<'_> {
    /// Copy the rows and columns next to the block's walls across x and y
    /// from the field's plane `from` into a ring's plane `to` (a level's
    /// cells there are the wall's, never computed).
    fn walls(&self, to: &mut [f64], from: &[f64], row: usize) {
        let (g, n) = (self.src.ghosts(), self.src.extents());
        for (face, &nb) in self.nb[..4].iter().enumerate() {
            if nb {
                continue;
            }
            let at = if face % 2 == 0 {
                g - 1
            } else {
                n[face / 2] + g
            };
            if face < 2 {
                to[at..]
                    .iter_mut()
                    .step_by(row)
                    .zip(from[at..].iter().step_by(row))
                    .for_each(|(t, f)| *t = *f);
            } else {
                to[at * row..(at + 1) * row].copy_from_slice(&from[at * row..(at + 1) * row]);
            }
        }
    }
}

/// Rows of a band whose rings (`levels` levels of [`RING`] rows of `row`
/// values each, plus the rows a band grows by) fit in half of `cache`
/// bytes, a core's share of L2 and L3 (the other half streams the old and
/// new fields): all `rows` when they fit, never fewer than
/// [`MIN_BAND`]. Whole planes are the fastest where their rings fit:
/// bands sized for L2 alone ran slower at 256^3 (their grown rows cost
/// more than L2 saves over L3; 22-row bands of depth 4: 490-660 MLUPS a
/// core-second against 730-890 with whole planes, AMD EPYC (Zen 4)).
pub fn band_rows(rows: usize, row: usize, levels: usize, cache: usize) -> usize {
    if levels == 0 {
        return rows.max(1);
    }
    let per_row = levels * RING * row * 8;
    let fit = (cache / 2 / per_row).saturating_sub(2 * levels);
    fit.max(MIN_BAND).min(rows.max(1))
}

/// The lowest band: below it the rows a band grows by cost more than the
/// cache saves.
pub const MIN_BAND: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    /// A field of `g` ghost layers whose every value (ghosts too) differs.
    fn irregular(n: [usize; 3], g: usize) -> Field3 {
        let mut u = Field3::zeros_deep(n, g);
        for (k, v) in u.as_mut_slice().iter_mut().enumerate() {
            *v = 50.0 + 30.0 * (k as f64 * 0.618).sin();
        }
        u
    }

    /// `m` plain steps of `u` over the cells a sweep of neighbours `nb`
    /// may touch, each step over the interior grown toward the
    /// neighbours by the steps still to come (as the sweep does), the
    /// wall layers kept.
    fn plain(u: &Field3, nb: [bool; 6], m: usize, st: &Stencil3) -> Field3 {
        let mut a = u.clone();
        for s in 1..=m {
            let sweep = Sweep3 {
                src: u,
                out: u.inside(),
                nb,
                m,
                st,
            };
            let b: Box3 = std::array::from_fn(|axis| sweep.range(axis, s));
            let mut next = a.clone();
            kernel3d::update_box(&a, &mut next, &b, (st, None), 1);
            a = next;
        }
        a
    }

    #[test]
    fn a_sweep_gives_the_bits_of_plain_steps() {
        let st = Stencil3::new([0.11, 0.17, 0.09]);
        for (n, nbs) in [
            ([6, 5, 7], 0b000000u32),
            ([6, 5, 7], 0b111111),
            ([7, 4, 9], 0b101001),
            ([5, 8, 6], 0b010110),
            ([9, 3, 3], 0b110000),
        ] {
            let nb: [bool; 6] = std::array::from_fn(|f| nbs >> f & 1 == 1);
            for m in 1..=3 {
                let u = irregular(n, m);
                let want = plain(&u, nb, m, &st);
                let inside = u.inside();
                for (rows, planes) in [
                    (inside[1].clone(), inside[2].clone()),
                    (inside[1].start + 1..inside[1].end - 1, inside[2].clone()),
                    (inside[1].clone(), inside[2].start + 2..inside[2].end),
                ] {
                    let out: Box3 = [inside[0].clone(), rows, planes];
                    let mut got = u.clone();
                    got.as_mut_slice().fill(f64::NAN);
                    let sweep = Sweep3 {
                        src: &u,
                        out: out.clone(),
                        nb,
                        m,
                        st: &st,
                    };
                    sweep.run(got.as_mut_slice(), 0, &mut Rings::default());
                    for k in out[2].clone() {
                        for j in out[1].clone() {
                            for i in out[0].clone() {
                                let (g, w) = (
                                    got.as_slice()[got.at(i, j, k)],
                                    want.as_slice()[want.at(i, j, k)],
                                );
                                assert_eq!(
                                    g.to_bits(),
                                    w.to_bits(),
                                    "{n:?} {nb:?} m={m} at {i},{j},{k}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn bands_keep_the_rings_within_half_of_the_cache() {
        // 272 values a row, 5 levels: 32 KiB a band row; 17 MiB a core
        // (1 MiB of L2, 16 of a shared L3) holds whole planes of 256^2.
        assert_eq!(band_rows(256, 272, 5, 17 << 20), 256);
        assert_eq!(band_rows(1024, 1040, 5, 17 << 20), 61);
        assert_eq!(band_rows(256, 272, 0, 1 << 20), 256);
        assert_eq!(band_rows(5, 272, 3, 1 << 20), 5);
        assert_eq!(band_rows(256, 272, 12, 1 << 20), MIN_BAND);
    }
}
