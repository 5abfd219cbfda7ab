"""The encoder sample ports: every output decodes with PyAV, with the frame counts, sizes and
codecs the C samples produce, and the simulated sensor's frame numbers in order."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from imp.samples import encoder_common
from tests.test_enc_helpers import assert_marks_in_order, decode, marks


@pytest.fixture(autouse=True)
def _virtual_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMP_SIM_CLOCK", "virtual")
    # The samples count a PollingStream timeout as one of their 200 frames; on a loaded 2-core
    # machine a 1 s poll can expire while x265 starts up, which would shorten the files.
    monkeypatch.setattr(encoder_common, "POLL_TIMEOUT_MS", 20_000)


def _check_video(path: Path, fmt: str, size: tuple[int, int], count: int | None) -> list[int]:
    frames = decode(path.read_bytes(), fmt)
    if count is not None:
        assert len(frames) == count, f"{path.name}: {len(frames)} frames"
    else:
        assert frames, f"{path.name}: no frame"
    assert {(f.width, f.height) for f in frames} == {size}, path.name
    m = marks(frames)
    assert_marks_in_order(m)
    return m


def _check_jpeg(path: Path, size: tuple[int, int]) -> None:
    (frame,) = decode(path.read_bytes(), "mjpeg")
    assert (frame.width, frame.height) == size
    marks([frame])  # a readable frame mark: a real sensor picture


def _check_streams(out: Path) -> None:
    _check_video(out / "stream-0.h265", "hevc", (1920, 1080), 200)
    _check_video(out / "stream-3.h265", "hevc", (640, 360), 200)


@pytest.mark.parametrize("by_fd", [False, True], ids=["threads", "by-fd"])
def test_encoder_video(tmp_path: Path, by_fd: bool) -> None:
    from imp.samples import encoder_video

    files = encoder_video.run(str(tmp_path), by_fd=by_fd)
    assert [Path(f).name for f in files] == ["stream-0.h265", "stream-3.h265"]
    _check_streams(tmp_path)


def test_encoder_jpeg_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "IMP_PLATFORM": "sim", "IMP_SIM_CLOCK": "virtual"}
    done = subprocess.run(
        [sys.executable, "-m", "imp.samples.encoder_jpeg", "--out", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap-0.jpg", "snap-3.jpg"]
    _check_jpeg(tmp_path / "snap-0.jpg", (1920, 1080))
    _check_jpeg(tmp_path / "snap-3.jpg", (640, 360))


def test_encoder_h264_jpeg(tmp_path: Path) -> None:
    from imp.samples import encoder_h264_jpeg

    files = encoder_h264_jpeg.run(str(tmp_path))
    assert [Path(f).name for f in files] == [
        "snap-0.jpg",
        "snap-3.jpg",
        "stream-0.h265",
        "stream-3.h265",
    ]
    _check_streams(tmp_path)
    _check_jpeg(tmp_path / "snap-0.jpg", (1920, 1080))
    _check_jpeg(tmp_path / "snap-3.jpg", (640, 360))


def test_isp_flip(tmp_path: Path) -> None:
    from imp.samples import isp_flip

    isp_flip.run(str(tmp_path))
    _check_streams(tmp_path)


def test_setfps(tmp_path: Path) -> None:
    from imp.samples import setfps

    setfps.run(str(tmp_path))
    _check_streams(tmp_path)


def test_change_resolution_accepts_gc2053_in_the_simulator(tmp_path: Path) -> None:
    from imp.samples import change_resolution
    from imp.samples.common import SampleError

    with pytest.raises(SampleError, match="unknown sensor"):
        change_resolution.run("imx999", str(tmp_path))
    files = [Path(f) for f in change_resolution.run("gc2053", str(tmp_path), seconds=1.2)]
    assert len(files) == 4 and all(f.name.endswith(".h264") for f in files)
    assert [f.name.split("-")[0] for f in files] == ["chn0", "chn1", "chn0", "chn1"]
    assert files[0].name.split("-")[-1] != files[2].name.split("-")[-1]  # time-stamped names
    # chn0 is HEVC despite the .h264 name (as in the C sample); chn1 H.264 640x480 throughout.
    first = _check_video(files[0], "hevc", (1920, 1080), None)
    _check_video(files[1], "h264", (640, 480), None)
    second = _check_video(files[2], "hevc", (1280, 720), None)
    _check_video(files[3], "h264", (640, 480), None)
    assert second[0] > first[-1]
