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
        } else if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(meter.total);
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
                eprintln!(
                    "parsim: {}: {} {done}/{} ({:.0}%), {work:.0} {}, elapsed {elapsed:.1} s, ETA {eta:.1} s",
                    m.label,
                    m.unit,
                    m.total,
                    100.0 * done as f64 / m.total as f64,
                    m.rate_name,
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
    fn line_interval_takes_any_setting_without_panicking() {
        let d = |s| line_interval(Some(s));
        assert_eq!(d("2.5"), Duration::from_millis(2500));
        assert_eq!(d("0"), Duration::ZERO);
        for bad in ["1e20", "-1", "nan", "inf", "ten", ""] {
            assert_eq!(d(bad), Duration::from_secs(10), "{bad}");
        }
        assert_eq!(line_interval(None), Duration::from_secs(10));
    }
}
