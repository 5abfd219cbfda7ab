"""copy_from_user / copy_to_user for the fake drivers: raw user addresses, faults as EFAULT.

Pointer-valued tuning controls carry a user virtual address inside the ioctl argument. The fake
copies through a pipe with libc read/write instead of dereferencing the address itself: the host
kernel validates the address, so a bad pointer becomes EFAULT (as on the board) instead of a
segfault of the whole test process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import threading

__all__ = ["copy_from_user", "copy_to_user"]

_libc: ctypes.CDLL | None = None
_lock = threading.Lock()


def _lib() -> ctypes.CDLL:
    global _libc
    with _lock:
        if _libc is None:
            lib = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
            for fn in (lib.read, lib.write):
                fn.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
                fn.restype = ctypes.c_ssize_t
            _libc = lib
        return _libc


def _fault(address: int, length: int, what: str) -> OSError:
    return OSError(errno.EFAULT, f"{what}: bad user address {address:#x} (+{length})")


def copy_from_user(address: int, length: int, what: str = "copy_from_user") -> bytes:
    """``length`` bytes at user address ``address``; OSError(EFAULT) if unreadable."""
    if length == 0:
        return b""
    if address == 0:
        raise _fault(address, length, what)
    r, w = os.pipe()
    try:
        done = _lib().write(w, ctypes.c_void_p(address), length)
        if done != length:
            raise _fault(address, length, what)
        return os.read(r, length)
    finally:
        os.close(r)
        os.close(w)


def copy_to_user(address: int, data: bytes, what: str = "copy_to_user") -> None:
    """Write ``data`` to user address ``address``; OSError(EFAULT) if unwritable."""
    if not data:
        return
    if address == 0:
        raise _fault(address, len(data), what)
    r, w = os.pipe()
    try:
        os.write(w, data)
        done = _lib().read(r, ctypes.c_void_p(address), len(data))
        if done != len(data):
            raise _fault(address, len(data), what)
    finally:
        os.close(r)
        os.close(w)
