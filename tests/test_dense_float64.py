"""Dense float64 scan: every elementwise config against mpmath at 50 digits.

The float64 counterpart of test_contract's dense float32 scan.  A float64 result
needs a reference better than float64, so every point is evaluated with the
mpmath references (``references.ELEMENTWISE[name].value_mp`` / ``deriv_mp``, 50
digits, cancellation-free forms) and rounded to a float64 double word (hi, lo).
mpmath costs 15-300 us a point, so instead of 2**20 grid points each config gets
6,000-7,200 chosen ones:

* a uniform grid of 4,096 points on [-12, 12] shifted by an irrational fraction
  of its step (none of them is a float32 number, so this is not the float32
  scan's grid again);
* 1,536 random points on [-40, 40] (seeded by the config's id);
* logarithmic magnitudes from the smallest normal float64 to the largest, both signs;
* the zero crossings of the derivative (silu -1.27846, swish -1.27846/beta,
  mish -1.19243, gelu -0.7525 (tanh) / -0.7518 (erf)): 601 points on +-0.35,
  log-spaced offsets from 1e-15 to 0.1 relative, and the 8 float64 neighbours;
* the points where jaxact switches formulas (``_switches``, read off
  jaxact/_numerics.py and jaxact/activations.py) and the kinks: each with its 8
  float64 neighbours and log-spaced offsets from 1e-15 to 0.05 relative.

The bounds are test_contract's: the contract's (``FORWARD_ULP``,
``DERIVATIVE_ULP``) with ``STATED_BOUNDS`` where a bound is stated instead, and
the same ``_check`` (flush-to-zero and subnormal allowances).  Value and
derivative are separate tests so each evaluates only its own mpmath function.

Configs over their bound here are strict xfails (``DENSE64_KNOWN_OVER``) with the
measured maximum and where it occurs: fixing one makes its test fail until it is
taken off the list.
"""
from __future__ import annotations

import functools
import math
import zlib

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from configs import ELEMENTWISE_CONFIGS, bound, config_id, derivative_by_jvp
from jaxact import _erfc_coefficients as erfc_constants
from jaxact import activations as acts
from references import ELEMENTWISE, deriv_zero_crossings
from test_contract import DERIVATIVE_ULP, FORWARD_ULP, _check, as_computed
from ulp import mp_double_word

DPS = 50
_TINY = float(np.finfo(np.float64).tiny)
_MAX = float(np.finfo(np.float64).max)

# (config id, "value" | "derivative") -> where the scan finds the config over the bound
# that applies there (the contract's, or STATED_BOUNDS'), with the measured maximum.
# Strict xfails: a fix makes the test fail until its entry is removed.  Empty since
# the double-word exp and jaxact's erfc (the first run found 9: silu, swish, mish,
# gelu and the erf form's XLA erfc and flushed Phi).
DENSE64_KNOWN_OVER: dict[tuple[str, str], str] = {}


def _gelu_tanh_expm1_switch() -> float:
    """The x < x0 where gelu's (tanh form) derivative switches expm1 branch.

    _gelu_tanh_prime calls expm1(c d (1 + a Q)), d = x - x0, Q = x^2 + x x0 + x0^2,
    c = 2 sqrt(2/pi); jaxact's expm1 switches from its series to exp - 1 at -0.7.
    """
    (x0,) = deriv_zero_crossings("gelu", approximate=True)
    with mp.workdps(DPS):
        c = 2 * mp.sqrt(2 / mp.pi)
        a = mp.mpf("0.044715")
        g = lambda x: c * (x - x0) * (1 + a * (x * x + x * x0 + x0 * x0)) + mp.mpf("0.7")  # noqa: E731
        return float(mp.findroot(g, mp.mpf(x0) - mp.mpf("0.43")))


def _switches(config) -> list[float]:
    """Inputs where jaxact's float64 code changes formula, plus the kinks and 0."""
    name, params = config
    kw = as_computed(params, "float64")
    points = [0.0, *ELEMENTWISE[name].kinks(**kw)]
    if name == "tanh":  # num.tanh: series for |x| < 0.55, 1 - 2e/(1+e) beyond
        points += [-0.55, 0.55]
    elif name in ("elu", "selu"):  # num.expm1: series on (-0.7, 1.3], exp - 1 below
        points += [-0.7]
    elif name == "celu":  # expm1(x / alpha)
        points += [-0.7 * kw["alpha"]]
    elif name in ("silu", "swish"):  # u = beta x; expm1(u - x0) switch; far form below -2; clamp at -800
        beta = kw.get("beta", 1.0)
        (u0,) = deriv_zero_crossings("silu")
        points += [(u0 - 0.7) / beta, acts._SILU_NEAR_ROOT / beta, -800.0 / beta, 1e290, -1e290]
    elif name == "mish":  # expm1(x - x0) switch; far form of h below -1.5; x clamped at -800
        (x0,) = deriv_zero_crossings("mish")
        points += [x0 - 0.7, acts._MISH_NEAR_ROOT, -800.0]
    elif name == "gelu" and kw["approximate"]:  # clip at +-30; d-form window and its expm1 switch in f'
        points += [-30.0, 30.0, *acts._GELU_NEAR_ROOT, _gelu_tanh_expm1_switch()]
    elif name == "gelu":  # Taylor window of f'; jaxact erfc's branches at |z| = 0.5 and its underflow
        r2 = math.sqrt(2.0)  # (z = -x/sqrt 2); the Mills-ratio tail of f'; clip at 1e4
        small, limit = erfc_constants.SMALL, erfc_constants.TAIL_LIMIT["float64"]
        points += [-1.6, -0.5, -small * r2, small * r2, -limit * r2, acts._GELU_EXACT_TAIL["double"][1], -1e4, 1e4]
    elif name == "squareplus":  # x and b rescaled beyond |x| = 1e140
        limit = acts._SQUAREPLUS_SCALING["double"][0]
        points += [-limit, limit]
    return points


def _neighbours(s: float, rel_width: float, n_log: int) -> np.ndarray:
    """s, its 4 float64 neighbours on each side, and s + s*t for log-spaced |t| <= rel_width."""
    steps = [s]
    up = down = s
    for _ in range(4):
        up, down = np.nextafter(up, np.inf), np.nextafter(down, -np.inf)
        steps += [up, down]
    scale = abs(s) if s != 0 else 1.0
    t = np.logspace(-15, np.log10(rel_width), n_log) * scale
    return np.concatenate([np.array(steps), s + t, s - t])


@functools.lru_cache(maxsize=None)
def _points(config) -> np.ndarray:
    """The float64 inputs for one config (sorted, unique, finite)."""
    name, params = config
    rng = np.random.default_rng(zlib.crc32(config_id(config).encode()))
    golden = (math.sqrt(5.0) - 1.0) / 2.0
    n = 4096
    parts = [
        -12.0 + (np.arange(n) + golden) * (24.0 / n),
        rng.uniform(-40.0, 40.0, 1536),
    ]
    mags = np.logspace(np.log10(_TINY), np.log10(_MAX) - 1e-9, 150)
    parts += [mags, -mags]
    for x0 in deriv_zero_crossings(name, **as_computed(params, "float64")):
        parts += [x0 + np.linspace(-0.35, 0.35, 601), _neighbours(x0, 0.1, 60)]
    for s in _switches(config):
        parts.append(_neighbours(float(s), 0.05, 24))
    x = np.concatenate(parts)
    return np.unique(x[np.isfinite(x)])


@functools.lru_cache(maxsize=None)
def _reference(config, what: str):
    """(x, (hi, lo)) with hi + lo the mpmath value (or derivative) at each x."""
    name, params = config
    ref = ELEMENTWISE[name]
    fn = ref.value_mp if what == "value" else ref.deriv_mp
    kw = as_computed(params, "float64")
    x = _points(config)
    with mp.workdps(DPS):
        out = [fn(mp.mpf(float(v)), **kw) for v in x]
    return x, mp_double_word(out)


def _computed(config, what: str, x: np.ndarray) -> np.ndarray:
    f = bound(config)
    g = f if what == "value" else (lambda v: derivative_by_jvp(f, v))
    got = np.asarray(jax.jit(g)(jnp.asarray(x, jnp.float64)))
    assert got.dtype == np.float64, f"x64 is off: got {got.dtype} (tests/conftest.py enables it)"
    return got


def _params():
    out = []
    for config in ELEMENTWISE_CONFIGS:
        for what in ("value", "derivative"):
            reason = DENSE64_KNOWN_OVER.get((config_id(config), what))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(config, what, marks=marks, id=f"{config_id(config)}-{what}"))
    return out


@pytest.mark.parametrize(("config", "what"), _params())
def test_dense_float64_scan_within_the_stated_bounds(config, what):
    x, (hi, lo) = _reference(config, what)
    got = _computed(config, what, x)
    default = FORWARD_ULP["float64"] if what == "value" else DERIVATIVE_ULP
    _check(config, "float64", what, x, got, hi, lo, default)
