"""ISP tuning through the C API changes the picture the way the controls say."""

from __future__ import annotations

import ctypes

import numpy as np

from imp.capi import *
from kernel_stubs import read_frame_mark
from kernel_stubs.sensor import mark_band_height
from tests.conftest import running_system

W, H = 640, 360


def _start() -> None:
    a = IMPFSChnAttr()
    a.picWidth, a.picHeight, a.pixFmt, a.nrVBs = W, H, PIX_FMT_NV12, 2
    a.outFrmRateNum, a.outFrmRateDen = 25, 1
    a.scaler.enable, a.scaler.outwidth, a.scaler.outheight = 1, W, H
    assert IMP_FrameSource_CreateChn(0, a) == 0
    # depth = nrVBs: the FIFO holds every buffer, so the virtual clock waits for this reader
    # and no frame is overwritten unread
    assert IMP_FrameSource_SetFrameDepth(0, 2) == 0
    assert IMP_FrameSource_EnableChn(0) == 0


def _frame(skip: int = 2) -> tuple[np.ndarray, np.ndarray, int, int]:
    """A frame after ``skip`` others (so a control change has reached the sensor)."""
    for i in range(skip + 1):
        p = ctypes.POINTER(IMPFrameInfo)()
        assert IMP_FrameSource_GetFrame(0, p) == 0
        info = p.contents
        if i == skip:
            buf = np.ctypeslib.as_array((ctypes.c_uint8 * info.size).from_address(info.virAddr))
            y = buf[: W * H].reshape(H, W).copy()
            uv_off = W * ((H + 15) & ~15)
            uv = (
                np.ctypeslib.as_array(
                    (ctypes.c_uint8 * (W * H // 2)).from_address(info.virAddr + uv_off)
                )
                .reshape(H // 2, W)
                .copy()
            )
            ts = info.timeStamp
        assert IMP_FrameSource_ReleaseFrame(0, p) == 0
    return y, uv, read_frame_mark(y), ts


def _body(y: np.ndarray) -> np.ndarray:
    return y[mark_band_height(W) :]


def test_brightness_contrast_saturation_flip_night() -> None:
    with running_system("virtual", sensor="synthetic:static"):
        _start()
        y0, uv0, _, _ = _frame()
        assert IMP_ISP_Tuning_SetBrightness(220) == 0
        y1, _, _, _ = _frame()
        assert _body(y1).mean() > _body(y0).mean() + 20
        level = ctypes.c_ubyte()
        assert IMP_ISP_Tuning_GetBrightness(ctypes.byref(level)) == 0
        assert level.value == 220
        assert IMP_ISP_Tuning_SetBrightness(128) == 0

        assert IMP_ISP_Tuning_SetContrast(30) == 0
        y2, _, _, _ = _frame()
        assert _body(y2).std() < _body(y0).std() * 0.5
        assert IMP_ISP_Tuning_SetContrast(128) == 0

        assert IMP_ISP_Tuning_SetSaturation(0) == 0
        _, uv3, _, _ = _frame()
        assert np.abs(uv3.astype(int) - 128).mean() < np.abs(uv0.astype(int) - 128).mean() * 0.2
        assert IMP_ISP_Tuning_SetSaturation(128) == 0

        assert IMP_ISP_Tuning_SetISPHflip(IMPISP_TUNING_OPS_MODE_ENABLE) == 0
        y4, _, _, _ = _frame()
        band = mark_band_height(W)
        mirrored = np.abs(y4[band:].astype(int) - np.fliplr(y0)[band:].astype(int)).mean()
        unchanged = np.abs(y4[band:].astype(int) - y0[band:].astype(int)).mean()
        print(f"hflip: |y - mirror(y0)| = {mirrored:.2f}, |y - y0| = {unchanged:.2f}")
        assert mirrored * 3 < unchanged  # the static scene, mirrored (its noise differs per frame)
        mode = ctypes.c_int()
        assert IMP_ISP_Tuning_GetISPHflip(ctypes.byref(mode)) == 0
        assert mode.value == IMPISP_TUNING_OPS_MODE_ENABLE
        assert IMP_ISP_Tuning_SetISPHflip(IMPISP_TUNING_OPS_MODE_DISABLE) == 0

        assert IMP_ISP_Tuning_SetISPRunningMode(IMPISP_RUNNING_MODE_NIGHT) == 0
        _, uv5, _, _ = _frame()
        assert np.all(uv5 == 128)  # night: grey picture
        assert IMP_ISP_Tuning_GetISPRunningMode(ctypes.byref(mode)) == 0
        assert mode.value == IMPISP_RUNNING_MODE_NIGHT
        assert IMP_ISP_Tuning_SetISPRunningMode(IMPISP_RUNNING_MODE_DAY) == 0
        _, uv6, _, _ = _frame()
        assert not np.all(uv6 == 128)


def test_sensor_fps_changes_the_frame_period() -> None:
    with running_system("virtual"):
        assert IMP_ISP_Tuning_SetSensorFPS(25, 1) == 0
        _start()
        _, _, n0, t0 = _frame(0)
        _, _, n1, t1 = _frame(0)
        assert (n1 - n0, t1 - t0) == (1, 40000)
        assert IMP_ISP_Tuning_SetSensorFPS(20, 1) == 0
        num, den = ctypes.c_uint32(), ctypes.c_uint32()
        assert IMP_ISP_Tuning_GetSensorFPS(ctypes.byref(num), ctypes.byref(den)) == 0
        assert (num.value, den.value) == (20, 1)
        stamps = [_frame(0)[3] for _ in range(6)]
        assert np.diff(stamps)[-3:].tolist() == [50000] * 3


def test_wb_and_strength_setters_round_trip() -> None:
    with running_system("virtual"):
        wb = IMPISPWB()
        wb.mode, wb.rgain, wb.bgain = 1, 300, 400
        assert IMP_ISP_Tuning_SetWB(wb) == 0
        back = IMPISPWB()
        assert IMP_ISP_Tuning_GetWB(back) == 0
        assert (back.mode, back.rgain, back.bgain) == (1, 300, 400)
        # prudynt's start-up sequence (usage.md §1.3)
        assert IMP_ISP_Tuning_SetSinterStrength(128) == 0
        assert IMP_ISP_Tuning_SetTemperStrength(128) == 0
        assert IMP_ISP_Tuning_SetISPBypass(IMPISP_TUNING_OPS_MODE_ENABLE) == 0
        assert IMP_ISP_Tuning_SetAntiFlickerAttr(IMPISP_ANTIFLICKER_60HZ) == 0
        assert IMP_ISP_Tuning_SetAeComp(128) == 0
        assert IMP_ISP_Tuning_SetMaxAgain(160) == 0
        assert IMP_ISP_Tuning_SetMaxDgain(80) == 0
        assert IMP_ISP_Tuning_SetBcshHue(128) == 0
        assert IMP_ISP_Tuning_SetDefog_Strength(ctypes.byref(ctypes.c_uint8(128))) == 0
        assert IMP_ISP_Tuning_SetDPC_Strength(128) == 0
        assert IMP_ISP_Tuning_SetDRC_Strength(128) == 0
        assert IMP_ISP_Tuning_SetBacklightComp(2) == 0
        assert IMP_ISP_Tuning_SetHiLightDepress(3) == 0
        for getter, want in (
            (IMP_ISP_Tuning_GetMaxAgain, 160),
            (IMP_ISP_Tuning_GetDRC_Strength, 128),
            (IMP_ISP_Tuning_GetBacklightComp, 2),
            (IMP_ISP_Tuning_GetAntiFlickerAttr, 2),
        ):
            v = ctypes.c_uint32()
            assert getter(ctypes.byref(v)) == 0
            assert v.value == want
        assert IMP_ISP_Tuning_SetHVFLIP(IMPISP_FLIP_HV_MODE) == 0
        hv = ctypes.c_int()
        assert IMP_ISP_Tuning_GetHVFlip(ctypes.byref(hv)) == 0
        assert hv.value == IMPISP_FLIP_HV_MODE


def test_tuning_needs_enable_tuning() -> None:
    from imp.isp import SensorInfo, get_isp

    isp = get_isp()
    isp.open()
    isp.add_sensor(SensorInfo("gc2053"))
    assert IMP_ISP_Tuning_SetBrightness(128) == -1  # EnableTuning not called
    assert IMP_ISP_EnableTuning() == 0
    assert IMP_ISP_Tuning_SetBrightness(128) == 0
    assert IMP_ISP_DisableTuning() == 0
    assert IMP_ISP_Close() == 0  # removes the sensor on the way
