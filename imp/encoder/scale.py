"""Fitting a frame to an encoder channel: crop, then scale (``IMPEncoderEncAttr.crop``).

A group carries one picture size, but a channel may be registered into a group whose frames
are larger (sample-Change-Resolution registers a 640x480 channel into the 1080p group: "the
encoder downscales"). Nearest-neighbour sampling through precomputed index arrays is cheap in
numpy and keeps hard edges (the simulator's frame mark) hard.
"""

from __future__ import annotations

import numpy as np

from imp.errors import InvalidArgument


class PlaneFitter:
    """Maps (y, uv) NV12 planes of one input size to the channel's size."""

    def __init__(
        self,
        in_size: tuple[int, int],
        out_size: tuple[int, int],
        crop: tuple[int, int, int, int] | None = None,
    ) -> None:
        in_w, in_h = in_size
        out_w, out_h = out_size
        x, y, w, h = crop if crop is not None else (0, 0, in_w, in_h)
        # Chroma is subsampled 2x2: keep the crop window on even coordinates.
        x, y, w, h = x & ~1, y & ~1, w & ~1, h & ~1
        if w <= 0 or h <= 0 or x + w > in_w or y + h > in_h:
            raise InvalidArgument(
                f"encoder crop ({x}, {y}, {w}, {h}) does not fit the {in_w}x{in_h} input"
            )
        self.in_size = in_size
        self.out_size = out_size
        self._window = (x, y, w, h)
        self.identity = (x, y, w, h) == (0, 0, in_w, in_h) and (w, h) == (out_w, out_h)
        self._rows = y + (np.arange(out_h) * h) // out_h
        self._cols = x + (np.arange(out_w) * w) // out_w
        self._crows = y // 2 + (np.arange(out_h // 2) * (h // 2)) // (out_h // 2)
        self._ccols = x // 2 + (np.arange(out_w // 2) * (w // 2)) // (out_w // 2)

    def fit(self, y: np.ndarray, uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.identity:
            return y, uv
        out_w, out_h = self.out_size
        y_out = y[self._rows[:, None], self._cols[None, :]]
        pairs = uv.reshape(uv.shape[0], uv.shape[1] // 2, 2)
        uv_out = pairs[self._crows[:, None], self._ccols[None, :]].reshape(out_h // 2, out_w)
        return y_out, uv_out


__all__ = ["PlaneFitter"]
