"""The simulated image sensor's light response: a 1/2.9" 2 Mpix CMOS (gc2053 class) behind f/2.

Signal in full-scale units (1.0 = the ADC's saturation) for a surface of reflectance ``rho``
under ``lux``: ``rho * lux * K * t * gain``. ``K`` is calibrated so that the default textured
scene reaches the default AE target (96/255 before gamma) at about 45 lux with the longest
exposure of a 25 fps frame and the default maximum gains (again 32x x dgain 5.66x = 181x): AE
compensates from there up to daylight (100 000 lux: ~30 lines at 1x), and below about 45 lux
the picture darkens.

Noise: shot noise of the collected electrons (full well 9000 e- at 1x) and a read noise of
3 e-, both amplified by the gain, so the picture gets noisier as gain rises. A black pedestal
of 256/4096 sits under the signal; BLC subtracts it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CODES",
    "FULL_WELL_E",
    "PEDESTAL",
    "LineTiming",
    "SensorExposure",
    "line_timing",
    "radiance_of_codes",
    "signal_scale",
]

K_RESPONSE = 0.0049  # full-scale units per (lux x s) at 1x gain and reflectance 1
FULL_WELL_E = 9000.0
READ_NOISE_E = 3.0
PEDESTAL = 256 / 4096
CODES = 256  # scene codes: Y of the reference rendering; above 235: light sources


@dataclass(frozen=True)
class LineTiming:
    """Lines per frame (VTS) and the time of one line at the current frame rate."""

    vts: int
    line_s: float

    @property
    def it_max(self) -> int:
        return self.vts - 4  # the longest integration time the sensor allows

    def lines(self, seconds: float) -> float:
        return seconds / self.line_s


def line_timing(height: int, fps_num: int, fps_den: int) -> LineTiming:
    """The simulated sensor's timing, as the tuning node reports it (GetSensorAttr, GetExpr):
    VTS = height + 45 blanking lines, one frame period per VTS lines."""
    vts = max(height, 1) + 45
    return LineTiming(vts, fps_den / (max(fps_num, 1) * vts))


@dataclass(frozen=True)
class SensorExposure:
    """What the sensor integrates with: lines of ``line_s`` seconds, gains with 1024 = 1x."""

    integration_time: int
    again: int = 1024
    dgain: int = 1024
    isp_dgain: int = 1024
    line_s: float = 1 / (25 * 1125)

    @property
    def seconds(self) -> float:
        return self.integration_time * self.line_s

    @property
    def gain(self) -> float:
        return self.again * self.dgain * self.isp_dgain / 1024**3


def radiance_of_codes() -> np.ndarray:
    """Reflectance per scene code (float64[256]).

    Codes are the luma of the reference rendering: 16..235 map through a 2.2 power to
    reflectance 0..1 (so an exposure giving 1.0 for white reproduces the reference picture);
    codes above 235 are light sources, each 4 codes doubling up to 32x white.
    """
    codes = np.arange(CODES, dtype=np.float64)
    rho = np.clip((codes - 16) / 219, 0, 1) ** 2.2
    bright = codes > 235
    rho[bright] = 2 ** ((codes[bright] - 235) / 4)
    return rho


def signal_scale(lux: float, exposure: SensorExposure) -> float:
    """Full-scale signal of reflectance 1, before the pedestal."""
    return lux * K_RESPONSE * exposure.seconds * exposure.gain


def noise_sigma(signal: np.ndarray, exposure: SensorExposure) -> np.ndarray:
    """Temporal noise (full-scale units) of ``signal`` at this exposure's gain."""
    gain = exposure.gain
    electrons = np.maximum(signal, 0) / max(gain, 1e-9) * FULL_WELL_E
    sigma: np.ndarray = np.sqrt(electrons + READ_NOISE_E**2) / FULL_WELL_E * gain
    return sigma


def gain_to_log2(linear: int) -> int:
    """1024 = 1x -> log2 x 32 (the unit of MaxAgain/MaxDgain)."""
    return round(32 * math.log2(max(linear, 1) / 1024))


def log2_to_gain(log2: int) -> int:
    return round(1024 * 2 ** (log2 / 32))
