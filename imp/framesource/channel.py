"""One FrameSource channel: attributes, enable/disable, GetFrame/ReleaseFrame, SnapFrame."""

from __future__ import annotations

import threading
from collections.abc import Callable

from imp import log, runtime
from imp.core.fifo import Fifo
from imp.core.graph import DEV_ID_FS
from imp.core.vbm import Frame, FramePool
from imp.drivers.framechan import ChannelFormat, FrameChannelDevice
from imp.errors import (
    Busy,
    DeviceError,
    InvalidArgument,
    InvalidState,
    NotFound,
    Timeout,
)
from imp.framesource.attr import (
    _DEFAULT_TIMEOUT,
    MAX_VBS,
    NUM_OUTPUTS,
    PIX_FMT_NV12,
    ChannelAttr,
    ChannelStats,
    FifoAttr,
    _Default,
)
from imp.framesource.capture import CaptureLoop
from imp.framesource.extension import ExtensionFeed, Rotator
from imp.framesource.handout import HandedOut
from imp.framesource.timed import TimedHistory
from imp.isp import get_isp
from imp.kernel import abi

_log = log.get("fs")

_DISABLE_WAIT = 2.0  # bound on waiting for consumers to hand frames back at DestroyChn
# After STREAMOFF the capture thread leaves DQBUF within microseconds; a thread still inside the
# driver after this long is stuck in a call STREAMOFF cannot end, and DisableChn goes on without it
# rather than hang the application (the thread exits by itself when its call returns).
_CAPTURE_JOIN = 0.5
# EnableChn waits this long for such a stuck thread of the previous session before refusing:
# two capture threads on one node would steal each other's buffers.
_STALE_WAIT = 2.0


def _default_timeout() -> float:
    """libimp's GetFrame timeout, read from the package at call time so a test can shorten it
    by patching ``imp.framesource.DEFAULT_GETFRAME_TIMEOUT``."""
    import imp.framesource as package

    return package.DEFAULT_GETFRAME_TIMEOUT


class FsChannel(CaptureLoop):
    """One FrameSource channel; a graph group with :data:`NUM_OUTPUTS` outputs."""

    device = DEV_ID_FS
    num_outputs = NUM_OUTPUTS
    emulated = False  # True for EmuFrameSource channels (imp.framesource.emulated)

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
        # Owner of the enable/disable/destroy transitions, held from check to end: DisableChn
        # drops _lock while it joins the capture thread, and an EnableChn slipping in there
        # used to open a session that the disable's clean-up then cleared (leaking its node,
        # buffers and thread). Taken before _lock, never while holding it.
        self._lifecycle = threading.RLock()
        self._destroyed = False
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
        self._rate_acc = (0, 1)
        self._user_frames = HandedOut()  # frames the application holds (GetFrame)
        self._snappers: list[Fifo[Frame]] = []  # one-shot waiters of SnapFrame
        self._taps: list[Callable[[Frame], None]] = []  # extension channels fed by this one
        self._post: Callable[[Frame], Frame | None] | None = None  # rotation
        self._ext: ExtensionFeed | None = None  # this channel is a software extension channel
        self._rotator: Rotator | None = None
        self._extra_pools: list[FramePool] = []  # where converted/rotated frames come from
        self._history: TimedHistory | None = None  # GetTimedFrame (SetMaxDelay before enable)

    # -- graph node -------------------------------------------------------------------------
    def on_frame(self, frame: Frame) -> None:
        # No graph input: an extension channel taps its source channel directly (add_tap).
        frame.release()

    def set_rotation(self, rot: int, width: int, height: int) -> None:
        """SetChnRotate: 0 none, 1 90° clockwise, 2 270°; ``width`` x ``height`` must be the
        turned size (the channel's height x width)."""
        if rot not in (0, 1, 2):
            raise InvalidArgument(f"rotTo90 {rot}: use 0 (none), 1 (90°) or 2 (270°)")
        a = self.attr
        if rot and (width, height) != (a.height, a.width):
            raise InvalidArgument(
                f"channel {self.group}: a turned {a.width}x{a.height} picture is "
                f"{a.height}x{a.width}, not {width}x{height}"
            )
        if rot and a.pixfmt != PIX_FMT_NV12:
            raise InvalidArgument(f"channel {self.group}: only NV12 channels can be rotated")
        with self._lock:
            if self.enabled:
                raise Busy(f"channel {self.group} is enabled; DisableChn before SetChnRotate")
            self.rotation = (rot, width, height)

    @property
    def out_size(self) -> tuple[int, int]:
        """The size of the frames the channel delivers (swapped when rotated)."""
        if self.rotation[0]:
            return self.attr.height, self.attr.width
        return self.attr.width, self.attr.height

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
        with self._lifecycle:
            self._enable(hw_index)

    def _check_not_destroyed(self) -> None:
        if self._destroyed:
            raise NotFound(f"EnableChn({self.group}): the channel was destroyed; CreateChn first")

    def _enable(self, hw_index: int) -> None:
        with self._lock:
            if self.enabled:
                return
            self._check_not_destroyed()
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
                self._history = TimedHistory(self.max_delay) if self.max_delay > 0 else None
                if self.rotation[0]:
                    self._rotator = Rotator(self, clockwise=self.rotation[0] == 1)
                    self._post, self._extra_pools = self._rotator, [self._rotator.pool.pool]
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
                self._rate_acc = (0, 1)
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
                    self._close_rotator()
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

    def enable_extension(self, source: FsChannel) -> None:
        """EnableChn of an extension channel fed by ``source`` (see extension.py)."""
        with self._lifecycle, self._lock:
            if self.enabled:
                return
            self._check_not_destroyed()
            self._fifo.reset()
            self._stop = threading.Event()
            self._rate_acc = (0, 1)
            self.failure = None
            self._streaming = True
            self._history = TimedHistory(self.max_delay) if self.max_delay > 0 else None
            self._ext = ExtensionFeed(self, source)
            self._extra_pools = [self._ext.pool.pool]
            self.enabled = True
        _log.info(
            "extension channel %d enabled: %dx%d pixfmt %d from channel %d",
            self.group,
            self.attr.width,
            self.attr.height,
            self.attr.pixfmt,
            source.group,
        )

    def _disable_extension(self, ext: ExtensionFeed) -> None:
        self._abort_waiters()
        for frame in self._fifo.drain():
            frame.release()
        ext.close()
        with self._lock:
            self._extra_pools = []

    def _close_rotator(self) -> None:
        rotator, self._rotator = self._rotator, None
        self._post = None
        if rotator is not None:
            rotator.close()
        self._extra_pools = []

    def disable(self) -> None:
        with self._lifecycle:
            self._disable()

    def _disable(self) -> None:
        with self._lock:
            if not self.enabled:
                return
            if self._ext is not None:
                ext, self._ext = self._ext, None
                self.enabled = self._streaming = False
                self._stop.set()
                self._disable_extension(ext)
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
            self._close_rotator()

    def _retire(self, pool: FramePool) -> None:
        # Frames still held by consumers keep their memory until released; the pool is freed
        # by the last release (see _recycle) or, at the latest, by destroy().
        if pool.outstanding() == 0:
            pool.destroy()
        else:
            self._retired.append(pool)

    def destroy(self) -> None:
        with self._lifecycle:
            self._disable()
            with self._lock:
                self._destroyed = True
                pools, self._retired = self._retired, []
            self._free_retired(pools)

    def _free_retired(self, pools: list[FramePool]) -> None:
        for pool in pools:
            # Frames an application took with GetFrame can only come back through ReleaseFrame
            # on this channel, which is going away: waiting for them would only block.
            user_held = sum(1 for f in pool.frames if self._user_frames.holds(f))
            if pool.outstanding() > user_held and not pool.wait_all_free(_DISABLE_WAIT):
                _log.warning(
                    "channel %d: %d frame(s) never released; freeing their memory anyway",
                    self.group,
                    pool.outstanding(),
                )
            if not pool.destroyed:
                pool.destroy(force=True)

    # -- GetFrame / ReleaseFrame ---------------------------------------------------------------
    def get_frame(self, timeout: float | _Default | None = _DEFAULT_TIMEOUT) -> Frame:
        """Oldest frame of the depth FIFO; the caller must :meth:`release_frame` it.

        ``timeout`` in seconds (None: forever); by default libimp's 2 s."""
        if isinstance(timeout, _Default):
            timeout = _default_timeout()
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
            raise Timeout(
                f"GetFrame({self.group}): no frame within {timeout} s{self._starved_by_app()}"
            ) from exc
        except InvalidState as exc:
            self._raise_failure("GetFrame")
            raise InvalidState(f"GetFrame({self.group}): channel stopped") from exc
        return self._user_frames.add(frame)

    def timed_frame(self, ts: int, minus: int, plus: int, block: bool) -> tuple[int, int, bytes]:
        """GetTimedFrame: (timestamp, seq, packed picture) nearest ``ts`` in the window."""
        history = self._history
        if not self.enabled:
            raise InvalidState(f"GetTimedFrame({self.group}): channel is not enabled")
        if history is None:
            raise InvalidState(
                f"GetTimedFrame({self.group}): no frames kept; call SetMaxDelay(chn, n > 0) "
                "(and SetDelay) before EnableChn"
            )
        return history.find(ts, minus, plus, block)

    def _starved_by_app(self) -> str:
        """Why a GetFrame timed out, when the application itself is the reason."""
        pool = self._pool
        if pool is None:
            return ""
        held = sum(1 for f in pool.frames if self._user_frames.holds(f))
        if held < len(pool.frames):
            return ""
        return (
            f": the application holds all {held} buffers of the channel (nrVBs) from GetFrame; "
            "ReleaseFrame one, or raise nrVBs"
        )

    def _raise_failure(self, what: str) -> None:
        failure = self.failure
        if failure is not None:
            raise DeviceError(
                failure.errno or 0,
                f"{what}({self.group}): capture stopped: {failure.strerror}; "
                "DisableChn and EnableChn to restart",
            )

    def release_frame(self, frame: Frame, generation: int | None = None) -> None:
        """ReleaseFrame of a GetFrame hand-out (``generation``: which fill, by default the
        frame's current one)."""
        self._user_frames.give_back(frame, str(self.group), generation)

    def find_user_frame(
        self, index: int, phys: int, timestamp: int | None = None
    ) -> tuple[Frame, int]:
        """The frame a C caller hands back (by its IMPFrameInfo index and phyAddr)."""
        with self._lock:
            pools = ([self._pool] if self._pool is not None else []) + self._retired
            pools += self._extra_pools
        return self._user_frames.find(pools, index, phys, str(self.group), timestamp)

    def snap(self, timeout: float | _Default = _DEFAULT_TIMEOUT) -> bytes:
        """``SnapFrame``: a copy of the next frame (packed NV12, W*H*3/2 bytes), independent of
        the frame depth."""
        if isinstance(timeout, _Default):
            timeout = _default_timeout()
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
