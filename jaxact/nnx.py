"""flax.nnx modules for every jaxact activation, generated from the registry.

The same classes as :mod:`jaxact.linen` (``ReLU``, ``LeakyReLU(negative_slope=0.1)``,
``Softmax(axis=-1)``, ``Swish(beta=1.0, learnable=True)``, :class:`PReLU`,
``Activation("name", **params)``), written the nnx way: parameters are created in the
constructor, learnable ones as :class:`flax.nnx.Param`.  Constructor arguments follow
the function's parameters in registry order (``LeakyReLU(0.2)`` works), then the
keyword-only ``learnable``, ``param_dtype`` and ``dtype``.

Monitoring: a module with ``monitor = True`` sows its per-unit derivative as an
:class:`ActivationRecord` named ``"unit_derivative"``, collected with Flax's
``nnx.capture`` (``y, records = nnx.capture(model, ActivationRecord)(x)``); with the
default ``monitor = False`` nothing is recorded or computed.  ``jaxact.diagnostics``
switches it on and reads it.
"""
from __future__ import annotations

import inspect
from typing import Any

import jax.numpy as jnp
from flax import nnx

from jaxact._modules import (
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
from jaxact._registry import ActivationError
from jaxact.activations import leaky_relu

Dtype = Any


class ActivationRecord(nnx.Variable):
    """What a monitored jaxact module records: its per-unit derivative on the last call(s)."""


def _record(module: nnx.Module, name: str, x, y, values: dict) -> None:
    if module.monitor:
        module.sow(ActivationRecord, MONITOR_NAME, unit_derivative(name, x, y, values))


def _value(v):
    return v[...] if isinstance(v, nnx.Variable) else v


def _signature(ms: ModuleSpec) -> inspect.Signature:
    kinds = inspect.Parameter
    parameters = [kinds("self", kinds.POSITIONAL_ONLY)]
    parameters += [kinds(p.name, kinds.POSITIONAL_OR_KEYWORD, default=p.default) for p in ms.attributes]
    if ms.learnable:
        parameters += [
            kinds("learnable", kinds.KEYWORD_ONLY, default=False),
            kinds("param_dtype", kinds.KEYWORD_ONLY, default=jnp.float32),
        ]
    parameters.append(kinds("dtype", kinds.KEYWORD_ONLY, default=None))
    return inspect.Signature(parameters)


def _make(ms: ModuleSpec) -> type[nnx.Module]:
    signature = _signature(ms)
    public = signature.replace(parameters=list(signature.parameters.values())[1:])

    def __init__(self, *args, **kwargs):
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{ms.class_name}{public}: {error}") from None
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        arguments.pop("self")
        check_attributes(ms, {p.name: arguments[p.name] for p in ms.attributes})
        learnable = arguments.get("learnable", False)
        check_learnable(ms.class_name, learnable)
        for p in ms.attributes:
            value = arguments[p.name]
            if learnable and p in ms.learnable:
                value = nnx.Param(jnp.asarray(value, dtype=arguments["param_dtype"]))
            setattr(self, p.name, value)
        if ms.learnable:
            self.learnable = learnable
            self.param_dtype = arguments["param_dtype"]
        self.dtype = arguments["dtype"]
        self.monitor = False

    def __call__(self, x, **call_arguments):
        unknown = set(call_arguments) - {p.name for p in ms.call_arguments}
        if unknown:
            raise TypeError(f"{ms.class_name}: unexpected call argument(s) {sorted(unknown)}")
        x = jnp.asarray(x)
        if self.dtype is not None:
            x = x.astype(self.dtype)
        values = {p.name: _value(getattr(self, p.name)) for p in ms.attributes}
        y = ms.activation.function(x, **values, **call_arguments)
        _record(self, ms.name, x, y, values)
        return y

    __init__.__signature__ = signature
    namespace = {
        "__module__": __name__,
        "__qualname__": ms.class_name,
        "__doc__": module_doc(ms, "flax.nnx"),
        "__init__": __init__,
        "__call__": __call__,
        "activation_name": ms.name,
    }
    cls = type(ms.class_name, (nnx.Module,), namespace)
    cls.__signature__ = public
    return cls


class PReLU(nnx.Module):
    r"""Parametric ReLU: a leaky ReLU whose negative slope is learned (nnx).

    .. math:: f(x) = \max(x, 0) + a \min(x, 0), \qquad
              \partial f/\partial x = 1 \ (x > 0),\ a \ (x \le 0), \qquad
              \partial f/\partial a = \min(x, 0)

    Args:
      num_parameters: 1 for one shared slope (torch's default), or the number of
        channels on the input's last axis for one slope each.
      shared_axes: Keras-style alternative: input axes (0 is the batch axis) that share
        a slope; needs ``input_shape`` (the shape of one example, without the batch
        axis) because nnx creates parameters in the constructor.
      input_shape: see ``shared_axes``.
      negative_slope_init: initial slope, 0.25 as in torch.  Note that
        ``flax.nnx.PReLU`` starts from a scalar 0.01.
      param_dtype: dtype of the slope (float32).
      dtype: if set, the input is cast to it first.
    """

    activation_name = "leaky_relu"

    def __init__(
        self,
        num_parameters: int = 1,
        *,
        shared_axes: tuple[int, ...] | None = None,
        input_shape: tuple[int, ...] | None = None,
        negative_slope_init: float = 0.25,
        param_dtype: Dtype = jnp.float32,
        dtype: Dtype | None = None,
    ):
        check_prelu(num_parameters, shared_axes, negative_slope_init)
        if shared_axes is not None:
            if input_shape is None:
                raise ActivationError(
                    f"PReLU: 'shared_axes' = {shared_axes!r} needs 'input_shape' (the shape of "
                    "one example, without the batch axis) to size the slope"
                )
            shape = prelu_slope_shape(1, shared_axes, (1, *input_shape))
        else:
            shape = () if num_parameters == 1 else (num_parameters,)
        self.negative_slope = nnx.Param(jnp.full(shape, negative_slope_init, dtype=param_dtype))
        self.num_parameters = num_parameters
        self.shared_axes = shared_axes
        self.dtype = dtype
        self.param_dtype = param_dtype
        self.monitor = False

    def __call__(self, x):
        x = jnp.asarray(x)
        if self.dtype is not None:
            x = x.astype(self.dtype)
        slope = self.negative_slope[...]
        # The same shape checks as linen, so a wrong input gets the same message.
        expected = prelu_slope_shape(self.num_parameters, self.shared_axes, x.shape)
        if expected != slope.shape:
            raise ActivationError(
                f"PReLU: the slope has shape {slope.shape} but an input of shape {x.shape} "
                f"needs {expected}"
            )
        y = leaky_relu(x, negative_slope=slope)
        _record(self, "leaky_relu", x, y, {"negative_slope": slope})
        return y


def Activation(name: str, **params) -> nnx.Module:  # noqa: N802 (a class-like factory)
    """The nnx module of the activation called ``name`` (canonical or alias), with ``params``."""
    ms = resolve_factory(name, params)
    return globals()[ms.class_name](**params)


_GENERATED = {ms.class_name: _make(ms) for ms in module_specs()}
globals().update(_GENERATED)
globals().update({alias: _GENERATED[target] for alias, target in alias_class_names().items()})

__all__ = sorted([*_GENERATED, *alias_class_names(), "PReLU", "Activation", "ActivationRecord"])
