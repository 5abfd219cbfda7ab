"""Value types of the Pythonic ISP API and the argument checks every face shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from imp.errors import InvalidArgument

ZONES = 15


@dataclass(frozen=True)
class Exposure:
    """``IMPISPExpr.g_attr``: integration time and its bounds in sensor lines."""

    manual: bool
    integration_time: int  # lines
    integration_time_min: int
    integration_time_max: int
    line_time_us: int  # one line's exposure in microseconds


@dataclass(frozen=True)
class EVAttr:
    """``IMPISPEVAttr``: exposure value, exposure time (µs) and gains (1024 = 1x; log2 x 32)."""

    ev: int
    exposure_us: int
    ev_log2: int
    again: int
    dgain: int
    gain_log2: int


@dataclass(frozen=True)
class AeState:
    """``IMPISPAEState``: whether AE settled, its luma target and the current mean (0..255)."""

    stable: bool
    target: int
    mean: int


@dataclass(frozen=True)
class WhiteBalance:
    """``IMPISPWB``: mode (ISP_CORE_WB_MODE_*) and red/blue gains (256 = 1x)."""

    mode: int
    rgain: int
    bgain: int


@dataclass(frozen=True)
class SensorAttr:
    """``IMPISPSENSORAttr``: line/frame lengths, the fps word ``(num << 16) | den``, size."""

    hts: int
    vts: int
    fps: int
    width: int
    height: int


@dataclass(frozen=True)
class FrontCrop:
    """``IMPISPFrontCrop``: the ISP's input crop (sensor pixels)."""

    enable: bool
    top: int
    left: int
    width: int
    height: int


def check_range(name: str, value: Any, lo: int, hi: int, hint: str = "") -> int:
    """``value`` as an int within ``lo..hi`` or InvalidArgument naming the range."""
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, (int, np.integer)):
        raise InvalidArgument(f"{name} must be an integer {lo}..{hi}, got {type(value).__name__}")
    value = int(value)
    if not lo <= value <= hi:
        raise InvalidArgument(f"{name} must be {lo}..{hi}{hint}, got {value}")
    return value


def check_u8(name: str, value: Any) -> int:
    return check_range(name, value, 0, 255, " (128 is the default)")


def check_u32(name: str, value: Any) -> int:
    return check_range(name, value, 0, 0xFFFFFFFF)


def weights_bytes(name: str, weights: Any) -> bytes:
    """A 15x15 weight table (0..8 each) as the 225 bytes the driver copies."""
    arr = np.asarray(weights)
    if arr.shape != (ZONES, ZONES):
        raise InvalidArgument(
            f"{name} must be a 15x15 array of weights 0..8, got shape {arr.shape}"
        )
    if arr.size and (arr.min() < 0 or arr.max() > 8):
        raise InvalidArgument(
            f"{name}: every weight must be 0..8 (got {int(arr.min())}..{int(arr.max())})"
        )
    return arr.astype(np.uint8).tobytes()


def weights_array(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8).reshape(ZONES, ZONES).copy()


def zones_u32(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4").reshape(ZONES, ZONES).astype(np.uint32)
