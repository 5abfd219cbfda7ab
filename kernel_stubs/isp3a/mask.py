"""The ISP's privacy mask (``IMP_ISP_Tuning_SetMask``): up to four filled blocks per channel.

The 172-B kernel struct is ``IMPISPMASKAttr``: per channel 4 x {enable, top, left, width,
height, value} and the value type (RGB or YUV). Blocks are in that channel's output pixels and
are drawn after the statistics, as a late stage of the ISP (masked areas still count for AE).
"""

from __future__ import annotations

import numpy as np

from imp.types import IMPISPMASKAttr

__all__ = ["MaskBlock", "draw_masks", "mask_blocks"]

MaskBlock = tuple[int, int, int, int, tuple[int, int, int]]  # x0, y0, x1, y1, (Y, Cb, Cr)


def _yuv_of_rgb(r: int, g: int, b: int) -> tuple[int, int, int]:
    """BT.601 limited range, as the ISP outputs."""
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    return round(y), round(u), round(v)


def mask_blocks(blob: bytes, channel: int, width: int, height: int) -> list[MaskBlock]:
    """The enabled blocks of ``channel`` clipped to a ``width`` x ``height`` picture."""
    if not 0 <= channel <= 2:
        return []
    attr = IMPISPMASKAttr.from_buffer_copy(blob)
    blocks = []
    for par in getattr(attr, f"chn{channel}"):
        if not par.mask_en:
            continue
        x0, y0 = par.mask_pos_left & ~1, par.mask_pos_top & ~1
        x1 = min(width, (par.mask_pos_left + par.mask_width + 1) & ~1)
        y1 = min(height, (par.mask_pos_top + par.mask_height + 1) & ~1)
        if x1 <= x0 or y1 <= y0:
            continue
        value = par.mask_value
        if attr.mask_type == 1:
            yuv = (value.mask_ayuv.y_value, value.mask_ayuv.u_value, value.mask_ayuv.v_value)
        else:
            yuv = _yuv_of_rgb(value.mask_rgb.Red, value.mask_rgb.Green, value.mask_rgb.Blue)
        blocks.append((x0, y0, x1, y1, yuv))
    return blocks


def draw_masks(y: np.ndarray, uv: np.ndarray, blocks: list[MaskBlock]) -> None:
    for x0, y0, x1, y1, (luma, cb, cr) in blocks:
        y[y0:y1, x0:x1] = luma
        chroma = uv[y0 // 2 : y1 // 2, x0:x1]
        chroma[:, 0::2] = cb
        chroma[:, 1::2] = cr
