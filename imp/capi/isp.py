"""``IMP_ISP_*`` (part 1): sensor lifecycle, tx-isp calls and the scalar tuning controls.

The struct-valued controls, statistics and custom 3A are in :mod:`imp.capi.isp_tuning`. Every
function maps to :func:`imp.isp.get_isp` (lifecycle) or :func:`imp.isp.tuning` (tuning), whose
errors become -1 plus a log line on ``imp.capi``; ids and encodings are those of
isp_tuning_ids.md (see ``imp.kernel.abi_isp``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from imp import isp as _isp
from imp.capi._common import c_function, c_string, check_int, deref, scalar_out
from imp.capi._isp_export import define
from imp.errors import InvalidArgument, InvalidState
from imp.isp.values import check_range
from imp.types import IMPSensorInfo

_ISP = _isp.get_isp
_T = _isp.tuning
__all__: list[str] = []


def _export(fn: Callable[..., Any]) -> Callable[..., Any]:
    __all__.append(fn.__name__)
    return fn


def sensor_from_c(info: IMPSensorInfo) -> _isp.SensorInfo:
    name = bytes(info.name).split(b"\0", 1)[0].decode(errors="replace")
    i2c = info.i2c
    return _isp.SensorInfo(
        name=name,
        i2c_addr=int(i2c.addr),
        i2c_type=bytes(i2c.type).split(b"\0", 1)[0].decode(errors="replace") or None,
        i2c_adapter_id=int(i2c.i2c_adapter_id),
        cbus_type=int(info.cbus_type),
    )


# -- lifecycle ---------------------------------------------------------------------------------
@_export
@c_function()
def IMP_ISP_Open() -> int:
    _ISP().open()
    return 0


@_export
@c_function()
def IMP_ISP_Close() -> int:
    _ISP().close()
    return 0


@_export
@c_function()
def IMP_ISP_AddSensor(pinfo: Any) -> int:
    _ISP().add_sensor(sensor_from_c(deref(pinfo, IMPSensorInfo, "pinfo")))
    return 0


@_export
@c_function()
def IMP_ISP_DelSensor(pinfo: Any) -> int:
    _ISP().del_sensor(sensor_from_c(deref(pinfo, IMPSensorInfo, "pinfo")))
    return 0


@_export
@c_function()
def IMP_ISP_EnableSensor() -> int:
    _ISP().enable_sensor()
    return 0


@_export
@c_function()
def IMP_ISP_DisableSensor() -> int:
    _ISP().disable_sensor()
    return 0


@_export
@c_function()
def IMP_ISP_EnableTuning() -> int:
    _ISP().enable_tuning()
    return 0


@_export
@c_function()
def IMP_ISP_DisableTuning() -> int:
    _ISP().disable_tuning()
    return 0


@_export
@c_function()
def IMP_ISP_SetDefaultBinPath(path: Any) -> int:
    """Kept by libimp and sent by AddSensor (row 3); refused once a sensor is added."""
    raw = c_string(path, "path")
    if not raw or len(raw) >= 0x40:
        raise InvalidArgument(f"bin path is {len(raw)} bytes; give 1..63")
    isp = _ISP()
    if isp.txisp is None:
        raise InvalidState("SetDefaultBinPath: call IMP_ISP_Open first")
    if isp.sensor is not None:
        raise InvalidState("SetDefaultBinPath: call it before IMP_ISP_AddSensor")
    isp.bin_path = raw
    return 0


@_export
@c_function()
def IMP_ISP_GetDefaultBinPath(path: Any) -> int:
    dev = _ISP().txisp
    if dev is None:
        raise InvalidState("GetDefaultBinPath: call IMP_ISP_Open first")
    if path is None or not hasattr(path, "raw") or len(path.raw) < 0x40:
        raise InvalidArgument("path must be a ctypes.create_string_buffer(64)")
    path.value = dev.get_bin_path()
    return 0


@_export
@c_function()
def IMP_ISP_SetSensorRegister(reg: Any, value: Any) -> int:
    _T().write_sensor_register(check_int(reg, "reg"), check_int(value, "value"))
    return 0


@_export
@c_function()
def IMP_ISP_GetSensorRegister(reg: Any, value: Any) -> int:
    out = scalar_out(value, "value")
    out.value = _T().read_sensor_register(check_int(reg, "reg"))
    return 0


@_export
@c_function()
def IMP_ISP_WDR_ENABLE(mode: Any) -> int:
    _T().wdr = bool(check_range("mode", check_int(mode, "mode"), 0, 1, " (IMPISP_TUNING_OPS_*)"))
    return 0


@_export
@c_function()
def IMP_ISP_WDR_ENABLE_Get(mode: Any) -> int:
    out = scalar_out(mode, "mode")
    if _ISP().txisp is None:
        raise InvalidState("WDR_ENABLE_Get: call IMP_ISP_Open first")
    out.value = int(_T().wdr)
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_SetSensorFPS(fps_num: Any, fps_den: Any) -> int:
    _ISP().set_sensor_fps(check_int(fps_num, "fps_num"), check_int(fps_den, "fps_den"))
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_GetSensorFPS(fps_num: Any, fps_den: Any) -> int:
    num_out, den_out = scalar_out(fps_num, "fps_num"), scalar_out(fps_den, "fps_den")
    num_out.value, den_out.value = _ISP().read_sensor_fps()
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_SetISPBypass(enable: Any) -> int:
    value = check_range("enable", check_int(enable, "enable"), 0, 1, " (IMPISP_TUNING_OPS_*)")
    _T().set_bypass(bool(value))
    return 0


# -- scalar controls: Set<X>(value) / Get<X>(T *out) --------------------------------------------
def _property_pair(suffix: str, attr: str, lo: int, hi: int, get: bool, hint: str) -> None:
    set_name, get_name = f"IMP_ISP_Tuning_Set{suffix}", f"IMP_ISP_Tuning_Get{suffix}"

    def setter(value: Any) -> int:
        setattr(_T(), attr, check_range(attr, check_int(value, attr), lo, hi, hint))
        return 0

    define(
        globals(),
        __all__,
        set_name,
        setter,
        f"``{set_name}``: :attr:`imp.isp.IspTuning.{attr}` ({lo}..{hi}).",
    )
    if not get:
        return

    def getter(out: Any) -> int:
        target = scalar_out(out, attr)
        target.value = int(getattr(_T(), attr))
        return 0

    define(
        globals(), __all__, get_name, getter, f"``{get_name}``: :attr:`imp.isp.IspTuning.{attr}`."
    )


_U32 = 0xFFFFFFFF
_OPS = " (IMPISP_TUNING_OPS_MODE_DISABLE/ENABLE)"
for _suffix, _attr, _lo, _hi, _get, _hint in (
    ("Brightness", "brightness", 0, 255, True, ""),
    ("Contrast", "contrast", 0, 255, True, ""),
    ("Sharpness", "sharpness", 0, 255, True, ""),
    ("Saturation", "saturation", 0, 255, True, ""),
    ("BcshHue", "hue", 0, 255, True, ""),
    ("ISPHflip", "hflip", 0, 1, True, _OPS),
    ("ISPVflip", "vflip", 0, 1, True, _OPS),
    ("ISPRunningMode", "night", 0, 1, True, " (IMPISP_RUNNING_MODE_DAY/NIGHT)"),
    ("ISPCustomMode", "custom_mode", 0, 1, True, _OPS),
    ("AeComp", "ae_comp", 0, 255, True, ""),
    ("MaxAgain", "max_again", 0, 0xFFFF, True, ""),
    ("MaxDgain", "max_dgain", 0, 0xFFFF, True, ""),
    ("HiLightDepress", "highlight_depress", 0, _U32, True, ""),
    ("BacklightComp", "backlight_comp", 0, _U32, True, ""),
    ("DPC_Strength", "dpc_strength", 0, 255, True, ""),
    ("DRC_Strength", "drc_strength", 0, 255, True, ""),
    ("HVFLIP", "hvflip", 0, 3, False, " (IMPISP_FLIP_*_MODE)"),
):
    _property_pair(_suffix, _attr, _lo, _hi, _get, _hint)


@_export
@c_function()
def IMP_ISP_Tuning_GetHVFlip(hvflip: Any) -> int:
    scalar_out(hvflip, "hvflip").value = _T().hvflip
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_SetAntiFlickerAttr(attr: Any) -> int:
    value = check_range("attr", check_int(attr, "attr"), 0, 2, " (IMPISP_ANTIFLICKER_*)")
    _T().anti_flicker_hz = (0, 50, 60)[value]
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_GetAntiFlickerAttr(pattr: Any) -> int:
    scalar_out(pattr, "pattr").value = {0: 0, 50: 1, 60: 2}[_T().anti_flicker_hz]
    return 0


def _method(name: str, method: str, lo: int, hi: int, hint: str = "") -> None:
    """A setter-only C function calling ``IspTuning.<method>(value)``."""

    def entry(value: Any) -> int:
        getattr(_T(), method)(check_range(method, check_int(value, "value"), lo, hi, hint))
        return 0

    define(globals(), __all__, name, entry, f"``{name}``: :meth:`imp.isp.IspTuning.{method}`.")


for _name, _meth, _lo, _hi, _hint in (
    ("IMP_ISP_Tuning_SetTemperStrength", "set_temper_strength", 0, 255, ""),
    ("IMP_ISP_Tuning_SetSinterStrength", "set_sinter_strength", 0, 255, ""),
    ("IMP_ISP_Tuning_SetAeFreeze", "freeze_ae", 0, 1, _OPS),
    ("IMP_ISP_Tuning_EnableDRC", "enable_drc", 0, 1, _OPS),
    ("IMP_ISP_Tuning_EnableDefog", "enable_defog", 0, 1, _OPS),
    ("IMP_ISP_Tuning_SetWB_ALGO", "set_wb_algorithm", 0, 2, " (IMPISP_AWB_ALGO_*)"),
):
    _method(_name, _meth, _lo, _hi, _hint)


def _getter(name: str, attr: str) -> None:
    """A getter-only C function: ``*out = IspTuning.<attr>``."""

    def entry(out: Any) -> int:
        target = scalar_out(out, attr)
        target.value = int(getattr(_T(), attr))
        return 0

    define(globals(), __all__, name, entry, f"``{name}``: :attr:`imp.isp.IspTuning.{attr}`.")


for _name, _attr in (
    ("IMP_ISP_Tuning_GetTotalGain", "total_gain"),
    ("IMP_ISP_Tuning_GetAeLuma", "ae_luma"),
    ("IMP_ISP_Tuning_GetAFMetrices", "af_metric"),
    ("IMP_ISP_Tuning_GetAWBCt", "awb_ct"),
):
    _getter(_name, _attr)


@_export
@c_function()
def IMP_ISP_Tuning_SetAe_IT_MAX(it_max: Any) -> int:
    _T().ae_it_max = check_int(it_max, "it_max")
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_GetAE_IT_MAX(it_max: Any) -> int:
    scalar_out(it_max, "it_max").value = _T().ae_it_max
    return 0


# Part 2 (struct controls, statistics, GPIOs, 3A hooks) is exported through this module too, so
# ``imp.capi`` needs one import line for the whole ISP.
from imp.capi import isp_tuning as _part2  # noqa: E402
from imp.capi.isp_tuning import *  # noqa: E402

__all__ += _part2.__all__
