"""When an entry must count the live transfers before storing one (the max_live_transfers limit).

The count is a scan of the live rows' index: ~0.03 ms at a thousand live transfers, ~1.7 ms at the default limit
of 50,000, on every entry. Far below the limit the answer is known without it: the last count, plus what this
process stored since, is under half the limit and less than a second old. Only other replicas' entries of that
second are missing from the figure (expiries and deletes only make it too high), so the limit could only be
passed if they stored more than half of it within one second; near the limit every entry counts, as before.
"""

import datetime as dt
import time
from dataclasses import dataclass, field

FRESH_SECONDS = 1.0


@dataclass
class LiveCount:
    count: int = 0
    counted_at: float = field(default=-FRESH_SECONDS)  # time.monotonic() of the count
    counted_for: dt.datetime | None = None  # the `now` the count was made for

    def room_for_sure(self, now: dt.datetime, max_live: int) -> bool:
        """True when a new transfer certainly fits under `max_live` without counting."""
        return (self.counted_for is not None and now >= self.counted_for  # a clock set back revives expired ones
                and time.monotonic() - self.counted_at < FRESH_SECONDS and self.count < max_live // 2)

    def counted(self, count: int, now: dt.datetime) -> None:
        self.count, self.counted_at, self.counted_for = count, time.monotonic(), now

    def added(self) -> None:
        self.count += 1
