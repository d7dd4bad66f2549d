"""Losses with torch.nn.functional's names, semantics and defaults, safe at the extremes.

``binary_cross_entropy``, ``binary_cross_entropy_with_logits``, ``cross_entropy``,
``nll_loss``, ``mse_loss``, ``l1_loss``, ``smooth_l1_loss`` and ``huber_loss`` compute
what their torch namesakes compute (``reduction='mean'|'sum'|'none'``, ``weight``,
``pos_weight``, ``ignore_index`` and ``label_smoothing`` included), with these
conventions, which hold for every function here:

* **The class axis is the last axis**, as everywhere in JAX (torch uses axis 1).
  Any leading batch shape is accepted; integer labels have shape
  ``logits.shape[:-1]``.
* **Keyword-only hyper-parameters.** The predictions and targets are positional;
  everything else (``weight``, ``reduction``, ...) is passed by keyword, because
  torch's positional order includes the deprecated ``size_average``/``reduce``.
  ``label_smoothing``, ``ignore_index``, ``beta`` and ``delta`` are Python numbers
  (static under jit, as torch's are plain floats and ints).
* **Dtypes.** The loss has the dtype of the predictions (the first argument):
  bfloat16/float16 are computed in float32 and the reductions accumulate in
  float32; targets and weights are cast to that compute dtype; integer and bool
  predictions are promoted to float.
* **Shapes are checked, not broadcast.** Targets must have the predictions'
  shape (torch broadcasts mismatched regression targets with a warning, a silent
  wrong number); errors are :class:`LossError` (a ``ValueError``) naming the
  argument, the value or shape, and what is allowed.
* **Values are checked where they can be.** Outside jit and vmap (eager calls,
  eager ``jax.grad`` included) class labels out of range, probabilities outside
  [0, 1] (``binary_cross_entropy``) and log-probabilities above 0 (``nll_loss``)
  raise.  Inside jit values cannot be inspected: an out-of-range class label then
  gives NaN (never a silently wrong class).
* **A weighted mean over zero total weight is 0, with a zero gradient** (torch: NaN).
  This covers a batch whose targets are all ``ignore_index`` and a batch masked
  out entirely by zero weights: a training step on such a batch is a no-op
  instead of poisoning the parameters with NaN.
* **Zero times infinity is zero** wherever a zero target probability or a zero
  weight meets an infinite log-probability (a ``-inf`` logit used as a mask):
  such entries contribute 0 to the loss and to the gradient.
"""
from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero

from jaxact._numerics import compute_dtype, promote_input
from jaxact._registry import ActivationError
from jaxact.activations import softplus
from jaxact.softmax import log_softmax

__all__ = [
    "LossError",
    "REDUCTIONS",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "huber_loss",
    "l1_loss",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
]

REDUCTIONS = ("mean", "sum", "none")
INF = math.inf
# torch clamps the logs of binary_cross_entropy at -100 (a loss of at most 100 per entry)
_LOG_FLOOR = -100.0


class LossError(ActivationError):
    """Bad input to a loss: names the argument, the value or shape, and what is allowed.

    A subclass of :class:`jaxact.ActivationError`, hence a ``ValueError``.
    """


# ----------------------------------------------------------------------------
# argument checks (Python level, before jit)
# ----------------------------------------------------------------------------
def _concrete(x):
    """``x`` as a NumPy array when its value is known here (outside jit/vmap), else None."""
    if not isinstance(x, jax.core.Tracer):
        return np.asarray(x)
    try:  # eager jax.grad / jax.jvp carry concrete primal values
        from jax._src import core as _core

        value = _core.to_concrete_value(x)
    except Exception:  # pragma: no cover - private API moved
        return None
    return None if value is None else np.asarray(value)


def _reduction(fn: str, reduction) -> str:
    if isinstance(reduction, str) and reduction in REDUCTIONS:
        return reduction
    raise LossError(
        f"{fn}: argument 'reduction' = {reduction!r} is not allowed; "
        "allowed: 'mean', 'sum' or 'none'"
    )


def _array(fn: str, name: str, value):
    try:
        a = jnp.asarray(value)
    except (TypeError, ValueError):
        raise LossError(f"{fn}: argument '{name}' = {value!r} is not an array of numbers") from None
    if jnp.issubdtype(a.dtype, jnp.complexfloating):
        raise LossError(f"{fn}: argument '{name}' has complex dtype {a.dtype}; allowed: real numbers")
    return a


def _prediction(fn: str, name: str, value, min_ndim: int = 0):
    x = promote_input(_array(fn, name, value))
    if x.ndim < min_ndim:
        raise LossError(
            f"{fn}: argument '{name}' has shape {x.shape}; allowed: an array with at least "
            f"{min_ndim} dimension(s), classes along the last axis"
        )
    return x


def _same_shape(fn: str, name: str, target, reference_name: str, shape) -> None:
    if tuple(target.shape) != tuple(shape):
        raise LossError(
            f"{fn}: argument '{name}' has shape {tuple(target.shape)}, but '{reference_name}' has "
            f"shape {tuple(shape)}; allowed: the same shape (jaxact does not broadcast targets)"
        )


def _broadcast_weight(fn: str, name: str, weight, shape):
    if weight is None:
        return None
    w = _array(fn, name, weight)
    try:
        ok = np.broadcast_shapes(w.shape, tuple(shape)) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise LossError(
            f"{fn}: argument '{name}' has shape {w.shape}, which does not broadcast to the "
            f"input's shape {tuple(shape)}; allowed: None or an array broadcastable to {tuple(shape)}"
        )
    return w


def _exact_weight(fn: str, weight, shape):
    if weight is None:
        return None
    w = _array(fn, "weight", weight)
    if tuple(w.shape) != tuple(shape):
        raise LossError(
            f"{fn}: argument 'weight' has shape {w.shape}; allowed: None or one weight per "
            f"element, shape {tuple(shape)} (as torch)"
        )
    return w


def _class_weight(fn: str, weight, n_classes: int):
    if weight is None:
        return None
    w = _array(fn, "weight", weight)
    if tuple(w.shape) != (n_classes,):
        raise LossError(
            f"{fn}: argument 'weight' has shape {w.shape}; allowed: None or one weight per "
            f"class, shape ({n_classes},)"
        )
    return w


def _static_number(fn: str, name: str, value, low: float, high: float, low_open=False) -> float:
    if isinstance(value, jax.core.Tracer):
        raise LossError(
            f"{fn}: argument '{name}' is a traced value; allowed: a Python number "
            "(it is static under jit, as torch's is a plain float)"
        )
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise LossError(f"{fn}: argument '{name}' = {value!r} is not a number") from None
    left = "(" if low_open else "["
    right = ")" if high == INF else "]"
    ok = math.isfinite(v) and (v > low if low_open else v >= low) and v <= high
    if not ok:
        raise LossError(
            f"{fn}: argument '{name}' = {value!r} is outside the allowed range; "
            f"allowed: a finite number in {left}{low:g}, {'inf' if high == INF else f'{high:g}'}{right}"
        )
    return v


def _ignore_index(fn: str, value) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise LossError(f"{fn}: argument 'ignore_index' = {value!r}; allowed: a Python int")
    return int(value)


def _first_bad(values: np.ndarray, bad: np.ndarray) -> str:
    i = tuple(int(k) for k in np.argwhere(bad)[0])
    return f"{values[i].item()!r} at index {i}" if values.ndim else f"{values[()].item()!r}"


def _check_labels(fn: str, labels, n_classes: int, ignore_index: int) -> None:
    values = _concrete(labels)
    if values is None:
        return
    values = values.astype(np.int64)
    bad = ((values < 0) | (values >= n_classes)) & (values != ignore_index)
    if bad.any():
        raise LossError(
            f"{fn}: argument 'labels' has {int(bad.sum())} value(s) out of range, e.g. "
            f"{_first_bad(values, bad)}; allowed: class indices in [0, {n_classes}) for "
            f"{n_classes} classes, or ignore_index ({ignore_index})"
        )


def _class_labels(fn: str, labels, logits_shape, ignore_index: int):
    _same_shape(fn, "labels", labels, "logits.shape[:-1]", logits_shape[:-1])
    _check_labels(fn, labels, logits_shape[-1], ignore_index)
    return labels


# ----------------------------------------------------------------------------
# shared pieces (compute dtype, inside jit)
# ----------------------------------------------------------------------------
def _times(c, v):
    """c * v with 0 * inf = 0 (and a zero, never NaN, gradient for both factors there)."""
    return c * jnp.where(c == 0, jnp.zeros_like(v), v)


def _safe_div(num, den):
    zero = den == 0
    return jnp.where(zero, jnp.zeros_like(num), num / jnp.where(zero, jnp.ones_like(den), den))


def _finish(per, reduction: str, out_dtype, denominator=None):
    """Reduce the per-element loss (compute dtype) and round once to ``out_dtype``.

    mean: sum / count, or sum / denominator (a weighted mean: 0 when the denominator is 0).
    """
    if reduction == "none":
        return per.astype(out_dtype)
    total = jnp.sum(per)
    if reduction == "sum":
        return total.astype(out_dtype)
    if denominator is None:
        return (total / per.size).astype(out_dtype)
    return _safe_div(total, denominator).astype(out_dtype)


def _work(x):
    return compute_dtype(x.dtype)


def _cast(a, dtype):
    return None if a is None else a.astype(dtype)


@jax.custom_jvp
def _abs(d):
    return jnp.abs(d)


# d|d| = sign(d): 0 at d = 0, as torch's l1_loss backward (jnp.abs gives 1 there)
_abs.defjvps(lambda t, ans, d: jnp.sign(d) * t)


# ----------------------------------------------------------------------------
# binary cross-entropy on probabilities
# ----------------------------------------------------------------------------
def _bce_floors(dtype) -> tuple[float, float]:
    """(floor for p, floor for 1 - p) in the derivative's denominators.

    p == 1 in ``dtype`` stands for any 1 - p below half the spacing under 1 (eps/4);
    p == 0 for any p below the smallest normal number (torch's e^-100 where that is
    larger, as in float64).
    """
    fi = jnp.finfo(dtype)
    return max(float(fi.tiny), math.exp(_LOG_FLOOR)), float(fi.eps) / 4


def _clamped_logs(p):
    return (
        jnp.maximum(jnp.log(p), _LOG_FLOOR),
        jnp.maximum(jnp.log1p(-p), _LOG_FLOOR),
    )


@partial(jax.custom_jvp, nondiff_argnums=(2, 3))
def _bce_core(p, y, p_floor, q_floor):
    log_p, log_q = _clamped_logs(p)
    return -(y * log_p) - (1 - y) * log_q


def _bce_jvp(p_floor, q_floor, primals, tangents):
    p, y = primals
    tp, ty = tangents
    log_p, log_q = _clamped_logs(p)
    out = -(y * log_p) - (1 - y) * log_q
    dout = jnp.zeros_like(out)
    if not isinstance(tp, SymbolicZero):
        # d/dp = (1 - y)/(1 - p) - y/p, each denominator kept at its floor: the exact
        # derivative of the unclamped loss wherever p and 1 - p are representable.
        dp = (1 - y) / jnp.maximum(1 - p, q_floor) - y / jnp.maximum(p, p_floor)
        dout = dout + dp * tp
    if not isinstance(ty, SymbolicZero):
        dout = dout + (log_q - log_p) * ty
    return out, dout


_bce_core.defjvp(_bce_jvp, symbolic_zeros=True)


@partial(jax.jit, static_argnames=("reduction",))
def _bce_impl(probs, targets, weight, reduction):
    work = _work(probs)
    p_floor, q_floor = _bce_floors(probs.dtype)
    per = _bce_core(probs.astype(work), targets.astype(work), p_floor, q_floor)
    if weight is not None:
        per = _times(weight.astype(work), per)
    return _finish(per, reduction, probs.dtype)


def binary_cross_entropy(probs, targets, *, weight=None, reduction="mean"):
    r"""Binary cross-entropy between probabilities and targets (torch's ``binary_cross_entropy``).

    .. math:: \ell = -w\,\bigl[y \max(\log p, -100) + (1 - y)\max(\log(1 - p), -100)\bigr],
              \qquad \frac{\partial \ell}{\partial p} = w\Bigl[\frac{1 - y}{\max(1 - p, b)}
              - \frac{y}{\max(p, a)}\Bigr]

    Args:
      probs: probabilities in [0, 1], any shape.
      targets: same shape as ``probs``; hard (0/1) or soft targets. Integer and bool
        targets are promoted.
      weight: None, or an array broadcastable to ``probs.shape`` that multiplies each
        element's loss (torch: "repeated to match input tensor shape").
      reduction: ``'mean'`` (sum / number of elements; weights are not normalised, as
        torch), ``'sum'`` or ``'none'``.

    Returns:
      The loss, in ``probs``' dtype: a scalar, or ``probs.shape`` for ``'none'``.

    Numerics and differences from torch:

    * **Value: as torch.** The logs are clamped at -100, so p = 0 or 1 exactly gives a
      finite loss (at most 100 per entry); ``log(1 - p)`` is ``log1p(-p)`` (exact for
      tiny p, where torch's ``log(1 - p)`` rounds to 0).
    * **Gradient: the derivative of the unclamped loss**, with its two denominators
      kept at a floor: ``a`` = the smallest normal number of ``probs``' dtype (e^-100
      in float64) for p, and ``b`` = eps/4 (half the spacing below 1) for 1 - p.
      It is finite for p = 0 and 1 (|∂ℓ/∂p| <= w/a) and exact wherever p and 1 - p
      are representable. torch instead divides (p - y) by ``max(p(1 - p), 1e-12)``,
      which (a) gives 0 instead of -1 at p = y = 1 and (b) caps |∂ℓ/∂p| at 1e12, so
      that ``sigmoid(z)`` followed by BCE with y = 1 gets a gradient of about
      1e12 * sigmoid(z) instead of -1 for z < -28: the training signal stalls.
      jaxact's gradient through ``jaxact.sigmoid`` stays -sigmoid(-z) ~ -1 there,
      down to the smallest normal p (tests/test_losses.py shows both).
    * **What no loss on probabilities can fix:** once ``sigmoid(z)`` rounds to exactly
      1 (z > 17.3 in float32, 37.4 in float64) the distance from 1 is lost in the
      forward pass. With y = 0 the true gradient is ~1; jaxact's is
      sigmoid'(z) / b <= 1 and falls to ~1e-10 at z = 40 (torch's: exactly 0). The
      floor b keeps it from overshooting: with torch's 1e-12 and jaxact's accurate
      sigmoid' it would reach 2e3 at z = 20. **Use**
      :func:`binary_cross_entropy_with_logits` on the logits instead: it takes z
      itself and its gradient is sigmoid(z) - y at every z.
    * Outside jit, ``probs`` outside [0, 1] raise :class:`LossError` (torch raises
      too); inside jit they give NaN. NaN in gives NaN out.
    """
    fn = "binary_cross_entropy"
    reduction = _reduction(fn, reduction)
    p = _prediction(fn, "probs", probs)
    y = _array(fn, "targets", targets)
    _same_shape(fn, "targets", y, "probs", p.shape)
    w = _broadcast_weight(fn, "weight", weight, p.shape)
    values = _concrete(p)
    if values is not None:
        values = values.astype(np.float64)
        bad = (values < 0) | (values > 1)
        if bad.any():
            raise LossError(
                f"{fn}: argument 'probs' has {int(bad.sum())} value(s) outside [0, 1], e.g. "
                f"{_first_bad(values, bad)}; allowed: probabilities in [0, 1]. Raw logits? "
                "Use binary_cross_entropy_with_logits(logits, targets)."
            )
    return _bce_impl(p, y, w, reduction)


# ----------------------------------------------------------------------------
# binary cross-entropy on logits
# ----------------------------------------------------------------------------
@partial(jax.jit, static_argnames=("reduction",))
def _bce_logits_impl(logits, targets, weight, pos_weight, reduction):
    work = _work(logits)
    x, y = logits.astype(work), targets.astype(work)
    positive = y if pos_weight is None else pos_weight.astype(work) * y
    # -(1 - y) log(1 - sigmoid(x)) = (1 - y) softplus(x);  -log sigmoid(x) = softplus(-x)
    per = _times(1 - y, softplus(x)) + _times(positive, softplus(-x))
    if weight is not None:
        per = _times(weight.astype(work), per)
    return _finish(per, reduction, logits.dtype)


def binary_cross_entropy_with_logits(logits, targets, *, weight=None, pos_weight=None, reduction="mean"):
    r"""Binary cross-entropy on logits, sigmoid included (torch's ``binary_cross_entropy_with_logits``).

    .. math:: \ell = w\,\bigl[p_w\, y\, \mathrm{softplus}(-x) + (1 - y)\,\mathrm{softplus}(x)\bigr]
              = -w\,\bigl[p_w\, y \log\sigma(x) + (1 - y)\log(1 - \sigma(x))\bigr],
              \qquad \frac{\partial \ell}{\partial x} = w\,\bigl[(1 - y)\,\sigma(x) - p_w\, y\,\sigma(-x)\bigr]

    With ``pos_weight`` = 1 this is :math:`\max(x, 0) - x y + \log(1 + e^{-|x|})` and the
    gradient is :math:`\sigma(x) - y`.

    Args:
      logits: raw scores (no sigmoid applied), any shape.
      targets: same shape as ``logits``; hard or soft targets in [0, 1]. Integer and
        bool targets are promoted.
      weight: None or an array broadcastable to ``logits.shape``; multiplies each
        element's loss.
      pos_weight: None or an array broadcastable to ``logits.shape`` (typically one
        value per class, shape ``(C,)``, broadcast along the last axis as torch does):
        weight of the positive term, e.g. n_negative / n_positive for a class.
      reduction: ``'mean'`` (over all elements, weights not normalised, as torch),
        ``'sum'`` or ``'none'``.

    Returns:
      The loss in ``logits``' dtype: a scalar, or ``logits.shape`` for ``'none'``.

    Numerics: built on :func:`jaxact.softplus`, whose derivative is
    :func:`jaxact.sigmoid` evaluated without cancellation, so the value and the
    gradient are accurate for every logit: at +-1e4 the loss is 0 or |x| and the
    gradient is exactly sigmoid(x) - y, never a spurious 0 (this is the form to
    train with; see :func:`binary_cross_entropy` for what the probability form
    loses). A ``-inf`` logit used as a mask with target 0 (or a ``+inf`` logit with
    target 1) gives a loss of 0 and a zero gradient; a target that puts weight on a
    class whose probability is exactly 0 (a ``-inf`` logit with y > 0) gives an
    infinite loss, as the definition says, with a finite gradient. Zero weights give
    0 even where the loss is infinite. Same values as torch otherwise.
    """
    fn = "binary_cross_entropy_with_logits"
    reduction = _reduction(fn, reduction)
    x = _prediction(fn, "logits", logits)
    y = _array(fn, "targets", targets)
    _same_shape(fn, "targets", y, "logits", x.shape)
    w = _broadcast_weight(fn, "weight", weight, x.shape)
    pw = _broadcast_weight(fn, "pos_weight", pos_weight, x.shape)
    return _bce_logits_impl(x, y, w, pw, reduction)


# ----------------------------------------------------------------------------
# cross-entropy and nll_loss
# ----------------------------------------------------------------------------
def _without_neg_inf(logp):
    """log-probabilities with -inf (masked classes) replaced by 0: excluded from sums."""
    return jnp.where(logp == -INF, jnp.zeros_like(logp), logp)


@partial(jax.jit, static_argnames=("ignore_index", "smoothing", "reduction", "from_logits"))
def _class_index_impl(x, labels, weight, ignore_index, smoothing, reduction, from_logits):
    work = _work(x)
    xc = x.astype(work)
    logp = log_softmax(xc, axis=-1) if from_logits else xc
    n_classes = x.shape[-1]
    labels = labels.astype(jnp.result_type(int))
    valid = labels != ignore_index
    # the target entry by a one-hot select rather than a gather: elementwise like
    # log_softmax itself (which already costs O(C) per sample), and its transpose is a
    # select too, not a scatter; -inf entries that are not selected never reach the sum
    target = labels[..., None] == jnp.arange(n_classes)
    picked = jnp.sum(jnp.where(target, logp, jnp.zeros_like(logp)), axis=-1)
    class_w = jnp.ones((n_classes,), work) if weight is None else weight.astype(work)
    w_y = jnp.sum(jnp.where(target, class_w, jnp.zeros_like(class_w)), axis=-1)
    # a label out of range (only possible under jit, where it cannot be checked) gives NaN,
    # not a silently wrong class; ignored targets give 0 and weigh nothing
    in_range = (labels >= 0) & (labels < n_classes)
    w_y = jnp.where(valid, jnp.where(in_range, w_y, jnp.full_like(w_y, jnp.nan)), jnp.zeros_like(w_y))
    per = _times(w_y, -picked)
    if smoothing:
        smooth = -jnp.sum(class_w * _without_neg_inf(logp), axis=-1)
        smooth = jnp.where(valid, smooth, jnp.zeros_like(smooth))
        per = (1 - smoothing) * per + (smoothing / n_classes) * smooth
    return _finish(per, reduction, x.dtype, denominator=jnp.sum(w_y))


@partial(jax.jit, static_argnames=("smoothing", "reduction"))
def _probability_target_impl(x, targets, weight, smoothing, reduction):
    work = _work(x)
    logp = log_softmax(x.astype(work), axis=-1)
    n_classes = x.shape[-1]
    t = targets.astype(work)
    coef = t if weight is None else t * weight.astype(work)
    per = -jnp.sum(_times(coef, logp), axis=-1)
    if smoothing:
        class_w = 1 if weight is None else weight.astype(work)
        smooth = -jnp.sum(class_w * _without_neg_inf(logp), axis=-1)
        per = (1 - smoothing) * per + (smoothing / n_classes) * smooth
    return _finish(per, reduction, x.dtype)


def cross_entropy(logits, labels, *, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    r"""Cross-entropy between logits and class labels or class probabilities (torch's ``cross_entropy``).

    The class axis is the **last** axis (torch: axis 1). With class-index labels
    :math:`y_n`, class weights :math:`w_c` and smoothing :math:`\varepsilon` over
    :math:`C` classes (log p = :func:`jaxact.log_softmax` of the logits):

    .. math:: \ell_n = (1 - \varepsilon)\, w_{y_n} (-\log p_{n, y_n})
              + \frac{\varepsilon}{C} \sum_c w_c (-\log p_{n, c}), \qquad
              \ell_{\text{mean}} = \frac{\sum_n \ell_n}{\sum_n w_{y_n}}

    where samples with :math:`y_n` = ``ignore_index`` have :math:`\ell_n = 0` and are
    left out of both sums. With class probabilities :math:`t_{n,c}` (a float array of
    ``logits``' shape): :math:`\ell_n = -\sum_c w_c\, t'_{n,c} \log p_{n,c}` with
    :math:`t' = (1 - \varepsilon) t + \varepsilon / C`, and the mean is over samples
    (weights not normalised). These are torch's formulas, term by term. The gradient
    with respect to the logits is :math:`p - \text{onehot}(y)` (unweighted, unsmoothed).

    Args:
      logits: raw scores, shape ``(..., C)``.
      labels: integer class indices of shape ``logits.shape[:-1]``, or float class
        probabilities of shape ``logits.shape`` (the dtype decides, as torch).
      weight: None or one weight per class, shape ``(C,)``.
      ignore_index: a class-index label to skip (contributes 0 and is excluded from
        the mean). Not used with probability targets (torch refuses a
        non-negative one there, and so does jaxact).
      reduction: ``'mean'``, ``'sum'`` or ``'none'`` (shape ``logits.shape[:-1]``).
      label_smoothing: a Python float in [0, 1].

    Returns:
      The loss in ``logits``' dtype.

    Differences from torch, all deliberate:

    * **Nothing to normalise over:** if every label is ``ignore_index`` (or the
      targets' total weight is 0) the mean is 0 with a zero gradient; torch gives NaN.
    * **-inf logits are masks:** a ``-inf`` logit for a class that is not the target
      contributes 0 to the loss and gets a zero gradient, with label smoothing too:
      the smoothing sum skips classes whose log-probability is -inf (torch returns
      inf there, as its smoothed target puts mass on an impossible class; its
      probability-target form gives NaN from 0 * -inf). A ``-inf`` logit for the
      target class itself gives an infinite loss (as torch) and a zero gradient.
    * Out-of-range labels raise outside jit; under jit they give NaN (torch raises
      an index error on CPU and a device assert on GPU).
    * Logits of +-1e4 are fine: log_softmax subtracts the row maximum first.
    """
    fn = "cross_entropy"
    reduction = _reduction(fn, reduction)
    x = _prediction(fn, "logits", logits, min_ndim=1)
    ignore_index = _ignore_index(fn, ignore_index)
    smoothing = _static_number(fn, "label_smoothing", label_smoothing, 0.0, 1.0)
    w = _class_weight(fn, weight, x.shape[-1])
    t = _array(fn, "labels", labels)
    if jnp.issubdtype(t.dtype, jnp.integer):
        _class_labels(fn, t, x.shape, ignore_index)
        return _class_index_impl(x, t, w, ignore_index, smoothing, reduction, True)
    if jnp.issubdtype(t.dtype, jnp.floating):
        if tuple(t.shape) != tuple(x.shape):
            raise LossError(
                f"{fn}: argument 'labels' is a float array of shape {t.shape}, read as class "
                f"probabilities, which need the logits' shape {x.shape}; for class indices "
                f"pass an integer array of shape {x.shape[:-1]}"
            )
        if ignore_index >= 0:
            raise LossError(
                f"{fn}: argument 'ignore_index' = {ignore_index} cannot be used with class "
                "probabilities; allowed: a negative value (the default -100), or integer labels"
            )
        return _probability_target_impl(x, t, w, smoothing, reduction)
    raise LossError(
        f"{fn}: argument 'labels' has dtype {t.dtype}; allowed: integer class indices of shape "
        f"{x.shape[:-1]} or float class probabilities of shape {x.shape}"
    )


def nll_loss(log_probs, labels, *, weight=None, ignore_index=-100, reduction="mean"):
    r"""Negative log-likelihood of class-index labels given log-probabilities (torch's ``nll_loss``).

    .. math:: \ell_n = -w_{y_n} \log p_{n, y_n}, \qquad
              \ell_{\text{mean}} = \frac{\sum_n \ell_n}{\sum_n w_{y_n}}

    over the samples whose label is not ``ignore_index`` (those give 0). The class
    axis is the last axis. ``nll_loss(log_softmax(x), y) == cross_entropy(x, y)``.

    Args:
      log_probs: log-probabilities (<= 0), e.g. :func:`jaxact.log_softmax` of the
        logits, shape ``(..., C)``.
      labels: integer class indices of shape ``log_probs.shape[:-1]``.
      weight: None or one weight per class, shape ``(C,)``.
      ignore_index: a label value to skip.
      reduction: ``'mean'`` (weighted: divided by the sum of the counted targets'
        weights, as torch), ``'sum'`` or ``'none'``.

    Returns:
      The loss in ``log_probs``' dtype.

    Differences from torch: outside jit, values above 0 raise :class:`LossError`
    (they are probabilities or logits, not log-probabilities; torch accepts them and
    returns a meaningless number); out-of-range labels raise (under jit: NaN); a
    mean over zero total weight (all labels ignored) is 0 with a zero gradient, not
    NaN. A ``-inf`` log-probability for the target gives an infinite loss; ``-inf``
    elsewhere is never read.
    """
    fn = "nll_loss"
    reduction = _reduction(fn, reduction)
    x = _prediction(fn, "log_probs", log_probs, min_ndim=1)
    ignore_index = _ignore_index(fn, ignore_index)
    w = _class_weight(fn, weight, x.shape[-1])
    t = _array(fn, "labels", labels)
    if not jnp.issubdtype(t.dtype, jnp.integer):
        raise LossError(
            f"{fn}: argument 'labels' has dtype {t.dtype}; allowed: integer class indices of "
            f"shape {x.shape[:-1]} (for class probabilities use cross_entropy on logits)"
        )
    _class_labels(fn, t, x.shape, ignore_index)
    values = _concrete(x)
    if values is not None:
        values = values.astype(np.float64)
        bad = values > 0
        if bad.any():
            raise LossError(
                f"{fn}: argument 'log_probs' has {int(bad.sum())} value(s) above 0, e.g. "
                f"{_first_bad(values, bad)}; allowed: log-probabilities (<= 0) such as "
                "jaxact.log_softmax(logits). Probabilities or raw logits? Use "
                "cross_entropy(logits, labels)."
            )
    return _class_index_impl(x, t, w, ignore_index, 0.0, reduction, False)


# ----------------------------------------------------------------------------
# regression losses
# ----------------------------------------------------------------------------
@partial(jax.jit, static_argnames=("kind", "param", "reduction"))
def _regression_impl(pred, target, weight, kind, param, reduction):
    work = _work(pred)
    d = pred.astype(work) - target.astype(work)
    if kind == "mse":
        per = d * d
    elif kind == "l1" or param == 0.0:  # smooth_l1 with beta = 0 is l1, as torch
        per = _abs(d)
    else:
        a = _abs(d)
        small = a < param
        # the quadratic branch never sees a large d (no inf * 0 in its gradient)
        dq = jnp.where(small, d, jnp.zeros_like(d))
        if kind == "smooth_l1":
            per = jnp.where(small, 0.5 * dq * dq / param, a - 0.5 * param)
        else:  # huber
            per = jnp.where(small, 0.5 * dq * dq, param * (a - 0.5 * param))
    if weight is None:
        return _finish(per, reduction, pred.dtype)
    w = weight.astype(work)
    per = _times(w, per)
    # torch: mse/l1 divide by the sum of the weights, huber takes the plain mean
    denominator = None if kind == "huber" else jnp.sum(w)
    return _finish(per, reduction, pred.dtype, denominator=denominator)


def _regression(fn, pred, target, weight, kind, param, reduction, weighted=True):
    reduction = _reduction(fn, reduction)
    p = _prediction(fn, "pred", pred)
    t = _array(fn, "target", target)
    _same_shape(fn, "target", t, "pred", p.shape)
    w = _exact_weight(fn, weight, p.shape) if weighted else None
    return _regression_impl(p, t, w, kind, param, reduction)


def mse_loss(pred, target, *, weight=None, reduction="mean"):
    r"""Mean squared error (torch's ``mse_loss``).

    .. math:: \ell_i = w_i (x_i - y_i)^2, \qquad
              \ell_{\text{mean}} = \frac{\sum_i \ell_i}{\sum_i w_i}\ \text{(weighted)},\quad
              \frac{1}{N}\sum_i \ell_i\ \text{(unweighted)}

    Args:
      pred: predictions, any shape.
      target: same shape (jaxact does not broadcast; torch broadcasts with a warning).
      weight: None or one weight per element (``pred``'s shape, as torch).
      reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
      The loss in ``pred``'s dtype. Gradient :math:`2 w (x - y)`. With weights, the
      mean divides by the sum of the weights (torch's weighted mean); a total weight
      of 0 gives 0 (torch: NaN).
    """
    return _regression("mse_loss", pred, target, weight, "mse", 0.0, reduction)


def l1_loss(pred, target, *, weight=None, reduction="mean"):
    r"""Mean absolute error (torch's ``l1_loss``).

    .. math:: \ell_i = w_i |x_i - y_i|, \qquad \frac{\partial \ell_i}{\partial x_i} = w_i\,\mathrm{sign}(x_i - y_i)

    Args:
      pred: predictions, any shape.
      target: same shape (not broadcast).
      weight: None or one weight per element (``pred``'s shape, as torch).
      reduction: ``'mean'`` (with weights: divided by the sum of the weights, as torch;
        0 when that sum is 0, where torch gives NaN), ``'sum'`` or ``'none'``.

    Returns:
      The loss in ``pred``'s dtype. The derivative at x = y is 0, as torch's
      (``jnp.abs`` would give 1).
    """
    return _regression("l1_loss", pred, target, weight, "l1", 0.0, reduction)


def smooth_l1_loss(pred, target, *, beta=1.0, reduction="mean"):
    r"""Smooth L1 loss (torch's ``smooth_l1_loss``; Fast R-CNN).

    .. math:: \ell_i = \begin{cases} 0.5\,d_i^2 / \beta & |d_i| < \beta \\
              |d_i| - 0.5\,\beta & \text{otherwise} \end{cases}, \qquad d = x - y

    Args:
      pred, target: same shape.
      beta: a Python float >= 0; ``beta=0`` is :func:`l1_loss` (as torch).
      reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
      The loss in ``pred``'s dtype.

    ``huber_loss(x, y, delta=d) == d * smooth_l1_loss(x, y, beta=d)``. torch's
    ``smooth_l1_loss`` has no ``weight``, so neither has this one. The gradient is
    continuous (d/beta inside, sign(d) outside) and finite for infinite differences.
    """
    beta = _static_number("smooth_l1_loss", "beta", beta, 0.0, INF)
    return _regression("smooth_l1_loss", pred, target, None, "smooth_l1", beta, reduction, weighted=False)


def huber_loss(pred, target, *, delta=1.0, weight=None, reduction="mean"):
    r"""Huber loss (torch's ``huber_loss``).

    .. math:: \ell_i = w_i \begin{cases} 0.5\,d_i^2 & |d_i| < \delta \\
              \delta\,(|d_i| - 0.5\,\delta) & \text{otherwise} \end{cases}, \qquad d = x - y

    Args:
      pred, target: same shape.
      delta: a Python float > 0 (torch refuses 0 and negative values).
      weight: None or one weight per element (``pred``'s shape).
      reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
      The loss in ``pred``'s dtype; gradient :math:`w\,\mathrm{clip}(d, -\delta, \delta)`.

    ``huber_loss(x, y, delta=d) == d * smooth_l1_loss(x, y, beta=d)``. Note that
    with ``weight`` torch's (and so jaxact's) mean is the plain mean of the weighted
    losses, whereas :func:`mse_loss` and :func:`l1_loss` divide by the sum of the
    weights: jaxact keeps torch's numbers.
    """
    delta = _static_number("huber_loss", "delta", delta, 0.0, INF, low_open=True)
    return _regression("huber_loss", pred, target, weight, "huber", delta, reduction)
