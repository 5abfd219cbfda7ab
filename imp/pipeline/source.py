"""A FrameSource channel as a node: frames to read, and outputs other nodes bind to.

Adapts :mod:`imp.framesource` through its public surface only (``get_framesource()``, the
channel object's ``get_frame``/``release_frame``/``snap``/``stats``).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from imp import isp as _isp
from imp.core.graph import DEV_ID_FS, Cell
from imp.core.iterate import borrowed
from imp.core.vbm import Frame
from imp.errors import ImpError, InvalidArgument, InvalidState
from imp.framesource import ChannelAttr, ChannelStats, FsChannel, get_framesource
from imp.pipeline.events import DEFAULT_TIMEOUT, Event, EventBus, EventKind, State
from imp.pipeline.node import FrameFormat, Node

if TYPE_CHECKING:  # a type only: a pipeline without an encoder does not load it
    from imp.encoder.api import Fps

log = logging.getLogger("imp.pipeline")
_DEGREES = [0, 90, 270]  # SetChnRotate's rotTo90: 0 none, 1 clockwise, 2 anticlockwise


def _release_dropped(channel: FsChannel, frame: Frame, generation: int) -> None:
    log.warning(
        "FrameSource channel %d: frame seq %d was dropped without release(); released it "
        "(use 'with channel.get_frame() as frame:' or frames())",
        channel.group,
        frame.seq,
    )
    try:
        channel.release_frame(frame, generation)
    except ImpError:
        pass  # the channel was destroyed since: its buffers are gone already


def sensor_format(
    size: tuple[int, int] | None, fps: Fps | None, crop: tuple[int, int, int, int] | None = None
) -> tuple[tuple[int, int], tuple[int, int]]:
    """The size and rate a camera channel is to deliver, refused with what to ask for when the
    sensor cannot: ``size`` (None: the sensor's) at most the (cropped) sensor picture, as the ISP
    only scales down; ``fps`` (an int or (num, den); None: the sensor's) at most the sensor's."""
    sensor_size = _isp.get_isp().sensor_size()
    if sensor_size is None:
        raise InvalidState("the sensor size is unknown: is the sensor added?")
    w, h = size if size is not None else sensor_size
    src = (crop[2], crop[3]) if crop is not None else sensor_size
    if w > src[0] or h > src[1]:
        raise InvalidArgument(
            f"{w}x{h} is larger than the {src[0]}x{src[1]} sensor picture; the ISP only "
            "scales down: ask for at most the sensor's size"
        )
    sensor_rate = _isp.get_isp().sensor_fps()
    rate = sensor_rate if fps is None else (fps, 1) if isinstance(fps, int) else fps
    if not isinstance(rate, tuple) or len(rate) != 2:
        raise InvalidArgument(f"fps must be an int or a (num, den) tuple, got {fps!r}")
    if rate[0] * sensor_rate[1] > sensor_rate[0] * rate[1]:  # rate > sensor_rate
        raise InvalidArgument(
            f"fps {rate[0]}/{rate[1]} is above the sensor's {sensor_rate[0]}/"
            f"{sensor_rate[1]}; ask for at most that, or open the camera with a higher fps"
        )
    return (w, h), rate


class CapturedFrame:
    """A frame obtained from a channel; release it (or use ``with``) to hand the buffer back.

    ``y`` and ``uv`` are numpy views of the DMA buffer (no copy): valid until release.
    """

    def __init__(self, channel: FsChannel, frame: Frame) -> None:
        self._channel = channel
        self._frame: Frame | None = frame
        self._generation = frame.generation  # which fill: a later fill is not ours to release
        # A frame dropped without release() would hold its buffer for good (the channel
        # starves after nrVBs of them): the garbage collector gives it back, with a warning.
        self._finalizer = weakref.finalize(self, _release_dropped, channel, frame, frame.generation)
        self._finalizer.atexit = False

    def __repr__(self) -> str:
        if self._frame is None:
            return "<CapturedFrame released>"
        return f"<CapturedFrame seq={self.seq} ts={self.timestamp} {self.size[0]}x{self.size[1]}>"

    @property
    def frame(self) -> Frame:
        if self._frame is None:
            raise InvalidState("frame was released; its buffer belongs to the driver again")
        return self._frame

    @property
    def y(self) -> np.ndarray:
        return self.frame.y

    @property
    def uv(self) -> np.ndarray:
        return self.frame.uv

    @property
    def data(self) -> memoryview:
        return self.frame.data

    @property
    def timestamp(self) -> int:
        """Capture time, µs in the clock of ``IMP_System_GetTimeStamp``."""
        return self.frame.timestamp

    @property
    def seq(self) -> int:
        return self.frame.seq

    @property
    def size(self) -> tuple[int, int]:
        return self.frame.width, self.frame.height

    def release(self) -> None:
        if self._frame is not None:
            frame, self._frame = self._frame, None
            self._finalizer.detach()
            self._channel.release_frame(frame, self._generation)

    def __enter__(self) -> CapturedFrame:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class FrameSourceChannel(Node):
    """FrameSource channel ``chn`` (``IMP_FrameSource_*``); outputs 0 and 1 feed other nodes."""

    kind = "framesource"

    def __init__(self, chn: int, bus: EventBus | None = None) -> None:
        super().__init__(bus)
        self.chn = chn
        self._fs = get_framesource().channel(chn)
        self._announced: FrameFormat | None = None  # what consumers were last told

    def __repr__(self) -> str:
        a = self._fs.attr
        return f"<FrameSourceChannel {self.chn} {a.width}x{a.height} {self._state.value}>"

    # -- node -----------------------------------------------------------------------------------
    def output_cell(self, output: int = 0) -> Cell:
        self.check()
        return (DEV_ID_FS, self.chn, output)

    def frame_format(self) -> FrameFormat:
        """The size the channel delivers (turned when rotated) and its rate."""
        ch = self.channel
        return ch.out_size, ch.attr.fps

    def _alive(self) -> bool:
        return get_framesource().channels.get(self.chn) is self._fs

    def _teardown(self) -> None:
        fs = get_framesource()
        if self._fs.enabled:
            fs.disable(self.chn)
        fs.destroy(self.chn)

    @property
    def channel(self) -> FsChannel:
        """The module's channel object (checked: raises Closed after close)."""
        self.check()
        return self._fs

    # -- attributes -----------------------------------------------------------------------------
    @property
    def attr(self) -> ChannelAttr:
        return self.channel.attr

    @property
    def size(self) -> tuple[int, int]:
        """The size of the frames delivered: the channel's, turned when rotated."""
        return self.channel.out_size

    @property
    def rotation(self) -> int:
        """0, 90 or 270 (degrees clockwise)."""
        return _DEGREES[self.channel.rotation[0]]

    def rotate(self, degrees: int) -> None:
        """Turn the delivered frames by 90 or 270 degrees clockwise, or back (0)
        (``IMP_FrameSource_SetChnRotate``); only while the channel is disabled."""
        ch = self.channel
        if degrees not in _DEGREES:
            raise InvalidArgument(f"rotate by 0, 90 or 270 degrees, not {degrees!r}")
        ch.set_rotation(_DEGREES.index(degrees), ch.attr.height, ch.attr.width)

    @property
    def enabled(self) -> bool:
        return self.channel.enabled

    @property
    def depth(self) -> int:
        return self.channel.depth

    @depth.setter
    def depth(self, value: int) -> None:
        self.channel.set_depth(value)

    @property
    def stats(self) -> ChannelStats:
        return self.channel.stats

    @property
    def frames_delivered(self) -> int:
        return self.channel.stats.delivered

    @property
    def drops(self) -> dict[str, int]:
        """Frames this channel lost, by cause (frame-rate decimation is not a loss)."""
        s = self.channel.stats
        return self.note_drops({"fifo": s.fifo_dropped, "corrupt": s.corrupt})

    # -- control --------------------------------------------------------------------------------
    def enable(self) -> FrameSourceChannel:
        self.check()
        get_framesource().enable(self.chn)
        self._set_state(State.RUNNING)
        self._announce_format()
        return self

    def reconfigure(self, size: tuple[int, int] | None = None, fps: Fps | None = None) -> None:
        """Deliver ``size`` (before rotation) and/or ``fps`` from now on: the channel stops,
        takes the new attributes and starts again (``IMP_FrameSource_DisableChn``,
        ``SetChnAttr``, ``EnableChn``, as sample-Change-Resolution does). The bus carries a
        FORMAT event; an encoder bound to the channel scales the new frames to its own size."""
        ch = self.channel
        a = ch.attr
        w, h = size if size is not None else (a.width, a.height)
        rate = (fps, 1) if isinstance(fps, int) else fps or a.fps
        if not ch.emulated:  # what the sensor cannot give is refused as at cam.framesource()
            (w, h), rate = sensor_format((w, h), rate, a.crop)
        scaler = (w, h) if a.scaler is not None or (w, h) != (a.width, a.height) else None
        attr = replace(a, width=w, height=h, scaler=scaler, fps=rate)
        attr.validate(self.chn)  # before stopping: a refused change leaves the channel running
        running = ch.enabled
        if running:
            self.disable()
        ch.set_attr(attr)
        if running:
            self.enable()

    def _announce_format(self) -> None:
        """A FORMAT event when the channel starts with another size or rate than last time
        (through :meth:`reconfigure`, or SetChnAttr/SetChnRotate from the C API)."""
        new = self.frame_format()
        old, self._announced = self._announced, new
        if old is not None and old != new:
            (w, h), (num, den) = new
            (ow, oh), (onum, oden) = old
            self.bus.post(
                Event(
                    EventKind.FORMAT,
                    repr(self),
                    f"{w}x{h} at {num}/{den} fps (was {ow}x{oh} at {onum}/{oden} fps)",
                )
            )

    def disable(self) -> None:
        self.check()
        get_framesource().disable(self.chn)
        self._set_state(State.PAUSED)

    def flush(self) -> int:
        """Drop the frames waiting in the GetFrame FIFO; returns how many."""
        ch = self.channel
        depth = ch.depth
        n = 0
        if depth:
            ch.set_depth(0)  # the FIFO hands every queued frame back to its pool
            ch.set_depth(depth)
            n = depth
        return n

    # -- frames ---------------------------------------------------------------------------------
    def get_frame(self, timeout: float | None = DEFAULT_TIMEOUT) -> CapturedFrame:
        """Next frame from the depth FIFO (a depth of at least 1 is set for you)."""
        ch = self.channel
        if ch.depth == 0:
            ch.set_depth(1)
        if not ch.enabled:
            self.enable()
        return CapturedFrame(ch, ch.get_frame(timeout))

    def frames(
        self, limit: int | None = None, timeout: float | None = DEFAULT_TIMEOUT
    ) -> Iterator[CapturedFrame]:
        """Iterate frames; each is released when the loop moves on (keep a copy to keep data)."""
        return borrowed(lambda: self.get_frame(timeout), limit)

    def snapshot(self) -> np.ndarray:
        """A copy of the next frame as an (h*3/2, w) NV12 array."""
        ch = self.channel
        data = ch.snap()
        w, h = ch.out_size
        return np.frombuffer(data, dtype=np.uint8)[: w * h * 3 // 2].reshape(h * 3 // 2, w).copy()


__all__ = ["CapturedFrame", "FrameSourceChannel", "sensor_format"]
