"""The v4l2loopback publisher against the fake V4L2 kernel: format, pixel layout, write errors,
a device that goes away and comes back, and the imp-loopback command line."""

from __future__ import annotations

import time

import numpy as np
import pytest

from imp.loopback import main
from imp.v4l2 import abi
from imp.v4l2.device import V4L2Error
from imp.v4l2.publish import LoopbackWriter
from kernel_stubs.sensor.v4l2_fake import FakeCapture, FakeOutput, FakeV4L2

W, H = 160, 90
OUT = "/dev/video11"


def picture(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (
        rng.integers(16, 236, (H, W), dtype=np.uint8),
        rng.integers(16, 241, (H // 2, W), dtype=np.uint8),
    )


@pytest.mark.parametrize("fmt", ["yuyv", "i420", "nv12"])
def test_frames_are_written_in_the_chosen_layout(fmt: str) -> None:
    fake = FakeV4L2()
    out = FakeOutput()
    fake.add(OUT, out)
    y, uv = picture(1)
    with LoopbackWriter(OUT, W, H, fmt, backend=fake) as writer:
        assert writer.write(y, uv)
    data = np.frombuffer(out.frames[0], dtype=np.uint8)
    if fmt == "yuyv":
        packed = data.reshape(H, W // 2, 4)
        np.testing.assert_array_equal(packed[:, :, 0], y[:, 0::2])
        np.testing.assert_array_equal(packed[:, :, 2], y[:, 1::2])
        np.testing.assert_array_equal(packed[0::2, :, 1], uv[:, 0::2])  # Cb of each row pair
        np.testing.assert_array_equal(packed[1::2, :, 3], uv[:, 1::2])  # Cr
    elif fmt == "i420":
        np.testing.assert_array_equal(data[: W * H].reshape(H, W), y)
        u = data[W * H : W * H * 5 // 4].reshape(H // 2, W // 2)
        np.testing.assert_array_equal(u, uv[:, 0::2])
    else:
        np.testing.assert_array_equal(data, np.concatenate([y, uv]).ravel())


def test_not_an_output_device_is_refused_with_the_fix() -> None:
    fake = FakeV4L2()
    fake.add(OUT, FakeCapture(formats=[abi.PIX_NV12], source=lambda *a: b""))
    with pytest.raises(V4L2Error, match=r"not a video output device.*modprobe v4l2loopback"):
        LoopbackWriter(OUT, W, H, backend=fake)
    assert fake.open_count() == 0


def test_a_vanished_device_drops_frames_then_publishing_resumes() -> None:
    fake = FakeV4L2()
    out = FakeOutput()
    fake.add(OUT, out)
    y, uv = picture(2)
    with LoopbackWriter(OUT, W, H, backend=fake, retry=0.05) as writer:
        assert writer.write(y, uv)
        fake.unplug(OUT)
        assert not writer.write(y, uv)  # ENODEV: counted, not raised
        assert not writer.write(y, uv)  # still gone (or within the retry pause)
        fake.replug(OUT)
        time.sleep(0.1)
        assert writer.write(y, uv)
        stats = writer.stats
    assert (stats.written, stats.reopened) == (2, 1) and stats.errors >= 1
    assert "gone" in (stats.last_error or "") or "no such device" in (stats.last_error or "")
    assert len(out.frames) == 2


def test_wrong_picture_size_is_a_caller_error() -> None:
    fake = FakeV4L2()
    fake.add(OUT, FakeOutput())
    with (
        LoopbackWriter(OUT, W, H, backend=fake) as writer,
        pytest.raises(ValueError, match="160x90"),
    ):
        writer.write(np.zeros((10, 10), np.uint8), np.zeros((5, 10), np.uint8))


def test_command_line_reports_a_missing_device(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["/dev/video-imp-absent", "--frames", "1"]) == 1
    err = capsys.readouterr().err
    assert "/dev/video-imp-absent" in err and "v4l2loopback" in err
    with pytest.raises(SystemExit):
        main(["/dev/video11", "--size", "big"])
