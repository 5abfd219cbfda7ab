"""IMP time: CLOCK_MONOTONIC_RAW in microseconds, minus a rebasable base.

The framechan driver stamps frames with ``getrawmonotonic()`` (kernel_abi.md gotcha 6), so IMP
time has to come from the same clock for frame and system timestamps to be comparable.
"""

from __future__ import annotations

import threading
import time

from imp.errors import InvalidArgument

# CLOCK_MONOTONIC_RAW is Linux-only; elsewhere (a developer's macOS) the plain monotonic clock is
# the closest thing and still never goes backwards.
_RAW_CLOCK: int | None = getattr(time, "CLOCK_MONOTONIC_RAW", None)


def monotonic_raw_us() -> int:
    """Microseconds of CLOCK_MONOTONIC_RAW (the clock of the driver's frame timestamps)."""
    if _RAW_CLOCK is not None:
        return time.clock_gettime_ns(_RAW_CLOCK) // 1000
    return time.monotonic_ns() // 1000


class ImpClock:
    """The clock behind ``IMP_System_GetTimeStamp`` / ``IMP_System_RebaseTimeStamp``."""

    def __init__(self, base_us: int | None = None) -> None:
        self._lock = threading.Lock()
        self._base = monotonic_raw_us() if base_us is None else int(base_us)

    @property
    def base_us(self) -> int:
        """The raw-clock instant (µs) that IMP time 0 corresponds to."""
        with self._lock:
            return self._base

    def now(self) -> int:
        """Current IMP time in µs."""
        with self._lock:
            base = self._base
        return monotonic_raw_us() - base

    def rebase(self, basets: int) -> None:
        """Make the current instant read as ``basets`` µs (IMP_System_RebaseTimeStamp)."""
        if basets < 0:
            # The C API takes an unsigned 64-bit value; a negative one is a caller bug, not a time.
            raise InvalidArgument(f"rebase timestamp must be >= 0 µs, got {basets}")
        with self._lock:
            self._base = monotonic_raw_us() - int(basets)

    def to_imp(self, raw_us: int) -> int:
        """Convert a raw-clock timestamp (e.g. a DQBUF timeval, in µs) into IMP time."""
        with self._lock:
            base = self._base
        return int(raw_us) - base


__all__ = ["ImpClock", "monotonic_raw_us"]
