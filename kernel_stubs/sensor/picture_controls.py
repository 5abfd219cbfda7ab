"""The ISP controls applied to a finished picture: flips, then the tuning arithmetic.

Sensors whose pictures come from outside (a video file, a V4L2 device) share this step, so
brightness, contrast, saturation, hue, flips and night mode change them exactly alike.
"""

from __future__ import annotations

import numpy as np

from .base import IspControls
from .tuning import C_MAX, C_MIN, Y_MAX, Y_MIN, adjust_chroma, adjust_luma, to_u8

__all__ = ["apply_controls"]

_IDENTITY = np.arange(256, dtype=np.uint8)


def apply_controls(
    src_y: np.ndarray, src_uv: np.ndarray, controls: IspControls, y: np.ndarray, uv: np.ndarray
) -> None:
    """Write NV12 planes ``src_y``/``src_uv`` into ``y``/``uv`` with ``controls`` applied.

    At neutral settings the planes are copied unchanged (their own levels, even outside video
    range). Sharpness is not modelled for external pictures.
    """
    if controls.hflip:
        src_y = src_y[:, ::-1]
        rows = src_uv.shape[0]
        src_uv = src_uv.reshape(rows, -1, 2)[:, ::-1].reshape(rows, -1)  # keep CbCr pairs
    if controls.vflip:
        src_y, src_uv = src_y[::-1], src_uv[::-1]
    _apply_luma(y, src_y, controls)
    _apply_chroma(uv, src_uv, controls)


def _apply_luma(dst: np.ndarray, src: np.ndarray, controls: IspControls) -> None:
    if (controls.brightness, controls.contrast, controls.night) == (128, 128, False):
        np.copyto(dst, src)
        return
    lut = to_u8(adjust_luma(_IDENTITY.astype(np.float32), controls), Y_MIN, Y_MAX)
    np.take(lut, src, out=dst, mode="clip")


def _apply_chroma(dst: np.ndarray, src: np.ndarray, controls: IspControls) -> None:
    if controls.night:
        dst.fill(128)
    elif controls.hue != 128:
        u, v = adjust_chroma(
            src[:, 0::2].astype(np.float32), src[:, 1::2].astype(np.float32), controls
        )
        dst[:, 0::2] = to_u8(u, C_MIN, C_MAX)
        dst[:, 1::2] = to_u8(v, C_MIN, C_MAX)
    elif controls.saturation != 128:
        # Without hue rotation Cb and Cr are scaled independently: one table serves both.
        gain = controls.saturation / 128
        lut = to_u8((_IDENTITY.astype(np.float32) - 128) * gain + 128, C_MIN, C_MAX)
        np.take(lut, src, out=dst, mode="clip")
    else:
        np.copyto(dst, src)
