"""The bounded map behind the gateway's in-process memories: at most `kept` keys, the least recently used
forgotten first, a read counting as a use."""

from ncp_gateway.domain.recent import Recent


def test_at_most_kept_keys_the_least_recently_used_forgotten_first():
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert recent.get("a") == 1  # a read is a use: "b" is now the oldest
    recent.put("c", 3)
    assert len(recent) == 2
    assert recent.get("b") is None
    assert (recent.get("a"), recent.get("c")) == (1, 3)


def test_put_replaces_and_renews_and_pop_forgets():
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    recent.put("a", 10)  # replaced, and now the most recent
    recent.put("c", 3)
    assert recent.get("b") is None
    assert recent.get("a") == 10
    recent.pop("a")
    recent.pop("missing")
    assert recent.get("a") is None
    assert len(recent) == 1
