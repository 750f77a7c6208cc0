"""Time, injected: the app gets a `Clock` (the system's by default) so expiry and timeouts are tested by moving
it, not by sleeping or rewriting stored rows."""

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)
