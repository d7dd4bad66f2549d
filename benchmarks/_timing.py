"""Shared machinery of the benchmark scripts: interleaved timing, paired ratios, headers.

Every benchmark here compares candidates (jaxact, jax.nn, a roofline program,
torch, ...) that are timed *in one process, interleaved*: each round times one
call of every candidate, in an order that rotates from round to round, so that
neither systematically inherits a warm cache or a quiet moment.  Ratios are
taken *per round* (paired: two calls made milliseconds apart) and summarised by
their median.  On a shared, noisy machine a slow phase (another process,
frequency scaling) hits both members of a pair, so the paired ratio is far more
stable than the ratio of two separately measured times, and the median discards
the rounds that were disturbed anyway.  The min/max paired ratio is reported as
a noise indicator.

Only jax APIs are used (plus torch where a script times it and it imports), so
every script runs unchanged on CPU, GPU and TPU.
"""
from __future__ import annotations

import argparse
import gc
import platform
import shlex
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import jax

import jaxact

WARMUP_CALLS = 2


# ----------------------------------------------------------------------------
# timing one call
# ----------------------------------------------------------------------------
def timer(program: Callable, args: tuple | Callable[[], tuple]) -> Callable[[], float]:
    """A zero-argument function that times one call of ``program`` (seconds).

    ``args`` is either the argument tuple or a function returning a fresh one
    (for donated programs, whose input is consumed by every call); fresh
    arguments are made, and made ready, *before* the clock starts.  The clock
    stops after ``block_until_ready`` on the result, and the result is freed
    only after that, so deallocation is not timed.
    """
    make_args = args if callable(args) else (lambda: args)

    def run() -> float:
        call_args = jax.block_until_ready(make_args())
        start = time.perf_counter()
        out = jax.block_until_ready(program(*call_args))
        elapsed = time.perf_counter() - start
        del out, call_args
        return elapsed

    return run


def warm_up(run: Callable[[], float], calls: int = WARMUP_CALLS) -> None:
    """Compile (on the first call) and run a candidate a few times, untimed."""
    for _ in range(calls):
        run()


def interleaved(runs: Sequence[Callable[[], float]], repeats: int) -> list[list[float]]:
    """Per-round times of every candidate, called in a rotating order.

    Round ``i`` starts with candidate ``i % n`` and goes round (for two
    candidates: a, b / b, a / a, b ...), so every candidate is first, second,
    ... equally often.  The result holds one list per candidate, aligned by
    round, ready for paired ratios.  The garbage collector is paused meanwhile
    (as ``timeit`` does) so that a collection does not land inside one call.
    """
    n = len(runs)
    times: list[list[float]] = [[] for _ in range(n)]
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(repeats):
            for k in range(n):
                j = (i + k) % n
                times[j].append(runs[j]())
    finally:
        if gc_was_enabled:
            gc.enable()
    return times


@dataclass
class Paired:
    """Summary of paired ratios a / b (per round)."""

    median: float
    low: float
    high: float
    ratios: list[float]

    @classmethod
    def of(cls, a: Sequence[float], b: Sequence[float]) -> "Paired":
        ratios = [x / y for x, y in zip(a, b)]
        return cls(statistics.median(ratios), min(ratios), max(ratios), ratios)


def median_ms(times: Sequence[float]) -> float:
    return 1e3 * statistics.median(times)


# ----------------------------------------------------------------------------
# environment and command line
# ----------------------------------------------------------------------------
def environment(argv: Sequence[str], **settings) -> dict:
    """Device, versions, the command and the settings, for the header and the JSON."""
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
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        **settings,
    }


def header_lines(env: dict) -> list[str]:
    """The command, device and versions: the first lines of every script's output."""
    return [
        f"command: `{env['command']}`",
        f"device: {env['device_kind']} ({env['platform']}, {env['device_count']} device(s)); "
        f"date: {env['date']}",
        f"jax {env['jax_version']}, jaxlib {env['jaxlib_version']}, "
        f"jaxact {env['jaxact_version']}, python {env['python_version']}",
    ]


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
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def parse_list(text: str) -> list[str]:
    return [item for item in text.split(",") if item]
