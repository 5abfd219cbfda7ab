"""EmuFrameSource channels: FrameSource channels whose frames the program supplies.

An :class:`EmuChannel` is a FrameSource channel in every respect the rest of imp sees (graph
group FS/chn with two outputs, GetFrame/SnapFrame, bindable to OSD, encoders, IVS; found by
``get_framesource().channel(chn)``) except where its pictures come from: a feeder thread reading a
:data:`PictureSource` (numpy arrays, a video file, any iterator), :meth:`EmuChannel.push` calls,
or a group bound to its input (a decoder channel: DEC -> FS(emu) passes decoded frames on).

Pacing (``pace``): ``"consumers"`` (default, for recorded material) hands on a picture only when
the graph consumers are done with the previous one, so every picture is encoded, none dropped;
``"realtime"`` delivers at the channel's frame rate like a sensor (slow consumers drop as they
would with a camera). Timestamps: the picture's own when the source gives one, else
``start + n * frame period`` on the IMP clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Union

import numpy as np

from imp import log
from imp.core.vbm import Frame
from imp.errors import InvalidArgument, InvalidState, Timeout
from imp.framesource.attr import ChannelAttr
from imp.framesource.channel import FsChannel
from imp.framesource.extension import Rotator
from imp.framesource.softpool import SoftPool
from imp.framesource.timed import TimedHistory
from imp.system import get_system

_log = log.get("emufs")

# One picture from a source: an NV12 array (H*3/2, W), a luma-only array (H, W) (grey: chroma
# 128), or (y, uv) planes; optionally with its timestamp in µs as (picture, pts).
Picture = Union[np.ndarray, tuple[np.ndarray, np.ndarray]]  # noqa: UP007 - MIPS runs 3.11
PictureSource = Iterable[Union[Picture, tuple[Picture, int]]]  # noqa: UP007
PACES = ("consumers", "realtime")
_PACE_WAIT = 10.0  # bound on a consumer holding one frame (then the feeder goes on, logged)
_PUSH_WAIT = 2.0


def planes_of(picture: Picture, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """The (y, uv) NV12 planes of ``picture``, checked against the channel size."""
    if isinstance(picture, tuple):
        y, uv = picture
    else:
        arr = np.asarray(picture)
        if arr.shape == (height * 3 // 2, width):
            y, uv = arr[:height], arr[height:]
        elif arr.shape == (height, width):
            y, uv = arr, None
        else:
            raise InvalidArgument(
                f"picture of shape {arr.shape}: expected NV12 ({height * 3 // 2}, {width}) or "
                f"luma ({height}, {width}) for a {width}x{height} channel"
            )
        if uv is None:
            return np.asarray(y, np.uint8), np.full((height // 2, width), 128, np.uint8)
    y, uv = np.asarray(y), np.asarray(uv)
    if y.shape != (height, width) or uv.shape != (height // 2, width):
        raise InvalidArgument(
            f"planes {y.shape}/{uv.shape} do not fit a {width}x{height} channel "
            f"(y ({height}, {width}), uv ({height // 2}, {width}))"
        )
    if y.dtype != np.uint8 or uv.dtype != np.uint8:
        raise InvalidArgument(f"planes must be uint8, got {y.dtype}/{uv.dtype}")
    return y, uv


class EmuChannel(FsChannel):
    """A FrameSource channel fed by software. See the module docstring."""

    emulated = True

    def __init__(self, chn: int, attr: ChannelAttr) -> None:
        super().__init__(chn, attr)
        self.pace = "consumers"
        self._feed: PictureSource | None = None
        self._soft: SoftPool | None = None
        self._feeder: threading.Thread | None = None
        self._start_us = 0
        self._count = 0
        self._push_lock = threading.Lock()
        self.exhausted = threading.Event()  # the feeder delivered its whole source
        # Called on the feeder thread once the source ran out: (pictures delivered, the
        # source's error or None). The Pythonic EmuSource posts end of stream on its bus.
        self.on_exhausted: Callable[[int, str | None], None] | None = None

    # -- configuration -------------------------------------------------------------------------
    def set_feed(self, source: PictureSource | None, pace: str = "consumers") -> None:
        """What the feeder thread reads once the channel is enabled (None: push() only)."""
        if pace not in PACES:
            raise InvalidArgument(f"pace {pace!r} must be one of {PACES}")
        with self._lock:
            if self.enabled:
                raise InvalidState(
                    f"EmuFrameSource channel {self.group} is enabled; set its source before"
                )
            self._feed, self.pace = source, pace

    # -- enable / disable ----------------------------------------------------------------------
    def _enable(self, hw_index: int) -> None:
        del hw_index  # no ISP output behind an emulated channel
        with self._lock:
            if self.enabled:
                return
            a = self.attr
            self._soft = SoftPool(f"emufs{self.group}", a.nr_vbs, a.width, a.height, a.pixfmt)
            self._pool = self._soft.pool  # GetFrame/ReleaseFrame find their frames here
            self._fifo.reset()
            self._history = TimedHistory(self.max_delay) if self.max_delay > 0 else None
            if self.rotation[0]:
                self._rotator = Rotator(self, clockwise=self.rotation[0] == 1)
                self._post, self._extra_pools = self._rotator, [self._rotator.pool.pool]
            self._stop = stop = threading.Event()
            self._streaming = True
            self.failure = None
            self._count = 0
            self._start_us = get_system().clock.now()
            self.exhausted.clear()
            self.enabled = True
            if self._feed is not None:
                self._feeder = threading.Thread(
                    target=self._run_feed,
                    args=(self._feed, stop),
                    name=f"imp-emufs{self.group}",
                    daemon=True,
                )
                self._feeder.start()
        _log.info("EmuFrameSource channel %d enabled: %dx%d", self.group, a.width, a.height)

    def _disable(self) -> None:
        with self._lock:
            if not self.enabled:
                return
            self.enabled = False
            self._streaming = False
            self._stop.set()
            feeder, self._feeder = self._feeder, None
            soft, self._soft = self._soft, None
        self._abort_waiters()
        if feeder is not None:
            feeder.join(timeout=_PACE_WAIT)
        for frame in self._fifo.drain():
            frame.release()
        self._close_rotator()
        if soft is not None:
            soft.close()
        with self._lock:
            self._pool = None

    # -- frames in -------------------------------------------------------------------------------
    def on_frame(self, frame: Frame) -> None:
        """A bound input (a decoder channel): pass its frames on, zero-copy."""
        with frame.handing_on():  # the reference dispatch gave us, dropped once passed on
            if self.enabled and (frame.width, frame.height) == (self.attr.width, self.attr.height):
                self._deliver(frame)
            else:
                self.stats.errors += 1

    def push(self, picture: Picture, pts: int | None = None, timeout: float = _PUSH_WAIT) -> int:
        """Deliver one picture now (a copy into an rmem frame); returns its timestamp (µs)."""
        if not self.enabled:
            raise InvalidState(f"EmuFrameSource channel {self.group} is not enabled")
        y, uv = planes_of(picture, self.attr.width, self.attr.height)
        with self._push_lock:
            soft = self._soft
            if soft is None:
                raise InvalidState(f"EmuFrameSource channel {self.group} is not enabled")
            frame = soft.take(timeout, self._stop)
            frame.y[...] = y
            frame.uv[...] = uv
            self._count += 1
            if pts is None:
                num, den = self.attr.fps
                pts = self._start_us + (self._count - 1) * 1_000_000 * den // num
            soft.publish(frame, pts, self._count)
            with frame.handing_on():
                self._deliver(frame)
            if self.pace == "consumers":
                self._wait_consumed(frame, soft)
        return pts

    def _deliver(self, frame: Frame) -> None:
        self.stats.captured += 1
        self.stats.last_timestamp = frame.timestamp
        self._publish(frame)

    def _wait_consumed(self, frame: Frame, soft: SoftPool) -> None:
        """Until no graph consumer holds ``frame`` (the GetFrame queue does not count: an
        application that reads no frames must not stall the clip)."""
        deadline = time.monotonic() + _PACE_WAIT
        while frame.refcount > (1 if self._depth > 0 else 0) and not self._stop.is_set():
            if time.monotonic() > deadline:
                _log.warning(
                    "channel %d: a consumer held frame %d for over %.0f s; going on",
                    self.group,
                    frame.seq,
                    _PACE_WAIT,
                )
                return
            soft.wait_released(0.005)

    def _run_feed(self, source: PictureSource, stop: threading.Event) -> None:
        num, den = self.attr.fps
        period = den / num
        t0 = time.monotonic()
        error: str | None = None
        try:
            for n, item in enumerate(_items(source)):
                if stop.is_set():
                    return
                picture, pts = item
                if self.pace == "realtime":
                    delay = t0 + n * period - time.monotonic()
                    if delay > 0 and stop.wait(delay):
                        return
                while True:
                    try:
                        self.push(picture, pts, timeout=_PUSH_WAIT)
                        break
                    except Timeout:
                        if stop.is_set():
                            return
                        self.stats.errors += 1  # every buffer held: wait again
                    except InvalidState:
                        return  # disabled meanwhile
        except Exception as exc:
            self.stats.errors += 1
            error = f"source failed: {exc}"
            _log.error("EmuFrameSource channel %d: %s", self.group, error)
        finally:
            if not stop.is_set():
                self.exhausted.set()
                if self.on_exhausted is not None:
                    self.on_exhausted(self.stats.captured, error)


def _items(source: PictureSource) -> Iterator[tuple[Picture, int | None]]:
    for item in source:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], int | np.integer):
            yield item[0], int(item[1])
        else:
            yield item, None
