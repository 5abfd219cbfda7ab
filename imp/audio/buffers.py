"""Audio frame memory in rmem: one block per channel, cut into equal slots.

Frames live in the reserved arena as on the board, so ``virAddr`` / ``phyAddr`` handed to a
C-style caller are real (the kernel's GET_AI_STREAM writes straight into them) and the numpy
views handed to Python callers are zero-copy.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from imp import runtime
from imp.core.alloc import Block

__all__ = ["Slot", "SlotPool"]


@dataclass(eq=False)
class Slot:
    """One frame buffer: ``addr`` (virtual), ``phys`` and an int16 view of ``size`` bytes."""

    index: int
    addr: int
    phys: int
    size: int
    samples: np.ndarray


class SlotPool:
    """``count`` slots of ``size`` bytes (rounded up to 8) in one rmem block; thread-safe."""

    def __init__(self, count: int, size: int, name: str) -> None:
        self.size = size
        stride = (size + 7) & ~7
        self._allocator = runtime.allocator()
        self._block: Block | None = self._allocator.alloc(stride * count, name=name)
        block = self._block
        words = np.frombuffer(block.view, dtype=np.int16)
        self.slots = [
            Slot(
                i,
                block.addr + i * stride,
                block.phys + i * stride,
                size,
                words[i * stride // 2 : (i * stride + size) // 2],
            )
            for i in range(count)
        ]
        self._free = list(self.slots)
        self._cond = threading.Condition()
        self._closed = False

    def take(self, timeout: float | None = None) -> Slot | None:
        """A free slot; waits up to ``timeout`` s (None: until one is free or the pool closes)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._free or self._closed, timeout):
                return None
            if self._closed:
                return None
            return self._free.pop(0)

    def give(self, slot: Slot) -> None:
        with self._cond:
            if slot not in self._free:
                self._free.append(slot)
            self._cond.notify_all()

    def by_address(self, addr: int | None, phys: int | None) -> Slot | None:
        for slot in self.slots:
            if (addr is not None and slot.addr == addr) or (phys is not None and slot.phys == phys):
                return slot
        return None

    @property
    def free_count(self) -> int:
        with self._cond:
            return len(self._free)

    def abort(self) -> None:
        """Wake every waiter in :meth:`take` (it returns None from now on)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def close(self) -> None:
        """Wake waiters and return the block to rmem."""
        self.abort()
        with self._cond:
            block, self._block = self._block, None
        self.slots = []
        self._free = []
        if block is not None:
            self._allocator.free(block)
