"""Each ISP control changes the physics model's picture in the direction it should."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest

import imp.isp
from imp.isp.values import FrontCrop
from kernel_stubs.isp3a.lighting import Lighting
from kernel_stubs.sensor import MovingObject, Scene
from tests.isp_physics_support import BAND, chroma, frame, frames_until, lit_system

Frames = tuple[np.ndarray, np.ndarray, np.ndarray]  # two Y planes and one UV


def _body(y: np.ndarray) -> np.ndarray:
    return y[BAND:].astype(float)


def _noise(f: Frames) -> float:
    return float(np.std(_body(f[0]) - _body(f[1])) / np.sqrt(2))


def _gradient(f: Frames) -> float:
    return float(np.abs(np.diff(_body(f[0]), axis=1)).mean())


def _take() -> Frames:
    frames_until(frame()[2] + 4)  # the setting reached the sensor
    y0, _, _ = frame()
    y1, uv, _ = frame()
    return y0, y1, uv


Setting = Callable[[imp.isp.IspTuning], None]
CASES: list[tuple[str, Setting, Callable[[Frames], float], int]] = [
    # (name, change, measure, expected sign of measure(after) - measure(before))
    ("brightness", lambda t: setattr(t, "brightness", 200), lambda f: _body(f[0]).mean(), 1),
    ("contrast", lambda t: setattr(t, "contrast", 40), lambda f: _body(f[0]).std(), -1),
    ("saturation", lambda t: setattr(t, "saturation", 20), lambda f: chroma(f[2]), -1),
    ("sharpness", lambda t: setattr(t, "sharpness", 255), _gradient, 1),
    ("denoise", lambda t: (t.set_sinter_strength(255), t.set_temper_strength(255)), _noise, -1),
    (
        "drc",
        lambda t: (t.enable_drc(True), setattr(t, "drc_strength", 255)),
        lambda f: float(np.percentile(_body(f[0]), 10)),
        1,
    ),
    (
        "defog",
        lambda t: (t.enable_defog(True), setattr(t, "defog_strength", 255)),
        lambda f: float(np.percentile(_body(f[0]), 10)),
        -1,
    ),
    (
        "ccm",
        lambda t: t.set_ccm([[1.6, -0.3, -0.3], [-0.3, 1.6, -0.3], [-0.3, -0.3, 1.6]]),
        lambda f: chroma(f[2]),
        1,
    ),
    (
        "gamma",
        lambda t: setattr(t, "gamma", (4095 * (np.arange(129) / 128) ** 0.7).astype(np.uint16)),
        lambda f: _body(f[0]).mean(),
        -1,
    ),
    ("night", lambda t: setattr(t, "night", True), lambda f: chroma(f[2]), -1),
]


@pytest.mark.parametrize("name, change, measure, sign", CASES, ids=[c[0] for c in CASES])
def test_control_changes_the_picture_in_its_direction(
    name: str, change: Setting, measure: Callable[[Frames], float], sign: int
) -> None:
    patches = (MovingObject.appear(0, 1 << 30, (300, 120, 160, 120), (90, 80, 200)),)
    scene = Scene(background="texture", objects=patches, lighting=Lighting.constant(300))
    with lit_system(scene):
        t = imp.isp.tuning()
        frames_until(30)
        t.freeze_ae(True)  # the same exposure before and after: only the control differs
        before = measure(_take())
        change(t)
        after = measure(_take())
    assert np.sign(after - before) == sign, (name, before, after)
    assert abs(after - before) > 0.05 * max(abs(before), 1.0), (name, before, after)


def test_night_mode_is_grey_and_lit_by_infrared_and_drops_frames_after_the_switch() -> None:
    scene = Scene(background="texture", lighting=Lighting.constant(0.5))
    register_drop = {"day_night_drop": 3}
    with lit_system(scene, sim=register_drop):
        t = imp.isp.tuning()
        y_day, _, n_day = frames_until(40)[-1]
        t.night = True
        frames = frames_until(n_day + 40)
        numbers = [n_day] + [n for _, _, n in frames]  # the drop may follow n_day at once
        y_night, uv_night, _ = frames[-1]
    gaps = [b - a for a, b in itertools.pairwise(numbers)]
    assert max(gaps) >= 4  # the switch swallowed frames (gotcha 12)
    assert chroma(uv_night) < 1.0  # grey
    # 0.5 lux is far below AE's range in the day; the IR LED lights the night picture.
    assert _body(y_night).mean() > _body(y_day).mean() + 30


def test_wdr_keeps_highlights_and_front_crop_zooms_into_the_sensor() -> None:
    lamp = MovingObject.appear(0, 1 << 30, (40, 200, 80, 80), (30, 128, 128))  # dark square
    lighting = Lighting.steps(((0, 300.0), (45, 2400.0)))  # 8x more light at frame 45
    scene = Scene(background="texture", objects=(lamp,), lighting=lighting)
    with lit_system(scene):
        t = imp.isp.tuning()
        frames_until(35)
        t.freeze_ae(True)  # the exposure of 300 lux under 8x the light: highlights clip
        frames_until(50)
        y_over, _, _ = _take()
        t.wdr = True
        y_wdr, _, _ = _take()
        t.wdr = False
        t.freeze_ae(False)
        frames_until(frame()[2] + 20)
        y_full, _, _ = _take()
        t.front_crop = FrontCrop(True, 180, 0, 320, 180)  # top, left, width, height
        y_crop, _, _ = _take()
    clipped = (_body(y_over) >= 234).mean()
    assert clipped > 0.2 and (_body(y_wdr) >= 234).mean() < clipped / 5
    # The dark square (x 40..120, y 200..280 of the sensor) doubles in size and moves to
    # (80..240, 40..200) of the output.
    assert y_crop[60:180, 100:220].mean() < 60 and y_full[60:180, 100:220].mean() > 60
    assert y_full[210:270, 50:110].mean() < 60
