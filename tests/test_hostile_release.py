"""Hostile releases through the public APIs (issue 10, defects 2 and 4; deliver 3).

A frame or stream given back twice, or through a stale copy after its buffer was refilled,
must be refused with a clear message and must not take the buffer from its new holder;
streams may be released in any order.
"""

from __future__ import annotations

import ctypes
import logging

import pytest

from imp.capi import *
from tests.conftest import running_system


def _fs_attr(nr_vbs: int = 2) -> IMPFSChnAttr:
    a = IMPFSChnAttr()
    a.picWidth, a.picHeight, a.pixFmt = 640, 360, PIX_FMT_NV12
    a.outFrmRateNum, a.outFrmRateDen, a.nrVBs, a.type = 25, 1, nr_vbs, FS_PHY_CHANNEL
    a.scaler.enable, a.scaler.outwidth, a.scaler.outheight = 1, 640, 360
    return a


def _get(chn: int) -> ctypes._Pointer[IMPFrameInfo]:
    p = ctypes.POINTER(IMPFrameInfo)()
    assert IMP_FrameSource_GetFrame(chn, p) == 0
    return p


def test_stale_frame_info_cannot_release_the_buffers_next_fill(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Defect 4: frames were matched by index and phyAddr only, so releasing a stale copy (or
    the same pointer twice) after the buffer was handed out again dropped the new holder's
    reference: the ISP then overwrote a frame still held, and the holder's release failed."""
    with running_system("virtual"):
        assert IMP_FrameSource_CreateChn(0, _fs_attr()) == 0
        assert IMP_FrameSource_SetFrameDepth(0, 1) == 0
        assert IMP_FrameSource_EnableChn(0) == 0
        first = _get(0)
        index, phys = first.contents.index, first.contents.phyAddr
        stale = IMPFrameInfo.from_buffer_copy(first.contents)  # what a careless app keeps
        assert IMP_FrameSource_ReleaseFrame(0, first) == 0
        again = None
        for _ in range(20):  # until the same buffer is handed out again (another fill)
            p = _get(0)
            if p.contents.index == index and p.contents.phyAddr == phys:
                again = p
                break
            assert IMP_FrameSource_ReleaseFrame(0, p) == 0
        assert again is not None, "the buffer never came back"
        assert again.contents.timeStamp != stale.timeStamp
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="imp.capi"):
            assert IMP_FrameSource_ReleaseFrame(0, ctypes.byref(stale)) == -1
            assert IMP_FrameSource_ReleaseFrame(0, first) == -1  # the same pointer twice
        messages = [r.getMessage() for r in caplog.records if "ReleaseFrame" in r.getMessage()]
        assert len(messages) == 2 and all("released already" in m for m in messages), messages
        # The new holder still owns its frame: its release works, exactly once.
        assert IMP_FrameSource_ReleaseFrame(0, again) == 0
        assert IMP_FrameSource_ReleaseFrame(0, again) == -1
        # Nothing was lost: both buffers can be held at once (depth 1 + 1 with the app).
        for p in (_get(0), _get(0)):
            assert IMP_FrameSource_ReleaseFrame(0, p) == 0
        assert IMP_FrameSource_DisableChn(0) == 0
        assert IMP_FrameSource_DestroyChn(0) == 0


def test_two_readers_release_streams_in_any_order_and_nothing_is_stuck() -> None:
    """Defect 2: a ReleaseStream out of GetStream order was refused, and the earlier stream could
    then never be released: the channel stayed stuck ("buffer full") until UnRegisterChn. Two
    reader threads sharing one channel hit it within a second."""
    import threading

    from tests.test_enc_helpers import add_channel, bind, enc_attr, start_fs

    W, H = 320, 180
    with running_system("virtual"):
        start_fs(0, W, H)
        add_channel(0, 0, enc_attr(IMP_ENC_PROFILE_AVC_MAIN, W, H))
        bind(0, 0)
        assert IMP_FrameSource_EnableChn(0) == 0
        assert IMP_Encoder_StartRecvPic(0) == 0
        # Deterministic part: release the newer stream first, then the older.
        a, b = IMPEncoderStream(), IMPEncoderStream()
        assert IMP_Encoder_GetStream(0, a, True) == 0
        assert IMP_Encoder_GetStream(0, b, True) == 0
        assert IMP_Encoder_ReleaseStream(0, b) == 0
        assert IMP_Encoder_ReleaseStream(0, b) == -1  # twice: refused
        assert IMP_Encoder_ReleaseStream(0, a) == 0
        assert IMP_Encoder_ReleaseStream(0, a) == -1
        # Two readers on one channel, each holding its stream a while before releasing it.
        seqs: list[int] = []
        failures: list[str] = []
        lock = threading.Lock()

        def reader() -> None:
            for _ in range(40):
                s = IMPEncoderStream()
                if IMP_Encoder_PollingStream(0, 5000) != 0:
                    continue  # the other reader took it
                if IMP_Encoder_GetStream(0, s, False) != 0:
                    continue
                with lock:
                    seqs.append(int(s.seq))
                if IMP_Encoder_ReleaseStream(0, s) != 0:
                    failures.append(f"release of seq {s.seq} failed")

        threads = [threading.Thread(target=reader) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not failures, failures[:5]
        assert len(seqs) >= 40 and len(set(seqs)) == len(seqs)
        # Nothing left stuck: the channel still delivers, and its buffer is empty after release.
        c = IMPEncoderStream()
        assert IMP_Encoder_GetStream(0, c, True) == 0 and c.seq > max(seqs)
        assert IMP_Encoder_ReleaseStream(0, c) == 0
        assert IMP_Encoder_StopRecvPic(0) == 0


def test_stale_encoder_handle_from_a_closed_camera_leaves_the_new_one_alone() -> None:
    """Defect 7: a stale EncoderHandle from a closed camera, closed later, destroyed the new
    camera's encoder channel 0 (handles were numbers; now they hold their channel object)."""
    import imp
    import imp.encoder as enc
    from imp.encoder import get_encoder
    from imp.system import get_system

    imp.kernel.sim_overrides(clock="virtual")
    with imp.open() as cam1:
        old = enc.open_encoder(cam1.framesource(0, size=(320, 180)), enc.H264(bitrate_kbps=200))
        old.get_stream().release()
    with imp.open() as cam2:
        new = enc.open_encoder(cam2.framesource(0, size=(320, 180)), enc.H264(bitrate_kbps=200))
        assert new.chn == old.chn == 0
        channel, binds = get_encoder().channels[0], get_system().graph.bindings()
        old.close()
        with pytest.raises(imp.Closed):
            old.get_stream()
        assert get_encoder().channels[0] is channel and get_system().graph.bindings() == binds
        for _ in range(3):
            with new.get_stream() as s:
                assert s.size > 0
