"""Picture conversions of extension and rotated channels: NV12 -> RGBA/BGRA/HSV, rotation.

Hand-written (numpy) because the conversion must be exactly defined for the channel's users and
tests: BT.601 limited range (the ISP's NV12), each 2x2 block of pixels taking its one chroma
sample (no chroma interpolation, as the hardware converters do), rounding to nearest. swscale
interpolates chroma and is therefore not what a T31 delivers; it is used only to scale.

HSV layout (``PIX_FMT_HSV``, 4 bytes a pixel, planar): H as uint16 little-endian degrees 0..359
(W*H*2 bytes), then S 0..255 (W*H), then V 0..255 (W*H) — the three planes sample-EXTFS writes
to dsthsv_h/s/v.dat. V = max(R, G, B), S = 255 * (max - min) / max, H the hexcone hue of R, G, B,
all from the RGB above (rounded to codes). Against an exact (float) conversion of the same NV12:
RGBA within 1 code; HSV V within 1 code, S within 3 (rounding RGB to codes moves max - min by
up to 1, which S scales by 255 / max), H within 4° for 99 % of pixels with max - min >= 8
(tests/test_fs_extension.py).
"""

from __future__ import annotations

import numpy as np

PIX_FMT_NV12, PIX_FMT_RGBA, PIX_FMT_BGRA, PIX_FMT_HSV = 10, 15, 17, 35
CONVERTED = (PIX_FMT_RGBA, PIX_FMT_BGRA, PIX_FMT_HSV)

# BT.601 limited range, 8.8 fixed point: R = 1.164 (Y-16) + 1.596 (V-128), ...
_CY, _CRV, _CGU, _CGV, _CBU = 298, 409, 100, 208, 516


def nv12_to_rgb(y: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB of an NV12 picture (``y`` (H, W), ``uv`` (H/2, W)); H and W even."""
    h, w = y.shape
    # Luma as 2x2 blocks: (H/2, 2, W/2, 2), so each block's chroma broadcasts without copies.
    c = ((y.astype(np.int32) - 16) * _CY + 128).reshape(h // 2, 2, w // 2, 2)
    u = uv[:, 0::2].astype(np.int32) - 128
    v = uv[:, 1::2].astype(np.int32) - 128
    out = np.empty((h // 2, 2, w // 2, 2, 3), np.uint8)
    for i, chroma in enumerate((_CRV * v, -_CGU * u - _CGV * v, _CBU * u)):
        value = c + chroma[:, None, :, None]
        value >>= 8
        np.clip(value, 0, 255, out=value)
        out[..., i] = value
    return out.reshape(h, w, 3)


def write_rgba(rgb: np.ndarray, out: np.ndarray, bgra: bool = False) -> None:
    """Fill ``out`` (H, W, 4) with ``rgb`` in RGBA (or BGRA) order, alpha 255."""
    out[..., 3] = 255
    if bgra:
        out[..., 0], out[..., 1], out[..., 2] = rgb[..., 2], rgb[..., 1], rgb[..., 0]
    else:
        out[..., :3] = rgb


def write_hsv(rgb: np.ndarray, out: memoryview | np.ndarray) -> None:
    """Fill ``out`` (4*W*H bytes) with the planar HSV of ``rgb`` (see the module docstring)."""
    h, w, _ = rgb.shape
    buf = np.frombuffer(out, np.uint8, count=4 * w * h) if isinstance(out, memoryview) else out
    hue = buf[: 2 * w * h].view("<u2").reshape(h, w)
    sat = buf[2 * w * h : 3 * w * h].reshape(h, w)
    val = buf[3 * w * h : 4 * w * h].reshape(h, w)
    r, g, b = (rgb[..., i].astype(np.int32) for i in range(3))
    mx = np.maximum(np.maximum(r, g), b)
    mn = np.minimum(np.minimum(r, g), b)
    delta = mx - mn
    val[...] = mx
    # S = round(255 * delta / max), in integers
    sat[...] = (255 * delta + mx // 2) // np.maximum(mx, 1)
    # hexcone hue: the sector of the largest component plus 60 * (difference / delta)
    red, green = mx == r, (mx == g) & (mx != r)
    diff = np.where(red, g - b, np.where(green, b - r, r - g))
    base = np.where(red, 0, np.where(green, 120, 240))
    deg = diff.astype(np.float32)
    deg *= 60
    deg /= np.maximum(delta, 1)
    deg += base + 0.5
    np.floor(deg, out=deg)
    deg[delta == 0] = 0
    hue[...] = deg.astype(np.int32) % 360


def rotate_nv12(
    y: np.ndarray, uv: np.ndarray, y_out: np.ndarray, uv_out: np.ndarray, clockwise: bool
) -> None:
    """Rotate an NV12 picture by 90° (``clockwise``) or 270° into planes of the swapped size;
    the interleaved CbCr pairs move as units."""
    k = -1 if clockwise else 1  # np.rot90 turns counter-clockwise for k > 0
    y_out[...] = np.rot90(y, k)
    pairs = uv.reshape(uv.shape[0], uv.shape[1] // 2, 2)
    uv_out[...] = np.rot90(pairs, k).reshape(uv_out.shape)
