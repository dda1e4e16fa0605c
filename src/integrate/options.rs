//! `parsim integrate`'s options and its plan: every check of them, once.

use clap::Args;
use mpi::traits::Communicator;

use super::integrand::{Builtin, Integrand};
use super::kernel::{Grid, Rule};
use super::run::{IntegratePlan, DEFAULT_CHUNK};
use crate::check::{at_least, at_most, finite};
use crate::error::{Failure, Outcome};
use crate::h5::RunMeta;
use crate::montecarlo::{self, MAX_UNITS};
use crate::options::OutputArgs;
use crate::report::num;
use crate::spec::{Comm, Growth, Info, Rate, Setting, Size, Spec};
use crate::stop::StopSignal;

/// Point indices are carried as exact f64 counters.
const MAX_POINTS: u64 = 1 << 53;

#[derive(Debug, Args)]
pub struct IntegrateArgs {
    /// Lower end of the interval.
    #[arg(long, default_value_t = 0.0)]
    a: f64,
    /// Upper end of the interval.
    #[arg(long, default_value_t = 2.0)]
    b: f64,
    /// Intervals (points of the left and midpoint rules).
    #[arg(long, default_value_t = 1_000_000)]
    n: u64,
    /// Quadrature rule.
    #[arg(long, value_enum, default_value_t = Rule::Left)]
    rule: Rule,
    /// The integrand: a built-in (lesson = x^2 - x, sin, exp, pi =
    /// 4/(1+x^2)) or an expression in x, e.g. 'x^3 + sin(3*x)' (the
    /// operators + - * / ^ with the precedence of mathematics, so that
    /// -x^2 is -(x^2); sin cos tan exp ln log10 sqrt abs ..., PI, E, TAU).
    #[arg(long, value_name = "NAME|EXPR", default_value = "lesson")]
    f: String,
    /// Points per chunk (the unit of work; the sum depends on it, never on
    /// the number of ranks).
    #[arg(long, default_value_t = DEFAULT_CHUNK)]
    chunk: u64,
    #[command(flatten)]
    out: OutputArgs,
}

/// `parsim integrate` in the registry.
pub struct Integrate;

impl Spec for Integrate {
    type Options = IntegrateArgs;
    type Plan = IntegratePlan;
    type Inputs = ();
    const INFO: Info = Info {
        name: "integrate",
        summary:
            "Integral of f over [a, b] by a quadrature rule (a reduction over chunks of points)",
        size: &[Size {
            option: "n",
            weak: Growth::Linear,
            optional: false,
        }],
        rate: Rate {
            field: "evaluations_per_s",
            unit: "evaluations/s",
        },
        phases: &["compute", "gather_io"],
        default_output: "integrate.h5",
        group: "/integrate",
        checkpoints: false,
        study: &[("n", "400000000")],
        comm: Comm::Reduce { compute: "compute" },
    };

    fn inputs(_: &IntegrateArgs, _: &Setting) -> Outcome {
        Ok(())
    }

    fn plan(a: IntegrateArgs, (): (), _: &Setting) -> Outcome<IntegratePlan> {
        let (order, _, _) = a.rule.error_term();
        let f = Integrand::parse(&a.f)
            .and_then(|f| f.with_derivative(order))
            .map_err(Failure::usage)?;
        finite("a", a.a)?;
        finite("b", a.b)?;
        if a.b <= a.a {
            return Err(Failure::usage(format!(
                "--b must be above --a (got a = {}, b = {})",
                num(a.a, None),
                num(a.b, None)
            )));
        }
        at_least("n", a.n, 1)?;
        at_most("n", a.n, MAX_POINTS - 1)?;
        at_least("chunk", a.chunk, 1)?;
        if a.rule == Rule::Simpson && a.n % 2 == 1 {
            return Err(Failure::usage(format!(
                "--rule simpson needs an even --n (got {})",
                a.n
            )));
        }
        let grid = Grid {
            fused: matches!(f, Integrand::Builtin(Builtin::Lesson)),
            ..Grid::new(a.a, a.b, a.n, a.rule)
        };
        if !(grid.h > 0.0 && (a.b - a.a).is_finite()) {
            return Err(Failure::usage(format!(
                "[{}, {}] cut into {} intervals has no representable width (b - a = {})",
                num(a.a, None),
                num(a.b, None),
                a.n,
                num(a.b - a.a, None)
            )));
        }
        let chunks = grid.points().div_ceil(a.chunk);
        at_most("n", chunks, MAX_UNITS).map_err(|_| {
            Failure::usage(format!(
                "--n {} in chunks of {} makes {chunks} chunks (at most {MAX_UNITS}); raise --chunk",
                a.n, a.chunk
            ))
        })?;
        Ok(IntegratePlan {
            a: a.a,
            b: a.b,
            n: a.n,
            rule: a.rule,
            f,
            chunk: a.chunk,
            grid,
            out: a.out.into_output(Self::INFO.default_output),
        })
    }

    fn resolved(p: &IntegratePlan, s: &Setting) -> String {
        let units = montecarlo::Units {
            count: p.grid.points().div_ceil(p.chunk),
            name: "chunk",
            work: p.chunk,
            counts_per_unit: 1,
            count_bytes: 8,
        };
        format!(
            "# f(x) = {}, {} rule: {} points, h = {:?}\n{}",
            p.f.formula(),
            p.rule.name(),
            p.grid.points(),
            p.grid.h,
            montecarlo::resolved(&units, s.ranks)
        )
    }

    fn output(p: &IntegratePlan) -> &crate::driver::Output {
        &p.out
    }

    fn run<C: Communicator>(
        w: &C,
        p: &IntegratePlan,
        meta: &RunMeta,
        stop: &StopSignal,
    ) -> Outcome {
        super::run::run(w, p, meta, stop)
    }
}
