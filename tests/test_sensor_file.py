"""FileSensor: a video file shown as the sensor picture, looped; and make_sensor specs."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
import pytest

from kernel_stubs.sensor import (
    ChannelGeometry,
    FileSensor,
    IspControls,
    SensorModel,
    SyntheticSensor,
    make_sensor,
    mark_band_height,
    read_frame_mark,
)

FRAMES = 20
WIDTH, HEIGHT = 320, 240
NEUTRAL = IspControls()
NATIVE = ChannelGeometry(WIDTH, HEIGHT)


def _levels(index: int) -> tuple[int, int]:
    """Luma of the clip's left and right halves in frame ``index``."""
    return 40 + 8 * index, 200 - 6 * index


def _write_clip(path: Path, codec: str) -> None:
    with av.open(str(path), "w") as container:
        stream = cast(av.VideoStream, container.add_stream(codec, rate=25))
        stream.width, stream.height = WIDTH, HEIGHT
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, 25)
        if codec == "libx264":
            stream.options = {"crf": "10"}
        else:
            stream.bit_rate = 4_000_000
        for index in range(FRAMES):
            left, right = _levels(index)
            y = np.empty((HEIGHT, WIDTH), np.uint8)
            y[:, : WIDTH // 2], y[:, WIDTH // 2 :] = left, right
            u = np.full((HEIGHT // 2, WIDTH // 2), 100, np.uint8)
            v = np.full((HEIGHT // 2, WIDTH // 2), 170, np.uint8)
            packed = np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(-1, WIDTH)
            frame = av.VideoFrame.from_ndarray(packed, format="yuv420p")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


@pytest.fixture(scope="module", params=["libx264", "mpeg4"])
def clip(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    codec: str = request.param
    path = tmp_path_factory.mktemp("clip") / f"clip_{codec}.mp4"
    _write_clip(path, codec)
    return path


def _halves(y: np.ndarray) -> tuple[float, float]:
    body = y[mark_band_height(y.shape[1]) :].astype(np.float64)
    w = y.shape[1]
    # Stay clear of the edge between the halves, which scaling and coding soften.
    return body[:, : w // 2 - 8].mean(), body[:, w // 2 + 8 :].mean()


def test_picture_follows_the_clip_and_loops(clip: Path) -> None:
    with FileSensor(clip) as sensor:
        assert isinstance(sensor, SensorModel)
        assert (sensor.width, sensor.height) == (WIDTH, HEIGHT)
        for frame_no in [*range(FRAMES), 20, 27, 39, 40, 5, 3, 61]:
            y, uv = sensor.render(frame_no, NATIVE, NEUTRAL)
            left, right = _halves(y)
            want_left, want_right = _levels(frame_no % FRAMES)
            assert abs(left - want_left) < 3 and abs(right - want_right) < 3, frame_no
            assert abs(uv[8:, 0::2].mean() - 100) < 3 and abs(uv[8:, 1::2].mean() - 170) < 3
            assert read_frame_mark(y) == frame_no


def test_same_frame_same_picture(clip: Path) -> None:
    with FileSensor(clip) as sensor:
        first = sensor.render(7, NATIVE, NEUTRAL)
        sensor.render(15, NATIVE, NEUTRAL)
        sensor.render(2, NATIVE, NEUTRAL)
        again = sensor.render(27, NATIVE, NEUTRAL)
    # Frame 27 shows file frame 7 again; only the mark differs.
    band = mark_band_height(WIDTH)
    assert np.array_equal(first[0][band:], again[0][band:])
    assert np.array_equal(first[1], again[1])


def test_resized_sensor_and_channel_geometry(clip: Path) -> None:
    with FileSensor(clip, 640, 480) as sensor:
        assert (sensor.width, sensor.height) == (640, 480)
        full = sensor.render(4, ChannelGeometry(640, 480), NEUTRAL)[0]
        assert np.allclose(_halves(full), _levels(4), atol=3)
        small = sensor.render(4, ChannelGeometry(320, 240, scale=True), NEUTRAL)[0]
        assert np.allclose(_halves(small), _levels(4), atol=3)
        right_half = ChannelGeometry(320, 480, crop=(320, 0, 320, 480))
        y, _ = sensor.render(4, right_half, NEUTRAL)
        assert abs(y[mark_band_height(320) :].mean() - _levels(4)[1]) < 3
        assert read_frame_mark(y) == 4
        zoom = ChannelGeometry(640, 480, crop=(0, 0, 320, 240), scale=True)
        y, _ = sensor.render(4, zoom, NEUTRAL)
        assert abs(y[mark_band_height(640) :].mean() - _levels(4)[0]) < 3
        with pytest.raises(ValueError):
            sensor.render(4, ChannelGeometry(320, 240), NEUTRAL)  # scaler off, size mismatch


def test_controls(clip: Path) -> None:
    with FileSensor(clip) as sensor:
        y, _ = sensor.render(3, NATIVE, NEUTRAL)
        band = mark_band_height(WIDTH)
        base = y[band:].mean()
        bright, _ = sensor.render(3, NATIVE, IspControls(brightness=220))
        assert bright[band:].mean() > base + 20
        flat, _ = sensor.render(3, NATIVE, IspControls(contrast=0))
        assert flat[band:].std() < y[band:].std() / 4
        _, grey = sensor.render(3, NATIVE, IspControls(saturation=0))
        assert np.abs(grey.astype(np.int16) - 128).max() <= 1
        _, rotated = sensor.render(3, NATIVE, IspControls(hue=192))
        # A quarter turn maps (U-128, V-128) = (-28, 42) to (-42, -28).
        assert abs(rotated[8:, 0::2].mean() - 86) < 2 and abs(rotated[8:, 1::2].mean() - 100) < 2
        night_y, night_uv = sensor.render(3, NATIVE, IspControls(night=True))
        assert (night_uv == 128).all() and night_y[band:].mean() < base
        mirrored, _ = sensor.render(3, NATIVE, IspControls(hflip=True))
        assert np.allclose(_halves(mirrored), _levels(3)[::-1], atol=3)
        upside_down, _ = sensor.render(3, NATIVE, IspControls(vflip=True))
        assert np.allclose(_halves(upside_down), _levels(3), atol=3)
        assert read_frame_mark(mirrored) == read_frame_mark(upside_down) == 3


def test_file_without_video_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    with av.open(str(path), "w") as container:
        stream = cast(av.AudioStream, container.add_stream("pcm_s16le", rate=8000))
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16")
        frame.sample_rate = 8000
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(ValueError, match="no video"):
        FileSensor(path)


def test_make_sensor(clip: Path) -> None:
    default = make_sensor("synthetic", None)
    assert isinstance(default, SyntheticSensor) and (default.width, default.height) == (1920, 1080)
    small = make_sensor("synthetic:static", (640, 360))
    assert isinstance(small, SyntheticSensor) and small.width == 640
    assert small.scene.objects == () and small.scene.noise_sigma > 0
    from_file = make_sensor(f"file:{clip}", None)
    assert isinstance(from_file, FileSensor) and from_file.width == WIDTH
    assert make_sensor(f"file:{clip}", (160, 120)).height == 120
    with pytest.raises(OSError, match="no such device node"):  # tests/test_v4l2_*.py: the rest
        make_sensor("v4l2:/dev/video-imp-absent", None)
    for bad in ("", "synthetic:nosuchscene", "file:", "gc2053"):
        with pytest.raises(ValueError):
            make_sensor(bad, None)
