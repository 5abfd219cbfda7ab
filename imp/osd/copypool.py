"""Frames the OSD owns, for the copy it draws on when it is not a frame's only holder.

A frame shared with another branch (fan-out, an IVS channel still analysing it, a GetFrame
FIFO) must reach those consumers without this group's overlay, so the OSD copies it into one
of these rmem buffers (same geometry and layout), draws on the copy and passes the copy on.
The pool is made on first need and remade when the frame geometry changes.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from imp import log, runtime
from imp.core.vbm import BufferState, Frame, FramePool
from imp.errors import ImpError

_log = log.get("osd")

DEFAULT_BUFFERS = 2
_CLOSE_WAIT = 2.0  # s for downstream consumers to hand copies back at teardown


class CopyPool:
    """``count`` frame buffers in rmem, recycled (not re-queued anywhere) on last release."""

    def __init__(self, name: str, count: int = DEFAULT_BUFFERS) -> None:
        self.name = name
        self.count = count
        self.copies = 0
        self._pool: FramePool | None = None
        self._retired: list[FramePool] = []
        self._cond = threading.Condition()

    def copy_of(self, frame: Frame, timeout: float) -> Frame | None:
        """A new frame with ``frame``'s picture, timestamp and sequence number, held once by
        the caller; None if every buffer is still in use downstream after ``timeout`` s."""
        pool = self._pool_for(frame)
        target = self._take_free(pool, timeout)
        if target is None:
            return None
        n = min(len(target.data), len(frame.data))
        np.copyto(
            np.frombuffer(target.data, np.uint8, count=n), np.frombuffer(frame.data, np.uint8, n)
        )
        pool.mark_queued(target, frame.timestamp, frame.seq)
        target.acquire()
        self.copies += 1
        return target

    def _pool_for(self, frame: Frame) -> FramePool:
        pool = self._pool
        if pool is not None and (
            pool.width,
            pool.height,
            pool.pixfmt,
            pool.size,
            pool.uv_offset,
        ) == (frame.width, frame.height, frame.pixfmt, frame.size, frame.uv_offset):
            return pool
        if pool is not None:
            self._retire(pool)
        pool = FramePool(
            runtime.allocator(),
            name=self.name,
            count=self.count,
            size=frame.size,
            width=frame.width,
            height=frame.height,
            pixfmt=frame.pixfmt,
            uv_offset=frame.uv_offset,
            recycle=self._recycled,
        )
        self._pool = pool
        _log.info(
            "%s: %d copy buffers of %dx%d (%d bytes) for frames shared with other branches",
            self.name,
            self.count,
            frame.width,
            frame.height,
            frame.size,
        )
        return pool

    def _take_free(self, pool: FramePool, timeout: float) -> Frame | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for f in pool.frames:
                    if f.state is BufferState.FREE:
                        pool.mark_dequeued(f)  # ours while we fill it
                        return f
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def _recycled(self, frame: Frame) -> None:
        # The last holder let go: the buffer is FREE again. Wake a waiting copier, and free a
        # retired pool once all of its frames are back.
        with self._cond:
            self._cond.notify_all()
            pool = frame.pool
            if pool in self._retired and pool.outstanding() == 0:
                self._retired.remove(pool)
                pool.destroy()

    def _retire(self, pool: FramePool) -> None:
        with self._cond:
            if pool.outstanding() == 0:
                pool.destroy()
            else:
                self._retired.append(pool)

    def close(self) -> None:
        """Free every buffer, waiting a little for copies still held downstream."""
        with self._cond:
            pools = ([self._pool] if self._pool is not None else []) + self._retired
            self._pool, self._retired = None, []
        for pool in pools:
            if not pool.wait_all_free(_CLOSE_WAIT):
                _log.warning(
                    "%s: %d copied frame(s) never released downstream; freeing them anyway",
                    self.name,
                    pool.outstanding(),
                )
            try:
                pool.destroy(force=True)
            except ImpError as exc:
                _log.error("%s: freeing the copy buffers: %s", self.name, exc)


__all__ = ["DEFAULT_BUFFERS", "CopyPool"]
