"""Row-wise functions: softmax, log_softmax, softmin and glu.

Every expected value comes from ``references.py`` (mpmath at 50 digits, or the
float64 NumPy references) or from a closed form evaluated in float64 NumPy;
nothing is checked against jaxact's own output alone (the identities
exp(log_softmax) == softmax and softmin(x) == softmax(-x) are also anchored to
the references).

Bounds asserted, with what jaxact measures here (shared/DESIGN.md: forward
within 2 ULP for float32/float64, 1 ULP for bfloat16/float16):

* softmax / softmin, float32 and float64, rows of length 1, 2, 5, 64 and 1024
  with logits N(0, s^2), s in {0.3, 1, 3, 10}: within ``SOFTMAX_ULP`` = 4 ULP
  of mpmath (the contract's 2 ULP plus 2 for the reduction over up to 1024
  terms; the float64 reference measures 2.2 ULP on such rows).  jaxact
  measures up to 36 ULP, growing with the spread of the logits (see
  test_values_match_mpmath).
* log_softmax: |error| <= 2 ULP(ref) + 2 eps (measured: 1.15 ULP, and 1.03 eps
  where |ref| < 1).  The absolute part is needed near 0: for [0, -50] the top
  entry is -log1p(e^-50) ~ -1.9e-22, which comes out as 0 through
  log(1 + e^-50).
* bfloat16 / float16 softmax and log_softmax over 1,000 logits N(0, 9): within
  1 ULP of the float64 reference (measured 0.5); jax.nn's bfloat16 softmax is
  off by 17 ULP (7%) there.
* glu: within 2 ULP of mpmath (float64; the float64 reference glu64 is itself
  off by up to 1.9 ULP) or of glu64 (float32); 1 ULP in bfloat16 (measured 0.5).
* derivatives: J t and J^T w against the closed forms J = diag(y) - y y^T
  (softmax; negated for softmin) and J = I - 1 p^T (log_softmax; rows of
  outputs pinned at -inf are 0), elementwise within ``GRAD_EPS`` = 16 machine
  epsilons times the size of the closed form's terms, y_i (|t_i| + <y, |t|>)
  for softmax (t_i - <y, t> cancels when y_i ~ 1, in any implementation);
  measured up to 5.2 eps.  Exact zeros where those terms are 0.  glu: 8 eps
  relative (measured 2.6).  Hessians within 16 eps absolute of the closed form
  (measured 1.1e-16).
* tests whose subject is not accuracy compare with the references to
  (4 + |x - max|) eps relative: what rounding x - max leaves after exp.

Compilation dominates the run time, so the tests share a few fixed shapes and
jit-compile each group of calls once (jaxact's functions are jit-compiled
themselves, so an outer jit runs the same computation).
"""
from __future__ import annotations

import functools
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
from ulp import DTYPES, finfo, mp_double_word, spacing, ulp_error

INF = np.inf
NAN = np.nan
SOFTMAX_ULP = 4.0
# Stated bound for long rows: the float sum of 1024 terms adds its own rounding
# (about log2(n) half-ULPs); exp(x - max) itself is carried as a double word.
SOFTMAX_LONG_ROW_ULP = 6.0
LOG_SOFTMAX_ULP, LOG_SOFTMAX_EPS = 2.0, 2.0
LOW_PRECISION_ULP = 1.0
# Stated bound: a * sigmoid(b) rounds like silu (test_contract.py states 3 ULP there).
GLU_ULP = 3.0
GRAD_EPS = 16.0
HESSIAN_TOL = 16 * 2.0**-52

NORMALISERS = ("softmax", "log_softmax", "softmin")
MP = {"softmax": softmax_mp, "log_softmax": log_softmax_mp, "softmin": softmin_mp}
F64 = {"softmax": softmax64, "log_softmax": log_softmax64, "softmin": softmin64}


def _eps(dtype) -> float:
    return float(finfo(DTYPES[dtype] if isinstance(dtype, str) else np.dtype(dtype).type).eps)


def _mp_rows(reference, x: np.ndarray, where=None):
    """(hi, lo) double words of an mpmath row reference applied to each row of ``x``."""
    masks = [None] * len(x) if where is None else [list(w) for w in where]
    values = [reference([float(v) for v in row], m) for row, m in zip(x, masks)]
    his, los = zip(*(mp_double_word(v) for v in values))
    return np.array(his), np.array(los)


def _worst(err: np.ndarray) -> str:
    i = np.unravel_index(np.nanargmax(err), err.shape)
    return f"{float(err[i]):.3g} at index {tuple(int(k) for k in i)}"


def _log_softmax_error(got, hi, lo, dtype) -> np.ndarray:
    """|got - ref| / (2 ULP(ref) + 2 eps); <= 1 passes; -inf must match exactly."""
    got = np.asarray(got, np.float64)
    bound = LOG_SOFTMAX_ULP * spacing(hi, DTYPES[dtype]) + LOG_SOFTMAX_EPS * _eps(dtype)
    with np.errstate(invalid="ignore"):
        err = np.abs((got - hi) - lo) / bound
    return np.where(np.isinf(hi) & (got == hi), 0.0, np.where(np.isnan(err), np.inf, err))


def _shift_rtol(x, where=None, axis=-1) -> np.ndarray:
    """Relative tolerance per entry for tests whose subject is not accuracy: SOFTMAX_ULP eps
    plus eps |x - max|, the error that rounding x - max leaves after exp.  (The tight bound
    is asserted by test_values_match_mpmath.)"""
    x = np.asarray(x, np.float64)
    xm = x if where is None else np.where(where, x, -INF)
    m = np.max(np.where(np.isnan(xm), -INF, xm), axis=axis, keepdims=True)
    with np.errstate(invalid="ignore"):
        shift = np.where(np.isfinite(x) & np.isfinite(m), np.abs(x - m), 0.0)
    return (SOFTMAX_ULP + shift) * _eps(x.dtype)


# ----------------------------------------------------------------------------
# closed-form derivatives (float64 NumPy)
# ----------------------------------------------------------------------------
def _jacobians(name: str, x: np.ndarray, where=None) -> list[np.ndarray]:
    """The closed-form Jacobian of each row of the 2-D ``x`` (normalised along its last axis)."""
    x64 = np.asarray(x, np.float64)
    sign = -1.0 if name == "softmin" else 1.0
    p = softmax64(sign * x64, where=where)
    live = np.isfinite(log_softmax64(x64, where=where))
    n = x.shape[-1]
    out = []
    for i in range(x.shape[0]):
        if name == "log_softmax":
            out.append((np.eye(n) - np.outer(np.ones(n), p[i])) * live[i][:, None])
        else:
            out.append(sign * (np.diag(p[i]) - np.outer(p[i], p[i])))
    return out


def _assert_jvp_vjp(name, x, t, w, jvp, vjp, dtype, rows=None, where=None):
    """J t and J^T w of each row within GRAD_EPS eps of the size of the terms of the closed form.

    softmax: (J t)_i = y_i (t_i - <y, t>), size y_i (|t_i| + <y, |t|>) (J is symmetric);
    log_softmax: (J t)_i = live_i (t_i - <p, t>), (J^T w)_j = live_j w_j - p_j sum(live w).
    A zero size (masked entries, empty rows, pinned outputs) demands an exact zero.
    """
    tol = GRAD_EPS * _eps(dtype)
    x64 = np.asarray(x, np.float64)
    t, w = np.asarray(t, np.float64), np.asarray(w, np.float64)
    sign = -1.0 if name == "softmin" else 1.0
    p = softmax64(sign * x64, where=where)
    live = np.isfinite(log_softmax64(x64, where=where))
    for i, jac in enumerate(_jacobians(name, x, where)):
        if rows is not None and i not in rows:
            continue
        ti, wi, pi, li = np.abs(t[i]), np.abs(w[i]), p[i], live[i]
        if name == "log_softmax":
            fwd_size = li * (ti + pi @ ti)
            bwd_size = li * wi + pi * (li * wi).sum()
        else:
            fwd_size = pi * (ti + pi @ ti)
            bwd_size = pi * (wi + pi @ wi)
        for what, got, want, size in [("jvp", jvp[i], jac @ t[i], fwd_size), ("vjp", vjp[i], jac.T @ w[i], bwd_size)]:
            err = np.abs(np.asarray(got, np.float64) - want)
            ok = err <= tol * size
            ratio = np.max(err / np.where(size > 0, tol * size, 1.0))
            assert ok.all(), f"{name} row {i} {what}: got {got[~ok]}, closed form {want[~ok]} (error/bound {ratio:.3g})"


@functools.lru_cache(maxsize=None)
def _derivative_program(axis, names):
    """One jit: for each of ``names``, (y, J t, grad of sum(w * y)) with optional where."""

    def run(x, t, w, where):
        out = {}
        for name in names:
            f = functools.partial(getattr(jaxact, name), axis=axis, where=where)
            y, jvp = jax.jvp(f, (x,), (t,))
            vjp = jax.grad(lambda v, f=f: jnp.sum(w * f(v)))(x)
            out[name] = (y, jvp, vjp)
        return out

    return jax.jit(run)


@jax.jit
def _forward(x, where):
    """Every normaliser's output in one compilation."""
    return {name: getattr(jaxact, name)(x, where=where) for name in NORMALISERS}


def _outputs(x, where=None):
    return {name: np.asarray(v) for name, v in _forward(x, where).items()}


def _derivatives(x, t, w, where=None, axis=-1, names=NORMALISERS):
    out = _derivative_program(axis, names)(x, t, w, where)
    return {k: tuple(np.asarray(a) for a in v) for k, v in out.items()}


# ----------------------------------------------------------------------------
# values against mpmath
# ----------------------------------------------------------------------------
LENGTHS = (1, 2, 5, 64, 1024)
SCALES = (0.3, 1.0, 3.0, 10.0)
WIDTH = max(LENGTHS)


@functools.lru_cache(maxsize=None)
def _value_rows(dtype: str, pad: float) -> np.ndarray:
    """Rows of N(0, s^2) logits of each length, padded to WIDTH with ``pad`` (-inf for
    softmax/log_softmax, +inf for softmin: entries that take no part), then the rows
    [0, -50] and [3, -40]; as ``dtype`` values."""
    rng = np.random.default_rng(1 if pad < 0 else 2)
    rows = []
    for n in LENGTHS:
        for s in SCALES:
            row = np.full(WIDTH, pad)
            row[:n] = rng.standard_normal(n) * s
            rows.append(row)
    for pair in ([0.0, -50.0], [3.0, -40.0]):
        row = np.full(WIDTH, pad)
        row[:2] = pair
        rows.append(row)
    return np.array(rows).astype(DTYPES[dtype])


@functools.lru_cache(maxsize=None)
def _values(name: str, dtype: str):
    """(x, jaxact's output, mpmath hi, mpmath lo) on the value rows."""
    x = _value_rows(dtype, INF if name == "softmin" else -INF)
    got = np.asarray(getattr(jaxact, name)(x))
    assert got.dtype == DTYPES[dtype]
    live = np.isfinite(x)
    his, los = [], []
    for row, keep in zip(x, live):
        hi, lo = mp_double_word(MP[name]([float(v) for v in row[keep]]))
        full_hi = np.full(row.shape, -INF if name == "log_softmax" else 0.0)
        full_lo = np.zeros(row.shape)
        full_hi[keep], full_lo[keep] = hi, lo
        his.append(full_hi)
        los.append(full_lo)
    return x, got, np.array(his), np.array(los)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["softmax", "softmin"])
def test_values_match_mpmath(name, dtype):
    x, got, hi, lo = _values(name, dtype)
    full = ulp_error(got, hi, lo, DTYPES[dtype])
    err = full.max(axis=1)
    table = {
        f"n={n}": {s: round(float(err[i * len(SCALES) + j]), 1) for j, s in enumerate(SCALES)}
        for i, n in enumerate(LENGTHS)
    }
    r, c = np.unravel_index(np.argmax(full), full.shape)
    pivot, what = (np.min, "min") if name == "softmin" else (np.max, "max")
    worst = (f"x = {float(x[r, c])!r} in a row with {what} {float(pivot(x[r][np.isfinite(x[r])]))!r}: "
             f"got {float(got[r, c])!r}, mpmath {float(hi[r, c])!r}")
    long_rows = np.isfinite(x).sum(axis=1) > 64  # rows are padded with infinities
    allowed = np.where(long_rows, SOFTMAX_LONG_ROW_ULP, SOFTMAX_ULP)
    assert np.all(err <= allowed), f"worst ULP error by row length and logit scale: {table}; worst {worst}"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log_softmax_matches_mpmath(dtype):
    x, got, hi, lo = _values("log_softmax", dtype)
    err = _log_softmax_error(got, hi, lo, dtype)
    assert err.max() <= 1.0, f"error / (2 ULP + 2 eps): {_worst(err)}"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log_softmax_top_entry_near_zero(dtype):
    x, got, hi, lo = _values("log_softmax", dtype)
    assert -2e-22 < hi[-2, 0] < -1e-22  # log_softmax([0, -50])[0] is not 0 ...
    assert abs(got[-2, 0] - hi[-2, 0]) <= LOG_SOFTMAX_EPS * _eps(dtype)  # ... but within 2 eps of it
    np.testing.assert_allclose(got[-2:, 1], hi[-2:, 1], rtol=2 * _eps(dtype))


# ----------------------------------------------------------------------------
# edge rows: infinities, huge spreads, NaN
# ----------------------------------------------------------------------------
EDGE = np.array([
    [0.3, -1.2, 2.0, 0.7, -0.4, 1.1],  # 0 ordinary
    [-INF] * 6,  # 1 nothing to normalise
    [0.5, -INF, 2.0, -1.0, -INF, 0.0],  # 2 some -inf entries
    [INF, 0.0, INF, -INF, INF, 1.0],  # 3 three +inf entries: the limit, 1/3 each
    [1e4, 0.0, -1e4, 1e3, -5e3, 2e3],  # 4 huge spread
    [0.1, 0.2, NAN, 0.4, 0.5, 0.6],  # 5 NaN
])
ROW_ORDINARY, ROW_ALL_NEG_INF, ROW_NEG_INF, ROW_POS_INF, ROW_SPREAD, ROW_NAN = range(6)


def _tw(shape, dtype, seed=2):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(shape).astype(DTYPES[dtype]) for _ in range(2))


@functools.lru_cache(maxsize=None)
def _edge(dtype: str):
    """Outputs and derivatives of every normaliser on EDGE in ``dtype``."""
    x = EDGE.astype(DTYPES[dtype])
    t, w = _tw(x.shape, dtype)
    return x, t, w, _outputs(x), _derivatives(x, t, w)


def _edge_reference(name, dtype, row):
    x = EDGE.astype(DTYPES[dtype])[row : row + 1]
    hi, _ = _mp_rows(MP[name], x)
    return hi[0]


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_all_neg_inf_row_gives_fill_and_zero_gradient(name):
    x, t, w, values, derivs = _edge("float64")
    fill = -INF if name == "log_softmax" else 0.0
    assert np.all(values[name][ROW_ALL_NEG_INF] == fill)
    _, jvp, vjp = derivs[name]
    assert np.all(jvp[ROW_ALL_NEG_INF] == 0.0) and np.all(vjp[ROW_ALL_NEG_INF] == 0.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NORMALISERS)
def test_infinite_and_huge_entries_give_limits(name, dtype):
    x, t, w, values, derivs = _edge(dtype)
    rows = [ROW_ALL_NEG_INF, ROW_NEG_INF, ROW_POS_INF, ROW_SPREAD]
    for row in rows:
        want = _edge_reference(name, dtype, row)
        got = values[name][row].astype(np.float64)
        if name == "log_softmax":
            err = _log_softmax_error(got, want, np.zeros_like(want), dtype)
            assert err.max() <= 1.0, (row, got, want)
        else:
            np.testing.assert_allclose(got, want, rtol=2 * _eps(dtype), atol=0, err_msg=f"row {row}")
    _, jvp, vjp = derivs[name]
    assert np.all(np.isfinite(jvp[rows])) and np.all(np.isfinite(vjp[rows]))
    _assert_jvp_vjp(name, x, t, w, jvp, vjp, dtype, rows=rows)


def test_known_limits_exactly():
    _, _, _, values, _ = _edge("float32")
    third = np.float32(1 / 3)
    np.testing.assert_array_equal(values["softmax"][ROW_POS_INF], [third, 0, third, 0, third, 0])
    np.testing.assert_array_equal(values["log_softmax"][ROW_POS_INF][[1, 3, 5]], [-INF, -INF, -INF])
    np.testing.assert_array_equal(values["softmax"][ROW_SPREAD], [1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(values["log_softmax"][ROW_SPREAD], EDGE[ROW_SPREAD] - 1e4)
    np.testing.assert_array_equal(values["softmin"][ROW_SPREAD], [0, 0, 1, 0, 0, 0])
    np.testing.assert_array_equal(values["log_softmax"][ROW_NEG_INF][[1, 4]], [-INF, -INF])


@pytest.mark.parametrize("name", NORMALISERS)
def test_nan_poisons_only_its_row(name):
    x, t, w, values, derivs = _edge("float64")
    assert np.all(np.isnan(values[name][ROW_NAN]))
    others = [ROW_ORDINARY, ROW_NEG_INF, ROW_SPREAD]
    want, _ = _mp_rows(MP[name], x[others])
    np.testing.assert_allclose(values[name][others], want, rtol=4 * _eps("float64"), atol=2 * _eps("float64"))
    _, jvp, vjp = derivs[name]
    assert np.all(np.isfinite(jvp[others])) and np.all(np.isfinite(vjp[others]))


def test_nan_poisons_only_its_column_along_axis_0():
    x = EDGE[[0, 2, 4, 5]].T.copy()  # (6, 4); the NaN is in column 3
    got = np.asarray(jaxact.softmax(x, axis=0))
    assert np.all(np.isnan(got[:, 3]))
    np.testing.assert_allclose(got[:, :3], softmax64(x[:, :3], axis=0), rtol=4 * _eps("float64"))


# ----------------------------------------------------------------------------
# where= masks
# ----------------------------------------------------------------------------
MASK_X = np.array([
    [0.3, 1e6, 2.0, 0.7, 50.0, 1.1],  # 0 huge masked entries must not shift the row
    [0.3, -1.2, 2.0, 0.7, -0.4, 1.1],  # 1 fully masked
    [0.5, -INF, 2.0, NAN, 0.0, 1.0],  # 2 a masked NaN, a live -inf
    [INF, 0.0, INF, 1.0, 2.0, 3.0],  # 3 one +inf masked, one live
    [-0.8, 1.5, 0.2, -2.1, 0.9, 0.4],  # 4 nothing masked
    [-INF, 0.0, 1.0, 2.0, 3.0, 4.0],  # 5 only a -inf live: nothing to normalise
])
MASK = np.array([
    [1, 0, 1, 1, 0, 1],
    [0, 0, 0, 0, 0, 0],
    [1, 1, 1, 0, 1, 1],
    [0, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1],
    [1, 0, 0, 0, 0, 0],
], bool)
EMPTY_ROWS = [1, 5]


@functools.lru_cache(maxsize=None)
def _masked():
    t, w = _tw(MASK_X.shape, "float64", seed=3)
    return t, w, _outputs(MASK_X, MASK), _derivatives(MASK_X, t, w, where=MASK)


@pytest.mark.parametrize("name", NORMALISERS)
def test_where_masks_entries_out_of_normalisation(name):
    _, _, values, _ = _masked()
    got = values[name]
    fill = -INF if name == "log_softmax" else 0.0
    assert np.all(got[~MASK] == fill)
    hi, lo = _mp_rows(MP[name], MASK_X, MASK)
    if name == "log_softmax":
        err = _log_softmax_error(got, hi, lo, "float64")
    else:
        err = ulp_error(got, hi, lo, np.float64) / SOFTMAX_ULP
    assert err.max() <= 1.0, _worst(err)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_fully_masked_row_gives_fill_and_zero_gradient(name):
    t, w, values, derivs = _masked()
    fill = -INF if name == "log_softmax" else 0.0
    empty = [1] if name == "softmin" else EMPTY_ROWS  # softmin sends row 5's live -inf to +inf
    assert np.all(values[name][empty] == fill)
    _, jvp, vjp = derivs[name]
    # gradient of the sum over outputs and of a weighted sum: 0 on empty rows, never NaN
    ones_grad = _derivatives(MASK_X, t, np.ones_like(w), where=MASK)[name][2]
    for g in (vjp, ones_grad, jvp):
        assert not np.any(np.isnan(g))
        assert np.all(g[empty] == 0.0) and np.all(g[~MASK] == 0.0)


@pytest.mark.parametrize("name", NORMALISERS)
def test_masked_derivatives_match_closed_form(name):
    t, w, _, derivs = _masked()
    _, jvp, vjp = derivs[name]
    _assert_jvp_vjp(name, MASK_X, t, w, jvp, vjp, "float64", where=MASK)


def test_where_broadcasts():
    where = MASK[:1]  # shape (1, 6) against (6, 6)
    x = EDGE[:1].repeat(6, axis=0) + np.arange(6)[:, None]
    got = np.asarray(jaxact.softmax(x, where=where))
    hi, lo = _mp_rows(softmax_mp, x, np.broadcast_to(where, x.shape))
    assert ulp_error(got, hi, lo, np.float64).max() <= SOFTMAX_ULP


# ----------------------------------------------------------------------------
# random rows: first and second derivatives
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NORMALISERS)
def test_jvp_and_grad_match_closed_form(name, dtype):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((6, 6)) * np.array([0.3, 1, 2, 3, 5, 6])[:, None]).astype(DTYPES[dtype])
    t, w = _tw(x.shape, dtype, seed=5)
    y, jvp, vjp = _derivatives(x, t, w)[name]
    assert jvp.dtype == vjp.dtype == DTYPES[dtype]
    _assert_jvp_vjp(name, x, t, w, jvp, vjp, dtype)


def _to_rows(a: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """``a`` with ``axes`` moved last and flattened into one row per normalisation."""
    rest = [i for i in range(a.ndim) if i not in axes]
    return np.transpose(a, rest + list(axes)).reshape(-1, int(np.prod([a.shape[i] for i in axes])))


AXES_CASES = [(0, (0,)), (1, (1,)), ((2, 0), (0, 2)), (None, (0, 1, 2))]
AXES_X = np.random.default_rng(6).standard_normal((2, 3, 4)) * 2


@functools.lru_cache(maxsize=None)
def _over_axes(axis):
    t, w = _tw(AXES_X.shape, "float64", seed=7)
    return t, w, _derivatives(AXES_X, t, w, axis=axis, names=("softmax", "log_softmax"))


@pytest.mark.parametrize("axis, axes", AXES_CASES, ids=[f"axis={a}" for a, _ in AXES_CASES])
def test_axes_values_and_derivatives(axis, axes):
    x = AXES_X
    t, w, out = _over_axes(axis)
    for name in ("softmax", "log_softmax"):
        y, jvp, vjp = (_to_rows(a, axes) for a in out[name])
        rows = _to_rows(x, axes)
        want = F64[name](rows)
        if name == "log_softmax":
            np.testing.assert_allclose(y, want, rtol=4 * _eps("float64"), atol=4 * _eps("float64"))
        else:
            assert np.all(np.abs(y - want) <= _shift_rtol(rows) * want), name
        _assert_jvp_vjp(name, rows, _to_rows(t, axes), _to_rows(w, axes), jvp, vjp, "float64")


def _softmax_hessian(y, w):
    """Hessian of sum_j w_j softmax(x)_j: H_ik = J_ik (w_i - <y, w>) - y_i g_k, g = J^T w."""
    jac = np.diag(y) - np.outer(y, y)
    return jac * (w - y @ w)[:, None] - np.outer(y, jac.T @ w)


@functools.lru_cache(maxsize=None)
def _hessians():
    w = np.random.default_rng(8).standard_normal(MASK.shape)
    x = np.where(np.isfinite(MASK_X), MASK_X, 0.5)  # Hessians at finite points

    def losses(v):
        return (jnp.sum(w * jaxact.softmax(v, where=MASK)),
                jnp.sum(jnp.where(MASK, w * jaxact.log_softmax(v, where=MASK), 0.0)))

    hs = jax.jit(lambda v: (jax.hessian(lambda u: losses(u)[0])(v), jax.hessian(lambda u: losses(u)[1])(v)))(x)
    return x, w, tuple(np.asarray(h) for h in hs)


def _block_diag(blocks):
    n = blocks[0].shape[0]
    out = np.zeros((len(blocks), n, len(blocks), n))
    for r, b in enumerate(blocks):
        out[r, :, r, :] = b
    return out


def test_softmax_hessian_matches_closed_form():
    x, w, (hess, _) = _hessians()
    assert np.all(np.isfinite(hess))
    y = softmax64(x, where=MASK)
    expected = _block_diag([_softmax_hessian(y[r], w[r]) for r in range(len(x))])
    # the closed form is itself checked against float64 central differences of the gradient
    def grad64(v, r):
        p = softmax64(v, where=MASK[r])
        return (np.diag(p) - np.outer(p, p)).T @ w[r]

    h = 1e-6
    for r in (0, 4):
        fd = np.stack([(grad64(x[r] + h * e, r) - grad64(x[r] - h * e, r)) / (2 * h) for e in np.eye(6)], axis=1)
        np.testing.assert_allclose(expected[r, :, r, :], fd, atol=1e-8)
    np.testing.assert_allclose(hess, expected, atol=HESSIAN_TOL)
    assert np.all(hess[EMPTY_ROWS] == 0.0)


def test_log_softmax_hessian_matches_closed_form():
    x, w, (_, hess) = _hessians()
    assert np.all(np.isfinite(hess))
    p = softmax64(x, where=MASK)
    # sum_i w_i (x_i - logsumexp(x)) over the live i has Hessian -sum(w_live) (diag(p) - p p^T)
    wl = np.where(MASK, w, 0.0)
    expected = _block_diag([-wl[r].sum() * (np.diag(p[r]) - np.outer(p[r], p[r])) for r in range(len(x))])
    np.testing.assert_allclose(hess, expected, atol=HESSIAN_TOL)


# ----------------------------------------------------------------------------
# 16-bit dtypes
# ----------------------------------------------------------------------------
def _logits_1000(dtype) -> np.ndarray:
    return (np.random.default_rng(9).standard_normal((4, 1000)) * 3).astype(dtype)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_low_precision_within_one_ulp(name, dtype):
    x = _logits_1000(DTYPES[dtype])
    ref = F64[name](x.astype(np.float64))
    got = np.asarray(getattr(jaxact, name)(x))
    assert got.dtype == DTYPES[dtype]
    err = ulp_error(got, ref, np.zeros_like(ref), DTYPES[dtype])
    assert err.max() <= LOW_PRECISION_ULP, _worst(err)


def test_bfloat16_softmax_beats_jax_nn():
    x = _logits_1000(ml_dtypes.bfloat16)
    ref = softmax64(x.astype(np.float64))
    ours = ulp_error(np.asarray(jaxact.softmax(x)), ref, np.zeros_like(ref), ml_dtypes.bfloat16).max()
    theirs = ulp_error(np.asarray(jax.nn.softmax(x)), ref, np.zeros_like(ref), ml_dtypes.bfloat16).max()
    assert ours <= LOW_PRECISION_ULP < theirs, f"jaxact {ours:.2f} ULP, jax.nn {theirs:.2f} ULP"


# ----------------------------------------------------------------------------
# dtypes
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float32", "float64"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin", "glu"])
def test_output_dtype_is_input_dtype(name, dtype):
    x = jax.ShapeDtypeStruct((3, 4), DTYPES[dtype])
    assert jax.eval_shape(getattr(jaxact, name), x).dtype == DTYPES[dtype]


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.bool_])
def test_int_input_promoted_to_float(dtype):
    x = (np.arange(36).reshape(6, 6) % 7).astype(dtype)
    for name in ("softmax", "log_softmax", "softmin", "glu"):
        got = getattr(jaxact, name)(x)
        assert jnp.issubdtype(got.dtype, jnp.floating), (name, got.dtype)
        tol = 4 * _eps(got.dtype)
        ref = (glu64 if name == "glu" else F64[name])(x.astype(np.float64))
        np.testing.assert_allclose(np.asarray(got, np.float64), ref, rtol=tol, atol=tol)


# ----------------------------------------------------------------------------
# sums and identities (hypothesis)
# ----------------------------------------------------------------------------
@st.composite
def _rows(draw, bound=1e300):
    n = draw(st.sampled_from([1, 7, 64]))
    ordinary = st.floats(-30.0, 30.0)
    large = st.floats(-bound, bound, allow_nan=False, allow_infinity=False)
    return np.array(draw(st.lists(st.one_of(ordinary, large), min_size=n, max_size=n)), np.float64)


@given(_rows())
def test_softmax_rows_sum_to_one(x):
    y = np.asarray(jaxact.softmax(x))
    assert np.all((y >= 0) & (y <= 1))
    assert abs(y.sum() - 1.0) <= (2 + x.size) * _eps("float64")
    assert np.all(np.abs(y - softmax64(x)) <= _shift_rtol(x) * y + 1e-300)


@given(_rows(), st.integers(0, 2**64 - 1))
def test_masked_softmax_rows_sum_to_one_or_zero(x, bits):
    where = np.array([(bits >> i) & 1 for i in range(x.size)], bool)
    y = np.asarray(jaxact.softmax(x, where=where))
    assert np.all(y[~where] == 0.0)
    assert abs(y.sum() - (1.0 if where.any() else 0.0)) <= (2 + x.size) * _eps("float64")
    assert np.all(np.abs(y - softmax64(x, where=where)) <= _shift_rtol(x, where) * y + 1e-300)


@given(_rows(bound=700.0))
def test_exp_log_softmax_is_softmax(x):
    ls = np.asarray(jaxact.log_softmax(x))
    s = np.asarray(jaxact.softmax(x))
    ref = softmax64(x)
    # exp turns ls's absolute error (a few eps * max(1, |ls|)) into a relative one
    rtol = 8 * _eps("float64") * np.maximum(1.0, np.abs(ls))
    assert np.all(np.abs(np.exp(ls) - s) <= rtol * s + 1e-300)
    assert np.all(np.abs(np.exp(ls) - ref) <= rtol * ref + 1e-300)
    assert _log_softmax_error(ls, log_softmax64(x), 0.0 * ref, "float64").max() <= 1.0


@given(_rows())
def test_softmin_is_softmax_of_negation(x):
    got = np.asarray(jaxact.softmin(x))
    np.testing.assert_array_equal(got, np.asarray(jaxact.softmax(-x)))
    assert np.all(np.abs(got - softmin64(x)) <= _shift_rtol(-x) * got + 1e-300)


# ----------------------------------------------------------------------------
# glu
# ----------------------------------------------------------------------------
GLU_AXES = (0, 1, -1)


@functools.lru_cache(maxsize=None)
def _glu(dtype: str):
    """x, t, w and per axis (y, J t, grad of sum(w * y), jax.nn.glu) from one jit."""
    rng = np.random.default_rng(10)
    x = (rng.standard_normal((4, 6, 8)) * 4).astype(DTYPES[dtype])
    t = rng.standard_normal(x.shape).astype(DTYPES[dtype])
    ws = {a: rng.standard_normal(glu64(x, axis=a).shape).astype(DTYPES[dtype]) for a in GLU_AXES}

    @jax.jit
    def run(x, t, ws):
        out = {}
        for a in GLU_AXES:
            f = functools.partial(jaxact.glu, axis=a)
            y, jvp = jax.jvp(f, (x,), (t,))
            out[a] = (y, jvp, jax.grad(lambda v, f=f, a=a: jnp.sum(ws[a] * f(v)))(x), jax.nn.glu(x, axis=a))
        return out

    out = run(x, t, ws)
    return x, t, ws, {a: tuple(np.asarray(v) for v in out[a]) for a in GLU_AXES}


@pytest.mark.parametrize("axis", GLU_AXES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_glu_values_and_derivatives(dtype, axis):
    x, t, ws, out = _glu(dtype)
    y, jvp, vjp, _ = out[axis]
    ref = glu64(x, axis=axis)
    assert y.dtype == DTYPES[dtype] and y.shape == ref.shape
    rows = np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
    y_rows = np.moveaxis(y, axis, -1).reshape(len(rows), -1)
    if dtype == "float64":  # glu64 is itself off by up to 2 ULP: use mpmath
        hi, lo = _mp_rows(lambda row, _: glu_mp(row), rows)
    else:
        hi = np.moveaxis(ref, axis, -1).reshape(y_rows.shape)
        lo = np.zeros_like(hi)
    err = ulp_error(y_rows, hi, lo, DTYPES[dtype])
    r, c = np.unravel_index(np.argmax(err), err.shape)
    assert err.max() <= GLU_ULP, (
        f"{err.max():.3g} ULP at a = {float(rows[r, c])!r}, b = {float(rows[r, c + y_rows.shape[1]])!r}: "
        f"got {float(y_rows[r, c])!r}, reference {float(hi[r, c])!r}"
    )
    # y = a sigma(b): dy = sigma(b) da + a sigma(b) sigma(-b) db
    a, b = np.split(x.astype(np.float64), 2, axis=axis)
    ta, tb = np.split(t.astype(np.float64), 2, axis=axis)
    w = ws[axis].astype(np.float64)
    s, ds = expit(b), a * expit(b) * expit(-b)
    tol = 8 * _eps(dtype)
    assert np.all(np.abs(jvp - (s * ta + ds * tb)) <= tol * (np.abs(s * ta) + np.abs(ds * tb)))
    want = np.concatenate([w * s, w * ds], axis=axis)
    assert np.all(np.abs(vjp - want) <= tol * np.abs(want)), _worst(np.abs(vjp - want) / np.abs(want))


def test_glu_bfloat16_within_one_ulp():
    x = _logits_1000(ml_dtypes.bfloat16)
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
OUT_OF_RANGE = [(name, axis, bad) for name in ("softmax", "log_softmax", "softmin", "glu")
                for axis, bad in [(2, 2), (-3, -3), ((0, 2), 2)]
                if not (name == "glu" and isinstance(axis, tuple))]  # glu takes a single int axis


@pytest.mark.parametrize("name, axis, bad", OUT_OF_RANGE)
def test_axis_out_of_range_raises(name, axis, bad):
    with pytest.raises(jaxact.ActivationError, match=rf"'axis'.*{bad}") as info:
        getattr(jaxact, name)(np.ones((2, 4)), axis=axis)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("name", NORMALISERS)
@pytest.mark.parametrize("axis", [(1, 1), (1, -1), (0, 1, 0)])
def test_repeated_axis_raises(name, axis):
    with pytest.raises(jaxact.ActivationError, match=r"'axis'.*" + re.escape(repr(axis))):
        getattr(jaxact, name)(np.ones((2, 4)), axis=axis)


@pytest.mark.parametrize("name", NORMALISERS)
@pytest.mark.parametrize("shape", [(3,), (2, 3), (3, 4), (1, 2, 4)])
def test_where_shape_mismatch_raises(name, shape):
    with pytest.raises(jaxact.ActivationError, match=r"'where'.*" + re.escape(str(shape))):
        getattr(jaxact, name)(np.ones((2, 4)), where=np.ones(shape, bool))


# ----------------------------------------------------------------------------
# parity with jax.nn
# ----------------------------------------------------------------------------
@jax.jit
def _with_jax_nn(x, where):
    return {
        lib.__name__: {name: (getattr(lib, name)(x), getattr(lib, name)(x, where=where))
                       for name in ("softmax", "log_softmax")}
        for lib in (jaxact, jax.nn)
    }


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_jax_nn(dtype):
    x = (np.random.default_rng(11).standard_normal((6, 6)) * 2).astype(DTYPES[dtype])
    where = MASK[[0, 3, 4, 2, 0, 4]]  # no empty rows: jax.nn gives NaN there
    out = _with_jax_nn(x, where)
    tol = 8 * _eps(dtype)
    for name in ("softmax", "log_softmax"):
        for ours, theirs in zip(out["jaxact"][name], out["jax.nn"][name]):
            np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=tol, atol=tol)


def test_matches_jax_nn_over_axes():
    theirs = jax.jit(lambda v: {str(a): (jax.nn.softmax(v, axis=a), jax.nn.log_softmax(v, axis=a))
                                for a, _ in AXES_CASES})(AXES_X)
    for axis, _ in AXES_CASES:
        ours = _over_axes(axis)[2]
        for name, want in zip(("softmax", "log_softmax"), theirs[str(axis)]):
            tol = 8 * _eps("float64")
            np.testing.assert_allclose(ours[name][0], np.asarray(want), rtol=tol, atol=tol)


def test_glu_matches_jax_nn():
    for dtype in ("float32", "float64"):
        _, _, _, out = _glu(dtype)
        for axis in GLU_AXES:
            ours, theirs = out[axis][0], out[axis][3]
            np.testing.assert_allclose(ours, theirs, rtol=8 * _eps(dtype), atol=8 * _eps(dtype))
