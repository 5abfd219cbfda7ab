"""FrameSource: ISP output channels delivering NV12 frames (``IMP_FrameSource_*``).

A channel is a graph group (device FS, group = channel number) with two outputs. Enabling it
opens its ``/dev/framechanN``, allocates ``nrVBs`` buffers from rmem and runs one capture thread
that blocks in DQBUF and publishes every frame, zero-copy, to

- every group bound to its outputs (fan-out: each gets its own reference), and
- the channel's depth FIFO read by ``GetFrame`` (``SetFrameDepth``; the oldest frame is dropped
  when full).

A buffer goes back to the driver (QBUF) only when the last holder released it (:mod:`imp.core.vbm`).

Driver faults never hang a caller and never lose a buffer (docs/ROBUSTNESS.md): DQBUF errors are
retried with a back-off, a dead node ends capture and wakes every waiter with the reason, a
re-QBUF that fails keeps the buffer aside and tries it again, and DisableChn does not wait for a
capture thread stuck in a driver call that STREAMOFF cannot end.
"""

from __future__ import annotations

import enum
import errno
import threading
from dataclasses import dataclass, replace
from fractions import Fraction

from imp import log, runtime
from imp.core.fifo import Fifo
from imp.core.vbm import BufferState, Frame, FramePool
from imp.drivers.framechan import ChannelFormat, FrameChannelDevice
from imp.errors import (
    AlreadyExists,
    Busy,
    DeviceError,
    InvalidArgument,
    InvalidState,
    NotFound,
    NotSupported,
    Timeout,
)
from imp.isp import get_isp
from imp.kernel import abi
from imp.system import get_system

_log = log.get("fs")

DEV_ID_FS = 0
MAX_CHANNELS = 6  # framechan0..2 are physical; 3.. are extension channels
PHYSICAL_CHANNELS = 3
NUM_OUTPUTS = 2  # prudynt binds output 1 of a channel while output 0 feeds OSD -> ENC
PIX_FMT_NV12 = 10
FS_PHY_CHANNEL, FS_EXT_CHANNEL = 0, 1
MAX_VBS = 64
DEFAULT_GETFRAME_TIMEOUT = 2.0  # libimp's GetFrame gives up after 2 s


class _Default(enum.Enum):
    TIMEOUT = "DEFAULT_GETFRAME_TIMEOUT"


# Read at call time (not bound as a default argument) so a test can shorten libimp's 2 s.
_DEFAULT_TIMEOUT = _Default.TIMEOUT
_DISABLE_WAIT = 2.0  # bound on waiting for consumers to hand frames back at DestroyChn
# After STREAMOFF the capture thread leaves DQBUF within microseconds; a thread still inside the
# driver after this long is stuck in a call STREAMOFF cannot end, and DisableChn goes on without it
# rather than hang the application (the thread exits by itself when its call returns).
_CAPTURE_JOIN = 0.5
# EnableChn waits this long for such a stuck thread of the previous session before refusing:
# two capture threads on one node would steal each other's buffers.
_STALE_WAIT = 2.0
# DQBUF failures that are not "streaming stopped" are retried with an exponential back-off, so a
# failing driver neither spins a core nor floods the log, and capture resumes when it recovers.
_RETRY_MIN, _RETRY_MAX = 0.001, 0.2
_LOG_EVERY = 100  # after the first failure, one warning per this many
# Errors after which DQBUF cannot succeed again in this session: STREAMOFF (or the ISP slaking
# the channel), the node gone, the fd gone.
_FATAL_DQBUF = frozenset({errno.EINVAL, errno.ENODEV, errno.EBADF})
_QBUF_ATTEMPTS = 3  # a re-QBUF refused by a transient error is tried again at once


Rect = tuple[int, int, int, int]  # (left, top, width, height)


@dataclass(frozen=True)
class ChannelAttr:
    """Pythonic ``IMPFSChnAttr``. ``crop``/``fcrop`` are (left, top, width, height)."""

    width: int
    height: int
    pixfmt: int = PIX_FMT_NV12
    crop: Rect | None = None
    scaler: tuple[int, int] | None = None
    fps: tuple[int, int] = (25, 1)
    nr_vbs: int = 2
    type: int = FS_PHY_CHANNEL
    fcrop: Rect | None = None

    def validate(self, chn: int) -> None:
        where = f"channel {chn}"
        if not (16 <= self.width <= 4096 and 16 <= self.height <= 4096):
            raise InvalidArgument(
                f"{where}: picture size {self.width}x{self.height} must be 16..4096"
            )
        if self.width % 2 or self.height % 2:
            raise InvalidArgument(
                f"{where}: NV12 needs an even size, got {self.width}x{self.height}"
            )
        if self.pixfmt != PIX_FMT_NV12:
            raise NotSupported(
                f"{where}: pixel format {self.pixfmt} — the T31 ISP outputs NV12 (10) only; "
                "other formats need an extension channel with SetSource (not supported yet)"
            )
        if self.type not in (FS_PHY_CHANNEL, FS_EXT_CHANNEL):
            raise InvalidArgument(
                f"{where}: type {self.type} must be FS_PHY_CHANNEL or FS_EXT_CHANNEL"
            )
        if self.type == FS_PHY_CHANNEL and chn >= PHYSICAL_CHANNELS:
            raise InvalidArgument(
                f"{where}: only channels 0..{PHYSICAL_CHANNELS - 1} are physical; "
                "use FS_EXT_CHANNEL"
            )
        num, den = self.fps
        if num <= 0 or den <= 0:
            raise InvalidArgument(f"{where}: frame rate {num}/{den} must be positive")
        if not 1 <= self.nr_vbs <= MAX_VBS:
            raise InvalidArgument(f"{where}: nrVBs {self.nr_vbs} must be 1..{MAX_VBS}")
        for name, rect in (("crop", self.crop), ("fcrop", self.fcrop)):
            if rect is not None:
                left, top, w, h = rect
                if left < 0 or top < 0 or w <= 0 or h <= 0:
                    raise InvalidArgument(
                        f"{where}: {name} {rect} needs left/top >= 0 and a positive size"
                    )
        if self.scaler is not None:
            sw, sh = self.scaler
            if (sw, sh) != (self.width, self.height):
                raise InvalidArgument(
                    f"{where}: scaler output {sw}x{sh} must equal the picture size "
                    f"{self.width}x{self.height}"
                )
        elif self.crop is not None and (self.crop[2], self.crop[3]) != (self.width, self.height):
            raise InvalidArgument(
                f"{where}: crop {self.crop[2]}x{self.crop[3]} differs from the picture size "
                f"{self.width}x{self.height}; enable the scaler"
            )

    def check_against_sensor(self, chn: int, sensor: tuple[int, int]) -> None:
        sw, sh = sensor
        for name, rect in (("crop", self.crop), ("fcrop", self.fcrop)):
            if rect is not None and (rect[0] + rect[2] > sw or rect[1] + rect[3] > sh):
                raise InvalidArgument(f"channel {chn}: {name} {rect} exceeds the {sw}x{sh} sensor")
        if self.scaler is None and self.crop is None and (self.width, self.height) != (sw, sh):
            raise InvalidArgument(
                f"channel {chn}: {self.width}x{self.height} differs from the {sw}x{sh} sensor; "
                "enable the scaler (or crop)"
            )


@dataclass
class ChannelStats:
    captured: int = 0  # frames DQBUF'd from the driver
    delivered: int = 0  # frames published (after frame-rate decimation)
    skipped: int = 0  # frames dropped by frame-rate decimation
    fifo_dropped: int = 0  # frames evicted from the GetFrame FIFO unread
    corrupt: int = 0  # buffers the ISP returned with V4L2_BUF_FLAG_ERROR, re-queued unseen
    errors: int = 0
    last_timestamp: int = 0


@dataclass
class FifoAttr:
    maxdepth: int = 0
    type: int = 0  # FIFO_CACHE_PRIORITY


class FsChannel:
    """One FrameSource channel; a graph group with :data:`NUM_OUTPUTS` outputs."""

    device = DEV_ID_FS
    num_outputs = NUM_OUTPUTS

    def __init__(self, chn: int, attr: ChannelAttr) -> None:
        self.group = chn
        self.attr = attr
        self.enabled = False
        self.source: int | None = None  # SetSource of an extension channel
        self.rotation: tuple[int, int, int] = (0, 0, 0)
        self.pool_id = -1
        self.fifo_attr = FifoAttr()
        self.max_delay = 0
        self.delay = 0
        self.stats = ChannelStats()
        self.hw_index: int | None = None
        self._lock = threading.RLock()
        self._depth = 0
        self._fifo: Fifo[Frame] = Fifo(0, on_drop=self._fifo_drop, drop_oldest=True)
        self._device: FrameChannelDevice | None = None
        self._pool: FramePool | None = None
        self._retired: list[FramePool] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()  # one per enable: ends that session's capture thread
        self._stale: threading.Thread | None = None  # capture thread DisableChn could not join
        self._lost: set[int] = set()  # indices of buffers whose re-QBUF failed (FREE, not queued)
        self.failure: DeviceError | None = None  # why capture stopped on its own, if it did
        self._streaming = False
        self._seq = 0
        self._rate_acc = Fraction(0)
        self._user_frames: dict[int, int] = {}  # id(frame) -> times handed out by get_frame
        self._snappers: list[Fifo[Frame]] = []  # one-shot waiters of SnapFrame

    # -- graph node -------------------------------------------------------------------------
    def on_frame(self, frame: Frame) -> None:
        # A physical channel has no input; extension channels with SetSource are not supported yet.
        frame.release()

    # -- attributes -------------------------------------------------------------------------
    def set_attr(self, attr: ChannelAttr) -> None:
        attr.validate(self.group)
        with self._lock:
            if self.enabled:
                raise Busy(f"channel {self.group} is enabled; DisableChn before SetChnAttr")
            self.attr = attr

    @property
    def depth(self) -> int:
        return self._depth

    def set_depth(self, depth: int) -> None:
        if not 0 <= depth <= MAX_VBS:
            raise InvalidArgument(f"channel {self.group}: frame depth {depth} must be 0..{MAX_VBS}")
        with self._lock:
            self._depth = depth
            self._fifo.resize(depth)

    # -- enable / disable -----------------------------------------------------------------------
    def enable(self, hw_index: int) -> None:
        with self._lock:
            if self.enabled:
                return
            self._join_stale()
            isp = get_isp()
            if isp.txisp is None or not isp.sensor_enabled:
                raise InvalidState(
                    f"EnableChn({self.group}): the sensor is not running; call IMP_ISP_Open, "
                    "IMP_ISP_AddSensor and IMP_ISP_EnableSensor first"
                )
            attr = self.attr
            sensor_size = isp.sensor_size()
            if sensor_size is not None:
                attr.check_against_sensor(self.group, sensor_size)
            dev = FrameChannelDevice(runtime.kernel(), hw_index)
            dev.open()
            pool: FramePool | None = None
            try:
                dev.set_format(
                    ChannelFormat(
                        width=attr.width,
                        height=attr.height,
                        pixelformat=abi.V4L2_PIX_FMT_NV12,
                        crop=attr.crop,
                        scaler=attr.scaler,
                        fcrop=attr.fcrop,
                    )
                )
                pool = FramePool(
                    runtime.allocator(),
                    name=f"fs{self.group}",
                    count=attr.nr_vbs,
                    size=dev.sizeimage,
                    width=attr.width,
                    height=attr.height,
                    pixfmt=attr.pixfmt,
                    uv_offset=abi.nv12_uv_offset(attr.width, attr.height),
                    recycle=self._recycle,
                )
                dev.request_buffers(attr.nr_vbs)
                dev.set_banks(attr.nr_vbs)
                for frame in pool.frames:
                    pool.mark_dequeued(frame)
                    dev.qbuf(frame.index, frame.phys, dev.sizeimage)
                self._device, self._pool, self.hw_index = dev, pool, hw_index
                self._streaming = True
                self._seq = 0
                self._rate_acc = Fraction(0)
                self._lost.clear()
                self.failure = None
                self._stop = stop = threading.Event()
                self._fifo.reset()
                dev.stream_on()  # before the thread: DQBUF on a channel not streaming is EINVAL
                thread = threading.Thread(
                    target=self._capture_loop,
                    args=(dev, pool, stop),
                    name=f"imp-fs{self.group}",
                    daemon=True,
                )
                thread.start()
                self._thread = thread
            except BaseException:
                self._streaming = False
                self._device = None
                self._stop.set()
                try:
                    dev.close()  # wakes a DQBUF waiter: closing streams off
                finally:
                    if self._thread is not None:
                        self._thread.join(timeout=_CAPTURE_JOIN)
                        if self._thread.is_alive():
                            self._stale = self._thread
                        self._thread = None
                    if pool is not None:
                        pool.reclaim_dequeued()
                        pool.destroy(force=True)
                    self._pool = None
                    self.hw_index = None
                raise
            self.enabled = True
            _log.info(
                "channel %d enabled on framechan%d: %dx%d, %d buffers of %d bytes",
                self.group,
                hw_index,
                attr.width,
                attr.height,
                attr.nr_vbs,
                dev.sizeimage,
            )

    def _join_stale(self) -> None:
        """Wait (bounded) for a capture thread a previous DisableChn had to leave behind."""
        stale = self._stale
        if stale is None:
            return
        stale.join(timeout=_STALE_WAIT)
        if stale.is_alive():
            raise Busy(
                f"EnableChn({self.group}): the previous capture thread is still blocked in the "
                f"driver (a DQBUF that STREAMOFF did not end); try again later"
            )
        self._stale = None

    def disable(self) -> None:
        with self._lock:
            if not self.enabled:
                return
            dev, pool, thread = self._device, self._pool, self._thread
            self._streaming = False  # from now on released frames stay FREE
            self.enabled = False
            self._stop.set()
            self._lost.clear()
        assert dev is not None and pool is not None
        self._abort_waiters()  # GetFrame / SnapFrame callers return now, not at their timeout
        try:
            dev.stream_off()  # wakes the capture thread's DQBUF with EINVAL
        except DeviceError as exc:
            _log.warning("channel %d: STREAMOFF: %s", self.group, exc)
        if thread is not None:
            thread.join(timeout=_CAPTURE_JOIN)
            if thread.is_alive():
                # Stuck in a driver call STREAMOFF does not end. It has no business with this
                # session any more (its stop event is set) and leaves when the call returns;
                # EnableChn waits for it before starting a new one.
                self._stale = thread
                _log.error(
                    "channel %d: capture thread still blocked in the driver %.1f s after "
                    "STREAMOFF; disabling without it",
                    self.group,
                    _CAPTURE_JOIN,
                )
        pool.reclaim_dequeued()
        for frame in self._fifo.drain():
            frame.release()
        try:
            dev.close()
        except DeviceError as exc:
            _log.warning("channel %d: close: %s", self.group, exc)
        with self._lock:
            self._device, self._thread, self.hw_index = None, None, None
            self._pool = None
            self._retire(pool)

    def _retire(self, pool: FramePool) -> None:
        # Frames still held by consumers keep their memory until released; the pool is freed
        # by the last release (see _recycle) or, at the latest, by destroy().
        if pool.outstanding() == 0:
            pool.destroy()
        else:
            self._retired.append(pool)

    def _abort_waiters(self) -> None:
        self._fifo.abort()
        with self._lock:
            snappers = list(self._snappers)
        for waiter in snappers:
            waiter.abort()

    def destroy(self) -> None:
        self.disable()
        with self._lock:
            pools, self._retired = self._retired, []
            held = dict(self._user_frames)
        for pool in pools:
            # Frames an application took with GetFrame can only come back through ReleaseFrame
            # on this channel, which is going away: waiting for them would only block.
            user_held = sum(1 for f in pool.frames if id(f) in held)
            if pool.outstanding() > user_held and not pool.wait_all_free(_DISABLE_WAIT):
                _log.warning(
                    "channel %d: %d frame(s) never released; freeing their memory anyway",
                    self.group,
                    pool.outstanding(),
                )
            if not pool.destroyed:
                pool.destroy(force=True)

    # -- capture --------------------------------------------------------------------------------
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
            frame.acquire()  # the capture thread's own reference while publishing
            try:
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
            finally:
                frame.release()
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
        out, sensor = Fraction(num, den), Fraction(snum, sden)
        if out >= sensor:
            return True
        self._rate_acc += out / sensor
        if self._rate_acc >= 1:
            self._rate_acc -= 1
            return True
        return False

    def _publish(self, frame: Frame) -> None:
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
        self.stats.delivered += 1

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

    # -- GetFrame / ReleaseFrame ---------------------------------------------------------------
    def get_frame(self, timeout: float | _Default | None = _DEFAULT_TIMEOUT) -> Frame:
        """Oldest frame of the depth FIFO; the caller must :meth:`release_frame` it.

        ``timeout`` in seconds (None: forever); by default libimp's 2 s."""
        if isinstance(timeout, _Default):
            timeout = DEFAULT_GETFRAME_TIMEOUT
        if self._depth <= 0:
            raise InvalidState(
                f"GetFrame({self.group}): frame depth is 0; call SetFrameDepth(chn, n > 0) first"
            )
        if not self.enabled:
            raise InvalidState(f"GetFrame({self.group}): channel is not enabled")
        self._raise_failure("GetFrame")
        if self._lost:
            self._requeue_lost()  # buffers out of circulation may starve this very wait
        try:
            frame = self._fifo.get(timeout)
        except Timeout as exc:
            self._requeue_lost()  # no frame may mean no buffer left with the driver
            raise Timeout(f"GetFrame({self.group}): no frame within {timeout} s") from exc
        except InvalidState as exc:
            self._raise_failure("GetFrame")
            raise InvalidState(f"GetFrame({self.group}): channel stopped") from exc
        with self._lock:
            self._user_frames[id(frame)] = self._user_frames.get(id(frame), 0) + 1
        return frame

    def _raise_failure(self, what: str) -> None:
        failure = self.failure
        if failure is not None:
            raise DeviceError(
                failure.errno or 0,
                f"{what}({self.group}): capture stopped: {failure.strerror}; "
                "DisableChn and EnableChn to restart",
            )

    def release_frame(self, frame: Frame) -> None:
        with self._lock:
            held = self._user_frames.get(id(frame), 0)
            if held <= 0:
                raise InvalidArgument(
                    f"ReleaseFrame({self.group}): frame {frame.index} was not obtained with "
                    "GetFrame on this channel (or was released already)"
                )
            if held == 1:
                del self._user_frames[id(frame)]
            else:
                self._user_frames[id(frame)] = held - 1
        frame.release()

    def find_user_frame(self, index: int, phys: int) -> Frame:
        """The frame a C caller hands back (by its IMPFrameInfo index and phyAddr)."""
        with self._lock:
            pools = ([self._pool] if self._pool is not None else []) + self._retired
            for pool in pools:
                for frame in pool.frames:
                    if (
                        frame.index == index
                        and frame.phys == phys
                        and id(frame) in self._user_frames
                    ):
                        return frame
        raise InvalidArgument(
            f"ReleaseFrame({self.group}): no outstanding frame with index {index} at {phys:#x}"
        )

    def snap(self, timeout: float | _Default = _DEFAULT_TIMEOUT) -> bytes:
        """``SnapFrame``: a copy of the next frame (packed NV12, W*H*3/2 bytes), independent of
        the frame depth."""
        if isinstance(timeout, _Default):
            timeout = DEFAULT_GETFRAME_TIMEOUT
        if not self.enabled:
            raise InvalidState(f"SnapFrame({self.group}): channel is not enabled")
        self._raise_failure("SnapFrame")
        waiter: Fifo[Frame] = Fifo(1, on_drop=Frame.release, drop_oldest=True)
        with self._lock:
            self._snappers.append(waiter)
        try:
            try:
                frame = waiter.get(timeout)
            except Timeout as exc:
                raise Timeout(f"SnapFrame({self.group}): no frame within {timeout} s") from exc
            except InvalidState as exc:
                self._raise_failure("SnapFrame")
                raise InvalidState(f"SnapFrame({self.group}): channel stopped") from exc
            try:
                if frame.pixfmt == PIX_FMT_NV12:
                    # The picture as NV12 is laid out for the caller (W*H*3/2 bytes, UV right after
                    # Y), not the DMA buffer: the ISP puts UV at W*align16(H) (§2.6), so the
                    # buffer is larger than the caller's and would carry padding lines.
                    return frame.y.tobytes() + frame.uv.tobytes()
                return bytes(frame.data)
            finally:
                frame.release()
        finally:
            with self._lock:
                self._snappers.remove(waiter)
            for frame in waiter.drain():
                frame.release()


class FrameSource:
    """The FrameSource module: channel table and the mapping to framechan nodes."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.channels: dict[int, FsChannel] = {}
        self._hooked = False

    def _check_chn(self, chn: int) -> None:
        if not isinstance(chn, int) or not 0 <= chn < MAX_CHANNELS:
            raise InvalidArgument(f"channel {chn!r} must be 0..{MAX_CHANNELS - 1}")

    def channel(self, chn: int) -> FsChannel:
        self._check_chn(chn)
        ch = self.channels.get(chn)
        if ch is None:
            raise NotFound(f"FrameSource channel {chn} does not exist; call CreateChn first")
        return ch

    def create(self, chn: int, attr: ChannelAttr) -> FsChannel:
        self._check_chn(chn)
        system = get_system()
        system.require_init(f"CreateChn({chn})")
        attr.validate(chn)
        with self._lock:
            if chn in self.channels:
                raise AlreadyExists(f"FrameSource channel {chn} exists already")
            ch = FsChannel(chn, attr)
            system.graph.register(ch)
            self.channels[chn] = ch
            if not self._hooked:
                system.on_exit(self.shutdown, order=80)  # sources stop after their consumers
                self._hooked = True
            return ch

    def destroy(self, chn: int) -> None:
        with self._lock:
            ch = self.channel(chn)
            if ch.enabled:
                raise Busy(f"DestroyChn({chn}): channel is enabled; call DisableChn first")
            get_system().graph.unregister(DEV_ID_FS, chn)
            ch.destroy()
            del self.channels[chn]

    def enable(self, chn: int) -> None:
        with self._lock:
            ch = self.channel(chn)
            if ch.enabled:
                return
            ch.enable(self._hardware_for(ch))

    def disable(self, chn: int) -> None:
        ch = self.channel(chn)
        if not ch.enabled:
            raise InvalidState(f"DisableChn({chn}): channel is not enabled")
        ch.disable()

    def _hardware_for(self, ch: FsChannel) -> int:
        """framechan node for a channel: physical ones own theirs; an extension channel without
        a source borrows a free ISP downscaler (highest first: ds0 is the main stream's)."""
        if ch.attr.type == FS_PHY_CHANNEL:
            owner = self._hw_owner(ch.group)
            if owner is not None and owner is not ch:
                raise Busy(
                    f"EnableChn({ch.group}): framechan{ch.group} is in use by extension channel "
                    f"{owner.group}"
                )
            return ch.group
        if ch.source is not None:
            raise NotSupported(
                f"EnableChn({ch.group}): extension channels fed by SetSource are not supported yet"
            )
        for hw in range(PHYSICAL_CHANNELS - 1, 0, -1):
            if hw not in self.channels and self._hw_owner(hw) is None:
                return hw
        raise Busy(f"EnableChn({ch.group}): no free ISP output for this extension channel")

    def _hw_owner(self, hw: int) -> FsChannel | None:
        for other in self.channels.values():
            if other.enabled and other.hw_index == hw:
                return other
        return None

    def shutdown(self) -> None:
        """System_Exit: disable and destroy every channel, returning all buffers."""
        with self._lock:
            channels = list(self.channels.items())
            self.channels.clear()
            self._hooked = False
        for chn, ch in channels:
            try:
                ch.destroy()
            except Exception as exc:
                _log.error("channel %d: teardown: %s", chn, exc)


_fs = FrameSource()


def get_framesource() -> FrameSource:
    return _fs


def attr_replace(attr: ChannelAttr, **changes: object) -> ChannelAttr:
    return replace(attr, **changes)  # type: ignore[arg-type]
