"""The process' allocator over the boot-reserved DMA arena (``rmem=``), as libimp runs it.

No ioctl allocates memory on T31 (kernel_abi.md §4): libimp maps the whole arena once and
carves it up in user space, handing physical addresses to the drivers and virtual ones to the
application. This module does the same through the Kernel seam, so the simulator exercises the
identical path.
"""

from __future__ import annotations

import bisect
import ctypes
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

from imp.errors import Busy, DeviceError, InvalidArgument, InvalidState, OutOfMemory
from imp.kernel.abi import (
    DMA_BIDIRECTIONAL,
    DMA_FROM_DEVICE,
    DMA_TO_DEVICE,
    MIPS_O_RDWR,
    MIPS_O_SYNC,
    RMEM_CMD_FLUSH_CACHE,
    RmemFlush,
)
from imp.kernel.seam import Kernel

log = logging.getLogger("imp.core.alloc")

RMEM_DEVICE = "/dev/rmem"
MEM_DEVICE = "/dev/mem"
CMDLINE_PATH = "/proc/cmdline"

# Blocks are reserved in whole cache lines (XBurst1: 32 bytes) so that invalidating one block's
# cache lines before the CPU reads DMA'd data can never discard CPU writes to a neighbour.
_GRANULE = 32

_NUM = r"(?:0[xX][0-9a-fA-F]+|[0-9]+)"
_RMEM_RE = re.compile(rf"(?:^|\s)rmem=({_NUM})([kKmMgG]?)@({_NUM})([kKmMgG]?)(?=\s|$)")
_SUFFIX = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def _memparse(digits: str, suffix: str) -> int:
    # The kernel's memparse(): strtoull with base 0 (so a leading 0 means octal) plus K/M/G.
    if digits[:2] in ("0x", "0X"):
        value = int(digits[2:], 16)
    elif len(digits) > 1 and digits[0] == "0":
        value = int(digits[1:], 8)
    else:
        value = int(digits, 10)
    return value * _SUFFIX[suffix.lower()]


def parse_rmem_cmdline(cmdline: str) -> tuple[int, int]:
    """Return ``(phys, size)`` of the ``rmem=<size>[K|M|G]@<phys>`` argument.

    The last occurrence wins, as with any kernel parameter given twice.
    """
    matches = list(_RMEM_RE.finditer(cmdline))
    if not matches:
        raise DeviceError(
            2,
            f"no rmem=<size>[K|M]@<phys> in {CMDLINE_PATH} ({cmdline.strip()!r}): the "
            "bootloader must reserve the DMA arena, e.g. 'mem=99M@0x0 rmem=29M@0x6300000'",
        )
    m = matches[-1]
    try:
        size = _memparse(m.group(1), m.group(2))
        phys = _memparse(m.group(3), m.group(4))
    except ValueError as exc:
        raise DeviceError(22, f"malformed {m.group(0).strip()!r} in {CMDLINE_PATH}") from exc
    if size <= 0:
        raise DeviceError(22, f"{m.group(0).strip()!r} in {CMDLINE_PATH} reserves no memory")
    return phys, size


@dataclass(frozen=True, eq=False)
class Block:
    """One allocation. Identity-compared: two blocks are never "equal" unless they are one."""

    phys: int
    size: int
    addr: int
    view: memoryview
    name: str


def _align_up(value: int, align: int) -> int:
    return (value + align - 1) & ~(align - 1)


class RmemAllocator:
    """Allocator over the mapped rmem arena; phys <-> virt translation; cache maintenance."""

    def __init__(self, kernel: Kernel, phys: int, size: int) -> None:
        """Map ``size`` bytes of the arena at physical address ``phys`` (see :meth:`open`)."""
        if size <= 0 or phys < 0:
            raise InvalidArgument(f"bad rmem arena: size {size} at phys {phys:#x}")
        self._kernel = kernel
        self._phys = phys
        self._size = size
        self._lock = threading.Lock()
        self._closed = False
        if kernel.exists(RMEM_DEVICE):
            self._path, flags, self._uncached = RMEM_DEVICE, MIPS_O_RDWR, False
        else:
            self._path, flags, self._uncached = MEM_DEVICE, MIPS_O_RDWR | MIPS_O_SYNC, True
            log.warning("%s missing: mapping the arena uncached via %s", RMEM_DEVICE, MEM_DEVICE)
        try:
            self._fd = kernel.open(self._path, flags)
        except OSError as exc:
            raise DeviceError(exc.errno or 0, f"cannot open {self._path}: {exc.strerror}") from exc
        try:
            mapped = kernel.mmap(self._fd, size, phys)
        except OSError as exc:
            kernel.close(self._fd)
            raise DeviceError(
                exc.errno or 0,
                f"cannot mmap {size:#x} bytes at phys {phys:#x} from {self._path}: {exc.strerror}",
            ) from exc
        self._mapped = mapped
        base = mapped if mapped.format == "B" and mapped.ndim == 1 else mapped.cast("B")
        if len(base) != size or base.readonly:
            kernel.unmap(mapped)
            kernel.close(self._fd)
            raise DeviceError(
                22,
                f"{self._path} mapped {len(base)} bytes (readonly={base.readonly}), "
                f"expected {size} writable bytes",
            )
        self._base = base
        # Holding a ctypes object over the mapping both yields its address and pins the buffer
        # export, so the address stays valid for the allocator's life.
        self._anchor: ctypes.c_char | None = ctypes.c_char.from_buffer(base)
        self._virt = ctypes.addressof(self._anchor)
        # Free list: sorted, non-adjacent (start offset, length) runs.
        self._free: list[tuple[int, int]] = [(0, size)]
        # Live blocks by offset: (block, reserved length).
        self._live: dict[int, tuple[Block, int]] = {}

    @classmethod
    def open(cls, kernel: Kernel) -> RmemAllocator:
        """Find the arena in ``/proc/cmdline`` and map it (``/dev/rmem``, else ``/dev/mem``)."""
        try:
            cmdline = kernel.read_text(CMDLINE_PATH)
        except OSError as exc:
            raise DeviceError(
                exc.errno or 0, f"cannot read {CMDLINE_PATH} to find the rmem arena: {exc}"
            ) from exc
        phys, size = parse_rmem_cmdline(cmdline)
        return cls(kernel, phys, size)

    # --- properties ---------------------------------------------------------------------------
    @property
    def phys_base(self) -> int:
        return self._phys

    @property
    def virt_base(self) -> int:
        return self._virt

    @property
    def size(self) -> int:
        return self._size

    @property
    def device(self) -> str:
        """The node the arena is mapped from: ``/dev/rmem`` or ``/dev/mem``."""
        return self._path

    @property
    def uncached(self) -> bool:
        """True for the ``/dev/mem`` fallback, whose mapping needs no cache maintenance."""
        return self._uncached

    @property
    def closed(self) -> bool:
        return self._closed

    # --- allocation ---------------------------------------------------------------------------
    def alloc(self, size: int, name: str = "", align: int = 4096) -> Block:
        """Reserve ``size`` bytes whose *physical* address is a multiple of ``align``."""
        if size <= 0:
            raise InvalidArgument(f"allocation size must be > 0 bytes, got {size} ({name!r})")
        if align <= 0 or align & (align - 1):
            raise InvalidArgument(f"alignment must be a power of two, got {align} ({name!r})")
        reserve = _align_up(size, _GRANULE)
        with self._lock:
            self._check_open()
            best: tuple[int, int, int] | None = None  # (waste, free index, aligned offset)
            for i, (start, length) in enumerate(self._free):
                off = _align_up(self._phys + start, align) - self._phys
                waste = length - (off - start) - reserve
                if waste >= 0 and (best is None or waste < best[0]):
                    best = (waste, i, off)
                    if waste == 0:
                        break
            if best is None:
                free = sum(n for _, n in self._free)
                largest = max((n for _, n in self._free), default=0)
                raise OutOfMemory(
                    f"rmem: cannot allocate {size} bytes aligned to {align} for "
                    f"{name or 'an unnamed block'!r}: largest free block is {largest} bytes, "
                    f"{free} of {self._size} bytes free in {len(self._free)} pieces; free "
                    "unused buffers (fewer nrVBs / smaller frames) or boot with a larger rmem="
                )
            _, i, off = best
            start, length = self._free[i]
            pieces = []
            if off > start:
                pieces.append((start, off - start))
            end = off + reserve
            if end < start + length:
                pieces.append((end, start + length - end))
            self._free[i : i + 1] = pieces
            block = Block(
                phys=self._phys + off,
                size=size,
                addr=self._virt + off,
                view=self._base[off : off + size],
                name=name or f"block@{self._phys + off:#x}",
            )
            self._live[off] = (block, reserve)
            return block

    def free(self, block: Block) -> None:
        """Return ``block`` to the arena; its ``view`` is released when nothing else wraps it."""
        with self._lock:
            self._check_open()
            off = block.phys - self._phys
            entry = self._live.get(off)
            if entry is None or entry[0] is not block:
                raise InvalidArgument(
                    f"free of {block.name!r} (phys {block.phys:#x}, {block.size} bytes): not a "
                    "live block of this allocator (double free, or allocated elsewhere)"
                )
            del self._live[off]
            self._insert_free(off, entry[1])
        try:
            # Turns a use-after-free through this view into an exception instead of silent
            # corruption of whatever gets allocated there next.
            block.view.release()
        except BufferError:
            pass  # numpy arrays still wrap it; they keep working on now-free memory

    def _insert_free(self, off: int, length: int) -> None:
        i = bisect.bisect_left(self._free, (off, 0))
        if i > 0:
            pstart, plen = self._free[i - 1]
            if pstart + plen == off:
                i -= 1
                off, length = pstart, plen + length
                del self._free[i]
        if i < len(self._free):
            nstart, nlen = self._free[i]
            if off + length == nstart:
                length += nlen
                del self._free[i]
        self._free.insert(i, (off, length))

    # --- translation --------------------------------------------------------------------------
    def virt_to_phys(self, addr: int) -> int:
        if not self._virt <= addr < self._virt + self._size:
            raise InvalidArgument(
                f"virtual address {addr:#x} is outside the rmem mapping "
                f"[{self._virt:#x}, {self._virt + self._size:#x})"
            )
        return self._phys + (addr - self._virt)

    def phys_to_virt(self, phys: int) -> int:
        if not self._phys <= phys < self._phys + self._size:
            raise InvalidArgument(
                f"physical address {phys:#x} is outside the rmem arena "
                f"[{self._phys:#x}, {self._phys + self._size:#x})"
            )
        return self._virt + (phys - self._phys)

    def view(self, phys: int, length: int) -> memoryview:
        """A writable view of ``length`` bytes of the arena at physical address ``phys``."""
        off = phys - self._phys
        if length < 0 or off < 0 or off + length > self._size:
            raise InvalidArgument(
                f"range phys {phys:#x} + {length} bytes is outside the rmem arena "
                f"[{self._phys:#x}, {self._phys + self._size:#x})"
            )
        with self._lock:
            self._check_open()
            return self._base[off : off + length]

    def block_at(self, phys: int) -> Block | None:
        """The live block containing physical address ``phys``, if any."""
        with self._lock:
            return self._find_live(phys - self._phys)

    def _find_live(self, off: int) -> Block | None:
        for start, (block, _) in self._live.items():
            if start <= off < start + block.size:
                return block
        return None

    # --- cache maintenance --------------------------------------------------------------------
    def flush(
        self,
        block_or_addr: Block | int,
        length: int | None = None,
        direction: int = DMA_TO_DEVICE,
    ) -> None:
        """Sync the CPU cache for a range of the mapping (RMEM_CMD_FLUSH_CACHE).

        ``DMA_TO_DEVICE`` before hardware reads CPU-written data, ``DMA_FROM_DEVICE`` before the
        CPU reads data the hardware wrote. With an address and no length, the rest of the block
        holding that address is synced.
        """
        if direction not in (DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE):
            raise InvalidArgument(
                f"flush direction must be DMA_BIDIRECTIONAL (0), DMA_TO_DEVICE (1) or "
                f"DMA_FROM_DEVICE (2), got {direction}"
            )
        if isinstance(block_or_addr, Block):
            addr = block_or_addr.addr
            if length is None:
                length = block_or_addr.size
        else:
            addr = int(block_or_addr)
            if length is None:
                block = self.block_at(self.virt_to_phys(addr))
                if block is None:
                    raise InvalidArgument(
                        f"flush of {addr:#x}: not inside a live block; pass the length"
                    )
                length = block.addr + block.size - addr
        if length < 0 or not (self._virt <= addr and addr + length <= self._virt + self._size):
            raise InvalidArgument(
                f"flush range {addr:#x} + {length} bytes is outside the rmem mapping "
                f"[{self._virt:#x}, {self._virt + self._size:#x})"
            )
        if self._uncached or length == 0:
            return
        # The ABI field is 32 bits wide: on the board every user address fits; a 64-bit host
        # (simulator) gets the low half, which the fake driver matches against its mapping.
        arg = RmemFlush(addr=addr & 0xFFFFFFFF, len=length, dir=direction).pack()
        with self._lock:
            self._check_open()
            fd = self._fd
        try:
            self._kernel.ioctl(fd, RMEM_CMD_FLUSH_CACHE, arg)
        except OSError as exc:
            raise DeviceError(
                exc.errno or 0,
                f"RMEM_CMD_FLUSH_CACHE of {length} bytes at {addr:#x} failed: {exc.strerror}",
            ) from exc

    # --- bookkeeping --------------------------------------------------------------------------
    def stats(self) -> dict[str, int]:
        """``total``, ``used``, ``free``, ``largest_free`` (bytes) and live ``blocks`` count.

        ``used`` counts reserved bytes (sizes rounded to the cache line), so used + free = total.
        """
        with self._lock:
            free = sum(n for _, n in self._free)
            return {
                "total": self._size,
                "used": self._size - free,
                "free": free,
                "largest_free": max((n for _, n in self._free), default=0),
                "blocks": len(self._live),
            }

    def live_blocks(self) -> list[Block]:
        """The blocks not freed yet, in address order."""
        with self._lock:
            return [self._live[off][0] for off in sorted(self._live)]

    def close(self, force: bool = False) -> None:
        """Unmap the arena and close the device. Idempotent.

        Refuses (Busy) while blocks are live unless ``force``. Memoryviews or numpy arrays of the
        arena still referenced by the application keep the mapping alive until they are dropped
        (never a dangling pointer), which is logged.
        """
        with self._lock:
            if self._closed:
                return
            if self._live and not force:
                names = ", ".join(
                    f"{b.name} ({b.size} B @ {b.phys:#x})"
                    for b, _ in (self._live[o] for o in sorted(self._live))
                )
                raise Busy(
                    f"rmem arena still has {len(self._live)} live block(s): {names}; free them "
                    "(destroy channels / pools) first or close(force=True)"
                )
            for block, _ in self._live.values():
                try:
                    block.view.release()
                except BufferError:
                    pass
            self._live.clear()
            self._anchor = None
            if self._base is not self._mapped:
                try:
                    self._base.release()
                except BufferError:
                    pass
            try:
                self._kernel.unmap(self._mapped)
            except BufferError:
                # Some memoryview / numpy array of the arena is still alive; it keeps the
                # mapping pinned and the mapping goes away with the last such view.
                log.warning(
                    "rmem arena views still referenced at close: the mapping stays until the "
                    "last frame array / Block.view is dropped"
                )
            self._closed = True
            self._free = []
            try:
                self._kernel.close(self._fd)
            except OSError as exc:
                log.warning("closing %s: %s", self._path, exc)

    def _check_open(self) -> None:
        if self._closed:
            raise InvalidState("the rmem allocator is closed (IMP_System_Exit ran)")

    def __enter__(self) -> RmemAllocator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        s = self.stats() if not self._closed else None
        state = "closed" if s is None else f"{s['used']}/{s['total']} B used, {s['blocks']} blocks"
        return f"<RmemAllocator {self._path} phys {self._phys:#x}+{self._size:#x}: {state}>"


__all__ = ["Block", "RmemAllocator", "parse_rmem_cmdline"]
