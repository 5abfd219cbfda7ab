"""The synthetic sensor: determinism, geometry, ISP controls, scripted objects."""

from __future__ import annotations

import numpy as np
import pytest

from kernel_stubs.sensor import (
    ChannelGeometry,
    Flicker,
    IspControls,
    MovingObject,
    Scene,
    SensorModel,
    SyntheticSensor,
    mark_band_height,
    read_frame_mark,
)
from kernel_stubs.sensor.tuning import adjust_color

FULL = ChannelGeometry(1920, 1080)
SMALL = ChannelGeometry(640, 360, scale=True)
NEUTRAL = IspControls()
BAND = mark_band_height(640)  # rows of the mark at 640 wide


@pytest.fixture(scope="module")
def sensor() -> SyntheticSensor:
    return SyntheticSensor()


@pytest.fixture(scope="module")
def still() -> SyntheticSensor:
    """The default background with nothing on it."""
    return SyntheticSensor(scene=Scene())


def _chroma(uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return uv[:, 0::2].astype(np.float64), uv[:, 1::2].astype(np.float64)


def test_is_a_sensor_model(sensor: SyntheticSensor) -> None:
    assert isinstance(sensor, SensorModel)
    assert (sensor.name, sensor.width, sensor.height) == ("synthetic", 1920, 1080)


def test_render_is_a_pure_function_of_its_inputs(sensor: SyntheticSensor) -> None:
    y1, uv1 = sensor.render(10, SMALL, NEUTRAL)
    # Warm other cache entries and frames in between: nothing may leak into frame 10.
    for frame_no in (50, 3, 10_000):
        sensor.render(frame_no, SMALL, IspControls(brightness=3, hflip=True))
        sensor.render(frame_no, FULL, NEUTRAL)
    y2, uv2 = sensor.render(10, SMALL, NEUTRAL)
    y3, uv3 = SyntheticSensor().render(10, SMALL, NEUTRAL)
    assert y1.tobytes() == y2.tobytes() == y3.tobytes()
    assert uv1.tobytes() == uv2.tobytes() == uv3.tobytes()


def test_render_nv12_fills_a_dma_like_buffer(sensor: SyntheticSensor) -> None:
    buf = np.full(640 * 360 * 3 // 2, 7, np.uint8)
    y, uv = buf[: 640 * 360].reshape(360, 640), buf[640 * 360 :].reshape(180, 640)
    sensor.render_nv12(77, SMALL, NEUTRAL, y, uv)
    ry, ruv = sensor.render(77, SMALL, NEUTRAL)
    assert np.array_equal(y, ry) and np.array_equal(uv, ruv)
    assert read_frame_mark(y) == 77


def test_planes_must_match_the_geometry(sensor: SyntheticSensor) -> None:
    y = np.zeros((360, 640), np.uint8)
    with pytest.raises(ValueError):
        sensor.render_nv12(0, SMALL, NEUTRAL, y, np.zeros((360, 640), np.uint8))
    with pytest.raises(ValueError):
        sensor.render_nv12(0, SMALL, NEUTRAL, y.astype(np.uint16), np.zeros((180, 640), np.uint8))


@pytest.mark.parametrize(
    "geometry",
    [
        ChannelGeometry(1280, 720),  # scaler off, size differs from the sensor
        ChannelGeometry(640, 360, crop=(0, 0, 1280, 720)),  # scaler off, size differs from crop
        ChannelGeometry(640, 360, crop=(1000, 0, 1280, 720), scale=True),  # beyond the sensor
        ChannelGeometry(640, 360, crop=(-2, 0, 1280, 720), scale=True),
        ChannelGeometry(641, 360, scale=True),  # odd
        ChannelGeometry(0, 360, scale=True),
    ],
)
def test_impossible_geometry_is_rejected(
    sensor: SyntheticSensor, geometry: ChannelGeometry
) -> None:
    with pytest.raises(ValueError):
        sensor.render(0, geometry, NEUTRAL)


def test_sensor_size_must_be_even() -> None:
    with pytest.raises(ValueError):
        SyntheticSensor(641, 480)


def test_output_is_video_range(sensor: SyntheticSensor) -> None:
    for controls in (NEUTRAL, IspControls(brightness=255, contrast=255, saturation=255)):
        y, uv = sensor.render(5, SMALL, controls)
        assert y.min() >= 16 and y.max() <= 235
        assert uv.min() >= 16 and uv.max() <= 240


def test_crop_without_scale_is_a_window_of_the_full_picture(sensor: SyntheticSensor) -> None:
    left, top = 400, 200
    crop = ChannelGeometry(1280, 720, crop=(left, top, 1280, 720))
    for frame_no in (0, 37, 90):
        fy, fuv = sensor.render(frame_no, FULL, NEUTRAL)
        cy, cuv = sensor.render(frame_no, crop, NEUTRAL)
        band = mark_band_height(1280)
        assert np.array_equal(cy[band:], fy[top + band : top + 720, left : left + 1280])
        window = fuv[(top + band) // 2 : (top + 720) // 2, left : left + 1280]
        assert np.array_equal(cuv[band // 2 :], window)


def test_scaled_output_matches_a_box_downscale(sensor: SyntheticSensor) -> None:
    for frame_no in (0, 45):
        fy, fuv = sensor.render(frame_no, FULL, NEUTRAL)
        sy, suv = sensor.render(frame_no, SMALL, NEUTRAL)
        box_y = fy.reshape(360, 3, 640, 3).mean(axis=(1, 3))
        assert np.abs(sy[BAND:] - box_y[BAND:]).mean() < 1.5
        fu, fv = _chroma(fuv)
        su, sv = _chroma(suv)
        for full, small in ((fu, su), (fv, sv)):
            box = full.reshape(180, 3, 320, 3).mean(axis=(1, 3))
            assert np.abs(small[BAND // 2 :] - box[BAND // 2 :]).mean() < 1.5
        # A different picture is far away: the comparison has teeth.
        other, _ = sensor.render(frame_no, SMALL, IspControls(hflip=True))
        assert np.abs(other[BAND:] - box_y[BAND:]).mean() > 10


def _y_stats(sensor: SyntheticSensor, controls: IspControls) -> tuple[float, float]:
    y, _ = sensor.render(1, SMALL, controls)
    body = y[BAND:].astype(np.float64)
    return body.mean(), body.std()


def _chroma_spread(sensor: SyntheticSensor, controls: IspControls) -> float:
    _, uv = sensor.render(1, SMALL, controls)
    return float(np.abs(uv[BAND // 2 :].astype(np.float64) - 128).mean())


def test_brightness_moves_mean_luma(sensor: SyntheticSensor) -> None:
    neutral, _ = _y_stats(sensor, NEUTRAL)
    assert _y_stats(sensor, IspControls(brightness=200))[0] > neutral + 20
    assert _y_stats(sensor, IspControls(brightness=50))[0] < neutral - 20


def test_contrast_scales_luma_spread(sensor: SyntheticSensor) -> None:
    _, neutral = _y_stats(sensor, NEUTRAL)
    assert _y_stats(sensor, IspControls(contrast=220))[1] > neutral * 1.3
    assert _y_stats(sensor, IspControls(contrast=30))[1] < neutral * 0.4


def test_saturation_scales_chroma(sensor: SyntheticSensor) -> None:
    neutral = _chroma_spread(sensor, NEUTRAL)
    assert neutral > 15
    assert _chroma_spread(sensor, IspControls(saturation=0)) < 0.5
    assert _chroma_spread(sensor, IspControls(saturation=220)) > neutral * 1.3


def test_hue_rotates_chroma(sensor: SyntheticSensor) -> None:
    _, uv = sensor.render(1, SMALL, NEUTRAL)
    _, rotated = sensor.render(1, SMALL, IspControls(hue=192))  # a quarter turn
    u, v = _chroma(uv[BAND // 2 :])
    ru, rv = _chroma(rotated[BAND // 2 :])
    assert np.abs(ru - u).mean() > 10  # the colours changed ...
    du, dv, dru, drv = u - 128, v - 128, ru - 128, rv - 128
    inside = np.hypot(du, dv) < 100  # ... (where nothing clips) the saturation did not,
    assert np.abs(np.hypot(du, dv) - np.hypot(dru, drv))[inside].mean() < 1.5
    assert np.abs(dru + dv)[inside].mean() < 1.5  # and +90 degrees maps (u, v) to (-v, u)
    assert np.abs(drv - du)[inside].mean() < 1.5


def _detail(y: np.ndarray) -> float:
    body = y[BAND:].astype(np.float64)
    return float(np.abs(np.diff(body, axis=1)).mean() + np.abs(np.diff(body, axis=0)).mean())


def test_sharpness_changes_fine_detail(still: SyntheticSensor) -> None:
    neutral = _detail(still.render(1, SMALL, NEUTRAL)[0])
    assert _detail(still.render(1, SMALL, IspControls(sharpness=255))[0]) > neutral * 1.3
    assert _detail(still.render(1, SMALL, IspControls(sharpness=0))[0]) < neutral * 0.8


def test_night_is_grey_and_darker(sensor: SyntheticSensor) -> None:
    y, uv = sensor.render(1, SMALL, IspControls(night=True))
    assert (uv == 128).all()
    assert y[BAND:].mean() < _y_stats(sensor, NEUTRAL)[0] - 5
    assert read_frame_mark(y) == 1


def test_hflip_mirrors_the_picture(still: SyntheticSensor) -> None:
    y, uv = still.render(1, SMALL, NEUTRAL)
    fy, fuv = still.render(1, SMALL, IspControls(hflip=True))
    assert np.array_equal(fy[BAND:], np.fliplr(y)[BAND:])
    pairs, flipped_pairs = uv.reshape(180, 320, 2), fuv.reshape(180, 320, 2)
    assert np.array_equal(flipped_pairs[BAND // 2 :], pairs[BAND // 2 :, ::-1])
    assert not np.array_equal(fy[BAND:], y[BAND:])


def test_vflip_turns_the_picture_upside_down(still: SyntheticSensor) -> None:
    y, uv = still.render(1, SMALL, NEUTRAL)
    fy, fuv = still.render(1, SMALL, IspControls(vflip=True))
    assert np.array_equal(fy[BAND:-BAND], np.flipud(y)[BAND:-BAND])
    assert np.array_equal(fuv[BAND // 2 : -BAND // 2], np.flipud(uv)[BAND // 2 : -BAND // 2])


RED = (82, 90, 240)
GREEN = (145, 54, 34)


def _object_sensor() -> SyntheticSensor:
    scene = Scene(
        background="flat",
        objects=(
            MovingObject.appear(10, 20, (600, 300, 300, 240), RED),
            MovingObject.linear(0, 100, (0, 600, 120, 120), (1200, 600, 120, 120), GREEN),
        ),
    )
    return SyntheticSensor(1920, 1080, scene)


def _has_color(
    y: np.ndarray, uv: np.ndarray, box: tuple[int, int, int, int], color: tuple[int, int, int]
) -> bool:
    x0, y0, x1, y1 = box
    return bool(
        (y[y0:y1, x0:x1] == color[0]).all()
        and (uv[y0 // 2 : y1 // 2, x0:x1:2] == color[1]).all()
        and (uv[y0 // 2 : y1 // 2, x0 + 1 : x1 : 2] == color[2]).all()
    )


def test_objects_appear_only_in_their_frames() -> None:
    sensor = _object_sensor()
    inside = (604, 304, 896, 536)
    for frame_no, present in ((9, False), (10, True), (15, True), (19, True), (20, False)):
        y, uv = sensor.render(frame_no, FULL, NEUTRAL)
        assert _has_color(y, uv, inside, RED) is present
        if not present:
            assert (y[inside[1] : inside[3], inside[0] : inside[2]] == 128).all()


def test_objects_move_linearly_and_follow_scale_and_flip() -> None:
    sensor = _object_sensor()
    # Frame 50: halfway, rect (600, 600, 120, 120) in sensor pixels.
    y, uv = sensor.render(50, FULL, NEUTRAL)
    assert _has_color(y, uv, (602, 602, 718, 718), GREEN)
    assert (y[602:718, 400:590] == 128).all()  # not where it was or will be
    # The same frame at 640x360 (1/3) and mirrored: x 200..240 -> 400..440.
    y, uv = sensor.render(50, SMALL, IspControls(hflip=True))
    assert _has_color(y, uv, (402, 202, 438, 238), GREEN)
    # Out of its [start, end) range the object is gone.
    y, _ = sensor.render(100, FULL, NEUTRAL)
    assert (y[BAND * 3 :] == 128).all()


def test_object_colours_go_through_the_controls() -> None:
    sensor = _object_sensor()
    controls = IspControls(brightness=200, saturation=60, hue=150)
    y, uv = sensor.render(15, FULL, controls)
    expected = adjust_color(RED, controls)
    assert expected != RED
    assert _has_color(y, uv, (604, 304, 896, 536), expected)
    y, uv = sensor.render(15, FULL, IspControls(night=True))
    assert _has_color(y, uv, (604, 304, 896, 536), (adjust_color(RED, IspControls(night=True))))


def test_default_scene_keeps_moving() -> None:
    scene = Scene.default(1920, 1080)
    assert len(scene.objects) >= 2
    for obj in scene.objects:
        rects = [obj.rect_at(n) for n in (0, 10, 1001, 10**6 + 7)]
        assert all(r is not None for r in rects)
        assert len(set(rects)) == len(rects)
        for rect in rects:
            assert rect is not None
            x, y, w, h = rect
            assert 0 <= x <= 1920 - w and 0 <= y <= 1080 - h
    sensor = SyntheticSensor()
    a, _ = sensor.render(0, SMALL, NEUTRAL)
    b, _ = sensor.render(10, SMALL, NEUTRAL)
    assert (a[BAND:] != b[BAND:]).mean() > 0.005


def test_scene_accepts_a_list_of_objects() -> None:
    obj = MovingObject.appear(0, 5, (0, 0, 10, 10), RED)
    scene = Scene(background="bars", objects=[obj, obj])
    assert scene.objects == (obj, obj) and hash(scene) == hash(Scene("bars", objects=(obj, obj)))
    with pytest.raises(ValueError):
        Scene(background="plaid")


def test_keyframes_loop() -> None:
    obj = MovingObject.keyframes([(0, (0, 0, 10, 10)), (50, (100, 0, 10, 10))], RED, loop=True)
    assert obj.rect_at(25) == obj.rect_at(75) == obj.rect_at(-25) == (50, 0, 10, 10)
    with pytest.raises(ValueError):
        MovingObject.keyframes([(5, (0, 0, 1, 1)), (5, (0, 0, 1, 1))], RED)


def test_static_scene_has_noise_and_flicker_but_no_motion() -> None:
    scene = Scene.static(noise_sigma=2.0, flicker=Flicker(amplitude=4.0, period=20))
    sensor = SyntheticSensor(640, 360, scene)
    frames = [sensor.render(n, SMALL, NEUTRAL)[0][BAND:].astype(np.float64) for n in range(21)]
    diff = np.abs(frames[1] - frames[0])
    assert 0.5 < diff.mean() < 5  # noisy, but nothing moves
    assert (diff > 30).mean() < 0.001
    means = [f.mean() for f in frames]
    assert means[5] - means[15] > 6  # flicker: +4 at a quarter period, -4 at three quarters
    assert np.array_equal(frames[0], frames[20])  # noise cycles with period 4, flicker 20
    assert not np.array_equal(frames[1], frames[2])


def test_build_cache_builds_each_key_once_without_holding_up_other_keys() -> None:
    """A channel being prepared (a slow build) must not stall the engine rendering the others
    from their cached pictures; two threads asking for the same key get one build."""
    import threading

    from kernel_stubs.sensor.framing import BuildCache

    cache: BuildCache[str] = BuildCache(4)
    assert cache.get("ready", lambda: "R") == "R"
    started, release = threading.Event(), threading.Event()
    builds: list[str] = []

    def slow() -> str:
        builds.append("slow")
        started.set()
        assert release.wait(30)
        return "S"

    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(cache.get("slow", slow)))
    second = threading.Thread(target=lambda: results.append(cache.get("slow", slow)))
    first.start()
    assert started.wait(30)
    second.start()
    # While "slow" builds, a cached key answers at once and a new key builds on its own.
    assert cache.get("ready", lambda: "never built") == "R"
    assert cache.get("other", lambda: "O") == "O"
    assert results == []
    release.set()
    first.join(30)
    second.join(30)
    assert results == ["S", "S"] and builds == ["slow"]
