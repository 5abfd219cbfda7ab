"""Per-channel frame-rate decimation and bit-rate bookkeeping.

Each encoder channel takes frames at its own rate out of whatever its group receives (a 1 fps
JPEG channel next to a 25 fps H.264 one). Decimating by capture timestamp rather than by
counting frames keeps working when the sensor rate changes under the channel (sample-Setfps)
and when frames were lost upstream.
"""

from __future__ import annotations

from collections import deque
from itertools import islice
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
    """The sizes of the most recent pictures, for GetChnAveBitrate and measured bit rates."""

    def __init__(self, keep: int = 4096) -> None:
        self._records: deque[PictureRecord] = deque(maxlen=keep)

    def add(self, record: PictureRecord) -> None:
        self._records.append(record)

    def clear(self) -> None:
        self._records.clear()

    def __len__(self) -> int:
        return len(self._records)

    def last(self, n: int) -> list[PictureRecord]:
        if n <= 0:
            return []
        newest_first = list(islice(reversed(self._records), n))
        newest_first.reverse()
        return newest_first

    def average_kbps(self, frames: int, fps: tuple[int, int]) -> float:
        """kbit/s over the last ``frames`` pictures at the nominal ``fps`` (GetChnAveBitrate)."""
        records = self.last(frames)
        if not records:
            return 0.0
        num, den = fps
        seconds = len(records) * den / num
        return sum(r.size for r in records) * 8 / seconds / 1000

    def window_kbps(self, window_us: int = 1_000_000) -> float:
        """kbit/s over the pictures captured in the last ``window_us`` of capture time."""
        if not self._records:
            return 0.0
        end = self._records[-1].timestamp
        total = sum(r.size for r in self._records if r.timestamp > end - window_us)
        return total * 8 / (window_us / 1e6) / 1000

    def largest(self, n: int) -> int:
        """Largest of the last ``n`` pictures (bytes), 0 without history."""
        return max((r.size for r in islice(reversed(self._records), n)), default=0)


__all__ = ["BitrateMeter", "FrameRateGate", "PictureRecord"]
