"""The building blocks in jaxact._numerics, against mpmath and exact arithmetic.

They are tested under jit, where XLA may rewrite arithmetic (constant folding,
fused multiply-add contraction): the error-free transformations must stay exact.
"""
import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jaxact import _numerics as num
from ulp import mp_double_word, ulp_error

RNG = np.random.default_rng(7)


def _exact_sum(a, b):
    return [mp.mpf(float(u)) + mp.mpf(float(v)) for u, v in zip(a, b)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_two_sum_is_exact_under_jit_also_with_a_constant_operand(dtype):
    rng = np.random.default_rng(11)
    a = rng.standard_normal(2000).astype(dtype)
    b = (rng.standard_normal(2000) * 10.0 ** rng.integers(-6, 6, 2000)).astype(dtype)
    for f, left in ((lambda a, b: num.two_sum(a, b), a), (lambda a, b: num.two_sum(jnp.ones_like(b), b), np.ones_like(a))):
        s, e = jax.jit(f)(a, b)
        with mp.workdps(60):
            got = [mp.mpf(float(u)) + mp.mpf(float(v)) for u, v in zip(np.asarray(s), np.asarray(e))]
            assert got == _exact_sum(left, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_two_prod_is_exact_under_jit(dtype):
    rng = np.random.default_rng(12)
    a = (rng.standard_normal(2000) * 30).astype(dtype)
    b = (rng.standard_normal(2000) * 30).astype(dtype)
    # the product also feeds an addition, which XLA would like to contract into an FMA
    p, e = jax.jit(lambda a, b: num.two_prod(a, b))(a, b)
    with mp.workdps(60):
        for u, v, pp, ee in zip(a, b, np.asarray(p), np.asarray(e)):
            assert mp.mpf(float(pp)) + mp.mpf(float(ee)) == mp.mpf(float(u)) * mp.mpf(float(v))


def test_double_word_constants_survive_constant_folding():
    def offset(x):
        hi, lo = num.double_word((0.1, 5.551115123125783e-18), jnp.float32)
        return (x - hi) - lo

    d = jax.jit(offset)(jnp.float32(0.1))
    assert float(d) != 0.0  # folding (x - hi) - lo into x - (hi + lo) would give 0


CASES = [
    ("expm1", num.expm1, mp.expm1, np.concatenate([RNG.uniform(-40, 1.3, 3000), -np.logspace(-30, 1, 500), np.logspace(-30, 0.1, 500)])),
    ("log1p on [0, 1]", num.log1p_unit, mp.log1p, np.concatenate([RNG.uniform(0, 1, 3000), np.logspace(-37, 0, 500)])),
    ("tanh", num.tanh, mp.tanh, np.concatenate([RNG.uniform(-12, 12, 3000), np.logspace(-30, 1.5, 300), -np.logspace(-30, 1.5, 300)])),
    ("sigmoid", lambda x: num.sigmoid_pair(x)[0], lambda x: 1 / (1 + mp.exp(-x)), RNG.uniform(-80, 80, 3000)),
    ("sigmoid'", num.sigmoid_product, lambda x: mp.exp(-abs(x)) / (1 + mp.exp(-abs(x))) ** 2, RNG.uniform(-80, 80, 3000)),
]
_SIG = lambda x: 1 / (1 + mp.exp(-x))  # noqa: E731
CASES += [
    ("exp (hi)", lambda y: num.exp_dw(y)[0], mp.exp, np.concatenate([RNG.uniform(-80, 0, 3000), -np.logspace(-30, 1.9, 300)])),
    ("accurate sigmoid", lambda x: num.sigmoid_terms_accurate(x)[0], _SIG, RNG.uniform(-80, 80, 3000)),
    ("accurate sigmoid'", lambda x: num.sigmoid_terms_accurate(x)[2], lambda x: _SIG(x) * _SIG(-x), RNG.uniform(-80, 80, 3000)),
    ("x sigmoid(x)", lambda x: num.times_sigmoid(x, x), lambda x: x * _SIG(x), RNG.uniform(-80, 80, 3000)),
]
BOUNDS = {
    "expm1": 1.5, "log1p on [0, 1]": 2.0, "tanh": 1.5, "sigmoid": 2.0, "sigmoid'": 3.0,
    "exp (hi)": 0.65, "accurate sigmoid": 1.0, "accurate sigmoid'": 1.75, "x sigmoid(x)": 2.0,
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,fn,ref,xs", CASES, ids=[c[0] for c in CASES])
def test_building_blocks_are_accurate(name, fn, ref, xs, dtype):
    x = xs.astype(dtype)
    got = np.asarray(jax.jit(fn)(jnp.asarray(x)))
    with mp.workdps(50):
        hi, lo = mp_double_word([ref(mp.mpf(float(v))) for v in x])
    err = ulp_error(got, hi, lo, dtype)
    assert err.max() <= BOUNDS[name], f"{name} {dtype.__name__}: {err.max():.2f} ULP at x={x[np.argmax(err)]!r}"


def test_clamp_passes_the_gradient_at_its_bounds():
    g = jax.grad(lambda x: num.clamp(x, -1.0, 0.0))
    assert float(g(0.0)) == 1.0 and float(g(-1.0)) == 1.0 and float(g(0.5)) == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_dw_is_a_double_word_within_a_quarter_ulp(dtype):
    """hi + lo within 0.25 ULP of e^(y + y_lo) (exact reduction, Taylor to 2^-27.5 / 2^-63).

    Above e^-68 (float32): further down, lo * 2^n can fall below the smallest normal
    number and be flushed, which costs up to 0.25 ULP more near e^-70 (0.35 ULP was
    seen at y = -69.6); hi alone is then left.  The samples have their own seed, so
    they do not depend on which tests ran before in the same process.
    """
    rng = np.random.default_rng(13)
    y = np.concatenate([rng.uniform(-68, 0, 2000), -np.logspace(-20, 1.8, 300)]).astype(dtype)
    y_lo = (y * rng.uniform(-1, 1, y.size) * np.finfo(dtype).eps / 2).astype(dtype)
    for lo in (None, y_lo):
        hi, low = jax.jit(num.exp_dw)(jnp.asarray(y), None if lo is None else jnp.asarray(lo))
        with mp.workdps(50):
            want = [mp.exp(mp.mpf(float(a)) + (0 if lo is None else mp.mpf(float(b)))) for a, b in zip(y, y if lo is None else lo)]
            got = [mp.mpf(float(h)) + mp.mpf(float(v)) for h, v in zip(np.asarray(hi), np.asarray(low))]
            err = max(abs(g - w) / mp.mpf(float(np.spacing(dtype(float(w))))) for g, w in zip(got, want))
        assert float(err) <= 0.25, f"{np.dtype(dtype).name}: {float(err):.3f} ULP"


def test_exp_dw_special_values():
    hi, lo = jax.jit(num.exp_dw)(jnp.float32([-np.inf, -200.0, 0.0, np.nan]))
    np.testing.assert_array_equal(np.asarray(hi), np.float32([0.0, 0.0, 1.0, np.nan]))
    assert np.asarray(lo)[:3].tolist() == [0.0, 0.0, 0.0]


def test_single_use_passes_values_and_nan_through():
    x = jnp.float32([1.0, np.nan, -2.0])
    np.testing.assert_array_equal(np.asarray(num.single_use(x * 3, x)), np.float32([3.0, np.nan, -6.0]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kept_as_is_returns_its_input_bit_for_bit(dtype):
    x = np.array([0.0, -0.0, 1.5, -3.0, 1e-30, np.finfo(dtype).max, -np.inf, np.inf, np.nan], dtype)
    got = np.asarray(jax.jit(num.kept_as_is)(jnp.asarray(x)))
    assert got.dtype == x.dtype
    assert got.tobytes() == x.tobytes()


def test_exp_narrow_is_within_2_to_the_minus_17_and_flushes_like_xla():
    """exp_narrow feeds results rounded to 16 bits: 2**-17 relative is 1/256 of a bfloat16
    ULP and 1/32 of a float16 one.  Checked against float64 on a dense grid of (-87, 0]."""
    v = np.concatenate([-np.geomspace(1e-9, 87.0, 300_001), np.linspace(-87.0, 0.0, 300_001)])
    v = v.astype(np.float32)
    got = np.asarray(jax.jit(num.exp_narrow)(v), np.float64)
    rel = np.abs(got / np.exp(v.astype(np.float64)) - 1)
    assert rel.max() <= 2.0**-17, f"max relative error {rel.max():.3g} at v = {v[np.argmax(rel)]}"
    special = np.array([0.0, -0.0, -88.0, -100.0, -np.inf, np.nan], np.float32)
    got = np.asarray(jax.jit(num.exp_narrow)(special))
    assert got[0] == got[1] == 1.0
    assert np.all(got[2:5] == 0.0)
    assert np.isnan(got[5])


def test_estrin_evaluates_the_same_polynomial_as_horner():
    x = jnp.asarray(np.linspace(-2, 2, 1001))  # float64
    for degree in range(8):
        coefficients = [(-1) ** k / (k + 1.5) for k in range(degree + 1)]
        np.testing.assert_allclose(num.estrin(x, coefficients), num.horner(x, coefficients), rtol=1e-13, atol=1e-13)


def test_normal_cdf_narrow_is_within_2_to_the_minus_16_down_to_its_underflow():
    """Phi for 16-bit gelu(approximate=False): relative error against float64 math.erfc,
    the left tail included (down to where Phi falls below float32's smallest normal)."""
    x = np.concatenate([np.linspace(-13.5, 9.0, 400_001), -np.geomspace(1e-8, 13.5, 20_001)]).astype(np.float32)
    got = np.asarray(jax.jit(num.normal_cdf_narrow)(x), np.float64)
    want = np.array([math.erfc(-v / math.sqrt(2)) / 2 for v in x.astype(np.float64)])
    normal = want >= np.finfo(np.float32).tiny  # below, XLA's CPU flushes to 0
    assert np.all(got[~normal] <= np.finfo(np.float32).tiny)
    x, got, want = x[normal], got[normal], want[normal]
    rel = np.abs(got / want - 1)
    assert rel.max() <= 2.0**-16, f"max relative error {rel.max():.3g} at x = {x[np.argmax(rel)]}"
    special = np.asarray(jax.jit(num.normal_cdf_narrow)(jnp.float32([-np.inf, -20.0, np.inf, np.nan])))
    assert special[0] == special[1] == 0.0 and special[2] == 1.0 and np.isnan(special[3])


def test_expm1_narrow_is_within_2_to_the_minus_14_everywhere_on_the_negative_side():
    """expm1_narrow feeds elu/selu/celu results rounded to 16 bits: 2**-14 relative is an
    eighth of a float16 ULP.  Checked against float64 expm1, tiny arguments included."""
    v = np.concatenate([-np.geomspace(1e-30, 100.0, 300_001), np.linspace(-100.0, -1e-6, 300_001)])
    v = v.astype(np.float32)
    got = np.asarray(jax.jit(num.expm1_narrow)(v), np.float64)
    rel = np.abs(got / np.expm1(v.astype(np.float64)) - 1)
    assert rel.max() <= 2.0**-14, f"max relative error {rel.max():.3g} at v = {v[np.argmax(rel)]}"
    special = np.array([0.0, -0.0, -np.inf, np.nan], np.float32)
    got = np.asarray(jax.jit(num.expm1_narrow)(special))
    assert got[0] == 0.0 and got[1] == 0.0
    assert got[2] == -1.0 and np.isnan(got[3])
