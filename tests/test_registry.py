"""The registry and the comparison table: every property the table states is measured.

* range: sampled on a fine grid and far out (the bounds hold and are approached);
* zero-centred: the mean output on standard-normal input;
* saturates: |f'| -> 0 in the stated tails, not in the others;
* dying neurons: f' is exactly 0 on the stated dead regions and nowhere else.
Also: name resolution, aliases, close-match errors, parameter validation.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxact
from jaxact._table import COLUMNS

ELEMENTWISE = [n for n in jaxact.names() if jaxact.spec(n).kind == "elementwise"]
ALL = jaxact.names()


def _f64(name):
    f = jax.jit(jaxact.get(name))
    return lambda x: np.asarray(f(jnp.asarray(x, jnp.float64)))


def _d64(name):
    d = jax.jit(jaxact.derivative(name))
    return lambda x: np.asarray(d(jnp.asarray(x, jnp.float64)))


NEAR = np.linspace(-15, 15, 30001)
FAR = np.concatenate([-np.logspace(2, 10, 50), np.logspace(2, 10, 50)])


# ----------------------------------------------------------------------------
# resolution
# ----------------------------------------------------------------------------
def test_names_are_canonical_and_unique():
    assert len(ALL) == len(set(ALL))
    expected = {
        "sigmoid", "tanh", "relu", "leaky_relu", "elu", "swish", "silu", "softmax", "identity",
        "relu6", "selu", "celu", "gelu", "mish", "softplus", "log_sigmoid", "soft_sign",
        "hard_tanh", "hard_sigmoid", "hard_swish", "log_softmax", "glu", "squareplus",
        "sparse_plus", "sparse_sigmoid", "softmin",
    }
    assert expected <= set(ALL)


@pytest.mark.parametrize("alias,canonical", [("linear", "identity"), ("hard_silu", "hard_swish"), ("logistic", "sigmoid"), ("Leaky-ReLU", "leaky_relu")])
def test_aliases_resolve(alias, canonical):
    assert jaxact.get(alias) is jaxact.get(canonical)
    assert jaxact.spec(alias).name == canonical


def test_public_names_match_the_registry():
    for name in ALL:
        assert getattr(jaxact, name) is jaxact.get(name)
    assert jaxact.linear is jaxact.identity and jaxact.hard_silu is jaxact.hard_swish


@pytest.mark.parametrize("typo,suggestion", [("sigmod", "sigmoid"), ("relu7", "relu6"), ("softmx", "softmax"), ("gelu_new", "gelu")])
def test_unknown_name_lists_close_matches(typo, suggestion):
    with pytest.raises(jaxact.ActivationError) as info:
        jaxact.get(typo)
    message = str(info.value)
    assert repr(typo) in message and suggestion in message and "name" in message


def test_unknown_name_is_a_value_error():
    with pytest.raises(ValueError):
        jaxact.spec("no_such_activation")


def test_derivative_of_an_axis_function_is_refused():
    with pytest.raises(jaxact.ActivationError, match="Jacobian"):
        jaxact.derivative("softmax")


# ----------------------------------------------------------------------------
# metadata completeness
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL)
def test_spec_is_complete(name):
    s = jaxact.spec(name)
    assert s.function.__doc__ and ".. math::" in s.function.__doc__
    assert s.formula and s.derivative_formula and s.best_use
    assert s.measured_cost is not None, "run benchmarks/activations.py --write-costs"
    assert s.cost in {"lowest", "low", "medium", "high"}
    if s.kind == "elementwise":
        assert callable(s.derivative)
    for p in s.params:
        assert p.kind in {"real", "bool", "axis", "mask"} and p.doc


def test_table_has_every_activation_and_the_articles_columns():
    text = jaxact.table()
    lines = text.splitlines()
    assert lines[0] == "| " + " | ".join(COLUMNS) + " |"
    assert {"range", "zero-centred", "saturates", "dying neurons", "cost", "best for"} <= set(COLUMNS)
    rows = {line.split("|")[1].strip() for line in lines[2:]}
    assert rows == set(ALL)


# ----------------------------------------------------------------------------
# the table's properties, measured
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_range_holds_and_is_approached(name):
    r = jaxact.spec(name).output_range
    f = _f64(name)
    near, far = f(NEAR), f(FAR)
    low_ok = near >= r.low if r.low_closed else near > r.low
    high_ok = near <= r.high if r.high_closed else near < r.high
    assert low_ok.all() and high_ok.all(), f"{name}: outputs {near.min()}..{near.max()} outside {r}"
    both = np.concatenate([near, far])
    assert both.min() >= r.low - 1e-12 and both.max() <= r.high + 1e-12
    if math.isinf(r.low):
        assert both.min() < -1e6
    else:  # the lower bound is the infimum, attained (closed) or approached (open)
        assert both.min() - r.low < 1e-5 * max(1.0, abs(r.low)), f"{name}: min {both.min()} vs {r.low}"
    if math.isinf(r.high):
        assert both.max() > 1e6
    else:
        assert r.high - both.max() < 1e-5 * max(1.0, abs(r.high))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_zero_centred_means_mean_output_near_zero(name):
    x = np.random.default_rng(0).standard_normal(400_000)
    mean = float(np.mean(_f64(name)(x)))
    assert (abs(mean) < 0.05) == jaxact.spec(name).zero_centred, f"{name}: mean output {mean:.4f}"


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_saturation_tails(name):
    d = _d64(name)
    left, right = np.abs(d(np.array([-1e4, -1e6]))), np.abs(d(np.array([1e4, 1e6])))
    tails = jaxact.spec(name).saturates
    assert (left.max() < 1e-6) == ("left" in tails), f"{name}: |f'| on the left {left}"
    assert (right.max() < 1e-6) == ("right" in tails), f"{name}: |f'| on the right {right}"


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_is_exactly_zero_on_the_dead_regions_only(name):
    s = jaxact.spec(name)
    d = _d64(name)
    kinks = np.array(s.kinks or [np.inf])
    grid = np.linspace(-20, 20, 4001)
    grid = grid[np.min(np.abs(grid[:, None] - kinks[None, :]), axis=1) > 1e-9]
    in_dead = np.zeros_like(grid, dtype=bool)
    for lo, hi in s.dead_regions:
        in_dead |= (grid > lo) & (grid < hi)
        samples = np.linspace(max(lo, -1e6) + 1e-3, min(hi, 1e6) - 1e-3, 50)
        assert np.all(d(samples) == 0), f"{name}: f' not exactly 0 on ({lo}, {hi})"
    zero = d(grid[~in_dead]) == 0
    # isolated zeros (hard_swish' at -1.5) are fine; a run of zeros would be a dead interval
    assert not np.any(zero[1:] & zero[:-1]), f"{name}: f' is exactly 0 on an interval outside its dead regions"
    assert s.dying == any(math.isinf(lo) or math.isinf(hi) for lo, hi in s.dead_regions)


def test_the_article_classification():
    """Spot checks of the table against the article: who saturates, who dies."""
    assert jaxact.spec("relu").dying and not jaxact.spec("leaky_relu").dying
    assert not jaxact.spec("elu").dying and jaxact.spec("tanh").zero_centred
    assert set(jaxact.spec("sigmoid").saturates) == {"left", "right"}
    assert not jaxact.spec("sigmoid").zero_centred


# ----------------------------------------------------------------------------
# parameter validation
# ----------------------------------------------------------------------------
def _invalid_values(param):
    bad = [float("nan"), float("inf")]
    if param.valid.low is not None:
        bad.append(param.valid.low - 1.0)
        if not param.valid.low_closed:
            bad.append(param.valid.low)
    return bad


REAL_PARAMS = [
    (name, p) for name in ALL for p in jaxact.spec(name).params if p.kind == "real"
]


@pytest.mark.parametrize("name,param", REAL_PARAMS, ids=[f"{n}-{p.name}" for n, p in REAL_PARAMS])
def test_out_of_range_parameter_names_argument_value_and_range(name, param):
    f = jaxact.get(name)
    for value in _invalid_values(param):
        with pytest.raises(jaxact.ActivationError) as info:
            f(jnp.ones(3), **{param.name: value})
        message = str(info.value)
        assert name in message and repr(param.name) in message and repr(value) in message
        assert "allowed" in message and str(param.valid) in message
    f(jnp.ones(3), **{param.name: param.default})  # the default is valid


def test_specific_rejections_from_the_issue():
    with pytest.raises(jaxact.ActivationError, match="'b' = -1"):
        jaxact.squareplus(jnp.ones(2), b=-1)
    with pytest.raises(jaxact.ActivationError, match="'beta' = 0"):
        jaxact.swish(jnp.ones(2), beta=0)
    with pytest.raises(jaxact.ActivationError, match="'alpha' = -0.5"):
        jaxact.elu(jnp.ones(2), alpha=-0.5)
    with pytest.raises(jaxact.ActivationError, match="'axis' = 3"):
        jaxact.softmax(jnp.ones((2, 2)), axis=3)
    with pytest.raises(jaxact.ActivationError, match="'approximate'"):
        jaxact.gelu(jnp.ones(2), approximate="tanh")


def test_per_channel_parameter_arrays_are_checked_elementwise():
    jaxact.leaky_relu(jnp.ones((4, 3)), negative_slope=jnp.array([0.1, 0.2, 0.3]))
    with pytest.raises(jaxact.ActivationError):
        jaxact.elu(jnp.ones((4, 3)), alpha=np.array([1.0, -1.0, 1.0]))


def test_traced_parameters_are_not_inspected():
    """Inside jit (e.g. a learnable alpha) the value cannot be checked: it is used as given."""
    y = jax.jit(lambda a: jaxact.elu(jnp.array([-1.0]), alpha=a))(2.0)
    np.testing.assert_allclose(y, 2.0 * np.expm1(-1.0))
