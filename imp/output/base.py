"""What every output shares: counters, rate-limited error logging, the path check."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from imp.errors import InvalidArgument

__all__ = ["OutputCounters", "check_writable", "log"]

log = logging.getLogger("imp.output")

# An output that fails on every packet (a full disk) would log 25 lines a second; the first
# failures and then one in this many are logged, all are counted.
_LOG_EVERY = 100
_LOG_FIRST = 3


class OutputCounters:
    """``written``, ``skipped`` (packets deliberately not written: before the first keyframe,
    after close, of a kind the output does not take), ``errors`` (I/O or muxing failures), and
    ``last_error``. Subclasses call :meth:`_failed` instead of raising into the pipeline."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.written = 0
        self.skipped = 0
        self.errors = 0
        self.last_error: str | None = None
        self._lock = threading.Lock()

    def _failed(self, what: str, exc: BaseException | None = None) -> None:
        self.errors += 1
        self.last_error = what if exc is None else f"{what}: {exc}"
        if self.errors <= _LOG_FIRST or self.errors % _LOG_EVERY == 0:
            log.error("%s: %s (error %d)", self.name, self.last_error, self.errors)

    def _stats(self) -> str:
        return f"written={self.written} skipped={self.skipped} errors={self.errors}"


def check_writable(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path once its directory exists and is writable; InvalidArgument otherwise.

    Called from constructors (the application's thread), so a wrong path is reported at once
    rather than counted as errors packet after packet.
    """
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InvalidArgument(f"cannot write {p}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise InvalidArgument(f"cannot write {p}: directory {parent} is not writable")
    if p.is_dir():
        raise InvalidArgument(f"cannot write {p}: it is a directory; give a file name")
    return p
