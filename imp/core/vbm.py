"""Frame pools over rmem: one :class:`Frame` per driver buffer, with an owner state and refcount.

Ownership follows Android's BufferQueue::

    FREE --mark_dequeued--> DEQUEUED --mark_queued--> QUEUED --acquire--> ACQUIRED
      ^   (QBUF: the driver fills it)   (DQBUF: filled)          (consumers hold refs)
      |                                                                  |
      +---------------- last release(): recycle(frame) ------------------+

The producer (a FrameSource channel thread) should take its own reference right after DQBUF
(``mark_queued`` then ``acquire``), hand references to consumers (graph dispatch, GetFrame fifo)
and then drop its own, inside ``with frame.handing_on():`` so that a consumer can tell a
publisher's passing reference from another consumer's (see :meth:`Frame.handing_on`).
Whoever releases last triggers ``recycle``, which normally QBUFs the buffer again, so a frame
returns to the driver exactly when nobody uses it any more and never earlier. Frames expose
zero-copy memoryview / numpy views of the arena.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from imp.errors import Busy, InvalidArgument, InvalidState, Timeout

if TYPE_CHECKING:
    from imp.core.alloc import Block, RmemAllocator

log = logging.getLogger("imp.core.vbm")

PIX_FMT_NV12 = 10
PIXFMT_NV21 = 11
# Formats laid out as a full-resolution Y plane plus a half-height interleaved chroma plane.
_SEMIPLANAR = (PIX_FMT_NV12, PIXFMT_NV21)


class BufferState(enum.Enum):
    FREE = "free"
    """Owned by the pool; neither with the driver nor with a consumer."""
    DEQUEUED = "dequeued"
    """Handed to the producer: queued to the driver with QBUF and being filled."""
    QUEUED = "queued"
    """Filled (returned by DQBUF), waiting to be dispatched."""
    ACQUIRED = "acquired"
    """Held by one or more consumers (refcount >= 1)."""


class Frame:
    """One buffer of a :class:`FramePool`; the same object is reused for the pool's life."""

    __slots__ = (
        "_uv",
        "_y",
        "addr",
        "data",
        "generation",
        "height",
        "index",
        "phys",
        "pixfmt",
        "pool",
        "refcount",
        "seq",
        "size",
        "state",
        "timestamp",
        "transit",
        "uv_offset",
        "width",
    )

    def __init__(self, pool: FramePool, index: int, block: Block, uv_offset: int) -> None:
        self.pool = pool
        self.index = index
        self.phys = block.phys
        self.addr = block.addr
        self.size = block.size
        self.width = pool.width
        self.height = pool.height
        self.pixfmt = pool.pixfmt
        self.uv_offset = uv_offset
        self.data: memoryview = block.view
        self.timestamp = 0
        self.seq = 0
        # Counts the fills of this buffer: a frame handed out is named by (frame, generation), so
        # a stale copy kept after its release cannot give back the buffer's next fill.
        self.generation = 0
        self.state = BufferState.FREE
        self.refcount = 0
        # How many of the references are publishers' still handing this fill on (handing_on):
        # each goes when its fan-out ends. Counted under the pool lock with the refcount, so a
        # consumer that sees 0 knows every other reference belongs to a real holder.
        self.transit = 0
        self._y: np.ndarray | None = None
        self._uv: np.ndarray | None = None
        if self.pixfmt in _SEMIPLANAR:
            w, h = self.width, self.height
            self._y = np.frombuffer(self.data, dtype=np.uint8, count=w * h).reshape(h, w)
            self._uv = np.frombuffer(
                self.data, dtype=np.uint8, count=(h // 2) * w, offset=uv_offset
            ).reshape(h // 2, w)

    @property
    def y(self) -> np.ndarray:
        """The luma plane, (height, width) uint8, stride = width; a view of the buffer."""
        if self._y is None:
            raise InvalidState(f"frame pixel format {self.pixfmt} has no Y/UV planes (not NV12)")
        return self._y

    @property
    def uv(self) -> np.ndarray:
        """The interleaved chroma plane, (height//2, width) uint8 at ``uv_offset``; a view."""
        if self._uv is None:
            raise InvalidState(f"frame pixel format {self.pixfmt} has no Y/UV planes (not NV12)")
        return self._uv

    def numpy_nv12(self) -> np.ndarray:
        """The whole picture as one (height*3//2, width) uint8 view (Y rows then UV rows)."""
        w, h = self.width, self.height
        if self.pixfmt not in _SEMIPLANAR:
            raise InvalidState(f"frame pixel format {self.pixfmt} is not NV12")
        if self.uv_offset != w * h:
            raise InvalidState(
                f"UV plane starts at offset {self.uv_offset}, not right after Y ({w * h}): the "
                "height is padded to 16 lines; use frame.y and frame.uv instead"
            )
        return np.frombuffer(self.data, dtype=np.uint8, count=w * h * 3 // 2).reshape(h * 3 // 2, w)

    def acquire(self) -> Frame:
        """Take one more reference (QUEUED or ACQUIRED -> ACQUIRED)."""
        self.pool._acquire(self)
        return self

    def release(self, generation: int | None = None) -> None:
        """Drop one reference; the last one sends the buffer back through the pool's recycle.

        With ``generation`` (the :attr:`generation` read when the reference was taken) a stale
        holder whose buffer was refilled since is refused instead of dropping a newer fill's
        reference."""
        self.pool._release(self, generation)

    @contextmanager
    def handing_on(self) -> Iterator[Frame]:
        """Mark one reference the caller holds as a publisher's while it hands the frame on
        (graph dispatch, FIFO, waiters), and drop it at the end of the block.

        Why: a consumer that wants to write into the frame (OSD drawing in place) must know
        whether anyone else will read it. A publisher's reference is about to go and hands out
        no more once the block ends, so such a consumer waits for ``transit`` to reach 0 and
        then trusts ``refcount`` (:meth:`FramePool.sole_holder`). Publishers nest (a pass-through
        group re-dispatches inside its source's fan-out): the mark is a count."""
        self.pool._mark_transit(self)
        try:
            yield self
        finally:
            self.pool._release(self, transit=True)

    def __repr__(self) -> str:
        return (
            f"<Frame {self.pool.name}[{self.index}] {self.state.name} refs={self.refcount} "
            f"gen={self.generation} seq={self.seq} ts={self.timestamp} phys={self.phys:#x}>"
        )


class FramePool:
    """``count`` equally sized frame buffers from the rmem arena, with ownership tracking."""

    def __init__(
        self,
        allocator: RmemAllocator,
        name: str,
        count: int,
        size: int,
        width: int,
        height: int,
        pixfmt: int,
        uv_offset: int,
        recycle: Callable[[Frame], None],
    ) -> None:
        if count <= 0:
            raise InvalidArgument(f"pool {name!r}: buffer count must be > 0, got {count}")
        if width <= 0 or height <= 0:
            raise InvalidArgument(f"pool {name!r}: bad frame size {width}x{height}")
        if pixfmt in _SEMIPLANAR:
            need = max(width * height, uv_offset + (height // 2) * width)
            if uv_offset < width * height or size < need:
                raise InvalidArgument(
                    f"pool {name!r}: {width}x{height} NV12 with UV at offset {uv_offset} needs "
                    f"UV after Y (offset >= {width * height}) and buffers of >= {need} bytes, "
                    f"got {size}"
                )
        elif size <= 0:
            raise InvalidArgument(f"pool {name!r}: buffer size must be > 0, got {size}")
        self.name = name
        self.width = width
        self.height = height
        self.pixfmt = pixfmt
        self.size = size
        self.uv_offset = uv_offset
        self._allocator = allocator
        self._recycle = recycle
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._destroyed = False
        blocks: list[Block] = []
        try:
            for i in range(count):
                blocks.append(allocator.alloc(size, name=f"{name}[{i}]"))
        except BaseException:
            for b in blocks:
                allocator.free(b)
            raise
        self._blocks = blocks
        self.frames: list[Frame] = [Frame(self, i, b, uv_offset) for i, b in enumerate(blocks)]
        self._by_phys = {f.phys: f for f in self.frames}

    # --- lookup -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.frames)

    def by_index(self, i: int) -> Frame:
        if not 0 <= i < len(self.frames):
            raise InvalidArgument(
                f"pool {self.name!r}: buffer index {i} out of range 0..{len(self.frames) - 1}"
            )
        return self.frames[i]

    def by_phys(self, phys: int) -> Frame:
        f = self._by_phys.get(phys)
        if f is None:
            raise InvalidArgument(f"pool {self.name!r}: no buffer at phys {phys:#x}")
        return f

    # --- transitions --------------------------------------------------------------------------
    def mark_dequeued(self, frame: Frame) -> None:
        """FREE -> DEQUEUED: the buffer is being given to the driver (QBUF)."""
        with self._lock:
            self._transition(frame, (BufferState.FREE,), BufferState.DEQUEUED, "mark_dequeued")

    def mark_queued(self, frame: Frame, timestamp: int, seq: int) -> None:
        """DEQUEUED -> QUEUED: DQBUF returned it filled; stamp it."""
        with self._lock:
            self._transition(frame, (BufferState.DEQUEUED,), BufferState.QUEUED, "mark_queued")
            frame.timestamp = int(timestamp)
            frame.seq = int(seq)
            frame.generation += 1

    def mark_free(self, frame: Frame) -> None:
        """DEQUEUED or QUEUED -> FREE without recycling (STREAMOFF, or a frame nobody took)."""
        with self._lock:
            self._transition(
                frame, (BufferState.DEQUEUED, BufferState.QUEUED), BufferState.FREE, "mark_free"
            )

    def reclaim_dequeued(self) -> list[Frame]:
        """After STREAMOFF the driver holds nothing: every DEQUEUED frame becomes FREE."""
        with self._lock:
            out = [f for f in self.frames if f.state is BufferState.DEQUEUED]
            for f in out:
                f.state = BufferState.FREE
            self._changed.notify_all()
        return out

    def _transition(
        self,
        frame: Frame,
        allowed: tuple[BufferState, ...],
        to: BufferState,
        what: str,
    ) -> None:
        # Caller holds the lock.
        self._check_mine(frame)
        if frame.state not in allowed:
            names = " or ".join(s.name for s in allowed)
            raise InvalidState(
                f"{what}: frame {self.name}[{frame.index}] is {frame.state.name}, must be {names}"
            )
        frame.state = to
        self._changed.notify_all()

    def _check_mine(self, frame: Frame) -> None:
        if frame.pool is not self:
            raise InvalidArgument(
                f"frame {frame.pool.name}[{frame.index}] does not belong to pool {self.name!r}"
            )

    def _acquire(self, frame: Frame) -> None:
        with self._lock:
            if frame.state not in (BufferState.QUEUED, BufferState.ACQUIRED):
                raise InvalidState(
                    f"acquire: frame {self.name}[{frame.index}] is {frame.state.name}; only a "
                    "filled frame (QUEUED or ACQUIRED) can be referenced"
                )
            frame.refcount += 1
            frame.state = BufferState.ACQUIRED

    def _mark_transit(self, frame: Frame) -> None:
        with self._lock:
            if frame.refcount <= frame.transit:
                raise InvalidState(
                    f"handing_on: frame {self.name}[{frame.index}] has no reference of the "
                    "caller's to mark (acquire it first)"
                )
            frame.transit += 1

    def _release(self, frame: Frame, generation: int | None = None, transit: bool = False) -> None:
        with self._lock:
            if transit and frame.transit > 0:
                frame.transit -= 1  # first: a failing release below must not leave it counted
                if not frame.transit:
                    self._changed.notify_all()  # wakes sole_holder
            if generation is not None and generation != frame.generation:
                raise InvalidState(
                    f"release: frame {self.name}[{frame.index}] generation {generation} is "
                    f"stale (the buffer was refilled since: generation {frame.generation}); "
                    "it was released already"
                )
            if frame.refcount <= 0 or frame.state is not BufferState.ACQUIRED:
                raise InvalidState(
                    f"release: frame {self.name}[{frame.index}] holds no reference "
                    f"({frame.state.name}); each release must match one acquire/GetFrame"
                )
            frame.refcount -= 1
            if frame.refcount:
                return
            frame.state = BufferState.FREE
            self._changed.notify_all()
            if self._destroyed:
                return
        # Outside the lock: recycle QBUFs (a driver call) and marks the frame DEQUEUED.
        try:
            self._recycle(frame)
        except Exception:
            # The releasing thread is a consumer; the producer owns recovery of its buffers.
            log.exception("pool %s: recycle of frame %d failed", self.name, frame.index)

    # --- queries ------------------------------------------------------------------------------
    def counts(self) -> dict[BufferState, int]:
        with self._lock:
            out = dict.fromkeys(BufferState, 0)
            for f in self.frames:
                out[f.state] += 1
            return out

    def outstanding(self) -> int:
        """Frames filled but not yet returned: QUEUED or ACQUIRED."""
        with self._lock:
            return sum(f.state in (BufferState.QUEUED, BufferState.ACQUIRED) for f in self.frames)

    def sole_holder(self, frame: Frame, timeout: float) -> bool:
        """Whether the caller's reference is the only one left once every publisher handing
        ``frame`` on is done (waits up to ``timeout`` s for them; still in transit then:
        False). The caller must hold a reference, so the answer stays true until it hands
        one out."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while frame.transit:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return frame.refcount == 1

    def wait_all_free(self, timeout: float | None) -> bool:
        """Wait until every frame is FREE (after STREAMOFF + reclaim, for consumers to let go).

        ``None`` waits forever, ``0`` only checks; returns False on timeout.
        """
        if timeout is not None and timeout < 0:
            raise InvalidArgument(f"timeout must be None, 0 or > 0 seconds, got {timeout}")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while any(f.state is not BufferState.FREE for f in self.frames):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def wait_all_free_or_raise(self, timeout: float | None) -> None:
        """:meth:`wait_all_free`, raising Timeout naming the frames still held."""
        if not self.wait_all_free(timeout):
            with self._lock:
                held = [
                    f"[{f.index}] {f.state.name}"
                    for f in self.frames
                    if f.state is not BufferState.FREE
                ]
            raise Timeout(f"pool {self.name!r}: frames not released in time: {', '.join(held)}")

    @property
    def destroyed(self) -> bool:
        return self._destroyed

    def destroy(self, force: bool = False) -> None:
        """Free the buffers. Idempotent.

        Refuses (Busy) while consumers hold frames or the driver still owns some (STREAMOFF
        and release first) unless ``force``; late releases after a forced destroy are accepted
        but recycle nothing.
        """
        with self._lock:
            if self._destroyed:
                return
            if not force:
                acquired = [f for f in self.frames if f.state is BufferState.ACQUIRED]
                if acquired:
                    desc = ", ".join(f"[{f.index}] refs={f.refcount}" for f in acquired)
                    raise Busy(
                        f"pool {self.name!r}: frames still held by consumers: {desc}; release "
                        "them (ReleaseFrame / unbind) first or destroy(force=True)"
                    )
                queued = [f.index for f in self.frames if f.state is BufferState.DEQUEUED]
                if queued:
                    raise Busy(
                        f"pool {self.name!r}: buffers {queued} are still queued to the driver; "
                        "STREAMOFF and reclaim them before freeing their memory"
                    )
            self._destroyed = True
            self._changed.notify_all()
            blocks, self._blocks = self._blocks, []
        for b in blocks:
            try:
                self._allocator.free(b)
            except Exception:
                log.exception("pool %s: freeing %s failed", self.name, b.name)

    def __repr__(self) -> str:
        c = self.counts()
        states = " ".join(f"{s.name.lower()}={n}" for s, n in c.items())
        return f"<FramePool {self.name!r} {len(self.frames)}x{self.size}B {states}>"


__all__ = ["PIX_FMT_NV12", "BufferState", "Frame", "FramePool"]
