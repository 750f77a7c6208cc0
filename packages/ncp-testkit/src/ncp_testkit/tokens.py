"""Caller-token files as `ncp_runtime.CallerTokens.load` reads them: one file per caller, named after it."""

import secrets
from pathlib import Path


def write_caller_tokens(directory: Path, *callers: str, **fixed: str) -> dict[str, str]:
    """Write a fresh random token for each caller in `callers` (and the given value for each `fixed` caller)
    into `directory/<caller>`; returns caller -> token."""
    directory.mkdir(parents=True, exist_ok=True)
    values = {caller: secrets.token_urlsafe(24) for caller in callers}
    values.update(fixed)
    for caller, token in values.items():
        (directory / caller).write_text(token + "\n")
    return values


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for `token`."""
    return {"Authorization": f"Bearer {token}"}
