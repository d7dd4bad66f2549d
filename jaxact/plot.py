"""Figures of each activation and its derivative (matplotlib, drawn off-screen).

``plot_activation(name)`` draws f(x) and f'(x) from the registry: the public
function (``jaxact.get(name)``) and its closed-form derivative
(``jaxact.spec(name).derivative``).  ``write_figures(out_dir)`` writes one PNG
per activation plus ``overview.png``, a grid of all of them.

Functions of a whole axis (softmax, log_softmax, softmin, glu) have a Jacobian,
not a derivative.  They are drawn along a one-dimensional slice through a
two-entry input, with the derivative of that slice taken by ``jax.grad``:

* softmax, log_softmax, softmin: ``f([x, 0])[0]`` and its partial derivative
  with respect to x_0 (softmax([x, 0])[0] is sigmoid(x));
* glu: ``glu([x, x])`` (a = b = x, so the value is x * sigmoid(x)) and its
  derivative along that line;
* any other axis function: ``f([x, 0])[0]`` and its partial derivative.

The figure's title says which slice is drawn.  matplotlib is imported only when
a figure is drawn, and figures are rendered by the Agg canvas without pyplot, so
``import jaxact`` stays light and no display (or global backend change) is
involved.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from jaxact._registry import ActivationError, names as _all_names, spec as _spec

#: the default x grid
X_RANGE = (-5.0, 5.0)
X_POINTS = 401

#: slices drawn for axis functions: name -> (description, input builder, output index)
_AXIS_SLICES: dict[str, tuple[str, Callable]] = {
    "glu": ("glu([x, x]) along a = b = x", lambda x, jnp: jnp.stack([x, x])),
}
_DEFAULT_SLICE = ("{name}([x, 0])[0], ∂/∂x₀", lambda x, jnp: jnp.stack([x, jnp.zeros_like(x)]))


@dataclass(frozen=True)
class Curve:
    """The data of one activation figure."""

    name: str
    x: np.ndarray
    value: np.ndarray
    derivative: np.ndarray
    note: str  # "" for elementwise functions, the slice drawn for axis functions


def resolve_names(names: Iterable[str] | None = None) -> list[str]:
    """Canonical names for ``names`` (all registered ones if None), duplicates removed.

    Raises :class:`~jaxact.ActivationError` (with close matches) for an unknown name.
    """
    if names is None:
        return _all_names()
    if isinstance(names, str):
        names = [names]
    out: list[str] = []
    for name in names:
        canonical = _spec(name).name
        if canonical not in out:
            out.append(canonical)
    if not out:
        raise ActivationError("names: no activation names given")
    return out


def _grid(x) -> np.ndarray:
    if x is None:
        return np.linspace(*X_RANGE, X_POINTS, dtype=np.float32)
    grid = np.asarray(x, dtype=np.float32)
    if grid.ndim != 1 or grid.size < 2 or not np.all(np.isfinite(grid)):
        raise ActivationError(
            f"x: expected a 1-d array of at least 2 finite numbers, got shape {grid.shape}"
        )
    return grid


def _evaluator(s, params: dict[str, Any]) -> tuple[Callable, str]:
    """(jitted x -> (f(x), f'(x)), note) for one spec and parameter set."""
    import jax
    import jax.numpy as jnp

    if s.kind == "elementwise":
        return jax.jit(lambda xs: (s.function(xs, **params), s.derivative(xs, **params))), ""
    template, build = _AXIS_SLICES.get(s.name, _DEFAULT_SLICE)

    def sliced(t):
        return s.function(build(t, jnp), axis=0, **params)[0]

    both = jax.jit(lambda xs: (jax.vmap(sliced)(xs), jax.vmap(jax.grad(sliced))(xs)))
    return both, template.format(name=s.name)


@functools.lru_cache(maxsize=None)
def _default_evaluator(name: str) -> tuple[Callable, str]:
    return _evaluator(_spec(name), {})


def curves(
    names: Iterable[str] | None = None, *, x=None, params: Mapping[str, dict[str, Any]] | None = None
) -> list[Curve]:
    """f(x) and f'(x) for each name (all if None) on the grid ``x`` (default 401 points on [-5, 5]).

    ``params`` maps a name to its keyword parameters (the defaults otherwise).
    """
    import jax.numpy as jnp

    wanted = resolve_names(names)
    params = {_spec(k).name: dict(v) for k, v in (params or {}).items()}
    grid = _grid(x)
    xs = jnp.asarray(grid)
    out = []
    for name in wanted:
        s = _spec(name)
        p = params.get(name, {})
        known = {q.name for q in s.params}
        unknown = sorted(set(p) - known)
        if unknown:
            raise ActivationError(
                f"{s.name}: unknown parameter(s) {unknown}; allowed: {sorted(known) or 'none'}"
            )
        evaluate, note = _evaluator(s, p) if p else _default_evaluator(name)
        value, deriv = evaluate(xs)
        out.append(Curve(name, grid, np.asarray(value, np.float64), np.asarray(deriv, np.float64), note))
    return out


def curve(name: str, *, x=None, params: dict[str, Any] | None = None) -> Curve:
    """f(x) and f'(x) for one activation on the grid ``x`` (default 401 points on [-5, 5])."""
    return curves([name], x=x, params={name: params or {}})[0]


def _draw(ax, c: Curve, *, small: bool = False) -> None:
    ax.axhline(0.0, color="0.75", linewidth=0.8, zorder=0)
    ax.axvline(0.0, color="0.75", linewidth=0.8, zorder=0)
    ax.plot(c.x, c.value, color="C0", linewidth=1.8, label="f(x)")
    ax.plot(c.x, c.derivative, color="C3", linewidth=1.4, linestyle="--", label="f'(x)")
    ax.set_xlim(float(c.x[0]), float(c.x[-1]))
    ax.grid(True, linewidth=0.4, alpha=0.5)
    title = c.name if not c.note else f"{c.name}\n{c.note}"
    ax.set_title(title, fontsize=8 if small else 11)
    if small:
        ax.tick_params(labelsize=6)
    else:
        ax.set_xlabel("x")
        ax.legend(loc="upper left", fontsize=9)


def plot_activation(name: str, ax=None, *, x=None, params: dict[str, Any] | None = None):
    """Draw f(x) (solid) and f'(x) (dashed) for one activation; returns the Axes.

    Args:
      name: a canonical name or alias; unknown names raise ActivationError with close matches.
      ax: a matplotlib Axes to draw into; a new off-screen figure is made if None.
      x: the 1-d grid of x values (default 401 points on [-5, 5]).
      params: keyword parameters of the activation (e.g. ``{"alpha": 0.5}``).
    """
    c = curve(name, x=x, params=params)
    if ax is None:
        ax = new_figure(figsize=(5.0, 3.6)).add_subplot()
    _draw(ax, c)
    return ax


def new_figure(**kwargs):
    """A matplotlib Figure on the Agg canvas (no pyplot, no display, no global state)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "jaxact's figures need matplotlib: pip install 'jaxact[examples]'"
        ) from e
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def write_figures(
    out_dir, names: Sequence[str] | None = None, *, dpi: int = 100, x=None, overview: bool = True
) -> list[Path]:
    """Write ``<name>.png`` for each activation (all if ``names`` is None) and ``overview.png``.

    Every name is checked before anything is written.  Returns the paths written,
    the per-activation figures first, then the overview grid.
    """
    drawn = curves(names, x=x)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for c in drawn:
        fig = new_figure(figsize=(5.0, 3.6))
        fig.subplots_adjust(left=0.1, right=0.97, bottom=0.13, top=0.86)
        _draw(fig.add_subplot(), c)
        path = out / f"{c.name}.png"
        fig.savefig(path, dpi=dpi)
        paths.append(path)
    if overview:
        cols = min(len(drawn), 6)
        rows = math.ceil(len(drawn) / cols)
        fig = new_figure(figsize=(2.4 * cols, 2.1 * rows + 0.4))
        fig.subplots_adjust(
            left=0.3 / cols, right=1 - 0.1 / cols, bottom=0.25 / rows, top=1 - 0.6 / (2.1 * rows + 0.4),
            wspace=0.25, hspace=0.6,
        )
        for i, c in enumerate(drawn):
            _draw(fig.add_subplot(rows, cols, i + 1), c, small=True)
        handles, labels = fig.axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper right", fontsize=8, ncols=2)
        path = out / "overview.png"
        fig.savefig(path, dpi=dpi)
        paths.append(path)
    return paths
