"""`emrex keys dev DIR`: a development CA and a signing certificate issued by it."""

import argparse
from pathlib import Path

from .devpki import write_dev_pki
from .errors import CliError


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    keys = sub.add_parser("keys", help="signing keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="SUBCOMMAND")
    dev = keys_sub.add_parser("dev", help="create a development CA and signing certificate")
    dev.add_argument("directory", type=Path)
    dev.add_argument("--common-name", default="emrex-ncp.localhost")
    dev.add_argument("--key-type", choices=["rsa", "ec"], default="rsa")
    dev.add_argument("--days", type=int, default=365)
    dev.add_argument("--force", action="store_true", help="overwrite existing files")
    dev.set_defaults(handler=_dev)


def _dev(args: argparse.Namespace) -> int:
    directory: Path = args.directory
    if (directory / "signing.key").exists() and not args.force:
        raise CliError(f"{directory / 'signing.key'} exists; use --force to replace it")
    files = write_dev_pki(directory, common_name=args.common_name, key_type=args.key_type,
                          days=args.days)
    print(f"CA certificate:      {files.ca_cert}")
    print(f"signing key (0600):  {files.signing_key}")
    print(f"signing certificate: {files.signing_cert}")
    print("development only: publish a CA-issued certificate in EMREG for production")
    return 0
