//! `parsim pingpong`: the network between ranks as a cost model needs it,
//! latency alpha and bandwidth beta of `t(bytes) = alpha + bytes / beta`,
//! measured by the MPI library the workloads use, where they run.
//!
//! Why parsim measures it itself: `scripts/scaling.py predict` builds each
//! workload's communication time from these two numbers (heat's halo
//! faces, pairs' ring passes, the all-reduces), and the numbers that
//! matter are those of this binary's MPI on this machine's transport
//! (shared memory within a node, TCP or a fabric between nodes), not a
//! data sheet's. Rank 0 plays ping-pong with one partner on its own host
//! and one on another host, when there are such ranks, while every other
//! rank waits; then all ranks time an all-reduce of one number.
//!
//! Like every run, it ends with a validation against a known answer (each
//! echo is the message sent, byte for byte; the all-reduce's sum of the
//! ranks is p(p-1)/2) and a rate (the bandwidth of the largest message).

use mpi::traits::*;
use serde::Serialize;

use crate::error::{Failure, Outcome};

/// `parsim pingpong`'s options.
#[derive(Debug, clap::Args)]
pub struct PingpongArgs {
    /// Largest message in bytes; the sizes are 8, 32, 128, ... (times 4) up
    /// to it.
    #[arg(long, default_value_t = 1 << 22, value_name = "BYTES")]
    max_bytes: u64,
    /// Seconds to spend on each message size (at least 10 round trips).
    #[arg(long, default_value_t = 0.05, value_name = "SECONDS")]
    time_per_size: f64,
    /// Print one JSON object on stdout (the text goes to stderr).
    #[arg(long)]
    json: bool,
}

/// A line fitted to one link's points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fit {
    /// Latency: the time of an empty message [s].
    pub alpha_s: f64,
    /// Bandwidth: bytes per second a long message approaches.
    pub beta_bytes_per_s: f64,
    /// The largest relative distance of a point from the line.
    pub worst_misfit: f64,
}

/// One message size's time.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Point {
    pub bytes: u64,
    /// Half a round trip, the median over `round_trips` [s].
    pub time_s: f64,
    pub round_trips: u64,
}

/// What was measured between rank 0 and one partner.
#[derive(Debug, Serialize)]
struct Link {
    /// "intra-node" or "inter-node".
    kind: &'static str,
    ranks: [i32; 2],
    hosts: [String; 2],
    points: Vec<Point>,
    fit: Fit,
}

#[derive(Debug, Serialize)]
struct Report {
    ranks: i32,
    links: Vec<Link>,
    /// An all-reduce (sum) of one f64 over every rank, the median [s].
    allreduce_8b_s: f64,
    validation: &'static str,
    /// The highest bandwidth of a message size on the first link [bytes/s].
    rate_bytes_per_s: f64,
}

/// The message sizes: 8, 32, 128, ... times 4, and `max` itself.
pub fn sizes(max: u64) -> Vec<u64> {
    let mut v: Vec<u64> = std::iter::successors(Some(8u64), |s| s.checked_mul(4))
        .take_while(|&s| s <= max)
        .collect();
    if v.last() != Some(&max) && max > 0 {
        v.push(max);
    }
    v
}

/// The line `t = alpha + bytes / beta` through the points that is closest in
/// relative terms (least squares of (model - t) / t), so the small
/// messages, where alpha lives, weigh as much as the large ones, where beta
/// does. Pure: unit-tested.
pub fn fit(points: &[(u64, f64)]) -> Option<Fit> {
    // Minimise sum w (a + b s - t)^2 with w = 1/t^2: the normal equations.
    let (mut sw, mut sws, mut swss, mut swt, mut swst) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(s, t) in points {
        if t.is_nan() || t <= 0.0 {
            return None;
        }
        let (s, w) = (s as f64, 1.0 / (t * t));
        sw += w;
        sws += w * s;
        swss += w * s * s;
        swt += w * t;
        swst += w * s * t;
    }
    let det = sw * swss - sws * sws;
    if points.len() < 2 || det <= 0.0 {
        return None;
    }
    let mut b = (sw * swst - sws * swt) / det;
    let mut a = (swt - b * sws) / sw;
    if b <= 0.0 {
        // No measurable bandwidth term (all messages latency-bound).
        return None;
    }
    if a < 0.0 {
        // A latency below zero is noise: refit the slope alone.
        a = 0.0;
        b = points.iter().map(|&(s, t)| s as f64 / t).sum::<f64>()
            / points
                .iter()
                .map(|&(s, t)| (s as f64 / t).powi(2))
                .sum::<f64>();
    }
    let worst = points
        .iter()
        .map(|&(s, t)| ((a + b * s as f64) / t - 1.0).abs())
        .fold(0.0, f64::max);
    Some(Fit {
        alpha_s: a,
        beta_bytes_per_s: 1.0 / b,
        worst_misfit: worst,
    })
}

/// The byte at `i` of a message of `len` bytes: a pattern that differs
/// between sizes, so an echo of the wrong message fails the check.
fn pattern(i: usize, len: u64) -> u8 {
    ((i as u64).wrapping_mul(131).wrapping_add(len) % 251) as u8
}

impl PingpongArgs {
    /// Every check of the options on `ranks` ranks, in the words every
    /// workload uses (`crate::check`).
    fn check(&self, ranks: i32) -> Outcome {
        use crate::check::{at_least, at_most, positive};
        if ranks < 2 {
            return Err(Failure::usage(
                "pingpong needs at least 2 ranks: mpirun -n 2 parsim pingpong \
                 (ranks on two nodes measure the network between them too)",
            ));
        }
        at_least("max-bytes", self.max_bytes, 8)?;
        at_most("max-bytes", self.max_bytes, 1 << 30)?;
        if positive("time-per-size", self.time_per_size)? > 60.0 {
            return Err(Failure::usage(format!(
                "--time-per-size {} is too large (at most 60 seconds)",
                self.time_per_size
            )));
        }
        Ok(())
    }
}

/// Collective: measure and report (rank 0 prints); with `dry` (the
/// effective options as a deck, as every workload's `--dry-run` prints
/// them), only the checks, and that deck, which `parsim run` takes.
pub fn run<C: Communicator>(world: &C, args: &PingpongArgs, dry: Option<String>) -> Outcome {
    let p = world.size();
    args.check(p)?;
    if let Some(deck) = dry {
        if world.rank() == 0 {
            crate::console::out(&format!(
                "{deck}# the options are valid on {p} ranks (pingpong needs at least 2)\n"
            ));
        }
        return Ok(());
    }
    let host = mpi::environment::processor_name().unwrap_or_else(|_| "unknown".into());
    let hosts = crate::par::all_gather_strings(world, &host);
    let (links, echoes_ok) = links(world, &hosts, args);
    world.barrier();
    let (allreduce, sum_ok) = allreduce(world, args.time_per_size);
    // Every rank's verdict: the partner checked what it received too.
    let passed = crate::par::min(world, f64::from(u8::from(echoes_ok && sum_ok))) == 1.0;
    if world.rank() == 0 {
        let rate = links.first().map_or(0.0, |l| {
            l.points
                .iter()
                .map(|pt| pt.bytes as f64 / pt.time_s)
                .fold(0.0, f64::max)
        });
        let report = Report {
            ranks: p,
            links,
            allreduce_8b_s: allreduce,
            validation: if passed { "passed" } else { "FAILED" },
            rate_bytes_per_s: rate,
        };
        crate::report::emit(&text(&report), &report, &hosts, args.json);
    }
    if passed {
        Ok(())
    } else {
        Err(Failure::validation(
            "pingpong: an echo differed from the message sent, or the all-reduce's sum of \
             the ranks was wrong: the MPI library or the network corrupts messages",
        ))
    }
}

/// Collective: the links rank 0 has, each measured while the other ranks
/// wait: to the first rank on its own host and to the first on another
/// host (the same choice on every rank, from `hosts`). Rank 0 gets them
/// (empty elsewhere); every rank, whether all it received was intact.
fn links<C: Communicator>(world: &C, hosts: &[String], args: &PingpongArgs) -> (Vec<Link>, bool) {
    let p = world.size();
    let intra = (1..p).find(|&r| hosts[r as usize] == hosts[0]);
    let inter = (1..p).find(|&r| hosts[r as usize] != hosts[0]);
    let mut links = Vec::new();
    let mut intact = true;
    for (kind, partner) in [("intra-node", intra), ("inter-node", inter)] {
        let Some(r) = partner else { continue };
        world.barrier();
        let (points, ok) = measure(world, r, args);
        intact &= ok;
        if world.rank() == 0 {
            let pts: Vec<(u64, f64)> = points.iter().map(|p| (p.bytes, p.time_s)).collect();
            let fit = fit(&pts).unwrap_or(Fit {
                alpha_s: points[0].time_s,
                beta_bytes_per_s: f64::INFINITY,
                worst_misfit: f64::NAN,
            });
            links.push(Link {
                kind,
                ranks: [0, r],
                hosts: [hosts[0].clone(), hosts[r as usize].clone()],
                points,
                fit,
            });
        }
    }
    (links, intact)
}

/// Rank 0 and `partner` play; the others only take part in the
/// broadcasts of the round-trip counts. Rank 0 gets the points; both get
/// whether every message arrived intact.
fn measure<C: Communicator>(world: &C, partner: i32, args: &PingpongArgs) -> (Vec<Point>, bool) {
    let me = world.rank();
    let playing = me == 0 || me == partner;
    let other = world.process_at_rank(if me == 0 { partner } else { 0 });
    let mut points = Vec::new();
    let mut ok = true;
    for len in sizes(args.max_bytes) {
        // Only the two players hold messages (up to --max-bytes each).
        let sent: Vec<u8> = if playing {
            (0..len as usize).map(|i| pattern(i, len)).collect()
        } else {
            Vec::new()
        };
        let mut buf = vec![0u8; sent.len()];
        let trip = |buf: &mut Vec<u8>| {
            if me == 0 {
                other.send_with_tag(&sent[..], crate::tags::PINGPONG);
                other.receive_into_with_tag(&mut buf[..], crate::tags::PINGPONG);
            } else {
                other.receive_into_with_tag(&mut buf[..], crate::tags::PINGPONG);
                other.send_with_tag(&buf[..], crate::tags::PINGPONG);
            }
        };
        // Warm up (connections, registration), then time one trip to
        // choose how many fit the time per size; rank 0 decides.
        let mut n = 0u64;
        if playing {
            for _ in 0..3 {
                trip(&mut buf);
            }
            let a = mpi::time();
            trip(&mut buf);
            let one = (mpi::time() - a).max(1e-7);
            n = ((args.time_per_size / one) as u64).clamp(10, 100_000);
        }
        world.process_at_rank(0).broadcast_into(&mut n);
        if !playing {
            continue;
        }
        let mut times = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let a = mpi::time();
            trip(&mut buf);
            times.push(mpi::time() - a);
        }
        ok &= buf == sent;
        if me == 0 {
            times.sort_by(f64::total_cmp);
            points.push(Point {
                bytes: len,
                time_s: times[times.len() / 2] / 2.0,
                round_trips: n,
            });
        }
    }
    (points, ok)
}

/// Collective: the median time of an all-reduce (sum) of one f64, and
/// whether its result was the known sum of the ranks.
fn allreduce<C: Communicator>(world: &C, time: f64) -> (f64, bool) {
    use mpi::collective::SystemOperation;
    let me = f64::from(world.rank());
    let p = f64::from(world.size());
    let want = p * (p - 1.0) / 2.0;
    let mut out = 0.0;
    let mut ok = true;
    for _ in 0..3 {
        world.all_reduce_into(&me, &mut out, SystemOperation::sum());
    }
    let a = mpi::time();
    world.all_reduce_into(&me, &mut out, SystemOperation::sum());
    let mut n = ((time / (mpi::time() - a).max(1e-7)) as u64).clamp(10, 100_000);
    world.process_at_rank(0).broadcast_into(&mut n);
    let mut times = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let a = mpi::time();
        world.all_reduce_into(&me, &mut out, SystemOperation::sum());
        times.push(mpi::time() - a);
        ok &= out == want;
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], ok)
}

/// The report as people read it.
fn text(r: &Report) -> String {
    // report::emit puts the Hosts line after the Ranks line.
    let mut s = format!("parsim pingpong\nRanks            : {}\n", r.ranks);
    for l in &r.links {
        s += &format!(
            "\n{} link, rank {} ({}) <-> rank {} ({}): half a round trip, median\n",
            l.kind, l.ranks[0], l.hosts[0], l.ranks[1], l.hosts[1]
        );
        s += "       bytes    time [us]   bandwidth [MB/s]   round trips\n";
        for pt in &l.points {
            s += &format!(
                "  {:>10}  {:>11.2}  {:>17.1}   {:>11}\n",
                pt.bytes,
                pt.time_s * 1e6,
                pt.bytes as f64 / pt.time_s / 1e6,
                pt.round_trips
            );
        }
        s += &format!(
            "  fit t = alpha + bytes/beta: alpha = {:.2} us, beta = {:.3} GB/s \
             (worst point {:.0} % off the line)\n",
            l.fit.alpha_s * 1e6,
            l.fit.beta_bytes_per_s / 1e9,
            l.fit.worst_misfit * 100.0
        );
    }
    if !r.links.iter().any(|l| l.kind == "inter-node") {
        s += "\n(every rank on one host: run ranks on two nodes to measure the network)\n";
    }
    s += &format!(
        "\nall-reduce of 8 bytes over {} ranks: {:.2} us (median)\n\
         Validation       : {} (every echo is the message sent; the all-reduce's sum is p(p-1)/2)\n\
         Rate             : {:.3} GB/s (the best message size, first link)\n",
        r.ranks,
        r.allreduce_8b_s * 1e6,
        r.validation,
        r.rate_bytes_per_s / 1e9
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_grow_by_four_up_to_the_largest() {
        assert_eq!(sizes(8), vec![8]);
        assert_eq!(sizes(100), vec![8, 32, 100]);
        assert_eq!(sizes(512), vec![8, 32, 128, 512]);
    }

    #[test]
    fn the_fit_recovers_a_known_latency_and_bandwidth() {
        let (alpha, beta) = (1.5e-6, 10e9);
        let pts: Vec<(u64, f64)> = sizes(1 << 22)
            .into_iter()
            .enumerate()
            .map(|(k, s)| {
                let noise = 1.0 + if k % 2 == 0 { 0.03 } else { -0.03 };
                (s, (alpha + s as f64 / beta) * noise)
            })
            .collect();
        let f = fit(&pts).unwrap();
        assert!((f.alpha_s / alpha - 1.0).abs() < 0.05, "{f:?}");
        assert!((f.beta_bytes_per_s / beta - 1.0).abs() < 0.05, "{f:?}");
        assert!(f.worst_misfit < 0.07, "{f:?}");
    }

    #[test]
    fn a_fit_needs_two_points_and_a_bandwidth_term() {
        assert!(fit(&[(8, 1e-6)]).is_none());
        assert!(fit(&[(8, 1e-6), (64, 1e-6), (512, 1e-6)]).is_none());
        assert!(fit(&[(8, 0.0), (64, 1e-6)]).is_none());
        // Pure bandwidth: the latency is clamped at zero, not negative.
        let f = fit(&[(1000, 1e-6), (2000, 2.1e-6), (4000, 3.9e-6)]).unwrap();
        assert!(f.alpha_s >= 0.0 && f.beta_bytes_per_s > 0.9e9, "{f:?}");
    }

    #[test]
    fn the_pattern_differs_between_sizes() {
        assert_ne!(pattern(0, 8), pattern(0, 32));
        assert!((0..1000).all(|i| pattern(i, 8) < 251));
    }
}
