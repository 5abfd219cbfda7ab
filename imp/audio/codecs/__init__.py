"""Audio codecs for AENC/ADEC: the built-ins (PCM, G.711 A/mu-law, G.726 32 kbit/s) and AAC and
Opus encoders/decoders over PyAV, ready to register (``imp.audio.aenc.register_encoder``)."""

from __future__ import annotations

from imp.audio.codecs.base import AudioDecoder, AudioEncoder, PayloadType, PcmFrame
from imp.audio.codecs.builtin import (
    G726_BIT_RATE,
    G711Decoder,
    G711Encoder,
    G726Decoder,
    G726Encoder,
    PcmDecoder,
    PcmEncoder,
)
from imp.errors import InvalidArgument


def builtin_encoder(pt: int) -> AudioEncoder:
    """A new encoder for a built-in payload type."""
    if pt == PayloadType.PCM:
        return PcmEncoder()
    if pt in (PayloadType.G711A, PayloadType.G711U):
        return G711Encoder("a" if pt == PayloadType.G711A else "u")
    if pt == PayloadType.G726:
        return G726Encoder()
    raise InvalidArgument(
        f"payload type {pt} has no built-in encoder (PT_PCM, PT_G711A, PT_G711U, PT_G726 do; "
        "register others with IMP_AENC_RegisterEncoder)"
    )


def builtin_decoder(pt: int) -> AudioDecoder:
    """A new decoder for a built-in payload type."""
    if pt == PayloadType.PCM:
        return PcmDecoder()
    if pt in (PayloadType.G711A, PayloadType.G711U):
        return G711Decoder("a" if pt == PayloadType.G711A else "u")
    if pt == PayloadType.G726:
        return G726Decoder()
    raise InvalidArgument(
        f"payload type {pt} has no built-in decoder (PT_PCM, PT_G711A, PT_G711U, PT_G726 do; "
        "register others with IMP_ADEC_RegisterDecoder)"
    )


BUILTIN_TYPES = (PayloadType.PCM, PayloadType.G711A, PayloadType.G711U, PayloadType.G726)

__all__ = [
    "BUILTIN_TYPES",
    "G726_BIT_RATE",
    "AudioDecoder",
    "AudioEncoder",
    "PayloadType",
    "PcmFrame",
    "builtin_decoder",
    "builtin_encoder",
]
