//! Small collective helpers on top of rsmpi that every workload shares:
//! agreeing on an error, min/avg/max over ranks, aborting the job.

use mpi::collective::SystemOperation;
use mpi::traits::*;
use serde::Serialize;

use std::path::Path;

use crate::error::{ExitCode, Failure, Outcome};
use crate::output::PendingOutput;

/// Collective: every rank passes what it knows; all ranks return the same
/// outcome. When some ranks failed, the failure of the lowest such rank is
/// broadcast, so rank 0 can print it even when only another rank saw it.
/// Used after steps that can fail on some ranks only (file checks on rank 0,
/// allocation), so no rank goes on into a collective the others skipped.
pub fn agree<C: Communicator>(comm: &C, local: Outcome) -> Outcome {
    let size = comm.size();
    let mine = if local.is_err() { comm.rank() } else { size };
    let mut first = size;
    comm.all_reduce_into(&mine, &mut first, SystemOperation::min());
    if first == size {
        return Ok(());
    }
    let root = comm.process_at_rank(first);
    let (mut code, bytes) = match local {
        Err(f) => (f.code as i32, f.message.into_bytes()),
        Ok(()) => (0, Vec::new()),
    };
    root.broadcast_into(&mut code);
    let bytes = broadcast_bytes(&root, bytes);
    Err(Failure {
        code: ExitCode::from_code(code),
        message: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// Collective: a verdict only rank 0 knows (`passed` is ignored elsewhere)
/// becomes every rank's outcome: a validation failure with `message`.
pub fn root_verdict<C: Communicator>(comm: &C, passed: bool, message: &str) -> Outcome {
    let local = if comm.rank() != 0 || passed {
        Ok(())
    } else {
        Err(Failure::validation(message))
    };
    agree(comm, local)
}

/// Collective: rank 0 computes `read` (nobody else calls it) and every rank
/// gets its value or its failure. Carried as JSON: for small structured data
/// only rank 0 can read (checkpoint metadata). serde_json's `float_roundtrip`
/// feature makes every f64 arrive bit for bit: ranks that disagreed by one
/// ulp on a parameter could take different decisions and hang the job.
pub fn broadcast_json<C, T>(comm: &C, read: impl FnOnce() -> Outcome<T>) -> Outcome<T>
where
    C: Communicator,
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let mut value = None;
    let local = if comm.rank() == 0 {
        read().and_then(|v| {
            let bytes = serde_json::to_vec(&v).map_err(|e| {
                Failure::runtime(anyhow::anyhow!("cannot encode rank 0's data: {e}"))
            })?;
            value = Some((v, bytes));
            Ok(())
        })
    } else {
        Ok(())
    };
    // Reading and encoding are rank 0's: every rank learns if either failed.
    agree(comm, local)?;
    let root = comm.process_at_rank(0);
    match value {
        Some((v, bytes)) => {
            broadcast_bytes(&root, bytes);
            Ok(v)
        }
        None => serde_json::from_slice(&broadcast_bytes(&root, Vec::new()))
            .map_err(|e| Failure::runtime(anyhow::anyhow!("broadcast of rank 0's data: {e}"))),
    }
}

/// Collective: `root`'s `bytes` (whatever the others pass) on every rank.
fn broadcast_bytes(root: &mpi::topology::Process<'_>, mut bytes: Vec<u8>) -> Vec<u8> {
    let mut len = bytes.len() as u64;
    root.broadcast_into(&mut len);
    bytes.resize(len as usize, 0);
    root.broadcast_into(&mut bytes[..]);
    bytes
}

/// Collective: rank 0's `s` on every rank (what other ranks pass is
/// ignored): values every rank must write alike, e.g. into a parallel HDF5
/// file.
pub fn broadcast_string<C: Communicator>(comm: &C, s: &str) -> String {
    let bytes = broadcast_bytes(&comm.process_at_rank(0), s.as_bytes().to_vec());
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Collective: rank 0 runs `check`, then, when `path` is given, reserves it
/// (no existing file replaced without `force`, see [`PendingOutput`]) and
/// creates the file with `create`. Every rank learns the outcome, so no rank
/// computes on while rank 0 could not write; rank 0 gets the file.
pub fn create_on_root<C, F>(
    comm: &C,
    check: impl FnOnce() -> Outcome,
    path: Option<&Path>,
    force: bool,
    create: impl FnOnce(PendingOutput) -> anyhow::Result<F>,
) -> Outcome<Option<F>>
where
    C: Communicator,
{
    create_on_root_as(comm, check, (path, force, "output"), create)
}

/// As [`create_on_root`], for a file called `what` in messages ("trace").
pub fn create_on_root_as<C, F>(
    comm: &C,
    check: impl FnOnce() -> Outcome,
    (path, force, what): (Option<&Path>, bool, &'static str),
    create: impl FnOnce(PendingOutput) -> anyhow::Result<F>,
) -> Outcome<Option<F>>
where
    C: Communicator,
{
    let mut file = None;
    let local = if comm.rank() == 0 {
        check().and_then(|()| match path {
            Some(path) => PendingOutput::prepare_as(path, force, what)
                .and_then(|out| create(out).map_err(Failure::runtime))
                .map(|f| file = Some(f)),
            None => Ok(()),
        })
    } else {
        Ok(())
    };
    agree(comm, local)?;
    Ok(file)
}

/// Where each part starts when parts of these sizes lie end to end: the
/// displacements of a varcount gather, scatter or all-to-all.
pub fn displacements(counts: &[i32]) -> Vec<i32> {
    counts
        .iter()
        .scan(0, |s, &c| {
            let d = *s;
            *s += c;
            Some(d)
        })
        .collect()
}

/// Collective: the exact sums of every rank added up on rank 0, as limbs
/// (4 per sum; integers, so the total is the same in any order); empty
/// elsewhere.
pub fn reduce_exact_sums<C: Communicator>(comm: &C, sums: &[crate::exact::ExactSum]) -> Vec<i64> {
    let limbs: Vec<i64> = sums.iter().flat_map(|s| s.limbs()).collect();
    let root = comm.process_at_rank(0);
    if comm.rank() == 0 {
        let mut total = vec![0i64; limbs.len()];
        root.reduce_into_root(&limbs[..], &mut total[..], SystemOperation::sum());
        total
    } else {
        root.reduce_into(&limbs[..], SystemOperation::sum());
        Vec::new()
    }
}

/// A quantity measured on every rank, summarised over ranks. The spread
/// between min and max is the load imbalance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub min: f64,
    pub avg: f64,
    pub max: f64,
}

impl Spread {
    /// One value standing for every rank (known on one rank only).
    pub fn uniform(x: f64) -> Self {
        Self {
            min: x,
            avg: x,
            max: x,
        }
    }
}

/// Collective: min/avg/max over ranks of each of `local` (one reduction per
/// operation for all values at once).
pub fn spreads<C: Communicator, const N: usize>(comm: &C, local: [f64; N]) -> [Spread; N] {
    let mut min = [0.0; N];
    let mut max = [0.0; N];
    let mut sum = [0.0; N];
    comm.all_reduce_into(&local[..], &mut min[..], SystemOperation::min());
    comm.all_reduce_into(&local[..], &mut max[..], SystemOperation::max());
    comm.all_reduce_into(&local[..], &mut sum[..], SystemOperation::sum());
    let n = comm.size() as f64;
    std::array::from_fn(|k| Spread {
        min: min[k],
        avg: sum[k] / n,
        max: max[k],
    })
}

/// Collective sum / min / max of one value.
pub fn sum<C: Communicator>(comm: &C, x: f64) -> f64 {
    let mut out = 0.0;
    comm.all_reduce_into(&x, &mut out, SystemOperation::sum());
    out
}

pub fn min<C: Communicator>(comm: &C, x: f64) -> f64 {
    let mut out = 0.0;
    comm.all_reduce_into(&x, &mut out, SystemOperation::min());
    out
}

pub fn max<C: Communicator>(comm: &C, x: f64) -> f64 {
    let mut out = 0.0;
    comm.all_reduce_into(&x, &mut out, SystemOperation::max());
    out
}

/// Collective: every rank's string, in rank order, on every rank.
pub fn all_gather_strings<C: Communicator>(comm: &C, mine: &str) -> Vec<String> {
    let n = comm.size() as usize;
    let len = mine.len() as u64;
    let mut lens = vec![0u64; n];
    comm.all_gather_into(&len, &mut lens[..]);
    let width = lens.iter().copied().max().unwrap_or(0) as usize;
    let mut padded = mine.as_bytes().to_vec();
    padded.resize(width, 0);
    let mut all = vec![0u8; width * n];
    comm.all_gather_into(&padded[..], &mut all[..]);
    all.chunks(width.max(1))
        .zip(&lens)
        .map(|(c, &l)| String::from_utf8_lossy(&c[..l as usize]).into_owned())
        .collect()
}

/// Collective: every rank's string, in rank order, on rank 0 only (`None`
/// elsewhere): one varcount gather, so only rank 0 holds them all.
pub fn gather_strings<C: Communicator>(comm: &C, mine: &str) -> Option<Vec<String>> {
    use mpi::datatype::PartitionMut;
    let root = comm.process_at_rank(0);
    // A rank's part is counted in i32 (MPI counts): the callers keep theirs
    // far below 2 GiB (see trace::MAX_SPANS).
    let len = i32::try_from(mine.len()).unwrap_or(i32::MAX);
    let bytes = &mine.as_bytes()[..len as usize];
    if comm.rank() != 0 {
        root.gather_into(&len);
        root.gather_varcount_into(bytes);
        return None;
    }
    let mut lens = vec![0i32; comm.size() as usize];
    root.gather_into_root(&len, &mut lens[..]);
    let displs = displacements(&lens);
    let mut all = vec![0u8; lens.iter().map(|&l| l as usize).sum()];
    let mut parts = PartitionMut::new(&mut all[..], &lens[..], &displs[..]);
    root.gather_varcount_into_root(bytes, &mut parts);
    Some(
        lens.iter()
            .zip(&displs)
            .map(|(&l, &d)| {
                String::from_utf8_lossy(&all[d as usize..(d + l) as usize]).into_owned()
            })
            .collect(),
    )
}

/// Peak resident memory of this process in MiB (`VmHWM` of
/// /proc/self/status; 0 where that does not exist).
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Peak memory of rank 0 and the largest among the other ranks (0 with
/// one rank), in MiB, known to every rank: rank 0 is the one that gathers.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct PeakMemory {
    pub rank0_mib: f64,
    pub max_worker_mib: f64,
}

/// Collective: see [`PeakMemory`].
pub fn peak_memory<C: Communicator>(comm: &C) -> PeakMemory {
    let mine = peak_rss_mib();
    let rank0 = if comm.rank() == 0 { mine } else { 0.0 };
    let worker = if comm.rank() == 0 { 0.0 } else { mine };
    PeakMemory {
        rank0_mib: max(comm, rank0),
        max_worker_mib: max(comm, worker),
    }
}

/// Make a panic on any rank end the whole job instead of leaving the other
/// ranks blocked in a collective: print one line naming the rank, then
/// MPI_Abort on MPI_COMM_WORLD with exit code 70.
pub fn install_panic_abort(rank: i32) {
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        crate::console::err_line(&format!(
            "parsim: rank {rank} panicked{at}: {}; aborting the job",
            crate::error::one_line(&msg)
        ));
        // No destructor runs after MPI_Abort: remove this rank's temporaries
        // and output locks now, and rank 0's (MPI_Abort kills it too).
        let removed = crate::output::remove_live();
        if removed > 0 {
            crate::console::err_line(&format!(
                "parsim: rank {rank}: removed the job's {removed} temporary file(s) and lock(s)"
            ));
        }
        // SAFETY: MPI is initialised (the hook is installed after
        // initialisation) and MPI_Abort does not return.
        unsafe {
            mpi::ffi::MPI_Abort(mpi::ffi::RSMPI_COMM_WORLD, ExitCode::Panic as i32);
        }
    }));
}

/// Collective: every rank learns rank 0's temporaries and locks (see
/// `crate::output::adopt_job_live`), so that a rank that panics can remove
/// them; called once the outputs are reserved, before the first round.
pub fn share_live<C: Communicator>(comm: &C) {
    let paths = broadcast_json(comm, || Ok(crate::output::live_paths()));
    if comm.rank() != 0 {
        crate::output::adopt_job_live(paths.unwrap_or_default());
    }
}

/// Collective: the cache figure every rank plans with, the smallest any
/// rank's node reports (nodes of one job may differ; they must agree on
/// one depth).
pub fn agreed_cache<C: Communicator>(comm: &C) -> crate::cache::CacheShare {
    let mine = crate::cache::CacheShare::local();
    let local = [mine.per_core, mine.l2, u64::from(mine.from_sysfs)];
    let mut least = [0u64; 3];
    comm.all_reduce_into(&local[..], &mut least[..], SystemOperation::min());
    crate::cache::CacheShare {
        per_core: least[0],
        l2: least[1],
        from_sysfs: least[2] == 1,
    }
}

/// Collective: refuse the run, on every rank alike, when any rank's `need`
/// (bytes, for `what`) exceeds what its node has available.
pub fn check_memory<C: Communicator>(comm: &C, need: u128, what: &str) -> Outcome {
    let local = crate::memory::verdict(comm.rank(), need, what, crate::memory::available());
    agree(comm, local)
}
