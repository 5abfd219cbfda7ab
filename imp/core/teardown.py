"""Teardown that a Ctrl-C cannot cut short.

A KeyboardInterrupt (or SystemExit) can land between any two bytecodes, so a second Ctrl-C
during a teardown used to skip every later step: the ISP stayed open with its capture threads
running, and the next ``imp.open()`` in the process failed. :func:`run_all` runs every step
whatever the earlier ones raised, and raises the interruption again only after the last one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable


def run_all(steps: Iterable[tuple[str, Callable[[], object]]], log: logging.Logger) -> list[str]:
    """Run each ``(name, step)``; return "name: message" for each step that raised an
    Exception (logged), and re-raise the first KeyboardInterrupt/SystemExit after the last."""
    errors: list[str] = []
    interrupted: BaseException | None = None
    for name, step in steps:
        try:
            step()
        except Exception as exc:  # keep tearing down the rest
            errors.append(f"{name}: {exc}")
            log.error("teardown step %s failed: %s", name, exc)
        except BaseException as exc:  # Ctrl-C inside the teardown: finish it first
            if interrupted is None:
                interrupted = exc
    if interrupted is not None:
        raise interrupted
    return errors


__all__ = ["run_all"]
