"""What an IVS channel hands C callers: result addresses (GetResult/ReleaseResult) and
``void *param`` arguments resolved to addresses.

Apart from :mod:`imp.ivs.cinterface` (the C-style ``IMPIVSInterface`` algorithms) so that a
channel running a Python algorithm does not load that module and its ctypes struct.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

from imp.errors import InvalidArgument


class ResultTable:
    """Addresses handed to C callers by GetResult -> the result objects behind them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_addr: dict[int, list[tuple[Any, Any]]] = {}

    def box(self, result: Any, c_view: Any) -> int:
        """Remember ``result``; return the address a C caller gets for it (``c_view`` is an int
        address or a ctypes object, kept alive until :meth:`unbox`)."""
        addr = int(c_view) if isinstance(c_view, int) else ctypes.addressof(c_view)
        with self._lock:
            self._by_addr.setdefault(addr, []).append((result, c_view))
        return addr

    def unbox(self, addr: int) -> Any:
        with self._lock:
            entries = self._by_addr.get(addr)
            if not entries:
                raise InvalidArgument(
                    f"result {addr:#x} was not obtained by GetResult here (or released twice)"
                )
            result, _ = entries.pop()
            if not entries:
                del self._by_addr[addr]
            return result

    def drain(self) -> list[Any]:
        with self._lock:
            out = [r for entries in self._by_addr.values() for r, _ in entries]
            self._by_addr.clear()
            return out

    def __len__(self) -> int:
        with self._lock:
            return sum(len(e) for e in self._by_addr.values())


def param_address(obj: Any, expected: type | None = None) -> int:
    """Resolve a C ``void *param``: a ctypes struct (or byref/pointer to one) or an address.

    With ``expected`` (the algorithm's parameter struct) a ctypes object of another type is
    refused: the algorithm would read past its end.
    """
    if obj is None:
        raise InvalidArgument("param is NULL")
    if isinstance(obj, int) and not isinstance(obj, bool):
        if obj <= 0:
            raise InvalidArgument("param is NULL")
        return obj
    target = getattr(obj, "_obj", obj)  # byref(struct)
    if isinstance(target, ctypes.c_void_p):
        if not target.value:
            raise InvalidArgument("param is NULL")
        return int(target.value)
    if isinstance(target, ctypes._Pointer):
        if not target:
            raise InvalidArgument("param is NULL")
        target = target.contents
    if isinstance(target, ctypes.Structure | ctypes.Union | ctypes.Array):
        if expected is not None and not isinstance(target, expected):
            raise InvalidArgument(
                f"param is a {type(target).__name__}; this algorithm takes {expected.__name__}"
            )
        return ctypes.addressof(target)
    raise InvalidArgument(
        f"param must be a ctypes struct, a pointer to one or an address, got {type(obj).__name__}"
    )


__all__ = ["ResultTable", "param_address"]
