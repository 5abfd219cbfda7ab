"""Per-channel frame-rate decimation and bit-rate bookkeeping.

Each encoder channel takes frames at its own rate out of whatever its group receives (a 1 fps
JPEG channel next to a 25 fps H.264 one). Decimating by capture timestamp rather than by
counting frames keeps working when the sensor rate changes under the channel (sample-Setfps)
and when frames were lost upstream.
"""

from __future__ import annotations

from array import array
from typing import NamedTuple

from imp.errors import InvalidArgument


class FrameRateGate:
    """Accepts frames so that on average ``fps`` of them pass per second of capture time."""

    def __init__(self, fps: tuple[int, int]) -> None:
        self._period = 0.0
        self.set_fps(fps)
        self.reset()

    def set_fps(self, fps: tuple[int, int]) -> None:
        num, den = fps
        if num <= 0 or den <= 0:
            raise InvalidArgument(f"frame rate {num}/{den} must be positive")
        self._period = 1e6 * den / num

    def reset(self) -> None:
        self._due: float | None = None
        self._last: int | None = None
        self._interval = 0.0

    def accept(self, timestamp: int) -> bool:
        if self._last is not None and timestamp > self._last:
            self._interval = float(timestamp - self._last)
        self._last = timestamp
        # Half an input interval of slack: a frame that lands a little early (capture jitter)
        # still counts for the slot it belongs to.
        slack = self._interval / 2
        if self._due is not None and timestamp + slack < self._due:
            return False
        due = (self._due if self._due is not None else timestamp) + self._period
        if due + slack <= timestamp:  # a gap upstream (or a faster channel): start over from now
            due = timestamp + self._period
        self._due = due
        return True


class PictureRecord(NamedTuple):
    timestamp: int  # capture time, µs
    size: int  # bytes
    keyframe: bool
    qp: float | None


class BitrateMeter:
    """The sizes of the most recent pictures, for GetChnAveBitrate and measured bit rates.

    The history lives in arrays allocated once at full size: a record per picture would grow the
    heap until the ring is full, which for a 1 fps JPEG channel takes over an hour and shows up
    in a soak as a slow memory tail."""

    def __init__(self, keep: int = 4096) -> None:
        self._keep = keep
        self._timestamp = array("q", bytes(8 * keep))
        self._size = array("q", bytes(8 * keep))
        self._qp = array("d", bytes(8 * keep))
        self._keyframe = bytearray(keep)
        self._next = 0  # slot the next record goes to
        self._count = 0

    def add(self, record: PictureRecord) -> None:
        i = self._next
        self._timestamp[i] = record.timestamp
        self._size[i] = record.size
        self._keyframe[i] = record.keyframe
        self._qp[i] = _NO_QP if record.qp is None else record.qp
        self._next = (i + 1) % self._keep
        self._count = min(self._count + 1, self._keep)

    def clear(self) -> None:
        self._next = self._count = 0

    def __len__(self) -> int:
        return self._count

    def _newest_slots(self, n: int) -> list[int]:
        n = min(max(n, 0), self._count)
        return [(self._next - 1 - k) % self._keep for k in range(n)]

    def last(self, n: int) -> list[PictureRecord]:
        return [self._record(i) for i in reversed(self._newest_slots(n))]

    def _record(self, i: int) -> PictureRecord:
        qp = self._qp[i]
        return PictureRecord(
            self._timestamp[i], self._size[i], bool(self._keyframe[i]), None if qp != qp else qp
        )

    def average_kbps(self, frames: int, fps: tuple[int, int]) -> float:
        """kbit/s over the last ``frames`` pictures at the nominal ``fps`` (GetChnAveBitrate)."""
        slots = self._newest_slots(frames)
        if not slots:
            return 0.0
        num, den = fps
        seconds = len(slots) * den / num
        return sum(self._size[i] for i in slots) * 8 / seconds / 1000

    def window_kbps(self, window_us: int = 1_000_000) -> float:
        """kbit/s over the pictures captured in the last ``window_us`` of capture time."""
        slots = self._newest_slots(self._count)
        if not slots:
            return 0.0
        start = self._timestamp[slots[0]] - window_us
        total = 0
        for i in slots:  # newest first: stop at the first picture outside the window
            if self._timestamp[i] <= start:
                break
            total += self._size[i]
        return total * 8 / (window_us / 1e6) / 1000

    def largest(self, n: int) -> int:
        """Largest of the last ``n`` pictures (bytes), 0 without history."""
        return max((self._size[i] for i in self._newest_slots(n)), default=0)


_NO_QP = float("nan")  # a picture whose codec reported no QP


__all__ = ["BitrateMeter", "FrameRateGate", "PictureRecord"]
