"""The FrameSource sample ports, run as a user would, outputs checked pixel by pixel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kernel_stubs import read_frame_mark
from kernel_stubs.sensor import ChannelGeometry, IspControls, make_sensor


def _planes(path: Path, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Y and the UV rows present in a dumped T31 frame (UV starts at W*align16(H))."""
    data = np.frombuffer(path.read_bytes(), dtype=np.uint8)
    y = data[: w * h].reshape(h, w)
    uv_start = w * ((h + 15) & ~15)
    rows = (len(data) - uv_start) // w
    uv = data[uv_start : uv_start + rows * w].reshape(rows, w)
    return y, uv


def test_framesource_sample_writes_the_same_sensor_frame_for_both_channels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMP_SIM_CLOCK", "virtual")
    from imp.samples import framesource

    files = framesource.run(str(tmp_path))
    big, small = tmp_path / "frame1920x1080.nv12", tmp_path / "frame640x360.nv12"
    assert sorted(files) == sorted([str(big), str(small)])
    assert big.stat().st_size == 3110400
    assert small.stat().st_size == 345600

    y_big, uv_big = _planes(big, 1920, 1080)
    y_small, _ = _planes(small, 640, 360)
    n_big, n_small = read_frame_mark(y_big), read_frame_mark(y_small)
    print(f"sensor frame in frame1920x1080.nv12: {n_big}, in frame640x360.nv12: {n_small}")
    assert n_big == n_small
    assert n_big >= 100  # frame #100 of the run, counted from the sensor start

    # Channel 0 is the sensor picture itself (crop = whole sensor, no scaler): pixel-exact.
    sensor = make_sensor("synthetic", (1920, 1080))
    exp_y, exp_uv = sensor.render(
        n_big, ChannelGeometry(1920, 1080, crop=(0, 0, 1920, 1080)), IspControls()
    )
    assert np.array_equal(y_big, exp_y)
    assert np.array_equal(uv_big, exp_uv[: uv_big.shape[0]])
    # Channel 3 is the same frame scaled: close to a box-downscale of the 1080p picture.
    down = y_big.reshape(360, 3, 640, 3).mean(axis=(1, 3))
    band = 640 // 16  # leave out the mark band at the top
    diff = np.abs(down[band:] - y_small[band:].astype(np.float64)).mean()
    print(f"mean |640x360 - downscaled 1080p| = {diff:.2f}")
    assert diff < 6.0


def test_snap_yuv_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMP_SIM_CLOCK", "virtual")
    from imp.samples import snap_yuv

    path = Path(snap_yuv.run(str(tmp_path)))
    assert path.name == "snap.yuv"
    assert path.stat().st_size == 3110400
    y, _ = _planes(path, 1920, 1080)
    assert read_frame_mark(y) >= 50


def test_framesource_sample_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IMP_SIM_CLOCK", "virtual")
    from imp.samples import framesource

    assert framesource.main(["--out", str(tmp_path), "--frames", "20"]) == 0
    out = capsys.readouterr().out
    assert "frame1920x1080.nv12 (3110400 bytes)" in out
    assert "frame640x360.nv12 (345600 bytes)" in out
