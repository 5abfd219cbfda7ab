"""The EXTFS sample ports and the decoder sample, run as a user would; outputs checked."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from kernel_stubs.sensor.mark import read_frame_mark

W, H = 640, 360


def _decode(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as c:
        return list(c.decode(video=0))


def _luma_of_rgb(rgb: np.ndarray) -> np.ndarray:
    """BT.601 limited-range luma of an RGB picture (to read the frame mark back)."""
    f = rgb.astype(np.float64)
    return np.clip(16 + 0.2568 * f[..., 0] + 0.5041 * f[..., 1] + 0.0979 * f[..., 2], 0, 255)


def test_extfs_hsv_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMP_SIM_CLOCK", "virtual")
    from imp.samples import extfs_encoder_h264

    files = extfs_encoder_h264.run(str(tmp_path), frames=20)
    names = {Path(f).name: Path(f).stat().st_size for f in files}
    assert names == {
        "snap.hsv": W * H * 4,
        "dsthsv_h.dat": W * H * 2,
        "dsthsv_s.dat": W * H,
        "dsthsv_v.dat": W * H,
        "stream-0.h265": names["stream-0.h265"],
    }
    whole = (tmp_path / "snap.hsv").read_bytes()
    planes = b"".join((tmp_path / f"dsthsv_{p}.dat").read_bytes() for p in "hsv")
    assert whole == planes  # the planes are the frame's, in order
    hue = np.frombuffer(planes, "<u2", W * H)
    assert hue.max() < 360 and len(np.unique(hue)) > 100  # a colourful picture
    # get_video_stream polls 20 times; a poll that times out on a loaded machine counts too
    assert 1 <= len(_decode(tmp_path / "stream-0.h265")) <= 20


def test_extfs_rgba_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMP_SIM_CLOCK", "virtual")
    from imp.samples import extfs_encoder_h264_rgba

    files = extfs_encoder_h264_rgba.run(str(tmp_path), frames=20)
    assert sorted(Path(f).name for f in files) == ["snap.rgba", "stream-0.h265", "stream-2.h265"]
    rgba = np.frombuffer((tmp_path / "snap.rgba").read_bytes(), np.uint8)
    assert rgba.size == 921600
    rgba = rgba.reshape(H, W, 4)
    assert (rgba[..., 3] == 255).all()
    assert read_frame_mark(_luma_of_rgb(rgba[..., :3])) >= 80  # snapshot 81 of the run
    assert {(f.width, f.height) for f in _decode(tmp_path / "stream-2.h265")} == {(W, H)}
    assert {(f.width, f.height) for f in _decode(tmp_path / "stream-0.h265")} == {(1920, 1080)}


def test_decoder_sample_keeps_every_picture_and_draws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMP_SIM_CLOCK", "virtual")
    from imp.samples import decoder

    files = decoder.run(str(tmp_path), frames=40)
    assert [Path(f).name for f in files] == ["clip.h264", "decoded-osd.h264"]
    clip, out = _decode(tmp_path / "clip.h264"), _decode(tmp_path / "decoded-osd.h264")
    assert len(clip) == len(out) == 40
    ys = [f.reformat(format="nv12").to_ndarray()[:H].astype(np.int16) for f in (clip[20], out[20])]
    assert read_frame_mark(ys[0]) == read_frame_mark(ys[1])
    x0, y0, _, y1 = decoder.RECT_RECT  # the green frame: its left edge is 4 px wide
    edge = (slice(y0 + 10, y1 - 10), slice(x0, x0 + 3))
    assert abs(int(ys[1][edge].mean()) - int(ys[0][edge].mean())) > 20
    cx0, cy0, cx1, cy1 = decoder.COVER_RECT  # the 50 % black cover darkens what is under it
    inside = (slice(cy0 + 8, cy1 - 8), slice(cx0 + 8, cx1 - 8))
    assert ys[1][inside].mean() < ys[0][inside].mean() - 20
    outside = (slice(150, 190), slice(300, 380))  # untouched: only coding noise
    assert abs(float(ys[1][outside].mean() - ys[0][outside].mean())) < 3
