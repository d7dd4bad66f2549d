"""What the linen and nnx modules are generated from (no flax import here).

For every registry entry this module derives: the class name (``leaky_relu`` ->
``LeakyReLU``), which parameters become module attributes, which of those can be
learned, which are call-time arguments (``where=``), and the per-unit derivative
that the diagnostics record.  ``jaxact.linen`` and ``jaxact.nnx`` turn these
descriptions into classes, so adding an activation to the registry adds its modules.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from jaxact._registry import ActivationError, ActivationSpec, Param, aliases, check_real, names, spec

# Name pieces written as acronyms (torch / Flax spelling): relu -> ReLU, silu -> SiLU.
_ACRONYMS = {
    "relu": "ReLU",
    "elu": "ELU",
    "selu": "SELU",
    "celu": "CELU",
    "gelu": "GELU",
    "silu": "SiLU",
    "glu": "GLU",
    "lrelu": "LReLU",
}

# The Flax collection (linen) / variable type name (nnx) the monitor reads.
MONITOR_COLLECTION = "jaxact_monitor"
# The name each module sows its per-unit derivative under.
MONITOR_NAME = "unit_derivative"


def class_name(name: str) -> str:
    """CamelCase class name of a registry or alias name: ``leaky_relu`` -> ``LeakyReLU``."""
    pieces = []
    for piece in name.split("_"):
        word, digits = re.fullmatch(r"([a-z]*)(\d*)", piece).groups()
        pieces.append(_ACRONYMS.get(word, word.capitalize()) + digits)
    return "".join(pieces)


@dataclass(frozen=True)
class ModuleSpec:
    """How one activation becomes a module.

    attributes: parameters fixed at construction (reals, bools, axes), in registry order.
    learnable: the real parameters, which ``learnable=True`` turns into Flax params.
    call_arguments: parameters passed per call (``where=`` masks).
    """

    activation: ActivationSpec
    class_name: str
    attributes: tuple[Param, ...]
    learnable: tuple[Param, ...]
    call_arguments: tuple[Param, ...]

    @property
    def name(self) -> str:
        return self.activation.name


def module_spec(name: str) -> ModuleSpec:
    s = spec(name)
    return ModuleSpec(
        activation=s,
        class_name=class_name(s.name),
        attributes=tuple(p for p in s.params if p.kind != "mask"),
        learnable=tuple(p for p in s.params if p.kind == "real"),
        call_arguments=tuple(p for p in s.params if p.kind == "mask"),
    )


def module_specs() -> list[ModuleSpec]:
    return [module_spec(n) for n in names()]


def alias_class_names() -> dict[str, str]:
    """Extra class name -> canonical class name, for aliases that CamelCase differently
    (``hardtanh`` -> ``Hardtanh``, torch's spelling).  Aliases that would collide are skipped."""
    canonical = {class_name(n) for n in names()}
    extra: dict[str, str] = {}
    for alias, target in aliases().items():
        cls = class_name(alias)
        if cls not in canonical and cls not in extra:
            extra[cls] = class_name(target)
    return extra


def resolve_factory(name: str, params: dict, extra: frozenset = frozenset()) -> ModuleSpec:
    """The ModuleSpec behind ``Activation(name, **params)``; unknown arguments raise,
    naming the allowed ones (``extra``: framework arguments such as linen's ``name``)."""
    ms = module_spec(name)
    allowed = {p.name for p in ms.attributes} | {"dtype"}
    if ms.learnable:
        allowed |= {"learnable", "param_dtype"}
    unknown = set(params) - allowed - extra
    if unknown:
        raise ActivationError(
            f"Activation({name!r}): unknown argument(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
        )
    return ms


def check_learnable(activation: str, learnable) -> None:
    if not isinstance(learnable, bool):
        raise ActivationError(
            f"{activation}: argument 'learnable' = {learnable!r} must be True or False"
        )


def unit_derivative(name: str, x, y, values: dict) -> jax.Array:
    """Per-unit derivative recorded by the monitor, same shape as the output ``y``.

    Elementwise activations: f'(x) with the module's (possibly learned) parameters.
    softmax/softmin: the Jacobian's diagonal y(1 - y); log_softmax: 1 - exp(y); glu:
    the gate sigmoid(b) (d out / d a).  A unit is dead where this is exactly 0 on every
    input, saturated where it stays below a small eps.
    """
    s = spec(name)
    if s.kind == "elementwise":
        return s.derivative(x, **values)
    y32 = y.astype(jnp.float32)
    if s.name in ("softmax", "softmin"):
        d = y32 * (1.0 - y32)
    elif s.name == "log_softmax":
        d = -jnp.expm1(y32)
    elif s.name == "glu":
        _, b = jnp.split(x, 2, axis=values.get("axis", -1))
        from jaxact.activations import sigmoid

        d = sigmoid(b.astype(jnp.float32))
    else:  # a new axis activation needs its own line here
        raise NotImplementedError(f"no per-unit derivative for axis activation {s.name!r}")
    return d.astype(y.dtype)


def check_attributes(ms: ModuleSpec, values: dict) -> None:
    """Validate constructor values early, with the registry's ranges and messages."""
    from jaxact._registry import check_bool, check_real

    for p in ms.attributes:
        v = values[p.name]
        if p.kind == "real":
            check_real(ms.class_name, p, v)
        elif p.kind == "bool":
            check_bool(ms.class_name, p.name, v)
        elif p.kind == "axis":
            axes = v if isinstance(v, tuple) else (v,)
            if v is not None and not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
                raise ActivationError(
                    f"{ms.class_name}: argument '{p.name}' = {v!r} must be an int, a tuple of "
                    "ints or None"
                )


def module_doc(ms: ModuleSpec, flavour: str) -> str:
    """The generated class's docstring: formula, derivative, range and attributes."""
    s = ms.activation
    lines = [
        f"{ms.class_name}: the {flavour} module for :func:`jaxact.{s.name}`.",
        "",
        f".. math:: f(x) = {s.formula}",
        "",
        f".. math:: f'(x) = {s.derivative_formula}",
        "",
        f"Range {s.output_range}; best use: {s.best_use}.",
        "",
        "Attributes:",
    ]
    for p in ms.attributes:
        lines.append(f"  {p.name}: {p.doc} (default {p.default!r}; {p.allowed}).")
    if ms.learnable:
        names_ = ", ".join(p.name for p in ms.learnable)
        lines.append(
            f"  learnable: if True, {names_} become trainable parameters (collection "
            "'params'), initialised to the values above; their range is then not enforced."
        )
        lines.append("  param_dtype: dtype of the learnable parameters (default float32).")
    lines.append(
        "  dtype: if set, the input is cast to it first; the output has the input's dtype "
        "(bf16/f16 are computed in float32 and rounded once)."
    )
    if ms.call_arguments:
        lines += ["", "Call with ``module(x, where=mask)`` to restrict the normalisation."]
    return "\n".join(lines)


# ----------------------------------------------------------------------------
# PReLU (hand-written in linen and nnx; its checks and slope shape live here)
# ----------------------------------------------------------------------------
def check_prelu(num_parameters, shared_axes, negative_slope_init) -> None:
    """PReLU's constructor checks (linen and nnx): errors name the argument and what is allowed."""
    if isinstance(num_parameters, bool) or not isinstance(num_parameters, int) or num_parameters < 1:
        raise ActivationError(
            f"PReLU: argument 'num_parameters' = {num_parameters!r} must be a positive int "
            "(1 for a shared slope, or the number of channels on the last axis)"
        )
    if shared_axes is not None:
        if num_parameters != 1:
            raise ActivationError(
                f"PReLU: give either 'num_parameters' (= {num_parameters!r}) or 'shared_axes' "
                f"(= {shared_axes!r}), not both"
            )
        if not isinstance(shared_axes, tuple) or not all(
            isinstance(a, int) and not isinstance(a, bool) and a >= 1 for a in shared_axes
        ):
            raise ActivationError(
                f"PReLU: argument 'shared_axes' = {shared_axes!r} must be a tuple of input "
                "axes >= 1 (axis 0 is the batch axis)"
            )
    check_real("PReLU", spec("leaky_relu").params[0], negative_slope_init)


def prelu_slope_shape(num_parameters: int, shared_axes, input_shape) -> tuple[int, ...]:
    if shared_axes is not None:
        ndim = len(input_shape)
        bad = [a for a in shared_axes if a >= ndim]
        if bad:
            raise ActivationError(
                f"PReLU: 'shared_axes' = {shared_axes!r} names axis {bad[0]} but the input "
                f"has shape {tuple(input_shape)}; allowed: axes in [1, {ndim})"
            )
        return tuple(1 if a in shared_axes else n for a, n in enumerate(input_shape) if a > 0)
    if num_parameters == 1:
        return ()
    if not input_shape or input_shape[-1] != num_parameters:
        raise ActivationError(
            f"PReLU: num_parameters = {num_parameters} slopes, but the input's last axis "
            f"has {input_shape[-1] if input_shape else 'no'} channels (input shape "
            f"{tuple(input_shape)}); allowed: num_parameters = 1 or the last axis size"
        )
    return (num_parameters,)
