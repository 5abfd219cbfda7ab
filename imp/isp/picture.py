"""Picture controls of the Pythonic ISP object: BCSH, flips, modes, strengths, gamma, CCM, CSC...

Each property reads the driver (or, where the driver has no getter, what this process last set)
and each setter sends one tuning call; the docstrings name the C function mirrored.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from imp.errors import InvalidArgument, InvalidState
from imp.isp import convert
from imp.isp.device import Isp
from imp.isp.values import FrontCrop, check_range, check_u8, check_u32
from imp.kernel.abi_isp import KernelFixedContrast
from imp.types import IMPISPAutoZoom, IMPISPCscAttr, IMPISPMASKAttr, IMPISPScalerLv

_ANTI_FLICKER_HZ = {0: 0, 50: 1, 60: 2}


class PictureControls:
    _isp: Isp

    # -- BCSH and sharpness (u8, 128 = default) ----------------------------------------------
    @property
    def brightness(self) -> int:
        """``IMP_ISP_Tuning_Get/SetBrightness``: 0..255, 128 = default."""
        return self._isp.get_value("brightness") & 0xFF

    @brightness.setter
    def brightness(self, value: int) -> None:
        self._isp.set_value("brightness", check_u8("brightness", value))

    @property
    def contrast(self) -> int:
        """``IMP_ISP_Tuning_Get/SetContrast``: 0..255 (the getter answers from libimp's cache)."""
        return self._isp.cached("contrast")

    @contrast.setter
    def contrast(self, value: int) -> None:
        self._isp.set_value("contrast", check_u8("contrast", value))

    @property
    def sharpness(self) -> int:
        """``IMP_ISP_Tuning_Get/SetSharpness``: 0..255 (getter from libimp's cache)."""
        return self._isp.cached("sharpness")

    @sharpness.setter
    def sharpness(self, value: int) -> None:
        self._isp.set_value("sharpness", check_u8("sharpness", value))

    @property
    def saturation(self) -> int:
        """``IMP_ISP_Tuning_Get/SetSaturation``: 0..255, 0 = grey."""
        return self._isp.get_value("saturation") & 0xFF

    @saturation.setter
    def saturation(self, value: int) -> None:
        self._isp.set_value("saturation", check_u8("saturation", value))

    @property
    def hue(self) -> int:
        """``IMP_ISP_Tuning_Get/SetBcshHue``: 0..255, 128 = unchanged."""
        return self._isp.get_value("hue") & 0xFF

    @hue.setter
    def hue(self, value: int) -> None:
        self._isp.set_value("hue", check_u8("hue", value))

    # -- geometry and modes ---------------------------------------------------------------
    @property
    def hflip(self) -> bool:
        """``IMP_ISP_Tuning_Get/SetISPHflip``: mirror left-right."""
        return bool(self._isp.get_value("hflip"))

    @hflip.setter
    def hflip(self, on: bool) -> None:
        self._isp.set_value("hflip", int(bool(on)))

    @property
    def vflip(self) -> bool:
        """``IMP_ISP_Tuning_Get/SetISPVflip``: upside down."""
        return bool(self._isp.get_value("vflip"))

    @vflip.setter
    def vflip(self, on: bool) -> None:
        self._isp.set_value("vflip", int(bool(on)))

    @property
    def hvflip(self) -> int:
        """``IMP_ISP_Tuning_Get/SetHVFLIP``: IMPISP_FLIP_* (bit 0 mirror, bit 1 flip)."""
        return self._isp.get_value("hvflip") & 3

    @hvflip.setter
    def hvflip(self, mode: int) -> None:
        self._isp.set_value(
            "hvflip", check_range("hvflip", mode, 0, 3, " (IMPISP_FLIP_NORMAL/H/V/HV_MODE)")
        )

    @property
    def night(self) -> bool:
        """``IMP_ISP_Tuning_Get/SetISPRunningMode``: night (grey, IR-lit) or day."""
        return bool(self._isp.get_value("running_mode") & 1)

    @night.setter
    def night(self, on: bool) -> None:
        self._isp.set_value("running_mode", int(bool(on)))

    @property
    def custom_mode(self) -> bool:
        """``IMP_ISP_Tuning_Get/SetISPCustomMode``: the sensor's custom tuning set."""
        return bool(self._isp.get_value("custom_mode"))

    @custom_mode.setter
    def custom_mode(self, on: bool) -> None:
        self._isp.set_value("custom_mode", int(bool(on)))

    def set_bypass(self, enabled: bool) -> None:
        """``IMP_ISP_Tuning_SetISPBypass``: True lets the ISP process the picture (libimp's
        IMPISP_TUNING_OPS_MODE_ENABLE = 1), False hands raw frames through."""
        self._isp.set_bypass(bool(enabled))

    @property
    def anti_flicker_hz(self) -> int:
        """``IMP_ISP_Tuning_Get/SetAntiFlickerAttr``: 0 (off), 50 or 60 (mains frequency)."""
        value = self._isp.get_value("anti_flicker")
        return {v: k for k, v in _ANTI_FLICKER_HZ.items()}.get(value, 0)

    @anti_flicker_hz.setter
    def anti_flicker_hz(self, hz: int) -> None:
        if hz not in _ANTI_FLICKER_HZ:
            raise InvalidArgument(f"anti_flicker_hz must be 0 (off), 50 or 60, got {hz!r}")
        self._isp.set_value("anti_flicker", _ANTI_FLICKER_HZ[hz])

    @property
    def sensor_fps(self) -> tuple[int, int]:
        """``IMP_ISP_Tuning_Get/SetSensorFPS``: (numerator, denominator)."""
        return self._isp.read_sensor_fps()

    @sensor_fps.setter
    def sensor_fps(self, fps: tuple[int, int] | int) -> None:
        num, den = (fps, 1) if isinstance(fps, int) else fps
        self._isp.set_sensor_fps(int(num), int(den))

    # -- strengths ------------------------------------------------------------------------
    def set_sinter_strength(self, ratio: int) -> None:
        """``IMP_ISP_Tuning_SetSinterStrength``: 2D denoise 0..255 (128 = default)."""
        self._isp.set_value("sinter_strength", check_u8("sinter_strength", ratio))

    def set_temper_strength(self, ratio: int) -> None:
        """``IMP_ISP_Tuning_SetTemperStrength``: 3D (temporal) denoise 0..255."""
        self._isp.set_value("temper_strength", check_u8("temper_strength", ratio))

    @property
    def dpc_strength(self) -> int:
        """``IMP_ISP_Tuning_Get/SetDPC_Strength``: defective-pixel correction ratio."""
        return self._isp.get_value("dpc_strength")

    @dpc_strength.setter
    def dpc_strength(self, ratio: int) -> None:
        self._isp.set_value("dpc_strength", check_range("dpc_strength", ratio, 0, 255))

    @property
    def drc_strength(self) -> int:
        """``IMP_ISP_Tuning_Get/SetDRC_Strength``: dynamic range compression ratio."""
        return self._isp.get_value("drc_strength")

    @drc_strength.setter
    def drc_strength(self, ratio: int) -> None:
        self._isp.set_value("drc_strength", check_range("drc_strength", ratio, 0, 255))

    @property
    def defog_strength(self) -> int:
        """``IMP_ISP_Tuning_Get/SetDefog_Strength``: 0..255 (a 1-byte pointer control)."""
        return self._isp.get_bytes("defog_strength")[0]

    @defog_strength.setter
    def defog_strength(self, ratio: int) -> None:
        self._isp.set_bytes("defog_strength", bytes([check_u8("defog_strength", ratio)]))

    def enable_drc(self, on: bool) -> None:
        """``IMP_ISP_Tuning_EnableDRC``."""
        self._isp.set_value("drc_enable", int(bool(on)))

    def enable_defog(self, on: bool) -> None:
        """``IMP_ISP_Tuning_EnableDefog``."""
        self._isp.set_value("defog_enable", int(bool(on)))

    @property
    def highlight_depress(self) -> int:
        """``IMP_ISP_Tuning_Get/SetHiLightDepress``: strength 0..10 (0 = off)."""
        return self._isp.get_value("highlight_depress")

    @highlight_depress.setter
    def highlight_depress(self, strength: int) -> None:
        self._isp.set_value("highlight_depress", check_u32("highlight_depress", strength))

    @property
    def backlight_comp(self) -> int:
        """``IMP_ISP_Tuning_Get/SetBacklightComp``: strength 0..10 (0 = off)."""
        return self._isp.get_value("backlight_comp")

    @backlight_comp.setter
    def backlight_comp(self, strength: int) -> None:
        self._isp.set_value("backlight_comp", check_u32("backlight_comp", strength))

    # -- curves and matrices --------------------------------------------------------------
    @property
    def gamma(self) -> np.ndarray:
        """``IMP_ISP_Tuning_Get/SetGamma``: 129 points (uint16, 0..4095) of the gamma curve."""
        return np.frombuffer(self._isp.get_bytes("gamma"), dtype="<u2").astype(np.uint16)

    @gamma.setter
    def gamma(self, curve: Any) -> None:
        arr = np.asarray(curve)
        if arr.shape != (129,):
            raise InvalidArgument(f"gamma must have 129 points (0..4095), got shape {arr.shape}")
        if arr.min() < 0 or arr.max() > 0xFFFF:
            raise InvalidArgument("gamma points must be 0..65535 (the curve spans 0..4095)")
        self._isp.set_bytes("gamma", arr.astype("<u2").tobytes())

    @property
    def ccm(self) -> tuple[bool, bool, np.ndarray]:
        """``IMP_ISP_Tuning_GetCCMAttr``: (manual, saturation-linked, 3x3 float matrix)."""
        return convert.ccm_from_kernel(self._isp.get_bytes("ccm_attr"))

    def set_ccm(self, matrix: Any, manual: bool = True, saturation: bool = True) -> None:
        """``IMP_ISP_Tuning_SetCCMAttr``: a 3x3 colour matrix (rows sum to 1 keep grey grey)."""
        self._isp.set_bytes("ccm_attr", convert.ccm_to_kernel(manual, saturation, matrix))

    @property
    def csc(self) -> IMPISPCscAttr:
        """``IMP_ISP_Tuning_GetCsc_Attr``: the colour-space conversion (ctypes struct)."""
        return IMPISPCscAttr.from_buffer_copy(self._isp.get_bytes("csc_attr"))

    @csc.setter
    def csc(self, attr: IMPISPCscAttr) -> None:
        if not isinstance(attr, IMPISPCscAttr):
            raise InvalidArgument(f"csc must be an IMPISPCscAttr, got {type(attr).__name__}")
        check_range("csc mode", attr.mode, 0, 4, " (ISP_CSC_CG_*)")
        self._isp.set_bytes("csc_attr", bytes(attr))

    def set_fixed_contrast(self, mode: int, range_low: int, range_high: int) -> None:
        """``IMP_ISP_SetFixedContraster``: the MJPEG contrast range (3-byte kernel layout)."""
        lo, hi = check_u8("range_low", range_low), check_u8("range_high", range_high)
        if lo > hi:
            raise InvalidArgument(f"range_low {lo} must not exceed range_high {hi}")
        k = KernelFixedContrast(mode=check_u8("mode", mode), range_low=lo, range_high=hi)
        self._isp.set_bytes("fixed_contrast", bytes(k))

    # -- pipeline blocks and geometry -----------------------------------------------------
    @property
    def module_control(self) -> int:
        """``IMP_ISP_Tuning_Get/SetModuleControl``: bit mask of bypassed ISP blocks."""
        return int.from_bytes(self._isp.get_bytes("module_control"), "little")

    @module_control.setter
    def module_control(self, mask: int) -> None:
        self._isp.set_bytes(
            "module_control", check_u32("module_control", mask).to_bytes(4, "little")
        )

    @property
    def front_crop(self) -> FrontCrop:
        """``IMP_ISP_Tuning_Get/SetFrontCrop``: the ISP's input crop."""
        d = self._isp.get_bytes("front_crop")
        words = [int.from_bytes(d[i : i + 4], "little") for i in range(4, 20, 4)]
        return FrontCrop(bool(d[0]), *words)

    @front_crop.setter
    def front_crop(self, crop: FrontCrop | None) -> None:
        crop = crop or FrontCrop(False, 0, 0, 0, 0)
        if crop.enable and (crop.width <= 0 or crop.height <= 0):
            raise InvalidArgument(f"front crop {crop}: width and height must be positive")
        words = [check_u32(n, getattr(crop, n)) for n in ("top", "left", "width", "height")]
        data = bytes([int(crop.enable), 0, 0, 0]) + b"".join(w.to_bytes(4, "little") for w in words)
        self._isp.set_bytes("front_crop", data)

    @property
    def mask(self) -> IMPISPMASKAttr:
        """``IMP_ISP_Tuning_Get/SetMask``: privacy mask blocks of the three channels."""
        return IMPISPMASKAttr.from_buffer_copy(self._isp.get_bytes("mask"))

    @mask.setter
    def mask(self, attr: IMPISPMASKAttr) -> None:
        if not isinstance(attr, IMPISPMASKAttr):
            raise InvalidArgument(f"mask must be an IMPISPMASKAttr, got {type(attr).__name__}")
        check_range("mask_type", attr.mask_type, 0, 1, " (IMPISP_MASK_TYPE_RGB/YUV)")
        self._isp.set_bytes("mask", bytes(attr))

    @property
    def wdr_output_mode(self) -> int:
        """``IMP_ISP_Tuning_Get/SetWdr_OutputMode``: IMPISP_WDR_OUTPUT_MODE_* (0..2)."""
        return int.from_bytes(self._isp.get_bytes("wdr_output_mode"), "little")

    @wdr_output_mode.setter
    def wdr_output_mode(self, mode: int) -> None:
        value = check_range("wdr_output_mode", mode, 0, 2, " (IMPISP_WDR_OUTPUT_MODE_*)")
        self._isp.set_bytes("wdr_output_mode", value.to_bytes(4, "little"))

    def set_scaler_level(self, channel: int, method: int, level: int) -> None:
        """``IMP_ISP_Tuning_SetScalerLv``: scaler method (IMP_ISP_SCALER_METHOD_*) and level."""
        attr = IMPISPScalerLv(
            channel=check_range("channel", channel, 0, 2),
            method=check_range("method", method, 0, 1, " (IMP_ISP_SCALER_METHOD_*)"),
            level=check_range("level", level, 0, 128),
        )
        self._isp.set_bytes("scaler_level", bytes(attr))

    def set_autozoom(self, attr: IMPISPAutoZoom) -> None:
        """``IMP_ISP_Tuning_SetAutoZoom``: a channel's crop and scaler (36-B struct)."""
        if not isinstance(attr, IMPISPAutoZoom):
            raise InvalidArgument(f"autozoom must be an IMPISPAutoZoom, got {type(attr).__name__}")
        check_range("chan", attr.chan, 0, 2)
        if attr.crop_enable and (attr.crop_width <= 0 or attr.crop_height <= 0):
            raise InvalidArgument("autozoom crop: width and height must be positive")
        self._isp.set_bytes("autozoom", bytes(attr))

    @property
    def blc(self) -> tuple[int, int, int, int, int]:
        """``IMP_ISP_Tuning_GetBlcAttr``: black levels (r, gr, gb, b, ir)."""
        d = self._isp.get_bytes("blc_attr")
        r, gr, gb, b, ir = (int.from_bytes(d[i : i + 4], "little") for i in range(0, 20, 4))
        return r, gr, gb, b, ir


def struct_copy(dst: ctypes.Structure, data: bytes) -> None:
    """Fill a caller's ctypes struct from driver bytes (sizes equal)."""
    if ctypes.sizeof(dst) != len(data):
        raise InvalidState(f"{type(dst).__name__}: {len(data)} bytes from the driver")
    ctypes.memmove(ctypes.addressof(dst), data, len(data))
