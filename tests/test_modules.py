"""The Flax modules: generated from the registry, linen == nnx == the function,
learnable parameters, save/restore, and the Flax conventions users expect."""
from __future__ import annotations

import functools

import chex
import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import jaxact
from jaxact import linen as jl
from jaxact import nnx as jn
from jaxact._modules import class_name, module_spec

from configs import AXIS_CONFIGS, ELEMENTWISE_CONFIGS, config_id

CONFIGS = ELEMENTWISE_CONFIGS + AXIS_CONFIGS
DTYPES = [jnp.float32, jnp.bfloat16, jnp.float16, jnp.float64]
EXPECTED_CLASSES = (
    "ReLU ReLU6 LeakyReLU ELU SELU CELU GELU SiLU Swish Mish Sigmoid Tanh Softplus LogSigmoid "
    "SoftSign HardTanh HardSigmoid HardSwish Identity Softmax LogSoftmax Softmin GLU Squareplus "
    "SparsePlus SparseSigmoid"
).split()


def _input(shape=(3, 8), dtype=jnp.float32, scale=3.0, seed=0):
    return (scale * jax.random.normal(jax.random.key(seed), shape, jnp.float32)).astype(dtype)


def _modules(config):
    """(linen module, nnx module, the bare function) for a registry config."""
    name, params = config
    params = dict(params)
    attributes = {p.name: params[p.name] for p in module_spec(name).attributes}
    cls = class_name(name)
    return (
        getattr(jl, cls)(**attributes),
        getattr(jn, cls)(**attributes),
        functools.partial(jaxact.get(name), **params),
    )


# ----------------------------------------------------------------------------
# names
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("cls", EXPECTED_CLASSES)
def test_issue_class_names_exist_in_both_apis(cls):
    assert issubclass(getattr(jl, cls), nn.Module)
    assert issubclass(getattr(jn, cls), nnx.Module)


def test_every_registry_name_and_alias_has_a_class():
    for name in jaxact.names():
        assert getattr(jl, class_name(name)).activation_name == name
        assert getattr(jn, class_name(name)).activation_name == name
    for alias, target in jaxact.aliases().items():
        assert jl.Activation(alias).activation_name == target
        assert type(jn.Activation(alias)).activation_name == target
    # torch's spellings arrive as alias classes sharing the canonical class
    assert jl.Hardtanh is jl.HardTanh and jn.Hardswish is jn.HardSwish and jl.Linear is jl.Identity


def test_class_name_spelling():
    assert [class_name(n) for n in ("relu6", "leaky_relu", "silu", "log_softmax", "glu")] == [
        "ReLU6", "LeakyReLU", "SiLU", "LogSoftmax", "GLU"
    ]


# ----------------------------------------------------------------------------
# module == function, linen == nnx, over the registry and dtypes
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: jnp.dtype(d).name)
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_linen_and_nnx_match_the_function_values_and_gradients(config, dtype):
    linen_module, nnx_module, f = _modules(config)
    x = _input(dtype=dtype)
    variables = linen_module.init(jax.random.key(0), x)
    assert variables == {}, "a fixed-parameter activation has no variables"
    expected = f(x)
    y_linen = linen_module.apply(variables, x)
    y_nnx = nnx_module(x)
    assert y_linen.dtype == y_nnx.dtype == expected.dtype == dtype
    np.testing.assert_array_equal(np.asarray(y_linen, np.float64), np.asarray(expected, np.float64))
    np.testing.assert_array_equal(np.asarray(y_nnx, np.float64), np.asarray(expected, np.float64))

    cotangent = _input(shape=expected.shape, dtype=dtype, seed=1)
    grad_f = jax.vjp(f, x)[1](cotangent)[0]
    grad_linen = jax.vjp(lambda v: linen_module.apply(variables, v), x)[1](cotangent)[0]
    grad_nnx = jax.vjp(nnx_module, x)[1](cotangent)[0]
    for g in (grad_linen, grad_nnx):
        np.testing.assert_array_equal(np.asarray(g, np.float64), np.asarray(grad_f, np.float64))


@pytest.mark.parametrize("config", [c for c in CONFIGS if module_spec(c[0]).learnable], ids=config_id)
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16], ids=lambda d: jnp.dtype(d).name)
def test_learnable_linen_and_nnx_agree_and_match_the_closed_form_partials(config, dtype):
    name, params = config
    ms = module_spec(name)
    attributes = {p.name: dict(params)[p.name] for p in ms.attributes}
    linen_module = getattr(jl, ms.class_name)(**attributes, learnable=True)
    nnx_module = getattr(jn, ms.class_name)(**attributes, learnable=True)
    x = _input(dtype=dtype)
    variables = linen_module.init(jax.random.key(0), x)
    assert set(variables["params"]) == {p.name for p in ms.learnable}

    def linen_loss(v):
        return jnp.sum(linen_module.apply(v, x).astype(jnp.float32) ** 2)

    def nnx_loss(m):
        return jnp.sum(m(x).astype(jnp.float32) ** 2)

    g_linen = jax.grad(linen_loss)(variables)["params"]
    g_nnx = nnx.state(nnx.grad(nnx_loss)(nnx_module), nnx.Param)
    spec = jaxact.spec(name)
    y = jaxact.get(name)(x, **dict(params)).astype(jnp.float32)
    for p in ms.learnable:
        partial = spec.partials[p.name](x.astype(jnp.float32), *[dict(params)[q.name] for q in ms.attributes if q.kind == "real"])
        closed_form = np.sum(np.asarray(2 * y * partial, np.float64))
        np.testing.assert_allclose(np.float64(g_linen[p.name]), closed_form, rtol=1e-5)
        np.testing.assert_allclose(np.float64(g_nnx[p.name][...]), closed_form, rtol=1e-5)


def test_where_mask_is_a_call_argument():
    x = _input()
    mask = jnp.arange(8) < 5
    expected = jaxact.softmax(x, where=mask)
    np.testing.assert_array_equal(jl.Softmax().apply({}, x, where=mask), expected)
    np.testing.assert_array_equal(jn.Softmax()(x, where=mask), expected)
    with pytest.raises(TypeError, match="unexpected call argument"):
        jn.ReLU()(x, where=mask)


# ----------------------------------------------------------------------------
# Flax conventions
# ----------------------------------------------------------------------------
def test_sequential_tabulate_and_display_show_the_names():
    x = _input(shape=(4, 12))
    model = nn.Sequential([nn.Dense(8), jl.LeakyReLU(negative_slope=0.1), nn.Dense(4), jl.Softmax()])
    variables = model.init(jax.random.key(0), x)
    np.testing.assert_allclose(model.apply(variables, x).sum(-1), 1.0, rtol=1e-6)
    table = model.tabulate(jax.random.key(0), x, console_kwargs={"width": 200})
    assert "LeakyReLU" in table and "Softmax" in table
    assert "jaxact_monitor" not in table, "init must not create the monitor collection"

    rngs = nnx.Rngs(0)
    seq = nnx.Sequential(nnx.Linear(12, 8, rngs=rngs), jn.GELU(), nnx.Linear(8, 4, rngs=rngs), jn.Softmax())
    np.testing.assert_allclose(seq(x).sum(-1), 1.0, rtol=1e-6)
    assert "GELU(" in repr(seq) and "Softmax(" in repr(seq)
    assert "negative_slope=0.2" in repr(jn.LeakyReLU(0.2))


def test_dtype_casts_the_input_and_param_dtype_types_the_parameter():
    x = _input()
    out = jl.Tanh(dtype=jnp.bfloat16).apply({}, x)
    assert out.dtype == jnp.bfloat16
    np.testing.assert_array_equal(out, jaxact.tanh(x.astype(jnp.bfloat16)))
    assert jn.Tanh(dtype=jnp.float16)(x).dtype == jnp.float16
    variables = jl.ELU(learnable=True, param_dtype=jnp.bfloat16).init(jax.random.key(0), x)
    assert variables["params"]["alpha"].dtype == jnp.bfloat16
    assert jn.PReLU(param_dtype=jnp.float16).negative_slope[...].dtype == jnp.float16


def test_jit_vmap_grad_and_remat():
    x = _input(shape=(5, 3, 8))
    gelu = jl.GELU()
    expected = jax.vmap(jaxact.gelu)(x)
    np.testing.assert_array_equal(jax.jit(jax.vmap(lambda v: gelu.apply({}, v)))(x), expected)
    Remat = nn.remat(jl.SiLU)
    model = nn.Sequential([nn.Dense(8), Remat(), nn.Dense(1)])
    variables = model.init(jax.random.key(0), x)
    grads = jax.jit(jax.grad(lambda v: model.apply(v, x).sum()))(variables)
    chex.assert_tree_all_finite(grads)

    class Block(nnx.Module):
        def __init__(self, rngs):
            self.linear = nnx.Linear(8, 8, rngs=rngs)
            self.act = jn.Mish()

        def __call__(self, v):
            return self.act(self.linear(v))

    block = Block(nnx.Rngs(0))
    plain = nnx.grad(lambda m: m(x).sum())(block)
    remat = nnx.jit(nnx.grad(lambda m: nnx.remat(lambda mm, v: mm(v))(m, x).sum()))(block)
    chex.assert_trees_all_close(nnx.state(plain), nnx.state(remat), rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------
# PReLU
# ----------------------------------------------------------------------------
def test_prelu_shapes_and_default_slope():
    x = _input(shape=(2, 4, 4, 3))
    assert jl.PReLU().init(jax.random.key(0), x)["params"]["negative_slope"].shape == ()
    slope = jl.PReLU(num_parameters=3).init(jax.random.key(0), x)["params"]["negative_slope"]
    assert slope.shape == (3,) and np.all(slope == 0.25)
    keras = jl.PReLU(shared_axes=(1, 2)).init(jax.random.key(0), x)["params"]["negative_slope"]
    assert keras.shape == (1, 1, 3)
    assert jn.PReLU(shared_axes=(1, 2), input_shape=(4, 4, 3)).negative_slope.shape == (1, 1, 3)
    # value: max(x, 0) + a min(x, 0), against numpy
    a = np.array([0.1, 0.2, 0.3], np.float32)
    y = jl.PReLU(num_parameters=3).apply({"params": {"negative_slope": a}}, x)
    xn = np.asarray(x)
    np.testing.assert_allclose(y, np.maximum(xn, 0) + a * np.minimum(xn, 0), rtol=1e-6)


def test_prelu_linen_and_nnx_agree_and_the_slope_gradient_is_the_closed_form():
    x = _input(shape=(6, 3))
    linen = jl.PReLU(num_parameters=3)
    module = jn.PReLU(3)
    variables = linen.init(jax.random.key(0), x)
    ct = _input(shape=(6, 3), seed=2)
    g_linen = jax.grad(lambda v: jnp.sum(linen.apply(v, x) * ct))(variables)["params"]["negative_slope"]
    g_nnx = nnx.grad(lambda m: jnp.sum(m(x) * ct))(module).negative_slope[...]
    closed = np.sum(np.minimum(np.asarray(x), 0) * np.asarray(ct), axis=0)
    np.testing.assert_allclose(g_linen, closed, rtol=1e-5)
    np.testing.assert_allclose(g_nnx, closed, rtol=1e-5)


def test_learnable_parameters_train_with_optax_to_the_generating_value():
    """Data from a PReLU with slope 0.1 and a Swish with beta 2: Adam recovers both."""
    x = jnp.linspace(-4.0, 4.0, 256).reshape(-1, 1)
    target = jnp.concatenate([jaxact.leaky_relu(x, 0.1), jaxact.swish(x, 2.0)], axis=-1)

    class Model(nnx.Module):
        def __init__(self):
            self.prelu = jn.PReLU()
            self.swish = jn.Swish(learnable=True)

        def __call__(self, v):
            return jnp.concatenate([self.prelu(v), self.swish(v)], axis=-1)

    model = Model()
    optimizer = nnx.Optimizer(model, optax.adam(0.05), wrt=nnx.Param)

    @nnx.jit
    def step(m, opt):
        loss, grads = nnx.value_and_grad(lambda mm: jnp.mean((mm(x) - target) ** 2))(m)
        opt.update(m, grads)
        return loss

    for _ in range(300):
        step(model, optimizer)
    np.testing.assert_allclose(model.prelu.negative_slope[...], 0.1, atol=2e-3)
    np.testing.assert_allclose(model.swish.beta[...], 2.0, atol=2e-2)


def test_save_restore_round_trip():
    x = _input(shape=(4, 3))
    model = nn.Sequential([nn.Dense(3), jl.PReLU(num_parameters=3), jl.ELU(alpha=0.5, learnable=True)])
    variables = model.init(jax.random.key(0), x)
    variables = jax.tree.map(lambda a: a + 0.125, variables)
    restored = flax.serialization.from_bytes(model.init(jax.random.key(1), x), flax.serialization.to_bytes(variables))
    chex.assert_trees_all_equal(restored, variables)
    np.testing.assert_array_equal(model.apply(restored, x), model.apply(variables, x))

    source = jn.Swish(beta=1.5, learnable=True)
    source.beta[...] = 3.0
    state = nnx.to_pure_dict(nnx.state(source))
    blob = flax.serialization.msgpack_restore(flax.serialization.msgpack_serialize(state))
    target = jn.Swish(learnable=True)
    nnx.replace_by_pure_dict(graph_state := nnx.state(target), blob)
    nnx.update(target, graph_state)
    assert float(target.beta[...]) == 3.0
    np.testing.assert_array_equal(target(x), source(x))


# ----------------------------------------------------------------------------
# monitoring hooks: off unless asked
# ----------------------------------------------------------------------------
def test_monitor_records_the_derivative_only_when_asked():
    x = _input(shape=(4, 8))
    module = jl.LeakyReLU(negative_slope=0.2)
    assert module.init(jax.random.key(0), x) == {}
    _, state = module.apply({}, x, mutable=["jaxact_monitor"])
    (recorded,) = state["jaxact_monitor"]["unit_derivative"]
    np.testing.assert_array_equal(recorded, np.where(np.asarray(x) > 0, 1.0, 0.2).astype(np.float32))
    jaxpr = str(jax.make_jaxpr(lambda v: module.apply({}, v))(x))
    assert "exp" not in jaxpr and jaxpr.count("select") <= 2

    m = jn.Sigmoid()
    _, records = nnx.capture(m, jn.ActivationRecord)(x)
    assert not records, "nothing is recorded unless monitor is on"
    m.monitor = True
    y, records = nnx.capture(m, jn.ActivationRecord)(x)
    (recorded,) = records["unit_derivative"].get_value()
    x64 = np.asarray(x, np.float64)
    np.testing.assert_allclose(recorded, 1 / ((1 + np.exp(-x64)) * (1 + np.exp(x64))), rtol=1e-6)
    np.testing.assert_array_equal(y, jaxact.sigmoid(x))


# ----------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------
def test_bad_arguments_name_the_argument_and_what_is_allowed():
    with pytest.raises(jaxact.ActivationError, match=r"'alpha' = -1.0 .*\[0, inf\)"):
        jl.ELU(alpha=-1.0)
    with pytest.raises(jaxact.ActivationError, match=r"'alpha' = -1.0"):
        jn.ELU(alpha=-1.0)
    with pytest.raises(jaxact.ActivationError, match="'approximate'"):
        jn.GELU(approximate="yes")
    with pytest.raises(jaxact.ActivationError, match="'learnable'"):
        jn.Swish(learnable=1)
    with pytest.raises(jaxact.ActivationError, match="Did you mean 'relu'"):
        jl.Activation("rellu")
    with pytest.raises(jaxact.ActivationError, match=r"unknown argument\(s\) \['slope'\]"):
        jn.Activation("leaky_relu", slope=0.1)
    with pytest.raises(TypeError, match="too many positional"):
        jn.LeakyReLU(0.1, 0.2)
    with pytest.raises(jaxact.ActivationError, match="'num_parameters' = 0"):
        jn.PReLU(0)
    with pytest.raises(jaxact.ActivationError, match="not both"):
        jl.PReLU(num_parameters=3, shared_axes=(1,))
    with pytest.raises(jaxact.ActivationError, match="needs 'input_shape'"):
        jn.PReLU(shared_axes=(1,))
    with pytest.raises(jaxact.ActivationError, match=r"num_parameters = 3 .* last axis has 5"):
        jl.PReLU(num_parameters=3).init(jax.random.key(0), jnp.ones((2, 5)))
    with pytest.raises(jaxact.ActivationError, match=r"num_parameters = 3 .* last axis has 5"):
        jn.PReLU(3)(jnp.ones((2, 5)))
    with pytest.raises(jaxact.ActivationError, match="'axis' = 2 is out of range"):
        jn.Softmax(axis=2)(jnp.ones((2, 5)))


def test_activation_factory_resolves_names_aliases_and_parameters():
    assert isinstance(jl.Activation("lrelu", negative_slope=0.3), jl.LeakyReLU)
    module = jn.Activation("hard_silu")
    assert isinstance(module, jn.HardSwish)
    x = _input()
    np.testing.assert_array_equal(jn.Activation("swish", beta=2.0)(x), jaxact.swish(x, beta=2.0))
