"""The Kernel seam: the only way `imp` reaches the hardware.

On a T31 board it is :class:`~imp.kernel.linux.LinuxKernel` (``os.open`` / ``fcntl.ioctl`` /
``mmap``); on a PC it is ``kernel_stubs.SimKernel``, an in-process fake of the same drivers that
speaks the same bytes. Errors are ``OSError`` with the driver's errno, exactly as a syscall fails.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Kernel(Protocol):
    """What user space needs from the kernel. All methods raise ``OSError(errno, msg)``."""

    name: str

    def open(self, path: str, flags: int) -> int:
        """Open a device node; ``flags`` are the MIPS open flags (see ``abi.MIPS_O_*``)."""
        ...

    def close(self, fd: int) -> None: ...

    def ioctl(self, fd: int, cmd: int, arg: bytearray) -> int:
        """Issue ``cmd`` with ``arg`` as the in/out argument buffer (mutated in place)."""
        ...

    def mmap(self, fd: int, length: int, offset: int) -> memoryview:
        """Map ``length`` bytes at ``offset`` (for /dev/rmem: the physical address).

        The returned memoryview is writable; ``unmap`` releases it.
        """
        ...

    def unmap(self, view: memoryview) -> None: ...

    def read_text(self, path: str) -> str:
        """Read a small proc/sys file (``/proc/cmdline``, ``/proc/cpuinfo``)."""
        ...

    def exists(self, path: str) -> bool: ...
