"""Colours of the OSD: ``IMPOsdColour`` values, picture pixel formats and BT.601 conversion.

Region colours are 32-bit ``0xAARRGGBB`` values (so ``OSD_GREEN = 0xff00ff00``); in memory, little
endian, that is the byte order B, G, R, A, which is why the vendor calls it BGRA. Frames are NV12
in the encoder's range: BT.601 limited ("video") range, Y 16..235 and Cb/Cr 16..240.

The conversion is defined in integers (coefficients x 1000, rounded half up) so that it is exact
and any independent implementation of the same formula gets the same codes:

    Y  =  16 + round(( 65.481 R + 128.553 G +  24.966 B) / 255)
    Cb = 128 + round((-37.797 R -  74.203 G + 112.000 B) / 255)
    Cr = 128 + round((112.000 R -  93.786 G -  18.214 B) / 255)
"""

from __future__ import annotations

import numpy as np

from imp.errors import InvalidArgument

# IMPOsdColour (imp_osd.h).
OSD_BLACK = 0xFF000000
OSD_WHITE = 0xFFFFFFFF
OSD_RED = 0xFFFF0000
OSD_GREEN = 0xFF00FF00
OSD_BLUE = 0xFF0000FF

# IMPPixelFormat values the OSD reads (imp_common.h).
PIX_FMT_MONOWHITE = 8
PIX_FMT_MONOBLACK = 9
PIX_FMT_ARGB = 14
PIX_FMT_RGBA = 15
PIX_FMT_ABGR = 16
PIX_FMT_BGRA = 17
PIX_FMT_0RGB = 26
PIX_FMT_RGB0 = 27
PIX_FMT_0BGR = 28
PIX_FMT_BGR0 = 29

# 32-bit picture formats: byte index of R, G, B and A (None: opaque, the byte is padding).
PICTURE_FORMATS: dict[int, tuple[int, int, int, int | None]] = {
    PIX_FMT_BGRA: (2, 1, 0, 3),
    PIX_FMT_RGBA: (0, 1, 2, 3),
    PIX_FMT_ARGB: (1, 2, 3, 0),
    PIX_FMT_ABGR: (3, 2, 1, 0),
    PIX_FMT_BGR0: (2, 1, 0, None),
    PIX_FMT_RGB0: (0, 1, 2, None),
    PIX_FMT_0RGB: (1, 2, 3, None),
    PIX_FMT_0BGR: (3, 2, 1, None),
}
PICTURE_FORMAT_NAMES = {
    PIX_FMT_BGRA: "BGRA",
    PIX_FMT_RGBA: "RGBA",
    PIX_FMT_ARGB: "ARGB",
    PIX_FMT_ABGR: "ABGR",
    PIX_FMT_BGR0: "BGR0",
    PIX_FMT_RGB0: "RGB0",
    PIX_FMT_0RGB: "0RGB",
    PIX_FMT_0BGR: "0BGR",
}
BITMAP_FORMATS = (PIX_FMT_MONOWHITE, PIX_FMT_MONOBLACK)

_SCALE = 255_000
_HALF = _SCALE // 2


def rgb_to_yuv(
    r: np.ndarray | int, g: np.ndarray | int, b: np.ndarray | int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.601 limited-range Y, Cb, Cr (uint8) of 8-bit R, G, B (arrays or scalars)."""
    r64, g64, b64 = (np.asarray(c, dtype=np.int64) for c in (r, g, b))
    y = 16 + (65_481 * r64 + 128_553 * g64 + 24_966 * b64 + _HALF) // _SCALE
    u = 128 + (-37_797 * r64 - 74_203 * g64 + 112_000 * b64 + _HALF) // _SCALE
    v = 128 + (112_000 * r64 - 93_786 * g64 - 18_214 * b64 + _HALF) // _SCALE
    return y.astype(np.uint8), u.astype(np.uint8), v.astype(np.uint8)


def split_argb(colour: int) -> tuple[int, int, int, int]:
    """``0xAARRGGBB`` -> (A, R, G, B)."""
    c = int(colour) & 0xFFFFFFFF
    return (c >> 24) & 0xFF, (c >> 16) & 0xFF, (c >> 8) & 0xFF, c & 0xFF


def colour_yuva(colour: int) -> tuple[int, int, int, int]:
    """``0xAARRGGBB`` -> (Y, Cb, Cr, A) in video range."""
    a, r, g, b = split_argb(colour)
    y, u, v = rgb_to_yuv(r, g, b)
    return int(y), int(u), int(v), a


def scale_alpha(alpha: np.ndarray | int, global_alpha: int) -> np.ndarray:
    """Per-pixel alpha times the group alpha: ``(alpha * global + 127) // 255`` (uint8).

    With ``global_alpha`` 255 the alpha is unchanged; with 0 the region is invisible.
    """
    a = np.asarray(alpha, dtype=np.int64)
    return ((a * int(global_alpha) + 127) // 255).astype(np.uint8)


def picture_to_yuva(
    pixels: np.ndarray, fmt: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A (h, w, 4) uint8 picture in ``fmt`` -> (alpha, Y, Cb, Cr) planes, each (h, w) uint8."""
    layout = PICTURE_FORMATS.get(fmt)
    if layout is None:
        raise InvalidArgument(
            f"picture pixel format {fmt} is not supported; use one of "
            + ", ".join(f"{n} ({v})" for v, n in PICTURE_FORMAT_NAMES.items())
        )
    if pixels.ndim != 3 or pixels.shape[2] != 4 or pixels.dtype != np.uint8:
        raise InvalidArgument(
            f"a picture must be a (height, width, 4) uint8 array, got {pixels.shape} {pixels.dtype}"
        )
    ri, gi, bi, ai = layout
    y, u, v = rgb_to_yuv(pixels[..., ri], pixels[..., gi], pixels[..., bi])
    if ai is None:
        alpha = np.full(pixels.shape[:2], 255, np.uint8)
    else:
        alpha = np.ascontiguousarray(pixels[..., ai])
    return alpha, y, u, v


__all__ = [
    "BITMAP_FORMATS",
    "OSD_BLACK",
    "OSD_BLUE",
    "OSD_GREEN",
    "OSD_RED",
    "OSD_WHITE",
    "PICTURE_FORMATS",
    "PICTURE_FORMAT_NAMES",
    "PIX_FMT_ABGR",
    "PIX_FMT_ARGB",
    "PIX_FMT_BGRA",
    "PIX_FMT_MONOBLACK",
    "PIX_FMT_MONOWHITE",
    "PIX_FMT_RGBA",
    "colour_yuva",
    "picture_to_yuva",
    "rgb_to_yuv",
    "scale_alpha",
    "split_argb",
]
