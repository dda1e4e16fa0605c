//! Progress of a long run, shown by rank 0 only: a bar with rate and ETA
//! when stderr is a terminal, a plain line every so often when it is not
//! (a batch job's log), nothing with `--quiet`.
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

pub struct Progress {
    mode: Mode,
    label: String,
    total: u64,
    unit: &'static str,
    /// Work per unit and its rate's name, e.g. cells per step and "MLUPS".
    work_per_unit: f64,
    rate_name: &'static str,
    start: Instant,
}

impl Progress {
    /// Progress over `total` units (`unit`: "steps") of `label`, shown on
    /// rank 0 unless `quiet`. The rate shown is `work_per_unit` * units/s
    /// / 1e6, named `rate_name`.
    pub fn new(
        rank: i32,
        quiet: bool,
        label: &str,
        total: u64,
        unit: &'static str,
        work_per_unit: f64,
        rate_name: &'static str,
    ) -> Self {
        let mode = if rank != 0 || quiet || total == 0 {
            Mode::Off
        } else if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {pos}/{len} {msg} (ETA {eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(label.to_string());
            Mode::Bar(bar)
        } else {
            let every = std::env::var("PARSIM_PROGRESS_SECS")
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
                .unwrap_or(LINE_EVERY_S);
            Mode::Lines {
                every: Duration::from_secs_f64(every),
                last: Instant::now(),
            }
        };
        Self {
            mode,
            label: label.to_string(),
            total,
            unit,
            work_per_unit,
            rate_name,
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
        let work = rate * self.work_per_unit / 1e6;
        match &mut self.mode {
            Mode::Off => {}
            Mode::Bar(bar) => {
                bar.set_position(done);
                bar.set_message(format!("{} {work:.0} {}", self.unit, self.rate_name));
            }
            Mode::Lines { every, last } => {
                if last.elapsed() < *every || done >= self.total {
                    return;
                }
                *last = Instant::now();
                let eta = if rate > 0.0 {
                    (self.total - done) as f64 / rate
                } else {
                    f64::INFINITY
                };
                eprintln!(
                    "parsim: {}: {} {done}/{} ({:.0}%), {work:.0} {}, elapsed {elapsed:.1} s, ETA {eta:.1} s",
                    self.label,
                    self.unit,
                    self.total,
                    100.0 * done as f64 / self.total as f64,
                    self.rate_name,
                );
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
