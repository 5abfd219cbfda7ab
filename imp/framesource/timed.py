"""GetTimedFrame: a channel's recent frames, found by timestamp.

``SetMaxDelay(chn, n)`` (before EnableChn) makes the channel keep copies of its last ``n``
frames; ``GetTimedFrame`` returns the one whose timestamp lies within ``[ts - minus, ts + plus]``
(the nearest to ``ts``), waiting for it when ``block`` is set and it is still to come. Copies,
not references: holding ``n`` capture buffers would stall the ISP (it has ``nrVBs`` of them).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from imp.core.vbm import Frame
from imp.errors import InvalidArgument, NotFound, Timeout

_WAIT = 2.0  # a blocking GetTimedFrame gives up like GetFrame


class TimedHistory:
    def __init__(self, depth: int) -> None:
        self._frames: deque[tuple[int, int, bytes]] = deque(maxlen=depth)  # (ts, seq, data)
        self._cond = threading.Condition()

    def add(self, frame: Frame) -> None:
        if frame.uv_offset == frame.width * frame.height or frame.pixfmt != 10:
            data = bytes(frame.data[: self._size(frame)])
        else:  # NV12 with padded rows before UV: the caller's packed layout
            data = frame.y.tobytes() + frame.uv.tobytes()
        with self._cond:
            self._frames.append((frame.timestamp, frame.seq, data))
            self._cond.notify_all()

    @staticmethod
    def _size(frame: Frame) -> int:
        if frame.pixfmt == 10:
            return frame.width * frame.height * 3 // 2
        return frame.size

    def find(self, ts: int, minus: int, plus: int, block: bool) -> tuple[int, int, bytes]:
        """(timestamp, seq, packed picture) of the frame nearest ``ts`` within the window."""
        if minus < 0 or plus < 0:
            raise InvalidArgument(f"minus {minus} and plus {plus} must be >= 0 µs")
        lo, hi = ts - minus, ts + plus
        deadline = time.monotonic() + _WAIT
        with self._cond:
            while True:
                hits = [f for f in self._frames if lo <= f[0] <= hi]
                newest = self._frames[-1][0] if self._frames else None
                if hits and (not block or (newest is not None and newest >= hi)):
                    return min(hits, key=lambda f: abs(f[0] - ts))
                if not block:
                    oldest = self._frames[0][0] if self._frames else None
                    raise NotFound(
                        f"no frame with a timestamp in [{lo}, {hi}] µs (frames kept: "
                        f"{oldest}..{newest})"
                    )
                if newest is not None and newest >= hi:
                    oldest = self._frames[0][0]
                    why = (
                        f"it is older than the {self._frames.maxlen} frames kept (SetMaxDelay)"
                        if oldest > lo
                        else f"no frame was captured in it (frames kept: {oldest}..{newest})"
                    )
                    raise NotFound(f"no frame with a timestamp in [{lo}, {hi}] µs; {why}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    if hits:
                        return min(hits, key=lambda f: abs(f[0] - ts))
                    raise Timeout(f"no frame with a timestamp in [{lo}, {hi}] µs within {_WAIT} s")
                self._cond.wait(remaining)
