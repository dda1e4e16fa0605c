//! The one list of workloads: `registry!` makes, from one line per
//! workload, its subcommand, its dispatch and its entry in `parsim
//! workloads`; [`Launch`] plans a workload and runs it, or prints the plan
//! for `--dry-run`. What a workload is: `crate::spec`.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use mpi::traits::*;

use crate::error::{Failure, Outcome};
use crate::h5::RunMeta;
use crate::output::same_file;
use crate::spec::{Info, Setting, Spec};
use crate::stop::StopSignal;

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
    /// Collective: rank 0 reads the inputs' metadata and every rank gets
    /// it (or rank 0's one-line failure), then every rank plans `S` from
    /// its options and those inputs alike, then runs it, or prints the
    /// plan for `--dry-run`.
    pub fn go<S: Spec>(self, options: S::Options) -> Outcome {
        let setting = Setting {
            ranks: self.world.size() as usize,
            cache: crate::par::agreed_cache(self.world),
            given: self.given,
        };
        let inputs = crate::par::broadcast_json(self.world, || S::inputs(&options, &setting))?;
        let plan = S::plan(options, inputs, &setting)?;
        let deck = self.meta.deck.as_ref().map(|(path, _)| path.clone());
        crate::par::broadcast_json(self.world, || {
            outputs_are_not_inputs::<S>(&plan, deck.as_deref().map(std::path::Path::new))
        })?;
        match self.dry {
            Some(deck) => {
                // The output as the run would find it now (it exists and
                // --force is not given, ...): documented commands run in
                // order must not collide, and a dry run says where they do.
                let out = S::output(&plan);
                crate::par::broadcast_json(self.world, || match &out.path {
                    Some(p) => crate::output::PendingOutput::check(p, out.force, "output"),
                    None => Ok(()),
                })?;
                if self.world.rank() == 0 {
                    crate::console::out(&format!("{deck}{}", S::resolved(&plan, &setting)));
                }
                Ok(())
            }
            None => S::run(self.world, &plan, self.meta, self.stop),
        }
    }
}

/// Refuse a run one of whose outputs is one of its inputs (the deck, a
/// restart, a table, points): with `--force` it would replace what it is
/// still reading; and one that names a file for two of its outputs (a
/// checkpoint, a trace or the result's own sidecar onto another output):
/// one would replace the other. The same file under any name (a link,
/// `./x` for `x`, `d/../x`), resolved, never compared as text.
fn outputs_are_not_inputs<S: Spec>(plan: &S::Plan, deck: Option<&Path>) -> Outcome {
    let out = S::output(plan);
    let mut writes: Vec<(&str, PathBuf)> = Vec::new();
    writes.extend(out.path.clone().map(|p| ("--output", p)));
    writes.extend(S::writes(plan));
    writes.extend(out.trace.clone().map(|p| ("--trace", p)));
    for (i, (first, a)) in writes.iter().enumerate() {
        for (second, b) in &writes[i + 1..] {
            if same_file(a, b) {
                return Err(Failure::usage(format!(
                    "{first} '{}' and {second} '{}' are the same file: one would replace \
                     the other; name another file",
                    a.display(),
                    b.display()
                )));
            }
        }
    }
    let mut reads = S::reads(plan);
    reads.extend(deck.map(|d| ("the deck", d.to_path_buf())));
    for (wrote, w) in &writes {
        for (read, r) in &reads {
            // A checkpoint replaces the one it restarts from: that is
            // how a run goes on (the restart is read before it is written).
            let resumed = (*wrote, *read) == ("--checkpoint", "--restart");
            if !resumed && same_file(w, r) {
                return Err(Failure::usage(format!(
                    "{wrote} '{}' is {read} '{}' this run reads: it would be replaced; \
                     name another file",
                    w.display(),
                    r.display()
                )));
            }
        }
    }
    Ok(())
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
    /// Explicit heat equation, 2D or 3D (--nz), on a block-partitioned grid.
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
    use crate::spec::Comm;

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
                    s.optional || w.study.iter().any(|(o, _)| *o == s.option),
                    "{}: no study default for --{}",
                    w.name,
                    s.option
                );
            }
            // The cost model reads these phases and options: they exist.
            let cmd = crate::cli::command();
            let sub = cmd.find_subcommand(w.name).unwrap();
            let (phases, options): (Vec<&str>, Vec<&str>) = match w.comm {
                Comm::Halo {
                    phase,
                    compute,
                    nx,
                    ny,
                    nz,
                    steps,
                    overlap,
                } => (vec![phase, compute], vec![nx, ny, nz, steps, overlap]),
                Comm::Ring {
                    phase,
                    compute,
                    n,
                    dim,
                } => (vec![phase, compute], vec![n, dim]),
                Comm::Dispatch {
                    phase,
                    compute,
                    rows,
                    chunk,
                } => (vec![phase, compute], vec![rows, chunk]),
                Comm::Reduce { compute } => (vec![compute], vec![]),
            };
            for ph in phases {
                assert!(w.phases.contains(&ph), "{}: no phase {ph}", w.name);
            }
            for o in options {
                assert!(
                    sub.get_arguments()
                        .any(|a| a.get_long() == Some(&o.replace('_', "-"))),
                    "{}: no option --{o}",
                    w.name
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
        assert!(heat["size"][0].get("optional").is_none());
        assert_eq!(heat["size"][2]["option"], "nz");
        assert_eq!(heat["size"][2]["weak"], "grid_z");
        assert_eq!(heat["size"][2]["optional"], true);
        assert_eq!(heat["comm"]["nz"], "nz");
        assert_eq!(v.as_array().unwrap().len(), 7);
    }
}
