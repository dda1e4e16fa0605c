//! How a run fails: a message for the user and the process exit code.
//!
//! Exit codes are part of parsim's interface (job scripts and the scaling
//! tool test them), so they live in one place:
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | success, validation passed |
//! | 1    | runtime failure (I/O, MPI, resources) |
//! | 2    | invalid input: bad option, unstable dt, output exists, ... |
//! | 3    | the run finished but failed its own validation |
//! | 4    | numerical blow-up detected (values left the physical range or are not finite) |
//! | 70   | a rank panicked; the job was aborted with MPI_Abort |
//! | 75   | stopped by SIGTERM/SIGUSR1 (after writing a checkpoint where the workload keeps one: resume with --restart) |

use std::fmt;

/// Process exit codes; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum ExitCode {
    Success = 0,
    Runtime = 1,
    Usage = 2,
    Validation = 3,
    Blowup = 4,
    Panic = 70,
    /// EX_TEMPFAIL: "try again later", what a requeueing job script tests.
    Stopped = 75,
}

impl ExitCode {
    pub fn from_code(code: i32) -> Self {
        match code {
            0 => Self::Success,
            2 => Self::Usage,
            3 => Self::Validation,
            4 => Self::Blowup,
            70 => Self::Panic,
            75 => Self::Stopped,
            _ => Self::Runtime,
        }
    }
}

/// A failure every rank agrees on: one line of text and an exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: ExitCode,
    pub message: String,
}

impl Failure {
    /// The user asked for something parsim cannot do.
    pub fn usage(message: impl fmt::Display) -> Self {
        Self {
            code: ExitCode::Usage,
            message: message.to_string(),
        }
    }

    /// Something went wrong while running; the whole context chain is kept
    /// on one line (`outer: inner: cause`).
    pub fn runtime(err: impl Into<anyhow::Error>) -> Self {
        Self {
            code: ExitCode::Runtime,
            message: one_line(&format!("{:#}", err.into())),
        }
    }

    pub fn with_code(code: ExitCode, message: impl fmt::Display) -> Self {
        Self {
            code,
            message: message.to_string(),
        }
    }

    pub fn validation(message: impl fmt::Display) -> Self {
        Self {
            code: ExitCode::Validation,
            message: message.to_string(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Fold a possibly multi-line message (HDF5's error stacks are) onto one line.
pub fn one_line(s: &str) -> String {
    let line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    // Control characters (a NUL from a binary file, escape sequences) are
    // shown escaped, never sent to the terminal.
    if line.chars().any(char::is_control) {
        line.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        line
    }
}

pub type Outcome<T = ()> = Result<T, Failure>;
