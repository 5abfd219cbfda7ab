"""ISP: sensor lifecycle and image tuning (``IMP_ISP_*``).

:func:`get_isp` is the device state behind the C API (sensor, links, the tuning transport);
:func:`tuning` is the Pythonic face: one process-wide :class:`IspTuning` object with properties
and methods for every tuning function, statistics as numpy arrays, and errors that say what to fix.
"""

from __future__ import annotations

from imp.isp.device import (
    BYTE_CONTROLS,
    DEFAULT_SENSOR_FPS,
    ENUM_LIMITS,
    LEVEL_CONTROLS,
    Isp,
    SensorInfo,
    get_isp,
)
from imp.isp.tuning import IspTuning, tuning
from imp.isp.values import AeState, EVAttr, Exposure, FrontCrop, SensorAttr, WhiteBalance

__all__ = [
    "BYTE_CONTROLS",
    "DEFAULT_SENSOR_FPS",
    "ENUM_LIMITS",
    "LEVEL_CONTROLS",
    "AeState",
    "EVAttr",
    "Exposure",
    "FrontCrop",
    "Isp",
    "IspTuning",
    "SensorAttr",
    "SensorInfo",
    "WhiteBalance",
    "get_isp",
    "tuning",
]
