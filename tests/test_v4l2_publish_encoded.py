"""Publishing the decoded H.264 output of an encoder channel, clock OSD burnt in, to a
(fake) v4l2loopback device: every picture arrives, in order, with its frame mark, the clock
drawn, at the channel's pace."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import imp
from imp.v4l2 import abi
from imp.v4l2.publish import LoopbackWriter
from imp.v4l2.publish_encoded import publish_encoder
from kernel_stubs.sensor import read_frame_mark
from kernel_stubs.sensor.v4l2 import set_default_backend
from kernel_stubs.sensor.v4l2_fake import FakeCapture, FakeOutput, FakeV4L2

W, H = 640, 360
DEV, OUT = "/dev/video5", "/dev/video6"
GREY = 90


def flat(seq: int, fourcc: int, w: int, h: int, bpl: int) -> bytes:
    """A flat grey picture: anything else in the output is the mark, the clock or codec noise."""
    assert fourcc == abi.PIX_NV12
    return bytes([GREY]) * (w * h) + bytes([128]) * (w * h // 2)


@pytest.fixture
def fake() -> Iterator[FakeV4L2]:
    backend = FakeV4L2()
    backend.add(DEV, FakeCapture(formats=[abi.PIX_NV12], source=flat, interval=0.04))
    set_default_backend(backend)
    yield backend
    set_default_backend(None)


def lumas(out: FakeOutput) -> list[np.ndarray]:
    return [
        np.ascontiguousarray(np.frombuffer(d, dtype=np.uint8).reshape(H, W, 2)[:, :, 0])
        for d in out.frames
    ]


def test_decoded_encoder_output_with_clock_reaches_the_loopback_device(fake: FakeV4L2) -> None:
    out = FakeOutput()
    fake.add(OUT, out)
    imp.kernel.sim_overrides(clock="virtual", sensor=f"v4l2:{DEV}?pace=fifo", sensor_size=(W, H))
    with LoopbackWriter(OUT, W, H, "yuyv", backend=fake) as writer:
        stats = publish_encoder(writer, fps=25, limit=20)
    assert stats.errors == 0 and stats.written == len(out.frames) == 20
    assert (out.fmt.width, out.fmt.height, abi.fourcc_name(out.fmt.pixelformat)) == (W, H, "YUYV")
    pictures = lumas(out)
    marks = [read_frame_mark(y) for y in pictures]
    assert marks == sorted(set(marks)), marks  # every encoded picture once, in order
    for y in pictures:
        clock = y[48:72, 16:200].astype(int)  # where publish_encoder draws the clock
        plain = y[120:170, 16:200].astype(int)  # flat grey, no overlay
        assert np.count_nonzero(abs(clock - GREY) > 60) > 100  # the clock's glyphs are there
        assert np.count_nonzero(abs(plain - GREY) > 20) == 0  # and nothing elsewhere
    # Paced by capture time (the device makes a frame every 40 ms): never faster than that.
    span = out.times[-1] - out.times[0]
    assert span >= 0.9 * (marks[-1] - marks[0]) * 0.04


def test_without_clock_the_picture_is_the_source(fake: FakeV4L2) -> None:
    out = FakeOutput()
    fake.add(OUT, out)
    imp.kernel.sim_overrides(clock="virtual", sensor=f"v4l2:{DEV}?pace=fifo", sensor_size=(W, H))
    with LoopbackWriter(OUT, W, H, "i420", backend=fake) as writer:
        publish_encoder(writer, fps=25, limit=6, clock=False, pace=False)
    assert len(out.frames) == 6
    for data in out.frames:
        y = np.frombuffer(data, dtype=np.uint8)[: W * H].reshape(H, W)
        assert np.count_nonzero(abs(y[48:72, 16:200].astype(int) - GREY) > 20) == 0


def test_command_line_encoded(fake: FakeV4L2, monkeypatch: pytest.MonkeyPatch) -> None:
    import functools

    import imp.loopback

    out = FakeOutput()
    fake.add(OUT, out)
    monkeypatch.setattr(
        imp.loopback, "LoopbackWriter", functools.partial(LoopbackWriter, backend=fake)
    )
    imp.kernel.sim_overrides(clock="virtual", sensor=f"v4l2:{DEV}?pace=fifo", sensor_size=(W, H))
    argv = [OUT, "--encoded", "--frames", "5", "--size", f"{W}x{H}", "--bitrate", "1000"]
    assert imp.loopback.main(argv) == 0
    pictures = lumas(out)
    assert len(pictures) == 5
    marks = [read_frame_mark(y) for y in pictures]
    assert marks == sorted(set(marks))
    assert np.count_nonzero(abs(pictures[-1][48:72, 16:200].astype(int) - GREY) > 60) > 100
