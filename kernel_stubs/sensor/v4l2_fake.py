"""A fake V4L2 kernel for tests: capture devices that stream test pictures, output devices
that keep what is written, and the device errors a real driver gives.

:class:`FakeV4L2` implements :class:`imp.v4l2.device.Backend` (open/close/ioctl/mmap/poll/write)
over the real V4L2 structs, so :class:`~kernel_stubs.sensor.v4l2.V4L2Sensor` and the loopback
publisher run their full negotiation and streaming logic against it. Pixel data comes from a
``source(sequence, pixelformat, width, height, bytesperline) -> bytes`` callable the test
supplies, so the test, not this module, decides what the device "sees".
"""

from __future__ import annotations

import ctypes
import errno
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from imp.v4l2 import abi

__all__ = ["FakeCapture", "FakeOutput", "FakeV4L2", "FrameSourceFn"]

FrameSourceFn = Callable[[int, int, int, int, int], bytes]


def _fail(code: int, what: str) -> OSError:
    return OSError(code, what)


@dataclass
class FakeCapture:
    """A capture device. ``sizes`` None accepts any even size (the driver rounds to even).

    ``interval`` is the frame period in seconds (None: a frame is ready whenever a buffer is
    queued). ``refuse_format`` makes S_FMT answer with that fourcc instead, as a driver that
    cannot do the request does. ``faults`` maps an operation ("open", "dqbuf", "streamon",
    "s_fmt", "reqbufs") to an errno raised (once per entry) the next time it runs.
    """

    formats: list[int]
    source: FrameSourceFn
    sizes: list[tuple[int, int]] | None = None
    interval: float | None = None
    refuse_format: int | None = None
    driver: str = "fake"
    # sequence -> the buffer's CLOCK_MONOTONIC stamp in ns (None: the time of DQBUF, as drivers do)
    timestamps: Callable[[int], int] | None = None
    faults: dict[str, list[int]] = field(default_factory=dict)
    # state
    fmt: abi.PixFormat = field(default_factory=abi.PixFormat)
    buffers: list[bytearray] = field(default_factory=list)
    queued: list[int] = field(default_factory=list)
    streaming: bool = False
    sequence: int = 0
    started: float = 0.0
    produced: int = 0  # frames the schedule has made due since STREAMON
    opens: int = 0
    unplugged: bool = False
    controls: dict[int, int] = field(default_factory=dict)

    def take_fault(self, op: str) -> None:
        pending = self.faults.get(op)
        if pending:
            code = pending.pop(0)
            raise _fail(code, f"fake {op} failure")


@dataclass
class FakeOutput:
    """An output device (v4l2loopback's writer side): keeps every frame written."""

    fmt: abi.PixFormat = field(default_factory=abi.PixFormat)
    frames: list[bytes] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    unplugged: bool = False


class FakeV4L2:
    """The backend: device nodes by path, fds, the ioctl dispatcher."""

    def __init__(self) -> None:
        self.devices: dict[str, FakeCapture | FakeOutput] = {}
        self._fds: dict[int, str] = {}
        self._next_fd = 1000
        self._cond = threading.Condition()

    # -- test controls ---------------------------------------------------------------------------
    def add(self, path: str, device: FakeCapture | FakeOutput) -> None:
        self.devices[path] = device

    def unplug(self, path: str) -> None:
        """The node disappears: open gives ENOENT, calls on open fds ENODEV."""
        with self._cond:
            self.devices[path].unplugged = True
            self._cond.notify_all()

    def replug(self, path: str) -> None:
        with self._cond:
            device = self.devices[path]
            device.unplugged = False
            if isinstance(device, FakeCapture):
                device.streaming, device.buffers, device.queued = False, [], []
            self._cond.notify_all()

    def open_count(self) -> int:
        return len(self._fds)

    # -- Backend ---------------------------------------------------------------------------------
    def open(self, path: str, flags: int) -> int:
        device = self.devices.get(path)
        if device is None or device.unplugged:
            raise _fail(errno.ENOENT, f"{path}: no such device")
        if isinstance(device, FakeCapture):
            device.take_fault("open")
            device.opens += 1
        fd = self._next_fd
        self._next_fd += 1
        self._fds[fd] = path
        return fd

    def close(self, fd: int) -> None:
        path = self._fds.pop(fd)
        device = self.devices[path]
        if isinstance(device, FakeCapture) and path not in self._fds.values():
            device.streaming, device.queued = False, []

    def _device(self, fd: int) -> FakeCapture | FakeOutput:
        if fd not in self._fds:
            raise _fail(errno.EBADF, "bad fd")
        device = self.devices[self._fds[fd]]
        if device.unplugged:
            raise _fail(errno.ENODEV, "device unplugged")
        return device

    def mmap(self, fd: int, length: int, offset: int) -> memoryview:
        device = self._device(fd)
        assert isinstance(device, FakeCapture)
        return memoryview(device.buffers[offset // 4096])

    def write(self, fd: int, data: memoryview | bytes) -> int:
        device = self._device(fd)
        if not isinstance(device, FakeOutput):
            raise _fail(errno.EINVAL, "write to a capture device")
        if len(data) != device.fmt.sizeimage:
            raise _fail(
                errno.EINVAL, f"write of {len(data)} B, format needs {device.fmt.sizeimage}"
            )
        device.frames.append(bytes(data))
        device.times.append(time.monotonic())
        return len(data)

    def poll(self, fd: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                device = self._device(fd)
                assert isinstance(device, FakeCapture)
                if self._due(device) > 0 and device.queued:
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                wait = left if device.interval is None else min(left, device.interval / 4)
                self._cond.wait(wait)

    def ioctl(self, fd: int, request: int, arg: bytearray) -> int:
        with self._cond:
            device = self._device(fd)
            handler = _HANDLERS.get(request)
            if handler is None:
                raise _fail(errno.ENOTTY, f"ioctl {request:#x} not supported by the fake")
            handler(self, device, arg)
            self._cond.notify_all()
            return 0

    # -- capture schedule ------------------------------------------------------------------------
    @staticmethod
    def _due(device: FakeCapture) -> int:
        """Frames the schedule has made due and not yet delivered or dropped."""
        if not device.streaming:
            return 0
        if device.interval is None:
            return 1
        elapsed = time.monotonic() - device.started
        return int(elapsed / device.interval) + 1 - device.produced


_Handler = Callable[[FakeV4L2, "FakeCapture | FakeOutput", bytearray], None]


def _querycap(_: FakeV4L2, device: FakeCapture | FakeOutput, arg: bytearray) -> None:
    cap = abi.Capability.from_buffer(arg)
    if isinstance(device, FakeCapture):
        caps = abi.CAP_VIDEO_CAPTURE | abi.CAP_STREAMING
        cap.driver = device.driver.encode()
    else:
        caps = abi.CAP_VIDEO_OUTPUT | abi.CAP_READWRITE
        cap.driver = b"fake-out"
    cap.capabilities = caps | abi.CAP_DEVICE_CAPS
    cap.device_caps = caps


def _enum_fmt(_: FakeV4L2, device: FakeCapture | FakeOutput, arg: bytearray) -> None:
    desc = abi.FmtDesc.from_buffer(arg)
    formats = device.formats if isinstance(device, FakeCapture) else [abi.PIX_YUYV, abi.PIX_YU12]
    if desc.index >= len(formats):
        raise _fail(errno.EINVAL, "no more formats")
    desc.pixelformat = formats[desc.index]


def _s_fmt(_: FakeV4L2, device: FakeCapture | FakeOutput, arg: bytearray) -> None:
    fmt = abi.Format.from_buffer(arg)
    pix = fmt.fmt.pix
    if isinstance(device, FakeOutput):
        if fmt.type != abi.BUF_TYPE_VIDEO_OUTPUT:
            raise _fail(errno.EINVAL, "output device: type must be VIDEO_OUTPUT")
        if pix.pixelformat == abi.PIX_YUYV:
            pix.bytesperline, pix.sizeimage = pix.width * 2, pix.width * 2 * pix.height
        else:
            pix.bytesperline, pix.sizeimage = pix.width, pix.width * pix.height * 3 // 2
        ctypes.memmove(ctypes.addressof(device.fmt), ctypes.addressof(pix), ctypes.sizeof(pix))
        return
    device.take_fault("s_fmt")
    if device.streaming:
        raise _fail(errno.EBUSY, "S_FMT while streaming")
    if pix.pixelformat not in device.formats:
        pix.pixelformat = device.formats[0]
    if device.refuse_format is not None:
        pix.pixelformat = device.refuse_format
    if device.sizes is not None:
        # The nearest offered size, as drivers pick it.
        pix.width, pix.height = min(
            device.sizes, key=lambda s: abs(s[0] - pix.width) + abs(s[1] - pix.height)
        )
    else:
        pix.width, pix.height = pix.width & ~1, pix.height & ~1
    if pix.pixelformat in (abi.PIX_YUYV, abi.PIX_UYVY):
        pix.bytesperline = pix.width * 2 + 32  # padded lines, as some drivers deliver
        pix.sizeimage = pix.bytesperline * pix.height
    elif pix.pixelformat in (abi.PIX_NV12, abi.PIX_YU12):
        pix.bytesperline = pix.width
        pix.sizeimage = pix.width * pix.height * 3 // 2
    else:
        pix.bytesperline = 0
        pix.sizeimage = pix.width * pix.height * 2
    ctypes.memmove(ctypes.addressof(device.fmt), ctypes.addressof(pix), ctypes.sizeof(pix))


def _g_fmt(_: FakeV4L2, device: FakeCapture | FakeOutput, arg: bytearray) -> None:
    fmt = abi.Format.from_buffer(arg)
    ctypes.memmove(ctypes.addressof(fmt.fmt.pix), ctypes.addressof(device.fmt), 48)


def _s_parm(_: FakeV4L2, device: FakeCapture | FakeOutput, arg: bytearray) -> None:
    parm = abi.StreamParm.from_buffer(arg)
    if isinstance(device, FakeCapture):
        tpf = parm.parm.capture.timeperframe
        device.interval = tpf.numerator / tpf.denominator if tpf.denominator else None


def _no_such(_: FakeV4L2, device: FakeCapture | FakeOutput, arg: bytearray) -> None:
    raise _fail(errno.EINVAL, "not supported")


def _s_ctrl(_: FakeV4L2, device: FakeCapture | FakeOutput, arg: bytearray) -> None:
    ctrl = abi.Control.from_buffer(arg)
    if isinstance(device, FakeCapture):
        device.controls[int(ctrl.id)] = int(ctrl.value)


def _capture(device: FakeCapture | FakeOutput) -> FakeCapture:
    if not isinstance(device, FakeCapture):
        raise _fail(errno.EINVAL, "not a capture device")
    return device


def _reqbufs(_: FakeV4L2, device: FakeCapture | FakeOutput, arg: bytearray) -> None:
    dev = _capture(device)
    dev.take_fault("reqbufs")
    req = abi.RequestBuffers.from_buffer(arg)
    if dev.streaming:
        raise _fail(errno.EBUSY, "REQBUFS while streaming")
    count = min(int(req.count), 8)
    dev.buffers = [bytearray(dev.fmt.sizeimage) for _ in range(count)]
    dev.queued = []
    req.count = count


def _querybuf(_: FakeV4L2, device: FakeCapture | FakeOutput, arg: bytearray) -> None:
    dev = _capture(device)
    buf = abi.Buffer.from_buffer(arg)
    if buf.index >= len(dev.buffers):
        raise _fail(errno.EINVAL, "no such buffer")
    buf.length = len(dev.buffers[buf.index])
    buf.m.offset = buf.index * 4096


def _qbuf(_: FakeV4L2, device: FakeCapture | FakeOutput, arg: bytearray) -> None:
    dev = _capture(device)
    buf = abi.Buffer.from_buffer(arg)
    if buf.index >= len(dev.buffers) or buf.index in dev.queued:
        raise _fail(errno.EINVAL, "bad or already queued buffer")
    dev.queued.append(int(buf.index))


def _dqbuf(_: FakeV4L2, device: FakeCapture | FakeOutput, arg: bytearray) -> None:
    dev = _capture(device)
    dev.take_fault("dqbuf")
    if not dev.streaming:
        raise _fail(errno.EINVAL, "not streaming")
    due = FakeV4L2._due(dev)
    if due <= 0 or not dev.queued:
        raise _fail(errno.EAGAIN, "no buffer done yet")
    # Frames that fell due with no free buffer to land in are lost, as a real driver drops them.
    lost = max(0, due - len(dev.queued))
    dev.sequence += lost
    dev.produced += lost
    index = dev.queued.pop(0)
    pix = dev.fmt
    data = dev.source(dev.sequence, pix.pixelformat, pix.width, pix.height, pix.bytesperline)
    target = dev.buffers[index]
    target[: len(data)] = data
    buf = abi.Buffer.from_buffer(arg)
    buf.index = index
    buf.bytesused = len(data)
    buf.sequence = dev.sequence
    buf.flags = abi.BUF_FLAG_TIMESTAMP_MONOTONIC
    if dev.timestamps is not None:
        now = dev.timestamps(dev.sequence)
    else:
        now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    buf.timestamp.tv_sec, buf.timestamp.tv_usec = now // 1_000_000_000, now % 1_000_000_000 // 1000
    dev.sequence += 1
    dev.produced += 1


def _streamon(_: FakeV4L2, device: FakeCapture | FakeOutput, arg: bytearray) -> None:
    dev = _capture(device)
    dev.take_fault("streamon")
    if not dev.buffers:
        raise _fail(errno.EINVAL, "STREAMON without buffers")
    dev.streaming, dev.started, dev.produced, dev.sequence = True, time.monotonic(), 0, 0


def _streamoff(_: FakeV4L2, device: FakeCapture | FakeOutput, arg: bytearray) -> None:
    dev = _capture(device)
    dev.streaming, dev.queued = False, []


_HANDLERS: dict[int, _Handler] = {
    abi.VIDIOC_QUERYCAP: _querycap,
    abi.VIDIOC_ENUM_FMT: _enum_fmt,
    abi.VIDIOC_S_FMT: _s_fmt,
    abi.VIDIOC_G_FMT: _g_fmt,
    abi.VIDIOC_S_PARM: _s_parm,
    abi.VIDIOC_ENUM_FRAMESIZES: _no_such,
    abi.VIDIOC_QUERYCTRL: _no_such,
    abi.VIDIOC_S_CTRL: _s_ctrl,
    abi.VIDIOC_REQBUFS: _reqbufs,
    abi.VIDIOC_QUERYBUF: _querybuf,
    abi.VIDIOC_QBUF: _qbuf,
    abi.VIDIOC_DQBUF: _dqbuf,
    abi.VIDIOC_STREAMON: _streamon,
    abi.VIDIOC_STREAMOFF: _streamoff,
}
