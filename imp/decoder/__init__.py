"""Decoder: H.264 and JPEG streams in, NV12 frames out (``IMP_Decoder_*``).

- :mod:`imp.decoder.attr` — ``IMPDecoderAttr`` and limits;
- :mod:`imp.decoder.channel` — one channel: unit queue, decode worker, frame pool, graph source
  (device DEC = 2);
- :mod:`imp.decoder.module` — the channel table;
- :mod:`imp.decoder.api` — the Pythonic :class:`VideoDecoder`.

Decoding goes through the codec seam (:mod:`imp.codec.decode`; PyAV in the simulator).
"""

from __future__ import annotations

from imp.decoder.api import VideoDecoder
from imp.decoder.attr import DecoderAttr
from imp.decoder.channel import DecoderChannel, DecoderStats
from imp.decoder.module import Decoder, get_decoder

__all__ = [
    "Decoder",
    "DecoderAttr",
    "DecoderChannel",
    "DecoderStats",
    "VideoDecoder",
    "get_decoder",
]
