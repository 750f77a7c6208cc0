"""The entry counts the live transfers only when the limit could be near (adapters/live_count.py)."""

import datetime as dt

from ncp_gateway.adapters import live_count
from ncp_gateway.adapters.live_count import LiveCount

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


def test_never_sure_before_a_count():
    assert not LiveCount().room_for_sure(NOW, 1000)


def test_sure_below_half_the_limit_then_counts_again_from_half():
    live = LiveCount()
    live.counted(498, NOW)
    assert live.room_for_sure(NOW, 1000)
    live.added()
    assert live.room_for_sure(NOW, 1000)
    live.added()  # 500: half the limit
    assert not live.room_for_sure(NOW, 1000)


def test_small_limits_always_count():
    live = LiveCount()
    live.counted(0, NOW)
    assert not live.room_for_sure(NOW, 1)  # half of 1 is 0
    assert live.room_for_sure(NOW, 2)
    live.added()
    assert not live.room_for_sure(NOW, 2)


def test_a_count_older_than_a_second_or_a_clock_set_back_counts_again(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(live_count.time, "monotonic", lambda: clock[0])
    live = LiveCount()
    live.counted(1, NOW)
    assert live.room_for_sure(NOW + dt.timedelta(minutes=1), 1000)  # later: only fewer can be live
    assert not live.room_for_sure(NOW - dt.timedelta(seconds=1), 1000)  # earlier: expired ones live again
    clock[0] += live_count.FRESH_SECONDS
    assert not live.room_for_sure(NOW, 1000)


def test_while_one_entry_counts_again_the_others_go_on_with_the_figure_for_another_second(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(live_count.time, "monotonic", lambda: clock[0])
    live = LiveCount()
    live.counted(10, NOW)
    clock[0] += live_count.FRESH_SECONDS
    assert not live.room_for_sure(NOW, 1000)  # this entry counts again...
    live.recounting = True
    assert live.room_for_sure(NOW, 1000)  # ...the others do not meanwhile
    assert not live.room_for_sure(NOW, 20)  # but near the limit every entry counts
    clock[0] += live_count.FRESH_SECONDS
    assert not live.room_for_sure(NOW, 1000)  # a count that never came back: counting again
    live.counted(11, NOW)
    assert not live.recounting
    assert live.room_for_sure(NOW, 1000)
