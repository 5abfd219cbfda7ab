"""AE, AWB and AF of the Pythonic ISP object: settings, live results, statistics as numpy arrays.

Statistics come from the tuning node on demand (isp_tuning_ids.md §3: nothing is mmapped); zone
grids are 15 x 15. Docstrings name the C function mirrored.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from imp.errors import InvalidArgument
from imp.isp import convert
from imp.isp.device import Isp
from imp.isp.values import (
    AeState,
    EVAttr,
    Exposure,
    WhiteBalance,
    check_range,
    check_u8,
    check_u32,
    weights_array,
    weights_bytes,
    zones_u32,
)
from imp.kernel.abi_isp import KernelAeState, KernelExprGet, KernelExprSet
from imp.types import IMPISPAEAttr, IMPISPAWBCluster, IMPISPAWBCtTrend


class ThreeAControls:
    _isp: Isp

    # -- AE settings ----------------------------------------------------------------------
    @property
    def ae_comp(self) -> int:
        """``IMP_ISP_Tuning_Get/SetAeComp``: exposure compensation 0..255 (128 = none)."""
        return self._isp.get_value("ae_comp")

    @ae_comp.setter
    def ae_comp(self, value: int) -> None:
        self._isp.set_value("ae_comp", check_u8("ae_comp", value))

    @property
    def max_again(self) -> int:
        """``IMP_ISP_Tuning_Get/SetMaxAgain``: analog gain limit, log2(gain) x 32 (160 = 32x)."""
        return self._isp.get_value("max_again")

    @max_again.setter
    def max_again(self, value: int) -> None:
        self._isp.set_value("max_again", check_range("max_again", value, 0, 0xFFFF))

    @property
    def max_dgain(self) -> int:
        """``IMP_ISP_Tuning_Get/SetMaxDgain``: digital gain limit, log2(gain) x 32."""
        return self._isp.get_value("max_dgain")

    @max_dgain.setter
    def max_dgain(self, value: int) -> None:
        self._isp.set_value("max_dgain", check_range("max_dgain", value, 0, 0xFFFF))

    @property
    def ae_it_max(self) -> int:
        """``IMP_ISP_Tuning_GetAE_IT_MAX/SetAe_IT_MAX``: integration time limit in lines."""
        return self._isp.get_value("ae_it_max")

    @ae_it_max.setter
    def ae_it_max(self, lines: int) -> None:
        self._isp.set_value("ae_it_max", check_range("ae_it_max", lines, 1, 0xFFFF, " lines"))

    def freeze_ae(self, frozen: bool = True) -> None:
        """``IMP_ISP_Tuning_SetAeFreeze``: hold the current exposure."""
        self._isp.set_value("ae_freeze", int(bool(frozen)))

    @property
    def ae_min(self) -> tuple[int, int, int, int]:
        """``IMP_ISP_Tuning_Get/SetAeMin``: (min_it, min_again, min_it_short, min_again_short)."""
        values: tuple[int, int, int, int] = struct.unpack("<4I", self._isp.get_bytes("ae_min"))
        return values

    @ae_min.setter
    def ae_min(self, values: tuple[int, int, int, int]) -> None:
        if len(values) != 4:
            raise InvalidArgument("ae_min is (min_it, min_again, min_it_short, min_again_short)")
        words = [check_u32(f"ae_min[{i}]", v) for i, v in enumerate(values)]
        self._isp.set_bytes("ae_min", struct.pack("<4I", *words))

    @property
    def ae_target_list(self) -> np.ndarray:
        """``IMP_ISP_Tuning_Get/SetAeTargetList``: 10 luma targets (uint32)."""
        return np.frombuffer(self._isp.get_bytes("ae_target_list"), dtype="<u4").astype(np.uint32)

    @ae_target_list.setter
    def ae_target_list(self, targets: Any) -> None:
        arr = np.asarray(targets)
        if arr.shape != (10,) or arr.min() < 0 or arr.max() > 255:
            raise InvalidArgument("ae_target_list must be 10 luma targets 0..255")
        self._isp.set_bytes("ae_target_list", arr.astype("<u4").tobytes())

    @property
    def ae_weights(self) -> np.ndarray:
        """``IMP_ISP_Tuning_Get/SetAeWeight``: 15x15 metering weights 0..8."""
        return weights_array(self._isp.get_bytes("ae_weight"))

    @ae_weights.setter
    def ae_weights(self, weights: Any) -> None:
        self._isp.set_bytes("ae_weight", weights_bytes("ae_weights", weights))

    @property
    def ae_roi(self) -> np.ndarray:
        """``IMP_ISP_Tuning_AE_GetROI/AE_SetROI``: 15x15 region-of-interest weights 0..8."""
        return weights_array(self._isp.get_bytes("ae_roi"))

    @ae_roi.setter
    def ae_roi(self, weights: Any) -> None:
        self._isp.set_bytes("ae_roi", weights_bytes("ae_roi", weights))

    @property
    def ae_hist_thresholds(self) -> tuple[int, int, int, int]:
        """``IMP_ISP_Tuning_Get/SetAeHist``: the 4 luma thresholds of the 5-bin histogram."""
        t = self._isp.get_bytes("ae_hist")[:4]
        return t[0], t[1], t[2], t[3]

    @ae_hist_thresholds.setter
    def ae_hist_thresholds(self, thresholds: tuple[int, int, int, int]) -> None:
        values = [check_u8("threshold", v) for v in thresholds]
        if len(values) != 4 or values != sorted(values):
            raise InvalidArgument("ae_hist_thresholds: 4 ascending luma values 0..255")
        self._isp.set_bytes("ae_hist", bytes(values) + bytes(10) + bytes([15, 15]))

    @property
    def ae_attr(self) -> IMPISPAEAttr:
        """``IMP_ISP_Tuning_GetAeAttr``: manual AE overrides (ctypes IMPISPAEAttr)."""
        attr = IMPISPAEAttr()
        convert.ae_attr_from_kernel(self._isp.get_bytes("ae_attr"), attr)
        return attr

    @ae_attr.setter
    def ae_attr(self, attr: IMPISPAEAttr) -> None:
        if not isinstance(attr, IMPISPAEAttr):
            raise InvalidArgument(f"ae_attr must be an IMPISPAEAttr, got {type(attr).__name__}")
        self._isp.set_bytes("ae_attr", convert.ae_attr_to_kernel(attr))

    # -- exposure -------------------------------------------------------------------------
    @property
    def exposure(self) -> Exposure:
        """``IMP_ISP_Tuning_GetExpr``: the integration time AE (or SetExpr) applies."""
        g = KernelExprGet.from_buffer_copy(self._isp.get_bytes("expr"))
        return Exposure(
            bool(g.mode),
            g.integration_time,
            g.integration_time_min,
            g.integration_time_max,
            g.one_line_expr_in_us,
        )

    def set_exposure(self, time: int | None, unit: str = "lines") -> None:
        """``IMP_ISP_Tuning_SetExpr``: a manual integration time (``unit`` "lines" or "us"),
        or ``None`` for automatic exposure."""
        if unit not in ("lines", "us"):
            raise InvalidArgument(f"exposure unit must be 'lines' or 'us', got {unit!r}")
        t = 0 if time is None else check_range("exposure time", time, 1, 0xFFFF)
        s = KernelExprSet(mode=0 if time is None else 1, unit=int(unit == "us"), time=t)
        self._isp.set_bytes("expr", bytes(s))

    @property
    def ev(self) -> EVAttr:
        """``IMP_ISP_Tuning_GetEVAttr``."""
        return EVAttr(*struct.unpack("<6I", self._isp.get_bytes("ev_attr")))

    @property
    def total_gain(self) -> int:
        """``IMP_ISP_Tuning_GetTotalGain``: again x dgain x ISP dgain (1024 = 1x)."""
        return self._isp.get_value("total_gain") & 0xFFFFFFFF

    @property
    def ae_luma(self) -> int:
        """``IMP_ISP_Tuning_GetAeLuma``: the mean luma AE measures (0..255)."""
        return self._isp.get_value("ae_luma")

    @property
    def ae_state(self) -> AeState:
        """``IMP_ISP_Tuning_GetAeState``."""
        s = KernelAeState.from_buffer_copy(self._isp.get_bytes("ae_state"))
        return AeState(bool(s.stable), s.target, s.ae_mean)

    # -- statistics -----------------------------------------------------------------------
    def ae_zones(self) -> np.ndarray:
        """``IMP_ISP_Tuning_GetAeZone``: mean luma per zone, uint32 (15, 15)."""
        return zones_u32(self._isp.get_bytes("ae_zone"))

    def ae_histogram(self) -> np.ndarray:
        """``IMP_ISP_Tuning_GetAeHist``: the 5 bins (share x 10000) split at the thresholds."""
        data = self._isp.get_bytes("ae_hist")
        return np.frombuffer(data[4:14], dtype="<u2").astype(np.uint16)

    def ae_histogram_256(self) -> np.ndarray:
        """``IMP_ISP_Tuning_GetAeHist_Origin``: pixel counts per luma value, uint32 (256,)."""
        return np.frombuffer(self._isp.get_bytes("ae_hist_origin"), dtype="<u4").astype(np.uint32)

    def awb_zones(self) -> np.ndarray:
        """``IMP_ISP_Tuning_GetAwbZone``: mean R, G, B per zone, uint8 (15, 15, 3)."""
        d = np.frombuffer(self._isp.get_bytes("awb_zone"), dtype=np.uint8).reshape(3, 15, 15)
        return np.ascontiguousarray(np.moveaxis(d, 0, -1))

    def af_zones(self) -> np.ndarray:
        """``IMP_ISP_Tuning_GetAfZone``: sharpness per zone, uint32 (15, 15)."""
        return zones_u32(self._isp.get_bytes("af_zone"))

    @property
    def af_metric(self) -> int:
        """``IMP_ISP_Tuning_GetAFMetrices``: the whole picture's sharpness."""
        return int.from_bytes(self._isp.get_bytes("af_metric"), "little")

    @property
    def af_weights(self) -> np.ndarray:
        """``IMP_ISP_Tuning_Get/SetAfWeight``: 15x15 AF weights 0..8."""
        return weights_array(self._isp.get_bytes("af_weight"))

    @af_weights.setter
    def af_weights(self, weights: Any) -> None:
        self._isp.set_bytes("af_weight", weights_bytes("af_weights", weights))

    # -- AWB ------------------------------------------------------------------------------
    @property
    def wb(self) -> WhiteBalance:
        """``IMP_ISP_Tuning_GetWB``: mode and gains as set."""
        return WhiteBalance(*self._isp.get_wb())

    def set_wb(self, mode: int, rgain: int = 256, bgain: int = 256) -> None:
        """``IMP_ISP_Tuning_SetWB``: ISP_CORE_WB_MODE_* and, for manual, gains (256 = 1x)."""
        self._isp.set_wb(int(mode), int(rgain), int(bgain))

    @property
    def wb_statis(self) -> tuple[int, int]:
        """``IMP_ISP_Tuning_GetWB_Statis``: (rgain, bgain) AWB currently applies."""
        v = self._isp.get_value("wb_statis") & 0xFFFFFFFF
        return v >> 16, v & 0xFFFF

    @property
    def wb_gol_statis(self) -> tuple[int, int]:
        """``IMP_ISP_Tuning_GetWB_GOL_Statis``: the global (rgain, bgain) statistics pair."""
        v = self._isp.get_value("wb_gol_statis") & 0xFFFFFFFF
        return v >> 16, v & 0xFFFF

    @property
    def awb_ct(self) -> int:
        """``IMP_ISP_Tuning_GetAWBCt/SetAwbCt``: colour temperature in kelvin."""
        return int.from_bytes(self._isp.get_bytes("awb_ct"), "little")

    @awb_ct.setter
    def awb_ct(self, kelvin: int) -> None:
        value = check_range("awb_ct", kelvin, 1000, 20000, " K")
        self._isp.set_bytes("awb_ct", value.to_bytes(4, "little"))

    def set_wb_algorithm(self, algo: int) -> None:
        """``IMP_ISP_Tuning_SetWB_ALGO``: IMPISP_AWB_ALGO_NORMAL/GRAYWORLD/REWEIGHT (0..2)."""
        self._isp.set_value("wb_algo", check_range("wb_algo", algo, 0, 2, " (IMPISP_AWB_ALGO_*)"))

    @property
    def awb_cluster(self) -> IMPISPAWBCluster:
        """``IMP_ISP_Tuning_Get/SetAwbClust``."""
        return IMPISPAWBCluster.from_buffer_copy(self._isp.get_bytes("awb_cluster"))

    @awb_cluster.setter
    def awb_cluster(self, attr: IMPISPAWBCluster) -> None:
        if not isinstance(attr, IMPISPAWBCluster):
            raise InvalidArgument(f"expected an IMPISPAWBCluster, got {type(attr).__name__}")
        self._isp.set_bytes("awb_cluster", bytes(attr))

    @property
    def awb_ct_trend(self) -> IMPISPAWBCtTrend:
        """``IMP_ISP_Tuning_Get/SetAwbCtTrend``."""
        return IMPISPAWBCtTrend.from_buffer_copy(self._isp.get_bytes("awb_ct_trend"))

    @awb_ct_trend.setter
    def awb_ct_trend(self, attr: IMPISPAWBCtTrend) -> None:
        if not isinstance(attr, IMPISPAWBCtTrend):
            raise InvalidArgument(f"expected an IMPISPAWBCtTrend, got {type(attr).__name__}")
        self._isp.set_bytes("awb_ct_trend", bytes(attr))

    @property
    def awb_rgb_coefficients(self) -> tuple[int, int, int]:
        """``IMP_ISP_Tuning_Awb_Get/SetRgbCoefft``: (r, g, b) WB coefficients."""
        r, g, b = struct.unpack("<3H", self._isp.get_bytes("rgb_coefft"))
        return r, g, b

    @awb_rgb_coefficients.setter
    def awb_rgb_coefficients(self, rgb: tuple[int, int, int]) -> None:
        values = [check_range("coefficient", v, 0, 0xFFFF) for v in rgb]
        if len(values) != 3:
            raise InvalidArgument("awb_rgb_coefficients is (r, g, b)")
        self._isp.set_bytes("rgb_coefft", struct.pack("<3H", *values))
