"""A bounded, abortable queue with the three wait modes of the IMP API.

libimp calls take ``timeout`` as "block forever", "don't block" or "wait N ms"; here that is
``None``, ``0`` and a positive number of seconds. ``abort()`` exists because a consumer blocked
in GetFrame/GetStream must be woken when its channel is disabled, and Python threads cannot be
cancelled.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from imp.errors import InvalidArgument, InvalidState, Timeout

T = TypeVar("T")

log = logging.getLogger("imp.core.fifo")


def _check_timeout(timeout: float | None) -> None:
    if timeout is not None and timeout < 0:
        raise InvalidArgument(
            f"timeout must be None (wait forever), 0 (no wait) or > 0 seconds, got {timeout}"
        )


def _check_maxsize(maxsize: int) -> None:
    if maxsize < 0:
        raise InvalidArgument(f"fifo maxsize must be >= 0, got {maxsize}")


class Fifo(Generic[T]):
    """Bounded FIFO. ``put`` returns True when the fifo took ownership of the item.

    "Took ownership" includes dropping it through ``on_drop`` (``drop_oldest`` mode, or a
    0-size fifo): callers that hold references (frames) can rely on the fifo to hand every item
    either to a ``get`` or to ``on_drop``, never to lose one. A False return means the caller
    still owns the item.
    """

    def __init__(
        self,
        maxsize: int,
        on_drop: Callable[[T], None] | None = None,
        drop_oldest: bool = False,
    ) -> None:
        _check_maxsize(maxsize)
        self._maxsize = maxsize
        self._on_drop = on_drop
        self._drop_oldest = drop_oldest
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)
        self._aborted = False

    # --- properties ---------------------------------------------------------------------------
    @property
    def maxsize(self) -> int:
        with self._lock:
            return self._maxsize

    @property
    def aborted(self) -> bool:
        with self._lock:
            return self._aborted

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    # --- producer side ------------------------------------------------------------------------
    def put(self, item: T, timeout: float | None = None) -> bool:
        """Append ``item``; see the class doc for what the return value promises.

        When full: with ``drop_oldest`` the oldest item is evicted (passed to ``on_drop``) and
        the call never blocks; otherwise it waits up to ``timeout`` (False on timeout). An
        aborted fifo never blocks a producer: the item goes straight to ``on_drop`` (True) or,
        without one, is refused (False).
        """
        _check_timeout(timeout)
        to_drop: list[T] = []
        with self._lock:
            if not self._aborted and len(self._items) >= self._maxsize:
                if self._drop_oldest:
                    # Depth 0 means "cache nothing": then the new item is the one to go.
                    to_drop.append(self._items.popleft() if self._maxsize else item)
                else:
                    deadline = None if timeout is None else time.monotonic() + timeout
                    while len(self._items) >= self._maxsize and not self._aborted:
                        remaining = None if deadline is None else deadline - time.monotonic()
                        if remaining is not None and remaining <= 0:
                            return False
                        self._not_full.wait(remaining)
            if self._aborted:
                if self._on_drop is None:
                    return False
                to_drop.append(item)
            elif self._maxsize > 0:
                self._items.append(item)
                self._not_empty.notify()
        self._drop(to_drop)
        return True

    # --- consumer side ------------------------------------------------------------------------
    def get(self, timeout: float | None = None) -> T:
        """Take the oldest item.

        Raises :class:`~imp.errors.Timeout` when nothing arrived in time and
        :class:`~imp.errors.InvalidState` when the fifo is (or becomes) aborted.
        """
        _check_timeout(timeout)
        with self._lock:
            if not self._wait_non_empty(timeout):
                if self._aborted:
                    raise InvalidState(
                        "the queue was aborted (channel disabled or being destroyed); "
                        "enable it again before waiting for data"
                    )
                raise Timeout(f"no data within {_fmt_timeout(timeout)}")
            item = self._items.popleft()
            self._not_full.notify()
            return item

    def peek_ready(self, timeout: float | None = None) -> bool:
        """Wait until an item is available without taking it (the Polling* calls)."""
        _check_timeout(timeout)
        with self._lock:
            return self._wait_non_empty(timeout)

    def _wait_non_empty(self, timeout: float | None) -> bool:
        # Caller holds the lock. False on abort or timeout; the caller tells which.
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._items or self._aborted:
            if self._aborted:
                return False
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            self._not_empty.wait(remaining)
        return True

    # --- control ------------------------------------------------------------------------------
    def abort(self) -> None:
        """Wake all waiters; until reset(), ``get`` raises InvalidState and ``put`` never queues."""
        with self._lock:
            self._aborted = True
            self._not_empty.notify_all()
            self._not_full.notify_all()

    def reset(self) -> None:
        """Leave the aborted state. Queued items are kept; call drain() to discard them."""
        with self._lock:
            self._aborted = False

    def drain(self) -> list[T]:
        """Remove and return every queued item (oldest first); the caller now owns them."""
        with self._lock:
            items = list(self._items)
            self._items.clear()
            self._not_full.notify_all()
        return items

    def resize(self, maxsize: int) -> list[T]:
        """Change the capacity; when shrinking, the oldest surplus items go to ``on_drop``.

        Returns the evicted items (already passed to ``on_drop`` if there is one).
        """
        _check_maxsize(maxsize)
        with self._lock:
            self._maxsize = maxsize
            evicted = [self._items.popleft() for _ in range(max(0, len(self._items) - maxsize))]
            self._not_full.notify_all()
        self._drop(evicted)
        return evicted

    def _drop(self, items: list[T]) -> None:
        # Runs without the lock: on_drop typically releases a frame, whose recycle path QBUFs
        # it and may take other locks.
        if self._on_drop is None:
            return
        for it in items:
            try:
                self._on_drop(it)
            except Exception:
                # A faulty drop callback must not kill the producer thread that triggered it.
                log.exception("fifo on_drop callback failed for %r", it)


def _fmt_timeout(timeout: float | None) -> str:
    if timeout is None:
        return "forever"
    if timeout == 0:
        return "0 s (non-blocking call and the queue is empty)"
    return f"{timeout:g} s"


__all__ = ["Fifo"]
