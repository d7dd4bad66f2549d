"""The comparison table (the article's columns), rendered from the registry.

"cost" is the measured time of the float32 forward + backward pass relative to
relu with its class (``ActivationSpec.cost``), read from
``jaxact/_measured_costs.py``, which ``benchmarks/activations.py --write-costs``
generates on the machine it runs on.
"""
from __future__ import annotations

from jaxact._registry import names, spec

COLUMNS = (
    "activation", "range", "zero-centred", "saturates", "dying neurons", "cost", "best for",
)


def _saturates(tails: tuple[str, ...]) -> str:
    if not tails:
        return "no"
    return "both tails" if len(tails) == 2 else f"{tails[0]} tail"


def _dying(regions) -> str:
    half_lines = [(lo, hi) for lo, hi in regions if lo == float("-inf") or hi == float("inf")]
    if not half_lines:
        return "no"
    parts = [f"x < {hi:g}" if lo == float("-inf") else f"x > {lo:g}" for lo, hi in half_lines]
    return "yes (f' = 0 for " + " and ".join(parts) + ")"


def _cost(name: str) -> str:
    s = spec(name)
    measured = s.measured_cost
    return s.cost if measured is None else f"{s.cost} ({measured['fwd+bwd']:.1f}× relu)"


def rows() -> list[tuple[str, ...]]:
    """One tuple of strings per registered activation, in COLUMNS order."""
    out = []
    for name in names():
        s = spec(name)
        out.append(
            (
                name,
                str(s.output_range),
                "yes" if s.zero_centred else "no",
                _saturates(s.saturates),
                _dying(s.dead_regions),
                _cost(name),
                s.best_use,
            )
        )
    return out


def table() -> str:
    """The comparison table of every registered activation, as markdown."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in rows()]
    return "\n".join(lines)
