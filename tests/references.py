"""Independent numerical references for jaxact's activation functions.

Nothing here imports ``jaxact`` or ``jax``: these references exist to test that
code, so they are written from the mathematical definitions only.

Two kinds of reference per element-wise function (see :class:`Reference`):

* ``*_mp``: mpmath, evaluated at ``max(mp.dps, DPS)`` decimal digits (a
  ``workdps`` context, the global ``mp.dps`` is left alone), written in
  cancellation-free forms so the result is good to far beyond float64.  They
  respect a *higher* ambient precision, so ``mpmath.diff`` works on them.
  ``exp(-t)`` for ``t > 1e20`` is flushed to 0 (it is below 10**-(4e19), far
  under any floating-point format) to keep mpmath fast at |x| ~ 1e300.
* ``*64``: NumPy/SciPy float64, accurate to a few float64 ULP for every finite
  float64 input (huge, tiny and subnormal included) and returning the limits at
  +-inf; NaN propagates.  Where a rounding error in an exponent would be
  amplified (``exp`` of a large argument) the argument is carried as a
  double-double (Dekker products / Knuth sums), and a tiny exp that is then
  multiplied by a large factor is computed pre-scaled by e^128 so that the
  result keeps full precision down to the subnormal range.  Near the zero
  crossings of the derivatives of silu/swish, gelu and mish the float64
  derivative uses a cancelling form and is only good to ~2e-16 absolute there
  (see :func:`deriv_zero_crossings`).  Measured against mpmath over all
  finite bfloat16 inputs: values <= 3 ULP (gelu's erf form <= 6 ULP),
  derivatives <= 3.5 ULP except around those crossings, where the error is
  <= 2e-16 absolute (still up to ~20 ULP at 0.1-0.15 from a crossing).

Kinks: ``Reference.kinks(**params)`` lists the points where the function is not
twice differentiable: the points where it is not differentiable at all, plus
the points where it is C1 but its second derivative jumps (celu, elu, soft_sign,
sparse_plus).  First derivatives there follow jaxact's documented conventions;
second derivatives there return 0 (tests skip kinks for second derivatives).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import mpmath
import numpy as np
from scipy import special

__all__ = [
    "DPS",
    "Reference",
    "ELEMENTWISE",
    "deriv_zero_crossings",
    "softmax_mp",
    "log_softmax_mp",
    "softmin_mp",
    "glu_mp",
    "softmax64",
    "log_softmax64",
    "softmin64",
    "glu64",
]

mp = mpmath.mp
mpf = mpmath.mpf
DPS = 50
_FLUSH = mpf("1e20")  # exp(-t) for t > _FLUSH is returned as exactly 0

with mp.workdps(DPS + 20):
    _SELU_ALPHA = mpf("1.6732632423543772848170429916717")
    _SELU_SCALE = mpf("1.0507009873554804934193349852946")
    _GELU_A = mpf("0.044715")


@dataclass(frozen=True)
class Reference:
    name: str
    value_mp: Callable
    deriv_mp: Callable
    deriv2_mp: Callable
    value64: Callable
    deriv64: Callable
    kinks: Callable


# --------------------------------------------------------------------------
# Plumbing: precision, conversions, infinities
# --------------------------------------------------------------------------


def _to_mpf(v):
    if isinstance(v, mpmath.mpf):
        return v
    if isinstance(v, (np.floating, np.integer)):
        v = float(v)
    return mpf(v)


def _workdps():
    return mp.workdps(max(mp.dps, DPS))


def _mp_function(core, limits):
    """Wrap ``core(x: finite mpf, **params)``: precision, conversion, +-inf limits."""

    @functools.wraps(core)
    def f(x, **params):
        with _workdps():
            x = _to_mpf(x)
            if mpmath.isnan(x):
                return mpmath.nan
            if mpmath.isinf(x):
                lo, hi = limits(**params)
                return _to_mpf(hi if x > 0 else lo)
            return core(x, **params)

    return f


def _mp_deriv2(core, kinks):
    """Wrap a second derivative: 0 at +-inf and (by convention) at the kinks."""

    @functools.wraps(core)
    def f(x, **params):
        with _workdps():
            x = _to_mpf(x)
            if mpmath.isnan(x):
                return mpmath.nan
            if mpmath.isinf(x) or any(x == k for k in kinks(**params)):
                return mpf(0)
            return core(x, **params)

    return f


def _f64_function(core, limits):
    """Wrap ``core(x: finite float64 array, **params)``: +-inf limits, NaN, warnings.

    ``core`` sees the infinities replaced by 0 and runs with floating-point
    warnings silenced; it must not produce NaN for finite input.
    """

    @functools.wraps(core)
    def f(x, **params):
        x = np.asarray(x, dtype=np.float64)
        with _workdps():
            lo, hi = (float(v) for v in limits(**params))
        finite = np.isfinite(x)
        with np.errstate(all="ignore"):
            out = np.asarray(core(np.where(finite, x, 0.0), **params), dtype=np.float64)
        out = np.where(x == np.inf, hi, np.where(x == -np.inf, lo, out))
        return np.where(np.isnan(x), np.nan, out)

    return f


def _no_kinks(**params):
    return ()


def _make(name, value_mp, deriv_mp, deriv2_mp, value64, deriv64,
          value_limits, deriv_limits, kinks=_no_kinks):
    return Reference(
        name=name,
        value_mp=_mp_function(value_mp, value_limits),
        deriv_mp=_mp_function(deriv_mp, deriv_limits),
        deriv2_mp=_mp_deriv2(deriv2_mp, kinks),
        value64=_f64_function(value64, value_limits),
        deriv64=_f64_function(deriv64, deriv_limits),
        kinks=kinks,
    )


_INF = float("inf")

# --------------------------------------------------------------------------
# mpmath building blocks (all cancellation-free)
# --------------------------------------------------------------------------


def _exp_neg_mp(t):
    """exp(-t) for t >= 0, flushed to 0 for astronomically small results."""
    return mpf(0) if t > _FLUSH else mpmath.exp(-t)


def _sigmoid_mp(y):
    if y >= 0:
        return 1 / (1 + _exp_neg_mp(y))
    e = _exp_neg_mp(-y)
    return e / (1 + e)


def _dsigmoid_mp(y):
    """sigmoid'(y) = E/(1+E)^2 with E = exp(-|y|)."""
    e = _exp_neg_mp(abs(y))
    return e / (1 + e) ** 2


def _d2sigmoid_mp(y):
    """sigmoid''(y) = sigmoid'(y) * (1 - 2 sigmoid(y)) = -sigmoid'(y) tanh(y/2)."""
    return -_dsigmoid_mp(y) * mpmath.tanh(y / 2)


def _ncdf_mp(x):
    if abs(x) > _FLUSH:
        return mpf(1) if x > 0 else mpf(0)
    return mpmath.erfc(-x / mpmath.sqrt(2)) / 2


def _npdf_mp(x):
    return _exp_neg_mp(x * x / 2) / mpmath.sqrt(2 * mpmath.pi)


# --------------------------------------------------------------------------
# float64 building blocks
# --------------------------------------------------------------------------

_VELTKAMP = 134217729.0  # 2**27 + 1


def _two_sum(a, b):
    """s + err == a + b exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a):
    c = _VELTKAMP * a
    hi = c - (c - a)
    return hi, a - hi


def _two_prod(a, b):
    """p + err == a * b exactly (Dekker; needs |a|, |b| < ~1e300)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _dd_const(make_value):
    """(hi, lo) float64 pair with hi + lo == make_value() to ~106 bits."""
    with mp.workdps(DPS):
        value = make_value()
        hi = float(value)
        return hi, float(value - mpf(hi))


_TAIL = 600.0
_TAIL_SHIFT = 128.0
with mp.workdps(DPS):
    _TAIL_FACTOR = float(mpmath.exp(-_TAIL_SHIFT))


def _exp_neg64(a, al=0.0):
    """exp(-(a + al)) for a >= 0, |al| << 1, returned as (m, f) with value m * f.

    For a > 600 the result is near or below the subnormal range, so m =
    exp(128 - a) (128 - a is exact) and f = e^-128: a caller that multiplies m
    by a large factor and only then by f keeps full precision down to the
    last normal float64.  Otherwise f = 1.
    """
    tail = a > _TAIL
    m = np.exp(np.where(tail, _TAIL_SHIFT, 0.0) - a) * (1.0 - al)
    return m, np.where(tail, _TAIL_FACTOR, 1.0)


def _sigmoid_pair64(yh, yl=0.0):
    """(s, sc, f) with sigmoid(y) = s * f and sigmoid(-y) = sc, y = yh + yl.

    Both come from E = exp(-|y|) and neither is formed as 1 - something; f is
    the tail factor of :func:`_exp_neg64` (only != 1 where s is the tiny one).
    """
    neg = yh < 0
    m, f = _exp_neg64(np.abs(yh), np.where(neg, -yl, yl))
    e = m * f
    big = 1.0 / (1.0 + e)
    small = m / (1.0 + e)  # times f
    return (np.where(neg, small, big), np.where(neg, big, small * f),
            np.where(neg, f, 1.0))


def _sigmoid64(y):
    """1/(1+E) for y >= 0, E/(1+E) for y < 0, E = exp(-|y|) (no early underflow)."""
    s, _, f = _sigmoid_pair64(y)
    return s * f


def _dsigmoid64(x):
    e = np.exp(-np.abs(x))
    return e / ((1.0 + e) * (1.0 + e))


def _exp_neg_half_sq64(x):
    """exp(-x^2/2) as (m, f) like :func:`_exp_neg64`, x^2 exact (needs |x| < 1e150)."""
    hi, lo = _two_prod(x, x)
    return _exp_neg64(0.5 * hi, 0.5 * lo)


def _scaled_arg64(c, x, cutoff):
    """c*x as a double-double (yh, yl); yl = 0 where |c*x| > cutoff or unsafe."""
    y = c * x
    ok = np.abs(y) <= cutoff
    yh, yl = _two_prod(np.float64(c), np.where(ok, x, 0.0))
    yh = np.where(ok, yh, y)
    yl = np.where(ok & np.isfinite(yl), yl, 0.0)
    return yh, yl


# ==========================================================================
# Element-wise references
# ==========================================================================

# ---- sigmoid --------------------------------------------------------------


SIGMOID = _make(
    "sigmoid",
    value_mp=_sigmoid_mp,
    deriv_mp=_dsigmoid_mp,
    deriv2_mp=_d2sigmoid_mp,
    value64=_sigmoid64,  # 1/(1+E) or E/(1+E); derivative E/(1+E)^2, E = e^-|x|
    deriv64=_dsigmoid64,
    value_limits=lambda: (0, 1),
    deriv_limits=lambda: (0, 0),
)

# ---- tanh -----------------------------------------------------------------


def _dtanh_mp(x):
    e = _exp_neg_mp(2 * abs(x))
    return 4 * e / (1 + e) ** 2


def _tanh64(x):
    """np.tanh; derivative sech^2 = 4E/(1+E)^2 with E = e^(-2|x|) (never 1 - t^2)."""
    return np.tanh(x)


def _dtanh64(x):
    e = np.exp(-2.0 * np.abs(x))
    return 4.0 * e / ((1.0 + e) * (1.0 + e))


TANH = _make(
    "tanh",
    value_mp=mpmath.tanh,
    deriv_mp=_dtanh_mp,
    deriv2_mp=lambda x: -2 * mpmath.tanh(x) * _dtanh_mp(x),
    value64=_tanh64,
    deriv64=_dtanh64,
    value_limits=lambda: (-1, 1),
    deriv_limits=lambda: (0, 0),
)

# ---- relu / relu6 / leaky_relu ---------------------------------------------


def _relu64(x):
    """max(x, 0); derivative 1 for x > 0 else 0 (0 at the kink)."""
    return np.where(x > 0, x, 0.0)


RELU = _make(
    "relu",
    value_mp=lambda x: x if x > 0 else mpf(0),
    deriv_mp=lambda x: mpf(1) if x > 0 else mpf(0),
    deriv2_mp=lambda x: mpf(0),
    value64=_relu64,
    deriv64=lambda x: np.where(x > 0, 1.0, 0.0),
    value_limits=lambda: (0, _INF),
    deriv_limits=lambda: (0, 1),
    kinks=lambda: (0.0,),
)


def _relu6_64(x):
    """clip(x, 0, 6); derivative 1 on the open interval (0, 6), 0 at both kinks."""
    return np.clip(x, 0.0, 6.0)


RELU6 = _make(
    "relu6",
    value_mp=lambda x: min(max(x, mpf(0)), mpf(6)),
    deriv_mp=lambda x: mpf(1) if 0 < x < 6 else mpf(0),
    deriv2_mp=lambda x: mpf(0),
    value64=_relu6_64,
    deriv64=lambda x: np.where((x > 0) & (x < 6), 1.0, 0.0),
    value_limits=lambda: (0, 6),
    deriv_limits=lambda: (0, 0),
    kinks=lambda: (0.0, 6.0),
)


def _leaky_relu_mp(x, negative_slope=0.01):
    return x if x >= 0 else _to_mpf(negative_slope) * x


def _leaky_relu_deriv_mp(x, negative_slope=0.01):
    return mpf(1) if x >= 0 else _to_mpf(negative_slope)


def _leaky_relu64(x, negative_slope=0.01):
    """x if x >= 0 else slope*x (one rounding); derivative 1 at x >= 0 (so 1 at 0)."""
    return np.where(x >= 0, x, float(negative_slope) * x)


def _leaky_relu_deriv64(x, negative_slope=0.01):
    return np.where(x >= 0, 1.0, float(negative_slope))


def _leaky_relu_limits(negative_slope=0.01):
    s = float(negative_slope)
    return (-_INF if s > 0 else (_INF if s < 0 else 0.0)), _INF


LEAKY_RELU = _make(
    "leaky_relu",
    value_mp=_leaky_relu_mp,
    deriv_mp=_leaky_relu_deriv_mp,
    deriv2_mp=lambda x, negative_slope=0.01: mpf(0),
    value64=_leaky_relu64,
    deriv64=_leaky_relu_deriv64,
    value_limits=_leaky_relu_limits,
    deriv_limits=lambda negative_slope=0.01: (negative_slope, 1),
    kinks=lambda negative_slope=0.01: (0.0,),
)

# ---- elu / selu / celu -----------------------------------------------------


def _elu_mp(x, alpha=1.0):
    return x if x > 0 else _to_mpf(alpha) * mpmath.expm1(x)


def _elu_deriv_mp(x, alpha=1.0):
    return mpf(1) if x > 0 else _to_mpf(alpha) * mpmath.exp(x)


def _elu_deriv2_mp(x, alpha=1.0):
    return mpf(0) if x > 0 else _to_mpf(alpha) * mpmath.exp(x)


def _elu64(x, alpha=1.0):
    """x if x > 0 else alpha*expm1(x); derivative alpha*exp(x) for x <= 0 (alpha at 0)."""
    return np.where(x > 0, x, float(alpha) * np.expm1(np.minimum(x, 0.0)))


def _elu_deriv64(x, alpha=1.0):
    return np.where(x > 0, 1.0, float(alpha) * np.exp(np.minimum(x, 0.0)))


ELU = _make(
    "elu",
    value_mp=_elu_mp,
    deriv_mp=_elu_deriv_mp,
    deriv2_mp=_elu_deriv2_mp,
    value64=_elu64,
    deriv64=_elu_deriv64,
    value_limits=lambda alpha=1.0: (-_to_mpf(alpha), _INF),
    deriv_limits=lambda alpha=1.0: (0, 1),
    kinks=lambda alpha=1.0: (0.0,),
)

_SELU_SCALE64 = float(_SELU_SCALE)
with mp.workdps(DPS):
    _SELU_SA64 = float(_SELU_SCALE * _SELU_ALPHA)


def _selu64(x):
    """scale*x for x > 0, (scale*alpha)*expm1(x) otherwise (scale*alpha rounded once)."""
    return np.where(x > 0, _SELU_SCALE64 * x, _SELU_SA64 * np.expm1(np.minimum(x, 0.0)))


def _selu_deriv64(x):
    return np.where(x > 0, _SELU_SCALE64, _SELU_SA64 * np.exp(np.minimum(x, 0.0)))


SELU = _make(
    "selu",
    value_mp=lambda x: _SELU_SCALE * _elu_mp(x, _SELU_ALPHA),
    deriv_mp=lambda x: _SELU_SCALE * _elu_deriv_mp(x, _SELU_ALPHA),
    deriv2_mp=lambda x: _SELU_SCALE * _elu_deriv2_mp(x, _SELU_ALPHA),
    value64=_selu64,
    deriv64=_selu_deriv64,
    value_limits=lambda: (-_SELU_SCALE * _SELU_ALPHA, _INF),
    deriv_limits=lambda: (0, _SELU_SCALE),
    kinks=lambda: (0.0,),
)


def _celu_mp(x, alpha=1.0):
    a = _to_mpf(alpha)
    return x if x > 0 else a * mpmath.expm1(x / a)


def _celu_deriv_mp(x, alpha=1.0):
    return mpf(1) if x > 0 else mpmath.exp(x / _to_mpf(alpha))


def _celu_deriv2_mp(x, alpha=1.0):
    a = _to_mpf(alpha)
    return mpf(0) if x > 0 else mpmath.exp(x / a) / a


def _div_dd64(x, a):
    """x / a as a double-double (qh, ql)."""
    q = x / a
    p, pe = _two_prod(q, np.float64(a))
    return q, ((x - p) - pe) / a


def _celu64(x, alpha=1.0):
    """x if x > 0 else alpha*expm1(x/alpha), x/alpha carried as a double-double.

    Derivative exp(x/alpha) for x <= 0 (1 at 0), with the same exact quotient.
    """
    a = float(alpha)
    qh, ql = _div_dd64(np.clip(x, -800.0 * abs(a), 0.0), a)
    neg = a * (np.expm1(qh) + np.exp(qh) * ql)
    return np.where(x > 0, x, neg)


def _celu_deriv64(x, alpha=1.0):
    a = float(alpha)
    qh, ql = _div_dd64(np.clip(x, -800.0 * abs(a), 0.0), a)
    return np.where(x > 0, 1.0, np.exp(qh) * (1.0 + ql))


CELU = _make(
    "celu",
    value_mp=_celu_mp,
    deriv_mp=_celu_deriv_mp,
    deriv2_mp=_celu_deriv2_mp,
    value64=_celu64,
    deriv64=_celu_deriv64,
    value_limits=lambda alpha=1.0: (-_to_mpf(alpha), _INF),
    deriv_limits=lambda alpha=1.0: (0, 1),
    kinks=lambda alpha=1.0: (0.0,),  # C1 but f'' jumps from 1/alpha to 0
)

# ---- swish / silu ----------------------------------------------------------


def _swish_mp(x, beta=1.0):
    return x * _sigmoid_mp(_to_mpf(beta) * x)


def _swish_deriv_mp(x, beta=1.0):
    """s + y s (1-s), y = beta x, written s * (1 + y sigmoid(-y))."""
    y = _to_mpf(beta) * x
    return _sigmoid_mp(y) * (1 + y * _sigmoid_mp(-y))


def _swish_deriv2_mp(x, beta=1.0):
    """beta sigmoid'(y) (2 - y tanh(y/2)), y = beta x."""
    b = _to_mpf(beta)
    y = b * x
    return b * _dsigmoid_mp(y) * (2 - y * mpmath.tanh(y / 2))


def _swish64(x, beta=1.0):
    """x*sigmoid(beta x), beta*x as a double-double so exp sees the exact argument.

    Derivative s*(1 + y*sigmoid(-y)) with both sigmoids from E = exp(-|y|)
    (cancels only near the zero crossing y ~ -1.2785).
    """
    yh, yl = _scaled_arg64(float(beta), x, 800.0)
    s, _, f = _sigmoid_pair64(yh, yl)
    return (x * s) * f


def _swish_deriv64(x, beta=1.0):
    yh, yl = _scaled_arg64(float(beta), x, 800.0)
    s, sc, f = _sigmoid_pair64(yh, yl)
    d = (s * (1.0 + yh * sc)) * f
    return np.where(np.abs(yh) > 800.0, np.where(yh > 0, 1.0, 0.0), d)


def _swish_limits(beta=1.0):
    b = float(beta)
    return (0, _INF) if b > 0 else ((-_INF, 0) if b < 0 else (-_INF, _INF))


def _swish_deriv_limits(beta=1.0):
    b = float(beta)
    return (0, 1) if b > 0 else ((1, 0) if b < 0 else (0.5, 0.5))


SWISH = _make(
    "swish",
    value_mp=_swish_mp,
    deriv_mp=_swish_deriv_mp,
    deriv2_mp=_swish_deriv2_mp,
    value64=_swish64,
    deriv64=_swish_deriv64,
    value_limits=_swish_limits,
    deriv_limits=_swish_deriv_limits,
)

SILU = _make(
    "silu",
    value_mp=lambda x: _swish_mp(x, 1.0),
    deriv_mp=lambda x: _swish_deriv_mp(x, 1.0),
    deriv2_mp=lambda x: _swish_deriv2_mp(x, 1.0),
    value64=lambda x: _swish64(x, 1.0),
    deriv64=lambda x: _swish_deriv64(x, 1.0),
    value_limits=lambda: (0, _INF),
    deriv_limits=lambda: (0, 1),
)

# ---- gelu ------------------------------------------------------------------


def _gelu_tanh_y_mp(x):
    """y = 2u = 2 sqrt(2/pi) (x + a x^3) and its x-derivatives y', y''."""
    c2 = 2 * mpmath.sqrt(2 / mpmath.pi)
    a = _GELU_A
    return c2 * (x + a * x**3), c2 * (1 + 3 * a * x * x), c2 * 6 * a * x


def _gelu_tanh_mp(x):
    """0.5 x (1 + tanh u) = x sigmoid(2u)."""
    y, _, _ = _gelu_tanh_y_mp(x)
    return x * _sigmoid_mp(y)


def _gelu_tanh_deriv_mp(x):
    """s + x y' s(1-s) = s (1 + x y' sigmoid(-y))."""
    y, dy, _ = _gelu_tanh_y_mp(x)
    return _sigmoid_mp(y) * (1 + x * dy * _sigmoid_mp(-y))


def _gelu_tanh_deriv2_mp(x):
    """sigmoid'(y) (2 y' + x y'' - x y'^2 tanh(y/2))."""
    y, dy, d2y = _gelu_tanh_y_mp(x)
    return _dsigmoid_mp(y) * (2 * dy + x * d2y - x * dy * dy * mpmath.tanh(y / 2))


def _gelu_erf_mp(x):
    return x * _ncdf_mp(x)


def _gelu_erf_deriv_mp(x):
    return _ncdf_mp(x) + x * _npdf_mp(x)


def _gelu_erf_deriv2_mp(x):
    return _npdf_mp(x) * (2 - x * x)


_GELU_C2_DD = _dd_const(lambda: 2 * mpmath.sqrt(2 / mpmath.pi))
_GELU_A_DD = _dd_const(lambda: _GELU_A)
_GELU_TANH_CUT = 30.0  # |x| > 30: 2|u| > 1900, sigmoid(2u) is 0 or 1 in float64


def _gelu_tanh_y64(x):
    """y = 2 sqrt(2/pi) (x + 0.044715 x^3) as a double-double, for |x| <= 30.

    x*x, a*x^2, 1 + a x^2, x*(...) and the constant product are all carried
    exactly (Dekker/Knuth), so the tail x*exp(y) is accurate to a few ULP
    even where |y| ~ 1000 (a plain float64 y would give ~1e-13 relative).
    """
    (ch, cl), (ah, al) = _GELU_C2_DD, _GELU_A_DD
    p, pe = _two_prod(x, x)
    qh, qe = _two_prod(np.float64(ah), p)
    qe = qe + ah * pe + al * p
    rh, re = _two_sum(1.0, qh)
    re = re + qe
    th, te = _two_prod(x, rh)
    te = te + x * re
    yh, ye = _two_prod(np.float64(ch), th)
    ye = ye + ch * te + cl * th
    return _two_sum(yh, ye)


def _gelu_tanh64(x):
    """x*sigmoid(2u) with 2u a double-double (1 + tanh u == 2 sigmoid(2u))."""
    small = np.abs(x) <= _GELU_TANH_CUT
    yh, yl = _gelu_tanh_y64(np.where(small, x, 0.0))
    s, _, f = _sigmoid_pair64(yh, yl)
    return np.where(small, (x * s) * f, np.where(x > 0, x, x * 0.0))


def _gelu_tanh_deriv64(x):
    """s (1 + x y' sigmoid(-y)); cancels only near the crossing x ~ -0.7518."""
    small = np.abs(x) <= _GELU_TANH_CUT
    xs = np.where(small, x, 0.0)
    yh, yl = _gelu_tanh_y64(xs)
    s, sc, f = _sigmoid_pair64(yh, yl)
    dy = _GELU_C2_DD[0] * (1.0 + 3.0 * _GELU_A_DD[0] * xs * xs)
    d = (s * (1.0 + xs * dy * sc)) * f
    return np.where(small, d, np.where(x > 0, 1.0, 0.0))


_SQRT1_2 = float(np.sqrt(0.5))
_INV_SQRT_2PI = _dd_const(lambda: 1 / mpmath.sqrt(2 * mpmath.pi))[0]


def _gelu_erf64(x):
    """x*Phi(x): x*ndtr(x) for x >= -1; below, x * erfcx(-x/sqrt2)/2 * exp(-x^2/2).

    exp(-x^2/2) is evaluated with x^2 exact (scipy's ndtr tail loses ~x^2 ULP).
    """
    xc = np.clip(x, -1e100, 1e100)
    m, f = _exp_neg_half_sq64(xc)
    tail = ((x * (0.5 * special.erfcx(-x * _SQRT1_2))) * m) * f
    return np.where(x >= -1.0, x * special.ndtr(x), tail)


def _gelu_erf_deriv64(x):
    """Phi + x phi; below -1 written exp(-x^2/2) (erfcx(-x/sqrt2)/2 + x/sqrt(2 pi))."""
    xc = np.clip(x, -1e100, 1e100)
    m, f = _exp_neg_half_sq64(xc)
    near = special.ndtr(x) + xc * _INV_SQRT_2PI * (m * f)
    tail = (m * (0.5 * special.erfcx(-x * _SQRT1_2) + x * _INV_SQRT_2PI)) * f
    return np.where(x >= -1.0, near, tail)


def _gelu_dispatch(tanh_fn, erf_fn):
    def f(x, approximate=True):
        return tanh_fn(x) if approximate else erf_fn(x)

    f.__doc__ = f"approximate=True: {tanh_fn.__doc__}\napproximate=False: {erf_fn.__doc__}"
    return f


GELU = _make(
    "gelu",
    value_mp=_gelu_dispatch(_gelu_tanh_mp, _gelu_erf_mp),
    deriv_mp=_gelu_dispatch(_gelu_tanh_deriv_mp, _gelu_erf_deriv_mp),
    deriv2_mp=_gelu_dispatch(_gelu_tanh_deriv2_mp, _gelu_erf_deriv2_mp),
    value64=_gelu_dispatch(_gelu_tanh64, _gelu_erf64),
    deriv64=_gelu_dispatch(_gelu_tanh_deriv64, _gelu_erf_deriv64),
    value_limits=lambda approximate=True: (0, _INF),
    deriv_limits=lambda approximate=True: (0, 1),
)

# ---- mish ------------------------------------------------------------------
#
# With e = exp(-|x|) and T = tanh(softplus(x)):
#   x >= 0: T = (1+2e)/D, D = 1+2e+2e^2,  1-T = 2e^2/D, s = 1/(1+e)
#   x <  0: T = n/D, n = e(e+2), D = n+2, 1-T = 2/D,   s = e/(1+e)
#   and always 1+T = 2(1+e)^2/D.


def _mish_parts_mp(x):
    """(T, 1-T, 1+T, sigmoid(x)), all without cancellation."""
    e = _exp_neg_mp(abs(x))
    if x >= 0:
        d = 1 + 2 * e + 2 * e * e
        return (1 + 2 * e) / d, 2 * e * e / d, 2 * (1 + e) ** 2 / d, 1 / (1 + e)
    d = e * (e + 2) + 2
    return e * (e + 2) / d, 2 / d, 2 * (1 + e) ** 2 / d, e / (1 + e)


def _mish_mp(x):
    return x * _mish_parts_mp(x)[0]


def _mish_deriv_mp(x):
    """T + x s (1-T)(1+T)."""
    t, omt, opt, s = _mish_parts_mp(x)
    return t + x * s * omt * opt


def _mish_deriv2_mp(x):
    """(1-T^2) s (2 + x (1 - s - 2 T s))."""
    t, omt, opt, s = _mish_parts_mp(x)
    return omt * opt * s * (2 + x * (1 - s - 2 * t * s))


def _mish_parts64(x):
    """(T, 1-T, 1+T, s, f): for x < 0, T and s are returned divided by f (tail factor)."""
    m, f = _exp_neg64(np.abs(x))
    e = m * f
    pos = x >= 0
    n = e * (e + 2.0)
    d = np.where(pos, 1.0 + 2.0 * e + 2.0 * e * e, n + 2.0)
    t = np.where(pos, 1.0 + 2.0 * e, m * (e + 2.0)) / d
    omt = np.where(pos, 2.0 * e * e, 2.0) / d
    opt = 2.0 * (1.0 + e) * (1.0 + e) / d
    s = np.where(pos, 1.0, m) / (1.0 + e)
    return t, omt, opt, s, np.where(pos, 1.0, f)


def _mish64(x):
    """x*tanh(softplus(x)) with tanh(softplus) a rational function of e = exp(-|x|)."""
    t, _, _, _, f = _mish_parts64(x)
    return (x * t) * f


def _mish_deriv64(x):
    """T + x s (1-T)(1+T), each factor cancellation-free (sum cancels near x ~ -1.1924)."""
    t, omt, opt, s, f = _mish_parts64(x)
    return (t + x * s * omt * opt) * f


MISH = _make(
    "mish",
    value_mp=_mish_mp,
    deriv_mp=_mish_deriv_mp,
    deriv2_mp=_mish_deriv2_mp,
    value64=_mish64,
    deriv64=_mish_deriv64,
    value_limits=lambda: (0, _INF),
    deriv_limits=lambda: (0, 1),
)

# ---- softplus / log_sigmoid -----------------------------------------------


def _softplus64(x):
    """max(x, 0) + log1p(exp(-|x|)); derivative sigmoid(x)."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


SOFTPLUS = _make(
    "softplus",
    value_mp=lambda x: max(x, mpf(0)) + mpmath.log1p(_exp_neg_mp(abs(x))),
    deriv_mp=_sigmoid_mp,
    deriv2_mp=_dsigmoid_mp,
    value64=_softplus64,
    deriv64=_sigmoid64,
    value_limits=lambda: (0, _INF),
    deriv_limits=lambda: (0, 1),
)


def _log_sigmoid64(x):
    """min(x, 0) - log1p(exp(-|x|)) (two non-positive terms); derivative sigmoid(-x)."""
    return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))


LOG_SIGMOID = _make(
    "log_sigmoid",
    value_mp=lambda x: min(x, mpf(0)) - mpmath.log1p(_exp_neg_mp(abs(x))),
    deriv_mp=lambda x: _sigmoid_mp(-x),
    deriv2_mp=lambda x: -_dsigmoid_mp(x),
    value64=_log_sigmoid64,
    deriv64=lambda x: _sigmoid64(-x),
    value_limits=lambda: (-_INF, 0),
    deriv_limits=lambda: (1, 0),
)

# ---- soft_sign -------------------------------------------------------------


def _soft_sign64(x):
    """x/(1+|x|); derivative (1/(1+|x|))^2 (squares the reciprocal: no overflow)."""
    return x / (1.0 + np.abs(x))


def _soft_sign_deriv64(x):
    r = 1.0 / (1.0 + np.abs(x))
    return r * r


SOFT_SIGN = _make(
    "soft_sign",
    value_mp=lambda x: x / (1 + abs(x)),
    deriv_mp=lambda x: 1 / (1 + abs(x)) ** 2,
    deriv2_mp=lambda x: -2 * mpmath.sign(x) / (1 + abs(x)) ** 3,
    value64=_soft_sign64,
    deriv64=_soft_sign_deriv64,
    value_limits=lambda: (-1, 1),
    deriv_limits=lambda: (0, 0),
    kinks=lambda: (0.0,),  # C1 but f'' jumps from +2 to -2
)

# ---- hard_tanh / hard_sigmoid / hard_swish --------------------------------


def _hard_tanh64(x):
    """clip(x, -1, 1); derivative 1 on the closed interval [-1, 1]."""
    return np.clip(x, -1.0, 1.0)


HARD_TANH = _make(
    "hard_tanh",
    value_mp=lambda x: min(max(x, mpf(-1)), mpf(1)),
    deriv_mp=lambda x: mpf(1) if -1 <= x <= 1 else mpf(0),
    deriv2_mp=lambda x: mpf(0),
    value64=_hard_tanh64,
    deriv64=lambda x: np.where(np.abs(x) <= 1.0, 1.0, 0.0),
    value_limits=lambda: (-1, 1),
    deriv_limits=lambda: (0, 0),
    kinks=lambda: (-1.0, 1.0),
)


def _hard_sigmoid64(x):
    """clip(x + 3, 0, 6) / 6 (x + 3 is exact near -3); derivative 1/6 on (-3, 3)."""
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0


HARD_SIGMOID = _make(
    "hard_sigmoid",
    value_mp=lambda x: min(max(x + 3, mpf(0)), mpf(6)) / 6,
    deriv_mp=lambda x: mpf(1) / 6 if -3 < x < 3 else mpf(0),
    deriv2_mp=lambda x: mpf(0),
    value64=_hard_sigmoid64,
    deriv64=lambda x: np.where((x > -3.0) & (x < 3.0), 1.0 / 6.0, 0.0),
    value_limits=lambda: (0, 1),
    deriv_limits=lambda: (0, 0),
    kinks=lambda: (-3.0, 3.0),
)


def _hard_swish_mp(x):
    return x * min(max(x + 3, mpf(0)), mpf(6)) / 6


def _hard_swish_deriv_mp(x):
    if x <= -3:
        return mpf(0)
    if x >= 3:
        return mpf(1)
    return (2 * x + 3) / 6


def _hard_swish64(x):
    """x * clip(x + 3, 0, 6) / 6; derivative 0 (x <= -3), (2x + 3)/6, 1 (x >= 3)."""
    return x * (np.clip(x + 3.0, 0.0, 6.0) / 6.0)


def _hard_swish_deriv64(x):
    inner = (2.0 * x + 3.0) / 6.0
    return np.where(x <= -3.0, 0.0, np.where(x >= 3.0, 1.0, inner))


HARD_SWISH = _make(
    "hard_swish",
    value_mp=_hard_swish_mp,
    deriv_mp=_hard_swish_deriv_mp,
    deriv2_mp=lambda x: mpf(1) / 3 if -3 < x < 3 else mpf(0),
    value64=_hard_swish64,
    deriv64=_hard_swish_deriv64,
    value_limits=lambda: (0, _INF),
    deriv_limits=lambda: (0, 1),
    kinks=lambda: (-3.0, 3.0),
)

# ---- identity ------------------------------------------------------------

IDENTITY = _make(
    "identity",
    value_mp=lambda x: x,
    deriv_mp=lambda x: mpf(1),
    deriv2_mp=lambda x: mpf(0),
    value64=lambda x: x,
    deriv64=lambda x: np.ones_like(x),
    value_limits=lambda: (-_INF, _INF),
    deriv_limits=lambda: (1, 1),
)

# ---- squareplus ------------------------------------------------------------


def _squareplus_mp(x, b=4):
    b = _to_mpf(b)
    h = mpmath.sqrt(x * x + b)
    return (x + h) / 2 if x >= 0 else b / (2 * (h - x))


def _squareplus_deriv_mp(x, b=4):
    b = _to_mpf(b)
    h = mpmath.sqrt(x * x + b)
    return (1 + x / h) / 2 if x >= 0 else b / (2 * h * (h - x))


def _squareplus_deriv2_mp(x, b=4):
    b = _to_mpf(b)
    return b / (2 * mpmath.sqrt(x * x + b) ** 3)


def _squareplus64(x, b=4):
    """h = hypot(x, sqrt b); x >= 0: x/2 + h/2; x < 0: (b/4) / (h/2 + |x|/2).

    The negative branch is (x + h)/2 rationalised (no cancellation); halving
    before adding keeps x ~ 1e308 from overflowing.
    """
    b = float(b)
    h = np.hypot(x, np.sqrt(b))
    return np.where(x >= 0, 0.5 * x + 0.5 * h, (0.25 * b) / (0.5 * h - 0.5 * x))


def _squareplus_deriv64(x, b=4):
    """x >= 0: (1 + x/h)/2; x < 0: ((b/2)/h) / (h - x) (rationalised, no cancellation)."""
    b = float(b)
    h = np.hypot(x, np.sqrt(b))
    return np.where(x >= 0, 0.5 + 0.5 * (x / h), ((0.5 * b) / h) / (h - x))


SQUAREPLUS = _make(
    "squareplus",
    value_mp=_squareplus_mp,
    deriv_mp=_squareplus_deriv_mp,
    deriv2_mp=_squareplus_deriv2_mp,
    value64=_squareplus64,
    deriv64=_squareplus_deriv64,
    value_limits=lambda b=4: (0, _INF),
    deriv_limits=lambda b=4: (0, 1),
    kinks=lambda b=4: (0.0,) if float(b) == 0 else (),
)

# ---- sparse_plus / sparse_sigmoid -------------------------------------------


def _sparse_plus_mp(x):
    if x <= -1:
        return mpf(0)
    if x >= 1:
        return x
    return (x + 1) ** 2 / 4


def _sparse_plus_deriv_mp(x):
    if x <= -1:
        return mpf(0)
    if x >= 1:
        return mpf(1)
    return (x + 1) / 2


def _sparse_plus64(x):
    """0 (x <= -1), (x+1)^2/4 (x+1 exact near -1), x (x >= 1); derivative 0, (x+1)/2, 1."""
    inner = (x + 1.0) * (x + 1.0) / 4.0
    return np.where(x <= -1.0, 0.0, np.where(x >= 1.0, x, inner))


def _sparse_plus_deriv64(x):
    return np.where(x <= -1.0, 0.0, np.where(x >= 1.0, 1.0, (x + 1.0) / 2.0))


SPARSE_PLUS = _make(
    "sparse_plus",
    value_mp=_sparse_plus_mp,
    deriv_mp=_sparse_plus_deriv_mp,
    deriv2_mp=lambda x: mpf(1) / 2 if -1 < x < 1 else mpf(0),
    value64=_sparse_plus64,
    deriv64=_sparse_plus_deriv64,
    value_limits=lambda: (0, _INF),
    deriv_limits=lambda: (0, 1),
    kinks=lambda: (-1.0, 1.0),  # C1 but f'' jumps (0 -> 1/2 -> 0)
)


def _sparse_sigmoid_deriv_mp(x):
    if x == -1 or x == 1:
        return mpf(1) / 4
    return mpf(1) / 2 if -1 < x < 1 else mpf(0)


def _sparse_sigmoid64(x):
    """0.5 * clip(x + 1, 0, 2); derivative 1/2 inside, 0 outside, 1/4 at +-1."""
    return 0.5 * np.clip(x + 1.0, 0.0, 2.0)


def _sparse_sigmoid_deriv64(x):
    inside = np.where(np.abs(x) < 1.0, 0.5, 0.0)
    return np.where(np.abs(x) == 1.0, 0.25, inside)


SPARSE_SIGMOID = _make(
    "sparse_sigmoid",
    value_mp=lambda x: min(max(x + 1, mpf(0)), mpf(2)) / 2,
    deriv_mp=_sparse_sigmoid_deriv_mp,
    deriv2_mp=lambda x: mpf(0),
    value64=_sparse_sigmoid64,
    deriv64=_sparse_sigmoid_deriv64,
    value_limits=lambda: (0, 1),
    deriv_limits=lambda: (0, 0),
    kinks=lambda: (-1.0, 1.0),
)

ELEMENTWISE: dict[str, Reference] = {
    r.name: r
    for r in (
        SIGMOID, TANH, RELU, RELU6, LEAKY_RELU, ELU, SELU, CELU, GELU, SILU,
        SWISH, MISH, SOFTPLUS, LOG_SIGMOID, SOFT_SIGN, HARD_TANH, HARD_SIGMOID,
        HARD_SWISH, IDENTITY, SQUAREPLUS, SPARSE_PLUS, SPARSE_SIGMOID,
    )
}

# --------------------------------------------------------------------------
# Zero crossings of first derivatives (where float64 derivatives cancel)
# --------------------------------------------------------------------------

_DERIV_ZERO_GUESS = {"silu": -1.2785, "swish": -1.2785, "gelu": -0.7518, "mish": -1.1924}


@functools.lru_cache(maxsize=None)
def _zero_crossings(name, params):
    guess = _DERIV_ZERO_GUESS.get(name)
    if guess is None:
        return ()
    kw = dict(params)
    if name == "swish":
        beta = float(kw.get("beta", 1.0))
        if beta == 0:
            return ()
        guess /= beta
    deriv = ELEMENTWISE[name].deriv_mp
    with mp.workdps(DPS):
        return (float(mpmath.findroot(lambda t: deriv(t, **kw), mpf(guess))),)


def deriv_zero_crossings(name, **params):
    """Zeros of the first derivative of the smooth non-monotone activations.

    silu/swish (-1.2785/beta), gelu (-0.7518, both variants), mish (-1.1924).
    Near these points the float64 derivative references use a cancelling form
    and are accurate to ~1e-16 absolute rather than relative.  Empty for
    every other function (hard_swish's zero at -1.5 is computed exactly).
    """
    return _zero_crossings(name, tuple(sorted(params.items())))


# ==========================================================================
# Row-wise references
# ==========================================================================


def _row_mask(row, where):
    return [True] * len(row) if where is None else [bool(w) for w in where]


def _softmax_logits_mp(row, where):
    """Shared logic: returns ('posinf', k, flags) | ('empty',) | ('finite', m, log_sum)."""
    xs = [_to_mpf(v) for v in row]
    mask = _row_mask(row, where)
    live = [x for x, w in zip(xs, mask) if w and not mpmath.isnan(x)]
    k = sum(1 for x in live if x == mpmath.inf)
    if k:
        return xs, mask, ("posinf", k)
    live = [x for x in live if x != -mpmath.inf]
    if not live:
        return xs, mask, ("empty",)
    m = max(live)
    live.remove(m)  # its term is exactly 1: normaliser = 1 + rest, log via log1p
    return xs, mask, ("finite", m, mpmath.log1p(mpmath.fsum(mpmath.exp(x - m) for x in live)))


def log_softmax_mp(row, where=None):
    """log softmax over unmasked entries; masked / -inf / empty rows -> -inf."""
    with _workdps():
        xs, mask, info = _softmax_logits_mp(row, where)
        ninf = -mpmath.inf
        if info[0] == "posinf":
            lk = -mpmath.log(info[1])
            return [lk if (w and x == mpmath.inf) else ninf for x, w in zip(xs, mask)]
        if info[0] == "empty":
            return [ninf] * len(xs)
        _, m, log_sum = info
        return [x - m - log_sum if (w and x != ninf) else ninf for x, w in zip(xs, mask)]


def softmax_mp(row, where=None):
    """exp(x_i - m) / sum_j exp(x_j - m) over unmasked entries; masked -> 0."""
    with _workdps():
        xs, mask, info = _softmax_logits_mp(row, where)
        if info[0] == "posinf":
            p = mpf(1) / info[1]
            return [p if (w and x == mpmath.inf) else mpf(0) for x, w in zip(xs, mask)]
        return [mpf(0) if v == -mpmath.inf else mpmath.exp(v) for v in log_softmax_mp(row, where)]


def softmin_mp(row, where=None):
    """softmax(-x)."""
    return softmax_mp([-_to_mpf(v) for v in row], where)


def glu_mp(row):
    """a * sigmoid(b) with a, b the first and second halves of the row."""
    if len(row) % 2:
        raise ValueError("glu needs an even number of entries")
    with _workdps():
        xs = [_to_mpf(v) for v in row]
        h = len(xs) // 2
        return [a * _sigmoid_mp(b) for a, b in zip(xs[:h], xs[h:])]


def _softmax_parts64(x, axis, where):
    """Common work for softmax64/log_softmax64.

    Returns (xm, dh, dl, e, rest, k, empty, nanrow): xm is x with masked
    entries set to -inf; for rows with a finite maximum m, dh + dl == x - m
    exactly and e_i = exp(dh)(1 + dl); rest sums e over all entries but one
    maximal one (whose e is exactly 1), so the normaliser is 1 + rest and its
    log is log1p(rest); k counts +inf entries; empty marks rows with no finite
    or +inf unmasked entry; nanrow marks rows with an unmasked NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    mask = np.ones(x.shape, bool) if where is None else np.broadcast_to(np.asarray(where, bool), x.shape)
    xm = np.where(mask, x, -np.inf)
    nanrow = np.any(np.isnan(xm), axis=axis, keepdims=True)
    xm = np.where(np.isnan(xm), -np.inf, xm)
    m = np.max(xm, axis=axis, keepdims=True)
    k = np.sum(xm == np.inf, axis=axis, keepdims=True)
    empty = m == -np.inf
    live = np.isfinite(xm) & np.isfinite(m)
    ms = np.where(np.isfinite(m), m, 0.0)
    dh, dl = _two_sum(np.where(live, xm, ms), -ms)
    dl = np.where(np.isfinite(dl), dl, 0.0)
    e = np.where(live & (dh > -800.0), np.exp(dh) * (1.0 + dl), 0.0)
    top = np.zeros(x.shape, bool)
    np.put_along_axis(top, np.argmax(xm, axis=axis, keepdims=True), True, axis=axis)
    rest = np.sum(np.where(top, 0.0, e), axis=axis, keepdims=True)
    e = np.where(top & live, 1.0, e)
    return xm, dh, dl, e, rest, k, empty, nanrow


def softmax64(x, axis=-1, where=None):
    """Stable float64 softmax: exact x - max, normaliser 1 + (sum of the others)."""
    with np.errstate(all="ignore"):
        xm, _, _, e, rest, k, empty, nanrow = _softmax_parts64(x, axis, where)
        out = e / (1.0 + rest)
        out = np.where(k > 0, (xm == np.inf) / np.maximum(k, 1), out)
        out = np.where(empty, 0.0, out)
        return np.where(nanrow, np.nan, out)


def log_softmax64(x, axis=-1, where=None):
    """Stable float64 log_softmax: (x - m) - log1p(rest), x - m exact; masked -> -inf."""
    with np.errstate(all="ignore"):
        xm, dh, dl, e, rest, k, empty, nanrow = _softmax_parts64(x, axis, where)
        live = np.isfinite(xm) & ~empty
        out = np.where(live, (dh - np.log1p(rest)) + dl, -np.inf)
        posinf = np.where(xm == np.inf, -np.log(np.maximum(k, 1)), -np.inf)
        out = np.where(k > 0, posinf, out)
        return np.where(nanrow, np.nan, out)


def softmin64(x, axis=-1, where=None):
    """softmax64(-x)."""
    return softmax64(-np.asarray(x, dtype=np.float64), axis=axis, where=where)


def glu64(x, axis=-1):
    """a * sigmoid(b) with a, b = the two halves of x along axis (tail-scaled sigmoid)."""
    a, b = np.split(np.asarray(x, dtype=np.float64), 2, axis=axis)
    with np.errstate(all="ignore"):
        s, _, f = _sigmoid_pair64(b)
        return (a * s) * f
