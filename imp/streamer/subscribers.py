"""Handing one item to a list of callbacks, as every producer of the streamer does."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

_log = logging.getLogger("imp.streamer")


def deliver(subscribers: list[Callable[[Any], None]], item: Any, what: str) -> None:
    """Call each subscriber with ``item``; one that fails is logged and the others still run
    (a broken consumer must not stop the camera)."""
    for fn in list(subscribers):
        try:
            fn(item)
        except Exception:
            _log.exception("%s: subscriber %r failed", what, fn)


def close_quietly(parts: Iterable[Any], what: str) -> None:
    """``close()`` each part that exists; failures are logged, the rest still close."""
    for part in parts:
        if part is not None:
            try:
                part.close()
            except Exception as exc:
                _log.warning("closing %s: %s", what, exc)
