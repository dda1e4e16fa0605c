//! `--io parallel` (parallel HDF5 through MPI-IO) against `--io gather`:
//! identical datasets on 1, 2 and 3 ranks. Built and run by
//! scripts/test.sh a second time with `--features parallel-io` against the
//! MPI flavour of HDF5; the default (serial) build checks that the option
//! is refused clearly instead.

mod common;

use common::*;

#[cfg(not(feature = "parallel-io"))]
#[test]
fn parallel_io_is_refused_by_a_serial_hdf5_build() {
    let dir = scratch("pario_refused");
    assert_refused(
        &dir,
        2,
        &["heat", "--nx", "20", "--ny", "20", "--io", "parallel"],
        "--io parallel needs parsim built with parallel HDF5",
    );
    assert!(listing(&dir).is_empty(), "nothing written");
}

/// Every dataset of `a` equals (bitwise, same shape) the one in `b`, and
/// the attributes that describe the data agree.
#[cfg(feature = "parallel-io")]
const SAME_DATASETS: &str = r#"
import sys, h5py
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
names = []
a.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
other = []
b.visititems(lambda n, o: other.append(n) if isinstance(o, h5py.Dataset) else None)
assert sorted(names) == sorted(other), (names, other)
assert "heat/temperature" in names
for n in names:
    x, y = a[n], b[n]
    assert x.shape == y.shape and x.dtype == y.dtype, n
    assert x[()].tobytes() == y[()].tobytes(), f"{n} differs"
for key in ["nx", "ny", "step", "checksum", "proc_grid"]:
    assert list(a["heat"].attrs[key].flat) == list(b["heat"].attrs[key].flat), key
for key in ["mpi_ranks", "git_commit", "hostnames"]:
    assert str(a.attrs[key]) == str(b.attrs[key]), key
print(len(names))
"#;

#[cfg(feature = "parallel-io")]
#[test]
fn parallel_and_gather_files_hold_identical_datasets() {
    let dir = scratch("pario_same");
    for ranks in [1, 2, 3] {
        for extra in [&[][..], &["--compress", "3", "--time-block", "4"][..]] {
            let mut outs = Vec::new();
            for io in ["gather", "parallel"] {
                let out = format!("{io}-{ranks}-{}.h5", extra.len());
                let mut args = vec![
                    "heat",
                    "--nx",
                    "67",
                    "--ny",
                    "45",
                    "--steps",
                    "30",
                    "--snapshot-every",
                    "10",
                    "--io",
                    io,
                    "--output",
                    &out,
                ];
                args.extend(extra);
                run_ok(&dir, ranks, &args);
                outs.push(dir.join(out));
            }
            let n = run_python(
                SAME_DATASETS,
                &[outs[0].to_str().unwrap(), outs[1].to_str().unwrap()],
            );
            if let Some(n) = n {
                assert_eq!(
                    n.trim(),
                    "10",
                    "temperature, x, y, snapshots, their two axes and 4 views"
                );
            }
            if ranks == 3 {
                // The parallel file's snapshot series, as ParaView reads it.
                let pv = paraview_reads(&outs[1]);
                assert!(
                    pv.as_ref().is_none_or(|line| line.starts_with("4 ")),
                    "{pv:?}"
                );
            }
        }
    }
}

/// A parallel checkpoint taken between two snapshots restarts on other
/// ranks into the same file, snapshots included, as a run straight through.
#[cfg(feature = "parallel-io")]
#[test]
fn parallel_checkpoints_restart_bitwise() {
    let dir = scratch("pario_ckpt");
    let run = |ranks: usize, extra: &[&str]| {
        let mut a = vec!["heat", "--nx", "50", "--ny", "36", "--io", "parallel"];
        a.extend(extra);
        run_ok(&dir, ranks, &a);
    };
    let snaps = ["--snapshot-every", "10"];
    run(
        3,
        &[
            &snaps[..],
            &[
                "--steps",
                "20",
                "--checkpoint-every",
                "15",
                "--checkpoint",
                "c.h5",
                "--output",
                "first.h5",
            ],
        ]
        .concat(),
    );
    run(
        2,
        &[
            "--steps",
            "40",
            "--restart",
            "c.h5",
            "--output",
            "resumed.h5",
        ],
    );
    run(
        1,
        &[&snaps[..], &["--steps", "40", "--output", "straight.h5"]].concat(),
    );
    let (a, b) = (dir.join("resumed.h5"), dir.join("straight.h5"));
    assert!(same_field(&a, &b));
    assert!(same_datasets(&a, &b, "heat"), "snapshots or axes differ");
}
