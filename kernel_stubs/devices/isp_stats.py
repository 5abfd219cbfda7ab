"""ISP statistics of the fake tuning node, and a stand-in computed from a delivered picture.

:class:`Statistics` is what the tuning node's statistics getters return (AE zones and histograms,
AWB zones, AF zones and metric). A sensor/ISP model publishes one per frame through
``ControlStore.publish_statistics``. Until a model does, :func:`from_nv12` computes them from the
newest picture a frame channel delivered (after the whole ISP chain, so "before gamma" is not
honoured: that needs the model's linear image).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Statistics", "from_nv12", "hist5"]

ZONES = 15


def _zeros(dtype: type = np.uint32) -> np.ndarray:
    return np.zeros((ZONES, ZONES), dtype=dtype)


@dataclass
class Statistics:
    """One frame's statistics, in the kernel's units.

    ``ae_zone``: mean luma 0..255 per zone (u32[15][15]); ``hist256``: pixel counts per luma
    value (u32[256], of the subsampled picture); ``awb_r/g/b``: mean R, G, B 0..255 per zone
    (u8[15][15] each); ``af_zone``: mean absolute horizontal luma gradient per zone x 16
    (u32[15][15]); ``af_metric``: the same over the whole picture.
    """

    ae_zone: np.ndarray = field(default_factory=_zeros)
    hist256: np.ndarray = field(default_factory=lambda: np.zeros(256, dtype=np.uint32))
    awb_r: np.ndarray = field(default_factory=lambda: _zeros(np.uint8))
    awb_g: np.ndarray = field(default_factory=lambda: _zeros(np.uint8))
    awb_b: np.ndarray = field(default_factory=lambda: _zeros(np.uint8))
    af_zone: np.ndarray = field(default_factory=_zeros)
    af_metric: int = 0
    frame: int = -1  # the sensor frame they describe (-1: none yet)

    @property
    def mean_luma(self) -> int:
        total = int(self.hist256.sum())
        if total == 0:
            return 0
        return round(float(np.dot(np.arange(256), self.hist256)) / total)

    def rgb_means(self) -> tuple[float, float, float]:
        return (float(self.awb_r.mean()), float(self.awb_g.mean()), float(self.awb_b.mean()))


def hist5(hist256: np.ndarray, thresholds: bytes) -> list[int]:
    """The 5-bin AE histogram: shares of pixels (x 10000) split at the 4 threshold bytes."""
    edges = [0, *sorted(thresholds[:4]), 256]
    total = max(int(hist256.sum()), 1)
    return [
        round(int(hist256[lo:hi].sum()) * 10000 / total) for lo, hi in itertools.pairwise(edges)
    ]


def _zone_means(plane: np.ndarray) -> np.ndarray:
    rows, cols = plane.shape[0] // ZONES * ZONES, plane.shape[1] // ZONES * ZONES
    if rows == 0 or cols == 0:
        return np.zeros((ZONES, ZONES))
    blocks = plane[:rows, :cols].reshape(ZONES, rows // ZONES, ZONES, cols // ZONES)
    means: np.ndarray = blocks.mean(axis=(1, 3))
    return means


def from_nv12(y: np.ndarray, uv: np.ndarray, frame: int = -1) -> Statistics:
    """Statistics of an NV12 picture (Y: HxW, UV: H/2xW interleaved), BT.601 limited range.

    The picture is subsampled by 2 for the histogram and the AF gradient (a 1080p frame costs a
    few milliseconds, only when a getter asks).
    """
    ys = y[::2, ::2].astype(np.int16)
    hist = np.bincount(ys.ravel(), minlength=256).astype(np.uint32)
    luma = _zone_means(y[::2, ::2])
    u = _zone_means(uv[:, 0::2])
    v = _zone_means(uv[:, 1::2])
    c, d, e = luma - 16.0, u - 128.0, v - 128.0
    r = np.clip(1.164 * c + 1.596 * e, 0, 255)
    g = np.clip(1.164 * c - 0.392 * d - 0.813 * e, 0, 255)
    b = np.clip(1.164 * c + 2.017 * d, 0, 255)
    grad = np.abs(np.diff(ys, axis=1))
    af = _zone_means(grad) * 16
    return Statistics(
        ae_zone=np.rint(luma).astype(np.uint32),
        hist256=hist,
        awb_r=np.rint(r).astype(np.uint8),
        awb_g=np.rint(g).astype(np.uint8),
        awb_b=np.rint(b).astype(np.uint8),
        af_zone=np.rint(af).astype(np.uint32),
        af_metric=round(float(grad.mean()) * 16) if grad.size else 0,
        frame=frame,
    )
