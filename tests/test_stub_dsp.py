"""The fake /dev/dsp against kernel_abi.md §6: one test per rule, plus faults."""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from imp.kernel import abi_audio as A
from imp.kernel.lowmem import LowBuffer
from kernel_stubs import SimConfig, SimKernel


@pytest.fixture
def kernel() -> Iterator[SimKernel]:
    with SimKernel(SimConfig(clock="virtual", mic="tone:1000:-20", echo="off")) as k:
        yield k


@pytest.fixture
def user() -> LowBuffer:
    """User memory below 4 GiB (the stream structs hold 32-bit pointers)."""
    return LowBuffer(1 << 16)


def _open(k: SimKernel, flags: int, rate: int = 16000, channels: int = 1) -> int:
    fd = k.open(A.DSP_PATH, flags)
    k.ioctl(fd, A.SNDCTL_DSP_SPEED, A.int_arg(rate))
    k.ioctl(fd, A.SNDCTL_DSP_CHANNELS, A.int_arg(channels))
    k.ioctl(fd, A.SNDCTL_DSP_SETFMT, A.int_arg(A.AFMT_S16_LE))
    return fd


def _get(k: SimKernel, fd: int, addr: int, size: int, aec: int = 0) -> int:
    arg = bytearray(bytes(A.AiStreamArg(addr, aec, size)))
    assert k.ioctl(fd, A.SNDCTL_EXT_GET_AI_STREAM, arg) == 0
    return int(A.AiStreamArg.from_buffer_copy(bytes(arg)).size)


def _set(k: SimKernel, fd: int, addr: int, size: int) -> int:
    arg = bytearray(bytes(A.AoStreamArg(addr, size)))
    assert k.ioctl(fd, A.SNDCTL_EXT_SET_AO_STREAM, arg) == 0
    return int(A.AoStreamArg.from_buffer_copy(bytes(arg)).size)


def _errno(fn: object, *args: object) -> int:
    with pytest.raises(OSError) as info:
        fn(*args)  # type: ignore[operator]
    return int(info.value.errno or 0)


def test_open_rdwr_is_refused_with_eperm(kernel: SimKernel) -> None:
    assert _errno(kernel.open, A.DSP_PATH, A.O_RDWR) == errno.EPERM


def test_at_most_16_opens_per_direction(kernel: SimKernel) -> None:
    reads = [kernel.open(A.DSP_PATH, A.O_RDONLY) for _ in range(16)]
    assert _errno(kernel.open, A.DSP_PATH, A.O_RDONLY) == errno.EBUSY
    writes = [kernel.open(A.DSP_PATH, A.O_WRONLY) for _ in range(16)]  # the other direction
    kernel.close(reads.pop())
    reads.append(kernel.open(A.DSP_PATH, A.O_RDONLY))
    for fd in reads + writes:
        kernel.close(fd)
    assert kernel.open_fds() == 0


def test_read_write_are_noops_and_poll_is_einval(kernel: SimKernel) -> None:
    fd = kernel.open(A.DSP_PATH, A.O_RDONLY)
    file = kernel._file(fd)
    assert kernel.dsp.read(file, 4096) == 0
    assert kernel.dsp.write(file, b"\0" * 64) == 0
    assert kernel.dsp.poll(file) == -errno.EINVAL


def test_ioctl_numbers_are_the_literal_mips_values() -> None:
    expected = {
        "SNDCTL_DSP_SPEED": 0xC0045002,
        "SNDCTL_DSP_SETFMT": 0xC0045005,
        "SNDCTL_DSP_CHANNELS": 0xC0045006,
        "SNDCTL_DSP_STEREO": 0xC0045003,
        "SNDCTL_DSP_GETFMTS": 0x4004500B,
        "SNDCTL_EXT_SET_REPLAY_VOLUME": 0x4004505A,
        "SNDCTL_EXT_SET_RECORD_VOLUME": 0x4004505B,
        "SNDCTL_EXT_DISABLE_AEC": 0x40045064,
        "SNDCTL_EXT_ENABLE_AEC": 0x40045065,
        "SNDCTL_EXT_ENABLE_STREAM": 0x40045066,
        "SNDCTL_EXT_DISABLE_STREAM": 0x40045067,
        "SNDCTL_EXT_GET_AI_STREAM": 0x400C5068,
        "SNDCTL_EXT_SET_AO_STREAM": 0x40085069,
        "SNDCTL_EXT_FLUSH_STREAM": 0x4004506A,
        "SNDCTL_EXT_SYNC_STREAM": 0x4004506B,
        "SNDCTL_EXT_ENABLE_DMIC_STREAM": 0x40045070,
        "SNDCTL_EXT_DISABLE_DMIC_STREAM": 0x40045071,
    }
    assert expected == A.IOCTL_NUMBERS
    assert len(bytes(A.AiStreamArg())) == 12
    assert len(bytes(A.AoStreamArg())) == 8


def test_unknown_ioctl_is_eperm(kernel: SimKernel) -> None:
    fd = kernel.open(A.DSP_PATH, A.O_RDONLY)
    assert _errno(kernel.ioctl, fd, 0x40045099, A.int_arg(0)) == errno.EPERM


def test_format_queries(kernel: SimKernel) -> None:
    fd = kernel.open(A.DSP_PATH, A.O_WRONLY)
    arg = A.int_arg(A.AFMT_QUERY)
    kernel.ioctl(fd, A.SNDCTL_DSP_SETFMT, arg)
    assert A.arg_int(arg) == A.AFMT_S16_LE
    arg = A.int_arg(0)
    kernel.ioctl(fd, A.SNDCTL_DSP_GETFMTS, arg)
    assert A.arg_int(arg) == A.AFMT_S16_LE
    assert _errno(kernel.ioctl, fd, A.SNDCTL_DSP_CHANNELS, A.int_arg(3)) == errno.EINVAL
    assert _errno(kernel.ioctl, fd, A.SNDCTL_DSP_SPEED, A.int_arg(12345)) == errno.EINVAL


def test_stream_ioctls_before_enable_are_eperm(kernel: SimKernel, user: LowBuffer) -> None:
    ai = _open(kernel, A.O_RDONLY)
    ao = _open(kernel, A.O_WRONLY)
    assert _errno(_get, kernel, ai, user.addr, 1280) == errno.EPERM
    assert _errno(_set, kernel, ao, user.addr, 1280) == errno.EPERM
    assert _errno(kernel.ioctl, ao, A.SNDCTL_EXT_FLUSH_STREAM, A.int_arg(0)) == errno.EPERM


def test_enable_with_other_attributes_is_eperm_while_the_other_runs(kernel: SimKernel) -> None:
    ai = _open(kernel, A.O_RDONLY, rate=16000)
    kernel.ioctl(ai, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0))
    ao = _open(kernel, A.O_WRONLY, rate=8000)
    assert _errno(kernel.ioctl, ao, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0)) == errno.EPERM
    kernel.ioctl(ao, A.SNDCTL_DSP_SPEED, A.int_arg(16000))
    kernel.ioctl(ao, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0))  # same attributes: fine
    kernel.ioctl(ai, A.SNDCTL_EXT_DISABLE_STREAM, A.int_arg(0))
    kernel.ioctl(ao, A.SNDCTL_EXT_DISABLE_STREAM, A.int_arg(0))
    kernel.ioctl(ao, A.SNDCTL_DSP_SPEED, A.int_arg(8000))
    kernel.ioctl(ao, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0))  # nobody else runs now


def test_get_ai_stream_moves_steps_and_rewrites_size(kernel: SimKernel, user: LowBuffer) -> None:
    fd = _open(kernel, A.O_RDONLY)
    kernel.ioctl(fd, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0))
    assert A.transfer_step(16000, 1) == 3840  # floor(4096 / 320) * 320
    assert _get(kernel, fd, user.addr, 1281) == 1280  # whole samples only
    assert _get(kernel, fd, user.addr, 3840 * 3) == 3840 * 3  # three full steps
    samples = np.frombuffer(user.view[: 3840 * 3], dtype="<i2")
    assert np.abs(samples).max() == round(32768 * 10 ** (-20 / 20))


def test_set_ao_stream_in_steps_with_size_rewritten(kernel: SimKernel, user: LowBuffer) -> None:
    fd = _open(kernel, A.O_WRONLY)
    kernel.ioctl(fd, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0))
    assert _set(kernel, fd, user.addr, 10000 + 1) == 10000
    assert kernel.dsp.codec.now() >= 5000


def test_disable_wakes_a_blocked_capture_with_a_partial_size(user: LowBuffer) -> None:
    with SimKernel(SimConfig(clock="realtime", mic="silence")) as k:
        fd = _open(k, A.O_RDONLY)
        k.ioctl(fd, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0))
        result: list[int] = []
        t = threading.Thread(target=lambda: result.append(_get(k, fd, user.addr, 32000 * 10)))
        t.start()
        time.sleep(0.3)
        k.ioctl(fd, A.SNDCTL_EXT_DISABLE_STREAM, A.int_arg(0))
        t.join(10)
        assert not t.is_alive()
        assert result and 0 < result[0] < 320000 and result[0] % 3840 == 0


def test_flush_is_bounded_by_500ms(user: LowBuffer) -> None:
    with SimKernel(SimConfig(clock="realtime", mic="silence")) as k:
        fd = _open(k, A.O_WRONLY)
        k.ioctl(fd, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0))
        _set(k, fd, user.addr, 4160)  # 130 ms: drains within the bound
        k.ioctl(fd, A.SNDCTL_EXT_FLUSH_STREAM, A.int_arg(0))
        assert k.dsp.codec.pending() == 0
        # a queue longer than 500 ms cannot drain in time: ETIMEDOUT
        k.dsp.codec._ao_next = k.dsp.codec.now() + 16000  # 1 s queued (white-box)
        start = time.monotonic()
        assert _errno(k.ioctl, fd, A.SNDCTL_EXT_FLUSH_STREAM, A.int_arg(0)) == errno.ETIMEDOUT
        assert time.monotonic() - start >= 0.45


def test_sync_sleeps_for_the_pending_fragments(user: LowBuffer) -> None:
    with SimKernel(SimConfig(clock="realtime", mic="silence")) as k:
        fd = _open(k, A.O_WRONLY)
        k.ioctl(fd, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0))
        start = time.monotonic()
        k.ioctl(fd, A.SNDCTL_EXT_SYNC_STREAM, A.int_arg(0))
        assert time.monotonic() - start >= 0.009  # (0 pending + 1) * 10 ms
        ai = k.open(A.DSP_PATH, A.O_RDONLY)
        assert _errno(k.ioctl, ai, A.SNDCTL_EXT_SYNC_STREAM, A.int_arg(0)) == errno.EPERM


def test_volume_ranges(kernel: SimKernel) -> None:
    fd = kernel.open(A.DSP_PATH, A.O_RDONLY)
    for cmd in (A.SNDCTL_EXT_SET_RECORD_VOLUME, A.SNDCTL_EXT_SET_REPLAY_VOLUME):
        kernel.ioctl(fd, cmd, A.int_arg(0))
        kernel.ioctl(fd, cmd, A.int_arg(31))
        assert _errno(kernel.ioctl, fd, cmd, A.int_arg(32)) == errno.EINVAL
        assert _errno(kernel.ioctl, fd, cmd, A.int_arg(-1)) == errno.EINVAL


def test_record_volume_is_18db_below_to_28_5_above(kernel: SimKernel, user: LowBuffer) -> None:
    fd = _open(kernel, A.O_RDONLY)
    kernel.ioctl(fd, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0))
    peaks = {}
    for index in (0, 12, 20):
        kernel.ioctl(fd, A.SNDCTL_EXT_SET_RECORD_VOLUME, A.int_arg(index))
        _get(kernel, fd, user.addr, 3200)
        peaks[index] = np.abs(np.frombuffer(user.view[:3200], dtype="<i2")).max()
    assert peaks[12] == 3277
    assert abs(20 * np.log10(peaks[0] / peaks[12]) + 18) < 0.05
    assert abs(20 * np.log10(peaks[20] / peaks[12]) - 12) < 0.05


def test_aec_only_on_a_capture_fd_and_reference_copied(kernel: SimKernel, user: LowBuffer) -> None:
    ao = _open(kernel, A.O_WRONLY)
    assert _errno(kernel.ioctl, ao, A.SNDCTL_EXT_ENABLE_AEC, A.int_arg(0)) == errno.EPERM
    ai = _open(kernel, A.O_RDONLY)
    kernel.ioctl(ai, A.SNDCTL_EXT_ENABLE_AEC, A.int_arg(0))
    kernel.ioctl(ai, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0))
    kernel.ioctl(ao, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0))
    played = (np.arange(8000) % 200 - 100).astype("<i2")
    user.view[32768 : 32768 + 16000] = played.tobytes()
    _set(kernel, ao, user.addr + 32768, 16000)
    marker = np.full(4000, 7, dtype="<i2").tobytes()
    user.view[16384 : 16384 + 8000] = marker
    _get(kernel, ai, user.addr, 8000, aec=user.addr + 16384)
    ref = np.frombuffer(user.view[16384 : 16384 + 8000], dtype="<i2")
    assert np.array_equal(ref, played[:4000])  # exactly what the speaker played then


def test_dmic_stream_gives_four_interleaved_capsules(kernel: SimKernel, user: LowBuffer) -> None:
    ao = kernel.open(A.DSP_PATH, A.O_WRONLY)
    assert _errno(kernel.ioctl, ao, A.SNDCTL_EXT_ENABLE_DMIC_STREAM, A.int_arg(0)) == errno.EPERM
    fd = _open(kernel, A.O_RDONLY)
    kernel.ioctl(fd, A.SNDCTL_EXT_ENABLE_DMIC_STREAM, A.int_arg(0))
    assert _get(kernel, fd, user.addr, 640 * 8) == 640 * 8
    mics = np.frombuffer(user.view[: 640 * 8], dtype="<i2").reshape(640, 4)
    assert all(np.abs(mics[:, i]).max() > 3000 for i in range(4))
    kernel.ioctl(fd, A.SNDCTL_EXT_DISABLE_DMIC_STREAM, A.int_arg(0))


# -- faults ----------------------------------------------------------------------------------
def test_fault_eio_at_a_call(kernel: SimKernel, user: LowBuffer) -> None:
    fd = _open(kernel, A.O_RDONLY)
    kernel.ioctl(fd, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0))
    kernel.faults.inject(A.DSP_PATH, "ioctl", errno.EIO, cmd=A.SNDCTL_EXT_GET_AI_STREAM, after=1)
    assert _get(kernel, fd, user.addr, 1280) == 1280
    assert _errno(_get, kernel, fd, user.addr, 1280) == errno.EIO
    assert _get(kernel, fd, user.addr, 1280) == 1280


def test_fault_stalled_capture_overruns_then_continues(user: LowBuffer) -> None:
    with SimKernel(SimConfig(clock="realtime", mic="tone:500:-20")) as k:
        fd = _open(k, A.O_RDONLY)
        k.ioctl(fd, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0))
        k.faults.stall(A.DSP_PATH, A.SNDCTL_EXT_GET_AI_STREAM, 0.6, after=1)
        _get(k, fd, user.addr, 1280)
        _get(k, fd, user.addr, 1280)  # stalled 600 ms > the 320 ms ring
        stream = k.dsp._files[fd].capture
        assert stream is not None and stream.overruns >= 1
        assert any(e.kind == "stall" for e in k.faults.events)


def test_fault_device_vanishes_mid_stream(user: LowBuffer) -> None:
    with SimKernel(SimConfig(clock="realtime", mic="silence")) as k:
        fd = _open(k, A.O_RDONLY)
        k.ioctl(fd, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0))
        errs: list[int] = []

        def reader() -> None:
            try:
                _get(k, fd, user.addr, 320000)
            except OSError as exc:
                errs.append(exc.errno or 0)

        t = threading.Thread(target=reader)
        t.start()
        time.sleep(0.2)
        k.faults.unplug(A.DSP_PATH)
        t.join(10)
        assert errs == [errno.ENODEV]
        assert _errno(k.open, A.DSP_PATH, A.O_RDONLY) == errno.ENODEV
        assert not k.exists(A.DSP_PATH)
