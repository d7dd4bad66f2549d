"""Regression on the diabetes data: a linear output with MSE, L1 and Smooth L1, compared.

scikit-learn's diabetes data (442 patients, 10 features, a disease-progression
score a year later), standardised (features and target), a fifth held out.  An
MLP 10 -> 32 ReLU -> 1 with a *linear* output (the article's choice for
regression: any real value can come out) is trained three times, with
``jaxact.losses.mse_loss``, ``l1_loss`` and ``smooth_l1_loss`` (beta = 1 standard
deviation of the target).  Every model is scored on the held-out set in the
target's original units (MSE, MAE, R^2) against the baseline that predicts the
training mean.  MSE chases the mean and punishes large errors; L1 chases the
median and is robust to outliers; Smooth L1 is quadratic near 0 and linear far
away.  Adam, mini-batches sharded over every local device.

    python examples/regression.py
    python examples/regression.py --epochs 50 --quiet --json out.json
"""
from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxact import pairing
from jaxact.losses import l1_loss, mse_loss, smooth_l1_loss

import _common

TITLE = "Diabetes: linear output with MSE, L1 and Smooth L1"
LOSSES = {"mse_loss": mse_loss, "l1_loss": l1_loss, "smooth_l1_loss": smooth_l1_loss}


def loss_fn(name, model, x, y):
    return LOSSES[name](model(x)[..., 0], y)


def metrics(scale, model, x, y, mask):
    """Held-out errors in the target's original units."""
    error = (model(x)[..., 0] - y) * scale
    mse = _common.masked_mean(error**2, mask)
    return {"mse": mse, "mae": _common.masked_mean(jnp.abs(error), mask)}


def baseline(data: _common.Dataset) -> dict:
    """Predicting the training mean (0 in standardised units) for every patient."""
    error = data.y_test * data.y_scale
    return {"mse": float(np.mean(error**2)), "mae": float(np.mean(np.abs(error)))}


def row(name: str, held_out: dict, variance: float, train_loss=None, step_ms=None) -> dict:
    return {
        "loss": name,
        "test MSE": held_out["mse"],
        "test MAE": held_out["mae"],
        "test R2": 1 - held_out["mse"] / variance,
        "final train loss": train_loss,
        "step ms": step_ms,
    }


def run(epochs=100, batch_size=32, lr=1e-3, seed=0, hidden=32, quiet=True) -> dict:
    """Train one model per loss and return the result dict."""
    data = _common.load("diabetes")
    parallel = _common.DataParallel.create()
    base = baseline(data)
    variance = float(np.var(data.y_test)) * data.y_scale**2
    rows = [row("(predict the training mean)", base, variance)]
    for name in LOSSES:
        pairing.check(None, LOSSES[name])  # a linear output suits every regression loss
        model = _common.MLP([data.n_features, hidden, 1], "relu", rngs=nnx.Rngs(seed))
        trained = _common.train(model, optax.adam(lr), functools.partial(loss_fn, name),
                                data.x_train, data.y_train, epochs=epochs, batch_size=batch_size,
                                seed=seed, parallel=parallel, quiet=quiet, desc=name)
        held_out = _common.evaluate(model, functools.partial(metrics, data.y_scale), parallel,
                                    data.x_test, data.y_test)
        rows.append(row(name, held_out, variance, trained.losses[-1], trained.step_ms))
    models = rows[1:]
    best = min(models, key=lambda r: r["test MSE"])
    beat = sum(r["test MSE"] < base["mse"] for r in models)
    verdict = "Every loss beats" if beat == len(models) else f"{beat} of {len(models)} losses beat"
    return {
        "title": TITLE,
        "summary": (
            f"{verdict} predicting the mean (held-out MSE {base['mse']:.0f}): "
            + ", ".join(f"{r['loss']} {r['test MSE']:.0f} (R2 {r['test R2']:.2f})" for r in models)
            + f"; best on held-out MSE: {best['loss']}."
        ),
        "columns": list(rows[0]),
        "rows": rows,
        "baseline_mse": base["mse"],
        "parallel": trained.parallel,
    }


def main(argv=None) -> dict:
    p = _common.parser(__doc__, epochs=100, batch_size=32, lr=1e-3, seed=0)
    p.add_argument("--hidden", type=int, default=32, help="hidden units (default: 32)")
    return _common.main(run, p, argv)


if __name__ == "__main__":
    main()
