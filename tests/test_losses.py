"""jaxact.losses against independent references.

Every expected value is a closed form evaluated here in float64 NumPy (SciPy's
``expit`` for the logistic function, ``np.logaddexp`` for softplus), written from
torch's documented formulas and not from jaxact's code; where torch is installed
the same cases are compared with torch itself (those tests skip otherwise).

Bounds: float64 values and gradients within ``RTOL`` = 1e-12 relative (plus
``ATOL`` = 1e-14 absolute for entries near 0) of the references; bfloat16 /
float16 within 1 ULP of the float64 reference (they are computed in float32 and
rounded once); float32 within 1e-6 relative.

Compilation dominates the run time, so most checks evaluate every reduction and
its gradient in one jit (``_all_reductions``).
"""
from __future__ import annotations

import functools
import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.special import expit

import jaxact
from jaxact import losses as L

RTOL, ATOL = 1e-12, 1e-14
REDUCTIONS = ("mean", "sum", "none")
NEG_INF = -np.inf


# ----------------------------------------------------------------------------
# float64 references (torch's documented formulas)
# ----------------------------------------------------------------------------
def ref_log_softmax(x):
    x = np.asarray(x, np.float64)
    m = np.max(x, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return x - m - np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))


def ref_softmax(x):
    return np.exp(ref_log_softmax(x))


def _reduce(per, reduction, denominator=None):
    per = np.asarray(per, np.float64)
    if reduction == "none":
        return per
    if reduction == "sum":
        return per.sum()
    if denominator is None:
        return per.mean()
    return per.sum() / denominator if denominator != 0 else 0.0


def ref_cross_entropy(x, y, weight=None, ignore_index=-100, smoothing=0.0, reduction="mean"):
    """Class-index targets, sample by sample: (1 - eps) w_y nll + eps/C sum_c w_c (-log p_c).

    Classes whose log-probability is -inf (masked logits) are left out of the
    smoothing sum (jaxact's documented choice; torch gives inf there).
    """
    x = np.asarray(x, np.float64)
    C = x.shape[-1]
    lp = ref_log_softmax(x).reshape(-1, C)
    labels = np.asarray(y).reshape(-1)
    w = np.ones(C) if weight is None else np.asarray(weight, np.float64)
    per, den = [], 0.0
    for n, label in enumerate(labels):
        if label == ignore_index:
            per.append(0.0)
            continue
        smooth = -sum(w[c] * lp[n, c] for c in range(C) if lp[n, c] != NEG_INF)
        per.append((1 - smoothing) * w[label] * -lp[n, label] + smoothing / C * smooth)
        den += w[label]
    return _reduce(np.reshape(per, x.shape[:-1]), reduction, den)


def ref_cross_entropy_grad(x, y, weight=None, ignore_index=-100, smoothing=0.0, reduction="mean"):
    """d loss / d logits: (1 - eps) w_y (p - e_y) + eps/C (W_live p - w live), per sample."""
    x = np.asarray(x, np.float64)
    C = x.shape[-1]
    p = ref_softmax(x).reshape(-1, C)
    live = (ref_log_softmax(x) != NEG_INF).reshape(-1, C)
    labels = np.asarray(y).reshape(-1)
    w = np.ones(C) if weight is None else np.asarray(weight, np.float64)
    g, den = np.zeros_like(p), 0.0
    for n, label in enumerate(labels):
        if label == ignore_index:
            continue
        onehot = np.eye(C)[label]
        g[n] = (1 - smoothing) * w[label] * (p[n] - onehot) * live[n]
        g[n] += smoothing / C * ((w * live[n]).sum() * p[n] - w * live[n])
        den += w[label]
    if reduction == "mean":
        g = g / den if den else np.zeros_like(g)
    return g.reshape(x.shape)


def ref_cross_entropy_probs(x, t, weight=None, smoothing=0.0, reduction="mean"):
    x, t = np.asarray(x, np.float64), np.asarray(t, np.float64)
    C = x.shape[-1]
    lp = ref_log_softmax(x)
    w = np.ones(C) if weight is None else np.asarray(weight, np.float64)
    with np.errstate(invalid="ignore"):
        hard = -np.sum(np.where(t == 0, 0.0, w * t * lp), axis=-1)
    smooth = -np.sum(np.where(lp == NEG_INF, 0.0, w * lp), axis=-1)
    return _reduce((1 - smoothing) * hard + smoothing / C * smooth, reduction)


def ref_bce(p, y, weight=None, reduction="mean"):
    p, y = np.asarray(p, np.float64), np.asarray(y, np.float64)
    with np.errstate(divide="ignore"):
        per = -(y * np.maximum(np.log(p), -100.0) + (1 - y) * np.maximum(np.log1p(-p), -100.0))
    if weight is not None:
        per = per * weight
    return _reduce(per, reduction)


def ref_bce_logits(x, y, weight=None, pos_weight=None, reduction="mean"):
    """w [pw y softplus(-x) + (1 - y) softplus(x)], 0 * inf = 0."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    pw = 1.0 if pos_weight is None else np.asarray(pos_weight, np.float64)
    with np.errstate(invalid="ignore"):
        pos = np.where(pw * y == 0, 0.0, pw * y * np.logaddexp(0.0, -x))
        neg = np.where(1 - y == 0, 0.0, (1 - y) * np.logaddexp(0.0, x))
    per = pos + neg
    if weight is not None:
        per = per * weight
    return _reduce(per, reduction)


def ref_bce_logits_grad(x, y, weight=None, pos_weight=None, reduction="mean"):
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    pw = 1.0 if pos_weight is None else np.asarray(pos_weight, np.float64)
    g = (1 - y) * expit(x) - pw * y * expit(-x)
    if weight is not None:
        g = g * weight
    return g / x.size if reduction == "mean" else g


def ref_regression(kind, x, y, param=None, weight=None, reduction="mean"):
    d = np.asarray(x, np.float64) - np.asarray(y, np.float64)
    a = np.abs(d)
    if kind == "mse":
        per = d * d
    elif kind == "l1" or (kind == "smooth_l1" and param == 0):
        per = a
    elif kind == "smooth_l1":
        per = np.where(a < param, 0.5 * d * d / param, a - 0.5 * param)
    else:
        per = np.where(a < param, 0.5 * d * d, param * (a - 0.5 * param))
    if weight is None:
        return _reduce(per, reduction)
    per = per * weight
    return _reduce(per, reduction, None if kind == "huber" else np.sum(weight))


def ref_regression_grad(kind, x, y, param=None, weight=None, reduction="mean"):
    d = np.asarray(x, np.float64) - np.asarray(y, np.float64)
    if kind == "mse":
        g = 2 * d
    elif kind == "l1" or (kind == "smooth_l1" and param == 0):
        g = np.sign(d)
    elif kind == "smooth_l1":
        g = np.where(np.abs(d) < param, d / param, np.sign(d))
    else:
        g = np.where(np.abs(d) < param, d, param * np.sign(d))
    if weight is not None:
        g = g * weight
    if reduction == "mean":
        g = g / (d.size if weight is None or kind == "huber" else np.sum(weight))
    return g


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------
def _close(got, want, rtol=RTOL, atol=ATOL, what=""):
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=rtol, atol=atol, err_msg=what)


def _raises(parts, call):
    """``call()`` raises LossError whose message contains every string in ``parts``."""
    with pytest.raises(L.LossError) as info:
        call()
    for part in parts:
        assert part in str(info.value), f"{part!r} not in {str(info.value)!r}"
    return str(info.value)


def _evaluate(cases):
    """Evaluate many loss configurations in one jit (compilation dominates the run time).

    ``cases``: {name: (fn, x, args, kwargs, reductions)}. Returns {name: {reduction:
    (value, gradient)}}: the gradient of the value for 'mean', of its sum for 'none'
    (which is also the 'sum' reduction's gradient), None for 'sum' and for a
    reduction named with a '-value' suffix ('mean-value': the value only).  Arrays shared by
    several cases are passed once, so XLA computes what they share once.  Argument
    checks that need concrete values do not run under jit; the error tests call eagerly.
    """
    arrays, index = [], {}

    def ref(a):
        if id(a) not in index:
            index[id(a)] = len(arrays)
            arrays.append(a)
        return index[id(a)]

    plan = {name: (fn, ref(x), tuple(ref(a) for a in args), kwargs, reductions) for name, (fn, x, args, kwargs, reductions) in cases.items()}

    def run(arrays):
        out = {}
        for name, (fn, ix, iargs, kwargs, reductions) in plan.items():
            x, args = arrays[ix], tuple(arrays[i] for i in iargs)
            res = {}
            for name_r in reductions:
                r = name_r.removesuffix("-value")
                f = functools.partial(fn, reduction=r, **kwargs)
                if r == "sum" or name_r != r:
                    res[r] = (f(x, *args), None)
                elif r == "none":
                    res[r] = (f(x, *args), jax.grad(lambda v, f=f, args=args: jnp.sum(f(v, *args)))(x))
                else:
                    res[r] = jax.value_and_grad(f)(x, *args)
            out[name] = res
        return out

    return jax.jit(run)(arrays)


def _check(got, value, grad, reductions=None, rtol=RTOL, atol=ATOL, what=""):
    """Compare each reduction's value with ``value(r)`` and its gradient with ``grad(r)``."""
    for r in got if reductions is None else reductions:
        _close(got[r][0], value(r), rtol, atol, what=f"{what} {r}")
        if got[r][1] is not None:
            _close(got[r][1], grad("sum" if r == "none" else r), rtol, atol, what=f"{what} grad {r}")


RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 3, 5)) * 3  # any leading shape: (2, 3), classes along the last axis
Y = np.array([[0, 4, 2], [1, -100, 3]])
W = np.array([0.5, 2.0, 1.0, 0.25, 3.0])
T_SOFT = ref_softmax(RNG.normal(size=X.shape))
LP = ref_log_softmax(X)
# -inf logits as masks
XM = np.array([[1.0, NEG_INF, 0.5, -2.0], [NEG_INF, NEG_INF, 3.0, 0.0]])
YM = np.array([0, 3])
TM = np.array([[0.7, 0.0, 0.3, 0.0], [0.0, 0.0, 0.5, 0.5]])
ALL = REDUCTIONS
MEAN = ("mean",)
IGNORED = np.full(Y.shape, -100)


@functools.cache
def _classification():
    return _evaluate(
        {
            # the general case with every reduction; the simpler branches with fewer
            # (test_cross_entropy_properties covers the plain mean and its gradient)
            "index_w_smooth": (L.cross_entropy, X, (Y,), {"weight": W, "label_smoothing": 0.2}, ALL),
            "index_w": (L.cross_entropy, X, (Y,), {"weight": W}, ("mean-value",)),
            "index": (L.cross_entropy, X, (Y,), {}, ("none-value",)),
            "index_smooth": (L.cross_entropy, X, (Y,), {"label_smoothing": 0.2}, ("mean-value",)),
            "probs": (L.cross_entropy, X, (T_SOFT,), {}, MEAN),
            "probs_w_smooth": (L.cross_entropy, X, (T_SOFT,), {"weight": W, "label_smoothing": 0.25}, ("mean-value", "sum", "none-value")),
            "masked": (L.cross_entropy, XM, (YM,), {"weight": W[:4]}, ("none-value",)),
            "masked_smooth": (L.cross_entropy, XM, (YM,), {"weight": W[:4], "label_smoothing": 0.1}, ("mean-value", "none")),
            "masked_probs": (L.cross_entropy, XM, (TM,), {"label_smoothing": 0.1}, ("none",)),
            "masked_target": (L.cross_entropy, XM, (np.array([1, 3]),), {}, MEAN),
            "ignored_w_smooth": (L.cross_entropy, X, (IGNORED,), {"weight": W, "label_smoothing": 0.1}, MEAN),
            "ignored_nll": (L.nll_loss, LP, (np.full(Y.shape, 2),), {"ignore_index": 2}, MEAN),
            "nll_w": (L.nll_loss, LP, (Y,), {"weight": W}, ALL),
            "nll_masked": (L.nll_loss, np.where(np.arange(5) == 4, NEG_INF, LP), (np.where(Y == 4, 0, Y),), {}, ("mean-value",)),
            "out_of_range": (L.cross_entropy, X[0], (np.array([0, 7, -1]),), {}, ("mean-value", "none-value")),
        }
    )


# ----------------------------------------------------------------------------
# cross_entropy / nll_loss
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("case,weight,smoothing", [("index_w_smooth", W, 0.2), ("index_w", W, 0.0), ("index", None, 0.0), ("index_smooth", None, 0.2)])
def test_cross_entropy_class_indices(case, weight, smoothing):
    got = _classification()[case]
    _check(
        got,
        lambda r: ref_cross_entropy(X, Y, weight, -100, smoothing, r),
        lambda r: ref_cross_entropy_grad(X, Y, weight, -100, smoothing, r),
        what=case,
    )
    if case == "index_w_smooth":
        per = np.asarray(got["none"][0])
        assert per.shape == Y.shape and per[1, 1] == 0  # the ignored target contributes 0 ...
        # ... and nothing to the denominator: torch's weighted mean, sum(l) / sum(w_y) over counted targets
        _close(got["mean"][0], per.sum() / W[Y[Y != -100]].sum())
        assert np.all(np.asarray(got["mean"][1])[1, 1] == 0)


def test_cross_entropy_label_smoothing_is_torchs_formula():
    """eps = 1 gives the mean over classes of -w_c log p_c, divided by the counted weights."""
    x, y = X[0], Y[0]
    got = L.cross_entropy(x, y, label_smoothing=1.0, reduction="none")
    _close(got, np.mean(-ref_log_softmax(x), axis=-1))


def test_cross_entropy_all_ignored_is_zero_with_zero_gradient():
    """torch returns NaN (0/0); jaxact returns 0 with a zero gradient (documented)."""
    got = _classification()
    for case in ("ignored_w_smooth", "ignored_nll"):
        for r, (value, grad) in got[case].items():
            assert np.all(np.asarray(value) == 0), (case, r)
            assert grad is None or np.all(np.asarray(grad) == 0), (case, r)


def test_cross_entropy_probability_targets():
    got = _classification()
    _check(
        got["probs_w_smooth"],
        lambda r: ref_cross_entropy_probs(X, T_SOFT, W, 0.25, r),
        lambda r: None,
        reductions=("sum",),
    )
    for r in ("mean", "none"):
        _close(got["probs_w_smooth"][r][0], ref_cross_entropy_probs(X, T_SOFT, W, 0.25, r))
    # unweighted mean over the 6 samples, gradient (sum(t) p - t) / N
    value, grad = got["probs"]["mean"]
    _close(value, ref_cross_entropy_probs(X, T_SOFT))
    _close(grad, (T_SOFT.sum(-1, keepdims=True) * ref_softmax(X) - T_SOFT) / 6)


def test_cross_entropy_neg_inf_logits_are_masks():
    """A -inf logit for a non-target class: finite loss, zero gradient there, with smoothing too."""
    got = _classification()
    for case, smoothing in (("masked", 0.0), ("masked_smooth", 0.1)):
        _check(
            got[case],
            lambda r: ref_cross_entropy(XM, YM, W[:4], -100, smoothing, r),
            lambda r: ref_cross_entropy_grad(XM, YM, W[:4], -100, smoothing, r),
            what=case,
        )
        for value, grad in got[case].values():
            if grad is None:
                continue
            grad = np.asarray(grad)
            assert np.all(np.isfinite(grad)) and np.all(grad[np.isinf(XM)] == 0)
    # probability targets with zero mass on the masked classes: finite (torch: NaN from 0 * -inf)
    value, grad = got["masked_probs"]["none"]
    _close(value, ref_cross_entropy_probs(XM, TM, None, 0.1, "none"))
    assert np.all(np.isfinite(grad)) and np.all(np.asarray(grad)[np.isinf(XM)] == 0)
    # the target class itself masked: an infinite loss (the definition), a finite zero gradient
    value, grad = got["masked_target"]["mean"]
    assert value == np.inf and np.all(np.isfinite(grad))


def test_nll_loss():
    got = _classification()
    g = np.zeros_like(LP)  # d/d log_probs: -w_y at the target, nothing elsewhere
    for idx in np.ndindex(Y.shape):
        if Y[idx] != -100:
            g[idx + (Y[idx],)] = -W[Y[idx]]
    _check(
        got["nll_w"],
        lambda r: ref_cross_entropy(X, Y, W, -100, 0.0, r),
        lambda r: g if r == "sum" else g / W[Y[Y != -100]].sum(),
        what="nll",
    )
    # -inf log-probabilities for classes other than the target are never read
    assert np.isfinite(got["nll_masked"]["mean"][0])


def test_nll_loss_rejects_values_above_zero():
    _raises(
        ["nll_loss", "'log_probs'", "above 0", "<= 0", "log_softmax", "cross_entropy", "at index (0, 0, 0)"],
        lambda: L.nll_loss(ref_softmax(X), Y),
    )
    _raises(["'log_probs'", "1e-07"], lambda: L.nll_loss(np.array([[-1.0, 1e-7]]), np.array([0])))
    _raises(["nll_loss", "'labels'", "float", "integer"], lambda: L.nll_loss(LP, Y.astype(np.float64)))


def test_labels_checked_outside_jit_nan_inside():
    x = X[0]
    msg = _raises(["cross_entropy", "'labels'", "7", "[0, 5)", "ignore_index (-100)"], lambda: L.cross_entropy(x, np.array([0, 7, 1])))
    assert "index (1,)" in msg
    _raises(["'labels'", "-1"], lambda: L.cross_entropy(x, np.array([0, -1, 1])))
    _raises(["nll_loss", "'labels'", "5"], lambda: L.nll_loss(LP[0], np.array([5, 0, 1])))
    _raises(["'labels'"], lambda: jax.grad(L.cross_entropy)(x, np.array([0, 9, 1])))
    # inside jit nothing can be checked: the bad samples are NaN, never a silently wrong class
    got = _classification()["out_of_range"]
    per = np.asarray(got["none"][0])
    assert np.isfinite(per[0]) and np.isnan(per[1]) and np.isnan(per[2])
    assert np.isnan(got["mean"][0])


def test_cross_entropy_argument_errors():
    x, y = X[0], Y[0]
    _raises(["'labels'", "(2,)", "(3,)"], lambda: L.cross_entropy(x, np.array([0, 1])))
    _raises(["'labels'", "float", "(3,)", "(3, 5)", "integer"], lambda: L.cross_entropy(x, np.array([0.0, 1.0, 2.0])))
    _raises(["'labels'", "bool"], lambda: L.cross_entropy(x, np.array([True, False, True])))
    _raises(["'weight'", "(4,)", "(5,)"], lambda: L.cross_entropy(x, y, weight=np.ones(4)))
    _raises(["'label_smoothing'", "1.5", "[0, 1]"], lambda: L.cross_entropy(x, y, label_smoothing=1.5))
    _raises(["'label_smoothing'", "-0.1"], lambda: L.cross_entropy(x, y, label_smoothing=-0.1))
    _raises(["'label_smoothing'", "static"], lambda: jax.jit(lambda e: L.cross_entropy(x, y, label_smoothing=e))(0.1))
    _raises(["'ignore_index'", "0", "probabilities"], lambda: L.cross_entropy(x, ref_softmax(x), ignore_index=0))
    _raises(["'ignore_index'", "1.5", "int"], lambda: L.cross_entropy(x, y, ignore_index=1.5))
    _raises(["'logits'", "()", "at least 1"], lambda: L.cross_entropy(1.0, 0))
    _raises(["'logits'", "complex"], lambda: L.cross_entropy(np.ones(3, np.complex64), 0))
    assert issubclass(L.LossError, ValueError) and issubclass(L.LossError, jaxact.ActivationError)


@pytest.mark.parametrize(
    "call",
    [
        lambda r: L.cross_entropy(X, Y, reduction=r),
        lambda r: L.nll_loss(LP, Y, reduction=r),
        lambda r: L.binary_cross_entropy(np.full(3, 0.5), np.ones(3), reduction=r),
        lambda r: L.binary_cross_entropy_with_logits(np.zeros(3), np.ones(3), reduction=r),
        lambda r: L.mse_loss(np.zeros(3), np.ones(3), reduction=r),
        lambda r: L.l1_loss(np.zeros(3), np.ones(3), reduction=r),
        lambda r: L.smooth_l1_loss(np.zeros(3), np.ones(3), reduction=r),
        lambda r: L.huber_loss(np.zeros(3), np.ones(3), reduction=r),
    ],
    ids=["cross_entropy", "nll_loss", "bce", "bce_logits", "mse", "l1", "smooth_l1", "huber"],
)
def test_bad_reduction_names_the_allowed_set(call):
    for bad in ("avg", "elementwise_mean", None, 1):
        _raises(["'reduction'", repr(bad), "'mean', 'sum' or 'none'"], lambda: call(bad))


@jax.jit
def _ce_properties(x, y, w):
    onehot = jax.nn.one_hot(y, x.shape[-1], dtype=x.dtype)
    pairs = {}
    for smoothing, r in ((0.0, "sum"), (0.1, "none")):
        kw = dict(weight=w, label_smoothing=smoothing, reduction=r)
        pairs[f"{r} smoothing={smoothing}"] = (L.cross_entropy(x, y, **kw), L.cross_entropy(x, onehot, **kw))
    pairs["mean"] = (L.cross_entropy(x, y), L.cross_entropy(x, onehot))
    pairs["nll"] = (L.nll_loss(jaxact.log_softmax(x), y), L.cross_entropy(x, y))
    return pairs, jax.grad(L.cross_entropy)(x, y)


@given(
    x=hnp.arrays(np.float64, (4, 5), elements=st.floats(-50, 50)),
    y=hnp.arrays(np.int64, (4,), elements=st.integers(0, 4)),
    w=hnp.arrays(np.float64, (5,), elements=st.floats(0.1, 5)),
)
def test_cross_entropy_properties(x, y, w):
    """One-hot probability targets == class indices (any weights and smoothing; the unweighted
    mean too); nll_loss(log_softmax(x)) == cross_entropy(x); d/dx = (softmax - onehot) / N."""
    pairs, grad = _ce_properties(x, y, w)
    for key, (a, b) in pairs.items():
        _close(a, b, rtol=1e-13, atol=1e-13, what=str(key))
    _close(grad, (ref_softmax(x) - np.eye(5)[y]) / 4, rtol=1e-12, atol=1e-16)


def test_cross_entropy_extreme_logits():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [1e4, 1e4, -1e4]])
    y = np.array([1, 1, 0])

    @jax.jit
    def run(x64):
        out = {}
        for dtype in (jnp.float32, jnp.bfloat16):
            v = x64.astype(dtype)
            out[str(np.dtype(dtype))] = (L.cross_entropy(v, y, reduction="none"), jax.grad(L.cross_entropy)(v, y))
        return out

    for dtype, (per, grad) in run(x).items():
        _close(per, [2e4, 0.0, np.log(2.0)], rtol=1e-6 if dtype != "bfloat16" else 2**-8, what=dtype)
        assert bool(jnp.all(jnp.isfinite(grad))), dtype
        _close(grad, (ref_softmax(x) - np.eye(3)[y]) / 3, rtol=1e-6, atol=1e-7 if dtype != "bfloat16" else 2**-9, what=dtype)


# ----------------------------------------------------------------------------
# binary cross-entropy and the regression losses: one program
# ----------------------------------------------------------------------------
P = np.array([[0.0, 1.0, 0.3, 1e-300], [0.999, 0.5, 1.0, 0.0]])
T = np.array([[1.0, 0.0, 0.0, 1.0], [1.0, 0.25, 1.0, 0.0]])
W_P = np.array([2.0, 0.5, 1.0, 3.0])  # broadcast along the last axis
XL = RNG.normal(size=(2, 4)) * 4
YL = np.array([[1.0, 0.0, 0.3, 1.0], [0.0, 1.0, 1.0, 0.5]])
W_LOGITS = np.array([[1.0], [0.5]])  # broadcast over the last axis
PW = np.array([1.0, 3.0, 0.5, 2.0])  # one per class
XR = np.array([[0.0, 0.3, -2.5, 4.0], [1.0, -0.05, 10.0, -1.0]])
YR = np.array([[0.0, 0.0, 0.0, 1.0], [1.5, 0.0, -3.0, -1.0]])
WR = np.array([[1.0, 2.0, 0.5, 0.0], [3.0, 1.0, 1.0, 0.25]])
REGRESSION = [  # (the default beta = delta = 1 is covered by the hand-computed cases)
    ("mse", L.mse_loss, None),
    ("l1", L.l1_loss, None),
    ("smooth_l1", L.smooth_l1_loss, 0.5),
    ("smooth_l1", L.smooth_l1_loss, 0.0),
    ("huber", L.huber_loss, 2.0),
]


def _param(kind, param):
    return {} if param is None else {"beta" if kind == "smooth_l1" else "delta": param}


@functools.cache
def _elementwise():
    cases = {
        "bce": (L.binary_cross_entropy, P, (T,), {"weight": W_P}, ALL),
        "bce_outside": (L.binary_cross_entropy, np.array([1.5]), (np.array([0.0]),), {}, ("none-value",)),
        "bce_logits": (L.binary_cross_entropy_with_logits, XL, (YL,), {"weight": W_LOGITS}, ("none",)),
        "bce_logits_pw": (L.binary_cross_entropy_with_logits, XL, (YL,), {"weight": W_LOGITS, "pos_weight": PW}, ALL),
        "bce_logits_pw1": (L.binary_cross_entropy_with_logits, XL, (YL,), {"pos_weight": np.ones(4)}, ("none-value",)),
    }
    for kind, fn, param in REGRESSION:
        cases[f"{kind}-{param}"] = (fn, XR, (YR,), _param(kind, param), ("mean-value", "none"))
        if kind != "smooth_l1":  # torch's smooth_l1_loss has no weight
            cases[f"{kind}-{param}-w"] = (fn, XR, (YR,), {**_param(kind, param), "weight": WR}, ("mean", "sum"))
    x, y, w = np.array([1.0, 3.0]), np.array([0.0, 0.0]), np.array([1.0, 3.0])
    for name, fn in [("mse", L.mse_loss), ("l1", L.l1_loss), ("huber", L.huber_loss)]:
        cases[f"hand-{name}"] = (fn, x, (y,), {"weight": w}, ("mean-value",))
        if name != "huber":  # huber's weighted mean is a plain mean: nothing to divide by 0
            cases[f"zero-weight-{name}"] = (fn, x, (y,), {"weight": np.zeros(2)}, MEAN)
    inf = np.array([np.inf, -np.inf, 2.0])
    for name, fn, kw in [("smooth_l1", L.smooth_l1_loss, {"beta": 1.0}), ("huber", L.huber_loss, {"delta": 2.0}), ("l1", L.l1_loss, {})]:
        cases[f"inf-{name}"] = (fn, inf, (np.zeros(3),), kw, ("none",))
    return _evaluate(cases)


def test_binary_cross_entropy_values_and_gradients():
    got = _elementwise()["bce"]
    for r in REDUCTIONS:
        _close(got[r][0], ref_bce(P, T, W_P, r), what=r)
    per = np.asarray(got["none"][0])
    assert per[0, 0] == 2 * 100 and per[0, 1] == 0.5 * 100  # torch's clamp of the logs at -100
    assert per[0, 3] == 3 * 100  # log(1e-300) = -690.8, clamped to -100
    g = np.asarray(got["none"][1])
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(got["mean"][1]))
    _close(got["mean"][1], g / P.size)
    # interior points: the exact derivative of the (unclamped) loss, w (p - y) / (p (1 - p))
    for i, j in [(0, 2), (1, 0), (1, 1)]:
        _close(g[i, j], W_P[j] * (P[i, j] - T[i, j]) / (P[i, j] * (1 - P[i, j])))
    # p = y exactly: the one-sided derivatives of -log p at 1 (-1) and of -log(1 - p) at 0 (1)
    assert g[1, 2] == -1.0 and g[1, 3] == 3.0
    # p = 0 with y = 1 and p = 1 with y = 0: large but finite (denominators at their floors)
    _close(g[0, 0], -2.0 / np.exp(-100.0), rtol=1e-15)
    assert g[0, 1] == 0.5 / (np.finfo(np.float64).eps / 4)
    # below e^-100 the value is clamped and the gradient is that of the floor, as for p = 0
    assert g[0, 3] == 3 * g[0, 0] / 2


def test_binary_cross_entropy_rejects_probabilities_outside_0_1():
    msg = _raises(
        ["binary_cross_entropy", "'probs'", "outside [0, 1]", "1.5", "binary_cross_entropy_with_logits"],
        lambda: L.binary_cross_entropy(np.array([0.2, 1.5]), np.array([0.0, 1.0])),
    )
    assert "index (1,)" in msg
    _raises(["'probs'", "-0.1"], lambda: L.binary_cross_entropy(np.array([-0.1]), np.array([0.0])))
    _raises(["'probs'"], lambda: jax.grad(L.binary_cross_entropy)(np.array([2.0]), np.array([0.0])))
    _raises(["'targets'", "(3,)", "(2,)"], lambda: L.binary_cross_entropy(np.array([0.2, 0.5]), np.ones(3)))
    _raises(["'weight'", "(3,)", "(2,)"], lambda: L.binary_cross_entropy(np.array([0.2, 0.5]), np.ones(2), weight=np.ones(3)))
    _raises(["'pos_weight'", "(3,)"], lambda: L.binary_cross_entropy_with_logits(np.zeros((2, 2)), np.ones((2, 2)), pos_weight=np.ones(3)))
    # inside jit there is no check: NaN
    assert np.isnan(_elementwise()["bce_outside"]["none"][0][0])


def _torch_bce_probability_gradient(p, y):
    """torch's binary_cross_entropy backward (aten/src/ATen/native/Loss.cpp):
    (p - y) / max(p (1 - p), 1e-12), in float32."""
    p, y = np.float32(p), np.float32(y)
    return (p - y) / np.maximum((np.float32(1) - p) * p, np.float32(1e-12))


@functools.cache
def _through_sigmoid():
    def prob_form(z, y):
        return L.binary_cross_entropy(jaxact.sigmoid(z), y)

    def logits_form(z, y):
        return L.binary_cross_entropy_with_logits(z, y)

    @jax.jit
    def run(negative, positive):
        one, zero = jnp.float32(1.0), jnp.float32(0.0)
        return {
            "negative": jax.vmap(jax.grad(prob_form), (0, None))(negative, one),
            "positive": jax.vmap(jax.grad(prob_form), (0, None))(positive, zero),
            "positive_logits": jax.vmap(jax.grad(logits_form), (0, None))(positive, zero),
        }

    negative = jnp.linspace(-85.0, -18.0, 68, dtype=jnp.float32)  # includes -40
    positive = jnp.linspace(14.0, 60.0, 200, dtype=jnp.float32)
    return negative, positive, run(negative, positive)


def test_binary_cross_entropy_does_not_stall_where_torch_does():
    """sigmoid(z) then BCE with y = 1 at z = -40 (float32): sigmoid(-40) = 4.2e-18 is
    representable, so the true gradient, -sigmoid(40) ~ -1, is within reach.  torch caps
    1/p at 1e12 and gets 1e12 * sigmoid'(-40) ~ -4e-6: the example stops being learnt.
    jaxact keeps the exact derivative down to the smallest normal p (z ~ -87)."""
    negative, _, got = _through_sigmoid()
    z = np.asarray(negative, np.float64)
    _close(got["negative"], -expit(-z), rtol=1e-5)
    i = int(np.argmin(np.abs(z + 40)))
    assert z[i] == -40 and abs(float(got["negative"][i]) + 1) < 1e-6
    s = np.float32(expit(-40.0))
    torch_like = _torch_bce_probability_gradient(s, 1.0) * s * (1 - s)
    assert abs(torch_like) < 1e-5  # what torch's formula gives there: the stall


def test_binary_cross_entropy_on_probabilities_cannot_recover_a_rounded_sigmoid():
    """With y = 0 and z > 17.3, sigmoid(z) rounds to 1 in float32: the distance is lost in
    the forward pass.  The gradient then falls short of the true ~1 (torch: exactly 0); it
    never overshoots (a torch-style 1e-12 floor with jaxact's accurate sigmoid' would give
    2e3 at z = 20); binary_cross_entropy_with_logits on z gets it right."""
    _, positive, got = _through_sigmoid()
    grads = np.asarray(got["positive"], np.float64)
    assert np.all(np.isfinite(grads)) and np.all(grads >= 0)
    assert np.all(grads <= 1.5)  # within the rounding of sigmoid(z) to the float below 1
    rounded = np.asarray(jaxact.sigmoid(positive)) == 1
    assert rounded.any() and np.all(grads[rounded] <= 1.05)
    assert grads[-1] < 1e-15  # stalled, as documented
    _close(got["positive_logits"], expit(np.asarray(positive, np.float64)), rtol=1e-6)
    assert 1e12 * expit(20.0) * expit(-20.0) > 1e3  # the torch-style floor, for contrast


def test_binary_cross_entropy_with_logits_values_and_gradients():
    got = _elementwise()
    for case, pw in (("bce_logits", None), ("bce_logits_pw", PW)):
        _check(
            got[case],
            lambda r: ref_bce_logits(XL, YL, W_LOGITS, pw, r),
            lambda r: ref_bce_logits_grad(XL, YL, W_LOGITS, pw, r),
            what=case,
        )
    # pos_weight = 1 is the plain loss max(x, 0) - x y + log(1 + e^-|x|)
    plain = np.maximum(XL, 0) - XL * YL + np.log1p(np.exp(-np.abs(XL)))
    _close(got["bce_logits_pw1"]["none"][0], plain)


def test_binary_cross_entropy_with_logits_extremes():
    x = np.array([1e4, -1e4, 1e4, -1e4, NEG_INF, np.inf, NEG_INF])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0])
    mask = np.array([1, 1, 1, 1, 1, 1, 0.0])

    @jax.jit
    def run(x64):
        out = {}
        for dtype in (jnp.float32, jnp.bfloat16):
            v = x64.astype(dtype)
            f = functools.partial(L.binary_cross_entropy_with_logits, reduction="sum")
            out[str(np.dtype(dtype))] = (
                v,
                L.binary_cross_entropy_with_logits(v, y, reduction="none"),
                jax.grad(f)(v, y),
                f(v, y, weight=mask),
            )
        return out

    for dtype, (xd, per, g, masked) in run(x).items():
        per, g = np.asarray(per, np.float64), np.asarray(g, np.float64)
        assert per[0] == 0 and per[1] == 0 and per[4] == 0 and per[5] == 0, dtype
        _close(per[2:4], np.abs(np.asarray(xd[2:4], np.float64)), rtol=1e-15)  # |x| as rounded to dtype
        assert per[6] == np.inf  # target 1 on an impossible class: the definition
        np.testing.assert_array_equal(g, [0.0, 0.0, 1.0, -1.0, 0.0, 0.0, -1.0], err_msg=dtype)
        _close(masked, 2 * abs(float(xd[2])), rtol=1e-15)  # a zero weight masks even an infinite loss


@jax.jit
def _logits_vs_probs(x, y):
    a = L.binary_cross_entropy_with_logits(x, y, reduction="none")
    b = L.binary_cross_entropy(jaxact.sigmoid(x), y, reduction="none")
    ga = jax.grad(L.binary_cross_entropy_with_logits)(x, y)
    gb = jax.grad(lambda v: L.binary_cross_entropy(jaxact.sigmoid(v), y))(x)
    return a, b, ga, gb


@given(
    x=hnp.arrays(np.float64, (8,), elements=st.floats(-10, 10)),
    y=hnp.arrays(np.float64, (8,), elements=st.floats(0, 1)),
)
def test_logits_form_equals_probability_form_in_the_safe_range(x, y):
    a, b, ga, gb = _logits_vs_probs(x, y)
    _close(a, b, rtol=1e-10, atol=1e-14)
    _close(ga, gb, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("kind,fn,param", REGRESSION, ids=[f"{k}-{p}" for k, _, p in REGRESSION])
def test_regression_losses(kind, fn, param):
    got = _elementwise()
    for w in (None, WR) if kind != "smooth_l1" else (None,):
        case = f"{kind}-{param}" + ("" if w is None else "-w")
        _check(
            got[case],
            lambda r: ref_regression(kind, XR, YR, param, w, r),
            lambda r: ref_regression_grad(kind, XR, YR, param, w, r),
            what=case,
        )
        # the derivative at d = 0 is 0 (torch's sign convention), for every one of them
        assert np.asarray(got[case]["none" if w is None else "mean"][1])[0, 0] == 0


def test_regression_weighted_means_follow_torch():
    """mse/l1: sum(w l) / sum(w); huber: mean(w l) (torch's own inconsistency, kept)."""
    got = _elementwise()
    _close(got["hand-mse"]["mean"][0], (1 + 27) / 4)
    _close(got["hand-l1"]["mean"][0], (1 + 9) / 4)
    _close(got["hand-huber"]["mean"][0], (0.5 + 3 * 2.5) / 2)
    for name in ("mse", "l1"):  # zero total weight: 0 with a zero gradient (torch: NaN)
        value, grad = got[f"zero-weight-{name}"]["mean"]
        assert value == 0 and np.all(np.asarray(grad) == 0)


def test_smooth_l1_beta_zero_is_l1_and_infinite_errors_have_finite_gradients():
    got = _elementwise()
    _close(got["smooth_l1-0.0"]["none"][0], np.abs(XR - YR))
    for name in ("smooth_l1", "huber", "l1"):
        value, grad = got[f"inf-{name}"]["none"]
        assert np.all(np.isinf(np.asarray(value)[:2])) and np.all(np.isfinite(grad)), name
        assert grad[0] > 0 > grad[1]


@jax.jit
def _huber_vs_smooth_l1(x, y):
    out = {}
    for delta in (0.5, 3.0):
        h = L.huber_loss(x, y, delta=delta, reduction="none")
        s = L.smooth_l1_loss(x, y, beta=delta, reduction="none")
        gh = jax.grad(L.huber_loss)(x, y, delta=delta)
        gs = jax.grad(L.smooth_l1_loss)(x, y, beta=delta)
        out[delta] = (h, delta * s, gh, delta * gs)
    return out


@given(
    x=hnp.arrays(np.float64, (8,), elements=st.floats(-20, 20)),
    y=hnp.arrays(np.float64, (8,), elements=st.floats(-20, 20)),
)
def test_huber_is_delta_times_smooth_l1(x, y):
    for delta, (h, s, gh, gs) in _huber_vs_smooth_l1(x, y).items():
        _close(h, s, rtol=1e-14, atol=1e-15, what=str(delta))
        _close(gh, gs, rtol=1e-14, atol=1e-16, what=str(delta))


def test_regression_argument_errors():
    _raises(["smooth_l1_loss", "'beta'", "-1", "[0, inf)"], lambda: L.smooth_l1_loss(XR, YR, beta=-1))
    _raises(["huber_loss", "'delta'", "0", "(0, inf)"], lambda: L.huber_loss(XR, YR, delta=0))
    _raises(["'delta'", "nan"], lambda: L.huber_loss(XR, YR, delta=float("nan")))
    _raises(["'target'", "(4,)", "(2, 4)", "does not broadcast"], lambda: L.mse_loss(XR, YR[0]))
    _raises(["'weight'", "(4,)", "(2, 4)"], lambda: L.mse_loss(XR, YR, weight=WR[0]))
    _raises(["'beta'", "static"], lambda: jax.jit(lambda b: L.smooth_l1_loss(XR, YR, beta=b))(1.0))
    with pytest.raises(TypeError):  # weight is keyword-only (no positional size_average / reduce)
        L.mse_loss(XR, YR, WR)
    with pytest.raises(TypeError):  # torch's smooth_l1_loss has no weight, nor has this one
        L.smooth_l1_loss(XR, YR, weight=WR)


# ----------------------------------------------------------------------------
# dtypes and transformations
# ----------------------------------------------------------------------------
LOW = {"bfloat16": (jnp.bfloat16, 2.0**-8), "float16": (jnp.float16, 2.0**-11)}


@functools.cache
def _low_precision():
    @jax.jit
    def run(x64):
        out = {}
        for name, (dtype, _) in LOW.items():
            x = x64.astype(dtype)
            fns = {
                # (cross_entropy once: its dtype handling is shared with the others)
                "cross_entropy": lambda v: L.cross_entropy(v, Y, label_smoothing=0.1),
                "bce_logits": lambda v: L.binary_cross_entropy_with_logits(v, (X > 0).astype(np.int32)),
                "huber": lambda v: L.huber_loss(v, np.zeros(X.shape)),
                "mse": lambda v: L.mse_loss(v, np.ones(X.shape, np.int32)),
                "bce": lambda v: L.binary_cross_entropy(jnp.clip(v, 0, 1), (X > 0).astype(np.int32)),
            }
            if name != "bfloat16":
                del fns["cross_entropy"]
            out[name] = (x, {k: jax.value_and_grad(f)(x) for k, f in fns.items()})
        return out

    return run(X)


@pytest.mark.parametrize("name", list(LOW))
def test_low_precision_dtypes(name):
    """bfloat16/float16: computed and accumulated in float32, rounded once (within half an
    ULP of the float64 reference); the loss and its gradient keep the input dtype."""
    dtype, rtol = LOW[name]
    x, got = _low_precision()[name]
    x64 = np.asarray(x, np.float64)  # the values actually passed
    want = {
        "cross_entropy": ref_cross_entropy(x64, Y, None, -100, 0.1),
        "bce_logits": ref_bce_logits(x64, X > 0),
        "huber": ref_regression("huber", x64, 0.0, 1.0),
        "mse": ref_regression("mse", x64, 1.0),
        "bce": ref_bce(np.clip(x64, 0, 1), X > 0),
    }
    for key, (value, grad) in got.items():
        assert value.dtype == dtype and grad.dtype == dtype, key
        _close(value, want[key], rtol=rtol, atol=0, what=key)
        assert bool(jnp.all(jnp.isfinite(grad))), key


def test_integer_and_bool_inputs_are_promoted():
    assert L.mse_loss(np.array([1, 2], np.int32), np.array([0, 0])).dtype == jnp.float32
    assert L.l1_loss(np.array([1, 2]), np.array([True, False])).dtype == jnp.result_type(float)
    v = L.binary_cross_entropy_with_logits(np.zeros(3, np.float32), np.array([True, False, True]))
    assert v.dtype == jnp.float32
    _close(v, np.log(2.0), rtol=1e-7)


def test_jit_vmap_grad_hessian():
    x, y = X[0], Y[0]
    z = np.array([-40.0, 0.3, 40.0])

    @jax.jit
    def run():
        return {
            "vmap": jax.vmap(lambda a, b: L.cross_entropy(a, b, weight=W, label_smoothing=0.1))(x, y),
            "none": L.cross_entropy(x, y, weight=W, label_smoothing=0.1, reduction="none"),
            "hessian": jax.hessian(lambda v: L.cross_entropy(v, y[0]))(x[0]),
            "hessian_bce": jax.hessian(lambda v: L.binary_cross_entropy_with_logits(v, np.array([1.0, 0.0, 0.0]), reduction="sum"))(z),
            "vmap_huber": jax.vmap(L.huber_loss)(XR, YR),
        }

    got = run()
    # vmap over samples: each sample's weighted mean is its loss divided by its weight
    _close(got["vmap"], np.asarray(got["none"]) / W[y])
    _close(got["none"], ref_cross_entropy(x, y, W, -100, 0.1, "none"))
    # second derivatives: the hessian of -log softmax(x)_y is diag(p) - p p^T
    p = ref_softmax(x[0])
    _close(got["hessian"], np.diag(p) - np.outer(p, p), rtol=1e-12, atol=1e-15)
    # and of BCE with logits: sigmoid(x) sigmoid(-x) on the diagonal, not 0 at +-40
    _close(got["hessian_bce"], np.diag(expit(z) * expit(-z)), rtol=1e-12, atol=0)
    _close(got["vmap_huber"], [ref_regression("huber", XR[i], YR[i], 1.0) for i in range(2)])
    # eager and jitted agree
    _close(L.cross_entropy(x, y), jax.jit(L.cross_entropy)(x, y), rtol=0, atol=0)


# ----------------------------------------------------------------------------
# torch itself, where installed
# ----------------------------------------------------------------------------
def _torch():
    return pytest.importorskip("torch")


def _t(a, grad=False):
    torch = _torch()
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def _torch_value_and_grad(fn, x, *args, **kwargs):
    xt = _t(x, grad=True)
    out = fn(xt, *args, **kwargs)
    out.sum().backward()
    return out.detach().numpy(), xt.grad.numpy()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_against_torch_classification(reduction):
    torch = _torch()
    F = torch.nn.functional
    x2, y2 = X.reshape(-1, 5), Y.reshape(-1)
    for smoothing in (0.0, 0.2):
        kw = dict(reduction=reduction, label_smoothing=smoothing)
        want, want_g = _torch_value_and_grad(F.cross_entropy, x2, torch.tensor(y2), weight=_t(W), **kw)
        _close(L.cross_entropy(x2, y2, weight=W, **kw), want)
        _close(jax.grad(lambda v: jnp.sum(L.cross_entropy(v, y2, weight=W, **kw)))(x2), want_g)
        t = T_SOFT.reshape(-1, 5)
        want, want_g = _torch_value_and_grad(F.cross_entropy, x2, _t(t), weight=_t(W), **kw)
        _close(L.cross_entropy(x2, t, weight=W, **kw), want)
        _close(jax.grad(lambda v: jnp.sum(L.cross_entropy(v, t, weight=W, **kw)))(x2), want_g)
    lp = ref_log_softmax(x2)
    want, want_g = _torch_value_and_grad(F.nll_loss, lp, torch.tensor(y2), weight=_t(W), reduction=reduction)
    _close(L.nll_loss(lp, y2, weight=W, reduction=reduction), want)
    _close(jax.grad(lambda v: jnp.sum(L.nll_loss(v, y2, weight=W, reduction=reduction)))(lp), want_g)
    kw = dict(weight=W_LOGITS, pos_weight=PW, reduction=reduction)
    want, want_g = _torch_value_and_grad(F.binary_cross_entropy_with_logits, XL, _t(YL), **{k: _t(v) if k != "reduction" else v for k, v in kw.items()})
    _close(L.binary_cross_entropy_with_logits(XL, YL, **kw), want)
    _close(jax.grad(lambda v: jnp.sum(L.binary_cross_entropy_with_logits(v, YL, **kw)))(XL), want_g)
    p = np.array([0.0, 1.0, 0.3, 0.999, 0.5])
    yb = np.array([1.0, 0.0, 0.0, 1.0, 0.25])
    want, want_g = _torch_value_and_grad(F.binary_cross_entropy, p, _t(yb), reduction=reduction)
    _close(L.binary_cross_entropy(p, yb, reduction=reduction), want, rtol=1e-12, atol=1e-15)
    # gradients agree wherever neither clamp is involved (see binary_cross_entropy's docstring)
    got_g = jax.grad(lambda v: jnp.sum(L.binary_cross_entropy(v, yb, reduction=reduction)))(p)
    _close(np.asarray(got_g)[2:], want_g[2:])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_against_torch_regression(reduction):
    torch = _torch()
    F = torch.nn.functional
    for name, kw, weighted in [
        ("mse_loss", {}, True),
        ("l1_loss", {}, True),
        ("smooth_l1_loss", {"beta": 0.5}, False),
        ("smooth_l1_loss", {"beta": 0.0}, False),
        ("huber_loss", {"delta": 2.0}, True),
    ]:
        fn = getattr(L, name)
        # (weight= arrived in torch's mse_loss, l1_loss and huber_loss in torch 2.6)
        weighted = weighted and "weight" in inspect.signature(getattr(F, name)).parameters
        for w in (None, WR) if weighted else (None,):
            extra = {} if w is None else {"weight": w}
            want, want_g = _torch_value_and_grad(getattr(F, name), XR, _t(YR), reduction=reduction, **kw, **{k: _t(v) for k, v in extra.items()})
            _close(fn(XR, YR, reduction=reduction, **kw, **extra), want, what=name)
            _close(jax.grad(lambda v: jnp.sum(fn(v, YR, reduction=reduction, **kw, **extra)))(XR), want_g, what=name)


def test_against_torch_stall():
    """torch's sigmoid -> binary_cross_entropy gradient, float32: ~-4e-6 at z = -40 (y = 1) and
    exactly 0 at z = 40 (y = 0); jaxact's: -1 and ~1e-10 (the logits form: -1 and 1)."""
    torch = _torch()
    F = torch.nn.functional
    for z, y in [(-40.0, 1.0), (40.0, 0.0)]:
        zt = torch.tensor(z, dtype=torch.float32, requires_grad=True)
        F.binary_cross_entropy(torch.sigmoid(zt), torch.tensor(y)).backward()
        assert abs(float(zt.grad)) < 1e-5
