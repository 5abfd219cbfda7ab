"""``IMPPixelFormat`` helpers: names and picture sizes (imp_utils.h, imp_common.h).

Values are libimp 1.1.6's: ``IMPPixfmtToString`` names every format up to the Bayer ones and
has no name for RAW, HSV and NB (NULL); the ``imp_common.h`` inline helpers know only the formats
the T31 pipeline produces (``calc_pic_size``: NV12 3/2, YUYV422/UYVY422/RGB565BE 2, BGR0 4 bytes a
pixel, 0 for anything else; ``fmt_to_string``: "nv12" and "yuyv422", NULL otherwise).
"""

from __future__ import annotations

from fractions import Fraction

# IMPPixelFormat value -> IMPPixfmtToString() text, in enum order (0 .. 33).
_NAMES = [
    "YUV420Planar",
    "YUYV422",
    "UYVY422",
    "YUV422P",
    "YUV444P",
    "YUV410P",
    "YUV411P",
    "GRAY8",
    "MONOWHITE",
    "MONOBLACK",
    "NV12",
    "NV21",
    "RGB24",
    "BGR24",
    "ARGB",
    "RGBA",
    "ABGR",
    "BGRA",
    "RGB565BE",
    "RGB565LE",
    "RGB555BE",
    "RGB555LE",
    "BGR565BE",
    "BGR565LE",
    "BGR555BE",
    "BGR555LE",
    "0RGB",
    "RGB0",
    "0BGR",
    "BGR0",
    "BGGR8",
    "RGGB8",
    "GBRG8",
    "GRBG8",
]
PIX_FMT_NB = 36

# calc_pic_size: bytes per pixel of the formats imp_common.h (T31) knows.
_BYTES_PER_PIXEL = {
    10: Fraction(3, 2),  # NV12
    1: Fraction(2),  # YUYV422
    2: Fraction(2),  # UYVY422
    18: Fraction(2),  # RGB565BE
    29: Fraction(4),  # BGR0
}
_SHORT_NAMES = {10: "nv12", 1: "yuyv422"}


def pixfmt_name(pixfmt: int) -> str | None:
    """``IMPPixfmtToString``: e.g. "NV12"; None for RAW, HSV, NB and out-of-range values."""
    if 0 <= pixfmt < len(_NAMES):
        return _NAMES[pixfmt]
    return None


def calc_pic_size(width: int, height: int, pixfmt: int) -> int:
    """``calc_pic_size``: width * height * bytes per pixel, truncated as C's int arithmetic
    (``w*h*3/2`` for NV12); 0 for a format the helper does not know."""
    bpp = _BYTES_PER_PIXEL.get(pixfmt)
    if bpp is None:
        return 0
    return width * height * bpp.numerator // bpp.denominator


def fmt_to_string(pixfmt: int) -> str | None:
    """``fmt_to_string``: "nv12" or "yuyv422"; None for every other format."""
    return _SHORT_NAMES.get(pixfmt)
