"""The stream buffer of an encoder channel: rmem used as a FIFO of whole pictures.

``IMPEncoderStream`` hands the application ``virAddr``/``phyAddr`` of this buffer, its size
(``streamSize``) and pack offsets into it, so the buffer must be real DMA memory and pictures
must stay where they were written until ReleaseStream. Pictures are freed strictly in the order
they were written (GetStream/ReleaseStream order), which makes a ring the natural layout.

Two layouts:

- contiguous (default): a picture never straddles the end; when it does not fit before the end
  it starts again at offset 0 and the tail end stays unused until the reader catches up. Every
  pack is then one contiguous range, which prudynt relies on (usage.md §0 item 9).
- wrapping (opt-in): the vendor ring, where a picture continues at offset 0 once it reaches the
  end, so a pack may wrap at ``streamSize`` (the vendor ``save_stream`` copes with that).
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

from imp.core.alloc import Block, RmemAllocator
from imp.errors import InvalidArgument, InvalidState


class Region(NamedTuple):
    """Bytes [start, start + length) of the ring, modulo its size in the wrapping layout."""

    start: int
    length: int


class StreamRing:
    """``size`` bytes of rmem holding encoded pictures first-in, first-out."""

    def __init__(self, allocator: RmemAllocator, size: int, name: str, wrap: bool = False) -> None:
        if size <= 0:
            raise InvalidArgument(f"stream buffer size must be > 0 bytes, got {size}")
        self._allocator = allocator
        self._block: Block | None = allocator.alloc(size, name=name)
        self.wrap = wrap
        self.size = size
        self.addr = self._block.addr
        self.phys = self._block.phys
        self._view = self._block.view
        self._regions: deque[Region] = deque()
        self._head = 0  # where the next picture goes
        self._used = 0  # bytes of live pictures (gaps at the end not counted)

    # -- queries -------------------------------------------------------------------------------
    @property
    def used(self) -> int:
        return self._used

    @property
    def count(self) -> int:
        return len(self._regions)

    def fits(self, length: int) -> bool:
        return self._place(length) is not None

    # -- writing -------------------------------------------------------------------------------
    def allocate(self, length: int) -> Region | None:
        """Reserve room for a picture of ``length`` bytes at the write end; None when full."""
        if length <= 0:
            raise InvalidArgument(f"picture length must be > 0 bytes, got {length}")
        self._check_open()
        start = self._place(length)
        if start is None:
            return None
        region = Region(start, length)
        self._regions.append(region)
        self._head = (start + length) % self.size if self.wrap else start + length
        self._used += length
        return region

    def _place(self, length: int) -> int | None:
        if length > self.size:
            return None
        if self.wrap:  # the vendor ring: the write position just goes round
            return self._head if length <= self.size - self._used else None
        if not self._regions:
            return 0
        tail = self._regions[0].start
        head = self._head
        if head > tail:  # live data in [tail, head): free space after head and before tail
            if head + length <= self.size:
                return head
            return 0 if length <= tail else None
        return head if head + length <= tail else None  # wrapped: free space is [head, tail)

    def write(self, region: Region, offset: int, data: bytes | memoryview) -> None:
        """Copy ``data`` to ``offset`` bytes into ``region`` (wrapping at the end if allowed)."""
        data = memoryview(data).cast("B")
        n = len(data)
        if offset < 0 or offset + n > region.length:
            raise InvalidArgument(
                f"write of {n} bytes at {offset} overflows the {region.length}-byte region"
            )
        pos = self.position(region, offset)
        first = min(n, self.size - pos)
        self._view[pos : pos + first] = data[:first]
        if first < n:
            self._view[: n - first] = data[first:]

    def position(self, region: Region, offset: int) -> int:
        """Offset from the buffer start of byte ``offset`` of ``region``."""
        return (region.start + offset) % self.size

    def read(self, region: Region, offset: int, length: int) -> bytes:
        """Bytes of a region (joining the two halves of a wrapped range)."""
        pos = self.position(region, offset)
        first = min(length, self.size - pos)
        data = bytes(self._view[pos : pos + first])
        if first < length:
            data += bytes(self._view[: length - first])
        return data

    # -- freeing -------------------------------------------------------------------------------
    def release_oldest(self, region: Region) -> None:
        if not self._regions or self._regions[0] != region:
            raise InvalidState("stream buffer: pictures must be released oldest first")
        self._regions.popleft()
        self._used -= region.length
        if not self._regions and not self.wrap:
            self._head = 0  # empty: start over at the base, the largest contiguous room

    def discard_newest(self, region: Region) -> None:
        """Take back the most recent picture (FlushStream of pictures nobody fetched)."""
        if not self._regions or self._regions[-1] != region:
            raise InvalidState("stream buffer: only the newest picture can be taken back")
        self._regions.pop()
        self._used -= region.length
        self._head = region.start if self._regions or self.wrap else 0

    def clear(self) -> None:
        self._regions.clear()
        self._head = 0
        self._used = 0

    def close(self) -> None:
        """Return the memory to rmem. Idempotent."""
        block, self._block = self._block, None
        self.clear()
        if block is not None:
            self._allocator.free(block)

    @property
    def closed(self) -> bool:
        return self._block is None

    def _check_open(self) -> None:
        if self._block is None:
            raise InvalidState("the stream buffer was freed (channel destroyed)")


__all__ = ["Region", "StreamRing"]
