"""``imp_log_fun``, ``IMP_Log_Set_Option``, ``IMP_Log_Get_Option`` (imp_log.h).

libimp prints its log lines itself; here every message goes to the ``imp.app.<tag>`` logger (a
child of ``imp``), at the Python level matching its IMP_LOG_LEVEL_*, with the fields the option
mask selects in front. The ``out`` argument (stdout, local file, log server) does not pick a
destination: the application's logging handlers do.
"""

from __future__ import annotations

import ctypes
import os
import re
from typing import Any

from imp import log as _log
from imp.capi._common import c_function, c_string, check_int
from imp.errors import InvalidArgument

__all__ = ["IMP_Log_Get_Option", "IMP_Log_Set_Option", "format_c", "imp_log_fun"]

_OUTS = (0, 1, 2)  # IMP_LOG_OUT_STDOUT, _LOCAL_FILE, _SERVER
# One printf conversion: flags, width, precision, length modifier, conversion.
_SPEC = re.compile(
    r"%(?P<flags>[-+ #0]*)(?P<width>\*|\d+)?(?:\.(?P<prec>\*|\d*))?"
    r"(?P<len>hh|h|ll|l|j|z|t|L|q)?(?P<conv>[diouxXeEfFgGaAcsp%])"
)


def _value(arg: Any) -> Any:
    """A C vararg as Python sees it: ctypes scalars by value, char buffers as text."""
    if isinstance(arg, ctypes._SimpleCData | ctypes.Array):
        arg = arg.value
    if isinstance(arg, bytes | bytearray):
        return bytes(arg).split(b"\0", 1)[0].decode(errors="replace")
    return arg


def format_c(fmt: str, args: tuple[Any, ...]) -> str:
    """Expand a printf format with C varargs (``%d %u %x %s %p %c %f`` ..., length modifiers
    and ``*`` widths). A missing or mistyped argument raises :class:`InvalidArgument`."""
    pending = list(args)
    out: list[str] = []
    pos = 0

    def take(spec: str) -> Any:
        if not pending:
            raise InvalidArgument(f"format {fmt!r}: no argument left for {spec}")
        return _value(pending.pop(0))

    for m in _SPEC.finditer(fmt):
        out.append(fmt[pos : m.start()])
        pos = m.end()
        conv = m["conv"]
        if conv == "%":
            out.append("%")
            continue
        width = m["width"] or ""
        if width == "*":
            width = str(int(take("*")))
        prec = m["prec"]
        if prec == "*":
            prec = str(int(take(".*")))
        spec = "%" + m["flags"] + width + ("." + prec if prec is not None else "")
        value = take(m.group(0))
        try:
            if conv in "ouxX":
                bits = 64 if m["len"] in ("ll", "j", "q") else 32
                value = int(value) & ((1 << bits) - 1)
                out.append((spec + ("d" if conv == "u" else conv)) % value)
            elif conv in "di":
                out.append((spec + "d") % int(value))
            elif conv == "c":
                out.append((spec + "c") % (chr(value) if isinstance(value, int) else value))
            elif conv == "s":
                out.append((spec + "s") % ("(null)" if value is None else str(value)))
            elif conv == "p":
                out.append((spec + "s") % ("(nil)" if not value else f"0x{int(value):x}"))
            else:  # e E f F g G a A
                out.append((spec + ("e" if conv in "aA" else conv)) % float(value))
        except (TypeError, ValueError) as exc:
            raise InvalidArgument(
                f"format {fmt!r}: argument {value!r} does not fit {m.group(0)}"
            ) from exc
    out.append(fmt[pos:])
    return "".join(out)


def _text(arg: Any, what: str) -> str:
    return "" if arg is None else c_string(arg, what).decode(errors="replace")


@c_function(None)
def imp_log_fun(
    le: int,
    op: int,
    out: int,
    tag: Any,
    file: Any,
    line: int,
    func: Any,
    fmt: Any,
    *args: Any,
) -> None:
    """``void imp_log_fun(int le, int op, int out, const char *tag, const char *file, int line,
    const char *func, const char *fmt, ...)``: the function behind the IMP_LOG_* macros."""
    level = check_int(le, "le")
    option = check_int(op, "op")
    check_int(line, "line")
    if level == _log.LEVEL_SILENT:
        return
    if level not in _log.LEVELS:
        raise InvalidArgument(
            f"log level {level} is not one of IMP_LOG_LEVEL_VERBOSE (2) .. IMP_LOG_LEVEL_SILENT (8)"
        )
    if not 0 <= option <= _log.OP_ALL:
        raise InvalidArgument(f"option {option} must be a mask of IMP_LOG_OP_* bits (0..63)")
    if check_int(out, "out") not in _OUTS:
        raise InvalidArgument(f"out {out} must be IMP_LOG_OUT_STDOUT, _LOCAL_FILE or _SERVER")
    text = format_c(c_string(fmt, "fmt").decode(errors="replace"), args).rstrip("\n")
    tag_s = _text(tag, "tag")
    head = _log.prefix(
        option,
        tag_s,
        _text(file, "file"),
        int(line),
        _text(func, "func"),
        os.getpid(),
        _now_us(),
    )
    _log.app_logger(tag_s).log(_log.LEVELS[level], "%s", f"{head} {text}" if head else text)


def _now_us() -> int:
    from imp.system import get_system

    return int(get_system().clock.now())


@c_function(None)
def IMP_Log_Set_Option(op: int) -> None:
    """``void IMP_Log_Set_Option(int op)``: the IMP_LOG_OP_* mask used by the IMP_LOG_* macros."""
    _log.set_option(check_int(op, "op"))


@c_function(-1)
def IMP_Log_Get_Option() -> int:
    """``int IMP_Log_Get_Option(void)``: the option mask (63, IMP_LOG_OP_ALL, by default)."""
    return _log.get_option()
