"""A sensor that shows what a real V4L2 capture device delivers (vivid, v4l2loopback, a webcam).

Spec: ``v4l2:/dev/videoN[?option=value&...]``. The device is opened and its format negotiated
when the sensor is registered (so a missing, busy or unsuitable device fails
``IMP_ISP_AddSensor`` with the reason), and streams from the first rendered frame on.

Pacing: the simulated ISP asks for sensor frame ``n``; the first channel rendering ``n`` takes
a device frame that no earlier ``n`` used, waiting for one if none is ready, and every other
channel of ``n`` reuses it. ``pace=latest`` (default) takes the newest waiting frame and drops
older ones (low latency: right for a live camera); ``pace=fifo`` takes the oldest, so each
device frame is shown once and in order as long as the pipeline keeps up (use it with
``IMP_SIM_CLOCK=virtual`` to replay a feed frame by frame).

Device errors never kill the simulated ISP: the frame being rendered fails (the channel buffer
completes with V4L2_BUF_FLAG_ERROR, as the fake kernel's error frames do; FrameSource counts it
in ``corrupt`` and re-queues it), the device is closed, and later frames reopen it (at most
every ``retry`` seconds, sleeping that long instead of spinning) until it is back.

Options: ``format=nv12|i420|yuyv|uyvy|mjpeg`` (default: the first of those the device offers),
``size=WxH`` (capture size to ask for; default the sensor size), ``fps=N`` (ask the device for
a rate), ``pace=latest|fifo``, ``fit=crop|stretch`` (how a device picture of another aspect ratio
becomes the sensor picture), ``timeout=S`` (wait for a frame, default 3), ``retry=S`` (default
0.5), ``buffers=N`` (MMAP buffers, default 4), ``osd=0`` (vivid: switch its text overlay off),
``idle=S`` (default 2).

The model has no "stream stopped" call, so a streaming device nobody asked a frame of for
``idle`` seconds is closed by a small watchdog thread: when the pipeline stops, the camera is
free for other programs within that time, and the next frame asked for opens it again.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import numpy as np

from imp.v4l2 import abi
from imp.v4l2.convert import CAPTURE_FORMATS, Fit, FrameDecoder
from imp.v4l2.device import Backend, CapturedBuffer, V4L2Device, V4L2Error

from .base import ChannelGeometry, IspControls, SensorBase, check_planes
from .mark import stamp_frame_mark
from .picture_controls import apply_controls

__all__ = ["V4L2Options", "V4L2Sensor", "parse_v4l2_spec", "set_default_backend"]

log = logging.getLogger("kernel_stubs.sensor.v4l2")

# The syscalls of sensors built from a spec string (None: the real ones). Tests install a fake
# V4L2 kernel here, since the simulator is configured by strings only.
_default_backend: Backend | None = None


def set_default_backend(backend: Backend | None) -> None:
    """Make sensors created from ``v4l2:`` specs use ``backend`` (None: the host's syscalls)."""
    global _default_backend
    _default_backend = backend


@dataclass(frozen=True)
class V4L2Options:
    format: str | None = None
    size: tuple[int, int] | None = None
    fps: int | None = None
    pace: str = "latest"
    fit: Fit = "crop"
    timeout: float = 3.0
    retry: float = 0.5
    buffers: int = 4
    osd: bool = True
    idle: float = 2.0


def parse_v4l2_spec(arg: str) -> tuple[str, V4L2Options]:
    """Split ``/dev/videoN?k=v&...`` (the part after ``v4l2:``) into path and options."""
    path, _, query = arg.partition("?")
    if not path.startswith("/"):
        raise ValueError(f"sensor spec 'v4l2:{arg}': give the device path, e.g. v4l2:/dev/video0")
    kwargs: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)):
        try:
            kwargs[key] = _OPTION_PARSERS[key](value)
        except KeyError:
            raise ValueError(
                f"sensor spec 'v4l2:{arg}': unknown option {key!r}; "
                f"use {', '.join(sorted(_OPTION_PARSERS))}"
            ) from None
        except ValueError as exc:
            raise ValueError(f"sensor spec 'v4l2:{arg}': option {key}={value!r}: {exc}") from None
    return path, V4L2Options(**kwargs)


def _choice(*allowed: str) -> Any:
    def parse(value: str) -> str:
        if value.lower() not in allowed:
            raise ValueError(f"use one of {', '.join(allowed)}")
        return value.lower()

    return parse


def _size(value: str) -> tuple[int, int]:
    w, sep, h = value.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or int(w) <= 0 or int(h) <= 0:
        raise ValueError("expected WIDTHxHEIGHT, e.g. 1280x720")
    return int(w), int(h)


def _positive(kind: type) -> Any:
    def parse(value: str) -> Any:
        number = kind(value)
        if number <= 0:
            raise ValueError("must be positive")
        return number

    return parse


_OPTION_PARSERS: dict[str, Any] = {
    "format": _choice(*CAPTURE_FORMATS),
    "size": _size,
    "fps": _positive(int),
    "pace": _choice("latest", "fifo"),
    "fit": _choice("crop", "stretch"),
    "timeout": _positive(float),
    "retry": _positive(float),
    "buffers": _positive(int),
    "idle": _positive(float),
    "osd": lambda v: v.lower() not in ("0", "off", "no", "false"),
}


def _mono_to_raw_ns() -> int:
    """CLOCK_MONOTONIC_RAW - CLOCK_MONOTONIC now (they drift apart slowly under NTP)."""
    mono = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    raw = time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW)
    mono2 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    return raw - (mono + mono2) // 2


class V4L2Sensor(SensorBase):
    """Frames of the V4L2 capture device at ``path``, as a ``width`` x ``height`` sensor.

    ``backend`` replaces the syscalls (tests use a fake device). Introspection:
    ``device_format`` (fourcc name, width, height), ``frames_captured``, ``errors``,
    ``last_error``, ``capture_time_ns(frame_no)`` (the device's stamp of the picture shown at
    ``frame_no``, on CLOCK_MONOTONIC_RAW, the IMP clock's base), ``device_sequence(frame_no)``.
    """

    def __init__(
        self,
        path: str,
        width: int,
        height: int,
        options: V4L2Options | None = None,
        *,
        backend: Backend | None = None,
    ) -> None:
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise ValueError(f"sensor size {width}x{height} must be positive and even")
        self.path = path
        self.width, self.height = width, height
        self.options = options or V4L2Options()
        self.name = f"v4l2:{path}"
        self._backend = backend if backend is not None else _default_backend
        self._lock = threading.Lock()
        self._device: V4L2Device | None = None
        self._decoder: FrameDecoder | None = None
        self._frame_no = -1
        self._picture: np.ndarray | None = None
        self._stamps: dict[int, tuple[int, int]] = {}  # frame_no -> (stamp ns, device seq)
        self._next_retry = 0.0
        self._last_render = time.monotonic()
        self._watchdog: threading.Thread | None = None
        self.device_format: tuple[str, int, int] = ("", 0, 0)
        self.frames_captured = 0
        self.errors = 0
        self.last_error: str | None = None
        # The open device, where the finalizer (which must not hold self) can find it.
        self._holder: list[V4L2Device | None] = [None]
        self._open()  # errors here are the registration's: missing, busy, no usable format
        self._finalizer = weakref.finalize(self, _close_device, self._holder)

    # -- device lifecycle ------------------------------------------------------------------------
    def _open(self) -> None:
        opts = self.options
        device = V4L2Device(self.path, self._backend)
        try:
            caps = device.device_caps()
            if not caps & abi.CAP_VIDEO_CAPTURE:
                raise V4L2Error(
                    errno.EINVAL,
                    f"{self.path}: not a video capture device (for a v4l2loopback device, "
                    "start its writer first, or load it with exclusive_caps=1)",
                )
            if not caps & abi.CAP_STREAMING:
                raise V4L2Error(errno.EINVAL, f"{self.path}: the driver cannot MMAP-stream")
            offered = device.formats()
            wanted = [opts.format] if opts.format else list(CAPTURE_FORMATS)
            usable = [name for name in wanted if CAPTURE_FORMATS[name] in offered]
            if not usable:
                have = ", ".join(abi.fourcc_name(f) for f in offered) or "none"
                raise V4L2Error(
                    errno.EINVAL,
                    f"{self.path}: offers {have}; the V4L2 sensor needs "
                    f"{' or '.join(n.upper() for n in wanted)}",
                )
            w, h = opts.size or (self.width, self.height)
            pix = device.set_format(abi.BUF_TYPE_VIDEO_CAPTURE, w, h, CAPTURE_FORMATS[usable[0]])
            if pix.pixelformat not in CAPTURE_FORMATS.values():
                raise V4L2Error(
                    errno.EINVAL,
                    f"{self.path}: format refused: asked {usable[0].upper()} {w}x{h}, the "
                    f"driver set {abi.fourcc_name(pix.pixelformat)} {pix.width}x{pix.height}",
                )
            if opts.fps:
                device.set_frame_rate(abi.BUF_TYPE_VIDEO_CAPTURE, opts.fps)
            if not opts.osd:
                _vivid_text_off(device)
            self._decoder = FrameDecoder(pix, (self.width, self.height), opts.fit)
            self.device_format = (abi.fourcc_name(pix.pixelformat), int(pix.width), int(pix.height))
        except BaseException:
            device.close()
            raise
        self._device = device
        self._holder[0] = device

    def close(self) -> None:
        """Stop streaming and close the device (the sensor reopens it if asked for a frame)."""
        with self._lock:
            self._drop_device()

    def _drop_device(self) -> None:
        device, self._device = self._device, None
        self._holder[0] = None
        if device is not None:
            device.close()

    def __enter__(self) -> V4L2Sensor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- rendering -------------------------------------------------------------------------------
    def render_nv12(
        self,
        frame_no: int,
        geometry: ChannelGeometry,
        controls: IspControls,
        y: np.ndarray,
        uv: np.ndarray,
    ) -> None:
        check_planes(geometry, y, uv)
        left, top, width, height = geometry.source_rect(self.width, self.height)
        with self._lock:
            self._last_render = time.monotonic()
            picture = self._picture_for(frame_no)
            self._last_render = time.monotonic()
        src_y, src_uv = _channel_view(
            picture, self.width, self.height, (left, top, width, height), geometry
        )
        apply_controls(src_y, src_uv, controls, y, uv)
        stamp_frame_mark(y, frame_no, uv)

    def capture_time_ns(self, frame_no: int) -> int | None:
        with self._lock:
            entry = self._stamps.get(frame_no)
        return entry[0] if entry is not None else None

    def device_sequence(self, frame_no: int) -> int | None:
        """The driver's sequence number of the picture shown at ``frame_no`` (gaps: the driver
        dropped frames, or ``pace=latest`` skipped them)."""
        with self._lock:
            entry = self._stamps.get(frame_no)
        return entry[1] if entry is not None else None

    def _picture_for(self, frame_no: int) -> np.ndarray:
        if frame_no == self._frame_no and self._picture is not None:
            return self._picture
        try:
            picture, stamp, sequence = self._capture()
        except (V4L2Error, OSError) as exc:
            self._fail(exc)
            raise
        self._frame_no, self._picture = frame_no, picture
        self._stamps[frame_no] = (stamp, sequence)
        if len(self._stamps) > 1024:
            del self._stamps[min(self._stamps)]
        return picture

    def _fail(self, exc: OSError) -> None:
        self.errors += 1
        self.last_error = str(exc)
        if exc.errno not in (errno.ETIMEDOUT, errno.EAGAIN):
            if self.errors <= 3 or self._device is not None:
                log.warning("%s: %s; reopening it", self.path, exc)
            self._drop_device()
            self._next_retry = time.monotonic() + self.options.retry

    def _capture(self) -> tuple[np.ndarray, int, int]:
        device = self._ready_device()
        assert self._decoder is not None
        buffer = device.dequeue(self.options.timeout)
        if buffer is None:
            raise V4L2Error(
                errno.ETIMEDOUT,
                f"{self.path}: no frame within {self.options.timeout:g} s "
                "(is the writer feeding it?)",
            )
        if self.options.pace == "latest":
            buffer = self._newest(device, buffer)
        try:
            if buffer.error:
                raise V4L2Error(
                    errno.EIO, f"{self.path}: the driver flagged frame {buffer.sequence} corrupt"
                )
            try:
                picture = self._decoder.decode(buffer.data)
            except ValueError as exc:
                raise V4L2Error(errno.EIO, f"{self.path}: frame {buffer.sequence}: {exc}") from exc
            stamp = buffer.timestamp_ns + (_mono_to_raw_ns() if buffer.monotonic else 0)
        finally:
            device.requeue(buffer)
        self.frames_captured += 1
        return picture, stamp, buffer.sequence

    def _newest(self, device: V4L2Device, buffer: CapturedBuffer) -> CapturedBuffer:
        """Skip to the newest frame already waiting, handing the older ones back."""
        while True:
            newer = device.dequeue(0)
            if newer is None:
                return buffer
            device.requeue(buffer)
            buffer = newer

    def _ready_device(self) -> V4L2Device:
        if self._device is None:
            wait = self._next_retry - time.monotonic()
            if wait > 0:
                time.sleep(wait)  # no device: fail at the retry pace, never spin the engine
            self._next_retry = time.monotonic() + self.options.retry
            self._open()
            log.info("%s: reopened", self.path)
        device = self._device
        assert device is not None
        if not device.streaming:
            device.capture_start(self.options.buffers)
            self._start_watchdog()
        return device

    def _start_watchdog(self) -> None:
        if self._watchdog is not None and self._watchdog.is_alive():
            return
        self._watchdog = threading.Thread(
            target=_watch_idle, args=(weakref.ref(self),), name="v4l2-sensor-idle", daemon=True
        )
        self._watchdog.start()

    def _close_if_idle(self) -> bool:
        """Close the device if no frame was asked for ``idle`` s; True when nothing is open."""
        if not self._lock.acquire(blocking=False):
            return False  # a render is waiting for the device: that is not idle
        try:
            if self._device is None or not self._device.streaming:
                return True
            if time.monotonic() - self._last_render < self.options.idle:
                return False
            log.info("%s: no frame asked for %g s; closing it", self.path, self.options.idle)
            self._drop_device()
            return True
        finally:
            self._lock.release()


def _channel_view(
    picture: np.ndarray,
    width: int,
    height: int,
    rect: tuple[int, int, int, int],
    geometry: ChannelGeometry,
) -> tuple[np.ndarray, np.ndarray]:
    """One channel's NV12 planes from the sensor picture: crop, then scale (swscale)."""
    left, top, w, h = rect
    out_w, out_h = geometry.out_width, geometry.out_height
    y_plane, uv_plane = picture[:height], picture[height:]
    if (w, h) == (out_w, out_h) and left % 2 == 0 and top % 2 == 0:
        return y_plane[top : top + h, left : left + w], uv_plane[
            top // 2 : (top + h) // 2, left : left + w
        ]
    import av

    left, top, w, h = left & ~1, top & ~1, max(2, w & ~1), max(2, h & ~1)
    cut = np.empty((h * 3 // 2, w), dtype=np.uint8)
    cut[:h] = y_plane[top : top + h, left : left + w]
    cut[h:] = uv_plane[top // 2 : (top + h) // 2, left : left + w]
    scaled = (
        av.VideoFrame.from_ndarray(cut, format="nv12")
        .reformat(width=out_w, height=out_h, format="nv12")
        .to_ndarray()
    )
    return scaled[:out_h], scaled[out_h:]


def _vivid_text_off(device: V4L2Device) -> None:
    """vivid draws counters and a clock over its pattern; option osd=0 turns that off."""
    control = device.find_control("OSD Text Mode")
    if control is not None:
        device.set_control(int(control.id), int(control.maximum))  # the last mode is "None"


def _watch_idle(ref: weakref.ReferenceType[V4L2Sensor]) -> None:
    """The idle watchdog's loop; holds the sensor only weakly, ends once the device is closed."""
    while True:
        sensor = ref()
        if sensor is None:
            return
        period = sensor.options.idle / 4
        if sensor._close_if_idle():
            return
        del sensor
        time.sleep(period)


def _close_device(holder: list[V4L2Device | None]) -> None:
    device = holder[0]
    if device is not None:
        device.close()
