"""The codec seam (libimp's AL_Codec layer): configuration, results, the backend protocol.

The encoder module owns packs, the stream ring buffer, channel state and the C structs; a backend
only turns NV12 pictures into NAL units (or one JPEG file) and keeps its own GOP and rate control
state. That split leaves room for a hardware backend (``avpu``) beside the software one.

Backends: ``pyav`` (libx264, libx265, mjpeg through PyAV; :mod:`imp.codec.pyav_backend`) and
``null`` (fixed tiny pictures, no encoding; :mod:`imp.codec.null_backend`). :func:`open_backend`
picks one by name, from the ``IMP_CODEC_BACKEND`` environment variable, or ``pyav``.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from imp.errors import InvalidArgument

__all__ = [
    "BACKENDS",
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
]

BACKENDS = ("pyav", "null")
ENV_BACKEND = "IMP_CODEC_BACKEND"

PROFILES: dict[str, tuple[str, ...]] = {
    "h264": ("baseline", "main", "high"),
    "h265": ("main",),
    "jpeg": ("baseline",),
}
QP_RANGE = (0, 51)


class CodecType(enum.Enum):
    H264 = "h264"
    H265 = "h265"
    JPEG = "jpeg"


class RcMode(enum.Enum):
    """Rate-control modes; values are those of ``IMPEncoderRcMode``."""

    FIXQP = 0
    CBR = 1
    VBR = 2
    CAPPED_VBR = 4
    CAPPED_QUALITY = 8


class SliceType(enum.IntEnum):
    """Values of ``IMPEncoderSliceType`` (imp/types.py)."""

    B = 0
    P = 1
    I = 2  # noqa: E741 - the vendor's name


@dataclass(frozen=True)
class RateControl:
    """Rate control of an H.264/H.265 stream; bit rates in kbit/s.

    ``ip_delta``/``pb_delta`` of -1 leave the codec's default. What each mode means for a given
    backend is documented in that backend's module (for ``pyav``: x264/x265 options).
    """

    mode: RcMode = RcMode.FIXQP
    qp: int = 30  # FIXQP: the QP of every picture (iInitialQP)
    target_kbps: int = 2000  # CBR: the rate; VBR and capped modes: the average aimed at
    max_kbps: int = 2000  # VBR and capped modes: never exceeded over any 1 s window
    min_qp: int = 15
    max_qp: int = 48
    ip_delta: int = -1
    pb_delta: int = -1
    max_psnr: int = 42  # capped modes: the quality (dB) beyond which no bits are spent


@dataclass(frozen=True)
class CodecConfig:
    """What a backend is opened with."""

    codec: CodecType
    width: int
    height: int
    fps: tuple[int, int] = (25, 1)  # numerator, denominator
    profile: str = "high"  # h264: baseline|main|high; h265: main; jpeg: baseline
    gop: int = 50  # pictures from one IDR to the next; 0 or 1: every picture is an IDR
    rc: RateControl = field(default_factory=RateControl)
    jpeg_quality: int = 75  # 1..100, as IJG libjpeg's quality


@dataclass
class Nal:
    """One NAL unit (or, for JPEG, one whole file)."""

    data: bytes  # Annex-B: begins with the 4-byte start code 00 00 00 01; JPEG: SOI..EOI
    nal_type: int  # H.264: 7 SPS, 8 PPS, 6 SEI, 5 IDR, 1 non-IDR; H.265: 32/33/34 VPS/SPS/PPS,
    # 39 SEI, 19/20/21 IDR, 1 TRAIL_R; JPEG: 0


@dataclass
class EncodedPicture:
    """One coded picture."""

    nals: list[Nal]  # JPEG: exactly one "Nal" holding a complete JPEG file
    keyframe: bool  # an IDR with its parameter sets in front / every JPEG
    slice_type: SliceType
    pts: int  # the pts given to encode(), echoed
    qp: float | None = None  # average QP as the codec reports it; None when it does not
    size: int = 0  # total bytes of all nals


class EncoderBackend(Protocol):
    """An encoder of one stream. Not thread-safe: one caller at a time."""

    config: CodecConfig

    def encode(
        self,
        y: np.ndarray,
        uv: np.ndarray,
        pts: int,
        force_idr: bool = False,
        input_done: Callable[[], None] | None = None,
    ) -> list[EncodedPicture]:
        """Encode one NV12 picture; returns the pictures this call completed.

        ``y`` is uint8 (height, width), ``uv`` uint8 (height // 2, width) with CbCr interleaved;
        both may be views of DMA memory with any row stride. No reference to them is kept after
        the call returns. ``force_idr`` makes this picture an IDR (as :meth:`request_idr`).
        ``input_done``, if given, is called at most once, as soon as the codec no longer reads
        ``y``/``uv`` (a codec that copies the picture first calls it before encoding), so the
        caller can hand the frame's buffer back early; it may not be called at all (on an
        error, or by a codec that does not say), so the caller releases afterwards too.
        """
        ...

    def update(
        self,
        *,
        rc: RateControl | None = None,
        fps: tuple[int, int] | None = None,
        gop: int | None = None,
    ) -> None:
        """Change run-time parameters; see the backend for when each takes effect."""
        ...

    def request_idr(self) -> None:
        """The next picture encoded is an IDR with parameter sets."""
        ...

    def flush(self) -> list[EncodedPicture]:
        """Pictures still held inside the codec (none for a zero-latency setup)."""
        ...

    def close(self) -> None:
        """Free the codec. Idempotent."""
        ...


def check_config(config: CodecConfig) -> None:
    """InvalidArgument unless ``config`` is one a backend can open."""
    if not isinstance(config.codec, CodecType):
        raise InvalidArgument(f"codec {config.codec!r} must be a CodecType (H264, H265, JPEG)")
    if config.width <= 0 or config.height <= 0 or config.width % 2 or config.height % 2:
        raise InvalidArgument(
            f"picture size {config.width}x{config.height} must be positive and even (NV12)"
        )
    num, den = config.fps
    if num <= 0 or den <= 0:
        raise InvalidArgument(f"frame rate {num}/{den} must be positive (numerator/denominator)")
    allowed = PROFILES[config.codec.value]
    if config.profile not in allowed:
        hint = f" (pass profile={allowed[0]!r})" if len(allowed) == 1 else ""
        raise InvalidArgument(
            f"profile {config.profile!r} is not one of {config.codec.value}'s: "
            f"{', '.join(allowed)}{hint}"
        )
    if config.gop < 0:
        raise InvalidArgument(f"GOP length {config.gop} must be >= 0 (0 or 1: all intra)")
    if config.codec is CodecType.JPEG:
        if not 1 <= config.jpeg_quality <= 100:
            raise InvalidArgument(f"JPEG quality {config.jpeg_quality} must be 1..100")
    else:
        check_rate_control(config.rc)


def check_rate_control(rc: RateControl) -> None:
    """InvalidArgument unless ``rc`` is self-consistent."""
    if not isinstance(rc.mode, RcMode):
        raise InvalidArgument(f"rate-control mode {rc.mode!r} must be an RcMode")
    lo, hi = QP_RANGE
    if not lo <= rc.qp <= hi:
        raise InvalidArgument(f"QP {rc.qp} must be {lo}..{hi}")
    if not (lo <= rc.min_qp <= hi and lo <= rc.max_qp <= hi) or rc.min_qp > rc.max_qp:
        raise InvalidArgument(
            f"QP bounds {rc.min_qp}..{rc.max_qp} must lie within {lo}..{hi} with min <= max"
        )
    if rc.mode is not RcMode.FIXQP:
        if rc.target_kbps <= 0:
            raise InvalidArgument(f"target bit rate {rc.target_kbps} kbit/s must be > 0")
        if rc.mode is not RcMode.CBR and rc.max_kbps <= 0:
            raise InvalidArgument(f"max bit rate {rc.max_kbps} kbit/s must be > 0")
    for name, delta in (("ip_delta", rc.ip_delta), ("pb_delta", rc.pb_delta)):
        if not -hi <= delta <= hi:
            raise InvalidArgument(f"{name} {delta} must be -{hi}..{hi} (-1: codec default)")
    if rc.mode in (RcMode.CAPPED_VBR, RcMode.CAPPED_QUALITY) and not 20 <= rc.max_psnr <= 99:
        raise InvalidArgument(f"max_psnr {rc.max_psnr} dB must be 20..99 in the capped modes")


def check_planes(config: CodecConfig, y: np.ndarray, uv: np.ndarray) -> None:
    """InvalidArgument unless ``y``/``uv`` are the NV12 planes of a ``config``-sized picture."""
    want_y = (config.height, config.width)
    want_uv = (config.height // 2, config.width)
    if y.dtype != np.uint8 or y.shape != want_y:
        raise InvalidArgument(
            f"luma plane must be uint8 {want_y} for a {config.width}x{config.height} encoder, "
            f"got {y.dtype} {y.shape}"
        )
    if uv.dtype != np.uint8 or uv.shape != want_uv:
        raise InvalidArgument(
            f"chroma plane must be uint8 {want_uv} (interleaved CbCr) for a "
            f"{config.width}x{config.height} encoder, got {uv.dtype} {uv.shape}"
        )
    if y.strides[1] != 1 or uv.strides[1] != 1:
        raise InvalidArgument("planes must have contiguous pixels within a row (column stride 1)")


def open_backend(config: CodecConfig, backend: str | None = None) -> EncoderBackend:
    """A backend for ``config``: ``backend``, else $IMP_CODEC_BACKEND, else ``pyav``."""
    name = backend if backend is not None else os.environ.get(ENV_BACKEND) or "pyav"
    if name == "pyav":
        from imp.codec.pyav_backend import PyAVBackend

        return PyAVBackend(config)
    if name == "null":
        from imp.codec.null_backend import NullBackend

        return NullBackend(config)
    source = "backend argument" if backend is not None else f"${ENV_BACKEND}"
    raise InvalidArgument(
        f"unknown codec backend {name!r} (from the {source}); choose one of {', '.join(BACKENDS)}"
    )
