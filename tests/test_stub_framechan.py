"""/dev/framechanN of the fake kernel, rule by rule (kernel_abi.md §2.5, §2.7, gotchas)."""

from __future__ import annotations

import errno
import time

from test_stub_support import (
    Board,
    board,
    buf_bytes,
    chan,
    expect_errno,
    fmt_bytes,
    in_thread,
    parse_buf,
    reqbufs_bytes,
)

from imp.kernel import abi
from kernel_stubs.devices.channel import ChannelState
from kernel_stubs.sensor import ChannelGeometry, IspControls


def _opened(b: Board, i: int = 0) -> int:
    b.open_isp()
    return b.open_chan(i)


def _ready(b: Board, count: int = 2, stream: bool = False) -> None:
    """Sensor running, channel 0 at 640x360 with ``count`` buffers queued."""
    b.bring_up()
    b.setup_chan(0, 640, 360, count=count, stream=stream, scaler=(640, 360))


# -- §2.7 state machine ------------------------------------------------------------------------
def test_open_before_txisp_is_eperm_slake() -> None:
    # The reason for libimp's 257 x 10 ms open retry loop (gotcha 9).
    with board() as b:
        assert b.k.isp.channels[0].state == ChannelState.SLAKE
        err = expect_errno(errno.EPERM, b.k.open, chan(0), abi.FRAMECHAN_OPEN_FLAGS)
        assert "slake" in str(err)
        b.open_isp()
        assert [c.state for c in b.k.isp.channels] == [ChannelState.ACTIVATED] * 3
        b.open_chan(0)
        assert b.k.isp.channels[0].state == ChannelState.OPENED


def test_txisp_opens_are_counted_last_close_slakes() -> None:
    with board() as b:
        first = b.open_isp()
        second = b.k.open("/dev/tx-isp", abi.TX_ISP_OPEN_FLAGS)
        b.k.close(first)
        assert b.k.isp.channels[1].state == ChannelState.ACTIVATED  # one fd still open
        b.k.close(second)
        assert [c.state for c in b.k.isp.channels] == [ChannelState.SLAKE] * 3
        expect_errno(errno.EPERM, b.k.open, chan(1), 0)


def test_last_txisp_close_slakes_a_live_channel_and_wakes_dqbuf() -> None:
    with board() as b:
        _ready(b, count=1, stream=True)
        ch = b.k.isp.channels[0]
        b.dqbuf(0)  # the only buffer is ours: the next DQBUF waits
        t, out = in_thread(lambda: b.dqbuf(0))
        time.sleep(0.05)
        assert t.is_alive()
        assert b.txisp is not None
        b.k.close(b.txisp)
        t.join(5)
        assert not t.is_alive() and out["error"].errno == errno.EINVAL
        assert ch.state == ChannelState.SLAKE
        assert ch.buffers == []
        assert not b.k.isp.sensor_streaming and b.k.isp.active_link == -1
        expect_errno(errno.EPERM, b.k.open, chan(0), 0)


def test_open_resets_everything_without_exclusivity() -> None:
    with board() as b:
        _ready(b, stream=True)
        ch = b.k.isp.channels[0]
        second = b.k.open(chan(0), abi.FRAMECHAN_OPEN_FLAGS)  # no EBUSY: resets the live queue
        assert ch.state == ChannelState.OPENED
        assert ch.buffers == [] and ch.fmt is None and ch.completions == 0
        # The first fd sees the reset too: nothing to stream off, QBUF has no records.
        expect_errno(errno.EINVAL, b.streamoff, 0)
        expect_errno(errno.EINVAL, b.qbuf, 0, 0)
        b.k.close(second)


def test_close_while_streaming_streams_off_and_frees() -> None:
    with board() as b:
        _ready(b, stream=True)
        ch = b.k.isp.channels[0]
        b.k.close(b.chans.pop(0))
        assert ch.state == ChannelState.ACTIVATED
        assert ch.buffers == [] and not ch.queued


# -- probes and unknown commands ---------------------------------------------------------------
def test_472_layout_numbers_are_enotty_on_the_540_build() -> None:
    with board() as b:
        fd = _opened(b)
        expect_errno(errno.ENOTTY, b.k.ioctl, fd, abi.VIDIOC_GET_FRAME_FORMAT_472, bytearray(0x60))
        expect_errno(errno.ENOTTY, b.k.ioctl, fd, abi.VIDIOC_SET_FRAME_FORMAT_472, bytearray(0x60))
        b.k.ioctl(fd, abi.VIDIOC_GET_FRAME_FORMAT, bytearray(0x70))  # the 540 probe answers


def test_unknown_command_is_enotty() -> None:
    with board() as b:
        fd = _opened(b)
        expect_errno(errno.ENOTTY, b.k.ioctl, fd, 0xC00456FF, bytearray(4))


def test_null_or_short_argument_is_einval() -> None:
    with board() as b:
        fd = _opened(b)
        for cmd, size in [
            (abi.VIDIOC_SET_FRAME_FORMAT, 0x70),
            (abi.VIDIOC_REQBUFS, 0x14),
            (abi.VIDIOC_QBUF, 0x44),
            (abi.VIDIOC_DQBUF, 0x44),
            (abi.VIDIOC_STREAMOFF, 4),
            (abi.VIDIOC_DEFAULT_CMD_LISTEN_BUF, 4),
        ]:
            expect_errno(errno.EINVAL, b.k.ioctl, fd, cmd, bytearray(size - 1))
            expect_errno(errno.EINVAL, b.k.ioctl, fd, cmd, None)


# -- SET_FMT / GET_FMT (§2.2) ------------------------------------------------------------------
def test_set_fmt_fills_sizes_rewrites_field_and_copies_back() -> None:
    with board() as b:
        fd = _opened(b)
        arg = fmt_bytes(1920, 1080)
        b.k.ioctl(fd, abi.VIDIOC_SET_FRAME_FORMAT, arg)
        f = abi.FrameImageFormat.from_buffer_copy(bytes(arg))
        assert f.pix.field == abi.V4L2_FIELD_INTERLACED
        assert f.pix.bytesperline == 2880  # 1.5 W, not a stride
        assert f.pix.sizeimage == abi.nv12_sizeimage(1920, 1080) == 2880 * 1088
        assert f.rate_mask == 1 and f.pix.colorspace == 8
        got = bytearray(0x70)
        b.k.ioctl(fd, abi.VIDIOC_GET_FRAME_FORMAT, got)
        assert bytes(got) == bytes(arg)


def test_set_fmt_validates_type_field_colorspace() -> None:
    with board() as b:
        fd = _opened(b)
        for bad in (
            fmt_bytes(640, 360, type_=2),
            fmt_bytes(640, 360, field_=1),
            fmt_bytes(640, 360, colorspace=7),
        ):
            expect_errno(errno.EINVAL, b.k.ioctl, fd, abi.VIDIOC_SET_FRAME_FORMAT, bad)
        ok = fmt_bytes(640, 360, field_=4)
        b.k.ioctl(fd, abi.VIDIOC_SET_FRAME_FORMAT, ok)


def test_get_fmt_ignores_input_and_reports_fixed_fields() -> None:
    with board() as b:
        fd = _opened(b)
        junk = bytearray(b"\xff" * 0x70)
        b.k.ioctl(fd, abi.VIDIOC_GET_FRAME_FORMAT, junk)
        f = abi.FrameImageFormat.from_buffer_copy(bytes(junk))
        assert (f.type, f.pix.field, f.pix.colorspace, f.pix.width) == (1, 4, 8, 0)


# -- REQBUFS ---------------------------------------------------------------------------------
def test_reqbufs_rules() -> None:
    with board() as b:
        fd = _opened(b)
        b.set_fmt(0, 640, 360)
        expect_errno(errno.EINVAL, b.k.ioctl, fd, abi.VIDIOC_REQBUFS, reqbufs_bytes(2, memory=1))
        arg = reqbufs_bytes(100)
        b.k.ioctl(fd, abi.VIDIOC_REQBUFS, arg)
        assert abi.int_of(arg) == abi.MAX_FRAME_BUFFERS  # clamped, copied back
        assert b.k.isp.channels[0].sizeimage == abi.nv12_sizeimage(640, 360)  # snapshot
        zero = reqbufs_bytes(0)
        zero[4:8] = b"\xaa\xbb\xcc\xdd"
        before = bytes(zero)
        b.k.ioctl(fd, abi.VIDIOC_REQBUFS, zero)
        assert bytes(zero) == before  # count 0 frees and is not copied back
        assert b.k.isp.channels[0].buffers == []


def test_reqbufs_is_ebusy_while_streaming() -> None:
    with board() as b:
        _ready(b, stream=True)
        expect_errno(errno.EBUSY, b.reqbufs, 0, 2)


def test_reqbufs_snapshot_means_set_fmt_must_come_first() -> None:
    with board() as b:
        b.open_isp()
        b.open_chan(0)
        assert b.reqbufs(0, 1) == 1  # no format yet: the snapshot says sizeimage 0
        b.set_fmt(0, 640, 360)
        phys = b.alloc(b.sizeimage[0])
        err = expect_errno(
            errno.EINVAL, b.fc, 0, abi.VIDIOC_QBUF, buf_bytes(0, phys, b.sizeimage[0])
        )
        assert "sizeimage = 0" in str(err)


# -- QUERYBUF --------------------------------------------------------------------------------
def test_querybuf_echoes_m_and_length() -> None:
    with board() as b:
        _ready(b, count=2)
        expect_errno(errno.EINVAL, b.fc, 0, abi.VIDIOC_QUERYBUF, buf_bytes(0, type_=2))
        expect_errno(errno.EINVAL, b.fc, 0, abi.VIDIOC_QUERYBUF, buf_bytes(2))
        arg = buf_bytes(1, phys=0x1234, length=77)
        out = parse_buf(b.fc(0, abi.VIDIOC_QUERYBUF, arg))
        assert out.index == 1 and out.flags & abi.V4L2_BUF_FLAG_QUEUED
        assert (out.userptr, out.length, out.sequence, out.bytesused) == (0x1234, 77, 0, 0)


# -- QBUF ------------------------------------------------------------------------------------
def test_qbuf_checks_in_driver_order() -> None:
    with board() as b:
        _ready(b, count=2)
        size = b.sizeimage[0]
        phys = b.phys[0][0]
        b.fc(0, abi.VIDIOC_REQBUFS, reqbufs_bytes(2))  # fresh records, all DEQUEUED
        # Each argument breaks one rule and all later ones: the first must win.
        cases = [
            (buf_bytes(5, phys, size + 1, type_=2, memory=1), "type"),
            (buf_bytes(5, phys, size + 1, memory=1), "index"),
            (buf_bytes(0, phys, size + 1, memory=1), "userptr"),
            (buf_bytes(0, phys, size + 1), "invalid memory size"),
        ]
        for arg, word in cases:
            err = expect_errno(errno.EINVAL, b.fc, 0, abi.VIDIOC_QBUF, arg)
            assert word in str(err), (word, err)
        out = parse_buf(b.fc(0, abi.VIDIOC_QBUF, buf_bytes(0, phys, size)))
        assert out.flags == abi.V4L2_BUF_FLAG_QUEUED
        err = expect_errno(errno.EINVAL, b.fc, 0, abi.VIDIOC_QBUF, buf_bytes(0, phys, size))
        assert "already in use" in str(err)


def test_qbuf_outside_the_arena_is_efault_and_addresses_must_differ() -> None:
    with board() as b:
        _ready(b, count=2)
        b.fc(0, abi.VIDIOC_REQBUFS, reqbufs_bytes(2))
        size = b.sizeimage[0]
        err = expect_errno(errno.EFAULT, b.fc, 0, abi.VIDIOC_QBUF, buf_bytes(0, 0x1000, size))
        assert "arena" in str(err)
        end = b.k.arena.end
        expect_errno(errno.EFAULT, b.fc, 0, abi.VIDIOC_QBUF, buf_bytes(0, end - size + 1, size))
        b.fc(0, abi.VIDIOC_QBUF, buf_bytes(0, b.phys[0][0], size))
        err = expect_errno(errno.EINVAL, b.fc, 0, abi.VIDIOC_QBUF, buf_bytes(1, b.phys[0][0], size))
        assert "distinct" in str(err)


# -- DQBUF -----------------------------------------------------------------------------------
def test_dqbuf_not_streaming_is_einval() -> None:
    with board() as b:
        _ready(b)
        err = expect_errno(errno.EINVAL, b.dqbuf, 0)
        assert "Streaming off" in str(err)
        expect_errno(errno.EINVAL, b.fc, 0, abi.VIDIOC_DQBUF, buf_bytes(type_=2))


def test_dqbuf_returns_callers_m_and_length_with_zero_sequence() -> None:
    with board() as b:
        _ready(b, stream=True)
        arg = buf_bytes(9, phys=0xDEAD000, length=123)
        arg[0x2C:0x30] = (77).to_bytes(4, "little")  # sequence in: must come back 0
        out = parse_buf(b.fc(0, abi.VIDIOC_DQBUF, arg))
        assert out.index in (0, 1)
        assert out.flags == abi.V4L2_BUF_FLAG_DONE
        assert (out.userptr, out.length) == (0xDEAD000, 123)
        assert (out.sequence, out.bytesused) == (0, 0)
        now_us = time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW) // 1000
        stamp = out.tv_sec * 1_000_000 + out.tv_usec
        assert 0 < stamp <= now_us + 10_000_000  # MONOTONIC_RAW domain (virtual: ahead a bit)


def test_dqbuf_blocks_until_streamoff_which_wakes_it_with_einval() -> None:
    with board() as b:
        _ready(b, count=1, stream=True)
        b.dqbuf(0)  # the only buffer is now ours: the next DQBUF must wait
        t, out = in_thread(lambda: b.dqbuf(0))
        time.sleep(0.1)
        assert t.is_alive(), "DQBUF returned without a buffer"
        b.k.ioctl(b.chans[0], abi.VIDIOC_DEFAULT_CMD_SET_BANKS, abi.int_arg(1))  # not blocked
        b.streamoff(0)
        t.join(5)
        assert not t.is_alive()
        assert isinstance(out.get("error"), OSError) and out["error"].errno == errno.EINVAL


# -- STREAMON / STREAMOFF --------------------------------------------------------------------
def test_streamon_rules() -> None:
    with board() as b:
        _ready(b)
        expect_errno(errno.EINVAL, b.fc, 0, abi.VIDIOC_STREAMON, abi.int_arg(2))
        b.streamon(0)
        assert b.k.isp.channels[0].state == ChannelState.STREAMING
        err = expect_errno(errno.EPERM, b.streamon, 0)  # state 4, not 3
        assert "state" in str(err)
        b.streamoff(0)
        other = b.k.open(chan(0), 0)  # resets the channel (state 3) ...
        b.k.close(other)  # ... and its close leaves state 2 for every fd
        assert b.k.isp.channels[0].state == ChannelState.ACTIVATED
        expect_errno(errno.EPERM, b.streamon, 0)


def test_streamon_prepares_the_channel_picture_before_it_streams() -> None:
    """The sensor builds the channel's picture at STREAMON in the caller's thread (~0.2 s at
    1080p), so the engine's first frame is not late; a sensor that fails to prepare does not
    fail STREAMON (its frames fail instead)."""
    with board(clock="realtime") as b:
        _ready(b)
        sensor = b.k.isp.sensor
        assert sensor is not None
        seen: list[tuple[int, int, ChannelState]] = []
        original = sensor.prepare

        def spy(geometry: ChannelGeometry, controls: IspControls) -> None:
            seen.append((geometry.out_width, geometry.out_height, b.k.isp.channels[0].state))
            original(geometry, controls)
            raise ValueError("a geometry this sensor cannot prepare")

        sensor.prepare = spy  # type: ignore[method-assign]
        b.streamon(0)
        assert seen == [(640, 360, ChannelState.OPENED)]  # before the engine may claim
        assert b.k.isp.channels[0].state == ChannelState.STREAMING
        b.dqbuf(0)  # and the frames come


def test_sensor_streamon_renders_the_shared_still_picture() -> None:
    """The sensor's still picture (0.1 s at 1080p, shared by every channel) is built when the
    sensor starts, so a channel's STREAMON only resamples it."""
    with board(clock="realtime") as b:
        b.open_isp()
        b.add_sensor()
        sensor = b.k.isp.sensor
        assert sensor is not None
        calls: list[bool] = []
        sensor.warm_up = lambda: calls.append(b.k.isp.sensor_streaming)  # type: ignore[method-assign]
        b.start_sensor()
        assert calls == [False]  # before the sensor counts as streaming
        assert b.k.isp.sensor_streaming


def test_streamon_under_the_virtual_clock_prepares_nothing() -> None:
    """Virtual time: nothing is late, and preparing would delay the channel past the start gate
    that gives channels enabled together the same first frame (runs must stay identical)."""
    with board() as b:
        _ready(b)
        sensor = b.k.isp.sensor
        assert sensor is not None
        calls: list[object] = []
        sensor.prepare = lambda *args: calls.append(args)  # type: ignore[method-assign]
        b.streamon(0)
        b.dqbuf(0)
        assert calls == []


def test_streamoff_rules_dequeue_everything() -> None:
    with board() as b:
        _ready(b, count=3, stream=True)
        expect_errno(errno.EINVAL, b.fc, 0, abi.VIDIOC_STREAMOFF, abi.int_arg(0))
        b.streamoff(0)
        ch = b.k.isp.channels[0]
        assert ch.state == ChannelState.OPENED
        assert len(ch.buffers) == 3  # records kept
        for i in range(3):
            out = parse_buf(b.fc(0, abi.VIDIOC_QUERYBUF, buf_bytes(i)))
            assert out.flags & (abi.V4L2_BUF_FLAG_QUEUED | abi.V4L2_BUF_FLAG_DONE) == 0
        expect_errno(errno.EINVAL, b.streamoff, 0)
        for i in range(3):  # QBUF again before the next STREAMON
            b.qbuf(0, i)
        b.streamon(0)
        b.dqbuf(0)


# -- SET_BANKS / LISTEN ------------------------------------------------------------------------
def test_set_banks_reads_an_int_and_does_nothing() -> None:
    with board() as b:
        fd = _opened(b)
        assert b.k.ioctl(fd, abi.VIDIOC_DEFAULT_CMD_SET_BANKS, abi.int_arg(3)) == 0
        assert b.k.isp.channels[0].buffers == []


def test_listen_counts_finished_frames_and_blocks_without_streaming_check() -> None:
    with board() as b:
        _ready(b, count=3, stream=True)
        ch = b.k.isp.channels[0]
        deadline = time.monotonic() + 5
        while ch.completions < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        arg = abi.int_arg(0)
        b.fc(0, abi.VIDIOC_DEFAULT_CMD_LISTEN_BUF, arg)
        assert abi.int_of(arg) == 3  # done + 1 before the decrement: frames ready
        b.fc(0, abi.VIDIOC_DEFAULT_CMD_LISTEN_BUF, arg)
        assert abi.int_of(arg) == 2
        b.fc(0, abi.VIDIOC_DEFAULT_CMD_LISTEN_BUF, arg)
        b.streamoff(0)
        # Completion empty and streaming off: LISTEN still waits (gotcha 7)...
        t, out = in_thread(lambda: b.fc(0, abi.VIDIOC_DEFAULT_CMD_LISTEN_BUF, abi.int_arg(0)))
        time.sleep(0.1)
        assert t.is_alive()
        # ...until the simulator shuts down, so tests cannot hang on it.
        b.k.shutdown()
        t.join(5)
        assert not t.is_alive() and out["error"].errno == errno.EINTR
