"""A shorter GIL switch interval while encoder channels receive pictures.

A codec encodes with the GIL released, but the worker needs it back the moment the picture is
done (to hand the frame back to its pool and store the stream). CPython makes a thread that
wants the GIL wait until the holder releases it or the switch interval (5 ms by default)
expires, so any busy Python thread (an application loop, the simulator's renderer) delays every
picture by up to 5 ms: measured on the 1080p pipeline, 15-25 % of the throughput. While at least
one channel receives, the interval is lowered to ``IMP_ENC_GIL_SWITCH_US`` µs (default 500; 0
leaves the interpreter alone) and restored when the last one stops, unless the application
changed it meanwhile. It is only ever lowered.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger("imp.encoder")

ENV = "IMP_ENC_GIL_SWITCH_US"
DEFAULT_US = 500


def _target() -> float | None:
    raw = os.environ.get(ENV, "").strip()
    try:
        us = int(raw) if raw else DEFAULT_US
    except ValueError:
        log.warning("%s=%r is not a number of microseconds; using %d", ENV, raw, DEFAULT_US)
        us = DEFAULT_US
    return us / 1e6 if us > 0 else None


class SwitchInterval:
    """Reference-counted lowering of ``sys.setswitchinterval``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._previous: float | None = None
        self._set: float | None = None

    def acquire(self) -> None:
        with self._lock:
            self._users += 1
            if self._users > 1:
                return
            target = _target()
            current = sys.getswitchinterval()
            if target is not None and target < current:
                self._previous, self._set = current, target
                sys.setswitchinterval(target)

    def release(self) -> None:
        with self._lock:
            if self._users == 0:
                return
            self._users -= 1
            if self._users or self._set is None:
                return
            if abs(sys.getswitchinterval() - self._set) < 1e-9 and self._previous is not None:
                sys.setswitchinterval(self._previous)
            self._previous = self._set = None


switch_interval = SwitchInterval()

__all__ = ["SwitchInterval", "switch_interval"]
