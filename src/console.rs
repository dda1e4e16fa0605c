//! What parsim prints, without ever panicking on it: a report piped into
//! `head` or `true` (a closed pipe), a full device, a closed descriptor.
//! Rust's `print!` panics on any of those, and a panic aborts the whole MPI
//! job after the results were complete; here a failed write to stdout is
//! said once on stderr (the run's exit code stays its own), and a failed
//! write to stderr is dropped (there is nowhere left to say it).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a failed write to stdout was already reported.
static SAID: AtomicBool = AtomicBool::new(false);

/// Write `text` to stdout (the report, a dry run's deck, help).
pub fn out(text: &str) {
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
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

/// `err` with a newline.
pub fn err_line(line: &str) {
    err(&format!("{line}\n"));
}
