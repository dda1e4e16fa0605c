//! Build script: record the git commit the binary is built from, so every
//! result file can say which source produced it, and the MPI library it
//! links (`build/mpi.rs`), so the binary can refuse another one.
//!
//! `git describe` when the git program is there; otherwise the commit is read
//! from the checkout's own files (a clone copied to a machine without git,
//! as on a fresh Debian root, still knows its commit), marked "-nogit"
//! because whether the tree was modified cannot be told without git.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "build/mpi.rs"]
mod mpi;

fn main() {
    mpi::record();
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let commit = git(&["describe", "--always", "--dirty", "--abbrev=12"])
        .or_else(|| head_from_files(&manifest).map(|c| format!("{}-nogit", &c[..12])))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=PARSIM_GIT_COMMIT={commit}");
    // Rebuild when HEAD moves (new commit, checkout) or the index changes
    // (dirty state); a missing path (no git) is simply ignored by cargo.
    let dirs = git(&["rev-parse", "--git-dir"])
        .map(|d| (PathBuf::from(d), git(&["symbolic-ref", "-q", "HEAD"])))
        .or_else(|| git_dirs(&manifest).map(|(dir, _)| (dir.clone(), symbolic_head(&dir))));
    if let Some((dir, head)) = dirs {
        println!("cargo:rerun-if-changed={}/HEAD", dir.display());
        println!("cargo:rerun-if-changed={}/index", dir.display());
        if let Some(head) = head {
            println!("cargo:rerun-if-changed={}/{head}", dir.display());
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// The checkout's git dir and common dir (they differ in a worktree, whose
/// `.git` is a file `gitdir: PATH`).
fn git_dirs(top: &Path) -> Option<(PathBuf, PathBuf)> {
    let dot = top.join(".git");
    let dir = if dot.is_dir() {
        dot
    } else {
        let text = fs::read_to_string(&dot).ok()?;
        top.join(text.strip_prefix("gitdir:")?.trim())
    };
    let common = match fs::read_to_string(dir.join("commondir")) {
        Ok(c) => dir.join(c.trim()),
        Err(_) => dir.clone(),
    };
    Some((dir, common))
}

/// `refs/heads/NAME` when HEAD names a branch.
fn symbolic_head(dir: &Path) -> Option<String> {
    let head = fs::read_to_string(dir.join("HEAD")).ok()?;
    Some(head.strip_prefix("ref:")?.trim().to_string())
}

/// HEAD's commit id from the files: a detached HEAD holds it, a branch's
/// ref file or `packed-refs` line does otherwise.
fn head_from_files(top: &Path) -> Option<String> {
    let (dir, common) = git_dirs(top)?;
    let id = match symbolic_head(&dir) {
        None => fs::read_to_string(dir.join("HEAD"))
            .ok()?
            .trim()
            .to_string(),
        Some(name) => match fs::read_to_string(common.join(&name)) {
            Ok(id) => id.trim().to_string(),
            Err(_) => packed_ref(&common, &name)?,
        },
    };
    (id.len() >= 40 && id.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

/// The id of `name` in `packed-refs` (lines "ID NAME").
fn packed_ref(common: &Path, name: &str) -> Option<String> {
    let packed = fs::read_to_string(common.join("packed-refs")).ok()?;
    packed.lines().find_map(|l| {
        let (id, n) = l.split_once(' ')?;
        (n.trim() == name).then(|| id.to_string())
    })
}
