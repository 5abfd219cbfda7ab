"""The adaptive background model behind move detection.

The picture is reduced to 4x4-pixel cells (their mean luma). Each cell keeps a background
level and a noise estimate. For a new frame:

1. Global light changes are taken out first: the current cells are fitted as
   ``gain * background + offset`` (least squares, twice: the second time only on cells that
   fit the first time, so moving objects do not bend the fit). Auto-exposure steps and mains
   flicker move the whole picture and end up in ``gain``/``offset``, not in the residual.
2. A cell is *changed* when its residual exceeds ``k`` times its own noise level and an
   absolute floor, both set by the sensitivity, and it has a changed neighbour (sensor noise
   is spatially independent, objects are not). Saturated cells are never changed: clipping
   makes gain changes non-linear there.
3. The background follows unchanged cells with a time constant of a few seconds (slow light
   changes) and changed ones only over a minute, so an object that passes leaves no ghost; a
   changed cell that stays still for ``absorb_after`` seconds (a parked car, or something that
   was there when detection started and left) becomes background at once.

Time constants use frame timestamps, so they do not depend on skipFrameCnt.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from imp.ivs.blocks import block_sums

CELL = 4  # pixels per cell side


@dataclass(frozen=True)
class Sensitivity:
    """What one ``sense`` level means."""

    k: float  # changed when |residual| > k * noise sigma ...
    floor: float  # ... and > floor luma codes
    min_cells: int  # a region is flagged with >= max(min_cells, min_fraction * its cells)
    min_fraction: float


# sense 0 (least sensitive) .. 4 (most): a change must be larger and cover more of the region.
SENSE_LEVELS = (
    Sensitivity(k=9.0, floor=14.0, min_cells=40, min_fraction=0.05),
    Sensitivity(k=7.0, floor=10.0, min_cells=24, min_fraction=0.02),
    Sensitivity(k=5.5, floor=7.0, min_cells=12, min_fraction=0.01),
    Sensitivity(k=4.5, floor=5.0, min_cells=8, min_fraction=0.004),
    Sensitivity(k=3.5, floor=4.0, min_cells=4, min_fraction=0.002),
)
MODEL_LEVEL = SENSE_LEVELS[-1]  # the model protects whatever the most sensitive level sees

NOISE_MIN = 0.5  # luma codes: even a noiseless picture is compared with some tolerance
_SAT_LOW, _SAT_HIGH = 4.0, 251.0


def _median(a: np.ndarray) -> float:
    flat = a.ravel()
    mid = flat.size // 2
    return float(np.partition(flat, mid)[mid])


class BackgroundModel:
    """Background, noise and change detection for ``width`` x ``height`` luma planes."""

    def __init__(
        self,
        width: int,
        height: int,
        tau_background: float = 4.0,
        tau_foreground: float = 60.0,
        absorb_after: float = 5.0,
    ) -> None:
        if width < CELL or height < CELL:
            raise ValueError(f"a {width}x{height} picture is smaller than one {CELL}x{CELL} cell")
        self.rows, self.cols = height // CELL, width // CELL
        self.tau_background = tau_background
        self.tau_foreground = tau_foreground
        self.absorb_after = absorb_after
        self.reset()

    def reset(self) -> None:
        self._bg: np.ndarray | None = None
        self._noise = np.empty((self.rows, self.cols), np.float32)
        self._prev_residual = np.zeros((self.rows, self.cols), np.float32)
        self._still = np.zeros((self.rows, self.cols), np.float32)  # s a cell changed but still
        self._noise_ready = False
        self._last_ts: int | None = None
        self.gain, self.offset = 1.0, 0.0

    @property
    def ready(self) -> bool:
        return self._bg is not None

    def cells(self, y: np.ndarray) -> np.ndarray:
        """Mean luma of each 4x4 cell, float32 (rows, cols)."""
        out: np.ndarray = block_sums(y, CELL).astype(np.float32)
        out *= 1.0 / (CELL * CELL)
        return out

    def update(
        self, y: np.ndarray, timestamp_us: int, levels: Iterable[int]
    ) -> dict[int, np.ndarray] | None:
        """Compare ``y`` with the background, learn from it, and return the changed-cell masks
        for each sensitivity level in ``levels`` (None for the first frame: it only starts the
        background)."""
        s = self.cells(y)
        dt = self._elapsed(timestamp_us)
        bg = self._bg
        if bg is None:
            self._bg = s
            return None
        residual, predicted = self._residual(s, bg)
        abs_res = np.abs(residual)
        if not self._noise_ready:  # first comparison: one global robust sigma to start from
            self._noise.fill(max(1.4826 * _median(abs_res), NOISE_MIN))
            self._noise_ready = True
        valid = (s > _SAT_LOW) & (s < _SAT_HIGH) & (predicted < _SAT_HIGH)
        masks = {lvl: self._changed(abs_res, valid, SENSE_LEVELS[lvl]) for lvl in set(levels)}
        model_mask = self._changed(abs_res, valid, MODEL_LEVEL)
        self._learn(s, residual, abs_res, model_mask, dt)
        return masks

    # -- steps ----------------------------------------------------------------------------------
    def _elapsed(self, timestamp_us: int) -> float:
        """Seconds since the previous frame, bounded: timestamps may jump or repeat."""
        last, self._last_ts = self._last_ts, timestamp_us
        if last is None:
            return 0.0
        return min(max((timestamp_us - last) / 1e6, 0.02), 2.0)

    def _residual(self, s: np.ndarray, bg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """s - (gain * bg + offset), with gain/offset fitted on the cells that fit."""
        offset = _median(s - bg)
        gain = 1.0
        predicted = bg + np.float32(offset)
        for _ in range(2):
            residual = s - predicted
            abs_res = np.abs(residual)
            inliers = abs_res < max(3.0 * 1.4826 * _median(abs_res), 2.0)
            x, z = bg[inliers], s[inliers]
            if x.size < 16:
                break
            xm, zm = float(x.mean()), float(z.mean())
            xc = x - np.float32(xm)
            var = float(np.dot(xc, xc)) / x.size
            # A flat picture says nothing about gain: then only the offset moves.
            gain = float(np.dot(xc, z - np.float32(zm))) / x.size / var if var > 1.0 else 1.0
            gain = min(max(gain, 0.5), 2.0)
            offset = zm - gain * xm
            predicted = bg * np.float32(gain)
            predicted += np.float32(offset)
        self.gain, self.offset = gain, offset
        return s - predicted, predicted

    def _changed(self, abs_res: np.ndarray, valid: np.ndarray, level: Sensitivity) -> np.ndarray:
        thr = self._noise * np.float32(level.k)
        np.maximum(thr, np.float32(level.floor), out=thr)
        mask = (abs_res > thr) & valid
        support = np.zeros_like(mask)
        support[1:] |= mask[:-1]
        support[:-1] |= mask[1:]
        support[:, 1:] |= mask[:, :-1]
        support[:, :-1] |= mask[:, 1:]
        mask &= support
        return mask

    def _learn(
        self,
        s: np.ndarray,
        residual: np.ndarray,
        abs_res: np.ndarray,
        changed: np.ndarray,
        dt: float,
    ) -> None:
        bg = self._bg
        assert bg is not None
        a_bg = np.float32(1.0 - math.exp(-dt / self.tau_background))
        a_fg = np.float32(1.0 - math.exp(-dt / self.tau_foreground))
        alpha = np.where(changed, a_fg, a_bg)
        bg += alpha * (s - bg)
        # Noise: a running sigma (1.25 x mean |residual|) over unchanged cells, outliers capped.
        sigma = np.minimum(abs_res * np.float32(1.25), self._noise * 4)
        a_n = np.where(changed, np.float32(0.0), a_bg)
        self._noise += a_n * (sigma - self._noise)
        np.maximum(self._noise, NOISE_MIN, out=self._noise)
        # Changed but not moving: count how long; past absorb_after it is background now.
        level = MODEL_LEVEL
        still = changed & (np.abs(residual - self._prev_residual) < self._noise * level.k)
        self._still = np.where(still, self._still + np.float32(dt), np.float32(0.0))
        absorb = self._still > self.absorb_after
        if absorb.any():
            bg[absorb] = s[absorb]
            self._still[absorb] = 0.0
        self._prev_residual = residual


__all__ = ["CELL", "MODEL_LEVEL", "NOISE_MIN", "SENSE_LEVELS", "BackgroundModel", "Sensitivity"]
