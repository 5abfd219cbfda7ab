"""The Pythonic face: a camera in a few lines.

>>> import imp
>>> with imp.open(sensor="gc2053") as cam:                       # doctest: +SKIP
...     main = cam.framesource(0, size=(1920, 1080), fps=25)
...     for frame in main.frames(limit=10):
...         print(frame.seq, frame.timestamp, frame.y.mean())

Everything here drives the same state machines as :mod:`imp.capi`; errors are
:class:`~imp.errors.ImpError` subclasses with messages that say what to fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Any

import numpy as np

from imp import isp as _isp
from imp.core.iterate import borrowed
from imp.core.vbm import Frame
from imp.errors import InvalidArgument, InvalidState
from imp.framesource import (
    FS_EXT_CHANNEL,
    FS_PHY_CHANNEL,
    PHYSICAL_CHANNELS,
    ChannelAttr,
    get_framesource,
)
from imp.system import get_system


class CapturedFrame:
    """A frame obtained from a channel; release it (or use ``with``) to hand the buffer back.

    ``y`` and ``uv`` are numpy views of the DMA buffer (no copy): valid until release.
    """

    def __init__(self, channel: FrameSourceChannel, frame: Frame) -> None:
        self._channel = channel
        self._frame: Frame | None = frame

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
            get_framesource().channel(self._channel.chn).release_frame(frame)

    def __enter__(self) -> CapturedFrame:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class FrameSourceChannel:
    """A FrameSource channel (``IMP_FrameSource_*`` on channel ``chn``)."""

    def __init__(self, chn: int) -> None:
        self.chn = chn

    @property
    def attr(self) -> ChannelAttr:
        return get_framesource().channel(self.chn).attr

    @property
    def enabled(self) -> bool:
        return get_framesource().channel(self.chn).enabled

    @property
    def depth(self) -> int:
        return get_framesource().channel(self.chn).depth

    @depth.setter
    def depth(self, value: int) -> None:
        get_framesource().channel(self.chn).set_depth(value)

    @property
    def stats(self) -> Any:
        return get_framesource().channel(self.chn).stats

    def enable(self) -> FrameSourceChannel:
        get_framesource().enable(self.chn)
        return self

    def disable(self) -> None:
        get_framesource().disable(self.chn)

    def get_frame(self, timeout: float | None = 2.0) -> CapturedFrame:
        """Next frame from the depth FIFO (a depth of at least 1 is set for you)."""
        ch = get_framesource().channel(self.chn)
        if ch.depth == 0:
            ch.set_depth(1)
        if not ch.enabled:
            get_framesource().enable(self.chn)
        return CapturedFrame(self, ch.get_frame(timeout))

    def frames(
        self, limit: int | None = None, timeout: float | None = 2.0
    ) -> Iterator[CapturedFrame]:
        """Iterate frames; each is released when the loop moves on (keep a copy to keep data)."""
        return borrowed(lambda: self.get_frame(timeout), limit)

    def snapshot(self) -> np.ndarray:
        """A copy of the next frame as an (h*3/2, w) NV12 array."""
        data = get_framesource().channel(self.chn).snap()
        w, h = self.attr.width, self.attr.height
        return np.frombuffer(data, dtype=np.uint8)[: w * h * 3 // 2].reshape(h * 3 // 2, w).copy()


class Camera:
    """ISP + System lifecycle as a context manager (the vendor samples' system_init/exit)."""

    def __init__(
        self, sensor: str = "gc2053", i2c_addr: int = 0x37, fps: int | None = None
    ) -> None:
        self.sensor = _isp.SensorInfo(name=sensor, i2c_addr=i2c_addr)
        self.fps = fps
        self._open = False

    def __enter__(self) -> Camera:
        isp = _isp.get_isp()
        isp.open()
        try:
            isp.add_sensor(self.sensor)
            isp.enable_sensor()
            get_system().init()
            isp.enable_tuning()
            if self.fps is not None:
                isp.set_sensor_fps(self.fps, 1)
        except BaseException:
            self._teardown()
            raise
        self._open = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._open = False
        self._teardown()

    def _teardown(self) -> None:
        isp, system = _isp.get_isp(), get_system()
        if system.initialized:
            system.exit()
        if isp.txisp is not None:
            isp.close()  # disables tuning and the sensor and removes it on the way

    @property
    def sensor_size(self) -> tuple[int, int]:
        size = _isp.get_isp().sensor_size()
        if size is None:
            raise InvalidState("the sensor size is unknown: is the sensor added?")
        return size

    def framesource(
        self,
        chn: int,
        size: tuple[int, int] | None = None,
        fps: int | tuple[int, int] = 25,
        nr_vbs: int = 2,
        crop: tuple[int, int, int, int] | None = None,
        enable: bool = True,
    ) -> FrameSourceChannel:
        """Create (and by default enable) FrameSource channel ``chn`` at ``size``.

        The scaler is switched on when ``size`` differs from the (cropped) sensor picture.
        Channels 0..2 are physical; higher numbers become extension channels.
        """
        if not self._open:
            raise InvalidState("use the camera inside its 'with' block")
        sw, sh = self.sensor_size
        w, h = size if size is not None else (sw, sh)
        src = (crop[2], crop[3]) if crop is not None else (sw, sh)
        rate = (fps, 1) if isinstance(fps, int) else fps
        if not isinstance(rate, tuple) or len(rate) != 2:
            raise InvalidArgument(f"fps must be an int or a (num, den) tuple, got {fps!r}")
        attr = ChannelAttr(
            width=w,
            height=h,
            crop=crop,
            scaler=(w, h) if (w, h) != src else None,
            fps=rate,
            nr_vbs=nr_vbs,
            type=FS_PHY_CHANNEL if chn < PHYSICAL_CHANNELS else FS_EXT_CHANNEL,
        )
        get_framesource().create(chn, attr)
        channel = FrameSourceChannel(chn)
        if enable:
            channel.enable()
        return channel

    def encoder(self, source: FrameSourceChannel | Any, settings: Any, **options: Any) -> Any:
        """Encode ``source`` (a channel from :meth:`framesource`, or an encoder handle whose
        group to share) with ``imp.H264(...)``, ``imp.H265(...)`` or ``imp.JPEG(...)``.

        Returns an :class:`imp.encoder.EncoderHandle` (iterate ``.streams()``); ``options`` are
        those of :func:`imp.encoder.open_encoder` (chn, group, output, start, wrap, backend).
        """
        if not self._open:
            raise InvalidState("use the camera inside its 'with' block")
        from imp.encoder import open_encoder

        return open_encoder(source, settings, **options)

    def set_control(self, name: str, value: int) -> None:
        """ISP tuning by name: brightness, contrast, saturation, sharpness, hue, hflip, ..."""
        _isp.get_isp().set_control(name, value)

    def get_control(self, name: str) -> int:
        return _isp.get_isp().get_control(name)

    def timestamp(self) -> int:
        return get_system().timestamp()


def open(sensor: str = "gc2053", i2c_addr: int = 0x37, fps: int | None = None) -> Camera:
    """A :class:`Camera` to use in a ``with`` block."""
    return Camera(sensor=sensor, i2c_addr=i2c_addr, fps=fps)
