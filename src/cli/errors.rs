//! A clap error as parsim shows it: help and version printed whole, a
//! usage error in one line with clap's tips kept on it, and the deck line
//! a bad value came from.

use clap::error::ErrorKind;

use crate::error::ExitCode;

/// What a clap error means: help or version printed (success), or a usage
/// error in one line (rank 0 prints), naming the deck's line when the bad
/// value came from the deck.
pub fn clap_exit(rank: i32, err: &clap::Error, deck: Option<&(String, String)>) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            if rank == 0 {
                crate::console::out(&err.render().to_string());
            }
            if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::Usage
            } else {
                ExitCode::Success
            }
        }
        _ => {
            if rank == 0 {
                let line = first_line_of(err);
                match deck.and_then(|(path, text)| deck_origin(err, path, text)) {
                    Some(at) => crate::console::err_line(&format!("parsim: {at}: {line}")),
                    None => crate::console::err_line(&format!("parsim: {line}")),
                }
            }
            ExitCode::Usage
        }
    }
}

/// clap's error without the usage block: the "error: ..." line, clap's
/// tips ("a similar argument exists: '--steps'") kept on the same line,
/// and the hint to `--help` so the user knows where to look.
pub fn first_line_of(err: &clap::Error) -> String {
    one_line_with_tips(&err.render().to_string())
}

/// Where in the deck a value clap refused was set ("deck 'd.toml' line
/// 2"), when the value is the deck's (not one typed after it).
fn deck_origin(err: &clap::Error, path: &str, text: &str) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let text_of = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let arg = text_of(ContextKind::InvalidArg)?;
    let value = text_of(ContextKind::InvalidValue)?;
    let key = arg
        .strip_prefix("--")?
        .split([' ', '='])
        .next()?
        .to_string();
    let table: toml::Table = text.parse().ok()?;
    let set = match table.get(&key)? {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let line = text
        .lines()
        .position(|l| l.split('=').next().map(str::trim) == Some(key.as_str()))?;
    (set == value).then(|| format!("deck '{path}' line {}", line + 1))
}

fn one_line_with_tips(rendered: &str) -> String {
    let first = rendered
        .lines()
        .next()
        .unwrap_or("error: invalid arguments");
    let tips: Vec<&str> = rendered
        .lines()
        .filter_map(|l| l.trim().strip_prefix("tip: "))
        .collect();
    let help = if tips.is_empty() {
        "(see --help)".to_string()
    } else {
        format!("(tip: {}; see --help)", tips.join("; "))
    };
    format!("{} {help}", crate::error::one_line(first))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::command;

    #[test]
    fn clap_errors_keep_their_tip_on_one_line() {
        let err = command()
            .try_get_matches_from(["parsim", "heat", "--stesp", "5"])
            .unwrap_err();
        assert_eq!(
            first_line_of(&err),
            "error: unexpected argument '--stesp' found \
             (tip: a similar argument exists: '--steps'; see --help)"
        );
        let err = command()
            .try_get_matches_from(["parsim", "heat", "--nx", "big"])
            .unwrap_err();
        let line = first_line_of(&err);
        assert!(
            line.starts_with("error: invalid value 'big' for '--nx"),
            "{line}"
        );
        assert!(
            line.ends_with("(see --help)") && !line.contains('\n'),
            "{line}"
        );
    }
}
