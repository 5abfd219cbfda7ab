"""The Kernel seam over the real Linux syscalls of a T31 board."""

from __future__ import annotations

import fcntl
import mmap
import os

# On MIPS the open flags we are given are already the native values; on other hosts they must be
# translated (only RDWR/NONBLOCK/CLOEXEC/SYNC are used) so the same code can be exercised.
_MIPS_TO_HOST = {
    0x2: os.O_RDWR,
    0x80: os.O_NONBLOCK,
    0x80000: getattr(os, "O_CLOEXEC", 0),
    0x4010: os.O_SYNC,
}


def _host_flags(flags: int) -> int:
    out = flags & 0x3  # access mode bits are identical everywhere
    for mips_bit, host_bit in _MIPS_TO_HOST.items():
        if mips_bit != 0x2 and flags & mips_bit == mips_bit:
            out |= host_bit
    return out


class LinuxKernel:
    """Real syscalls. Used when ``/dev/tx-isp`` exists (or ``IMP_PLATFORM=t31``)."""

    name = "linux"

    def __init__(self) -> None:
        self._maps: dict[int, mmap.mmap] = {}

    def open(self, path: str, flags: int) -> int:
        return os.open(path, _host_flags(flags))

    def close(self, fd: int) -> None:
        os.close(fd)

    def ioctl(self, fd: int, cmd: int, arg: bytearray) -> int:
        # mutate_flag=True: the kernel's copy_to_user lands in ``arg``.
        return fcntl.ioctl(fd, cmd, arg, True)

    def mmap(self, fd: int, length: int, offset: int) -> memoryview:
        m = mmap.mmap(fd, length, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=offset)
        view = memoryview(m)
        self._maps[id(view)] = m
        return view

    def unmap(self, view: memoryview) -> None:
        m = self._maps.pop(id(view), None)
        view.release()
        if m is not None:
            m.close()

    def read_text(self, path: str) -> str:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def exists(self, path: str) -> bool:
        return os.path.exists(path)
