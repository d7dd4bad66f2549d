"""jaxact.pairing: recommend() for the article's tasks and check() for the known mistakes.

The expected verdicts are written out by hand for every activation registered
today (``KNOWN``) and every loss; activations registered later are held to the
rule the module documents, which is stated here independently from the
registered output ranges (``_expected_ok``).  Nothing here compiles a program
except the last test, which checks that the recommended forms compute the same
loss.
"""
from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxact
from jaxact import losses as L
from jaxact import pairing as P
from jaxact.pairing import PairingError, check, recommend

LOSSES = (
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
)
REGRESSION = ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss")

# The activations registered when this test was written, with the losses each one is a
# correct output activation for (every other pair must raise PairingError).
UNBOUNDED = {"binary_cross_entropy_with_logits", "cross_entropy", *REGRESSION}  # range (-inf, inf)
BOUNDED_BELOW = {"cross_entropy"}  # e.g. [0, inf): softmax is shift-invariant, sigmoid is not
PROBABILITY = {"binary_cross_entropy"}  # elementwise, in [0, 1]
KNOWN = {
    "identity": UNBOUNDED,
    "leaky_relu": UNBOUNDED,
    "glu": UNBOUNDED,
    "relu": BOUNDED_BELOW,
    "hard_swish": BOUNDED_BELOW,
    "sparse_plus": BOUNDED_BELOW,
    "softplus": BOUNDED_BELOW,
    "squareplus": BOUNDED_BELOW,
    "elu": BOUNDED_BELOW,
    "selu": BOUNDED_BELOW,
    "celu": BOUNDED_BELOW,
    "silu": BOUNDED_BELOW,
    "swish": BOUNDED_BELOW,
    "mish": BOUNDED_BELOW,
    "gelu": BOUNDED_BELOW,
    "log_sigmoid": {"cross_entropy"},  # (-inf, 0): per-class log-probabilities, not normalised
    "log_softmax": {"nll_loss"},
    "sigmoid": PROBABILITY,
    "hard_sigmoid": PROBABILITY,
    "sparse_sigmoid": PROBABILITY,
    "softmax": set(),  # normalised over the axis: neither logits nor independent probabilities
    "softmin": set(),
    "relu6": set(),  # bounded on both sides
    "hard_tanh": set(),
    "tanh": set(),
    "soft_sign": set(),
}


def _verdict(activation, loss, **kwargs) -> str | None:
    """None if check passes, else the PairingError message."""
    try:
        check(activation, loss, **kwargs)
    except PairingError as e:
        return str(e)
    return None


# ----------------------------------------------------------------------------
# recommend
# ----------------------------------------------------------------------------
EXPECTED = {
    "binary": ("identity", "binary_cross_entropy_with_logits", "sigmoid", ("sigmoid", "binary_cross_entropy")),
    "multiclass": ("identity", "cross_entropy", "softmax", ("log_softmax", "nll_loss")),
    "multilabel": ("identity", "binary_cross_entropy_with_logits", "sigmoid", ("sigmoid", "binary_cross_entropy")),
    "regression": ("identity", "mse_loss", "identity", None),
    "robust_regression": ("identity", "huber_loss", "identity", None),
}


@pytest.mark.parametrize("task", list(EXPECTED))
def test_recommend(task):
    r = recommend(task)
    activation, loss, prediction, probability_form = EXPECTED[task]
    assert (r.task, r.output_activation, r.loss, r.prediction) == (task, activation, loss, prediction)
    assert r.probability_form == probability_form
    assert r.logits_form == (activation, loss) and r.logits_form.output_activation == activation
    # both forms are correct pairs, and they name real functions
    check(*r.logits_form)
    assert r.logits_form.loss_fn is getattr(L, loss)
    assert r.logits_form.activation_fn is jaxact.get(activation)
    if r.probability_form is not None:
        check(*r.probability_form)
        assert r.probability_form.activation_fn is jaxact.get(probability_form[0])
    assert len(r.explanation) > 80 and loss in r.explanation
    with pytest.raises(Exception):  # frozen
        r.loss = "mse_loss"
    assert P.TASKS == tuple(EXPECTED)


def test_recommend_names_and_errors():
    assert recommend("Multi-Class").task == "multiclass"
    assert recommend("multi label").task == "multilabel"
    assert recommend("robust").task == "robust_regression"
    with pytest.raises(PairingError) as info:
        recommend("multiclas")
    msg = str(info.value)
    assert "'multiclas'" in msg and "Did you mean 'multiclass'" in msg
    assert all(t in msg for t in P.TASKS)
    with pytest.raises(PairingError, match="task"):
        recommend(3)
    assert issubclass(PairingError, ValueError) and issubclass(PairingError, jaxact.ActivationError)


# ----------------------------------------------------------------------------
# check: the known mistakes, with the fix in the message
# ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "activation,loss,parts",
    [
        ("softmax", "cross_entropy", ["applies log_softmax itself", "raw logits", "identity", "nll_loss"]),
        ("log_softmax", "cross_entropy", ["applies log_softmax itself", "redundant", "identity"]),
        ("sigmoid", "binary_cross_entropy_with_logits", ["applies sigmoid itself", "raw logits", "binary_cross_entropy"]),
        ("softmax", "nll_loss", ["log-probabilities", "probabilities", "log_softmax instead of softmax", "cross_entropy"]),
        ("sigmoid", "nll_loss", ["log-probabilities", "probabilities"]),
        (None, "binary_cross_entropy", ["raw logits", "binary_cross_entropy_with_logits", "sigmoid"]),
        ("relu", "binary_cross_entropy", ["[0, 1]", "[0, ∞)", "binary_cross_entropy_with_logits"]),
        ("softmax", "binary_cross_entropy", ["not independent probabilities", "sigmoid"]),
        ("tanh", "mse_loss", ["(-1, 1)", "unbounded regression target", "identity", "target_range"]),
        ("sigmoid", "huber_loss", ["(0, 1)", "unbounded regression target"]),
        ("relu", "l1_loss", ["[0, ∞)", "unbounded regression target"]),
        ("tanh", "cross_entropy", ["bounded", "(-1, 1)", "e^2", "identity"]),
        ("relu", "binary_cross_entropy_with_logits", ["[0, ∞)", "below sigmoid(0)", "identity"]),
        ("identity", "nll_loss", ["log-probabilities", "log_softmax", "cross_entropy"]),
        ("log_sigmoid", "nll_loss", ["normalised", "log_softmax"]),
    ],
)
def test_known_mistakes_explain_the_fix(activation, loss, parts):
    msg = _verdict(activation, loss)
    assert msg is not None, (activation, loss)
    name = "identity" if activation is None else activation
    assert msg.startswith(f"{name} + {loss}: "), msg
    assert "Fix:" in msg
    for part in parts:
        assert part in msg, f"{part!r} not in {msg!r}"


def test_every_known_pair():
    """The table: exactly the pairs listed in KNOWN pass; every other pair raises."""
    registered = set(jaxact.names())
    assert set(KNOWN) <= registered, set(KNOWN) - registered
    wrong = []
    for name, ok in KNOWN.items():
        for loss in LOSSES:
            passed = _verdict(name, loss) is None
            if passed != (loss in ok):
                wrong.append((name, loss, "passed" if passed else "raised"))
    assert not wrong, wrong


def _expected_ok(name: str, loss: str) -> bool:
    """The documented rule, from the registered output range (at default parameters)."""
    s = jaxact.spec(name)
    low, high = s.output_range.low, s.output_range.high
    if loss == "cross_entropy":
        return name not in ("softmax", "log_softmax") and (math.isinf(low) or math.isinf(high))
    if loss == "binary_cross_entropy_with_logits":
        return low == -math.inf and high == math.inf
    if loss == "binary_cross_entropy":
        return s.kind == "elementwise" and low >= 0 and high <= 1
    if loss == "nll_loss":
        return s.kind == "axis" and high <= 0
    return low == -math.inf and high == math.inf  # regression, unbounded targets


def test_every_registered_activation_follows_the_rule():
    """Activations registered after this test was written are judged by the same rule."""
    for name in jaxact.names():
        for loss in LOSSES:
            assert (_verdict(name, loss) is None) == _expected_ok(name, loss), (name, loss)


# ----------------------------------------------------------------------------
# what check accepts
# ----------------------------------------------------------------------------
def test_activation_forms():
    # aliases, case and dashes, function objects (jaxact and jax.nn), partials, None
    for same in ["identity", "linear", "Linear", None, jaxact.identity, jaxact.linear, jax.nn.identity]:
        check(same, "mse_loss")
    for same in ["sigmoid", "logistic", jaxact.sigmoid, jax.nn.sigmoid]:
        check(same, "binary_cross_entropy")
        assert _verdict(same, "binary_cross_entropy_with_logits") is not None
    for same in ["softmax", jaxact.softmax, jax.nn.softmax, functools.partial(jaxact.softmax, axis=-1)]:
        assert _verdict(same, "cross_entropy").startswith("softmax + cross_entropy")
    for same in ["log-softmax", "logsoftmax", jaxact.log_softmax, jax.nn.log_softmax]:
        check(same, "nll_loss")
    check(functools.partial(jaxact.leaky_relu, negative_slope=0.2), "mse_loss")
    # unknown activations are not pairing mistakes: ActivationError, with close matches
    with pytest.raises(jaxact.ActivationError) as info:
        check("sigmod", "binary_cross_entropy")
    assert not isinstance(info.value, PairingError) and "Did you mean 'sigmoid'" in str(info.value)
    with pytest.raises(jaxact.ActivationError, match="not a registered activation"):
        check(np.tanh, "mse_loss")


def test_loss_forms():
    for same in ["cross_entropy", "ce", "Cross-Entropy", L.cross_entropy, functools.partial(L.cross_entropy, label_smoothing=0.1)]:
        check(None, same)
        assert _verdict("softmax", same) is not None
    for alias, name in [("bce", "binary_cross_entropy"), ("bce_with_logits", "binary_cross_entropy_with_logits"), ("mse", "mse_loss"), ("l1", "l1_loss"), ("mae", "l1_loss"), ("huber", "huber_loss"), ("smooth_l1", "smooth_l1_loss"), ("nll", "nll_loss")]:
        for activation in ("tanh", "identity", "sigmoid", "log_softmax"):
            assert (_verdict(activation, alias) is None) == (_verdict(activation, getattr(L, name)) is None)
    with pytest.raises(L.LossError) as info:
        check(None, "cross_entropi")
    assert "Did you mean 'cross_entropy'" in str(info.value) and "huber_loss" in str(info.value)
    with pytest.raises(L.LossError, match="not a jaxact loss"):
        check(None, jnp.mean)
    assert P.LOSSES == LOSSES and all(callable(getattr(L, name)) for name in LOSSES)


def test_target_range_for_bounded_regression_targets():
    check("relu", "mse_loss", target_range=(0, math.inf))
    check("softplus", "huber_loss", target_range=(1e-3, 50))
    check("sigmoid", "mse_loss", target_range=(0, 1))
    check("tanh", "l1_loss", target_range=(-1, 1))
    msg = _verdict("tanh", "mse_loss", target_range=(0, 2))
    assert msg is not None and "targets in [0, 2]" in msg
    assert _verdict("relu", "mse_loss", target_range=(-1, 1)) is not None
    # classification losses ignore it
    assert _verdict("softmax", "cross_entropy", target_range=(0, 1)) is not None
    for bad in [(1, 0), (0,), "0..1", (0, float("nan"))]:
        with pytest.raises(jaxact.ActivationError, match="target_range"):
            check("identity", "mse_loss", target_range=bad)


def test_recommended_forms_compute_the_same_loss():
    """The logits form and the probability form of each classification task agree on
    ordinary logits (they differ only in how they handle the extremes)."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4, 3)) * 2
    labels = np.array([0, 2, 1, 1])
    multi = (rng.random((4, 3)) > 0.5).astype(np.float64)
    cases = {"multiclass": (z, labels), "binary": (z[:, :1], multi[:, :1]), "multilabel": (z, multi)}

    @jax.jit  # one compilation for all of them
    def run(cases):
        out = {}
        for task, (x, targets) in cases.items():
            r = recommend(task)
            out[task] = (
                r.logits_form.loss_fn(r.logits_form.activation_fn(x), targets),
                r.probability_form.loss_fn(r.probability_form.activation_fn(x), targets),
            )
        return out

    for task, (a, b) in run(cases).items():
        np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=task)
