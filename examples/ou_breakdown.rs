//! Where the time of an OU path goes: raw random bits, normal draws, the
//! recursion alone, and the fused member kernel parsim runs.
//!
//!     cargo run --release --example ou_breakdown [steps]
//!
//! Single core, no MPI. Prints ns per step for each part.

use std::hint::black_box;
use std::time::Instant;

use parsim::ou::kernel::{simulate, simulate_lanes, GroupKernel, LANES};
use parsim::ou::model::{OuParams, GROUP};
use parsim::rng::{stream, Lanes};
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

fn time<T>(label: &str, steps: u64, f: impl FnOnce() -> T) -> f64 {
    let t = Instant::now();
    black_box(f());
    let ns = t.elapsed().as_secs_f64() * 1e9 / steps as f64;
    println!("{label:<44} {ns:6.2} ns/step  ({:.3e} /s)", 1e9 / ns);
    ns
}

fn main() {
    let steps: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000_000);
    let p = OuParams {
        tau: 1.0,
        sigma: 2.0,
        dt: 0.1,
        x0: 0.0,
    };
    println!("OU breakdown, {steps} steps, one core");
    time("xoshiro256++ next_u64", steps, || {
        let mut r = stream(1, 0);
        (0..steps).fold(0u64, |a, _| a ^ r.next_u64())
    });
    time("parsim::normal ziggurat draw", steps, || {
        let mut r = stream(1, 0);
        (0..steps).fold(0.0, |a: f64, _| a + parsim::normal::standard_normal(&mut r))
    });
    time("rand_distr StandardNormal draw", steps, || {
        let mut r = stream(1, 0);
        (0..steps).fold(0.0, |a: f64, _| a + r.sample::<f64, _>(StandardNormal))
    });
    let normals: Vec<f64> = {
        let mut r = stream(1, 0);
        (0..steps)
            .map(|_| parsim::normal::standard_normal(&mut r))
            .collect()
    };
    let (relax, diffuse) = (p.relax(), p.diffuse());
    time("recursion alone (normals from a buffer)", steps, || {
        normals.iter().fold(0.0, |x, z| relax * x + diffuse * z)
    });
    let mut record = vec![0.0; 1001];
    time("parsim member kernel (fused, one path)", steps, || {
        simulate(&p, steps, steps / 1000, &mut stream(1, 0), &mut record)
    });
    let streams: [_; LANES] = std::array::from_fn(|m| stream(1, m as u64));
    let mut recs = vec![vec![0.0; 1001]; LANES];
    let per = steps / LANES as u64;
    time(
        &format!("parsim member kernel ({LANES} paths in lockstep)"),
        per * LANES as u64,
        || {
            let out: [&mut [f64]; LANES] = recs
                .iter_mut()
                .map(|v| &mut v[..])
                .collect::<Vec<_>>()
                .try_into()
                .unwrap();
            simulate_lanes(&p, per, per / 1000, &mut Lanes::new(&streams), out)
        },
    );
    let group: [_; GROUP] = std::array::from_fn(|m| stream(1, m as u64));
    let mut grecs = vec![vec![0.0; 1001]; GROUP];
    let per = steps / GROUP as u64;
    time(
        &format!("parsim group kernel ({GROUP} paths, AVX2 if the CPU has it)"),
        per * GROUP as u64,
        || {
            let out: [&mut [f64]; GROUP] = grecs
                .iter_mut()
                .map(|v| &mut v[..])
                .collect::<Vec<_>>()
                .try_into()
                .unwrap();
            GroupKernel::detect().simulate(&p, per, per / 1000, &mut Lanes::new(&group), out)
        },
    );
}
