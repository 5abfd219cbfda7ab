"""Encoder: H.264, H.265 and JPEG channels over the frame graph (``IMP_Encoder_*``).

- :mod:`imp.encoder.module` — groups and channels (the state behind the C API);
- :mod:`imp.encoder.channel` — one channel: frame queue, worker thread, stream buffer;
- :mod:`imp.encoder.attr` — ``IMPEncoderChnAttr`` and SetDefaultParam;
- :mod:`imp.encoder.api` — the Pythonic settings :class:`H264`, :class:`H265`, :class:`JPEG`;
- :mod:`imp.encoder.handle` — :func:`open_encoder` and its graph-node handle (with outputs);
- :mod:`imp.encoder.stream` — :class:`EncodedStream`, one picture handed to the caller.
"""

from __future__ import annotations

from imp.encoder.api import H264, H265, JPEG, Settings
from imp.encoder.attr import EncoderAttr, GopAttr, RcAttr, default_attr
from imp.encoder.channel import EncoderChannel, EncoderChannelStats
from imp.encoder.handle import EncoderHandle, open_encoder
from imp.encoder.module import Encoder, get_encoder
from imp.encoder.stream import EncodedStream, Pack

__all__ = [
    "H264",
    "H265",
    "JPEG",
    "EncodedStream",
    "Encoder",
    "EncoderAttr",
    "EncoderChannel",
    "EncoderChannelStats",
    "EncoderHandle",
    "GopAttr",
    "Pack",
    "RcAttr",
    "Settings",
    "default_attr",
    "get_encoder",
    "open_encoder",
]
