"""When an entry must count the live transfers before storing one (the max_live_transfers limit).

The count is a scan of the live rows' index: ~0.03 ms at a thousand live transfers, ~1.7 ms at the default limit
of 50,000, on every entry. Far below the limit the answer is known without it: the last count, plus what this
process stored since, is under half the limit and less than a second old. Only other replicas' entries of that
second are missing from the figure (expiries and deletes only make it too high), so the limit could only be
passed if they stored more than half of it within one second; near the limit every entry counts, as before.
While one entry counts again, the others go on with the figure (for up to another second) rather than all
counting at once.
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
    recounting: bool = False  # an entry is counting again

    def room_for_sure(self, now: dt.datetime, max_live: int) -> bool:
        """True when a new transfer certainly fits under `max_live` without counting."""
        if self.counted_for is None or now < self.counted_for or self.count >= max_live // 2:
            return False  # (a clock set back revives expired transfers)
        age = time.monotonic() - self.counted_at
        return age < FRESH_SECONDS or (self.recounting and age < 2 * FRESH_SECONDS)

    def counted(self, count: int, now: dt.datetime) -> None:
        self.count, self.counted_at, self.counted_for = count, time.monotonic(), now
        self.recounting = False

    def added(self) -> None:
        self.count += 1
