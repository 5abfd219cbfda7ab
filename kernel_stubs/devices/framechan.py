"""``/dev/framechanN``: format, USERPTR buffer queue, streaming (kernel_abi.md §2).

Checks run in the driver's order and fail with its errno, since user space (and its tests)
depend on which error comes first. Beyond the real driver, QBUF refuses a physical range outside
the rmem arena (EFAULT): on the board the ISP would DMA over whatever RAM is there.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from imp.kernel import abi
from kernel_stubs.devices.base import Device, OpenFile, fail, need
from kernel_stubs.devices.channel import BufferRecord, BufState, Channel, ChannelState
from kernel_stubs.devices.formats import fill_sizes, geometry_of, is_nv12

if TYPE_CHECKING:
    from kernel_stubs.isp_core import IspCore

__all__ = ["FrameChannelDevice"]

_FMT_SIZE = 0x70
_BUF_SIZE = 0x44
_REQ_SIZE = 0x14
_QBUF_FLAG_MASK = 0xFFFF1BB8  # the flag bits QBUF keeps from the caller

log = logging.getLogger("kernel_stubs.framechan")


class FrameChannelDevice(Device):
    def __init__(self, core: IspCore, channel: Channel) -> None:
        self.core = core
        self.channel = channel
        self.path = channel.path
        self._handlers: dict[int, Callable[[bytearray], int]] = {
            abi.VIDIOC_SET_FRAME_FORMAT: self._set_fmt,
            abi.VIDIOC_GET_FRAME_FORMAT: self._get_fmt,
            abi.VIDIOC_REQBUFS: self._reqbufs,
            abi.VIDIOC_QUERYBUF: self._querybuf,
            abi.VIDIOC_QBUF: self._qbuf,
            abi.VIDIOC_DQBUF: self._dqbuf,
            abi.VIDIOC_STREAMON: self._streamon,
            abi.VIDIOC_STREAMOFF: self._streamoff,
            abi.VIDIOC_DEFAULT_CMD_SET_BANKS: self._set_banks,
            abi.VIDIOC_DEFAULT_CMD_LISTEN_BUF: self._listen,
        }

    # -- open / release (§2.7) ----------------------------------------------------------------
    def open(self, file: OpenFile) -> None:
        ch = self.channel
        with self.core.cond:
            if ch.state == ChannelState.SLAKE:
                fail(errno.EPERM, f"Frame channel{ch.index} is slake now")
            # No exclusivity: a second open resets a live queue (gotcha 9).
            ch.reset()
            ch.state = ChannelState.OPENED
            self.core.cond.notify_all()

    def release(self, file: OpenFile) -> None:
        ch = self.channel
        with self.core.cond:
            if ch.streaming:
                ch.cancel()
            ch.free_buffers()
            # A channel slaked by the last tx-isp close stays slaked: only tx-isp activates.
            if ch.state >= ChannelState.OPENED:
                ch.state = ChannelState.ACTIVATED
            self.core.cond.notify_all()

    def ioctl(self, file: OpenFile, cmd: int, arg: bytearray) -> int:
        handler = self._handlers.get(cmd)
        if handler is None:
            # -ENOIOCTLCMD; also what the 0x60-layout (472 build) SET/GET_FMT numbers get here.
            fail(errno.ENOTTY, f"{self.path}: unknown ioctl {cmd:#010x}")
        return handler(arg)

    # -- format (§2.2) --------------------------------------------------------------------------
    def _set_fmt(self, arg: bytearray) -> int:
        fmt = abi.FrameImageFormat.from_buffer_copy(bytes(need(arg, _FMT_SIZE, "SET_FMT")[:0x70]))
        if fmt.type != abi.V4L2_BUF_TYPE_VIDEO_CAPTURE:
            fail(errno.EINVAL, f"SET_FMT: type {fmt.type} is not VIDEO_CAPTURE (1)")
        if fmt.pix.field == abi.V4L2_FIELD_ANY:
            fmt.pix.field = abi.V4L2_FIELD_INTERLACED
        elif fmt.pix.field != abi.V4L2_FIELD_INTERLACED:
            fail(errno.EINVAL, f"SET_FMT: field {fmt.pix.field} is not supported")
        if fmt.pix.colorspace != abi.V4L2_COLORSPACE_SRGB:
            fail(errno.EINVAL, f"SET_FMT: colorspace {fmt.pix.colorspace} is not SRGB (8)")
        if fmt.pix.width == 0 or fmt.pix.height == 0:
            fail(errno.EINVAL, f"SET_FMT: size {fmt.pix.width}x{fmt.pix.height} is empty")
        with self.core.lock:
            sensor = self.core.sensor
            if sensor is not None:
                # tisp_channel_attr_set refuses what the scaler/crop units cannot do.
                try:
                    geometry_of(fmt, sensor.width, sensor.height).source_rect(
                        sensor.width, sensor.height
                    )
                except ValueError as exc:
                    fail(errno.EINVAL, f"SET_FMT: {exc}")
            fill_sizes(fmt)
            self.channel.fmt = fmt
        arg[:_FMT_SIZE] = bytes(fmt)
        return 0

    def _get_fmt(self, arg: bytearray) -> int:
        need(arg, _FMT_SIZE, "GET_FMT")
        with self.core.lock:
            cached = self.channel.fmt
            fmt = abi.FrameImageFormat.from_buffer_copy(bytes(cached or abi.FrameImageFormat()))
        fmt.type = abi.V4L2_BUF_TYPE_VIDEO_CAPTURE
        fmt.pix.field = abi.V4L2_FIELD_INTERLACED
        fmt.pix.colorspace = abi.V4L2_COLORSPACE_SRGB
        arg[:_FMT_SIZE] = bytes(fmt)
        return 0

    # -- buffers (§2.5) -----------------------------------------------------------------------
    def _reqbufs(self, arg: bytearray) -> int:
        req = abi.V4L2RequestBuffers.from_buffer_copy(bytes(need(arg, _REQ_SIZE, "REQBUFS")[:20]))
        ch = self.channel
        with self.core.cond:
            if ch.streaming:
                fail(errno.EBUSY, "REQBUFS: the channel is streaming")
            if req.memory != abi.V4L2_MEMORY_USERPTR:
                fail(errno.EINVAL, "memory type isn't userptr")
            ch.free_buffers()
            self.core.cond.notify_all()
            if req.count == 0:
                return 0  # freed; the struct is not copied back
            count = min(int(req.count), abi.MAX_FRAME_BUFFERS)
            ch.buffers = [BufferRecord(i) for i in range(count)]
            ch.banks = count
            ch.sizeimage = int(ch.fmt.pix.sizeimage) if ch.fmt is not None else 0
        req.count = count
        arg[:_REQ_SIZE] = bytes(req)
        return 0

    def _buffer_arg(self, arg: bytearray, what: str) -> abi.V4L2Buffer:
        b = abi.V4L2Buffer.from_buffer_copy(bytes(need(arg, _BUF_SIZE, what)[:_BUF_SIZE]))
        if b.type != abi.V4L2_BUF_TYPE_VIDEO_CAPTURE:
            fail(errno.EINVAL, f"{what}: invalid buffer type {b.type}")
        return b

    def _write_back(self, arg: bytearray, b: abi.V4L2Buffer, rec: BufferRecord) -> None:
        # m and length stay as the caller sent them (gotcha 4); sequence and bytesused are 0.
        b.index = rec.index
        b.bytesused = 0
        b.flags = rec.reported_flags()
        b.field = rec.field
        b.tv_sec, b.tv_usec = rec.tv_sec, rec.tv_usec
        b.sequence = 0
        arg[:_BUF_SIZE] = bytes(b)

    def _querybuf(self, arg: bytearray) -> int:
        b = self._buffer_arg(arg, "QUERYBUF")
        with self.core.lock:
            buffers = self.channel.buffers
            if b.index >= len(buffers):
                fail(errno.EINVAL, f"QUERYBUF: index {b.index} >= count {len(buffers)}")
            self._write_back(arg, b, buffers[b.index])
        return 0

    def _qbuf(self, arg: bytearray) -> int:
        b = self._buffer_arg(arg, "QBUF")
        ch = self.channel
        with self.core.cond:
            if b.index >= len(ch.buffers):
                fail(errno.EINVAL, f"QBUF: index {b.index} >= count {len(ch.buffers)}")
            rec = ch.buffers[b.index]  # records are allocated all at once: it exists
            if b.memory != abi.V4L2_MEMORY_USERPTR:
                fail(errno.EINVAL, f"QBUF: memory type {b.memory} isn't userptr")
            if b.length != ch.sizeimage:
                fail(
                    errno.EINVAL,
                    f"invalid memory size, length = {b.length} sizeimage = {ch.sizeimage}",
                )
            if rec.state is not BufState.DEQUEUED:
                fail(errno.EINVAL, f"QBUF: buffer {b.index} already in use")
            phys, length = int(b.userptr), int(b.length)
            if not self.core.arena.contains(phys, length):
                arena = self.core.arena
                fail(
                    errno.EFAULT,
                    f"QBUF: m.userptr {phys:#x}+{length:#x} is outside the rmem arena "
                    f"[{arena.base:#x}, {arena.end:#x}); the ISP would DMA over arbitrary RAM",
                )
            for other in ch.buffers:
                if other is not rec and other.state is not BufState.DEQUEUED and other.phys == phys:
                    fail(
                        errno.EINVAL,
                        f"QBUF: physical address {phys:#x} is already queued as buffer "
                        f"{other.index}; frame-done matching needs distinct addresses",
                    )
            rec.field, rec.flags = int(b.field), int(b.flags) & _QBUF_FLAG_MASK
            rec.tv_sec, rec.tv_usec = int(b.tv_sec), int(b.tv_usec)
            rec.phys, rec.length = phys, length
            rec.state, rec.error = BufState.QUEUED, False
            ch.queued.append(rec)
            self.core.cond.notify_all()
        b.flags = abi.V4L2_BUF_FLAG_QUEUED
        arg[:_BUF_SIZE] = bytes(b)
        return 0

    def _dqbuf(self, arg: bytearray) -> int:
        b = self._buffer_arg(arg, "DQBUF")
        ch = self.channel
        core = self.core
        with core.cond:
            if not ch.streaming:
                fail(errno.EINVAL, "Streaming off, will not wait for buffers")
            epoch = ch.epoch
            # Blocks like the driver: O_NONBLOCK is ignored, only STREAMOFF (or the fake's
            # unplug and shutdown) ends the wait.
            while not ch.done:
                if core.faults.is_unplugged(self.path):
                    fail(errno.ENODEV, f"{self.path}: device unplugged while waiting")
                if core.shut_down:
                    fail(errno.EINVAL, f"{self.path}: simulator shut down while waiting")
                if ch.epoch != epoch or not ch.streaming:
                    fail(errno.EINVAL, f"{self.path}: streaming stopped while waiting")
                core.cond.wait()
            rec = ch.done.popleft()
            self._write_back(arg, b, rec)  # still DONE here: flags DONE (| ERROR)
            rec.state = BufState.DEQUEUED
        return 0

    # -- streaming ------------------------------------------------------------------------------
    def _streamon(self, arg: bytearray) -> int:
        ch = self.channel
        self._prepare_sensor()
        with self.core.cond:
            if ch.state != ChannelState.OPENED:
                fail(errno.EPERM, f"framechan{ch.index}: state {int(ch.state)} invalid")
            kind = abi.int_of(need(arg, 4, "STREAMON"))
            if kind != abi.V4L2_BUF_TYPE_VIDEO_CAPTURE:
                fail(errno.EINVAL, f"STREAMON: type {kind} is not VIDEO_CAPTURE (1)")
            if ch.streaming:
                fail(errno.EBUSY, "STREAMON: already streaming")
            ch.state = ChannelState.STREAMING
            ch.starved_since = None
            self.core.engine.ensure_running()
            self.core.cond.notify_all()
        return 0

    def _prepare_sensor(self) -> None:
        """Let the sensor model build this channel's picture now, in the caller's thread and
        outside the core lock, so the engine renders the first frame in time. Realtime only:
        under the virtual clock nothing is late, and the time spent here would delay this
        channel past the start gate that gives channels enabled together the same first frame."""
        if self.core.config.clock != "realtime":
            return
        with self.core.cond:
            sensor, fmt = self.core.sensor, self.channel.fmt
            controls = self.core.controls.picture()
        if sensor is None or fmt is None or not is_nv12(fmt):
            return
        try:
            sensor.prepare(geometry_of(fmt, sensor.width, sensor.height), controls)
        except Exception as exc:  # a geometry the sensor refuses fails its frames, not STREAMON
            log.debug("framechan%d: nothing prepared: %s", self.channel.index, exc)

    def _streamoff(self, arg: bytearray) -> int:
        ch = self.channel
        with self.core.cond:
            kind = abi.int_of(need(arg, 4, "STREAMOFF"))
            if kind != abi.V4L2_BUF_TYPE_VIDEO_CAPTURE:
                fail(errno.EINVAL, f"STREAMOFF: type {kind} is not VIDEO_CAPTURE (1)")
            if not ch.streaming:
                fail(errno.EINVAL, "STREAMOFF: not streaming")
            ch.cancel()
            ch.state = ChannelState.OPENED
            self.core.cond.notify_all()  # DQBUF waiters return EINVAL
        return 0

    def _set_banks(self, arg: bytearray) -> int:
        # Event 0x03000008 is ignored by the 1.1.6 core: only the argument is read.
        banks = abi.int_of(need(arg, 4, "SET_BANKS"))
        with self.core.lock:
            self.channel.banks = banks
        return 0

    def _listen(self, arg: bytearray) -> int:
        need(arg, 4, "LISTEN")
        ch = self.channel
        core = self.core
        with core.cond:
            # No streaming check: the driver waits for a frame even after STREAMOFF (§7).
            while ch.completions == 0:
                if core.faults.is_unplugged(self.path):
                    fail(errno.ENODEV, f"{self.path}: device unplugged while waiting")
                if core.shut_down:
                    fail(errno.EINTR, f"{self.path}: simulator shut down while waiting")
                core.cond.wait()
            ready = ch.completions
            ch.completions -= 1
        arg[:4] = abi.int_arg(ready)
        return 0
