"""Blending a stamp into NV12: exact integer rules, compiled once into cheap patches.

**Luma**, per pixel with alpha ``a`` and colour ``C`` over the frame's ``D``:
``Y = (C * a + D * (255 - a) + 127) // 255``.

**Chroma** (one Cb and one Cr sample per 2x2 luma block in NV12): the block is blended by
coverage. With ``a_i`` and ``C_i`` for its four luma pixels (``a_i = 0`` where the region does
not reach, e.g. the left column of a region that starts at an odd x):
``Cb = (sum(a_i * C_i) + D * (1020 - sum(a_i)) + 508) // 1020``, the mean of the four
unrounded per-pixel blends, rounded once. A fully covered uniform block (all ``a_i = a``)
gives exactly the luma formula, so a region with even edges is drawn as if chroma were
full resolution; a block half covered gets half the effect.

A region is compiled (at Set time, not per frame) into *patches*: rectangles of a plane where
``out = (D * w + k) >> 23`` (``w, k`` premultiplied by 32897, which divides by 255 exactly for
every value that can occur) or, for blocks that need the /1020 rule,
``out = ((((D * w + k) >> 2) * 32897) >> 23)``. Uniform areas (the inside of a cover, the sides
of a rect) become patches with scalar ``w, k``; pictures become array patches cut into strips
around their visible pixels. Everything stays in uint32 and is applied in row chunks that fit
the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from imp.osd.raster import Stamp

MUL = 32897  # (x * 32897) >> 23 == x // 255 for 0 <= x <= 65152
SHIFT = 23
DIV255 = 0
DIV1020 = 1
CHUNK = 1 << 15  # elements per scratch chunk: 128 KiB of uint32 per OSD group (17 rows of 1080p)
_MAX_GRID = 1024  # grid cells examined before giving up on uniform decomposition
_MAX_UNIFORM = 48  # uniform patches allowed before strips are cheaper to run
_STRIP = 16  # rows per strip of an array patch


@dataclass(frozen=True, eq=False)
class Patch:
    """``plane[top:bottom, left:right] = f(plane, w, k)``; ``w``/``k`` broadcast over it."""

    chroma: bool
    top: int
    bottom: int
    left: int
    right: int
    kind: int
    w: np.ndarray  # uint32, shape (1, 1), (1, cols) or (rows, cols)
    k: np.ndarray

    @property
    def pixels(self) -> int:
        return (self.bottom - self.top) * (self.right - self.left)


def compile_stamp(stamp: Stamp) -> list[Patch]:
    """Luma then chroma patches of one stamp."""
    return _luma_patches(stamp) + _chroma_patches(stamp)


def _as_u32(value: np.ndarray | int | list[list[int]]) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(value, dtype=np.int64).astype(np.uint32))


def _luma_patches(stamp: Stamp) -> list[Patch]:
    a = stamp.alpha.astype(np.int32)
    weight = 255 - a
    term2d = a * np.asarray(stamp.luma, dtype=np.int32)  # (h, w): alpha is per pixel
    patches = []
    for r0, r1, c0, c1, uniform in _cells((weight, term2d), a > 0):
        if uniform:
            w, k = int(weight[r0, c0]), int(term2d[r0, c0])
            w_arr, k_arr = _as_u32([[w * MUL]]), _as_u32([[(k + 127) * MUL]])
        else:
            w_arr = _as_u32(weight[r0:r1, c0:c1].astype(np.int64) * MUL)
            k_arr = _as_u32((term2d[r0:r1, c0:c1].astype(np.int64) + 127) * MUL)
        patches.append(
            Patch(
                False, stamp.y + r0, stamp.y + r1, stamp.x + c0, stamp.x + c1, DIV255, w_arr, k_arr
            )
        )
    return patches


def _block_sums(stamp: Stamp) -> tuple[int, int, np.ndarray, np.ndarray, np.ndarray]:
    """Per 2x2 block of the frame under the stamp: sum(a), sum(a * Cb), sum(a * Cr)."""
    px, py = stamp.x % 2, stamp.y % 2
    h, w = stamp.alpha.shape
    nbx, nby = (px + w + 1) // 2, (py + h + 1) // 2
    a = stamp.alpha.astype(np.int32)  # sums stay below 2**18

    def block_sum(plane: np.ndarray) -> np.ndarray:
        padded = np.zeros((2 * nby, 2 * nbx), dtype=np.int32)
        padded[py : py + h, px : px + w] = plane
        return padded[0::2, 0::2] + padded[0::2, 1::2] + padded[1::2, 0::2] + padded[1::2, 1::2]

    sa = block_sum(a)
    sums = [
        sa * int(c) if not isinstance(c, np.ndarray) else block_sum(a * c.astype(np.int32))
        for c in (stamp.cb, stamp.cr)
    ]
    return stamp.x // 2, stamp.y // 2, sa, sums[0], sums[1]


def _chroma_patches(stamp: Stamp) -> list[Patch]:
    bx, by, sa, su, sv = _block_sums(stamp)
    patches = []
    for r0, r1, c0, c1, uniform in _cells((sa, su, sv), sa > 0):
        if uniform:
            a, u, v = (int(s[r0, c0]) for s in (sa, su, sv))
            cols = c1 - c0
            if a % 4 == 0 and u % 4 == 0 and v % 4 == 0:
                kind = DIV255
                w_arr = _as_u32([[(1020 - a) // 4 * MUL]])
                k_arr = _as_u32(np.tile([(u // 4 + 127) * MUL, (v // 4 + 127) * MUL], (1, cols)))
            else:
                kind = DIV1020
                w_arr = _as_u32([[1020 - a]])
                k_arr = _as_u32(np.tile([u + 508, v + 508], (1, cols)))
        else:
            a_blk, u_blk, v_blk = (s[r0:r1, c0:c1] for s in (sa, su, sv))
            weight = np.repeat(1020 - a_blk.astype(np.int64), 2, axis=1)
            term = np.empty_like(weight)
            term[:, 0::2], term[:, 1::2] = u_blk, v_blk
            if not ((weight % 4).any() or (term % 4).any()):
                kind = DIV255
                w_arr, k_arr = _as_u32(weight // 4 * MUL), _as_u32((term // 4 + 127) * MUL)
            else:
                kind = DIV1020
                w_arr, k_arr = _as_u32(weight), _as_u32(term + 508)
        patches.append(
            Patch(True, by + r0, by + r1, 2 * (bx + c0), 2 * (bx + c1), kind, w_arr, k_arr)
        )
    return patches


def _cells(
    keys: tuple[np.ndarray, ...], covered: np.ndarray
) -> list[tuple[int, int, int, int, bool]]:
    """Rectangles covering every ``covered`` element: (top, bottom, left, right, uniform).

    First try a grid whose lines fall where any key changes between neighbouring rows or
    columns: each cell is then uniform in every key. Cells are merged along a row when equal.
    If that yields too many rectangles, cut the area into strips of rows instead, each
    trimmed to its covered columns (array patches).
    """
    uniform = _uniform_cells(keys, covered)
    if uniform is not None:
        return uniform
    out = []
    h = covered.shape[0]
    for r0 in range(0, h, _STRIP):
        r1 = min(r0 + _STRIP, h)
        cols = np.flatnonzero(covered[r0:r1].any(axis=0))
        if cols.size:
            out.append((r0, r1, int(cols[0]), int(cols[-1]) + 1, False))
    return out


def _uniform_cells(
    keys: tuple[np.ndarray, ...], covered: np.ndarray
) -> list[tuple[int, int, int, int, bool]] | None:
    h, w = covered.shape
    row_cut = np.zeros(h + 1, dtype=bool)
    col_cut = np.zeros(w + 1, dtype=bool)
    row_cut[[0, h]] = True
    col_cut[[0, w]] = True
    for key in keys:
        row_cut[1:h] |= np.any(key[1:] != key[:-1], axis=1)
        col_cut[1:w] |= np.any(key[:, 1:] != key[:, :-1], axis=0)
    rows, cols = np.flatnonzero(row_cut), np.flatnonzero(col_cut)
    if (len(rows) - 1) * (len(cols) - 1) > _MAX_GRID:
        return None
    cells: list[tuple[int, int, int, int, bool]] = []
    for r0, r1 in pairwise(rows.tolist()):
        for c0, c1 in pairwise(cols.tolist()):
            if not covered[r0, c0]:
                continue
            if cells:
                pr0, _, pc0, pc1, _ = cells[-1]
                if pr0 == r0 and pc1 == c0 and all(k[r0, pc0] == k[r0, c0] for k in keys):
                    cells[-1] = (r0, r1, pc0, c1, True)
                    continue
            cells.append((r0, r1, c0, c1, True))
            if len(cells) > _MAX_UNIFORM:
                return None
    return cells


def apply_patches(patches: list[Patch], y: np.ndarray, uv: np.ndarray, scratch: np.ndarray) -> None:
    """Blend ``patches`` into the planes in place. ``scratch``: >= CHUNK uint32 elements."""
    for p in patches:
        plane = uv if p.chroma else y
        cols = p.right - p.left
        step = max(1, CHUNK // cols)
        whole_w, whole_k = p.w.shape[0] == 1, p.k.shape[0] == 1
        for r in range(p.top, p.bottom, step):
            n = min(step, p.bottom - r)
            view = plane[r : r + n, p.left : p.right]
            t = scratch[: n * cols].reshape(n, cols)
            i = r - p.top
            w = p.w if whole_w else p.w[i : i + n]
            k = p.k if whole_k else p.k[i : i + n]
            np.multiply(view, w, out=t, dtype=np.uint32)
            np.add(t, k, out=t)
            if p.kind == DIV1020:
                np.right_shift(t, 2, out=t)
                np.multiply(t, np.uint32(MUL), out=t)
            np.right_shift(t, SHIFT, out=t)
            np.copyto(view, t, casting="unsafe")


def new_scratch() -> np.ndarray:
    return np.empty(CHUNK, dtype=np.uint32)


__all__ = ["Patch", "apply_patches", "compile_stamp", "new_scratch"]
