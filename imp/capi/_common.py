"""Shared plumbing of the C-style API: error containment and pointer conventions.

Every ``IMP_*`` function is wrapped by :func:`c_function`: an :class:`~imp.errors.ImpError` (or any
other exception: a C caller cannot catch one) becomes the documented error return value and one
log line on the ``imp.capi`` logger naming the function and what to fix.
"""

from __future__ import annotations

import ctypes
import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from imp.errors import ImpError, InvalidArgument

log = logging.getLogger("imp.capi")

F = TypeVar("F", bound=Callable[..., Any])


def c_function(error_return: Any = -1) -> Callable[[F], F]:
    """Wrap an ``IMP_*`` implementation: exceptions never escape; they are logged and mapped."""

    def wrap(fn: F) -> F:
        name = fn.__name__

        @functools.wraps(fn)
        def entry(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except ImpError as exc:
                # str(exc), not exc: a handler that keeps records (pytest's capture, a
                # MemoryHandler) would keep the traceback and every object its frames reference.
                log.error("%s: %s", name, str(exc))
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:  # a C caller has no way to catch an exception
                log.error("%s: internal error: %s: %s", name, type(exc).__name__, str(exc))
                log.debug("%s: traceback", name, exc_info=True)
            return error_return

        return entry  # type: ignore[return-value]

    return wrap


def not_implemented(name: str, error_return: Any = -1) -> Callable[..., Any]:
    """A libimp 1.1.6 function this version of `imp` does not provide yet: logs and fails."""

    def entry(*args: Any, **kwargs: Any) -> Any:
        log.error("%s: not implemented in this version of imp", name)
        return error_return

    entry.__name__ = entry.__qualname__ = name
    entry.__doc__ = f"``{name}`` of libimp 1.1.6: not implemented yet; returns an error."
    return entry


def deref(arg: Any, ctype: type, what: str) -> Any:
    """Resolve a C ``T *`` argument: a ``T`` instance, ``byref(T)`` or ``pointer(T)``.

    Returns the ``T`` instance (so writes reach the caller's object). ``None`` or another type
    raises :class:`InvalidArgument` with a message naming the expected struct.
    """
    if arg is None:
        raise InvalidArgument(f"{what} is NULL; pass a {ctype.__name__}")
    if isinstance(arg, ctype):
        return arg
    obj = getattr(arg, "_obj", None)  # ctypes.byref() result
    if isinstance(obj, ctype):
        return obj
    if isinstance(arg, ctypes._Pointer):
        if not arg:
            raise InvalidArgument(f"{what} is NULL; pass a {ctype.__name__}")
        target = arg.contents
        if isinstance(target, ctype):
            return target
    raise InvalidArgument(
        f"{what} must be a {ctype.__name__} (or byref/pointer to one), got {type(arg).__name__}"
    )


def check_int(value: Any, what: str) -> int:
    """Accept a Python int (or ctypes integer) for a C ``int`` argument."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    inner = getattr(value, "value", None)
    if isinstance(inner, int) and isinstance(value, ctypes._SimpleCData):
        return inner
    raise InvalidArgument(f"{what} must be an int, got {type(value).__name__}")


def point_to(arg: Any, target: Any, what: str) -> None:
    """Resolve a C ``T **out``: point the caller's ``POINTER(T)`` (or its byref) at ``target``."""
    ptr = getattr(arg, "_obj", arg)  # byref(POINTER(T)) -> the POINTER(T)
    if ptr is None:
        raise InvalidArgument(f"{what} is NULL; pass a ctypes.POINTER({type(target).__name__})()")
    if not isinstance(ptr, ctypes._Pointer):
        raise InvalidArgument(
            f"{what} must be a ctypes.POINTER({type(target).__name__}) (or byref of one), "
            f"got {type(ptr).__name__}"
        )
    if ptr._type_ is not type(target):
        raise InvalidArgument(
            f"{what} points to {ptr._type_.__name__}, expected {type(target).__name__}"
        )
    ptr.contents = target


def c_string(arg: Any, what: str) -> bytes:
    """A C ``char *`` input: bytes, str, or a ctypes char buffer."""
    if arg is None:
        raise InvalidArgument(f"{what} is NULL")
    if isinstance(arg, bytes):
        return arg.split(b"\0", 1)[0]
    if isinstance(arg, str):
        return arg.encode()
    value = getattr(arg, "value", None)
    if isinstance(value, bytes):
        return value
    raise InvalidArgument(
        f"{what} must be bytes, str or a ctypes char buffer, got {type(arg).__name__}"
    )


def scalar_out(arg: Any, what: str) -> Any:
    """Resolve a C ``int *`` / ``uint32_t *`` / enum pointer output: a ctypes scalar (or byref)."""
    obj = getattr(arg, "_obj", arg)
    if isinstance(obj, ctypes._Pointer):
        if not obj:
            raise InvalidArgument(f"{what} is NULL")
        obj = obj.contents
    if obj is None:
        raise InvalidArgument(f"{what} is NULL; pass e.g. ctypes.c_int()")
    if not isinstance(obj, ctypes._SimpleCData) or isinstance(obj.value, (bytes, str)):
        raise InvalidArgument(
            f"{what} must be a ctypes integer (e.g. ctypes.c_int()), got {type(obj).__name__}"
        )
    return obj
