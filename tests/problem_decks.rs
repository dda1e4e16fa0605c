//! The user's problem from an input deck (issue 40): `parsim run
//! DECK.toml` with an initial field (file or expression), walls of each
//! kind, a periodic axis, a source or an exact solution gives the bits of
//! the same options typed on the command line.

mod common;

use common::*;

/// `parsim run deck.toml` (with `deck`'s keys) against `heat ARGS`, on
/// `ranks` ranks: the same field and the same validation.
fn deck_is_the_command_line(tag: &str, deck: &str, args: &[&str], ranks: usize) {
    let dir = scratch(tag);
    run_ok(
        &dir,
        1,
        &[
            "heat", "--nx", "30", "--ny", "20", "--steps", "2", "--output", "seed.h5",
        ],
    );
    std::fs::write(
        dir.join("deck.toml"),
        format!("workload = \"heat\"\noutput = \"deck.h5\"\n{deck}"),
    )
    .unwrap();
    let from_deck = run_json(&dir, ranks, &["run", "deck.toml"]);
    let mut typed = vec!["heat"];
    typed.extend_from_slice(args);
    typed.extend(["--output", "typed.h5"]);
    let from_args = run_json(&dir, ranks, &typed);
    assert!(
        same_field(&dir.join("deck.h5"), &dir.join("typed.h5")),
        "{tag}: the deck's field differs"
    );
    assert_eq!(from_deck["validation"], from_args["validation"], "{tag}");
    assert_eq!(from_deck["config"], from_args["config"], "{tag}");
}

#[test]
fn a_deck_with_an_expression_init_walls_of_each_kind_and_a_source() {
    deck_is_the_command_line(
        "deck_walls",
        "nx = 30\nny = 20\nsteps = 12\ninit = \"x*y + 1\"\nbc_left = \"insulated\"\n\
         bc_right = \"1 + y*t\"\nbc_y = \"periodic\"\nsource = \"x - y\"\n",
        &[
            "--nx",
            "30",
            "--ny",
            "20",
            "--steps",
            "12",
            "--init",
            "x*y + 1",
            "--bc-left",
            "insulated",
            "--bc-right",
            "1 + y*t",
            "--bc-y",
            "periodic",
            "--source",
            "x - y",
        ],
        2,
    );
}

#[test]
fn a_deck_with_a_file_init_and_periodic_x() {
    deck_is_the_command_line(
        "deck_file",
        "init = \"seed.h5:/heat/temperature\"\nsteps = 9\nbc_x = \"periodic\"\nbc_top = 3.5\n",
        &[
            "--init",
            "seed.h5:/heat/temperature",
            "--steps",
            "9",
            "--bc-x",
            "periodic",
            "--bc-top",
            "3.5",
        ],
        3,
    );
}

#[test]
fn a_deck_with_an_exact_solution() {
    let exact = "exp(-t)*sin(pi*x)*cos(2*pi*y) + x^2*y";
    deck_is_the_command_line(
        "deck_exact",
        &format!("nx = 15\nny = 15\ndx = 0.0625\ndy = 0.0625\nsteps = 16\nexact = \"{exact}\"\n"),
        &[
            "--nx", "15", "--ny", "15", "--dx", "0.0625", "--dy", "0.0625", "--steps", "16",
            "--exact", exact,
        ],
        4,
    );
}
