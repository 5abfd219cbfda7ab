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
    from imp.audio.adec import AudioDecoderChannel
    from imp.audio.adec import open_decoder as open_audio_decoder
    from imp.audio.aenc import AudioEncoderChannel
    from imp.audio.aenc import open_encoder as open_audio_encoder
    from imp.audio.codecs.base import PayloadType as AudioPayload
    from imp.audio.mic import AudioChunk, Microphone
    from imp.audio.speaker import Speaker
    from imp.camera import Camera, open
    from imp.decoder.api import VideoDecoder
    from imp.emufs.api import EmuSource
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
    from imp.isp.tuning import IspTuning
    from imp.pipeline.events import Event, EventKind, State
    from imp.pipeline.motion import MotionDetector, MotionEvent
    from imp.pipeline.overlay import Overlay
    from imp.pipeline.source import CapturedFrame, FrameSourceChannel

__version__ = "0.1.0"

# name -> module that defines it, or "module:name" where imp's name differs from the module's
_LAZY = {
    "AudioChunk": "imp.audio.mic",
    "Microphone": "imp.audio.mic",
    "Speaker": "imp.audio.speaker",
    "AudioEncoderChannel": "imp.audio.aenc",
    "AudioDecoderChannel": "imp.audio.adec",
    "open_audio_encoder": "imp.audio.aenc:open_encoder",
    "open_audio_decoder": "imp.audio.adec:open_decoder",
    "AudioPayload": "imp.audio.codecs.base:PayloadType",
    "VideoDecoder": "imp.decoder.api",
    "EmuSource": "imp.emufs.api",
    "IspTuning": "imp.isp.tuning",
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
    where = _LAZY.get(name)
    if where is not None:
        module, _, attr = where.partition(":")
        value = getattr(importlib.import_module(module), attr or name)
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
    "AudioChunk",
    "AudioDecoderChannel",
    "AudioEncoderChannel",
    "AudioPayload",
    "Busy",
    "Camera",
    "CapturedFrame",
    "Closed",
    "DeviceError",
    "EmuSource",
    "EncoderHandle",
    "Event",
    "EventKind",
    "FrameSourceChannel",
    "ImpError",
    "InvalidArgument",
    "InvalidState",
    "IspTuning",
    "Microphone",
    "MotionDetector",
    "MotionEvent",
    "NotFound",
    "NotSupported",
    "OutOfMemory",
    "Overlay",
    "Speaker",
    "State",
    "Timeout",
    "VideoDecoder",
    "__version__",
    "open",
    "open_audio_decoder",
    "open_audio_encoder",
]
