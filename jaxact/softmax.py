"""Functions of a whole axis: softmax, log_softmax, softmin and glu.

Like jax.nn, ``axis`` may be an int, a tuple of ints or None (all axes) and
``where`` masks entries out of the normalisation.  Unlike jax.nn:

* bfloat16/float16 rows are exponentiated and summed in float32 and rounded
  once (jax.nn's bf16 softmax over 1,000 logits is off by up to 7%);
* the custom_jvp rules are always on (jax.nn's softmax rule is off by default);
* a row with nothing to normalise (every entry masked out, or every entry
  -inf) gives zeros from softmax and -inf from log_softmax, with a zero
  gradient, never NaN; a row with +inf entries gives the limit (equal shares
  among the +inf entries).
"""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero

from jaxact._numerics import compute_dtype, promote_input, two_sum
from jaxact._registry import (
    ActivationError,
    ActivationSpec,
    OutputRange,
    Param,
    check_axis,
    register,
)
from jaxact.activations import _SIGMOID

INF = float("inf")


# ----------------------------------------------------------------------------
# argument checks
# ----------------------------------------------------------------------------
def _axes(function: str, axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(check_axis(function, a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ActivationError(f"{function}: argument 'axis' = {axis!r} repeats an axis")
        return axes
    return (check_axis(function, axis, ndim),)


def _mask(function: str, where, shape):
    if where is None:
        return None
    where = jnp.asarray(where)
    try:
        broadcast = np.broadcast_shapes(where.shape, shape)
    except ValueError:
        broadcast = None
    if broadcast != tuple(shape):
        raise ActivationError(
            f"{function}: argument 'where' has shape {where.shape}, which does not broadcast "
            f"to the input's shape {tuple(shape)}; allowed: None or a boolean array "
            "broadcastable to x"
        )
    return jnp.broadcast_to(where.astype(bool), shape)


# ----------------------------------------------------------------------------
# the shared forward pass
# ----------------------------------------------------------------------------
def _shifted(x, axes, mask, lo_in_e=True):
    """(shifted, lo, e, total, inf_row) for one normalisation.

    shifted + lo = x - max exactly (masked entries -inf, lo 0 there); e = exp(shifted)
    (1 + lo) (``lo_in_e``) or exp(shifted), or the indicator of the +inf entries in a
    row that has any; total = sum(e) (0 for an empty row).

    x - max rounds, and exp turns that rounding into |x - max| ULPs of error, so a
    probability needs lo: exp(hi + lo) = exp(hi) (1 + lo).  The sum does not (its
    terms' errors |s| e^s 2**-24 add up to at most 0.37 2**-24 of it), nor does a
    log-probability (|log p| >= |x - max|, so hi's rounding is within half its ULP).
    """
    xm = x if mask is None else jnp.where(mask, x, -INF)
    m = jnp.max(xm, axis=axes, keepdims=True)
    inf_row = m == INF
    shift = jnp.where(jnp.isfinite(m), m, jnp.zeros_like(m))
    shifted, lo = two_sum(xm, -shift)
    lo = jnp.where(jnp.isfinite(shifted), lo, jnp.zeros_like(lo))
    safe = jnp.where(inf_row, jnp.zeros_like(shifted), shifted)
    exp = jnp.exp(safe) * (1 + lo) if lo_in_e else jnp.exp(safe)
    e = jnp.where(inf_row, (xm == INF).astype(x.dtype), exp)
    total = jnp.sum(e, axis=axes, keepdims=True)
    return shifted, lo, e, total, inf_row


def _normalised(e, total):
    """e / total, and 0 in an empty row (total 0)."""
    empty = total == 0
    return jnp.where(empty, jnp.zeros_like(e), e / jnp.where(empty, jnp.ones_like(total), total))


def _softmax_value(x, axes, mask):
    _, _, e, total, _ = _shifted(x, axes, mask)
    return _normalised(e, total)


def _log_softmax_parts(x, axes, mask):
    """(log_softmax(x), softmax(x)) from one sum: the probabilities' exponentials
    take lo (see :func:`_shifted`), the sum and the logarithms do not."""
    shifted, lo, e, total, inf_row = _shifted(x, axes, mask, lo_in_e=False)
    empty = total == 0
    log_total = jnp.log(jnp.where(empty, jnp.ones_like(total), total))
    finite_rows = shifted - log_total
    inf_rows = jnp.where(e > 0, -log_total, -INF)
    out = jnp.where(inf_row, inf_rows, finite_rows)
    y = jnp.where(empty, jnp.full_like(out, -INF), out)
    return y, _normalised(e * (1 + lo), total)


def _log_softmax_value(x, axes, mask):
    return _log_softmax_parts(x, axes, mask)[0]


# 16-bit inputs, computed in float32: x - max is within a float32 rounding of the
# truth, far below half a 16-bit ULP, so no double word is needed.  There is no
# compare or select here (min/max and arithmetic instead), so that XLA CPU can hand
# the reductions and their producers to YNNPACK.
def _shifted_short(x, axes, mask, log, narrow):
    """min(x - c, 0) with c = max clamped to +-float32 max: 0 at the +inf entries of a
    +inf row, -inf where an entry or the whole row is -inf.

    A 16-bit entry is at most 2**128 - 2**120, so x - c underflows exp for every finite
    entry of a +inf row; ``log`` also subtracts c once more there so that they reach -inf.
    The maximum is taken in ``narrow``, the input's 16-bit dtype (exact: every entry is
    a value of it): XLA then drops the round trip and reduces the 16-bit input itself,
    where a float32 maximum made it write a float32 copy of x first (one more pass over
    memory: the forward took up to 1.7x as long at 1024x1024 bfloat16).
    """
    xm = x if mask is None else jnp.where(mask, x, -INF)
    m = jnp.max(xm.astype(narrow), axis=axes, keepdims=True).astype(x.dtype)
    top = float(jnp.finfo(x.dtype).max)
    c = jnp.sign(m) * jnp.minimum(jnp.abs(m), top)
    shifted = xm - c
    if log:
        plus_inf_row = 1 - 1 / (1 + jnp.maximum(m - top, 0))  # 1 or 0
        shifted = shifted - top * plus_inf_row
    # c - c (0, a row scalar) rather than a constant, which XLA would materialise full size
    return jnp.minimum(shifted, c - c)


def _softmax_value_short(x, axes, mask, narrow):
    e = jnp.exp(_shifted_short(x, axes, mask, log=False, narrow=narrow))
    total = jnp.sum(e, axis=axes, keepdims=True)  # >= 1, or 0 for an empty row
    return e * (1 / jnp.maximum(total, 0.5))


def _log_softmax_value_short(x, axes, mask, narrow):
    shifted = _shifted_short(x, axes, mask, log=True, narrow=narrow)
    total = jnp.sum(jnp.exp(shifted), axis=axes, keepdims=True)
    return shifted - jnp.log(jnp.maximum(total, 0.5))


# ----------------------------------------------------------------------------
# custom_jvp cores (compute dtype); mask is a bool array or None
# ----------------------------------------------------------------------------
# ``narrow``: the input's 16-bit dtype (x is its float32 conversion; see
# _shifted_short), or None for a float32/float64 input.
@partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def _softmax_core(x, axes, narrow, mask):
    if narrow is None:
        return _softmax_value(x, axes, mask)
    return _softmax_value_short(x, axes, mask, narrow)


def _softmax_jvp(axes, narrow, primals, tangents):
    x, mask = primals
    tx, _ = tangents
    y = _softmax_core(x, axes, narrow, mask)
    if isinstance(tx, SymbolicZero):
        return y, jnp.zeros_like(y)
    # d softmax = y * (t - <y, t>): one pass, no Jacobian, exact zeros where y is 0
    return y, y * (tx - jnp.sum(y * tx, axis=axes, keepdims=True))


_softmax_core.defjvp(_softmax_jvp, symbolic_zeros=True)


@partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def _log_softmax_core(x, axes, narrow, mask):
    if narrow is None:
        return _log_softmax_value(x, axes, mask)
    return _log_softmax_value_short(x, axes, mask, narrow)


def _log_softmax_jvp(axes, narrow, primals, tangents):
    x, mask = primals
    tx, _ = tangents
    if narrow is None:
        y, p = _log_softmax_parts(x, axes, mask)
    else:
        y = _log_softmax_core(x, axes, narrow, mask)
        p = jnp.exp(y)  # within |y| float32 ULPs of softmax, far below a 16-bit ULP
    if isinstance(tx, SymbolicZero):
        return y, jnp.zeros_like(y)
    dy = tx - jnp.sum(p * tx, axis=axes, keepdims=True)
    # outputs pinned at -inf (masked, -inf inputs, empty rows) do not move
    return y, jnp.where(y == -INF, jnp.zeros_like(dy), dy)


_log_softmax_core.defjvp(_log_softmax_jvp, symbolic_zeros=True)


def _call(function: str, core, x, axis, where, negate=False):
    x = promote_input(x)
    axes = _axes(function, axis, x.ndim)
    mask = _mask(function, where, x.shape)
    return _jitted(core, negate, axes, x, mask)


@partial(jax.jit, static_argnums=(0, 1, 2))
def _jitted(core, negate, axes, x, mask):
    out_dtype = x.dtype
    work = compute_dtype(out_dtype)
    xc = x.astype(work)
    narrow = None if work == out_dtype else out_dtype
    return core(-xc if negate else xc, axes, narrow, mask).astype(out_dtype)


# ----------------------------------------------------------------------------
# public functions
# ----------------------------------------------------------------------------
def softmax(x, axis=-1, where=None):
    r"""Softmax along ``axis``.

    .. math:: \mathrm{softmax}(x)_i = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}},\ m = \max_j x_j,
              \qquad \partial y = y \odot (t - \langle y, t\rangle)

    Args:
      x: input array.
      axis: int, tuple of ints or None (all axes), as jax.nn.
      where: None, or a boolean array broadcastable to x; False entries get 0 and
        take no part in the normalisation (as jax.nn).

    Range [0, 1], each row sums to 1. An empty row (all masked, or all -inf) gives
    zeros and a zero gradient; a row with +inf entries shares 1 among them.
    bfloat16/float16 are computed in float32 (exp and sum) and rounded once.
    """
    return _call("softmax", _softmax_core, x, axis, where)


def log_softmax(x, axis=-1, where=None):
    r"""Log of softmax along ``axis``, computed as x - max - log(sum(exp(x - max))).

    .. math:: \mathrm{log\_softmax}(x)_i = x_i - m - \log\sum_j e^{x_j - m},
              \qquad \partial y = t - \langle \mathrm{softmax}(x), t\rangle

    Args:
      x: input array.
      axis: int, tuple of ints or None (all axes), as jax.nn.
      where: None or a boolean mask broadcastable to x; masked entries give -inf.

    Range [-inf, 0]. An empty row gives -inf everywhere with a zero gradient (jax.nn
    gives NaN for an all -inf row). Entries at -inf have a zero gradient.
    """
    return _call("log_softmax", _log_softmax_core, x, axis, where)


def softmin(x, axis=-1, where=None):
    r"""Softmin: softmax(-x) along ``axis`` (torch.nn.Softmin); same arguments as softmax.

    .. math:: \mathrm{softmin}(x)_i = \frac{e^{-x_i}}{\sum_j e^{-x_j}}

    Range [0, 1]. Not in jax.nn.
    """
    return _call("softmin", _softmax_core, x, axis, where, negate=True)


@partial(jax.custom_jvp, nondiff_argnums=(1,))
def _glu_core(x, axis):
    a, b = jnp.split(x, 2, axis=axis)
    return a * _SIGMOID.core(b)


@_glu_core.defjvp
def _glu_jvp(axis, primals, tangents):
    (x,), (tx,) = primals, tangents
    a, b = jnp.split(x, 2, axis=axis)
    ta, tb = jnp.split(tx, 2, axis=axis)
    s = _SIGMOID.core(b)
    # d(a sigma(b)) = sigma(b) da + a sigma'(b) db, with sigma' = sigma(b) sigma(-b)
    return a * s, s * ta + a * _SIGMOID.prime(b) * tb


@partial(jax.jit, static_argnums=(1,))
def _glu_jitted(x, axis):
    out_dtype = x.dtype
    return _glu_core(x.astype(compute_dtype(out_dtype)), axis).astype(out_dtype)


def glu(x, axis=-1):
    r"""Gated linear unit: split x in halves a, b along ``axis``; a * sigmoid(b).

    .. math:: \mathrm{glu}(x) = a \odot \sigma(b), \qquad
              \partial y = \sigma(b) \odot \partial a + a \odot \sigma(b)\sigma(-b) \odot \partial b

    Args:
      x: input whose size along ``axis`` is even.
      axis: an int in [-x.ndim, x.ndim).

    The output has half the size along ``axis``; range (-inf, inf). a * sigmoid(b)
    rounds like silu: within 3 ULP (tests/test_softmax.py states the bound).
    """
    x = promote_input(x)
    ax = check_axis("glu", axis, x.ndim)
    if x.shape[ax] % 2:
        raise ActivationError(
            f"glu: the input's size along axis {axis} is {x.shape[ax]}; allowed: an even size "
            "(glu splits it into two halves)"
        )
    return _glu_jitted(x, ax)


# ----------------------------------------------------------------------------
# registry entries
# ----------------------------------------------------------------------------
_AXIS = Param("axis", -1, kind="axis", doc="the axis (or axes) to normalise over")
_WHERE = Param("where", None, kind="mask", doc="entries that take part")

for _name, _fn, _range, _formula, _dformula, _jax_nn, _best in [
    (
        "softmax",
        softmax,
        OutputRange(0.0, 1.0, True, True),
        r"\frac{e^{x_i}}{\sum_j e^{x_j}}",
        r"y_i(\delta_{ij} - y_j)",
        "softmax",
        "output layer for multi-class classification (prefer logits + cross_entropy)",
    ),
    (
        "log_softmax",
        log_softmax,
        OutputRange(-INF, 0.0, True, True),
        r"x_i - \log\sum_j e^{x_j}",
        r"\delta_{ij} - \mathrm{softmax}(x)_j",
        "log_softmax",
        "log-probabilities for nll_loss; stable multi-class outputs",
    ),
    (
        "softmin",
        softmin,
        OutputRange(0.0, 1.0, True, True),
        r"\frac{e^{-x_i}}{\sum_j e^{-x_j}}",
        r"-y_i(\delta_{ij} - y_j)",
        None,
        "weights that favour the smallest entries (soft argmin, attention over distances)",
    ),
]:
    register(
        ActivationSpec(
            name=_name,
            function=_fn,
            kind="axis",
            params=(_AXIS, _WHERE),
            aliases=(_name.replace("_", ""),) if "_" in _name else (),
            output_range=_range,
            zero_centred=False,
            saturates=("left", "right"),
            dead_regions=(),
            best_use=_best,
            formula=_formula,
            derivative_formula=_dformula,
            jax_nn=_jax_nn,
        )
    )

register(
    ActivationSpec(
        name="glu",
        function=glu,
        kind="axis",
        params=(_AXIS,),
        aliases=(),
        output_range=OutputRange(-INF, INF, False, False),
        zero_centred=True,
        saturates=("left",),
        dead_regions=(),
        best_use="gated feed-forward blocks (GLU variants in transformers, gated CNNs)",
        formula=r"a \odot \sigma(b),\ [a, b] = x",
        derivative_formula=r"\sigma(b)\,\partial a + a\,\sigma(b)\sigma(-b)\,\partial b",
        jax_nn="glu",
    )
)
