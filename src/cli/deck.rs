//! Input decks: a TOML file that holds a run's options, so a run can be
//! kept, reviewed and repeated.
//!
//! ```toml
//! workload = "heat"       # any workload: `parsim workloads` lists them
//! nx = 4000               # every key is a long option of that workload,
//! ny = 4000               # with - or _ between words
//! snapshot_every = 100
//! output = "big.h5"
//! ```
//!
//! `parsim run deck.toml [options]` and `parsim heat --config deck.toml
//! [options]` both turn the deck into command-line options placed before
//! the ones typed, so typed options win, and clap checks deck values exactly
//! like typed ones (one parser, one set of messages). A key that is not an
//! option of the workload is an error naming the key and its line.
//!
//! Pure: reading the file (once, on rank 0) is the caller's business.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// Options a deck may not set: they name the deck itself or are not run
/// settings.
const NOT_IN_DECKS: &[&str] = &["config", "help", "version", "dry-run"];

/// The result of expanding a command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Expanded {
    /// The command line with the deck's options in place.
    pub args: Vec<OsString>,
    /// The deck: path as given and full text (stored in result files).
    pub deck: Option<(String, String)>,
}

/// `parsim run --example NAME ...`: the built-in deck's name ("" when
/// `--example` is last: the refusal then names the known ones).
pub fn example_name(args: &[OsString]) -> Option<String> {
    if args.get(1).is_some_and(|w| w == "run") && args.get(2).is_some_and(|w| w == "--example") {
        return Some(
            args.get(3)
                .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
        );
    }
    None
}

/// Where the command line names a deck, if anywhere: its path (any bytes
/// a file name may hold).
pub fn deck_path(args: &[OsString]) -> Option<PathBuf> {
    if args.get(1).is_some_and(|w| w == "run") {
        return args
            .get(2)
            .filter(|w| !w.as_bytes().starts_with(b"-"))
            .map(PathBuf::from);
    }
    config_flag(args)
        .filter(|(_, path, _)| !path.is_empty())
        .map(|(_, path, _)| PathBuf::from(path))
}

/// `--config PATH` or `--config=PATH` after the subcommand: (index, path,
/// number of words it takes).
fn config_flag(words: &[OsString]) -> Option<(usize, OsString, usize)> {
    words.iter().enumerate().skip(2).find_map(|(i, w)| {
        if w == "--config" {
            // `--config --nx 4`: no file given (an option is not a deck).
            let next = words.get(i + 1).filter(|n| !n.as_bytes().starts_with(b"-"));
            Some((i, next.cloned().unwrap_or_default(), 2))
        } else {
            w.as_bytes()
                .strip_prefix(b"--config=")
                .map(|p| (i, OsStr::from_bytes(p).to_os_string(), 1))
        }
    })
}

/// Expand `args` given the deck's `text`. `options(workload)` lists the
/// long options of a workload and whether each takes a value (`None`: no
/// such workload).
pub fn expand(
    args: &[OsString],
    text: &str,
    options: impl Fn(&str) -> Option<Vec<(String, bool)>>,
) -> Result<Expanded, String> {
    let Split {
        path,
        workload,
        before,
        after,
    } = split(args)?;
    let path = path.to_string_lossy().into_owned();
    let (table, lines) = parse(text)
        .map_err(|e: toml::de::Error| format!("deck '{path}': {}", one_line(&e.to_string())))?;
    let deck = Deck {
        path: &path,
        table: &table,
        lines,
    };
    deck.no_synonyms()?;
    let workload = deck.workload(workload)?;
    let known = options(&workload).ok_or_else(|| {
        format!(
            "deck '{path}': unknown workload '{workload}' ({})",
            crate::workloads::names()
        )
    })?;
    let typed: Vec<String> = after
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let flags = deck.flags(&workload, &known, &typed)?;
    let mut out = before;
    if out.len() == 1 {
        out.push(workload.into());
    }
    out.extend(flags.into_iter().map(OsString::from));
    out.extend(after);
    Ok(Expanded {
        args: out,
        deck: Some((path, text.to_string())),
    })
}

/// The command line around a deck: its path, the workload typed (with
/// `--config`), the words before the deck's options and the typed ones
/// after (which override the deck's).
struct Split {
    path: OsString,
    workload: Option<String>,
    before: Vec<OsString>,
    after: Vec<OsString>,
}

fn split(words: &[OsString]) -> Result<Split, String> {
    if let Some(name) = example_name(words) {
        return Ok(Split {
            path: super::examples::shown(&name).into(),
            workload: None,
            before: words[..1].to_vec(),
            after: words.get(4..).unwrap_or_default().to_vec(),
        });
    }
    if words.get(1).is_some_and(|w| w == "run") {
        let path = words
            .get(2)
            .cloned()
            .ok_or("run needs a deck: parsim run DECK.toml [options]")?;
        return Ok(Split {
            path,
            workload: None,
            before: words[..1].to_vec(),
            after: words[3..].to_vec(),
        });
    }
    let (i, path, n) = config_flag(words).ok_or("no deck on the command line")?;
    if path.is_empty() {
        return Err("--config needs a file: --config DECK.toml".into());
    }
    let mut after = words[2..i].to_vec();
    after.extend_from_slice(&words[i + n..]);
    Ok(Split {
        path,
        workload: Some(words[1].to_string_lossy().into_owned()),
        before: words[..2].to_vec(),
        after,
    })
}

/// A parsed deck and where it came from (for messages).
struct Deck<'a> {
    path: &'a str,
    table: &'a toml::Table,
    /// The line of each top-level key.
    lines: Lines,
}

impl Deck<'_> {
    fn line(&self, key: &str) -> usize {
        self.lines.get(key).copied().unwrap_or(1)
    }

    /// Refuse two keys for one option (`proc_grid` and `proc-grid`): one
    /// would silently win.
    fn no_synonyms(&self) -> Result<(), String> {
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for key in self.table.keys() {
            if let Some(first) = seen.insert(key.replace('_', "-"), key) {
                return Err(format!(
                    "deck '{}': keys '{first}' (line {}) and '{key}' (line {}) set the same option",
                    self.path,
                    self.line(first),
                    self.line(key)
                ));
            }
        }
        Ok(())
    }

    /// The workload: the deck's `workload` key, which must agree with a
    /// typed subcommand.
    fn workload(&self, typed: Option<String>) -> Result<String, String> {
        let path = self.path;
        let named = match self.table.get("workload") {
            None => None,
            Some(toml::Value::String(w)) => Some(w.clone()),
            Some(_) => {
                return Err(format!(
                    "deck '{path}': 'workload' (line {}) must be a string such as \"heat\"",
                    self.line("workload")
                ))
            }
        };
        match (typed, named) {
            (Some(sub), Some(w)) if sub != w => {
                Err(format!("deck '{path}' is for workload '{w}', not '{sub}'"))
            }
            (Some(sub), _) => Ok(sub),
            (None, Some(w)) => Ok(w),
            (None, None) => Err(format!(
                "deck '{path}' names no workload: add a line workload = \"NAME\" (NAME: {})",
                crate::workloads::names()
            )),
        }
    }

    /// The deck's keys as command-line words, for `workload` whose options
    /// are `known` (name, takes a value); keys typed in `after` are left
    /// out: a typed option replaces the deck's entirely (for a list such
    /// as --tau, appending would mix the two).
    fn flags(
        &self,
        workload: &str,
        known: &[(String, bool)],
        after: &[String],
    ) -> Result<Vec<String>, String> {
        let typed = |name: &str| {
            let flag = format!("--{name}");
            after
                .iter()
                .any(|w| *w == flag || w.starts_with(&format!("{flag}=")))
        };
        let mut flags = Vec::new();
        for (key, value) in self.table {
            if key == "workload" {
                continue;
            }
            let name = key.replace('_', "-");
            let line = self.line(key);
            let path = self.path;
            let takes_value = known
                .iter()
                .find(|(n, _)| *n == name && !NOT_IN_DECKS.contains(&n.as_str()))
                .map(|(_, v)| *v)
                .ok_or_else(|| {
                    format!("deck '{path}': unknown key '{key}' at line {line} (not an option of parsim {workload})")
                })?;
            if !typed(&name) {
                let bad = |what: &str| format!("deck '{path}': key '{key}' at line {line}: {what}");
                flags.extend(words_of(&name, value, takes_value).map_err(bad)?);
            }
        }
        Ok(flags)
    }
}

/// `--name [value]` for one deck value; the complaint if it cannot be one.
fn words_of(
    name: &str,
    value: &toml::Value,
    takes_value: bool,
) -> Result<Vec<String>, &'static str> {
    let flag = format!("--{name}");
    Ok(match value {
        toml::Value::Boolean(b) if !takes_value => {
            if *b {
                vec![flag]
            } else {
                vec![]
            }
        }
        toml::Value::Boolean(b) => vec![flag, if *b { "on" } else { "off" }.into()],
        _ if !takes_value => return Err("expected true or false"),
        toml::Value::Array(items) => {
            let parts = items
                .iter()
                .map(scalar)
                .collect::<Option<Vec<_>>>()
                .ok_or("a list may hold only numbers and strings")?;
            vec![flag, parts.join(",")]
        }
        v => vec![
            flag,
            scalar(v).ok_or("expected a number, a string or a list")?,
        ],
    })
}

/// A number or string as it would be typed.
fn scalar(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// The line of each top-level key of a deck.
type Lines = BTreeMap<String, usize>;

/// Parse a deck once: its top-level table, and the line of each of its
/// keys (from the parser's spans, so quoted keys and table headers have
/// theirs too).
fn parse(text: &str) -> Result<(toml::Table, Lines), toml::de::Error> {
    let spanned: BTreeMap<toml::Spanned<String>, toml::Value> = toml::from_str(text)?;
    let mut table = toml::Table::new();
    let mut lines = Lines::new();
    for (key, value) in spanned {
        let line = text[..key.span().start].matches('\n').count() + 1;
        lines.insert(key.get_ref().clone(), line);
        table.insert(key.into_inner(), value);
    }
    Ok((table, lines))
}

/// TOML errors span several lines (with a caret drawing); keep it to one.
fn one_line(msg: &str) -> String {
    let mut parts = msg.lines().map(str::trim).filter(|l| {
        !l.is_empty() && !l.starts_with('|') && !l.chars().all(|c| c == '^' || c == ' ' || c == '|')
    });
    let first = parts.next().unwrap_or("invalid TOML").to_string();
    let last = parts.next_back().unwrap_or_default();
    if last.is_empty() || last == first {
        first
    } else {
        format!("{first} {last}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(w: &str) -> Option<Vec<(String, bool)>> {
        (w == "heat" || w == "ou").then(|| {
            [
                ("nx", true),
                ("steps", true),
                ("allow-unstable", false),
                ("overlap", true),
                ("tau", true),
                ("config", true),
                ("output", true),
            ]
            .iter()
            .map(|(n, v)| (n.to_string(), *v))
            .collect()
        })
    }

    fn args(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    fn strs(e: &Expanded) -> Vec<String> {
        e.args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn deck_options_come_first_and_typed_ones_replace_them() {
        let deck = "workload = \"heat\"\nnx = 64\nallow_unstable = true\noverlap = false\n";
        let e = expand(&args(&["parsim", "run", "d.toml", "--nx", "8"]), deck, opts).unwrap();
        assert_eq!(
            strs(&e),
            [
                "parsim",
                "heat",
                "--allow-unstable",
                "--overlap",
                "off",
                "--nx",
                "8"
            ]
        );
        assert_eq!(e.deck.unwrap().0, "d.toml");
    }

    #[test]
    fn config_flag_is_replaced_by_the_deck() {
        let deck = "tau = [0.5, 1, 2]\nsteps = 10\n";
        let e = expand(
            &args(&["parsim", "ou", "--steps", "5", "--config=x.toml"]),
            deck,
            opts,
        )
        .unwrap();
        assert_eq!(
            strs(&e),
            ["parsim", "ou", "--tau", "0.5,1,2", "--steps", "5"]
        );
        assert_eq!(
            deck_path(&args(&["parsim", "ou", "--config", "y.toml"])),
            Some("y.toml".into())
        );
        assert_eq!(
            deck_path(&args(&["parsim", "run", "z.toml"])),
            Some("z.toml".into())
        );
        assert_eq!(deck_path(&args(&["parsim", "heat", "--nx", "3"])), None);
    }

    #[test]
    fn mistakes_are_named_with_their_line() {
        let err = |deck: &str, words: &[&str]| expand(&args(words), deck, opts).unwrap_err();
        let run = ["parsim", "run", "d.toml"];
        assert_eq!(
            err("workload = \"heat\"\n\n  nxx = 3\n", &run),
            "deck 'd.toml': unknown key 'nxx' at line 3 (not an option of parsim heat)"
        );
        assert!(err("nx = 3\n", &run).contains("names no workload"));
        assert!(err("workload = \"wave\"\n", &run).contains("unknown workload 'wave'"));
        assert!(err("workload = \"heat\"\nconfig = \"a\"\n", &run)
            .contains("unknown key 'config' at line 2"));
        assert!(err(
            "workload = \"ou\"\n",
            &["parsim", "heat", "--config", "d.toml"]
        )
        .contains("is for workload 'ou', not 'heat'"));
        assert!(err("workload = \"heat\"\nallow_unstable = 3\n", &run)
            .contains("expected true or false"));
        assert!(err("workload = \"heat\"\nnx = [[1]]\n", &run).contains("only numbers and strings"));
        assert_eq!(
            err(
                "workload = \"heat\"\nproc-grid = \"1x2\"\n\nproc_grid = \"2x1\"\n",
                &run
            ),
            "deck 'd.toml': keys 'proc-grid' (line 2) and 'proc_grid' (line 4) set the same option"
        );
        assert!(err(
            "workload = \"pi\"\nno_output = true\nno-output = false\n",
            &run
        )
        .contains("set the same option"));
        // Quoted keys and keys after a table header have their lines too.
        assert!(err("workload = \"heat\"\n\"nxx\" = 3\n", &run).contains("'nxx' at line 2"));
        assert!(err("workload = \"heat\"\n[heat]\nnx = 3\n", &run).contains("'heat' at line 2"));
        let syntax = err("workload = \"heat\"\nnx = = 3\n", &run);
        assert!(
            syntax.starts_with("deck 'd.toml': ") && !syntax.contains('\n'),
            "{syntax}"
        );
    }
}
