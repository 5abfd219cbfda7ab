"""Test doubles shared by the unit tests."""

from __future__ import annotations

import errno
import mmap


class FakeRmemKernel:
    """/proc/cmdline + /dev/rmem (or only /dev/mem) backed by an anonymous mapping."""

    name = "fake"

    def __init__(self, cmdline: str = "rmem=4M@0x6300000", has_rmem: bool = True) -> None:
        self.cmdline = cmdline
        self.devices = {"/dev/rmem", "/dev/mem"} if has_rmem else {"/dev/mem"}
        self.opened: dict[int, tuple[str, int]] = {}
        self.ioctls: list[tuple[int, int, bytes]] = []
        self.maps: dict[int, mmap.mmap] = {}
        self.mapped: list[tuple[int, int]] = []
        self._next_fd = 3

    def open(self, path: str, flags: int) -> int:
        if path not in self.devices:
            raise OSError(errno.ENOENT, f"no such device {path}")
        fd = self._next_fd
        self._next_fd += 1
        self.opened[fd] = (path, flags)
        return fd

    def close(self, fd: int) -> None:
        if self.opened.pop(fd, None) is None:
            raise OSError(errno.EBADF, "bad fd")

    def ioctl(self, fd: int, cmd: int, arg: bytearray) -> int:
        if fd not in self.opened:
            raise OSError(errno.EBADF, "bad fd")
        self.ioctls.append((fd, cmd, bytes(arg)))
        return 0

    def mmap(self, fd: int, length: int, offset: int) -> memoryview:
        if fd not in self.opened:
            raise OSError(errno.EBADF, "bad fd")
        m = mmap.mmap(-1, length)
        view = memoryview(m)
        self.maps[id(view)] = m
        self.mapped.append((offset, length))
        return view

    def unmap(self, view: memoryview) -> None:
        m = self.maps.pop(id(view))
        view.release()
        m.close()

    def read_text(self, path: str) -> str:
        if path != "/proc/cmdline":
            raise OSError(errno.ENOENT, path)
        return self.cmdline

    def exists(self, path: str) -> bool:
        return path in self.devices
