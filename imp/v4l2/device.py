"""A V4L2 device node: capture with MMAP streaming, output with write(), over a swappable backend.

:class:`Syscalls` is the real thing (``os.open`` / ``fcntl.ioctl`` / ``mmap`` / ``select.poll``);
tests hand :class:`V4L2Device` a fake backend with the same five calls, so the negotiation and
streaming logic runs without a kernel. Every failure is a :class:`V4L2Error` (an ``OSError``
with the errno) whose message names the device, the step and what to do about it.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import mmap
import os
import select
import time
from dataclasses import dataclass
from typing import Protocol, TypeVar

from imp.v4l2 import abi

__all__ = ["Backend", "CapturedBuffer", "Syscalls", "V4L2Device", "V4L2Error"]

S = TypeVar("S", bound=ctypes.Structure)

_HINTS = {
    errno.ENOENT: "no such device node: is the driver loaded (modprobe vivid / v4l2loopback)?",
    errno.ENODEV: "the device is gone (unplugged or its module removed)",
    errno.EBUSY: "the device is busy: another program is streaming from it",
    errno.EACCES: "permission denied: add yourself to the 'video' group",
    errno.EINVAL: "the driver refused the request",
    errno.EIO: "the driver reported an I/O error",
}


class V4L2Error(OSError):
    """A failed V4L2 call; ``errno`` is the driver's."""


class Backend(Protocol):
    """The syscalls a V4L2 device needs; all raise ``OSError(errno, ...)`` like the kernel."""

    def open(self, path: str, flags: int) -> int: ...
    def close(self, fd: int) -> None: ...
    def ioctl(self, fd: int, request: int, arg: bytearray) -> int: ...
    def mmap(self, fd: int, length: int, offset: int) -> memoryview: ...
    def poll(self, fd: int, timeout: float) -> bool:
        """True when a buffer can be dequeued (or an error is pending) within ``timeout`` s."""
        ...

    def write(self, fd: int, data: memoryview | bytes) -> int: ...


class Syscalls:
    """The host's real syscalls."""

    def __init__(self) -> None:
        self._maps: list[mmap.mmap] = []

    def open(self, path: str, flags: int) -> int:
        return os.open(path, flags)

    def close(self, fd: int) -> None:
        os.close(fd)

    def ioctl(self, fd: int, request: int, arg: bytearray) -> int:
        return fcntl.ioctl(fd, request, arg, True)

    def mmap(self, fd: int, length: int, offset: int) -> memoryview:
        m = mmap.mmap(fd, length, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=offset)
        self._maps.append(m)
        return memoryview(m)

    def poll(self, fd: int, timeout: float) -> bool:
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(max(0, int(timeout * 1000))))

    def write(self, fd: int, data: memoryview | bytes) -> int:
        return os.write(fd, data)

    def unmap_all(self) -> None:
        for m in self._maps:
            try:
                m.close()
            except BufferError:  # a numpy view still exports it; it goes with the view
                pass
        self._maps.clear()


@dataclass(frozen=True)
class CapturedBuffer:
    """One dequeued capture buffer: its bytes (a view of the mapping), valid until requeued."""

    index: int
    data: memoryview
    sequence: int
    timestamp_ns: int  # the driver's stamp (CLOCK_MONOTONIC for most drivers)
    monotonic: bool  # True when the driver says the stamp is CLOCK_MONOTONIC
    error: bool


class _BufType(ctypes.Structure):
    """The ``int`` argument of STREAMON/STREAMOFF."""

    _fields_ = [("value", ctypes.c_int32)]


def _as_bytes(struct: ctypes.Structure) -> bytearray:
    return bytearray(bytes(struct))


class V4L2Device:
    """One open V4L2 node. ``capture_*`` for cameras, ``output_*`` for v4l2loopback's writer."""

    def __init__(self, path: str, backend: Backend | None = None, *, nonblock: bool = True) -> None:
        self.path = path
        self.backend: Backend = backend if backend is not None else Syscalls()
        flags = os.O_RDWR | (os.O_NONBLOCK if nonblock else 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            self.fd: int | None = self.backend.open(path, flags)
        except OSError as exc:
            raise self._error("open", exc) from exc
        self._maps: list[memoryview] = []
        self._buf_type = 0
        self.streaming = False

    # -- plumbing --------------------------------------------------------------------------------
    def _error(self, step: str, exc: OSError) -> V4L2Error:
        code = exc.errno or errno.EIO
        hint = _HINTS.get(code, os.strerror(code))
        return V4L2Error(code, f"{self.path}: {step}: {os.strerror(code)} ({hint})")

    def _ioctl(self, step: str, request: int, struct: S) -> S:
        if self.fd is None:
            raise V4L2Error(errno.EBADF, f"{self.path}: {step}: the device is closed")
        arg = _as_bytes(struct)
        try:
            self.backend.ioctl(self.fd, request, arg)
        except OSError as exc:
            raise self._error(step, exc) from exc
        return type(struct).from_buffer_copy(arg)

    def close(self) -> None:
        """Stop streaming, drop the mappings, close; idempotent and never raises."""
        if self.fd is None:
            return
        if self.streaming:
            try:
                self.stream_off()
            except OSError:
                pass
        for view in self._maps:
            view.release()
        self._maps.clear()
        if isinstance(self.backend, Syscalls):
            self.backend.unmap_all()
        fd, self.fd = self.fd, None
        try:
            self.backend.close(fd)
        except OSError:
            pass

    def __enter__(self) -> V4L2Device:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- discovery -------------------------------------------------------------------------------
    def query_caps(self) -> abi.Capability:
        return self._ioctl("VIDIOC_QUERYCAP", abi.VIDIOC_QUERYCAP, abi.Capability())

    def device_caps(self) -> int:
        caps = self.query_caps()
        if caps.capabilities & abi.CAP_DEVICE_CAPS:
            return int(caps.device_caps)
        return int(caps.capabilities)

    def formats(self, buf_type: int = abi.BUF_TYPE_VIDEO_CAPTURE) -> list[int]:
        """The pixel formats the device offers (VIDIOC_ENUM_FMT)."""
        found: list[int] = []
        for index in range(64):
            try:
                desc = self._ioctl(
                    "VIDIOC_ENUM_FMT", abi.VIDIOC_ENUM_FMT, abi.FmtDesc(index=index, type=buf_type)
                )
            except V4L2Error as exc:
                if exc.errno == errno.EINVAL:
                    break
                raise
            found.append(int(desc.pixelformat))
        return found

    def frame_sizes(self, pixelformat: int) -> list[tuple[int, int]] | None:
        """Discrete sizes of ``pixelformat``; None when any size in a range is allowed."""
        sizes: list[tuple[int, int]] = []
        for index in range(256):
            try:
                e = self._ioctl(
                    "VIDIOC_ENUM_FRAMESIZES",
                    abi.VIDIOC_ENUM_FRAMESIZES,
                    abi.FrmSizeEnum(index=index, pixel_format=pixelformat),
                )
            except V4L2Error as exc:
                if exc.errno in (errno.EINVAL, errno.ENOTTY):
                    break
                raise
            if e.type != abi.FRMSIZE_TYPE_DISCRETE:
                return None
            sizes.append((int(e.size.discrete.width), int(e.size.discrete.height)))
        return sizes or None

    def find_control(self, name: str) -> abi.QueryCtrl | None:
        """The control whose name matches ``name`` (case and spaces/underscores ignored)."""
        want = name.lower().replace("_", " ")
        qid = abi.CTRL_FLAG_NEXT_CTRL
        for _ in range(1024):
            try:
                q = self._ioctl("VIDIOC_QUERYCTRL", abi.VIDIOC_QUERYCTRL, abi.QueryCtrl(id=qid))
            except V4L2Error:
                return None
            if q.name.decode(errors="replace").lower() == want:
                return q
            qid = int(q.id) | abi.CTRL_FLAG_NEXT_CTRL
        return None

    def set_control(self, control_id: int, value: int) -> None:
        self._ioctl("VIDIOC_S_CTRL", abi.VIDIOC_S_CTRL, abi.Control(id=control_id, value=value))

    # -- format ----------------------------------------------------------------------------------
    def set_format(
        self, buf_type: int, width: int, height: int, pixelformat: int, bytesperline: int = 0
    ) -> abi.PixFormat:
        """VIDIOC_S_FMT; returns what the driver made of it (it may change size or format)."""
        fmt = abi.Format(type=buf_type)
        pix = fmt.fmt.pix
        pix.width, pix.height, pix.pixelformat = width, height, pixelformat
        pix.field = abi.FIELD_NONE
        pix.bytesperline = bytesperline
        if bytesperline:
            pix.sizeimage = _frame_bytes(pixelformat, width, height, bytesperline)
            pix.colorspace = abi.COLORSPACE_SMPTE170M
        got = self._ioctl("VIDIOC_S_FMT", abi.VIDIOC_S_FMT, fmt)
        return got.fmt.pix

    def get_format(self, buf_type: int) -> abi.PixFormat:
        return self._ioctl("VIDIOC_G_FMT", abi.VIDIOC_G_FMT, abi.Format(type=buf_type)).fmt.pix

    def set_frame_rate(self, buf_type: int, fps: int) -> tuple[int, int] | None:
        """Ask for ``fps``; returns the (num, den) frame interval the driver set, None if it
        cannot change it."""
        parm = abi.StreamParm(type=buf_type)
        parm.parm.capture.timeperframe.numerator = 1
        parm.parm.capture.timeperframe.denominator = fps
        try:
            got = self._ioctl("VIDIOC_S_PARM", abi.VIDIOC_S_PARM, parm)
        except V4L2Error:
            return None
        tpf = got.parm.capture.timeperframe
        return (int(tpf.numerator), int(tpf.denominator)) if tpf.denominator else None

    # -- capture streaming -----------------------------------------------------------------------
    def capture_start(self, count: int = 4) -> int:
        """REQBUFS + QUERYBUF + mmap + QBUF all + STREAMON; returns the buffer count granted."""
        t = abi.BUF_TYPE_VIDEO_CAPTURE
        req = self._ioctl(
            "VIDIOC_REQBUFS",
            abi.VIDIOC_REQBUFS,
            abi.RequestBuffers(count=count, type=t, memory=abi.MEMORY_MMAP),
        )
        if req.count < 1:
            raise V4L2Error(errno.ENOMEM, f"{self.path}: VIDIOC_REQBUFS granted no buffer")
        self._buf_type = t
        assert self.fd is not None
        for index in range(req.count):
            buf = self._ioctl(
                "VIDIOC_QUERYBUF",
                abi.VIDIOC_QUERYBUF,
                abi.Buffer(index=index, type=t, memory=abi.MEMORY_MMAP),
            )
            try:
                self._maps.append(self.backend.mmap(self.fd, buf.length, buf.m.offset))
            except OSError as exc:
                raise self._error(f"mmap of buffer {index}", exc) from exc
            self._queue(index)
        self._ioctl("VIDIOC_STREAMON", abi.VIDIOC_STREAMON, _BufType(t))
        self.streaming = True
        return int(req.count)

    def _queue(self, index: int) -> None:
        self._ioctl(
            "VIDIOC_QBUF",
            abi.VIDIOC_QBUF,
            abi.Buffer(index=index, type=self._buf_type, memory=abi.MEMORY_MMAP),
        )

    def dequeue(self, timeout: float) -> CapturedBuffer | None:
        """The next filled buffer, or None when none arrived within ``timeout`` seconds.

        Hand it back with :meth:`requeue`. Raises V4L2Error on a device error (ENODEV, EIO).
        """
        if self.fd is None:
            raise V4L2Error(errno.EBADF, f"{self.path}: dequeue: the device is closed")
        deadline = time.monotonic() + timeout
        while True:
            buf = abi.Buffer(type=self._buf_type, memory=abi.MEMORY_MMAP)
            arg = _as_bytes(buf)
            try:
                self.backend.ioctl(self.fd, abi.VIDIOC_DQBUF, arg)
            except OSError as exc:
                if exc.errno != errno.EAGAIN:
                    raise self._error("VIDIOC_DQBUF", exc) from exc
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.backend.poll(self.fd, min(left, 0.25))
                continue
            got = abi.Buffer.from_buffer_copy(arg)
            stamp = int(got.timestamp.tv_sec) * 1_000_000_000 + int(got.timestamp.tv_usec) * 1000
            flags = int(got.flags)
            return CapturedBuffer(
                index=int(got.index),
                data=self._maps[got.index][: got.bytesused or got.length],
                sequence=int(got.sequence),
                timestamp_ns=stamp,
                monotonic=flags & abi.BUF_FLAG_TIMESTAMP_MASK == abi.BUF_FLAG_TIMESTAMP_MONOTONIC,
                error=bool(flags & abi.BUF_FLAG_ERROR),
            )

    def requeue(self, buffer: CapturedBuffer) -> None:
        buffer.data.release()
        self._queue(buffer.index)

    def stream_off(self) -> None:
        self.streaming = False
        self._ioctl("VIDIOC_STREAMOFF", abi.VIDIOC_STREAMOFF, _BufType(self._buf_type))

    # -- output (v4l2loopback's writer side) -----------------------------------------------------
    def write_frame(self, data: memoryview | bytes) -> None:
        """write() one whole frame to an output device."""
        if self.fd is None:
            raise V4L2Error(errno.EBADF, f"{self.path}: write: the device is closed")
        try:
            written = self.backend.write(self.fd, data)
        except OSError as exc:
            raise self._error("write", exc) from exc
        if written != len(data):
            raise V4L2Error(errno.EIO, f"{self.path}: short write ({written} of {len(data)} B)")


def _frame_bytes(pixelformat: int, width: int, height: int, bytesperline: int) -> int:
    if pixelformat in (abi.PIX_NV12, abi.PIX_YU12):
        return bytesperline * height * 3 // 2
    return bytesperline * height
