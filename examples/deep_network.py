"""Depth and vanishing gradients: a 40-hidden-layer MLP with ReLU, Swish, tanh and sigmoid.

The article's claims: in a deep network, sigmoid (f' <= 1/4) and tanh shrink the
gradient at every layer, so the first layers barely learn, while ReLU (f' = 1 on
its active side) and Swish keep it alive.  This example measures that.

scikit-learn's digits (64 features, 10 classes), standardised, a fifth held out.
For each hidden activation and each initialisation (LeCun: normal weights with
variance 1/fan_in, as Flax's default; He: variance 2/fan_in, made for ReLU; zero
biases, the same random numbers for every network), an MLP 64 -> 64 x 40 -> 10
(41 dense layers) is built and:

* the gradient of the cross-entropy on the held-out set is taken at
  initialisation, and the norm of every dense layer's weight gradient is reported
  (first layer, middle, last hidden, output layer, and first / output; all of
  them, at initialisation and after training, in the result's "gradient_norms");
* the network is trained with Adam, and its held-out accuracy reported.

What it shows (see the summary): only sigmoid has the textbook vanishing
gradient: its first layer's gradient is many orders of magnitude below the output
layer's (it underflows to exactly 0 in float32) and the network does not learn.
tanh keeps gradients of the same size in every layer and trains.  ReLU and Swish
gradients are also about the same size in every layer, but with LeCun
initialisation they are tiny everywhere (about 1e-7 and 1e-12: the forward signal
shrinks at each layer) and the networks barely learn; He initialisation fixes
that.

    python examples/deep_network.py
    python examples/deep_network.py --depth 60 --activations relu,sigmoid --inits he --epochs 5
"""
from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxact.losses import cross_entropy

import _common

TITLE = "A 40-hidden-layer MLP on digits: per-layer gradient norms at initialisation and accuracy"
ACTIVATIONS = ("relu", "swish", "tanh", "sigmoid")
INITS = ("lecun", "he")


def loss_fn(model, x, labels):
    return cross_entropy(model(x), labels)


def measure(model, x, labels, mask):
    """Accuracy, and the norm of each dense layer's weight gradient (input layer first)."""
    def loss(model):
        logits = model(x)
        return _common.masked_mean(cross_entropy(logits, labels, reduction="none"), mask), logits

    grads, logits = nnx.grad(loss, has_aux=True)(model)
    kernels = [grads["layers"][i]["kernel"][...] for i in range(len(model.layers))]
    return {
        "norms": jnp.stack([jnp.linalg.norm(k) for k in kernels]),
        "accuracy": _common.masked_mean(jnp.argmax(logits, -1) == labels, mask),
    }


def row(activation: str, init: str, norms: list[float], held_out: float, train_loss: float) -> dict:
    return {
        "activation": activation,
        "init": init,
        "first layer": norms[0],
        "middle layer": norms[len(norms) // 2],
        "last hidden": norms[-2],
        "output layer": norms[-1],
        "first / output": norms[0] / norms[-1] if norms[-1] else None,
        "test accuracy": held_out,
        "final train loss": train_loss,
    }


def describe(rows: list[dict]) -> str:
    """The ratio first / output layer per activation and init, the output layer's
    gradient (its scale), and the best accuracy."""
    def each(column):
        return "; ".join(
            f"{a} " + ", ".join(f"{_common.fmt(r[column])} ({r['init']})" for r in rows if r["activation"] == a)
            for a in dict.fromkeys(r["activation"] for r in rows)
        )

    best = max(rows, key=lambda r: r["test accuracy"])
    return (
        f"Gradient norm at initialisation, first layer / output layer: {each('first / output')}. "
        f"Output layer's gradient norm: {each('output layer')}. "
        f"Best held-out accuracy: {best['activation']} ({best['init']}), {best['test accuracy']:.1%}."
    )


def network(abstract: _common.MLP, init: str, seed: int) -> _common.MLP:
    """A copy of the ``abstract`` MLP (built by ``nnx.eval_shape``, no values) with
    normal weights of variance 1/fan_in (LeCun) or 2/fan_in (He) and zero biases,
    drawn with NumPy: every network starts from the same random numbers."""
    model = nnx.merge(*nnx.split(abstract))
    rng = np.random.default_rng(seed)
    gain = {"lecun": 1.0, "he": 2.0}[init]
    for layer in model.layers:
        fan_in, fan_out = layer.kernel.shape
        weights = rng.standard_normal((fan_in, fan_out)) * math.sqrt(gain / fan_in)
        layer.kernel.set_value(jnp.asarray(weights, jnp.float32))
        layer.bias.set_value(jnp.zeros((fan_out,), jnp.float32))
    return model


def run(epochs=6, batch_size=64, lr=1e-3, seed=0, depth=40, width=64,
        activations=ACTIVATIONS, inits=INITS, quiet=True) -> dict:
    """Measure and train every (activation, init) pair; return the result dict."""
    data = _common.load("digits")
    parallel = _common.DataParallel.create()
    sizes = [data.n_features, *[width] * depth, data.n_classes]
    tx = optax.adam(lr)  # one object: models of the same structure then share a compiled step
    rows, norms = [], {}
    for activation in _common.choices(activations, ACTIVATIONS, "activation(s)"):
        abstract = nnx.eval_shape(lambda: _common.MLP(sizes, activation, rngs=nnx.Rngs(0)))
        for init in _common.choices(inits, INITS, "init(s)"):
            model = network(abstract, init, seed)
            at_init = _common.evaluate(model, measure, parallel, data.x_test, data.y_test)
            trained = _common.train(model, tx, loss_fn, data.x_train, data.y_train,
                                    epochs=epochs, batch_size=batch_size, seed=seed,
                                    parallel=parallel, quiet=quiet, desc=f"{activation} {init}")
            after = _common.evaluate(model, measure, parallel, data.x_test, data.y_test)
            norms[f"{activation}/{init}"] = {"initial": at_init["norms"], "trained": after["norms"]}
            final_loss = trained.losses[-1] if trained.losses else None  # None: epochs=0
            rows.append(row(activation, init, at_init["norms"], after["accuracy"], final_loss))
    return {
        "title": TITLE.replace("40", str(depth)),
        "summary": describe(rows),
        "columns": list(rows[0]),
        "rows": rows,
        "gradient_norms": norms,
        "depth": depth,
        "parallel": trained.parallel,
    }


def main(argv=None) -> dict:
    p = _common.parser(__doc__, epochs=6, batch_size=64, lr=1e-3, seed=0)
    p.add_argument("--depth", type=int, default=40, help="hidden layers (default: 40)")
    p.add_argument("--width", type=int, default=64, help="units per hidden layer (default: 64)")
    p.add_argument("--activations", default=",".join(ACTIVATIONS),
                   help=f"comma-separated, from {', '.join(ACTIVATIONS)} (default: all)")
    p.add_argument("--inits", default=",".join(INITS),
                   help=f"comma-separated, from {', '.join(INITS)} (default: both)")
    return _common.main(run, p, argv)


if __name__ == "__main__":
    main()
