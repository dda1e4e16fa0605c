"""The lessons' numba integrate (c_integrate.py: left rule, prange) on the
integrands `bench.sh expressions` gives parsim as --f expressions.

Usage: python bench-expressions.py N REPEATS  (run in the lessons' venv,
with NUMBA_NUM_THREADS set). Prints one JSON line: for each integrand (by
the expression text parsim is given) the median, min and max [ms] of the
prange left sum over [0, 2] with N points, and its value.

Each integrand is the lesson's `integrate_left_prange` with its f swapped,
compiled by numba the way the lesson compiles x**2 - x (@njit, no
fastmath), so the loop is the lesson's and only f differs.
"""
import json
import math
import statistics
import sys
import time

import numpy as np
from numba import njit, prange

POLY = [((-1) ** k) / (k + 1) for k in range(40)]
COEFFS = np.array(POLY)


def poly_text():
    """The 40-term polynomial as parsim reads it: sum of c_k x^k."""
    return " + ".join(f"{c!r}*x^{k}" for k, c in enumerate(POLY))


@njit
def poly(x):
    """The same sum of c_k x^k (numba computes x**k for an integer k by
    repeated squaring, as parsim's x^k)."""
    s = 0.0
    for k in range(40):
        s += COEFFS[k] * x ** k
    return s


FUNCS = {
    "x^2 - x": njit(lambda x: x ** 2 - x),
    "exp(-x^2)": njit(lambda x: math.exp(-x ** 2)),
    "sin(3*x) + x^3": njit(lambda x: math.sin(3 * x) + x ** 3),
    "1/(1+x^2)": njit(lambda x: 1 / (1 + x ** 2)),
    "poly40": poly,
    "exp(x)": njit(lambda x: math.exp(x)),
    "sin(x)": njit(lambda x: math.sin(x)),
    "4/(1+x^2)": njit(lambda x: 4 / (1 + x ** 2)),
}


def make(f):
    @njit(parallel=True)
    def integrate_left_prange(a, b, n):
        dx = (b - a) / n
        s = 0.0
        for i in prange(n):
            s += f(a + i * dx)
        return s * dx

    return integrate_left_prange


def main():
    n, repeats = int(sys.argv[1]), int(sys.argv[2])
    out = {}
    for text, f in FUNCS.items():
        fn = make(f)
        fn(0.0, 2.0, 1000)
        samples = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            value = fn(0.0, 2.0, n)
            samples.append((time.perf_counter() - t0) * 1e3)
        key = poly_text() if text == "poly40" else text
        out[key] = {
            "median": statistics.median(samples),
            "min": min(samples),
            "max": max(samples),
            "value": value,
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
