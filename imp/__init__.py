"""imp — Ingenic T31 media SDK (libimp 1.1.6) in Python, on the board and in a simulator.

Two faces over one core:

- ``from imp.capi import *``: the C-style ``IMP_*`` functions, structs and constants;
- the Pythonic layer: :func:`imp.open` for a camera, and the pipeline composed from it:
  ``cam.framesource()`` -> ``cam.overlay()`` / ``cam.motion()`` -> ``cam.encoder(...,
  output=...)``, each node a source for the next (:mod:`imp.pipeline`).
"""

from __future__ import annotations

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
