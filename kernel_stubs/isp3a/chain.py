"""The simulated ISP pipeline as per-frame lookup tables (the frame path stays one table look-up).

A frame's settings (:class:`ChainParams`: light, exposure, noise reduction, BLC, DRC, gamma,
defog, BCSH, CCM, white balance, day/night) become, once per frame and only when they change:

- ``luma_noisy``: uint8[256 x 2] from (scene code, noise level) to delivered Y: signal +
  shot/read noise (level = +-1 sigma, pre-drawn per pixel and cycled over 4 phases),
  saturation, pedestal and BLC, DRC, gamma, defog, contrast/brightness; ``noisy_pair`` the same
  for two neighbouring pixels per look-up (uint16[2^18]);
- ``luma_clean`` / ``luma_pair``: the same without noise, per code and per pair of codes
  (uint16[65536]: two pixels per look-up, for pictures whose noise is below a code);
- ``stat_noisy`` / ``stat_clean``: the linear value (0..255) before gamma, for the statistics;
- ``chroma_pair``: uint16[65536] from a (Cb, Cr) pair to the delivered pair: saturation and
  CCM, hue, the colour cast of the light after the white-balance gains, chroma shrinking with
  the picture's brightness, grey at night.

The colour cast and the brightness-dependent chroma use the frame's mean level (one table for
the picture), which is exact for a grey patch at that level and close elsewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from kernel_stubs.sensor.base import IspControls
from kernel_stubs.sensor.tuning import C_MAX, C_MIN, Y_MAX, Y_MIN, adjust_luma, to_u8

from .physics import PEDESTAL, SensorExposure, noise_sigma, radiance_of_codes, signal_scale

__all__ = ["BUCKETS", "LEVEL_BITS", "ChainLuts", "ChainParams", "build_luts", "illuminant_rb"]

# Noise levels per pixel: quantiles of the unit normal, scaled to unit variance. Two (+-1 sigma)
# keep the two-pixel table at 512 KiB, within the CPU cache: a bigger one costs more per
# look-up than it saves.
LEVEL_BITS = 1
BUCKETS = 1 << LEVEL_BITS
_Q = np.array([NormalDist().inv_cdf((i + 0.5) / BUCKETS) for i in range(BUCKETS)])
_Z = _Q / np.sqrt(np.mean(_Q**2))
_RHO = radiance_of_codes()
_PAIR = np.arange(65536, dtype=np.uint32)
_LO, _HI = _PAIR & 0xFF, _PAIR >> 8
WDR_RANGE = 16.0
VISIBLE_NOISE = 1.5  # Y codes of noise at mid grey above which the noisy table is used


def illuminant_rb(cct: int) -> tuple[float, float]:
    """The sensor's raw R/G and B/G for a white surface under ``cct`` K (1, 1 at 5000 K)."""
    t = cct / 5000
    return t**-0.9, t**1.0


@dataclass(frozen=True)
class ChainParams:
    lux: float
    exposure: SensorExposure
    controls: IspControls  # brightness, contrast, saturation, hue, night
    gamma: tuple[int, ...]  # 129 points over 0..4095
    blc: int = 256  # /4096
    drc: int = 0  # strength while EnableDRC is on, else 0
    defog: int = 0  # strength while EnableDefog is on, else 0
    denoise: int = 256  # sinter + temper strength
    ccm_saturation: float = 1.0
    wdr: bool = False
    cast_rb: tuple[float, float] = (1.0, 1.0)  # linear R/G, B/G after the WB gains


@dataclass(frozen=True)
class ChainLuts:
    luma_noisy: np.ndarray
    luma_clean: np.ndarray
    luma_pair: np.ndarray | None  # two clean pixels per look-up, when not noisy
    noisy_pair: np.ndarray | None  # (code, code, level, level) -> two pixels, when noisy
    stat_noisy: np.ndarray
    stat_clean: np.ndarray
    stat_mean: np.ndarray  # float64[256]: mean linear value per code over the noise
    chroma_pair: np.ndarray
    noisy: bool  # noise is visible: render through luma_noisy


def _post_gamma(lin: np.ndarray, p: ChainParams) -> np.ndarray:
    """Linear 0..1 -> delivered Y (float): DRC, gamma, defog, contrast/brightness."""
    k = p.drc / 64  # 0: off; 255: shadows lifted ~5x (a Reinhard-like curve)
    lin = lin * (1 + k) / (1 + k * lin)
    g = np.interp(lin * 128, np.arange(129), np.asarray(p.gamma, dtype=np.float64)) / 4095
    haze = p.defog / 255 * 0.2  # defog removes a haze offset and restretches (0: off)
    g = np.clip((g - haze) / (1 - haze), 0, 1)
    y = (Y_MIN + (Y_MAX - Y_MIN) * g).astype(np.float32)
    return adjust_luma(y, p.controls)


def _linear(signal: np.ndarray, p: ChainParams) -> np.ndarray:
    black = p.blc / 4096
    if p.wdr:
        # Line-interleaved long/short exposures merged: 16x the range before saturation, then
        # a global tone curve (extended Reinhard, white at 16) brings it back to 0..1.
        x = np.clip(signal + PEDESTAL - black, 0, WDR_RANGE * (1 - black)) / (1 - black)
        merged: np.ndarray = x * (1 + x / WDR_RANGE**2) / (1 + x)
        return merged
    raw = np.clip(signal + PEDESTAL, 0, 1)  # the ADC saturates
    lin: np.ndarray = np.clip((raw - black) / (1 - black), 0, 1)
    return lin


def _chroma_pair(p: ChainParams, level: float, ratio: float) -> np.ndarray:
    """The (Cb, Cr) pair table at the frame's mean ``level`` (0..1) and brightness ``ratio``."""
    return _chroma_cached(
        p.controls.saturation,
        p.controls.hue,
        p.controls.night,
        round(p.ccm_saturation, 3),
        (round(p.cast_rb[0], 3), round(p.cast_rb[1], 3)),
        round(level * 128) / 128,
        round(ratio * 64) / 64,
    )


@lru_cache(maxsize=32)
def _chroma_cached(
    saturation: int,
    hue: int,
    night: bool,
    ccm_saturation: float,
    cast_rb: tuple[float, float],
    level: float,
    ratio: float,
) -> np.ndarray:
    if night:
        return np.full(65536, 128 | (128 << 8), dtype=np.uint16)
    gain = saturation / 128 * ccm_saturation * ratio
    # The cast of a grey at the frame's mean level, in gamma-encoded R', G', B'.
    r_p = level * cast_rb[0] ** (1 / 2.2)
    b_p = level * cast_rb[1] ** (1 / 2.2)
    y_p = 0.299 * r_p + 0.587 * level + 0.114 * b_p
    du = 224 * (b_p - y_p) / 1.772
    dv = 224 * (r_p - y_p) / 1.402
    if hue == 128:  # no rotation: Cb and Cr map independently, two 256-entry tables
        c = np.arange(256, dtype=np.float32) - 128
        tab_u = to_u8(c * gain + 128 + du, C_MIN, C_MAX).astype(np.uint16)
        tab_v = to_u8(c * gain + 128 + dv, C_MIN, C_MAX).astype(np.uint16)
        both: np.ndarray = tab_u[_LO] | (tab_v[_HI] << 8)
        return both
    u = _LO.astype(np.float32) - 128
    v = _HI.astype(np.float32) - 128
    angle = (hue - 128) / 128 * math.pi
    cos_g, sin_g = math.cos(angle) * gain, math.sin(angle) * gain
    out_u = to_u8(u * cos_g - v * sin_g + 128 + du, C_MIN, C_MAX).astype(np.uint16)
    out_v = to_u8(u * sin_g + v * cos_g + 128 + dv, C_MIN, C_MAX).astype(np.uint16)
    pair: np.ndarray = out_u | (out_v << 8)
    return pair


@dataclass(frozen=True)
class _Luma:
    noisy: np.ndarray
    clean: np.ndarray
    y_clean: np.ndarray  # float, for the mean level
    stat_noisy: np.ndarray
    stat_clean: np.ndarray
    stat_mean: np.ndarray
    visible_noise: bool


@lru_cache(maxsize=32)
def _luma(p: ChainParams) -> _Luma:
    signal = _RHO * signal_scale(p.lux, p.exposure)
    sigma = noise_sigma(signal, p.exposure) / (1 + p.denoise / 256)
    noisy_signal = signal[:, None] + sigma[:, None] * _Z[None, :]
    lin_noisy = _linear(noisy_signal, p).ravel()
    lin_clean = _linear(signal, p)
    luma_noisy = to_u8(_post_gamma(lin_noisy, p), Y_MIN, Y_MAX)
    y_clean = _post_gamma(lin_clean, p)
    mid = 118  # a mid-grey scene code: is the noise there visible?
    spread = np.ptp(luma_noisy[mid * BUCKETS : (mid + 1) * BUCKETS].astype(float))
    return _Luma(
        luma_noisy,
        to_u8(y_clean, Y_MIN, Y_MAX),
        y_clean,
        to_u8(lin_noisy * 255, 0, 255),
        to_u8(lin_clean * 255, 0, 255),
        lin_noisy.reshape(256, BUCKETS).mean(axis=1) * 255,
        bool(spread / 2 > VISIBLE_NOISE),
    )


@lru_cache(maxsize=4)
def _noisy_pair_table(noisy: bytes) -> np.ndarray:
    """uint16[BUCKETS^2 x 65536]: index ``(i << LEVEL_BITS | j) << 16 | a | b << 8`` (levels i,
    j of the left and right pixel, codes a, b) -> Y(a, i) | Y(b, j) << 8. The codes are the
    low 16 bits so that each level pair fills a contiguous 256 x 256 block (fast to build)."""
    table = np.frombuffer(noisy, dtype=np.uint8).reshape(256, BUCKETS).astype(np.uint16)
    out = np.empty((BUCKETS, BUCKETS, 256, 256), dtype=np.uint16)  # [i, j, b, a]
    for i in range(BUCKETS):
        for j in range(BUCKETS):
            np.bitwise_or(table[None, :, i], table[:, j, None] << 8, out=out[i, j])
    flat: np.ndarray = out.reshape(-1)
    return flat


@lru_cache(maxsize=32)
def _pair_table(clean: bytes) -> np.ndarray:
    table = np.frombuffer(clean, dtype=np.uint8).astype(np.uint16)
    pair: np.ndarray = table[_LO] | (table[_HI] << 8)
    return pair


def build_luts(p: ChainParams, code_hist: tuple[int, ...]) -> ChainLuts:
    """The tables of one frame; ``code_hist`` (the scene's code histogram) sets the mean level."""
    luma = _luma(replace(p, cast_rb=(1.0, 1.0), ccm_saturation=1.0))
    hist = np.asarray(code_hist, dtype=np.float64)
    total = max(hist.sum(), 1.0)
    ref = np.clip(np.arange(256) - Y_MIN, 0, None)
    mean_out = float(np.dot(hist, luma.y_clean - Y_MIN)) / total
    mean_ref = float(np.dot(hist, ref)) / total
    ratio = min(max(mean_out / max(mean_ref, 1.0), 0.0), 2.0)
    level = min(max(mean_out / (Y_MAX - Y_MIN), 0.0), 1.0)
    return ChainLuts(
        luma_noisy=luma.noisy,
        luma_clean=luma.clean,
        luma_pair=None if luma.visible_noise else _pair_table(luma.clean.tobytes()),
        noisy_pair=_noisy_pair_table(luma.noisy.tobytes()) if luma.visible_noise else None,
        stat_noisy=luma.stat_noisy,
        stat_clean=luma.stat_clean,
        stat_mean=luma.stat_mean,
        chroma_pair=_chroma_pair(p, level, ratio),
        noisy=luma.visible_noise,
    )
