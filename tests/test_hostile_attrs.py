"""Extreme attributes through the public APIs (issue 10, defects 9 and 10).

Values that pass a type check but make no sense for a camera are refused with a message that
says what to give, and leave the running pipeline as it was.
"""

from __future__ import annotations

import ctypes
import itertools
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
        deltas = [b - a for a, b in itertools.pairwise(stamps)]
        assert all(d > 0 and d % 40_000 == 0 for d in deltas), stamps
        assert IMP_ISP_Tuning_SetSensorFPS(1, 1) == 0  # 1 fps is the floor, accepted
        assert IMP_ISP_Tuning_SetSensorFPS(25, 1) == 0
        assert IMP_FrameSource_DisableChn(0) == 0
        assert IMP_FrameSource_DestroyChn(0) == 0


def test_getframe_starved_by_the_app_says_it_holds_every_buffer(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 10: a channel starved because the application holds every buffer only said "no
    frame within 2.0 s"."""
    import imp.framesource as framesource

    with running_system("virtual"):
        assert IMP_FrameSource_CreateChn(0, _fs_attr()) == 0  # nrVBs 2
        assert IMP_FrameSource_SetFrameDepth(0, 2) == 0
        assert IMP_FrameSource_EnableChn(0) == 0
        held = [ctypes.POINTER(IMPFrameInfo)() for _ in range(2)]
        for p in held:  # with the default timeout: a loaded machine may take a while to start
            assert IMP_FrameSource_GetFrame(0, p) == 0
        # Only the starved call waits the short timeout: no frame can come while all are held.
        monkeypatch.setattr(framesource, "DEFAULT_GETFRAME_TIMEOUT", 0.5)
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="imp.capi"):
            assert IMP_FrameSource_GetFrame(0, ctypes.POINTER(IMPFrameInfo)()) == -1
        assert "the application holds all 2 buffers" in caplog.text, caplog.text
        for p in held:
            assert IMP_FrameSource_ReleaseFrame(0, p) == 0
        _stamps(0, 2)  # and frames come again once they are back


def test_frames_dropped_without_release_are_reclaimed(caplog: pytest.LogCaptureFixture) -> None:
    """Defect 10: Pythonic frames dropped without release() were never reclaimed: the channel
    starved after nrVBs of them."""
    import gc

    import imp

    imp.kernel.sim_overrides(clock="virtual")
    with imp.open() as cam:
        main = cam.framesource(0, size=(320, 180), nr_vbs=2)
        with caplog.at_level(logging.WARNING, logger="imp.pipeline"):
            for _ in range(6):  # three times the buffers
                main.get_frame(timeout=5.0).seq  # noqa: B018 - the frame is dropped at once
                gc.collect()
        assert caplog.text.count("dropped without release()") == 6, caplog.text
        with main.get_frame(timeout=5.0) as frame:
            assert frame.size == (320, 180)


def test_encoder_crop_outside_the_picture_says_so(caplog: pytest.LogCaptureFixture) -> None:
    """Defect 10: an encoder crop outside the picture passed CreateChn and then yielded 0
    pictures with no reason given."""
    from tests.test_enc_helpers import add_channel, bind, enc_attr, start_fs

    with running_system("virtual"):
        start_fs(0, 320, 180)
        a = enc_attr(IMP_ENC_PROFILE_AVC_MAIN, 320, 180)
        a.encAttr.crop.enable = 1
        a.encAttr.crop.x, a.encAttr.crop.y, a.encAttr.crop.w, a.encAttr.crop.h = 0, 0, 640, 360
        add_channel(0, 0, a)
        bind(0, 0)
        assert IMP_FrameSource_EnableChn(0) == 0
        assert IMP_Encoder_StartRecvPic(0) == 0
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="imp.capi"):
            for _ in range(50):  # until the first frame reached the encoder
                if IMP_Encoder_PollingStream(0, 100) == -1 and "crop" in caplog.text:
                    break
            assert IMP_Encoder_GetStream(0, IMPEncoderStream(), True) == -1  # no endless wait
        assert "does not fit the 320x180 input" in caplog.text, caplog.text
        assert "fix the channel attributes" in caplog.text
        assert IMP_Encoder_StopRecvPic(0) == 0


def test_malformed_sim_setting_names_the_variable(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 10: a malformed IMP_SIM_* value was reported as "internal error: ValueError"."""
    monkeypatch.setenv("IMP_SIM_FPS", "fast")
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="imp.capi"):
        assert IMP_ISP_Open() == -1
    assert "IMP_SIM_FPS" in caplog.text and "internal error" not in caplog.text, caplog.text
