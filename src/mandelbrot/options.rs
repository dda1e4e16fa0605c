//! `parsim mandelbrot`'s options and its plan: every check of them, once.

use clap::Args;
use mpi::traits::Communicator;

use super::kernel::{Frame, Schedule};
use super::run::MandelPlan;
use crate::check::{at_least, at_most, finite};
use crate::error::{Failure, Outcome};
use crate::h5::RunMeta;
use crate::options::OutputArgs;
use crate::report::num;
use crate::spec::{Comm, Growth, Info, Rate, Setting, Size, Spec};
use crate::stop::StopSignal;

#[derive(Debug, Args)]
pub struct MandelArgs {
    /// Image width in pixels (columns).
    #[arg(long, default_value_t = 1500)]
    width: u64,
    /// Image height in pixels (rows).
    #[arg(long, default_value_t = 1000)]
    height: u64,
    /// Iterations before a pixel counts as inside the set.
    #[arg(long, value_name = "M", default_value_t = 20)]
    max_iter: u64,
    /// The window of the complex plane, XMIN,XMAX,YMIN,YMAX.
    #[arg(
        long,
        value_delimiter = ',',
        allow_hyphen_values = true,
        default_value = "-2,1,-1,1"
    )]
    window: Vec<f64>,
    /// How rows are dealt out: block (contiguous), cyclic (row y to rank y
    /// mod P) or dynamic (chunks of rows on request from rank 0).
    #[arg(long, value_enum, default_value_t = Schedule::Dynamic)]
    schedule: Schedule,
    /// Rows per request of the dynamic schedule.
    #[arg(long, value_name = "ROWS", default_value_t = 1)]
    chunk: u64,
    #[command(flatten)]
    out: OutputArgs,
}

/// `parsim mandelbrot` in the registry.
pub struct Mandelbrot;

impl Spec for Mandelbrot {
    type Options = MandelArgs;
    type Plan = MandelPlan;
    type Inputs = ();
    const INFO: Info = Info {
        name: "mandelbrot",
        summary: "Mandelbrot escape-time image (load balancing: block, cyclic or dynamic rows)",
        size: &[Size {
            option: "height",
            weak: Growth::Linear,
            optional: false,
        }],
        rate: Rate {
            field: "iterations_per_s",
            unit: "iterations/s",
        },
        phases: &["compute", "wait", "gather_io"],
        default_output: "mandelbrot.h5",
        group: "/mandelbrot",
        checkpoints: false,
        study: &[
            ("width", "3000"),
            ("height", "2000"),
            ("max_iter", "256"),
            ("schedule", "dynamic"),
        ],
        comm: Comm::Dispatch {
            phase: "wait",
            compute: "compute",
            rows: "height",
            chunk: "chunk",
        },
    };

    fn inputs(_: &MandelArgs, _: &Setting) -> Outcome {
        Ok(())
    }

    fn plan(a: MandelArgs, (): (), _: &Setting) -> Outcome<MandelPlan> {
        let frame = frame_of(&a)?;
        Ok(MandelPlan {
            frame,
            schedule: a.schedule,
            chunk: a.chunk,
            out: a.out.into_output(Self::INFO.default_output),
        })
    }

    fn resolved(p: &MandelPlan, s: &Setting) -> String {
        let f = &p.frame;
        let how = match p.schedule {
            Schedule::Block => "contiguous blocks of rows".to_string(),
            Schedule::Cyclic => format!("row y to rank y mod {}", s.ranks),
            Schedule::Dynamic => format!(
                "chunks of {} row(s) handed out by rank 0 on request (rank 0 computes too)",
                p.chunk
            ),
        };
        let image = f.pixels() as u128 * 4;
        format!(
            "# resolved on {ranks} ranks: {w} x {h} pixels, pixel {px:?} x {py:?}, at most {m} \
             iterations a pixel,\n# rows dealt out as {how},\n# rank 0 gathers the image: \
             about {need} of memory\n# checked when the run starts: free memory, the output file\n",
            ranks = s.ranks,
            w = f.width,
            h = f.height,
            px = f.px,
            py = f.py,
            m = f.max_iter,
            need = crate::memory::shown(2 * image),
        )
    }

    fn output(p: &MandelPlan) -> &crate::driver::Output {
        &p.out
    }

    fn run<C: Communicator>(w: &C, p: &MandelPlan, meta: &RunMeta, stop: &StopSignal) -> Outcome {
        super::run::run(w, p, meta, stop)
    }
}

/// The validated frame (the same verdict on every rank).
fn frame_of(job: &MandelArgs) -> Outcome<Frame> {
    at_least("width", job.width, 1)?;
    at_least("height", job.height, 1)?;
    at_least("max-iter", job.max_iter, 1)?;
    at_most("max-iter", job.max_iter, i32::MAX as u64)?;
    at_least("chunk", job.chunk, 1)?;
    // MPI counts are i32: the gathered image must fit one.
    let pixels = job.width as u128 * job.height as u128;
    if pixels > i32::MAX as u128 {
        return Err(Failure::usage(format!(
            "--width {} x --height {} is {pixels} pixels (at most {}: the image is gathered to rank 0 in one MPI message)",
            job.width,
            job.height,
            i32::MAX
        )));
    }
    let w: [f64; 4] = job.window.clone().try_into().map_err(|_| {
        Failure::usage(format!(
            "--window takes 4 numbers XMIN,XMAX,YMIN,YMAX (got {})",
            job.window.len()
        ))
    })?;
    for v in w {
        finite("window", v)?;
    }
    if !(w[0] < w[1] && w[2] < w[3]) {
        return Err(Failure::usage(format!(
            "--window needs XMIN < XMAX and YMIN < YMAX (got {},{},{},{})",
            num(w[0], None),
            num(w[1], None),
            num(w[2], None),
            num(w[3], None)
        )));
    }
    let f = Frame::new(
        job.width as usize,
        job.height as usize,
        job.max_iter as u32,
        w,
    );
    if !(f.px > 0.0 && f.py > 0.0 && f.px.is_finite() && f.py.is_finite()) {
        return Err(Failure::usage(
            "--window is too small or too large for the image: its pixel size is not a positive finite number",
        ));
    }
    Ok(f)
}
