//! The MPI library this build links, recorded so the binary can tell at
//! start-up whether it loaded the same one (`src/mpi_check.rs`), and its
//! library directories embedded as a run path, so the binary finds that
//! library without `LD_LIBRARY_PATH`.
//!
//! The library is found exactly as `mpi-sys` finds it (the same
//! `build-probe-mpi`: `MPICC`, else `mpicc -show`, else pkg-config), then
//! a five-line C program linked the same way prints
//! `MPI_Get_library_version`, which MPI allows before `MPI_Init`.
//!
//! Why not just trust the link: `mpicc -show`'s run path is dropped by
//! the probe, so a binary built for Open MPI 5 loaded Debian's Open MPI
//! 4.1 (both `libmpi.so.40`) without a word, and MPICH builds did not
//! start without `LD_LIBRARY_PATH`. And `mpi-sys` never re-probes: after
//! `MPICC` or a module changes, a reused target directory keeps the old
//! bindings. Then the recorded library and the one loaded differ, and the
//! start-up check says so instead of running on a mismatched ABI.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What the binary gets: `PARSIM_BUILT_MPI` (the library's version line,
/// empty when it could not be read) and its run path.
pub fn record() {
    for var in ["MPICC", "I_MPI_ROOT", "PKG_CONFIG_PATH"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let lib = match build_probe_mpi::probe() {
        Ok(lib) => lib,
        Err(_) => {
            // mpi-sys fails the build with the reasons; nothing to add.
            println!("cargo:rustc-env=PARSIM_BUILT_MPI=");
            return;
        }
    };
    let dirs: Vec<&PathBuf> = lib.lib_paths.iter().filter(|d| !is_system_dir(d)).collect();
    for d in &dirs {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", d.display());
    }
    let version = version_line(&lib.lib_paths, &lib.libs).unwrap_or_else(|why| {
        println!(
            "cargo:warning=parsim: cannot read the MPI library's version ({why}): \
             the start-up check of the MPI library is off in this build"
        );
        String::new()
    });
    println!("cargo:rustc-env=PARSIM_BUILT_MPI={version}");
}

/// Directories the dynamic loader searches anyway: no run path for them.
fn is_system_dir(d: &Path) -> bool {
    let s = d.to_string_lossy();
    let s = s.trim_end_matches('/');
    matches!(s, "/lib" | "/lib64" | "/usr/lib" | "/usr/lib64")
        || (s.starts_with("/usr/lib/") && s.ends_with("-linux-gnu") && s.matches('/').count() == 3)
}

/// The first line of `MPI_Get_library_version` of the library linked
/// with `-L dirs -l libs` (and those dirs as run path).
fn version_line(dirs: &[PathBuf], libs: &[String]) -> Result<String, String> {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("no OUT_DIR")?);
    let src = out.join("mpi_version.c");
    let exe = out.join("mpi_version");
    std::fs::write(
        &src,
        "#include <stdio.h>\n\
         int MPI_Get_library_version(char *version, int *len);\n\
         int main(void) { static char v[8192]; int n = 0;\n\
         if (MPI_Get_library_version(v, &n) != 0) return 1;\n\
         fwrite(v, 1, (size_t)n, stdout); return 0; }\n",
    )
    .map_err(|e| e.to_string())?;
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let mut compile = Command::new(&cc);
    compile.arg(&src).arg("-o").arg(&exe);
    for d in dirs {
        compile.arg(format!("-L{}", d.display()));
        compile.arg(format!("-Wl,-rpath,{}", d.display()));
    }
    for l in libs {
        compile.arg(format!("-l{l}"));
    }
    let built = compile.output().map_err(|e| format!("{cc}: {e}"))?;
    if !built.status.success() {
        let err = String::from_utf8_lossy(&built.stderr);
        return Err(format!("{cc} failed: {}", err.lines().next().unwrap_or("")));
    }
    let ran = Command::new(&exe).output().map_err(|e| e.to_string())?;
    if !ran.status.success() {
        return Err(format!("the probe exited with {}", ran.status));
    }
    let text = String::from_utf8_lossy(&ran.stdout);
    let line = text
        .trim_end_matches('\0')
        .lines()
        .next()
        .unwrap_or("")
        .trim();
    if line.is_empty() {
        return Err("an empty version string".into());
    }
    Ok(line.to_string())
}
