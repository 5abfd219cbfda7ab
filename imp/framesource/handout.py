"""Frames an application holds: handed out by GetFrame, given back by ReleaseFrame.

Shared by FrameSource and decoder channels. A hand-out is named by the frame *and* its
generation (:attr:`imp.core.vbm.Frame.generation`, bumped at every fill), so a copy of an
``IMPFrameInfo`` kept after its ReleaseFrame cannot give back the same buffer's next fill, which
another holder may own by then (the ISP would overwrite that holder's picture). A C caller names
the frame by its ``IMPFrameInfo`` (index, phyAddr and timeStamp: the timestamp tells the fills of
one buffer apart); :meth:`HandedOut.find` looks it up among the channel's pools. The count per
hand-out allows several GetFrame of the same fill before their ReleaseFrame.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from imp.core.vbm import Frame, FramePool
from imp.errors import InvalidArgument

_Key = tuple[int, int]  # (id(frame), generation)


class HandedOut:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[_Key, int] = {}  # hand-out -> times handed out, not yet given back
        self._stamps: dict[_Key, int] = {}  # hand-out -> the fill's timestamp

    def add(self, frame: Frame) -> Frame:
        key = (id(frame), frame.generation)
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            self._stamps[key] = frame.timestamp
        return frame

    def holds(self, frame: Frame, generation: int | None = None) -> bool:
        gen = frame.generation if generation is None else generation
        with self._lock:
            return (id(frame), gen) in self._counts

    def count(self, frame: Frame) -> int:
        with self._lock:
            return self._counts.get((id(frame), frame.generation), 0)

    def give_back(self, frame: Frame, where: str, generation: int | None = None) -> None:
        """ReleaseFrame: forget one hand-out of ``frame`` (its fill ``generation``, by default
        the current one) and drop its reference."""
        gen = frame.generation if generation is None else generation
        key = (id(frame), gen)
        with self._lock:
            held = self._counts.get(key, 0)
            if held <= 0:
                stale = gen != frame.generation
                raise InvalidArgument(
                    f"ReleaseFrame({where}): frame {frame.index} "
                    + (
                        f"(fill {gen}) was released already; its buffer now holds fill "
                        f"{frame.generation} (a stale copy of the frame info?)"
                        if stale
                        else "was not obtained with GetFrame on this channel (or was released "
                        "already)"
                    )
                )
            if held == 1:
                del self._counts[key]
                del self._stamps[key]
            else:
                self._counts[key] = held - 1
        frame.release(gen)

    def find(
        self,
        pools: Iterable[FramePool],
        index: int,
        phys: int,
        where: str,
        timestamp: int | None = None,
    ) -> tuple[Frame, int]:
        """The handed-out (frame, generation) a C caller names by its IMPFrameInfo index and
        phyAddr, and timeStamp when given (which fill of that buffer)."""
        for pool in pools:
            for frame in pool.frames:
                if frame.index != index or frame.phys != phys:
                    continue
                with self._lock:
                    for (fid, gen), stamp in self._stamps.items():
                        if fid == id(frame) and (timestamp is None or stamp == timestamp):
                            return frame, gen
                raise InvalidArgument(
                    f"ReleaseFrame({where}): frame {index} at {phys:#x}"
                    + (f" with timestamp {timestamp}" if timestamp is not None else "")
                    + " is not outstanding: released already (a stale copy of the frame "
                    "info?) or never obtained with GetFrame on this channel"
                )
        raise InvalidArgument(
            f"ReleaseFrame({where}): no outstanding frame with index {index} at {phys:#x}"
        )

    def forget_all(self) -> dict[int, int]:
        """The channel goes away: the hand-outs it still had (id(frame) -> count)."""
        with self._lock:
            counts, self._counts, self._stamps = self._counts, {}, {}
        out: dict[int, int] = {}
        for (fid, _gen), n in counts.items():
            out[fid] = out.get(fid, 0) + n
        return out
