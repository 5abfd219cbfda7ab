"""Ctrl-C in the samples: stop within a second, even on a double Ctrl-C, and tear down fully.

The first SIGINT raises KeyboardInterrupt in the main thread (as Python's default) and sets a
flag that every sample loop checks (:func:`until_stopped`) and that cuts waits short
(:func:`pause`), so reader threads end at their next call instead of after their 200 frames or
results. Further SIGINTs while the teardown runs are ignored (said on stderr): a second Ctrl-C
used to land inside the teardown and leave the ISP open. A third one gives up and raises.

The flag is a plain attribute, not a ``threading.Event``: a signal handler runs between two
bytecodes of the main thread, which may be holding the Event's own lock.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TypeVar

T = TypeVar("T")

_PAUSE_STEP = 0.02  # s: how often a pause looks at the flag
_GIVE_UP_AFTER = 3  # SIGINTs: the third one raises even during the teardown


class _State:
    stopping = False
    presses = 0


def stopping() -> bool:
    """True once Ctrl-C was pressed in :func:`interruptible`."""
    return _State.stopping


def until_stopped(count: int) -> Iterator[int]:
    """``range(count)`` that ends early once Ctrl-C was pressed."""
    for i in range(count):
        if _State.stopping:
            return
        yield i


def pause(seconds: float) -> None:
    """``time.sleep`` that ends early once Ctrl-C was pressed."""
    deadline = time.monotonic() + seconds
    while not _State.stopping:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, _PAUSE_STEP))


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    _State.presses += 1
    if not _State.stopping:
        _State.stopping = True
        raise KeyboardInterrupt
    if _State.presses >= _GIVE_UP_AFTER:
        raise KeyboardInterrupt
    sys.stderr.write("stopping: the teardown is running (Ctrl-C again to give up)\n")


def interruptible(run: Callable[[], T]) -> T:
    """Run ``run()`` with the samples' SIGINT handling (main thread only; elsewhere as is)."""
    _State.stopping, _State.presses = False, 0
    if threading.current_thread() is not threading.main_thread():
        return run()
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        return run()
    finally:
        signal.signal(signal.SIGINT, previous)
        _State.stopping = False


__all__ = ["interruptible", "pause", "stopping", "until_stopped"]
