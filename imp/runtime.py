"""Process-wide resources shared by the modules: the kernel and the rmem allocator.

libimp initialises its allocator on demand (``IMP_ISP_AddSensor`` already needs DMA memory for
the ISP work buffer, before ``IMP_System_Init``), so both are created lazily and dropped again by
:func:`release_if_idle` once nothing uses them.
"""

from __future__ import annotations

import threading

from imp.core.alloc import RmemAllocator
from imp.kernel import current_kernel, release_kernel
from imp.kernel.seam import Kernel

_lock = threading.RLock()
_allocator: RmemAllocator | None = None


def kernel() -> Kernel:
    return current_kernel()


def allocator() -> RmemAllocator:
    """The rmem allocator, mapping the arena on first use."""
    global _allocator
    with _lock:
        if _allocator is None:
            _allocator = RmemAllocator.open(current_kernel())
        return _allocator


def release_if_idle() -> None:
    """Unmap the arena when no block is live, then drop the kernel if no device is open."""
    global _allocator
    with _lock:
        if _allocator is not None and _allocator.stats()["blocks"] == 0:
            _allocator.close()
            _allocator = None
        if _allocator is None:
            release_kernel()
