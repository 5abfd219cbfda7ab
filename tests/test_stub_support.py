"""Helpers for the kernel_stubs tests: raw-ioctl plumbing, no imp code above the ABI.

Everything here speaks bytes through ``SimKernel.ioctl`` exactly as user space would, so the
tests read as the driver protocol they check. (No tests in this module.)
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from imp.kernel import abi
from kernel_stubs import SimConfig, SimKernel

TXISP = "/dev/tx-isp"
RMEM = "/dev/rmem"


def chan(i: int) -> str:
    return f"/dev/framechan{i}"


def expect_errno(err: int, fn: Callable[..., Any], *args: Any) -> OSError:
    """Run fn(*args), which must fail with OSError(err); returns the exception."""
    with pytest.raises(OSError) as info:
        fn(*args)
    assert info.value.errno == err, f"expected {errno.errorcode[err]}, got {info.value!r}"
    return info.value


def fmt_bytes(
    width: int,
    height: int,
    pixelformat: int = abi.V4L2_PIX_FMT_NV12,
    *,
    type_: int = 1,
    field_: int = 0,
    colorspace: int = 8,
    scaler: tuple[int, int] | None = None,
    crop: tuple[int, int, int, int] | None = None,
) -> bytearray:
    f = abi.FrameImageFormat()
    f.type = type_
    f.pix.width, f.pix.height, f.pix.pixelformat = width, height, pixelformat
    f.pix.field, f.pix.colorspace = field_, colorspace
    if scaler is not None:
        f.scaler_enable = 1
        f.scaler_out_width, f.scaler_out_height = scaler
    if crop is not None:
        f.crop_enable = 1
        f.crop_left, f.crop_top, f.crop_width, f.crop_height = crop
    f.rate_bits, f.rate_mask = 0, 1
    return f.pack()


def reqbufs_bytes(count: int, memory: int = abi.V4L2_MEMORY_USERPTR) -> bytearray:
    return abi.V4L2RequestBuffers(count=count, type=1, memory=memory).pack()


def buf_bytes(
    index: int = 0, phys: int = 0, length: int = 0, *, type_: int = 1, memory: int = 2
) -> bytearray:
    return abi.V4L2Buffer(
        index=index, type=type_, memory=memory, userptr=phys, length=length
    ).pack()


def parse_buf(arg: bytearray) -> abi.V4L2Buffer:
    return abi.V4L2Buffer.from_buffer_copy(bytes(arg))


def sensor_info(name: str) -> bytearray:
    info = abi.SensorRegisterInfo(name=name.encode(), cbus_type=1)
    return info.pack()


@dataclass
class Board:
    """A SimKernel plus the fds and arena bookkeeping one test needs."""

    kernel: SimKernel
    txisp: int | None = None
    chans: dict[int, int] = field(default_factory=dict)
    sizeimage: dict[int, int] = field(default_factory=dict)
    phys: dict[int, list[int]] = field(default_factory=dict)
    _next_phys: int = 0

    def __post_init__(self) -> None:
        self._next_phys = self.kernel.arena.base

    @property
    def k(self) -> SimKernel:
        return self.kernel

    def alloc(self, size: int) -> int:
        addr = self._next_phys
        self._next_phys += (size + 4095) & ~4095
        assert self._next_phys <= self.kernel.arena.end, "test arena exhausted"
        return addr

    # -- tx-isp ------------------------------------------------------------------------------
    def open_isp(self) -> int:
        self.txisp = self.k.open(TXISP, abi.TX_ISP_OPEN_FLAGS)
        return self.txisp

    def isp(self, cmd: int, arg: bytearray | None = None) -> bytearray:
        assert self.txisp is not None
        buf = arg if arg is not None else abi.int_arg(0)
        self.k.ioctl(self.txisp, cmd, buf)
        return buf

    def add_sensor(self, name: str = "gc2053") -> None:
        self.isp(abi.VIDIOC_REGISTER_SENSOR, sensor_info(name))
        self.isp(abi.VIDIOC_S_INPUT, abi.int_arg(0))

    def start_sensor(self) -> None:
        self.isp(abi.VIDIOC_STREAMON)
        self.isp(abi.VIDIOC_CREATE_SUBDEV_LINKS, abi.int_arg(0))
        self.isp(abi.VIDIOC_LINKS_STREAMON)

    def bring_up(self, name: str = "gc2053") -> None:
        self.open_isp()
        self.add_sensor(name)
        self.start_sensor()

    # -- framechan ---------------------------------------------------------------------------
    def open_chan(self, i: int) -> int:
        fd = self.k.open(chan(i), abi.FRAMECHAN_OPEN_FLAGS)
        self.chans[i] = fd
        return fd

    def fc(self, i: int, cmd: int, arg: bytearray) -> bytearray:
        self.k.ioctl(self.chans[i], cmd, arg)
        return arg

    def set_fmt(self, i: int, width: int, height: int, **kw: Any) -> abi.FrameImageFormat:
        out = self.fc(i, abi.VIDIOC_SET_FRAME_FORMAT, fmt_bytes(width, height, **kw))
        f = abi.FrameImageFormat.from_buffer_copy(bytes(out))
        self.sizeimage[i] = int(f.pix.sizeimage)
        return f

    def reqbufs(self, i: int, count: int) -> int:
        out = self.fc(i, abi.VIDIOC_REQBUFS, reqbufs_bytes(count))
        return int(abi.V4L2RequestBuffers.from_buffer_copy(bytes(out)).count)

    def qbuf(self, i: int, index: int) -> abi.V4L2Buffer:
        arg = buf_bytes(index, self.phys[i][index], self.sizeimage[i])
        return parse_buf(self.fc(i, abi.VIDIOC_QBUF, arg))

    def dqbuf(self, i: int) -> abi.V4L2Buffer:
        return parse_buf(self.fc(i, abi.VIDIOC_DQBUF, buf_bytes()))

    def streamon(self, i: int) -> None:
        self.fc(i, abi.VIDIOC_STREAMON, abi.int_arg(1))

    def streamoff(self, i: int) -> None:
        self.fc(i, abi.VIDIOC_STREAMOFF, abi.int_arg(1))

    def setup_chan(
        self, i: int, width: int, height: int, count: int = 4, stream: bool = True, **kw: Any
    ) -> None:
        """open, SET_FMT, REQBUFS, SET_BANKS, QBUF all, STREAMON: IMP_FrameSource_EnableChn."""
        self.open_chan(i)
        self.set_fmt(i, width, height, **kw)
        assert self.reqbufs(i, count) == count
        self.fc(i, abi.VIDIOC_DEFAULT_CMD_SET_BANKS, abi.int_arg(count))
        self.phys[i] = [self.alloc(self.sizeimage[i]) for _ in range(count)]
        for index in range(count):
            self.qbuf(i, index)
        if stream:
            self.streamon(i)

    def planes(self, i: int, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The (y, uv) numpy views of buffer ``index`` of channel ``i`` in the arena."""
        f = abi.FrameImageFormat.from_buffer_copy(
            bytes(self.fc(i, abi.VIDIOC_GET_FRAME_FORMAT, abi.FrameImageFormat().pack()))
        )
        w, h = int(f.pix.width), int(f.pix.height)
        phys = self.phys[i][index]
        y = self.k.arena.array(phys, h, w)
        uv = self.k.arena.array(phys + abi.nv12_uv_offset(w, h), h // 2, w)
        return y, uv


@contextmanager
def board(**config: Any) -> Iterator[Board]:
    """A fresh SimKernel (virtual clock unless told otherwise), shut down afterwards."""
    config.setdefault("clock", "virtual")
    kernel = SimKernel(SimConfig(**config))
    try:
        yield Board(kernel)
    finally:
        kernel.shutdown()


def in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Run fn in a daemon thread; the dict gets 'result' or 'error' when it ends."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = fn()
        except BaseException as exc:
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out
