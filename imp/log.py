"""Logging: everything goes to the ``imp`` logger hierarchy (``imp.capi``, ``imp.fs``, ...).

A C programmer expects libimp to print its errors; if the application configured no logging at
all, :func:`ensure_default_handler` attaches one stderr handler to ``imp`` for warnings and worse.
``IMP_LOG_LEVEL=debug|info|warning|error`` changes that level.
"""

from __future__ import annotations

import logging
import os

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
