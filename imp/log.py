"""Logging: everything goes to the ``imp`` logger hierarchy (``imp.capi``, ``imp.fs``, ...).

A C programmer expects libimp to print its errors; if the application configured no logging at
all, :func:`ensure_default_handler` attaches one stderr handler to ``imp`` for warnings and worse.
``IMP_LOG_LEVEL=debug|info|warning|error`` changes that level.
"""

from __future__ import annotations

import logging
import os

from imp.errors import InvalidArgument

_configured = False


def ensure_default_handler() -> None:
    global _configured
    if _configured:
        return
    _configured = True
    root = logging.getLogger()
    logger = logging.getLogger("imp")
    if root.handlers or logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    level = os.environ.get("IMP_LOG_LEVEL", "warning").upper()
    logger.setLevel(getattr(logging, level, logging.WARNING))


def get(name: str) -> logging.Logger:
    return logging.getLogger(f"imp.{name}")


# -- libimp's own log interface (imp_log.h) ------------------------------------------------------
# IMP_LOG_OP_* bits: which fields libimp puts in front of a message. Values from imp_log.h.
OP_PID, OP_USTIME, OP_MODULE, OP_FILE, OP_FUNC, OP_LINE = 1, 2, 4, 8, 16, 32
OP_ALL = 63  # IMP_LOG_OP_ALL = IMP_LOG_OP_DEFAULT
# IMP_LOG_LEVEL_* (imp_log.h) -> Python logging level. VERBOSE sits below DEBUG; SILENT is never
# emitted; UNKNOWN and RESERVED are not levels a caller may log at.
LEVELS: dict[int, int] = {
    2: 5,  # VERBOSE
    3: logging.DEBUG,
    4: logging.INFO,
    5: logging.WARNING,
    6: logging.ERROR,
    7: logging.CRITICAL,
}
LEVEL_SILENT = 8
APP_LOGGER = "imp.app"  # messages an application sends through imp_log_fun, one child per tag

_option = OP_ALL


def set_option(op: int) -> None:
    """``IMP_Log_Set_Option``: the IMP_LOG_OP_* mask of prefixes; bits above 63 are refused."""
    global _option
    if not isinstance(op, int) or isinstance(op, bool) or not 0 <= op <= OP_ALL:
        raise InvalidArgument(
            f"log option {op!r} must be a mask of IMP_LOG_OP_* bits (0..{OP_ALL})"
        )
    _option = op


def get_option() -> int:
    """``IMP_Log_Get_Option``: the current IMP_LOG_OP_* mask (IMP_LOG_OP_DEFAULT = 63 at start)."""
    return _option


def app_logger(tag: str) -> logging.Logger:
    """The logger of an ``imp_log_fun`` tag: ``imp.app.<tag>`` (dots in the tag kept apart)."""
    clean = "".join(c if c.isalnum() or c in "-_" else "_" for c in tag)
    return logging.getLogger(f"{APP_LOGGER}.{clean}" if clean else APP_LOGGER)


def prefix(op: int, tag: str, file: str, line: int, func: str, pid: int, us: int) -> str:
    """The fields libimp writes before a message, in its order: pid, µs time, module, file,
    function, line; each only when its IMP_LOG_OP_* bit is in ``op``."""
    parts: list[str] = []
    if op & OP_PID:
        parts.append(f"[{pid}]")
    if op & OP_USTIME:
        parts.append(f"[{us}]")
    if op & OP_MODULE and tag:
        parts.append(f"[{tag}]")
    where = []
    if op & OP_FILE and file:
        where.append(file)
    if op & OP_FUNC and func:
        where.append(func)
    if op & OP_LINE:
        where.append(str(line))
    if where:
        parts.append("[" + ":".join(where) + "]")
    return " ".join(parts)
