"""Throughput of every jaxact activation against the jax.nn function it replaces.

What is measured
----------------
For each registered activation, the jaxact function and its jax.nn counterpart
(``jaxact.spec(name).jax_nn``; softmin, which jax.nn lacks, is compared with
``jax.nn.softmax(-x)``) are called with their default parameters and timed in
one process, on the default JAX backend, together with a *roofline* program
(and torch on CPU when it imports), in three modes:

* ``fwd``: ``jax.jit(f)(x)``.  The output is a fresh allocation; on CPU, with
  64 MiB outputs, the page faults of that allocation cost about as much as the
  arithmetic, which hides differences between functions.
* ``fwd(donated)``: ``jax.jit(f, donate_argnums=0)(x_copy)``: the output is
  written into the donated input buffer (a fresh copy of ``x``, made and made
  ready before the clock starts), so the arithmetic shows.  Only where the
  output has the input's shape and dtype (not glu).
* ``fwd+bwd``: ``jax.jit(lambda x, ct: (y, vjp(ct)))`` where ``y, vjp =
  jax.vjp(f, x)`` and ``ct`` is an all-ones cotangent passed as a *runtime
  argument*.  Both the output and the input gradient are returned, so the
  forward pass cannot be dead-code eliminated, and XLA cannot fold the
  multiplication by 1 away (``jax.grad(lambda x: f(x).sum())`` lets it do
  both), which is what a backward pass inside a network sees.

A parameter that switches to another formula gets a row of its own
(``FORMULA_VARIANTS``: ``gelu(approximate=False)``, against jax.nn's gelu with
the same argument).

dtypes: float32 and bfloat16.  Inputs are ``3 * standard normal`` samples (both
sides of every kink are hit), drawn in float32 and cast.  Elementwise
activations get a 1-D array of ``--size`` elements (default 2**24); the
row-wise ones (softmax, log_softmax, softmin, glu) get each of ``--rows``
(default ``4096x1024,256x32768``) and work on the last axis.

Effective bandwidth and the roofline
------------------------------------
``GB/s`` counts the *minimum* memory traffic of the mode, whatever the program
really moves: ``fwd`` and ``fwd(donated)`` = read x + write y; ``fwd+bwd`` =
read x + read ct + write y + write dx.  (1 GB = 1e9 bytes.)

The roofline is a trivial jitted elementwise program with exactly that traffic
on the same arrays, in the same mode: ``x * 2`` (fwd, donated or not) and
``(x * 2, ct * x)`` (fwd+bwd); for glu, whose output is half the input,
``x[..., :h] + x[..., h:]`` and ``(that, x * concat(ct, ct))``.  It is timed
interleaved with the candidates, in the same rounds.  ``% roofline`` is the
median over rounds of roofline time / candidate time: 100% means the function
runs as fast as moving its bytes allows on this device in this run.  ``floor``
is the median paired ratio roofline / jax.nn: the ratio to jax.nn that a
function moving only its bytes would reach.  A target below the floor is out of
reach on this machine for any formulation (the summary says so); for example,
where jax.nn already runs at 80% of the roofline, no softmax can be 0.6x it.

Method
------
See ``_timing.py``: everything is compiled and warmed up first; then each of
``--repeats`` rounds times one call of every candidate in a rotating order.
Reported: the median time of each, the median paired ratio jaxact / jax.nn and
its min/max (a noise indicator: a wide spread means a noisy run, not an erratic
function).  ``target`` shows the issue's target for the row (median ratio <= 1.00
for every function, mode and dtype; <= 0.6 for softmax/log_softmax fwd+bwd;
<= 0.7 for bfloat16 sigmoid/silu/gelu) and whether the median meets it.  The
targets are read from the output, never asserted on timings.

Measured cost (``--write-costs``)
---------------------------------
Times every registered jaxact function against jaxact's relu on the same input
(float32, ``fwd`` and ``fwd+bwd``, interleaved, median paired ratio; the median of
``--passes`` such passes) and writes ``jaxact/_measured_costs.py``: the registry's
cost (``jaxact.spec(name).cost`` and ``measured_cost``) and the "cost" column of
``jaxact.table()`` come from it.  Axis functions use a ``[size // 1024, 1024]``
matrix here.  The size defaults to 2**20, not 2**24 (see ``COST_SIZE``).

    python benchmarks/activations.py                      # everything, size 2**24
    python benchmarks/activations.py --size 2**22 --repeats 7
    python benchmarks/activations.py --only gelu,softmax --dtypes bfloat16 --modes fwd+bwd
    python benchmarks/activations.py --quick              # smoke test (relu, glu), seconds
    python benchmarks/activations.py --json out.json
    python benchmarks/activations.py --write-costs --repeats 61    # size 2**20, 3 passes
"""
from __future__ import annotations

import argparse
import json
import pprint
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

import jaxact

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import (  # noqa: E402
    Paired,
    environment,
    header_lines,
    interleaved,
    median_ms,
    parse_list,
    parse_size,
    timer,
    warm_up,
)

DEFAULT_SIZE = 2**24
DEFAULT_ROWS = ((4096, 1024), (256, 32768))
DEFAULT_REPEATS = 15
QUICK_SIZE = 2**16
QUICK_ROWS = ((64, 256), (4, 4096))
QUICK_REPEATS = 3
# --quick times a subset that still exercises every code path (an elementwise
# input with all three modes, an axis input whose output shape differs from the
# input's) so that it runs in seconds.
QUICK_ONLY = ("relu", "glu")
COST_AXIS_WIDTH = 1024
# --write-costs measures at 2**20 elements (4 MiB float32 arrays, a layer's
# activations for a batch of 1024 at width 1024).  At 2**22 and above, each call on
# this CPU is dominated by the page faults of its freshly mapped output, and whether
# the allocator hands back fresh pages changes from process to process: sigmoid's
# forward multiple came out 1.27 in one run and 2.75 in the next.  At 2**20 the pages
# are reused, and the multiples agree run to run within about 15%.
COST_SIZE = 2**20
# ... and takes the median over passes, each pass timing every function once in turn,
# so that one disturbed stretch of time moves one pass, not the result.
COST_PASSES = 3
MODES = ("fwd", "fwd(donated)", "fwd+bwd")
DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}
COSTS_PATH = Path(__file__).resolve().parent.parent / "jaxact" / "_measured_costs.py"

# jax.nn-equivalent for the registered functions jax.nn lacks: (label, function).
REFERENCE_EQUIVALENTS: dict[str, tuple[str, Callable]] = {
    "softmin": ("softmax(-x)", lambda x: jax.nn.softmax(-x, axis=-1)),
}


# Non-default parameters that switch to another formula (and another jax.nn path):
# each is timed as a row of its own, labelled name(param=value).
FORMULA_VARIANTS: dict[str, tuple[dict, ...]] = {
    "gelu": ({"approximate": False},),
}


def variants(name: str) -> list[tuple[str, dict]]:
    """(row label, keyword arguments) for a canonical name: its defaults, then its variants."""
    rows = [(name, {})]
    for kwargs in FORMULA_VARIANTS.get(name, ()):
        rows.append((f"{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})", kwargs))
    return rows


def target(name: str, dtype: str, mode: str) -> float:
    """The issue's target for the median ratio jaxact / jax.nn of one row."""
    name = name.split("(")[0]  # a formula variant has its function's target
    bound = 1.00
    if name in ("softmax", "log_softmax") and mode == "fwd+bwd":
        bound = min(bound, 0.6)
    if dtype == "bfloat16" and name in ("sigmoid", "silu", "gelu"):
        bound = min(bound, 0.7)
    return bound


def meets(ratio: float, bound: float) -> bool:
    """Whether a median ratio meets its target, at the two decimals the table shows."""
    return round(ratio, 2) <= bound


@dataclass
class Row:
    """One result line: one function, dtype, mode and shape."""

    function: str
    jax_nn: str
    dtype: str
    mode: str
    shape: list[int]
    min_bytes: int
    jaxact_ms: float
    jax_nn_ms: float
    roofline_ms: float
    jaxact_gbs: float
    jax_nn_gbs: float
    roofline_gbs: float
    jaxact_roofline_fraction: float
    jax_nn_roofline_fraction: float
    median_ratio: float
    min_ratio: float
    max_ratio: float
    target: float
    target_met: bool
    ratios: list[float]
    torch_ms: float | None = None
    torch_ratio: float | None = None
    # median paired roofline / jax.nn: the ratio of a program that only moves the bytes
    floor_ratio: float | None = None


# ----------------------------------------------------------------------------
# what to benchmark
# ----------------------------------------------------------------------------
def reference(name: str) -> tuple[str, Callable]:
    """(label, function) of the jax.nn counterpart of a canonical name."""
    s = jaxact.spec(name)
    if s.jax_nn is not None:
        return s.jax_nn, getattr(jax.nn, s.jax_nn)
    if name in REFERENCE_EQUIVALENTS:
        return REFERENCE_EQUIVALENTS[name]
    raise KeyError(name)


def has_reference(name: str) -> bool:
    return jaxact.spec(name).jax_nn is not None or name in REFERENCE_EQUIVALENTS


def benchmarked_names(only: list[str] | None) -> list[str]:
    """Canonical names to time: every registered function with a jax.nn equivalent.

    ``only`` (names or aliases) restricts the list; asking for a function with
    nothing to compare with is an error rather than a silent skip.
    """
    available = [n for n in jaxact.names() if has_reference(n)]
    if not only:
        return available
    chosen = []
    for name in only:
        canonical = jaxact.spec(name).name  # raises ActivationError for unknown names
        if not has_reference(canonical):
            raise SystemExit(f"--only: {name!r} has no jax.nn counterpart to compare with")
        if canonical not in chosen:
            chosen.append(canonical)
    return chosen


def shapes_for(name: str, size: int, rows: tuple[tuple[int, int], ...]) -> list[tuple[int, ...]]:
    if jaxact.spec(name).kind == "elementwise":
        return [(size,)]
    return [tuple(r) for r in rows]


_INPUTS: dict = {}


def make_input(shape: tuple[int, ...], dtype) -> jax.Array:
    """Deterministic ``3 * N(0, 1)`` samples, drawn in float32 and cast (cached)."""
    key = (shape, jnp.dtype(dtype).name)
    if key not in _INPUTS:
        x = 3.0 * jax.random.normal(jax.random.key(0), shape, jnp.float32)
        _INPUTS[key] = jax.block_until_ready(x.astype(dtype))
    return _INPUTS[key]


def ones(shape, dtype) -> jax.Array:
    key = ("ones", tuple(shape), jnp.dtype(dtype).name)
    if key not in _INPUTS:
        _INPUTS[key] = jax.block_until_ready(jnp.ones(shape, dtype))
    return _INPUTS[key]


# ----------------------------------------------------------------------------
# the timed programs
# ----------------------------------------------------------------------------
def forward_backward(f: Callable) -> Callable:
    """The jitted forward+backward pass ``(x, ct) -> (f(x), ct @ df/dx)``."""

    def step(x, ct):
        y, vjp = jax.vjp(f, x)
        return y, vjp(ct)[0]

    return jax.jit(step)


def donatable(f: Callable, x: jax.Array) -> bool:
    out = jax.eval_shape(f, x)
    return out.shape == x.shape and out.dtype == x.dtype


def program_timer(f: Callable, mode: str, x: jax.Array) -> Callable[[], float]:
    """A timer of one call of ``f`` on ``x`` in ``mode`` (compiled on first use)."""
    if mode == "fwd":
        return timer(jax.jit(lambda v: f(v)), (x,))
    if mode == "fwd(donated)":
        return timer(jax.jit(lambda v: f(v), donate_argnums=0), lambda: (jnp.copy(x),))
    out = jax.eval_shape(f, x)
    return timer(forward_backward(f), (x, ones(out.shape, out.dtype)))


def roofline_function(in_shape, out_shape) -> Callable:
    """A trivial elementwise map with the minimum traffic of ``f`` (x -> y)."""
    if tuple(in_shape) == tuple(out_shape):
        return lambda x: x * 2
    half = out_shape[-1]
    return lambda x: x[..., :half] + x[..., half:]


def roofline_timer(mode: str, x: jax.Array, out_shape) -> Callable[[], float]:
    """The roofline program with the traffic of ``mode`` on the same arrays."""
    fwd = roofline_function(x.shape, out_shape)
    if mode == "fwd":
        return timer(jax.jit(fwd), (x,))
    if mode == "fwd(donated)":
        return timer(jax.jit(fwd, donate_argnums=0), lambda: (jnp.copy(x),))
    if tuple(x.shape) == tuple(out_shape):
        both = jax.jit(lambda v, ct: (fwd(v), ct * v))
    else:
        both = jax.jit(lambda v, ct: (fwd(v), v * jnp.concatenate([ct, ct], axis=-1)))
    return timer(both, (x, ones(out_shape, x.dtype)))


def min_traffic(mode: str, x: jax.Array, out) -> int:
    """Minimum bytes moved: fwd = x + y; fwd+bwd = x + ct + y + dx."""
    in_bytes = x.size * x.dtype.itemsize
    out_bytes = int(np.prod(out.shape)) * out.dtype.itemsize
    return 2 * (in_bytes + out_bytes) if mode == "fwd+bwd" else in_bytes + out_bytes


# ----------------------------------------------------------------------------
# torch (CPU only, when installed)
# ----------------------------------------------------------------------------
def torch_module():
    """torch, if it imports and the default backend is the CPU; else None."""
    if jax.default_backend() != "cpu":
        return None
    try:
        import torch  # noqa: PLC0415
    except Exception:  # noqa: BLE001 - any import failure means "no torch column"
        return None
    return torch


def torch_function(torch, name: str) -> Callable | None:
    """The torch.nn.functional equivalent at jax.nn's defaults, or None."""
    F = torch.nn.functional
    table = {
        "identity": lambda x: x,
        "relu": F.relu,
        "relu6": F.relu6,
        "leaky_relu": lambda x: F.leaky_relu(x, 0.01),
        "hard_tanh": F.hardtanh,
        "hard_sigmoid": F.hardsigmoid,
        "hard_swish": F.hardswish,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "softplus": F.softplus,
        "log_sigmoid": F.logsigmoid,
        "soft_sign": F.softsign,
        "elu": F.elu,
        "selu": F.selu,
        "celu": F.celu,
        "silu": F.silu,
        "swish": F.silu,
        "mish": F.mish,
        "gelu": lambda x: F.gelu(x, approximate="tanh"),
        "gelu(approximate=False)": F.gelu,
        "softmax": lambda x: F.softmax(x, dim=-1),
        "log_softmax": lambda x: F.log_softmax(x, dim=-1),
        "softmin": lambda x: F.softmin(x, dim=-1),
        "glu": lambda x: F.glu(x, dim=-1),
    }
    return table.get(name)


def torch_timer(torch, f: Callable, mode: str, x: jax.Array) -> Callable[[], float] | None:
    """A timer of the torch function (no donated variant: returns None there)."""
    if mode == "fwd(donated)":
        return None
    tdtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[x.dtype.name]
    xt = torch.from_numpy(np.asarray(x.astype(jnp.float32))).to(tdtype)
    if mode == "fwd":

        def run() -> float:
            with torch.no_grad():
                start = time.perf_counter()
                out = f(xt)
                elapsed = time.perf_counter() - start
            del out
            return elapsed

        return run
    xg = xt.clone().requires_grad_(True)
    with torch.no_grad():
        ct = torch.ones_like(f(xt))

    def run_bwd() -> float:
        start = time.perf_counter()
        y = f(xg)
        (dx,) = torch.autograd.grad(y, xg, ct)
        elapsed = time.perf_counter() - start
        del y, dx
        return elapsed

    return run_bwd


# ----------------------------------------------------------------------------
# one row
# ----------------------------------------------------------------------------
def measure(name: str, dtype_name: str, mode: str, shape, repeats: int, torch=None,
            variant: tuple[str, dict] | None = None) -> Row | None:
    """Benchmark one (function, dtype, mode, shape); None if the mode does not apply.

    ``variant`` = (row label, keyword arguments) from :func:`variants` (default: the
    function's defaults).
    """
    row_label, kwargs = variant or (name, {})
    ours_f = partial(jaxact.get(name), **kwargs)
    label, theirs_f = reference(name)
    if kwargs:
        label, theirs_f = row_label, partial(theirs_f, **kwargs)
    x = make_input(shape, DTYPES[dtype_name])
    if mode == "fwd(donated)" and not donatable(ours_f, x):
        return None
    out = jax.eval_shape(ours_f, x)
    runs = [
        program_timer(ours_f, mode, x),
        program_timer(theirs_f, mode, x),
        roofline_timer(mode, x, out.shape),
    ]
    torch_f = torch_function(torch, row_label) if torch is not None else None
    if torch_f is not None:
        t = torch_timer(torch, torch_f, mode, x)
        if t is not None:
            runs.append(t)
    for run in runs:
        warm_up(run)
    times = interleaved(runs, repeats)
    t_ours, t_theirs, t_roof = times[:3]
    nbytes = min_traffic(mode, x, out)
    ratio = Paired.of(t_ours, t_theirs)
    bound = target(name, dtype_name, mode)
    row = Row(
        function=row_label,
        jax_nn=label,
        dtype=dtype_name,
        mode=mode,
        shape=list(shape),
        min_bytes=nbytes,
        jaxact_ms=median_ms(t_ours),
        jax_nn_ms=median_ms(t_theirs),
        roofline_ms=median_ms(t_roof),
        jaxact_gbs=nbytes / statistics.median(t_ours) / 1e9,
        jax_nn_gbs=nbytes / statistics.median(t_theirs) / 1e9,
        roofline_gbs=nbytes / statistics.median(t_roof) / 1e9,
        jaxact_roofline_fraction=Paired.of(t_roof, t_ours).median,
        jax_nn_roofline_fraction=Paired.of(t_roof, t_theirs).median,
        median_ratio=ratio.median,
        min_ratio=ratio.low,
        max_ratio=ratio.high,
        target=bound,
        target_met=meets(ratio.median, bound),
        ratios=ratio.ratios,
        floor_ratio=Paired.of(t_roof, t_theirs).median,
    )
    if len(times) > 3:
        row.torch_ms = median_ms(times[3])
        row.torch_ratio = Paired.of(t_ours, times[3]).median
    return row


# ----------------------------------------------------------------------------
# reporting
# ----------------------------------------------------------------------------
COLUMNS = (
    "function", "dtype", "mode", "shape", "jaxact ms", "jax.nn ms", "roofline ms",
    "jaxact GB/s", "jax.nn GB/s", "jaxact % roofline", "jax.nn % roofline",
    "median ratio", "ratio spread", "floor", "target",
)
TORCH_COLUMNS = ("torch ms", "jaxact/torch")


def markdown_table(rows: list[Row], with_torch: bool) -> str:
    """The results as a markdown table."""
    columns = COLUMNS + (TORCH_COLUMNS if with_torch else ())
    lines = ["| " + " | ".join(columns) + " |", "|---|---|---|---|" + "---:|" * (len(columns) - 4)]
    for r in rows:
        name = r.function if r.jax_nn == r.function else f"{r.function} (vs {r.jax_nn})"
        cells = [
            name, r.dtype, r.mode, "x".join(map(str, r.shape)),
            f"{r.jaxact_ms:.3f}", f"{r.jax_nn_ms:.3f}", f"{r.roofline_ms:.3f}",
            f"{r.jaxact_gbs:.1f}", f"{r.jax_nn_gbs:.1f}",
            f"{100 * r.jaxact_roofline_fraction:.0f}%", f"{100 * r.jax_nn_roofline_fraction:.0f}%",
            f"{r.median_ratio:.2f}", f"{r.min_ratio:.2f}-{r.max_ratio:.2f}",
            "-" if r.floor_ratio is None else f"{r.floor_ratio:.2f}",
            f"≤{r.target:.2f} {'✓' if r.target_met else '✗'}",
        ]
        if with_torch:
            cells += ["-" if r.torch_ms is None else f"{r.torch_ms:.3f}",
                      "-" if r.torch_ratio is None else f"{r.torch_ratio:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def out_of_reach(r: Row) -> bool:
    """The roofline program itself is slower than the target: no form of the function can meet it here."""
    return r.floor_ratio is not None and not meets(r.floor_ratio, r.target)


def summary(rows: list[Row]) -> str:
    """Targets met / missed, the misses split by whether noise or the roofline explains them."""
    missed = sorted((r for r in rows if not r.target_met),
                    key=lambda r: r.median_ratio / r.target, reverse=True)
    clear = [r for r in missed if not meets(r.min_ratio, r.target)]
    lines = [
        f"targets met: {len(rows) - len(missed)}/{len(rows)} rows; missed clearly (every paired "
        f"ratio above the target): {len(clear)}; missed by the median only (the spread reaches "
        f"the target; rerun with more --repeats): {len(missed) - len(clear)}; out of reach on "
        f"this machine (floor, the roofline's ratio to jax.nn, above the target): "
        f"{sum(map(out_of_reach, missed))}"
    ]
    for r in missed:
        kind = "clearly" if r in clear else "median "
        reach = f"; floor {r.floor_ratio:.2f}: out of reach" if out_of_reach(r) else ""
        lines.append(
            f"  missed {kind}: {r.function} {r.dtype} {r.mode} {'x'.join(map(str, r.shape))}: "
            f"{r.median_ratio:.2f} (target ≤{r.target:.2f}, spread {r.min_ratio:.2f}-{r.max_ratio:.2f}{reach})"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------
# measured cost relative to relu
# ----------------------------------------------------------------------------
COST_MODES = ("fwd", "fwd+bwd")


def measure_costs(size: int, repeats: int, names: list[str], passes: int = 1) -> dict[str, dict[str, float]]:
    """name -> {mode: time(jaxact f) / time(jaxact relu)}, float32: per pass the median
    paired ratio over ``repeats`` interleaved rounds, then the median over ``passes``."""
    relu = jaxact.get("relu")
    timers: dict = {}  # compiled once, reused by every pass
    per_pass: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    start = time.perf_counter()
    for k in range(passes):
        for name in names:
            if name == "relu":  # the unit; relu against itself is measured as a noise check
                per_pass[name].append({mode: 1.0 for mode in COST_MODES})
                continue
            shape = (size,) if jaxact.spec(name).kind == "elementwise" else (
                max(1, size // COST_AXIS_WIDTH), COST_AXIS_WIDTH)
            ratios = {}
            for mode in COST_MODES:
                for key, f in (((shape, mode, "relu"), relu), ((shape, mode, name), jaxact.get(name))):
                    if key not in timers:
                        timers[key] = program_timer(f, mode, make_input(shape, jnp.float32))
                        warm_up(timers[key])
                t_f, t_relu = interleaved([timers[shape, mode, name], timers[shape, mode, "relu"]], repeats)
                ratios[mode] = Paired.of(t_f, t_relu).median
            per_pass[name].append(ratios)
            print(f"  pass {k + 1}/{passes} {name}: "
                  + ", ".join(f"{m} {r:.2f}" for m, r in ratios.items())
                  + f" ({time.perf_counter() - start:.0f}s)", file=sys.stderr, flush=True)
    return {name: median_over_passes(runs) for name, runs in per_pass.items()}


def median_over_passes(runs: list[dict[str, float]]) -> dict[str, float]:
    """{mode: median of the passes' values, rounded to 2 decimals}."""
    return {mode: round(statistics.median(r[mode] for r in runs), 2) for mode in runs[0]}


def relu_noise(size: int, repeats: int) -> dict[str, float]:
    """relu against a second compiled copy of itself: how far from 1.00 noise alone goes."""
    relu = jaxact.get("relu")
    x = make_input((size,), jnp.float32)
    out = {}
    for mode in COST_MODES:
        a, b = program_timer(relu, mode, x), program_timer(relu, mode, x)
        warm_up(a)
        warm_up(b)
        t_a, t_b = interleaved([a, b], repeats)
        out[mode] = round(Paired.of(t_a, t_b).median, 2)
    return out


def write_costs(path: Path, costs: dict, env: dict) -> None:
    """Write the generated module ``jaxact/_measured_costs.py`` (or ``path``)."""
    lines = [
        '"""Measured computation cost of every activation, relative to relu (generated).',
        "",
        "Do not edit: regenerate with the command below.  Each value is the median over",
        "passes of the median over interleaved rounds of the paired ratio",
        "time(jaxact f) / time(jaxact relu)",
        "on the same float32 input (elementwise: a 1-D array; axis functions: a",
        f"[size // {COST_AXIS_WIDTH}, {COST_AXIS_WIDTH}] matrix), for the jitted forward pass",
        '("fwd") and the forward + backward pass with a runtime cotangent ("fwd+bwd").',
        "On a CPU much of the time is memory traffic, so the multiples are smaller",
        "than the arithmetic alone would give; on a shared machine they are noisy.",
        "",
        f"command: {env['command']}",
        f"device: {env['device_kind']} ({env['platform']}, {env['processor']}); date: {env['date']}",
        f"jax {env['jax_version']}, jaxlib {env['jaxlib_version']}, jaxact {env['jaxact_version']}",
        f"size: {env['size']} elements, repeats: {env['repeats']}, passes: {env['passes']}",
        f"noise check: relu against a second copy of itself measured {env['relu_vs_relu']}",
    ]
    if env.get("note"):
        lines.append(f"note: {env['note']}")
    lines += [
        '"""',
        "",
        "MEASURED_ON = " + pprint.pformat({k: env[k] for k in (
            "command", "device_kind", "platform", "date", "jax_version", "jaxact_version",
            "size", "repeats", "passes", "relu_vs_relu")}, width=88, sort_dicts=False),
        "",
        "# name -> {mode: time multiple of relu}",
        "MEASURED_COSTS: dict[str, dict[str, float]] = {",
    ]
    lines += [f"    {name!r}: {costs[name]!r}," for name in costs]
    lines += ["}", ""]
    path.write_text("\n".join(lines))


# ----------------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------------
def parse_rows(text: str) -> tuple[tuple[int, int], ...]:
    try:
        shapes = tuple(tuple(int(v) for v in item.split("x")) for item in parse_list(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ROWSxCOLS[,ROWSxCOLS...], got {text!r}") from None
    if not shapes or any(len(s) != 2 or min(s) < 1 or s[1] % 2 for s in shapes):
        raise argparse.ArgumentTypeError(
            f"expected ROWSxCOLS[,...] with positive sizes and an even COLS, got {text!r}")
    return shapes


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the flags; ``--quick`` only changes the settings that were not given."""
    p = argparse.ArgumentParser(
        description="Time jaxact activations against their jax.nn counterparts.",
    )
    p.add_argument("--size", type=parse_size, default=None,
                   help="elements of the elementwise input (int or 2**k; default 2**24, --quick 2**16)")
    p.add_argument("--rows", type=parse_rows, default=None,
                   help="shapes for the row-wise functions (default 4096x1024,256x32768)")
    p.add_argument("--repeats", type=int, default=None,
                   help=f"interleaved timing rounds (default {DEFAULT_REPEATS}, --quick {QUICK_REPEATS})")
    p.add_argument("--only", type=parse_list, default=None,
                   help="comma-separated activation names (default: all with a jax.nn equivalent)")
    p.add_argument("--dtypes", type=parse_list, default=list(DTYPES),
                   help="comma-separated dtypes (default: " + ",".join(DTYPES) + ")")
    p.add_argument("--modes", type=parse_list, default=list(MODES),
                   help="comma-separated modes (default: " + ",".join(MODES) + ")")
    p.add_argument("--json", metavar="PATH", default=None, help="also write the results as JSON")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke test: small sizes, {QUICK_REPEATS} repeats and, unless --only "
                   f"is given, only {','.join(QUICK_ONLY)}")
    p.add_argument("--write-costs", nargs="?", const=str(COSTS_PATH), default=None, metavar="PATH",
                   help="instead of the comparison, measure every function's cost relative to relu "
                   "(float32) and write it as a Python module (default jaxact/_measured_costs.py)")
    p.add_argument("--note", default="", help="a line stored in the --write-costs header")
    p.add_argument("--passes", type=int, default=COST_PASSES,
                   help=f"--write-costs: passes over every function, median taken (default {COST_PASSES})")
    p.add_argument("--from-json", metavar="PATH", default=None,
                   help="time nothing: print the table and summary of a saved --json file again")
    args = p.parse_args(argv)
    for d in args.dtypes:
        if d not in DTYPES:
            p.error(f"--dtypes: unknown dtype {d!r}; choose from {', '.join(DTYPES)}")
    for m in args.modes:
        if m not in MODES:
            p.error(f"--modes: unknown mode {m!r}; choose from {', '.join(MODES)}")
    if args.size is None:
        args.size = QUICK_SIZE if args.quick else COST_SIZE if args.write_costs is not None else DEFAULT_SIZE
    if args.rows is None:
        args.rows = QUICK_ROWS if args.quick else DEFAULT_ROWS
    if args.repeats is None:
        args.repeats = QUICK_REPEATS if args.quick else DEFAULT_REPEATS
    if args.only is None and args.quick and args.write_costs is None:
        args.only = list(QUICK_ONLY)
    if args.repeats < 1:
        p.error(f"--repeats must be at least 1, got {args.repeats}")
    if args.passes < 1:
        p.error(f"--passes must be at least 1, got {args.passes}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table to stdout and progress to stderr."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    command = [sys.argv[0] if sys.argv[0].endswith(".py") else "benchmarks/activations.py", *argv]

    if args.from_json is not None:
        with open(args.from_json) as fh:
            saved = json.load(fh)
        rows = [Row(**r) for r in saved["rows"]]
        for r in rows:  # recomputed, so that a saved file reads with the current rule
            r.target = target(r.function, r.dtype, r.mode)
            r.target_met = meets(r.median_ratio, r.target)
        print(f"(from {args.from_json}; measured with `{saved['environment']['command']}`)")
        print(markdown_table(rows, with_torch=any(r.torch_ms is not None for r in rows)))
        print()
        print(summary(rows))
        return 0

    if args.write_costs is not None:
        names = jaxact.names() if not args.only else [jaxact.spec(n).name for n in args.only]
        env = environment(command, size=args.size, repeats=args.repeats, passes=args.passes,
                          note=args.note)
        print("\n".join(header_lines(env)), flush=True)
        costs = measure_costs(args.size, args.repeats, names, args.passes)
        env["relu_vs_relu"] = relu_noise(args.size, args.repeats)
        write_costs(Path(args.write_costs), costs, env)
        print("| function | fwd ×relu | fwd+bwd ×relu |\n|---|---:|---:|")
        for name, c in costs.items():
            print(f"| {name} | {c['fwd']:.2f} | {c['fwd+bwd']:.2f} |")
        print(f"noise check (relu vs relu): {env['relu_vs_relu']}")
        print(f"wrote {args.write_costs}")
        return 0

    names = benchmarked_names(args.only)
    torch = torch_module()
    env = environment(
        command, size=args.size, rows=[list(r) for r in args.rows], repeats=args.repeats,
        dtypes=args.dtypes, modes=args.modes,
        torch_version=getattr(torch, "__version__", None),
    )
    print("\n".join(header_lines(env)))
    print(f"size: {args.size} elements (row-wise functions: "
          f"{', '.join('x'.join(map(str, r)) for r in args.rows)}), repeats: {args.repeats}")
    print("times: median per call; GB/s: minimum traffic (fwd: x + y; fwd+bwd: x + ct + y + dx) "
          "/ median time; % roofline: median paired (roofline time / time), roofline = x*2-like "
          "program with the same traffic; ratio: median paired jaxact / jax.nn (> 1: jaxact is "
          "slower); spread: min-max paired ratio; floor: median paired roofline / jax.nn (the "
          "best ratio any formulation can reach here)")
    if torch is None:
        print("torch: not installed or not on CPU; no torch column")
    print("", flush=True)

    rows: list[Row] = []
    start = time.perf_counter()
    for name in names:
        for shape in shapes_for(name, args.size, args.rows):
            for dtype_name in args.dtypes:
                for mode in args.modes:
                    for variant in variants(name):
                        row = measure(name, dtype_name, mode, shape, args.repeats, torch, variant)
                        if row is not None:
                            rows.append(row)
        print(f"  {name} done ({time.perf_counter() - start:.0f}s)", file=sys.stderr, flush=True)

    print(markdown_table(rows, with_torch=torch is not None))
    print()
    print(summary(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"environment": env, "rows": [asdict(r) for r in rows]}, fh, indent=2)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
