"""Exceptions of the Pythonic API.

Every error raised by `imp` derives from :class:`ImpError`; each subclass also derives from the
builtin exception a Python programmer would expect (``ValueError`` for bad arguments, ...), so
``except ValueError`` keeps working. The C-style layer (:mod:`imp.capi`) turns all of them into
``-1`` plus a log line.
"""

from __future__ import annotations

import errno as _errno


class ImpError(Exception):
    """Root of all `imp` errors."""


class InvalidArgument(ImpError, ValueError):
    """An argument is out of range, of the wrong type, or inconsistent with another one."""


class NotFound(ImpError, LookupError):
    """The channel, group, region or binding named does not exist (yet)."""


class AlreadyExists(ImpError, ValueError):
    """The object to create exists already."""


class InvalidState(ImpError, RuntimeError):
    """The call is valid, but not in the object's current state (e.g. before System_Init)."""


class Closed(InvalidState):
    """The handle was closed (or its pipeline torn down): it no longer refers to any channel.

    Modelled on trio's ``ClosedResourceError``: using a closed handle is a bug in the caller,
    never a reason to touch whatever channel now has the same number.
    """


class Busy(ImpError, RuntimeError):
    """The resource is in use (e.g. destroying a bound group, or a channel that is enabled)."""


class Timeout(ImpError, TimeoutError):
    """A bounded wait ended without data."""


class OutOfMemory(ImpError, MemoryError):
    """The rmem arena or a pool has no room for the request."""


class DeviceError(ImpError, OSError):
    """A kernel driver call failed; ``errno`` and ``strerror`` are those of the driver."""

    def __init__(self, errno_: int, message: str) -> None:
        super().__init__(errno_, message)
        self.errno = errno_
        self.strerror = message

    def __str__(self) -> str:
        name = _errno.errorcode.get(self.errno or 0, str(self.errno))
        return f"{self.strerror} ({name})"


class NotSupported(ImpError, NotImplementedError):
    """The function exists in libimp 1.1.6 but this version of `imp` does not provide it."""


__all__ = [
    "AlreadyExists",
    "Busy",
    "Closed",
    "DeviceError",
    "ImpError",
    "InvalidArgument",
    "InvalidState",
    "NotFound",
    "NotSupported",
    "OutOfMemory",
    "Timeout",
]
