//! `scripts/setup.sh --check` finds what each build step really loads.
//!
//! The first README command once said "all dependencies installed" and then
//! failed in bindgen: a name pattern took `libclang-cpp.so.14` (LLVM's C++
//! library, on Debian's images by default) for libclang. These cases pin the
//! checks to what the build itself accepts, each in a temp dir of its own.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `setup.sh --check` with `env` set (and the library search variables that
/// would widen the search cleared).
fn check(env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(Path::new(ROOT).join("scripts/setup.sh"));
    cmd.arg("--check")
        .env_remove("LIBCLANG_PATH")
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("LIBRARY_PATH")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run scripts/setup.sh")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// The "missing:" line, or "" when nothing is missing.
fn missing_line(out: &Output) -> String {
    text(out)
        .lines()
        .find(|l| l.starts_with("setup: missing:"))
        .unwrap_or("")
        .to_string()
}

/// A real 64-bit ELF file (this test's own executable) at `path`.
fn elf64(path: &Path) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::copy(std::env::current_exe().unwrap(), path).unwrap();
}

#[test]
fn libclang_cpp_alone_is_missing_and_names_the_package() {
    let t = tempfile_dir("cpp-only");
    elf64(&t.join("libclang-cpp.so.14"));
    let out = check(&[("LIBCLANG_PATH", &t)]);
    let line = missing_line(&out);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        line.contains("libclang") && line.contains("libclang-dev"),
        "{}",
        text(&out)
    );
}

#[test]
fn versioned_libclang_is_found_in_a_directory_or_as_a_file() {
    for name in [
        "libclang-14.so.1",
        "libclang.so",
        "libclang.so.1",
        "libclang-17.so",
    ] {
        let t = tempfile_dir(&format!("ok-{name}"));
        let lib = t.join(name);
        elf64(&lib);
        elf64(&t.join("libclang-cpp.so.14"));
        for place in [&t, &lib] {
            let out = check(&[("LIBCLANG_PATH", place)]);
            assert!(
                !missing_line(&out).contains("libclang"),
                "{name}: {}",
                text(&out)
            );
        }
    }
}

#[test]
fn libclang_that_is_not_a_64bit_elf_is_missing() {
    let t = tempfile_dir("not-elf");
    fs::write(t.join("libclang.so"), "INPUT(-lclang-14)\n").unwrap(); // a linker script
    let mut elf32 = vec![0x7f, b'E', b'L', b'F', 1];
    elf32.resize(64, 0);
    fs::write(t.join("libclang-14.so.1"), elf32).unwrap();
    let out = check(&[("LIBCLANG_PATH", &t)]);
    assert!(
        missing_line(&out).contains("libclang-dev"),
        "{}",
        text(&out)
    );
}

#[test]
fn system_directories_are_searched_like_clang_sys() {
    // Debian's layout: the C library under the llvm dir or the multiarch dir.
    let cpp_only = tempfile_dir("sys-cpp");
    elf64(&cpp_only.join("usr/lib/llvm-14/lib/libclang-cpp.so.14"));
    elf64(&cpp_only.join("usr/lib/x86_64-linux-gnu/libclang-cpp.so.14"));
    let have = tempfile_dir("sys-ok");
    elf64(&have.join("usr/lib/x86_64-linux-gnu/libclang-14.so.1"));
    if which("llvm-config") {
        eprintln!("note: llvm-config is on PATH; the sysroot case only checks the found one");
    } else {
        let out = check(&[("PARSIM_SETUP_SYSROOT", &cpp_only)]);
        assert!(
            missing_line(&out).contains("libclang-dev"),
            "{}",
            text(&out)
        );
    }
    let out = check(&[("PARSIM_SETUP_SYSROOT", &have)]);
    assert!(!missing_line(&out).contains("libclang"), "{}", text(&out));
}

#[test]
fn a_c_compiler_that_cannot_link_is_missing() {
    // `cc` present but unable to build (as gcc without libc6-dev): the check
    // compiles a program rather than trusting the name.
    let t = tempfile_dir("bad-cc");
    let cc = t.join("cc");
    let script = t.join("cc.txt");
    fs::write(
        &script,
        "#!/bin/sh\necho 'cannot find crt1.o' >&2\nexit 1\n",
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    common::copy_executable(&script, &cc);
    let path = format!("{}:{}", t.display(), std::env::var("PATH").unwrap());
    let out = check(&[("PATH", Path::new(&path))]);
    let line = missing_line(&out);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        line.contains("C compiler") && line.contains("libc6-dev"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_build_needs_no_libffi_and_so_no_make() {
    // The mpi crate's default `user-operations` feature builds libffi from
    // source with make; parsim uses MPI's predefined reductions only.
    let lock = fs::read_to_string(Path::new(ROOT).join("Cargo.lock")).unwrap();
    assert!(
        !lock.contains("name = \"libffi"),
        "Cargo.lock pulls in libffi again"
    );
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

/// A fresh directory under the target dir's tmp, removed first if left over.
fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("setup-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// `setup.sh --check --mpi all` as a cluster user would run it: not root,
/// no apt, no Rust on this user's `PATH`, libclang from a module that
/// lacks it. It installs nothing and names everything missing: the Rust
/// toolchain, each other MPI with the pip line that installs it (no root
/// needed), libclang with `LIBCLANG_PATH` in the hint, and the module lines.
/// In a directory of its own under the system's temporary directory (the
/// user cannot reach a project under /root), removed with the user.
#[test]
fn check_as_a_normal_user_names_what_is_missing_and_installs_nothing() {
    if !common::is_root() {
        common::skip("setup.sh --check as a normal user: needs root to create the user");
        return;
    }
    let dir = std::env::temp_dir().join(format!("parsim-setup-user-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("scripts")).unwrap();
    struct Gone(std::path::PathBuf, String);
    impl Drop for Gone {
        fn drop(&mut self) {
            let _ = Command::new("userdel").arg(&self.1).status();
            let _ = fs::remove_dir_all(&self.0);
        }
    }
    let user = format!("parsims{}", std::process::id() % 100_000);
    let _gone = Gone(dir.clone(), user.clone());
    let made = Command::new("useradd")
        .args(["-M", "-s", "/bin/sh", &user])
        .status();
    if !made.is_ok_and(|s| s.success()) {
        common::skip("setup.sh --check as a normal user: useradd failed");
        return;
    }
    for f in ["setup.sh", "lib.sh"] {
        fs::copy(
            Path::new(ROOT).join("scripts").join(f),
            dir.join("scripts").join(f),
        )
        .unwrap();
    }
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(dir.join("scripts"), fs::Permissions::from_mode(0o755)).unwrap();
    let empty = dir.join("no-libclang");
    fs::create_dir_all(&empty).unwrap();
    let out = Command::new("runuser")
        .args(["-u", &user, "--", "env"])
        .arg(format!("LIBCLANG_PATH={}", empty.display()))
        .arg(format!("HOME={}", dir.display()))
        .arg("PATH=/usr/local/bin:/usr/bin:/bin")
        .arg(dir.join("scripts/setup.sh"))
        .args(["--check", "--mpi", "all"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    for expected in [
        "missing: Rust toolchain (cargo)",
        "missing: MPI 'mpich'",
        "(pip install mpich; run scripts/setup.sh --mpi mpich)",
        "missing: MPI 'openmpi5'",
        "missing: MPI 'intel'",
        "(pip install impi-devel impi-rt;",
        "libclang",
        &format!("LIBCLANG_PATH={} has none", empty.display()),
        "module load llvm",
    ] {
        assert!(said.contains(expected), "no '{expected}' in:\n{said}");
    }
    assert!(!said.contains("installing"), "{said}");
    assert!(
        !dir.join(".mpi").exists(),
        "--check installed something:\n{said}"
    );
}
