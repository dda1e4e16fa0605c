//! The command line: start-up under MPI, the deck merged in, parsing,
//! errors as one line, and a dispatch of one line per command. Each
//! workload's options, plan and run live in its own folder, listed once in
//! [`crate::workloads`].
//!
//! Every rank parses the same arguments, so every rank reaches the same
//! verdict on them; only rank 0 prints it. Help and version go to stdout
//! once, errors are one line on stderr, and every rank returns the same exit
//! code, so `mpirun` never waits on a rank that went on alone.

pub mod deck;
mod errors;
pub mod examples;
pub mod tools;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use mpi::traits::*;

use crate::error::{ExitCode, Failure, Outcome};
use crate::h5::RunMeta;
use crate::workloads::{Launch, Workload};
use errors::clap_exit;
use tools::{completions, effective_config, man_page};

#[derive(Debug, Parser)]
#[command(
    name = "parsim",
    version,
    // mpirun gives ranks a pty even when the user's stdout is a pipe or a
    // job log, so terminal detection cannot be trusted: no colour codes.
    color = clap::ColorChoice::Never,
    // A deck's options come first and typed ones after: the last one wins.
    args_override_self = true,
    about = "SPMD simulations under MPI: heat equation, OU ensembles, Monte Carlo, quadrature, Mandelbrot, all pairs",
    long_about = "SPMD simulations under MPI. Launch with `mpirun -n P parsim ...` or \
                  `srun parsim ...`; without a launcher it runs on one rank.\n\n\
                  Exit codes: 0 success, 1 runtime failure, 2 invalid input, \
                  3 validation failed, 4 numerical blow-up, 70 a rank panicked (job \
                  aborted), 75 stopped by a signal (after writing a checkpoint where the workload keeps one)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Check every option (deck, then command line) exactly as a run
    /// does, print the effective configuration as a deck with the plan
    /// resolved on these ranks, and exit without running. The output is
    /// checked as the run would find it now (it exists, no --force: refused);
    /// input files' contents and free memory are checked when the run
    /// starts.
    #[arg(long, global = true)]
    dry_run: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Workload(Box<Workload>),
    /// List the workloads (`--json`: what scripts need to drive each one:
    /// size options, rate, phases, result file and group).
    Workloads {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Measure the network between ranks: latency and bandwidth (rank 0
    /// with a rank on its host and one on another host), and an all-reduce;
    /// `scripts/scaling.py predict` builds its cost model from them.
    Pingpong(crate::pingpong::PingpongArgs),
    /// Print a shell completion script, e.g. `parsim completions bash >
    /// ~/.local/share/bash-completion/completions/parsim`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `parsim man | man -l -`; `parsim man
    /// heat` for a workload's own page.
    Man {
        /// A workload's page instead of the main one.
        subcommand: Option<String>,
    },
    /// List the example decks, or print one: `parsim examples disk >
    /// disk.toml` (they are built in: any directory will do).
    Examples {
        /// The deck to print.
        name: Option<String>,
    },
    /// Run from an input deck: `parsim run DECK.toml [options]`, or a
    /// built-in example, `parsim run --example disk [options]`. The deck
    /// (TOML) names the workload and sets its options; options typed after
    /// it override the deck. Every subcommand also takes `--config DECK`.
    Run {
        /// A built-in example deck instead of a file (`parsim examples`
        /// lists them); it must come first: `parsim run --example NAME`.
        #[arg(long, value_name = "NAME")]
        example: Option<String>,
        /// The deck (TOML): workload = "heat" and any of its options.
        deck: Option<PathBuf>,
        /// Options of the deck's workload, overriding the deck.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        options: Vec<String>,
    },
}

/// The command line parser. Every option that takes a value takes a
/// negative number too, so that `--nx -4` or `--dt -1e-5` is refused by the
/// option's own check (its range, in a domain message) instead of reading
/// as an unknown flag `-4`. A real-valued option takes any word beginning
/// with `-` (clap's number test misses `-1e-5`); `--dt --steps` then says
/// that `--steps` is not a number.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let real = std::any::TypeId::of::<f64>();
    Cli::command()
        .long_version(long_version())
        .mut_subcommands(|sub| {
            // Each workload's default result file, named in its help.
            let name = sub.get_name().to_string();
            let sub = if sub.get_arguments().any(|a| a.get_id() == "output") {
                sub.mut_arg("output", |a| {
                    a.help(format!("HDF5 result file [default: {name}.h5]"))
                })
            } else {
                sub
            };
            sub.mut_args(|arg| {
                if !arg.get_action().takes_values() {
                    arg
                } else if arg.get_value_parser().type_id() == real {
                    arg.allow_hyphen_values(true)
                } else {
                    arg.allow_negative_numbers(true)
                }
            })
        })
}

/// `parsim --version`: what a bug report needs, the same as every result
/// file records (commit, MPI library, HDF5, parallel I/O or not).
fn long_version() -> &'static str {
    static LONG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LONG.get_or_init(|| {
        let mpi = crate::h5::mpi_library();
        let built = match crate::mpi_check::BUILT_FOR {
            "" => "not recorded".to_string(),
            b if b == mpi => "the same".to_string(),
            b => b.to_string(),
        };
        let hdf5 = crate::h5::hdf5_library();
        format!(
            "{} (commit {})\nMPI library: {mpi}\nMPI built for: {built}\nsrun MPI plugin: {}\n\
             HDF5: {hdf5}\nparallel I/O (--io parallel): {}\nexpressions: {}",
            crate::VERSION,
            env!("PARSIM_GIT_COMMIT"),
            crate::mpi_check::srun_plugin(&mpi),
            if cfg!(feature = "parallel-io") {
                "yes"
            } else {
                "no"
            },
            crate::expr::batch::evaluator(),
        )
    })
}

/// The long options of subcommand `workload` and whether each takes a value
/// (what a deck may set).
fn workload_options(workload: &str) -> Option<Vec<(String, bool)>> {
    // pingpong is no workload (no result file, no plan), but its deck
    // (`parsim pingpong --dry-run`) runs like theirs.
    if !crate::workloads::ALL.iter().any(|w| w.name == workload) && workload != "pingpong" {
        return None;
    }
    let cmd = command();
    let sub = cmd.find_subcommand(workload)?;
    Some(
        sub.get_arguments()
            .filter_map(|a| {
                a.get_long()
                    .map(|l| (l.to_string(), a.get_action().takes_values()))
            })
            .collect(),
    )
}

/// Entry point of the binary; returns the process exit code.
pub fn main() -> i32 {
    // Before MPI starts: a stop signal that arrives during start-up is then
    // recorded (and honoured at the first check) instead of killing the rank.
    let stop = match crate::stop::StopSignal::install() {
        Ok(stop) => stop,
        Err(e) => {
            crate::console::err_line(&format!(
                "parsim: error: cannot install signal handlers: {e}"
            ));
            return ExitCode::Runtime as i32;
        }
    };
    // `parsim --version` alone, without starting MPI: job scripts read it
    // (the srun plugin line) in the batch shell, where an MPI singleton
    // would start its own runtime. It names both libraries when they
    // differ. Under a launcher only rank 0 prints, as for every output.
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    if args.len() == 1 && args[0] == "--version" {
        return print_result(&command().render_long_version());
    }
    // Commands that only print need no MPI either: `parsim workloads
    // --json` answers on a login node whose MPI cannot start.
    if let Some(text) = printed_only(std::env::args_os().collect()) {
        return match text {
            Ok(text) => print_result(&text),
            Err(f) => {
                if crate::mpi_check::launcher_rank() == 0 {
                    crate::console::err_line(&format!("parsim: error: {}", f.message));
                }
                f.code as i32
            }
        };
    }
    // The MPI library loaded must be the one built for: checked before
    // MPI_Init, which a mismatched library may already get wrong.
    if let Some(refusal) = crate::mpi_check::check() {
        if crate::mpi_check::launcher_rank() == 0 {
            crate::console::err_line(&format!("parsim: error: {refusal}"));
        }
        return ExitCode::Runtime as i32;
    }
    // FUNNELED: `--threads` runs stencil threads, MPI stays on this thread.
    // What the library provides is checked only when threads are asked for.
    let Some((universe, _provided)) = mpi::initialize_with_threading(mpi::Threading::Funneled)
    else {
        crate::console::err_line("parsim: error: MPI could not be initialised");
        return ExitCode::Runtime as i32;
    };
    let world = universe.world();
    let rank = world.rank();
    crate::par::install_panic_abort(rank);
    crate::oom::mpi_up(rank);

    let code = match with_deck(&world, std::env::args_os().collect()) {
        Ok(e) => parse_and_run(&world, e.args, e.deck, &stop),
        Err(failure) => {
            if rank == 0 {
                crate::console::err_line(&format!("parsim: error: {}", failure.message));
            }
            failure.code as i32
        }
    };
    crate::oom::mpi_down();
    drop(universe); // MPI_Finalize on every rank before exiting
    code
}

/// The text of a command that only prints (`workloads`, `completions`,
/// `man`), without MPI; `None` for every other command line, which goes
/// through MPI as usual (errors included, so they are said once).
fn printed_only(args: Vec<std::ffi::OsString>) -> Option<Outcome<String>> {
    let m = command().try_get_matches_from(args).ok()?;
    let cli = <Cli as clap::FromArgMatches>::from_arg_matches(&m).ok()?;
    printed_text(&cli.command)
}

/// The text a command that only prints prints; `None` for the others.
fn printed_text(cmd: &Command) -> Option<Outcome<String>> {
    match cmd {
        Command::Workloads { json } => Some(Ok(crate::workloads::listing(*json))),
        Command::Examples { name: None } => Some(Ok(examples::listing())),
        Command::Examples { name: Some(n) } => {
            Some(examples::text(n).map(String::from).map_err(Failure::usage))
        }
        Command::Completions { shell } => Some(Ok(completions(command(), *shell))),
        Command::Man { subcommand } => {
            Some(man_page(command(), subcommand.as_deref()).map_err(Failure::usage))
        }
        _ => None,
    }
}

/// Print `text` on stdout where printing is the command's whole result
/// (`--version`, `workloads`, `completions`, `man`), by the launcher's rank
/// 0 only; the exit code. A stdout that cannot take it (a full disk, a
/// closed pipe) fails the command in one line, exit 1: a script reading
/// `parsim workloads --json` must not take an empty answer for one.
fn print_result(text: &str) -> i32 {
    use std::io::Write;
    if crate::mpi_check::launcher_rank() != 0 {
        return ExitCode::Success as i32;
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::Success as i32,
        Err(e) => {
            crate::console::err_line(&format!("parsim: error: cannot print to stdout: {e}"));
            ExitCode::Runtime as i32
        }
    }
}

/// Collective: the command line with an input deck's options put in
/// (`parsim run DECK`, `--config DECK`): rank 0 reads the deck and every
/// rank gets the same text, so all reach the same verdict. The deck's path
/// and text, for provenance.
fn with_deck<C: Communicator>(world: &C, raw: Vec<std::ffi::OsString>) -> Outcome<deck::Expanded> {
    if let Some(name) = deck::example_name(&raw) {
        // Built in: every rank has the same text without reading a file.
        let text = examples::text(&name).map_err(Failure::usage)?;
        return deck::expand(&raw, text, workload_options).map_err(Failure::usage);
    }
    let Some(path) = deck::deck_path(&raw) else {
        return Ok(deck::Expanded {
            args: raw,
            deck: None,
        });
    };
    let text = crate::par::broadcast_json(world, || {
        let cannot =
            |why: String| Failure::usage(format!("cannot read deck '{}': {why}", path.display()));
        // A FIFO or a device would block rank 0 while the others wait.
        if std::fs::metadata(&path).is_ok_and(|m| !m.is_file()) {
            return Err(cannot("not a regular file".into()));
        }
        std::fs::read_to_string(&path).map_err(|e| cannot(e.to_string()))
    })?;
    deck::expand(&raw, &text, workload_options).map_err(Failure::usage)
}

/// Collective: parse `args` (alike on every rank) and run the command;
/// the exit code. Help and version are printed by rank 0; errors are one
/// line from rank 0.
fn parse_and_run<C: Communicator>(
    world: &C,
    args: Vec<std::ffi::OsString>,
    deck: Option<(String, String)>,
    stop: &crate::stop::StopSignal,
) -> i32 {
    let rank = world.rank();
    let parsed = command().try_get_matches_from(args).and_then(|m| {
        let cli = <Cli as clap::FromArgMatches>::from_arg_matches(&m)?;
        let dry = cli
            .dry_run
            .then(|| effective_config(&command(), &m))
            .flatten();
        Ok((cli, given_options(&m), dry))
    });
    let (cli, given, dry) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => return clap_exit(rank, &err, deck.as_ref()) as i32,
    };
    match dispatch(world, cli, given, deck, stop, dry) {
        Ok(()) => ExitCode::Success as i32,
        Err(failure) => {
            // Debug aid: every rank's own view of the failure.
            if std::env::var_os("PARSIM_DEBUG_ALL_RANKS").is_some() {
                crate::console::err_line(&format!("parsim: rank {rank}: {}", failure.message));
            }
            if rank == 0 {
                crate::console::err_line(&format!("parsim: error: {}", failure.message));
            }
            failure.code as i32
        }
    }
}

/// The subcommand's options given on the command line or in the deck (not
/// defaulted), by id ("paths", "record_every"): a restart takes the others
/// from its checkpoint.
fn given_options(m: &clap::ArgMatches) -> Vec<String> {
    let Some((_, sub)) = m.subcommand() else {
        return Vec::new();
    };
    sub.ids()
        .filter(|id| sub.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine))
        .map(|id| id.to_string())
        .collect()
}

/// Collective: run the parsed command line; the exit code.
fn dispatch<C: Communicator>(
    world: &C,
    cli: Cli,
    given: Vec<String>,
    deck: Option<(String, String)>,
    stop: &crate::stop::StopSignal,
    dry: Option<String>,
) -> Outcome {
    let rank0 = world.rank() == 0;
    match cli.command {
        Command::Workload(w) => {
            let meta = RunMeta::collect(world, command_line(), deck);
            let (meta, world) = (&meta, world);
            w.launch(Launch {
                world,
                meta,
                stop,
                dry,
                given,
            })
        }
        Command::Pingpong(args) => crate::pingpong::run(world, &args, dry),
        Command::Run { .. } => Err(Failure::usage(
            "run needs a deck first: parsim run DECK.toml [options], or parsim run --example NAME",
        )),
        // Answered before MPI starts (`printed_only`); the same text here.
        printing => match printed_text(&printing) {
            Some(text) => show(rank0, text?),
            None => Ok(()),
        },
    }
}

/// Rank 0 prints `text` to stdout.
fn show(rank0: bool, text: String) -> Outcome {
    if rank0 {
        crate::console::out(&text);
    }
    Ok(())
}

/// The command line as a shell would need it typed, for provenance.
/// Bytes that are not UTF-8 are shown as U+FFFD (the file names the run
/// used are the real ones; this is a record for people).
fn command_line() -> String {
    std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_=./,:+@%".contains(c))
            {
                a
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_long_version_says_what_the_binary_was_built_with() {
        let v = command().render_long_version();
        let lines: Vec<&str> = v.lines().collect();
        assert!(lines[0].starts_with("parsim 0.1.0 (commit "), "{v}");
        assert!(lines[1].starts_with("MPI library: "), "{v}");
        assert_eq!(lines[2], "MPI built for: the same", "{v}");
        assert!(lines[3].starts_with("srun MPI plugin: --mpi="), "{v}");
        assert!(lines[4].starts_with("HDF5: "), "{v}");
        assert!(
            lines[5].starts_with("parallel I/O (--io parallel): "),
            "{v}"
        );
        assert_eq!(command().render_version(), "parsim 0.1.0\n");
    }

    #[test]
    fn help_names_each_default_file_and_groups_the_output_options() {
        let mut cmd = command();
        let help = cmd
            .find_subcommand_mut("pairs")
            .unwrap()
            .render_help()
            .to_string();
        assert!(
            help.contains("HDF5 result file [default: pairs.h5]"),
            "{help}"
        );
        let output = help.find("Output:").expect("an Output heading");
        for flag in ["--output", "--no-output", "--force", "--json", "--quiet"] {
            assert!(
                help.find(flag).unwrap() > output,
                "{flag} is not under Output:\n{help}"
            );
        }
    }
}
