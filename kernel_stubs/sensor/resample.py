"""Area resampling of whole planes, as the ISP's crop + scaler stage does it.

Each output pixel averages the source area it covers, so an integer downscale is exactly a box
filter. Done with two small weight matrices; callers cache the results, so the matrix products
(tens of milliseconds at 1080p) run once per channel geometry, not per frame.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["area_weights", "resample_plane"]

Box = tuple[float, float, float, float]


def area_weights(start: float, length: float, out_len: int) -> np.ndarray:
    """(out_len, n) weights mapping source samples ``floor(start)..`` onto ``out_len`` outputs.

    The source span [start, start + length) is split into ``out_len`` equal parts; each row
    holds the overlap of one part with each source sample, normalised to sum to one.
    """
    first = math.floor(start)
    count = math.ceil(start + length) - first
    step = length / out_len
    lo = (start - first + np.arange(out_len) * step)[:, None]
    hi = lo + step
    samples = np.arange(count)[None, :]
    overlap = np.clip(np.minimum(hi, samples + 1) - np.maximum(lo, samples), 0.0, None)
    weights: np.ndarray = (overlap / step).astype(np.float32)
    return weights


def resample_plane(plane: np.ndarray, box: Box, out_width: int, out_height: int) -> np.ndarray:
    """The ``box`` (left, top, width, height) of ``plane`` resized to out size, as float32."""
    left, top, width, height = box
    if (
        (width, height) == (out_width, out_height)
        and float(left).is_integer()
        and float(top).is_integer()
    ):
        x, y = int(left), int(top)
        return plane[y : y + out_height, x : x + out_width].astype(np.float32)
    wy = area_weights(top, height, out_height)
    wx = area_weights(left, width, out_width)
    y0, x0 = math.floor(top), math.floor(left)
    src = plane[y0 : y0 + wy.shape[1], x0 : x0 + wx.shape[1]].astype(np.float32)
    rows, cols = src.shape
    # Multiply along the axis that shrinks the most first: fewer operations in the second step.
    if out_height * cols * (rows + out_width) <= out_width * rows * (cols + out_height):
        result: np.ndarray = (wy @ src) @ wx.T
    else:
        result = wy @ (src @ wx.T)
    return result
