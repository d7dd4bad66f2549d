"""The training examples: each run() with small settings still gets a real result.

The examples live in ``examples/`` (scripts, not a package): this file puts that
folder on ``sys.path`` and imports them.  One example also runs as a script on 8
simulated CPU devices, to check that the batch really is sharded over all of them.
"""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("tqdm")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))

import binary_classification  # noqa: E402
import deep_network  # noqa: E402
import dying_relu  # noqa: E402
import multiclass  # noqa: E402
import regression  # noqa: E402
import shootout  # noqa: E402

import jaxact  # noqa: E402

SCRIPTS = [binary_classification, multiclass, regression, dying_relu, deep_network, shootout]


def check_result(result: dict) -> list[dict]:
    """The run() contract: title, summary, columns, rows with every column; JSON-safe."""
    assert isinstance(result["title"], str) and result["title"]
    assert isinstance(result["summary"], str) and result["summary"]
    columns, rows = result["columns"], result["rows"]
    assert columns and all(isinstance(c, str) for c in columns)
    assert rows and all(set(columns) <= set(row) for row in rows)
    json.dumps(result, allow_nan=False)
    return rows


def by(rows, **match):
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, found)
    return found[0]


def test_binary_classification_reaches_95_percent_held_out_in_every_variant():
    rows = check_result(binary_classification.run(epochs=5, batch_size=16, lr=1e-2))
    assert {(r["framework"], r["loss"]) for r in rows} == {
        (framework, loss)
        for framework in ("nnx", "linen")
        for loss in ("binary_cross_entropy", "binary_cross_entropy_with_logits")
    }
    for row in rows:
        assert row["test accuracy"] >= 0.95, row


def test_multiclass_reaches_95_percent_held_out():
    result = multiclass.run(epochs=5)
    check_result(result)
    assert result["accuracy"] >= 0.95
    assert result["losses"][-1] < result["losses"][0]


def test_regression_every_loss_beats_predicting_the_mean():
    result = regression.run(epochs=10)
    rows = check_result(result)
    trained = [r for r in rows if r["loss"] in regression.LOSSES]
    assert [r["loss"] for r in trained] == list(regression.LOSSES)
    for row in trained:
        assert row["test MSE"] < 0.9 * result["baseline_mse"], row
        assert row["test R2"] > 0.1, row


def test_dying_relu_high_learning_rate_kills_units_and_the_remedies_do_not():
    result = dying_relu.run(seeds=48)
    rows = check_result(result)
    dead, diverged = result["dead_fraction"], result["diverged_fraction"]
    relu = dead["ReLU (the article)"]
    assert relu >= 0.2  # the article's effect: about a third of the units die
    # Leaky ReLU and ELU have no zero derivative, so no unit can die; lr 0.01 kills none.
    assert dead["Leaky ReLU"] == 0
    assert dead["ReLU, small learning rate"] == 0 and diverged["ReLU, small learning rate"] == 0
    assert dead["ELU"] in (None, 0)
    # What is actually true of ELU and He initialisation at lr 1.0: they diverge.
    assert diverged["ELU"] > 0.5
    assert diverged["ReLU, He initialisation"] > 0.5
    assert by(rows, setting="ReLU (the article)")["dead at init %"] == 0


def test_deep_network_only_sigmoid_has_a_vanishing_first_layer_gradient():
    result = deep_network.run(epochs=0, activations="relu,swish,sigmoid")
    rows = check_result(result)
    assert result["depth"] >= 40
    for name, norms in result["gradient_norms"].items():
        assert len(norms["initial"]) == len(norms["trained"]) == result["depth"] + 1, name
    for init in deep_network.INITS:
        sigmoid = by(rows, activation="sigmoid", init=init)
        # many orders of magnitude (in float32 the first layer's gradient is exactly 0)
        assert sigmoid["first layer"] < 1e-8 * sigmoid["output layer"]
        for name in ("relu", "swish"):
            row = by(rows, activation=name, init=init)
            assert 1e-2 < row["first / output"] < 1e2, row
    # ... but with LeCun initialisation ReLU and Swish gradients are tiny in every layer.
    for name in ("relu", "swish"):
        lecun, he = by(rows, activation=name, init="lecun"), by(rows, activation=name, init="he")
        assert lecun["output layer"] < 1e-4 * he["output layer"]


def test_shootout_covers_every_elementwise_activation():
    result = shootout.run(datasets="breast_cancer", seeds=1, steps=30)
    rows = check_result(result)
    elementwise = {n for n in jaxact.names() if jaxact.spec(n).kind == "elementwise"}
    assert {r["activation"] for r in rows} == elementwise
    assert len(rows) == len(elementwise)
    for row in rows:
        assert math.isfinite(row["final loss"]) and row["step ms"] > 0, row
        assert 0 <= row["dead %"] <= 100
    assert max(r["score"] for r in rows) >= 0.9


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda m: m.__name__)
def test_help(script, capsys):
    with pytest.raises(SystemExit) as exit_info:
        script.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "--quiet" in text and "--json" in text and "usage:" in text


def test_script_shards_the_batch_over_8_devices(tmp_path):
    env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="--xla_force_host_platform_device_count=8")
    out = tmp_path / "result.json"
    command = [sys.executable, str(EXAMPLES / "multiclass.py"), "--epochs", "1", "--batch-size", "60",
               "--quiet", "--json", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "data parallel: 8 cpu device(s)" in done.stdout
    parallel = json.loads(out.read_text())["parallel"]
    # 60 is rounded down to 56, a multiple of 8: one shard of 7 examples per device
    assert parallel["devices"] == 8 and parallel["shards"] == 8
    assert parallel["spec"] == "P('batch',)"
    assert parallel["batch_shape"] == [56, 64] and parallel["shard_shape"] == [7, 64]
