"""Shared pieces of the training examples: data, data parallelism, training, reporting.

* **Data**: :func:`load` reads a data set that ships with scikit-learn (no download),
  splits off a held-out test set (stratified for classification, fixed seed) and
  standardises the features (and regression targets) with the training set's
  statistics, as float32 / int32 arrays.
* **Data parallelism**: :class:`DataParallel` is a 1-D ``jax.sharding.Mesh`` over
  ``jax.local_devices()`` with the axis name ``"batch"``.  Batches are placed with
  ``NamedSharding(mesh, P("batch"))``: each device holds ``batch_size / n_devices``
  examples.  Parameters and optimizer state are replicated
  (``NamedSharding(mesh, P())``).  ``jax.jit`` then runs the same step on every
  device and inserts the all-reduce of the gradients itself (SPMD): no code changes
  between one CPU, 8 GPUs or a TPU slice.  The batch size is rounded down to a
  multiple of the device count (at least one example per device); evaluation pads
  the data to a multiple by repeating examples and masks the repeats out.  Try it
  on one machine with ``XLA_FLAGS=--xla_force_host_platform_device_count=8
  JAX_PLATFORMS=cpu``.
* **Training**: :func:`train` runs an Optax optimizer on an nnx model with one
  jitted step (``nnx.split`` / ``nnx.merge`` around ``jax.jit``, the fast nnx
  pattern), shuffled mini-batches and a tqdm progress bar; :func:`evaluate` runs a
  jitted metric function on held-out data.
* **Reporting**: :func:`parser` adds the shared flags, :func:`main` parses them, calls
  the example's ``run`` and prints its result: a markdown table and a summary.
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
from tqdm.auto import tqdm

import jaxact.nnx as jnnx

# ----------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------
TASKS = {"breast_cancer": "binary", "digits": "multiclass", "diabetes": "regression"}


@dataclass(frozen=True)
class Dataset:
    """A standardised train / held-out split.

    ``x_*`` are float32 ``(n, features)``; ``y_*`` are int32 labels (classification)
    or standardised float32 targets (regression; multiply by ``y_scale`` and add
    ``y_mean`` for the original units).
    """

    name: str
    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    y_mean: float = 0.0
    y_scale: float = 1.0

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_outputs(self) -> int:
        """Width of the model's output layer: 1 for binary and regression."""
        return self.n_classes if self.task == "multiclass" else 1


def load(name: str, *, test_size: float = 0.2, split_seed: int = 0) -> Dataset:
    """Load a scikit-learn data set (``breast_cancer``, ``digits``, ``diabetes``), split
    off a held-out test set with a fixed seed and standardise with the training statistics."""
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    if name not in TASKS:
        raise ValueError(f"unknown data set {name!r}; available: {', '.join(TASKS)}")
    task = TASKS[name]
    x, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    stratify = None if task == "regression" else y
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, random_state=split_seed, stratify=stratify
    )
    mean, scale = x_train.mean(axis=0), x_train.std(axis=0)
    scale[scale == 0] = 1.0  # digits has pixels that are always 0
    x_train, x_test = ((a - mean) / scale for a in (x_train, x_test))
    if task == "regression":
        y_mean, y_scale = float(y_train.mean()), float(y_train.std())
        y_train, y_test = ((a - y_mean) / y_scale for a in (y_train, y_test))
        return Dataset(name, task, x_train.astype(np.float32), y_train.astype(np.float32),
                       x_test.astype(np.float32), y_test.astype(np.float32), 0, y_mean, y_scale)
    return Dataset(name, task, x_train.astype(np.float32), y_train.astype(np.int32),
                   x_test.astype(np.float32), y_test.astype(np.int32), int(y.max()) + 1)


# ----------------------------------------------------------------------------
# data parallelism
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DataParallel:
    """Data parallelism over every local device (see the module docstring)."""

    mesh: Mesh

    @classmethod
    def create(cls) -> "DataParallel":
        return cls(Mesh(np.array(jax.local_devices()), ("batch",)))

    @property
    def n_devices(self) -> int:
        return self.mesh.size

    @property
    def replicated(self) -> NamedSharding:
        return NamedSharding(self.mesh, P())

    def sharding(self, axis: int = 0) -> NamedSharding:
        """Shard the array's ``axis`` (the example axis) over the mesh's "batch" axis."""
        return NamedSharding(self.mesh, P(*[None] * axis, "batch"))

    def batch_size(self, requested: int, available: int) -> int:
        """``requested`` capped at ``available``, rounded down to a multiple of the
        device count, and at least one example per device."""
        size = min(requested, available) // self.n_devices * self.n_devices
        return max(size, self.n_devices)

    def shard(self, *arrays, axis: int = 0):
        """Place arrays with their example ``axis`` split over the devices."""
        return jax.device_put(arrays, self.sharding(axis))

    def replicate(self, tree):
        return jax.device_put(tree, self.replicated)

    def pad(self, *arrays):
        """``(*arrays, mask)`` with the first axis padded to a multiple of the device
        count by repeating leading examples; the float32 mask is 1 on the real
        examples, so sums and means can leave out the repeats, while 'ever active'
        statistics (dead units) are unchanged by them."""
        n = len(arrays[0])
        total = -(-n // self.n_devices) * self.n_devices
        index = np.arange(total) % n
        mask = (np.arange(total) < n).astype(np.float32)
        return (*(np.asarray(a)[index] for a in arrays), mask)

    def describe(self, batch: jax.Array) -> dict:
        """How a placed batch is laid out, for the report (and the tests)."""
        shards = batch.addressable_shards
        return {
            "devices": self.n_devices,
            "platform": jax.local_devices()[0].platform,
            "batch_shape": list(batch.shape),
            "spec": str(batch.sharding.spec),
            "shards": len(shards),
            "shard_shape": list(shards[0].data.shape),
        }


def parallel_line(info: dict) -> str:
    return (
        f"data parallel: {info['devices']} {info['platform']} device(s); a batch of shape "
        f"{tuple(info['batch_shape'])} is sharded as {info['spec']} into {info['shards']} "
        f"shard(s) of shape {tuple(info['shard_shape'])}"
    )


# ----------------------------------------------------------------------------
# models
# ----------------------------------------------------------------------------
class MLP(nnx.Module):
    """Dense layers with a jaxact activation module after every hidden one and a
    linear output (logits or a regression value); Flax's default initialisation.

    ``sizes`` = (inputs, hidden..., outputs).  The activations are
    ``jaxact.nnx.Activation(activation)`` modules, so ``jaxact.diagnostics`` can see
    them (at paths ``acts/0``, ``acts/1``, ...).
    """

    def __init__(self, sizes: Sequence[int], activation: str, *, rngs: nnx.Rngs):
        pairs = list(zip(sizes[:-1], sizes[1:]))
        self.layers = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in pairs])
        self.acts = nnx.List([jnnx.Activation(activation) for _ in pairs[:-1]])

    def __call__(self, x):
        for layer, act in zip(self.layers, self.acts):
            x = act(layer(x))
        return self.layers[-1](x)


# ----------------------------------------------------------------------------
# training and evaluation
# ----------------------------------------------------------------------------
def _train_step(graphdef, loss_fn, state, x, y):
    model, optimizer = nnx.merge(graphdef, state)
    loss, grads = nnx.value_and_grad(loss_fn)(model, x, y)
    optimizer.update(model, grads)
    return nnx.state((model, optimizer)), loss


def _apply(graphdef, fn, state, *arrays):
    return fn(nnx.merge(graphdef, state), *arrays)


# One jitted function per (model structure, loss or metric function), with the
# structure bound rather than passed as a static argument, which jit would hash and
# compare on every call (a fifth of a step's time for these small models).
@functools.lru_cache(maxsize=None)
def _jitted_step(graphdef, loss_fn):
    return jax.jit(functools.partial(_train_step, graphdef, loss_fn), donate_argnums=0)


@functools.lru_cache(maxsize=None)
def _jitted_apply(graphdef, fn):
    return jax.jit(functools.partial(_apply, graphdef, fn))


@dataclass
class Trained:
    """What :func:`train_loop` returns: the final training state, the mean training
    loss of each epoch, the mean time of a step after the first (which compiles), in
    ms, and how a batch is laid out over the devices."""

    state: object
    losses: list[float]
    step_ms: float
    parallel: dict


def train_loop(step: Callable, state, x: np.ndarray, y: np.ndarray, *, epochs: int,
               batch_size: int, seed: int, parallel: DataParallel, quiet: bool = False,
               desc: str = "train") -> Trained:
    """Run ``state, loss = step(state, x_batch, y_batch)`` over shuffled mini-batches,
    each sharded over the devices, with a progress bar.  The last partial batch of
    an epoch is dropped, so every step has the same shape and compiles once."""
    batch_size = parallel.batch_size(batch_size, len(x))
    steps_per_epoch = len(x) // batch_size
    shuffle = np.random.default_rng(seed)
    losses, start = [], None
    bar = progress(None, desc, quiet, total=epochs * steps_per_epoch)
    for _ in range(epochs):
        permutation = shuffle.permutation(len(x))
        epoch_losses = []
        for i in range(steps_per_epoch):
            index = permutation[i * batch_size:(i + 1) * batch_size]
            xb, yb = parallel.shard(x[index], y[index])
            state, loss = step(state, xb, yb)
            if start is None:  # the first step compiles: time the others
                jax.block_until_ready(loss)
                start = time.perf_counter()
            epoch_losses.append(loss)
            bar.update()
        losses.append(float(np.mean(jax.device_get(epoch_losses))))
        bar.set_postfix(loss=f"{losses[-1]:.4g}")
    jax.block_until_ready(state)
    bar.close()
    timed_steps = epochs * steps_per_epoch - 1
    step_ms = (time.perf_counter() - start) / timed_steps * 1e3 if timed_steps > 0 else math.nan
    layout = parallel.describe(parallel.shard(x[:batch_size])[0])
    return Trained(state, losses, step_ms, layout)


def train(model: nnx.Module, tx: optax.GradientTransformation, loss_fn: Callable,
          x: np.ndarray, y: np.ndarray, **loop) -> Trained:
    """Train an nnx ``model`` in place with Optax ``tx`` on ``loss_fn(model, x, y)``
    (a module-level function, or another hashable callable, so that models of the
    same structure share one compiled step).  ``loop``: the arguments of
    :func:`train_loop` (``epochs``, ``batch_size``, ``seed``, ``parallel``, ...)."""
    optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)
    graphdef, state = nnx.split((model, optimizer))
    state = loop["parallel"].replicate(state)
    trained = train_loop(_jitted_step(graphdef, loss_fn), state, x, y, **loop)
    nnx.update((model, optimizer), trained.state)
    return trained


def evaluate(model: nnx.Module, fn: Callable, parallel: DataParallel, *arrays) -> dict:
    """``fn(model, *arrays, mask) -> dict of arrays``, jitted, on the whole data sharded
    over the devices (padded, with a mask: see :meth:`DataParallel.pad`); the values
    come back as Python floats (scalars) or lists."""
    graphdef, state = nnx.split(model)
    data = parallel.shard(*parallel.pad(*arrays))
    out = _jitted_apply(graphdef, fn)(parallel.replicate(state), *data)
    return {k: np.asarray(v).tolist() for k, v in jax.device_get(out).items()}


def choices(value, allowed: Sequence[str], what: str) -> list[str]:
    """A comma-separated flag value (or a sequence) checked against ``allowed``."""
    items = value.split(",") if isinstance(value, str) else list(value)
    unknown = [v for v in items if v not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; allowed: {', '.join(allowed)}")
    return items


def masked_mean(values, mask):
    return jnp.sum(values * mask) / jnp.sum(mask)


# ----------------------------------------------------------------------------
# reporting and the command line
# ----------------------------------------------------------------------------
def progress(iterable, desc: str, quiet: bool, **kwargs):
    """A tqdm progress bar on stderr that disappears when done (none with ``quiet``)."""
    return tqdm(iterable, desc=desc, disable=quiet, leave=False, **kwargs)


def fmt(value) -> str:
    """A table cell: floats to 4 significant digits (scientific when tiny or huge),
    None as "n/a"."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if value != 0 and math.isfinite(value) and not 1e-3 <= abs(value) < 1e5:
            return f"{value:.3g}"
        return f"{value:.4g}"
    return str(value)


def markdown_table(columns: Sequence[str], rows: Sequence[dict]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def report(result: dict) -> str:
    """The printed form of a ``run()`` result: title, device line, table, summary."""
    parts = [f"## {result['title']}", ""]
    if "parallel" in result:
        parts += [parallel_line(result["parallel"]), ""]
    parts += [markdown_table(result["columns"], result["rows"]), "", result["summary"]]
    return "\n".join(parts)


def parser(doc: str, **defaults) -> argparse.ArgumentParser:
    """An argument parser with the shared flags whose defaults are given: ``epochs``,
    ``steps``, ``seed``, ``seeds``, ``batch_size``, ``lr``; ``--quiet`` and ``--json``
    are always there.  The description is the example's docstring."""
    helps = {
        "epochs": (int, "passes over the training set"),
        "steps": (int, "optimizer steps"),
        "seed": (int, "random seed (initialisation and shuffling)"),
        "seeds": (int, "number of seeds (0, 1, ..., SEEDS-1) to average over"),
        "batch_size": (int, "global batch size, rounded down to a multiple of the device count"),
        "lr": (float, "learning rate"),
    }
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in defaults.items():
        kind, text = helps[name]
        p.add_argument("--" + name.replace("_", "-"), type=kind, default=default,
                       help=f"{text} (default: {default})")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", metavar="OUT", help="also write the result as JSON to OUT")
    return p


def main(run: Callable[..., dict], p: argparse.ArgumentParser, argv=None) -> dict:
    """Parse ``argv``, call ``run(**flags)``, print the report, write ``--json``."""
    settings = vars(p.parse_args(argv))
    json_path = settings.pop("json")
    result = run(**settings)
    print(report(result))
    if json_path:
        with open(json_path, "w") as f:
            json.dump(result, f, indent=2)
    return result
