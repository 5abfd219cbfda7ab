"""Whole pipelines: fan-out to several groups, two channels in a group, undrained channels,
and the Pythonic face (imp.encoder.open_encoder)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from imp.capi import *
from tests.conftest import running_system
from tests.test_enc_helpers import (
    StreamCopy,
    add_channel,
    assert_marks_in_order,
    assert_timestamps_match_marks,
    bind,
    decode,
    enc_attr,
    jpeg_attr,
    marks,
    read_streams,
    start_fs,
    unbind,
)


def _read_all(plan: dict[int, int]) -> dict[int, list[StreamCopy]]:
    """Read plan[chn] pictures from each channel, one reader thread per channel."""
    out: dict[int, list[StreamCopy]] = {}
    errors: list[BaseException] = []

    def reader(chn: int, n: int) -> None:
        try:
            out[chn] = read_streams(chn, n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=item) for item in plan.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return out


def test_one_source_two_groups_h264_and_jpeg_in_one_group_h265_through_fan_out() -> None:
    with running_system("virtual"):
        start_fs(0, 1280, 720)
        add_channel(0, 0, enc_attr(IMP_ENC_PROFILE_AVC_HIGH, 1280, 720, kbps=1500))
        add_channel(0, 4, jpeg_attr(1280, 720, quality=60, fps=5), create_group=False)
        # Group 1 holds a 640x360 channel fed 720p frames: the encoder scales them.
        add_channel(1, 1, enc_attr(IMP_ENC_PROFILE_HEVC_MAIN, 640, 360, kbps=600))
        bind(0, 0)
        bind(0, 1)  # the same FS output feeds both groups
        assert IMP_FrameSource_EnableChn(0) == 0
        for c in (0, 1, 4):
            assert IMP_Encoder_StartRecvPic(c) == 0
        got = _read_all({0: 50, 1: 50, 4: 10})
        for c in (0, 1, 4):
            assert IMP_Encoder_StopRecvPic(c) == 0
        assert IMP_FrameSource_DisableChn(0) == 0
        unbind(0, 0)
        unbind(0, 1)
    h264 = decode(b"".join(s.data for s in got[0]), "h264")
    h265 = decode(b"".join(s.data for s in got[1]), "hevc")
    jpegs = [decode(s.data, "mjpeg")[0] for s in got[4]]
    assert (len(h264), len(h265), len(jpegs)) == (50, 50, 10)
    assert {(f.width, f.height) for f in h264 + jpegs} == {(1280, 720)}
    assert {(f.width, f.height) for f in h265} == {(640, 360)}
    t0 = set()
    for streams, frames in ((got[0], h264), (got[1], h265), (got[4], jpegs)):
        m = marks(frames)
        assert_marks_in_order(m)
        t0.add(assert_timestamps_match_marks(streams, m))
    assert len(t0) == 1  # one clock: every channel stamps the capture time of its frame
    jpeg_marks = marks(jpegs)
    assert set(np.diff(jpeg_marks).tolist()) == {5}  # 5 fps out of 25


@dataclass
class UndrainedRun:
    """What :func:`run_undrained` saw: the drained channels' pictures and the JPEG channel's
    state (bench/enc_undrained.py prints the timing of the same run in real time)."""

    got: dict[int, list[StreamCopy]]
    elapsed: float
    left_frames: int
    left_bytes: int
    registered: bool
    cur_packs: int
    jpeg_dropped: int
    fs_delivered: int


def run_undrained(clock: str, n: int) -> UndrainedRun:
    """FS0 640x360 -> group 0: H.264 (read) + JPEG (never read); FS1 320x180 -> group 1: H.264
    (read). ``n`` pictures are read from each H.264 channel."""
    from imp.encoder import get_encoder
    from imp.framesource import get_framesource

    with running_system(clock):
        start_fs(0, 640, 360)
        start_fs(1, 320, 180)
        assert IMP_Encoder_SetStreamBufSize(5, 64 * 1024) == 0
        add_channel(0, 0, enc_attr(IMP_ENC_PROFILE_AVC_HIGH, 640, 360, kbps=500))
        add_channel(0, 5, jpeg_attr(640, 360, quality=90), create_group=False)
        add_channel(1, 1, enc_attr(IMP_ENC_PROFILE_AVC_HIGH, 320, 180, kbps=200))
        bind(0, 0)
        bind(1, 1)
        for fs in (0, 1):
            assert IMP_FrameSource_EnableChn(fs) == 0
        for c in (5, 0, 1):
            assert IMP_Encoder_StartRecvPic(c) == 0
        t_start = time.monotonic()
        got = _read_all({0: n, 1: n})
        elapsed = time.monotonic() - t_start
        stat = IMPEncoderChnStat()
        assert IMP_Encoder_Query(5, stat) == 0
        jpeg = get_encoder().channel(5).stats
        fs_stats = get_framesource().channel(0).stats
        for c in (0, 1, 5):
            assert IMP_Encoder_StopRecvPic(c) == 0
        for fs in (0, 1):
            assert IMP_FrameSource_DisableChn(fs) == 0
        unbind(0, 0)
        unbind(1, 1)
    return UndrainedRun(
        got,
        elapsed,
        stat.leftStreamFrames,
        stat.leftStreamBytes,
        bool(stat.registered),
        stat.curPacks,
        jpeg.dropped_full,
        fs_stats.delivered,
    )


def test_undrained_channel_does_not_hold_up_the_source_or_the_other_channels() -> None:
    """A JPEG channel nobody reads fills its buffer and drops new pictures, while the H.264
    channel next to it and another group get every frame. Under the virtual clock the sensor
    waits for its slowest consumer, so a channel held up by its undrained neighbour would
    stall the read (PollingStream times out) or lose frames; how fast this runs in real time
    is bench/enc_undrained.py's figure, not an assertion a loaded machine could break."""
    n = 75
    run = run_undrained("virtual", n)
    for c, streams in run.got.items():
        frames = decode(b"".join(s.data for s in streams), "h264")
        m = marks(frames)
        assert len(m) == n, f"channel {c}: {len(m)} of {n} pictures decoded"
        assert np.diff(m).tolist() == [1] * (n - 1), f"channel {c} lost or repeated frames: {m}"
        assert_timestamps_match_marks(streams, m)
    assert run.fs_delivered >= n  # the source itself kept going
    assert run.jpeg_dropped > 0 and run.left_frames > 0
    assert run.registered and run.cur_packs == 1


def test_pythonic_encoder_streams_fd_and_shared_group() -> None:
    import select

    import imp
    import imp.encoder as enc

    with imp.open() as cam:
        main = cam.framesource(0, size=(640, 360), fps=25)
        with (
            enc.open_encoder(main, enc.H264(bitrate_kbps=500, gop=25)) as h264,
            enc.open_encoder(h264, enc.JPEG(quality=70, fps=5)) as snap,
        ):
            assert snap.group == h264.group and h264.chn != snap.chn
            data = b"".join(s.data for s in h264.streams(limit=30))
            assert select.select([snap.fileno()], [], [], 5)[0] == [snap.fileno()]
            with snap.get_stream() as picture:
                assert picture.keyframe and picture.nal_types == [0]
                jpeg = picture.data
            first, second = h264.get_stream(), h264.get_stream()
            second.release()  # any order: the buffer frees both once the first is back
            first.release()
            h264.request_idr()
            keys = [s.keyframe for s in h264.streams(limit=10)]
            assert any(keys[:3])
            assert h264.bitrate_kbps() > 0
        main.disable()
    frames = decode(data, "h264")
    assert len(frames) == 30 and (frames[0].width, frames[0].height) == (640, 360)
    assert decode(jpeg, "mjpeg")[0].width == 640
