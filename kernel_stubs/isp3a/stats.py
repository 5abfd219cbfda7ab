"""Per-frame statistics of the simulated ISP, at the stages the T31 documents them.

- AE zones: the mean linear value before gamma (after BLC), 0..255, over every pixel of each of
  15x15 equal zones of the frame's first rendered channel (from per-zone code counts);
- the 256-bin AE histogram: the same linear values at every 8th pixel of every 8th row;
- AWB zones: mean R, G, B (BT.601 from the delivered YUV) per zone, same subsampling;
- AF zones / metric: mean absolute horizontal gradient of the delivered luma x 16.
"""

from __future__ import annotations

import numpy as np

from kernel_stubs.devices.isp_stats import ZONES, Statistics

__all__ = ["STEP", "ZONES", "frame_statistics", "zone_means"]

STEP = 8  # subsampling of the statistics grid (histogram, AWB and AF zones)


def zone_means(plane: np.ndarray) -> np.ndarray:
    """15x15 block means of ``plane`` (rows/columns beyond a multiple of 15 are left out)."""
    rows, cols = plane.shape[0] // ZONES * ZONES, plane.shape[1] // ZONES * ZONES
    if rows == 0 or cols == 0:
        return np.zeros((ZONES, ZONES))
    blocks = plane[:rows, :cols].reshape(ZONES, rows // ZONES, ZONES, cols // ZONES)
    means: np.ndarray = blocks.mean(axis=(1, 3), dtype=np.float64)
    return means


def frame_statistics(
    linear: np.ndarray, y: np.ndarray, uv: np.ndarray, frame: int, ae_zones: np.ndarray
) -> Statistics:
    """``linear``: the subsampled pre-gamma plane (uint8); ``y``/``uv``: the delivered NV12;
    ``ae_zones``: the zones' linear means."""
    ys = y[::STEP, ::STEP]
    luma = zone_means(ys)
    u = zone_means(uv[:: STEP // 2, 0::STEP])
    v = zone_means(uv[:: STEP // 2, 1::STEP])
    c, d, e = luma - 16.0, u - 128.0, v - 128.0
    rgb = [
        np.clip(np.rint(1.164 * c + 1.596 * e), 0, 255).astype(np.uint8),
        np.clip(np.rint(1.164 * c - 0.392 * d - 0.813 * e), 0, 255).astype(np.uint8),
        np.clip(np.rint(1.164 * c + 2.017 * d), 0, 255).astype(np.uint8),
    ]
    grad = np.abs(np.diff(ys.astype(np.int16), axis=1))
    return Statistics(
        ae_zone=np.rint(ae_zones).astype(np.uint32),
        hist256=np.bincount(linear.ravel(), minlength=256).astype(np.uint32),
        awb_r=rgb[0],
        awb_g=rgb[1],
        awb_b=rgb[2],
        af_zone=np.rint(zone_means(grad) * 16).astype(np.uint32),
        af_metric=round(float(grad.mean()) * 16) if grad.size else 0,
        frame=frame,
    )
