"""Request dependencies for what the lifespan put into the app state (nothing comes from module globals)."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request

T = TypeVar("T")


def from_state(name: str, kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A FastAPI dependency returning `request.state.<name>` typed as `kind`, e.g.
    `SettingsDep = Annotated[Settings, Depends(from_state("settings", Settings))]`."""

    async def dependency(request: Request) -> T:
        value: T = getattr(request.state, name)
        return value

    dependency.__name__ = f"state_{name}"
    dependency.__qualname__ = f"from_state.{kind.__name__}"
    return dependency
