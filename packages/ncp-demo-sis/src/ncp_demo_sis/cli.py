"""`emrex demo seed`: fill the demo SIS database; `emrex demo logins`: the fixed demo learners."""

import argparse
import asyncio
import sys

from ncp_sis_adapter.adapters.sql.db import make_engine, migrate
from ncp_sis_adapter.settings import Settings

from . import data as demo


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("demo", help="the demo SIS of the sis-adapter (development package ncp-demo-sis)")
    demo_sub = parser.add_subparsers(dest="demo_command", required=True, metavar="SUBCOMMAND")
    seed = demo_sub.add_parser("seed", help="migrate the SIS database and fill it with demo data (idempotent)")
    seed.add_argument("--database-url", help="default: NCP_SIS_DATABASE_URL or the service default")
    seed.add_argument("--schema", help="PostgreSQL schema (default: NCP_SIS_DATABASE_SCHEMA)")
    seed.add_argument("--reset", action="store_true", help="replace existing demo data")
    seed.set_defaults(handler=_seed)
    logins = demo_sub.add_parser("logins", help="list the demo learners one can log in as")
    logins.set_defaults(handler=_logins)


def _seed(args: argparse.Namespace) -> int:
    from emrex_cli.main import CliError

    settings = Settings()
    url = args.database_url or settings.database_url
    schema = args.schema or settings.database_schema

    async def run() -> demo.SeedSummary:
        try:
            engine = make_engine(url, schema=schema)
        except Exception as exc:
            raise CliError(f"bad database URL: {exc}") from None
        try:
            await migrate(engine, schema=schema)
            return await demo.seed(engine, reset=args.reset)
        except OSError as exc:
            raise CliError(f"database unreachable: {exc.strerror or type(exc).__name__}") from None
        finally:
            await engine.dispose()

    summary = asyncio.run(run())
    if summary.seeded:
        sys.stdout.write(f"seeded {summary.institutions} institutions, {summary.learners} learners, "
                         f"{summary.attainments} results\n")
    else:
        sys.stdout.write("demo data already present (use --reset to replace it)\n")
    return 0


def _logins(_: argparse.Namespace) -> int:
    for learner in demo.demo_learners():
        where = ", ".join(k for k in (learner.home, *learner.exchanges) if k) or "no results"
        sys.stdout.write(f"{learner.learner_id:20} {learner.given_names} {learner.family_name} ({where})\n")
    return 0
