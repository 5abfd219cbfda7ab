"""The capture side of a FrameSource channel: DQBUF loop, fan-out, buffer recycling.

Driver faults never hang a caller and never lose a buffer (docs/ROBUSTNESS.md): DQBUF errors are
retried with a back-off, a dead node ends capture and wakes every waiter with the reason, and a
re-QBUF that fails keeps the buffer aside and tries it again.
"""

from __future__ import annotations

import errno
import math
import threading
from collections.abc import Callable

from imp import log
from imp.core.fifo import Fifo
from imp.core.graph import DEV_ID_FS
from imp.core.vbm import BufferState, Frame, FramePool
from imp.drivers.framechan import FrameChannelDevice
from imp.errors import DeviceError
from imp.framesource.attr import NUM_OUTPUTS, ChannelAttr, ChannelStats
from imp.framesource.timed import TimedHistory
from imp.isp import get_isp
from imp.kernel import abi
from imp.system import get_system

_log = log.get("fs")

# DQBUF failures that are not "streaming stopped" are retried with an exponential back-off, so a
# failing driver neither spins a core nor floods the log, and capture resumes when it recovers.
_RETRY_MIN, _RETRY_MAX = 0.001, 0.2
_LOG_EVERY = 100  # after the first failure, one warning per this many
# Errors after which DQBUF cannot succeed again in this session: STREAMOFF (or the ISP slaking
# the channel), the node gone, the fd gone.
_FATAL_DQBUF = frozenset({errno.EINVAL, errno.ENODEV, errno.EBADF})
_QBUF_ATTEMPTS = 3  # a re-QBUF refused by a transient error is tried again at once


class CaptureLoop:
    """Mixin of :class:`~imp.framesource.channel.FsChannel`: everything its capture thread and
    the last release of a frame do. The state is the channel's (declared here for typing)."""

    group: int
    attr: ChannelAttr
    stats: ChannelStats
    failure: DeviceError | None
    _lock: threading.RLock
    _stop: threading.Event
    _streaming: bool
    _seq: int
    _rate_acc: tuple[int, int]  # frames owed, a fraction in [0, 1) kept exact as (num, den)
    _depth: int
    _fifo: Fifo[Frame]
    _snappers: list[Fifo[Frame]]
    _device: FrameChannelDevice | None
    _pool: FramePool | None
    _retired: list[FramePool]
    _lost: set[int]
    _taps: list[Callable[[Frame], None]]
    _history: TimedHistory | None
    _post: Callable[[Frame], Frame | None] | None

    def _abort_waiters(self) -> None:
        self._fifo.abort()
        with self._lock:
            snappers = list(self._snappers)
        for waiter in snappers:
            waiter.abort()

    def _capture_loop(
        self, dev: FrameChannelDevice, pool: FramePool, stop: threading.Event
    ) -> None:
        try:
            self._capture(dev, pool, stop)
        except Exception as exc:  # a bug must not end capture silently: report it like a fault
            _log.exception("channel %d: capture thread failed", self.group)
            self._capture_failed(DeviceError(errno.EIO, f"capture thread failed: {exc}"), stop)

    def _capture(self, dev: FrameChannelDevice, pool: FramePool, stop: threading.Event) -> None:
        clock = get_system().clock
        failures = 0
        delay = _RETRY_MIN
        while not stop.is_set():
            try:
                done = dev.dqbuf()
            except DeviceError as exc:
                if stop.is_set():
                    break  # STREAMOFF woke us: the normal way out
                self.stats.errors += 1
                if exc.errno in _FATAL_DQBUF:
                    self._capture_failed(exc, stop)
                    break
                failures += 1
                if failures == 1 or failures % _LOG_EVERY == 0:
                    _log.warning(
                        "channel %d: DQBUF failed (%d in a row, retrying): %s",
                        self.group,
                        failures,
                        exc,
                    )
                stop.wait(delay)
                delay = min(delay * 2, _RETRY_MAX)
                continue
            if stop.is_set():
                # A call of a finished session came back late: its buffer was reclaimed by
                # DisableChn and may belong to a new pool, so touch nothing.
                break
            if failures:
                _log.warning(
                    "channel %d: DQBUF works again after %d failure(s)", self.group, failures
                )
                failures, delay = 0, _RETRY_MIN
            try:
                frame = pool.by_index(done.index)
                pool.mark_queued(frame, clock.to_imp(done.timestamp_us), self._seq)
            except Exception as exc:
                self.stats.errors += 1
                _log.error("channel %d: driver returned a bad buffer: %s", self.group, exc)
                continue
            frame.acquire()  # the capture thread's own reference, dropped after the fan-out
            with frame.handing_on():
                if done.flags & abi.V4L2_BUF_FLAG_ERROR:
                    # The ISP flags a frame it could not write completely; V4L2 practice is to
                    # skip it. Dropping our reference re-queues the buffer.
                    self.stats.corrupt += 1
                    if self.stats.corrupt == 1 or self.stats.corrupt % _LOG_EVERY == 0:
                        _log.warning(
                            "channel %d: ISP returned buffer %d with the ERROR flag (%d so "
                            "far); frame skipped",
                            self.group,
                            done.index,
                            self.stats.corrupt,
                        )
                    continue
                self._seq += 1
                self.stats.captured += 1
                self.stats.last_timestamp = frame.timestamp
                if self._rate_allows():
                    self._publish(frame)
                else:
                    self.stats.skipped += 1
            if self._lost:
                self._requeue_lost(pool)

    def _capture_failed(self, exc: DeviceError, stop: threading.Event) -> None:
        """Capture ended on its own (device gone, streaming stopped by the ISP): say so to
        every waiter now instead of letting them time out, and remember why for GetFrame."""
        if stop.is_set():
            return  # checked before the lock: EnableChn may hold it while joining this thread
        with self._lock:
            if stop is not self._stop or stop.is_set():
                return  # a session DisableChn already ended
            self.failure = exc
        _log.error(
            "channel %d: capture stopped: %s; DisableChn/EnableChn to restart", self.group, exc
        )
        self._abort_waiters()

    def _rate_allows(self) -> bool:
        """Frame-rate decimation: deliver outFrmRate of every sensor-rate frames."""
        num, den = self.attr.fps
        snum, sden = get_isp().sensor_fps()
        p, q = num * sden, den * snum  # out / sensor (integers: fractions costs 0.2 MB)
        if p >= q:
            return True
        a, b = self._rate_acc
        a, b = a * q + p * b, b * q  # += p / q
        due = a >= b
        if due:
            a -= b
        g = math.gcd(a, b)
        self._rate_acc = (a // g, b // g)
        return due

    def _publish(self, frame: Frame) -> None:
        post = self._post
        if post is None:
            self._fan_out(frame)
            return
        out = post(frame)  # a rotated copy with one reference for us, or None (skipped)
        if out is not None:
            with out.handing_on():
                self._fan_out(out)

    def _fan_out(self, frame: Frame) -> None:
        """Hand ``frame`` to the graph, the GetFrame FIFO, SnapFrame waiters and taps."""
        graph = get_system().graph
        for output in range(NUM_OUTPUTS):
            graph.dispatch((DEV_ID_FS, self.group, output), frame)
        if self._depth > 0:
            frame.acquire()
            self._fifo.put(frame)  # drop_oldest: never blocks; evicted frames are released
        if self._snappers:
            with self._lock:
                snappers = list(self._snappers)
            for waiter in snappers:
                frame.acquire()
                waiter.put(frame)
        if self._history is not None:
            self._history.add(frame)
        for tap in self._taps:
            frame.acquire()
            tap(frame)  # an extension channel's converter: takes the reference, never blocks
        self.stats.delivered += 1

    def add_tap(self, tap: Callable[[Frame], None]) -> None:
        with self._lock:
            self._taps = [*self._taps, tap]  # copy-on-write: _fan_out reads it unlocked

    def remove_tap(self, tap: Callable[[Frame], None]) -> None:
        with self._lock:
            self._taps = [t for t in self._taps if t != tap]

    def _fifo_drop(self, frame: Frame) -> None:
        self.stats.fifo_dropped += 1
        frame.release()

    def _recycle(self, frame: Frame) -> None:
        """Last holder released ``frame``: give it back to the driver while streaming."""
        with self._lock:
            pool = frame.pool
            if self._streaming and pool is self._pool and self._device is not None:
                if self._requeue(frame, pool, self._device) and self._lost:
                    self._requeue_lost(pool)  # the driver takes buffers again: try the others
                return
            if pool in self._retired and pool.outstanding() == 0:
                self._retired.remove(pool)
                pool.destroy()

    def _requeue(self, frame: Frame, pool: FramePool, dev: FrameChannelDevice) -> bool:
        """QBUF ``frame`` again (lock held). On failure the buffer stays FREE and is remembered
        as lost: it is tried again after the next captured frame, the next successful re-queue,
        or a GetFrame that timed out (when every buffer is lost nothing else comes)."""
        try:
            pool.mark_dequeued(frame)
        except Exception as exc:
            self.stats.errors += 1
            _log.error("channel %d: re-queueing buffer %d: %s", self.group, frame.index, exc)
            return False
        error: DeviceError | None = None
        for _ in range(_QBUF_ATTEMPTS):
            try:
                dev.qbuf(frame.index, frame.phys, dev.sizeimage)
                if error is not None:
                    _log.warning(
                        "channel %d: re-queueing buffer %d worked on a retry after: %s",
                        self.group,
                        frame.index,
                        error,
                    )
                return True
            except DeviceError as exc:
                error = exc
                if exc.errno in _FATAL_DQBUF:
                    break  # no point in hammering a node that is gone or not streaming
        pool.mark_free(frame)
        self._lost.add(frame.index)
        self.stats.errors += 1
        _log.error(
            "channel %d: re-queueing buffer %d: %s (%d buffer(s) out of circulation)",
            self.group,
            frame.index,
            error,
            len(self._lost),
        )
        return False

    def _requeue_lost(self, pool: FramePool | None = None) -> None:
        """Try again the buffers whose re-QBUF failed (only for ``pool`` if given)."""
        with self._lock:
            current, dev = self._pool, self._device
            if not self._lost or current is None or dev is None or not self._streaming:
                return
            if pool is not None and pool is not current:
                return
            lost, self._lost = self._lost, set()
            for index in sorted(lost):
                frame = current.by_index(index)
                if frame.state is BufferState.FREE:
                    self._requeue(frame, current, dev)
            if not self._lost:
                _log.warning("channel %d: %d buffer(s) back in circulation", self.group, len(lost))
