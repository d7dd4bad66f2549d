"""One self-contained HTML report: figures inline (base64 PNG), tables as HTML tables.

A report is a header (versions, device, date, total time) and a list of
sections.  A section is a dict in the examples' ``run()`` format:

* ``title`` (str), ``summary`` (str, one line),
* ``columns`` (list of str) and ``rows`` (list of dicts keyed by column, or of
  sequences in column order): rendered as a table,
* optional ``figures``: a list whose items are a PNG path, PNG bytes, a
  matplotlib Figure, or a ``(caption, one of those)`` pair,
* optional ``seconds`` (float, shown next to the title), ``run_with`` (a dict
  of the settings the section ran with), ``files`` (paths shown as a list),
  ``error`` (text shown as a preformatted block, e.g. a traceback).

Other keys are ignored.  All text is HTML-escaped; the file references nothing
outside itself (no external CSS, JavaScript, fonts or images).
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import math
import numbers
import os
import platform
import re
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; color: #1d1d1f; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.5rem; }
.meta { color: #555; font-size: 0.9rem; }
.meta td { padding: 0.05rem 1.2rem 0.05rem 0; border: none; }
.summary { font-weight: 600; }
.seconds { color: #777; font-size: 0.85rem; font-weight: normal; }
table.data { border-collapse: collapse; font-size: 0.85rem; margin: 0.8rem 0; }
table.data th, table.data td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left;
                               vertical-align: top; }
table.data th { background: #f3f3f3; }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { display: inline-block; margin: 0.5rem 1rem 0.5rem 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.8rem; color: #555; }
pre.error { background: #fff0f0; border: 1px solid #e99; padding: 0.6rem; overflow-x: auto;
            font-size: 0.8rem; }
nav ol { columns: 2; font-size: 0.9rem; }
"""


# ----------------------------------------------------------------------------
# values
# ----------------------------------------------------------------------------
def format_value(value: Any) -> str:
    """A table cell as text: floats to 4 significant digits, sequences comma-joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isnan(v) or math.isinf(v):
            return str(v)
        return f"{v:.4g}"
    if hasattr(value, "shape") and hasattr(value, "tolist"):  # numpy / jax arrays
        value = value.tolist()
        if not isinstance(value, list):
            return format_value(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value)
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def png_bytes(item: Any, *, dpi: int = 100) -> bytes:
    """PNG bytes from a path, bytes or a matplotlib Figure; raises ValueError if not a PNG."""
    if isinstance(item, (bytes, bytearray)):
        data = bytes(item)
    elif isinstance(item, (str, os.PathLike)):
        data = Path(item).read_bytes()
    elif hasattr(item, "savefig"):
        buf = io.BytesIO()
        item.savefig(buf, format="png", dpi=dpi)
        data = buf.getvalue()
    else:
        raise ValueError(f"figure: expected a PNG path, PNG bytes or a matplotlib Figure, got {item!r}")
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError(f"figure: {item!r} is not a PNG image")
    return data


def _figure_items(figures: Iterable[Any] | None) -> list[tuple[str, Any]]:
    out = []
    for item in figures or ():
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            out.append(item)
        elif isinstance(item, (str, os.PathLike)):
            out.append((Path(item).stem, item))
        else:
            out.append(("", item))
    return out


# ----------------------------------------------------------------------------
# environment
# ----------------------------------------------------------------------------
def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment() -> dict[str, str]:
    """Versions, device and date, for the report header (imports jax, not flax/optax)."""
    import jax

    import jaxact

    versions = ", ".join(
        f"{dist} {_version(dist)}" for dist in ("jax", "jaxlib", "flax", "optax", "numpy", "matplotlib")
    )
    try:
        devices = ", ".join(str(d) for d in jax.devices())
        backend = jax.default_backend()
    except RuntimeError as e:  # pragma: no cover - no backend at all
        devices, backend = f"unavailable ({e})", "none"
    return {
        "jaxact": jaxact.__version__,
        "python": platform.python_version(),
        "libraries": versions,
        "device": f"{backend}: {devices}",
        "machine": f"{platform.platform()}, {os.cpu_count()} CPU core(s)",
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


# ----------------------------------------------------------------------------
# rendering
# ----------------------------------------------------------------------------
def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _anchor(title: str, index: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return f"s{index}-{slug}" if slug else f"s{index}"


def render_table(columns: Sequence[str], rows: Sequence[Mapping[str, Any] | Sequence[Any]]) -> str:
    """An HTML table; rows are dicts keyed by column (missing keys are blank) or sequences."""
    columns = [str(c) for c in columns]
    parts = ['<table class="data">', "<thead><tr>"]
    parts += [f"<th>{_esc(c)}</th>" for c in columns]
    parts.append("</tr></thead>")
    parts.append("<tbody>")
    for row in rows:
        values = [row.get(c) for c in columns] if isinstance(row, Mapping) else list(row)
        values += [None] * (len(columns) - len(values))
        cells = []
        for v in values:
            cls = ' class="num"' if _is_number(v) else ""
            cells.append(f"<td{cls}>{_esc(format_value(v))}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return "\n".join(parts)


def _render_figure(caption: str, item: Any) -> str:
    data = base64.b64encode(png_bytes(item)).decode("ascii")
    alt = _esc(caption or "figure")
    cap = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{alt}" src="data:image/png;base64,{data}">{cap}</figure>'


def render_section(section: Mapping[str, Any], index: int) -> str:
    title = str(section.get("title") or f"section {index}")
    parts = [f'<section id="{_anchor(title, index)}">']
    seconds = section.get("seconds")
    timing = f' <span class="seconds">({seconds:.1f} s)</span>' if isinstance(seconds, (int, float)) else ""
    parts.append(f"<h2>{_esc(title)}{timing}</h2>")
    if section.get("summary"):
        parts.append(f'<p class="summary">{_esc(section["summary"])}</p>')
    run_with = section.get("run_with")
    if isinstance(run_with, Mapping) and run_with:
        text = ", ".join(f"{k}={format_value(v)}" for k, v in run_with.items())
        parts.append(f'<p class="meta">run with: <code>{_esc(text)}</code></p>')
    if section.get("error"):
        parts.append(f'<pre class="error">{_esc(section["error"])}</pre>')
    columns = section.get("columns")
    rows = section.get("rows")
    if columns and rows is not None:
        parts.append(render_table(columns, rows))
    for caption, item in _figure_items(section.get("figures")):
        parts.append(_render_figure(caption, item))
    files = section.get("files")
    if files:
        parts.append("<details><summary>files written</summary><ul>")
        parts += [f"<li><code>{_esc(f)}</code></li>" for f in files]
        parts.append("</ul></details>")
    parts.append("</section>")
    return "\n".join(parts)


def render_report(
    sections: Sequence[Mapping[str, Any]],
    *,
    title: str = "jaxact report",
    header: Mapping[str, str] | None = None,
    total_seconds: float | None = None,
) -> str:
    """The whole report as one HTML string (UTF-8, self-contained)."""
    header = dict(environment() if header is None else header)
    if total_seconds is not None:
        header["total time"] = f"{total_seconds:.1f} s"
    meta = "".join(f"<tr><td>{_esc(k)}</td><td>{_esc(v)}</td></tr>" for k, v in header.items())
    toc = "".join(
        f'<li><a href="#{_anchor(str(s.get("title") or f"section {i}"), i)}">'
        f'{_esc(s.get("title") or f"section {i}")}</a></li>'
        for i, s in enumerate(sections, 1)
    )
    body = "\n".join(render_section(s, i) for i, s in enumerate(sections, 1))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{_esc(title)}</h1>\n"
        f'<table class="meta"><tbody>{meta}</tbody></table></header>\n'
        f"<nav><ol>{toc}</ol></nav>\n"
        f"<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def write_report(path, sections: Sequence[Mapping[str, Any]], **kwargs) -> Path:
    """Render the report and write it to ``path`` (parent folders are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(sections, **kwargs), encoding="utf-8")
    return path


__all__ = [
    "environment",
    "format_value",
    "png_bytes",
    "render_report",
    "render_section",
    "render_table",
    "write_report",
]
