"""imp — Ingenic T31 media SDK (libimp 1.1.6) in Python, on the board and in a simulator.

Two faces over one core:

- ``from imp.capi import *``: the C-style ``IMP_*`` functions, structs and constants;
- the Pythonic layer: :func:`imp.open` for a camera, and the pipeline composed from it:
  ``cam.framesource()`` -> ``cam.overlay()`` / ``cam.motion()`` -> ``cam.encoder(...,
  output=...)``, each node a source for the next (:mod:`imp.pipeline`).

The names below are imported on first use (PEP 562): ``import imp`` alone loads almost nothing,
which matters on a camera with 64 MB for everything (docs/ROBUSTNESS.md, memory).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imp.camera import Camera, open
    from imp.encoder.api import H264, H265, JPEG
    from imp.encoder.handle import EncoderHandle
    from imp.errors import (
        AlreadyExists,
        Busy,
        Closed,
        DeviceError,
        ImpError,
        InvalidArgument,
        InvalidState,
        NotFound,
        NotSupported,
        OutOfMemory,
        Timeout,
    )
    from imp.pipeline.events import Event, EventKind, State
    from imp.pipeline.motion import MotionDetector, MotionEvent
    from imp.pipeline.overlay import Overlay
    from imp.pipeline.source import CapturedFrame, FrameSourceChannel

__version__ = "0.1.0"

# name -> module that defines it
_LAZY = {
    "Camera": "imp.camera",
    "open": "imp.camera",
    "H264": "imp.encoder.api",
    "H265": "imp.encoder.api",
    "JPEG": "imp.encoder.api",
    "EncoderHandle": "imp.encoder.handle",
    **dict.fromkeys(
        (
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
        ),
        "imp.errors",
    ),
    "Event": "imp.pipeline.events",
    "EventKind": "imp.pipeline.events",
    "State": "imp.pipeline.events",
    "MotionDetector": "imp.pipeline.motion",
    "MotionEvent": "imp.pipeline.motion",
    "Overlay": "imp.pipeline.overlay",
    "CapturedFrame": "imp.pipeline.source",
    "FrameSourceChannel": "imp.pipeline.source",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
    else:
        try:  # a subpackage used as an attribute (imp.kernel, imp.capi, ...)
            value = importlib.import_module(f"imp.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"imp.{name}":
                raise
            raise AttributeError(f"module 'imp' has no attribute {name!r}") from None
    globals()[name] = value
    return value


__all__ = [
    "H264",
    "H265",
    "JPEG",
    "AlreadyExists",
    "Busy",
    "Camera",
    "CapturedFrame",
    "Closed",
    "DeviceError",
    "EncoderHandle",
    "Event",
    "EventKind",
    "FrameSourceChannel",
    "ImpError",
    "InvalidArgument",
    "InvalidState",
    "MotionDetector",
    "MotionEvent",
    "NotFound",
    "NotSupported",
    "OutOfMemory",
    "Overlay",
    "State",
    "Timeout",
    "__version__",
    "open",
]
