//! What a heat run was asked to do ([`HeatJob`], from the command line's
//! validated options) and what it will do on these ranks ([`HeatPlan`]:
//! the configuration merged with a restart, the decomposition, the
//! time-block depth), decided once, alike on every rank; and the Cartesian
//! communicator that must agree with the decomposition.

use mpi::topology::CartesianCommunicator;
use mpi::traits::*;

use super::config::{HeatConfig, HeatRequest};
use super::decomp::{DecompError, Decomposition, Neighbours, ProcGrid};
use super::layout::{Extras, IoMode};
use super::meta::CheckpointMeta;
use crate::cache::CacheShare;
use crate::error::{Failure, Outcome};

/// Everything `parsim heat` was asked to do, each option checked (by
/// `super::options`); [`HeatPlan`] checks them together, against the ranks.
#[derive(Debug, Clone)]
pub struct HeatJob {
    pub request: HeatRequest,
    /// Explicit process grid; `None` picks a balanced one.
    pub grid: Option<ProcGrid>,
    /// The result file and how the report is shown.
    pub out: crate::driver::Output,
    /// Checkpoints: every N steps (heat) or members' work per rank (ou), the
    /// file, the restart.
    pub checkpointing: crate::driver::Checkpointing,
    /// Steps between collective checks for stop signals and blow-up (>= 1).
    pub check_every: u64,
    pub tuning: Tuning,
    /// Compression (1-9), snapshots, XDMF sidecar of the result file.
    pub extras: Extras,
    /// Gather to rank 0, or parallel HDF5.
    pub io: IoMode,
    /// `--refine K`: grids in all (1 without); see `super::refine`.
    pub refine: u32,
    /// Where each grid's run of a `--refine` puts its [max, L2] errors.
    pub errors: Option<std::rc::Rc<std::cell::RefCell<Vec<[f64; 2]>>>>,
}

/// A heat run as planned: the job, its plan on these ranks (merged with
/// the restart's checkpoint, if any) and that checkpoint's metadata.
#[derive(Debug, Clone)]
pub struct HeatStart {
    pub job: HeatJob,
    pub plan: HeatPlan,
    pub resume: Option<CheckpointMeta>,
    /// `--refine K`: each grid's start, coarsest first (empty without).
    pub grids: Vec<HeatStart>,
}

/// How the time loop runs; never changes the results (bitwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// Threads per rank for the stencil (at least 1).
    pub threads: usize,
    /// Overlap the halo exchange with the interior update.
    pub overlap: bool,
    /// Steps per halo exchange and per sweep through memory (ghost depth,
    /// at least 1); `None` picks one from the block size
    /// ([`auto_time_block`]).
    pub time_block: Option<usize>,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            threads: 1,
            overlap: true,
            time_block: None,
        }
    }
}

/// What the run will do on `ranks` ranks.
#[derive(Debug, Clone)]
pub struct HeatPlan {
    pub cfg: HeatConfig,
    pub grid: ProcGrid,
    pub decomp: Decomposition,
    /// Time-block depth (ghost layers, steps per exchange).
    pub depth: usize,
    /// Why the depth is 1 where the tuning asked for more (walls the
    /// time-blocked sweep cannot carry), said in the dry run and report.
    pub depth_note: Option<String>,
    /// The cache figure the depth was derived from, when it was not given
    /// ([`auto_time_block`]).
    pub auto: Option<CacheShare>,
    /// The step the run starts from (0, or the restart's).
    pub start_step: u64,
    /// `--init FILE`: the field's shape and type, as the inputs step read
    /// them (each rank reads its block when the run starts).
    pub init_field: Option<super::field_file::FieldMeta>,
    /// The result file's extras: the job's, except that a restart keeps
    /// the checkpoint's snapshot interval unless given one; no snapshots
    /// without a result file.
    pub extras: Extras,
}

impl HeatPlan {
    /// What a `--dry-run` adds to the options: the values the run resolves
    /// (defaults filled in, dt, the process grid, the time block), as
    /// comments of the printed deck.
    pub fn resolved(&self) -> String {
        let shown = super::source::shown;
        let c = &self.cfg;
        let b = &c.boundaries;
        let walls = super::walls::resolved_line(b);
        let why = match &self.depth_note {
            Some(note) => format!(" ({note})"),
            None => crate::cache::auto_note(self.auto),
        };
        format!(
            "# resolved on {ranks} ranks: {nx} x {ny} points, dx = {dx:?} m, dy = {dy:?} m, \
             alpha = {alpha:?} m2/s,\n# dt = {dt:?} s (limit {limit:?}), {steps} steps to \
             t = {t:?} s, init {init}, {walls},\n\
             # process grid {px}x{py}, time block {depth}{why}\n{source}",
            ranks = self.decomp.ranks(),
            nx = c.nx,
            ny = c.ny,
            dx = c.dx,
            dy = c.dy,
            alpha = c.alpha,
            dt = c.dt,
            limit = super::config::stable_dt(c.dx, c.dy, c.alpha),
            steps = c.steps,
            t = c.time_label(c.steps),
            init = if c.exact.is_some() {
                "exact"
            } else {
                c.init.name()
            },
            px = self.grid.px(),
            py = self.grid.py(),
            depth = self.depth,
            source = c.source.as_ref().map_or(String::new(), |s| {
                let exact = c.exact.as_ref().map_or(String::new(), |e| {
                    format!(
                        "# exact u(x, y, t) = {}: init, walls and source\n",
                        shown(&e.text)
                    )
                });
                format!("{exact}# source S(x, y, t) = {}\n", shown(&s.text))
            }),
        ) + &self.init_field.as_ref().map_or(String::new(), |m| {
            format!(
                "# initial field '{}': [{}, {}] {}, each rank reading its block; its values \
                 (finite) checked when the run starts\n",
                m.shown,
                m.shape[0],
                m.shape[1],
                m.element.name()
            )
        })
    }

    /// The same verdict on every rank: the request merged with a restart,
    /// the process grid, the decomposition and the tuning it allows (an
    /// automatic time block from `cache`, the figure the ranks agreed on:
    /// `crate::par::agreed_cache`).
    pub fn new(
        job: &HeatJob,
        resume: Option<&CheckpointMeta>,
        ranks: usize,
        cache: CacheShare,
    ) -> Outcome<Self> {
        let request = match resume {
            Some(m) => m.merge(&job.request)?,
            None => job.request.clone(),
        };
        let cfg = HeatConfig::new(&request).map_err(Failure::usage)?;
        let grid = match job.grid {
            Some(grid) if grid.size() != ranks => {
                return Err(Failure::usage(DecompError::GridSizeMismatch {
                    grid,
                    ranks,
                }))
            }
            Some(grid) => grid,
            None => ProcGrid::choose(ranks, cfg.nx, cfg.ny).map_err(Failure::usage)?,
        };
        let decomp = Decomposition::new(cfg.nx, cfg.ny, grid)
            .map_err(Failure::usage)?
            .with_periodic(cfg.boundaries.periodic_x(), cfg.boundaries.periodic_y());
        let (depth, depth_note) = match check_tuning(&job.tuning, &decomp, cache)? {
            k if k > 1 && !cfg.boundaries.are_fixed() => (1, Some(super::walls::depth_note(k))),
            k => (k, None),
        };
        let mut extras = job.extras.clone();
        if extras.snapshot_every == 0 {
            extras.snapshot_every = resume.map_or(0, |m| m.snapshot_every);
        }
        if job.out.path.is_none() {
            extras.snapshot_every = 0;
        }
        Ok(Self {
            cfg,
            grid,
            decomp,
            depth,
            depth_note,
            auto: job.tuning.time_block.is_none().then_some(cache),
            start_step: resume.map_or(0, |m| m.stamp.step),
            extras,
            init_field: None,
        })
    }

    /// The checksum of an initial field read from a file (not after a
    /// restart, whose field replaces it).
    pub fn init_sum(&self) -> Option<u64> {
        self.init_field.as_ref().map(|m| m.checksum)
    }

    /// Snapshots the result file will hold: those the restart file carries
    /// (taken before the restart) and this run's, at every multiple of the
    /// interval from its first step to its last.
    pub fn snapshot_count(&self, resume: Option<&CheckpointMeta>) -> u64 {
        let carried = resume.map_or(0, |m| m.snapshots_before_restart().count());
        let steps = (self.start_step, self.cfg.steps);
        super::layout::snapshot_count(self.extras.snapshot_every, steps, carried)
    }

    /// Bytes a rank with `block` needs: the field and its update, with
    /// `depth` ghost layers around the block (everything else is small).
    pub fn memory_need(&self, block: &super::decomp::Block) -> u128 {
        let ghosts = 2 * self.depth as u128;
        // A source without t: its dt S values, one more block (with its
        // ghost layers, about the field's own size).
        let steady = self.cfg.source.as_ref().is_some_and(|s| !s.is_unsteady());
        let source = u128::from(steady) * block.cells() as u128 * 8;
        2 * (block.nx() as u128 + ghosts) * (block.ny() as u128 + ghosts) * 8 + source
    }
}

/// Time-block depth when none is given, from the cache a core can count
/// on (`cache`, read from the OS, never a constant of one machine).
///
/// Whether to block: a block whose two fields fit in the L2 of the cores
/// running it (`threads` of them) is swept at the L2-resident kernel's
/// rate, and blocking would only add ring bookkeeping, so it keeps the
/// overlapped single step. Past L2 the fields stream from a shared L3 or
/// from memory, and blocking mostly pays even where they would fit in L3
/// (measured on Zen 1, time block 8 against 1, medians of 5-7 alternating
/// runs: 1 rank 0.86-1.03 with the fields within L2, 1.04-1.31 past it;
/// 2 ranks 0.71-0.94 within, 1.16-2.12 past, 1.74 at 512^2, whose fields
/// fit in L2 + L3; but one `bench.sh heat` run gave 0.85 for 362^2 on one
/// rank, fields in an L3 no other rank used: the price of the rule).
///
/// How deep: up to [`MAX_AUTO_BLOCK`] steps per sweep, fewer when rows
/// are so wide that the intermediate levels' rings (four rows per level)
/// would not fit in half of the whole per-core share (the other half
/// streams the old and new fields), and never deeper than the smallest
/// block. Decided from rank 0's block and a cache figure agreed by all
/// ranks, so every rank picks the same depth.
pub fn auto_time_block(decomp: &Decomposition, cache: CacheShare, threads: usize) -> usize {
    let per_core = usize::try_from(cache.per_core).unwrap_or(usize::MAX);
    let l2 = usize::try_from(cache.l2).unwrap_or(usize::MAX);
    let block = decomp.block(0);
    let (bx, by) = decomp.min_block();
    if 2 * 8 * block.cells() <= l2.saturating_mul(threads) {
        return 1;
    }
    let ring_bytes = super::sweep::RING * 8 * (block.nx() + 2);
    let by_ring = 1 + (per_core / 2) / ring_bytes;
    MAX_AUTO_BLOCK.min(by_ring).min(bx).min(by).max(1)
}

/// The deepest automatic time block. Deeper blocks cut memory traffic
/// further but recompute more ghost cells and wait longer between
/// exchanges: 12 was the fastest on 2000^2 and 4000^2 (`bench.sh heat`);
/// past it the gain is within noise.
pub const MAX_AUTO_BLOCK: usize = 12;

/// Refuse tunings this decomposition or MPI library cannot carry out; the
/// time-block depth.
fn check_tuning(tuning: &Tuning, decomp: &Decomposition, cache: CacheShare) -> Outcome<usize> {
    if tuning.threads > 1 && mpi::environment::threading_support() < mpi::Threading::Funneled {
        return Err(Failure::usage(format!(
            "--threads {} needs MPI_THREAD_FUNNELED, but this MPI library only provides {:?}",
            tuning.threads,
            mpi::environment::threading_support()
        )));
    }
    let k = tuning
        .time_block
        .unwrap_or_else(|| auto_time_block(decomp, cache, tuning.threads));
    let (bx, by) = decomp.min_block();
    if k > bx || k > by {
        return Err(Failure::usage(format!(
            "--time-block {k} needs every block at least {k} cells wide and tall, but the \
             smallest block on process grid {} is {bx}x{by}",
            decomp.grid()
        )));
    }
    Ok(k)
}

/// Collective: the 2D Cartesian communicator for `decomp` (dims `[py, px]`,
/// periodic along the axes whose walls are, ranks not reordered, so the world rank is the grid rank),
/// checked against the decomposition's own neighbours, or halos would go to
/// the wrong rank.
pub fn cartesian<C: Communicator>(
    world: &C,
    decomp: &Decomposition,
) -> Outcome<CartesianCommunicator> {
    let g = decomp.grid();
    let cart = world
        .create_cartesian_communicator(
            &[g.py() as i32, g.px() as i32],
            &[decomp.periodic().1, decomp.periodic().0],
            false,
        )
        .ok_or_else(|| {
            Failure::runtime(anyhow::anyhow!(
                "MPI_Cart_create gave no communicator for grid {g}"
            ))
        })?;
    let mine = check_neighbours(&cart, decomp.neighbours(cart.rank() as usize));
    crate::par::agree(&cart, mine)?;
    Ok(cart)
}

fn check_neighbours(cart: &CartesianCommunicator, expected: Neighbours) -> Outcome {
    let as_usize = |r: Option<i32>| r.map(|r| r as usize);
    let (down, up) = cart.shift(0, 1);
    let (left, right) = cart.shift(1, 1);
    let got = Neighbours {
        left: as_usize(left),
        right: as_usize(right),
        down: as_usize(down),
        up: as_usize(up),
    };
    if got == expected {
        Ok(())
    } else {
        Err(Failure::runtime(anyhow::anyhow!(
            "rank {}: MPI Cartesian neighbours {got:?} differ from the decomposition's {expected:?}",
            cart.rank()
        )))
    }
}

/// Threads per CPU online that `--threads` may ask for.
pub const THREADS_PER_CPU: usize = 4;

/// Collective: refuse more stencil threads per rank than
/// [`THREADS_PER_CPU`] per CPU online on any rank's node. Threads beyond
/// the cores only take turns on them, so they never speed the stencil up;
/// a few per CPU are allowed so that uneven teams (3 threads on a laptop's
/// 2 cores) can still be run and tested, while a typo such as `--threads
/// 100000` is refused at once instead of spending minutes creating threads
/// that no stop signal can interrupt.
pub fn check_threads<C: mpi::traits::Communicator>(comm: &C, threads: usize) -> Outcome {
    // SAFETY: sysconf only reads a system constant.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as usize;
    let most = THREADS_PER_CPU * online;
    let local = if threads > most {
        Err(Failure::usage(format!(
            "--threads {threads} is more than {THREADS_PER_CPU} per CPU of this node \
             ({most} for its {online}); threads beyond the cores only take turns on them"
        )))
    } else {
        Ok(())
    };
    crate::par::agree(comm, local)
}

/// Rank 0: threads beyond the CPUs this rank may run on (its affinity
/// mask: a launcher that binds each rank to one core) only take turns:
/// say so, with the launcher options that give each rank its cores.
pub fn warn_threads(rank: usize, threads: usize) {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if rank == 0 && threads > cpus {
        crate::console::err_line(&format!(
            "parsim: warning: --threads {threads} but rank 0 may only run on {cpus} CPU(s); give \
             each rank {threads} cores ({})",
            crate::mpi_check::bind_advice(&crate::h5::mpi_library(), threads)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    /// Automatic depth for `nx` x `ny` on `px` x `py` ranks of `threads`
    /// threads, with `l2` bytes of L2 and `per_core` in all per core.
    fn depth(
        nx: usize,
        ny: usize,
        px: usize,
        py: usize,
        cache: (u64, u64),
        threads: usize,
    ) -> usize {
        let d = Decomposition::new(nx, ny, ProcGrid::new(px, py).unwrap()).unwrap();
        let (l2, per_core) = cache;
        let cache = CacheShare {
            per_core,
            l2,
            from_sysfs: true,
        };
        auto_time_block(&d, cache, threads)
    }

    /// This machine: 512 KiB L2, 4.5 MiB with its share of the L3.
    const ZEN1: (u64, u64) = (MIB / 2, 9 * MIB / 2);

    #[test]
    fn blocking_starts_where_the_fields_leave_l2() {
        // 180^2: two fields of 506 KiB stay in L2; 182^2 (518 KiB) do not.
        assert_eq!(depth(180, 180, 1, 1, ZEN1, 1), 1);
        assert_eq!(depth(182, 182, 1, 1, ZEN1, 1), 12);
        // 512^2 fits in L2 + L3 (4 MiB of fields) and still blocks.
        assert_eq!(depth(512, 512, 1, 1, ZEN1, 1), 12);
        // Per rank: 256^2 on 2 ranks is 512 KiB a rank.
        assert_eq!(depth(256, 256, 2, 1, ZEN1, 1), 1);
        assert_eq!(depth(362, 362, 2, 1, ZEN1, 1), 12);
        // A rank's threads bring their cores' L2s: 250^2 (977 KiB) fits
        // in two.
        assert_eq!(depth(250, 250, 1, 1, ZEN1, 2), 1);
        assert_eq!(depth(250, 250, 1, 1, ZEN1, 1), 12);
    }

    #[test]
    fn depth_follows_the_whole_share() {
        // 2000^2 and 4000^2 block 12 deep on 1 and 2 ranks here.
        assert_eq!(depth(2000, 2000, 1, 1, ZEN1, 1), 12);
        assert_eq!(depth(4000, 4000, 2, 1, ZEN1, 1), 12);
        // A small cache: 2000-wide rings (62.6 KiB a level) within 512 KiB.
        assert_eq!(depth(2000, 2000, 1, 1, (MIB / 2, MIB), 1), 1 + 8);
        // Rows so wide that one level's ring overflows half the cache.
        assert_eq!(depth(200_000, 100, 1, 1, (MIB, 2 * MIB), 1), 1);
        // Never deeper than the smallest block.
        assert_eq!(depth(40, 100_000, 4, 1, (MIB, 2 * MIB), 1), 10);
    }
}
