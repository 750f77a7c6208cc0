"""Whether a parser opened a file it must never open: a FIFO named in a DTD, watched from a thread."""

import errno
import os
import threading
import time
from pathlib import Path


class FifoWatch:
    """`with FifoWatch(path) as watch: ...` then `assert not watch.opened`.

    A writer opening a FIFO without blocking gets in only while some reader has it open, so a successful
    open means the code under test opened the path; closing at once gives that reader EOF instead of a hang.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.opened = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: no reader, nobody opened it (yet)
                    raise
                time.sleep(0.001)
                continue
            self.opened = True
            os.close(fd)

    def __enter__(self) -> "FifoWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def make_fifo(directory: Path, name: str = "x.dtd") -> Path:
    path = directory / name
    os.mkfifo(path)
    return path
