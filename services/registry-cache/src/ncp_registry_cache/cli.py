"""`emrex registry check FILE`: validate an EMREG JSON file (or EWP catalogue) offline, as the service would."""

import argparse
from datetime import UTC, datetime
from pathlib import Path


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("registry", help="EMREG files, as the registry-cache reads them")
    registry_sub = parser.add_subparsers(dest="registry_command", required=True, metavar="SUBCOMMAND")
    check = registry_sub.add_parser("check", help="validate an EMREG JSON file or EWP catalogue; list its nodes")
    check.add_argument("file", type=Path)
    check.add_argument("--ewp", action="store_true", help="the file is an EWP catalogue (XML)")
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    from emrex_cli.main import CliError

    from .domain.emreg import RegistryInvalid, parse_document

    try:
        body = args.file.read_bytes()
    except OSError as exc:
        raise CliError(f"{args.file}: {exc.strerror}") from None
    try:
        registry = parse_document(body, "ewp" if args.ewp else "emreg")
    except RegistryInvalid as exc:
        raise CliError(f"{args.file}: not acceptable: {exc}") from None
    now = datetime.now(UTC)
    print(f"{args.file}: {registry.format}, {len(registry.nodes)} nodes, {len(registry.countries)} countries")  # noqa: T201
    for node in registry.nodes:
        expiry = ", ".join(
            f"{c.cert.not_valid_after_utc:%Y-%m-%d}{' EXPIRED' if c.cert.not_valid_after_utc < now else ''}"
            for c in node.certificates
        )
        print(f"  {node.acronym} [{node.country_code}] {node.url}  certificate until {expiry}")  # noqa: T201
    return 0
