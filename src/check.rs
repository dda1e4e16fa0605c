//! Range checks of user options, with the one message each kind of bad
//! value gets in every workload (`--tau must be a finite number > 0 (got
//! -1)`), so that a user learns one wording and a new workload writes none.

use thiserror::Error;

/// A user option outside the values its workload can run with.
#[derive(Debug, Error, PartialEq)]
pub enum BadValue {
    #[error("--{name} must be a finite number > 0 (got {value})")]
    NotPositive { name: &'static str, value: f64 },
    #[error("--{name} must be a finite number >= 0 (got {value})")]
    Negative { name: &'static str, value: f64 },
    #[error("--{name} must be a finite number (got {value})")]
    NotFinite { name: &'static str, value: f64 },
    #[error("--{name} must be at least {min} (got {value})")]
    TooSmall {
        name: &'static str,
        min: u64,
        value: u64,
    },
    #[error("--{name} {value} is too large (at most {max})")]
    TooLarge {
        name: &'static str,
        value: u64,
        max: u64,
    },
}

impl From<BadValue> for crate::error::Failure {
    fn from(e: BadValue) -> Self {
        crate::error::Failure::usage(e)
    }
}

/// `value` if it is finite and > 0.
pub fn positive(name: &'static str, value: f64) -> Result<f64, BadValue> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(BadValue::NotPositive { name, value })
    }
}

/// `value` if it is finite and >= 0.
pub fn non_negative(name: &'static str, value: f64) -> Result<f64, BadValue> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(BadValue::Negative { name, value })
    }
}

/// `value` if it is finite.
pub fn finite(name: &'static str, value: f64) -> Result<f64, BadValue> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(BadValue::NotFinite { name, value })
    }
}

/// `value` if it is at least `min`.
pub fn at_least(name: &'static str, value: u64, min: u64) -> Result<u64, BadValue> {
    if value >= min {
        Ok(value)
    } else {
        Err(BadValue::TooSmall { name, min, value })
    }
}

/// `value` if it is at most `max`.
pub fn at_most(name: &'static str, value: u64, max: u64) -> Result<u64, BadValue> {
    if value <= max {
        Ok(value)
    } else {
        Err(BadValue::TooLarge { name, value, max })
    }
}

/// Test helper: each of `cases`, applied to a fresh `base()`, makes
/// `build` refuse the request (the case's index is named if one is taken).
#[cfg(test)]
pub fn assert_each_refused<R, T, E>(
    base: impl Fn() -> R,
    cases: &[fn(&mut R)],
    build: impl Fn(&R) -> Result<T, E>,
) {
    for (k, change) in cases.iter().enumerate() {
        let mut r = base();
        change(&mut r);
        assert!(build(&r).is_err(), "case {k} accepted");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_check_keeps_its_range_and_names_the_option() {
        assert_eq!(positive("tau", 0.5), Ok(0.5));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(positive("tau", bad).is_err());
        }
        assert_eq!(non_negative("sigma", 0.0), Ok(0.0));
        assert!(non_negative("sigma", -0.0 - 1e-300).is_err());
        assert!(non_negative("sigma", f64::NAN).is_err());
        assert_eq!(finite("x0", -3.0), Ok(-3.0));
        assert!(finite("x0", f64::NEG_INFINITY).is_err());
        assert_eq!(at_least("nx", 1, 1), Ok(1));
        assert_eq!(at_most("chains", 5, 5), Ok(5));
        assert_eq!(
            at_least("nx", 0, 1).unwrap_err().to_string(),
            "--nx must be at least 1 (got 0)"
        );
        assert_eq!(
            at_most("chains", 6, 5).unwrap_err().to_string(),
            "--chains 6 is too large (at most 5)"
        );
        assert_eq!(
            positive("dt", -2.0).unwrap_err().to_string(),
            "--dt must be a finite number > 0 (got -2)"
        );
    }
}
