"""The benchmark script runs (smoke test: tiny sizes, no timing is asserted)."""
import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "activations.py"


def test_quick_benchmark_prints_a_table_and_json(tmp_path):
    out = tmp_path / "bench.json"
    run = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "| function | dtype | mode |" in run.stdout
    data = json.loads(out.read_text())
    assert data["rows"], "no rows in the JSON output"
    assert {"relu", "glu"} <= {row["function"] for row in data["rows"]}
