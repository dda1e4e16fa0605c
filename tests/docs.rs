//! Every command the docs show runs as written, with `parsim` on `PATH`
//! (as the README says to put it there), in order, in one empty directory
//! of the test's own (no copy of the project's files: the example decks
//! are built in, `parsim run --example NAME`):
//!
//! - the README's commands run for real (they are small on purpose), and
//!   must exit 0, or the code their comment names ("exit 2");
//! - the guides' commands (some are cluster-sized) run as dry runs: every
//!   option is checked exactly as the run would check it, and the result
//!   file each would write is noted, so two commands that would collide
//!   ("output exists; pass --force") fail here as they would for a reader
//!   running them in order in one directory.
//!
//! A command is a line of a ```sh block that starts with `parsim` or
//! `mpirun ... parsim`; `srun` lines are the cluster tests' to run, and a
//! line that writes outside the current directory (`~/...`) is not run.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The commands of `file`'s ```sh blocks, continuation lines joined, each
/// block's in order.
fn commands(file: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(Path::new(ROOT).join(file)).unwrap();
    let mut blocks = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("```sh\n") {
        let body = &rest[start + 6..];
        let end = body.find("```").expect("an unclosed block");
        let joined = body[..end].replace("\\\n", " ");
        let cmds: Vec<String> = joined
            .lines()
            .map(str::trim)
            .filter(|l| is_parsim(l) && !l.contains("~/"))
            .map(String::from)
            .collect();
        if !cmds.is_empty() {
            blocks.push(cmds);
        }
        rest = &body[end + 3..];
    }
    blocks
}

/// An `mpirun` line with more ranks than a 2-core laptop has and no
/// `--oversubscribe`: Open MPI refuses it there ("not enough slots").
fn needs_oversubscribe(cmd: &str) -> bool {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let ranks = words
        .windows(2)
        .find(|w| w[0] == "-n" || w[0] == "-np")
        .and_then(|w| w[1].parse::<u32>().ok());
    words.first() == Some(&"mpirun")
        && ranks.is_some_and(|n| n > 2)
        && !words.contains(&"--oversubscribe")
}

fn is_parsim(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.first() {
        // A file the next commands read, written as the reader would.
        Some(&"parsim") | Some(&"printf") => true,
        Some(&"mpirun") => words
            .iter()
            .take_while(|w| !w.starts_with('#'))
            .any(|w| *w == "parsim"),
        _ => false,
    }
}

/// `line` without its trailing comment, and the exit code the comment
/// names ("exit 2"; 0 when it names none).
fn split_comment(line: &str) -> (String, i32) {
    let (cmd, comment) = match line.find(" #") {
        Some(at) => (&line[..at], &line[at..]),
        None => (line, ""),
    };
    let code = comment
        .split("exit ")
        .nth(1)
        .and_then(|w| w.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    (cmd.trim().to_string(), code)
}

/// The shell command as run here: more ranks than cores allowed, a dry
/// run when `dry` (before any redirection or pipe), the pipe's far side
/// dropped (`parsim man | man -l -`: the reader is the user's).
fn as_run(cmd: &str, dry: bool) -> String {
    let cmd = cmd.split(" | ").next().unwrap().to_string();
    let cmd = cmd.replacen("mpirun ", "mpirun --oversubscribe --bind-to none ", 1);
    let shows = [
        "workloads",
        "man",
        "completions",
        "--help",
        "--version",
        "--dry-run",
    ];
    if !dry
        || cmd.starts_with("printf ")
        || shows
            .iter()
            .any(|w| cmd.split_whitespace().any(|x| x == *w))
    {
        return cmd;
    }
    match cmd.find(" >") {
        Some(at) => format!("{} --dry-run{}", &cmd[..at], &cmd[at..]),
        None => format!("{cmd} --dry-run"),
    }
}

fn run_all(file: &str, dry: bool) {
    let dir = scratch(&format!("docs-{}", file.replace(['/', '.'], "-")));
    let bin = Path::new(parsim()).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    let mut wrong = Vec::new();
    // Each result file a command writes, and that command.
    let mut written: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for block in commands(file) {
        for line in block {
            let (cmd, want) = split_comment(&line);
            if needs_oversubscribe(&cmd) {
                wrong.push(format!(
                    "{file}: `{cmd}` starts more than 2 ranks without --oversubscribe: \
                     it fails as written on a 2-core laptop"
                ));
            }
            let shell = as_run(&cmd, dry);
            let mut c = Command::new("bash");
            c.args(["-c", &shell]).current_dir(&dir).env("PATH", &path);
            if is_root() {
                c.env("OMPI_ALLOW_RUN_AS_ROOT", "1")
                    .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
            }
            let mut out = c.output().unwrap();
            // A dry run reads its input files: one an earlier command of
            // the guide writes is made by running that command for real.
            if dry && !out.status.success() {
                let err = String::from_utf8_lossy(&out.stderr).into_owned();
                let maker = written
                    .iter()
                    .find(|(name, _)| err.contains(&format!("'{name}")))
                    .map(|(_, made_by)| made_by.clone());
                if let Some(made_by) = maker {
                    let mut m = Command::new("bash");
                    m.args(["-c", &as_run(&made_by, false)]).current_dir(&dir);
                    m.env("PATH", &path);
                    if is_root() {
                        m.env("OMPI_ALLOW_RUN_AS_ROOT", "1")
                            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
                    }
                    let made = m.output().unwrap();
                    assert!(
                        made.status.success(),
                        "{file}: `{made_by}`: {}",
                        show(&made)
                    );
                    out = c.output().unwrap();
                }
            }
            ran += 1;
            let shown_dry = cmd.split_whitespace().any(|w| w == "--dry-run");
            if dry && out.status.success() && !shown_dry {
                if let Some(name) = written_by(&dir, &shell, &out.stdout) {
                    let forced = cmd.split_whitespace().any(|w| w == "--force");
                    if written.contains_key(&name) && !forced {
                        wrong.push(format!(
                            "{file}: `{cmd}` writes '{name}', which an earlier command wrote: \
                             run in order, it would stop with 'output exists; pass --force'"
                        ));
                    }
                    written.insert(name, cmd.clone());
                }
            }
            if out.status.code() != Some(want) {
                wrong.push(format!(
                    "{file}: `{shell}` exited {:?}, not {want}: {}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr)
                        .lines()
                        .rfind(|l| l.starts_with("parsim"))
                        .unwrap_or("(no parsim line on stderr)")
                ));
            }
        }
    }
    assert!(ran > 0, "{file}: no command found");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The result file a dry run's command would write: its deck's `output =
/// "..."` or the default it names (None with `no_output = true`). The deck
/// is the printed text, or the file it was redirected into. Why not run
/// them: the guides' commands are cluster-sized; the names are enough to
/// find two that would collide for a reader running them in order in one
/// directory.
fn written_by(dir: &Path, shell: &str, stdout: &[u8]) -> Option<String> {
    let mut deck = String::from_utf8_lossy(stdout).into_owned();
    if let Some((_, file)) = shell.split_once(" > ") {
        deck += &std::fs::read_to_string(dir.join(file.trim())).unwrap_or_default();
    }
    if deck.lines().any(|l| l.starts_with("no_output = true")) {
        return None;
    }
    deck.lines().find_map(|l| {
        l.strip_prefix("output = \"")
            .or_else(|| l.strip_prefix("# output: not set (default: "))
            .and_then(|rest| rest.split(['"', ')']).next())
            .map(String::from)
    })
}

#[test]
fn the_readme_commands_run_as_written() {
    run_all("README.md", false);
}

#[test]
fn the_guides_commands_pass_their_dry_run() {
    for guide in [
        "docs/user-guide.md",
        "docs/cluster.md",
        "docs/performance.md",
        "docs/architecture.md",
    ] {
        if commands(guide).is_empty() {
            continue;
        }
        run_all(guide, true);
    }
}

#[test]
fn comments_name_exit_codes_and_commands_are_found() {
    assert_eq!(
        split_comment("mpirun -n 2 parsim pi --samples 0 --dry-run   # refused: exit 2"),
        ("mpirun -n 2 parsim pi --samples 0 --dry-run".into(), 2)
    );
    assert_eq!(split_comment("parsim workloads  # one line each").1, 0);
    assert!(is_parsim("mpirun -n 4 parsim heat"));
    assert!(!is_parsim("srun -n 64 parsim heat"));
    assert!(!is_parsim("mpirun -n 2 ./a.out  # not parsim"));
    assert_eq!(
        as_run("parsim heat --nx 4 > run.toml", true),
        "parsim heat --nx 4 --dry-run > run.toml"
    );
    assert_eq!(as_run("parsim man | man -l -", true), "parsim man");
    assert!(needs_oversubscribe("mpirun -n 4 parsim heat"));
    assert!(!needs_oversubscribe(
        "mpirun --oversubscribe -n 4 parsim heat"
    ));
    assert!(!needs_oversubscribe("mpirun -n 2 parsim heat"));
}

/// Issue 43: the example decks are built in, so an installed parsim runs
/// them from a directory that holds nothing of the project, and writes
/// one out byte for byte.
#[test]
fn the_example_decks_run_from_any_directory() {
    let dir = scratch("docs-examples-anywhere");
    let out = Command::new(parsim())
        .args(["examples", "pi"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let file = std::fs::read(Path::new(ROOT).join("examples/pi.toml")).unwrap();
    assert_eq!(out.stdout, file);
    let v = run_json(
        &dir,
        2,
        &[
            "run",
            "--example",
            "pi",
            "--samples",
            "100000",
            "--output",
            "p.h5",
        ],
    );
    assert_eq!(v["passed"], true, "{v}");
    assert!(dir.join("p.h5").is_file());
    assert_refused(
        &dir,
        1,
        &["run", "--example", "dsik"],
        "unknown example 'dsik' (parsim examples lists them: demo, disk,",
    );
}
