"""ISP: sensor lifecycle and image tuning (``IMP_ISP_*``).

:func:`get_isp` is the device state behind the C API (sensor, links, the tuning transport);
:func:`tuning` is the Pythonic face: one process-wide :class:`IspTuning` object with properties
and methods for every tuning function, statistics as numpy arrays, and errors that say what to fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imp.core.lazy import exports_of, lazy_exports

if TYPE_CHECKING:
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

# Imported on first use: a pipeline that never tunes the ISP does not load the tuning controls
# (board, picture, 3A) nor their ctypes structs (imp.core.lazy).
__getattr__ = lazy_exports(
    __name__,
    {
        **exports_of(
            "imp.isp.device",
            "BYTE_CONTROLS",
            "DEFAULT_SENSOR_FPS",
            "ENUM_LIMITS",
            "LEVEL_CONTROLS",
            "Isp",
            "SensorInfo",
            "get_isp",
        ),
        **exports_of("imp.isp.tuning", "IspTuning", "tuning"),
        **exports_of(
            "imp.isp.values",
            "AeState",
            "EVAttr",
            "Exposure",
            "FrontCrop",
            "SensorAttr",
            "WhiteBalance",
        ),
    },
)

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
