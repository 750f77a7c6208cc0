"""A bounded map that forgets the least recently used key first: what the gateway remembers in process (parsed
prepared documents, results read, receivers' registry entries) is kept in one of these, so none grows with
the traffic."""

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    def __init__(self, kept: int) -> None:
        self._kept = kept
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value kept for `key` (now the most recently used), or None."""
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: K, value: V) -> None:
        """Keeps `value` as the most recently used; beyond `kept` keys the least recently used goes."""
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self._kept:
            self._items.popitem(last=False)

    def pop(self, key: K) -> None:
        self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)
