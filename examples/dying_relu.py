"""The dying-ReLU experiment and its remedies, counted with jaxact.diagnostics.

The article's experiment: a 10 -> 5 -> 1 MLP with ReLU hidden units, PyTorch's
default initialisation, trained with plain SGD at learning rate 1.0 for 100
full-batch steps on random data (100 examples, x and y standard normal, MSE).  A
hidden unit is *dead* when its output is 0, so its gradient is exactly 0, for
every training example: it can never recover.  The remedies: Leaky ReLU, ELU, a
small learning rate, He initialisation.

Every setting is run for many seeds (one model and one data set per seed), all
seeds at once with ``jax.vmap`` and the 100 steps inside one ``lax.scan``; the
examples are sharded over the local devices.  Dead units are counted with
``jaxact.diagnostics``: ``call_and_record`` plus ``Monitor.counts``, which work
under ``jit`` and ``vmap``.  A run *diverges* when its loss becomes inf/NaN; its
units are then neither alive nor dead in any useful sense, so dead fractions are
averaged over the runs that did not diverge and divergence is reported apart.

What it shows: at learning rate 1.0 about a third of the ReLU units die (in most
runs at least one).  Leaky ReLU and ELU units cannot die (their derivative is
never 0), but at that rate the training fails anyway: the loss grows ten-fold,
and ELU diverges in every run.  A small learning rate kills none.  He
initialisation is no remedy at learning rate 1.0: most runs diverge and the rest
lose most of their units.

    python examples/dying_relu.py                      # 200 seeds
    python examples/dying_relu.py --seeds 50 --lr 0.5 --small-lr 0.1 --quiet
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxact import diagnostics
from jaxact.losses import mse_loss

import _common

TITLE = "Dying ReLU: a 10-5-1 MLP, SGD, 100 steps on random data, many seeds"
FEATURES = 10
# label, activation, initialisation, which learning rate ("lr" or "small_lr")
SETTINGS = (
    ("ReLU (the article)", "relu", "torch", "lr"),
    ("Leaky ReLU", "leaky_relu", "torch", "lr"),
    ("ELU", "elu", "torch", "lr"),
    ("ReLU, small learning rate", "relu", "torch", "small_lr"),
    ("ReLU, He initialisation", "relu", "he", "lr"),
)


def random_data(seeds: int, samples: int, parallel: _common.DataParallel):
    """One standard-normal data set per seed (as ``torch.randn``): x (seeds, samples, 10),
    y (seeds, samples, 1), with the example axis sharded over the devices (samples
    rounded up to a multiple of the device count)."""
    samples = -(-samples // parallel.n_devices) * parallel.n_devices
    rng = np.random.default_rng(2024)
    x = rng.standard_normal((seeds, samples, FEATURES), dtype=np.float32)
    y = rng.standard_normal((seeds, samples, 1), dtype=np.float32)
    return parallel.shard(x, y, axis=1)


def loss_fn(model, x, y):
    return mse_loss(model(x), y)


def network(activation: str, hidden: int) -> _common.MLP:
    return _common.MLP([FEATURES, hidden, 1], activation, rngs=nnx.Rngs(0))


def initial_params(init: str, hidden: int, seeds: int):
    """Every seed's initial weights, stacked on a leading seed axis (the same for every
    activation), drawn with NumPy as PyTorch draws them: ``"torch"``, nn.Linear's default (weights and biases
    uniform in +-1/sqrt(fan_in)); ``"he"``, kaiming_normal_ (normal weights with
    variance 2/fan_in) and zero biases."""
    rng = np.random.default_rng({"torch": 1, "he": 2}[init])
    model = nnx.eval_shape(lambda: network("relu", hidden))
    for layer in model.layers:
        fan_in, fan_out = layer.kernel.shape
        if init == "torch":
            bound = fan_in**-0.5
            kernel = rng.uniform(-bound, bound, (seeds, fan_in, fan_out))
            bias = rng.uniform(-bound, bound, (seeds, fan_out))
        else:
            kernel = rng.normal(0.0, (2 / fan_in) ** 0.5, (seeds, fan_in, fan_out))
            bias = np.zeros((seeds, fan_out))
        layer.kernel.set_value(kernel.astype(np.float32))
        layer.bias.set_value(bias.astype(np.float32))
    return nnx.state(model)


@functools.lru_cache(maxsize=None)
def structure(activation: str, hidden: int):
    """The model's nnx GraphDef and a monitor of its activation modules (traced, not run)."""
    model = nnx.eval_shape(lambda: network(activation, hidden))
    example = jax.ShapeDtypeStruct((1, FEATURES), jnp.float32)
    return nnx.graphdef(model), diagnostics.Monitor.create(model, example)


@functools.lru_cache(maxsize=None)
def experiment(graphdef, monitor: diagnostics.Monitor, steps: int):
    """A jitted ``(params, x, y, lr) -> (dead at init, dead after training, final loss)``,
    vectorised over seeds.  Settings that differ only in initialisation or learning
    rate share the structure, hence one compilation."""

    def dead_units(model, x):
        _, records = diagnostics.call_and_record(model, x)
        counts = monitor.counts(monitor.update(monitor.init(), records))
        return sum(c["dead"] for c in counts.values())

    def one_seed(params, x, y, lr):
        model = nnx.merge(graphdef, params)
        dead_at_init = dead_units(model, x)
        graphdef_both, state = nnx.split((model, nnx.Optimizer(model, optax.sgd(lr), wrt=nnx.Param)))

        def step(state, _):
            model, optimizer = nnx.merge(graphdef_both, state)
            loss, grads = nnx.value_and_grad(loss_fn)(model, x, y)
            optimizer.update(model, grads)
            return nnx.state((model, optimizer)), loss

        state, _ = jax.lax.scan(step, state, length=steps)
        model, _ = nnx.merge(graphdef_both, state)
        return dead_at_init, dead_units(model, x), loss_fn(model, x, y)

    return jax.jit(jax.vmap(one_seed, in_axes=(0, 0, 0, None)))


def summarise(label, activation, init, lr, hidden, dead_at_init, dead, loss) -> dict:
    dead_at_init, dead, loss = (np.asarray(a) for a in (dead_at_init, dead, loss))
    finite = np.isfinite(loss)

    def over_finite(values):
        return float(values[finite].mean()) if finite.any() else None

    return {
        "setting": label,
        "activation": activation,
        "init": init,
        "lr": lr,
        "dead at init %": 100 * float(dead_at_init.mean()) / hidden,
        "dead after training %": None if not finite.any() else 100 * over_finite(dead) / hidden,
        "runs with a dead unit %": None if not finite.any() else 100 * over_finite(dead > 0),
        "diverged runs %": 100 * float((~finite).mean()),
        "median final loss": None if not finite.any() else float(np.median(loss[finite])),
    }


def describe(rows: list[dict], seeds: int) -> str:
    """One sentence per setting: its dead fraction, and how often it diverged."""
    def part(row):
        dead = row["dead after training %"]
        text = row["setting"] + (": all runs diverged" if dead is None else f": {dead:.0f}% dead")
        if dead is not None and row["diverged runs %"] > 0:
            text += f" ({row['diverged runs %']:.3g}% of runs diverged)"
        return text

    return (f"Hidden units dead after training, averaged over {seeds} seeds (over the runs "
            f"that did not diverge): " + "; ".join(part(r) for r in rows) + ".")


def run(steps=100, seeds=200, lr=1.0, small_lr=0.01, samples=100, hidden=5, quiet=True) -> dict:
    """Run every setting over ``seeds`` seeds and return the result dict."""
    parallel = _common.DataParallel.create()
    x, y = random_data(seeds, samples, parallel)
    rates = {"lr": lr, "small_lr": small_lr}
    params = {init: parallel.replicate(initial_params(init, hidden, seeds)) for init in ("torch", "he")}
    rows = []
    for label, activation, init, rate in _common.progress(SETTINGS, "settings", quiet):
        fn = experiment(*structure(activation, hidden), steps)
        out = fn(params[init], x, y, jnp.float32(rates[rate]))
        rows.append(summarise(label, activation, init, rates[rate], hidden, *out))
    by_setting = {r["setting"]: r for r in rows}
    return {
        "title": TITLE,
        "summary": describe(rows, seeds),
        "columns": list(rows[0]),
        "rows": rows,
        "dead_fraction": {
            k: (None if r["dead after training %"] is None else r["dead after training %"] / 100)
            for k, r in by_setting.items()
        },
        "diverged_fraction": {k: r["diverged runs %"] / 100 for k, r in by_setting.items()},
        "seeds": seeds,
        "parallel": parallel.describe(x),
    }


def main(argv=None) -> dict:
    p = _common.parser(__doc__, steps=100, seeds=200, lr=1.0)
    p.add_argument("--small-lr", type=float, default=0.01, help="the remedy's learning rate (default: 0.01)")
    p.add_argument("--samples", type=int, default=100, help="random examples per seed (default: 100)")
    p.add_argument("--hidden", type=int, default=5, help="hidden units (default: 5)")
    return _common.main(run, p, argv)


if __name__ == "__main__":
    main()
