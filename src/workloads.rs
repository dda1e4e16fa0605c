//! The one list of workloads, and the shape each one has.
//!
//! Every workload goes the same three steps, in the shape ripgrep uses for
//! its flags (raw options, then validated domain values, once):
//!
//! ```text
//! Options (clap)  --plan(options, setting)-->  Plan  --run-->  result + report
//!                                                |
//!                                     --dry-run: printed instead
//! ```
//!
//! [`Spec::plan`] makes every check that depends only on the options and
//! the ranks (the run and `--dry-run` go through it alike, so a dry run
//! refuses exactly what a run refuses); what needs data (a points file, a
//! restart file, a parameter table) or the machine (free memory, disk) is
//! checked when the run starts, and the dry run says so.
//!
//! [`registry!`] is the list: one line per workload makes its subcommand,
//! its dispatch and its entry in `parsim workloads`.

use clap::Subcommand;
use mpi::traits::*;
use serde::Serialize;

use crate::cache::CacheShare;
use crate::error::Outcome;
use crate::h5::RunMeta;
use crate::stop::StopSignal;

/// What `parsim workloads --json` says of a workload: what the scripts
/// (scaling studies, plots, benchmarks) need to drive it without a list
/// of their own.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Info {
    /// The subcommand: "heat".
    pub name: &'static str,
    /// One line: what it computes.
    pub summary: &'static str,
    /// The options that set the problem size, and how a weak scaling study
    /// grows each with the ranks.
    pub size: &'static [Size],
    /// The report's rate: its JSON field and unit.
    pub rate: Rate,
    /// The report's phases (JSON keys under "phases"), in plotting order.
    pub phases: &'static [&'static str],
    /// The result file written when none is named.
    pub default_output: &'static str,
    /// The HDF5 group the results are in.
    pub group: &'static str,
    /// Whether it writes checkpoints (`--checkpoint-every`, `--restart`).
    pub checkpoints: bool,
    /// What a scaling study runs by default (option, value): every size
    /// option (strong: the whole problem; weak: one rank's share) and any
    /// other option a study sets, sized so a point takes seconds on a
    /// laptop core.
    pub study: &'static [(&'static str, &'static str)],
}

/// An option that sets the problem size.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Size {
    /// The long option, without dashes: "paths".
    pub option: &'static str,
    /// How a weak study grows it with the rank count p.
    pub weak: Growth,
}

/// How a weak scaling study grows a size option with the rank count p,
/// so that the work per rank stays the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Growth {
    /// times p (work linear in the size).
    Linear,
    /// times sqrt(p) (work quadratic in the size: all pairs).
    Sqrt,
    /// times the process grid's ranks along x (heat's nx).
    GridX,
    /// times the process grid's ranks along y (heat's ny).
    GridY,
}

/// A report's rate.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rate {
    /// The JSON field: "mlups".
    pub field: &'static str,
    /// Its unit, for tables: "MLUPS".
    pub unit: &'static str,
}

/// What a plan is made for: the ranks the run will have and what they
/// agreed on, and which options were given (not defaulted).
#[derive(Debug, Clone)]
pub struct Setting {
    /// Ranks in the run (MPI_COMM_WORLD's size).
    pub ranks: usize,
    /// The cache a core can count on, the smallest any rank's node reports.
    pub cache: CacheShare,
    /// The options given on the command line or in the deck (clap ids:
    /// "record_every"); a restart takes the others from its checkpoint.
    pub given: Vec<String>,
}

/// One workload: its options, its plan, its run.
pub trait Spec {
    /// The options as clap parses them.
    type Options: clap::Args + clap::FromArgMatches;
    /// The validated, resolved plan: a run of it is refused later only for
    /// what the options cannot tell (data, memory, disk, the output's
    /// directory).
    type Plan;
    /// Its entry in `parsim workloads`.
    const INFO: Info;

    /// Every check that depends only on the options and `setting`, once.
    fn plan(options: Self::Options, setting: &Setting) -> Outcome<Self::Plan>;

    /// What `--dry-run` adds to the effective options: the plan as
    /// resolved on these ranks (derived sizes, splits, schedule, memory),
    /// TOML comment lines, and what is checked only when the run starts.
    fn resolved(plan: &Self::Plan, setting: &Setting) -> String;

    /// Collective: run the plan; the report is printed by rank 0.
    fn run<C: Communicator>(
        world: &C,
        plan: &Self::Plan,
        meta: &RunMeta,
        stop: &StopSignal,
    ) -> Outcome;
}

/// What a workload is launched with: the world, the run's provenance, the
/// stop signals, and for a dry run the effective options to print.
pub struct Launch<'a, C: Communicator> {
    pub world: &'a C,
    pub meta: &'a RunMeta,
    pub stop: &'a StopSignal,
    /// `--dry-run`: the effective options as a deck.
    pub dry: Option<String>,
    pub given: Vec<String>,
}

impl<C: Communicator> Launch<'_, C> {
    /// Collective: plan `S` from its options, then run it, or print the
    /// plan for `--dry-run`.
    pub fn go<S: Spec>(self, options: S::Options) -> Outcome {
        let setting = Setting {
            ranks: self.world.size() as usize,
            cache: crate::par::agreed_cache(self.world),
            given: self.given,
        };
        let plan = S::plan(options, &setting)?;
        match self.dry {
            Some(deck) => {
                if self.world.rank() == 0 {
                    print!("{deck}{}", S::resolved(&plan, &setting));
                }
                Ok(())
            }
            None => S::run(self.world, &plan, self.meta, self.stop),
        }
    }
}

/// The registry: `Variant => Spec` per workload, its doc comment the
/// subcommand's about line, in the order `parsim --help` lists them.
macro_rules! registry {
    ($($(#[$doc:meta])* $variant:ident => $spec:ty,)*) => {
        /// A workload's subcommand with its options.
        #[derive(Debug, Subcommand)]
        pub enum Workload {
            $($(#[$doc])* $variant(<$spec as Spec>::Options),)*
        }

        /// Every workload, in the order of `parsim --help`.
        pub const ALL: &[Info] = &[$(<$spec as Spec>::INFO,)*];

        impl Workload {
            /// Collective: plan and run (or show) this workload.
            pub fn launch<C: Communicator>(self, launch: Launch<'_, C>) -> Outcome {
                match self {
                    $(Self::$variant(options) => launch.go::<$spec>(options),)*
                }
            }
        }
    };
}

registry! {
    /// Explicit 2D heat equation on a block-partitioned grid.
    Heat => crate::heat::options::Heat,
    /// Ornstein-Uhlenbeck ensemble (optionally a parameter sweep).
    Ou => crate::ou::options::Ou,
    /// Monte Carlo estimate of pi (hit-or-miss).
    Pi => crate::pi::options::Pi,
    /// 3-state Markov chain (bull/bear/recession): fraction of days per state.
    Markov => crate::markov::options::Markov,
    /// Integral of f over [a, b] by a quadrature rule (a reduction).
    Integrate => crate::integrate::options::Integrate,
    /// Mandelbrot escape-time image (load balancing: block, cyclic or
    /// dynamic schedule of rows).
    Mandelbrot => crate::mandelbrot::options::Mandelbrot,
    /// All pairs of N points (the travelling-block ring): closest pair,
    /// every point's nearest neighbour, a histogram of distances, and the
    /// full distance matrix with --matrix.
    Pairs => crate::pairs::options::Pairs,
}

/// The workloads' names, for messages: "heat, ou, ... or pairs".
pub fn names() -> String {
    let names: Vec<&str> = ALL.iter().map(|w| w.name).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// `parsim workloads`: a line per workload, or the registry as JSON.
pub fn listing(json: bool) -> String {
    if json {
        let list = serde_json::to_string_pretty(ALL).unwrap_or_default();
        return format!("{list}\n");
    }
    let width = ALL.iter().map(|w| w.name.len()).max().unwrap_or(0);
    ALL.iter()
        .map(|w| format!("{:width$}  {}\n", w.name, w.summary))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_lists_each_workload_once_with_its_facts() {
        let listed: Vec<&str> = ALL.iter().map(|w| w.name).collect();
        assert_eq!(
            listed,
            [
                "heat",
                "ou",
                "pi",
                "markov",
                "integrate",
                "mandelbrot",
                "pairs"
            ]
        );
        for w in ALL {
            assert_eq!(w.default_output, format!("{}.h5", w.name));
            assert_eq!(w.group, format!("/{}", w.name));
            assert!(!w.size.is_empty() && !w.phases.is_empty(), "{}", w.name);
            for s in w.size {
                assert!(
                    w.study.iter().any(|(o, _)| *o == s.option),
                    "{}: no study default for --{}",
                    w.name,
                    s.option
                );
            }
        }
        assert_eq!(
            names(),
            "heat, ou, pi, markov, integrate, mandelbrot or pairs"
        );
    }

    #[test]
    fn the_json_listing_names_what_the_scripts_read() {
        let v: serde_json::Value = serde_json::from_str(&listing(true)).unwrap();
        let heat = &v[0];
        assert_eq!(heat["name"], "heat");
        assert_eq!(heat["rate"]["field"], "mlups");
        assert_eq!(heat["size"][0]["option"], "nx");
        assert_eq!(heat["size"][0]["weak"], "grid_x");
        assert_eq!(v.as_array().unwrap().len(), 7);
    }
}
