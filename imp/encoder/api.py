"""The Pythonic face of the encoder: the settings objects ``H264``, ``H265`` and ``JPEG``.

>>> import imp, imp.encoder as enc
>>> with imp.open() as cam:                                            # doctest: +SKIP
...     main = cam.framesource(0, size=(1920, 1080), fps=25)
...     with enc.open_encoder(main, enc.H264(bitrate_kbps=2000, gop=50)) as h264, \\
...          enc.open_encoder(h264, enc.JPEG(quality=75, fps=1)) as snap:
...         for stream in h264.streams(limit=250):
...             out.write(stream.data)

Handles (:func:`open_encoder`) live in :mod:`imp.encoder.handle`, streams in
:mod:`imp.encoder.stream`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from imp.codec import RcMode
from imp.encoder.attr import (
    PROFILE_AVC_BASELINE,
    PROFILE_AVC_HIGH,
    PROFILE_AVC_MAIN,
    PROFILE_HEVC_MAIN,
    PROFILE_JPEG,
    EncoderAttr,
    default_attr,
)
from imp.errors import InvalidArgument

_AVC_PROFILES = {
    "baseline": PROFILE_AVC_BASELINE,
    "main": PROFILE_AVC_MAIN,
    "high": PROFILE_AVC_HIGH,
}
_RC_NAMES = {
    "fixqp": RcMode.FIXQP,
    "cbr": RcMode.CBR,
    "vbr": RcMode.VBR,
    "capped_vbr": RcMode.CAPPED_VBR,
    "capped_quality": RcMode.CAPPED_QUALITY,
}

Fps = int | tuple[int, int]


def fps_of(value: Fps | None, default: tuple[int, int]) -> tuple[int, int]:
    if value is None:
        return default
    if isinstance(value, int):
        return (value, 1)
    if isinstance(value, tuple) and len(value) == 2:
        return (int(value[0]), int(value[1]))
    raise InvalidArgument(f"fps must be an int or a (num, den) tuple, got {value!r}")


def _checked_size(wanted: tuple[int, int] | None, source: tuple[int, int]) -> tuple[int, int]:
    if wanted is None:
        return source
    if wanted[0] > source[0] or wanted[1] > source[1]:
        raise InvalidArgument(
            f"encoder size {wanted[0]}x{wanted[1]} is larger than its source's "
            f"{source[0]}x{source[1]}; encode at most the source's size"
        )
    return wanted


def _rc(value: str | RcMode) -> RcMode:
    if isinstance(value, RcMode):
        return value
    try:
        return _RC_NAMES[value.lower()]
    except (KeyError, AttributeError):
        raise InvalidArgument(
            f"rate control {value!r}: use one of {', '.join(_RC_NAMES)} or an RcMode"
        ) from None


@dataclass(frozen=True)
class H264:
    """H.264 settings. ``size``/``fps`` None: those of the source. ``qp``: FIXQP's QP, or the
    initial QP of the other modes (-1 lets the rate control choose)."""

    bitrate_kbps: int = 2000
    rc: str | RcMode = "cbr"
    gop: int = 50
    fps: Fps | None = None
    profile: str = "high"
    qp: int = -1
    max_bitrate_kbps: int | None = None
    size: tuple[int, int] | None = None

    def _profile(self) -> int:
        try:
            return _AVC_PROFILES[self.profile]
        except KeyError:
            raise InvalidArgument(
                f"H.264 profile {self.profile!r}: use baseline, main or high"
            ) from None

    def attr(self, size: tuple[int, int], fps: tuple[int, int]) -> EncoderAttr:
        w, h = _checked_size(self.size, size)
        num, den = fps_of(self.fps, fps)
        check_rate("encoder rate", (num, den), fps)
        a = default_attr(
            self._profile(), _rc(self.rc), w, h, num, den, self.gop, 2, self.qp, self.bitrate_kbps
        )
        if self.max_bitrate_kbps is not None:
            a = a.with_rc(max_kbps=self.max_bitrate_kbps)
        return a


@dataclass(frozen=True)
class H265(H264):
    """H.265 (HEVC Main) settings; same fields as :class:`H264` (``profile`` is ignored)."""

    profile: str = "main"

    def _profile(self) -> int:
        return PROFILE_HEVC_MAIN


@dataclass(frozen=True)
class JPEG:
    """JPEG snapshots: ``quality`` 1..100 at ``fps`` pictures per second (of the source's)."""

    quality: int = 75
    fps: Fps | None = 1
    size: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.quality, int) or not 1 <= self.quality <= 100:
            raise InvalidArgument(f"JPEG quality {self.quality!r} must be 1..100 (75 is typical)")

    def attr(self, size: tuple[int, int], fps: tuple[int, int]) -> EncoderAttr:
        w, h = _checked_size(self.size, size)
        num, den = fps_of(self.fps, fps)
        check_rate("JPEG rate", (num, den), fps)
        return default_attr(PROFILE_JPEG, RcMode.FIXQP, w, h, num, den, 0, 0, self.quality, 0)


Settings = H264 | H265 | JPEG


def check_rate(what: str, wanted: tuple[int, int], source: tuple[int, int]) -> None:
    """Refuse a rate above the source's: the frames would simply not exist."""
    if Fraction(*wanted) > Fraction(*source):
        raise InvalidArgument(
            f"{what} {wanted[0]}/{wanted[1]} fps is above the source's {source[0]}/{source[1]} "
            "fps; ask for at most the source's rate"
        )


__all__ = ["H264", "H265", "JPEG", "Fps", "Settings", "check_rate", "fps_of"]
