"""Accurate building blocks shared by the activations.

Everything here works on float32 or float64 arrays (16-bit inputs are upcast
to float32 before they reach this module, see :func:`compute_dtype`).  The
primitives that XLA ships are not all accurate enough for jaxact's contract
(2 ULP forward): measured on CPU, XLA's float32 ``expm1`` is off by up to
4.3 ULP, ``tanh`` by 3.7, ``log1p`` by 2.2, ``erfc`` by 60 in the tail, so the
functions below build on ``exp``, ``log`` and ``sqrt`` (within 1 ULP), short
polynomials and error-free transformations instead.
"""
from __future__ import annotations

import math
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._coefficients import (
    DERIVATIVE_ROOTS,
    EXP32_REDUCED,
    TANH32_SMALL,
    TANH32_SMALL_LIMIT,
    TANH_ODD,
    TANH_RATIONAL,
    TANH_RATIONAL_LIMIT,
)

_LOW_PRECISION = (jnp.bfloat16, jnp.float16)


# ----------------------------------------------------------------------------
# dtypes
# ----------------------------------------------------------------------------
def promote_input(x):
    """Return ``x`` as an inexact array, promoting integers and bools as jax.nn does.

    (jax's promote_args_inexact: up to 32-bit integers and bools -> float32,
    64-bit integers -> the default float, float64 when x64 is on.)
    """
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        wide = x.dtype.itemsize >= 8
        x = x.astype(jnp.result_type(float) if wide else jnp.float32)
    if jnp.issubdtype(x.dtype, jnp.complexfloating):
        raise TypeError(f"x: complex dtype {x.dtype} is not supported; pass a real floating array")
    return x


def compute_dtype(dtype):
    """float32 for bfloat16/float16 (computed wide, rounded once), else the dtype itself."""
    return jnp.float32 if dtype in _LOW_PRECISION else dtype


def is_double(x) -> bool:
    return x.dtype == jnp.float64


def terms(x, single: int, double: int) -> int:
    """Number of series terms needed for the working precision of ``x``."""
    return double if is_double(x) else single


# ----------------------------------------------------------------------------
# polynomials and error-free transformations
# ----------------------------------------------------------------------------
def horner(x, coefficients):
    """sum_k coefficients[k] * x**k, evaluated by Horner's rule."""
    coefficients = list(coefficients)
    acc = jnp.asarray(coefficients[-1], x.dtype)
    for c in reversed(coefficients[:-1]):
        acc = acc * x + jnp.asarray(c, x.dtype)
    return acc


def two_sum(a, b):
    """(s, e) with s = fl(a + b) and s + e == a + b exactly.

    Dekker's fast two-sum on the operands ordered by magnitude.  (Knuth's
    branch-free form computes s - (s - a), which XLA simplifies to a when a is a
    constant, losing e.)
    """
    s = a + b
    a_bigger = jnp.abs(a) >= jnp.abs(b)
    big = jnp.where(a_bigger, a, b)
    small = jnp.where(a_bigger, b, a)
    return s, (big - s) + small


def rounded(p):
    """``p`` as a rounded value that later additions cannot fuse with.

    XLA's code generators contract ``a * b + c`` into a fused multiply-add, which
    uses the exact product instead of the rounded one (optimization_barrier does
    not stop it; a data-dependent select does).  NaN becomes 0 here: callers keep
    NaN flowing through their other operands.
    """
    return jnp.where(p == p, p, jnp.zeros_like(p))


def _split(a):
    """(hi, lo) with a == hi + lo exactly and hi, lo short enough that their products are exact.

    float32: hi keeps the top 12 of the 24 significand bits (a bit mask: cheap, and
    opaque to the compiler); float64: Veltkamp's split with 2**27 + 1.
    """
    if a.dtype == jnp.float32:
        bits = jax.lax.bitcast_convert_type(a, jnp.uint32) & jnp.uint32(0xFFFFF000)
        hi = jax.lax.bitcast_convert_type(bits, jnp.float32)
        return hi, a - hi
    c = rounded(134217729.0 * a)  # 2**27 + 1
    hi = c - (c - a)
    return hi, a - hi


def two_prod(a, b):
    """(p, e) with p = fl(a * b) and p + e == a * b exactly (Dekker; no FMA needed).

    Valid while |a|, |b| stay well below the overflow threshold / 2**13; callers clamp.
    """
    p = rounded(a * b)
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def double_word(value, dtype):
    """A constant as (hi, lo) in ``dtype``: hi is the rounded value, lo the remainder.

    ``value`` is a float or an (hi, lo) pair of float64s.
    """
    hi64, lo64 = value if isinstance(value, tuple) else (float(value), 0.0)
    hi = np.asarray(hi64, np.float64).astype(dtype)
    lo = np.asarray((hi64 - float(hi)) + lo64, np.float64).astype(dtype)
    # XLA folds (x - c1) - c2 into x - (c1 + c2), which rounds lo away: hide lo from it.
    return jnp.asarray(hi, dtype), jax.lax.optimization_barrier(jnp.asarray(lo, dtype))


def clamp(x, low=None, high=None):
    """clip(x, low, high) whose derivative is 1 at the bounds themselves.

    (jnp.clip / minimum / maximum give 1/2 at a tie, which would halve a second
    derivative computed through a rule that clamps at a point where f is smooth.)
    """
    if low is not None:
        x = jnp.where(x < low, jnp.full_like(x, low), x)
    if high is not None:
        x = jnp.where(x > high, jnp.full_like(x, high), x)
    return x


def safe_finite(x, fill=0.0):
    """``x`` with +-inf replaced by ``fill``: used where inf * 0 would make a NaN."""
    return jnp.where(jnp.isinf(x), jnp.asarray(fill, x.dtype), x)


def nan_like(x, derivative):
    """``derivative`` with NaN wherever x is NaN (piecewise rules would give 0 or 1)."""
    return jnp.where(jnp.isnan(x), x, derivative)


# ----------------------------------------------------------------------------
# exp-family
# ----------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _expm1_coefficients(n: int):
    # expm1(x) = x + x**2 * sum_k x**k / (k + 2)!
    return tuple(1.0 / math.factorial(k + 2) for k in range(n))


def expm1(x, exp_x=None):
    """expm1(x) to about 1 ULP for x <= 1.3 (about 2.3 ULP above).

    A Taylor series on (-0.7, 1.3], where exp(x) - 1 would cancel; exp(x) - 1
    elsewhere (below -0.7 it loses less than half a bit).  A caller that already
    has exp(x) (as a product of exps it computed anyway) passes it as ``exp_x``,
    which saves the second exp (about a third of a kernel's time on CPU).
    """
    near = (x > -0.7) & (x <= 1.3)
    xs = jnp.where(near, x, jnp.zeros_like(x))
    series = xs + xs * (xs * horner(xs, _expm1_coefficients(terms(x, 12, 20))))
    if exp_x is None:
        exp_x = jnp.exp(jnp.where(near, jnp.full_like(x, -1.0), x))
    return jnp.where(near, series, exp_x - 1)


def log1p_unit(y):
    """log(1 + y) for 0 <= y <= 1 to about 1.5 ULP.

    Uses log1p(y) = 2 atanh(s), s = y / (2 + y) <= 1/3, whose odd series
    converges fast; the rounding error r of 2 + y is corrected.  Written with one
    reciprocal and products: XLA's CPU fusion will not fuse a divide whose result
    is used twice, and every unfused op costs a pass over memory.
    """
    d = 2 + y
    r = (2 - d) + y  # 2 + y == d + r exactly
    inv = 1 / d
    s = y * inv
    s = s - s * (r * inv)
    s2 = s * s
    n = terms(y, 8, 17)
    series = horner(s2, [1.0 / (2 * k + 3) for k in range(n)])
    return 2 * s + 2 * s * (s2 * series)


def _logistic_parts(x):
    """(small, big) = (e/(1+e), 1/(1+e)), e = exp(-|x|) <= 1: one exp, one reciprocal.

    The rounding error r of 1 + e (d + r == 1 + e exactly) is corrected,
    1/(d + r) = (1/d)(1 - r/d); big = 1 - small rounds once (Sterbenz).
    """
    e = jnp.exp(-jnp.abs(x))
    d = 1 + e
    r = (1 - d) + e
    inv = 1 / d
    small = e * inv
    small = small - small * (r * inv)
    return small, 1 - small


def sigmoid_pair(x):
    """(sigmoid(x), sigmoid(-x)), each to about 1.5 ULP: e/(1+e) and 1/(1+e), e = exp(-|x|)."""
    small, big = _logistic_parts(x)
    positive = x >= 0
    return jnp.where(positive, big, small), jnp.where(positive, small, big)


def sigmoid_product(x):
    """sigmoid(x) * sigmoid(-x) = e / (1 + e)**2, e = exp(-|x|), to about 3 ULP.

    This is sigmoid'(x): it never subtracts (s * (1 - s) gives 0 for x > 16.6
    in float32, where the true value is a normal number).
    """
    small, big = _logistic_parts(x)
    return small * big


# ln 2 = _LN2_HI + _LN2_LO, _LN2_HI with 8 significant bits (n * _LN2_HI is exact for |n| < 2**16)
_LN2_HI = 0.69140625
_LN2_LO = float(np.float32(math.log(2) - 0.69140625))
_TANH32_SATURATE = 9.02  # float32 tanh(x) rounds to 1 beyond 9.0109


def _exp32_bounded(y):
    """exp(y) in float32 for 0 <= y <= 18.04 to about 1 ULP, without XLA's exp.

    y = n ln 2 + r (Cody-Waite, |r| <= ln(2)/2), e**r a minimax polynomial, 2**n
    written into the exponent bits: no range checks, which the callers' clamps make
    unnecessary (XLA's exp costs about as much as a whole rational tanh on CPU).
    """
    n = jnp.round(y * (1 / math.log(2)))
    r = (y - n * _LN2_HI) - n * _LN2_LO
    scale = jax.lax.bitcast_convert_type((n.astype(jnp.int32) + 127) << 23, jnp.float32)
    return horner(r, EXP32_REDUCED) * scale


def tanh_f32(x):
    """float32 tanh(x) to about 1.1 ULP (measured on a 2**24-point grid of [0, 9.2]).

    |x| < 0.8: x + x t P(t), t = x**2 (the correction is at most 0.21 of the result).
    otherwise: sign(x) (1 - 2/(1 + E)), E = exp(2 min(|x|, 9.02)) from
    :func:`_exp32_bounded`; 2/(1 + E) <= 0.34, so its relative error reaches the
    result scaled by a third.  Branch-free: both sides are computed and one selected.
    """
    t = x * x
    small = x + x * (t * horner(t, TANH32_SMALL))
    ax = jnp.abs(x)
    e = _exp32_bounded(2 * jnp.minimum(ax, _TANH32_SATURATE))
    large = jnp.copysign(1 - 2 / (1 + e), x)
    return jnp.where(ax < TANH32_SMALL_LIMIT, small, large)


def tanh(x):
    """tanh(x) to about 1.5 ULP (float32: :func:`tanh_f32`).

    |x| < 0.55: x * P(x**2), the Taylor series of tanh(x)/x.
    otherwise:  sign(x) * (1 - 2e/(1+e)), e = exp(-2|x|) <= 1/3 (no cancellation).
    """
    if x.dtype == jnp.float32:
        return tanh_f32(x)
    ax = jnp.abs(x)
    small = ax < 0.55
    xs = jnp.where(small, x, jnp.zeros_like(x))
    series = xs * horner(xs * xs, TANH_ODD[: terms(x, 9, 19)])
    q, _ = _logistic_parts(2 * jnp.where(small, jnp.ones_like(x), ax))
    large = jnp.sign(x) * (1 - 2 * q)
    return jnp.where(small, series, large)


# ----------------------------------------------------------------------------
# float32 forms for 16-bit inputs
# ----------------------------------------------------------------------------
# A bfloat16/float16 result is rounded once from float32 to 8 or 11 bits: float32 math
# within a few float32 ULP (2**-21 relative) meets the 1-ULP (16-bit) contract, so the
# forms below skip the corrections and branches that the float32 contract needs.
def logistic_narrow(x):
    """(sigma(x), sigma(x) sigma(-x)) in float32 to a few ULP: e = exp(-|x|), 1/(1+e)."""
    e = jnp.exp(-jnp.abs(x))
    inv = 1 / (1 + e)
    return jnp.where(x >= 0, inv, e * inv), e * (inv * inv)


def tanh_narrow(x):
    """tanh(x) in float32 to about 7 ULP: x P(x^2) / Q(x^2) on the clamped range (no exp)."""
    xc = jnp.clip(x, -TANH_RATIONAL_LIMIT, TANH_RATIONAL_LIMIT)
    t = xc * xc
    p, q = TANH_RATIONAL
    return xc * horner(t, p) / horner(t, q)


# ----------------------------------------------------------------------------
# derivative zero crossings
# ----------------------------------------------------------------------------
def root_constant(name: str, key: str, dtype):
    """A constant of DERIVATIVE_ROOTS[name] as a double word (hi, lo) in ``dtype``."""
    return double_word(DERIVATIVE_ROOTS[name][key], dtype)


def root_offset(name: str, u_hi, u_lo=None):
    """d = u - x0 to full working precision, for u = u_hi + u_lo (u_lo may be None).

    u_hi - x0_hi is exact (Sterbenz' lemma) near x0, where it matters.
    """
    hi, lo = root_constant(name, "x0", u_hi.dtype)
    d = u_hi - hi
    if u_lo is not None:
        d = d + u_lo
    return d - lo
