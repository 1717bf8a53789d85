"""The ``servicechain`` command. Each subcommand lives in the module named for it.

A subcommand module provides ``add_arguments(parser)`` and ``main(args) -> int``.
Expected failures (bad data, bad assumptions, a failed notebook) print one clear
message and exit 1; a traceback only with ``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> (module, help)
COMMANDS = {
    "demo-data": ("servicechain.demo", "generate the demo organisation (with truth.json)"),
    "validate": ("servicechain.validation", "check a data folder against the contract"),
    "run": ("servicechain.run", "run the quarterly suite and write the reports"),
    "pilot": ("servicechain.pilot", "design a randomised pilot (design) and measure its effect (evaluate)"),
    "aggregate": ("servicechain.aggregate", "build customer_quarters (and recognitions per employee-quarter) from raw events"),
}


class UserError(Exception):
    """An error the user can fix; its message is shown without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="servicechain", description=__doc__.splitlines()[0])
    p.add_argument("--debug", action="store_true", help="show full tracebacks")
    sub = p.add_subparsers(dest="command", required=True)
    for name, (mod, help_) in COMMANDS.items():
        try:
            module = importlib.import_module(mod)
        except ModuleNotFoundError as exc:  # a command whose module is not installed is not offered
            if exc.name != mod:
                raise
            continue
        sp = sub.add_parser(name, help=help_)
        sp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show full tracebacks")
        module.add_arguments(sp)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module = importlib.import_module(COMMANDS[args.command][0])
    try:
        return int(module.main(args) or 0)
    except KeyboardInterrupt:
        print("servicechain: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place that turns errors into messages
        if getattr(args, "debug", False):
            raise
        print(f"servicechain {args.command}: error: {exc}", file=sys.stderr)
        if not isinstance(exc, (UserError, ValueError, FileNotFoundError)):
            print("(run again with --debug for the full traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
