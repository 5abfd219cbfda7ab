"""Rate control measured through the whole pipeline (sensor -> FS -> encoder -> GetStream), on the
synthetic scene with the virtual clock (capture time is exact: 25 pictures = 1 s of video)."""

from __future__ import annotations

import ctypes

from imp.capi import *
from tests.conftest import running_system
from tests.test_enc_helpers import (
    StreamCopy,
    add_channel,
    bind,
    copy_stream,
    decode,
    enc_attr,
    kbps_of,
    read_streams,
    sliding_max_kbps,
    start_fs,
    unbind,
)

FPS = 25


def _record(
    w: int, h: int, attr: IMPEncoderChnAttr, frames: int, fmt: str = "h264"
) -> tuple[list[StreamCopy], float]:
    """``frames`` pictures of one channel; returns them and GetChnAveBitrate over all."""
    with running_system("virtual"):
        start_fs(0, w, h)
        add_channel(0, 0, attr)
        bind(0, 0)
        assert IMP_FrameSource_EnableChn(0) == 0
        assert IMP_Encoder_StartRecvPic(0) == 0
        streams = read_streams(0, frames - 1)
        s = IMPEncoderStream()
        assert IMP_Encoder_GetStream(0, s, True) == 0
        streams.append(copy_stream(s))
        ave = ctypes.c_double()
        assert IMP_Encoder_GetChnAveBitrate(0, s, frames, ave) == 0
        assert IMP_Encoder_ReleaseStream(0, s) == 0
        assert IMP_Encoder_StopRecvPic(0) == 0
        assert IMP_FrameSource_DisableChn(0) == 0
        unbind(0, 0)
    assert len(decode(b"".join(st.data for st in streams), fmt)) == frames
    return streams, ave.value


def test_cbr_1080p25_2000kbps_over_10s_within_10_percent() -> None:
    attr = enc_attr(IMP_ENC_PROFILE_AVC_HIGH, 1920, 1080, rc=IMP_ENC_RC_MODE_CBR, kbps=2000)
    streams, ave = _record(1920, 1080, attr, 10 * FPS)
    sizes = [len(s.data) for s in streams]
    measured = kbps_of(sizes, 10.0)
    print(f"CBR 1080p25 target 2000 kbit/s: measured {measured:.0f} kbit/s over 10 s "
          f"(GetChnAveBitrate {ave:.0f})")  # fmt: skip
    assert 1800 <= measured <= 2200
    assert abs(ave - measured) < 1


def test_hevc_cbr_360p_within_10_percent() -> None:
    attr = enc_attr(IMP_ENC_PROFILE_HEVC_MAIN, 640, 360, rc=IMP_ENC_RC_MODE_CBR, kbps=624)
    streams, _ = _record(640, 360, attr, 10 * FPS, fmt="hevc")
    measured = kbps_of([len(s.data) for s in streams], 10.0)
    print(f"HEVC CBR 360p25 target 624 kbit/s: measured {measured:.0f} kbit/s")
    assert 0.9 * 624 <= measured <= 1.1 * 624


def test_vbr_never_above_max_in_any_1s_window() -> None:
    attr = enc_attr(IMP_ENC_PROFILE_AVC_HIGH, 1280, 720, rc=IMP_ENC_RC_MODE_VBR, kbps=1500)
    rc = attr.rcAttr.attrRcMode.attrVbr
    rc.uTargetBitRate, rc.uMaxBitRate = 1500, 1800
    streams, _ = _record(1280, 720, attr, 8 * FPS)
    sizes = [len(s.data) for s in streams]
    peak = sliding_max_kbps(sizes, FPS)
    print(f"VBR 720p target 1500 max 1800: peak 1 s window {peak:.0f} kbit/s, "
          f"average {kbps_of(sizes, 8.0):.0f}")  # fmt: skip
    assert peak <= 1800


def test_fixqp_codes_every_picture_at_the_qp() -> None:
    attr = enc_attr(IMP_ENC_PROFILE_AVC_MAIN, 640, 360, rc=IMP_ENC_RC_MODE_FIXQP, qp=33, gop=10)
    streams, _ = _record(640, 360, attr, 30)
    qps = {s.slice_qp for s in streams}
    print(f"FIXQP 33: picture QPs {qps}")
    assert qps == {33}


def test_set_chn_bitrate_at_run_time_changes_the_measured_rate() -> None:
    with running_system("virtual"):
        start_fs(0, 640, 360)
        add_channel(0, 0, enc_attr(IMP_ENC_PROFILE_AVC_HIGH, 640, 360, kbps=400, gop=25))
        bind(0, 0)
        assert IMP_FrameSource_EnableChn(0) == 0
        assert IMP_Encoder_StartRecvPic(0) == 0
        read_streams(0, FPS)  # the rate control's start
        high = read_streams(0, 4 * FPS)
        assert IMP_Encoder_SetChnBitRate(0, 150, 150) == 0
        read_streams(0, 2 * FPS)  # settling, and pictures queued before the change
        low = read_streams(0, 4 * FPS)
        assert IMP_Encoder_StopRecvPic(0) == 0
        assert IMP_FrameSource_DisableChn(0) == 0
        unbind(0, 0)
    before = kbps_of([len(s.data) for s in high], 4.0)
    after = kbps_of([len(s.data) for s in low], 4.0)
    print(f"SetChnBitRate 400 -> 150 kbit/s: measured {before:.0f} -> {after:.0f}")
    assert 0.85 * 400 <= before <= 1.15 * 400 and 0.85 * 150 <= after <= 1.15 * 150
