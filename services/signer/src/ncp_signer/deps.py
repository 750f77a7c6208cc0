"""Request dependencies: the app state built in the lifespan, and the authenticated caller."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from ncp_runtime import CallerTokens, bearer_caller
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


def get_state(request: Request) -> SignerState:
    state: SignerState = request.app.state.signer
    return state


async def _state(request: Request) -> SignerState:
    # async: FastAPI runs a plain `def` dependency in a worker thread, a thread hop per request for an attribute.
    return get_state(request)


def _tokens(request: Request) -> CallerTokens:
    return get_state(request).tokens


async def get_caller(request: Request) -> str:
    """The calling service, from its bearer token (401 if missing or wrong, 403 if not allowed)."""
    allowed = get_state(request).settings.allowed_callers
    return await bearer_caller(_tokens, allowed=allowed)(request)


State = Annotated[SignerState, Depends(_state)]
Caller = Annotated[str, Depends(get_caller)]
