"""Units of the encoder: stream buffer layouts, frame-rate gate, attribute mapping."""

from __future__ import annotations

import ctypes
from typing import Any

import pytest

from imp.codec import CodecType, RcMode
from imp.core.alloc import Block
from imp.encoder.attr import (
    PROFILE_AVC_BASELINE,
    PROFILE_HEVC_MAIN,
    PROFILE_JPEG,
    default_attr,
    default_stream_buffer_size,
)
from imp.encoder.pacing import BitrateMeter, FrameRateGate, PictureRecord
from imp.encoder.ring import StreamRing
from imp.errors import InvalidArgument, InvalidState


class FakeAllocator:
    """Just enough of RmemAllocator for a StreamRing: one bytearray per block."""

    def __init__(self) -> None:
        self.freed: list[Block] = []
        self._keep: list[Any] = []

    def alloc(self, size: int, name: str = "") -> Block:
        buf = (ctypes.c_char * size)()
        self._keep.append(buf)
        return Block(0x1000, size, ctypes.addressof(buf), memoryview(buf).cast("B"), name)

    def free(self, block: Block) -> None:
        self.freed.append(block)


def _ring(size: int, wrap: bool = False) -> StreamRing:
    return StreamRing(FakeAllocator(), size, "test", wrap=wrap)  # type: ignore[arg-type]


def test_contiguous_ring_never_splits_a_picture_and_frees_in_order() -> None:
    ring = _ring(100)
    a, b = ring.allocate(40), ring.allocate(40)
    assert (a, b) == ((0, 40), (40, 40))
    assert ring.allocate(30) is None  # 20 left at the end, nothing before the oldest
    ring.release_oldest(a)
    c = ring.allocate(30)  # does not fit at the end: starts over at 0
    assert c == (0, 30)
    assert ring.allocate(15) is None  # [30, 40) is free but too small; the end is taken
    with pytest.raises(InvalidState):
        ring.release_oldest(c)  # b is older
    ring.release_oldest(b)
    ring.write(c, 0, b"x" * 30)
    assert ring.read(c, 0, 30) == b"x" * 30
    ring.release_oldest(c)
    assert ring.used == 0 and ring.allocate(100) == (0, 100)


def test_wrapping_ring_continues_at_the_base() -> None:
    ring = _ring(100, wrap=True)
    a = ring.allocate(70)
    ring.release_oldest(a)
    b = ring.allocate(60)  # 70..130: wraps
    assert b == (70, 60)
    ring.write(b, 0, bytes(range(60)))
    assert ring.read(b, 0, 60) == bytes(range(60))
    assert ring.position(b, 30) == 0  # byte 30 of the picture sits at the base
    assert ring.allocate(41) is None and ring.allocate(40) == (30, 40)


def test_discard_newest_and_close() -> None:
    alloc = FakeAllocator()
    ring = StreamRing(alloc, 64, "t")  # type: ignore[arg-type]
    a, b = ring.allocate(10), ring.allocate(10)
    with pytest.raises(InvalidState):
        ring.discard_newest(a)
    ring.discard_newest(b)
    assert ring.allocate(20) == (10, 20)
    ring.close()
    ring.close()
    assert len(alloc.freed) == 1
    with pytest.raises(InvalidState):
        ring.allocate(1)
    with pytest.raises(InvalidArgument):
        _ring(0)


@pytest.mark.parametrize(("out_fps", "expected"), [(25, 100), (10, 40), (1, 4), (30, 100)])
def test_frame_rate_gate_by_timestamp(out_fps: int, expected: int) -> None:
    gate = FrameRateGate((out_fps, 1))
    taken = sum(gate.accept(n * 40_000 + (n % 3 - 1) * 900) for n in range(100))  # jitter
    assert taken == expected


def test_frame_rate_gate_follows_a_slower_source() -> None:
    gate = FrameRateGate((25, 1))
    stamps = [n * 40_000 for n in range(25)] + [1_000_000 + n * 50_000 for n in range(20)]
    assert all(gate.accept(t) for t in stamps)  # 20 fps source: every frame still wanted


def test_bitrate_meter() -> None:
    meter = BitrateMeter()
    for n in range(50):
        meter.add(PictureRecord(n * 40_000, 10_000, n % 25 == 0, None))
    assert meter.average_kbps(25, (25, 1)) == pytest.approx(2000)
    assert meter.window_kbps(1_000_000) == pytest.approx(2000)
    assert meter.largest(10) == 10_000 and len(meter.last(5)) == 5


def test_bitrate_meter_ring_wraps_and_keeps_the_newest() -> None:
    meter = BitrateMeter(keep=8)
    for n in range(20):
        meter.add(PictureRecord(n * 40_000, 1000 + n, n % 5 == 0, None if n % 2 else n / 2))
    assert len(meter) == 8
    newest = meter.last(100)
    assert [r.size for r in newest] == list(range(1012, 1020))  # oldest first, only the last 8
    assert newest[-1] == PictureRecord(19 * 40_000, 1019, False, None)
    assert newest[-2] == PictureRecord(18 * 40_000, 1018, False, 9.0)
    assert newest[3].keyframe is True and meter.largest(3) == 1019
    # Only pictures captured inside the window count: the newest 3 lie within 100 ms.
    assert meter.window_kbps(100_000) == pytest.approx((1017 + 1018 + 1019) * 8 / 0.1 / 1000)
    meter.clear()
    assert len(meter) == 0 and meter.last(3) == [] and meter.average_kbps(5, (25, 1)) == 0.0


def test_bitrate_meter_allocates_nothing_per_picture() -> None:
    """The history is preallocated: a channel running for hours does not grow the heap (a 1 fps
    JPEG channel once took 68 minutes to fill a per-record ring, a slow tail in the soak)."""
    import tracemalloc

    meter = BitrateMeter(keep=4096)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(3000):
            meter.add(PictureRecord(n * 40_000, 5000, False, 30.0))
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 4096, f"the meter grew the heap by {grown} bytes for 3000 pictures"


def test_attr_maps_onto_the_codec_seam() -> None:
    a = default_attr(PROFILE_HEVC_MAIN, 8, 1280, 720, 25, 1, 50, 2, -1, 1000)
    cfg = a.codec_config()
    assert (cfg.codec, cfg.profile, cfg.gop, cfg.fps) == (CodecType.H265, "main", 50, (25, 1))
    assert cfg.rc.mode is RcMode.CAPPED_QUALITY and cfg.rc.target_kbps == 1000
    assert cfg.rc.max_kbps >= 1000 and cfg.rc.max_psnr == 42
    b = default_attr(PROFILE_AVC_BASELINE, 0, 640, 360, 15, 1, 30, 2, 28, 0)
    assert b.codec_config().rc.qp == 28 and b.codec_config().profile == "baseline"
    j = default_attr(PROFILE_JPEG, 0, 640, 360, 1, 1, 0, 0, 40, 0)
    assert j.codec_config().jpeg_quality == 40 and j.codec_config().codec is CodecType.JPEG
    j.validate()
    with pytest.raises(InvalidArgument, match="even"):
        default_attr(PROFILE_JPEG, 0, 641, 360, 1, 1, 0, 0, 40, 0).validate()
    with pytest.raises(InvalidArgument, match="profile"):
        default_attr(7, 0, 640, 360, 1, 1, 0, 0, 40, 0)
    # Two worst-case pictures and at least 4 s at the peak rate.
    assert default_stream_buffer_size(a) >= max(2 * 1280 * 720 * 3 // 8, 4 * 1333 * 125)


def test_switch_interval_is_lowered_while_channels_receive_and_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    from imp.encoder.gil import SwitchInterval

    before = sys.getswitchinterval()
    gil = SwitchInterval()
    gil.acquire()
    gil.acquire()
    assert sys.getswitchinterval() == pytest.approx(0.0005)
    gil.release()
    assert sys.getswitchinterval() == pytest.approx(0.0005)  # one channel still receives
    gil.release()
    gil.release()  # unbalanced: ignored
    assert sys.getswitchinterval() == before
    monkeypatch.setenv("IMP_ENC_GIL_SWITCH_US", "0")  # opt out
    gil.acquire()
    assert sys.getswitchinterval() == before
    gil.release()
