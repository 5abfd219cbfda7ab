"""Publishing a FrameSource channel to a v4l2loopback device, so any V4L2 application (a browser,
OBS, ffplay, a video-call app) sees the simulated T31 camera as a webcam.

:class:`LoopbackWriter` owns the output device: it sets the format once and write()s one whole
frame per picture. v4l2loopback never blocks a writer on its readers, so a reader coming and
going changes nothing for the pipeline; a write error (the device removed) is counted and the
device reopened at a bounded pace, never raised into the frame loop.
:func:`publish_channel` is the loop: frames from the Pythonic layer, paced by their capture
timestamps (so a virtual-clock simulator still publishes at the channel's rate).
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from imp.v4l2 import abi
from imp.v4l2.convert import OUTPUT_FORMATS, from_nv12
from imp.v4l2.device import Backend, V4L2Device, V4L2Error

__all__ = ["LoopbackWriter", "Pacer", "PublishStats", "publish_channel"]

log = logging.getLogger("imp.v4l2.publish")


@dataclass
class PublishStats:
    written: int = 0
    errors: int = 0
    reopened: int = 0
    last_error: str | None = None


class LoopbackWriter:
    """The writer side of a v4l2loopback device at ``path``, ``width`` x ``height``.

    ``fmt`` is ``"yuyv"`` (what every V4L2 application reads; the default), ``"i420"`` or
    ``"nv12"``. Raises :class:`~imp.v4l2.device.V4L2Error` when the device cannot be opened
    or is not an output device; later write errors are counted in ``stats``.
    """

    def __init__(
        self,
        path: str,
        width: int,
        height: int,
        fmt: str = "yuyv",
        *,
        backend: Backend | None = None,
        retry: float = 0.5,
    ) -> None:
        if fmt not in OUTPUT_FORMATS:
            raise ValueError(f"output format {fmt!r}: use {', '.join(OUTPUT_FORMATS)}")
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise ValueError(f"size {width}x{height} must be positive and even")
        self.path, self.width, self.height = path, width, height
        self.pixelformat = OUTPUT_FORMATS[fmt]
        self.stats = PublishStats()
        self._backend = backend
        self._retry = retry
        self._next_retry = 0.0
        self._device: V4L2Device | None = self._open()

    def _open(self) -> V4L2Device:
        device = V4L2Device(self.path, self._backend)
        try:
            if not device.device_caps() & abi.CAP_VIDEO_OUTPUT:
                raise V4L2Error(
                    errno.EINVAL,
                    f"{self.path}: not a video output device; publish to a v4l2loopback node "
                    "(sudo modprobe v4l2loopback video_nr=10 exclusive_caps=1)",
                )
            bpl = self.width * 2 if self.pixelformat == abi.PIX_YUYV else self.width
            pix = device.set_format(
                abi.BUF_TYPE_VIDEO_OUTPUT, self.width, self.height, self.pixelformat, bpl
            )
            got = (int(pix.width), int(pix.height), int(pix.pixelformat))
            if got != (self.width, self.height, self.pixelformat):
                raise V4L2Error(
                    errno.EINVAL,
                    f"{self.path}: format refused: asked {abi.fourcc_name(self.pixelformat)} "
                    f"{self.width}x{self.height}, the driver set {abi.fourcc_name(got[2])} "
                    f"{got[0]}x{got[1]} (another writer may hold the device)",
                )
        except BaseException:
            device.close()
            raise
        return device

    def write(self, y: np.ndarray, uv: np.ndarray) -> bool:
        """Publish one NV12 picture; False if it was dropped (device gone, write failed)."""
        if (y.shape[1], y.shape[0]) != (self.width, self.height):
            raise ValueError(
                f"picture {y.shape[1]}x{y.shape[0]} does not match the device's "
                f"{self.width}x{self.height}"
            )
        if self._device is None:
            if time.monotonic() < self._next_retry:
                return False
            try:
                self._device = self._open()
                self.stats.reopened += 1
                log.info("%s: reopened", self.path)
            except OSError as exc:
                self._failed(exc)
                return False
        try:
            self._device.write_frame(from_nv12(y, uv, self.pixelformat))
        except OSError as exc:
            self._failed(exc)
            if self._device is not None:
                self._device.close()
                self._device = None
            return False
        self.stats.written += 1
        return True

    def _failed(self, exc: OSError) -> None:
        self.stats.errors += 1
        self.stats.last_error = str(exc)
        self._next_retry = time.monotonic() + self._retry
        if self.stats.errors <= 3:
            log.warning("%s: %s; frames are dropped until it is back", self.path, exc)

    def close(self) -> None:
        if self._device is not None:
            self._device.close()
            self._device = None

    def __enter__(self) -> LoopbackWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Pacer:
    """Sleeps until a picture's capture time (µs) relative to the first picture's, so pictures
    leave at the channel's rate whatever clock (virtual or real) produced them."""

    def __init__(self) -> None:
        self._first: tuple[float, int] | None = None

    def wait(self, stamp_us: int) -> None:
        now = time.monotonic()
        if self._first is None:
            self._first = (now, stamp_us)
        delay = self._first[0] + (stamp_us - self._first[1]) / 1e6 - now
        if delay > 0:
            time.sleep(delay)


def _channel_frames(
    sensor: str, chn: int, size: tuple[int, int] | None, fps: int, limit: int | None
) -> Generator[tuple[np.ndarray, np.ndarray, int], None, None]:
    """(y, uv, timestamp µs) of each frame of FrameSource channel ``chn``: the only place
    this module touches the Pythonic layer."""
    import imp

    with imp.open(sensor=sensor) as cam:
        channel = cam.framesource(chn, size=size, fps=fps)
        for frame in channel.frames(limit=limit, timeout=10.0):
            yield frame.y, frame.uv, frame.timestamp


def publish_channel(
    writer: LoopbackWriter,
    *,
    sensor: str = "gc2053",
    chn: int = 0,
    size: tuple[int, int] | None = None,
    fps: int = 25,
    limit: int | None = None,
    pace: bool = True,
    stop: threading.Event | None = None,
) -> PublishStats:
    """Open the camera, create channel ``chn`` and write its frames to ``writer`` until
    ``limit`` frames, ``stop`` is set, or KeyboardInterrupt. With ``pace`` each frame is
    written at its capture time relative to the first (the channel's rate even under the
    virtual clock). Returns the writer's statistics."""
    pacer = Pacer() if pace else None
    frames = _channel_frames(sensor, chn, size or (writer.width, writer.height), fps, limit)
    try:
        for y, uv, stamp in frames:
            if stop is not None and stop.is_set():
                break
            if pacer is not None:
                pacer.wait(stamp)
            writer.write(y, uv)
    finally:
        frames.close()  # leaves the camera's 'with' block now, not at garbage collection
    return writer.stats
