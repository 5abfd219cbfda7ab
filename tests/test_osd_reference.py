"""An independent, deliberately plain reference of the OSD drawing rules (per-pixel loops and
Python integers), used by the other OSD tests; plus checks of the reference itself against
published BT.601 values.

The rules (docs of imp.osd.raster / imp.osd.patches, restated here from the spec, not the code):
- colours: BT.601 limited range, Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255, etc.,
  rounded half up; alpha x group alpha: (a * fg + 127) // 255 when gAlphaEn;
- luma: (C a + D (255 - a) + 127) // 255;
- chroma per 2x2 block: (sum a_i C_i + D (1020 - sum a_i) + 508) // 1020;
- regions drawn one after another, by layer then handle.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import floor

import numpy as np

FORMATS = {  # IMPPixelFormat -> byte index of R, G, B, A (None: opaque)
    17: (2, 1, 0, 3),  # BGRA
    15: (0, 1, 2, 3),  # RGBA
    14: (1, 2, 3, 0),  # ARGB
    16: (3, 2, 1, 0),  # ABGR
    29: (2, 1, 0, None),  # BGR0
}


def ref_yuv(r: int, g: int, b: int) -> tuple[int, int, int]:
    def rnd(x: Fraction) -> int:
        return floor(x + Fraction(1, 2))

    y = 16 + rnd(Fraction(65481 * r + 128553 * g + 24966 * b, 255000))
    u = 128 + rnd(Fraction(-37797 * r - 74203 * g + 112000 * b, 255000))
    v = 128 + rnd(Fraction(112000 * r - 93786 * g - 18214 * b, 255000))
    return y, u, v


@dataclass
class RefGroupAttr:
    show: bool = True
    offset: tuple[int, int] = (0, 0)
    scale: tuple[float, float] = (1.0, 1.0)
    galpha: bool = False
    fg: int = 255
    bg: int = 0
    layer: int = 0


@dataclass
class RefRegion:
    """kind: 'cover' | 'rect' | 'line' | 'bitmap' | 'pic'."""

    kind: str
    rect: tuple[int, int, int, int]
    colour: int = 0
    linewidth: int = 1
    fmt: int = 17
    pixels: np.ndarray | None = None  # pic: (h, w, 4) uint8; bitmap: (h, w) 0/1


def _alpha(a: int, g: RefGroupAttr) -> int:
    return (a * g.fg + 127) // 255 if g.galpha else a


def pixels_of(reg: RefRegion, g: RefGroupAttr) -> dict[tuple[int, int], tuple[int, int, int, int]]:
    """(x, y) -> (alpha, Y, Cb, Cr) of every pixel the region draws (before clipping)."""
    out: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    ox, oy = g.offset
    sx, sy = (s if s > 0 else 1.0 for s in g.scale)
    if reg.kind in ("cover", "rect", "line"):
        c = reg.colour
        a = _alpha((c >> 24) & 255, g)
        yuv = ref_yuv((c >> 16) & 255, (c >> 8) & 255, c & 255)
        if a == 0:
            return out
        if reg.kind == "line":
            xa, ya, xb, yb = reg.rect
            xa, xb = floor(xa * sx), floor(xb * sx)
            ya, yb = floor(ya * sy), floor(yb * sy)
            for x, y in _line_points(xa, ya, xb, yb, reg.linewidth):
                out[(x + ox, y + oy)] = (a, *yuv)
            return out
        x0, y0, x1, y1 = reg.rect
        x0, x1 = min(x0, x1), max(x0, x1)
        y0, y1 = min(y0, y1), max(y0, y1)
        if (sx, sy) != (1.0, 1.0):
            x0, x1 = floor(x0 * sx), max(floor(x0 * sx), floor((x1 + 1) * sx) - 1)
            y0, y1 = floor(y0 * sy), max(floor(y0 * sy), floor((y1 + 1) * sy) - 1)
        lw = reg.linewidth
        for y in range(y0, y1 + 1):
            for x in range(x0, x1 + 1):
                edge = x < x0 + lw or x > x1 - lw or y < y0 + lw or y > y1 - lw
                if reg.kind == "cover" or edge:
                    out[(x + ox, y + oy)] = (a, *yuv)
        return out
    x0, y0 = min(reg.rect[0], reg.rect[2]), min(reg.rect[1], reg.rect[3])
    assert reg.pixels is not None
    if reg.kind == "bitmap":
        white, black = ref_yuv(255, 255, 255), ref_yuv(0, 0, 0)
        one, zero = (white, black) if reg.fmt == 9 else (black, white)
        for (y, x), bit in np.ndenumerate(reg.pixels):
            if bit:
                a, yuv = (g.fg if g.galpha else 255), one
            else:
                a, yuv = (g.bg if g.galpha else 0), zero
            if a:
                out[(x0 + x + ox, y0 + y + oy)] = (a, *yuv)
        return out
    ri, gi, bi, ai = FORMATS[reg.fmt]
    h, w = reg.pixels.shape[:2]
    for y in range(h):
        for x in range(w):
            p = [int(v) for v in reg.pixels[y, x]]
            a = _alpha(255 if ai is None else p[ai], g)
            if a:
                out[(x0 + x + ox, y0 + y + oy)] = (a, *ref_yuv(p[ri], p[gi], p[bi]))
    return out


def _line_points(xa: int, ya: int, xb: int, yb: int, lw: int) -> list[tuple[int, int]]:
    pts = []
    steep = abs(yb - ya) > abs(xb - xa)
    if steep:
        xa, ya, xb, yb = ya, xa, yb, xb
    if xb < xa:
        xa, ya, xb, yb = xb, yb, xa, ya
    dx, dy = xb - xa, yb - ya
    lo = (lw - 1) // 2
    for t in range(dx + 1):
        minor = ya if dx == 0 else ya + floor(Fraction(2 * dy * t + dx, 2 * dx))
        for o in range(-lo, lw - lo):
            pts.append((minor + o, xa + t) if steep else (xa + t, minor + o))
    return pts


def ref_draw(
    y: np.ndarray, uv: np.ndarray, regions: list[tuple[int, RefRegion, RefGroupAttr]]
) -> tuple[np.ndarray, np.ndarray]:
    """Expected planes after drawing ``(handle, region, attrs)`` onto copies of ``y``/``uv``."""
    y = y.astype(np.int64)
    uv = uv.astype(np.int64)
    height, width = y.shape
    for _, reg, g in sorted(regions, key=lambda e: (e[2].layer, e[0])):
        if not g.show:
            continue
        px = {
            k: v for k, v in pixels_of(reg, g).items() if 0 <= k[0] < width and 0 <= k[1] < height
        }
        new_y = y.copy()
        for (x, yy), (a, cy, _, _) in px.items():
            new_y[yy, x] = (cy * a + y[yy, x] * (255 - a) + 127) // 255
        blocks = {(x // 2, yy // 2) for x, yy in px}
        new_uv = uv.copy()
        for bx, by in blocks:
            for c in (0, 1):
                total_a = 0
                total_c = 0
                for dy in (0, 1):
                    for dx in (0, 1):
                        p = px.get((2 * bx + dx, 2 * by + dy))
                        if p is not None:
                            total_a += p[0]
                            total_c += p[0] * p[2 + c]
                d = uv[by, 2 * bx + c]
                new_uv[by, 2 * bx + c] = (total_c + d * (1020 - total_a) + 508) // 1020
        y, uv = new_y, new_uv
    return y.astype(np.uint8), uv.astype(np.uint8)


# -- checks of the reference itself ---------------------------------------------------------------
def test_reference_colours_match_published_bt601_values() -> None:
    # ITU-R BT.601 limited range: black 16/128/128, white 235/128/128, 100 % red 81/90/240,
    # green 145/54/34, blue 41/240/110 (rounded from the exact formula).
    assert ref_yuv(0, 0, 0) == (16, 128, 128)
    assert ref_yuv(255, 255, 255) == (235, 128, 128)
    assert ref_yuv(255, 0, 0) == (81, 90, 240)
    assert ref_yuv(0, 255, 0) == (145, 54, 34)
    assert ref_yuv(0, 0, 255) == (41, 240, 110)


def test_imp_conversion_agrees_with_the_reference_on_every_grey_and_a_random_sample() -> None:
    from imp.osd.colour import rgb_to_yuv

    rng = np.random.default_rng(7)
    rgb = np.concatenate(
        [np.repeat(np.arange(256)[:, None], 3, axis=1), rng.integers(0, 256, (3000, 3))]
    )
    y, u, v = rgb_to_yuv(rgb[:, 0], rgb[:, 1], rgb[:, 2])
    for i, (r, g, b) in enumerate(rgb.tolist()):
        assert (int(y[i]), int(u[i]), int(v[i])) == ref_yuv(r, g, b), (r, g, b)


def test_reference_blend_by_hand() -> None:
    # A 2x2 frame, one pixel covered by opaque white: Y 235 there; chroma = 1/4 of the way.
    y = np.full((2, 2), 100, np.uint8)
    uv = np.array([[60, 200]], np.uint8)
    reg = RefRegion("cover", (1, 1, 1, 1), colour=0xFFFFFFFF)
    ey, euv = ref_draw(y, uv, [(0, reg, RefGroupAttr())])
    assert ey.tolist() == [[100, 100], [100, 235]]
    assert euv.tolist() == [
        [(128 * 255 + 60 * 765 + 508) // 1020, (128 * 255 + 200 * 765 + 508) // 1020]
    ]
