"""imp — Ingenic T31 media SDK (libimp 1.1.6) in Python, on the board and in a simulator.

Two faces over one core:

- ``from imp.capi import *``: the C-style ``IMP_*`` functions, structs and constants;
- the Pythonic layer: :func:`imp.open` for a camera, channels, frames and exceptions.
"""

from __future__ import annotations

from imp.camera import Camera, CapturedFrame, FrameSourceChannel, open
from imp.encoder.api import H264, H265, JPEG
from imp.errors import (
    AlreadyExists,
    Busy,
    DeviceError,
    ImpError,
    InvalidArgument,
    InvalidState,
    NotFound,
    NotSupported,
    OutOfMemory,
    Timeout,
)

__version__ = "0.1.0"

__all__ = [
    "H264",
    "H265",
    "JPEG",
    "AlreadyExists",
    "Busy",
    "Camera",
    "CapturedFrame",
    "DeviceError",
    "FrameSourceChannel",
    "ImpError",
    "InvalidArgument",
    "InvalidState",
    "NotFound",
    "NotSupported",
    "OutOfMemory",
    "Timeout",
    "__version__",
    "open",
]
