"""Every one of the 135 ``IMP_ISP_*`` functions through ``imp.capi``: a round trip or an effect.

Effects are checked where the call lands: the fake kernel's tuning store (ids, encodings and copy
sizes of isp_tuning_ids.md), the tx-isp device, or the delivered pictures. ``COVERED`` lists
which test covers each function; ``test_every_function_is_covered`` keeps it complete.
"""

from __future__ import annotations

import ctypes
import json
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from imp import runtime
from imp.capi import *
from kernel_stubs.devices import isp_stats
from tests.conftest import running_system

W, H = 640, 360
REF = Path("/work/shared/reference/imp_api.json")
COVERED: set[str] = set()


def _store():  # type: ignore[no-untyped-def]
    return runtime.kernel().isp.controls  # type: ignore[attr-defined]


def _txisp():  # type: ignore[no-untyped-def]
    return runtime.kernel()._devices["/dev/tx-isp"]  # type: ignore[attr-defined]


def _ok(ret: int, name: str) -> None:
    assert ret == 0, name
    COVERED.add(name)


@pytest.fixture
def system() -> Iterator[None]:
    with running_system("virtual", sensor="synthetic:static", sensor_size=(W, H)):
        yield


def _start_channel() -> None:
    a = IMPFSChnAttr()
    a.picWidth, a.picHeight, a.pixFmt, a.nrVBs = W, H, PIX_FMT_NV12, 2
    a.outFrmRateNum, a.outFrmRateDen = 25, 1
    assert IMP_FrameSource_CreateChn(0, a) == 0
    assert IMP_FrameSource_SetFrameDepth(0, 2) == 0
    assert IMP_FrameSource_EnableChn(0) == 0


def _frame() -> tuple[np.ndarray, np.ndarray]:
    p = ctypes.POINTER(IMPFrameInfo)()
    assert IMP_FrameSource_GetFrame(0, p) == 0
    info = p.contents
    y = np.ctypeslib.as_array((ctypes.c_uint8 * (W * H)).from_address(info.virAddr))
    y = y.reshape(H, W).copy()
    uv_addr = info.virAddr + W * ((H + 15) & ~15)  # NV12: UV after the 16-aligned luma rows
    uv = np.ctypeslib.as_array((ctypes.c_uint8 * (W * H // 2)).from_address(uv_addr))
    uv = uv.reshape(H // 2, W).copy()
    assert IMP_FrameSource_ReleaseFrame(0, p) == 0
    return y, uv


def _stop_channel() -> None:
    assert IMP_FrameSource_DisableChn(0) == 0
    assert IMP_FrameSource_DestroyChn(0) == 0


# -- scalar controls --------------------------------------------------------------------------
SCALAR_PAIRS = [  # (suffix, out type, value)
    ("Brightness", ctypes.c_ubyte, 200),
    ("Contrast", ctypes.c_ubyte, 90),
    ("Sharpness", ctypes.c_ubyte, 77),
    ("Saturation", ctypes.c_ubyte, 30),
    ("BcshHue", ctypes.c_ubyte, 140),
    ("ISPHflip", ctypes.c_int, 1),
    ("ISPVflip", ctypes.c_int, 1),
    ("ISPRunningMode", ctypes.c_int, 1),
    ("ISPCustomMode", ctypes.c_int, 1),
    ("AeComp", ctypes.c_int, 150),
    ("MaxAgain", ctypes.c_uint32, 120),
    ("MaxDgain", ctypes.c_uint32, 60),
    ("HiLightDepress", ctypes.c_uint32, 5),
    ("BacklightComp", ctypes.c_uint32, 4),
    ("DPC_Strength", ctypes.c_uint, 100),
    ("DRC_Strength", ctypes.c_uint, 90),
    ("AntiFlickerAttr", ctypes.c_int, IMPISP_ANTIFLICKER_60HZ),
]


def test_scalar_controls_round_trip(system: None) -> None:
    for suffix, ctype, value in SCALAR_PAIRS:
        setter = globals()[f"IMP_ISP_Tuning_Set{suffix}"]
        getter = globals()[f"IMP_ISP_Tuning_Get{suffix}"]
        _ok(setter(value), setter.__name__)
        out = ctype()
        _ok(getter(ctypes.byref(out)), getter.__name__)
        assert out.value == value, suffix
    store = _store()
    assert (store.level("brightness"), store.get_named("anti_flicker")) == (200, 2)
    assert store.night and store.picture().hflip and store.picture().vflip
    v = ctypes.c_uint()
    _ok(IMP_ISP_Tuning_SetAe_IT_MAX(300), "IMP_ISP_Tuning_SetAe_IT_MAX")
    _ok(IMP_ISP_Tuning_GetAE_IT_MAX(ctypes.byref(v)), "IMP_ISP_Tuning_GetAE_IT_MAX")
    assert v.value == 300
    _ok(IMP_ISP_Tuning_SetHVFLIP(IMPISP_FLIP_H_MODE), "IMP_ISP_Tuning_SetHVFLIP")
    hv = ctypes.c_int()
    _ok(IMP_ISP_Tuning_GetHVFlip(ctypes.byref(hv)), "IMP_ISP_Tuning_GetHVFlip")
    assert hv.value == IMPISP_FLIP_H_MODE
    assert (store.get_named("hflip"), store.get_named("vflip")) == (1, 0)  # one set of fields


def test_write_only_controls_reach_the_driver(system: None) -> None:
    store = _store()
    for fn, value, name, want in (
        (IMP_ISP_Tuning_SetTemperStrength, 77, "temper_strength", 77),
        (IMP_ISP_Tuning_SetSinterStrength, 66, "sinter_strength", 66),
        (IMP_ISP_Tuning_SetAeFreeze, IMPISP_TUNING_OPS_MODE_ENABLE, "ae_freeze", 1),
        (IMP_ISP_Tuning_EnableDRC, IMPISP_TUNING_OPS_MODE_ENABLE, "drc_enable", 1),
        (IMP_ISP_Tuning_EnableDefog, IMPISP_TUNING_OPS_MODE_ENABLE, "defog_enable", 1),
        (IMP_ISP_Tuning_SetWB_ALGO, IMPISP_AWB_ALGO_GRAYWORLD, "wb_algo", 1),
        (IMP_ISP_Tuning_SetISPBypass, IMPISP_TUNING_OPS_MODE_DISABLE, "isp_bypass", 0),
    ):
        _ok(fn(value), fn.__name__)
        assert store.get_named(name) == want, name
    core = runtime.kernel().isp  # type: ignore[attr-defined]
    assert core.active_link == 1 and core.links_streaming  # bypass rebuilt the link
    assert IMP_ISP_Tuning_SetISPBypass(IMPISP_TUNING_OPS_MODE_ENABLE) == 0
    assert core.active_link == 0


def test_sensor_fps_and_wdr(system: None) -> None:
    _ok(IMP_ISP_Tuning_SetSensorFPS(15, 1), "IMP_ISP_Tuning_SetSensorFPS")
    num, den = ctypes.c_uint32(), ctypes.c_uint32()
    _ok(
        IMP_ISP_Tuning_GetSensorFPS(ctypes.byref(num), ctypes.byref(den)),
        "IMP_ISP_Tuning_GetSensorFPS",
    )
    assert (num.value, den.value) == (15, 1) and _store().fps() == (15, 1)
    _ok(IMP_ISP_WDR_ENABLE(IMPISP_TUNING_OPS_MODE_ENABLE), "IMP_ISP_WDR_ENABLE")
    assert runtime.kernel().isp.wdr_enabled  # type: ignore[attr-defined]
    mode = ctypes.c_int()
    _ok(IMP_ISP_WDR_ENABLE_Get(ctypes.byref(mode)), "IMP_ISP_WDR_ENABLE_Get")
    assert mode.value == 1
    assert IMP_ISP_WDR_ENABLE(IMPISP_TUNING_OPS_MODE_DISABLE) == 0


# -- struct controls ----------------------------------------------------------------------------
def _pattern(ctype: type, seed: int) -> ctypes.Structure:
    obj = ctype()
    raw = (np.arange(ctypes.sizeof(ctype)) * 7 + seed).astype(np.uint8) % 9  # 0..8: weights too
    ctypes.memmove(ctypes.addressof(obj), raw.tobytes(), ctypes.sizeof(ctype))
    return obj


STRUCT_PAIRS = [  # header struct == kernel bytes: what goes in comes back
    ("Gamma", IMPISPGamma),
    ("AwbClust", IMPISPAWBCluster),
    ("AwbCtTrend", IMPISPAWBCtTrend),
    ("AeWeight", IMPISPWeight),
    ("AfWeight", IMPISPWeight),
    ("AeMin", IMPISPAEMin),
    ("ModuleControl", IMPISPModuleCtl),
    ("Mask", IMPISPMASKAttr),
]


def test_struct_controls_round_trip(system: None) -> None:
    for i, (suffix, ctype) in enumerate(STRUCT_PAIRS):
        src = _pattern(ctype, i)
        if suffix == "Mask":
            src.mask_type = IMPISP_MASK_TYPE_YUV
        _ok(
            globals()[f"IMP_ISP_Tuning_Set{suffix}"](ctypes.byref(src)),
            f"IMP_ISP_Tuning_Set{suffix}",
        )
        back = ctype()
        _ok(globals()[f"IMP_ISP_Tuning_Get{suffix}"](back), f"IMP_ISP_Tuning_Get{suffix}")
        assert bytes(back) == bytes(src), suffix
    roi = _pattern(IMPISPWeight, 5)
    _ok(IMP_ISP_Tuning_AE_SetROI(roi), "IMP_ISP_Tuning_AE_SetROI")
    back = IMPISPWeight()
    _ok(IMP_ISP_Tuning_AE_GetROI(back), "IMP_ISP_Tuning_AE_GetROI")
    assert bytes(back) == bytes(roi) and np.array_equal(
        _store().ae_roi(), np.frombuffer(bytes(roi), np.uint8).reshape(15, 15)
    )
    coef = IMPISPCOEFFTWB(300, 256, 200)
    _ok(IMP_ISP_Tuning_Awb_SetRgbCoefft(coef), "IMP_ISP_Tuning_Awb_SetRgbCoefft")
    got = IMPISPCOEFFTWB()
    _ok(IMP_ISP_Tuning_Awb_GetRgbCoefft(got), "IMP_ISP_Tuning_Awb_GetRgbCoefft")
    assert bytes(got) == bytes(coef)
    targets = IMPISPAETargetList()
    targets.at_list[:] = list(range(60, 160, 10))
    _ok(IMP_ISP_Tuning_SetAeTargetList(targets), "IMP_ISP_Tuning_SetAeTargetList")
    tb = IMPISPAETargetList()
    _ok(IMP_ISP_Tuning_GetAeTargetList(tb), "IMP_ISP_Tuning_GetAeTargetList")
    assert list(tb.at_list) == list(range(60, 160, 10))
    crop = IMPISPFrontCrop(True, 8, 16, 320, 180)
    _ok(IMP_ISP_Tuning_SetFrontCrop(crop), "IMP_ISP_Tuning_SetFrontCrop")
    cb = IMPISPFrontCrop()
    _ok(IMP_ISP_Tuning_GetFrontCrop(cb), "IMP_ISP_Tuning_GetFrontCrop")
    assert bytes(cb) == bytes(crop) and _store().blob("front_crop")[0] == 1
    csc = IMPISPCscAttr()
    csc.mode = ISP_CSC_CG_BT709_FULL
    csc.csc_par.csc_coef[0] = 300
    _ok(IMP_ISP_Tuning_SetCsc_Attr(csc), "IMP_ISP_Tuning_SetCsc_Attr")
    cs = IMPISPCscAttr()
    _ok(IMP_ISP_Tuning_GetCsc_Attr(cs), "IMP_ISP_Tuning_GetCsc_Attr")
    assert bytes(cs) == bytes(csc)
    hist = IMPISPAEHist()
    hist.ae_histhresh[:] = [20, 80, 150, 230]
    _ok(IMP_ISP_Tuning_SetAeHist(hist), "IMP_ISP_Tuning_SetAeHist")
    hb = IMPISPAEHist()
    _ok(IMP_ISP_Tuning_GetAeHist(hb), "IMP_ISP_Tuning_GetAeHist")
    assert list(hb.ae_histhresh) == [20, 80, 150, 230] and (hb.ae_stat_nodeh, hb.ae_stat_nodev) == (
        15,
        15,
    )


def test_pointer_valued_scalars_and_conversions(system: None) -> None:
    store = _store()
    _ok(
        IMP_ISP_Tuning_SetDefog_Strength(ctypes.byref(ctypes.c_uint8(77))),
        "IMP_ISP_Tuning_SetDefog_Strength",
    )
    d = ctypes.c_uint8()
    _ok(IMP_ISP_Tuning_GetDefog_Strength(ctypes.byref(d)), "IMP_ISP_Tuning_GetDefog_Strength")
    assert d.value == 77 and store.defog_strength() == 77
    m = ctypes.c_int(IMPISP_WDR_OUTPUT_MODE_SHORT_FRAME)
    _ok(IMP_ISP_Tuning_SetWdr_OutputMode(ctypes.byref(m)), "IMP_ISP_Tuning_SetWdr_OutputMode")
    mb = ctypes.c_int()
    _ok(IMP_ISP_Tuning_GetWdr_OutputMode(ctypes.byref(mb)), "IMP_ISP_Tuning_GetWdr_OutputMode")
    assert mb.value == IMPISP_WDR_OUTPUT_MODE_SHORT_FRAME
    _ok(IMP_ISP_Tuning_SetAwbCt(ctypes.byref(ctypes.c_uint(2800))), "IMP_ISP_Tuning_SetAwbCt")
    ct = ctypes.c_uint()
    _ok(IMP_ISP_Tuning_GetAWBCt(ctypes.byref(ct)), "IMP_ISP_Tuning_GetAWBCt")
    assert ct.value == 2800
    ccm = IMPISPCCMAttr(1, 0)
    ccm.ColorMatrix[:] = [1.5, -0.25, -0.25, -0.125, 1.25, -0.125, 0.0, -0.5, 1.5]
    _ok(IMP_ISP_Tuning_SetCCMAttr(ccm), "IMP_ISP_Tuning_SetCCMAttr")
    assert store.blob("ccm_attr")[:2] == b"\x01\x00"  # the 40-B kernel layout
    assert struct.unpack_from("<i", store.blob("ccm_attr"), 4)[0] == 1536  # 1.5 x 1024
    cb = IMPISPCCMAttr()
    _ok(IMP_ISP_Tuning_GetCCMAttr(cb), "IMP_ISP_Tuning_GetCCMAttr")
    assert (cb.ManualEn, cb.SatEn) == (1, 0) and list(cb.ColorMatrix) == list(ccm.ColorMatrix)
    ae = IMPISPAEAttr()
    ae.AeItManualEn, ae.AeIt, ae.AeAGainManualEn, ae.AeAGain = 1, 500, 1, 2048
    _ok(IMP_ISP_Tuning_SetAeAttr(ae), "IMP_ISP_Tuning_SetAeAttr")
    assert len(store.blob("ae_attr")) == 152
    ab = IMPISPAEAttr()
    _ok(IMP_ISP_Tuning_GetAeAttr(ab), "IMP_ISP_Tuning_GetAeAttr")
    assert bytes(ab) == bytes(ae)
    af = IMPISPAFHist()
    af.af_enable, af.af_delta, af.af_stat_nodeh, af.af_stat_nodev = 1, 33, 15, 14
    _ok(IMP_ISP_Tuning_SetAfHist(af), "IMP_ISP_Tuning_SetAfHist")
    assert len(store.blob("af_hist")) == 88
    afb = IMPISPAFHist()
    _ok(IMP_ISP_Tuning_GetAfHist(afb), "IMP_ISP_Tuning_GetAfHist")
    assert (afb.af_enable, afb.af_delta, afb.af_stat_nodev) == (1, 33, 14)
    fc = IMPISPFixedContrastAttr(1, 16, 235)
    _ok(IMP_ISP_SetFixedContraster(fc), "IMP_ISP_SetFixedContraster")
    assert store.blob("fixed_contrast") == bytes([1, 16, 235])  # the 3-B kernel layout
    zoom = IMPISPAutoZoom(0, 1, 320, 180, 1, 0, 0, 640, 360)
    _ok(IMP_ISP_Tuning_SetAutoZoom(zoom), "IMP_ISP_Tuning_SetAutoZoom")
    assert store.blob("autozoom") == bytes(zoom)
    lv = IMPISPScalerLv(1, IMP_ISP_SCALER_METHOD_FIXED_WEIGHT, 64)
    _ok(IMP_ISP_Tuning_SetScalerLv(lv), "IMP_ISP_Tuning_SetScalerLv")
    assert store.blob("scaler_level") == bytes(lv)


def test_white_balance_and_exposure(system: None) -> None:
    wb = IMPISPWB(ISP_CORE_WB_MODE_MANUAL, 300, 400)
    _ok(IMP_ISP_Tuning_SetWB(wb), "IMP_ISP_Tuning_SetWB")
    back = IMPISPWB()
    _ok(IMP_ISP_Tuning_GetWB(back), "IMP_ISP_Tuning_GetWB")
    assert (back.mode, back.rgain, back.bgain) == (1, 300, 400)
    for fn in (IMP_ISP_Tuning_GetWB_Statis, IMP_ISP_Tuning_GetWB_GOL_Statis):
        st = IMPISPWB(7, 0, 0)
        _ok(fn(st), fn.__name__)
        assert (st.mode, st.rgain, st.bgain) == (7, 300, 400)  # manual WB applies its gains
    e = IMPISPExpr()
    e.s_attr.mode, e.s_attr.unit, e.s_attr.time = (
        ISP_CORE_EXPR_MODE_MANUAL,
        ISP_CORE_EXPR_UNIT_LINE,
        200,
    )
    _ok(IMP_ISP_Tuning_SetExpr(e), "IMP_ISP_Tuning_SetExpr")
    g = IMPISPExpr()
    _ok(IMP_ISP_Tuning_GetExpr(g), "IMP_ISP_Tuning_GetExpr")
    assert (g.g_attr.mode, g.g_attr.integration_time) == (1, 200)
    line_us = g.g_attr.one_line_expr_in_us
    ev = IMPISPEVAttr()
    _ok(IMP_ISP_Tuning_GetEVAttr(ev), "IMP_ISP_Tuning_GetEVAttr")
    assert abs(ev.expr_us - 200 * 1e6 / (25 * (H + 45))) <= 1 and abs(line_us - 99) <= 1
    gain = ctypes.c_uint32()
    _ok(IMP_ISP_Tuning_GetTotalGain(ctypes.byref(gain)), "IMP_ISP_Tuning_GetTotalGain")
    assert gain.value == ev.again * ev.dgain // 1024 == 1024
    attr = IMPISPSENSORAttr()
    _ok(IMP_ISP_Tuning_GetSensorAttr(attr), "IMP_ISP_Tuning_GetSensorAttr")
    assert (attr.width, attr.height, attr.fps) == (W, H, (25 << 16) | 1) and attr.vts > H
    blc = IMPISPBlcAttr()
    _ok(IMP_ISP_Tuning_GetBlcAttr(blc), "IMP_ISP_Tuning_GetBlcAttr")
    assert _store().blc() == (
        blc.black_level_r,
        blc.black_level_gr,
        blc.black_level_gb,
        blc.black_level_b,
        blc.black_level_ir,
    )


def test_statistics_describe_the_delivered_picture(system: None) -> None:
    _start_channel()
    try:
        for _ in range(3):
            y, uv = _frame()
        want = isp_stats.from_nv12(y, uv)
        zone = IMPISPZone()
        _ok(IMP_ISP_Tuning_GetAeZone(zone), "IMP_ISP_Tuning_GetAeZone")
        got = np.array([list(r) for r in zone.zone])
        # the static scene changes only by noise between frames (and the frame mark in the top
        # zone row: skipped)
        assert np.abs(got[1:].astype(int) - want.ae_zone[1:].astype(int)).max() <= 3
        means = (
            y[: H // 15 * 15, : W // 15 * 15].reshape(15, H // 15, 15, W // 15).mean(axis=(1, 3))
        )
        assert np.corrcoef(got[1:].ravel(), means[1:].ravel())[0, 1] > 0.99
        origin = IMPISPAEHistOrigin()
        _ok(IMP_ISP_Tuning_GetAeHist_Origin(origin), "IMP_ISP_Tuning_GetAeHist_Origin")
        hist = np.array(list(origin.ae_hist))
        assert hist.sum() == (H // 2) * (W // 2)
        assert abs(np.dot(np.arange(256), hist) / hist.sum() - y[::2, ::2].mean()) < 2
        luma = ctypes.c_int()
        _ok(IMP_ISP_Tuning_GetAeLuma(ctypes.byref(luma)), "IMP_ISP_Tuning_GetAeLuma")
        assert abs(luma.value - y.mean()) < 3
        state = IMPISPAEState()
        _ok(IMP_ISP_Tuning_GetAeState(state), "IMP_ISP_Tuning_GetAeState")
        assert state.ae_mean == luma.value and state.target == 96 and state.stable
        awb = IMPISPAWBZone()
        _ok(IMP_ISP_Tuning_GetAwbZone(awb), "IMP_ISP_Tuning_GetAwbZone")
        zone_g = np.array(list(awb.zone_g)).reshape(15, 15)
        assert np.abs(zone_g[1:] - want.awb_g[1:].astype(int)).max() <= 4
        af = IMPISPZone()
        _ok(IMP_ISP_Tuning_GetAfZone(af), "IMP_ISP_Tuning_GetAfZone")
        assert np.array([list(r) for r in af.zone]).max() > 0
        metric = ctypes.c_uint()
        _ok(IMP_ISP_Tuning_GetAFMetrices(ctypes.byref(metric)), "IMP_ISP_Tuning_GetAFMetrices")
        assert metric.value > 0
        # WaitFrame: a reader keeps frames flowing (virtual clock) while we wait twice
        stop = threading.Event()
        reader = threading.Thread(target=lambda: [_frame() for _ in iter(stop.is_set, True)])
        reader.start()
        try:
            wf = IMPISPWaitFrameAttr(timeout=2000)
            _ok(IMP_ISP_Tuning_WaitFrame(wf), "IMP_ISP_Tuning_WaitFrame")
            first = wf.cnt
            assert IMP_ISP_Tuning_WaitFrame(wf) == 0 and wf.cnt > first
        finally:
            stop.set()
            reader.join(5)
    finally:
        _stop_channel()


def test_no_op_ids_and_callbacks(system: None) -> None:
    for suffix, ctype in (("AwbWeight", IMPISPWeight), ("AwbHist", IMPISPAWBHist)):
        src = _pattern(ctype, 3)
        _ok(globals()[f"IMP_ISP_Tuning_Set{suffix}"](src), f"IMP_ISP_Tuning_Set{suffix}")
        keep = _pattern(ctype, 4)
        before = bytes(keep)
        _ok(globals()[f"IMP_ISP_Tuning_Get{suffix}"](keep), f"IMP_ISP_Tuning_Get{suffix}")
        assert bytes(keep) == before  # the 1.1.6 kernel writes nothing
    _ok(IMP_ISP_Tuning_EnableMovestate(), "IMP_ISP_Tuning_EnableMovestate")
    _ok(IMP_ISP_Tuning_DisableMovestate(), "IMP_ISP_Tuning_DisableMovestate")
    called = []
    cb = ctypes.CFUNCTYPE(None)(lambda: called.append(1))
    _ok(IMP_ISP_Tuning_SetVideoDrop(cb), "IMP_ISP_Tuning_SetVideoDrop")
    from imp.isp import get_isp

    get_isp().video_drop()  # type: ignore[misc]
    assert called == [1]


def test_tx_isp_calls(system: None) -> None:
    tx = _txisp()
    _ok(IMP_ISP_SetSensorRegister(0x3E01, 0x46), "IMP_ISP_SetSensorRegister")
    v = ctypes.c_uint32()
    _ok(IMP_ISP_GetSensorRegister(0x3E01, ctypes.byref(v)), "IMP_ISP_GetSensorRegister")
    assert v.value == 0x46 and tx.registers[0x3E01] == 0x46
    g = IMPISPGPIO()
    g.gpio_num[:] = [49, 50] + [0xFF] * 8
    g.gpio_sta[:2] = [1, 0]
    _ok(IMP_ISP_SET_GPIO_INIT_OR_FREE(g), "IMP_ISP_SET_GPIO_INIT_OR_FREE")
    assert tx.gpio[0xC00456E8] == bytes(g)
    g.gpio_sta[:2] = [0, 1]
    _ok(IMP_ISP_SET_GPIO_STA(g), "IMP_ISP_SET_GPIO_STA")
    assert tx.gpio[0xC00456E9][20:24] == bytes([0, 0, 1, 0])
    fd = IMPISPFrameDropAttr()
    fd.fdrop[0].enable, fd.fdrop[0].lsize, fd.fdrop[0].fmark = 1, 3, 0b101
    _ok(IMP_ISP_SetFrameDrop(fd), "IMP_ISP_SetFrameDrop")
    fb = IMPISPFrameDropAttr()
    _ok(IMP_ISP_GetFrameDrop(fb), "IMP_ISP_GetFrameDrop")
    assert bytes(fb) == bytes(fd)


def test_lifecycle_and_bin_path() -> None:
    info = IMPSensorInfo()
    info.name = b"gc2053"
    info.cbus_type = TX_SENSOR_CONTROL_INTERFACE_I2C
    info.i2c.type, info.i2c.addr = b"gc2053", 0x37
    _ok(IMP_ISP_Open(), "IMP_ISP_Open")
    _ok(IMP_ISP_SetDefaultBinPath(b"/etc/sensor"), "IMP_ISP_SetDefaultBinPath")
    _ok(IMP_ISP_AddSensor(info), "IMP_ISP_AddSensor")
    path = ctypes.create_string_buffer(64)
    _ok(IMP_ISP_GetDefaultBinPath(path), "IMP_ISP_GetDefaultBinPath")
    assert path.value == b"/etc/sensor"
    _ok(IMP_ISP_EnableSensor(), "IMP_ISP_EnableSensor")
    _ok(IMP_ISP_EnableTuning(), "IMP_ISP_EnableTuning")
    assert runtime.kernel().isp.tuning_state == 3  # type: ignore[attr-defined]
    _ok(IMP_ISP_DisableTuning(), "IMP_ISP_DisableTuning")
    _ok(IMP_ISP_DisableSensor(), "IMP_ISP_DisableSensor")
    _ok(IMP_ISP_DelSensor(info), "IMP_ISP_DelSensor")
    _ok(IMP_ISP_Close(), "IMP_ISP_Close")


def test_every_function_is_covered() -> None:
    """Runs last here: each of the 135 names was exercised above (or in test_isp_pythonic)."""
    names = {f["name"] for f in json.loads(REF.read_text())["v1_1_6"]["modules"]["ISP"]}
    assert len(names) == 135
    algo = {"IMP_ISP_SetAeAlgoFunc", "IMP_ISP_SetAwbAlgoFunc"}  # tests/test_isp_pythonic.py
    missing = names - COVERED - algo
    if len(COVERED) < 50:
        pytest.skip("run the whole file to check coverage")
    assert not missing, sorted(missing)
