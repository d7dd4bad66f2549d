"""The benchmark scripts run (smoke tests: tiny sizes; no timing is ever asserted)."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import jaxact

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
ACTIVATIONS = BENCHMARKS / "activations.py"
TRAINING_STEP = BENCHMARKS / "training_step.py"
ELEMENTWISE = [n for n in jaxact.names() if jaxact.spec(n).kind == "elementwise"]
ROW_WISE = [n for n in jaxact.names() if jaxact.spec(n).kind != "elementwise"]


def load(path: Path):
    """Import a benchmark script as a module (its main() is not run)."""
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def run(*args, timeout=300):
    done = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout


def table_header(stdout: str) -> list[str]:
    line = next(line for line in stdout.splitlines() if line.startswith("| "))
    return [cell.strip() for cell in line.strip("|").split("|")]


# ----------------------------------------------------------------------------
# activations.py
# ----------------------------------------------------------------------------
def test_activations_quick_prints_a_table_and_json(tmp_path):
    out = tmp_path / "bench.json"
    stdout = run(ACTIVATIONS, "--quick", "--json", out)
    assert "device: " in stdout and "jax 0." in stdout and "command: " in stdout
    bench = load(ACTIVATIONS)
    assert table_header(stdout) == list(bench.COLUMNS)
    assert "targets met: " in stdout
    data = json.loads(out.read_text())
    assert {"command", "device_kind", "jax_version", "size", "rows", "repeats"} <= set(data["environment"])
    rows = data["rows"]
    assert {"relu", "glu"} == {row["function"] for row in rows}
    expected_keys = {
        "function", "jax_nn", "dtype", "mode", "shape", "min_bytes", "jaxact_ms", "jax_nn_ms",
        "roofline_ms", "jaxact_gbs", "jax_nn_gbs", "roofline_gbs", "jaxact_roofline_fraction",
        "jax_nn_roofline_fraction", "median_ratio", "min_ratio", "max_ratio", "target",
        "target_met", "ratios", "torch_ms", "torch_ratio", "floor_ratio",
    }
    for row in rows:
        assert set(row) == expected_keys
        assert len(row["ratios"]) == data["environment"]["repeats"]
    relu_modes = {(r["dtype"], r["mode"]) for r in rows if r["function"] == "relu"}
    assert relu_modes == {(d, m) for d in ("float32", "bfloat16") for m in bench.MODES}
    # glu halves its input: no donated variant; both row shapes are covered
    glu = [r for r in rows if r["function"] == "glu"]
    assert {r["mode"] for r in glu} == {"fwd", "fwd+bwd"}
    assert {tuple(r["shape"]) for r in glu} == set(bench.QUICK_ROWS)
    # minimum traffic convention: fwd = x + y, fwd+bwd = x + ct + y + dx
    for r in rows:
        n = 1
        for d in r["shape"]:
            n *= d
        item = 4 if r["dtype"] == "float32" else 2
        out_n = n // 2 if r["function"] == "glu" else n
        per_pass = (n + out_n) * item
        assert r["min_bytes"] == (2 * per_pass if r["mode"] == "fwd+bwd" else per_pass)
    # a saved run prints again without timing anything
    again = run(ACTIVATIONS, "--from-json", out)
    assert table_header(again) == list(bench.COLUMNS) and "targets met: " in again
    assert len([line for line in again.splitlines() if line.startswith("| relu ")]) == 6


def _row(bench, median, spread, floor):
    return bench.Row(
        function="softmax", jax_nn="softmax", dtype="float32", mode="fwd+bwd", shape=[256, 32768],
        min_bytes=1, jaxact_ms=1.0, jax_nn_ms=1.0, roofline_ms=1.0, jaxact_gbs=1.0, jax_nn_gbs=1.0,
        roofline_gbs=1.0, jaxact_roofline_fraction=1.0, jax_nn_roofline_fraction=1.0,
        median_ratio=median, min_ratio=spread[0], max_ratio=spread[1], target=0.6,
        target_met=median <= 0.6, ratios=[median], floor_ratio=floor,
    )


def test_summary_says_which_misses_no_formulation_can_meet():
    bench = load(ACTIVATIONS)
    unreachable = _row(bench, 1.2, (1.1, 1.3), floor=0.8)  # the roofline alone is 0.8x jax.nn
    reachable = _row(bench, 1.2, (1.1, 1.3), floor=0.4)
    text = bench.summary([unreachable, reachable])
    assert "out of reach on this machine (floor, the roofline's ratio to jax.nn, above the target): 1" in text
    lines = [line for line in text.splitlines() if line.startswith("  missed")]
    assert ["floor 0.80: out of reach" in line for line in lines] == [True, False]
    assert "| 0.80 |" in bench.markdown_table([unreachable], with_torch=False)


def test_formula_variants_get_rows_of_their_own():
    """gelu(approximate=False) is another formula (and another jax.nn path): its own row."""
    bench = load(ACTIVATIONS)
    assert bench.variants("gelu") == [("gelu", {}), ("gelu(approximate=False)", {"approximate": False})]
    assert bench.target("gelu(approximate=False)", "bfloat16", "fwd") == bench.target("gelu", "bfloat16", "fwd")
    stdout = run(ACTIVATIONS, "--quick", "--only", "gelu", "--modes", "fwd", "--dtypes", "float32")
    labels = [line.split("|")[1].strip() for line in stdout.splitlines() if line.startswith("| gelu")]
    assert labels == ["gelu", "gelu(approximate=False)"]


def test_activations_covers_every_registered_function():
    bench = load(ACTIVATIONS)
    assert bench.benchmarked_names(None) == jaxact.names()
    assert bench.DEFAULT_SIZE == 2**24
    assert bench.DEFAULT_ROWS == ((4096, 1024), (256, 32768))
    for name in ROW_WISE:
        assert bench.shapes_for(name, 2**24, bench.DEFAULT_ROWS) == [(4096, 1024), (256, 32768)]
    assert bench.target("softmax", "float32", "fwd+bwd") == 0.6
    assert bench.target("gelu", "bfloat16", "fwd") == 0.7
    assert bench.target("relu", "float32", "fwd") == 1.0


def test_write_costs_writes_a_module_with_every_name(tmp_path):
    path = tmp_path / "costs.py"
    stdout = run(ACTIVATIONS, "--write-costs", path, "--size", "2**12", "--repeats", "1", "--passes", "2")
    assert "| function | fwd ×relu | fwd+bwd ×relu |" in stdout
    namespace: dict = {}
    exec(path.read_text(), namespace)
    costs = namespace["MEASURED_COSTS"]
    assert list(costs) == jaxact.names()
    assert costs["relu"] == {"fwd": 1.0, "fwd+bwd": 1.0}
    assert all(set(c) == {"fwd", "fwd+bwd"} and min(c.values()) > 0 for c in costs.values())
    assert {"command", "device_kind", "date", "jax_version"} <= set(namespace["MEASURED_ON"])
    assert (namespace["MEASURED_ON"]["size"], namespace["MEASURED_ON"]["passes"]) == (2**12, 2)


def test_write_costs_defaults_to_its_own_size_and_passes(capsys):
    bench = load(ACTIVATIONS)
    costs = bench.parse_args(["--write-costs"])
    assert (costs.size, costs.passes) == (bench.COST_SIZE, bench.COST_PASSES) == (2**20, 3)
    assert bench.parse_args([]).size == bench.DEFAULT_SIZE == 2**24
    with pytest.raises(SystemExit):
        bench.parse_args(["--write-costs", "--passes", "0"])
    assert "--passes must be at least 1, got 0" in capsys.readouterr().err


def test_costs_take_the_median_over_passes():
    bench = load(ACTIVATIONS)
    runs = [{"fwd": 2.0, "fwd+bwd": 9.0}, {"fwd": 5.0, "fwd+bwd": 1.0}, {"fwd": 1.111, "fwd+bwd": 3.0}]
    # one disturbed pass (9.0, 5.0) does not move the result
    assert bench.median_over_passes(runs) == {"fwd": 2.0, "fwd+bwd": 3.0}
    assert bench.median_over_passes(runs[2:]) == {"fwd": 1.11, "fwd+bwd": 3.0}


def test_measured_costs_cover_every_registered_name():
    from jaxact._measured_costs import MEASURED_COSTS, MEASURED_ON

    assert set(MEASURED_COSTS) == set(jaxact.names())
    for name, cost in MEASURED_COSTS.items():
        assert set(cost) == {"fwd", "fwd+bwd"}, name
        assert all(isinstance(v, float) and v > 0 for v in cost.values()), name
    assert MEASURED_ON["command"].startswith("python benchmarks/activations.py --write-costs")


def test_table_shows_the_measured_cost():
    from jaxact._measured_costs import MEASURED_COSTS
    from jaxact._table import COLUMNS

    column = COLUMNS.index("cost")
    for line in jaxact.table().splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        multiple = MEASURED_COSTS[cells[0]]["fwd+bwd"]
        assert cells[column].endswith(f"({multiple:.1f}× relu)")
        assert jaxact.spec(cells[0]).cost == (
            "lowest" if multiple <= 1.25 else "low" if multiple <= 2 else "medium" if multiple <= 4 else "high"
        )


# ----------------------------------------------------------------------------
# training_step.py
# ----------------------------------------------------------------------------
def test_training_step_quick_prints_a_table_and_json(tmp_path):
    out = tmp_path / "step.json"
    stdout = run(TRAINING_STEP, "--quick", "--only", "relu,gelu", "--json", out)
    assert "device: " in stdout and "jax 0." in stdout and "MLP: 2 dense layers" in stdout
    bench = load(TRAINING_STEP)
    assert table_header(stdout) == list(bench.COLUMNS)
    assert "memory targets met: " in stdout
    data = json.loads(out.read_text())
    assert {"layers", "width", "batch", "dtype", "repeats"} <= set(data["environment"])
    rows = {row["activation"]: row for row in data["rows"]}
    assert set(rows) == {"relu", "gelu"}
    for row in rows.values():
        assert row["jax_nn"] == row["activation"]
        assert row["median_ratio"] is not None and row["jax_nn_ms"] is not None
        for side in ("jaxact_memory", "jax_nn_memory"):
            assert set(row[side]) == {"temp", "argument", "output", "alias", "total"}
        assert row["memory_target"] == "<"  # relu and gelu must use strictly less


def test_training_step_measures_every_elementwise_activation():
    bench = load(TRAINING_STEP)
    assert bench.activations_to_measure(None) == ELEMENTWISE
    assert (bench.DEFAULT_LAYERS, bench.DEFAULT_WIDTH, bench.DEFAULT_BATCH) == (16, 1024, 256)
    with pytest.raises(SystemExit):
        bench.activations_to_measure(["softmax"])


# ----------------------------------------------------------------------------
# device_run.sh: the one prepared call for a lent GPU machine
# ----------------------------------------------------------------------------
def test_device_run_quick_writes_every_file(tmp_path):
    env = {**os.environ, "OUT": str(tmp_path), "QUICK": "1", "PYTHON": sys.executable}
    done = subprocess.run(["bash", str(BENCHMARKS / "device_run.sh")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    written = {p.name for p in tmp_path.iterdir()}
    for name in ("activations", "training_step", "monitor_overhead"):
        assert {f"{name}.md", f"{name}.json", f"{name}.err"} <= written
        assert f"{name}: exit 0" in (tmp_path / "environment.txt").read_text()
    assert "passed" in (tmp_path / "tests.txt").read_text()
