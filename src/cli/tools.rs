//! The command line about itself: the effective configuration a
//! `--dry-run` prints (a deck that reproduces the run), shell completion
//! scripts and manual pages. Pure functions of clap's model of the command
//! line, rendered as text; rank 0 prints them.

use clap::parser::ValueSource;

/// Options never written into the effective deck: they are about this
/// invocation, not the run.
const NOT_CONFIG: &[&str] = &["help", "version", "config", "dry_run"];

/// The subcommand's effective options after deck and command line, as a
/// TOML deck that `parsim run` takes back: every option with a value,
/// defaults marked, options without one (computed defaults) listed as
/// comments. `None` when no workload subcommand was parsed.
pub fn effective_config(cmd: &clap::Command, m: &clap::ArgMatches) -> Option<String> {
    let (name, sub) = m.subcommand()?;
    let def = cmd.find_subcommand(name)?;
    let mut out = format!(
        "# parsim {name} --dry-run: the effective options (deck, then command line),\n\
         # checked; nothing was run. Run it with: parsim run THIS.toml\n\
         workload = \"{name}\"\n"
    );
    for arg in def.get_arguments() {
        let id = arg.get_id().as_str();
        if NOT_CONFIG.contains(&id) || arg.get_long().is_none() {
            continue;
        }
        let key = id.replace('-', "_");
        match sub.get_raw(id) {
            Some(raw) => {
                let words: Vec<String> = raw.map(|w| w.to_string_lossy().into_owned()).collect();
                let value = toml_value(&words.join(","));
                let note = match sub.value_source(id) {
                    Some(ValueSource::DefaultValue) => "  # default",
                    _ => "",
                };
                out += &format!("{key} = {value}{note}\n");
            }
            None => out += &format!("# {key}: not set ({})\n", default_in_help(arg)),
        }
    }
    Some(out)
}

/// The default an option's help names ("[default: 2000]"), for options
/// whose default the workload computes.
fn default_in_help(arg: &clap::Arg) -> String {
    let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
    match help.find("[default: ") {
        Some(at) => {
            let rest = &help[at + 1..];
            rest[..rest.find(']').unwrap_or(rest.len())].to_string()
        }
        None => "default: the workload's own".into(),
    }
}

/// A value as TOML: numbers and booleans bare, anything else a quoted
/// string (JSON's escapes are TOML's).
fn toml_value(word: &str) -> String {
    let number = word.parse::<i64>().is_ok()
        || word.parse::<f64>().is_ok_and(f64::is_finite) && word.contains(['.', 'e', 'E']);
    if number || word == "true" || word == "false" {
        word.to_string()
    } else {
        serde_json::to_string(word).unwrap_or_else(|_| format!("{word:?}"))
    }
}

/// The completion script for `shell`.
pub fn completions(mut cmd: clap::Command, shell: clap_complete::Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "parsim", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The manual page (roff) of parsim, or of one subcommand (`parsim-heat`).
pub fn man_page(cmd: clap::Command, subcommand: Option<&str>) -> Result<String, String> {
    let page = match subcommand {
        None => cmd,
        Some(name) => {
            let names: Vec<String> = cmd
                .get_subcommands()
                .map(|s| s.get_name().to_string())
                .collect();
            let sub = cmd
                .find_subcommand(name)
                .cloned()
                .ok_or_else(|| format!("no subcommand '{name}' (one of: {})", names.join(", ")))?;
            sub.name(format!("parsim-{name}"))
                .version(cmd.get_version().unwrap_or_default().to_string())
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|e| format!("cannot render the manual page: {e}"))?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_values_round_trip_through_toml() {
        for (word, want) in [
            ("2000", "2000"),
            ("0.01", "0.01"),
            ("1e-5", "1e-5"),
            ("true", "true"),
            ("disk", "\"disk\""),
            ("1,2,3", "\"1,2,3\""),
            ("a \"b\"\\", "\"a \\\"b\\\"\\\\\""),
            ("inf", "\"inf\""),
            ("nan", "\"nan\""),
        ] {
            assert_eq!(toml_value(word), want, "{word}");
            let parsed: toml::Table = toml::from_str(&format!("k = {want}")).unwrap();
            assert!(parsed.contains_key("k"));
        }
    }
}
