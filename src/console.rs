//! What parsim prints, without ever panicking on it: a report piped into
//! `head` or `true` (a closed pipe), a full device, a closed descriptor.
//! Rust's `print!` panics on any of those, and a panic aborts the whole MPI
//! job after the results were complete; here a failed write to stdout is
//! said once on stderr (the run's exit code stays its own), and a failed
//! write to stderr is dropped (there is nowhere left to say it).
//!
//! Under Open MPI 5's `mpirun`, once it is ending the job (its SIGTERM,
//! which `crate::stop` recognises), it copies nothing more from the ranks:
//! rank 0 then writes to the launcher's own stdout and stderr, opened at
//! start-up through `/proc/PPID/fd` ([`reach_launcher`]), so its stop line
//! and report are seen, once.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// Whether a failed write to stdout was already reported.
static SAID: AtomicBool = AtomicBool::new(false);

/// The launcher's stdout and stderr, when rank 0 could open them.
static LAUNCHER: OnceLock<[Option<File>; 2]> = OnceLock::new();

/// Whether the launcher no longer copies the ranks' output (set once).
static LAUNCHER_DEAF: AtomicBool = AtomicBool::new(false);

/// The launcher stopped copying the ranks' output (Open MPI 5's `mpirun`
/// ending the job): from now on rank 0 writes to the launcher's own
/// streams. Whether this call was the first to say so. Async-signal-safe
/// (one atomic swap): `crate::stop` calls it from its SIGTERM handler.
pub fn launcher_stopped_reading() -> bool {
    !LAUNCHER_DEAF.swap(true, Ordering::SeqCst)
}

/// Rank 0 under Open MPI 5's `mpirun` (`crate::stop::prterun_child`):
/// open the launcher's (pid `ppid`) stdout and stderr, for when it stops
/// copying the ranks' ([`for_lines`] says which can be opened); the raw
/// descriptor of its stderr, if opened.
pub fn reach_launcher(ppid: i32) -> Option<i32> {
    let streams = LAUNCHER
        .get_or_init(|| [1, 2].map(|fd| for_lines(Path::new(&format!("/proc/{ppid}/fd/{fd}")))));
    streams[1].as_ref().map(|f| f.as_raw_fd())
}

/// `path` opened to add lines to, if it is a terminal, a pipe or FIFO, or
/// a regular file: for writing, appending (a file's lines are never
/// written over), never created, and without blocking on a FIFO that has
/// no reader. Anything else (`/dev/null`, a socket, another device) is
/// left alone: `None`.
pub fn for_lines(path: &Path) -> Option<File> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let kind = std::fs::metadata(path).ok()?.file_type();
    if !(kind.is_file() || kind.is_fifo() || kind.is_char_device()) {
        return None;
    }
    let file = std::fs::OpenOptions::new()
        .append(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .ok()?;
    let fd = file.as_raw_fd();
    // SAFETY: isatty and fcntl only query or set flags of a descriptor
    // this function owns.
    unsafe {
        if kind.is_char_device() && libc::isatty(fd) != 1 {
            return None;
        }
        // Open without waiting for a reader; write as stderr does.
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) < 0 {
            return None;
        }
    }
    Some(file)
}

/// The launcher's stream `fd` (1, 2) when rank 0 writes there instead of
/// its own: Open MPI 5's `mpirun` is ending the job.
fn launcher(fd: usize) -> Option<&'static File> {
    if !LAUNCHER_DEAF.load(Ordering::SeqCst) {
        return None;
    }
    LAUNCHER.get()?[fd - 1].as_ref()
}

/// Write `text` to the launcher's stream `fd` when that is where it goes;
/// whether it was written there.
fn to_launcher(fd: usize, text: &str) -> bool {
    launcher(fd).is_some_and(|mut f| f.write_all(text.as_bytes()).is_ok())
}

/// Write `text` to stdout (the report, a dry run's deck, help).
pub fn out(text: &str) {
    if to_launcher(1, text) {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    if let Err(e) = written {
        if !SAID.swap(true, Ordering::Relaxed) {
            err(&format!(
                "parsim: warning: cannot print to stdout ({e}); a result file holds the report too\n"
            ));
        }
    }
}

/// Write `text` to stderr, ignoring failures.
pub fn err(text: &str) {
    if to_launcher(2, text) {
        return;
    }
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

/// `err` with a newline.
pub fn err_line(line: &str) {
    err(&format!("{line}\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_go_only_to_terminals_pipes_and_regular_files() {
        let dir = std::env::temp_dir().join(format!("parsim-console-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A regular file: appended to, never written over.
        let log = dir.join("log.txt");
        std::fs::write(&log, "before\n").unwrap();
        let mut f = for_lines(&log).unwrap();
        f.write_all(b"after\n").unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "before\nafter\n");
        // Never created.
        assert!(for_lines(&dir.join("absent.txt")).is_none());
        assert!(!dir.join("absent.txt").exists());
        // A pipe, reached as a rank reaches its launcher's: /proc/PID/fd/N.
        let (mut reader, writer) = std::io::pipe().unwrap();
        let path = format!("/proc/self/fd/{}", writer.as_raw_fd());
        let mut f = for_lines(Path::new(&path)).unwrap();
        f.write_all(b"line\n").unwrap();
        drop((f, writer));
        let mut got = String::new();
        std::io::Read::read_to_string(&mut reader, &mut got).unwrap();
        assert_eq!(got, "line\n");
        // A FIFO without a reader: refused at once, not waited on.
        let fifo = dir.join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo reads a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(for_lines(&fifo).is_none());
        // A device that is no terminal, a directory.
        assert!(for_lines(Path::new("/dev/null")).is_none());
        assert!(for_lines(&dir).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn nothing_goes_to_a_launcher_that_is_not_ending_the_job() {
        assert!(launcher(1).is_none() && launcher(2).is_none());
    }
}
