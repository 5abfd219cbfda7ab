"""``IMP_ISP_*``: sensor lifecycle and the tuning calls prudynt-t and the vendor samples use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from imp import isp as _isp
from imp.capi._common import c_function, c_string, check_int, deref, scalar_out
from imp.errors import InvalidArgument
from imp.types import IMPISPWB, IMPSensorInfo

_ISP = _isp.get_isp
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
    raw = c_string(path, "path")
    if len(raw) >= 0x40:
        raise InvalidArgument(f"bin path is {len(raw)} bytes; the driver takes at most 63")
    dev = _ISP().txisp
    if dev is None:
        raise InvalidArgument("SetDefaultBinPath: call IMP_ISP_Open first")
    dev.set_bin_path(raw)
    return 0


@_export
@c_function()
def IMP_ISP_GetDefaultBinPath(path: Any) -> int:
    dev = _ISP().txisp
    if dev is None:
        raise InvalidArgument("GetDefaultBinPath: call IMP_ISP_Open first")
    value = dev.get_bin_path()
    if path is None or not hasattr(path, "raw"):
        raise InvalidArgument("path must be a ctypes.create_string_buffer(64)")
    path.value = value
    return 0


def _level_pair(control: str, set_name: str, get_name: str | None) -> None:
    """Define IMP_ISP_Tuning_Set<X>(value) and IMP_ISP_Tuning_Get<X>(T *out) for one control."""

    def setter(value: int) -> int:
        _ISP().set_control(control, check_int(value, control))
        return 0

    setter.__name__ = setter.__qualname__ = set_name
    setter.__doc__ = f"``{set_name}``: ISP control {control}."
    globals()[set_name] = _export(c_function()(setter))
    if get_name is None:
        return

    def getter(out: Any) -> int:
        target = scalar_out(out, control)
        target.value = _ISP().get_control(control)
        return 0

    getter.__name__ = getter.__qualname__ = get_name
    getter.__doc__ = f"``{get_name}``: read ISP control {control}."
    globals()[get_name] = _export(c_function()(getter))


for _control, _suffix, _has_get in (
    ("brightness", "Brightness", True),
    ("contrast", "Contrast", True),
    ("sharpness", "Sharpness", True),
    ("saturation", "Saturation", True),
    ("hue", "BcshHue", True),
    ("hflip", "ISPHflip", True),
    ("vflip", "ISPVflip", True),
    ("running_mode", "ISPRunningMode", True),
    ("isp_bypass", "ISPBypass", False),
    ("anti_flicker", "AntiFlickerAttr", True),
    ("ae_comp", "AeComp", True),
    ("max_again", "MaxAgain", True),
    ("max_dgain", "MaxDgain", True),
    ("highlight_depress", "HiLightDepress", True),
    ("backlight_comp", "BacklightComp", True),
    ("temper_strength", "TemperStrength", False),
    ("sinter_strength", "SinterStrength", False),
    ("dpc_strength", "DPC_Strength", True),
    ("drc_strength", "DRC_Strength", True),
):
    _level_pair(
        _control,
        f"IMP_ISP_Tuning_Set{_suffix}",
        f"IMP_ISP_Tuning_Get{_suffix}" if _has_get else None,
    )


@_export
@c_function()
def IMP_ISP_Tuning_GetTotalGain(gain: Any) -> int:
    scalar_out(gain, "gain").value = _ISP().get_control("total_gain")
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_SetDefog_Strength(ratio: Any) -> int:
    """``int32_t IMP_ISP_Tuning_SetDefog_Strength(uint8_t *ratio)`` (a pointer, as in 1.1.6)."""
    value = scalar_out(ratio, "ratio").value if not isinstance(ratio, int) else ratio
    _ISP().set_control("defog_strength", check_int(value, "ratio"))
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_GetDefog_Strength(ratio: Any) -> int:
    scalar_out(ratio, "ratio").value = _ISP().get_control("defog_strength")
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_SetSensorFPS(fps_num: int, fps_den: int) -> int:
    _ISP().set_sensor_fps(check_int(fps_num, "fps_num"), check_int(fps_den, "fps_den"))
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_GetSensorFPS(fps_num: Any, fps_den: Any) -> int:
    num_out, den_out = scalar_out(fps_num, "fps_num"), scalar_out(fps_den, "fps_den")
    num, den = _ISP().sensor_fps()
    num_out.value, den_out.value = num, den
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_SetWB(wb: Any) -> int:
    w = deref(wb, IMPISPWB, "wb")
    _ISP().set_wb(int(w.mode), int(w.rgain), int(w.bgain))
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_GetWB(wb: Any) -> int:
    w = deref(wb, IMPISPWB, "wb")
    w.mode, w.rgain, w.bgain = _ISP().get_wb()
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_SetHVFLIP(hvflip: int) -> int:
    mode = check_int(hvflip, "hvflip")
    if not 0 <= mode <= 3:
        raise InvalidArgument(f"hvflip {mode}: use IMPISP_FLIP_NORMAL/H/V/HV_MODE (0..3)")
    _ISP().set_control("hflip", mode & 1)
    _ISP().set_control("vflip", (mode >> 1) & 1)
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_GetHVFlip(hvflip: Any) -> int:
    out = scalar_out(hvflip, "hvflip")
    out.value = _ISP().get_control("hflip") | (_ISP().get_control("vflip") << 1)
    return 0
