"""Dead units and saturation: which activation units stopped passing gradient.

A unit is one position on the **last axis** of an activation module's output (a
neuron of a Dense layer, a channel of a convolution).  Every jaxact module
(:mod:`jaxact.linen`, :mod:`jaxact.nnx`) can record its per-unit derivative ``d``
(f'(x) for elementwise activations, with learned parameters; y(1-y) for
softmax/softmin, 1-exp(y) for log_softmax, the gate sigmoid(b) for glu).  On the
data seen (every example, and every position of the other axes):

* a unit is **dead** when ``d == 0`` exactly on every observation.  For ReLU this
  is the article's definition (output 0 for every input, since relu'(0) = 0); it
  also covers relu6 / hard_tanh stuck on their flat upper side.  NaN counts as
  not dead.
* a unit is **saturated** when ``|d| < eps * max|f'|`` on every observation.
  ``eps`` (default 1e-3) is *relative* to the activation's largest derivative
  (0.25 for sigmoid, 1 for tanh and ReLU, ...; taken at the default parameters),
  so that sigmoid and tanh saturate at the same point of their output range
  (tanh(x) = 2 sigmoid(2x) - 1).  Dead units are saturated too.

Reports are keyed by the activation module's **path**, its place in the model
joined with ``"/"``: linen module names (``"layers_1"`` in an ``nn.Sequential``,
``"block/act"``), nnx attribute names and list indices (``"layers/1"``,
``"block/act"``); ``"(root)"`` when the model itself is the activation.  A module
called more than once in one forward pass (one ``act`` reused after several
layers) has one report per call, keyed ``"path:0"``, ``"path:1"``, ...

One-shot, over a data set (batches stream through one jitted reduction, so memory
does not grow with the data)::

    from jaxact import diagnostics

    diagnostics.dead_neurons(model, loader, variables=variables)   # linen
    diagnostics.dead_neurons(nnx_model, loader)                    # nnx
    # {'layers_1': DeadReport(activation='relu', dead=2, total=5, fraction=0.4, ...)}
    diagnostics.saturation(model, loader, variables=variables, eps=1e-3)

``loader`` yields input arrays or ``(inputs, targets, ...)`` tuples (the inputs
are the first element; pass ``inputs=`` to pick them from other batches).

Streaming, inside a jitted Optax train step (linen)::

    monitor = diagnostics.Monitor.create(model, x0, variables=variables)  # threshold=0.25
    mstate = monitor.init()

    @jax.jit
    def train_step(params, opt_state, mstate, x, y):
        def loss_fn(params):
            pred, records = diagnostics.apply_and_record(model, {"params": params}, x)
            return jnp.mean((pred - y) ** 2), records
        (loss, records), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return params, opt_state, monitor.update(mstate, records), loss

    ...                                   # train
    summary = monitor.summary(mstate)     # warns (DeadUnitsWarning) past the threshold
    summary.dead["layers_1"].fraction
    mstate = monitor.init()               # start a new window (e.g. every epoch)

and nnx::

    monitor = diagnostics.Monitor.create(model, x0)
    mstate = monitor.init()

    @nnx.jit
    def train_step(model, optimizer, mstate, x, y):
        def loss_fn(model):
            pred, records = diagnostics.call_and_record(model, x)
            return jnp.mean((pred - y) ** 2), records
        (loss, records), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model)
        optimizer.update(model, grads)
        return monitor.update(mstate, records), loss

A unit counts as alive for the window if it was active on *any* step of it, so
start a new window (``monitor.init()``) to see units that died during training.
A model run without :func:`apply_and_record` / :func:`call_and_record` records
nothing and pays nothing: the modules compute the derivative only when asked.
"""
from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, NamedTuple

import flax.linen as linen
import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxact._modules import MONITOR_COLLECTION, MONITOR_NAME
from jaxact._registry import spec
from jaxact.nnx import ActivationRecord

__all__ = [
    "DeadReport",
    "DeadUnitsWarning",
    "DiagnosticsError",
    "Layer",
    "Monitor",
    "MonitorState",
    "SaturationReport",
    "SaturationWarning",
    "Summary",
    "apply_and_record",
    "call_and_record",
    "dead_neurons",
    "max_derivative",
    "saturation",
]

Records = dict[str, tuple[jax.Array, ...]]
ROOT = "(root)"
DEFAULT_EPS = 1e-3
DEFAULT_THRESHOLD = 0.25


class DiagnosticsError(ValueError):
    """The diagnostics cannot run: no jaxact module, bad batches, an empty data set, ..."""


class DeadUnitsWarning(UserWarning):
    """A layer's fraction of dead units is above the monitor's threshold."""


class SaturationWarning(UserWarning):
    """A layer's fraction of saturated units is above the monitor's threshold."""


# ----------------------------------------------------------------------------
# reports
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DeadReport:
    """Dead units of one activation module (call).

    Attributes:
      activation: registry name of the activation (``"relu"``; ``"leaky_relu"`` for PReLU).
      dead: number of units whose derivative was exactly 0 on every observation.
      total: number of units (the size of the output's last axis).
      fraction: ``dead / total``.
      observations: values seen per unit (examples x positions on the other axes).
      units: indices of the dead units on the last axis.
    """

    activation: str
    dead: int
    total: int
    fraction: float
    observations: int
    units: tuple[int, ...]


@dataclass(frozen=True)
class SaturationReport:
    """Saturated units of one activation module (call).

    Attributes:
      activation: registry name of the activation.
      saturated: number of units with ``|f'| < bound`` on every observation.
      total: number of units (the size of the output's last axis).
      fraction: ``saturated / total``.
      observations: values seen per unit.
      eps: the relative bound; ``bound = eps * max|f'|`` is the absolute one.
      bound: the derivative below which a unit counts as saturated.
      mean_saturated: share of all (unit, observation) pairs below the bound, a
        softer measure than ``fraction``.
      units: indices of the saturated units on the last axis.
    """

    activation: str
    saturated: int
    total: int
    fraction: float
    observations: int
    eps: float
    bound: float
    mean_saturated: float
    units: tuple[int, ...]


@dataclass(frozen=True)
class Summary:
    """What a :class:`Monitor` saw: ``dead`` and ``saturated`` reports keyed by path."""

    dead: Mapping[str, DeadReport]
    saturated: Mapping[str, SaturationReport]

    def __str__(self) -> str:
        rows = ["| layer | activation | units | dead | saturated |", "|---|---|---|---|---|"]
        for key, d in self.dead.items():
            s = self.saturated[key]
            rows.append(
                f"| {key} | {d.activation} | {d.total} | {d.dead} ({d.fraction:.0%}) | "
                f"{s.saturated} ({s.fraction:.0%}) |"
            )
        return "\n".join(rows)


# ----------------------------------------------------------------------------
# recording
# ----------------------------------------------------------------------------
def _path(parts) -> str:
    return "/".join(str(p) for p in parts) if parts else ROOT


def _module_list() -> str:
    from jaxact import linen as jl

    return ", ".join(sorted(set(jl.__all__) - {"Activation"}))


def _no_modules(kind: str) -> DiagnosticsError:
    return DiagnosticsError(
        f"the {kind} model contains no jaxact activation module (or calls none): the "
        f"diagnostics read what jaxact.{kind} modules record, and activation *functions* "
        f"(jax.nn.relu, flax's nn.relu, jaxact.relu) record nothing.  Use the modules, e.g. "
        f"jaxact.{kind}.ReLU() or jaxact.{kind}.Activation('relu'); available: {_module_list()}"
    )


def _collect_linen(tree, prefix=()) -> Records:
    records: Records = {}
    for key, value in tree.items():
        if key == MONITOR_NAME and isinstance(value, tuple):
            records[_path(prefix)] = value
        elif isinstance(value, Mapping):
            records.update(_collect_linen(value, (*prefix, key)))
    return records


def apply_and_record(model: linen.Module, variables, *args, mutable=False, **kwargs):
    """``model.apply(variables, *args, **kwargs)`` that also returns what the jaxact
    modules recorded: ``(out, records)``, with ``records`` = {path: (d, ...)} (one
    derivative array per call of the module).  Pure and jittable.

    ``mutable`` is passed on to flax (e.g. ``["batch_stats"]``); when it is not False,
    ``out`` is ``(y, updated_collections)`` as ``model.apply`` returns it.
    """
    if not isinstance(model, linen.Module):
        raise DiagnosticsError(
            f"apply_and_record: expected a flax.linen.Module, got {type(model).__name__} "
            "(for nnx models use call_and_record)"
        )
    variables = {k: v for k, v in variables.items() if k != MONITOR_COLLECTION}
    if mutable is True:
        collections = True
    elif mutable is False or mutable is None:
        collections = [MONITOR_COLLECTION]
    else:
        collections = [MONITOR_COLLECTION, *([mutable] if isinstance(mutable, str) else mutable)]
    out, state = model.apply(variables, *args, mutable=collections, **kwargs)
    state = dict(state)
    records = _collect_linen(state.pop(MONITOR_COLLECTION, {}))
    if mutable is False or mutable is None:
        return out, records
    return (out, state), records


def _nnx_modules(model: nnx.Module) -> list[tuple[str, nnx.Module]]:
    return [
        (_path(parts), node)
        for parts, node in nnx.iter_graph(model)
        if isinstance(node, nnx.Module)
        and hasattr(type(node), "activation_name")
        and hasattr(node, "monitor")
    ]


def call_and_record(model: nnx.Module, *args, **kwargs):
    """``model(*args, **kwargs)`` with every jaxact module's ``monitor`` switched on for
    the call: returns ``(out, records)``, ``records`` = {path: (d, ...)}.

    The records are collected with ``nnx.capture`` (so nothing is stored on the model)
    and the ``monitor`` flags are restored: the model's state and structure are as
    before.  Works inside ``nnx.jit`` / ``nnx.value_and_grad``.
    """
    if not isinstance(model, nnx.Module):
        raise DiagnosticsError(
            f"call_and_record: expected a flax.nnx.Module, got {type(model).__name__} "
            "(for linen models use apply_and_record)"
        )
    modules = _nnx_modules(model)
    if not modules:
        raise _no_modules("nnx")
    saved = [m.monitor for _, m in modules]
    try:
        for _, m in modules:
            m.monitor = True
        out, captured = nnx.capture(_call, ActivationRecord)(model, *args, **kwargs)
    finally:
        for (_, m), flag in zip(modules, saved):
            m.monitor = flag
    records: Records = {}
    for parts, variable in nnx.to_flat_state(captured):
        if parts and parts[-1] == MONITOR_NAME:
            records[_path(parts[:-1])] = tuple(variable.get_value())
    return out, records


def _call(model, *args, **kwargs):
    return model(*args, **kwargs)


# ----------------------------------------------------------------------------
# the per-batch reduction and the monitor
# ----------------------------------------------------------------------------
_AXIS_MAX_DERIVATIVE = {"softmax": 0.25, "softmin": 0.25, "log_softmax": 1.0, "glu": 1.0}


@functools.lru_cache(maxsize=None)
def max_derivative(activation: str) -> float:
    """max |f'(x)| of an activation at its default parameters (the scale of ``eps``).

    From the closed-form derivative on a fine grid over [-40, 40] (the maxima of all
    registered activations lie inside, or are approached at its ends); for the axis
    functions: 0.25 (softmax, softmin: y(1-y)), 1 (log_softmax, glu).
    """
    s = spec(activation)
    if s.kind != "elementwise" or s.derivative is None:
        return _AXIS_MAX_DERIVATIVE.get(s.name, 1.0)
    params = {p.name: p.default for p in s.params if p.kind in ("real", "bool")}
    x = jnp.linspace(-40.0, 40.0, 160_001, dtype=jnp.float32)
    m = float(jnp.max(jnp.abs(s.derivative(x, **params))))
    return m if math.isfinite(m) and m > 0 else 1.0


def _units(shape) -> int:
    return int(shape[-1]) if len(shape) else 1


def _reduce(d: jax.Array, bound: float):
    """One record -> (ever active: bool[units], saturated count: int32[units], observations).

    ``any``/``sum`` over every axis but the last, so the state is O(units) whatever
    the batch; this is the whole per-step cost of the monitor.
    """
    if d.ndim == 0:
        d = d[None]
    axes = tuple(range(d.ndim - 1))
    active = jnp.any(d != 0, axis=axes)
    saturated = jnp.sum(jnp.abs(d) < jnp.asarray(bound, d.dtype), axis=axes, dtype=jnp.int32)
    return active, saturated, d.size // d.shape[-1]


@dataclass(frozen=True)
class Layer:
    """One monitored activation call: its report key, module path, call index,
    activation name, number of units and saturation bound (``eps * max|f'|``)."""

    key: str
    path: str
    call: int
    activation: str
    units: int
    bound: float


class MonitorState(NamedTuple):
    """The monitor's accumulators (a pytree: pass it through ``jit``), keyed like the reports.

    active: bool[units], the derivative was non-zero at least once.
    saturated: int32[units], observations with ``|d| < bound`` (int32: at most 2**31 - 1
      observations per unit and window).
    observations: int32 scalars, values seen per unit.
    """

    active: dict[str, jax.Array]
    saturated: dict[str, jax.Array]
    observations: dict[str, jax.Array]


def _check_fraction(name: str, value, low_open: bool) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    ok = math.isfinite(v) and (v > 0 if low_open else v >= 0) and v <= 1
    if not ok:
        allowed = "(0, 1]" if low_open else "[0, 1]"
        raise DiagnosticsError(f"argument '{name}' = {value!r} must be a number in {allowed}")
    return v


def _framework(model, variables, where: str) -> str:
    if isinstance(model, linen.Module):
        if variables is None:
            raise DiagnosticsError(
                f"{where}: a linen model needs its variables: pass variables=model.init(...) "
                "(or {'params': params})"
            )
        if not isinstance(variables, Mapping):
            raise DiagnosticsError(
                f"{where}: variables must be a dict of collections such as "
                f"{{'params': ...}}, got {type(variables).__name__}"
            )
        return "linen"
    if isinstance(model, nnx.Module):
        if variables is not None:
            raise DiagnosticsError(
                f"{where}: an nnx model carries its own state; do not pass variables="
            )
        return "nnx"
    raise DiagnosticsError(
        f"{where}: expected a flax.linen.Module (with variables=) or a flax.nnx.Module, "
        f"got {type(model).__name__}"
    )


def _input_hint(kind: str, variables) -> str:
    """What the model seems to expect, from its first kernel (linen parameters are in
    creation order); empty when unknown."""
    if kind != "linen":
        return ""
    params = variables.get("params", {}) if isinstance(variables, Mapping) else {}
    for path, leaf in jax.tree_util.tree_leaves_with_path(params):
        name = getattr(path[-1], "key", None)
        shape = getattr(leaf, "shape", ())
        if name == "kernel" and len(shape) >= 2:
            where = "/".join(str(getattr(p, "key", p)) for p in path[:-1])
            return (
                f"; the model's first kernel ('{where}', shape {tuple(shape)}) takes inputs "
                f"whose last axis has size {shape[-2]}"
            )
    return ""


def _describe(x) -> str:
    shape = getattr(x, "shape", None)
    dtype = getattr(x, "dtype", None)
    return f"shape {tuple(shape)}, dtype {dtype}" if shape is not None else type(x).__name__


@dataclass(frozen=True)
class Monitor:
    """Accumulates dead and saturated units across steps; pure and jittable.

    Create it with :meth:`create` (it traces the model once, abstractly, to find the
    jaxact modules and their widths), then ``state = monitor.init()``,
    ``state = monitor.update(state, records)`` inside the train step (``records``
    from :func:`apply_and_record` / :func:`call_and_record`) and
    ``monitor.summary(state)`` outside.  A frozen, hashable dataclass: close over it
    in a jitted function or pass it as a static argument.

    Attributes:
      layers: the monitored activation calls, in a fixed order.
      eps: relative saturation bound (``|f'| < eps * max|f'|``).
      threshold: :meth:`summary` warns when a layer's dead (or saturated) fraction is
        above it.
    """

    layers: tuple[Layer, ...]
    eps: float = DEFAULT_EPS
    threshold: float = DEFAULT_THRESHOLD

    @classmethod
    def create(
        cls,
        model,
        example_input,
        *,
        variables=None,
        eps: float = DEFAULT_EPS,
        threshold: float = DEFAULT_THRESHOLD,
        call_kwargs: Mapping[str, Any] | None = None,
    ) -> "Monitor":
        """A monitor for ``model`` (linen with ``variables``, or nnx).

        ``example_input``: an input the model accepts (an array or a
        ``jax.ShapeDtypeStruct``; only its shape and dtype are used, any batch size).
        ``call_kwargs``: extra keyword arguments for the model call (``train=False``).
        """
        return cls._create(model, example_input, variables, eps, threshold, call_kwargs,
                           "the example input", "Monitor.create")

    @classmethod
    def _create(cls, model, x, variables, eps, threshold, call_kwargs, what, where):
        eps = _check_fraction("eps", eps, low_open=True)
        threshold = _check_fraction("threshold", threshold, low_open=False)
        kind = _framework(model, variables, where)
        kwargs = dict(call_kwargs or {})
        names: dict[str, str] = {}
        if kind == "linen":

            def interceptor(next_fun, args, kw, context):
                if context.method_name == "__call__" and hasattr(type(context.module), "activation_name"):
                    names[_path(context.module.path)] = type(context.module).activation_name
                return next_fun(*args, **kw)

            def trace(v, x):
                with linen.intercept_methods(interceptor):
                    return apply_and_record(model, v, x, **kwargs)[1]

            args = (variables, x)
        else:
            modules = _nnx_modules(model)
            if not modules:
                raise _no_modules("nnx")
            names = {path: type(m).activation_name for path, m in modules}
            graphdef, state = nnx.split(model)

            def trace(st, x):
                return call_and_record(nnx.merge(graphdef, st), x, **kwargs)[1]

            args = (state, x)
        try:
            shapes = jax.eval_shape(trace, *args)
        except DiagnosticsError:
            raise
        except Exception as error:
            hint = _input_hint(kind, variables)
            raise DiagnosticsError(
                f"running the {kind} model on {what} ({_describe(x)}) failed{hint}: "
                f"{type(error).__name__}: {error}"
            ) from error
        if not shapes:
            raise _no_modules(kind)
        layers = []
        for path, calls in shapes.items():
            # a path we could not name: something else sowed into the collection
            activation = names.get(path, "unknown")
            bound = eps * (max_derivative(activation) if activation != "unknown" else 1.0)
            for i, d in enumerate(calls):
                key = path if len(calls) == 1 else f"{path}:{i}"
                layers.append(Layer(key, path, i, activation, _units(d.shape), bound))
        return cls(tuple(layers), eps, threshold)

    # -- the jittable part -------------------------------------------------------
    def init(self) -> MonitorState:
        """Empty accumulators (a new window)."""
        # device_put of numpy zeros: no program to compile per shape
        return MonitorState(
            active={l.key: jnp.asarray(np.zeros((l.units,), np.bool_)) for l in self.layers},
            saturated={l.key: jnp.asarray(np.zeros((l.units,), np.int32)) for l in self.layers},
            observations={l.key: jnp.asarray(np.zeros((), np.int32)) for l in self.layers},
        )

    def update(self, state: MonitorState, records: Records) -> MonitorState:
        """Fold one step's records into the state.  Pure; jit, vmap and scan it."""
        active, saturated, observations = {}, {}, {}
        for l in self.layers:
            calls = records.get(l.path)
            if calls is None or len(calls) <= l.call:
                seen = sorted(records)
                raise DiagnosticsError(
                    f"Monitor.update: no record for activation '{l.key}' (module '{l.path}', "
                    f"call {l.call}); the records hold {seen}.  Were they made by "
                    "apply_and_record / call_and_record on the model the monitor was created for?"
                )
            d = calls[l.call]
            if _units(d.shape) != l.units:
                raise DiagnosticsError(
                    f"Monitor.update: activation '{l.key}' produced {_units(d.shape)} units "
                    f"(output shape {tuple(d.shape)}) but the monitor was created for "
                    f"{l.units} units (the last axis)"
                )
            a, s, n = _reduce(d, l.bound)
            active[l.key] = state.active[l.key] | a
            saturated[l.key] = state.saturated[l.key] + s
            observations[l.key] = state.observations[l.key] + jnp.int32(n)
        return MonitorState(active, saturated, observations)

    def counts(self, state: MonitorState) -> dict[str, dict[str, jax.Array]]:
        """{key: {"dead": int32, "saturated": int32}}: the unit counts as arrays, so
        they can be computed under jit / vmap (e.g. over seeds)."""
        return {
            l.key: {
                "dead": jnp.sum(~state.active[l.key], dtype=jnp.int32),
                "saturated": jnp.sum(
                    state.saturated[l.key] == state.observations[l.key], dtype=jnp.int32
                ),
            }
            for l in self.layers
        }

    # -- host side -----------------------------------------------------------------
    def summary(self, state: MonitorState, *, warn: bool = True) -> Summary:
        """The reports for the window; with ``warn``, a :class:`DeadUnitsWarning` for
        every layer whose dead fraction is above ``threshold`` and a
        :class:`SaturationWarning` for every other layer whose saturated fraction is."""
        state = jax.device_get(state)
        dead: dict[str, DeadReport] = {}
        saturated: dict[str, SaturationReport] = {}
        for l in self.layers:
            n = int(state.observations[l.key])
            if n <= 0:
                raise DiagnosticsError(
                    f"Monitor.summary: activation '{l.key}' has seen no data (0 observations); "
                    "call update with records of at least one non-empty batch first"
                )
            active = np.asarray(state.active[l.key])
            count = np.asarray(state.saturated[l.key])
            dead_units = tuple(int(i) for i in np.flatnonzero(~active))
            sat_units = tuple(int(i) for i in np.flatnonzero(count == n))
            dead[l.key] = DeadReport(
                l.activation, len(dead_units), l.units, len(dead_units) / l.units, n, dead_units
            )
            saturated[l.key] = SaturationReport(
                l.activation, len(sat_units), l.units, len(sat_units) / l.units, n, self.eps,
                l.bound, float(count.sum(dtype=np.float64) / (n * l.units)), sat_units,
            )
        if warn:
            for key, d in dead.items():
                s = saturated[key]
                if d.fraction > self.threshold:
                    warnings.warn(
                        f"activation '{key}' ({d.activation}): {d.dead} of {d.total} units "
                        f"({d.fraction:.0%}) are dead (zero derivative on all {d.observations} "
                        f"observations), above the threshold {self.threshold:.0%}; consider a "
                        "lower learning rate or an activation that cannot die (leaky_relu, elu)",
                        DeadUnitsWarning,
                        stacklevel=2,
                    )
                elif s.fraction > self.threshold:
                    warnings.warn(
                        f"activation '{key}' ({s.activation}): {s.saturated} of {s.total} "
                        f"units ({s.fraction:.0%}) are saturated (|f'| < {s.bound:.3g} on all "
                        f"{s.observations} observations), above the threshold "
                        f"{self.threshold:.0%}",
                        SaturationWarning,
                        stacklevel=2,
                    )
        return Summary(dead, saturated)


# ----------------------------------------------------------------------------
# one-shot diagnostics over a data set
# ----------------------------------------------------------------------------
def _is_array(batches) -> bool:
    return isinstance(batches, (np.ndarray, jax.Array)) or (
        hasattr(batches, "shape") and hasattr(batches, "dtype")
    )


def _inputs_of(batch, index: int, inputs: Callable | None):
    if inputs is not None:
        return inputs(batch)
    if isinstance(batch, (tuple, list)):
        if not batch:
            raise DiagnosticsError(f"batch {index} is an empty {type(batch).__name__}")
        return batch[0]
    if isinstance(batch, Mapping):
        raise DiagnosticsError(
            f"batch {index} is a dict (keys {sorted(batch)}); pass inputs=lambda b: b[KEY] "
            "to say which entry goes into the model"
        )
    return batch


def _scan(model, batches, variables, eps, inputs, call_kwargs, where) -> tuple[Monitor, MonitorState]:
    kind = _framework(model, variables, where)
    expected = "an iterable of input arrays or of (inputs, targets) tuples"
    if _is_array(batches):
        raise DiagnosticsError(
            f"{where}: batches is one array of shape {tuple(batches.shape)}; expected {expected}. "
            "Pass [x] to use it as a single batch"
        )
    try:
        iterator = iter(batches)
    except TypeError:
        raise DiagnosticsError(
            f"{where}: batches = {type(batches).__name__} is not iterable; expected {expected}"
        ) from None
    kwargs = dict(call_kwargs or {})
    monitor = state = step = first = None
    for index, batch in enumerate(iterator):
        x = _inputs_of(batch, index, inputs)
        try:
            x = jnp.asarray(x)
        except Exception as error:
            raise DiagnosticsError(
                f"{where}: the inputs of batch {index} ({type(x).__name__}) are not an array: {error}"
            ) from error
        if monitor is None:
            monitor = Monitor._create(model, x, variables, eps, DEFAULT_THRESHOLD, kwargs,
                                      "batch 0", where)
            state = monitor.init()
            first = x
            static = (monitor, *_static(model if kind == "linen" else nnx.graphdef(model), kwargs))
            step = functools.partial(_linen_step if kind == "linen" else _nnx_step, *static)
            params = variables if kind == "linen" else nnx.state(model)
        try:
            state = step(state, params, x)
        except Exception as error:
            raise DiagnosticsError(
                f"{where}: running the model on batch {index} ({_describe(x)}) failed; batch 0 "
                f"had {_describe(first)}: {type(error).__name__}: {error}"
            ) from error
    if monitor is None:
        raise DiagnosticsError(f"{where}: the data set is empty (no batches); expected {expected}")
    if any(int(n) == 0 for n in state.observations.values()):
        raise DiagnosticsError(
            f"{where}: the data set is empty: its batches hold no examples (batch 0 had "
            f"{_describe(first)})"
        )
    return monitor, state


class _ByIdentity:
    """A static jit argument that is compared by identity (for unhashable ones, such as
    an ``nn.Sequential`` built from a list)."""

    def __init__(self, obj):
        self.obj = obj

    def __hash__(self):
        return id(self.obj)

    def __eq__(self, other):
        return isinstance(other, _ByIdentity) and other.obj is self.obj


def _static(model, kwargs: dict):
    """(model, kwargs) as hashable static arguments: by value when they hash, so that
    calling dead_neurons again (every epoch, or with new parameters) reuses the
    compiled step."""
    try:
        hash(model)
    except TypeError:
        model = _ByIdentity(model)
    items = tuple(sorted(kwargs.items()))
    try:
        hash(items)
    except TypeError:
        items = _ByIdentity(items)
    return model, items


def _unwrap(obj):
    return obj.obj if isinstance(obj, _ByIdentity) else obj


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _linen_step(monitor, model, kwargs, state, variables, x):
    records = apply_and_record(_unwrap(model), variables, x, **dict(_unwrap(kwargs)))[1]
    return monitor.update(state, records)


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _nnx_step(monitor, graphdef, kwargs, state, params, x):
    records = call_and_record(nnx.merge(graphdef, params), x, **dict(_unwrap(kwargs)))[1]
    return monitor.update(state, records)


def dead_neurons(
    model,
    batches: Iterable,
    *,
    variables=None,
    inputs: Callable | None = None,
    call_kwargs: Mapping[str, Any] | None = None,
) -> dict[str, DeadReport]:
    """Dead units of every jaxact activation module of ``model`` on a data set.

    Args:
      model: a ``flax.linen.Module`` (give ``variables``) or a ``flax.nnx.Module`` (run
        as it is: call ``model.eval()`` first if it has dropout or batch norm).
      batches: an iterable of input arrays, or of ``(inputs, targets, ...)`` tuples as a
        data loader yields them; each batch is one jitted model call plus a reduction,
        so the data set can be larger than memory.
      variables: the linen model's variables (``model.init(...)``, or ``{"params": p}``).
      inputs: ``batch -> model input``, for other batch layouts (dicts).
      call_kwargs: extra keyword arguments of the model call (``{"train": False}``).

    Returns:
      {path: DeadReport}: a unit (a position on the output's last axis) is dead when
      its derivative is exactly 0 on every example (and every position on the other
      axes); for ReLU that is "output 0 for every input".

    Raises:
      DiagnosticsError: no jaxact activation module, a batch the model rejects (with
        its index and shape), or an empty data set.
    """
    monitor, state = _scan(model, batches, variables, DEFAULT_EPS, inputs, call_kwargs,
                           "dead_neurons")
    return monitor.summary(state, warn=False).dead


def saturation(
    model,
    batches: Iterable,
    *,
    variables=None,
    eps: float = DEFAULT_EPS,
    inputs: Callable | None = None,
    call_kwargs: Mapping[str, Any] | None = None,
) -> dict[str, SaturationReport]:
    """Saturated units of every jaxact activation module of ``model`` on a data set.

    A unit is saturated when ``|f'(x)| < eps * max|f'|`` on every example (and every
    position on the other axes): ``eps`` is relative to the activation's largest
    derivative (0.25 for sigmoid, 1 for tanh), so the default 1e-3 means
    ``|x| > 8.3`` for sigmoid and ``|x| > 4.1`` for tanh.  Dead units count as
    saturated.  ``SaturationReport.mean_saturated`` is the softer share of
    (unit, observation) pairs below the bound.  Arguments as in :func:`dead_neurons`.
    """
    monitor, state = _scan(model, batches, variables, eps, inputs, call_kwargs, "saturation")
    return monitor.summary(state, warn=False).saturated
