"""Request dependencies for what the lifespan put into the app state (nothing comes from module globals)."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request

T = TypeVar("T")


def state_of(request: Request, name: str, kind: type[T]) -> T:
    """`request.state.<name>` typed as `kind`, read directly: for a hot route, where FastAPI's dependency
    resolution is a large part of the CPU per request."""
    value: T = getattr(request.state, name)
    return value


def from_state(name: str, kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A FastAPI dependency returning `request.state.<name>` typed as `kind`, e.g.
    `SettingsDep = Annotated[Settings, Depends(from_state("settings", Settings))]`."""

    async def dependency(request: Request) -> T:
        return state_of(request, name, kind)

    dependency.__name__ = f"state_{name}"
    dependency.__qualname__ = f"from_state.{kind.__name__}"
    return dependency
