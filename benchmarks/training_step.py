"""A training step per activation: jaxact vs jax.nn, step time and compiled memory.

What is measured
----------------
A ``--layers``-layer MLP (default 16 dense layers of width 1024, batch 256,
float32), the activation after every layer but the last, a mean-squared-error
loss and a plain SGD update, jitted as one step with the parameters donated
(``jax.jit(step, donate_argnums=0)``, as a training loop would).  It is written
in plain jax (parameters are a list of ``{"w", "b"}`` arrays), so it depends on
neither flax nor optax.  For every elementwise activation in the registry, the
same step is built with ``jaxact.get(name)`` and with the jax.nn counterpart
(``getattr(jax.nn, spec.jax_nn)``); activations without one are measured for
jaxact alone.  (Row-wise functions such as softmax are not hidden-layer
activations and are left out.)

* **Step time**: both steps are compiled and warmed up, then timed interleaved
  (one call of each per round, rotating order; each carries its own parameters
  from step to step); reported: median step time and the median paired ratio
  jaxact / jax.nn with its spread.  See ``_timing.py``.
* **Compiled memory**: ``jax.jit(step, donate_argnums=0).lower(...).compile()
  .memory_analysis()``: ``temp`` is the scratch the program needs besides its
  arguments and outputs, which is where the residuals saved for the backward
  pass live; ``total`` = arguments + outputs - aliased (donated) + temp.  What
  the custom_jvp rules save shows in ``temp``.  The target (issue 5) is
  jaxact's total <= jax.nn's for every activation and lower for relu, silu and
  gelu; the ``target`` column shows it.  Some backends do not report memory
  analysis; the columns then read "n/a".

Nothing is asserted on timings; the script reports.  Only jax APIs are used,
so the same command runs on CPU, GPU and TPU.

The diagnostics monitor's overhead on a training step (issue 5, third item) is
measured by ``benchmarks/monitor_overhead.py`` with the same machinery.

    python benchmarks/training_step.py                         # 16 x 1024, batch 256
    python benchmarks/training_step.py --only relu,gelu --repeats 11
    python benchmarks/training_step.py --layers 4 --width 256 --batch 64
    python benchmarks/training_step.py --quick --json out.json  # smoke test
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import jax
import jax.numpy as jnp

import jaxact

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import (  # noqa: E402
    Paired,
    environment,
    header_lines,
    interleaved,
    median_ms,
    parse_list,
    warm_up,
)

DEFAULT_LAYERS, DEFAULT_WIDTH, DEFAULT_BATCH = 16, 1024, 256
DEFAULT_REPEATS = 7
QUICK_LAYERS, QUICK_WIDTH, QUICK_BATCH, QUICK_REPEATS = 2, 32, 8, 2
LEARNING_RATE = 1e-3
DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}
# the memory target: lower than jax.nn (not only equal) for these
STRICTLY_LOWER = ("relu", "silu", "gelu")


@dataclass
class Memory:
    temp: int | None
    argument: int | None
    output: int | None
    alias: int | None
    total: int | None


@dataclass
class Row:
    activation: str
    jax_nn: str | None
    jaxact_ms: float
    jax_nn_ms: float | None
    median_ratio: float | None
    min_ratio: float | None
    max_ratio: float | None
    jaxact_memory: Memory
    jax_nn_memory: Memory | None
    memory_target: str | None
    memory_target_met: bool | None


# ----------------------------------------------------------------------------
# the model and the step
# ----------------------------------------------------------------------------
def init_params(layers: int, width: int, dtype) -> list[dict[str, jax.Array]]:
    keys = jax.random.split(jax.random.key(0), layers)
    scale = 1.0 / width**0.5
    return [
        {"w": (scale * jax.random.normal(k, (width, width), jnp.float32)).astype(dtype),
         "b": jnp.zeros((width,), dtype)}
        for k in keys
    ]


def make_step(activation: Callable, lr: float = LEARNING_RATE) -> Callable:
    """One SGD step of the MLP with ``activation`` between the dense layers (not jitted)."""

    def loss(params, x, y):
        h = x
        for i, p in enumerate(params):
            h = h @ p["w"] + p["b"]
            if i < len(params) - 1:
                h = activation(h)
        return jnp.mean(jnp.square(h - y).astype(jnp.float32))

    def step(params, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        new = jax.tree.map(lambda p, g: (p - lr * g).astype(p.dtype), params, grads)
        return new, value

    return step


def compile_step(step: Callable, params, x, y):
    """The donated step, lowered and compiled for these shapes."""
    return jax.jit(step, donate_argnums=0).lower(params, x, y).compile()


def compiled_memory(compiled) -> Memory:
    """``memory_analysis()`` of a compiled step (None fields where unavailable)."""
    try:
        m = compiled.memory_analysis()
    except Exception:  # noqa: BLE001 - some backends do not implement it
        m = None
    if m is None:
        return Memory(None, None, None, None, None)
    temp = int(m.temp_size_in_bytes)
    arg = int(m.argument_size_in_bytes)
    out = int(m.output_size_in_bytes)
    alias = int(m.alias_size_in_bytes)
    return Memory(temp, arg, out, alias, arg + out - alias + temp)


def step_timer(compiled, params, x, y) -> Callable[[], float]:
    """Times one call of the compiled, donated step; the updated parameters feed the next."""
    jitted = compiled
    state = {"params": jax.tree.map(jnp.copy, params)}

    def run() -> float:
        start = time.perf_counter()
        new, value = jitted(state["params"], x, y)
        jax.block_until_ready((new, value))
        elapsed = time.perf_counter() - start
        state["params"] = new
        return elapsed

    return run


# ----------------------------------------------------------------------------
# one row
# ----------------------------------------------------------------------------
def activations_to_measure(only: list[str] | None) -> list[str]:
    available = [n for n in jaxact.names() if jaxact.spec(n).kind == "elementwise"]
    if not only:
        return available
    chosen = []
    for name in only:
        canonical = jaxact.spec(name).name
        if jaxact.spec(canonical).kind != "elementwise":
            raise SystemExit(f"--only: {name!r} is not an elementwise activation")
        if canonical not in chosen:
            chosen.append(canonical)
    return chosen


def measure(name: str, args: argparse.Namespace, params, x, y) -> Row:
    label = jaxact.spec(name).jax_nn
    ours = compile_step(make_step(jaxact.get(name)), params, x, y)
    mem_ours = compiled_memory(ours)
    runs = [step_timer(ours, params, x, y)]
    mem_theirs = None
    if label is not None:
        theirs = compile_step(make_step(getattr(jax.nn, label)), params, x, y)
        mem_theirs = compiled_memory(theirs)
        runs.append(step_timer(theirs, params, x, y))
    for run in runs:
        warm_up(run)
    times = interleaved(runs, args.repeats)
    row = Row(name, label, median_ms(times[0]), None, None, None, None, mem_ours, mem_theirs, None, None)
    if label is not None:
        ratio = Paired.of(times[0], times[1])
        row.jax_nn_ms = median_ms(times[1])
        row.median_ratio, row.min_ratio, row.max_ratio = ratio.median, ratio.low, ratio.high
        if mem_ours.total is not None and mem_theirs.total is not None:
            strict = name in STRICTLY_LOWER
            row.memory_target = "<" if strict else "≤"
            row.memory_target_met = (mem_ours.total < mem_theirs.total) if strict else (
                mem_ours.total <= mem_theirs.total)
    return row


# ----------------------------------------------------------------------------
# reporting
# ----------------------------------------------------------------------------
COLUMNS = (
    "activation", "jaxact ms", "jax.nn ms", "median ratio", "ratio spread",
    "jaxact temp MiB", "jax.nn temp MiB", "jaxact total MiB", "jax.nn total MiB", "memory target",
)


def mib(n: int | None) -> str:
    return "n/a" if n is None else f"{n / 2**20:.2f}"


def markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|---|" + "---:|" * (len(COLUMNS) - 1)]
    for r in rows:
        theirs = r.jax_nn_memory
        if r.memory_target is None:
            target = "-"
        else:
            target = f"{r.memory_target} {'✓' if r.memory_target_met else '✗'}"
        cells = [
            r.activation,
            f"{r.jaxact_ms:.2f}",
            "-" if r.jax_nn_ms is None else f"{r.jax_nn_ms:.2f}",
            "-" if r.median_ratio is None else f"{r.median_ratio:.2f}",
            "-" if r.min_ratio is None else f"{r.min_ratio:.2f}-{r.max_ratio:.2f}",
            mib(r.jaxact_memory.temp), "-" if theirs is None else mib(theirs.temp),
            mib(r.jaxact_memory.total), "-" if theirs is None else mib(theirs.total),
            target,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Training-step time and compiled memory, jaxact vs jax.nn.")
    p.add_argument("--layers", type=int, default=None, help=f"dense layers (default {DEFAULT_LAYERS})")
    p.add_argument("--width", type=int, default=None, help=f"layer width (default {DEFAULT_WIDTH})")
    p.add_argument("--batch", type=int, default=None, help=f"batch size (default {DEFAULT_BATCH})")
    p.add_argument("--dtype", choices=list(DTYPES), default="float32",
                   help="parameter and activation dtype (default float32)")
    p.add_argument("--repeats", type=int, default=None,
                   help=f"interleaved timing rounds (default {DEFAULT_REPEATS})")
    p.add_argument("--only", type=parse_list, default=None,
                   help="comma-separated activation names (default: every elementwise activation)")
    p.add_argument("--json", metavar="PATH", default=None, help="also write the results as JSON")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke test: {QUICK_LAYERS} layers of width {QUICK_WIDTH}, batch "
                   f"{QUICK_BATCH}, {QUICK_REPEATS} repeats")
    args = p.parse_args(argv)
    defaults = (QUICK_LAYERS, QUICK_WIDTH, QUICK_BATCH, QUICK_REPEATS) if args.quick else (
        DEFAULT_LAYERS, DEFAULT_WIDTH, DEFAULT_BATCH, DEFAULT_REPEATS)
    for attr, value in zip(("layers", "width", "batch", "repeats"), defaults):
        if getattr(args, attr) is None:
            setattr(args, attr, value)
        if getattr(args, attr) < 1:
            p.error(f"--{attr} must be at least 1")
    if args.layers < 2:
        p.error("--layers must be at least 2 (the activation sits between layers)")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    names = activations_to_measure(args.only)
    command = [sys.argv[0] if sys.argv[0].endswith(".py") else "benchmarks/training_step.py", *argv]
    env = environment(command, layers=args.layers, width=args.width, batch=args.batch,
                      dtype=args.dtype, repeats=args.repeats)
    print("\n".join(header_lines(env)))
    print(f"MLP: {args.layers} dense layers of width {args.width}, batch {args.batch}, {args.dtype}, "
          f"SGD, parameters donated; repeats: {args.repeats}")
    print("times: median step time; ratio: median paired jaxact / jax.nn (> 1: jaxact is slower); "
          "memory: compiled.memory_analysis(), temp = scratch (residuals), "
          "total = arguments + outputs - aliased + temp; target: jaxact total vs jax.nn total")
    print("", flush=True)

    dtype = DTYPES[args.dtype]
    params = init_params(args.layers, args.width, dtype)
    kx, ky = jax.random.split(jax.random.key(1))
    x = jax.random.normal(kx, (args.batch, args.width), jnp.float32).astype(dtype)
    y = jax.random.normal(ky, (args.batch, args.width), jnp.float32).astype(dtype)

    rows = []
    start = time.perf_counter()
    for name in names:
        rows.append(measure(name, args, params, x, y))
        print(f"  {name} done ({time.perf_counter() - start:.0f}s)", file=sys.stderr, flush=True)

    print(markdown_table(rows))
    compared = [r for r in rows if r.memory_target is not None]
    met = [r for r in compared if r.memory_target_met]
    print()
    print(f"memory targets met: {len(met)}/{len(compared)}"
          + "".join(f"\n  missed: {r.activation}: jaxact {mib(r.jaxact_memory.total)} MiB vs "
                    f"jax.nn {mib(r.jax_nn_memory.total)} MiB (needs {r.memory_target})"
                    for r in compared if not r.memory_target_met))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"environment": env, "rows": [asdict(r) for r in rows]}, fh, indent=2)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
