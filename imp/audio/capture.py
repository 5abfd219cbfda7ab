"""The capture engine shared by AI and DMIC: a reader thread, rmem frame slots, a frame FIFO.

libimp reads ``/dev/dsp`` in a thread of its own and hands frames out of a queue of
``usrFrmDepth`` entries; GetFrame takes the oldest, ReleaseFrame returns its memory. On a real
clock the reader never stops (the driver's ring would overflow): a full queue drops its oldest
frame, so what GetFrame returns stays fresh. On the simulator's virtual clock it fetches a frame
only when the queue has room, so audio is produced exactly as fast as it is consumed.

Timestamps (IMP time, µs) count samples: frame k ends at ``anchor + samples * 1e6 / rate``.
The driver gives no capture time, so the anchor is estimated: a read returns no earlier than
its last sample was captured, so ``now - samples * 1e6 / rate`` after each read is an upper
bound of the true anchor, and the smallest bound seen is the best estimate. On a real clock:

- the anchor moves down to that estimate by at most an eighth of a frame per frame, so
  timestamps only ever increase (muxers and RTP receivers need that) and steps stay >= 7/8 of a
  frame; a late first read (a loaded host) is corrected over the next frames;
- it moves up only when samples were lost (the driver's ring overflowed while the reader was
  away): when every bound of the last half second is more than 60 ms above the estimate, it
  moves to the lowest of them. A reader that was merely late (a loaded host) catches up within
  the driver's 320 ms ring and its reads then return at capture time again; one late bound is
  no evidence of loss (taking it made timestamps jump ahead and then run backwards).

On the simulator's virtual clock it never moves, so timestamps are exactly numPerFrm / rate
apart.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from imp.audio.buffers import Slot, SlotPool
from imp.drivers.dsp import DspStream
from imp.errors import DeviceError, InvalidArgument, InvalidState, Timeout
from imp.system import get_system

__all__ = ["CaptureEngine", "CapturedFrame"]

log = logging.getLogger("imp.audio")

_RESYNC_US = 60_000  # every recent bound this far above the estimate: samples were lost
_LOSS_WINDOW_US = 500_000  # how recent: longer than the driver's ring takes to catch up
_SLEW_DIV = 8  # the anchor moves down by at most frame / 8 per frame


@dataclass(eq=False)
class CapturedFrame:
    """One frame handed out: its slot (interleaved samples) and reference slot, if any."""

    seq: int
    timestamp: int
    nbytes: int
    slot: Slot
    ref: Slot | None = None
    extra: dict[str, Slot] = field(default_factory=dict)

    @property
    def samples(self) -> np.ndarray:
        return self.slot.samples[: self.nbytes // 2]


Process = Callable[[CapturedFrame], None]


class CaptureEngine:
    """Reads ``frame_bytes`` per frame from ``dsp`` into slots; ``process`` runs on each frame as
    it is captured, ``on_get`` when GetFrame hands it out (so a volume change applies at once,
    not after the frames already queued)."""

    def __init__(
        self,
        dsp: DspStream,
        *,
        rate: int,
        frame_bytes: int,
        frame_samples: int,
        slots: int,
        depth: int,
        name: str,
        process: Process,
        with_ref: Callable[[], bool],
        on_get: Process | None = None,
        extra_slots: tuple[str, ...] = (),
        extra_bytes: int = 0,
    ) -> None:
        self.dsp = dsp
        self.rate = rate
        self.frame_bytes = frame_bytes
        self.frame_samples = frame_samples
        self.depth = depth
        self.process = process
        self.on_get = on_get
        self._with_ref = with_ref
        self.pool = SlotPool(slots, frame_bytes, f"{name}-frames")
        ref_bytes = frame_samples * 2
        self.ref_pool = SlotPool(slots, ref_bytes, f"{name}-ref")
        self.extra_pools = {
            key: SlotPool(slots, extra_bytes, f"{name}-{key}") for key in extra_slots
        }
        self._fifo: deque[CapturedFrame] = deque()
        self._out: dict[int, CapturedFrame] = {}  # slot phys -> frame held by the user
        self._cond = threading.Condition()
        self._stop = False
        self._error: str | None = None
        self._seq = 0
        self._samples = 0
        self._anchor: int | None = None  # what timestamps use (moves down slewed)
        self._best = 0  # the smallest upper bound of the true anchor seen
        window = -(-_LOSS_WINDOW_US * rate // (frame_samples * 1_000_000))  # frames, rounded up
        self._recent: deque[int] = deque(maxlen=max(2, window))  # the latest bounds
        self.dropped = 0
        kernel = dsp.kernel
        self._virtual = getattr(getattr(kernel, "config", None), "clock", "") == "virtual"
        self._thread = threading.Thread(target=self._run, name=f"imp-{name}", daemon=True)
        self._thread.start()

    # -- the reader -------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                if self._virtual:  # produce exactly as fast as frames are consumed
                    with self._cond:
                        self._cond.wait_for(lambda: self._stop or len(self._fifo) < self.depth)
                        if self._stop:
                            return
                frame = self._read_one()
                if frame is None:
                    return
                with self._cond:
                    if self._stop:
                        self._recycle(frame)
                        return
                    while len(self._fifo) >= self.depth:  # real time: the oldest frame goes
                        self._recycle(self._fifo.popleft())
                        self.dropped += 1
                    self._fifo.append(frame)
                    self._cond.notify_all()
        except Exception as exc:  # a device error ends the stream; waiters learn why
            log.error("audio capture stopped: %s", exc)
            with self._cond:
                self._error = str(exc)
                self._cond.notify_all()

    def _read_one(self) -> CapturedFrame | None:
        slot = self.pool.take()
        if slot is None:
            return None
        ref = self.ref_pool.take() if self._with_ref() else None
        try:
            got = self.dsp.read(slot.addr, self.frame_bytes, ref.addr if ref else 0)
        except DeviceError:
            self.pool.give(slot)
            if ref is not None:
                self.ref_pool.give(ref)
            with self._cond:
                if self._stop:
                    return None
            raise
        if got < self.frame_bytes:  # DISABLE_STREAM woke us
            self.pool.give(slot)
            if ref is not None:
                self.ref_pool.give(ref)
            return None
        frame = CapturedFrame(self._seq, self._stamp(), got, slot, ref)
        for key, pool in self.extra_pools.items():
            extra = pool.take()
            if extra is not None:
                frame.extra[key] = extra
        self._seq += 1
        self.process(frame)
        return frame

    def _stamp(self) -> int:
        """The capture time of the frame just read (its end); see the module docstring."""
        now = get_system().clock.now()
        self._samples += self.frame_samples
        elapsed = self._samples * 1_000_000 // self.rate
        bound = now - elapsed  # >= the true anchor
        if self._anchor is None:
            self._anchor = self._best = bound
        elif not self._virtual:
            recent = self._recent
            recent.append(bound)
            if len(recent) == recent.maxlen and min(recent) - self._best > _RESYNC_US:
                self._anchor = self._best = min(recent)  # samples were lost: a gap
                recent.clear()
            self._best = min(self._best, bound)
            frame_us = self.frame_samples * 1_000_000 // self.rate
            self._anchor = max(self._best, self._anchor - frame_us // _SLEW_DIV)
        return self._anchor + elapsed

    # -- the consumer side ------------------------------------------------------------------------
    def poll(self, timeout: float | None) -> bool:
        """True when a frame is ready within ``timeout`` s (None: wait forever)."""
        with self._cond:
            self._cond.wait_for(lambda: self._fifo or self._stop or self._error, timeout)
            return bool(self._fifo)

    def get(self, timeout: float | None) -> CapturedFrame:
        """The oldest frame; ``timeout`` 0 = don't wait, None = wait forever."""
        with self._cond:
            if (
                not self._cond.wait_for(lambda: self._fifo or self._stop or self._error, timeout)
                or not self._fifo
            ):
                if self._error:
                    raise DeviceError(5, f"capture stopped: {self._error}")
                if self._stop:
                    raise InvalidState("the channel was disabled")
                raise Timeout("no audio frame ready" + ("" if timeout == 0 else " in time"))
            frame = self._fifo.popleft()
            self._out[frame.slot.phys] = frame
        if self.on_get is not None:
            self.on_get(frame)
        return frame

    def release(self, addr: int | None, phys: int | None) -> None:
        """Return the frame whose data is at ``addr`` / ``phys`` (the IMPAudioFrame's)."""
        with self._cond:
            frame = None
            for held in self._out.values():
                s = held.slot
                if (addr and s.addr == addr) or (phys and s.phys == phys):
                    frame = held
                    break
            if frame is None:
                raise InvalidArgument(
                    "ReleaseFrame: the frame is not one GetFrame handed out (or was released)"
                )
            del self._out[frame.slot.phys]
            self._recycle(frame)
            self._cond.notify_all()

    def release_frame(self, frame: CapturedFrame) -> None:
        with self._cond:
            if self._out.pop(frame.slot.phys, None) is not None:
                self._recycle(frame)
                self._cond.notify_all()

    def _recycle(self, frame: CapturedFrame) -> None:
        self.pool.give(frame.slot)
        if frame.ref is not None:
            self.ref_pool.give(frame.ref)
        for key, slot in frame.extra.items():
            self.extra_pools[key].give(slot)

    @property
    def queued(self) -> int:
        with self._cond:
            return len(self._fifo)

    def set_depth(self, depth: int) -> None:
        with self._cond:
            self.depth = depth
            self._cond.notify_all()

    def halt(self) -> None:
        """Tell the reader to stop (it still has to be woken out of the driver: DISABLE_STREAM)."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        for pool in [self.pool, self.ref_pool, *self.extra_pools.values()]:
            pool.abort()

    def stop(self) -> None:
        """Join the reader (after :meth:`halt` and DISABLE_STREAM) and free the frame memory."""
        self.halt()
        pools = [self.pool, self.ref_pool, *self.extra_pools.values()]
        if self._thread is not threading.current_thread():
            self._thread.join(10.0)
        for pool in pools:
            pool.close()
