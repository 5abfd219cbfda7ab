"""Auto white balance of the simulated ISP: grey world over the near-neutral AWB zones.

The zones (mean R, G, B of the delivered picture, 15x15) are taken back to linear light;
zones whose green is too dark or clipped, or that are strongly coloured (more than 25 % off
the picture's own balance) are left out, and the gains move a damped step towards making
the rest grey. The colour temperature is read back from the gains through the sensor's
illuminant response.
"""

from __future__ import annotations

import numpy as np

__all__ = ["awb_step", "cct_of_gains"]

DAMPING = 0.7
DEADBAND = 0.015
ONE = 256  # gain unit: 256 = 1x


def awb_step(
    gains: tuple[float, float], r: np.ndarray, g: np.ndarray, b: np.ndarray
) -> tuple[float, float]:
    """New (rgain, bgain) from the delivered zones (uint8 R, G, B means)."""
    rl, gl, bl = (np.power(c.astype(np.float64) / 255, 2.2) for c in (r, g, b))
    # Judged on G alone: leaving out zones whose R or B clipped would bias towards the colour
    # the gains already lack, and the loop would run away.
    usable = (gl > 0.01) & (gl < 0.9)
    if usable.sum() < 8:
        return gains
    rg = rl[usable] / np.maximum(gl[usable], 1e-6)
    bg = bl[usable] / np.maximum(gl[usable], 1e-6)
    rg0, bg0 = float(np.median(rg)), float(np.median(bg))
    near = (np.abs(rg / rg0 - 1) < 0.25) & (np.abs(bg / bg0 - 1) < 0.25)
    weight = gl[usable][near]
    if weight.sum() <= 0:
        return gains
    rg_mean = float((rl[usable][near]).sum() / weight.sum())
    bg_mean = float((bl[usable][near]).sum() / weight.sum())
    if abs(rg_mean - 1) < DEADBAND and abs(bg_mean - 1) < DEADBAND:
        return gains  # neutral enough: hold, so the tables stay cached
    rgain = gains[0] * max(rg_mean, 1e-3) ** -DAMPING
    bgain = gains[1] * max(bg_mean, 1e-3) ** -DAMPING
    return min(max(rgain, ONE / 8), ONE * 8), min(max(bgain, ONE / 8), ONE * 8)


def cct_of_gains(rgain: float, bgain: float) -> int:
    """The colour temperature whose white the gains neutralise (inverse of illuminant_rb)."""
    from_r = 5000 * (rgain / ONE) ** (1 / 0.9)
    from_b = 5000 * (ONE / bgain) ** 1.0
    return round(float(np.sqrt(from_r * from_b)))
