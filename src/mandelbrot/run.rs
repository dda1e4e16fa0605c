//! `parsim mandelbrot`: the escape-time image on the driver, rows dealt
//! out by a schedule (block, cyclic, or dynamic: chunks handed out by
//! rank 0, which computes too), gathered to rank 0 into HDF5.
//!
//! ```text
//! /mandelbrot  attrs: width, height, max_iter, window [4], schedule, chunk,
//!                     inside, area_estimate, area_upper, mirror_pairs,
//!                     sampled, passed
//!   x            f64 [width]        real part of each column's c (scale)
//!   y            f64 [height]       imaginary part of each row's c (scale)
//!   iterations   u32 [height, width] escape iteration (max_iter: inside)
//!   row_rank     u32 [height]       the rank that computed each row
//!   rank_compute_s, rank_iterations [ranks]  each rank's share
//! ```
//!
//! One round: ranks that synchronised every few rows to agree on stop
//! signals would pay the sum over rounds of the slowest rank's time, an
//! imbalance of the protocol rather than of the schedule. Instead a stop
//! signal is watched locally between rows: a rank that sees one stops
//! computing (under the dynamic schedule rank 0 stops handing out rows,
//! and a rank's request carries its signal to rank 0), then the driver's
//! check agrees on the stop, with the image incomplete: exit 75, nothing
//! written (an image is cheap to compute again).

use mpi::traits::*;
use serde::Serialize;

use super::kernel::{self as mandel, Area, Frame, Schedule};
use crate::driver::{After, Clock, Position, Printed, Workload};
use crate::error::{Failure, Outcome};
use crate::h5::{
    write_along, write_axis, write_index_axis, write_list, write_num, write_str, write_table,
    ResultFile, RunMeta,
};
use crate::par::{self, Spread};
use crate::progress::Meter;
use crate::report::{num, RunInfo};
use crate::result::{create_result, finish, output_line};
use crate::stop::StopSignal;
use crate::tags::{MANDEL_ASSIGN, MANDEL_REQUEST};

/// Pixels per part of a row (see `MandelRun::compute`).
const PART: usize = 256;
/// Pixels rank 0 recomputes one by one to check the image.
const SAMPLES: usize = 1000;

/// A checked Mandelbrot run (made by `super::options`).
#[derive(Debug, Clone)]
pub struct MandelPlan {
    /// The image and the window of the complex plane, validated.
    pub frame: Frame,
    pub schedule: Schedule,
    /// Rows per chunk of the dynamic schedule.
    pub chunk: u64,
    pub out: crate::driver::Output,
}

#[derive(Debug, Clone, Serialize)]
pub struct MandelPhases {
    pub compute: Spread,
    /// Waiting: for rows (dynamic) or for the slowest rank at round ends.
    pub wait: Spread,
    pub gather_io: Spread,
}

#[derive(Debug, Clone, Serialize)]
pub struct MandelReport {
    #[serde(flatten)]
    pub run: RunInfo,
    pub width: usize,
    pub height: usize,
    pub max_iter: u32,
    pub window: [f64; 4],
    pub schedule: Schedule,
    pub chunk: u64,
    pub iterations: u64,
    pub rank_iterations: Spread,
    /// max / avg of the ranks' compute times: 1 is perfect balance.
    pub imbalance: f64,
    pub area: Area,
    pub area_checked: bool,
    pub mirror_pairs: usize,
    pub mirror_ok: bool,
    pub sampled: usize,
    pub samples_ok: bool,
    pub passed: bool,
    pub wall_time_s: f64,
    pub iterations_per_s: f64,
    pub pixels_per_s: f64,
    pub phases: MandelPhases,
    pub output: Option<String>,
}

/// Collective: `parsim mandelbrot`.
pub fn run<C: Communicator>(
    world: &C,
    job: &MandelPlan,
    meta: &RunMeta,
    stop: &StopSignal,
) -> Outcome {
    let run = MandelRun::new(world, job, job.frame, meta, stop)?;
    crate::driver::run(run, stop, &job.out)
}

pub struct MandelRun<'a, C: Communicator> {
    comm: &'a C,
    job: &'a MandelPlan,
    frame: Frame,
    version: &'static str,
    file: Option<ResultFile>,
    stop: &'a StopSignal,
    /// Whether every row has been computed (the same on every rank; after
    /// the round).
    complete: bool,
    /// Rows computed here, in the order computed, and their pixels.
    computed: Vec<u64>,
    pixels: Vec<u32>,
    iterations: u64,
    t_compute: f64,
    t_wait: f64,
}

impl<'a, C: Communicator> MandelRun<'a, C> {
    /// Collective: check memory, create the result file (rank 0), deal out
    /// the rows.
    pub fn new(
        comm: &'a C,
        job: &'a MandelPlan,
        frame: Frame,
        meta: &RunMeta,
        stop: &'a StopSignal,
    ) -> Outcome<Self> {
        let (p, r) = (comm.size() as usize, comm.rank() as usize);
        let image = frame.pixels() as u128 * 4;
        let need = if r == 0 {
            2 * image
        } else {
            image / p as u128 + 1
        };
        crate::par::check_memory(comm, need, "the image")?;
        let file = create_result(comm, job.out.path.as_deref(), job.out.force, meta)?;
        Ok(Self {
            comm,
            job,
            frame,
            version: meta.version,
            file,
            stop,
            complete: false,
            computed: Vec::new(),
            pixels: Vec::new(),
            iterations: 0,
            t_compute: 0.0,
            t_wait: 0.0,
        })
    }

    /// Compute row y here; rank 0 of the dynamic schedule answers
    /// requests between parts of the row (`serve`), so a waiting rank
    /// waits for a part, not a row.
    fn compute(&mut self, y: usize, mut serve: impl FnMut()) {
        let w = self.frame.width;
        let start = self.pixels.len();
        self.pixels.resize(start + w, 0);
        for x0 in (0..w).step_by(PART) {
            let a = mpi::time();
            let part = &mut self.pixels[start + x0..start + (x0 + PART).min(w)];
            self.iterations += mandel::row_part(&self.frame, y, x0, part);
            self.t_compute += mpi::time() - a;
            serve();
        }
        self.computed.push(y as u64);
    }

    fn stopped(&self) -> bool {
        self.stop.received() != 0
    }

    /// This rank's rows of a static schedule, until a stop signal.
    fn static_rows(&mut self) {
        let (p, r) = (self.comm.size() as usize, self.comm.rank() as usize);
        for y in mandel::static_rows(self.job.schedule, self.frame.height, p, r) {
            if self.stopped() {
                return;
            }
            self.compute(y, || {});
        }
    }

    /// Rank 0: hand out `rows` in chunks on request, computing rows of its
    /// own (one at a time) in between, until every other rank has been
    /// told the round is over.
    fn dispatch(&mut self) {
        let chunk = self.job.chunk as usize;
        let mut rows = Rows {
            next: 0,
            end: self.frame.height,
        };
        let mut finished = 0;
        let workers = self.comm.size() as usize - 1;
        let comm = self.comm;
        let serve = |rows: &mut Rows, finished: &mut usize| {
            while let Some(status) = comm.any_process().immediate_probe_with_tag(MANDEL_REQUEST) {
                *finished += usize::from(answer(comm, status.source_rank(), rows, chunk));
            }
        };
        loop {
            serve(&mut rows, &mut finished);
            if self.stopped() {
                rows.end = rows.next;
            }
            let (first, n) = rows.take(1);
            if n == 1 {
                let (r, f) = (&mut rows, &mut finished);
                self.compute(first, || serve(r, f));
            } else if finished == workers {
                return;
            } else {
                let a = mpi::time();
                let status = self.comm.any_process().probe_with_tag(MANDEL_REQUEST);
                self.t_wait += mpi::time() - a;
                finished += usize::from(answer(self.comm, status.source_rank(), &mut rows, chunk));
            }
        }
    }

    /// A rank other than 0: ask for rows, one request always in flight, so
    /// the next chunk's answer arrives while this one is computed.
    fn request_rows(&mut self) {
        let root = self.comm.process_at_rank(0);
        root.send_with_tag(&u64::from(self.stopped()), MANDEL_REQUEST);
        loop {
            let a = mpi::time();
            let mut got = [0u64; 2];
            root.receive_into_with_tag(&mut got[..], MANDEL_ASSIGN);
            let [first, n] = got;
            self.t_wait += mpi::time() - a;
            if n == 0 {
                return;
            }
            root.send_with_tag(&u64::from(self.stopped()), MANDEL_REQUEST);
            for y in first..first + n {
                self.compute(y as usize, || {});
            }
        }
    }
}

/// Rank 0's rows not yet handed out.
struct Rows {
    next: usize,
    end: usize,
}

impl Rows {
    /// The next (up to) `n` rows: (first, count).
    fn take(&mut self, n: usize) -> (usize, usize) {
        let first = self.next;
        self.next = (self.next + n).min(self.end);
        (first, self.next - first)
    }
}

/// Rank 0: receive `source`'s request (1: it saw a stop signal, so no
/// more rows go out) and answer it with its next chunk of `rows`; whether
/// that told it the round is over (no rows).
fn answer<C: Communicator>(comm: &C, source: i32, rows: &mut Rows, chunk: usize) -> bool {
    let p = comm.process_at_rank(source);
    let (stop, _) = p.receive_with_tag::<u64>(MANDEL_REQUEST);
    if stop != 0 {
        rows.end = rows.next;
    }
    let (first, n) = rows.take(chunk);
    p.send_with_tag(&[first as u64, n as u64][..], MANDEL_ASSIGN);
    n == 0
}

impl<C: Communicator> Workload for MandelRun<'_, C> {
    type Comm = C;
    type Report = MandelReport;
    const NAME: &'static str = "mandelbrot";
    const JUDGED: &'static str = "the image";

    fn trace_phases(&self) -> Vec<(&'static str, f64)> {
        vec![("compute", self.t_compute), ("wait for work", self.t_wait)]
    }

    fn comm(&self) -> &C {
        self.comm
    }

    fn meter(&self) -> Meter {
        Meter {
            label: "mandelbrot",
            total: self.frame.height as u64,
            unit: "row",
            work_per_unit: self.frame.width as f64,
            rate_name: "Mpixels/s",
        }
    }

    fn position(&self) -> Position {
        let total = self.frame.height as u64;
        Position {
            done: if self.complete { total } else { 0 },
            total,
        }
    }

    fn rounds_left(&self) -> bool {
        !self.complete
    }

    fn advance(&mut self) -> Outcome<After> {
        match (self.job.schedule, self.comm.rank()) {
            (Schedule::Dynamic, 0) => self.dispatch(),
            (Schedule::Dynamic, _) => self.request_rows(),
            _ => self.static_rows(),
        }
        let mut rows = 0u64;
        let mine = self.computed.len() as u64;
        self.comm
            .all_reduce_into(&mine, &mut rows, mpi::collective::SystemOperation::sum());
        self.complete = rows == self.frame.height as u64;
        Ok(After::Check { fault: false })
    }

    fn fault(&self) -> Failure {
        Failure::runtime(anyhow::anyhow!("mandelbrot: a rank reported a fault"))
    }

    fn finish(&mut self, clock: &Clock) -> Outcome<Printed<MandelReport>> {
        let t1 = mpi::time();
        let gathered = gather_rows(self.comm, &self.computed, &self.pixels, self.frame.width);
        let iterations = {
            let mut total = 0u64;
            self.comm.all_reduce_into(
                &self.iterations,
                &mut total,
                mpi::collective::SystemOperation::sum(),
            );
            total
        };
        let (frame, job) = (self.frame, self.job);
        let ranks = self.comm.size() as usize;
        let check = gathered.as_ref().map(|g| judge(&frame, &g.image));
        let passed = check.as_ref().is_none_or(|c| c.passed);
        let (wall, t_compute, t_wait) = (clock.wall, self.t_compute, self.t_wait);
        let rank_iterations = par::spreads(self.comm, [self.iterations as f64])[0];
        let all_times = gather_f64(self.comm, t_compute);
        let all_iters = gather_f64(self.comm, self.iterations as f64);
        // Rank 0's verdict (the others report defaults; only rank 0 prints).
        let c = check.clone().unwrap_or_default();
        let report = |gather_io: f64, output: Option<String>| {
            let [compute, wait, gather_io] =
                par::spreads(self.comm, [t_compute, t_wait, gather_io]);
            MandelReport {
                run: RunInfo::new("mandelbrot", self.version, ranks),
                width: frame.width,
                height: frame.height,
                max_iter: frame.max_iter,
                window: frame.window,
                schedule: job.schedule,
                chunk: job.chunk,
                iterations,
                rank_iterations,
                imbalance: if compute.avg > 0.0 {
                    compute.max / compute.avg
                } else {
                    1.0
                },
                area: c.area,
                area_checked: c.area_checked,
                mirror_pairs: c.mirror_pairs,
                mirror_ok: c.mirror_ok,
                sampled: SAMPLES,
                samples_ok: c.samples_ok,
                passed,
                wall_time_s: wall,
                iterations_per_s: iterations as f64 / wall,
                pixels_per_s: frame.pixels() as f64 / wall,
                phases: MandelPhases {
                    compute,
                    wait,
                    gather_io,
                },
                output,
            }
        };
        let output = job.out.path.as_deref();
        let file = self.file.take();
        let r = finish(self.comm, file, t1, output, report, |f| {
            let g = gathered.as_ref().expect("rank 0 has the image");
            let c = check.as_ref().expect("rank 0 judged the image");
            write_layout(f, &frame, job, g, c, (&all_times, &all_iters))
        })?;
        Ok(Printed {
            text: mandel_text(&r),
            report: r,
            passed,
        })
    }
}

/// The image on rank 0, and which rank computed each row.
pub struct Image {
    pub image: Vec<u32>,
    pub row_rank: Vec<u32>,
}

/// Collective: every rank's rows to rank 0, put in place.
fn gather_rows<C: Communicator>(
    comm: &C,
    rows: &[u64],
    pixels: &[u32],
    width: usize,
) -> Option<Image> {
    let root = comm.process_at_rank(0);
    let n = rows.len() as i32;
    if comm.rank() != 0 {
        root.gather_into(&n);
        root.gather_varcount_into(rows);
        root.gather_varcount_into(pixels);
        return None;
    }
    let mut counts = vec![0i32; comm.size() as usize];
    root.gather_into_root(&n, &mut counts[..]);
    let displs = par::displacements(&counts);
    let total: usize = counts.iter().map(|&c| c as usize).sum();
    let mut all_rows = vec![0u64; total];
    {
        let mut part =
            mpi::datatype::PartitionMut::new(&mut all_rows[..], &counts[..], &displs[..]);
        root.gather_varcount_into_root(rows, &mut part);
    }
    let pc: Vec<i32> = counts.iter().map(|&c| c * width as i32).collect();
    let pd: Vec<i32> = displs.iter().map(|&d| d * width as i32).collect();
    let mut all = vec![0u32; total * width];
    {
        let mut part = mpi::datatype::PartitionMut::new(&mut all[..], &pc[..], &pd[..]);
        root.gather_varcount_into_root(pixels, &mut part);
    }
    let mut image = vec![0u32; total * width];
    let mut row_rank = vec![0u32; total];
    // Rank r's rows arrived as the r-th run of `counts[r]` rows.
    let owners = counts
        .iter()
        .enumerate()
        .flat_map(|(r, &c)| std::iter::repeat_n(r as u32, c as usize));
    for ((&y, rank), got) in all_rows.iter().zip(owners).zip(all.chunks_exact(width)) {
        let y = y as usize;
        image[y * width..(y + 1) * width].copy_from_slice(got);
        row_rank[y] = rank;
    }
    Some(Image { image, row_rank })
}

/// Collective: every rank's `x` on rank 0 in rank order (empty elsewhere).
fn gather_f64<C: Communicator>(comm: &C, x: f64) -> Vec<f64> {
    let root = comm.process_at_rank(0);
    if comm.rank() == 0 {
        let mut all = vec![0.0; comm.size() as usize];
        root.gather_into_root(&x, &mut all[..]);
        all
    } else {
        root.gather_into(&x);
        Vec::new()
    }
}

/// Rank 0's verdict on the image.
#[derive(Debug, Clone, Default)]
struct Check {
    area: Area,
    area_checked: bool,
    mirror_pairs: usize,
    mirror_ok: bool,
    samples_ok: bool,
    passed: bool,
}

/// Sampled pixels recomputed one by one, mirror rows where exact, and the
/// known area below the image's upper bound when the window holds the set.
fn judge(frame: &Frame, image: &[u32]) -> Check {
    let w = frame.width;
    let samples_ok = mandel::sample_pixels(frame, SAMPLES)
        .into_iter()
        .all(|(x, y)| image[y * w + x] == mandel::escape(frame.cr(x), frame.ci(y), frame.max_iter));
    let pairs = mandel::mirror_pairs(frame);
    let mirror_ok = pairs
        .iter()
        .all(|&(a, b)| image[a * w..(a + 1) * w] == image[b * w..(b + 1) * w]);
    let area = mandel::area(frame, image);
    let area_checked = mandel::holds_the_set(frame);
    let area_ok = !area_checked || area.upper >= mandel::SET_AREA;
    Check {
        area,
        area_checked,
        mirror_pairs: pairs.len(),
        mirror_ok,
        samples_ok,
        passed: samples_ok && mirror_ok && area_ok,
    }
}

fn write_layout(
    f: &hdf5::File,
    frame: &Frame,
    job: &MandelPlan,
    img: &Image,
    c: &Check,
    (times, iters): (&[f64], &[f64]),
) -> hdf5::Result<()> {
    let g = f.create_group("mandelbrot")?;
    write_num(&g, "width", frame.width as u64)?;
    write_num(&g, "height", frame.height as u64)?;
    write_num(&g, "max_iter", frame.max_iter)?;
    write_list(&g, "window", &frame.window)?;
    write_str(&g, "schedule", job.schedule.name())?;
    write_num(&g, "chunk", job.chunk)?;
    write_num(&g, "inside", c.area.inside)?;
    write_num(&g, "area_estimate", c.area.estimate)?;
    write_num(&g, "area_upper", c.area.upper)?;
    write_num(&g, "mirror_pairs", c.mirror_pairs as u64)?;
    write_num(&g, "sampled", SAMPLES as u64)?;
    write_num(&g, "passed", u8::from(c.passed))?;
    let xs: Vec<f64> = (0..frame.width).map(|x| frame.cr(x)).collect();
    let ys: Vec<f64> = (0..frame.height).map(|y| frame.ci(y)).collect();
    let x = write_axis(&g, "x", &xs, "1", "real part of c (pixel centre)")?;
    let y = write_axis(&g, "y", &ys, "1", "imaginary part of c (pixel centre)")?;
    let (shape, what) = (
        (frame.height, frame.width),
        "escape iteration (max_iter: inside)",
    );
    write_table(&g, "iterations", shape, &img.image, [&y, &x], ("1", what))?;
    let what = "rank that computed the row";
    write_along(&g, "row_rank", &img.row_rank, &y, ("1", what))?;
    let rank = write_index_axis(&g, "rank", 0..times.len() as u64, "MPI rank")?;
    write_along(
        &g,
        "rank_compute_s",
        times,
        &rank,
        ("s", "rank's computing time"),
    )?;
    let what = "iterations the rank computed (the load it carried)";
    write_along(&g, "rank_iterations", iters, &rank, ("1", what))?;
    Ok(())
}

fn mandel_text(r: &MandelReport) -> String {
    let p = &r.phases;
    let [xmin, xmax, ymin, ymax] = r.window.map(|v| num(v, None));
    let area = if r.area_checked {
        format!(
            "known {} <= bound {:.6}: {}",
            mandel::SET_AREA,
            r.area.upper,
            crate::report::verdict(r.area.upper >= mandel::SET_AREA)
        )
    } else {
        "not judged (the window does not hold the whole set)".into()
    };
    format!(
        "parsim mandelbrot {}: escape-time image, {} schedule\n\
         Image            : {} x {} over [{xmin}, {xmax}] x [{ymin}, {ymax}], max-iter {}\n\
         Ranks            : {} (chunk {} rows)\n\
         Inside           : {} pixels, area estimate {:.6}\n\
         Validation       : {} sampled pixels recomputed: {}; {} mirror row pairs: {}; area: {area}\n\
         Balance          : compute min/avg/max {:.4} / {:.4} / {:.4} s, imbalance (max/avg) {:.3}\n\
         Wall time        : {:.6} s\n\
         Rate             : {:.4e} iterations/s, {:.4e} pixels/s\n{}{}",
        r.run.version,
        r.schedule.name(),
        r.width,
        r.height,
        r.max_iter,
        r.run.ranks,
        r.chunk,
        r.area.inside,
        r.area.estimate,
        r.sampled,
        crate::report::verdict(r.samples_ok),
        r.mirror_pairs,
        crate::report::verdict(r.mirror_ok),
        p.compute.min,
        p.compute.avg,
        p.compute.max,
        r.imbalance,
        r.wall_time_s,
        r.iterations_per_s,
        r.pixels_per_s,
        crate::report::phase_table(&[
            ("compute", &p.compute),
            ("wait", &p.wait),
            ("gather/I-O", &p.gather_io)
        ]),
        output_line(&r.output),
    )
}
