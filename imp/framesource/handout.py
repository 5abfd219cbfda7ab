"""Frames an application holds: handed out by GetFrame, given back by ReleaseFrame.

Shared by FrameSource and decoder channels. A C caller gives a frame back by its IMPFrameInfo
(index and phyAddr), so :meth:`HandedOut.find` looks it up among the channel's pools; the count
per frame allows several GetFrame of the same frame before their ReleaseFrame.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from imp.core.vbm import Frame, FramePool
from imp.errors import InvalidArgument


class HandedOut:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[int, int] = {}  # id(frame) -> times handed out, not yet given back

    def add(self, frame: Frame) -> Frame:
        with self._lock:
            self._counts[id(frame)] = self._counts.get(id(frame), 0) + 1
        return frame

    def holds(self, frame: Frame) -> bool:
        with self._lock:
            return id(frame) in self._counts

    def count(self, frame: Frame) -> int:
        with self._lock:
            return self._counts.get(id(frame), 0)

    def give_back(self, frame: Frame, where: str) -> None:
        """ReleaseFrame: forget one hand-out and drop its reference."""
        with self._lock:
            held = self._counts.get(id(frame), 0)
            if held <= 0:
                raise InvalidArgument(
                    f"ReleaseFrame({where}): frame {frame.index} was not obtained with "
                    "GetFrame on this channel (or was released already)"
                )
            if held == 1:
                del self._counts[id(frame)]
            else:
                self._counts[id(frame)] = held - 1
        frame.release()

    def find(self, pools: Iterable[FramePool], index: int, phys: int, where: str) -> Frame:
        """The handed-out frame a C caller names by its IMPFrameInfo index and phyAddr."""
        for pool in pools:
            for frame in pool.frames:
                if frame.index == index and frame.phys == phys and self.holds(frame):
                    return frame
        raise InvalidArgument(
            f"ReleaseFrame({where}): no outstanding frame with index {index} at {phys:#x}"
        )

    def forget_all(self) -> dict[int, int]:
        """The channel goes away: the hand-outs it still had (id(frame) -> count)."""
        with self._lock:
            counts, self._counts = self._counts, {}
        return counts
