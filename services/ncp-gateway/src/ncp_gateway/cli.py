"""`emrex audit verify`: walk the gateway's audit chain and match it against the signer's signature log;
`emrex audit export`: one learner's transfers, for a data subject access request (needs the pseudonym key).

Both read the gateway's database directly (an operator's command, not a service endpoint).
"""

import argparse
import asyncio
import datetime as dt
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from ncp_runtime import read_secret

from .adapters.store import SessionStore, make_engine
from .adapters.tables import AuditRow
from .domain.audit_chain import ChainReport, ChainState, SignatureMatch, match_signatures, signed_digests, verify
from .domain.outgoing import pseudonym
from .settings import AuditToolSettings

T = TypeVar("T")


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser("audit", help="the gateway's audit trail: verify it, export a learner's transfers")
    audit_sub = parser.add_subparsers(dest="audit_command", required=True, metavar="SUBCOMMAND")

    check = audit_sub.add_parser("verify", help="walk the hash chain; report the first broken link (exit 1)")
    _database_options(check)
    check.add_argument("--signature-log", type=Path, action="append", default=[], metavar="FILE",
                       help="the signer's JSON-lines log (repeatable): every record's ELMO must have been "
                            "signed, every ELMO signed must have a record")
    check.set_defaults(handler=_verify)

    export = audit_sub.add_parser("export", help="a learner's transfers as JSON (data subject access request)")
    _database_options(export)
    export.add_argument("--learner", required=True, help="the learner's login identifier (the provider's `sub`)")
    export.add_argument("--issuer",
                        help="the OpenID provider the learner logged in with (default: NCP_GATEWAY_OIDC_ISSUER)")
    export.add_argument("--pseudonym-key-file", type=Path,
                        help="the gateway's pseudonym key (default: NCP_GATEWAY_PSEUDONYM_KEY_PATH)")
    export.set_defaults(handler=_export)


def _database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url",
                        help="postgresql://... or sqlite:///path (default: NCP_GATEWAY_DATABASE_URL, or "
                             "NCP_GATEWAY_DATABASE_PATH as SQLite)")
    parser.add_argument("--schema",
                        help="PostgreSQL schema of the tables (default: NCP_GATEWAY_DATABASE_SCHEMA)")


def async_url(url: str) -> str:
    for plain, driver in (("postgresql://", "postgresql+asyncpg://"), ("postgres://", "postgresql+asyncpg://"),
                          ("sqlite:///", "sqlite+aiosqlite:///")):
        if url.startswith(plain):
            return driver + url.removeprefix(plain)
    return url


class AuditCommandError(Exception):
    pass


def _fail(message: str) -> int:
    sys.stderr.write(f"emrex: {message}\n")
    return 1


def _settings() -> AuditToolSettings:
    try:
        return AuditToolSettings()
    except ValueError as exc:
        raise AuditCommandError(f"settings: {exc}") from None


def _with_store(args: argparse.Namespace, work: Callable[[SessionStore], Awaitable[T]]) -> T:
    settings = _settings()
    url = args.database_url or settings.database_url
    if not url and settings.database_path is not None:
        url = f"sqlite:///{settings.database_path}"
    if not url:
        raise AuditCommandError("no database: give --database-url or set NCP_GATEWAY_DATABASE_URL")
    schema = args.schema or settings.database_schema
    sqlite_file = async_url(url).removeprefix("sqlite+aiosqlite:///")
    if sqlite_file != async_url(url) and not Path(sqlite_file).is_file():
        # SQLite would create an empty database: a typo must not look like an empty audit.
        raise AuditCommandError(f"{sqlite_file}: no such database file")

    async def run() -> T:
        try:
            engine = make_engine(async_url(url), schema)
        except Exception as exc:  # a malformed URL or an unknown driver
            raise AuditCommandError(f"bad database URL ({type(exc).__name__})") from None
        store: SessionStore | None = None
        try:
            store = SessionStore(engine)
            return await work(store)
        except AuditCommandError:
            raise
        except Exception as exc:  # unreachable, no such table: one line, never the URL (it may hold a password)
            raise AuditCommandError(f"the audit could not be read ({type(exc).__name__}: "
                                    f"{str(exc).splitlines()[0][:200] if str(exc) else ''})") from None
        finally:
            if store is not None:
                await store.aclose()
            await engine.dispose()

    return asyncio.run(run())


def _read_digests(paths: list[Path]) -> list[str]:
    digests: list[str] = []
    for path in paths:
        try:
            with path.open(encoding="utf-8", errors="replace") as lines:
                digests += signed_digests(lines)
        except OSError as exc:
            raise AuditCommandError(f"{path}: {exc.strerror}") from None
    return digests


def _verify(args: argparse.Namespace) -> int:
    try:
        digests = _read_digests(args.signature_log)
        state, links = _with_store(args, lambda store: store.audit_chain())
    except AuditCommandError as exc:
        return _fail(str(exc))
    report = verify(links, state)
    _print_chain(report, state, len(links))
    match = match_signatures(links, digests) if args.signature_log else None
    if match is not None:
        _print_signatures(match, len(digests))
    return 0 if report.ok and (match is None or match.ok) else 1


def _print_chain(report: ChainReport, state: ChainState, stored: int) -> None:
    out = sys.stdout
    start = f"from the anchor after record {state.anchor_seq}" if state.anchor_seq else "from the start"
    if report.first_break is None:
        out.write(f"audit chain intact: {report.checked} records {start}, head at record {state.head_seq}\n")
        return
    broken = report.first_break
    where = f"record {broken.seq}" + (f" (row id {broken.row_id})" if broken.row_id is not None else "")
    out.write(f"audit chain BROKEN at {where}: {broken.reason}; {report.checked} of {stored} records "
              f"verified {start}\n")


def _print_signatures(match: SignatureMatch, signed: int) -> None:
    out = sys.stdout
    out.write(f"signature log: {signed} ELMO signatures; {len(match.records_without_signature)} records without "
              f"a signature, {len(match.signatures_without_record)} signatures without a record\n")
    for seq in match.records_without_signature:
        out.write(f"  record {seq}: its ELMO is not in the signature log\n")
    for digest in match.signatures_without_record:
        out.write(f"  signature sha256={digest}: no audit record names it\n")


def _export(args: argparse.Namespace) -> int:
    try:
        settings = _settings()
        args.pseudonym_key_file = args.pseudonym_key_file or settings.pseudonym_key_path
        args.issuer = args.issuer or settings.oidc_issuer
        if args.pseudonym_key_file is None:
            raise AuditCommandError("no pseudonym key: give --pseudonym-key-file or set "
                                    "NCP_GATEWAY_PSEUDONYM_KEY_PATH")
        if not args.issuer:
            raise AuditCommandError("no issuer: give --issuer or set NCP_GATEWAY_OIDC_ISSUER")
        try:
            key = read_secret(Path(args.pseudonym_key_file)).encode()
        except OSError as exc:
            raise AuditCommandError(f"{args.pseudonym_key_file}: {exc.strerror}") from None
        # The gateway keys pseudonyms by the issuer as its OIDC client normalises it (no trailing slash).
        learner = pseudonym(key, str(args.issuer).rstrip("/"), args.learner)
        rows = _with_store(args, lambda store: store.audit_of(learner))
    except AuditCommandError as exc:
        return _fail(str(exc))
    document = {"learner_pseudonym": learner, "issuer": str(args.issuer).rstrip("/"),
                "transfers": [transfer_entry(row) for row in rows]}
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return 0


def transfer_entry(row: AuditRow) -> dict[str, Any]:
    # SQLite hands timestamps back without a zone; they are stored as UTC.
    aware = row.created_at if row.created_at.tzinfo is not None else row.created_at.replace(tzinfo=dt.UTC)
    return {
        "when": aware.isoformat(timespec="seconds"), "protocol": row.protocol, "receiver": row.receiver_origin,
        "return_code": row.return_code, "institutions": row.institutions.split(),
        "learning_opportunities": row.learning_opportunities, "credits": row.credits,
        "elmo_sha256": row.elmo_sha256, "audit_record": row.seq,
    }
