"""Frames from the fake ISP: numbering, timestamps, pixels, controls (virtual clock)."""

from __future__ import annotations

import errno
import time

import numpy as np
from test_stub_support import Board, board, in_thread

from imp.kernel import abi
from kernel_stubs import read_frame_mark
from kernel_stubs.sensor import ChannelGeometry, IspControls

PERIOD_US = 40_000  # 25 fps


def _grab(b: Board, i: int) -> tuple[int, int, np.ndarray, np.ndarray]:
    """DQBUF on channel i: (frame mark, timestamp µs, y copy, uv copy); requeues the buffer."""
    d = b.dqbuf(i)
    assert d.flags == abi.V4L2_BUF_FLAG_DONE
    y, uv = b.planes(i, d.index)
    y, uv = y.copy(), uv.copy()
    b.qbuf(i, d.index)
    return read_frame_mark(y), d.tv_sec * 1_000_000 + d.tv_usec, y, uv


def _tune(b: Board, cid: int, value: int) -> None:
    fd = b.k.open("/dev/isp-m0", 2)
    try:
        ctrl = abi.IspTuningCtrl(dir=abi.TUNING_DIR_SET, id=cid, value=value).pack()
        b.k.ioctl(fd, abi.VIDIOC_DEFAULT_CMD_ISP_TUNING, ctrl)
    finally:
        b.k.close(fd)


def test_virtual_timestamps_are_exactly_one_period_apart() -> None:
    with board() as b:
        b.bring_up()
        before_us = time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW) // 1000
        b.setup_chan(0, 640, 360, scaler=(640, 360))
        frames = [_grab(b, 0) for _ in range(60)]
        marks = [f[0] for f in frames]
        stamps = [f[1] for f in frames]
        assert marks == list(range(60))  # consumed as fast as possible: no frame lost
        assert np.all(np.diff(stamps) == PERIOD_US)  # frame n is stamped t0 + n * period exactly
        # Virtual time starts at the first frame, in the MONOTONIC_RAW domain.
        after_us = time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW) // 1000
        assert before_us <= stamps[0] <= after_us


def test_sensor_fps_control_changes_the_period() -> None:
    with board() as b:
        b.bring_up()
        b.setup_chan(0, 640, 360, scaler=(640, 360))
        before = [_grab(b, 0)[1] for _ in range(3)]
        _tune(b, abi.CID_SENSOR_FPS, (20 << 16) | 1)
        after = [_grab(b, 0)[1] for _ in range(10)]
        assert np.diff(before).tolist() == [PERIOD_US] * 2
        assert np.diff(after[-5:]).tolist() == [50_000] * 4


def test_two_channels_see_the_same_frame_numbers_and_exact_pixels() -> None:
    with board() as b:
        b.bring_up()
        b.setup_chan(0, 1920, 1080, stream=False)
        b.setup_chan(2, 640, 360, stream=False, scaler=(640, 360))
        b.streamon(0)
        b.streamon(2)
        sensor = b.k.sensor
        assert sensor is not None
        main: dict[int, tuple[int, np.ndarray, np.ndarray]] = {}
        sub: dict[int, tuple[int, np.ndarray, np.ndarray]] = {}
        for _ in range(12):  # a consumer per channel, in lock-step
            for i, frames in ((0, main), (2, sub)):
                n, ts, y, uv = _grab(b, i)
                frames[ts] = (n, y, uv)
        common = sorted(set(main) & set(sub))
        assert len(common) >= 10
        full = ChannelGeometry(1920, 1080)
        small = ChannelGeometry(640, 360, None, scale=True)
        for ts in common[-3:]:
            n, y, uv = main[ts]
            assert sub[ts][0] == n  # same sensor frame in both channels
            want_y, want_uv = sensor.render(n, full, IspControls())
            assert np.array_equal(y, want_y) and np.array_equal(uv, want_uv)
            want_y, want_uv = sensor.render(n, small, IspControls())
            assert np.array_equal(sub[ts][1], want_y) and np.array_equal(sub[ts][2], want_uv)


def test_crop_and_scaler_become_the_channel_geometry() -> None:
    with board() as b:
        b.bring_up()
        # fcrop-less: scale 1920x1080 to 960x540, then crop its centre 640x360 (post-scaler).
        b.setup_chan(1, 640, 360, scaler=(960, 540), crop=(160, 90, 640, 360))
        n, _, y, _ = _grab(b, 1)
        assert b.k.sensor is not None
        want = ChannelGeometry(640, 360, (320, 180, 1280, 720), scale=True)
        assert np.array_equal(y, b.k.sensor.render(n, want, IspControls())[0])


def test_controls_apply_from_the_next_frame() -> None:
    with board() as b:
        b.bring_up()
        b.setup_chan(0, 640, 360, count=2, scaler=(640, 360))
        _grab(b, 0)
        _tune(b, abi.CID_BRIGHTNESS, 200)
        _tune(b, abi.CID_HFLIP, 1)
        geometry = ChannelGeometry(640, 360, None, scale=True)
        controls = IspControls(brightness=200, hflip=True)
        assert b.k.sensor is not None
        for _ in range(4):  # frames claimed before the change may still arrive first
            n, _, y, uv = _grab(b, 0)
            want_y, want_uv = b.k.sensor.render(n, geometry, controls)
            if np.array_equal(y, want_y):
                assert np.array_equal(uv, want_uv)
                return
        raise AssertionError("the new controls never reached the picture")


def test_day_night_switch_drops_frames_and_greys_the_picture() -> None:
    with board(day_night_drop=3) as b:
        b.bring_up()
        b.setup_chan(0, 640, 360, count=2, scaler=(640, 360))
        marks = [_grab(b, 0)[0] for _ in range(3)]
        _tune(b, abi.CID_RUNNING_MODE, 1)
        later = [_grab(b, 0) for _ in range(6)]
        numbers = marks + [f[0] for f in later]
        gaps = np.diff(numbers)
        assert gaps.max() == 4 and (gaps == 4).sum() == 1  # three frame numbers never delivered
        assert b.k.isp.channels[0].dropped == 3
        uv = later[-1][3]
        band = 16  # below the frame mark
        assert np.all(uv[band:] == 128)  # night: no colour


def test_frames_flow_only_with_sensor_links_and_channel_streaming() -> None:
    with board() as b:
        b.open_isp()
        b.add_sensor()
        b.isp(abi.VIDIOC_STREAMON)
        b.isp(abi.VIDIOC_CREATE_SUBDEV_LINKS, abi.int_arg(0))
        b.setup_chan(0, 640, 360, count=2, scaler=(640, 360))
        t, out = in_thread(lambda: b.dqbuf(0))
        time.sleep(0.15)
        assert t.is_alive() and b.k.isp.channels[0].delivered == 0  # links not streaming
        b.isp(abi.VIDIOC_LINKS_STREAMON)
        t.join(5)
        assert "result" in out


def test_stalled_consumer_does_not_freeze_the_other_channel() -> None:
    with board() as b:
        b.bring_up()
        b.setup_chan(0, 640, 360, count=2, scaler=(640, 360))
        b.setup_chan(1, 320, 180, count=2, scaler=(320, 180))
        start = time.monotonic()
        marks = [_grab(b, 0)[0] for _ in range(20)]  # channel 1 is never read
        assert time.monotonic() - start < 5
        assert marks == sorted(marks) and marks[-1] >= 19
        ch1 = b.k.isp.channels[1]
        assert ch1.delivered == 2 and ch1.dropped > 0


def test_non_nv12_buffers_never_complete() -> None:
    with board() as b:
        b.bring_up()
        b.setup_chan(0, 640, 360, count=2, pixelformat=int.from_bytes(b"YUYV", "little"))
        assert b.sizeimage[0] == 640 * 2 * 360
        t, out = in_thread(lambda: b.dqbuf(0))
        time.sleep(0.2)
        assert t.is_alive() and b.k.isp.channels[0].delivered == 0
        b.streamoff(0)
        t.join(5)
        assert out["error"].errno == errno.EINVAL
