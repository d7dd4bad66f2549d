"""The generated constants are exactly what tools/gen_coefficients.py computes with mpmath."""
from pathlib import Path

import mpmath as mp

from jaxact import _coefficients
from generators import load_generator

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    return load_generator("gen_coefficients")


def test_committed_file_matches_the_generator():
    assert (ROOT / "jaxact" / "_coefficients.py").read_text() == _generator().render()


def test_roots_are_zeros_of_the_derivatives():
    gen = _generator()
    with mp.workdps(60):
        for name, (fprime, _, _) in gen.ROOTS.items():
            hi, lo = _coefficients.DERIVATIVE_ROOTS[name]["x0"]
            assert abs(fprime(mp.mpf(hi) + mp.mpf(lo))) < mp.mpf(10) ** -30, name


def test_tanh_series_reproduces_tanh():
    with mp.workdps(40):
        x = mp.mpf("0.5")
        series = x * sum(mp.mpf(c) * x ** (2 * n) for n, c in enumerate(_coefficients.TANH_ODD))
        assert abs(series / mp.tanh(x) - 1) < 1e-16
