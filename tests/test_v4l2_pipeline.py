"""The V4L2 sensor inside the simulated T31: FrameSource over a fake V4L2 device, the fault
paths of a missing or unplugged device, and the loopback publisher writing a channel out."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import numpy as np
import pytest

import imp
from imp.errors import ImpError
from imp.v4l2 import abi
from kernel_stubs.sensor import read_frame_mark
from kernel_stubs.sensor.v4l2 import set_default_backend
from kernel_stubs.sensor.v4l2_fake import FakeCapture, FakeOutput, FakeV4L2

W, H = 640, 360
DEV = "/dev/video5"


def seq_of(y: np.ndarray) -> int:
    """The device sequence number modulo 80 drawn by :func:`source` (a bright block)."""
    row = y[H // 2, :].astype(int)
    return int(np.argmax(row > 200)) // 8


def source(seq: int, fourcc: int, w: int, h: int, bpl: int) -> bytes:
    y = np.full((h, w), 90, dtype=np.uint8)
    x = (seq % 80) * 8  # the sequence modulo 80 as a block position (w = 640)
    y[h // 2 - 8 : h // 2 + 8, x : x + 8] = 230
    uv = np.full((h // 2, w), 128, dtype=np.uint8)
    assert fourcc == abi.PIX_NV12
    return y.tobytes() + uv.tobytes()


@pytest.fixture
def fake() -> Iterator[FakeV4L2]:
    backend = FakeV4L2()
    backend.add(DEV, FakeCapture(formats=[abi.PIX_NV12], source=source))
    set_default_backend(backend)
    yield backend
    set_default_backend(None)


def test_framesource_shows_each_device_frame_in_order(fake: FakeV4L2) -> None:
    imp.kernel.sim_overrides(clock="virtual", sensor=f"v4l2:{DEV}?pace=fifo", sensor_size=(W, H))
    with imp.open() as cam:
        main = cam.framesource(0, size=(W, H))
        marks, seqs = [], []
        for frame in main.frames(limit=40):
            marks.append(read_frame_mark(frame.y))
            seqs.append(seq_of(frame.y))
    # Sensor frame n shows device frame n: the pairing never slips, whatever FrameSource drops
    assert marks == sorted(set(marks))
    assert {(s - m) % 80 for s, m in zip(seqs, marks, strict=True)} == {(seqs[0] - marks[0]) % 80}


def test_missing_device_fails_the_camera_with_the_reason(fake: FakeV4L2) -> None:
    imp.kernel.sim_overrides(clock="virtual", sensor="v4l2:/dev/video42", sensor_size=(W, H))
    with pytest.raises(ImpError) as info, imp.open():
        pass
    text = str(info.value)
    assert "sensor" in text.lower()
    assert "/dev/video42" in text or "modprobe" in text or "AddSensor" in text


def test_unplug_gives_error_frames_and_replug_resumes(fake: FakeV4L2) -> None:
    imp.kernel.sim_overrides(
        clock="virtual", sensor=f"v4l2:{DEV}?pace=fifo&retry=0.05", sensor_size=(W, H)
    )
    with imp.open() as cam:
        main = cam.framesource(0, size=(W, H))
        before = [read_frame_mark(f.y) for f in main.frames(limit=5)]
        fake.unplug(DEV)
        t0 = time.monotonic()
        while main.stats.corrupt < 3 and time.monotonic() - t0 < 10:
            time.sleep(0.05)
        assert main.stats.corrupt >= 3  # the ISP returned error frames, FrameSource re-queued
        fake.replug(DEV)
        after = [read_frame_mark(f.y) for f in main.frames(limit=5, timeout=5.0)]
    assert before == sorted(before) and after == sorted(after)
    assert after[0] > before[-1]


def test_publisher_writes_channel_frames_to_a_loopback_device(fake: FakeV4L2) -> None:
    from imp.v4l2.publish import LoopbackWriter, publish_channel

    out = FakeOutput()
    fake.add("/dev/video6", out)
    imp.kernel.sim_overrides(clock="virtual", sensor=f"v4l2:{DEV}?pace=fifo", sensor_size=(W, H))
    with LoopbackWriter("/dev/video6", W, H, "yuyv", backend=fake) as writer:
        stats = publish_channel(writer, size=(W, H), fps=25, limit=12, pace=False)
    assert stats.written == 12 and len(out.frames) == 12
    assert (out.fmt.width, out.fmt.height, abi.fourcc_name(out.fmt.pixelformat)) == (W, H, "YUYV")
    marks = []
    for data in out.frames:
        yuyv = np.frombuffer(data, dtype=np.uint8).reshape(H, W, 2)
        marks.append(read_frame_mark(np.ascontiguousarray(yuyv[:, :, 0])))
        assert seq_of(np.ascontiguousarray(yuyv[:, :, 0])) >= 0
    # in order; under the virtual clock FrameSource's depth FIFO may drop frames the loop missed
    assert marks == sorted(set(marks))


def test_frames_carry_the_device_timestamps_mapped_onto_the_imp_clock() -> None:
    """The driver's stamp of each picture (CLOCK_MONOTONIC, 37 ms apart: unlike any engine
    rate) is the FrameSource frame's timestamp, moved onto the IMP clock, monotonic."""
    period_ns = 37_000_000
    base_ns = time.clock_gettime_ns(time.CLOCK_MONOTONIC) - 10_000_000_000  # 10 s in the past

    def stamp(seq: int) -> int:
        return base_ns + seq * period_ns

    backend = FakeV4L2()
    backend.add(DEV, FakeCapture(formats=[abi.PIX_NV12], source=source, timestamps=stamp))
    set_default_backend(backend)
    try:
        imp.kernel.sim_overrides(
            clock="virtual", sensor=f"v4l2:{DEV}?pace=fifo", sensor_size=(W, H)
        )
        with imp.open() as cam:
            main = cam.framesource(0, size=(W, H))
            got = [(read_frame_mark(f.y), seq_of(f.y), f.timestamp) for f in main.frames(limit=30)]
            imp_now, mono_now = cam.timestamp(), time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    finally:
        set_default_backend(None)
    marks = [m for m, _, _ in got]
    stamps = [t for _, _, t in got]
    assert marks == sorted(set(marks))
    assert all(b > a for a, b in itertools.pairwise(stamps))
    # Device sequence - sensor frame is constant (test above), so stamps step by 37 ms a frame.
    offset = (got[0][1] - marks[0]) % 80
    for (m0, _, t0), (m1, s1, t1) in itertools.pairwise(got):
        assert (s1 - m1) % 80 == offset
        assert abs((t1 - t0) - (m1 - m0) * period_ns // 1000) <= 2
    # Mapped: a device stamp of "now" on CLOCK_MONOTONIC would read as IMP "now" (µs, slack
    # for the instants between the two clock reads above).
    device_seq0 = marks[0] + offset  # first device frame is sequence 0, so no wrap below 80
    expected0 = imp_now - (mono_now - stamp(device_seq0)) // 1000
    assert abs(stamps[0] - expected0) < 5_000
