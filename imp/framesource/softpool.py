"""Frames a program fills (decoder output, EmuFrameSource input, extension-channel conversions).

A :class:`SoftPool` is a :class:`~imp.core.vbm.FramePool` in rmem whose producer is code, not a
driver: :meth:`take` hands out a FREE buffer (waiting, bounded, while consumers hold them all:
that is the back-pressure a slow consumer puts on its producer), the producer writes the picture
and :meth:`publish` stamps it. The last release makes it FREE again and wakes a waiting
:meth:`take`; :meth:`wait_consumed` lets a producer of recorded material run in step with its
consumers so that none of its pictures is dropped. Frames are ordinary graph frames: OSD draws
on them, encoders read them zero-copy.
"""

from __future__ import annotations

import threading
import time

from imp import log, runtime
from imp.core.vbm import BufferState, Frame, FramePool
from imp.errors import InvalidState, Timeout
from imp.framesource.attr import PIX_FMT_NV12

_log = log.get("softpool")

_CLOSE_WAIT = 2.0  # bound on waiting for consumers to hand frames back at close


def picture_bytes(width: int, height: int, pixfmt: int) -> int:
    """Buffer size of one picture: NV12 W*H*3/2 (UV right after Y); 4 bytes a pixel otherwise
    (RGBA/BGRA/HSV, what extension channels produce)."""
    if pixfmt == PIX_FMT_NV12:
        return width * height * 3 // 2
    return width * height * 4


class SoftPool:
    """``count`` buffers of one picture size and format, filled by software."""

    def __init__(self, name: str, count: int, width: int, height: int, pixfmt: int) -> None:
        self._cond = threading.Condition()
        self._closed = False
        self.pool = FramePool(
            runtime.allocator(),
            name=name,
            count=count,
            size=picture_bytes(width, height, pixfmt),
            width=width,
            height=height,
            pixfmt=pixfmt,
            uv_offset=width * height,
            recycle=self._recycle,
        )

    @property
    def size(self) -> tuple[int, int]:
        return self.pool.width, self.pool.height

    def take(self, timeout: float | None, stop: threading.Event | None = None) -> Frame:
        """A FREE buffer for the producer to fill (state DEQUEUED). Waits up to ``timeout``
        seconds (None: until ``stop`` is set or the pool closes) for a consumer to let one go."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self._closed:
                    raise InvalidState(f"{self.pool.name}: closed")
                for frame in self.pool.frames:
                    if frame.state is BufferState.FREE:
                        self.pool.mark_dequeued(frame)
                        return frame
                if stop is not None and stop.is_set():
                    raise InvalidState(f"{self.pool.name}: stopped")
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise Timeout(
                        f"{self.pool.name}: all {len(self.pool)} buffers are held by consumers "
                        f"(not released within {timeout} s)"
                    )
                # Short slices so a stop event is noticed without a notify.
                self._cond.wait(0.05 if remaining is None else min(remaining, 0.05))

    def publish(self, frame: Frame, timestamp: int, seq: int) -> Frame:
        """The producer wrote ``frame``: stamp it and take the producer's reference (the caller
        hands references on inside ``with frame.handing_on():``, which drops it at the end)."""
        self.pool.mark_queued(frame, timestamp, seq)
        return frame.acquire()

    def give_back(self, frame: Frame) -> None:
        """A taken buffer the producer did not fill (an error): FREE again."""
        self.pool.mark_free(frame)
        with self._cond:
            self._cond.notify_all()

    def wait_consumed(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Wait until consumers released every frame (False after ``timeout`` s, or once
        ``stop`` is set). A producer of recorded material paces itself with this: graph
        consumers (encoder input queues) keep only the newest frame when a source outruns them,
        which is right for a live sensor but would lose pictures of a clip."""
        deadline = time.monotonic() + timeout
        while not self.pool.wait_all_free(min(0.05, max(deadline - time.monotonic(), 0))):
            if (stop is not None and stop.is_set()) or time.monotonic() >= deadline:
                return False
        return True

    def wait_released(self, timeout: float) -> None:
        """Sleep until some frame's last reference goes (or ``timeout`` s)."""
        with self._cond:
            self._cond.wait(timeout)

    def _recycle(self, frame: Frame) -> None:
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        """Free the memory once consumers gave their frames back (bounded wait, then forced)."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        if not self.pool.wait_all_free(_CLOSE_WAIT):
            _log.warning(
                "%s: %d frame(s) never released; freeing their memory anyway",
                self.pool.name,
                self.pool.outstanding(),
            )
        self.pool.destroy(force=True)
