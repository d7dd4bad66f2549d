"""The comparison table (the article's columns), rendered from the registry.

"cost" is the registry's cost class; "cost ×relu" is the measured time of the
forward + backward pass relative to relu (float32), read from
``jaxact/_measured_costs.py``, which ``benchmarks/activations.py --write-costs``
generates on the machine it runs on ("-" where no measurement is available).
"""
from __future__ import annotations

from jaxact._registry import names, spec

COLUMNS = (
    "activation", "range", "zero-centred", "saturates", "dying neurons", "cost", "cost ×relu",
    "best for",
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


def measured_costs() -> dict[str, dict[str, float]]:
    """name -> {"fwd": multiple, "fwd+bwd": multiple} of relu's time, if measured."""
    try:
        from jaxact._measured_costs import MEASURED_COSTS
    except ImportError:
        return {}
    return MEASURED_COSTS


def _measured(name: str, costs: dict) -> str:
    value = costs.get(name, {}).get("fwd+bwd")
    return "-" if value is None else f"{value:.1f}×"


def rows() -> list[tuple[str, ...]]:
    """One tuple of strings per registered activation, in COLUMNS order."""
    costs = measured_costs()
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
                s.cost,
                _measured(name, costs),
                s.best_use,
            )
        )
    return out


def table() -> str:
    """The comparison table of every registered activation, as markdown."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in rows()]
    return "\n".join(lines)
