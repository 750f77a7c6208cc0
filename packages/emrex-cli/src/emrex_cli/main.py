"""`emrex`: the command line for people who operate or test against an EMREX node.

Subcommands come from this package and from entry points in the group `emrex.commands`
(a service registers e.g. `emrex demo seed`): each entry point is a `register(subparsers)`.
Exit codes: 0 success, 1 bad input or a failed check, 2 usage.
"""

import argparse
import io
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from emrex_elmo.errors import ElmoError

from . import commands_elmo, commands_keys
from .errors import CliError

__all__ = ["CliError", "build_parser", "main"]

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


_BUILTINS: list[Register] = [commands_elmo.register, commands_keys.register]
_BUILTIN_COMMANDS = frozenset({"validate", "decode", "encode", "verify", "show", "keys"})


def build_parser(*, plugins: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emrex", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in _BUILTINS:
        register(sub)
    if plugins:
        for ep in entry_points(group="emrex.commands"):
            ep.load()(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    # Service plugins import their whole stack; a built-in command does not need them.
    builtin = bool(arguments) and arguments[0] in _BUILTIN_COMMANDS
    parser = build_parser(plugins=not builtin)
    args = parser.parse_args(arguments)
    if isinstance(sys.stdout, io.TextIOWrapper):
        # Names and titles come in every script; never fail on a terminal that cannot show them.
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        result: int = args.handler(args)
        return result
    except CliError as exc:
        print(f"emrex: {exc}", file=sys.stderr)
        return 1
    except ElmoError as exc:
        # A command that forgot to translate a library error still gets one line, not a traceback.
        print(f"emrex: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `emrex show x | head`: the reader left; say nothing more.
        sys.stderr.close()
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
