"""Extreme attributes through the public APIs (issue 10, defects 9 and 10).

Values that pass a type check but make no sense for a camera are refused with a message that
says what to give, and leave the running pipeline as it was.
"""

from __future__ import annotations

import ctypes
import logging

import pytest

from imp.capi import *
from tests.conftest import running_system


def _fs_attr() -> IMPFSChnAttr:
    a = IMPFSChnAttr()
    a.picWidth, a.picHeight, a.pixFmt = 640, 360, PIX_FMT_NV12
    a.outFrmRateNum, a.outFrmRateDen, a.nrVBs, a.type = 25, 1, 2, FS_PHY_CHANNEL
    a.scaler.enable, a.scaler.outwidth, a.scaler.outheight = 1, 640, 360
    return a


def _stamps(chn: int, n: int) -> list[int]:
    out = []
    for _ in range(n):
        p = ctypes.POINTER(IMPFrameInfo)()
        assert IMP_FrameSource_GetFrame(chn, p) == 0
        out.append(int(p.contents.timeStamp))
        assert IMP_FrameSource_ReleaseFrame(chn, p) == 0
    return out


@pytest.mark.parametrize("num,den", [(1, 1000), (1, 65535), (1, 2), (2, 3)])
def test_sensor_fps_below_one_frame_per_second_is_refused(
    num: int, den: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Defect 9: SetSensorFPS(1, 1000) and (1, 65535) were accepted; the simulated sensor then
    slept out a period of minutes, and setting 25/1 again brought no frame for seconds."""
    with running_system("virtual"):
        assert IMP_FrameSource_CreateChn(0, _fs_attr()) == 0
        assert IMP_FrameSource_SetFrameDepth(0, 1) == 0
        assert IMP_FrameSource_EnableChn(0) == 0
        _stamps(0, 2)
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="imp.capi"):
            assert IMP_ISP_Tuning_SetSensorFPS(num, den) == -1
        assert "below 1 fps" in caplog.text and "1..120" in caplog.text
        n, d = ctypes.c_uint32(), ctypes.c_uint32()
        assert IMP_ISP_Tuning_GetSensorFPS(ctypes.byref(n), ctypes.byref(d)) == 0
        assert (n.value, d.value) == (25, 1)  # unchanged
        stamps = _stamps(0, 5)  # frames keep coming at the 25 fps period (depth 1 may skip)
        deltas = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
        assert all(d > 0 and d % 40_000 == 0 for d in deltas), stamps
        assert IMP_ISP_Tuning_SetSensorFPS(1, 1) == 0  # 1 fps is the floor, accepted
        assert IMP_ISP_Tuning_SetSensorFPS(25, 1) == 0
        assert IMP_FrameSource_DisableChn(0) == 0
        assert IMP_FrameSource_DestroyChn(0) == 0
