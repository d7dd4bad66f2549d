"""The registry: one :class:`ActivationSpec` per activation, the single source of truth.

The public functions, ``get``/``names``/``spec``/``derivative``, the comparison
table and the parametrised tests all read from here.  Adding an activation is
one function plus one :func:`register` call.
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import jax
import numpy as np

Tail = Literal["left", "right"]


class ActivationError(ValueError):
    """Bad input to a jaxact function: names the argument, the value and what is allowed."""


# ----------------------------------------------------------------------------
# parameters
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Interval:
    """A real interval; ``None`` bounds are infinite.  Values must also be finite."""

    low: float | None = None
    high: float | None = None
    low_closed: bool = True
    high_closed: bool = True

    def contains(self, v: np.ndarray) -> bool:
        ok = np.isfinite(v)
        if self.low is not None:
            ok &= (v >= self.low) if self.low_closed else (v > self.low)
        if self.high is not None:
            ok &= (v <= self.high) if self.high_closed else (v < self.high)
        return bool(np.all(ok))

    def __str__(self) -> str:
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        left = "[" if self.low is not None and self.low_closed else "("
        right = "]" if self.high is not None and self.high_closed else ")"
        return f"{left}{lo}, {hi}{right}"


@dataclass(frozen=True)
class Param:
    """One keyword parameter of an activation.

    kind: "real" (a finite number or array of them inside ``valid``), "bool",
    "axis" (an int in [-ndim, ndim)), or "mask" (``where=``: None or a boolean
    array broadcastable to x).
    """

    name: str
    default: Any
    kind: Literal["real", "bool", "axis", "mask"] = "real"
    valid: Interval = Interval()
    doc: str = ""

    @property
    def allowed(self) -> str:
        return {
            "real": f"a finite real number in {self.valid}",
            "bool": "True or False",
            "axis": "an int in [-x.ndim, x.ndim)",
            "mask": "None or a boolean array broadcastable to x",
        }[self.kind]


def check_real(function: str, param: Param, value) -> None:
    """Raise ActivationError if a concrete ``value`` is outside ``param.valid``.

    Traced values (inside jit, or learnable parameters) cannot be inspected and
    are accepted as they are.
    """
    if isinstance(value, jax.core.Tracer):
        return
    try:
        v = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ActivationError(
            f"{function}: argument '{param.name}' = {value!r} is not a number; "
            f"allowed: {param.allowed}"
        ) from None
    if not param.valid.contains(v):
        raise ActivationError(
            f"{function}: argument '{param.name}' = {value!r} is outside the allowed range; "
            f"allowed: {param.allowed}"
        )


def check_bool(function: str, name: str, value) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise ActivationError(
            f"{function}: argument '{name}' = {value!r} must be True or False (a static Python bool)"
        )


def check_axis(function: str, axis, ndim: int) -> int:
    """Return the non-negative axis, or raise naming the value and the allowed range."""
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise ActivationError(
            f"{function}: argument 'axis' = {axis!r} must be an int in [{-ndim}, {ndim})"
        )
    if not -ndim <= axis < ndim:
        raise ActivationError(
            f"{function}: argument 'axis' = {axis!r} is out of range for an input with "
            f"{ndim} dimension(s); allowed: an int in [{-ndim}, {ndim})"
        )
    return int(axis) % ndim


# ----------------------------------------------------------------------------
# the spec
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class OutputRange:
    low: float
    high: float
    low_closed: bool
    high_closed: bool

    def __str__(self) -> str:
        def fmt(v: float) -> str:
            if math.isinf(v):
                return "∞" if v > 0 else "-∞"
            return f"{v:.4g}"

        left = "[" if self.low_closed else "("
        right = "]" if self.high_closed else ")"
        return f"{left}{fmt(self.low)}, {fmt(self.high)}{right}"


@dataclass(frozen=True)
class ActivationSpec:
    """Everything jaxact knows about one activation (at its default parameters).

    Attributes:
      name: canonical name, also the public function's name.
      function: the public function ``f(x, **params)``.
      kind: "elementwise", or "axis" for functions of a whole axis (softmax, glu).
      params: keyword parameters with defaults and valid ranges.
      aliases: other names ``get`` accepts.
      output_range: range of f at the default parameters.
      zero_centred: mean output on standard-normal input is near 0.
      saturates: tails where f'(x) -> 0 as x -> -inf ("left") / +inf ("right").
      dead_regions: intervals where f'(x) is exactly 0 (units there stop learning).
      cost / measured_cost: computation cost relative to relu, from benchmark
        measurements (see :attr:`measured_cost`), not from a hand-written guess.
      best_use: where the activation is the right choice.
      formula / derivative_formula: LaTeX.
      derivative: f'(x) from the closed form (elementwise functions only).
      partials: name -> d f / d param (closed form), for learnable parameters.
      jax_nn: name of the jax.nn function it is a drop-in for, or None.
      test_params: extra parameter sets the tests cover besides the defaults.
      kinks: points where f is not differentiable (derivative follows jax.nn's convention).
    """

    name: str
    function: Callable
    kind: Literal["elementwise", "axis"]
    params: tuple[Param, ...]
    aliases: tuple[str, ...]
    output_range: OutputRange
    zero_centred: bool
    saturates: tuple[Tail, ...]
    dead_regions: tuple[tuple[float, float], ...]
    best_use: str
    formula: str
    derivative_formula: str
    derivative: Callable | None = None
    partials: dict[str, Callable] = field(default_factory=dict)
    jax_nn: str | None = None
    test_params: tuple[dict, ...] = ()
    kinks: tuple[float, ...] = ()

    @property
    def dying(self) -> bool:
        """True when f' is exactly 0 on a half-line: units can die."""
        return any(math.isinf(lo) or math.isinf(hi) for lo, hi in self.dead_regions)

    @property
    def measured_cost(self) -> dict[str, float] | None:
        """Time of the jitted float32 forward ("fwd") and forward + backward ("fwd+bwd")
        pass as a multiple of relu's, measured by ``benchmarks/activations.py
        --write-costs`` (``jaxact/_measured_costs.py`` says where and when); None if
        this activation has not been measured yet."""
        from jaxact._measured_costs import MEASURED_COSTS

        return MEASURED_COSTS.get(self.name)

    @property
    def cost(self) -> str:
        """Cost class from the measured forward + backward multiple of relu:
        "lowest" (<= 1.25x), "low" (<= 2x), "medium" (<= 4x), "high", or "unmeasured"."""
        measured = self.measured_cost
        if measured is None:
            return "unmeasured"
        multiple = measured["fwd+bwd"]
        for bound, label in ((1.25, "lowest"), (2.0, "low"), (4.0, "medium")):
            if multiple <= bound:
                return label
        return "high"

    @property
    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


_SPECS: dict[str, ActivationSpec] = {}
_ALIASES: dict[str, str] = {}


def register(spec: ActivationSpec) -> ActivationSpec:
    for key in (spec.name, *spec.aliases):
        if key in _SPECS or key in _ALIASES:
            raise ValueError(f"activation name {key!r} is registered twice")
    _SPECS[spec.name] = spec
    for alias in spec.aliases:
        _ALIASES[alias] = spec.name
    return spec


def names() -> list[str]:
    """Canonical names of every registered activation, in registration order."""
    return list(_SPECS)


def _canonical(name: str) -> str:
    if not isinstance(name, str):
        raise ActivationError(f"name: expected a string, got {name!r}")
    key = name.strip().lower().replace("-", "_")
    if key in _SPECS:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    known = sorted([*_SPECS, *_ALIASES])
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ActivationError(
        f"name: unknown activation {name!r}.{hint} Known activations: {', '.join(known)}"
    )


def spec(name: str) -> ActivationSpec:
    """The :class:`ActivationSpec` for a canonical name or an alias."""
    return _SPECS[_canonical(name)]


def get(name: str) -> Callable:
    """The activation function for a canonical name or an alias (e.g. ``"linear"``)."""
    return spec(name).function


def derivative(name: str) -> Callable:
    """f'(x) from the closed form, for an elementwise activation."""
    s = spec(name)
    if s.derivative is None:
        raise ActivationError(
            f"name: {name!r} is a function of a whole axis ({s.kind}); its derivative is a "
            "Jacobian, use jax.jvp / jax.vjp instead"
        )
    return s.derivative


def aliases() -> dict[str, str]:
    """alias -> canonical name."""
    return dict(_ALIASES)
