"""Hypothesis property tests of the registered activations, in float64.

* monotonicity: every elementwise activation outside NON_MONOTONE is
  non-decreasing (values and derivative), and every one inside really dips;
* bounds: outputs lie in ``spec.output_range`` (at the default parameters, which
  is what the range describes), closed ends within 4 ULP, open ends strict while
  the gap to the asymptote is representable (|x| <= SATURATION);
* identities between activations, each with the float64 tolerance it allows;
* the sign of f' (and its exact zeros) agrees with mpmath at 50 digits.

EPS is float64's machine epsilon, 2.2e-16.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import jaxact
from configs import AXIS_CONFIGS, ELEMENTWISE_CONFIGS, bound, config_id
from references import ELEMENTWISE, deriv_zero_crossings

EPS = float(np.finfo(np.float64).eps)
TINY = float(np.finfo(np.float64).tiny)
FLUSH_BAND = 2.0**12
FLUSHED = FLUSH_BAND * TINY  # XLA on CPU flushes subnormal results (and factors) to 0: an atol
SATURATION = 15.0  # beyond |x| = 15 an open end may be reached by rounding (tanh(19) == 1.0)
CLOSED_END_ULP = 4.0  # a closed end is an irrational minimum stored as a float64 constant

# x * gate(x) activations: each has a minimum at a negative x, so is not monotone.
# Every other registered elementwise activation must be non-decreasing.
NON_MONOTONE = {"silu", "swish", "mish", "gelu", "hard_swish"}


def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def vectors(lo, hi, n=16):
    return hnp.arrays(np.float64, n, elements=floats(lo, hi))


def matrices(lo, hi):
    return hnp.arrays(np.float64, (4, 8), elements=floats(lo, hi))


def _is_default(config) -> bool:
    name, params = config
    return dict(params) == jaxact.spec(name).defaults


def _params(config) -> dict:
    return dict(config[1])


@functools.lru_cache(maxsize=None)
def _value_and_slope(config):
    """jit(x -> (f(x), f'(x))) for an elementwise config; the tests share shape (16,)."""
    f = bound(config)
    return jax.jit(lambda x: jax.jvp(f, (x,), (jnp.ones_like(x),)))


@functools.lru_cache(maxsize=None)
def _value(config):
    return jax.jit(bound(config))


@functools.lru_cache(maxsize=None)
def _grad(name, **params):
    return jax.jit(jax.vmap(jax.grad(functools.partial(jaxact.get(name), **params))))


def _f(name, x, **params):
    return np.asarray(jaxact.get(name)(jnp.asarray(x), **params))


# ----------------------------------------------------------------------------
# monotonicity
# ----------------------------------------------------------------------------
MONOTONE = [c for c in ELEMENTWISE_CONFIGS if c[0] not in NON_MONOTONE]
DIPPING = [c for c in ELEMENTWISE_CONFIGS if c[0] in NON_MONOTONE]


@settings(max_examples=25)
@given(x=vectors(-60.0, 60.0))
@pytest.mark.parametrize("config", MONOTONE, ids=config_id)
def test_monotone_non_decreasing(config, x):
    x = np.sort(x)
    y, slope = map(np.asarray, _value_and_slope(config)(x))
    assert np.all(np.diff(y) >= 0), f"decreases at x = {x[1:][np.diff(y) < 0]}"
    assert np.all(slope >= 0), f"f' < 0 at x = {x[slope < 0]}"


@pytest.mark.parametrize("config", DIPPING, ids=config_id)
def test_non_monotone_ones_really_dip(config):
    assert NON_MONOTONE <= set(jaxact.names())
    x = np.linspace(-40.0, 0.0, 16)
    y = np.asarray(_value_and_slope(config)(x)[0])
    assert np.any(np.diff(y) < 0)


# ----------------------------------------------------------------------------
# bounds
# ----------------------------------------------------------------------------
def _assert_inside(config, x, y):
    """y in output_range; open ends strict where |x| <= SATURATION (``x`` per element of y)."""
    r = jaxact.spec(config[0]).output_range
    y = np.asarray(y)
    assert not np.any(np.isnan(y)), "NaN output"
    strict = np.abs(x) <= SATURATION
    with np.errstate(invalid="ignore"):
        for end, closed, gap in ((r.low, r.low_closed, y - r.low), (r.high, r.high_closed, r.high - y)):
            if np.isinf(end):  # an infinite end: finite outputs, or the end itself if closed
                ok = np.isfinite(y) | closed
            elif closed:
                ok = gap >= -CLOSED_END_ULP * np.spacing(abs(end))
            else:
                ok = (gap > 0) | ((gap == 0) & ~strict)
            assert np.all(ok), (
                f"{config_id(config)}: outside {r} (end {end!r}) at x = {x[~ok][:4]}, y = {y[~ok][:4]}"
            )


DEFAULT_ELEMENTWISE = [c for c in ELEMENTWISE_CONFIGS if _is_default(c)]
DEFAULT_AXIS = [c for c in AXIS_CONFIGS if _is_default(c)]


@settings(max_examples=30)
@given(x=vectors(-1e4, 1e4))
@pytest.mark.parametrize("config", DEFAULT_ELEMENTWISE, ids=config_id)
def test_elementwise_output_inside_range(config, x):
    _assert_inside(config, x, _value_and_slope(config)(x)[0])


@pytest.mark.parametrize("config", DEFAULT_ELEMENTWISE, ids=config_id)
def test_range_holds_at_the_minimiser_and_on_a_grid(config):
    """A closed end is the minimum: check at the zeros of f' and on a dense grid."""
    name, params = config[0], _params(config)
    special = [*deriv_zero_crossings(name, **params), *ELEMENTWISE[name].kinks(**params)]
    x = np.concatenate([np.linspace(-40.0, 40.0, 80001), np.asarray(special, np.float64)])
    _assert_inside(config, x, _value(config)(x))


@settings(max_examples=40)
@given(x=matrices(-1e3, 1e3))
@pytest.mark.parametrize("config", DEFAULT_AXIS, ids=config_id)
def test_axis_output_inside_range(config, x):
    y = _value(config)(x)
    _assert_inside(config, np.zeros(y.shape), y)


# ----------------------------------------------------------------------------
# identities
# ----------------------------------------------------------------------------
IDENTITY = settings(max_examples=40)

@IDENTITY
@given(x=vectors(-40.0, 40.0))
def test_sigmoid_symmetry(x):
    # two values within 2 ULP of numbers <= 1, and one subtraction: atol 4 EPS
    np.testing.assert_allclose(_f("sigmoid", -x), 1 - _f("sigmoid", x), rtol=0, atol=4 * EPS)


@IDENTITY
@given(x=vectors(-20.0, 20.0))
def test_tanh_is_rescaled_sigmoid(x):
    # tanh within 2 ULP, 2 sigmoid within 4 ULP (<= 1), minus 1 once: atol 6 EPS
    np.testing.assert_allclose(_f("tanh", x), 2 * _f("sigmoid", 2 * x) - 1, rtol=0, atol=6 * EPS)


@IDENTITY
@given(x=vectors(-20.0, 20.0), beta=floats(0.1, 5.0))
def test_swish_is_x_sigmoid_beta_x(x, beta):
    # the right side rounds u = beta x first, which sigmoid amplifies by up to |u|:
    # |error| <= (|beta x| + 8) EPS |value|
    want = x * _f("sigmoid", beta * x)
    err = np.abs(_f("swish", x, beta=beta) - want)
    assert np.all(err <= (np.abs(beta * x) + 8) * EPS * np.abs(want) + FLUSHED)


@IDENTITY
@given(x=vectors(-40.0, 40.0))
def test_silu_is_swish_with_beta_1(x):
    np.testing.assert_allclose(_f("silu", x), _f("swish", x, beta=1.0), rtol=2 * EPS, atol=FLUSHED)


@IDENTITY
@given(x=vectors(-100.0, 100.0))
def test_softplus_difference_is_x(x):
    # softplus(x) ~ max(x, 0) within 2 ULP each, plus one subtraction: 4 EPS (1 + |x|)
    diff = _f("softplus", x) - _f("softplus", -x)
    assert np.all(np.abs(diff - x) <= 4 * EPS * (1 + np.abs(x)))


@IDENTITY
@given(x=vectors(-100.0, 100.0))
def test_log_sigmoid_is_minus_softplus_of_minus_x(x):
    np.testing.assert_allclose(_f("log_sigmoid", x), -_f("softplus", -x), rtol=2 * EPS, atol=FLUSHED)


@IDENTITY
@given(x=vectors(-1e300, 1e300))
def test_relu_difference_is_x(x):
    np.testing.assert_array_equal(_f("relu", x) - _f("relu", -x), x)  # exact


@IDENTITY
@given(x=vectors(-50.0, 50.0))
def test_selu_is_scaled_elu(x):
    # selu rounds lambda alpha once; lambda * elu(x, alpha) rounds expm1, alpha *, lambda *: 8 EPS
    want = 1.0507009873554805 * _f("elu", x, alpha=1.6732632423543772)
    np.testing.assert_allclose(_f("selu", x), want, rtol=8 * EPS, atol=FLUSHED)


@IDENTITY
@given(x=vectors(-10.0, 10.0))
def test_hard_swish_is_x_hard_sigmoid(x):
    np.testing.assert_allclose(_f("hard_swish", x), x * _f("hard_sigmoid", x), rtol=2 * EPS, atol=FLUSHED)


@IDENTITY
@given(x=vectors(-3.0, 3.0))
def test_sparse_plus_derivative_is_sparse_sigmoid(x):
    np.testing.assert_array_equal(np.asarray(_grad("sparse_plus")(x)), _f("sparse_sigmoid", x))  # exact


@IDENTITY
@given(x=matrices(-50.0, 50.0))
def test_softmax_rows_sum_to_one(x):
    # 8 entries within 2 ULP of numbers <= 1, summed: atol 16 EPS
    np.testing.assert_allclose(_f("softmax", x).sum(axis=-1), 1.0, rtol=0, atol=16 * EPS)


@IDENTITY
@given(x=matrices(-50.0, 50.0))
def test_exp_log_softmax_is_softmax(x):
    # log_softmax y (|y| <= |x - max| + log 8) is within 2 ULP <= 2 EPS |y| absolute, which
    # exp makes relative; exp and softmax add a few ULP: rtol (2 |x - max| + 10) EPS
    want = _f("softmax", x)
    err = np.abs(np.exp(_f("log_softmax", x)) - want)
    assert np.all(err <= (2 * np.abs(x - x.max(axis=-1, keepdims=True)) + 10) * EPS * want + FLUSHED)


@IDENTITY
@given(x=matrices(-50.0, 50.0))
def test_softmin_is_softmax_of_minus_x(x):
    np.testing.assert_allclose(_f("softmin", x), _f("softmax", -x), rtol=2 * EPS, atol=FLUSHED)


@IDENTITY
@given(x=matrices(-50.0, 50.0))
def test_glu_is_a_sigmoid_b(x):
    a, b = x[:, :4], x[:, 4:]
    np.testing.assert_allclose(_f("glu", x), a * _f("sigmoid", b), rtol=2 * EPS, atol=FLUSHED)


@IDENTITY
@given(x=vectors(-50.0, 50.0))
def test_celu_alpha_1_is_elu(x):
    np.testing.assert_allclose(_f("celu", x, alpha=1.0), _f("elu", x, alpha=1.0), rtol=2 * EPS, atol=FLUSHED)


@IDENTITY
@given(x=vectors(-1e6, 1e6))
def test_leaky_relu_slope_0_is_relu(x):
    np.testing.assert_array_equal(_f("leaky_relu", x, negative_slope=0.0), _f("relu", x))  # exact


# ----------------------------------------------------------------------------
# the sign of the derivative
# ----------------------------------------------------------------------------
def _crossing_neighbours(config) -> np.ndarray:
    """Points 1e-3, 1e-6 and 1e-9 either side of each zero of f' (where its sign flips)."""
    x0 = np.asarray(deriv_zero_crossings(config[0], **_params(config)), np.float64)
    offsets = np.array([-1e-3, -1e-6, -1e-9, 1e-9, 1e-6, 1e-3])
    return (x0[:, None] + offsets[None, :]).ravel()


@settings(max_examples=20)
@given(x=vectors(-50.0, 50.0, n=8))
@pytest.mark.parametrize("config", ELEMENTWISE_CONFIGS, ids=config_id)
def test_derivative_sign_matches_mpmath(config, x):
    """sign(f'(x)) is mpmath's, and f' is 0 exactly where it is 0 (0 allowed below the flush band)."""
    name, params = config
    ref = ELEMENTWISE[name]
    x = np.concatenate([x, _crossing_neighbours(config)])
    kinks = np.asarray(ref.kinks(**dict(params)), np.float64)
    if kinks.size:  # away from kinks: the derivative there is a convention
        x = x[np.min(np.abs(x[:, None] - kinks[None, :]), axis=1) > 1e-6]
    padded = np.pad(x, (0, 16 - x.size))  # the shape the other tests compiled
    got = np.asarray(_value_and_slope(config)(padded)[1])[: x.size]
    exact = [ref.deriv_mp(float(v), **dict(params)) for v in x]  # mpmath at 50 digits
    want = np.array([float(mpmath.sign(d)) for d in exact], dtype=np.float64)
    flushable = np.array([abs(d) < FLUSHED for d in exact], dtype=bool)
    ok = (np.sign(got) == want) | (flushable & (got == 0))
    assert np.all(ok), f"x = {x[~ok]}: f' = {got[~ok]}, mpmath {[exact[i] for i in np.flatnonzero(~ok)]}"
