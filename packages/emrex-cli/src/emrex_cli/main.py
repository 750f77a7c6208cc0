"""`emrex`: the command line for people who operate or test against an EMREX node.

Subcommands come from this package and from entry points in the group `emrex.commands`
(a service registers e.g. `emrex demo seed`): each entry point is a `register(subparsers)`.
Exit codes: 0 success, 1 bad input or a failed check, 2 usage.
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from . import commands_elmo, commands_keys

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


class CliError(Exception):
    """Bad input: printed as one line on stderr, exit code 1."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emrex", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    builtins: list[Register] = [commands_elmo.register, commands_keys.register]
    for register in builtins:
        register(sub)
    for ep in entry_points(group="emrex.commands"):
        ep.load()(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args)
        return result
    except CliError as exc:
        print(f"emrex: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
