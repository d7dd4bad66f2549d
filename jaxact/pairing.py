"""Which output activation goes with which loss: :func:`recommend` and :func:`check`.

The article's table, as code (train with -> predict with):

* ``binary``: identity + ``binary_cross_entropy_with_logits`` -> sigmoid
* ``multiclass``: identity + ``cross_entropy`` -> softmax
* ``multilabel``: identity + ``binary_cross_entropy_with_logits`` -> sigmoid per label
* ``regression``: identity + ``mse_loss`` -> identity
* ``robust_regression``: identity + ``huber_loss`` -> identity

The logits forms fold the activation into the loss, which is both cheaper and
numerically safer (see :func:`jaxact.losses.binary_cross_entropy`). Their
probability forms (sigmoid + ``binary_cross_entropy``, log_softmax + ``nll_loss``)
are correct too, and :func:`check` accepts them.

:func:`check` decides from each activation's registered output range
(``jaxact.spec(name).output_range``, at the default parameters), so it covers
every registered activation, not a list of names:

* ``cross_entropy`` (softmax inside) needs logits unbounded on at least one side
  (softmax is shift-invariant), and no log_softmax/softmax in front of it;
* ``binary_cross_entropy_with_logits`` (sigmoid inside) needs logits unbounded on
  both sides: a floor at a caps the probability from below at sigmoid(a);
* ``binary_cross_entropy`` needs an elementwise output in [0, 1] (not raw logits,
  and not a softmax, whose outputs are not independent probabilities);
* ``nll_loss`` needs log-probabilities normalised over the class axis (an axis
  function with outputs <= 0: log_softmax);
* the regression losses need an output range that covers the targets: by default
  the whole real line (pass ``target_range`` for bounded targets).
"""
from __future__ import annotations

import difflib
import functools
import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

import jax

from jaxact import losses as _losses
from jaxact._registry import ActivationError, ActivationSpec, names, spec

__all__ = ["PairingError", "Pairing", "Recommendation", "TASKS", "LOSSES", "recommend", "check"]

INF = math.inf


class PairingError(ActivationError):
    """An output activation used with a loss it does not fit; the message says how to fix it.

    A subclass of :class:`jaxact.ActivationError`, hence a ``ValueError``.
    """


class Pairing(NamedTuple):
    """An output activation (registry name) and a loss (name in :mod:`jaxact.losses`).

    A tuple, so ``check(*pairing)`` and ``activation, loss = pairing`` work.
    """

    output_activation: str
    loss: str

    @property
    def activation_fn(self) -> Callable:
        return spec(self.output_activation).function

    @property
    def loss_fn(self) -> Callable:
        return getattr(_losses, self.loss)


@dataclass(frozen=True)
class Recommendation:
    """What :func:`recommend` returns.

    Attributes:
      task: the canonical task name.
      output_activation: the activation on the model's last layer during training:
        ``"identity"`` (the model outputs logits or raw values).
      loss: the loss to train with; for classification it applies the sigmoid /
        softmax itself (the preferred logits form).
      prediction: the activation that turns the model's outputs into predictions at
        inference (``"sigmoid"``, ``"softmax"`` or ``"identity"``).
      probability_form: the equivalent pair with the activation applied explicitly
        (e.g. sigmoid + binary_cross_entropy), or None for regression. Correct, but
        slower and, for sigmoid + binary_cross_entropy, numerically weaker.
      explanation: why, in a few sentences.
    """

    task: str
    output_activation: str
    loss: str
    prediction: str
    probability_form: Pairing | None
    explanation: str

    @property
    def logits_form(self) -> Pairing:
        """The preferred pair (output_activation, loss), ready for ``check(*...)``."""
        return Pairing(self.output_activation, self.loss)


TASKS = ("binary", "multiclass", "multilabel", "regression", "robust_regression")

_TASK_ALIASES = {
    "binary_classification": "binary",
    "multiclass_classification": "multiclass",
    "multi_class": "multiclass",
    "categorical": "multiclass",
    "multilabel_classification": "multilabel",
    "multi_label": "multilabel",
    "robust": "robust_regression",
}

_RECOMMENDATIONS = {
    "binary": Recommendation(
        task="binary",
        output_activation="identity",
        loss="binary_cross_entropy_with_logits",
        prediction="sigmoid",
        probability_form=Pairing("sigmoid", "binary_cross_entropy"),
        explanation=(
            "One output unit. Train on its raw logit with binary_cross_entropy_with_logits, "
            "which applies the sigmoid inside in a stable form: its gradient is "
            "sigmoid(z) - y for every z, while sigmoid followed by binary_cross_entropy "
            "loses it once sigmoid(z) rounds to 1. Apply sigmoid to the logit to get the "
            "probability at inference."
        ),
    ),
    "multiclass": Recommendation(
        task="multiclass",
        output_activation="identity",
        loss="cross_entropy",
        prediction="softmax",
        probability_form=Pairing("log_softmax", "nll_loss"),
        explanation=(
            "One output unit per class, exactly one class per example. Train on the raw "
            "logits with cross_entropy (integer labels or class probabilities), which "
            "applies log_softmax itself; do not put softmax in front of it. Apply softmax "
            "at inference for probabilities (argmax of the logits for the class)."
        ),
    ),
    "multilabel": Recommendation(
        task="multilabel",
        output_activation="identity",
        loss="binary_cross_entropy_with_logits",
        prediction="sigmoid",
        probability_form=Pairing("sigmoid", "binary_cross_entropy"),
        explanation=(
            "One output unit per label, any number of labels per example: independent "
            "binary problems. Train on the raw logits with binary_cross_entropy_with_logits "
            "(pos_weight for rare labels); apply sigmoid per label at inference. Not "
            "softmax: it makes the labels compete for one unit of probability."
        ),
    ),
    "regression": Recommendation(
        task="regression",
        output_activation="identity",
        loss="mse_loss",
        prediction="identity",
        probability_form=None,
        explanation=(
            "A linear (identity) output can reach any real target; mse_loss estimates the "
            "conditional mean. A bounded output activation (sigmoid, tanh, relu, ...) "
            "cannot reach targets outside its range."
        ),
    ),
    "robust_regression": Recommendation(
        task="robust_regression",
        output_activation="identity",
        loss="huber_loss",
        prediction="identity",
        probability_form=None,
        explanation=(
            "Regression with outliers: huber_loss is quadratic for errors below delta and "
            "linear above, so outliers pull with a bounded gradient. smooth_l1_loss is "
            "the same up to a factor (huber(delta) = delta * smooth_l1(beta=delta)); "
            "l1_loss (the conditional median) is the limit of small delta."
        ),
    ),
}


def _canonical_task(task) -> str:
    if not isinstance(task, str):
        raise PairingError(f"recommend: argument 'task' = {task!r}; allowed: one of {', '.join(TASKS)}")
    key = task.strip().lower().replace("-", "_").replace(" ", "_")
    key = _TASK_ALIASES.get(key, key)
    if key in TASKS:
        return key
    close = difflib.get_close_matches(key, [*TASKS, *_TASK_ALIASES], n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise PairingError(f"recommend: unknown task {task!r}.{hint} Known tasks: {', '.join(TASKS)}")


def recommend(task: str) -> Recommendation:
    """The output activation and loss for ``task`` (one of :data:`TASKS`), logits form first.

    Args:
      task: "binary", "multiclass", "multilabel", "regression" or "robust_regression".

    Returns:
      A frozen :class:`Recommendation`: ``output_activation`` + ``loss`` (the preferred
      logits form, also ``.logits_form``), ``prediction`` (the activation for
      inference), ``probability_form`` and ``explanation``.

    >>> r = recommend("binary")
    >>> r.output_activation, r.loss, r.prediction
    ('identity', 'binary_cross_entropy_with_logits', 'sigmoid')
    >>> r.probability_form
    Pairing(output_activation='sigmoid', loss='binary_cross_entropy')

    Both ``r.logits_form`` and ``r.probability_form`` pass :func:`check`. Task names
    are case-insensitive; "multi-class", "multi_label", "robust" and the like are
    accepted. An unknown task raises :class:`PairingError` listing the known ones.
    """
    return _RECOMMENDATIONS[_canonical_task(task)]


# ----------------------------------------------------------------------------
# resolving activations and losses
# ----------------------------------------------------------------------------
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
_LOSS_ALIASES = {
    "bce": "binary_cross_entropy",
    "bce_with_logits": "binary_cross_entropy_with_logits",
    "ce": "cross_entropy",
    "nll": "nll_loss",
    "mse": "mse_loss",
    "l1": "l1_loss",
    "mae": "l1_loss",
    "smooth_l1": "smooth_l1_loss",
    "huber": "huber_loss",
}
_REGRESSION = ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss")


def _unwrap(fn):
    while isinstance(fn, functools.partial):
        fn = fn.func
    return fn


def _activation_spec(activation) -> ActivationSpec:
    if activation is None:
        return spec("identity")
    if isinstance(activation, str):
        return spec(activation)  # ActivationError with close matches for unknown names
    fn = _unwrap(activation)
    for name in names():
        s = spec(name)
        if fn is s.function or (s.jax_nn is not None and fn is getattr(jax.nn, s.jax_nn, None)):
            return s
    raise ActivationError(
        f"check: argument 'output_activation' = {activation!r} is not a registered activation; "
        "allowed: a registry name or alias (jaxact.names()), a jaxact or jax.nn activation "
        "function, or None (no activation)"
    )


def _loss_name(loss) -> str:
    if isinstance(loss, str):
        key = loss.strip().lower().replace("-", "_")
        key = _LOSS_ALIASES.get(key, key)
        if key in LOSSES:
            return key
        known = sorted([*LOSSES, *_LOSS_ALIASES])
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise _losses.LossError(
            f"check: argument 'loss' = {loss!r} is not a known loss.{hint} Known losses: "
            f"{', '.join(LOSSES)}"
        )
    fn = _unwrap(loss)
    for name in LOSSES:
        if fn is getattr(_losses, name):
            return name
    raise _losses.LossError(
        f"check: argument 'loss' = {loss!r} is not a jaxact loss; allowed: a name in "
        f"{', '.join(LOSSES)} or one of those functions from jaxact.losses"
    )


def _target_range(target_range) -> tuple[float, float]:
    if target_range is None:
        return (-INF, INF)
    try:
        low, high = (float(v) for v in target_range)
    except (TypeError, ValueError):
        raise ActivationError(
            f"check: argument 'target_range' = {target_range!r}; allowed: None or a pair "
            "(low, high) of numbers, +-inf allowed"
        ) from None
    if math.isnan(low) or math.isnan(high) or low > high:
        raise ActivationError(
            f"check: argument 'target_range' = {target_range!r}; allowed: a pair (low, high) "
            "with low <= high"
        )
    return low, high


# ----------------------------------------------------------------------------
# the rules
# ----------------------------------------------------------------------------
def _fmt(v: float) -> str:
    return ("inf" if v > 0 else "-inf") if math.isinf(v) else f"{v:.4g}"


def _is_probability(s: ActivationSpec) -> bool:
    r = s.output_range
    return r.low >= 0 and r.high <= 1


def _problem(s: ActivationSpec, loss: str, target: tuple[float, float]) -> str | None:
    """Why (s, loss) is a mistake, with the fix; None when the pair is right."""
    name, r = s.name, s.output_range
    rng = str(r)
    if loss == "cross_entropy":
        if name in ("softmax", "log_softmax"):
            effect = (
                "normalises twice: the loss sees squashed probabilities as logits and its "
                "gradients shrink"
                if name == "softmax"
                else "is computed twice (redundant)"
            )
            return (
                f"cross_entropy applies log_softmax itself, so {name} in front of it {effect}. "
                "Fix: pass raw logits (identity output, no activation) to cross_entropy, "
                "and apply softmax only at inference; or keep log_softmax and use nll_loss."
            )
        if math.isfinite(r.low) and math.isfinite(r.high):
            kind = "probabilities" if _is_probability(s) else "bounded values"
            return (
                f"{name} outputs {kind} in {rng}; cross_entropy expects unbounded logits and "
                "applies log_softmax itself, so bounded logits cap how confident the model "
                "can be (two classes' probabilities differ by a factor of at most "
                f"e^{_fmt(r.high - r.low)}). Fix: identity output (raw logits) with cross_entropy."
            )
        return None
    if loss == "binary_cross_entropy_with_logits":
        if math.isinf(r.low) and math.isinf(r.high) and r.low < 0 < r.high:
            return None
        if name == "sigmoid" or _is_probability(s):
            what = "applies sigmoid itself" if name == "sigmoid" else "expects logits"
            return (
                f"binary_cross_entropy_with_logits {what}, so {name} in front of it squashes "
                f"twice: its outputs in {rng} are read as logits, giving probabilities between "
                "0.5 and 0.73. Fix: pass raw logits (identity output) to "
                "binary_cross_entropy_with_logits and apply sigmoid only at inference; or keep "
                "sigmoid and use binary_cross_entropy."
            )
        if math.isfinite(r.low):
            side, limit = f"below by {_fmt(r.low)}", f"below sigmoid({_fmt(r.low)})"
        else:
            side, limit = f"above by {_fmt(r.high)}", f"above sigmoid({_fmt(r.high)})"
        return (
            f"{name} outputs values in {rng}, read by binary_cross_entropy_with_logits as logits: "
            f"bounded {side}, so the predicted probability can never go {limit}. "
            "Fix: identity output (raw logits) with binary_cross_entropy_with_logits."
        )
    if loss == "binary_cross_entropy":
        if _is_probability(s) and s.kind == "elementwise":
            return None
        if _is_probability(s):
            return (
                f"{name} normalises over the last axis, so its outputs are not independent "
                "probabilities (with one output unit it is constantly 1) and "
                "binary_cross_entropy treats each one as its own yes/no. Fix: sigmoid with "
                "binary_cross_entropy (or identity with binary_cross_entropy_with_logits) for "
                "binary and multi-label tasks; identity with cross_entropy for one class "
                "out of many."
            )
        if name == "identity" or (math.isinf(r.low) and math.isinf(r.high)):
            return (
                f"binary_cross_entropy expects probabilities in [0, 1], but {name} passes raw "
                f"logits (range {rng}). Fix: use binary_cross_entropy_with_logits on the "
                "logits (stable, recommended), or apply sigmoid first."
            )
        return (
            f"binary_cross_entropy expects probabilities in [0, 1], but {name} outputs values "
            f"in {rng}. Fix: identity output with binary_cross_entropy_with_logits, or sigmoid "
            "with binary_cross_entropy."
        )
    if loss == "nll_loss":
        if s.kind == "axis" and r.high <= 0:
            return None
        if _is_probability(s):
            return (
                f"nll_loss expects log-probabilities, but {name} outputs probabilities in "
                f"{rng}: nll_loss would minimise -p instead of -log p, whose gradient vanishes "
                "on confidently wrong predictions (outside jit nll_loss rejects them, as they "
                f"are above 0). Fix: log_softmax instead of {name} before nll_loss, or raw "
                "logits (identity) with cross_entropy."
            )
        if r.high <= 0:
            return (
                f"nll_loss expects log-probabilities normalised over the class axis, but {name} "
                "works on each class alone: raising the target's log-probability would not "
                "lower the others'. Fix: log_softmax with nll_loss, or raw logits (identity) "
                "with cross_entropy."
            )
        return (
            f"nll_loss expects log-probabilities (<= 0), but {name} outputs values in {rng} "
            "(raw scores, not normalised). Fix: log_softmax with nll_loss, or raw logits "
            "(identity) with cross_entropy, which applies log_softmax itself."
        )
    # regression
    low, high = target
    if r.low <= low and high <= r.high:
        return None
    if target == (-INF, INF):
        targets = "an unbounded regression target"
    else:
        targets = f"targets in [{_fmt(low)}, {_fmt(high)}]"
    return (
        f"{name} outputs values in {rng} only, so with {loss} on {targets} the model cannot "
        "reach the targets outside that range (and where the activation saturates, it stops "
        "learning). Fix: identity (linear) output for regression; if the targets really are "
        "bounded, say so with check(..., target_range=(low, high))."
    )


def check(output_activation, loss, *, target_range=None) -> None:
    """Raise :class:`PairingError` if ``output_activation`` does not fit ``loss``; else nothing.

    Args:
      output_activation: the activation applied to the model's output before the loss:
        a registry name or alias (``"softmax"``, ``"linear"``, ...), a jaxact or
        jax.nn activation function (or a ``functools.partial`` of one), or None for
        no activation (identity).
      loss: a loss name from :data:`LOSSES` (or a short alias such as ``"mse"``,
        ``"bce"``), or the function itself from :mod:`jaxact.losses`.
      target_range: for regression losses only: ``(low, high)`` of the targets
        (default: unbounded, the whole real line). With ``(0, inf)`` a relu or
        softplus output passes; with ``(0, 1)`` a sigmoid output does.

    Raises:
      PairingError: for the known mistakes, with the fix: softmax or log_softmax
        before ``cross_entropy``; sigmoid (or any probability output) before
        ``binary_cross_entropy_with_logits``; ``nll_loss`` on probabilities instead of
        log-probabilities; ``binary_cross_entropy`` on raw logits; a bounded output
        activation on an unbounded regression target (and the other cases the
        module docstring lists, decided from the registered output ranges).
      ActivationError / LossError: an unknown activation or loss.

    The decision uses each activation's range at its default parameters (a
    ``partial(leaky_relu, negative_slope=0)`` is judged as leaky_relu).
    """
    s = _activation_spec(output_activation)
    name = _loss_name(loss)
    target = _target_range(target_range)  # validated always, used by the regression losses
    problem = _problem(s, name, target)
    if problem is not None:
        raise PairingError(f"{s.name} + {name}: {problem}")
