#!/usr/bin/env bash
# One prepared call for a lent GPU machine (the `device` tool's `run`):
# the accuracy tests on that backend, then the three benchmarks, everything under $OUT.
#
#   bash benchmarks/device_run.sh              # on the device machine (at most 9 1/4 minutes)
#   QUICK=1 bash benchmarks/device_run.sh      # smoke test, on any machine (seconds)
#
# The device machine's python3 already has jax with CUDA, flax, optax, chex, pytest,
# pytest-xdist, hypothesis and mpmath, and nothing can be installed there: jaxact is
# taken from this checkout through PYTHONPATH.  Each step has its own time limit, so a
# slow or failing step still leaves the others' files; the session's device time is
# 15 minutes in all, and a machine takes 1-2 minutes to start.
#
# Files written under $OUT (default ./device-out): environment.txt, tests.txt,
# activations.{md,json}, training_step.{md,json}, monitor_overhead.{md,json}, and a
# .err file per benchmark.  The exit status is that of the tests.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-device-out}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

if [ -n "${QUICK:-}" ]; then
    tests=(tests/test_numerics.py -k "exp_narrow or kept_as_is")
    bench=(--quick) train=(--quick) monitor=(--quick) workers=1
else
    # the accuracy contract, where XLA's GPU code generation (FMA contraction, its own
    # exp and divide) could break the error-free transformations that the CPU passes
    tests=(tests/test_numerics.py tests/test_contract.py)
    bench=(--repeats 15) train=(--repeats 5) monitor=(--repeats 11) workers=8
fi

"$PY" -c "import platform, jax, jaxact; print('python', platform.python_version(), 'jax', jax.__version__, 'jaxact', jaxact.__version__, jax.devices())" \
    > "$OUT/environment.txt" 2>&1

xdist=()
[ "$workers" -gt 1 ] && xdist=(-n "$workers")
timeout 200 "$PY" -m pytest -q -p no:cacheprovider "${xdist[@]}" "${tests[@]}" > "$OUT/tests.txt" 2>&1
status=$?

run_bench() {  # name, limit in seconds, arguments...
    local name=$1 limit=$2
    shift 2
    timeout "$limit" "$PY" "benchmarks/$name.py" "$@" --json "$OUT/$name.json" > "$OUT/$name.md" 2> "$OUT/$name.err"
    echo "$name: exit $?" >> "$OUT/environment.txt"
}
run_bench activations 220 "${bench[@]}"
run_bench training_step 90 "${train[@]}"
run_bench monitor_overhead 45 "${monitor[@]}"

tail -n 3 "$OUT/tests.txt"
cat "$OUT/environment.txt"
exit $status
