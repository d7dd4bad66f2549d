"""Row-wise functions: softmax, log_softmax, softmin and glu.

Every expected value comes from ``references.py`` (mpmath at 50 digits, or the
float64 NumPy references) or from a closed form evaluated in float64 NumPy;
nothing is checked against jaxact's own output, except the two identities
exp(log_softmax) == softmax and softmin(x) == softmax(-x), which are also
anchored to the references.

Bounds asserted (the contract in shared/DESIGN.md is 2 ULP forward for
float32/float64 and 1 ULP for bfloat16/float16):

* softmax / softmin, float32 and float64, rows of length 1 to 1024 with logits
  N(0, s^2), s in {0.3, 1, 3, 10}: within ``SOFTMAX_ULP`` = 4 ULP of mpmath
  (the contract's 2 ULP plus 2 for the reduction over up to 1024 terms; the
  float64 reference itself measures 2.2 ULP on these rows).
* log_softmax: |error| <= 2 ULP(ref) + 2 eps.  The absolute part is needed
  near 0: for [0, -50] the largest entry is -log1p(e^-50) ~ -1.9e-22, which
  rounds to 0 through log(1 + e^-50).
* bfloat16 / float16 softmax and log_softmax over 1,000 logits N(0, 9):
  within 1 ULP of the float64 reference; jax.nn's bfloat16 softmax is worse.
* glu, float32 / float64: within ``GLU_ULP`` = 2 ULP of the float64 reference.
* Jacobian-vector products and vector-Jacobian products against the closed
  forms J = diag(y) - y y^T (softmax) and I - 1 p^T (log_softmax), elementwise
  within ``GRAD_EPS`` (float64: 16, float32: 64) machine epsilons times the
  size of the terms (y_i (|t_i| + <y, |t|>) for softmax); second derivatives
  within 1e-12 of the closed form (float64).
"""
from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import expit

import jaxact
from references import (
    glu64,
    glu_mp,
    log_softmax64,
    log_softmax_mp,
    softmax64,
    softmax_mp,
    softmin64,
    softmin_mp,
)
from ulp import DTYPES, finfo, mp_double_word, ulp_error

INF = np.inf
SOFTMAX_ULP = 4.0
LOG_SOFTMAX_ULP, LOG_SOFTMAX_EPS = 2.0, 2.0
LOW_PRECISION_ULP = 1.0
GLU_ULP = 2.0
GRAD_EPS = {"float64": 16.0, "float32": 64.0}
HESSIAN_TOL = 1e-12

LENGTHS = (1, 2, 5, 64, 1024)
SCALES = (0.3, 1.0, 3.0, 10.0)
NORMALISERS = {
    "softmax": (jaxact.softmax, softmax_mp, softmax64),
    "softmin": (jaxact.softmin, softmin_mp, softmin64),
}


def _eps(dtype) -> float:
    return float(finfo(DTYPES[dtype] if isinstance(dtype, str) else dtype).eps)


def _rows(dtype: str, n: int) -> np.ndarray:
    """One row of N(0, s^2) logits per scale in SCALES, as ``dtype`` values."""
    rng = np.random.default_rng(1000 + n)
    x = rng.standard_normal((len(SCALES), n)) * np.array(SCALES)[:, None]
    return x.astype(DTYPES[dtype])


def _mp_rows(reference, x: np.ndarray):
    """(hi, lo) double words of ``reference`` applied to each row of the 2-D ``x``."""
    values = [reference([float(v) for v in row]) for row in x]
    his, los = zip(*(mp_double_word(v) for v in values))
    return np.array(his), np.array(los)


def _to_rows(a: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """``a`` with ``axes`` moved last and flattened: one normalisation per row."""
    rest = [i for i in range(a.ndim) if i not in axes]
    moved = np.transpose(a, rest + list(axes))
    return moved.reshape(-1, int(np.prod([a.shape[i] for i in axes])))


def _rowwise64(reference, x: np.ndarray, axes: tuple[int, ...], where=None) -> np.ndarray:
    """A float64 row reference applied over an arbitrary set of axes."""
    idx = _to_rows(np.arange(x.size).reshape(x.shape), axes)
    w = None if where is None else _to_rows(np.broadcast_to(where, x.shape), axes)
    rows = reference(_to_rows(np.asarray(x, np.float64), axes), axis=-1, where=w)
    out = np.empty(x.size)
    out[idx.ravel()] = rows.ravel()
    return out.reshape(x.shape)


def _softmax_jacobian(y: np.ndarray) -> np.ndarray:
    return np.diag(y) - np.outer(y, y)


def _log_softmax_jacobian(p: np.ndarray, live: np.ndarray) -> np.ndarray:
    """d log_softmax_i / d x_j = delta_ij - p_j for live outputs; 0 for outputs pinned at -inf."""
    return (np.eye(p.size) - np.outer(np.ones(p.size), p)) * live[:, None]


def _full_jacobian(x: np.ndarray, axes: tuple[int, ...], kind: str) -> np.ndarray:
    """The closed-form Jacobian of softmax/log_softmax over ``axes``, shape x.shape * 2."""
    idx = _to_rows(np.arange(x.size).reshape(x.shape), axes)
    rows = _to_rows(np.asarray(x, np.float64), axes)
    jac = np.zeros((x.size, x.size))
    for r, row in zip(idx, rows):
        p = softmax64(row)
        block = _softmax_jacobian(p) if kind == "softmax" else _log_softmax_jacobian(p, np.ones(p.size, bool))
        jac[np.ix_(r, r)] = block
    return jac.reshape(x.shape + x.shape)


def _worst(err: np.ndarray) -> str:
    i = np.unravel_index(np.argmax(err), err.shape)
    return f"{float(err[i]):.3g} at index {tuple(int(k) for k in i)}"


# ----------------------------------------------------------------------------
# values against mpmath
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(NORMALISERS))
def test_values_match_mpmath(name, dtype, n):
    fn, reference, _ = NORMALISERS[name]
    x = _rows(dtype, n)
    got = np.asarray(fn(x))
    hi, lo = _mp_rows(reference, x)
    err = ulp_error(got, hi, lo, DTYPES[dtype])
    per_scale = {s: round(float(e), 2) for s, e in zip(SCALES, err.max(axis=1))}
    assert err.max() <= SOFTMAX_ULP, f"worst ULP error per logit scale: {per_scale}"


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log_softmax_matches_mpmath(dtype, n):
    x = _rows(dtype, n)
    got = np.asarray(jaxact.log_softmax(x)).astype(np.float64)
    hi, lo = _mp_rows(log_softmax_mp, x)
    ulp = np.spacing(np.abs(hi).astype(DTYPES[dtype])).astype(np.float64)
    err = np.abs((got - hi) - lo) / (LOG_SOFTMAX_ULP * ulp + LOG_SOFTMAX_EPS * _eps(dtype))
    assert err.max() <= 1.0, f"error / bound: {_worst(err)}"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log_softmax_top_entry_near_zero(dtype):
    x = np.array([[0.0, -50.0], [3.0, -40.0]], DTYPES[dtype])
    got = np.asarray(jaxact.log_softmax(x)).astype(np.float64)
    hi, lo = _mp_rows(log_softmax_mp, x)
    assert -2e-22 < hi[0, 0] < -1e-22  # the reference is not 0 ...
    np.testing.assert_allclose(got, hi, rtol=2 * _eps(dtype), atol=LOG_SOFTMAX_EPS * _eps(dtype))
    np.testing.assert_allclose(np.asarray(jaxact.softmax(x)), softmax64(x), rtol=2 * _eps(dtype))


def test_glu_matches_mpmath():
    x = np.random.default_rng(7).standard_normal((3, 16)) * 6
    got = np.asarray(jaxact.glu(x))
    hi, lo = _mp_rows(glu_mp, x)
    err = ulp_error(got, hi, lo, np.float64)
    assert err.max() <= GLU_ULP, _worst(err)


# ----------------------------------------------------------------------------
# where= masks, infinities, NaN
# ----------------------------------------------------------------------------
MASKED = np.array(
    [[1, 0, 1, 1, 0, 1],
     [0, 0, 0, 0, 0, 0],  # fully masked
     [1, 1, 1, 1, 1, 0]],
    bool,
)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_where_masks_entries_out_of_normalisation(name):
    x = np.random.default_rng(3).standard_normal(MASKED.shape) * 2
    x[0, 1] = 1e6  # a huge masked entry must not shift the row
    fn = getattr(jaxact, name)
    got = np.asarray(fn(x, where=MASKED))
    reference = {"softmax": softmax_mp, "log_softmax": log_softmax_mp, "softmin": softmin_mp}[name]
    expected = np.array([[float(v) for v in reference(list(r), where=list(w))] for r, w in zip(x, MASKED)])
    fill = -INF if name == "log_softmax" else 0.0
    assert np.all(got[~MASKED] == fill)
    np.testing.assert_allclose(got[MASKED], expected[MASKED], rtol=4 * _eps("float64"))
    # the live entries of a masked row are those of the row with the masked entries removed
    compact = np.asarray(fn(x[0][MASKED[0]]))
    np.testing.assert_allclose(got[0][MASKED[0]], compact, rtol=4 * _eps("float64"))


def test_where_broadcasts_like_jax_nn():
    x = np.random.default_rng(4).standard_normal((3, 6))
    where = MASKED[:1]  # shape (1, 6)
    np.testing.assert_allclose(np.asarray(jaxact.softmax(x, where=where)), softmax64(x, where=where), rtol=4e-16)
    np.testing.assert_allclose(np.asarray(jaxact.log_softmax(x, where=where)), log_softmax64(x, where=where), rtol=4e-16)


def _grads(fn, x, **kw):
    """jax.grad of the sum of the (finite) outputs and of a weighted sum."""
    w = np.arange(1.0, 1.0 + x.size).reshape(x.shape) / x.size

    def total(v, weights):
        y = fn(v, **kw)
        return jnp.sum(jnp.where(jnp.isneginf(y), 0.0, weights * y))

    return (np.asarray(jax.grad(total)(x, np.ones_like(w))), np.asarray(jax.grad(total)(x, w)), w)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_fully_masked_row_gives_fill_and_zero_gradient(name):
    fn = getattr(jaxact, name)
    x = np.random.default_rng(5).standard_normal(MASKED.shape)
    got = np.asarray(fn(x, where=MASKED))
    assert np.all(got[1] == (-INF if name == "log_softmax" else 0.0))
    for g in _grads(fn, x, where=MASKED)[:2]:
        assert not np.any(np.isnan(g))
        assert np.all(g[1] == 0.0) and np.all(g[~MASKED] == 0.0)
    # the raw sum of log_softmax outputs is -inf but its gradient is still 0 on the empty row
    if name == "log_softmax":
        g = np.asarray(jax.grad(lambda v: jnp.sum(fn(v, where=MASKED)))(x))
        assert np.all(g[1] == 0.0)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_all_neg_inf_row_behaves_like_fully_masked(name):
    fn = getattr(jaxact, name)
    x = np.array([[-INF, -INF, -INF, -INF], [0.5, -INF, 2.0, -INF]])
    got = np.asarray(fn(x))
    fill = -INF if name == "log_softmax" else 0.0
    assert np.all(got[0] == fill)
    reference = softmax64 if name == "softmax" else log_softmax64
    np.testing.assert_allclose(got, reference(x), rtol=4e-16)
    for g in _grads(fn, x)[:2]:
        assert np.all(np.isfinite(g))
        assert np.all(g[0] == 0.0) and g[1, 1] == 0.0 and g[1, 3] == 0.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_neg_inf_entries_match_masking(dtype):
    x = np.array([[0.5, -INF, 2.0, -1.0, -INF]], DTYPES[dtype])
    live = np.isfinite(x)
    for name, reference in [("softmax", softmax_mp), ("log_softmax", log_softmax_mp)]:
        got = np.asarray(getattr(jaxact, name)(x)).astype(np.float64)
        hi, lo = _mp_rows(reference, x)
        np.testing.assert_allclose(got, hi, rtol=2 * _eps(dtype))
        # the gradient on a row with -inf entries is the closed form on the live entries
        _, g, w = _grads(getattr(jaxact, name), x.astype(np.float64))
        p = softmax64(x.astype(np.float64))[0]
        jac = _softmax_jacobian(p) if name == "softmax" else _log_softmax_jacobian(p, live[0])
        np.testing.assert_allclose(g[0], jac.T @ w[0], rtol=1e-14, atol=1e-16)


def test_pos_inf_entries_give_the_limit():
    x = np.array([[INF, 0.0, INF, -INF, 5.0], [1.0, INF, 2.0, 3.0, -INF]])
    np.testing.assert_array_equal(np.asarray(jaxact.softmax(x)), [[0.5, 0, 0.5, 0, 0], [0, 1, 0, 0, 0]])
    np.testing.assert_allclose(
        np.asarray(jaxact.log_softmax(x)),
        [[-np.log(2), -INF, -np.log(2), -INF, -INF], [-INF, 0.0, -INF, -INF, -INF]],
        rtol=1e-16,
    )
    np.testing.assert_array_equal(np.asarray(jaxact.softmin(-x)), np.asarray(softmax64(x)))
    # masking a +inf entry takes it out: [inf, 0, inf] with the first masked -> [0, 0, 1]
    where = np.array([[0, 1, 1, 1, 1], [1, 1, 1, 1, 1]], bool)
    np.testing.assert_array_equal(np.asarray(jaxact.softmax(x, where=where)), softmax64(x, where=where))
    # gradients are finite and equal the closed form at the limit
    y = softmax64(x)
    for name in ("softmax", "log_softmax"):
        _, g, w = _grads(getattr(jaxact, name), x)
        assert np.all(np.isfinite(g))
        if name == "softmax":
            expected = np.stack([_softmax_jacobian(r).T @ wr for r, wr in zip(y, w)])
            np.testing.assert_allclose(g, expected, rtol=1e-15, atol=1e-16)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_huge_spread_is_exact_with_finite_gradients(dtype):
    x = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]], DTYPES[dtype])
    np.testing.assert_array_equal(np.asarray(jaxact.softmax(x)), [[1, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(np.asarray(jaxact.log_softmax(x)), [[0, -1e4, -2e4], [-2e4, 0, -1e4]])
    np.testing.assert_array_equal(np.asarray(jaxact.softmin(x)), [[0, 0, 1], [1, 0, 0]])
    x64 = x.astype(np.float64)
    p = softmax64(x64)
    for name in ("softmax", "log_softmax", "softmin"):
        _, g, w = _grads(getattr(jaxact, name), x)
        assert np.all(np.isfinite(g))
        if name == "log_softmax":
            expected = np.stack([_log_softmax_jacobian(r, np.ones(3, bool)).T @ wr for r, wr in zip(p, w)])
            np.testing.assert_allclose(g, expected, rtol=2 * _eps(dtype))


def test_float64_extreme_magnitudes():
    x = np.array([[1e300, 0.0, -1e300], [-1e300, -1e300, -1e300]])
    np.testing.assert_array_equal(np.asarray(jaxact.softmax(x)), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_array_equal(np.asarray(jaxact.log_softmax(x))[0], [0.0, -1e300, -2e300])


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_nan_poisons_only_its_row(name):
    fn = getattr(jaxact, name)
    reference = {"softmax": softmax64, "log_softmax": log_softmax64, "softmin": softmin64}[name]
    x = np.random.default_rng(6).standard_normal((3, 4))
    x[1, 2] = np.nan
    got = np.asarray(fn(x))
    assert np.all(np.isnan(got[1]))
    np.testing.assert_allclose(got[[0, 2]], reference(x)[[0, 2]], rtol=4e-16)
    # along axis 0 only the column with the NaN is poisoned
    got0 = np.asarray(fn(x, axis=0))
    assert np.all(np.isnan(got0[:, 2])) and not np.any(np.isnan(np.delete(got0, 2, axis=1)))
    # a NaN under a False mask entry takes no part
    where = np.ones_like(x, bool)
    where[1, 2] = False
    assert not np.any(np.isnan(np.asarray(fn(x, where=where))))
    # the other rows' gradients are untouched
    _, g, _ = _grads(fn, x)
    assert np.all(np.isfinite(g[[0, 2]]))


# ----------------------------------------------------------------------------
# 16-bit dtypes
# ----------------------------------------------------------------------------
def _logits_1000(dtype) -> np.ndarray:
    return (np.random.default_rng(8).standard_normal((4, 1000)) * 3).astype(dtype)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_low_precision_within_one_ulp(name, dtype):
    x = _logits_1000(DTYPES[dtype])
    reference = softmax64 if name == "softmax" else log_softmax64
    ref = reference(x.astype(np.float64))
    got = np.asarray(getattr(jaxact, name)(x))
    assert got.dtype == DTYPES[dtype]
    err = ulp_error(got, ref, np.zeros_like(ref), DTYPES[dtype])
    assert err.max() <= LOW_PRECISION_ULP, _worst(err)


def test_bfloat16_softmax_beats_jax_nn():
    x = _logits_1000(ml_dtypes.bfloat16)
    ref = softmax64(x.astype(np.float64))
    ours = ulp_error(np.asarray(jaxact.softmax(x)), ref, np.zeros_like(ref), ml_dtypes.bfloat16).max()
    theirs = ulp_error(np.asarray(jax.nn.softmax(x)), ref, np.zeros_like(ref), ml_dtypes.bfloat16).max()
    assert ours <= LOW_PRECISION_ULP < theirs, (ours, theirs)


# ----------------------------------------------------------------------------
# dtypes
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float32", "float64"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin", "glu"])
def test_output_dtype_is_input_dtype(name, dtype):
    x = jnp.asarray(np.linspace(-2, 2, 8).reshape(2, 4), DTYPES[dtype])
    assert getattr(jaxact, name)(x).dtype == DTYPES[dtype]


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8])
def test_int_input_promoted_to_float(dtype):
    x = np.array([[0, 1, 2, 3], [5, 5, 0, 1]], dtype)
    for name, reference in [("softmax", softmax64), ("log_softmax", log_softmax64), ("softmin", softmin64), ("glu", glu64)]:
        got = getattr(jaxact, name)(x)
        assert jnp.issubdtype(got.dtype, jnp.floating), (name, got.dtype)
        tol = 4 * _eps(got.dtype)
        np.testing.assert_allclose(np.asarray(got, np.float64), reference(x.astype(np.float64)), rtol=tol, atol=tol)


# ----------------------------------------------------------------------------
# first derivatives against the closed-form Jacobian
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_jvp_and_grad_match_closed_form(name, dtype):
    rng = np.random.default_rng(9)
    x = (rng.standard_normal((4, 7)) * np.array([0.5, 1, 3, 6])[:, None]).astype(DTYPES[dtype])
    t = rng.standard_normal(x.shape).astype(DTYPES[dtype])
    w = rng.standard_normal(x.shape).astype(DTYPES[dtype])
    fn = getattr(jaxact, name)
    _, jvp = jax.jvp(fn, (x,), (t,))
    vjp = jax.grad(lambda v: jnp.sum(w * fn(v)))(x)
    assert jvp.dtype == vjp.dtype == DTYPES[dtype]
    x64 = x.astype(np.float64)
    sign = -1.0 if name == "softmin" else 1.0
    p = softmax64(sign * x64)
    for i in range(x.shape[0]):
        if name == "log_softmax":
            jac = _log_softmax_jacobian(p[i], np.ones(x.shape[1], bool))
            scale_fwd = np.abs(t[i]) + p[i] @ np.abs(t[i])
            scale_bwd = np.abs(w[i]) + p[i] * np.abs(w[i]).sum()
        else:
            jac = sign * _softmax_jacobian(p[i])
            scale_fwd = p[i] * (np.abs(t[i]) + p[i] @ np.abs(t[i]))
            scale_bwd = p[i] * (np.abs(w[i]) + p[i] @ np.abs(w[i]))
        tol = GRAD_EPS[dtype] * _eps(dtype)
        fwd = np.abs(np.asarray(jvp[i], np.float64) - jac @ t[i]) / (tol * scale_fwd + 1e-300)
        bwd = np.abs(np.asarray(vjp[i], np.float64) - jac.T @ w[i]) / (tol * scale_bwd + 1e-300)
        assert fwd.max() <= 1.0, f"row {i} jvp error / bound: {_worst(fwd)}"
        assert bwd.max() <= 1.0, f"row {i} vjp error / bound: {_worst(bwd)}"


AXES_CASES = [(0, (0,)), (1, (1,)), (-1, (2,)), ((0, 2), (0, 2)), ((2, 0), (0, 2)), (None, (0, 1, 2))]


@pytest.mark.parametrize("axis, axes", AXES_CASES, ids=[str(a) for a, _ in AXES_CASES])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_axes_values_and_jacobian(name, axis, axes):
    x = np.random.default_rng(10).standard_normal((2, 3, 4)) * 2
    fn = getattr(jaxact, name)
    reference = softmax64 if name == "softmax" else log_softmax64
    np.testing.assert_allclose(np.asarray(fn(x, axis=axis)), _rowwise64(reference, x, axes), rtol=4e-16, atol=4e-16)
    expected = _full_jacobian(x, axes, name)
    np.testing.assert_allclose(np.asarray(jax.jacfwd(lambda v: fn(v, axis=axis))(x)), expected, atol=1e-15)
    np.testing.assert_allclose(np.asarray(jax.jacrev(lambda v: fn(v, axis=axis))(x)), expected, atol=1e-15)


def test_axis_zero_of_a_matrix():
    x = np.random.default_rng(11).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(jaxact.softmax(x, axis=0)), softmax64(x, axis=0), rtol=8 * _eps("float32"))
    t = np.ones_like(x) * np.arange(5)[:, None]
    _, jvp = jax.jvp(lambda v: jaxact.softmax(v, axis=0), (x,), (t,))
    p = softmax64(x.astype(np.float64), axis=0)
    expected = np.stack([_softmax_jacobian(p[:, j]) @ t[:, j] for j in range(3)], axis=1)
    np.testing.assert_allclose(np.asarray(jvp), expected, atol=16 * _eps("float32"))


# ----------------------------------------------------------------------------
# second derivatives
# ----------------------------------------------------------------------------
def _softmax_hessian(y, w):
    """Hessian of sum_j w_j softmax(x)_j: H_ik = J_ik (w_i - <y,w>) - y_i g_k, g = J^T w."""
    jac = _softmax_jacobian(y)
    g = jac.T @ w
    return jac * (w - y @ w)[:, None] - np.outer(y, g)


def _block_diag(blocks):
    rows, n = len(blocks), blocks[0].shape[0]
    out = np.zeros((rows, n, rows, n))
    for r, b in enumerate(blocks):
        out[r, :, r, :] = b
    return out


def test_softmax_hessian_matches_closed_form():
    rng = np.random.default_rng(12)
    x = rng.standard_normal((3, 6)) * 2
    w = rng.standard_normal((3, 6))
    hess = np.asarray(jax.hessian(lambda v: jnp.sum(w * jaxact.softmax(v, where=MASKED)))(x))
    assert np.all(np.isfinite(hess))
    y = softmax64(x, where=MASKED)
    expected = _block_diag([_softmax_hessian(y[r], w[r]) for r in range(3)])
    np.testing.assert_allclose(hess, expected, atol=HESSIAN_TOL)
    assert np.all(hess[1] == 0.0)  # the fully masked row


def test_log_softmax_hessian_matches_closed_form():
    rng = np.random.default_rng(13)
    x = rng.standard_normal((3, 6)) * 2
    w = rng.standard_normal((3, 6)) * MASKED

    def loss(v):
        y = jaxact.log_softmax(v, where=MASKED)
        return jnp.sum(jnp.where(MASKED, w * y, 0.0))

    hess = np.asarray(jax.hessian(loss)(x))
    assert np.all(np.isfinite(hess))
    p = softmax64(x, where=MASKED)
    # sum_i w_i (x_i - logsumexp(x)) has Hessian -sum(w) (diag(p) - p p^T)
    expected = _block_diag([-w[r].sum() * _softmax_jacobian(p[r]) for r in range(3)])
    np.testing.assert_allclose(hess, expected, atol=HESSIAN_TOL)


def test_softmax_hessian_matches_finite_differences():
    x = np.array([0.3, -1.2, 2.0, 0.7])
    w = np.array([1.0, -2.0, 0.5, 3.0])
    hess = np.asarray(jax.hessian(lambda v: jnp.sum(w * jaxact.softmax(v)))(x))

    def grad64(v):
        return _softmax_jacobian(softmax64(v)).T @ w

    h = 1e-6
    fd = np.stack([(grad64(x + h * e) - grad64(x - h * e)) / (2 * h) for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(hess, fd, atol=1e-8)


# ----------------------------------------------------------------------------
# sums and identities (hypothesis)
# ----------------------------------------------------------------------------
_LENGTH = st.sampled_from([1, 3, 17, 64])


@st.composite
def _rows_of_random_length(draw, min_value=-1e6, max_value=1e6):
    n = draw(_LENGTH)
    values = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False)
    big = st.floats(-1e300, 1e300, allow_nan=False)
    return np.array(draw(st.lists(st.one_of(values, big), min_size=n, max_size=n)))


@given(_rows_of_random_length())
def test_softmax_rows_sum_to_one(x):
    y = np.asarray(jaxact.softmax(x))
    assert np.all((y >= 0) & (y <= 1))
    assert abs(y.sum() - 1.0) <= (2 + x.size) * _eps("float64")
    np.testing.assert_allclose(y, softmax64(x), rtol=8 * _eps("float64"), atol=1e-300)


@given(_rows_of_random_length(), st.integers(0, 2**64 - 1))
def test_masked_softmax_rows_sum_to_one_or_zero(x, bits):
    where = np.array([(bits >> i) & 1 for i in range(x.size)], bool)
    y = np.asarray(jaxact.softmax(x, where=where))
    assert np.all(y[~where] == 0.0)
    assert abs(y.sum() - (1.0 if where.any() else 0.0)) <= (2 + x.size) * _eps("float64")


@given(_rows_of_random_length(-800.0, 800.0))
def test_exp_log_softmax_is_softmax(x):
    ls = np.asarray(jaxact.log_softmax(x))
    s = np.asarray(jaxact.softmax(x))
    ref = softmax64(x)
    # exp amplifies the absolute error of ls (a few eps * max(1, |ls|)) into a relative one
    rtol = 8 * _eps("float64") * np.maximum(1.0, np.abs(ls))
    assert np.all(np.abs(np.exp(ls) - s) <= rtol * s + 1e-300)
    assert np.all(np.abs(np.exp(ls) - ref) <= rtol * ref + 1e-300)
    np.testing.assert_allclose(ls, log_softmax64(x), rtol=4 * _eps("float64"), atol=2 * _eps("float64"))


@given(_rows_of_random_length())
def test_softmin_is_softmax_of_negation(x):
    got = np.asarray(jaxact.softmin(x))
    np.testing.assert_array_equal(got, np.asarray(jaxact.softmax(-x)))
    np.testing.assert_allclose(got, softmin64(x), rtol=8 * _eps("float64"), atol=1e-300)


# ----------------------------------------------------------------------------
# glu
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, 2, -1])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_glu_values_and_gradients(dtype, axis):
    rng = np.random.default_rng(14)
    x = (rng.standard_normal((4, 6, 8)) * 4).astype(DTYPES[dtype])
    got = np.asarray(jaxact.glu(x, axis=axis))
    ref = glu64(x, axis=axis)
    assert got.dtype == DTYPES[dtype] and got.shape == ref.shape
    err = ulp_error(got, ref, np.zeros_like(ref), DTYPES[dtype])
    assert err.max() <= GLU_ULP, _worst(err)
    # d/da = w sigma(b), d/db = w a sigma(b) sigma(-b)
    w = rng.standard_normal(ref.shape).astype(DTYPES[dtype])
    grad = np.asarray(jax.grad(lambda v: jnp.sum(w * jaxact.glu(v, axis=axis)))(x), np.float64)
    a, b = np.split(x.astype(np.float64), 2, axis=axis)
    s = expit(b)
    expected = np.concatenate([w * s, w * a * s * expit(-b)], axis=axis)
    np.testing.assert_allclose(grad, expected, rtol=8 * _eps(dtype), atol=8 * _eps(dtype) * np.abs(w).max() * 1e-3)
    t = rng.standard_normal(x.shape).astype(DTYPES[dtype])
    _, jvp = jax.jvp(lambda v: jaxact.glu(v, axis=axis), (x,), (t,))
    ta, tb = np.split(t.astype(np.float64), 2, axis=axis)
    expected_jvp = s * ta + a * s * expit(-b) * tb
    scale = np.abs(s * ta) + np.abs(a * s * expit(-b) * tb)
    assert np.all(np.abs(np.asarray(jvp, np.float64) - expected_jvp) <= 8 * _eps(dtype) * scale + 1e-300)


def test_glu_low_precision_within_one_ulp():
    x = (np.random.default_rng(15).standard_normal((8, 64)) * 4).astype(ml_dtypes.bfloat16)
    got = np.asarray(jaxact.glu(x))
    ref = glu64(x.astype(np.float64))
    assert got.dtype == ml_dtypes.bfloat16
    assert ulp_error(got, ref, np.zeros_like(ref), ml_dtypes.bfloat16).max() <= LOW_PRECISION_ULP


@pytest.mark.parametrize("shape, axis, size", [((3,), -1, 3), ((2, 5), 1, 5), ((7, 4), 0, 7)])
def test_glu_odd_size_raises(shape, axis, size):
    with pytest.raises(jaxact.ActivationError, match=rf"axis.*\b{size}\b") as info:
        jaxact.glu(np.ones(shape), axis=axis)
    assert isinstance(info.value, ValueError)


# ----------------------------------------------------------------------------
# bad arguments
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin", "glu"])
@pytest.mark.parametrize("axis", [2, -3, (0, 2)])
def test_axis_out_of_range_raises(name, axis):
    if name == "glu" and isinstance(axis, tuple):
        pytest.skip("glu takes a single int axis")
    bad = axis[1] if isinstance(axis, tuple) else axis
    with pytest.raises(jaxact.ActivationError, match=rf"'axis'.*{bad}") as info:
        getattr(jaxact, name)(np.ones((2, 4)), axis=axis)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("axis", [(1, 1), (1, -1), (0, 1, 0)])
def test_repeated_axis_raises(name, axis):
    with pytest.raises(jaxact.ActivationError, match=r"'axis'.*" + re.escape(repr(axis))):
        getattr(jaxact, name)(np.ones((2, 4)), axis=axis)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape", [(3,), (2, 3), (3, 4), (1, 2, 4)])
def test_where_shape_mismatch_raises(name, shape):
    with pytest.raises(jaxact.ActivationError, match=r"'where'.*" + re.escape(str(shape))):
        getattr(jaxact, name)(np.ones((2, 4)), where=np.ones(shape, bool))


# ----------------------------------------------------------------------------
# parity with jax.nn
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("masked", [False, True], ids=["plain", "where"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_matches_jax_nn(name, dtype, masked):
    x = (np.random.default_rng(16).standard_normal((4, 10)) * 2).astype(DTYPES[dtype])
    where = np.tile(np.arange(10) % 3 != 1, (4, 1)) if masked else None
    tol = 8 * _eps(dtype)
    ours = np.asarray(getattr(jaxact, name)(x, where=where))
    theirs = np.asarray(getattr(jax.nn, name)(x, where=where))
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


@pytest.mark.parametrize("axis", [(0, 2), None, 1])
def test_matches_jax_nn_over_axes(axis):
    x = np.random.default_rng(17).standard_normal((2, 3, 4)).astype(np.float32)
    for name in ("softmax", "log_softmax"):
        np.testing.assert_allclose(
            np.asarray(getattr(jaxact, name)(x, axis=axis)),
            np.asarray(getattr(jax.nn, name)(x, axis=axis)),
            rtol=8 * _eps("float32"),
            atol=8 * _eps("float32"),
        )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_glu_matches_jax_nn(dtype):
    x = (np.random.default_rng(18).standard_normal((3, 8)) * 3).astype(DTYPES[dtype])
    for axis in (0, -1):
        if x.shape[axis] % 2:
            continue
        np.testing.assert_allclose(
            np.asarray(jaxact.glu(x, axis=axis)),
            np.asarray(jax.nn.glu(x, axis=axis)),
            rtol=8 * _eps(dtype),
            atol=8 * _eps(dtype),
        )
