"""The Encoder through the C API, as an application calls it (virtual clock unless timed)."""

from __future__ import annotations

import ctypes
import logging
import select

import pytest

from imp.capi import *
from imp.capi.encoder import EncoderEvalInfo
from tests.conftest import running_system
from tests.test_enc_helpers import (
    add_channel,
    assert_marks_in_order,
    assert_timestamps_match_marks,
    bind,
    copy_stream,
    decode,
    enc_attr,
    jpeg_attr,
    marks,
    read_streams,
    start_fs,
    unbind,
)

W, H = 640, 360


def _teardown(fs: int, groups: list[int], chns: list[int]) -> None:
    for c in chns:
        assert IMP_Encoder_StopRecvPic(c) == 0
    assert IMP_FrameSource_DisableChn(fs) == 0
    for g in groups:
        unbind(fs, g)
    for c in chns:
        assert IMP_Encoder_UnRegisterChn(c) == 0
        assert IMP_Encoder_DestroyChn(c) == 0
    for g in groups:
        assert IMP_Encoder_DestroyGroup(g) == 0
    assert IMP_FrameSource_DestroyChn(fs) == 0


@pytest.mark.parametrize(
    ("profile", "fmt", "param_sets", "idr"),
    [
        (IMP_ENC_PROFILE_AVC_HIGH, "h264", [7, 8], {5}),
        (IMP_ENC_PROFILE_HEVC_MAIN, "hevc", [32, 33, 34], {19, 20}),
    ],
)
def test_stream_layout_packs_and_timestamps(
    profile: int, fmt: str, param_sets: list[int], idr: set[int]
) -> None:
    with running_system("virtual"):
        start_fs(0, W, H)
        add_channel(0, 0, enc_attr(profile, W, H, gop=10))
        bind(0, 0)
        assert IMP_FrameSource_EnableChn(0) == 0
        assert IMP_Encoder_StartRecvPic(0) == 0
        streams = read_streams(0, 25)
        bufsize = ctypes.c_uint32()
        assert IMP_Encoder_GetStreamBufSize(0, bufsize) == 0
        _teardown(0, [0], [0])
    frames = decode(b"".join(s.data for s in streams), fmt)
    assert len(frames) == 25 and (frames[0].width, frames[0].height) == (W, H)
    m = marks(frames)
    assert_marks_in_order(m)
    assert_timestamps_match_marks(streams, m)
    assert [s.seq for s in streams] == list(range(25))
    for s in streams:
        assert s.stream_size == bufsize.value and s.vir_addr and s.phy_addr
        for i, p in enumerate(s.packs):
            assert p.data[:4] == b"\0\0\0\1"  # every pack is one NAL with a 4-byte start code
            assert p.offset + p.length <= s.stream_size  # never wraps by default
            assert p.frame_end == (i == len(s.packs) - 1)
        vcl = s.packs[-1].nal_type
        if vcl in idr:
            assert s.nal_types[: len(param_sets)] == param_sets  # SPS, PPS (VPS) separately
            assert all(p.slice_type == IMP_ENC_SLICE_I for p in s.packs)
        else:
            assert s.nal_types == [1] and s.packs[0].slice_type == IMP_ENC_SLICE_P
    keyframes = [s.seq for s in streams if s.packs[-1].nal_type in idr]
    assert keyframes == [0, 10, 20]


def test_request_idr_mid_gop_gives_an_idr_with_parameter_sets_next() -> None:
    from imp.encoder import get_encoder

    with running_system("virtual"):
        start_fs(0, W, H)
        add_channel(0, 0, enc_attr(IMP_ENC_PROFILE_AVC_HIGH, W, H, gop=200))
        bind(0, 0)
        assert IMP_FrameSource_EnableChn(0) == 0
        assert IMP_Encoder_StartRecvPic(0) == 0
        first = read_streams(0, 12)
        stats = get_encoder().channel(0).stats
        before = stats.encoded  # pictures stored before the request
        assert IMP_Encoder_RequestIDR(0) == 0
        after = stats.encoded
        later = read_streams(0, after + 3 - 12)
        _teardown(0, [0], [0])
    streams = first + later
    idrs = [s.seq for s in streams if 5 in s.nal_types]
    # The picture being encoded when the request came may finish as it was; the next is an IDR.
    assert idrs[0] == 0 and len(idrs) == 2 and before <= idrs[1] <= after + 1, (idrs, before)
    assert streams[idrs[1]].nal_types[:2] == [7, 8]
    assert len(decode(b"".join(s.data for s in streams), "h264")) == len(streams)


def test_jpeg_is_one_pack_holding_a_complete_file() -> None:
    with running_system("virtual"):
        start_fs(0, W, H)
        add_channel(0, 4, jpeg_attr(W, H, quality=25))
        bind(0, 0)
        assert IMP_FrameSource_EnableChn(0) == 0
        assert IMP_Encoder_StartRecvPic(4) == 0
        streams = read_streams(4, 3)
        enc_type = ctypes.c_int()
        assert IMP_Encoder_GetChnEncType(4, enc_type) == 0
        _teardown(0, [0], [4])
    assert enc_type.value == IMP_ENC_TYPE_JPEG
    for s in streams:
        assert len(s.packs) == 1 and s.packs[0].frame_end
        data = s.packs[0].data
        assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
        (frame,) = decode(data, "mjpeg")
        assert (frame.width, frame.height) == (W, H)
    assert_marks_in_order([marks(decode(s.data, "mjpeg"))[0] for s in streams])


def test_quirks_register_before_create_group_shared_jpeg_and_destroying_unknown_group(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """prudynt's order (usage.md §0 quirks 1, 2, 4): all calls return what the stock lib does."""
    with running_system("virtual"):
        start_fs(0, W, H)
        assert IMP_Encoder_SetbufshareChn(2, 0) == 0  # before either channel exists
        assert IMP_Encoder_CreateChn(0, enc_attr(IMP_ENC_PROFILE_AVC_HIGH, W, H)) == 0
        assert IMP_Encoder_RegisterChn(0, 0) == 0  # group 0 does not exist yet
        assert IMP_Encoder_CreateGroup(0) == 0
        assert IMP_Encoder_CreateGroup(0) == -1  # but only once
        assert IMP_Encoder_CreateChn(2, jpeg_attr(W, H, quality=75, fps=24)) == 0
        assert IMP_Encoder_RegisterChn(0, 2) == 0  # JPEG next to H.264, no bind of its own
        assert IMP_Encoder_RegisterChn(0, 3) == -1  # no such channel
        bind(0, 0)
        assert IMP_FrameSource_EnableChn(0) == 0
        assert IMP_Encoder_StartRecvPic(0) == 0
        assert IMP_Encoder_StartRecvPic(2) == 0
        video = read_streams(0, 10)
        snaps = read_streams(2, 2)
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="imp.capi"):
            assert IMP_Encoder_DestroyGroup(2) == -1  # never created
        assert "IMP_Encoder_DestroyGroup" in caplog.text
        more = read_streams(0, 3)  # nothing was harmed
        _teardown(0, [0], [0, 2])
    assert len(decode(b"".join(s.data for s in video + more), "h264")) == 13
    for s in snaps:
        assert decode(s.data, "mjpeg")[0].width == W


def test_lifecycle_rules_and_release_order(caplog: pytest.LogCaptureFixture) -> None:
    with running_system("virtual"):
        start_fs(0, W, H)
        add_channel(0, 0, enc_attr(IMP_ENC_PROFILE_AVC_MAIN, W, H))
        s = IMPEncoderStream()
        assert IMP_Encoder_GetStream(0, s, False) == -1  # nothing encoded: non-blocking fails
        assert IMP_Encoder_GetStream(0, s, True) == -1  # would wait forever: not receiving
        assert IMP_Encoder_PollingStream(0, 10) == -1
        bind(0, 0)
        assert IMP_Encoder_DestroyGroup(0) == -1  # channels registered, and bound
        assert IMP_FrameSource_EnableChn(0) == 0
        assert IMP_Encoder_StartRecvPic(0) == 0
        assert IMP_Encoder_StartRecvPic(0) == 0  # idempotent
        assert IMP_Encoder_UnRegisterChn(0) == -1  # still receiving
        assert IMP_Encoder_DestroyChn(0) == -1  # still registered
        assert IMP_Encoder_PollingStream(0, 5000) == 0
        a, b = IMPEncoderStream(), IMPEncoderStream()
        assert IMP_Encoder_GetStream(0, a, True) == 0
        assert IMP_Encoder_GetStream(0, b, True) == 0
        assert (a.seq, b.seq) == (0, 1)
        first_pack = ctypes.string_at(a.virAddr + a.pack[0].offset, a.pack[0].length)
        assert IMP_Encoder_ReleaseStream(0, b) == 0  # any order (issue 10 defect 2)
        # a's packs stay valid while it is held
        assert ctypes.string_at(a.virAddr + a.pack[0].offset, a.pack[0].length) == first_pack
        assert IMP_Encoder_ReleaseStream(0, a) == 0
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="imp.capi"):
            assert IMP_Encoder_ReleaseStream(0, b) == -1  # twice
        assert "released already" in caplog.text
        assert IMP_Encoder_PollingStream(0, 5000) == 0
        assert IMP_Encoder_StopRecvPic(0) == 0
        assert IMP_Encoder_StopRecvPic(0) == 0  # idempotent
        stat = IMPEncoderChnStat()
        assert IMP_Encoder_Query(0, stat) == 0
        assert stat.registered and stat.work_done == 1
        c = IMPEncoderStream()
        assert IMP_Encoder_GetStream(0, c, True) == 0  # the buffer kept its pictures
        assert IMP_Encoder_UnRegisterChn(0) == 0  # resets: c is invalid now
        assert IMP_Encoder_ReleaseStream(0, c) == -1
        assert IMP_Encoder_Query(0, stat) == 0 and not stat.registered
        assert IMP_Encoder_UnRegisterChn(0) == -1
        assert IMP_Encoder_DestroyGroup(0) == -1  # still bound
        assert IMP_FrameSource_DisableChn(0) == 0
        unbind(0, 0)
        assert IMP_Encoder_DestroyChn(0) == 0
        assert IMP_Encoder_DestroyChn(0) == -1
        assert IMP_Encoder_DestroyGroup(0) == 0
        assert IMP_FrameSource_DestroyChn(0) == 0


def test_get_fd_is_readable_exactly_while_streams_are_ready() -> None:
    with running_system("virtual"):
        start_fs(0, W, H)
        add_channel(0, 0, enc_attr(IMP_ENC_PROFILE_AVC_HIGH, W, H))
        fd = IMP_Encoder_GetFd(0)
        assert fd >= 0
        assert select.select([fd], [], [], 0.05)[0] == []  # empty: not readable
        bind(0, 0)
        assert IMP_FrameSource_EnableChn(0) == 0
        assert IMP_Encoder_StartRecvPic(0) == 0
        assert select.select([fd], [], [], 5)[0] == [fd]
        assert IMP_Encoder_StopRecvPic(0) == 0
        stat = IMPEncoderChnStat()
        assert IMP_Encoder_Query(0, stat) == 0
        ready = stat.leftStreamFrames
        assert ready >= 1 and stat.leftStreamBytes > 0 and stat.curPacks >= 1
        for _ in range(ready):
            assert select.select([fd], [], [], 0)[0] == [fd]
            s = IMPEncoderStream()
            assert IMP_Encoder_GetStream(0, s, False) == 0
            assert IMP_Encoder_ReleaseStream(0, s) == 0
        assert select.select([fd], [], [], 0.05)[0] == []  # drained: not readable any more
        assert IMP_Encoder_Query(0, stat) == 0 and stat.leftStreamFrames == 0
        assert IMP_FrameSource_DisableChn(0) == 0
        unbind(0, 0)
        assert IMP_Encoder_UnRegisterChn(0) == 0
        assert IMP_Encoder_DestroyChn(0) == 0
        assert IMP_FrameSource_DestroyChn(0) == 0


def test_polling_module_stream_and_flush() -> None:
    with running_system("virtual"):
        start_fs(0, W, H)
        bitmap = ctypes.c_uint32(0xFFFF)
        assert IMP_Encoder_PollingModuleStream(bitmap, 20) == -1 and bitmap.value == 0
        add_channel(0, 1, enc_attr(IMP_ENC_PROFILE_AVC_HIGH, W, H, gop=100))
        add_channel(0, 5, jpeg_attr(W, H, fps=5), create_group=False)
        bind(0, 0)
        assert IMP_FrameSource_EnableChn(0) == 0
        assert IMP_Encoder_StartRecvPic(5) == 0
        assert IMP_Encoder_PollingModuleStream(bitmap, 5000) == 0
        assert bitmap.value == 1 << 5
        assert IMP_Encoder_StartRecvPic(1) == 0
        assert IMP_Encoder_PollingStream(1, 5000) == 0
        assert IMP_Encoder_PollingModuleStream(bitmap, 5000) == 0
        assert bitmap.value == (1 << 1) | (1 << 5)
        read_streams(1, 5)
        assert IMP_Encoder_FlushStream(1) == 0  # throws away what was not fetched
        stat = IMPEncoderChnStat()
        assert IMP_Encoder_Query(1, stat) == 0
        after = read_streams(1, 3)
        assert after[0].nal_types[-1] == 5  # restarts with an IDR
        assert len(decode(b"".join(s.data for s in after), "h264")) == 3
        _teardown(0, [0], [1, 5])


def test_runtime_settings_round_trip() -> None:
    with running_system("virtual"):
        a = enc_attr(IMP_ENC_PROFILE_AVC_HIGH, W, H, rc=IMP_ENC_RC_MODE_VBR, kbps=800, gop=30)
        assert IMP_Encoder_CreateChn(0, a) == 0
        got = IMPEncoderChnAttr()
        assert IMP_Encoder_GetChnAttr(0, got) == 0
        assert bytes(got) == bytes(a)
        assert IMP_Encoder_SetChnBitRate(0, 600, 900) == 0
        rc = IMPEncoderAttrRcMode()
        assert IMP_Encoder_GetChnAttrRcMode(0, rc) == 0
        assert (rc.rcMode, rc.attrVbr.uTargetBitRate, rc.attrVbr.uMaxBitRate) == (2, 600, 900)
        assert IMP_Encoder_SetChnBitRate(0, 700_000, 1_000_000) == 0  # bit/s (English header)
        assert IMP_Encoder_GetChnAttrRcMode(0, rc) == 0
        assert (rc.attrVbr.uTargetBitRate, rc.attrVbr.uMaxBitRate) == (700, 1000)
        rc.rcMode = IMP_ENC_RC_MODE_CBR
        rc.attrCbr.uTargetBitRate, rc.attrCbr.iMinQP, rc.attrCbr.iMaxQP = 500, 20, 40
        rc.attrCbr.iInitialQP = -1
        assert IMP_Encoder_SetChnAttrRcMode(0, rc) == 0
        assert IMP_Encoder_SetChnQpBounds(0, 22, 44) == 0
        assert IMP_Encoder_SetChnQpBounds(0, 44, 22) == -1
        assert IMP_Encoder_SetChnQp(0, 30) == 0
        assert IMP_Encoder_SetChnQp(0, 50) == -1  # outside the bounds
        assert IMP_Encoder_SetChnQpIPDelta(0, 3) == 0
        assert IMP_Encoder_SetChnGopLength(0, 60) == 0
        fps = IMPEncoderFrmRate(15, 1)
        assert IMP_Encoder_SetChnFrmRate(0, fps) == 0
        out = IMPEncoderFrmRate()
        assert IMP_Encoder_GetChnFrmRate(0, out) == 0 and (out.frmRateNum, out.frmRateDen) == (
            15,
            1,
        )
        gop = IMPEncoderGopAttr()
        assert IMP_Encoder_GetChnGopAttr(0, gop) == 0 and gop.uGopLength == 60
        gop.uGopLength = 25
        assert IMP_Encoder_SetChnGopAttr(0, gop) == 0
        assert IMP_Encoder_GetChnAttr(0, got) == 0
        r = got.rcAttr.attrRcMode
        assert (r.rcMode, r.attrCbr.uTargetBitRate) == (IMP_ENC_RC_MODE_CBR, 500)
        assert (r.attrCbr.iMinQP, r.attrCbr.iMaxQP, r.attrCbr.iInitialQP) == (22, 44, 30)
        assert r.attrCbr.iIPDelta == 3 and got.gopAttr.uGopLength == 25
        size, n = ctypes.c_uint32(), ctypes.c_int()
        assert IMP_Encoder_SetStreamBufSize(0, 1 << 20) == -1  # after CreateChn: too late
        assert IMP_Encoder_SetStreamBufSize(1, 1 << 20) == 0
        assert IMP_Encoder_CreateChn(1, jpeg_attr(W, H)) == 0
        assert IMP_Encoder_GetStreamBufSize(1, size) == 0 and size.value == 1 << 20
        assert IMP_Encoder_SetChnBitRate(1, 500, 500) == -1  # JPEG: no rate control
        assert IMP_Encoder_SetMaxStreamCnt(0, 3) == 0
        assert IMP_Encoder_GetMaxStreamCnt(0, n) == 0 and n.value == 3
        assert IMP_Encoder_SetPool(0, 2) == 0 and IMP_Encoder_GetPool(0) == 2
        assert IMP_Encoder_SetChnResizeMode(0, 1) == 0
        assert IMP_Encoder_SetChnEntropyMode(0, IMP_ENC_ENTROPY_MODE_CAVLC) == 0
        assert IMP_Encoder_SetFrameRelease(0, 1, 1) == 0
        assert IMP_Encoder_SetFisheyeEnableStatus(0, 0) == 0
        assert IMP_Encoder_GetFisheyeEnableStatus(0, n) == 0 and n.value == 0
        for c in (0, 1):
            assert IMP_Encoder_DestroyChn(c) == 0


def test_set_default_param_fills_the_rate_control_member_of_the_mode() -> None:
    a = IMPEncoderChnAttr()
    p = IMP_ENC_PROFILE_HEVC_MAIN
    assert IMP_Encoder_SetDefaultParam(a, p, IMP_ENC_RC_MODE_CAPPED_QUALITY, 1920, 1080, 25, 1,
                                       50, 2, -1, 1352) == 0  # fmt: skip
    e, r, g = a.encAttr, a.rcAttr, a.gopAttr
    assert (e.eProfile, e.uWidth, e.uHeight, e.ePicFormat) == (p, 1920, 1080, 0x188)
    q = r.attrRcMode.attrCappedQuality
    assert r.attrRcMode.rcMode == IMP_ENC_RC_MODE_CAPPED_QUALITY
    assert (q.uTargetBitRate, q.iInitialQP, q.uMaxPSNR) == (1352, -1, 42)
    assert q.uMaxBitRate >= q.uTargetBitRate and 0 <= q.iMinQP < q.iMaxQP <= 51
    assert (r.outFrmRate.frmRateNum, r.outFrmRate.frmRateDen) == (25, 1)
    assert (g.uGopCtrlMode, g.uGopLength, g.uMaxSameSenceCnt) == (2, 50, 2)
    assert IMP_Encoder_SetDefaultParam(a, IMP_ENC_PROFILE_AVC_HIGH, IMP_ENC_RC_MODE_CBR, 640,
                                       360, 25, 1, 20, 2, -1, 1000) == 0  # fmt: skip
    assert a.rcAttr.attrRcMode.attrCbr.uTargetBitRate == 1000
    assert IMP_Encoder_SetDefaultParam(a, IMP_ENC_PROFILE_AVC_BASELINE, IMP_ENC_RC_MODE_FIXQP,
                                       640, 360, 25, 1, 20, 2, 38, 0) == 0  # fmt: skip
    assert a.rcAttr.attrRcMode.attrFixQp.iInitialQP == 38
    assert IMP_Encoder_SetDefaultParam(a, IMP_ENC_PROFILE_JPEG, IMP_ENC_RC_MODE_FIXQP, 1920,
                                       1080, 24, 1, 0, 0, 75, 0) == 0  # fmt: skip
    assert a.rcAttr.attrRcMode.attrFixQp.iInitialQP == 75
    assert IMP_Encoder_SetDefaultParam(a, 12345, IMP_ENC_RC_MODE_CBR, 640, 360, 25, 1, 20, 2,
                                       -1, 1000) == -1  # fmt: skip
    assert IMP_Encoder_SetDefaultParam(a, IMP_ENC_PROFILE_AVC_HIGH, 3, 640, 360, 25, 1, 20, 2,
                                       -1, 1000) == -1  # fmt: skip


def test_ave_bitrate_and_eval_info() -> None:
    with running_system("virtual"):
        start_fs(0, W, H)
        add_channel(0, 0, enc_attr(IMP_ENC_PROFILE_AVC_HIGH, W, H, rc=IMP_ENC_RC_MODE_FIXQP,
                                   qp=28, gop=25))  # fmt: skip
        bind(0, 0)
        assert IMP_FrameSource_EnableChn(0) == 0
        info = EncoderEvalInfo()
        assert IMP_Encoder_GetChnEvalInfo(0, info) == -1  # before any GetStream
        assert IMP_Encoder_StartRecvPic(0) == 0
        streams = read_streams(0, 50)
        s = IMPEncoderStream()
        assert IMP_Encoder_GetStream(0, s, True) == 0
        br = ctypes.c_double()
        assert IMP_Encoder_GetChnAveBitrate(0, s, 50, br) == 0
        assert IMP_Encoder_GetChnEvalInfo(0, ctypes.byref(info)) == 0
        assert IMP_Encoder_ReleaseStream(0, s) == 0
        assert IMP_Encoder_GetChnEvalInfo(0, ctypes.create_string_buffer(8)) == -1  # too small
        _teardown(0, [0], [0])
    assert ctypes.sizeof(EncoderEvalInfo) == 36
    assert info.iSliceQP == 28
    assert br.value > 0
    assert {st.slice_qp for st in streams} == {28}


def test_stream_buffer_fills_and_drops_new_pictures_wrap_mode_reproduces_vendor_ring(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A small buffer: undrained it fills (Query says so) and later pictures are dropped; the
    opt-in vendor ring wraps packs at streamSize and save_stream's logic reassembles them."""
    from imp.encoder import get_encoder

    monkeypatch.setenv("IMP_ENC_STREAM_WRAP", "1")
    with running_system("virtual"):
        start_fs(0, W, H)
        assert IMP_Encoder_SetStreamBufSize(0, 48 * 1024) == 0
        add_channel(0, 0, enc_attr(IMP_ENC_PROFILE_AVC_HIGH, W, H, rc=IMP_ENC_RC_MODE_FIXQP,
                                   qp=22, gop=12))  # fmt: skip
        bind(0, 0)
        assert IMP_FrameSource_EnableChn(0) == 0
        assert IMP_Encoder_StartRecvPic(0) == 0
        ch = get_encoder().channel(0)
        assert IMP_Encoder_PollingStream(0, 5000) == 0
        import time

        deadline = time.monotonic() + 10
        while ch.stats.dropped_full == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        stat = IMPEncoderChnStat()
        assert IMP_Encoder_Query(0, stat) == 0
        assert ch.stats.dropped_full > 0 and stat.leftStreamBytes > 24 * 1024
        streams, wrapped = [], 0
        for _ in range(120):
            assert IMP_Encoder_PollingStream(0, 5000) == 0
            s = IMPEncoderStream()
            assert IMP_Encoder_GetStream(0, s, True) == 0
            wrapped += any(
                s.pack[i].offset + s.pack[i].length > s.streamSize for i in range(s.packCount)
            )
            streams.append(copy_stream(s))
            assert IMP_Encoder_ReleaseStream(0, s) == 0
        _teardown(0, [0], [0])
    assert wrapped > 0
    frames = decode(b"".join(s.data for s in streams), "h264")
    assert len(frames) == 120  # dropped pictures were followed by an IDR: all decodable
    assert_marks_in_order(marks(frames))
