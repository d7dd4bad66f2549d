"""Time every jaxact activation against the jax.nn function it replaces.

What is measured
----------------
For each registered activation whose spec names a jax.nn counterpart
(``jaxact.spec(name).jax_nn``), both functions are called with their default
parameters and timed in one process, on the default JAX backend, in two modes:

* ``fwd``: ``jax.jit(f)(x)``.
* ``fwd+bwd``: ``jax.jit(lambda x, ct: (y, vjp(ct)))`` where ``y, vjp =
  jax.vjp(f, x)`` and ``ct`` is an all-ones cotangent passed as a *runtime
  argument*.  Both the output and the input gradient are returned, so the
  forward pass cannot be dead-code eliminated, and because the cotangent is an
  argument rather than a constant XLA cannot fold the multiplication by 1 away
  (``jax.grad(lambda x: f(x).sum())`` lets it do both), which is what a
  backward pass inside a network sees.

Inputs are ``3 * standard normal`` samples (both sides of every kink are hit),
drawn in float32 and cast to the benchmarked dtype.  Elementwise activations get
a 1-D array of ``--size`` elements; axis activations (softmax, log_softmax, glu)
get a ``[size // 1024, 1024]`` matrix and work on the last axis (glu splits it
into two halves of 512).

Method
------
Both candidates are compiled and warmed up before anything is timed.  Then, for
``--repeats`` rounds, each round times one call of each candidate (wall clock
around the call and ``block_until_ready``), alternating which goes first
(jaxact, jax.nn / jax.nn, jaxact / ...) so that neither systematically inherits
a warm cache or a quiet moment.  Each round gives a *paired ratio*
jaxact / jax.nn measured seconds apart.  On a shared, noisy machine a slow
phase (another process, frequency scaling) hits both members of a pair, so the
paired ratio is far more stable than the ratio of two separately measured
times; the median discards the rounds that were disturbed anyway.  Reported:
the median time of each candidate, the median paired ratio and the min/max
paired ratio as a noise indicator (a wide spread means the run was noisy, not
that one function is erratic).

Nothing here asserts on timings; the script reports.  Only jax APIs are used,
so the same command runs unchanged on CPU, GPU or TPU.

    python benchmarks/activations.py                      # size 2**22, 15 repeats
    python benchmarks/activations.py --size 2**24         # the big run
    python benchmarks/activations.py --only gelu,softmax --dtypes bfloat16
    python benchmarks/activations.py --quick              # smoke test (relu, glu), seconds
    python benchmarks/activations.py --json out.json
"""
from __future__ import annotations

import argparse
import gc
import json
import platform
import shlex
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from typing import Callable

import jax
import jax.numpy as jnp

import jaxact

DEFAULT_SIZE = 2**22
DEFAULT_REPEATS = 15
QUICK_SIZE = 2**16
QUICK_REPEATS = 3
# --quick times a subset that still exercises every code path of this script (an
# elementwise input, an axis input whose output shape differs from the input's) so
# that it runs in seconds: compiling all 200 programs takes ~30 s on 2 CPU cores.
QUICK_ONLY = ("relu", "glu")
AXIS_WIDTH = 1024
WARMUP_CALLS = 2
MODES = ("fwd", "fwd+bwd")
DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


@dataclass
class Row:
    """One result line: one function, dtype and mode."""

    function: str
    jax_nn: str
    dtype: str
    mode: str
    shape: list[int]
    jaxact_ms: float
    jax_nn_ms: float
    median_ratio: float
    min_ratio: float
    max_ratio: float
    ratios: list[float]


# ----------------------------------------------------------------------------
# what to benchmark
# ----------------------------------------------------------------------------
def benchmarked_names(only: list[str] | None) -> list[str]:
    """Canonical names of the activations to time: those with a jax.nn counterpart.

    ``only`` (names or aliases) restricts the list; asking for a function with
    no jax.nn counterpart is an error rather than a silent skip.
    """
    available = [n for n in jaxact.names() if jaxact.spec(n).jax_nn is not None]
    if not only:
        return available
    chosen = []
    for name in only:
        canonical = jaxact.spec(name).name  # raises ActivationError for unknown names
        if jaxact.spec(canonical).jax_nn is None:
            raise SystemExit(f"--only: {name!r} has no jax.nn counterpart to compare with")
        if canonical not in chosen:
            chosen.append(canonical)
    return chosen


def candidates(name: str) -> tuple[Callable, Callable]:
    """(jaxact function, jax.nn function) for a canonical name, both at their defaults."""
    return jaxact.get(name), getattr(jax.nn, jaxact.spec(name).jax_nn)


def input_shape(name: str, size: int) -> tuple[int, ...]:
    """1-D ``(size,)`` for elementwise functions, ``(size // 1024, 1024)`` for axis ones."""
    if jaxact.spec(name).kind == "elementwise":
        return (size,)
    return (max(1, size // AXIS_WIDTH), AXIS_WIDTH)


def make_input(shape: tuple[int, ...], dtype) -> jax.Array:
    """Deterministic ``3 * N(0, 1)`` samples, drawn in float32 and cast to ``dtype``."""
    x = 3.0 * jax.random.normal(jax.random.key(0), shape, jnp.float32)
    return jax.block_until_ready(x.astype(dtype))


# ----------------------------------------------------------------------------
# the timed programs
# ----------------------------------------------------------------------------
def forward(f: Callable) -> Callable:
    """The jitted forward pass ``x -> f(x)``."""
    return jax.jit(lambda x: f(x))


def forward_backward(f: Callable) -> Callable:
    """The jitted forward+backward pass ``(x, ct) -> (f(x), ct @ df/dx)``.

    The cotangent is an argument (all ones at call time) so XLA cannot treat it
    as a constant; returning ``f(x)`` keeps the forward pass alive.
    """

    def step(x, ct):
        y, vjp = jax.vjp(f, x)
        return y, vjp(ct)[0]

    return jax.jit(step)


def program_and_args(f: Callable, mode: str, x: jax.Array) -> tuple[Callable, tuple]:
    """The jitted program for ``mode`` and the arguments to call it with."""
    if mode == "fwd":
        return forward(f), (x,)
    out = jax.eval_shape(f, x)
    ct = jax.block_until_ready(jnp.ones(out.shape, out.dtype))
    return forward_backward(f), (x, ct)


# ----------------------------------------------------------------------------
# timing
# ----------------------------------------------------------------------------
def time_call(program: Callable, args: tuple) -> float:
    """Wall-clock seconds for one call, including ``block_until_ready`` on the result.

    The result is freed only after the clock stops, so deallocating it is not timed.
    """
    start = time.perf_counter()
    out = jax.block_until_ready(program(*args))
    elapsed = time.perf_counter() - start
    del out
    return elapsed


def warm_up(program: Callable, args: tuple) -> None:
    """Compile ``program`` for ``args`` and run it a few times untimed."""
    for _ in range(WARMUP_CALLS):
        jax.block_until_ready(program(*args))


def interleaved_times(
    ours: Callable, theirs: Callable, args: tuple, repeats: int
) -> tuple[list[float], list[float]]:
    """Per-round times (seconds) of both programs, called alternately.

    Round ``i`` times ``ours`` then ``theirs`` for even ``i`` and the reverse
    for odd ``i``; the two lists stay aligned by round for paired ratios.  The
    garbage collector is paused meanwhile (as ``timeit`` does) so that a
    collection does not land inside one candidate's call.
    """
    t_ours, t_theirs = [], []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(repeats):
            if i % 2 == 0:
                a = time_call(ours, args)
                b = time_call(theirs, args)
            else:
                b = time_call(theirs, args)
                a = time_call(ours, args)
            t_ours.append(a)
            t_theirs.append(b)
    finally:
        if gc_was_enabled:
            gc.enable()
    return t_ours, t_theirs


def measure(name: str, dtype_name: str, mode: str, size: int, repeats: int) -> Row:
    """Benchmark one (function, dtype, mode) and summarise it as a :class:`Row`."""
    ours_f, theirs_f = candidates(name)
    shape = input_shape(name, size)
    x = make_input(shape, DTYPES[dtype_name])
    ours, args = program_and_args(ours_f, mode, x)
    theirs, _ = program_and_args(theirs_f, mode, x)
    warm_up(ours, args)
    warm_up(theirs, args)
    t_ours, t_theirs = interleaved_times(ours, theirs, args, repeats)
    ratios = [a / b for a, b in zip(t_ours, t_theirs)]
    return Row(
        function=name,
        jax_nn=jaxact.spec(name).jax_nn,
        dtype=dtype_name,
        mode=mode,
        shape=list(shape),
        jaxact_ms=1e3 * statistics.median(t_ours),
        jax_nn_ms=1e3 * statistics.median(t_theirs),
        median_ratio=statistics.median(ratios),
        min_ratio=min(ratios),
        max_ratio=max(ratios),
        ratios=ratios,
    )


# ----------------------------------------------------------------------------
# reporting
# ----------------------------------------------------------------------------
def environment(argv: list[str], size: int, repeats: int) -> dict:
    """Device, versions and settings printed above the table and stored in the JSON."""
    device = jax.devices()[0]
    return {
        "command": shlex.join(["python", *argv]),
        "device_kind": device.device_kind,
        "platform": device.platform,
        "device_count": jax.device_count(),
        "jax_version": jax.__version__,
        "jaxlib_version": jax.lib.__version__,
        "jaxact_version": jaxact.__version__,
        "python_version": platform.python_version(),
        "size": size,
        "axis_shape": [max(1, size // AXIS_WIDTH), AXIS_WIDTH],
        "repeats": repeats,
    }


def header(env: dict) -> str:
    """Markdown preamble: command, device, versions, settings and how to read the table."""
    return "\n".join(
        [
            f"command: `{env['command']}`",
            f"device: {env['device_kind']} ({env['platform']}, {env['device_count']} device(s))",
            f"jax {env['jax_version']}, jaxlib {env['jaxlib_version']}, "
            f"jaxact {env['jaxact_version']}, python {env['python_version']}",
            f"size: {env['size']} elements (axis functions: {env['axis_shape'][0]}x"
            f"{env['axis_shape'][1]}), repeats: {env['repeats']}",
            "times: median per call; ratio: median of per-round paired ratios "
            "jaxact / jax.nn (> 1 means jaxact is slower); spread: min-max paired ratio",
            "",
        ]
    )


def markdown_table(rows: list[Row]) -> str:
    """The results as a markdown table."""
    lines = [
        "| function | dtype | mode | jaxact ms | jax.nn ms | median ratio | ratio spread |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.function} | {r.dtype} | {r.mode} | {r.jaxact_ms:.3f} | {r.jax_nn_ms:.3f} "
            f"| {r.median_ratio:.2f} | {r.min_ratio:.2f}-{r.max_ratio:.2f} |"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------------
def parse_size(text: str) -> int:
    """An element count, written as an int (``4194304``) or a power of two (``2**22``)."""
    try:
        if "**" in text:
            base, exp = text.split("**")
            value = int(base) ** int(exp)
        else:
            value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer or BASE**EXP: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"size must be positive, got {value}")
    return value


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the flags; ``--quick`` only changes size/repeats that were not given."""
    p = argparse.ArgumentParser(
        description="Time jaxact activations against their jax.nn counterparts.",
    )
    p.add_argument("--size", type=parse_size, default=None,
                   help="elements per input (int or 2**k; default 2**22, --quick 2**16)")
    p.add_argument("--repeats", type=int, default=None,
                   help=f"interleaved timing rounds (default {DEFAULT_REPEATS}, --quick {QUICK_REPEATS})")
    p.add_argument("--only", type=lambda s: [n for n in s.split(",") if n],
                   default=None, help="comma-separated activation names (default: all with a jax.nn counterpart)")
    p.add_argument("--dtypes", type=lambda s: [d for d in s.split(",") if d],
                   default=list(DTYPES), help="comma-separated dtypes (default: " + ",".join(DTYPES) + ")")
    p.add_argument("--json", metavar="PATH", default=None, help="also write the results as JSON")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke test: size 2**16, {QUICK_REPEATS} repeats and, unless --only "
                   f"is given, only {','.join(QUICK_ONLY)}")
    args = p.parse_args(argv)
    for d in args.dtypes:
        if d not in DTYPES:
            p.error(f"--dtypes: unknown dtype {d!r}; choose from {', '.join(DTYPES)}")
    if args.size is None:
        args.size = QUICK_SIZE if args.quick else DEFAULT_SIZE
    if args.repeats is None:
        args.repeats = QUICK_REPEATS if args.quick else DEFAULT_REPEATS
    if args.only is None and args.quick:
        args.only = list(QUICK_ONLY)
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table to stdout and progress to stderr."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    names = benchmarked_names(args.only)
    env = environment([sys.argv[0], *argv], args.size, args.repeats)
    print(header(env), flush=True)

    rows = []
    start = time.perf_counter()
    for name in names:
        for dtype_name in args.dtypes:
            for mode in MODES:
                rows.append(measure(name, dtype_name, mode, args.size, args.repeats))
        print(f"  {name} done ({time.perf_counter() - start:.0f}s)", file=sys.stderr, flush=True)

    print(markdown_table(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"environment": env, "rows": [asdict(r) for r in rows]}, fh, indent=2)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
