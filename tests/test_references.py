"""Tests of the numerical references in tests/references.py (not of jaxact).

The float64 references are checked against the mpmath ones, the mpmath ones
against mpmath.diff and against the textbook formulas evaluated at very high
precision, and both against hand-written limits, kink conventions and a few
known values.
"""

import warnings

import mpmath
import numpy as np
import pytest

from references import (
    ELEMENTWISE,
    deriv_zero_crossings,
    glu64,
    glu_mp,
    log_softmax64,
    log_softmax_mp,
    softmax64,
    softmax_mp,
    softmin64,
    softmin_mp,
)

mpf = mpmath.mpf
INF = float("inf")

# Every function at its defaults, plus the parameter values worth a second look.
VARIANTS = [(name, {}) for name in ELEMENTWISE] + [
    ("gelu", {"approximate": False}),
    ("swish", {"beta": 1.702}),
    ("swish", {"beta": 0.5}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("elu", {"alpha": 0.3}),
    ("celu", {"alpha": 1.7}),
    ("celu", {"alpha": 0.5}),
    ("squareplus", {"b": 1.0}),
]


def variant_id(v):
    name, params = v
    return name + "".join(f"-{k}={val}" for k, val in params.items())


VARIANT_IDS = [variant_id(v) for v in VARIANTS]
F32 = np.finfo(np.float32)
F64 = np.finfo(np.float64)

GRID = np.unique(np.concatenate([
    np.linspace(-10.0, 10.0, 401),                       # dense core
    np.logspace(-300, 300, 121), -np.logspace(-300, 300, 121),
    np.linspace(-40.0, -10.0, 61),                        # gelu/silu/mish tails
    np.linspace(-800.0, 800.0, 81),                       # exp over/underflow
    [F32.max, -F32.max, F32.tiny, -F32.tiny,
     F32.smallest_subnormal, -F32.smallest_subnormal,
     F64.max, -F64.max, F64.tiny, -F64.tiny, 5e-324, -5e-324, 0.0,
     -745.2, -709.5, -37.5, -38.5, -26.0, -30.0001, 30.0001, 37.0, 709.8],
]))

# Near a zero crossing of f' the float64 derivative cancels: allowed ~1 ULP of
# the cancelling terms (~1) in absolute error.  The window is wider than the
# 1e-3 of the brief: at distance d from the root a cancelling form has relative
# error ~1e-16 / (d |f''|), which only drops below 1e-14 for d >~ 0.05.
ZERO_WINDOW = 0.1
ZERO_ABS_TOL = 3e-16
REL_TOL = 1e-14
ABS_FLOOR = 1e-300


def tolerance(name, params, kind, x, ref):
    tol = REL_TOL * abs(ref) + ABS_FLOOR
    if kind == "deriv" and any(abs(x - z) < ZERO_WINDOW for z in deriv_zero_crossings(name, **params)):
        tol = max(tol, 1e-12 * abs(ref), ZERO_ABS_TOL)
    return tol


# --------------------------------------------------------------------------
# float64 against mpmath
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["value", "deriv"])
@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_float64_matches_mp(variant, kind):
    name, params = variant
    ref = ELEMENTWISE[name]
    f64, fmp = getattr(ref, kind + "64"), getattr(ref, kind + "_mp")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = f64(GRID, **params)
    assert got.shape == GRID.shape and got.dtype == np.float64
    bad = []
    for x, g in zip(GRID, got):
        want = float(fmp(float(x), **params))  # correctly rounded to float64
        if np.isinf(want):  # true value beyond float64 range
            ok = g == want
        else:
            ok = abs(g - want) <= tolerance(name, params, kind, x, want)
        if not ok:
            bad.append((x, g, want))
    assert not bad, bad[:10]


TAIL_GRID = np.concatenate([np.linspace(-746.0, -690.0, 57), np.linspace(-40.0, -20.0, 41)])


@pytest.mark.parametrize("kind", ["value", "deriv"])
@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_float64_tails_down_to_underflow(variant, kind):
    """Below 1e-300 too: relative 1e-14 while the true value is a normal float64,
    a few subnormal steps once it is subnormal (no early flush to 0)."""
    name, params = variant
    ref = ELEMENTWISE[name]
    got = getattr(ref, kind + "64")(TAIL_GRID, **params)
    fmp = getattr(ref, kind + "_mp")
    for x, g in zip(TAIL_GRID, got):
        want = float(fmp(float(x), **params))
        tol = REL_TOL * abs(want) if abs(want) >= F64.tiny else 4 * 5e-324
        assert abs(g - want) <= tol, (x, g, want)


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_float64_shapes_nan_and_scalars(variant):
    name, params = variant
    ref = ELEMENTWISE[name]
    x = np.array([[-2.0, np.nan], [0.5, 3.0]])
    for f in (ref.value64, ref.deriv64):
        out = f(x, **params)
        assert out.shape == x.shape
        assert np.isnan(out).tolist() == [[False, True], [False, False]]
        assert float(f(0.5, **params)) == out[1, 0]
        assert f(np.float32(0.5), **params) == out[1, 0]


# --------------------------------------------------------------------------
# mpmath derivatives against numerical differentiation
# --------------------------------------------------------------------------

DIFF_POINTS = [-15.2, -7.3, -2.9, -1.7, -1.2785, -0.6, -1e-3, 1e-7, 0.4, 1.3, 2.1, 5.5, 9.1, 21.7]


def away_from_kinks(ref, params):
    kinks = ref.kinks(**params)
    return [x for x in DIFF_POINTS if all(abs(x - k) > 1e-6 for k in kinks)]


def assert_close_mp(got, want, rel, absolute):
    assert abs(got - want) <= rel * abs(want) + absolute, (got, want)


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_deriv_mp_matches_numerical_diff(variant):
    name, params = variant
    ref = ELEMENTWISE[name]
    with mpmath.workdps(50):
        for x in away_from_kinks(ref, params):
            numeric = mpmath.diff(lambda t: ref.value_mp(t, **params), mpf(x))
            assert_close_mp(ref.deriv_mp(x, **params), numeric, mpf("1e-20"), mpf("1e-40"))


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_deriv2_mp_matches_numerical_diff(variant):
    name, params = variant
    ref = ELEMENTWISE[name]
    with mpmath.workdps(50):
        for x in away_from_kinks(ref, params):
            numeric = mpmath.diff(lambda t: ref.value_mp(t, **params), mpf(x), 2)
            assert_close_mp(ref.deriv2_mp(x, **params), numeric, mpf("1e-20"), mpf("1e-35"))


# --------------------------------------------------------------------------
# mpmath values against the textbook formulas at very high precision
# --------------------------------------------------------------------------

SELU_ALPHA = "1.6732632423543772848170429916717"
SELU_SCALE = "1.0507009873554804934193349852946"


def naive(name, x, p):
    """The definitions from the spec, written literally (cancellation and all)."""
    e, relu6 = mpmath.exp, lambda v: min(max(v, 0), 6)
    if name == "sigmoid":
        return 1 / (1 + e(-x))
    if name == "tanh":
        return (e(x) - e(-x)) / (e(x) + e(-x))
    if name == "relu":
        return max(x, 0)
    if name == "relu6":
        return relu6(x)
    if name == "leaky_relu":
        return x if x >= 0 else mpf(p.get("negative_slope", 0.01)) * x
    if name == "elu":
        return x if x > 0 else mpf(p.get("alpha", 1.0)) * (e(x) - 1)
    if name == "selu":
        return mpf(SELU_SCALE) * (x if x > 0 else mpf(SELU_ALPHA) * (e(x) - 1))
    if name == "celu":
        a = mpf(p.get("alpha", 1.0))
        return max(0, x) + min(0, a * (e(x / a) - 1))
    if name == "gelu" and p.get("approximate", True):
        return x / 2 * (1 + mpmath.tanh(mpmath.sqrt(2 / mpmath.pi) * (x + mpf("0.044715") * x**3)))
    if name == "gelu":
        return x / 2 * mpmath.erfc(-x / mpmath.sqrt(2))
    if name == "silu":
        return x / (1 + e(-x))
    if name == "swish":
        return x / (1 + e(-mpf(p.get("beta", 1.0)) * x))
    if name == "mish":
        return x * mpmath.tanh(mpmath.log(1 + e(x)))
    if name == "softplus":
        return mpmath.log(1 + e(x))
    if name == "log_sigmoid":
        return -mpmath.log(1 + e(-x))
    if name == "soft_sign":
        return x / (1 + abs(x))
    if name == "hard_tanh":
        return min(max(x, -1), 1)
    if name == "hard_sigmoid":
        return relu6(x + 3) / 6
    if name == "hard_swish":
        return x * relu6(x + 3) / 6
    if name == "identity":
        return x
    if name == "squareplus":
        return (x + mpmath.sqrt(x * x + mpf(p.get("b", 4)))) / 2
    if name == "sparse_plus":
        return mpf(0) if x <= -1 else (x if x >= 1 else (x + 1) ** 2 / 4)
    if name == "sparse_sigmoid":
        return min(max(x + 1, 0), 2) / 2
    raise KeyError(name)


NAIVE_POINTS = [-19.7, -12.25, -6.0, -3.0, -2.5, -1.0, -0.3, -1e-9, 0.0, 1e-12, 0.7, 1.0, 2.75, 6.0, 8.8, 19.3]


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_value_mp_matches_naive_formula(variant):
    name, params = variant
    ref = ELEMENTWISE[name]
    for x in NAIVE_POINTS:
        with mpmath.workdps(500):  # enough to absorb the cancellations
            want = naive(name, mpf(x), params)
        assert_close_mp(ref.value_mp(x, **params), want, mpf("1e-45"), mpf("1e-300"))


# --------------------------------------------------------------------------
# Known values
# --------------------------------------------------------------------------


def test_sigmoid_derivative_does_not_underflow():
    d = ELEMENTWISE["sigmoid"]
    assert abs(float(d.deriv64(30.0)) / 9.357622968839e-14 - 1) < 1e-12
    assert abs(float(d.deriv_mp(30.0)) / 9.357622968839e-14 - 1) < 1e-12
    assert float(d.deriv64(700.0)) > 0  # e^-700 ~ 9.9e-305 is a normal float64
    assert float(d.deriv64(-700.0)) == float(d.deriv64(700.0))


def test_gelu_tanh_negative_tail():
    g = ELEMENTWISE["gelu"]
    with mpmath.workdps(200):
        x = mpf(-10)
        raw = x / 2 * (1 + mpmath.tanh(mpmath.sqrt(2 / mpmath.pi) * (x + mpf("0.044715") * x**3)))
    v = float(g.value64(-10.0))
    assert v < 0 and 1e-38 < -v < 1e-36
    assert abs(v - float(raw)) <= 1e-14 * abs(float(raw))
    assert abs(g.value_mp(-10.0) - raw) <= mpf("1e-45") * abs(raw)
    assert float(g.value64(-20.0)) < 0  # still a normal float64 (~ -1e-261)
    assert float(g.value64(-10.0, approximate=False)) < 0


def test_softplus_far_negative_tail():
    s = ELEMENTWISE["softplus"]
    v700 = float(s.value64(-700.0))
    assert v700 > 0 and abs(v700 / float(mpmath.exp(-700)) - 1) < 1e-14
    assert float(s.value64(-740.0)) > 0  # subnormal, still positive
    # e^-800 ~ 3.7e-348 is below the smallest float64 subnormal: 0, not NaN.
    assert s.value_mp(-800.0) > 0
    assert float(s.value64(-800.0)) == 0.0
    assert float(ELEMENTWISE["log_sigmoid"].value64(800.0)) == -0.0


def test_other_underflow_sensitive_derivatives():
    cases = {
        "tanh": (20.0, lambda x: 4 * mpmath.exp(-2 * x) / (1 + mpmath.exp(-2 * x)) ** 2),
        "elu": (-700.0, mpmath.exp),
        "soft_sign": (1e150, lambda x: 1 / (1 + x) ** 2),
        "squareplus": (-1e100, lambda x: (1 + x / mpmath.sqrt(x * x + 4)) / 2),
    }
    for name, (x, exact) in cases.items():
        with mpmath.workdps(400):
            want = float(exact(mpf(x)))
        got = float(ELEMENTWISE[name].deriv64(x))
        assert want > 0 and abs(got - want) <= 1e-14 * want, (name, got, want)


# --------------------------------------------------------------------------
# Limits at +-inf and kink conventions
# --------------------------------------------------------------------------

with mpmath.workdps(50):
    SA = float(mpf(SELU_SCALE) * mpf(SELU_ALPHA))  # correctly rounded scale*alpha
LIMITS = {  # variant id: (f(-inf), f(+inf), f'(-inf), f'(+inf))
    "sigmoid": (0, 1, 0, 0), "tanh": (-1, 1, 0, 0), "relu": (0, INF, 0, 1),
    "relu6": (0, 6, 0, 0), "leaky_relu": (-INF, INF, 0.01, 1),
    "leaky_relu-negative_slope=0.2": (-INF, INF, 0.2, 1),
    "elu": (-1, INF, 0, 1), "elu-alpha=0.3": (-0.3, INF, 0, 1),
    "selu": (-SA, INF, 0, float(mpf(SELU_SCALE))),
    "celu": (-1, INF, 0, 1), "celu-alpha=1.7": (-1.7, INF, 0, 1), "celu-alpha=0.5": (-0.5, INF, 0, 1),
    "gelu": (0, INF, 0, 1), "gelu-approximate=False": (0, INF, 0, 1),
    "silu": (0, INF, 0, 1), "swish": (0, INF, 0, 1), "swish-beta=1.702": (0, INF, 0, 1),
    "swish-beta=0.5": (0, INF, 0, 1), "mish": (0, INF, 0, 1), "softplus": (0, INF, 0, 1),
    "log_sigmoid": (-INF, 0, 1, 0), "soft_sign": (-1, 1, 0, 0), "hard_tanh": (-1, 1, 0, 0),
    "hard_sigmoid": (0, 1, 0, 0), "hard_swish": (0, INF, 0, 1), "identity": (-INF, INF, 1, 1),
    "squareplus": (0, INF, 0, 1), "squareplus-b=1.0": (0, INF, 0, 1),
    "sparse_plus": (0, INF, 0, 1), "sparse_sigmoid": (0, 1, 0, 0),
}


def test_limits_table_is_complete():
    assert set(LIMITS) == set(VARIANT_IDS)


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_limits_at_infinity(variant):
    name, params = variant
    ref = ELEMENTWISE[name]
    v_lo, v_hi, d_lo, d_hi = LIMITS[variant_id(variant)]
    got64 = [ref.value64(np.array([-INF, INF]), **params), ref.deriv64(np.array([-INF, INF]), **params)]
    assert list(got64[0]) == [v_lo, v_hi] and list(got64[1]) == [d_lo, d_hi]
    for x, v, d in ((-INF, v_lo, d_lo), (INF, v_hi, d_hi)):
        assert float(ref.value_mp(mpf(x), **params)) == v
        assert float(ref.deriv_mp(mpf(x), **params)) == d
        assert ref.deriv2_mp(mpf(x), **params) == 0
    # ... and the finite values approach them.
    far = np.array([-1e6, 1e6])
    for f, lims in ((ref.value64, (v_lo, v_hi)), (ref.deriv64, (d_lo, d_hi))):
        for got, lim in zip(f(far, **params), lims):
            assert (np.sign(got) == np.sign(lim) or got == 0) if np.isinf(lim) else abs(got - lim) < 1e-6


KINKS = {  # name: {x: f'(x) by convention}
    "relu": {0.0: 0.0}, "relu6": {0.0: 0.0, 6.0: 0.0}, "leaky_relu": {0.0: 1.0},
    "elu": {0.0: 1.0}, "selu": {0.0: SA}, "celu": {0.0: 1.0}, "soft_sign": {0.0: 1.0},
    "hard_tanh": {-1.0: 1.0, 1.0: 1.0}, "hard_sigmoid": {-3.0: 0.0, 3.0: 0.0},
    "hard_swish": {-3.0: 0.0, 3.0: 1.0}, "sparse_plus": {-1.0: 0.0, 1.0: 1.0},
    "sparse_sigmoid": {-1.0: 0.25, 1.0: 0.25},
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_kinks_and_conventions(name):
    ref = ELEMENTWISE[name]
    expected = KINKS.get(name, {})
    assert tuple(sorted(ref.kinks())) == tuple(sorted(expected))
    for x, d in expected.items():
        assert float(ref.deriv64(x)) == d
        assert float(ref.deriv_mp(x)) == d
        assert ref.deriv2_mp(x) == 0
    assert ELEMENTWISE["elu"].deriv64(0.0, alpha=0.3) == 0.3
    assert ELEMENTWISE["leaky_relu"].deriv64(0.0, negative_slope=0.2) == 1.0
    assert ELEMENTWISE["squareplus"].kinks(b=0.0) == (0.0,)


def test_deriv_zero_crossings():
    expected = {"silu": -1.27846, "swish": -1.27846, "gelu": -0.75246, "mish": -1.19243}
    for name, z in expected.items():
        (root,) = deriv_zero_crossings(name)
        assert abs(root - z) < 1e-5
        assert abs(ELEMENTWISE[name].deriv_mp(root)) < 1e-15
    (root,) = deriv_zero_crossings("gelu", approximate=False)
    assert abs(root + 0.75179) < 1e-5  # the erf form's root is slightly different
    (root,) = deriv_zero_crossings("swish", beta=0.5)
    assert abs(root - 2 * deriv_zero_crossings("silu")[0]) < 1e-12
    assert deriv_zero_crossings("sigmoid") == ()


# --------------------------------------------------------------------------
# Row-wise functions
# --------------------------------------------------------------------------


def random_rows(seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for scale in (1.0, 10.0, 100.0, 1e4):
        for n in (1, 2, 5, 8):
            for _ in range(3):
                x = rng.standard_normal(n) * scale
                w = rng.random(n) < 0.7 if rng.random() < 0.5 else None
                rows.append((x, w))
    rows += [
        (np.array([1e4, 0.0, -1e4]), None),
        (np.array([0.0, -50.0]), None),                   # log_softmax(0) = -log1p(e^-50)
        (np.array([-INF, 1.0, 2.0, -INF]), None),
        (np.array([-INF, -INF]), None),                   # like fully masked
        (np.array([1.0, 2.0, 3.0]), np.array([False, False, False])),
        (np.array([1.0, -INF, 3.0]), np.array([True, True, False])),  # only -inf left
        (np.array([INF, 1.0, INF, -INF]), None),          # two +inf
        (np.array([INF, 1.0, 2.0]), np.array([False, True, True])),  # masked +inf
        (np.array([700.0, -700.0, 0.0, 1e-300]), None),
        (np.array([F64.max, -F64.max]), None),
    ]
    return rows


def assert_row_close(got, want):
    for g, w in zip(got, want):
        wf = float(w)
        if np.isinf(wf):
            assert g == wf, (got, want)
        else:
            assert abs(g - wf) <= REL_TOL * abs(wf) + ABS_FLOOR, (got, want)


@pytest.mark.parametrize("kind", ["softmax", "log_softmax", "softmin"])
def test_rowwise_float64_matches_mp(kind):
    f64 = {"softmax": softmax64, "log_softmax": log_softmax64, "softmin": softmin64}[kind]
    fmp = {"softmax": softmax_mp, "log_softmax": log_softmax_mp, "softmin": softmin_mp}[kind]
    for x, w in random_rows():
        want = fmp(list(x), None if w is None else list(w))
        got = f64(x, where=w)
        assert got.shape == x.shape
        assert_row_close(got, want)


def test_rowwise_special_rows():
    assert softmax_mp([1.0, 2.0], [False, False]) == [0, 0]
    assert log_softmax_mp([-INF, -INF]) == [-mpmath.inf] * 2
    assert list(softmax64(np.array([INF, 0.0, INF]))) == [0.5, 0.0, 0.5]
    assert list(log_softmax64(np.array([INF, 0.0, INF]))) == [-np.log(2), -INF, -np.log(2)]
    assert softmax_mp([INF, 0.0, INF]) == [0.5, 0, 0.5]
    assert list(softmax64(np.array([1.0, 2.0]), where=np.array([False, False]))) == [0.0, 0.0]
    assert list(log_softmax64(np.array([1.0, 2.0]), where=np.array([True, False])))[1] == -INF
    assert float(log_softmax64(np.array([0.0, -50.0]))[0]) < 0  # -log1p(e^-50), not 0


def test_softmax_sums_to_one_and_axis():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 7, 5)) * 30
    for axis in (0, 1, -1):
        p = softmax64(x, axis=axis)
        assert np.all(np.abs(p.sum(axis=axis) - 1) <= 8 * np.finfo(float).eps)
        moved = np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
        want = np.array([[float(v) for v in softmax_mp(list(r))] for r in moved])
        got = np.moveaxis(p, axis, -1).reshape(want.shape)
        assert np.all(np.abs(got - want) <= REL_TOL * np.abs(want) + ABS_FLOOR)
    w = rng.random((4, 7, 5)) < 0.6
    p = softmax64(x, where=w)
    assert np.all(p[~w] == 0)
    sums = p.sum(axis=-1)
    assert np.all((np.abs(sums - 1) <= 8 * np.finfo(float).eps) | ~w.any(axis=-1))
    np.testing.assert_array_equal(softmin64(x, axis=1), softmax64(-x, axis=1))
    # `where` broadcasts against x
    row_mask = np.array([True, False, True, True, False])
    np.testing.assert_array_equal(softmax64(x, where=row_mask), softmax64(x, where=np.broadcast_to(row_mask, x.shape)))


def test_glu():
    rng = np.random.default_rng(2)
    for n in (2, 4, 10):
        for scale in (1.0, 50.0, 1e3):
            x = rng.standard_normal(n) * scale
            assert_row_close(glu64(x), glu_mp(list(x)))
    x = rng.standard_normal((6, 3))
    np.testing.assert_array_equal(glu64(x, axis=0), glu64(x.T).T)
    assert glu64(x, axis=0).shape == (3, 3)
    with pytest.raises(ValueError):
        glu_mp([1.0, 2.0, 3.0])
    with pytest.raises(ValueError):
        glu64(np.ones(3))
