//! The XDMF sidecar carries the problem (issue 40): the init, its file's
//! name and checksum, each wall, the source and the exact solution, as
//! `<Information>` elements equal to `/heat`'s attributes; the sidecar
//! stays valid XML whatever the file names and expressions hold.

mod common;

use std::path::Path;

use common::*;

/// Parse the sidecar beside argv[1] with xml.etree, and check that each
/// Information element of the domain equals the attribute of `/heat` of
/// the same name (a value wall's `bc_SIDE_kind` has no attribute: it is
/// "value"); argv[2:] are names that must be there. Prints the names.
const CHECK: &str = r#"
import os, sys, h5py, math
import xml.etree.ElementTree as ET
path, want = sys.argv[1], sys.argv[2:]
root = ET.parse(os.path.splitext(path)[0] + ".xmf").getroot()
info = {i.get("Name"): i.get("Value") for i in root.findall("./Domain/Information")}
assert len(root.findall("./Domain/Grid")) == 1, "one temporal collection"
h = h5py.File(path, "r")["heat"]
for name, value in info.items():
    if name.endswith("_kind") and name not in h.attrs:
        assert value == "value" and not math.isnan(float(h.attrs[name[:-5]])), name
        continue
    stored = h.attrs[name]
    if isinstance(stored, (bytes, str)):
        stored = stored.decode() if isinstance(stored, bytes) else stored
        assert value == stored, (name, value, stored)
    else:
        assert float(value) == float(stored) or int(value) == int(stored), (name, value, stored)
for name in want:
    assert name in info, (name, sorted(info))
print(" ".join(sorted(info)))
"#;

/// An expression of about 4 KB in `v` and t.
fn long(v: &str) -> String {
    format!("1 + {v}{}", format!(" + 0.0001*sin({v}*t)").repeat(200))
}

fn check(path: &Path, want: &[&str]) {
    let mut args = vec![path.to_str().unwrap()];
    args.extend(want);
    if let Some(names) = run_python(CHECK, &args) {
        eprintln!("information: {names}");
    }
}

#[test]
fn init_file_walls_and_source_are_in_the_sidecar_as_in_the_file() {
    let dir = scratch("xdmf_problem_walls");
    // A file name with each of XML's special characters.
    let name = "in<1>&'\".npy";
    run_ok(
        &dir,
        1,
        &[
            "heat", "--nx", "20", "--ny", "12", "--steps", "3", "--output", "seed.h5",
        ],
    );
    let seed = read_field(&dir.join("seed.h5"), "/heat/temperature");
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    let mut h = b"{'descr': '<f8', 'fortran_order': False, 'shape': (12, 20), }".to_vec();
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(b' ');
    }
    h.push(b'\n');
    npy.extend((h.len() as u16).to_le_bytes());
    npy.extend(h);
    npy.extend(seed.iter().flat_map(|x| x.to_le_bytes()));
    std::fs::write(dir.join(name), npy).unwrap();
    let (left, source) = (long("y"), long("x"));
    run_ok(
        &dir,
        2,
        &[
            "heat",
            "--init",
            name,
            "--steps",
            "5",
            "--bc-left",
            &left,
            "--bc-right",
            "insulated",
            "--bc-bottom",
            "-1.5",
            "--bc-top",
            "insulated",
            "--source",
            &source,
            "--output",
            "r.h5",
        ],
    );
    check(
        &dir.join("r.h5"),
        &[
            "init",
            "init_file",
            "init_checksum",
            "bc_left_kind",
            "bc_left_expression",
            "bc_right_kind",
            "bc_bottom",
            "bc_bottom_kind",
            "bc_top_kind",
            "source",
        ],
    );
    // Periodic walls, with snapshots (a grid per step after the information).
    run_ok(
        &dir,
        2,
        &[
            "heat",
            "--init",
            "sin(2*pi*x)*y",
            "--nx",
            "16",
            "--ny",
            "10",
            "--steps",
            "6",
            "--bc-x",
            "periodic",
            "--snapshot-every",
            "2",
            "--output",
            "p.h5",
        ],
    );
    check(
        &dir.join("p.h5"),
        &["init", "bc_left_kind", "bc_right_kind"],
    );
}

#[test]
fn a_long_exact_solution_is_in_the_sidecar() {
    let dir = scratch("xdmf_problem_exact");
    let exact = format!(
        "exp(-t)*sin(pi*x)*cos(2*pi*y){}",
        " + 0.0001*x*y*t".repeat(200)
    );
    run_ok(
        &dir,
        3,
        &[
            "heat", "--nx", "15", "--ny", "15", "--dx", "0.0625", "--dy", "0.0625", "--steps", "4",
            "--exact", &exact, "--output", "e.h5",
        ],
    );
    check(&dir.join("e.h5"), &["init", "exact"]);
    let text = std::fs::read_to_string(dir.join("e.xmf")).unwrap();
    assert!(text.contains(&exact), "the exact solution whole");
    assert!(
        !text.contains("Name=\"source\""),
        "the source follows from it"
    );
}
