"""Encoder: H.264, H.265 and JPEG channels over the frame graph (``IMP_Encoder_*``).

- :mod:`imp.encoder.module` — groups and channels (the state behind the C API);
- :mod:`imp.encoder.channel` — one channel: frame queue, worker thread, stream buffer;
- :mod:`imp.encoder.codec_control` — its codec and run-time parameters (SetChnBitRate, ...);
- :mod:`imp.encoder.attr` — ``IMPEncoderChnAttr`` and SetDefaultParam;
- :mod:`imp.encoder.api` — the Pythonic settings :class:`H264`, :class:`H265`, :class:`JPEG`;
- :mod:`imp.encoder.handle` — :func:`open_encoder` and its graph-node handle (with outputs);
- :mod:`imp.encoder.stream` — :class:`EncodedStream`, one picture handed to the caller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imp.core.lazy import exports_of, lazy_exports

if TYPE_CHECKING:
    from imp.encoder.api import H264, H265, JPEG, Settings
    from imp.encoder.attr import EncoderAttr, GopAttr, RcAttr, default_attr
    from imp.encoder.channel import EncoderChannel, EncoderChannelStats
    from imp.encoder.handle import EncoderHandle, open_encoder
    from imp.encoder.module import Encoder, get_encoder
    from imp.encoder.stream import EncodedStream, Pack

# Imported on first use: a pipeline without an encoder (or importing only imp.encoder.readyfd)
# never loads the encoder and its codecs (imp.core.lazy).
__getattr__ = lazy_exports(
    __name__,
    {
        **exports_of("imp.encoder.api", "H264", "H265", "JPEG", "Settings"),
        **exports_of("imp.encoder.attr", "EncoderAttr", "GopAttr", "RcAttr", "default_attr"),
        **exports_of("imp.encoder.channel", "EncoderChannel", "EncoderChannelStats"),
        **exports_of("imp.encoder.handle", "EncoderHandle", "open_encoder"),
        **exports_of("imp.encoder.module", "Encoder", "get_encoder"),
        **exports_of("imp.encoder.stream", "EncodedStream", "Pack"),
    },
)

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
