"""The codec seam: NV12 pictures in, NAL units (or one JPEG file) out.

``open_backend(CodecConfig(...))`` gives an :class:`EncoderBackend`; see :mod:`imp.codec.base`
for the interface, :mod:`imp.codec.pyav_backend` for the software codecs and their rate-control
mapping, :mod:`imp.codec.null_backend` for the no-encoding backend used to measure overhead.
"""

from __future__ import annotations

from imp.codec.base import (
    BACKENDS,
    CodecConfig,
    CodecType,
    EncodedPicture,
    EncoderBackend,
    Nal,
    RateControl,
    RcMode,
    SliceType,
    check_config,
    check_planes,
    check_rate_control,
    open_backend,
)
from imp.codec.nal import START_CODE, split_annexb

__all__ = [
    "BACKENDS",
    "START_CODE",
    "CodecConfig",
    "CodecType",
    "EncodedPicture",
    "EncoderBackend",
    "Nal",
    "RateControl",
    "RcMode",
    "SliceType",
    "check_config",
    "check_planes",
    "check_rate_control",
    "open_backend",
    "split_annexb",
]
