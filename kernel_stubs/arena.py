"""The fake reserved memory ("rmem"): host memory standing for a range of physical addresses.

The ISP writes frames here and user space maps it through ``/dev/rmem``. Both see the same
bytes, as the DMA engine and the CPU see the same RAM on the board. The backing is one
anonymous mapping that never moves, so ``address`` is a real pointer and ``virAddr`` values
that user code derives from it can be dereferenced with ctypes.
"""

from __future__ import annotations

import numpy as np

from imp.kernel.lowmem import LowBuffer

__all__ = ["Arena"]


class Arena:
    """Physical range [base, base + size) backed by an anonymous mapping."""

    def __init__(self, base: int, size: int) -> None:
        if size <= 0:
            raise ValueError(f"arena size {size} must be positive")
        self.base = base
        self.size = size
        # Below 4 GiB: the T31 ABI keeps user addresses in 32-bit fields (IMPFrameInfo.virAddr,
        # IMPEncoderStream.virAddr), and they must be real pointers on a 64-bit PC too. The
        # mapping lives as long as the arena (never unmapped under a live view).
        self._low = LowBuffer(size)
        self._map = self._low.view
        self.address: int = self._low.addr
        self._bytes = np.frombuffer(self._map, dtype=np.uint8)

    @property
    def end(self) -> int:
        return self.base + self.size

    def contains(self, phys: int, length: int) -> bool:
        """True if [phys, phys + length) lies inside the arena (length 0 counts as outside)."""
        return length > 0 and self.base <= phys and phys + length <= self.end

    def _offset(self, phys: int, length: int) -> int:
        if not self.contains(phys, length):
            raise ValueError(
                f"physical range {phys:#x}+{length:#x} is outside the rmem arena "
                f"[{self.base:#x}, {self.end:#x})"
            )
        return phys - self.base

    def view(self, phys: int, length: int) -> memoryview:
        """Writable bytes of [phys, phys + length)."""
        off = self._offset(phys, length)
        return memoryview(self._map)[off : off + length]

    def array(self, phys: int, rows: int, cols: int) -> np.ndarray:
        """A (rows, cols) uint8 numpy view at ``phys`` with row stride ``cols`` (no copy)."""
        off = self._offset(phys, rows * cols)
        plane: np.ndarray = self._bytes[off : off + rows * cols].reshape(rows, cols)
        return plane

    def virt(self, phys: int) -> int:
        """The host address of physical address ``phys``."""
        return self.address + self._offset(phys, 1)

    def phys_of(self, address: int) -> int | None:
        """The physical address behind host address ``address``, None if not in the arena."""
        off = address - self.address
        return self.base + off if 0 <= off < self.size else None
