"""The ISP's colour controls as arithmetic on YUV planes (float32) and on single colours.

Every control is the identity at level 128. Pictures and object colours go through the same
functions, so an object drawn on a background is changed exactly as the background is.
"""

from __future__ import annotations

import math

import numpy as np

from .base import IspControls

__all__ = [
    "C_MAX",
    "C_MIN",
    "Y_MAX",
    "Y_MIN",
    "adjust_chroma",
    "adjust_color",
    "adjust_luma",
    "sharpen",
    "to_u8",
]

Y_MIN, Y_MAX = 16, 235  # video range
C_MIN, C_MAX = 16, 240
Yuv = tuple[int, int, int]

_BRIGHTNESS_STEP = 0.5  # luma codes per brightness level: 0..255 moves mean Y by -64..+63
_NIGHT_GAIN = 0.8  # an IR-lit night picture is dimmer


def adjust_luma(y: np.ndarray, controls: IspControls) -> np.ndarray:
    """Contrast about mid-grey, then brightness offset, then the night dimming."""
    out = (y - 128.0) * (controls.contrast / 128.0) + 128.0
    out += (controls.brightness - 128) * _BRIGHTNESS_STEP
    if controls.night:
        out = Y_MIN + (out - Y_MIN) * _NIGHT_GAIN
    result: np.ndarray = out.astype(np.float32, copy=False)
    return result


def adjust_chroma(
    u: np.ndarray, v: np.ndarray, controls: IspControls
) -> tuple[np.ndarray, np.ndarray]:
    """Hue rotation and saturation gain about 128; night mode removes colour."""
    if controls.night:
        return np.full_like(u, 128.0), np.full_like(v, 128.0)
    angle = (controls.hue - 128) / 128.0 * math.pi  # 0 and 255 are about half a turn either way
    gain = controls.saturation / 128.0
    cos_g, sin_g = math.cos(angle) * gain, math.sin(angle) * gain
    du, dv = u - 128.0, v - 128.0
    return du * cos_g - dv * sin_g + 128.0, du * sin_g + dv * cos_g + 128.0


def sharpen(y: np.ndarray, level: int) -> np.ndarray:
    """Unsharp mask above level 128, blur below it, with a 3x3 binomial kernel."""
    if level == 128:
        return y
    padded = np.pad(y, 1, mode="edge")
    rows = (padded[:-2] + 2 * padded[1:-1] + padded[2:]) / 4
    blurred = (rows[:, :-2] + 2 * rows[:, 1:-1] + rows[:, 2:]) / 4
    # Above 128 push away from the blur (up to 2x the detail); below, blend towards it.
    amount = (level - 128) / 127 * 2.0 if level > 128 else (level - 128) / 128
    result: np.ndarray = (y + (y - blurred) * amount).astype(np.float32, copy=False)
    return result


def to_u8(plane: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Round and clip to [lo, hi] as uint8."""
    return np.clip(np.rint(plane), lo, hi).astype(np.uint8)


def adjust_color(color: Yuv, controls: IspControls) -> Yuv:
    """A single YUV colour through the same controls as the pictures."""
    y = to_u8(adjust_luma(np.array([color[0]], dtype=np.float32), controls), Y_MIN, Y_MAX)
    u_in = np.array([color[1]], dtype=np.float32)
    v_in = np.array([color[2]], dtype=np.float32)
    u, v = adjust_chroma(u_in, v_in, controls)
    return int(y[0]), int(to_u8(u, C_MIN, C_MAX)[0]), int(to_u8(v, C_MIN, C_MAX)[0])
