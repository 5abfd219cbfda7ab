"""Iterating borrowed items (frames, streams) that must go back when the loop moves on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar


class Releasable(Protocol):
    def release(self) -> None: ...


R = TypeVar("R", bound=Releasable)


def borrowed(take: Callable[[], R], limit: int | None = None) -> Iterator[R]:
    """Yield ``take()`` up to ``limit`` times (forever for None), releasing each item when the
    consumer asks for the next one or leaves the loop (break, exception, close)."""
    count = 0
    while limit is None or count < limit:
        item = take()
        try:
            yield item
        finally:
            item.release()
        count += 1
