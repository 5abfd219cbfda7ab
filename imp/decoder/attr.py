"""Decoder channel attributes (``IMPDecoderAttr``) and limits."""

from __future__ import annotations

from dataclasses import dataclass

from imp.codec.base import CodecType
from imp.core.vbm import PIX_FMT_NV12
from imp.errors import InvalidArgument, NotSupported

PT_JPEG, PT_H264, PT_H265 = 0, 1, 2  # IMPPayloadType
PAYLOADS = {PT_JPEG: CodecType.JPEG, PT_H264: CodecType.H264}
MAX_CHANNELS = 8  # decoder channels 0..7
MAX_KEEP = 32  # nrKeepStream bound: pictures (and queued units) a channel holds
MAX_SIZE = 4096


@dataclass(frozen=True)
class DecoderAttr:
    """Pythonic ``IMPDecoderAttr``: the stream type, the largest picture, how much to keep."""

    codec: CodecType
    max_width: int
    max_height: int
    pixfmt: int = PIX_FMT_NV12
    nr_keep_stream: int = 2  # units queued for decoding; also decoded pictures ready to get
    fps: tuple[int, int] = (25, 1)

    def validate(self, chn: int) -> None:
        where = f"decoder channel {chn}"
        if self.codec not in PAYLOADS.values():
            raise NotSupported(
                f"{where}: the decoder takes H.264 (PT_H264) and JPEG (PT_JPEG) streams, "
                f"not {self.codec.value}"
            )
        if not (16 <= self.max_width <= MAX_SIZE and 16 <= self.max_height <= MAX_SIZE):
            raise InvalidArgument(
                f"{where}: maximum size {self.max_width}x{self.max_height} must be 16..{MAX_SIZE}"
            )
        if self.max_width % 2 or self.max_height % 2:
            raise InvalidArgument(
                f"{where}: NV12 needs an even maximum size, got {self.max_width}x{self.max_height}"
            )
        if self.pixfmt != PIX_FMT_NV12:
            raise NotSupported(f"{where}: output pixel format {self.pixfmt}; only NV12 (10)")
        if not 1 <= self.nr_keep_stream <= MAX_KEEP:
            raise InvalidArgument(
                f"{where}: nrKeepStream {self.nr_keep_stream} must be 1..{MAX_KEEP}"
            )
        num, den = self.fps
        if num <= 0 or den <= 0:
            raise InvalidArgument(f"{where}: frame rate {num}/{den} must be positive")


def codec_of_payload(payload: int) -> CodecType:
    """``IMPPayloadType`` -> codec (PT_H265 is a payload the T31 decoder does not take)."""
    codec = PAYLOADS.get(payload)
    if codec is None:
        raise NotSupported(
            f"decType {payload}: the decoder takes PT_JPEG (0) and PT_H264 (1)"
            + (" — H.265 decoding is not part of the T31 decoder" if payload == PT_H265 else "")
        )
    return codec


def payload_of_codec(codec: CodecType) -> int:
    return {v: k for k, v in PAYLOADS.items()}[codec]
