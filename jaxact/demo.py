"""The main job behind ``jaxact demo``: sections, settings, the run and the report.

``jaxact demo`` runs the sections in :data:`DEMO_SECTIONS` in order, with a
progress bar, writes ``DIR/report.html`` (self-contained: figures inline) and the
PNGs (``DIR/figures/`` and ``DIR/<section>/``), and prints each section's summary
line and the report's path.  The example sections import ``examples/<module>.py``
from the repository (next to the ``jaxact`` package, or ``--examples-dir``); each
module's ``run(**settings)`` returns a dict with "title", "summary", "columns" and
"rows" (and optionally "figures").  If ``run`` has an ``out_dir`` parameter the
demo passes ``DIR/<section>``; PNGs it writes there are inlined in the report.
"""
from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

#: the article's eight activations (the --quick demo draws only these)
ARTICLE_EIGHT = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "silu", "softmax", "identity")


@dataclass(frozen=True)
class DemoSection:
    """One section of ``jaxact demo``.

    key: the progress label and the name of the section's output folder.
    module: ``examples/<module>.py``, or ``jaxact:table`` / ``jaxact:figures`` (built in).
    settings: keyword arguments for ``run()`` in ``jaxact demo`` (small and fast).
    quick: overrides of ``settings`` for ``jaxact demo --quick`` (a smoke test).
    """

    key: str
    module: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    quick: Mapping[str, Any] = field(default_factory=dict)

    def run_with(self, quick: bool) -> dict[str, Any]:
        return {**self.settings, **(self.quick if quick else {})}


# The demo's sections and their settings.  `make demo` must finish in under
# 3 minutes on 2 CPU cores: tune the settings here (they are checked against
# each run()'s signature before anything runs, so a misspelt setting fails at once).
# Measured on a loaded 2-core machine, in one process: binary_classification
# ~26-39 s and multiclass ~5-17 s even at epochs=1 (mostly compilation and
# imports); the figures ~10-25 s.
# fmt: off
DEMO_SECTIONS: tuple[DemoSection, ...] = (
    #           key           module                   demo settings     --quick overrides
    DemoSection("table",      "jaxact:table"),
    DemoSection("figures",    "jaxact:figures",        {"dpi": 80},      {"dpi": 40, "names": ARTICLE_EIGHT}),
    DemoSection("binary",     "binary_classification", {"epochs": 20},   {"epochs": 1}),
    DemoSection("multiclass", "multiclass",            {"epochs": 30},   {"epochs": 1}),
    DemoSection("regression", "regression",            {"epochs": 100},  {"epochs": 2}),
    DemoSection("dying_relu", "dying_relu",            {"seeds": 100, "steps": 100}, {"seeds": 4, "steps": 5}),
    DemoSection("shootout",   "shootout",              {"steps": 150, "seeds": 2}, {"steps": 5, "seeds": 1}),
)
# fmt: on


class DemoError(Exception):
    """A problem found before the demo runs (examples missing, bad settings): exit 2."""


# ----------------------------------------------------------------------------
# built-in sections
# ----------------------------------------------------------------------------
def _table_section() -> dict[str, Any]:
    from jaxact._table import COLUMNS, rows

    table = [dict(zip(COLUMNS, r)) for r in rows()]
    dying = sum(r["dying neurons"].startswith("yes") for r in table)
    centred = sum(r["zero-centred"] == "yes" for r in table)
    return {
        "title": "Comparison table",
        "summary": f"{len(table)} activations: {centred} zero-centred, {dying} with dying neurons",
        "columns": list(COLUMNS),
        "rows": table,
    }


def _figures_section(out_dir, dpi: int = 80, names: Sequence[str] | None = None) -> dict[str, Any]:
    from jaxact.plot import write_figures

    paths = write_figures(out_dir, names, dpi=dpi)
    per_name = paths[:-1]
    return {
        "title": "Activation functions and their derivatives",
        "summary": f"{len(per_name)} activations drawn, f solid and f' dashed "
        f"(axis functions along a 2-entry slice): {len(paths)} PNGs",
        "columns": ["activation", "figure"],
        "rows": [{"activation": p.stem, "figure": p.name} for p in per_name],
        "figures": [("overview: f(x) solid, f'(x) dashed", paths[-1])],
    }


_BUILTINS: dict[str, Callable[..., dict]] = {
    "jaxact:table": _table_section,
    "jaxact:figures": _figures_section,
}


# ----------------------------------------------------------------------------
# loading the examples
# ----------------------------------------------------------------------------
def default_examples_dir() -> Path:
    """``examples/`` next to the ``jaxact`` package (the repository layout)."""
    import jaxact

    return Path(jaxact.__file__).resolve().parent.parent / "examples"


def _load_example(examples_dir: Path, module: str):
    path = examples_dir / f"{module}.py"
    if not path.is_file():
        raise DemoError(
            f"example {module!r} not found: {path} does not exist "
            "(the demo's sections are listed in jaxact.demo.DEMO_SECTIONS)"
        )
    name = f"_jaxact_demo_examples.{module}"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    entry = str(examples_dir)
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)  # examples import their siblings (e.g. _common)
    try:
        spec.loader.exec_module(mod)
    except ImportError as e:
        sys.modules.pop(name, None)
        raise DemoError(
            f"could not import {path}: {e} (install the extras: pip install -e '.[examples]')"
        ) from e
    except Exception as e:
        sys.modules.pop(name, None)
        raise DemoError(f"could not import {path}: {type(e).__name__}: {e}") from e
    finally:
        if added and entry in sys.path:
            sys.path.remove(entry)
    if not callable(getattr(mod, "run", None)):
        raise DemoError(f"{path} has no run(**settings) function")
    return mod


def _check_settings(where: str, run: Callable, settings: Mapping[str, Any]) -> bool:
    """Raise DemoError if run() cannot take these settings; return whether it takes out_dir."""
    sig = inspect.signature(run)
    takes_out_dir = "out_dir" in sig.parameters
    try:
        sig.bind(**settings, **({"out_dir": "."} if takes_out_dir else {}))
    except TypeError as e:
        accepted = ", ".join(
            p.name for p in sig.parameters.values() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        )
        raise DemoError(
            f"{where}: run() does not accept the demo settings {dict(settings)}: {e}; "
            f"run() takes: {accepted or 'no keyword arguments'} (edit DEMO_SECTIONS in jaxact/demo.py)"
        ) from None
    return takes_out_dir


@dataclass
class _Planned:
    section: DemoSection
    run: Callable[..., dict]
    settings: dict[str, Any]
    takes_out_dir: bool
    where: str


def _plan(sections: Sequence[DemoSection], examples_dir: Path | None, quick: bool) -> list[_Planned]:
    planned = []
    needs_examples = any(s.module not in _BUILTINS for s in sections)
    if needs_examples:
        if examples_dir is None:
            examples_dir = default_examples_dir()
        examples_dir = Path(examples_dir).resolve()
        if not examples_dir.is_dir():
            raise DemoError(
                f"examples directory not found: {examples_dir}. `jaxact demo` runs the examples "
                "of the jaxact repository (examples/ next to the jaxact package); run it from a "
                "source checkout (pip install -e .) or pass --examples-dir DIR"
            )
    keys = [s.key for s in sections]
    if len(set(keys)) != len(keys):
        raise DemoError(f"DEMO_SECTIONS: section keys must be unique, got {keys}")
    for s in sections:
        if s.module in _BUILTINS:
            run, where = _BUILTINS[s.module], s.module
        else:
            run, where = _load_example(examples_dir, s.module).run, f"examples/{s.module}.py"
        settings = s.run_with(quick)
        takes_out_dir = _check_settings(where, run, settings)
        planned.append(_Planned(s, run, settings, takes_out_dir, where))
    return planned


# ----------------------------------------------------------------------------
# running the demo
# ----------------------------------------------------------------------------
def _check_result(where: str, result: Any) -> None:
    if not isinstance(result, Mapping):
        raise TypeError(f"{where}: run() returned {type(result).__name__}, expected a dict")
    for key, kind in (("title", str), ("summary", str), ("columns", list), ("rows", list)):
        if not isinstance(result.get(key), kind):
            raise TypeError(
                f"{where}: run() result[{key!r}] should be a {kind.__name__}, "
                f"got {type(result.get(key)).__name__}"
            )


def _save_figures(result: Mapping, section_dir: Path, takes_out_dir: bool) -> list:
    """Figures for the report: result["figures"] (Figures/bytes saved as PNGs), else PNGs in section_dir."""
    from jaxact.report import png_bytes

    figures = result.get("figures")
    if not figures:
        return sorted(section_dir.glob("*.png")) if takes_out_dir and section_dir.is_dir() else []
    out = []
    for i, item in enumerate(figures, 1):
        caption, obj = item if isinstance(item, tuple) and len(item) == 2 else ("", item)
        data = png_bytes(obj)  # checks that it is a PNG (so the report can be written)
        if not isinstance(obj, (str, os.PathLike)):  # a matplotlib Figure or PNG bytes: keep a PNG
            section_dir.mkdir(parents=True, exist_ok=True)
            obj = section_dir / f"figure-{i}.png"
            obj.write_bytes(data)
        out.append((caption or Path(obj).stem, obj))
    return out


def _run_one(p: _Planned, out_dir: Path) -> dict[str, Any]:
    section_dir = out_dir / p.section.key
    kwargs = dict(p.settings)
    if p.takes_out_dir:
        kwargs["out_dir"] = section_dir
    start = time.perf_counter()
    try:
        result = p.run(**kwargs)
        _check_result(p.where, result)
        section = dict(result)
        section["figures"] = _save_figures(result, section_dir, p.takes_out_dir)
        section["ok"] = True
    except Exception as e:  # a failed section is reported, and the demo goes on
        section = {
            "title": f"{p.section.key} ({p.where})",
            "summary": f"FAILED: {type(e).__name__}: {e}",
            "error": traceback.format_exc(),
            "ok": False,
        }
    section["seconds"] = time.perf_counter() - start
    section["run_with"] = p.settings
    section["key"] = p.section.key
    return section


def _progress(total: int, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is in the examples extra
        return None
    return tqdm(total=total, unit="section", file=sys.stderr, dynamic_ncols=True)


def run_demo(
    out_dir,
    *,
    examples_dir=None,
    quick: bool = False,
    sections: Sequence[DemoSection] | None = None,
    progress: bool = True,
) -> tuple[list[dict[str, Any]], Path]:
    """Run the sections (default: DEMO_SECTIONS) and write ``out_dir/report.html``.

    Returns (the sections' result dicts, the report's path).

    Raises DemoError before running anything if an example is missing or a
    setting is not accepted.  A section that raises is recorded as failed
    (``section["ok"] is False``) and the others still run.
    """
    from jaxact.report import environment, write_report

    sections = DEMO_SECTIONS if sections is None else tuple(sections)
    os.environ.setdefault("MPLBACKEND", "Agg")  # examples that use pyplot never open a window
    start = time.perf_counter()
    out_dir = Path(out_dir).resolve()
    examples_path = None if examples_dir is None else Path(examples_dir).resolve()
    path_entry = str(examples_path or default_examples_dir())
    added = path_entry not in sys.path
    if added:
        sys.path.insert(0, path_entry)  # examples may import their siblings (also inside run())
    try:
        planned = _plan(sections, examples_path, quick)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise DemoError(f"cannot create the output folder --out {out_dir}: {e}") from None
        bar = _progress(len(planned), progress)
        results = []
        for p in planned:
            if bar is not None:
                bar.set_description(p.section.key)
            results.append(_run_one(p, out_dir))
            if bar is not None:
                bar.update()
        if bar is not None:
            bar.set_description("done")
            bar.close()
    finally:
        if added and path_entry in sys.path:
            sys.path.remove(path_entry)
    header = environment()
    header["mode"] = "quick (smoke-test settings; numbers are not meaningful)" if quick else "demo"
    report = write_report(
        out_dir / "report.html",
        results,
        title="jaxact: activation functions for JAX",
        header=header,
        total_seconds=time.perf_counter() - start,
    )
    return results, report


def print_summary(results: list[dict], report: Path, seconds: float, stream=None) -> None:
    stream = stream or sys.stdout
    failed = sum(not r["ok"] for r in results)
    status = f", {failed} FAILED" if failed else ""
    print(f"jaxact demo: {len(results)} sections in {seconds:.1f} s{status}", file=stream)
    for r in results:
        mark = "ok    " if r["ok"] else "FAILED"
        print(f"  {mark} {r['title']} ({r['seconds']:.1f} s): {r['summary']}", file=stream)
    pngs = sorted(report.parent.rglob("*.png"))
    print(f"figures: {len(pngs)} PNGs under {report.parent}", file=stream)
    print(f"report: {report}", file=stream)
