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
    Shapes are clipped to the frame *before* anything is allocated, so the work and memory are
    O(visible pixels) whatever the coordinates, offset and scale (a cover at +-8192 scaled 64
    times spans a million pixels a side, of which a frame shows at most a frame's worth).
    """
    attr = content.attr
    kind = attr.type
    factor = g.alpha_factor
    ox, oy = g.offset
    if kind in (RegionType.COVER, RegionType.RECT, RegionType.LINE):
        y, u, v, a = colour_yuva(attr.colour)
        alpha = int(scale_alpha(a, factor))
        if alpha == 0:
            return None
        if kind is RegionType.LINE:
            scale = g.effective_scale
            shape = _line_mask(attr.rect, attr.linewidth, scale, g.offset, width, height)
        else:
            x0, y0, x1, y1 = _scaled_box(attr.rect, g.effective_scale)
            box = (x0 + ox, y0 + oy, x1 + ox, y1 + oy)
            shape = _box_mask(box, attr.linewidth if kind is RegionType.RECT else 0, width, height)
        if shape is None:
            return None
        sx0, sy0, mask = shape
        stamp = Stamp(sx0, sy0, mask.astype(np.uint8) * np.uint8(alpha), y, u, v)
        return clip(stamp, width, height)
    if kind in (RegionType.PIC, RegionType.PIC_RMEM):
        if content.picture is None:
            return None
        a_pic, y_pic, u_pic, v_pic = content.picture
        x0, y0, _, _ = normalised(attr.rect)
        visible = clip(Stamp(x0 + ox, y0 + oy, a_pic, y_pic, u_pic, v_pic), width, height)
        if visible is None or factor == 255:
            return visible
        scaled = scale_alpha(visible.alpha, factor)  # only the visible part
        if not scaled.any():
            return None
        return Stamp(visible.x, visible.y, scaled, visible.luma, visible.cb, visible.cr)
    if kind is RegionType.BITMAP:
        if content.bits is None:
            return None
        return _bitmap_stamp(content.bits, attr, g, width, height)
    return None


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


def _window(
    box: tuple[int, int, int, int], width: int, height: int
) -> tuple[int, int, int, int] | None:
    """The part of inclusive box (x0, y0, x1, y1) inside the frame, or None."""
    x0, y0, x1, y1 = box
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width - 1), min(y1, height - 1)
    return None if x0 > x1 or y0 > y1 else (x0, y0, x1, y1)


def _box_mask(
    box: tuple[int, int, int, int], linewidth: int, width: int, height: int
) -> tuple[int, int, np.ndarray] | None:
    """A filled box (``linewidth`` 0) or its outline ``linewidth`` pixels wide drawn inside it
    (a stroke as wide as half the box fills it), cut to the frame: (x, y, mask) or None."""
    win = _window(box, width, height)
    if win is None:
        return None
    wx0, wy0, wx1, wy1 = win
    if linewidth <= 0:
        return wx0, wy0, np.ones((wy1 - wy0 + 1, wx1 - wx0 + 1), dtype=bool)
    bx0, by0, bx1, by1 = box
    rows = np.arange(wy0, wy1 + 1)
    cols = np.arange(wx0, wx1 + 1)
    row_edge = (rows < by0 + linewidth) | (rows > by1 - linewidth)
    col_edge = (cols < bx0 + linewidth) | (cols > bx1 - linewidth)
    return wx0, wy0, row_edge[:, None] | col_edge[None, :]


def _line_mask(
    rect: tuple[int, int, int, int],
    linewidth: int,
    scale: tuple[float, float],
    offset: tuple[int, int],
    width: int,
    height: int,
) -> tuple[int, int, np.ndarray] | None:
    """The line's pixels inside the frame as (x, y, mask), or None. Only the steps along the
    major axis that fall in the frame are computed (the rule is translation-invariant, so the
    offset is applied to the end points first)."""
    sx, sy = scale
    xa, ya, xb, yb = rect
    if (sx, sy) != (1.0, 1.0):
        xa, xb = math.floor(xa * sx), math.floor(xb * sx)
        ya, yb = math.floor(ya * sy), math.floor(yb * sy)
    xa, xb, ya, yb = xa + offset[0], xb + offset[0], ya + offset[1], yb + offset[1]
    x_major = abs(xb - xa) >= abs(yb - ya)
    major_size, minor_size = (width, height) if x_major else (height, width)
    if not x_major:  # transpose, draw, transpose back
        xa, ya, xb, yb = ya, xa, yb, xb
    if xb < xa:
        xa, ya, xb, yb = xb, yb, xa, ya
    dM, dm = xb - xa, yb - ya
    t0, t1 = max(0, -xa), min(dM, major_size - 1 - xa)
    if t0 > t1:
        return None
    t = np.arange(t0, t1 + 1, dtype=np.int64)
    minor = ya + (2 * dm * t + dM) // (2 * dM) if dM else np.full(t.shape, ya, dtype=np.int64)
    lo = (linewidth - 1) // 2
    m0 = max(int(minor.min()) - lo, 0)
    m1 = min(int(minor.max()) - lo + linewidth - 1, minor_size - 1)
    if m0 > m1:
        return None
    # Each column's stroke is one run of rows: mark its clipped ends and fill by a running sum.
    first = np.clip(minor - lo - m0, 0, m1 - m0 + 1)
    last = np.clip(minor - lo + linewidth - m0, 0, m1 - m0 + 1)  # one past the run
    runs = np.zeros((m1 - m0 + 2, t.size), dtype=np.int32)
    columns = np.arange(t.size)
    np.add.at(runs, (first, columns), 1)
    np.add.at(runs, (last, columns), -1)
    mask = np.cumsum(runs, axis=0, dtype=np.int32)[:-1] > 0
    if x_major:
        return xa + t0, m0, mask
    return m0, xa + t0, np.ascontiguousarray(mask.T)


def _bitmap_stamp(
    bits: np.ndarray, attr: RegionAttr, g: GroupRegionAttr, width: int, height: int
) -> Stamp | None:
    x0, y0, _, _ = normalised(attr.rect)
    ox, oy = g.offset
    h, w = bits.shape
    win = _window((x0 + ox, y0 + oy, x0 + ox + w - 1, y0 + oy + h - 1), width, height)
    if win is None:
        return None
    wx0, wy0, wx1, wy1 = win
    bits = bits[wy0 - y0 - oy : wy1 - y0 - oy + 1, wx0 - x0 - ox : wx1 - x0 - ox + 1]
    one, zero = (255, 0) if attr.fmt == PIX_FMT_MONOBLACK else (0, 255)
    fg = rgb_to_yuv(one, one, one)
    bg = rgb_to_yuv(zero, zero, zero)
    fg_alpha = g.alpha_factor
    bg_alpha = g.bg_alpha if g.global_alpha else 0
    alpha = np.where(bits, np.uint8(fg_alpha), np.uint8(bg_alpha)).astype(np.uint8)
    planes = [np.where(bits, f, b).astype(np.uint8) for f, b in zip(fg, bg, strict=True)]
    return clip(Stamp(wx0, wy0, alpha, planes[0], planes[1], planes[2]), width, height)


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
