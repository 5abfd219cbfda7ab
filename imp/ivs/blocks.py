"""Vectorised block statistics over a luma plane: the numpy kernels of the move detectors.

numpy's multi-axis reductions over small axes (``reshape(h/8, 8, w/8, 8).sum((1, 3))``) run
an inner loop of 8 per output element and cost ~1 ms at 640x360; adding strided slices instead
keeps every pass a long contiguous loop (~0.1-0.2 ms). Sums stay in uint16 as long as they fit
(8 rows x 255 = 2040; 8x8 x 255 = 16320).
"""

from __future__ import annotations

import numpy as np


def block_sums(y: np.ndarray, size: int) -> np.ndarray:
    """Sum of every ``size`` x ``size`` block of uint8 ``y`` (the partial blocks at the right
    and bottom edges are left out): shape (h // size, w // size), uint16 (16*16*255 fits)."""
    if size < 1 or size > 16:
        raise ValueError(f"block size {size} must be 1..16")
    h, w = y.shape
    rows, cols = h // size, w // size
    if rows == 0 or cols == 0:
        raise ValueError(f"a {w}x{h} plane has no whole {size}x{size} block")
    grid = y[: rows * size, : cols * size].reshape(rows, size, cols * size)
    vert = grid[:, 0].astype(np.uint16)
    for i in range(1, size):
        vert += grid[:, i]
    out = vert[:, 0::size].copy()
    for i in range(1, size):
        out += vert[:, i::size]
    return out


def abs_diff(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """|a - b| of two uint8 planes without widening: max - min never wraps. ``out`` may be
    ``a`` or ``b``."""
    lo = np.minimum(a, b)  # before ``out`` (possibly an input) is overwritten
    hi = np.maximum(a, b, out=out)
    return np.subtract(hi, lo, out=hi)


def add_offset(src: np.ndarray, offset: int, out: np.ndarray) -> np.ndarray:
    """out = clip(src + offset, 0, 255) on uint8, in two passes and no widening."""
    if offset > 0:
        offset = min(offset, 255)
        np.minimum(src, 255 - offset, out=out)
        out += np.uint8(offset)
    elif offset < 0:
        offset = min(-offset, 255)
        np.maximum(src, offset, out=out)
        out -= np.uint8(offset)
    else:
        np.copyto(out, src)
    return out


def rect_sums(integral: np.ndarray, rects: np.ndarray) -> np.ndarray:
    """Sums over many [r0, r1) x [c0, c1) rectangles of a 2-D map, given its zero-padded
    integral image (``integral_image``); ``rects`` is (n, 4) of r0, c0, r1, c1."""
    r0, c0, r1, c1 = rects.T
    return integral[r1, c1] - integral[r0, c1] - integral[r1, c0] + integral[r0, c0]


def integral_image(mask: np.ndarray) -> np.ndarray:
    """(h + 1, w + 1) int32 cumulative sums with a zero first row and column."""
    h, w = mask.shape
    out = np.zeros((h + 1, w + 1), dtype=np.int32)
    np.cumsum(mask, axis=0, dtype=np.int32, out=out[1:, 1:])
    np.cumsum(out[1:, 1:], axis=1, out=out[1:, 1:])
    return out


__all__ = ["abs_diff", "add_offset", "block_sums", "integral_image", "rect_sums"]
