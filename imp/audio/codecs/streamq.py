"""The stream buffer of an AENC/ADEC channel: encoded (AENC) or decoded (ADEC) frames in rmem.

Like the video encoder's (``imp.encoder.ring``): ``IMPAudioStream.stream``/``phyAddr`` point into
DMA memory that stays put until ReleaseStream, streams are fetched and released oldest first,
and at most ``depth`` of them are held (the channel's ``bufSize``).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from imp import runtime
from imp.encoder.ring import Region, StreamRing
from imp.errors import Busy, InvalidArgument, InvalidState, Timeout


@dataclass(frozen=True)
class StoredStream:
    """One stream in the buffer: where it is and what it is."""

    region: Region
    addr: int  # virtual address of its first byte
    phys: int
    length: int
    timestamp: int
    seq: int


class StreamQueue:
    """``depth`` streams of at most ``max_len`` bytes each, in one rmem block."""

    def __init__(self, name: str, depth: int, max_len: int) -> None:
        if not 1 <= depth <= 1024:
            raise InvalidArgument(f"{name}: bufSize {depth} must be 1..1024 streams")
        self.name = name
        self.depth = depth
        self.max_len = max_len
        self._ring = StreamRing(runtime.allocator(), depth * max_len, name=name)
        self._ready: deque[StoredStream] = deque()  # not fetched yet
        self._held: deque[StoredStream] = deque()  # fetched, not released yet
        self._cond = threading.Condition()
        self._seq = 0
        self.dropped = 0

    # -- producer ------------------------------------------------------------------------------
    def put(
        self, data: bytes | memoryview, timestamp: int, wait: float | None = 0.0
    ) -> StoredStream:
        """Store one stream; waits up to ``wait`` s (None: forever) for room."""
        n = len(data)
        if n > self.max_len:
            raise InvalidArgument(f"{self.name}: a stream of {n} bytes exceeds {self.max_len}")
        deadline = None if wait is None else time.monotonic() + wait
        with self._cond:
            while True:
                self._check_open()
                region = None
                if len(self._ready) + len(self._held) < self.depth:
                    region = self._ring.allocate(max(n, 1))
                if region is not None:
                    break
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise Busy(
                        f"{self.name}: all {self.depth} stream buffers are in use; "
                        "get and release streams (or make bufSize larger)"
                    )
                self._cond.wait(left)
            self._ring.write(region, 0, data)
            pos = self._ring.position(region, 0)
            stored = StoredStream(
                region, self._ring.addr + pos, self._ring.phys + pos, n, timestamp, self._seq
            )
            self._seq += 1
            self._ready.append(stored)
            self._cond.notify_all()
            return stored

    # -- consumer ------------------------------------------------------------------------------
    def wait_ready(self, timeout: float | None) -> None:
        """Block until a stream can be fetched (``Timeout`` after ``timeout`` s)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._ready:
                self._check_open()
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise Timeout(f"{self.name}: no stream within {timeout:g} s")
                self._cond.wait(left)

    def get(self, timeout: float | None) -> StoredStream:
        """The oldest unfetched stream; ``timeout`` 0 for non-blocking."""
        with self._cond:
            self.wait_ready(timeout)
            stream = self._ready.popleft()
            self._held.append(stream)
            return stream

    def release(self, addr: int) -> None:
        """Give back the oldest fetched stream (identified by its address)."""
        with self._cond:
            if not self._held:
                raise InvalidState(f"{self.name}: no stream is held (GetStream first)")
            oldest = self._held[0]
            if addr != oldest.addr:
                raise InvalidArgument(
                    f"{self.name}: release streams in the order GetStream returned them "
                    f"(expected the one at 0x{oldest.addr:x}, got 0x{addr:x})"
                )
            self._held.popleft()
            self._ring.release_oldest(oldest.region)
            self._cond.notify_all()

    def read(self, stream: StoredStream) -> bytes:
        return self._ring.read(stream.region, 0, stream.length)

    def clear(self) -> int:
        """Drop every unfetched stream (held ones stay valid); returns how many."""
        with self._cond:
            dropped = 0
            while self._ready:
                self._ring.discard_newest(self._ready.pop().region)
                dropped += 1
            self._cond.notify_all()
            return dropped

    @property
    def ready_count(self) -> int:
        return len(self._ready)

    @property
    def held_count(self) -> int:
        return len(self._held)

    def close(self) -> None:
        """Free the rmem block and wake every waiter. Idempotent."""
        with self._cond:
            self._ready.clear()
            self._held.clear()
            self._ring.close()
            self._cond.notify_all()
        runtime.release_if_idle()

    def _check_open(self) -> None:
        if self._ring.closed:
            raise InvalidState(f"{self.name}: the channel was destroyed")
