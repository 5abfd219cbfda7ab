"""The decoder side of the codec seam: what a decoder backend turns packets into.

A backend takes one access unit (H.264 Annex-B, or one JPEG file) and returns the pictures the
call completed as planar 4:2:0 arrays; :func:`write_nv12` packs them into an NV12 frame (the
only copy: the backend's buffers belong to it). Backends: ``pyav`` (FFmpeg's h264 and mjpeg
decoders through PyAV, :mod:`imp.codec.pyav_decoder`). :func:`open_decoder` picks one by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from imp.codec.base import CodecType
from imp.errors import InvalidArgument, NotSupported

__all__ = ["DECODER_BACKENDS", "DecodedPicture", "DecoderBackend", "open_decoder", "write_nv12"]

DECODER_BACKENDS = ("pyav",)


@dataclass
class DecodedPicture:
    """One decoded picture, planar 4:2:0: ``y`` (h, w), ``u`` and ``v`` (h/2, w/2), uint8."""

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    pts: int

    @property
    def width(self) -> int:
        return int(self.y.shape[1])

    @property
    def height(self) -> int:
        return int(self.y.shape[0])


class DecoderBackend(Protocol):
    """A decoder of one stream. Not thread-safe: one caller at a time."""

    codec: CodecType

    def decode(self, data: bytes, pts: int) -> list[DecodedPicture]:
        """Decode one access unit; returns the pictures it completed (pts echoed). A damaged
        unit raises :class:`~imp.errors.DeviceError` and leaves the decoder usable."""
        ...

    def flush(self) -> list[DecodedPicture]:
        """Pictures still held inside the decoder (end of stream)."""
        ...

    def close(self) -> None:
        """Free the decoder. Idempotent."""
        ...


def write_nv12(picture: DecodedPicture, y: np.ndarray, uv: np.ndarray) -> None:
    """Pack ``picture`` into NV12 planes ``y`` (h, w) and ``uv`` (h/2, w), e.g. views of an rmem
    frame: the samples as they are (no range conversion, as the hardware decoder)."""
    h, w = picture.height, picture.width
    if y.shape != (h, w) or uv.shape != (h // 2, w):
        raise InvalidArgument(f"NV12 planes {y.shape}/{uv.shape} do not fit a {w}x{h} picture")
    y[...] = picture.y
    uv[:, 0::2] = picture.u
    uv[:, 1::2] = picture.v


def open_decoder(codec: CodecType, backend: str = "pyav") -> DecoderBackend:
    """A decoder of ``codec`` (H264 or JPEG; the T31 decoder has no H.265)."""
    if codec not in (CodecType.H264, CodecType.JPEG):
        raise NotSupported(f"the decoder takes H.264 and JPEG streams, not {codec.value}")
    if backend != "pyav":
        raise InvalidArgument(f"decoder backend {backend!r} is not one of {DECODER_BACKENDS}")
    from imp.codec.pyav_decoder import PyAVDecoder

    return PyAVDecoder(codec)
