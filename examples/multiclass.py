"""Multi-class classification of handwritten digits: logits + cross-entropy.

scikit-learn's digits (1,797 8x8 images, 10 classes), standardised, a fifth held
out.  An MLP 64 -> 128 ReLU -> 10 puts out raw scores (logits, a linear output)
and is trained with ``jaxact.losses.cross_entropy``, which applies log-softmax
inside: the article's pairing for multi-class problems, cheaper and safer than a
softmax layer followed by a log.  Softmax is only applied to read probabilities.
Adam, mini-batches sharded over every local device.

    python examples/multiclass.py                  # defaults: about 98% held out
    python examples/multiclass.py --epochs 5 --hidden 32 --quiet --json out.json
"""
from __future__ import annotations

import jax.numpy as jnp
import optax
from flax import nnx

import jaxact
from jaxact.losses import cross_entropy

import _common

TITLE = "Digits: MLP with logits + cross_entropy"


def loss_fn(model, x, labels):
    return cross_entropy(model(x), labels)


def metrics(model, x, labels, mask):
    logits = model(x)
    probs = jaxact.softmax(logits)
    return {
        "accuracy": _common.masked_mean(jnp.argmax(logits, -1) == labels, mask),
        "loss": _common.masked_mean(cross_entropy(logits, labels, reduction="none"), mask),
        "confidence": _common.masked_mean(jnp.max(probs, -1), mask),
    }


def run(epochs=30, batch_size=64, lr=3e-3, seed=0, hidden=128, quiet=True) -> dict:
    """Train on digits and return the result dict (title, summary, columns, rows, ...)."""
    data = _common.load("digits")
    parallel = _common.DataParallel.create()
    model = _common.MLP([data.n_features, hidden, data.n_classes], "relu", rngs=nnx.Rngs(seed))
    trained = _common.train(model, optax.adam(lr), loss_fn, data.x_train, data.y_train,
                            epochs=epochs, batch_size=batch_size, seed=seed,
                            parallel=parallel, quiet=quiet, desc="digits")
    held_out = _common.evaluate(model, metrics, parallel, data.x_test, data.y_test)
    row = {
        "model": f"{data.n_features}-{hidden}-{data.n_classes} ReLU, logits",
        "loss": "cross_entropy",
        "test accuracy": held_out["accuracy"],
        "test loss": held_out["loss"],
        "mean max prob": held_out["confidence"],
        "final train loss": trained.losses[-1],
        "step ms": trained.step_ms,
    }
    return {
        "title": TITLE,
        "summary": (
            f"Held-out accuracy {held_out['accuracy']:.1%} on {len(data.y_test)} digits after "
            f"{epochs} epochs (cross-entropy on logits; softmax only to read probabilities)."
        ),
        "columns": list(row),
        "rows": [row],
        "accuracy": held_out["accuracy"],
        "losses": trained.losses,
        "parallel": trained.parallel,
    }


def main(argv=None) -> dict:
    p = _common.parser(__doc__, epochs=30, batch_size=64, lr=3e-3, seed=0)
    p.add_argument("--hidden", type=int, default=128, help="hidden units (default: 128)")
    return _common.main(run, p, argv)


if __name__ == "__main__":
    main()
