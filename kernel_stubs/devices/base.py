"""What every fake driver shares: the open-file record, the device interface, error helpers."""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from typing import NoReturn

__all__ = ["Device", "OpenFile", "fail", "need"]


def fail(err: int, message: str) -> NoReturn:
    """Fail the current call as the driver would: ``OSError(errno, message)``."""
    raise OSError(err, message)


def need(arg: bytearray | None, size: int, what: str) -> bytearray:
    """The argument buffer, or EINVAL if it is missing or shorter than the driver copies.

    The drivers answer a NULL argument with EINVAL ("parameter from user is invalid"); a too
    short buffer is the closest thing user space can hand the seam, so it gets the same answer.
    """
    if arg is None or len(arg) < size:
        got = "NULL" if arg is None else f"{len(arg)} bytes"
        fail(errno.EINVAL, f"{what}: parameter from user is invalid ({got}, needs {size})")
    return arg


@dataclass(eq=False)
class OpenFile:
    """One open file description: what the kernel's ``struct file`` carries for us."""

    fd: int
    path: str
    flags: int
    device: Device
    # Live mappings made through this file (rmem): id(view) -> (host address, length).
    maps: dict[int, tuple[int, int]] = field(default_factory=dict)


class Device:
    """A device node. Subclasses override what their ``file_operations`` provide."""

    path: str

    def open(self, file: OpenFile) -> None:
        """Called by ``open()`` after the fd is allocated; raise OSError to refuse."""

    def release(self, file: OpenFile) -> None:
        """Called by the last ``close()`` of the fd."""

    def ioctl(self, file: OpenFile, cmd: int, arg: bytearray) -> int:
        fail(errno.ENOTTY, f"{self.path}: no ioctl")

    def mmap(self, file: OpenFile, length: int, offset: int) -> memoryview:
        # No .mmap in file_operations: the VFS answers ENODEV.
        fail(errno.ENODEV, f"{self.path}: the driver has no mmap")
