"""Identity matching: the identifiers from login, tried in a configured order until one finds the learner."""

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from ncp_contracts.sis_models import LearnerIdentity

from .records import IdentifierKind

T = TypeVar("T")


def lookup_keys(identity: LearnerIdentity, chain: Sequence[IdentifierKind]) -> list[tuple[IdentifierKind, str]]:
    """The (kind, value) pairs to try, in chain order, skipping kinds login did not provide."""
    keys: list[tuple[IdentifierKind, str]] = []
    for kind in chain:
        value: str | None = getattr(identity, kind)
        if value is not None and value.strip():
            keys.append((kind, value.strip()))
    return keys


async def first_match(
    keys: Sequence[tuple[IdentifierKind, str]],
    lookup: Callable[[IdentifierKind, str], Awaitable[T | None]],
) -> tuple[IdentifierKind, T] | None:
    """Ask `lookup` for each key in order; stop at the first answer (e.g. a national register is asked
    by national id first and, when that finds nothing, again by learner id)."""
    for kind, value in keys:
        found = await lookup(kind, value)
        if found is not None:
            return kind, found
    return None
