"""Where a scene object (a rect in sensor pixels) lands in one channel's output picture."""

from __future__ import annotations

from .base import ChannelGeometry, IspControls
from .scene import Rect

__all__ = ["output_box"]


def output_box(
    rect: Rect,
    source: tuple[int, int, int, int],
    geometry: ChannelGeometry,
    controls: IspControls,
) -> tuple[int, int, int, int] | None:
    """A sensor rect as (x0, y0, x1, y1) in output pixels, even-aligned for 4:2:0 chroma."""
    left, top, width, height = source
    out_w, out_h = geometry.out_width, geometry.out_height
    sx, sy = out_w / width, out_h / height
    rx, ry, rw, rh = rect
    x0, x1 = (rx - left) * sx, (rx + rw - left) * sx
    y0, y1 = (ry - top) * sy, (ry + rh - top) * sy
    if controls.hflip:
        x0, x1 = out_w - x1, out_w - x0
    if controls.vflip:
        y0, y1 = out_h - y1, out_h - y0
    ix0, ix1 = (min(max(2 * round(x / 2), 0), out_w) for x in (x0, x1))
    iy0, iy1 = (min(max(2 * round(y / 2), 0), out_h) for y in (y0, y1))
    if ix1 <= ix0 or iy1 <= iy0:
        return None
    return ix0, iy0, ix1, iy1
