"""Request dependencies: the state the lifespan returns, and the authenticated caller."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, TypedDict

from fastapi import Depends, Request

from ncp_runtime import CallerTokens, bearer_caller, from_state
from ncp_signer.adapters.keyring import Keyring
from ncp_signer.settings import Settings


@dataclass
class SignerState:
    settings: Settings
    keyring: Keyring
    tokens: CallerTokens
    tokens_error: str | None
    executor: ThreadPoolExecutor
    """The signing workers: a fixed set of threads, each prepared once at start-up (warm_up)."""
    expiry_warned_day: list[str] = field(default_factory=list)


class State(TypedDict):
    # One object: the keyring, its workers and the expiry warning change together.
    signer: SignerState


SignerDep = Annotated[SignerState, Depends(from_state("signer", SignerState))]


async def get_caller(request: Request, signer: SignerDep) -> str:
    """The calling service, from its bearer token (401 if missing or wrong, 403 if not allowed)."""
    return await bearer_caller(lambda _: signer.tokens, allowed=signer.settings.allowed_callers)(request)


CallerDep = Annotated[str, Depends(get_caller)]
