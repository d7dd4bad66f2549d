"""Elementwise activations: jitted, closed-form custom_jvp rules, one registry entry each.

Every function here

* takes jax.nn's name, argument names and defaults (differences are noted),
* computes bfloat16/float16 inputs in float32 and rounds once,
* promotes integer and bool inputs to float as jax's promote_args_inexact does
  (int32 -> float32, int64 -> the default float); jax.nn keeps ints for relu,
  hard_tanh and identity and refuses them for sigmoid and silu, jaxact always
  returns floats,
* has a derivative rule that stays accurate in the tails (no spurious 0, no
  NaN) and near the zero crossings of the derivative, and that is itself
  differentiable,
* returns the limit for +-inf inputs (with a finite gradient) and NaN for NaN.

Numbers quoted as "ULP" are measured against mpmath by the test suite.
"""
from __future__ import annotations

import math
from functools import partial

import jax.numpy as jnp

from jaxact import _numerics as num
from jaxact._coefficients import CONSTANTS, GELU_EXACT_SERIES
from jaxact._erfc import erfc
from jaxact._registry import (
    ActivationSpec,
    Interval,
    OutputRange,
    Param,
    check_bool,
    check_real,
    register,
)
from jaxact._rules import ElementwiseRule

INF = math.inf


def _validate(function: str, params: tuple[Param, ...], values: dict) -> None:
    for p in params:
        check_real(function, p, values[p.name])


def _zeros(x):
    return jnp.zeros_like(x)


def _ones(x):
    return jnp.ones_like(x)


def _register_elementwise(name, rule, params=(), **metadata):
    """Register an elementwise activation; its spec.derivative validates like the function."""

    def derivative(x, **values):
        unknown = set(values) - {p.name for p in params}
        if unknown:
            raise TypeError(f"derivative of {name}: unexpected argument(s) {sorted(unknown)}")
        merged = {p.name: values.get(p.name, p.default) for p in params}
        _validate(name, params, merged)
        return rule.derivative(x, *merged.values())

    derivative.__name__ = f"{name}_derivative"
    derivative.__doc__ = f"d/dx {name}(x) from the closed form (same dtype policy as {name})."
    return register(
        ActivationSpec(
            name=name,
            kind="elementwise",
            params=tuple(params),
            derivative=derivative,
            partials={p.name: partial for p, partial in zip(params, rule.partials)},
            **metadata,
        )
    )


class _ByWidth:
    """A rule for float32/float64 inputs and a cheaper one for bfloat16/float16 inputs.

    Both compute in float32 or wider; the 16-bit result is rounded once to 8 or 11
    bits, so float32 forms a few float32 ULP off (no correction terms, no double
    words) meet the 16-bit contract (1 ULP forward, 4 ULP derivative).
    """

    def __init__(self, wide: ElementwiseRule, narrow: ElementwiseRule):
        self.wide, self.narrow = wide, narrow
        self.partials = wide.partials

    def _pick(self, x):
        x = num.promote_input(x)
        return (self.narrow if x.dtype in (jnp.bfloat16, jnp.float16) else self.wide), x

    def apply(self, x, *params):
        rule, x = self._pick(x)
        return rule.apply(x, *params)

    def derivative(self, x, *params):
        rule, x = self._pick(x)
        return rule.derivative(x, *params)


# ============================================================================
# identity
# ============================================================================
# identity'(x) = 1 for every x, NaN included: the tangent passes through untouched, which
# XLA compiles to nothing (a NaN check here made the backward pass read x again).
_IDENTITY = ElementwiseRule(lambda x: x, _ones)


def identity(x):
    r"""Identity (linear) activation: the output layer of a regression model.

    .. math:: f(x) = x, \qquad f'(x) = 1

    Range (-inf, inf). Integer inputs are promoted to float (jax.nn returns them as they are).
    """
    return _IDENTITY.apply(x)


linear = identity

_register_elementwise(
    "identity",
    _IDENTITY,
    function=identity,
    aliases=("linear",),
    output_range=OutputRange(-INF, INF, False, False),
    zero_centred=True,
    saturates=(),
    dead_regions=(),
    best_use="output layer for regression (unbounded targets)",
    formula=r"x",
    derivative_formula=r"1",
    jax_nn="identity",
)


# ============================================================================
# piecewise linear: relu, relu6, leaky_relu, hard_tanh, hard_sigmoid, hard_swish,
# sparse_plus, sparse_sigmoid
# ============================================================================
def _step(cond, x, inside=1.0):
    return num.nan_like(x, jnp.where(cond, jnp.asarray(inside, x.dtype), _zeros(x)))


# relu and relu6 read their derivative off the output (y > 0 exactly when x > 0), so
# their backward keeps only y, which the next layer keeps anyway (see _rules.py).
_RELU = ElementwiseRule(
    lambda x: jnp.maximum(x, 0),
    lambda x: _step(x > 0, x),
    prime_from_output=lambda y: _step(y > 0, y),
)


def relu(x):
    r"""Rectified linear unit.

    .. math:: f(x) = \max(x, 0), \qquad f'(x) = [x > 0]

    Range [0, inf). Convention: relu'(0) = 0 (as jax.nn). Units whose input stays
    negative get a zero gradient and stop learning ("dying ReLU"); see
    :mod:`jaxact.diagnostics`.
    """
    return _RELU.apply(x)


_register_elementwise(
    "relu",
    _RELU,
    function=relu,
    aliases=(),
    output_range=OutputRange(0.0, INF, True, False),
    zero_centred=False,
    saturates=("left",),
    dead_regions=((-INF, 0.0),),
    best_use="default hidden activation for deep feed-forward and convolutional networks",
    formula=r"\max(x, 0)",
    derivative_formula=r"\begin{cases}1 & x > 0\\ 0 & x \le 0\end{cases}",
    jax_nn="relu",
    kinks=(0.0,),
)

_RELU6 = ElementwiseRule(
    lambda x: jnp.clip(x, 0, 6),
    lambda x: _step((x > 0) & (x < 6), x),
    prime_from_output=lambda y: _step((y > 0) & (y < 6), y),
)


def relu6(x):
    r"""ReLU capped at 6 (MobileNet).

    .. math:: f(x) = \min(\max(x, 0), 6), \qquad f'(x) = [0 < x < 6]

    Range [0, 6]. Convention: relu6'(0) = relu6'(6) = 0 (as jax.nn).
    """
    return _RELU6.apply(x)


_register_elementwise(
    "relu6",
    _RELU6,
    function=relu6,
    aliases=(),
    output_range=OutputRange(0.0, 6.0, True, True),
    zero_centred=False,
    saturates=("left", "right"),
    dead_regions=((-INF, 0.0), (6.0, INF)),
    best_use="mobile / quantised networks that want a bounded ReLU",
    formula=r"\min(\max(x, 0), 6)",
    derivative_formula=r"[0 < x < 6]",
    jax_nn="relu6",
    kinks=(0.0, 6.0),
)

_SLOPE = Param("negative_slope", 0.01, valid=Interval(), doc="slope for x < 0")
_LEAKY_RELU = ElementwiseRule(
    lambda x, slope: jnp.where(x >= 0, x, slope * x),
    lambda x, slope: num.nan_like(x, jnp.where(x >= 0, _ones(x), slope)),
    partials=(lambda x, slope: jnp.where(x >= 0, _zeros(x), x),),
)


def leaky_relu(x, negative_slope=0.01):
    r"""Leaky ReLU: a small slope for negative inputs so units never die.

    .. math:: f(x) = \begin{cases}x & x \ge 0\\ \alpha x & x < 0\end{cases}, \qquad
              f'(x) = \begin{cases}1 & x \ge 0\\ \alpha & x < 0\end{cases}

    Args:
      x: input array.
      negative_slope: alpha, any finite real (a scalar or an array broadcastable to x,
        e.g. per-channel learnable slopes: the rule also gives d f / d alpha = min(x, 0)).

    Range (-inf, inf) for alpha > 0. Convention: f'(0) = 1 (as jax.nn).
    """
    _validate("leaky_relu", (_SLOPE,), {"negative_slope": negative_slope})
    return _LEAKY_RELU.apply(x, negative_slope)


_register_elementwise(
    "leaky_relu",
    _LEAKY_RELU,
    params=(_SLOPE,),
    function=leaky_relu,
    aliases=("lrelu",),
    output_range=OutputRange(-INF, INF, False, False),
    zero_centred=False,
    saturates=(),
    dead_regions=(),
    best_use="hidden layers where ReLU units die (high learning rates, bad initialisation)",
    formula=r"\begin{cases}x & x \ge 0\\ \alpha x & x < 0\end{cases}",
    derivative_formula=r"\begin{cases}1 & x \ge 0\\ \alpha & x < 0\end{cases}",
    jax_nn="leaky_relu",
    test_params=({"negative_slope": 0.2},),
    kinks=(0.0,),
)

_HARD_TANH = ElementwiseRule(lambda x: jnp.clip(x, -1, 1), lambda x: _step(jnp.abs(x) <= 1, x))


def hard_tanh(x):
    r"""Hard tanh: tanh's piecewise-linear stand-in.

    .. math:: f(x) = \mathrm{clip}(x, -1, 1), \qquad f'(x) = [|x| \le 1]

    Range [-1, 1]. Convention: f'(-1) = f'(1) = 1 (as jax.nn).
    """
    return _HARD_TANH.apply(x)


_register_elementwise(
    "hard_tanh",
    _HARD_TANH,
    function=hard_tanh,
    aliases=("hardtanh",),
    output_range=OutputRange(-1.0, 1.0, True, True),
    zero_centred=True,
    saturates=("left", "right"),
    dead_regions=((-INF, -1.0), (1.0, INF)),
    best_use="cheap bounded activation (embedded, quantised models)",
    formula=r"\mathrm{clip}(x, -1, 1)",
    derivative_formula=r"[|x| \le 1]",
    jax_nn="hard_tanh",
    kinks=(-1.0, 1.0),
)


def _hard_sigmoid_value(x):
    return jnp.clip(x + 3, 0, 6) / 6


_HARD_SIGMOID = ElementwiseRule(
    _hard_sigmoid_value, lambda x: _step((x > -3) & (x < 3), x, 1.0 / 6.0)
)


def hard_sigmoid(x):
    r"""Hard sigmoid (as in jax.nn and MobileNetV3): relu6(x + 3) / 6.

    .. math:: f(x) = \frac{\mathrm{relu6}(x + 3)}{6}, \qquad f'(x) = \tfrac16 [-3 < x < 3]

    Range [0, 1]. Convention: f'(-3) = f'(3) = 0 (as jax.nn). (torch's hardsigmoid
    is the same function; Keras' older hard_sigmoid used 0.2 x + 0.5.)
    """
    return _HARD_SIGMOID.apply(x)


_register_elementwise(
    "hard_sigmoid",
    _HARD_SIGMOID,
    function=hard_sigmoid,
    aliases=("hardsigmoid",),
    output_range=OutputRange(0.0, 1.0, True, True),
    zero_centred=False,
    saturates=("left", "right"),
    dead_regions=((-INF, -3.0), (3.0, INF)),
    best_use="cheap gate (mobile networks, squeeze-and-excitation)",
    formula=r"\frac{\mathrm{relu6}(x + 3)}{6}",
    derivative_formula=r"\tfrac16\,[-3 < x < 3]",
    jax_nn="hard_sigmoid",
    kinks=(-3.0, 3.0),
)


def _hard_swish_value(x):
    # 0 <= x < 3: x/2 + x^2/6 (x/2 exact; x (x + 3) / 6 rounded three times, 2.3 ULP in float64)
    product = x * (jnp.clip(x + 3, 0, 6) / 6)
    right = jnp.where(x >= 3, x, x / 2 + (x * x) / 6)
    return jnp.where(x <= -3, _zeros(x), jnp.where(x >= 0, right, product))


def _hard_swish_prime(x):
    inner = (2 * x + 3) / 6
    return num.nan_like(x, jnp.where(x <= -3, _zeros(x), jnp.where(x >= 3, _ones(x), inner)))


_HARD_SWISH = ElementwiseRule(_hard_swish_value, _hard_swish_prime)


def hard_swish(x):
    r"""Hard swish / hard SiLU (MobileNetV3): x * hard_sigmoid(x).

    .. math:: f(x) = x\,\frac{\mathrm{relu6}(x+3)}{6}, \qquad
              f'(x) = \begin{cases}0 & x \le -3\\ \frac{2x+3}{6} & -3 < x < 3\\ 1 & x \ge 3\end{cases}

    Range [-0.375, inf). Convention: f'(-3) = 0, f'(3) = 1 (as jax.nn). f(-inf) = 0.
    """
    return _HARD_SWISH.apply(x)


hard_silu = hard_swish

_register_elementwise(
    "hard_swish",
    _HARD_SWISH,
    function=hard_swish,
    aliases=("hard_silu", "hardswish"),
    output_range=OutputRange(-0.375, INF, True, False),
    zero_centred=False,
    saturates=("left",),
    dead_regions=((-INF, -3.0),),
    best_use="cheap swish for mobile networks",
    formula=r"x\,\frac{\mathrm{relu6}(x+3)}{6}",
    derivative_formula=r"\begin{cases}0 & x \le -3\\ \frac{2x+3}{6} & |x| < 3\\ 1 & x \ge 3\end{cases}",
    jax_nn="hard_swish",
    kinks=(-3.0, 3.0),
)


def _sparse_plus_value(x):
    quadratic = (x + 1) * (x + 1) / 4
    return jnp.where(x <= -1, _zeros(x), jnp.where(x >= 1, x, quadratic))


def _sparse_plus_prime(x):
    return num.nan_like(x, jnp.where(x <= -1, _zeros(x), jnp.where(x >= 1, _ones(x), (x + 1) / 2)))


_SPARSE_PLUS = ElementwiseRule(_sparse_plus_value, _sparse_plus_prime)


def sparse_plus(x):
    r"""Sparse plus: a softplus that is exactly 0 for x <= -1 and exactly x for x >= 1.

    .. math:: f(x) = \begin{cases}0 & x \le -1\\ \frac{(x+1)^2}{4} & -1 < x < 1\\ x & x \ge 1\end{cases},
              \qquad f'(x) = \mathrm{sparse\_sigmoid}(x)

    Range [0, inf). Convention: f'(-1) = 0, f'(1) = 1 (as jax.nn).
    """
    return _SPARSE_PLUS.apply(x)


_register_elementwise(
    "sparse_plus",
    _SPARSE_PLUS,
    function=sparse_plus,
    aliases=(),
    output_range=OutputRange(0.0, INF, True, False),
    zero_centred=False,
    saturates=("left",),
    dead_regions=((-INF, -1.0),),
    best_use="sparse outputs with a smooth transition (sparsemax-style models)",
    formula=r"\begin{cases}0 & x \le -1\\ \frac{(x+1)^2}{4} & |x| < 1\\ x & x \ge 1\end{cases}",
    derivative_formula=r"\begin{cases}0 & x \le -1\\ \frac{x+1}{2} & |x| < 1\\ 1 & x \ge 1\end{cases}",
    jax_nn="sparse_plus",
    kinks=(-1.0, 1.0),
)


def _sparse_sigmoid_prime(x):
    ax = jnp.abs(x)
    half = jnp.where(ax < 1, jnp.full_like(x, 0.5), _zeros(x))
    return num.nan_like(x, jnp.where(ax == 1, jnp.full_like(x, 0.25), half))


_SPARSE_SIGMOID = ElementwiseRule(lambda x: 0.5 * jnp.clip(x + 1, 0, 2), _sparse_sigmoid_prime)


def sparse_sigmoid(x):
    r"""Sparse sigmoid: the derivative of sparse_plus, exactly 0 or 1 outside (-1, 1).

    .. math:: f(x) = \tfrac12\,\mathrm{clip}(x + 1, 0, 2), \qquad f'(x) = \tfrac12 [|x| < 1]

    Range [0, 1]. Convention: f'(-1) = f'(1) = 0.25, the mean of the one-sided
    derivatives (as jax.nn, whose clip splits ties).
    """
    return _SPARSE_SIGMOID.apply(x)


_register_elementwise(
    "sparse_sigmoid",
    _SPARSE_SIGMOID,
    function=sparse_sigmoid,
    aliases=(),
    output_range=OutputRange(0.0, 1.0, True, True),
    zero_centred=False,
    saturates=("left", "right"),
    dead_regions=((-INF, -1.0), (1.0, INF)),
    best_use="sparse gates and probabilities that can be exactly 0 or 1",
    formula=r"\tfrac12\,\mathrm{clip}(x + 1, 0, 2)",
    derivative_formula=r"\tfrac12\,[|x| < 1]",
    jax_nn="sparse_sigmoid",
    kinks=(-1.0, 1.0),
)


# ============================================================================
# sigmoid, tanh, softplus, log_sigmoid, soft_sign, squareplus
# ============================================================================
_SIGMOID = ElementwiseRule(lambda x: num.sigmoid_pair(x)[0], num.sigmoid_product)
_SIGMOID_BY_WIDTH = _ByWidth(
    _SIGMOID, ElementwiseRule(lambda x: num.logistic_narrow(x)[0], lambda x: num.logistic_narrow(x)[1])
)


def sigmoid(x):
    r"""Logistic sigmoid.

    .. math:: \sigma(x) = \frac{1}{1 + e^{-x}}, \qquad \sigma'(x) = \sigma(x)\,\sigma(-x)

    Range (0, 1). Numerics: both sigma(x) and sigma'(x) come from e = exp(-|x|)
    (1/(1+e) or e/(1+e), and e/(1+e)^2), never from 1 - sigma(x), which cancels:
    jax.nn's gradient is exactly 0 for x > 16.6 in float32 where the true value
    (9.4e-14 at x = 30) is a normal number. e/(1+e) is one rounded quotient with the
    rounding of 1 + e corrected (1.8 ULP on XLA's exp). bfloat16/float16 inputs take the plain
    float32 forms 1/(1+e) or e/(1+e) and e/(1+e)^2, e = e^{-|x|} from a short-chain exp
    good to 2^-17 (``_numerics.exp_narrow``); rounded once to 16 bits, they meet the
    same contract.
    """
    return _SIGMOID_BY_WIDTH.apply(x)


_register_elementwise(
    "sigmoid",
    _SIGMOID_BY_WIDTH,
    function=sigmoid,
    aliases=("logistic",),
    output_range=OutputRange(0.0, 1.0, False, False),
    zero_centred=False,
    saturates=("left", "right"),
    dead_regions=(),
    best_use="output layer for binary and multi-label classification (prefer logits + BCE-with-logits)",
    formula=r"\frac{1}{1 + e^{-x}}",
    derivative_formula=r"\sigma(x)\,(1 - \sigma(x)) = \sigma(x)\,\sigma(-x)",
    jax_nn="sigmoid",
)

_TANH = _ByWidth(
    ElementwiseRule(num.tanh, lambda x: 4 * num.sigmoid_product(2 * x)),
    ElementwiseRule(num.tanh_narrow, lambda x: 4 * num.logistic_narrow(2 * x)[1]),
)


def tanh(x):
    r"""Hyperbolic tangent.

    .. math:: \tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}, \qquad
              \tanh'(x) = 1 - \tanh^2(x) = \frac{4e}{(1 + e)^2},\ e = e^{-2|x|}

    Range (-1, 1). Numerics: the derivative is computed from e = exp(-2|x|), not as
    1 - tanh^2 (which is exactly 0 for |x| >= 9 in float32); the forward value uses
    a short series for |x| < 0.55 and 1 - 2e/(1+e) beyond (XLA's own tanh is off
    by up to 3.7 ULP in float32 and 6 in float64); float32 inputs take an exp-free
    form instead (x + x^3 P(x^2) below 0.8, 1 - 2/(1 + 2^n e^r) above, about 1.1 ULP). bfloat16/float16 inputs take a
    float32 minimax rational x P(x^2)/Q(x^2) on |x| <= 9.0139 (no exp; about 7 float32
    ULP, far below the 16-bit rounding) and the derivative's plain 4e/(1+e)^2.
    """
    return _TANH.apply(x)


_register_elementwise(
    "tanh",
    _TANH,
    function=tanh,
    aliases=(),
    output_range=OutputRange(-1.0, 1.0, False, False),
    zero_centred=True,
    saturates=("left", "right"),
    dead_regions=(),
    best_use="recurrent networks and hidden layers that want zero-centred bounded outputs",
    formula=r"\frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
    derivative_formula=r"1 - \tanh^2(x)",
    jax_nn="tanh",
)


def _softplus_value(x):
    return jnp.maximum(x, 0) + num.log1p_unit(*num.exp_dw(num.neg_abs(x)))


_SOFTPLUS = ElementwiseRule(_softplus_value, lambda x: _SIGMOID.core(x))


def softplus(x):
    r"""Softplus, a smooth ReLU.

    .. math:: f(x) = \log(1 + e^{x}) = \max(x, 0) + \log(1 + e^{-|x|}), \qquad f'(x) = \sigma(x)

    Range (0, inf). Numerics: log1p of e^{-|x|} <= 1 by an atanh series, so
    softplus(-100) = 3.7e-44 is not rounded to 0 in float64 and large x gives x;
    e^{-|x|} is a double word (``_numerics.exp_dw``: XLA's exp alone cost 2.5 ULP).
    """
    return _SOFTPLUS.apply(x)


_register_elementwise(
    "softplus",
    _SOFTPLUS,
    function=softplus,
    aliases=(),
    output_range=OutputRange(0.0, INF, False, False),
    zero_centred=False,
    saturates=("left",),
    dead_regions=(),
    best_use="positive outputs (variances, rates) and smooth ReLU substitutes",
    formula=r"\log(1 + e^{x})",
    derivative_formula=r"\sigma(x)",
    jax_nn="softplus",
)

_LOG_SIGMOID = ElementwiseRule(lambda x: -_softplus_value(-x), lambda x: _SIGMOID.core(-x))


def log_sigmoid(x):
    r"""Log of the sigmoid, computed without forming sigma(x).

    .. math:: f(x) = \log\sigma(x) = -\mathrm{softplus}(-x), \qquad f'(x) = \sigma(-x)

    Range (-inf, 0).
    """
    return _LOG_SIGMOID.apply(x)


_register_elementwise(
    "log_sigmoid",
    _LOG_SIGMOID,
    function=log_sigmoid,
    aliases=("logsigmoid",),
    output_range=OutputRange(-INF, 0.0, False, False),
    zero_centred=False,
    saturates=("right",),
    dead_regions=(),
    best_use="log-probabilities of binary events (stable BCE from logits)",
    formula=r"-\log(1 + e^{-x})",
    derivative_formula=r"\sigma(-x)",
    jax_nn="log_sigmoid",
)


def _soft_sign_value(x):
    # |x| clamped to 2**100, where x / (1 + |x|) is exactly +-1: inf gives the limit, not inf/inf
    xc = num.clamp(x, -(2.0**100), 2.0**100)
    return xc / (1 + jnp.abs(xc))


def _soft_sign_prime(x):
    r = 1 / (1 + jnp.abs(x))
    return r * r


_SOFT_SIGN = ElementwiseRule(_soft_sign_value, _soft_sign_prime)


def soft_sign(x):
    r"""Soft sign: a tanh-like curve with polynomial tails.

    .. math:: f(x) = \frac{x}{1 + |x|}, \qquad f'(x) = \frac{1}{(1 + |x|)^2}

    Range (-1, 1). Numerics: the derivative is formed as (1/(1+|x|))^2, not by
    autodiff of the quotient (which subtracts nearly equal numbers for large |x|).
    """
    return _SOFT_SIGN.apply(x)


_register_elementwise(
    "soft_sign",
    _SOFT_SIGN,
    function=soft_sign,
    aliases=("softsign",),
    output_range=OutputRange(-1.0, 1.0, False, False),
    zero_centred=True,
    saturates=("left", "right"),
    dead_regions=(),
    best_use="bounded zero-centred activation that saturates more slowly than tanh",
    formula=r"\frac{x}{1 + |x|}",
    derivative_formula=r"\frac{1}{(1 + |x|)^2}",
    jax_nn="soft_sign",
)

_B = Param("b", 4.0, valid=Interval(0.0, None, True), doc="curvature near 0 (b = 0 is relu)")


def _squareplus_root(x, b):
    """sqrt(x^2 + b) without overflow of x^2."""
    ax = jnp.abs(x)
    huge = ax > (1e150 if x.dtype == jnp.float64 else 1e18)
    small_x = jnp.where(huge, _zeros(x), x)
    big_x = jnp.where(huge, ax, _ones(x))
    return jnp.where(huge, big_x * jnp.sqrt(1 + (b / big_x) / big_x), jnp.sqrt(small_x * small_x + b))


# |x| above which x^2 might overflow: x and b are scaled by 2^-k, 2^-2k first (exact)
_SQUAREPLUS_SCALING = {"single": (1e15, 2.0**-66), "double": (1e140, 2.0**-540)}


def _squareplus_parts(x, b):
    """(s, x_s, b_s, r, r_lo): x and b scaled by s, s^2 (s = 1 unless |x| is huge) and
    r + r_lo = sqrt(x_s^2 + b_s), the sum error-free and r corrected by a Newton step."""
    limit, small = _SQUAREPLUS_SCALING["double" if num.is_double(x) else "single"]
    scale = jnp.where(jnp.abs(x) > limit, jnp.full_like(x, small), _ones(x))
    xs = num.safe_finite(x) * scale
    bs = b * (scale * scale)  # may flush to 0 where it is negligible anyway
    sq, sq_lo = num.two_sum(xs * xs, bs)
    r = num.single_use(jnp.sqrt(sq), x)
    p, p_err = num.two_prod(r, r)
    r_lo = ((sq - p) - p_err + sq_lo) * (0.5 / r)  # sqrt(s) = r + (s - r^2) / 2r
    return scale, xs, bs, sq, r, jnp.where(r > 0, r_lo, _zeros(r))


def _squareplus_value(x, b):
    """x >= 0: (x + r)/2.  x < 0: b / (2 D), D = r + |x| (no cancellation) with its
    rounding error D_lo (fast two-sum, r >= |x|) corrected: b/(2D) (1 - D_lo/D) =
    q - q^2 D_lo (2/b), q = b/(2D) rounded once (rounded r and D cost up to 2.2 ULP)."""
    scale, xs, bs, _, r, r_lo = _squareplus_parts(x, b)
    right = (x / 2 + (r / scale) / 2) + (r_lo / scale) / 2  # halves first: no overflow
    den, den_lo = num.fast_two_sum(r, -xs)  # r >= |x|
    den_lo = den_lo + r_lo
    numerator = b * scale  # f = b s / (2 (r_s + |x_s|)); b s^2 could underflow
    q = num.single_use(numerator / (2 * den), x)
    two_over_n = jnp.where(numerator == 0, _zeros(x), 2 / jnp.where(numerator == 0, _ones(x), numerator))
    left = q - q * q * den_lo * two_over_n
    return jnp.where(x >= 0, right, jnp.where(x == -INF, _zeros(x), left))


def _squareplus_prime(x, b):
    """x >= 0: (1 + x/r)/2.  x < 0: b / (2 E), E = x^2 + b + |x| r = r (r + |x|) (positives)."""
    scale, xs, _, sq, r, _ = _squareplus_parts(x, b)
    ratio = jnp.where(jnp.isinf(x), jnp.sign(x), xs / jnp.where(r > 0, r, _ones(r)))
    left = ((b * scale) / (2 * (sq - xs * r))) * scale  # b s^2 first could underflow
    return jnp.where(x >= 0, (1 + ratio) / 2, jnp.where(x == -INF, _zeros(x), left))


def _squareplus_narrow_value(x, b):
    r = _squareplus_root(x, b)
    return jnp.where(x >= 0, x / 2 + r / 2, b / (2 * (r - x)))  # halves first: no overflow


def _squareplus_narrow_prime(x, b):
    r = _squareplus_root(x, b)
    ratio = jnp.where(jnp.isinf(x), jnp.sign(x), x / jnp.where(r > 0, r, _ones(r)))
    return jnp.where(x >= 0, (1 + ratio) / 2, (b / (2 * r)) / (r - x))


_SQUAREPLUS_B_PARTIAL = (lambda x, b: 1 / (4 * _squareplus_root(x, b)),)
_SQUAREPLUS = _ByWidth(
    ElementwiseRule(_squareplus_value, _squareplus_prime, partials=_SQUAREPLUS_B_PARTIAL),
    ElementwiseRule(_squareplus_narrow_value, _squareplus_narrow_prime, partials=_SQUAREPLUS_B_PARTIAL),
)


def squareplus(x, b=4):
    r"""Squareplus: an algebraic softplus (no exp, no log).

    .. math:: f(x) = \frac{x + \sqrt{x^2 + b}}{2}, \qquad f'(x) = \frac12\Big(1 + \frac{x}{\sqrt{x^2 + b}}\Big)

    Args:
      x: input array.
      b: curvature, a finite b >= 0 (b = 0 gives relu, with f'(0) = 1/2).

    Range (0, inf) for b > 0. Numerics: for x < 0 both f and f' are written as
    b / (2 (r + |x|)) and b / (2 r (r + |x|)) with r = sqrt(x^2 + b), which do not
    cancel (jax.nn's value is 0 below about -2e3 in float32); x^2 never overflows.
    In float32/float64 the rounding of r + |x| is corrected (with it, f reached 2.2 ULP);
    bfloat16/float16 inputs take the plain float32 forms.
    """
    _validate("squareplus", (_B,), {"b": b})
    return _SQUAREPLUS.apply(x, b)


_register_elementwise(
    "squareplus",
    _SQUAREPLUS,
    params=(_B,),
    function=squareplus,
    aliases=(),
    output_range=OutputRange(0.0, INF, False, False),
    zero_centred=False,
    saturates=("left",),
    dead_regions=(),
    best_use="softplus substitute that avoids exp/log (fast, no overflow)",
    formula=r"\frac{x + \sqrt{x^2 + b}}{2}",
    derivative_formula=r"\frac12\Big(1 + \frac{x}{\sqrt{x^2 + b}}\Big)",
    jax_nn="squareplus",
    test_params=({"b": 0.25},),
)


# ============================================================================
# exponential linear units: elu, selu, celu
# ============================================================================
_ALPHA_ELU = Param("alpha", 1.0, valid=Interval(0.0, None, True), doc="negative saturation value")


def _elu_value(x, alpha, *, expm1):
    return jnp.where(x > 0, x, alpha * expm1(jnp.minimum(x, 0)))


def _elu_prime(x, alpha, *, exp):
    return num.nan_like(x, jnp.where(x > 0, _ones(x), alpha * exp(jnp.minimum(x, 0))))


def _elu_alpha_partial(x, alpha):
    return jnp.where(x > 0, _zeros(x), num.expm1(jnp.minimum(x, 0)))


def _exp_family(value, prime, alpha_partial) -> _ByWidth:
    """The wide and the 16-bit rule of an ELU-like function from one value(x, alpha,
    expm1=) and one prime(x, alpha, exp=): XLA's exp and jaxact's expm1, or the shorter
    float32 exp_narrow and expm1_narrow for results rounded to 16 bits."""
    return _ByWidth(
        *(
            ElementwiseRule(partial(value, expm1=expm1), partial(prime, exp=exp), partials=(alpha_partial,))
            for exp, expm1 in ((jnp.exp, num.expm1), (num.exp_narrow, num.expm1_narrow))
        )
    )


_ELU = _exp_family(_elu_value, _elu_prime, _elu_alpha_partial)


def elu(x, alpha=1.0):
    r"""Exponential linear unit.

    .. math:: f(x) = \begin{cases}x & x > 0\\ \alpha(e^{x} - 1) & x \le 0\end{cases}, \qquad
              f'(x) = \begin{cases}1 & x > 0\\ \alpha e^{x} & x \le 0\end{cases}

    Args:
      x: input array.
      alpha: negative saturation value, finite and >= 0 (jax.nn accepts any value;
        a negative alpha makes f non-monotone and is rejected here). A traced or
        learnable alpha gets the partial d f / d alpha = min(e^x - 1, 0).

    Range (-alpha, inf). Convention: f'(0) = alpha (as jax.nn). Numerics: f' is
    alpha * exp(x) on the negative side, not expm1(x) + alpha (which is exactly 0
    below about -17 in float32); expm1 is a series near 0 (XLA's is off by 4 ULP).
    bfloat16/float16 inputs take a shorter float32 exp and expm1
    (``_numerics.exp_narrow``, ``expm1_narrow``), within 2**-14 before the rounding
    to 16 bits.
    """
    _validate("elu", (_ALPHA_ELU,), {"alpha": alpha})
    return _ELU.apply(x, alpha)


_register_elementwise(
    "elu",
    _ELU,
    params=(_ALPHA_ELU,),
    function=elu,
    aliases=(),
    output_range=OutputRange(-1.0, INF, False, False),
    zero_centred=False,
    saturates=("left",),
    dead_regions=(),
    best_use="hidden layers: ReLU-like without dead units, mean activations closer to zero",
    formula=r"\begin{cases}x & x > 0\\ \alpha(e^{x} - 1) & x \le 0\end{cases}",
    derivative_formula=r"\begin{cases}1 & x > 0\\ \alpha e^{x} & x \le 0\end{cases}",
    jax_nn="elu",
    test_params=({"alpha": 0.5},),
    kinks=(0.0,),
)


_SELU_SCALE_DW = CONSTANTS["selu_scale"]
_SELU_SCALE_ALPHA_DW = CONSTANTS["selu_scale_alpha"]


def _selu_value(x):
    s_hi, s_lo = num.double_word(_SELU_SCALE_DW, x.dtype)
    sa_hi, sa_lo = num.double_word(_SELU_SCALE_ALPHA_DW, x.dtype)
    m = num.expm1(jnp.minimum(x, 0))
    return jnp.where(x > 0, s_hi * x + s_lo * num.safe_finite(x), sa_hi * m + sa_lo * m)


def _selu_prime(x):
    s_hi, _ = num.double_word(_SELU_SCALE_DW, x.dtype)
    sa_hi, sa_lo = num.double_word(_SELU_SCALE_ALPHA_DW, x.dtype)
    e = jnp.exp(jnp.minimum(x, 0))
    return num.nan_like(x, jnp.where(x > 0, jnp.broadcast_to(s_hi, x.shape), sa_hi * e + sa_lo * e))


def _selu_narrow_value(x):
    return jnp.where(x > 0, _SELU_SCALE_DW[0] * x, _SELU_SCALE_ALPHA_DW[0] * num.expm1_narrow(jnp.minimum(x, 0)))


def _selu_narrow_prime(x):
    e = num.exp_narrow(jnp.minimum(x, 0))
    return num.nan_like(x, jnp.where(x > 0, jnp.full_like(x, _SELU_SCALE_DW[0]), _SELU_SCALE_ALPHA_DW[0] * e))


_SELU = _ByWidth(
    ElementwiseRule(_selu_value, _selu_prime),
    ElementwiseRule(_selu_narrow_value, _selu_narrow_prime),
)


def selu(x):
    r"""Scaled ELU (self-normalising networks).

    .. math:: f(x) = \lambda\begin{cases}x & x > 0\\ \alpha(e^{x} - 1) & x \le 0\end{cases},\qquad
              f'(x) = \lambda\begin{cases}1 & x > 0\\ \alpha e^{x} & x \le 0\end{cases}

    with alpha = 1.6732632423543772, lambda = 1.0507009873554805 (as jax.nn).
    Range (-lambda alpha, inf) = (-1.7581, inf). Convention: f'(0) = lambda alpha.
    Numerics: lambda alpha is applied as a double-word constant (one rounding, not two);
    bfloat16/float16 inputs take the float32 constants and the shorter exp and expm1
    of ``_numerics`` (``exp_narrow``, ``expm1_narrow``).
    """
    return _SELU.apply(x)


_register_elementwise(
    "selu",
    _SELU,
    function=selu,
    aliases=(),
    output_range=OutputRange(-_SELU_SCALE_ALPHA_DW[0], INF, False, False),
    zero_centred=True,
    saturates=("left",),
    dead_regions=(),
    best_use="deep fully-connected self-normalising networks (LeCun-normal init, alpha-dropout)",
    formula=r"\lambda\begin{cases}x & x > 0\\ \alpha(e^{x} - 1) & x \le 0\end{cases}",
    derivative_formula=r"\lambda\begin{cases}1 & x > 0\\ \alpha e^{x} & x \le 0\end{cases}",
    jax_nn="selu",
    kinks=(0.0,),
)

_ALPHA_CELU = Param("alpha", 1.0, valid=Interval(0.0, None, False), doc="scale, > 0")


def _celu_alpha_partial(x, alpha):
    u = jnp.minimum(x, 0) / alpha
    return jnp.where(x > 0, _zeros(x), num.expm1(u) - num.safe_finite(u) * jnp.exp(u))


def _celu_value(x, alpha, *, expm1):
    u = jnp.minimum(x, 0) / alpha
    # x / alpha may underflow to 0 (flushed) while x is normal: then f(x) = x to first order
    negative = jnp.where(u == 0, jnp.minimum(x, 0), alpha * expm1(u))
    return jnp.where(x > 0, x, negative)


def _celu_prime(x, alpha, *, exp):
    return num.nan_like(x, jnp.where(x > 0, _ones(x), exp(jnp.minimum(x, 0) / alpha)))


_CELU = _exp_family(_celu_value, _celu_prime, _celu_alpha_partial)


def celu(x, alpha=1.0):
    r"""Continuously differentiable ELU.

    .. math:: f(x) = \max(x, 0) + \min\big(0, \alpha(e^{x/\alpha} - 1)\big), \qquad
              f'(x) = \begin{cases}1 & x > 0\\ e^{x/\alpha} & x \le 0\end{cases}

    Args:
      x: input array.
      alpha: a finite alpha > 0 (the formula divides by alpha).

    Range (-alpha, inf). f' is continuous (f'(0) = 1). bfloat16/float16 inputs take
    the shorter float32 exp and expm1 of ``_numerics`` (``exp_narrow``, ``expm1_narrow``).
    """
    _validate("celu", (_ALPHA_CELU,), {"alpha": alpha})
    return _CELU.apply(x, alpha)


_register_elementwise(
    "celu",
    _CELU,
    params=(_ALPHA_CELU,),
    function=celu,
    aliases=(),
    output_range=OutputRange(-1.0, INF, False, False),
    zero_centred=False,
    saturates=("left",),
    dead_regions=(),
    best_use="ELU with a derivative that is continuous for every alpha",
    formula=r"\max(x, 0) + \min(0, \alpha(e^{x/\alpha} - 1))",
    derivative_formula=r"\begin{cases}1 & x > 0\\ e^{x/\alpha} & x \le 0\end{cases}",
    jax_nn="celu",
    test_params=({"alpha": 2.0},),
)


# ============================================================================
# swish / silu
# ============================================================================
_EXP_UNDERFLOW = 800.0  # exp(-800) is 0 in every float dtype


_SILU_NEAR_ROOT = -2.0  # below, 1 + u + e^u cancels by less than a factor 1.2


def _silu_prime_dw(u_hi, u_lo):
    """silu'(u) for u = u_hi + u_lo, with no cancellation anywhere.

    u > 0:  sigma(u) + u sigma(u) sigma(-u)   (both terms positive).
    u <= 0: sigma(u) sigma(-u) (1 + u + e^u).  Below -2, (1 + u) + e^u: 1 + u is exact
            and e^u small.  Near the zero x0 of 1 + u + e^u it is d + e^{x0} expm1(d)
            with d = u - x0 (both terms have the sign of d).
    """
    s, s_neg, q, e_hi, e_lo = num.sigmoid_terms_accurate(u_hi, u_lo)
    e = e_hi + e_lo  # e^u for u <= 0
    clamped = num.clamp(u_hi, -_EXP_UNDERFLOW, 0)
    in_range = (u_hi <= 0) & (u_hi > -_EXP_UNDERFLOW)
    lo = None if u_lo is None else jnp.where(in_range, u_lo, 0)
    d = num.root_offset("silu", clamped, lo)
    c_hi, c_lo = num.root_constant("silu", "exp_x0", u_hi.dtype)
    m = num.expm1(d, exp_x=e / c_hi)  # e^d = e^u / e^{x0}, e = e^u for u <= 0
    near = d + (c_hi * m + c_lo * m)
    far = (1 + clamped) + (e if lo is None else lo + e)
    g = jnp.where(clamped < _SILU_NEAR_ROOT, far, near)
    positive = s + num.safe_finite(u_hi) * q
    return jnp.where(u_hi <= 0, q * g, positive)


def _product_dw(beta, x):
    """beta * x as a double word (hi, lo); lo is 0 where the product is huge."""
    limit = 1e30 if x.dtype == jnp.float32 else 1e290
    safe = (jnp.abs(x) < limit) & (jnp.abs(beta) < limit)
    hi, lo = num.two_prod(jnp.where(safe, beta, 0), jnp.where(safe, x, 0))
    return jnp.where(safe, hi, beta * x), jnp.where(safe, lo, 0)


def _silu_value(x):
    return jnp.where(x == -INF, _zeros(x), num.times_sigmoid(x, x))


def _silu_narrow_value(x):
    xm = jnp.maximum(x, -1e4)  # silu(-inf) = -1e4 sigma(-1e4) = -0, not -inf * 0
    return xm * num.logistic_narrow(xm)[0]


def _silu_narrow_prime(x):
    s, q = num.logistic_narrow(x)
    return s + jnp.clip(x, -1e4, 1e4) * q


_SILU = _ByWidth(
    ElementwiseRule(_silu_value, lambda x: _silu_prime_dw(x, None)),
    ElementwiseRule(_silu_narrow_value, _silu_narrow_prime),
)


def silu(x):
    r"""SiLU (swish with beta = 1): x * sigmoid(x).

    .. math:: f(x) = x\,\sigma(x), \qquad f'(x) = \sigma(x)\,\big(1 + x\,\sigma(-x)\big)

    Range [-0.2785, inf): the minimum is at the zero of f', x0 = -1.27846.
    Numerics: near x0 the usual f' = sigma(x)(1 + x sigma(-x)) subtracts nearly equal
    numbers and loses its sign; jaxact writes 1 + x sigma(-x) as
    sigma(-x) (1 + x + e^x) and 1 + x + e^x as d + e^{x0} expm1(d), d = x - x0,
    whose terms share a sign. The value is one rounded quotient, x e/(1 + e) or
    x/(1 + e) with e = e^{-|x|} a double word and the roundings of 1 + e and of e
    corrected (x * sigmoid(x), rounded twice, reached 3.4 ULP). f(-inf) = 0.
    bfloat16/float16 inputs take the plain
    float32 forms x sigma(x) and sigma(x) + x sigma(x) sigma(-x), sigma from
    ``_numerics.exp_narrow`` (2^-17, far below the 16-bit rounding): the nearest 16-bit
    input to x0 is far enough from it that float32's cancellation stays below 4 ULP.
    """
    return _SILU.apply(x)


_register_elementwise(
    "silu",
    _SILU,
    function=silu,
    aliases=(),
    output_range=OutputRange(-0.2784645427610738, INF, True, False),
    zero_centred=False,
    saturates=("left",),
    dead_regions=(),
    best_use="hidden layers of deep networks and transformers (smooth, non-monotone, no dead units)",
    formula=r"x\,\sigma(x)",
    derivative_formula=r"\sigma(x)\,\big(1 + x\,\sigma(-x)\big)",
    jax_nn="silu",
)

_BETA = Param("beta", 1.0, valid=Interval(0.0, None, False), doc="sharpness, > 0")


def _swish_value(x, beta):
    u_hi, u_lo = _product_dw(beta, x)  # sigma(u_hi + u_lo): rounding u = beta x would cost |u| ULP
    return jnp.where(u_hi == -INF, _zeros(x), num.times_sigmoid(x, u_hi, u_lo))


def _swish_prime(x, beta):
    return _silu_prime_dw(*_product_dw(beta, x))


def _swish_beta_partial(x, beta):
    xs = num.safe_finite(x)
    return xs * (xs * num.sigmoid_product(beta * x))


def _swish_narrow_value(x, beta):
    u = jnp.maximum(beta * x, -1e4)  # as silu: swish(-inf) = -0, not -inf * 0
    return jnp.where(x == -INF, _zeros(x), x * num.logistic_narrow(u)[0])


def _swish_narrow_prime(x, beta):
    s, q = num.logistic_narrow(beta * x)
    return s + jnp.clip(beta * x, -1e4, 1e4) * q


_SWISH = _ByWidth(
    ElementwiseRule(_swish_value, _swish_prime, partials=(_swish_beta_partial,)),
    ElementwiseRule(_swish_narrow_value, _swish_narrow_prime, partials=(_swish_beta_partial,)),
)


def swish(x, beta=1.0):
    r"""Swish: x * sigmoid(beta x) (Ramachandran et al.); ``swish(x) == silu(x)``.

    .. math:: f(x) = x\,\sigma(\beta x), \qquad
              f'(x) = \sigma(\beta x) + \beta x\,\sigma(\beta x)\,\sigma(-\beta x) = \mathrm{silu}'(\beta x)

    Args:
      x: input array.
      beta: a finite beta > 0 (jax.nn.swish has no beta; with the default it is
        jax.nn.swish). A traced or learnable beta gets d f / d beta = x^2 sigma'(beta x).

    Range [-0.2785 / beta, inf). Numerics: beta x is carried as a double word so the
    tails and the zero of f' are not shifted by its rounding. bfloat16/float16 inputs
    take the plain float32 forms x/(1+e^{-beta x}) and sigma(u) + u sigma(u) sigma(-u),
    u = beta x, as silu does.
    """
    _validate("swish", (_BETA,), {"beta": beta})
    return _SWISH.apply(x, beta)


_register_elementwise(
    "swish",
    _SWISH,
    params=(_BETA,),
    function=swish,
    aliases=(),
    output_range=OutputRange(-0.2784645427610738, INF, True, False),
    zero_centred=False,
    saturates=("left",),
    dead_regions=(),
    best_use="SiLU with a tunable or learnable sharpness (Swish-beta)",
    formula=r"x\,\sigma(\beta x)",
    derivative_formula=r"\sigma(\beta x) + \beta x\,\sigma(\beta x)\,\sigma(-\beta x)",
    jax_nn="swish",
    test_params=({"beta": 1.702}, {"beta": 0.5}),
)


# ============================================================================
# mish
# ============================================================================
def _tanh_softplus(x):
    """Parts of T = tanh(softplus(x)) from one w = e^{-|x|} (w + w_lo), without cancellation.

    Returns (T, T_lo, 1 - T, w, w_lo, den, den_lo):
    x <= 0: n = w (w + 2), den = n + 2; T = n / den, 1 - T = 2 / den.  n, den and the
            quotient are double words (T + T_lo within ~0.1 ULP): x T would otherwise
            add T's 2-3 ULP to the product's rounding.
    x > 0:  1 - T = 2 w^2 / (1 + 2w + 2w^2), T = 1 - (1 - T) (T >= 0.6: no cancellation),
            both double words as well.
    """
    w, w_lo = num.exp_dw(num.neg_abs(x))
    a, a_lo = num.fast_two_sum(jnp.full_like(x, 2.0), w)  # w <= 1
    n, n_err = num.two_prod(w, a)
    n_lo = n_err + (w * a_lo + w_lo * a)
    den, den_lo = num.fast_two_sum(jnp.full_like(x, 2.0), n)  # n < 4: 2's exponent is n's
    den_lo = den_lo + n_lo
    t_neg = num.single_use(n / den, x)
    p, p_err = num.two_prod(t_neg, den)
    t_lo = ((n - p) - p_err + n_lo - t_neg * den_lo) / den
    # x > 0: 1 - T = 2w^2 / (1 + 2w + 2w^2) as a double word, then T = 1 - (1 - T) error-free
    w2, w2_err = num.two_prod(w, w)
    w2_lo = w2_err + 2 * w * w_lo
    s, s_lo = num.two_sum(2 * w, 2 * w2)
    d_pos, d_pos_lo = num.two_sum(jnp.ones_like(x), s)
    d_pos_lo = d_pos_lo + (s_lo + 2 * (w_lo + w2_lo))
    one_minus_pos = num.single_use(2 * w2 / d_pos, x)
    p, p_err = num.two_prod(one_minus_pos, d_pos)
    om_lo = ((2 * w2 - p) - p_err + 2 * w2_lo - one_minus_pos * d_pos_lo) / d_pos
    t_pos, t_pos_lo = num.fast_two_sum(jnp.ones_like(x), -one_minus_pos)  # 1 - T <= 0.4
    t_pos_lo = t_pos_lo - om_lo
    negative = x <= 0
    t = jnp.where(negative, t_neg, t_pos)
    one_minus = jnp.where(negative, 2 / den, one_minus_pos)
    return t, jnp.where(negative, t_lo, t_pos_lo), one_minus, w, w_lo, den, den_lo


def _mish_value(x):
    t, t_lo, *_ = _tanh_softplus(x)
    return jnp.where(x == -INF, _zeros(x), x * t + num.safe_finite(x) * t_lo)


_MISH_NEAR_ROOT = -1.5  # below, h = 4 (1 + x) + e (6 + 4x + 4e + e^2) cancels by less than 1/20


def _mish_prime(x):
    """mish'(x) = T + x sigma(x) (1 - T^2), T = tanh(softplus(x)).

    x > 0:  as written (every term positive).
    x <= 0: e h(x) / (n + 2)^2 with h = e^3 + 4e^2 + (6 + 4x) e + 4 + 4x, e = e^x.
            Below -1.5, h = 4 (1 + x) + e (6 + 4x + 4e + e^2), where 1 + x is exact and
            the second term is small.  Around the zero x0 of h, h = m P(m) + 4 d (1 + e)
            with d = x - x0, m = expm1(d), P(m) = E^3 (3 + 3m + m^2) + 4E^2 (2 + m)
            + (6 + 4 x0) E, E = e^{x0}: every term has the sign of d, so nothing cancels.
            e and n + 2 are double words (see :func:`_tanh_softplus`).
    """
    t, _, one_minus, e, e_lo, den, den_lo = _tanh_softplus(x)
    s = 1 / (1 + e)  # sigma(x) for x > 0, where e = e^-x: no second exp
    positive = t + num.safe_finite(x) * s * (one_minus * (1 + t))
    xn = num.clamp(x, -_EXP_UNDERFLOW, 0)
    d = num.root_offset("mish", xn)
    big_e, _ = num.root_constant("mish", "exp_x0", x.dtype)
    m = num.expm1(d, exp_x=e / big_e)  # e^d = e^x / e^{x0}: no second exp
    six, _ = num.root_constant("mish", "six_plus_4x0", x.dtype)
    p = big_e * (big_e * (big_e * (3 + m * (3 + m)) + 4 * (2 + m)) + six)
    near = m * p + 4 * d * (1 + e)
    far = 4 * (1 + xn) + e * ((6 + 4 * xn) + e * (4 + e))
    h = jnp.where(xn < _MISH_NEAR_ROOT, far, near)
    negative = (e * h + e_lo * h) / (den * den) * (1 - den_lo * one_minus)  # one_minus = 2/den
    return jnp.where(x <= 0, negative, positive)


_MISH = ElementwiseRule(_mish_value, _mish_prime)


def mish(x):
    r"""Mish (Misra 2019): x * tanh(softplus(x)).

    .. math:: f(x) = x \tanh(\mathrm{softplus}(x)), \qquad
              f'(x) = \tanh(\mathrm{sp}(x)) + x\,\sigma(x)\,\mathrm{sech}^2(\mathrm{sp}(x))

    Range [-0.3088, inf); f' crosses zero at x0 = -1.19243. Numerics: tanh(softplus)
    is n/(n+2) with n = e^x (e^x + 2) for x <= 0 and 1 - 2q^2/(1 + 2q + 2q^2), q = e^-x,
    beyond, both carried as double words; for x <= 0 the derivative is an algebraic
    form in e^x whose terms share a sign near x0 (see :func:`_mish_prime`).
    """
    return _MISH.apply(x)


_register_elementwise(
    "mish",
    _MISH,
    function=mish,
    aliases=(),
    output_range=OutputRange(-0.3088434130172504, INF, True, False),
    zero_centred=False,
    saturates=("left",),
    dead_regions=(),
    best_use="hidden layers of vision models (YOLOv4-style), smooth self-gated",
    formula=r"x\,\tanh(\log(1 + e^{x}))",
    derivative_formula=r"\tanh(\mathrm{sp}(x)) + x\,\sigma(x)\,\mathrm{sech}^2(\mathrm{sp}(x))",
    jax_nn="mish",
)


# ============================================================================
# gelu
# ============================================================================
_GELU_A = 0.044715
_GELU_CLAMP = 30.0  # beyond |x| = 30 sigma(v) is exactly 0 or 1 in every dtype
_TWO_K = CONSTANTS["two_sqrt_2_over_pi"]
_GELU_A_DW = CONSTANTS["gelu_a"]


def _gelu_tanh_argument(x):
    """v = 2 sqrt(2/pi) (x + 0.044715 x^3) as a double word, for |x| <= 30.

    1 + tanh(v/2) = 2 sigma(v); sigma(v) is as sensitive to v's rounding as |v|
    (87 at x = -10), so v is carried with twice the working precision.
    """
    dtype = x.dtype
    if dtype == jnp.float32:
        return _gelu_tanh_argument32(x)
    a_hi, a_lo = num.double_word(_GELU_A_DW, dtype)
    c_hi, c_lo = num.double_word(_TWO_K, dtype)
    x2_hi, x2_lo = num.two_prod(x, x)
    t_hi, t_lo = num.two_prod(a_hi, x2_hi)
    t_lo = t_lo + (a_hi * x2_lo + a_lo * x2_hi)
    p_hi, p_lo = num.two_sum(jnp.ones_like(x), t_hi)
    p_lo = p_lo + t_lo
    q_hi, q_lo = num.two_prod(x, p_hi)
    q_lo = q_lo + x * p_lo
    v_hi, v_lo = num.two_prod(c_hi, q_hi)
    return v_hi, v_lo + (c_hi * q_lo + c_lo * q_hi)


def _dw_constant(value):
    hi, lo = value if isinstance(value, tuple) else (float(value), 0.0)
    return float(hi) + float(lo)


# 2 sqrt(2/pi) * 0.044715 to float64 precision (float32 only needs about 48 bits)
_GELU_CA = _dw_constant(_TWO_K) * _dw_constant(_GELU_A_DW)


def _gelu_tanh_argument32(x):
    """float32 v as x (c + c a x^2): three error-free products and one sum instead of five."""
    c_hi, c_lo = num.double_word(_TWO_K, jnp.float32)
    k_hi, k_lo = num.double_word(_GELU_CA, jnp.float32)
    x2_hi, x2_lo = num.two_prod(x, x)
    t_hi, t_lo = num.two_prod(k_hi, x2_hi)
    t_lo = t_lo + (k_hi * x2_lo + k_lo * x2_hi)
    u_hi, u_lo = num.two_sum(jnp.full_like(x, c_hi), t_hi)
    u_lo = u_lo + (t_lo + c_lo)
    v_hi, v_lo = num.two_prod(x, u_hi)
    return v_hi, v_lo + x * u_lo


def _gelu_tanh_value(x):
    xc = jnp.clip(x, -_GELU_CLAMP, _GELU_CLAMP)
    v_hi, v_lo = _gelu_tanh_argument(xc)
    return jnp.where(x < -_GELU_CLAMP, _zeros(x), num.times_sigmoid(x, v_hi, v_lo))


_GELU_NEAR_ROOT = (-0.76, -0.745)  # around the zero of G, where the far form's relative error grows


def _gelu_g_far(x, v_hi, v_lo, c_hi, c_lo, e, e_lo):
    """G = 1 + e^v + x v' = ((3v - 2cx) + 1) + e^v, every sum error-free but the last.

    3v - 2cx = x v' as a double word (v is one), e^v = e + e_lo as one (x <= 0, so
    e^-|v| is e^v): G is within about 2^-44
    of the truth in absolute terms, so only within about 1e-5 of the zero of G does
    its relative error pass an ULP, and there the d = x - x0 form takes over.
    """
    three_v = 3 * v_hi
    three_v_lo = ((2 * v_hi - three_v) + v_hi) + 3 * v_lo  # 2 v_hi + v_hi: fast two-sum
    cx, cx_lo = num.two_prod(x, jnp.full_like(x, c_hi))
    s, s_lo = num.two_sum(three_v, -2 * cx)
    s_lo = s_lo + (three_v_lo - 2 * (cx_lo + c_lo * x))
    t, t_lo = num.two_sum(s + 1, e)  # s + 1 is exact where |s| >= 1/2
    return t + (t_lo + (s_lo + e_lo))


def _gelu_tanh_prime(x):
    """f'(x) = sigma(v) + x v' sigma(v) sigma(-v),  v' = 2 sqrt(2/pi) (1 + 3a x^2).

    x > 0: as written. x <= 0: sigma(v) sigma(-v) G with G = 1 + e^v + x v'.  Away from
    the zero x0 of G (outside [-0.76, -0.745]), G from double words (see
    :func:`_gelu_g_far`).  Near x0,
    G = E expm1(v - v0) + (x v' - x0 v0') where, with d = x - x0 and
    Q = x^2 + x x0 + x0^2 > 0, v - v0 = c d (1 + a Q) and x v' - x0 v0' = c d (1 + 3a Q):
    both terms have the sign of d.
    """
    dtype = x.dtype
    xc = num.clamp(x, -_GELU_CLAMP, _GELU_CLAMP)
    v_hi, v_lo = _gelu_tanh_argument(xc)
    s, _, q, e, e_lo = num.sigmoid_terms_accurate(v_hi, v_lo)  # e + e_lo = e^v for x <= 0
    c_hi, c_lo = num.double_word(_TWO_K, dtype)
    c = c_hi + c_lo
    dv = c * (1 + 3 * _GELU_A * xc * xc)
    positive = s + xc * dv * q
    xn = num.clamp(xc, high=0)
    d = num.root_offset("gelu_tanh", xn)
    x0, _ = num.root_constant("gelu_tanh", "x0", dtype)
    big_e, _ = num.root_constant("gelu_tanh", "exp_v0", dtype)
    big_q = xn * xn + xn * x0 + x0 * x0
    cd = c * d
    exp_dv = (e + e_lo) / big_e  # e^(v - v0) = e^v / E
    g = big_e * num.expm1(cd * (1 + _GELU_A * big_q), exp_x=exp_dv) + cd * (1 + 3 * _GELU_A * big_q)
    near = (xc >= _GELU_NEAR_ROOT[0]) & (xc <= _GELU_NEAR_ROOT[1])
    g = jnp.where(near, g, _gelu_g_far(xc, v_hi, v_lo, c_hi, c_lo, e, e_lo))
    negative = jnp.where(x < -_GELU_CLAMP, _zeros(x), q * g)
    return jnp.where(x <= 0, negative, positive)


def _normal_pdf(x):
    """phi(x) = exp(-x^2/2) / sqrt(2 pi), with x^2 carried as a double word."""
    xc = jnp.clip(x, -1e4, 1e4)
    x2_hi, x2_lo = num.two_prod(xc, xc)
    e = num.single_use(jnp.exp(-x2_hi / 2), x)
    c_hi, c_lo = num.double_word(CONSTANTS["inv_sqrt_2pi"], x.dtype)
    e = e - e * (x2_lo / 2)
    return c_hi * e + c_lo * e


def _normal_cdf(x):
    """Phi(x) = erfc(-x / sqrt 2) / 2: -x/sqrt 2 as a double word into jaxact's erfc (1 ULP)."""
    r_hi, r_lo = num.double_word(CONSTANTS["sqrt_half"], x.dtype)
    xc = jnp.clip(x, -1e4, 1e4)
    z_hi, z_lo = num.two_prod(xc, r_hi)
    z_lo = z_lo + xc * r_lo
    return 0.5 * erfc(-z_hi, -z_lo)


_GELU_EXACT_WINDOW = (-1.6, -0.5)  # outside, Phi + x phi cancels by less than a factor 1.5


def _gelu_exact_value(x):
    return jnp.where(x == -INF, _zeros(x), x * _normal_cdf(x))


# left of these, f' uses the asymptotic Mills ratio: (terms, threshold) per working precision
_GELU_EXACT_TAIL = {"single": (6, -10.0), "double": (10, -20.0)}


def _gelu_exact_prime(x):
    """f'(x) = Phi(x) + x phi(x); a Taylor series around its zero x0 on [-1.6, -0.5].

    Far left (x < -10 in float32, -20 in float64), f' = -phi(x) (|x| - S(1/x^2)/|x|)
    with Phi/phi = S(1/x^2)/|x|, S(t) = 1 - t + 3t^2 - 15t^3 + ... (asymptotic; its
    terms fall below the working precision first): Phi(x) underflows (and is flushed)
    a little before x phi(x) does, and Phi + x phi would lose its Phi term there.
    """
    closed = _normal_cdf(x) + num.safe_finite(x) * _normal_pdf(x)
    inside = (x > _GELU_EXACT_WINDOW[0]) & (x < _GELU_EXACT_WINDOW[1])
    d = num.root_offset("gelu_exact", jnp.where(inside, x, jnp.full_like(x, -0.75)))
    series = d * num.horner(d, GELU_EXACT_SERIES[: num.terms(x, 16, 30)])
    n_terms, threshold = _GELU_EXACT_TAIL["double" if num.is_double(x) else "single"]
    far = x < threshold
    ax = jnp.where(far, jnp.minimum(-x, 1e4), jnp.full_like(x, -threshold))  # phi(-1e4) = 0
    t = num.single_use(1 / (ax * ax), x)
    mills = num.horner(t, [(-1) ** k * math.prod(range(1, 2 * k, 2)) for k in range(n_terms)])  # (2k-1)!!
    tail = -_normal_pdf(x) * (ax - mills / ax)
    return jnp.where(inside, series, jnp.where(far, tail, closed))


def _gelu_tanh_narrow_value(x):
    xm = jnp.maximum(x, -_GELU_CLAMP)  # f(-inf) = -30 * 0, not -inf * 0
    v = _TWO_K[0] * xm * (1 + _GELU_A * (xm * xm))
    return xm * num.logistic_narrow(v)[0]


def _gelu_tanh_narrow_prime(x):
    xc = jnp.clip(x, -_GELU_CLAMP, _GELU_CLAMP)
    x2 = xc * xc
    s, q = num.logistic_narrow(_TWO_K[0] * xc * (1 + _GELU_A * x2))
    return s + xc * (_TWO_K[0] * (1 + 3 * _GELU_A * x2)) * q


_GELU_TANH = _ByWidth(
    ElementwiseRule(_gelu_tanh_value, _gelu_tanh_prime),
    ElementwiseRule(_gelu_tanh_narrow_value, _gelu_tanh_narrow_prime),
)
_GELU_EXACT_NARROW_ROOT = 1 / 16  # |x - x0| below which f' takes its Taylor series (16-bit)


def _gelu_exact_narrow_value(x):
    xm = jnp.maximum(x, -1e4)  # f(-inf) = -1e4 * 0, not -inf * 0
    return xm * num.normal_cdf_narrow(xm)


def _gelu_exact_narrow_prime(x):
    """Phi(x) + x phi(x) in float32; near its zero x0, 6 terms of the Taylor series.

    Phi and phi are each within about 2**-16 (``_numerics.normal_cdf_narrow``,
    ``exp_narrow``), and the sum cancels by a factor of about 1/|x - x0|: for
    |x - x0| >= 1/16 it stays within 2**-12, an eighth of a float16 ULP; closer, the
    series (its first left-out term is below 2**-28 relative).  Far left, Phi
    underflows a little before x phi does; the sum then misses Phi/(x phi) = 1/x**2
    < 0.6%, within 4 bfloat16 ULP.
    """
    xc = jnp.clip(x, -1e4, 1e4)
    pdf = num.exp_narrow(-0.5 * (xc * xc)) * CONSTANTS["inv_sqrt_2pi"][0]
    closed = num.normal_cdf_narrow(xc) + xc * pdf
    d = num.root_offset("gelu_exact", xc)
    near = jnp.abs(d) < _GELU_EXACT_NARROW_ROOT
    ds = jnp.where(near, d, jnp.zeros_like(d))
    series = ds * num.estrin(ds, GELU_EXACT_SERIES[:6])
    return num.nan_like(x, jnp.where(near, series, closed))


_GELU_EXACT = _ByWidth(
    ElementwiseRule(_gelu_exact_value, _gelu_exact_prime),
    ElementwiseRule(_gelu_exact_narrow_value, _gelu_exact_narrow_prime),
)
_APPROXIMATE = Param("approximate", True, kind="bool", doc="tanh approximation (True) or exact erf (False)")


def gelu(x, approximate=True):
    r"""Gaussian error linear unit.

    .. math:: \text{exact: } f(x) = x\,\Phi(x),\quad f'(x) = \Phi(x) + x\,\varphi(x)

    .. math:: \text{tanh: } f(x) = \tfrac{x}{2}\big(1 + \tanh(\sqrt{2/\pi}(x + 0.044715x^3))\big)
              = x\,\sigma(v),\ v = 2\sqrt{2/\pi}(x + 0.044715x^3)

    Args:
      x: input array.
      approximate: True (default, as jax.nn) for the tanh form, False for the erf form;
        a static Python bool.

    Range [-0.17, inf); f' crosses zero near x0 = -0.752. Numerics (tanh form): written
    as x sigma(v) so the left tail is not 1 + tanh = 0 (jax.nn gives -0 below about -5
    and NaN gradients for huge |x|); v is a double word; f' has a cancellation-free form
    near x0 (see :func:`_gelu_tanh_prime`); bfloat16/float16 inputs take plain float32
    forms (v rounded once: its error stays far below the 16-bit rounding). Exact form:
    Phi comes from jaxact's erfc (about 1 ULP; XLA's is off by up to 60 ULP in float32
    and 500 in float64 in the left tail) and f' near x0 is a Taylor series;
    bfloat16/float16 inputs take a short float32 normal CDF
    (``_numerics.normal_cdf_narrow``, within 2**-16 relative, far below a 16-bit ULP)
    and the series only within 1/16 of x0.
    """
    check_bool("gelu", "approximate", approximate)
    return (_GELU_TANH if approximate else _GELU_EXACT).apply(x)


def _gelu_derivative(x, approximate=True):
    check_bool("gelu", "approximate", approximate)
    return (_GELU_TANH if approximate else _GELU_EXACT).derivative(x)


_gelu_spec = register(
    ActivationSpec(
        name="gelu",
        function=gelu,
        kind="elementwise",
        params=(_APPROXIMATE,),
        aliases=(),
        output_range=OutputRange(-0.17004075057125405, INF, True, False),  # tanh form; erf form: -0.16997
        zero_centred=False,
        saturates=("left",),
        dead_regions=(),
        best_use="transformers (BERT, GPT) and other modern deep networks",
        formula=r"x\,\Phi(x) \approx \tfrac{x}{2}\big(1 + \tanh(\sqrt{2/\pi}(x + 0.044715x^3))\big)",
        derivative_formula=r"\Phi(x) + x\,\varphi(x)",
        derivative=_gelu_derivative,
        jax_nn="gelu",
        test_params=({"approximate": False},),
    )
)
