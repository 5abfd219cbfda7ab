"""Fault injection for robustness tests: failing calls, stalls and device loss.

A :class:`FaultPlan` sits on every :class:`~kernel_stubs.SimKernel` (``kernel.faults``) and is
consulted at the top of each open, ioctl and mmap, before the device sees the call, so a fault
looks to user space exactly like a driver error. Paths are shell patterns
(``/dev/framechan*`` matches every channel).
"""

from __future__ import annotations

import errno as errnos
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Literal, TypeVar

__all__ = ["FaultEvent", "FaultPlan", "Op"]

Op = Literal["open", "ioctl", "mmap"]
_OPS = ("open", "ioctl", "mmap")


@dataclass
class _Rule:
    path: str
    op: Op
    cmd: int | None
    after: int  # matching calls let through before the rule fires
    times: int | None  # None: fires forever
    seen: int = 0
    fired: int = 0

    def matches(self, path: str, op: str, cmd: int | None) -> bool:
        return (
            self.op == op and fnmatchcase(path, self.path) and (self.cmd is None or self.cmd == cmd)
        )

    def armed_for_next(self) -> bool:
        """Count one matching call; True if the fault is due for it."""
        self.seen += 1
        return self.seen > self.after and not self.spent

    @property
    def spent(self) -> bool:
        return self.times is not None and self.fired >= self.times


@dataclass
class _Injection(_Rule):
    errno: int = errnos.EIO


@dataclass
class _Stall(_Rule):
    seconds: float = 0.0


@dataclass(frozen=True)
class FaultEvent:
    """One fault that happened: what was called and what the plan did to it."""

    path: str
    op: str
    cmd: int | None
    kind: Literal["errno", "stall", "unplugged"]
    value: float = 0


@dataclass
class FaultPlan:
    """The faults armed on one simulated kernel.

    ``stop`` ends stalls early (the kernel's shutdown); ``on_unplug`` lets the kernel wake
    threads blocked on a device that just disappeared.
    """

    stop: threading.Event = field(default_factory=threading.Event)
    on_unplug: Callable[[str], None] | None = None
    events: list[FaultEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._injections: list[_Injection] = []
        self._stalls: list[_Stall] = []
        self._unplugged: set[str] = set()

    def inject(
        self,
        path: str,
        op: Op,
        errno: int,
        cmd: int | None = None,
        after: int = 0,
        times: int | None = 1,
    ) -> None:
        """Make ``op`` on ``path`` (only ioctl ``cmd`` if given) fail with ``errno``.

        The first ``after`` matching calls succeed; then ``times`` calls fail (None: all).
        """
        if op not in _OPS:
            raise ValueError(f"op {op!r}: use one of {', '.join(_OPS)}")
        if cmd is not None and op != "ioctl":
            raise ValueError("cmd only makes sense with op='ioctl'")
        if after < 0 or (times is not None and times < 1):
            raise ValueError("after must be >= 0 and times >= 1 (or None for always)")
        rule = _Injection(path, op, cmd, after, times, errno=errno)
        with self._lock:
            self._injections.append(rule)

    def stall(
        self, path: str, cmd: int | None, seconds: float, *, after: int = 0, times: int | None = 1
    ) -> None:
        """Make ioctl ``cmd`` (None: any) on ``path`` block ``seconds`` before it runs.

        A stall ends early when the kernel shuts down.
        """
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        rule = _Stall(path, "ioctl", cmd, after, times, seconds=seconds)
        with self._lock:
            self._stalls.append(rule)

    def unplug(self, path: str) -> None:
        """The device disappears: open and mmap give ENODEV, so do ioctls on open fds, and
        threads blocked in it (DQBUF, LISTEN) wake up with ENODEV."""
        with self._lock:
            self._unplugged.add(path)
        if self.on_unplug is not None:
            self.on_unplug(path)

    def replug(self, path: str) -> None:
        """Undo :meth:`unplug` for ``path``."""
        with self._lock:
            self._unplugged.discard(path)

    def clear(self) -> None:
        """Disarm every fault and bring unplugged devices back."""
        with self._lock:
            self._injections.clear()
            self._stalls.clear()
            self._unplugged.clear()

    def is_unplugged(self, path: str) -> bool:
        with self._lock:
            return any(fnmatchcase(path, pattern) for pattern in self._unplugged)

    def check(self, path: str, op: Op, cmd: int | None = None) -> None:
        """Apply the plan to one call: raise its OSError, stall, or return to let it run."""
        if self.is_unplugged(path):
            self._record(FaultEvent(path, op, cmd, "unplugged"))
            raise OSError(errnos.ENODEV, f"{path}: device unplugged (fault injection)")
        with self._lock:
            stall = _first_taken(self._stalls, path, op, cmd)
            failure = _first_taken(self._injections, path, op, cmd)
        if stall is not None:
            self._record(FaultEvent(path, op, cmd, "stall", stall.seconds))
            self.stop.wait(stall.seconds)
        if failure is not None:
            self._record(FaultEvent(path, op, cmd, "errno", failure.errno))
            raise OSError(failure.errno, f"{path}: {os.strerror(failure.errno)} (fault injection)")

    def _record(self, event: FaultEvent) -> None:
        with self._lock:
            self.events.append(event)


R = TypeVar("R", bound=_Rule)


def _first_taken(rules: list[R], path: str, op: str, cmd: int | None) -> R | None:
    """The first due rule matching the call; every matching rule counts the call."""
    taken: R | None = None
    for rule in rules:
        if rule.matches(path, op, cmd) and rule.armed_for_next() and taken is None:
            rule.fired += 1
            taken = rule
    rules[:] = [r for r in rules if not r.spent]
    return taken
