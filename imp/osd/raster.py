"""From a region and its group attributes to a *stamp*: per luma pixel, an alpha and a colour.

A stamp is in frame coordinates and clipped to the frame. Alpha 0 leaves a pixel alone. Shapes:

- COVER: the whole rect.
- RECT: the outline, ``linewidth`` pixels drawn *inside* the rect (a stroke wider than half
  the rect fills it).
- LINE: for each step along the major axis from p0 to p1 (both included), the minor coordinate
  is rounded half up: ``minor = m0 + floor((2 * dm * t + dM) / (2 * dM))`` (end points ordered so
  ``dM > 0``); the stroke covers ``linewidth`` pixels across the minor axis, from
  ``minor - (linewidth - 1) // 2`` on. A zero-length line is one dot.
- BITMAP: a 1 bit is foreground, a 0 bit background (MONOBLACK: 1 = white, 0 = black;
  MONOWHITE: 1 = black, 0 = white); background pixels are transparent unless the group has
  ``gAlphaEn``, then they are drawn with ``bgAlhpa``.
- PIC / PIC_RMEM: the picture's own alpha per pixel.

Alpha of every type is multiplied by the group alpha ``fgAlhpa`` when ``gAlphaEn`` is set
(``(a * fg + 127) // 255``); LINE/RECT/COVER take ``a`` from their colour's alpha byte.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from imp.osd.attrs import GroupRegionAttr, RegionAttr, RegionType, normalised, rect_size
from imp.osd.colour import (
    PIX_FMT_MONOBLACK,
    colour_yuva,
    picture_to_yuva,
    rgb_to_yuv,
    scale_alpha,
)

Colour = np.ndarray | int


@dataclass(frozen=True, eq=False)
class Content:
    """A region's attributes plus its data decoded for blending; immutable, swapped whole."""

    attr: RegionAttr
    picture: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None  # A, Y, Cb, Cr
    bits: np.ndarray | None = None  # BITMAP: (h, w) bool, True = a 1 bit


def make_content(attr: RegionAttr) -> Content:
    """Decode a validated attr's data once, at Set/Update time (not per frame)."""
    if attr.type in (RegionType.PIC, RegionType.PIC_RMEM) and isinstance(attr.data, np.ndarray):
        return Content(attr, picture=picture_to_yuva(attr.data, attr.fmt))
    if attr.type is RegionType.BITMAP and attr.data is not None:
        w, h = rect_size(attr.rect)
        packed = np.frombuffer(bytes(attr.data), dtype=np.uint8).reshape(h, -1)
        bits = np.unpackbits(packed, axis=1)[:, :w].astype(bool)
        return Content(attr, bits=bits)
    return Content(attr)


@dataclass(frozen=True, eq=False)
class Stamp:
    """Alpha and colour per luma pixel of a box at (x, y) in the frame."""

    x: int
    y: int
    alpha: np.ndarray  # (h, w) uint8
    luma: Colour  # (h, w) uint8 array or one code for the whole stamp
    cb: Colour
    cr: Colour

    @property
    def width(self) -> int:
        return int(self.alpha.shape[1])

    @property
    def height(self) -> int:
        return int(self.alpha.shape[0])


def rasterize(content: Content, g: GroupRegionAttr, width: int, height: int) -> Stamp | None:
    """The stamp of ``content`` as group attrs ``g`` show it on a ``width`` x ``height`` frame.

    None when nothing would be drawn (INV, no data yet, fully transparent, off the frame).
    """
    attr = content.attr
    kind = attr.type
    factor = g.alpha_factor
    ox, oy = g.offset
    stamp: Stamp | None
    if kind in (RegionType.COVER, RegionType.RECT, RegionType.LINE):
        y, u, v, a = colour_yuva(attr.colour)
        alpha = int(scale_alpha(a, factor))
        if alpha == 0:
            return None
        if kind is RegionType.LINE:
            x0, y0, mask = _line_mask(attr.rect, attr.linewidth, g.effective_scale)
        else:
            x0, y0, x1, y1 = _scaled_box(attr.rect, g.effective_scale)
            mask = np.ones((y1 - y0 + 1, x1 - x0 + 1), dtype=bool)
            if kind is RegionType.RECT:
                _hollow(mask, attr.linewidth)
        stamp = Stamp(x0 + ox, y0 + oy, mask.astype(np.uint8) * np.uint8(alpha), y, u, v)
    elif kind in (RegionType.PIC, RegionType.PIC_RMEM):
        if content.picture is None:
            return None
        a_pic, y_pic, u_pic, v_pic = content.picture
        x0, y0, _, _ = normalised(attr.rect)
        alpha_arr = a_pic if factor == 255 else scale_alpha(a_pic, factor)
        stamp = Stamp(x0 + ox, y0 + oy, alpha_arr, y_pic, u_pic, v_pic)
    elif kind is RegionType.BITMAP:
        if content.bits is None:
            return None
        stamp = _bitmap_stamp(content.bits, attr, g)
    else:
        return None
    return clip(stamp, width, height)


def _scaled_box(rect: tuple[int, int, int, int], scale: tuple[float, float]) -> tuple[int, ...]:
    # Scale pixel *edges*, so (0,0)-(639,359) x 3 is exactly (0,0)-(1919,1079).
    x0, y0, x1, y1 = normalised(rect)
    sx, sy = scale
    if (sx, sy) == (1.0, 1.0):
        return x0, y0, x1, y1
    nx0, ny0 = math.floor(x0 * sx), math.floor(y0 * sy)
    nx1 = max(nx0, math.floor((x1 + 1) * sx) - 1)
    ny1 = max(ny0, math.floor((y1 + 1) * sy) - 1)
    return nx0, ny0, nx1, ny1


def _hollow(mask: np.ndarray, linewidth: int) -> None:
    h, w = mask.shape
    if 2 * linewidth < h and 2 * linewidth < w:
        mask[linewidth : h - linewidth, linewidth : w - linewidth] = False


def _line_mask(
    rect: tuple[int, int, int, int], linewidth: int, scale: tuple[float, float]
) -> tuple[int, int, np.ndarray]:
    sx, sy = scale
    xa, ya, xb, yb = rect
    if (sx, sy) != (1.0, 1.0):
        xa, xb = math.floor(xa * sx), math.floor(xb * sx)
        ya, yb = math.floor(ya * sy), math.floor(yb * sy)
    x_major = abs(xb - xa) >= abs(yb - ya)
    if not x_major:  # transpose, draw, transpose back
        xa, ya, xb, yb = ya, xa, yb, xb
    if xb < xa:
        xa, ya, xb, yb = xb, yb, xa, ya
    dM, dm = xb - xa, yb - ya
    t = np.arange(dM + 1, dtype=np.int64)
    minor = ya + (2 * dm * t + dM) // (2 * dM) if dM else np.full(1, ya, dtype=np.int64)
    lo = (linewidth - 1) // 2
    offsets = np.arange(-lo, linewidth - lo, dtype=np.int64)
    m0 = int(minor.min()) - lo
    mask = np.zeros((int(minor.max()) - lo + linewidth - m0, dM + 1), dtype=bool)
    rows = (minor - m0)[None, :] + offsets[:, None]
    mask[rows, np.broadcast_to(t, rows.shape)] = True
    if x_major:
        return xa, m0, mask
    return m0, xa, np.ascontiguousarray(mask.T)


def _bitmap_stamp(bits: np.ndarray, attr: RegionAttr, g: GroupRegionAttr) -> Stamp:
    one, zero = (255, 0) if attr.fmt == PIX_FMT_MONOBLACK else (0, 255)
    fg = rgb_to_yuv(one, one, one)
    bg = rgb_to_yuv(zero, zero, zero)
    fg_alpha = g.alpha_factor
    bg_alpha = g.bg_alpha if g.global_alpha else 0
    alpha = np.where(bits, np.uint8(fg_alpha), np.uint8(bg_alpha)).astype(np.uint8)
    planes = [np.where(bits, f, b).astype(np.uint8) for f, b in zip(fg, bg, strict=True)]
    x0, y0, _, _ = normalised(attr.rect)
    ox, oy = g.offset
    return Stamp(x0 + ox, y0 + oy, alpha, planes[0], planes[1], planes[2])


def clip(stamp: Stamp, width: int, height: int) -> Stamp | None:
    """The part of ``stamp`` inside a ``width`` x ``height`` frame; None if nothing is left."""
    x0, y0 = max(stamp.x, 0), max(stamp.y, 0)
    x1, y1 = min(stamp.x + stamp.width, width), min(stamp.y + stamp.height, height)
    if x0 >= x1 or y0 >= y1:
        return None
    rows = slice(y0 - stamp.y, y1 - stamp.y)
    cols = slice(x0 - stamp.x, x1 - stamp.x)
    alpha = stamp.alpha[rows, cols]
    if not alpha.any():
        return None

    def part(c: Colour) -> Colour:
        return c[rows, cols] if isinstance(c, np.ndarray) else c

    return Stamp(x0, y0, alpha, part(stamp.luma), part(stamp.cb), part(stamp.cr))


__all__ = ["Content", "Stamp", "clip", "make_content", "rasterize"]
