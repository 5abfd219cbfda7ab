"""``IMP_ISP_*`` (part 2): struct-valued tuning controls, statistics, GPIOs, frame drop, 3A hooks.

Where the 1.1.6 header struct is byte-identical to what the kernel copies (isp_tuning_ids.md §2),
the caller's struct travels as is; CCM, AE attr, AF histogram and fixed contrast are converted
(``imp.isp.convert``, ``imp.kernel.abi_isp``).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import numpy as np

from imp import isp as _isp
from imp.capi._common import c_function, deref, scalar_out
from imp.capi._isp_export import define
from imp.errors import InvalidArgument
from imp.isp import convert
from imp.isp.values import check_range, weights_bytes
from imp.kernel.abi_isp import CONTROLS, KernelAfHist
from imp.types import (
    IMPISPCOEFFTWB,
    IMPISPGPIO,
    IMPISPWB,
    IMPISPAeAlgoFunc,
    IMPISPAEAttr,
    IMPISPAEHist,
    IMPISPAEHistOrigin,
    IMPISPAEMin,
    IMPISPAEState,
    IMPISPAETargetList,
    IMPISPAFHist,
    IMPISPAutoZoom,
    IMPISPAwbAlgoFunc,
    IMPISPAWBCluster,
    IMPISPAWBCtTrend,
    IMPISPAWBHist,
    IMPISPAWBZone,
    IMPISPBlcAttr,
    IMPISPCCMAttr,
    IMPISPCscAttr,
    IMPISPEVAttr,
    IMPISPExpr,
    IMPISPFixedContrastAttr,
    IMPISPFrameDropAttr,
    IMPISPFrontCrop,
    IMPISPGamma,
    IMPISPMASKAttr,
    IMPISPModuleCtl,
    IMPISPScalerLv,
    IMPISPSENSORAttr,
    IMPISPWaitFrameAttr,
    IMPISPWeight,
    IMPISPZone,
)

_ISP = _isp.get_isp
_T = _isp.tuning
__all__: list[str] = []


def _export(fn: Callable[..., Any]) -> Callable[..., Any]:
    __all__.append(fn.__name__)
    return fn


def _fill(dst: ctypes.Structure, data: bytes) -> None:
    ctypes.memmove(ctypes.addressof(dst), data, min(len(data), ctypes.sizeof(dst)))


# -- checks of caller structs before they reach the driver -------------------------------------
def _weights(w: IMPISPWeight) -> None:
    weights_bytes("weight", np.array([list(row) for row in w.weight]))


def _mask(m: IMPISPMASKAttr) -> None:
    check_range("mask_type", m.mask_type, 0, 1, " (IMPISP_MASK_TYPE_RGB/YUV)")


def _csc(c: IMPISPCscAttr) -> None:
    check_range("csc mode", c.mode, 0, 4, " (ISP_CSC_CG_*)")


def _front_crop(c: IMPISPFrontCrop) -> None:
    if c.fcrop_enable and (c.fcrop_width == 0 or c.fcrop_height == 0):
        raise InvalidArgument("front crop: width and height must be positive when enabled")


def _ae_hist(h: IMPISPAEHist) -> None:
    t = list(h.ae_histhresh)
    if t != sorted(t):
        raise InvalidArgument(f"ae_histhresh {t}: the 4 thresholds must ascend")


def _autozoom(z: IMPISPAutoZoom) -> None:
    check_range("chan", z.chan, 0, 2)
    if z.crop_enable and (z.crop_width <= 0 or z.crop_height <= 0):
        raise InvalidArgument("autozoom crop: width and height must be positive")


def _scaler(s: IMPISPScalerLv) -> None:
    check_range("channel", s.channel, 0, 2)
    check_range("method", s.method, 0, 1, " (IMP_ISP_SCALER_METHOD_*)")
    check_range("level", s.level, 0, 128)


def _target_list(t: IMPISPAETargetList) -> None:
    if max(t.at_list) > 255:
        raise InvalidArgument("at_list: luma targets must be 0..255")


def _none(obj: Any) -> None:
    return None


def _struct_pair(
    suffix: str, ctl: str, ctype: type, check: Callable[[Any], None], sets: bool, gets: bool
) -> None:
    """Set<X>(T *p) / Get<X>(T *p) for a control whose kernel bytes are the header struct."""
    assert ctypes.sizeof(ctype) == CONTROLS[ctl].size, (ctype, ctl)
    if sets:
        name = f"IMP_ISP_Tuning_Set{suffix}"

        def setter(p: Any) -> int:
            obj = deref(p, ctype, "attr")
            check(obj)
            _ISP().set_bytes(ctl, bytes(obj))
            return 0

        define(
            globals(),
            __all__,
            name,
            setter,
            f"``{name}``: {ctype.__name__} to tuning id {CONTROLS[ctl].cid:#x}.",
        )
    if gets:
        name = f"IMP_ISP_Tuning_Get{suffix}"

        def getter(p: Any) -> int:
            obj = deref(p, ctype, "attr")
            _fill(obj, _ISP().get_bytes(ctl))
            return 0

        define(
            globals(),
            __all__,
            name,
            getter,
            f"``{name}``: {ctype.__name__} from tuning id {CONTROLS[ctl].cid:#x}.",
        )


for _suffix, _ctl, _ctype, _check, _sets, _gets in (
    ("Gamma", "gamma", IMPISPGamma, _none, True, True),
    ("AwbClust", "awb_cluster", IMPISPAWBCluster, _none, True, True),
    ("AwbCtTrend", "awb_ct_trend", IMPISPAWBCtTrend, _none, True, True),
    ("AeWeight", "ae_weight", IMPISPWeight, _weights, True, True),
    ("AfWeight", "af_weight", IMPISPWeight, _weights, True, True),
    ("AeHist", "ae_hist", IMPISPAEHist, _ae_hist, True, True),
    ("AeMin", "ae_min", IMPISPAEMin, _none, True, True),
    ("AeTargetList", "ae_target_list", IMPISPAETargetList, _target_list, True, True),
    ("ModuleControl", "module_control", IMPISPModuleCtl, _none, True, True),
    ("FrontCrop", "front_crop", IMPISPFrontCrop, _front_crop, True, True),
    ("Mask", "mask", IMPISPMASKAttr, _mask, True, True),
    ("Csc_Attr", "csc_attr", IMPISPCscAttr, _csc, True, True),
    ("AutoZoom", "autozoom", IMPISPAutoZoom, _autozoom, True, False),
    ("ScalerLv", "scaler_level", IMPISPScalerLv, _scaler, True, False),
    ("EVAttr", "ev_attr", IMPISPEVAttr, _none, False, True),
    ("AwbZone", "awb_zone", IMPISPAWBZone, _none, False, True),
    ("AeHist_Origin", "ae_hist_origin", IMPISPAEHistOrigin, _none, False, True),
    ("AeZone", "ae_zone", IMPISPZone, _none, False, True),
    ("AfZone", "af_zone", IMPISPZone, _none, False, True),
    ("AeState", "ae_state", IMPISPAEState, _none, False, True),
    ("SensorAttr", "sensor_attr", IMPISPSENSORAttr, _none, False, True),
    ("BlcAttr", "blc_attr", IMPISPBlcAttr, _none, False, True),
):
    _struct_pair(_suffix, _ctl, _ctype, _check, _sets, _gets)


@_export
@c_function()
def IMP_ISP_Tuning_AE_SetROI(roi_weight: Any) -> int:
    w = deref(roi_weight, IMPISPWeight, "roi_weight")
    _weights(w)
    _ISP().set_bytes("ae_roi", bytes(w))
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_AE_GetROI(roi_weight: Any) -> int:
    _fill(deref(roi_weight, IMPISPWeight, "roi_weight"), _ISP().get_bytes("ae_roi"))
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_Awb_SetRgbCoefft(attr: Any) -> int:
    _ISP().set_bytes("rgb_coefft", bytes(deref(attr, IMPISPCOEFFTWB, "attr")))
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_Awb_GetRgbCoefft(attr: Any) -> int:
    _fill(deref(attr, IMPISPCOEFFTWB, "attr"), _ISP().get_bytes("rgb_coefft"))
    return 0


# -- exposure, white balance ----------------------------------------------------------------
@_export
@c_function()
def IMP_ISP_Tuning_SetExpr(expr: Any) -> int:
    e = deref(expr, IMPISPExpr, "expr")
    check_range("s_attr.mode", e.s_attr.mode, 0, 1, " (ISP_CORE_EXPR_MODE_AUTO/MANUAL)")
    check_range("s_attr.unit", e.s_attr.unit, 0, 1, " (ISP_CORE_EXPR_UNIT_LINE/US)")
    if e.s_attr.mode == 1 and e.s_attr.time == 0:
        raise InvalidArgument("s_attr.time must be > 0 for a manual exposure")
    _ISP().set_bytes("expr", bytes(e))
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_GetExpr(expr: Any) -> int:
    _fill(deref(expr, IMPISPExpr, "expr"), _ISP().get_bytes("expr"))
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


def _wb_statis(name: str, attr: str) -> None:
    def entry(wb: Any) -> int:
        w = deref(wb, IMPISPWB, "wb")
        w.rgain, w.bgain = getattr(_T(), attr)  # mode untouched, as libimp
        return 0

    define(
        globals(),
        __all__,
        name,
        entry,
        f"``{name}``: (rgain, bgain) packed as (r << 16) | b by the driver.",
    )


_wb_statis("IMP_ISP_Tuning_GetWB_Statis", "wb_statis")
_wb_statis("IMP_ISP_Tuning_GetWB_GOL_Statis", "wb_gol_statis")


@_export
@c_function()
def IMP_ISP_Tuning_SetAwbCt(ct: Any) -> int:
    """``IMP_ISP_Tuning_SetAwbCt(unsigned int *ct)``: a pointer, as in 1.1.6."""
    _T().awb_ct = scalar_out(ct, "ct").value
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_SetDefog_Strength(ratio: Any) -> int:
    """``IMP_ISP_Tuning_SetDefog_Strength(uint8_t *ratio)``: a pointer, as in 1.1.6 (a plain
    int, as 1.1.1 took it, is accepted too)."""
    value = ratio if isinstance(ratio, int) else scalar_out(ratio, "ratio").value
    _T().defog_strength = value
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_GetDefog_Strength(ratio: Any) -> int:
    scalar_out(ratio, "ratio").value = _T().defog_strength
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_SetWdr_OutputMode(mode: Any) -> int:
    _T().wdr_output_mode = scalar_out(mode, "mode").value
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_GetWdr_OutputMode(mode: Any) -> int:
    scalar_out(mode, "mode").value = _T().wdr_output_mode
    return 0


# -- converted layouts (isp_tuning_ids.md §5) ----------------------------------------------------
@_export
@c_function()
def IMP_ISP_Tuning_SetCCMAttr(ccm: Any) -> int:
    _ISP().set_bytes("ccm_attr", convert.ccm_header_to_kernel(deref(ccm, IMPISPCCMAttr, "ccm")))
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_GetCCMAttr(ccm: Any) -> int:
    convert.ccm_kernel_to_header(_ISP().get_bytes("ccm_attr"), deref(ccm, IMPISPCCMAttr, "ccm"))
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_SetAeAttr(ae: Any) -> int:
    _ISP().set_bytes("ae_attr", convert.ae_attr_to_kernel(deref(ae, IMPISPAEAttr, "ae")))
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_GetAeAttr(ae: Any) -> int:
    convert.ae_attr_from_kernel(_ISP().get_bytes("ae_attr"), deref(ae, IMPISPAEAttr, "ae"))
    return 0


_AF_SCALARS = [
    "af_enable",
    "af_metrics_shift",
    "af_delta",
    "af_theta",
    "af_hilight_th",
    "af_alpha_alt",
    "af_hstart",
    "af_vstart",
    "af_stat_nodeh",
    "af_stat_nodev",
    "af_frame_num",
]


@_export
@c_function()
def IMP_ISP_Tuning_SetAfHist(af_hist: Any) -> int:
    """The 24-B header struct inside the 88-B kernel layout (other fields kept as they are)."""
    h = deref(af_hist, IMPISPAFHist, "af_hist")
    if not (1 <= h.af_stat_nodeh <= 15 and 1 <= h.af_stat_nodev <= 15):
        raise InvalidArgument("af_stat_nodeh/nodev must be 1..15 (zones of the AF grid)")
    k = KernelAfHist.from_buffer_copy(_ISP().get_bytes("af_hist"))
    k.af_metrics, k.af_metrics_alt = h.af_stat.af_metrics, h.af_stat.af_metrics_alt
    for field in _AF_SCALARS:
        setattr(k, field, getattr(h, field))
    _ISP().set_bytes("af_hist", bytes(k))
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_GetAfHist(af_hist: Any) -> int:
    h = deref(af_hist, IMPISPAFHist, "af_hist")
    k = KernelAfHist.from_buffer_copy(_ISP().get_bytes("af_hist"))
    h.af_stat.af_metrics, h.af_stat.af_metrics_alt = k.af_metrics, k.af_metrics_alt
    for field in _AF_SCALARS:
        setattr(h, field, getattr(k, field))
    return 0


@_export
@c_function()
def IMP_ISP_SetFixedContraster(attr: Any) -> int:
    a = deref(attr, IMPISPFixedContrastAttr, "attr")
    _T().set_fixed_contrast(a.mode, a.range_low, a.range_high)
    return 0


# -- ids the 1.1.6 kernel ignores: sent as libimp sends them ------------------------------------
def _noop_pair(suffix: str, ctl: str, ctype: type) -> None:
    def setter(p: Any) -> int:
        obj = deref(p, ctype, "attr")
        if ctype is IMPISPWeight:
            _weights(obj)
        _ISP().set_value(ctl, 0)
        return 0

    def getter(p: Any) -> int:
        deref(p, ctype, "attr")
        _ISP().get_value(ctl)  # the kernel writes nothing: the caller's struct stays as it was
        return 0

    for fn, name in (
        (setter, f"IMP_ISP_Tuning_Set{suffix}"),
        (getter, f"IMP_ISP_Tuning_Get{suffix}"),
    ):
        define(
            globals(),
            __all__,
            name,
            fn,
            f"``{name}``: id {CONTROLS[ctl].cid:#x}, a no-op in the 1.1.6 kernel.",
        )


_noop_pair("AwbWeight", "awb_weight", IMPISPWeight)
_noop_pair("AwbHist", "awb_hist", IMPISPAWBHist)


@_export
@c_function()
def IMP_ISP_Tuning_EnableMovestate() -> int:
    _T().set_movestate(True)
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_DisableMovestate() -> int:
    _T().set_movestate(False)
    return 0


# -- frames, callbacks, tx-isp -------------------------------------------------------------------
@_export
@c_function()
def IMP_ISP_Tuning_WaitFrame(attr: Any) -> int:
    """Waits for the next frame done; ``timeout`` in ms (converted to the kernel's jiffies)."""
    a = deref(attr, IMPISPWaitFrameAttr, "attr")
    a.cnt = _T().wait_frame(int(a.timeout))
    return 0


@_export
@c_function()
def IMP_ISP_Tuning_SetVideoDrop(cb: Any) -> int:
    if cb is None or not callable(cb):
        raise InvalidArgument("cb must be a callable (a ctypes CFUNCTYPE(None) or a function)")
    _T().set_video_drop(cb)
    return 0


@_export
@c_function()
def IMP_ISP_SetFrameDrop(attr: Any) -> int:
    _T().frame_drop = deref(attr, IMPISPFrameDropAttr, "attr")
    return 0


@_export
@c_function()
def IMP_ISP_GetFrameDrop(attr: Any) -> int:
    _fill(deref(attr, IMPISPFrameDropAttr, "attr"), bytes(_T().frame_drop))
    return 0


def _gpio(name: str, state: bool) -> None:
    def entry(attr: Any) -> int:
        g = deref(attr, IMPISPGPIO, "attr")
        pins = [int(n) for n in g.gpio_num]
        count = pins.index(0xFF) if 0xFF in pins else len(pins)
        levels = [int(s) for s in g.gpio_sta][:count]
        if count == 0:
            raise InvalidArgument("gpio_num lists no GPIO (end the list with 0xff)")
        if state:
            _T().gpio_set(pins[:count], levels)
        elif check_range("free", g.free, 0, 1, " (0 request, 1 release)"):
            _T().gpio_free(pins[:count])
        else:
            _T().gpio_request(pins[:count], levels)
        return 0

    define(globals(), __all__, name, entry, f"``{name}``: IMPISPGPIO (42 B) to /dev/tx-isp.")


_gpio("IMP_ISP_SET_GPIO_INIT_OR_FREE", False)
_gpio("IMP_ISP_SET_GPIO_STA", True)


# -- custom 3A (isp_tuning_ids.md §4.4) ---------------------------------------------------------
@_export
@c_function()
def IMP_ISP_SetAeAlgoFunc(ae_func: Any) -> int:
    """Keeps the callbacks; OPEN and the GET -> handle -> SET worker run while the sensor is on."""
    _ISP().set_algorithm("ae", deref(ae_func, IMPISPAeAlgoFunc, "ae_func"))
    return 0


@_export
@c_function()
def IMP_ISP_SetAwbAlgoFunc(awb_func: Any) -> int:
    _ISP().set_algorithm("awb", deref(awb_func, IMPISPAwbAlgoFunc, "awb_func"))
    return 0
