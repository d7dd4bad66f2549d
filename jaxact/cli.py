"""The ``jaxact`` command.

    jaxact table                      the comparison table of every activation (markdown)
    jaxact names                      the registered activations and their aliases
    jaxact plot --out DIR [NAME ...]  PNG figures of f and f' (all activations if no NAME)
    jaxact demo --out DIR [--examples-dir DIR] [--quick]
                                      the main job: table, figures, the examples, one HTML report

``jaxact demo`` is :func:`jaxact.demo.run_demo`; its sections and their settings are
:data:`jaxact.demo.DEMO_SECTIONS`.

Exit status: 0 when every section ran, 1 when a section failed (the report is
still written, with the error), 2 for usage errors (bad flags, unknown names, no
examples directory, a setting that ``run`` does not accept).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from jaxact.demo import DemoError, print_summary, run_demo


# ----------------------------------------------------------------------------
# the command line
# ----------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jaxact", description="Activation functions for JAX.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("table", help="print the comparison table of every activation (markdown)")
    commands.add_parser("names", help="list the registered activations and their aliases")
    plot = commands.add_parser(
        "plot",
        help="write PNG figures of activations and their derivatives",
        description="Write DIR/<name>.png (f solid, f' dashed) for each NAME, or for every "
        "activation if none is given, and DIR/overview.png.",
    )
    plot.add_argument("--out", required=True, metavar="DIR", type=Path, help="output folder")
    plot.add_argument("names", nargs="*", metavar="NAME", help="activation names or aliases (default: all)")
    plot.add_argument("--dpi", type=int, default=100, help="resolution of the PNGs (default: 100)")
    demo = commands.add_parser(
        "demo",
        help="the main job: table, figures, examples, one self-contained HTML report",
        description="Run the comparison table, the figures, the article's models, the "
        "dying-ReLU experiment and a short shoot-out; write DIR/report.html (figures "
        "inline) and the PNGs, and print a summary.",
    )
    demo.add_argument("--out", required=True, metavar="DIR", type=Path, help="output folder")
    demo.add_argument(
        "--examples-dir", metavar="DIR", type=Path, default=None,
        help="folder with the example scripts (default: examples/ next to the jaxact package)",
    )
    demo.add_argument(
        "--quick", action="store_true",
        help="tiny settings: a smoke test in seconds (the numbers are not meaningful)",
    )
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _error(command: str, message: str) -> int:
    print(f"jaxact {command}: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    import jaxact

    if args.command == "table":
        print(jaxact.table())
    elif args.command == "names":
        aliases = jaxact.aliases()
        for name in jaxact.names():
            extra = sorted(a for a, canonical in aliases.items() if canonical == name)
            print(name + (f"  (aliases: {', '.join(extra)})" if extra else ""))
    elif args.command == "plot":
        from jaxact.plot import resolve_names, write_figures

        if args.dpi < 1:
            return _error("plot", f"--dpi must be a positive integer, got {args.dpi}")
        try:
            names = resolve_names(args.names or None)
            paths = write_figures(args.out, names, dpi=args.dpi)
        except jaxact.ActivationError as e:
            return _error("plot", str(e))
        except ImportError as e:
            return _error("plot", str(e))
        except OSError as e:
            return _error("plot", f"cannot write the figures to --out {args.out}: {e}")
        print(f"wrote {len(paths)} PNGs to {args.out}")
    elif args.command == "demo":
        start = time.perf_counter()
        try:
            results, report = run_demo(
                args.out, examples_dir=args.examples_dir, quick=args.quick, progress=not args.no_progress
            )
        except DemoError as e:
            return _error("demo", str(e))
        print_summary(results, report, time.perf_counter() - start)
        if not all(r["ok"] for r in results):
            print("jaxact demo: some sections failed; see the report for the tracebacks", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
