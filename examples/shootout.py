"""Shoot-out: every elementwise activation in the registry, on every data set, over seeds.

For each data set (breast cancer: binary, digits: 10 classes, diabetes:
regression; standardised, a fifth held out) and each elementwise activation of
``jaxact.names()`` (the hidden-layer ones; softmax-like functions of a whole axis
are output activations and left out), an MLP inputs -> 64 -> outputs with that
activation in the hidden layer and a linear output is trained with Adam on
mini-batches, for several seeds.  Reported per (data set, activation), as the
mean over seeds:

* ``score``: held-out accuracy (classification) or R^2 (regression);
* ``final loss``: the training loss on the whole training set after training;
* ``step ms``: the compiled program's run time divided by the number of steps;
* ``dead %``: hidden units whose derivative is exactly 0 on every training
  example (jaxact.diagnostics' definition; the derivative is the closed-form
  rule, through ``jax.jvp``); only activations with a flat region can have any.

Compiling one program per activation and data set (66 of them) would take
minutes on a small CPU, so there is one program per data set: the hidden layers
hold one ``jaxact.nnx`` module per activation and ``jax.lax.switch`` runs the one
whose index is passed in (only that branch executes, so step times are per
activation).  The program trains inside ``lax.scan`` on a data set held on the
devices, each step's batch gathered from it and sharded over the devices with
``jax.lax.with_sharding_constraint``, then scores the model and counts dead units.

    python examples/shootout.py                         # all activations x 3 data sets x 2 seeds
    python examples/shootout.py --datasets digits --activations relu,gelu,tanh --seeds 5 --steps 1000
"""
from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

import jaxact
import jaxact.nnx as jnnx
from jaxact.losses import binary_cross_entropy_with_logits, cross_entropy, mse_loss

import _common

TITLE = "Shoot-out: every hidden activation x data set"
HIDDEN = (64,)


def hidden_activations() -> list[str]:
    """Every elementwise activation in the registry, in registry order."""
    return [n for n in jaxact.names() if jaxact.spec(n).kind == "elementwise"]


def task_loss(task: str, output, y, reduction="mean"):
    """The article's pairing for each task, on a linear output."""
    if task == "binary":
        return binary_cross_entropy_with_logits(output[..., 0], y.astype(jnp.float32), reduction=reduction)
    if task == "multiclass":
        return cross_entropy(output, y, reduction=reduction)
    return mse_loss(output[..., 0], y, reduction=reduction)


def task_score(task: str, output, y, mask):
    """Held-out accuracy, or R^2 for regression."""
    if task == "binary":
        return _common.masked_mean((output[..., 0] > 0) == (y == 1), mask)
    if task == "multiclass":
        return _common.masked_mean(jnp.argmax(output, -1) == y, mask)
    mean = _common.masked_mean(y, mask)
    residual = _common.masked_mean((output[..., 0] - y) ** 2, mask)
    return 1 - residual / _common.masked_mean((y - mean) ** 2, mask)


class SwitchMLP(nnx.Module):
    """inputs -> hidden... -> outputs, the hidden activation picked at call time by index."""

    def __init__(self, sizes, names, *, rngs: nnx.Rngs):
        pairs = list(zip(sizes[:-1], sizes[1:]))
        self.layers = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in pairs])
        self.acts = nnx.List([jnnx.Activation(name) for name in names])

    def __call__(self, x, which, *, derivatives: bool = False):
        """The output; with ``derivatives``, also each hidden layer's activation
        derivative f'(z) at every unit (the closed form, through ``jax.jvp``)."""
        def act(z):
            return jax.lax.switch(which, [lambda v, a=a: a(v) for a in self.acts], z)

        slopes = []
        for layer in self.layers[:-1]:
            z = layer(x)
            if derivatives:
                x, slope = jax.jvp(act, (z,), (jnp.ones_like(z),))
                slopes.append(slope)
            else:
                x = act(z)
        y = self.layers[-1](x)
        return (y, slopes) if derivatives else y


def dead_units(slopes, mask):
    """Units whose derivative is exactly 0 on every (unmasked) example."""
    return sum(jnp.sum(~jnp.any((d != 0) & (mask[:, None] > 0), axis=0)) for d in slopes)


def experiment(graphdef, task: str, tx, batch_sharding):
    """``(params, which, order, x_train, y_train, train_mask, x_test, y_test, test_mask)
    -> (score, final loss, dead units)``: train activation number ``which`` for
    ``len(order)`` steps (``order`` holds each step's example indices), then score."""

    def fn(params, which, order, x_train, y_train, train_mask, x_test, y_test, test_mask):
        model = nnx.merge(graphdef, params)
        graphdef_both, state = nnx.split((model, nnx.Optimizer(model, tx, wrt=nnx.Param)))

        def step(state, index):
            xb = jax.lax.with_sharding_constraint(x_train[index], batch_sharding)
            yb = jax.lax.with_sharding_constraint(y_train[index], batch_sharding)
            model, optimizer = nnx.merge(graphdef_both, state)
            loss, grads = nnx.value_and_grad(lambda m: task_loss(task, m(xb, which), yb))(model)
            optimizer.update(model, grads)
            return nnx.state((model, optimizer)), loss

        state, _ = jax.lax.scan(step, state, order)
        model, _ = nnx.merge(graphdef_both, state)
        n = len(x_train)  # one forward pass over training and held-out data together
        output, slopes = model(jnp.concatenate([x_train, x_test]), which, derivatives=True)
        final_loss = _common.masked_mean(task_loss(task, output[:n], y_train, "none"), train_mask)
        score = task_score(task, output[n:], y_test, test_mask)
        return score, final_loss, dead_units([d[:n] for d in slopes], train_mask)

    return fn


def step_order(seed: int, n: int, steps: int, batch_size: int) -> np.ndarray:
    """Example indices for every step: shuffled epochs, concatenated, (steps, batch)."""
    rng = np.random.default_rng(seed)
    epochs = -(-steps * batch_size // n)
    flat = np.concatenate([rng.permutation(n) for _ in range(epochs)])
    return flat[: steps * batch_size].reshape(steps, batch_size).astype(np.int32)


def run_dataset(name, activations, *, seeds, steps, batch_size, lr, parallel, bar) -> tuple[list, dict]:
    """Rows for one data set (one compiled program for every activation) and the batch layout."""
    data = _common.load(name)
    batch_size = parallel.batch_size(batch_size, len(data.y_train))
    arrays = parallel.replicate((*parallel.pad(data.x_train, data.y_train),
                                 *parallel.pad(data.x_test, data.y_test)))
    sizes = [data.n_features, *HIDDEN, data.n_outputs]
    models = [SwitchMLP(sizes, activations, rngs=nnx.Rngs(s)) for s in range(seeds)]
    params = [parallel.replicate(nnx.state(m)) for m in models]
    orders = [parallel.replicate(step_order(s, len(data.y_train), steps, batch_size)) for s in range(seeds)]
    fn = experiment(nnx.graphdef(models[0]), data.task, optax.adam(lr), parallel.sharding())
    compiled = jax.jit(fn).lower(params[0], jnp.int32(0), orders[0], *arrays).compile()
    jax.block_until_ready(compiled(params[0], jnp.int32(0), orders[0], *arrays))  # warm-up
    rows = []
    for which, activation in enumerate(activations):
        results, seconds = [], 0.0
        for p, order in zip(params, orders):
            begin = time.perf_counter()
            results.append(jax.block_until_ready(compiled(p, jnp.int32(which), order, *arrays)))
            seconds += time.perf_counter() - begin
        score, loss, dead = (np.asarray(v, np.float64) for v in zip(*results))
        rows.append({
            "dataset": name,
            "activation": activation,
            "metric": "R2" if data.task == "regression" else "accuracy",
            "score": float(score.mean()),
            "score sd": float(score.std()),
            "final loss": float(loss.mean()),
            "step ms": 1e3 * seconds / (seeds * steps),
            "dead %": 100 * float(dead.mean()) / sum(HIDDEN),
        })
        bar.update()
    layout = parallel.describe(parallel.shard(data.x_train[:batch_size])[0])
    return sorted(rows, key=lambda r: -r["score"]), layout


def describe(rows: list[dict]) -> str:
    parts = []
    for name in dict.fromkeys(r["dataset"] for r in rows):
        ranked = [r for r in rows if r["dataset"] == name]
        best, worst = ranked[0], ranked[-1]
        parts.append(f"{name}: best {best['activation']} ({best['metric']} {best['score']:.3f}), "
                     f"worst {worst['activation']} ({worst['score']:.3f})")
    deadliest = max(rows, key=lambda r: r["dead %"])
    dead = (f"Most dead units: {deadliest['activation']} on {deadliest['dataset']} "
            f"({deadliest['dead %']:.2g}%)." if deadliest["dead %"] > 0 else "No hidden unit died.")
    return "; ".join(parts) + ". " + dead


def run(steps=150, seeds=2, batch_size=64, lr=3e-3, datasets=tuple(_common.TASKS),
        activations=None, quiet=True) -> dict:
    """Train every (data set, activation) for ``seeds`` seeds; return the result dict."""
    datasets = _common.choices(datasets, list(_common.TASKS), "data set(s)")
    activations = _common.choices(activations or hidden_activations(), hidden_activations(), "activation(s)")
    parallel = _common.DataParallel.create()
    rows = []
    with _common.progress(None, "shoot-out", quiet, total=len(datasets) * len(activations)) as bar:
        for name in datasets:
            dataset_rows, layout = run_dataset(name, activations, seeds=seeds, steps=steps,
                                               batch_size=batch_size, lr=lr, parallel=parallel, bar=bar)
            rows += dataset_rows
    return {
        "title": f"{TITLE} ({seeds} seed(s), {steps} steps)",
        "summary": describe(rows),
        "columns": list(rows[0]),
        "rows": rows,
        "activations": activations,
        "parallel": layout,
    }


def main(argv=None) -> dict:
    p = _common.parser(__doc__, steps=150, seeds=2, batch_size=64, lr=3e-3)
    p.add_argument("--datasets", default=",".join(_common.TASKS),
                   help=f"comma-separated, from {', '.join(_common.TASKS)} (default: all)")
    p.add_argument("--activations", default=None,
                   help="comma-separated registry names (default: every elementwise activation)")
    return _common.main(run, p, argv)


if __name__ == "__main__":
    main()
