"""EMREX 2.0 authorization flows in progress (state and PKCE), in memory: the demo client runs one process."""

import secrets
import time
from dataclasses import dataclass

from ncp_demo_client.domain.emrex2 import Pkce

FLOW_TTL_S = 900
MAX_FLOWS = 10_000


@dataclass(frozen=True)
class Flow:
    state: str
    pkce: Pkce
    started: float


class Flows:
    """Flows in progress, by an opaque browser cookie; in memory, as the demo client runs one process."""

    def __init__(self) -> None:
        self._flows: dict[str, Flow] = {}

    def start(self) -> tuple[str, Flow]:
        now = time.monotonic()
        self._flows = {k: f for k, f in self._flows.items() if now - f.started < FLOW_TTL_S}
        if len(self._flows) >= MAX_FLOWS:
            self._flows.pop(next(iter(self._flows)))
        handle = secrets.token_urlsafe(24)
        flow = Flow(secrets.token_urlsafe(24), Pkce.new(), now)
        self._flows[handle] = flow
        return handle, flow

    def take(self, handle: str | None) -> Flow | None:
        """Each flow is used once: a replayed callback finds nothing."""
        flow = self._flows.pop(handle, None) if handle else None
        if flow is None or time.monotonic() - flow.started >= FLOW_TTL_S:
            return None
        return flow
