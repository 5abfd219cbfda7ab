"""One ISP output channel's kernel state: the §2.7 state machine and the USERPTR buffer queue.

Shared by the framechan node (user side) and the frame engine (hardware side). Every method is
called with the ISP core lock held.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

from imp.kernel import abi

__all__ = ["BufState", "BufferRecord", "Channel", "ChannelState"]


class ChannelState(enum.IntEnum):
    SLAKE = 1  # modules not activated: open() gives EPERM
    ACTIVATED = 2  # activated, not open
    OPENED = 3
    STREAMING = 4


class BufState(enum.Enum):
    DEQUEUED = "dequeued"  # owned by user space
    QUEUED = "queued"  # waiting for the ISP
    ACTIVE = "active"  # being written by the ISP (still reported as QUEUED)
    DONE = "done"  # written, waiting for DQBUF


@dataclass(eq=False)
class BufferRecord:
    index: int
    state: BufState = BufState.DEQUEUED
    phys: int = 0
    length: int = 0
    field: int = 0
    flags: int = 0  # the caller's flags as QBUF keeps them
    tv_sec: int = 0
    tv_usec: int = 0
    error: bool = False

    def reported_flags(self) -> int:
        flags = self.flags & ~(
            abi.V4L2_BUF_FLAG_QUEUED | abi.V4L2_BUF_FLAG_DONE | abi.V4L2_BUF_FLAG_ERROR
        )
        if self.state in (BufState.QUEUED, BufState.ACTIVE):
            flags |= abi.V4L2_BUF_FLAG_QUEUED
        elif self.state is BufState.DONE:
            flags |= abi.V4L2_BUF_FLAG_DONE | (abi.V4L2_BUF_FLAG_ERROR if self.error else 0)
        return flags


class Channel:
    """``/dev/framechan<index>`` as the tx-isp core keeps it."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.path = f"/dev/framechan{index}"
        self.state = ChannelState.SLAKE
        self.fmt: abi.FrameImageFormat | None = None  # cached by SET_FMT
        self.sizeimage = 0  # snapshot taken by REQBUFS: QBUF's length check
        self.buffers: list[BufferRecord] = []
        self.queued: deque[BufferRecord] = deque()
        self.done: deque[BufferRecord] = deque()
        self.completions = 0  # the LISTEN completion: one count per finished frame
        self.banks = 0
        # Bumped whenever the queue is cancelled or reset: a frame the engine is rendering for
        # an older epoch must not complete into the new queue.
        self.epoch = 0
        self.delivered = 0
        self.dropped = 0  # frames this channel lost: no queued buffer, or an engine overrun
        self.no_buffer = 0  # of those, the frames lost because no buffer was queued
        self.starved_since: float | None = None  # virtual clock: when it last ran out of buffers

    @property
    def streaming(self) -> bool:
        return self.state == ChannelState.STREAMING

    def free_buffers(self) -> None:
        self.buffers = []
        self.queued.clear()
        self.done.clear()
        self.sizeimage = 0
        self.epoch += 1

    def cancel(self) -> None:
        """STREAMOFF's queue cancel: every buffer back to user space, records kept."""
        for buf in self.buffers:
            buf.state = BufState.DEQUEUED
        self.queued.clear()
        self.done.clear()
        self.epoch += 1
        self.starved_since = None

    def reset(self) -> None:
        """What open() does from any activated state: forget format, counters, buffers."""
        self.cancel()
        self.free_buffers()
        self.fmt = None
        self.completions = 0
        self.banks = 0
        self.delivered = 0
        self.dropped = 0
        self.no_buffer = 0

    def slake(self) -> None:
        """The last tx-isp close: streams stopped, buffers freed, modules deactivated."""
        self.cancel()
        self.free_buffers()
        self.state = ChannelState.SLAKE

    # -- engine side ---------------------------------------------------------------------
    def claim(self) -> BufferRecord | None:
        """Hand the next queued buffer to the ISP for the coming frame."""
        if not self.queued:
            return None
        buf = self.queued.popleft()
        buf.state = BufState.ACTIVE
        return buf

    def complete(self, buf: BufferRecord, epoch: int, ts_us: int, error: bool = False) -> bool:
        """Frame done into ``buf``; False if the queue was cancelled meanwhile."""
        if epoch != self.epoch or buf.state is not BufState.ACTIVE:
            return False
        buf.state = BufState.DONE
        buf.tv_sec, buf.tv_usec = divmod(ts_us, 1_000_000)
        buf.error = error
        self.done.append(buf)
        self.completions += 1
        self.delivered += 1
        return True
