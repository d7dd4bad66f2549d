"""The ``jaxact`` command: ``jaxact table`` prints the comparison table."""
from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jaxact", description="Activation functions for JAX.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("table", help="print the comparison table of every activation (markdown)")
    commands.add_parser("names", help="list the registered activations and their aliases")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import jaxact

    if args.command == "table":
        print(jaxact.table())
    elif args.command == "names":
        aliases = jaxact.aliases()
        for name in jaxact.names():
            extra = sorted(a for a, canonical in aliases.items() if canonical == name)
            print(name + (f"  (aliases: {', '.join(extra)})" if extra else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
