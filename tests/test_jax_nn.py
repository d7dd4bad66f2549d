"""Drop-in for jax.nn: same signatures, same values where jax.nn is right, and the
documented places where jax.nn is wrong (each shown against the true value)."""
import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxact
from configs import ELEMENTWISE_CONFIGS, config_id

WITH_JAX_NN = [n for n in jaxact.names() if jaxact.spec(n).jax_nn]


@pytest.mark.parametrize("name", WITH_JAX_NN)
def test_signature_matches_jax_nn(name):
    ours = inspect.signature(jaxact.get(name)).parameters
    theirs = inspect.signature(getattr(jax.nn, jaxact.spec(name).jax_nn)).parameters
    for pname, p in theirs.items():
        if pname == "initial" or p.kind is p.VAR_KEYWORD:  # deprecated / internal
            continue
        assert pname in ours, f"{name}: jax.nn argument {pname!r} missing"
        if p.default is not p.empty:
            assert ours[pname].default == p.default, f"{name}: default of {pname!r}"


def value_and_derivative(f, x):
    return jax.jit(lambda v: jax.jvp(f, (v,), (jnp.ones_like(v),)))(x)


PARITY = [c for c in ELEMENTWISE_CONFIGS if jaxact.spec(c[0]).jax_nn and (c[0] != "swish" or dict(c[1])["beta"] == 1.0)]


@pytest.mark.parametrize("config", PARITY, ids=config_id)
def test_values_and_gradients_agree_with_jax_nn_on_ordinary_inputs(config):
    name, params = config
    ours = jax.jit(lambda x: jaxact.get(name)(x, **dict(params)))
    reference = getattr(jax.nn, jaxact.spec(name).jax_nn)
    shared = {k: v for k, v in params if k in inspect.signature(reference).parameters}
    theirs = jax.jit(lambda x: reference(x, **shared))
    # jax.nn's own rounding (cancellation in gelu's and squareplus' left tails) sets the tolerance
    for dtype, lim, rtol in ((jnp.float64, 4.0, 1e-12), (jnp.float32, 3.0, 2e-5)):
        x = jnp.linspace(-lim, lim, 2001, dtype=dtype)
        yx, gx = value_and_derivative(ours, x)
        yt, gt = value_and_derivative(theirs, x)
        np.testing.assert_allclose(yx, yt, rtol=rtol, atol=rtol * 1e-2, err_msg=f"{config_id(config)} value")
        kinks = np.asarray(jaxact.spec(name).kinks or [np.inf])
        away = np.min(np.abs(np.asarray(x, np.float64)[:, None] - kinks[None, :]), axis=1) > 1e-6
        np.testing.assert_allclose(gx[away], gt[away], rtol=rtol * 10, atol=rtol, err_msg=f"{config_id(config)} grad")


def test_kink_conventions_match_jax_nn():
    points = {"relu": [0.0], "relu6": [0.0, 6.0], "leaky_relu": [0.0], "elu": [0.0], "selu": [0.0],
              "hard_tanh": [-1.0, 1.0], "hard_sigmoid": [-3.0, 3.0], "hard_swish": [-3.0, 3.0],
              "sparse_plus": [-1.0, 1.0], "sparse_sigmoid": [-1.0, 1.0]}
    for name, xs in points.items():
        x = jnp.asarray(xs)
        _, ours = value_and_derivative(jaxact.get(name), x)
        _, theirs = value_and_derivative(getattr(jax.nn, name), x)
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, err_msg=f"{name}' at {xs}")


# ----------------------------------------------------------------------------
# where jax.nn is wrong: jaxact gives the true value (closed forms in float64)
# ----------------------------------------------------------------------------
def _grad32(f, x):
    return float(jax.grad(f)(jnp.float32(x)))


@pytest.mark.parametrize("name,x,true", [
    ("sigmoid", 30.0, np.exp(-30.0) / (1 + np.exp(-30.0)) ** 2),
    ("tanh", 10.0, 1 / np.cosh(10.0) ** 2),
    ("elu", -20.0, np.exp(-20.0)),
    ("celu", -20.0, np.exp(-20.0)),
    ("selu", -20.0, 1.0507009873554805 * 1.6732632423543772 * np.exp(-20.0)),
])
def test_gradients_that_jax_nn_rounds_to_zero(name, x, true):
    assert _grad32(getattr(jax.nn, name), x) == 0.0
    assert _grad32(jaxact.get(name), x) == pytest.approx(true, rel=1e-6)


def test_gelu_gradient_is_finite_for_huge_inputs():
    assert np.isnan(_grad32(jax.nn.gelu, 1e20)) and np.isnan(_grad32(jax.nn.gelu, -1e20))
    assert _grad32(jaxact.gelu, 1e20) == 1.0 and _grad32(jaxact.gelu, -1e20) == 0.0


def test_gelu_left_tail_is_not_rounded_to_minus_zero():
    x = -6.0
    k = np.sqrt(2 / np.pi)
    true = x / (1 + np.exp(-2 * k * (x + 0.044715 * x**3)))
    assert float(jax.nn.gelu(jnp.float32(x))) == 0.0
    assert float(jaxact.gelu(jnp.float32(x))) == pytest.approx(true, rel=1e-6)


def test_squareplus_left_tail_does_not_cancel():
    x, b = -1e4, 4.0
    true = b / (2 * (np.sqrt(x * x + b) - x))
    assert float(jax.nn.squareplus(jnp.float32(x))) == 0.0
    assert float(jaxact.squareplus(jnp.float32(x))) == pytest.approx(true, rel=1e-6)
    true_d = b / (2 * np.sqrt(x * x + b) * (np.sqrt(x * x + b) - x))
    assert _grad32(jaxact.squareplus, x) == pytest.approx(true_d, rel=1e-6)
    assert abs(_grad32(jax.nn.squareplus, x) / true_d - 1) > 0.1


def test_soft_sign_gradient_does_not_cancel():
    x = 1e4
    true = 1 / (1 + x) ** 2
    assert _grad32(jaxact.soft_sign, x) == pytest.approx(true, rel=1e-6)
    assert abs(_grad32(jax.nn.soft_sign, x) / true - 1) > 1e-5


def test_bfloat16_softmax_over_1000_logits():
    x = jnp.asarray(np.random.default_rng(0).standard_normal(1000) * 3, jnp.bfloat16)
    x64 = np.asarray(x, np.float64)
    true = np.exp(x64 - x64.max())
    true /= true.sum()
    ours = np.asarray(jaxact.softmax(x), np.float64)
    theirs = np.asarray(jax.nn.softmax(x), np.float64)
    assert np.max(np.abs(ours - true) / true) <= 2.0**-8  # within 1 bf16 ULP (relative 2^-8)
    assert np.max(np.abs(theirs - true) / true) > 0.02


def test_integer_inputs_become_floats_where_jax_nn_keeps_ints_or_fails():
    ints = jnp.array([1, -2], jnp.int32)
    assert jax.nn.relu(ints).dtype == ints.dtype  # jax.nn keeps int
    with pytest.raises(TypeError):
        jax.nn.sigmoid(ints)  # jax.nn refuses
    for name in ("relu", "hard_tanh", "identity", "sigmoid", "silu"):
        assert jaxact.get(name)(ints).dtype == jnp.float32  # as jax.nn.softplus promotes int32
        assert jaxact.get(name)(ints.astype(jnp.int64)).dtype == jnp.result_type(float)
        assert jaxact.get(name)(ints.astype(jnp.int32)).dtype == jax.nn.softplus(ints.astype(jnp.int32)).dtype
