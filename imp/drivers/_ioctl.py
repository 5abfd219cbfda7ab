"""Turning a failed ioctl into a DeviceError that names the device and the command."""

from __future__ import annotations

import ctypes
from typing import TypeVar

from imp.errors import DeviceError
from imp.kernel.seam import Kernel

S = TypeVar("S", bound=ctypes.Structure)


def call(kernel: Kernel, fd: int, cmd: int, arg: bytearray, what: str) -> bytearray:
    """Issue the ioctl; on failure raise DeviceError(errno, "<what>: <driver message>")."""
    try:
        kernel.ioctl(fd, cmd, arg)
    except OSError as exc:
        raise DeviceError(exc.errno or 0, f"{what}: {exc.strerror or exc}") from exc
    return arg


def call_struct(kernel: Kernel, fd: int, cmd: int, struct: S, what: str) -> S:
    """ioctl with a ctypes layout as the in/out argument; returns the updated layout."""
    buf = bytearray(bytes(struct))
    call(kernel, fd, cmd, buf, what)
    return type(struct).from_buffer_copy(bytes(buf))
