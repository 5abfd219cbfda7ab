"""``/dev/rmem``: mmap of the reserved arena by physical address, plus cache sync (§4)."""

from __future__ import annotations

import errno
import mmap

from imp.kernel import abi
from kernel_stubs.arena import Arena
from kernel_stubs.devices.base import Device, OpenFile, fail, need

__all__ = ["RmemDevice"]


class RmemDevice(Device):
    path = "/dev/rmem"

    def __init__(self, arena: Arena) -> None:
        self.arena = arena

    def mmap(self, file: OpenFile, length: int, offset: int) -> memoryview:
        # vm_pgoff goes straight to io_remap_pfn_range: the offset is the physical address.
        if offset % mmap.PAGESIZE:
            fail(errno.EINVAL, f"rmem mmap: offset {offset:#x} is not page aligned")
        if not self.arena.contains(offset, length):
            fail(
                errno.EINVAL,
                f"rmem mmap: {offset:#x}+{length:#x} is outside the reserved arena "
                f"[{self.arena.base:#x}, {self.arena.end:#x})",
            )
        view = self.arena.view(offset, length)
        file.maps[id(view)] = (self.arena.virt(offset), length)
        return view

    def ioctl(self, file: OpenFile, cmd: int, arg: bytearray) -> int:
        if cmd != abi.RMEM_CMD_FLUSH_CACHE:
            fail(errno.EINVAL, f"rmem: unknown ioctl {cmd:#010x}")
        need(arg, 12, "RMEM_CMD_FLUSH_CACHE")
        addr = abi.int_of(arg[0:4], signed=False)
        length = abi.int_of(arg[4:8], signed=False)
        direction = abi.int_of(arg[8:12], signed=False)
        if direction not in (abi.DMA_BIDIRECTIONAL, abi.DMA_TO_DEVICE, abi.DMA_FROM_DEVICE):
            fail(errno.EINVAL, f"rmem flush: dir {direction} is not 0, 1 or 2")
        # The struct holds a 32-bit address; a 64-bit host's mapping is matched modulo 2**32,
        # which is unambiguous because no mapping is 4 GiB long.
        for start, size in file.maps.values():
            off = (addr - start) & 0xFFFFFFFF
            if off < size and off + length <= size:
                return 0  # the arena is coherent host memory: nothing to write back
        fail(errno.EINVAL, f"rmem flush: {addr:#x}+{length:#x} is not inside a mapping of this fd")
