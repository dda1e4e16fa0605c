//! Progress of a long run, shown by rank 0 only: a bar with rate and ETA
//! when the user is at a terminal, a plain line every so often when not (a
//! batch job's log), nothing with `--quiet`.
//!
//! Under `mpirun` a rank's stderr is a pipe to mpirun even when the user
//! watches a terminal (Open MPI gives ranks a pty on stdout only, and that
//! one even when the user's stdout is a file). What counts is mpirun's own
//! stderr: rank 0 looks at its parent's file descriptor 2, and when that is
//! a terminal it draws the bar into its pipe, which mpirun copies out.
//!
//! Updating is cheap (a clock read), so the time loop can call it every
//! round; it never communicates, so it cannot change what the ranks do.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Seconds between plain progress lines (override: PARSIM_PROGRESS_SECS).
const LINE_EVERY_S: f64 = 10.0;

enum Mode {
    Off,
    Bar(indicatif::ProgressBar),
    Lines { every: Duration, last: Instant },
}

/// What a progress display counts: `total` units named `unit` ("step") of
/// the run `label`; the rate shown is `work_per_unit` * units/s / 1e6,
/// named `rate_name` (cells per step and "MLUPS" for heat).
#[derive(Debug, Clone, Copy)]
pub struct Meter {
    pub label: &'static str,
    pub total: u64,
    pub unit: &'static str,
    pub work_per_unit: f64,
    pub rate_name: &'static str,
}

pub struct Progress {
    mode: Mode,
    meter: Meter,
    start: Instant,
}

impl Progress {
    /// Progress over `meter`, shown on rank 0 unless `quiet`.
    pub fn new(rank: i32, quiet: bool, meter: Meter) -> Self {
        let mode = if rank != 0 || quiet || meter.total == 0 {
            Mode::Off
        } else if let Some(target) = bar_target() {
            let bar = indicatif::ProgressBar::with_draw_target(Some(meter.total), target);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {pos}/{len} {msg} (ETA {eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(meter.label);
            Mode::Bar(bar)
        } else {
            Mode::Lines {
                every: line_interval(std::env::var("PARSIM_PROGRESS_SECS").ok().as_deref()),
                last: Instant::now(),
            }
        };
        Self {
            mode,
            meter,
            start: Instant::now(),
        }
    }

    /// `done` of `total` units are complete, `from` of them before this run
    /// started (a restart).
    pub fn update(&mut self, done: u64, from: u64) {
        let elapsed = self.start.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 {
            (done - from) as f64 / elapsed
        } else {
            0.0
        };
        let m = self.meter;
        let work = rate * m.work_per_unit / 1e6;
        match &mut self.mode {
            Mode::Off => {}
            Mode::Bar(bar) => {
                bar.set_position(done);
                bar.set_message(format!("{} {work:.0} {}", m.unit, m.rate_name));
            }
            Mode::Lines { every, last } => {
                if last.elapsed() < *every || done >= m.total {
                    return;
                }
                *last = Instant::now();
                let eta = if rate > 0.0 {
                    (m.total - done) as f64 / rate
                } else {
                    f64::INFINITY
                };
                crate::console::err_line(&format!(
                    "parsim: {}: {} {done}/{} ({:.0}%), {work:.0} {}, elapsed {elapsed:.1} s, ETA {eta:.1} s",
                    m.label,
                    m.unit,
                    m.total,
                    100.0 * done as f64 / m.total as f64,
                    m.rate_name,
                ));
            }
        }
    }

    /// Remove the bar (the report follows).
    pub fn finish(&mut self) {
        if let Mode::Bar(bar) = &self.mode {
            bar.finish_and_clear();
        }
    }
}

/// Where a bar goes, if the user is at a terminal that can redraw a line:
/// stderr itself, or, as a rank of a local `mpirun` whose stderr is a
/// terminal, the pipe mpirun copies to it.
fn bar_target() -> Option<indicatif::ProgressDrawTarget> {
    if !can_redraw(std::env::var("TERM").ok().as_deref()) {
        return None;
    }
    if std::io::stderr().is_terminal() {
        return Some(indicatif::ProgressDrawTarget::stderr());
    }
    let parent = launcher_parent()?;
    let width = terminal_width(&parent).unwrap_or(80);
    Some(indicatif::ProgressDrawTarget::term_like_with_hz(
        Box::new(Forwarded { width }),
        10,
    ))
}

/// Whether a terminal of type `term` can redraw a line. Why it matters:
/// indicatif draws nothing at all where `TERM` is unset or "dumb" (an
/// editor's shell, some batch ptys), so such a terminal gets the plain
/// progress lines instead of a bar nobody sees.
fn can_redraw(term: Option<&str>) -> bool {
    term.is_some_and(|t| !t.is_empty() && t != "dumb")
}

/// The parent process when it is Open MPI's launcher (`mpirun`, `mpiexec`,
/// `orterun`, `prterun`) and its stderr is a terminal: its fd 2's path.
fn launcher_parent() -> Option<std::path::PathBuf> {
    std::env::var_os("OMPI_COMM_WORLD_SIZE")?;
    let proc = std::path::PathBuf::from(format!("/proc/{}", std::os::unix::process::parent_id()));
    let name = std::fs::read_to_string(proc.join("comm")).ok()?;
    let fd2 = std::fs::read_link(proc.join("fd/2")).ok()?;
    is_launcher_on_terminal(name.trim(), &fd2).then(|| proc.join("fd/2"))
}

/// Whether a parent named `name` with stderr at `fd2` is a launcher that
/// writes to a terminal.
fn is_launcher_on_terminal(name: &str, fd2: &std::path::Path) -> bool {
    let launcher = ["mpirun", "mpiexec", "orterun", "prterun"].contains(&name);
    let s = fd2.to_string_lossy();
    launcher && (s.starts_with("/dev/pts/") || s.starts_with("/dev/tty"))
}

/// The columns of the terminal at `path` (TIOCGWINSZ).
fn terminal_width(path: &std::path::Path) -> Option<u16> {
    use std::os::fd::AsRawFd;
    let f = std::fs::OpenOptions::new().write(true).open(path).ok()?;
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ fills a winsize; the descriptor is open.
    let ok = unsafe { libc::ioctl(f.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) } == 0;
    (ok && ws.ws_col > 0).then_some(ws.ws_col)
}

/// A terminal reached through a pipe (mpirun copies it out): the bar's
/// cursor moves as ANSI sequences on stderr, at the width mpirun's
/// terminal had when the run began.
#[derive(Debug)]
struct Forwarded {
    width: u16,
}

impl Forwarded {
    /// The cursor `n` places in direction `dir` (ANSI CUU/CUD/CUF/CUB).
    fn cursor(&self, n: usize, dir: char) -> std::io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        self.put(&format!("\x1b[{n}{dir}"))
    }

    fn put(&self, s: &str) -> std::io::Result<()> {
        use std::io::Write;
        let mut e = std::io::stderr().lock();
        e.write_all(s.as_bytes())?;
        e.flush()
    }
}

impl indicatif::TermLike for Forwarded {
    fn width(&self) -> u16 {
        self.width
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'A')
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'B')
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'C')
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.cursor(n, 'D')
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.put(&format!("{s}\n"))
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.put(s)
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.put("\r\x1b[2K")
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Seconds between log lines: PARSIM_PROGRESS_SECS when it is a number of
/// seconds a clock can hold, else the default.
fn line_interval(setting: Option<&str>) -> Duration {
    setting
        .and_then(|s| s.trim().parse::<f64>().ok())
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .unwrap_or(Duration::from_secs_f64(LINE_EVERY_S))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dumb_or_unset_terminals_get_lines_not_a_bar() {
        assert!(can_redraw(Some("xterm-256color")));
        assert!(can_redraw(Some("screen")));
        assert!(!can_redraw(Some("dumb")));
        assert!(!can_redraw(Some("")));
        assert!(!can_redraw(None));
    }

    #[test]
    fn line_interval_takes_any_setting_without_panicking() {
        let d = |s| line_interval(Some(s));
        assert_eq!(d("2.5"), Duration::from_millis(2500));
        assert_eq!(d("0"), Duration::ZERO);
        for bad in ["1e20", "-1", "nan", "inf", "ten", ""] {
            assert_eq!(d(bad), Duration::from_secs(10), "{bad}");
        }
        assert_eq!(line_interval(None), Duration::from_secs(10));
    }

    #[test]
    fn a_bar_is_forwarded_only_by_a_launcher_on_a_terminal() {
        use std::path::Path;
        assert!(is_launcher_on_terminal("mpirun", Path::new("/dev/pts/3")));
        assert!(is_launcher_on_terminal("prterun", Path::new("/dev/tty1")));
        // A job log, a pipe, /dev/null, or a parent that is not mpirun.
        assert!(!is_launcher_on_terminal(
            "mpirun",
            Path::new("/work/job.log")
        ));
        assert!(!is_launcher_on_terminal("mpirun", Path::new("pipe:[1234]")));
        assert!(!is_launcher_on_terminal("mpirun", Path::new("/dev/null")));
        assert!(!is_launcher_on_terminal("bash", Path::new("/dev/pts/3")));
        assert!(!is_launcher_on_terminal(
            "slurmstepd",
            Path::new("/dev/pts/3")
        ));
    }
}
