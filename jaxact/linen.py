"""flax.linen modules for every jaxact activation, generated from the registry.

Each registered activation ``name`` gets a module class ``class_name(name)``
(``relu`` -> ``ReLU``, ``leaky_relu`` -> ``LeakyReLU``) whose attributes are the
function's parameters::

    import flax.linen as nn
    from jaxact import linen as jl

    model = nn.Sequential([nn.Dense(64), jl.LeakyReLU(negative_slope=0.1), nn.Dense(10)])
    head = jl.Softmax(axis=-1)

Activations with real parameters take ``learnable=True`` to train them
(``jl.Swish(beta=1.0, learnable=True)``, ``jl.ELU(alpha=1.0, learnable=True)``);
:class:`PReLU` learns one slope or one per channel.  ``Activation("name", **params)``
builds the module for a name or alias.

Monitoring: when the ``"jaxact_monitor"`` collection is mutable
(``model.apply(v, x, mutable=["jaxact_monitor"])``), every module sows its per-unit
derivative there; otherwise nothing is recorded and nothing is computed.
``jaxact.diagnostics`` reads it.
"""
from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from jaxact._modules import (
    MONITOR_COLLECTION,
    MONITOR_NAME,
    ModuleSpec,
    alias_class_names,
    check_attributes,
    check_learnable,
    check_prelu,
    module_doc,
    module_specs,
    prelu_slope_shape,
    resolve_factory,
    unit_derivative,
)
from jaxact.activations import leaky_relu

Dtype = Any


def _record(module: nn.Module, name: str, x, y, values: dict) -> None:
    # Not during init: the monitor collection must not end up in the model's variables.
    if module.is_mutable_collection(MONITOR_COLLECTION) and not module.is_initializing():
        module.sow(MONITOR_COLLECTION, MONITOR_NAME, unit_derivative(name, x, y, values))


def _make(ms: ModuleSpec) -> type[nn.Module]:
    annotations: dict[str, Any] = {p.name: Any for p in ms.attributes}
    namespace: dict[str, Any] = {p.name: p.default for p in ms.attributes}
    if ms.learnable:
        annotations |= {"learnable": bool, "param_dtype": Dtype}
        namespace |= {"learnable": False, "param_dtype": jnp.float32}
    annotations["dtype"] = Dtype | None
    namespace["dtype"] = None

    def __post_init__(self):
        check_attributes(ms, {p.name: getattr(self, p.name) for p in ms.attributes})
        if ms.learnable:
            check_learnable(ms.class_name, self.learnable)
        nn.Module.__post_init__(self)

    def __call__(self, x, **call_arguments):
        unknown = set(call_arguments) - {p.name for p in ms.call_arguments}
        if unknown:
            raise TypeError(f"{ms.class_name}: unexpected call argument(s) {sorted(unknown)}")
        x = jnp.asarray(x)
        if self.dtype is not None:
            x = x.astype(self.dtype)
        values = {p.name: getattr(self, p.name) for p in ms.attributes}
        if ms.learnable and self.learnable:
            for p in ms.learnable:
                values[p.name] = self.param(
                    p.name, nn.initializers.constant(values[p.name]), (), self.param_dtype
                )
        y = ms.activation.function(x, **values, **call_arguments)
        _record(self, ms.name, x, y, values)
        return y

    namespace |= {
        "__annotations__": annotations,
        "__module__": __name__,
        "__qualname__": ms.class_name,
        "__doc__": module_doc(ms, "flax.linen"),
        "__post_init__": __post_init__,
        "__call__": nn.compact(__call__),
        "activation_name": ms.name,
    }
    return type(ms.class_name, (nn.Module,), namespace)


class PReLU(nn.Module):
    r"""Parametric ReLU: a leaky ReLU whose negative slope is learned.

    .. math:: f(x) = \max(x, 0) + a \min(x, 0), \qquad
              \partial f/\partial x = 1 \ (x > 0),\ a \ (x \le 0), \qquad
              \partial f/\partial a = \min(x, 0)

    Attributes:
      num_parameters: 1 for one slope shared by every unit (torch's default), or the
        number of channels (the last axis of the input, as in Flax) for one slope each.
      shared_axes: Keras-style alternative to ``num_parameters``: the input axes (0 is
        the batch axis) along which one slope is shared; the slope has the shape of
        ``x.shape[1:]`` with 1 on those axes (``(1, 2)`` for one slope per channel of
        an NHWC image).
      negative_slope_init: initial slope, 0.25 as in torch.  Note that
        ``flax.linen.PReLU`` starts from a scalar 0.01.
      param_dtype: dtype of the slope (float32).
      dtype: if set, the input is cast to it first.

    The slope lives in ``params['negative_slope']`` and is trained by Optax like any
    other parameter; the derivative rule is jaxact's leaky_relu (closed-form partials).
    """

    num_parameters: int = 1
    shared_axes: tuple[int, ...] | None = None
    negative_slope_init: float = 0.25
    param_dtype: Dtype = jnp.float32
    dtype: Dtype | None = None

    activation_name = "leaky_relu"

    def __post_init__(self):
        check_prelu(self.num_parameters, self.shared_axes, self.negative_slope_init)
        super().__post_init__()

    @nn.compact
    def __call__(self, x):
        x = jnp.asarray(x)
        if self.dtype is not None:
            x = x.astype(self.dtype)
        shape = prelu_slope_shape(self.num_parameters, self.shared_axes, x.shape)
        slope = self.param(
            "negative_slope", nn.initializers.constant(self.negative_slope_init), shape,
            self.param_dtype,
        )
        y = leaky_relu(x, negative_slope=slope)
        _record(self, "leaky_relu", x, y, {"negative_slope": slope})
        return y


def Activation(name: str, **params) -> nn.Module:  # noqa: N802 (a class-like factory)
    """The module of the activation called ``name`` (canonical or alias), with ``params``.

    ``Activation("leaky_relu", negative_slope=0.2)`` is ``LeakyReLU(negative_slope=0.2)``;
    unknown names raise with close matches, unknown parameters name the allowed ones.
    """
    ms = resolve_factory(name, params, extra=frozenset({"name", "parent"}))
    return globals()[ms.class_name](**params)


_GENERATED = {ms.class_name: _make(ms) for ms in module_specs()}
globals().update(_GENERATED)
globals().update({alias: _GENERATED[target] for alias, target in alias_class_names().items()})

__all__ = sorted([*_GENERATED, *alias_class_names(), "PReLU", "Activation"])
