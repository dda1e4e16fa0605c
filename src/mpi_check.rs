//! Start-up check: the MPI library loaded is the one this binary was
//! built for (`build/mpi.rs` records its version line).
//!
//! Two MPIs can share a library name (Open MPI 4.1 and 5 are both
//! `libmpi.so.40`; MPICH and Intel MPI both `libmpi.so.12`), so the loader
//! takes whichever comes first on `LD_LIBRARY_PATH` or a module's path and
//! nothing complains until a message is sent with another ABI's layout,
//! or never. Checked before `MPI_Init` (`MPI_Get_library_version` may be
//! called then), since `MPI_Init` itself may already misbehave.
//!
//! MPICH-family libraries are ABI-compatible by design (build with MPICH,
//! run with Intel MPI or Cray MPICH); `PARSIM_ALLOW_OTHER_MPI=1` lets such
//! a run go on, with the library it really used recorded in every result
//! file as always.

/// The recorded version line of the MPI library this binary was built
/// for; empty when the build could not read it (then nothing is checked).
pub const BUILT_FOR: &str = env!("PARSIM_BUILT_MPI");

/// Set to 1 to run with another (ABI-compatible) MPI library.
pub const ALLOW_VAR: &str = "PARSIM_ALLOW_OTHER_MPI";

/// The refusal, or `None` when `loaded` is the library built for (or the
/// check cannot or need not be made). `path` is where the loaded library
/// lives, when known.
pub fn verdict(built: &str, loaded: &str, path: Option<&str>, allowed: bool) -> Option<String> {
    if built.is_empty() || loaded.is_empty() || loaded == "unknown" || built == loaded || allowed {
        return None;
    }
    let from = path.map(|p| format!(" from {p}")).unwrap_or_default();
    Some(format!(
        "this parsim was built for the MPI library '{built}' but loaded '{loaded}'{from}: \
         run it with the MPI it was built for (its mpiexec, module or LD_LIBRARY_PATH), or \
         rebuild it for this one (a target directory per MPI, or cargo clean -p mpi-sys -p mpi); \
         {ALLOW_VAR}=1 runs it anyway with an ABI-compatible MPI"
    ))
}

/// The file the MPI library was loaded from: the first `libmpi` mapped
/// into this process (Linux), if any.
pub fn loaded_path() -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| {
            let name = p.rsplit('/').next().unwrap_or("");
            name.starts_with("libmpi.so") || name.starts_with("libmpi_abi.so")
        })
        .map(str::to_string)
}

/// The rank this process will have, from the launcher's environment
/// (before MPI is initialised): only rank 0 prints the refusal.
pub fn launcher_rank() -> u64 {
    [
        "OMPI_COMM_WORLD_RANK",
        "PMIX_RANK",
        "PMI_RANK",
        "SLURM_PROCID",
    ]
    .iter()
    .find_map(|v| std::env::var(v).ok()?.parse().ok())
    .unwrap_or(0)
}

/// The refusal for this process, if the library loaded is not the one
/// built for.
pub fn check() -> Option<String> {
    let allowed = std::env::var(ALLOW_VAR).is_ok_and(|v| v == "1");
    verdict(
        BUILT_FOR,
        &crate::h5::mpi_library(),
        loaded_path().as_deref(),
        allowed,
    )
}

/// How to give each rank `threads` cores with the launcher of the MPI
/// library `library` (its version line): each family binds differently,
/// and a rank bound to one core runs its threads in turn.
pub fn bind_advice(library: &str, threads: usize) -> String {
    let t = threads;
    let launcher = if library.starts_with("Intel") {
        format!("I_MPI_PIN_DOMAIN={t} mpiexec")
    } else if library.contains("MPICH") {
        format!("mpiexec -bind-to core:{t}")
    } else {
        format!("mpirun --map-by slot:PE={t}")
    };
    format!("{launcher}, or srun --cpus-per-task={t}")
}

/// srun's MPI plugin for the MPI library `library`: Open MPI's ranks
/// speak PMIx; MPICH's and Intel MPI's (simple PMI client) PMI-2, which
/// SLURM's `pmi2` plugin serves. Job scripts take it from `parsim
/// --version`.
pub fn srun_plugin(library: &str) -> &'static str {
    if library.starts_with("Open MPI") {
        "--mpi=pmix"
    } else {
        "--mpi=pmi2"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_advice_names_the_launcher_of_the_library() {
        let a = |lib| bind_advice(lib, 4);
        assert!(a("Open MPI v5.0.11, package").starts_with("mpirun --map-by slot:PE=4"));
        assert!(a("MPICH Version:      5.0.2").starts_with("mpiexec -bind-to core:4"));
        assert!(a("Intel(R) MPI Library 2021.18.1 for Linux* OS").starts_with("I_MPI_PIN_DOMAIN=4"));
        assert!(a("unknown").ends_with("srun --cpus-per-task=4"));
    }

    #[test]
    fn srun_plugin_by_family() {
        assert_eq!(srun_plugin("Open MPI v4.1.4, package"), "--mpi=pmix");
        assert_eq!(srun_plugin("MPICH Version:      5.0.2"), "--mpi=pmi2");
        assert_eq!(srun_plugin("Intel(R) MPI Library 2021.18.1"), "--mpi=pmi2");
    }

    #[test]
    fn only_another_library_is_refused() {
        let ompi4 = "Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4";
        let ompi5 = "Open MPI v5.0.11, package: Open MPI, ident: 5.0.11";
        assert_eq!(verdict(ompi4, ompi4, None, false), None);
        // Not recorded, or not readable now: nothing to compare.
        assert_eq!(verdict("", ompi4, None, false), None);
        assert_eq!(verdict(ompi4, "unknown", None, false), None);
        assert_eq!(verdict(ompi5, ompi4, None, true), None);
        let e = verdict(ompi5, ompi4, Some("/usr/lib/libmpi.so.40"), false).unwrap();
        assert!(
            e.contains(&format!("built for the MPI library '{ompi5}'")),
            "{e}"
        );
        assert!(
            e.contains(&format!("loaded '{ompi4}' from /usr/lib/libmpi.so.40")),
            "{e}"
        );
        assert!(
            e.contains("PARSIM_ALLOW_OTHER_MPI=1") && !e.contains('\n'),
            "{e}"
        );
    }

    #[test]
    fn this_process_loaded_the_library_it_was_built_for() {
        // The unit tests link the same MPI as the binary.
        assert_eq!(check(), None);
    }
}
