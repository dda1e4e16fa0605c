//! `parsim pairs`'s options and its plan: every check of them, once, with
//! a points file read and checked by rank 0 in the inputs step.

use clap::Args;
use mpi::traits::Communicator;

use super::plan::{
    checked_size, need, need_tree, Algorithm, PairsPlan, PointsFrom, PointsRead, Shape, MAX_BINS,
};
use super::points::PointsFile;
use crate::error::{Failure, Outcome};
use crate::h5::RunMeta;
use crate::options::OutputArgs;
use crate::spec::{Comm, Growth, Info, Rate, Setting, Size, Spec};
use crate::stop::StopSignal;

#[derive(Debug, Args)]
pub struct PairsArgs {
    /// Read the points: FILE.npy (a 2-D numpy array, f8 or f4), FILE.csv (a
    /// point per line) or FILE.h5:/DATASET (2-D); N x D, one point per row.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["n", "dim", "seed"])]
    points: Option<String>,
    /// Points to generate, uniform in [0, 1)^D (without --points).
    #[arg(long, default_value_t = 2000)]
    n: u64,
    /// Dimension of the generated points.
    #[arg(long, value_name = "D", default_value_t = 2)]
    dim: u64,
    /// Seed of the generated points (point i from its own stream).
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Also write the full N x N distance matrix (row strips gathered to
    /// rank 0 one at a time; at most 46340 points).
    #[arg(long)]
    matrix: bool,
    /// Bins of the histogram of pair distances over [0, bounding-box
    /// diagonal]; 0 for none (saves a square root per pair).
    #[arg(long, default_value_t = 64)]
    bins: u64,
    /// The two-point correlation's pair counts: the --bins B bins over
    /// [0, R] instead, for the pairs closer than R (a pair at distance d < R
    /// in bin floor(d * B / R), the last bin taking what rounds above it; a
    /// pair at exactly R or beyond is not binned, only counted apart). With
    /// --algorithm tree or auto, counted over a grid of cells, in bulk where
    /// a cell's whole range falls in one bin; with ring, pair by pair: the
    /// same counts.
    #[arg(long, value_name = "R")]
    rmax: Option<f64>,
    /// How the pairs are met: `ring` meets every pair (the travelling-block
    /// ring); `tree` finds each point's nearest neighbour through a tree of
    /// boxes along a Morton curve, skipping what cannot be nearer (needs
    /// --bins 0, no --matrix); `auto` takes the tree for neighbours only
    /// (--bins 0, no --matrix) of at least 1000 points in up to 3-D or
    /// 32768 in up to 8-D, else the ring. The same bits either way.
    #[arg(long, value_enum, default_value_t = Algorithm::Auto)]
    algorithm: Algorithm,
    #[command(flatten)]
    out: OutputArgs,
}

/// N and D of the points, wherever they come from.
fn size(source: &PointsFrom) -> (u64, u64) {
    match source {
        PointsFrom::File(_, read) => (read.shape.n as u64, read.shape.dim as u64),
        PointsFrom::Generated { n, dim, .. } => (*n, *dim),
    }
}

/// `--rmax R`: a positive finite distance, with histogram bins, without
/// the matrix (which needs every pair).
fn checked_rmax(a: &PairsArgs) -> Outcome {
    let Some(r) = a.rmax else {
        return Ok(());
    };
    let why = if !(r.is_finite() && r > 0.0) {
        "must be a positive finite distance"
    } else if a.bins == 0 {
        "bins the pairs closer than R: give --bins B > 0"
    } else if a.matrix {
        "counts the pairs closer than R, --matrix needs every pair: drop one"
    } else {
        return Ok(());
    };
    Err(Failure::usage(format!("--rmax {r}: {why}")))
}

/// `parsim pairs` in the registry.
pub struct Pairs;

impl Spec for Pairs {
    type Options = PairsArgs;
    type Plan = PairsPlan;
    type Inputs = Option<PointsRead>;
    const INFO: Info = Info {
        name: "pairs",
        summary: "All pairs of N points by the travelling-block ring: closest pair, nearest neighbours, histogram",
        size: &[Size {
            option: "n",
            weak: Growth::Sqrt,
            optional: false,
        }],
        rate: Rate {
            field: "pairs_per_s",
            unit: "pairs/s",
        },
        phases: &["compute", "ring_wait", "transpose", "gather_io"],
        default_output: "pairs.h5",
        group: "/pairs",
        checkpoints: false,
        study: &[("n", "40000"), ("dim", "3")],
        comm: Comm::Ring {
            phase: "ring_wait",
            compute: "compute",
            n: "n",
            dim: "dim",
        },
    };

    fn inputs(a: &PairsArgs, _: &Setting) -> Outcome<Option<PointsRead>> {
        let file = a.points.as_deref().map(PointsFile::parse).transpose();
        let file = file.map_err(Failure::usage)?;
        file.map(|f| super::input::read_file(&f, a.matrix))
            .transpose()
    }

    fn plan(a: PairsArgs, read: Option<PointsRead>, _: &Setting) -> Outcome<PairsPlan> {
        checked_rmax(&a)?;
        let source = match (a.points, read) {
            (Some(p), Some(read)) => {
                PointsFrom::File(PointsFile::parse(&p).map_err(Failure::usage)?, read)
            }
            _ => PointsFrom::Generated {
                n: a.n,
                dim: a.dim,
                seed: a.seed,
            },
        };
        if a.bins > MAX_BINS {
            return Err(Failure::usage(format!(
                "--bins {} is too many (at most {MAX_BINS})",
                a.bins
            )));
        }
        // A file's size was checked when it was read.
        if let PointsFrom::Generated { n, dim, .. } = source {
            checked_size(n, dim, a.matrix, "--n")?;
        }
        if a.algorithm == Algorithm::Tree && ((a.bins > 0 && a.rmax.is_none()) || a.matrix) {
            return Err(Failure::usage(format!(
                "--algorithm tree finds nearest neighbours, the closest pair and with --rmax the \
                 pairs within R: {} needs every pair (give --bins 0{}, or --algorithm ring)",
                if a.matrix {
                    "--matrix"
                } else {
                    "a histogram (--bins)"
                },
                if a.matrix { " and drop --matrix" } else { "" },
            )));
        }
        let (n, dim) = size(&source);
        Ok(PairsPlan {
            algorithm: a.algorithm.chosen(
                n as usize,
                dim as usize,
                a.bins,
                a.matrix,
                a.rmax.is_some(),
            ),
            source,
            matrix: a.matrix,
            bins: a.bins,
            rmax: a.rmax,
            out: a.out.into_output(Self::INFO.default_output),
        })
    }

    fn resolved(p: &PairsPlan, s: &Setting) -> String {
        let extras = format!(
            "{} histogram bins over {}{}",
            p.bins,
            p.rmax.map_or("[0, diagonal]".into(), |r| format!(
                "[0, R = {r:e}] (the pairs closer than R, pair by pair)"
            )),
            if p.matrix {
                ", the distance matrix"
            } else {
                ""
            }
        );
        let (n, dim) = size(&p.source);
        let shape = Shape {
            n: n as usize,
            dim: dim as usize,
            diagonal: 0.0,
            scale: super::range::Scale::ONE,
        };
        let pairs = n as u128 * (n as u128 - 1) / 2;
        if p.algorithm == Algorithm::Tree {
            return format!(
                "# resolved on {ranks} ranks: {n} points in {dim}-D, algorithm tree: nearest \
                 neighbours through a tree of\n# boxes over a Morton curve, leaves of at most {leaf} points, each \
                 rank the queries of a range of the curve;{cells}\n# about {need} of memory per rank\n\
                 # checked when the run starts: free memory, the output file\n",
                ranks = s.ranks,
                cells = p.rmax.map_or(String::new(), |r| format!(
                    "\n# and {} histogram bins over [0, R = {r:e}] of the pairs closer than R, over a \
                     grid of cells of about R/{} (in bulk where a point's range to a cell is in one \
                     bin), each rank a run of the cells",
                    p.bins,
                    super::cells::REFINE
                )),
                leaf = super::tree::LEAF,
                need = crate::memory::shown(need_tree(&shape, 0, p.rmax.is_some())),
            );
        }
        let block = n.div_ceil(s.ranks as u64);
        format!(
            "# resolved on {ranks} ranks: {n} points in {dim}-D, algorithm ring: {pairs} pairs, blocks of at most \
             {block} points,\n# each rank meets its own block, then {steps} travelling block(s) \
             (up to P/2 places ahead); {extras},\n# about {need} of memory on rank 0\n\
             # checked when the run starts: free memory, the output file\n",
            ranks = s.ranks,
            steps = super::kernel::ring_steps(s.ranks),
            need = crate::memory::shown(need(&shape, s.ranks, 0, p.matrix)),
        )
    }

    fn output(p: &PairsPlan) -> &crate::driver::Output {
        &p.out
    }

    fn reads(p: &PairsPlan) -> Vec<(&'static str, std::path::PathBuf)> {
        match &p.source {
            PointsFrom::File(f, _) => vec![("--points", f.path().to_path_buf())],
            PointsFrom::Generated { .. } => Vec::new(),
        }
    }

    fn run<C: Communicator>(w: &C, p: &PairsPlan, meta: &RunMeta, stop: &StopSignal) -> Outcome {
        super::run::run(w, p, meta, stop)
    }
}
