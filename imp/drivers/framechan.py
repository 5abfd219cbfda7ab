"""Client of ``/dev/framechanN``: format, USERPTR buffers at physical addresses, streaming.

Call order and rules: kernel_abi.md §2.8 (SET_FMT -> REQBUFS -> SET_BANKS -> QBUF x n ->
STREAMON; DQBUF blocks until a frame or STREAMOFF; the driver never reports buffer addresses, so
the caller keeps index -> phys).
"""

from __future__ import annotations

import errno
import time
from dataclasses import dataclass

from imp.drivers._ioctl import call, call_struct
from imp.errors import DeviceError
from imp.kernel import abi
from imp.kernel.seam import Kernel

OPEN_RETRIES = 257  # libimp retries framechan open 257 times, 10 ms apart (the node lags tx-isp)
OPEN_RETRY_DELAY = 0.01


@dataclass(frozen=True)
class ChannelFormat:
    """What SET_FMT is given; sizes in pixels, crop/fcrop as (left, top, width, height)."""

    width: int
    height: int
    pixelformat: int = abi.V4L2_PIX_FMT_NV12
    crop: tuple[int, int, int, int] | None = None
    scaler: tuple[int, int] | None = None
    fcrop: tuple[int, int, int, int] | None = None


@dataclass(frozen=True)
class DequeuedBuffer:
    index: int
    timestamp_us: int  # CLOCK_MONOTONIC_RAW domain, as the driver stamps it
    flags: int


class FrameChannelDevice:
    """One ISP output channel node. Not thread-safe except ``dqbuf`` vs ``stream_off``."""

    def __init__(self, kernel: Kernel, index: int) -> None:
        self.kernel = kernel
        self.index = index
        self.path = f"/dev/framechan{index}"
        self.fd: int | None = None
        self.sizeimage = 0
        self.bytesperline = 0
        self._legacy_layout = False  # True on the "472" ISP build (0x60 format struct)

    # -- open / close ------------------------------------------------------------------------
    def open(self, retries: int | None = None, delay: float | None = None) -> None:
        """Open the node, retrying while it is not activated yet (§2.8: 257 tries, 10 ms apart).

        The defaults are read from the module at call time, so a test can shorten the wait.
        """
        if retries is None:
            retries = OPEN_RETRIES
        if delay is None:
            delay = OPEN_RETRY_DELAY
        last: OSError | None = None
        for attempt in range(max(1, retries)):
            try:
                self.fd = self.kernel.open(self.path, abi.FRAMECHAN_OPEN_FLAGS)
                break
            except OSError as exc:
                last = exc
                # Only "slake"/not-yet-there errors are worth waiting for.
                if exc.errno not in (errno.EPERM, errno.ENOENT, errno.EBUSY, errno.EAGAIN):
                    break
                if attempt + 1 < retries:
                    time.sleep(delay)
        if self.fd is None:
            assert last is not None
            raise DeviceError(last.errno or 0, f"open {self.path}: {last.strerror or last}")
        self._probe_layout()

    def close(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            try:
                self.kernel.close(fd)
            except OSError as exc:
                raise DeviceError(exc.errno or 0, f"close {self.path}: {exc}") from exc

    def _fd(self) -> int:
        if self.fd is None:
            raise DeviceError(errno.EBADF, f"{self.path} is not open")
        return self.fd

    def _probe_layout(self) -> None:
        # kernel_abi.md §2.1: the GCC-4.7 ("472") ISP build uses a 0x60 format struct and other
        # SET/GET_FMT numbers; it answers the 540 number with ENOTTY.
        try:
            self.kernel.ioctl(
                self._fd(), abi.VIDIOC_GET_FRAME_FORMAT, abi.FrameImageFormat().pack()
            )
            self._legacy_layout = False
        except OSError as exc:
            self._legacy_layout = exc.errno == errno.ENOTTY

    # -- format and buffers ----------------------------------------------------------------------
    def set_format(self, fmt: ChannelFormat) -> abi.FrameImageFormat | abi.FrameImageFormat472:
        layout: type[abi.FrameImageFormat] | type[abi.FrameImageFormat472]
        if self._legacy_layout:
            layout, cmd = abi.FrameImageFormat472, abi.VIDIOC_SET_FRAME_FORMAT_472
        else:
            layout, cmd = abi.FrameImageFormat, abi.VIDIOC_SET_FRAME_FORMAT
        f = layout()
        f.type = abi.V4L2_BUF_TYPE_VIDEO_CAPTURE
        f.pix.width, f.pix.height = fmt.width, fmt.height
        f.pix.pixelformat = fmt.pixelformat
        f.pix.field = abi.V4L2_FIELD_ANY
        f.pix.colorspace = abi.V4L2_COLORSPACE_SRGB
        if fmt.crop is not None:
            f.crop_enable = 1
            f.crop_left, f.crop_top, f.crop_width, f.crop_height = fmt.crop
        if fmt.scaler is not None:
            f.scaler_enable = 1
            f.scaler_out_width, f.scaler_out_height = fmt.scaler
        if fmt.fcrop is not None:
            f.fcrop_enable = 1
            f.fcrop_left, f.fcrop_top, f.fcrop_width, f.fcrop_height = fmt.fcrop
        f.rate_bits, f.rate_mask = 0, 1
        out = call_struct(self.kernel, self._fd(), cmd, f, f"SET_FMT {self.path}")
        self.sizeimage = out.pix.sizeimage
        self.bytesperline = out.pix.bytesperline
        return out

    def request_buffers(self, count: int) -> int:
        req = abi.V4L2RequestBuffers(
            count=count, type=abi.V4L2_BUF_TYPE_VIDEO_CAPTURE, memory=abi.V4L2_MEMORY_USERPTR
        )
        out = call_struct(self.kernel, self._fd(), abi.VIDIOC_REQBUFS, req, f"REQBUFS {self.path}")
        return int(out.count) if count else 0

    def set_banks(self, count: int) -> None:
        call(
            self.kernel,
            self._fd(),
            abi.VIDIOC_DEFAULT_CMD_SET_BANKS,
            abi.int_arg(count),
            f"SET_BANKS {self.path}",
        )

    def qbuf(self, index: int, phys: int, length: int) -> None:
        b = abi.V4L2Buffer(
            index=index,
            type=abi.V4L2_BUF_TYPE_VIDEO_CAPTURE,
            memory=abi.V4L2_MEMORY_USERPTR,
            field=abi.V4L2_FIELD_ANY,
            userptr=phys,
            length=length,
            bytesused=length,
        )
        call_struct(self.kernel, self._fd(), abi.VIDIOC_QBUF, b, f"QBUF {self.path}[{index}]")

    def dqbuf(self) -> DequeuedBuffer:
        """Block until the ISP finished a buffer; EINVAL once streaming stops (§2.5)."""
        b = abi.V4L2Buffer(type=abi.V4L2_BUF_TYPE_VIDEO_CAPTURE, memory=abi.V4L2_MEMORY_USERPTR)
        out = call_struct(self.kernel, self._fd(), abi.VIDIOC_DQBUF, b, f"DQBUF {self.path}")
        return DequeuedBuffer(
            index=int(out.index),
            timestamp_us=int(out.tv_sec) * 1_000_000 + int(out.tv_usec),
            flags=int(out.flags),
        )

    def stream_on(self) -> None:
        call(
            self.kernel,
            self._fd(),
            abi.VIDIOC_STREAMON,
            abi.int_arg(abi.V4L2_BUF_TYPE_VIDEO_CAPTURE),
            f"STREAMON {self.path}",
        )

    def stream_off(self) -> None:
        call(
            self.kernel,
            self._fd(),
            abi.VIDIOC_STREAMOFF,
            abi.int_arg(abi.V4L2_BUF_TYPE_VIDEO_CAPTURE),
            f"STREAMOFF {self.path}",
        )
