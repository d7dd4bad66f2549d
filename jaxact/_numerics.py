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
    ERFC_NARROW,
    EXP2_NARROW,
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


def estrin(x, coefficients):
    """sum_k coefficients[k] * x**k by Estrin's scheme: pairs c_k + c_(k+1) x, then
    pairs of those with x**2, x**4, ...; a dependency chain of log depth, where Horner's
    is as long as the degree (for loops bound by latency)."""
    terms = [jnp.asarray(c, x.dtype) for c in coefficients]
    power = x
    while len(terms) > 1:
        paired = [terms[i] + terms[i + 1] * power for i in range(0, len(terms) - 1, 2)]
        if len(terms) % 2:
            paired.append(terms[-1])
        terms, power = paired, power * power
    return terms[0]


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


def fast_two_sum(a, b):
    """(s, e) with s = fl(a + b) and s + e == a + b exactly, for |a| >= |b| (or a == 0).

    Dekker's fast two-sum, three operations: for callers that know which operand is larger.
    """
    s = a + b
    return s, (a - s) + b


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


def _split_bits(value: float, bits: int) -> float:
    """``value`` rounded to ``bits`` significant bits (so n * result is exact for small n)."""
    m, e = math.frexp(value)
    return math.ldexp(round(m * 2**bits), e - bits)


_LN2 = (0.6931471805599453, 2.3190468138462996e-17)  # ln 2 as a float64 double word


class _ExpFormat:
    """Constants of :func:`exp_dw` for one float format.

    ln 2 = a + b + c with n * a and n * b exact for every exponent n the format has
    (a and b have ``bits`` significant bits, exponents n take 8 and 11 bits), and
    r = (y - n a) - n b exact as well (b's last bit is worth 2^-25 (float32) or
    2^-53 (float64), so r is a multiple of it below 1/2), so y - n ln 2 loses nothing
    but c's tiny product; ``terms`` Taylor terms of (e^r - 1 - r)/r^2 reach 2^-27.5 (float32) and
    2^-63 (float64) on |r| <= ln(2)/2.
    """

    def __init__(self, float_type, int_type, bits, terms, mantissa, bias, y_min):
        self.int_type = int_type
        self.a = _split_bits(_LN2[0], bits[0])
        self.b = _split_bits(_LN2[0] - self.a, bits[1])
        self.c = float(np.asarray((_LN2[0] - self.a - self.b) + _LN2[1], float_type))
        self.terms, self.mantissa, self.bias = terms, mantissa, bias
        self.y_min = y_min  # below, 2^n (so e^y) is flushed to 0: y is clamped there


_EXP_FORMATS = {
    jnp.dtype(jnp.float32): _ExpFormat(np.float32, jnp.int32, (8, 16), 6, 23, 127, -104.0),
    jnp.dtype(jnp.float64): _ExpFormat(np.float64, jnp.int64, (40, 11), 13, 52, 1023, -745.0),
}


def exp_dw(y, y_lo=None):
    """e^(y + y_lo) as a double word (hi, lo), hi + lo within 0.25 ULP (float32/float64;
    in float32 for e^y above about e^-68, below which lo can be flushed).

    (y_lo, optional, is a low part of the argument, |y_lo| <= ulp(y).)

    y = n ln 2 + r with |r| <= ln(2)/2 reduced without error (see :class:`_ExpFormat`),
    r_lo = -n c (plus y_lo).  Then
    e^r (1 + r_lo) = 1 + r + r^2 P(r) + r_lo e^r, P the Taylor series of
    (e^r - 1 - r)/r^2 (see :class:`_ExpFormat`), summed with two error-free
    additions, and 2^n written into the exponent bits.  XLA's exp (0.9 ULP) is the
    largest error in every exp-based activation; this one's hi alone is within
    0.65 ULP (renormalised, so an underflow of lo near the bottom of the range costs
    nothing) and its lo lets callers carry e^y to twice the precision.  Results
    below the smallest normal number are 0 (as XLA's CPU flushes them; y is clamped
    at y_min, so e^(-inf) = 0); y > 88.3 (float32) overflows the exponent bits,
    which no caller passes (they pass y <= 0); NaN stays NaN.  About twice the
    arithmetic of XLA's exp: the callers that can afford XLA's 0.9 ULP use that.
    """
    fmt = _EXP_FORMATS[jnp.dtype(y.dtype)]
    ys = jnp.maximum(y, fmt.y_min)  # NaN stays NaN
    n = jnp.round(ys * (1 / math.log(2)))
    r = (ys - n * fmt.a) - n * fmt.b  # exact (see _ExpFormat)
    r_lo = -(n * fmt.c) if y_lo is None else y_lo - n * fmt.c
    q2 = rounded(r * r * horner(r, _expm1_coefficients(fmt.terms)))  # rounded: no fused q2 + h
    h = 1 + r
    hi = h + q2
    lo = ((h - hi) + q2) + (((1 - h) + r) + r_lo * hi)  # e^(r + r_lo) = e^r (1 + r_lo), to r_lo^2
    hi, lo = fast_two_sum(hi, lo)  # renormalised: hi alone is e^y rounded
    # 2^n in the exponent bits; n below the normal range gives the bits of +0 (a flush)
    biased = jnp.maximum(n.astype(fmt.int_type) + fmt.bias, 0)
    scale = jax.lax.bitcast_convert_type(biased << fmt.mantissa, y.dtype)
    return hi * scale, lo * scale


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


def single_use(p, x):
    """``p`` behind a select on ``x``'s NaN-ness (x NaN gives x): the select is p's only user.

    XLA's CPU fusion will not duplicate an expensive producer (a divide, exp, sqrt)
    into several consumers, nor fuse one that its consumer reads more than once; it
    writes it to memory instead, a whole extra pass.  Behind this cheap select, which
    may have any number of users, a divide is fused.
    """
    return jnp.where(x == x, p, x)


def kept_as_is(y):
    """y, divided by [y == y] (1; 0 where y is NaN, which stays NaN): exactly y.

    XLA's CPU fusion recomputes a cheap producer inside each consumer that can take
    it, so a backward reading relu's y = max(a, 0) would read the pre-activation a
    instead, and a would stay alive until the backward next to y, which the next
    layer keeps anyway.  A divide counts as expensive and is never recomputed, so
    consumers of this y read y.  Meant for float32/float64 y: XLA's CPU bfloat16
    divide costs 2.3x a bfloat16 relu.
    """
    return y / (y == y).astype(y.dtype)


def corrected_quotient(a, a_lo, d, c):
    """(a + a_lo) / (d + c) for small a_lo, c: a/d rounded once plus (a_lo d - a c)/d^2.

    Two divides, each with a single user: a reciprocal used twice would split XLA's
    CPU loop fusion in two (an expensive producer that its consumer reuses is not fused).
    """
    return a / d + (a_lo * d - a * c) / (d * d)


def log1p_unit(y, y_lo=None):
    """log(1 + y) for 0 <= y <= 1 to about 1.5 ULP; y = y + y_lo when y_lo is given.

    Uses log1p(y) = 2 atanh(s), s = y / (2 + y) <= 1/3, whose odd series
    converges fast; the rounding error r of 2 + y (and y_lo) is corrected:
    s = (y + y_lo) / (d + r + y_lo) by :func:`corrected_quotient`.
    """
    d = 2 + y
    r = (2 - d) + y  # 2 + y == d + r exactly
    if y_lo is None:
        s = corrected_quotient(y, 0, d, r)
    else:
        s = corrected_quotient(y, y_lo, d, r + y_lo)
    s2 = s * s
    n = terms(y, 8, 17)
    series = horner(s2, [1.0 / (2 * k + 3) for k in range(n)])
    return 2 * s + 2 * s * (s2 * series)


def neg_abs(x):
    """-|x| whose derivative at 0 is +1 (the x <= 0 side's), not abs's 0.

    exp(neg_abs(x)) is e^x on x <= 0 and e^-x on x > 0; the functions built on it
    choose their x <= 0 formula at 0, so second derivatives there see the right slope.
    """
    return jnp.where(x > 0, -x, x)


def _logistic_parts(x):
    """(small, big) = (e/(1+e), 1/(1+e)), e = exp(-|x|) <= 1 (XLA's exp), to about 1.8 ULP.

    small = q (1 - c/d): q = e/d rounded once, d = 1 + e rounded and c its rounding
    error; 1/d in the correction is (3 - d)/2, exact at d = 1 and 2 and within 12%
    between, which is plenty for a term of half an ULP.  One divide, whose only user
    is a select (see :func:`single_use`).  big = 1 - small rounds once (Sterbenz).
    """
    e = jnp.exp(neg_abs(x))
    d = 1 + e
    q = single_use(e / d, x)
    small = q - q * (((1 - d) + e) * (1.5 - 0.5 * d))
    return small, 1 - small


def accurate_parts(x, x_lo=None):
    """(e_hi, e_lo, d, c, k) for e/(1 + e) to ~1 ULP: e = exp(-|x + x_lo|) as a double word.

    d = 1 + e_hi rounded, c = (1 + e) - d, k ~ 1/d (see :func:`_logistic_parts`).
    x_lo enters the exp's argument, not a correction term: near the underflow of e^-|x|
    a correction would be subnormal and flushed, and x_lo moves e by |x x_lo| relative.
    """
    y_lo = None if x_lo is None else jnp.where(x > 0, -x_lo, x_lo)
    e, e_lo = exp_dw(neg_abs(x), y_lo)
    d = 1 + e
    return e, e_lo, d, ((1 - d) + e) + e_lo, 1.5 - 0.5 * d


def sigmoid_terms_accurate(x, x_lo=None):
    """(sigmoid(u), sigmoid(-u), sigmoid(u) sigmoid(-u), e_hi, e_lo), u = x + x_lo.

    The sigmoids within 1 ULP: small = q + (e_lo - q c) k, q = e_hi/d rounded once (see
    :func:`accurate_parts`), big = 1 - small.  Their product e/(1 + e)^2 within 1.75
    ULP as e/d^2 (1 - 2c/d) + e_lo/d^2 rather than a product of two rounded factors,
    and e^-|u| = e_hi + e_lo for callers that need it too (one exp for all).  Two
    divides, each behind a select (see :func:`single_use`).
    """
    e, e_lo, d, c, k = accurate_parts(x, x_lo)
    q = single_use(e / d, x)
    small = q + (e_lo - q * c) * k
    big = 1 - small
    p = single_use(e / (d * d), x)
    product = p + (e_lo * k * k - p * (2 * c * k))
    positive = x > 0
    return jnp.where(positive, big, small), jnp.where(positive, small, big), product, e, e_lo


def times_sigmoid(x, u, u_lo=None):
    """x sigmoid(u + u_lo) to about 1.9 ULP: one divide, the numerator and e^-|u| double words.

    u > 0: x / (1 + e);  u <= 0: x e / (1 + e), e = e^-|u|.  The quotient rounds once
    and the rounding of 1 + e and e's low word are corrected; only x e's rounding is
    not (x * sigmoid(u) rounded twice, with sigmoid's own 1.5 ULP, reached 3.8 ULP).
    """
    e, e_lo, d, c, k = accurate_parts(u, u_lo)
    positive = u > 0
    xs = safe_finite(x)  # x e: inf * 0 would be NaN
    numerator = jnp.where(positive, x, xs * e)
    numerator_lo = jnp.where(positive, jnp.zeros_like(x), xs * e_lo)
    q = single_use(numerator / d, u)
    return jnp.where(jnp.isinf(x), q, q + (numerator_lo - q * c) * k)  # inf * c would be NaN


def sigmoid_pair(x):
    """(sigmoid(x), sigmoid(-x)), each to about 1.5 ULP: e/(1+e) and 1/(1+e), e = exp(-|x|)."""
    small, big = _logistic_parts(x)
    positive = x > 0
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


def exp_narrow(v):
    """e^v for v <= 0, in float32 to about 2**-17 relative: for results rounded to 16 bits.

    v log2(e) = k + f with k = round(v log2 e), |f| <= 1/2; 2**f by a degree-4 polynomial
    in Estrin's scheme and 2**k written into the exponent bits.  XLA's exp is a degree-6
    Horner chain, and a 16-bit loop is not interleaved by the compiler, so that chain's
    latency sets its speed (XLA's exp costs twice as much in a bfloat16 loop as in a
    float32 one); the shorter chains here cost about 30% less.  v is clamped to
    [-88, 0]: k = -127 gives the exponent bits 0, so e^v is 0 below about -87.7 (as
    XLA's exp); -inf gives 0 and NaN stays NaN (through the polynomial).
    """
    t = jnp.minimum(jnp.maximum(v, -88.0), 0.0) * 1.4426950408889634
    k = jnp.round(t)
    f = t - k
    f2 = f * f
    c1, c2, c3, c4 = EXP2_NARROW  # 2**f on |f| <= 1/2 to 2**-18.4 (tools/gen_coefficients.py)
    p = (1 + c1 * f) + f2 * ((c2 + c3 * f) + c4 * f2)
    scale = jax.lax.bitcast_convert_type((k.astype(jnp.int32) + 127) << 23, jnp.float32)
    return p * scale


def expm1_narrow(v):
    """e^v - 1 for v <= 0, in float32 to about 2**-14 relative: for results rounded to 16 bits.

    |v| < 1/8: v + v^2 (1/2 + v/6 + v^2 (1/24 + v/120)) (Estrin; the first term left
    out, v^6/720, is 2**-24 relative); below, exp_narrow(v) - 1, whose relative error
    2**-17 e^v / (1 - e^v) is at most 2**-14 there.  2**-14 is an eighth of a float16
    ULP, so the 16-bit result stays within 1 ULP.
    """
    near = v > -0.125
    s = jnp.where(near, v, jnp.zeros_like(v))
    s2 = s * s
    series = s + s2 * ((0.5 + s * (1 / 6)) + s2 * ((1 / 24) + s * (1 / 120)))
    return jnp.where(near, series, exp_narrow(jnp.where(near, jnp.full_like(v, -1.0), v)) - 1)


def normal_cdf_narrow(x):
    """Phi(x) in float32 to about 2**-16 relative: for results rounded to 16 bits.

    Q(|x|) = erfc(z) / 2 with z = |x| / sqrt 2, and erfc(z) = t exp(P(t) - x**2 / 2),
    t = 2 / (2 + z), P a degree-7 fit (ERFC_NARROW, 2**-20.5) evaluated by Estrin's
    scheme; exp_narrow (2**-17) dominates the error.  Phi(x) = Q(|x|) for x < 0 (the
    left tail, relatively accurate down to about -12.9, where Phi leaves the normal
    range and is flushed) and 1 - Q(x) for x >= 0.  Less arithmetic than XLA's erfc,
    which computes an erf polynomial and an exp-based rational for every element.
    """
    ax = jnp.minimum(jnp.abs(x), 1e4)  # x**2 stays finite; NaN stays NaN
    t = 2 / (2 + ax * 0.7071067811865476)
    q = (0.5 * t) * exp_narrow(estrin(t, ERFC_NARROW) - 0.5 * (ax * ax))
    return jnp.where(x < 0, q, 1 - q)


def logistic_narrow(x):
    """(sigma(x), sigma(x) sigma(-x)) in float32 to 2**-16, with e = exp(-|x|), d = 1 + e:
    [1 or e] / d and e / d**2.

    Two divides, each with a single user (which XLA fuses), rather than one reciprocal
    shared behind :func:`single_use`'s select: the select and the extra multiplies cost
    more than the second divide (bfloat16 sigmoid, silu, swish, tanh and gelu took
    5-12% less time).
    """
    e = exp_narrow(-jnp.abs(x))
    d = 1 + e
    return jnp.where(x >= 0, jnp.ones_like(e), e) / d, e / (d * d)


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
