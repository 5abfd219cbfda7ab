"""The synthetic sensor's still picture, rendered once per (size, style, seed).

"texture" is built to look like something and to give encoders work: smooth colour fields,
seeded shapes, a checkerboard, fine stripes, a zone plate and a static grain. It is generated
at sensor resolution (luma full size, chroma half size, as 4:2:0) and never per frame.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["render_background"]

Planes = tuple[np.ndarray, np.ndarray, np.ndarray]

# 75 % colour bars (white, yellow, cyan, green, magenta, red, blue), BT.601 video range.
_BARS = ((180, 128, 128), (162, 44, 142), (131, 156, 44), (112, 72, 58),
         (84, 184, 198), (65, 100, 212), (35, 212, 114))  # fmt: skip


@lru_cache(maxsize=4)
def render_background(width: int, height: int, style: str, seed: int) -> Planes:
    """(Y (h, w), U (h/2, w/2), V (h/2, w/2)) uint8 planes, read-only."""
    if style == "texture":
        planes = _texture(width, height, seed)
    elif style == "bars":
        planes = _bars(width, height)
    elif style == "flat":
        planes = _flat(width, height)
    else:
        raise ValueError(f"unknown background style {style!r}")
    for plane in planes:
        plane.flags.writeable = False
    return planes


def _flat(width: int, height: int) -> Planes:
    return (
        np.full((height, width), 128, np.uint8),
        np.full((height // 2, width // 2), 128, np.uint8),
        np.full((height // 2, width // 2), 128, np.uint8),
    )


def _bars(width: int, height: int) -> Planes:
    bar_of_column = np.arange(width) * len(_BARS) // width
    levels = np.array(_BARS, dtype=np.uint8)[bar_of_column]  # (w, 3)
    y = np.ascontiguousarray(np.broadcast_to(levels[:, 0], (height, width)))
    u = np.ascontiguousarray(np.broadcast_to(levels[::2, 1], (height // 2, width // 2)))
    v = np.ascontiguousarray(np.broadcast_to(levels[::2, 2], (height // 2, width // 2)))
    return y, u, v


def _texture(width: int, height: int, seed: int) -> Planes:
    rng = np.random.default_rng([seed, width, height])
    # Normalised coordinates, so the layout is the same picture at any sensor size.
    fx = (np.arange(width, dtype=np.float32) + 0.5) / width
    fy = ((np.arange(height, dtype=np.float32) + 0.5) / height)[:, None]
    cx, cy = fx[::2][: width // 2], fy[::2][: height // 2]
    phase = rng.uniform(0, 2 * np.pi, 4).astype(np.float32)

    y = 60 + 90 * fx + 40 * fy + 18 * np.sin(2 * np.pi * (3 * fx + 2 * fy) + phase[0])
    u = 128 + 70 * np.sin(2 * np.pi * 1.5 * cx + phase[1]) * (0.6 + 0.4 * np.cos(2 * np.pi * cy))
    v = 128 + 70 * np.cos(2 * np.pi * (1.2 * cy + 0.5 * cx) + phase[2])

    for _ in range(14):
        x0, y0 = rng.uniform(0, 1), rng.uniform(0, 1)
        size = rng.uniform(0.04, 0.15)
        color = (rng.uniform(40, 220), rng.uniform(40, 216), rng.uniform(40, 216))
        round_shape = bool(rng.integers(2))
        for plane, xs, ys, level in ((y, fx, fy, color[0]), (u, cx, cy, color[1]),
                                     (v, cx, cy, color[2])):  # fmt: skip
            aspect = width / height
            if round_shape:
                mask = ((xs - x0) * aspect) ** 2 + (ys - y0) ** 2 < size**2
            else:
                mask = (np.abs(xs - x0) * aspect < size) & (np.abs(ys - y0) < size * 0.6)
            plane[mask] = level

    _detail(y, width, height, phase[3])
    y += rng.integers(-6, 7, size=y.shape, dtype=np.int8)  # static grain
    return (
        np.clip(np.rint(y), 16, 235).astype(np.uint8),
        np.clip(np.rint(u), 16, 240).astype(np.uint8),
        np.clip(np.rint(v), 16, 240).astype(np.uint8),
    )


def _detail(y: np.ndarray, width: int, height: int, phase: float) -> None:
    """Patches of fine detail, in the lower part of the picture, sized relative to it."""
    unit = max(2, height // 135)
    top, bottom = int(height * 0.68), int(height * 0.92)

    # Checkerboard.
    x0, x1 = int(width * 0.04), int(width * 0.2)
    rows = (np.arange(top, bottom) // unit)[:, None]
    cols = (np.arange(x0, x1) // unit)[None, :]
    y[top:bottom, x0:x1] = np.where((rows + cols) % 2 == 0, 40, 200)

    # Stripes one and two pixels wide.
    x0, x1 = int(width * 0.24), int(width * 0.32)
    cols = np.arange(x0, x1)[None, :]
    y[top:bottom, x0:x1] = np.where((cols // (1 + (cols >= (x0 + x1) // 2))) % 2 == 0, 50, 190)

    # Zone plate: every spatial frequency up to the sensor's limit.
    size = bottom - top
    x0 = int(width * 0.36)
    r = np.arange(size, dtype=np.float32) - size / 2
    radius2 = r[None, :] ** 2 + r[:, None] ** 2
    y[top:bottom, x0 : x0 + size] = 128 + 90 * np.cos(np.pi * radius2 / size + phase)
