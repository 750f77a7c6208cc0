"""A FIFO that tells whether anything opened it: proof that a parser never followed a path it was given.

Opening a FIFO for reading blocks until a writer comes, so a parser that followed the path would hang; and a
writer opening it without blocking gets in only while some reader has it open, which is how the watcher sees it.
"""

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WatchedFifo:
    path: Path
    _opened: threading.Event

    @property
    def opened(self) -> bool:
        return self._opened.is_set()


@contextmanager
def watched_fifo(path: Path) -> Iterator[WatchedFifo]:
    """Create a FIFO at `path` (or reuse the one there) and watch it from a thread until the block ends."""
    if not path.exists():
        os.mkfifo(path)
    opened, stop = threading.Event(), threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.001)  # a watcher thread, not an event loop
                continue
            opened.set()
            os.close(fd)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield WatchedFifo(path, opened)
    finally:
        stop.set()
        watcher.join(5)
