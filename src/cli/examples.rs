//! The example decks (`examples/*.toml`), built into the binary: an
//! installed parsim (`cargo install --path .`) runs them from any
//! directory, `parsim run --example disk`, and writes one out to edit,
//! `parsim examples disk > disk.toml`.

/// Every deck of `examples/`, by name (the file name without `.toml`). A
/// unit test checks the list against the folder, so a new deck cannot be
/// left out.
pub const DECKS: &[(&str, &str)] = &[
    ("demo", include_str!("../../examples/demo.toml")),
    ("disk", include_str!("../../examples/disk.toml")),
    ("integrate", include_str!("../../examples/integrate.toml")),
    ("mandelbrot", include_str!("../../examples/mandelbrot.toml")),
    ("markov", include_str!("../../examples/markov.toml")),
    (
        "markov-matrix",
        include_str!("../../examples/markov-matrix.toml"),
    ),
    ("ou-sweep", include_str!("../../examples/ou-sweep.toml")),
    ("pairs", include_str!("../../examples/pairs.toml")),
    ("pi", include_str!("../../examples/pi.toml")),
];

/// The deck called `name`, or the one-line refusal naming the known ones.
pub fn text(name: &str) -> Result<&'static str, String> {
    if name.is_empty() {
        return Err(format!(
            "--example needs a name (parsim examples lists them: {})",
            names()
        ));
    }
    DECKS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            format!(
                "unknown example '{name}' (parsim examples lists them: {})",
                names()
            )
        })
}

/// The name a deck built in is known by in messages and provenance.
pub fn shown(name: &str) -> String {
    format!("examples/{name}.toml (built in)")
}

fn names() -> String {
    DECKS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

/// `parsim examples`: each deck's name and its first comment line, and
/// how to run or write out one.
pub fn listing() -> String {
    let mut s = String::from(
        "Example decks (parsim run --example NAME [options]; parsim examples NAME > NAME.toml to edit):\n",
    );
    for (name, text) in DECKS {
        let about = text
            .lines()
            .find_map(|l| l.strip_prefix("# "))
            .unwrap_or("");
        s += &format!("  {name:<11} {about}\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_deck_of_the_folder_is_built_in_and_named_by_its_file() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                name.strip_suffix(".toml").map(String::from)
            })
            .collect();
        files.sort();
        let built: Vec<&str> = DECKS.iter().map(|(n, _)| *n).collect();
        assert_eq!(files, built);
    }

    #[test]
    fn an_unknown_example_names_the_known_ones() {
        let e = text("dsik").unwrap_err();
        assert!(
            e.contains("unknown example 'dsik'") && e.contains("disk, integrate"),
            "{e}"
        );
        assert!(text("pi").unwrap().contains("workload = \"pi\""));
        assert!(listing().contains("  disk "));
    }
}
