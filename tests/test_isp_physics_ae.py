"""AE of the simulated ISP on a lit scene: light steps, the reported exposure against the
picture, AeComp, ROI, low light, anti-flicker, limits."""

from __future__ import annotations

import numpy as np
import pytest

import imp.isp
from kernel_stubs.isp3a.lighting import Lighting
from kernel_stubs.sensor import MovingObject, Scene
from tests.isp_physics_support import (
    BAND,
    H,
    frame,
    frames_until,
    lit_system,
    metered,
)

TARGET = 96  # the default AeTargetList
LINE_S = 1 / (25 * (H + 45))  # the tuning node's line time: VTS = height + 45


def _scene(lighting: Lighting, objects: tuple[MovingObject, ...] = ()) -> Scene:
    return Scene(background="texture", seed=3, objects=objects, lighting=lighting)


def _settle(frames: int = 40) -> tuple[np.ndarray, np.ndarray, int]:
    _, _, n = frame()
    out = frames_until(n + frames)
    return out[-1]


def test_light_steps_x4_settle_within_25_frames_without_oscillation() -> None:
    steps = ((0, 400.0), (60, 1600.0), (120, 400.0))
    with lit_system(_scene(Lighting.steps(steps))):
        seen = {n: metered(y) for y, _, n in frames_until(180)}
    for start, end in ((60, 120), (120, 180)):
        series = [(n, m) for n, m in sorted(seen.items()) if start <= n < end]
        err = [abs(m / TARGET - 1) for _, m in series]
        assert err[0] > 0.5, f"the step at frame {start} did not change the picture: {err[0]}"
        settled = next(i for i, e in enumerate(err) if e <= 0.05)
        assert series[settled][0] - start <= 25, series[: settled + 1]
        assert max(err[settled:]) <= 0.05, f"left the 5 % band after settling: {series}"
        # Approached from one side: the error never changes sign beyond the band.
        signs = {np.sign(m - TARGET) for _, m in series[:settled]}
        assert len(signs) == 1, series[: settled + 1]


def test_reported_exposure_agrees_with_the_pictures() -> None:
    with lit_system(_scene(Lighting.steps(((0, 400.0), (60, 100.0))))):
        t = imp.isp.tuning()
        y, _, _ = _settle(45)
        bright_product = t.exposure.integration_time * t.total_gain
        assert abs(t.ae_state.mean - metered(y)) <= 0.05 * TARGET
        assert t.ae_state.stable and t.ae_state.target == TARGET
        frames_until(110)
        y, _, _ = frame()
        dim_product = t.exposure.integration_time * t.total_gain
        # 4x less light, the same picture: 4x the exposure x gain, as GetExpr x GetTotalGain say
        assert abs(metered(y) / TARGET - 1) <= 0.05
        assert dim_product / bright_product == pytest.approx(4, rel=0.08)
        # A manual time at half, AE frozen: the picture halves in linear light.
        t.freeze_ae(True)
        before = metered(frame()[0])
        half = t.exposure.integration_time // 2
        t.set_exposure(half)
        y, _, _ = _settle(4)
        assert t.exposure.integration_time == half
        assert metered(y) / before == pytest.approx(0.5, rel=0.08)


def test_ae_comp_up_is_brighter_and_roi_on_a_bright_region_darkens_the_rest() -> None:
    lamp = MovingObject.appear(0, 1 << 30, (64, 72, 192, 144), (225, 128, 128))
    with lit_system(_scene(Lighting.constant(400.0), (lamp,))):
        t = imp.isp.tuning()
        y0, _, _ = _settle()
        t.ae_comp = 192
        y1, _, _ = _settle()
        assert metered(y1) == pytest.approx(TARGET * 1.5, rel=0.06)
        assert y1[BAND:].mean() > y0[BAND:].mean() + 10
        t.ae_comp = 128
        y2, _, _ = _settle()
        roi = np.zeros((15, 15), dtype=np.uint8)
        roi[4:8, 2:6] = 1  # zones inside the lamp
        t.ae_roi = roi
        y3, _, _ = _settle()
        rest = np.ones(y3.shape, dtype=bool)
        rest[:BAND] = False
        rest[60:230, 50:270] = False
        assert y3[rest].mean() < y2[rest].mean() - 15
        assert metered(y3) < metered(y2) * 0.7


def test_calibration_compensates_down_to_50_lux_and_darkens_and_gets_noisier_below() -> None:
    def noise(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.std(a[BAND:].astype(float) - b[BAND:].astype(float)) / np.sqrt(2))

    levels = ((0, 100_000.0), (60, 400.0), (120, 55.0), (180, 12.0))
    with lit_system(_scene(Lighting.steps(levels))):
        t = imp.isp.tuning()
        results = {}
        for end in (59, 119, 179, 239):
            frames_until(end - 12)  # settled; the engine runs at most a few frames ahead
            exposure = (t.exposure.integration_time, t.total_gain)
            a, _, _ = frame()
            b, _, _ = frame()
            results[end] = (metered(b), noise(a, b), *exposure)
    for end in (59, 119, 179):  # daylight, office, 55 lux: AE reaches the target
        assert abs(results[end][0] / TARGET - 1) <= 0.05, results
    assert results[59][2] < 100 and results[59][3] < 1100  # daylight: short time, ~1x
    assert results[179][3] > 100 * 1024  # 55 lux: near the 181x maximum
    assert results[239][0] < 0.4 * TARGET  # 12 lux: out of gain, darker
    assert results[239][1] > 1.5 * results[119][1]  # and noisier than at 400 lux
    assert results[179][1] > results[119][1]


def test_anti_flicker_steps_and_integration_limits() -> None:
    with lit_system(_scene(Lighting.constant(800.0))):
        t = imp.isp.tuning()
        t.anti_flicker_hz = 50
        _settle()
        for hz in (50, 60):
            t.anti_flicker_hz = hz
            _settle()
            half_period = 1 / (2 * hz) / LINE_S  # in lines; whole lines per half period
            it = t.exposure.integration_time
            steps = round(it / half_period)
            assert steps >= 1 and abs(it - steps * half_period) <= steps, (hz, it)
        t.anti_flicker_hz = 0
        t.ae_it_max = 100
        y, _, _ = _settle()
        assert t.exposure.integration_time <= 100 and t.total_gain > 1024
        assert abs(metered(y) / TARGET - 1) <= 0.05  # gain made up for it
        t.max_again = 0
        t.max_dgain = 0  # 1x at most: the picture goes dark
        y, _, _ = _settle()
        assert t.total_gain == 1024 and metered(y) < 0.7 * TARGET


def test_ae_min_bounds_the_exposure_and_freeze_holds_it() -> None:
    with lit_system(_scene(Lighting.steps(((0, 20000.0), (200, 5000.0))))):
        t = imp.isp.tuning()
        _settle()
        free_it = t.exposure.integration_time
        t.ae_min = (2 * free_it, 2048, 1, 1024)  # at least 2x the time and 2x analog gain
        y, _, _ = _settle()
        assert t.exposure.integration_time >= 2 * free_it and t.ev.again >= 2048
        assert metered(y) > 1.5 * TARGET  # AE cannot go lower: overexposed
        t.ae_min = (1, 1024, 1, 1024)
        _settle()
        t.freeze_ae(True)
        held = (t.exposure.integration_time, t.total_gain)
        y0, _, _ = frame()
        frames_until(215)  # 4x less light from frame 200
        y1, _, _ = frame()
        assert (t.exposure.integration_time, t.total_gain) == held
        assert metered(y1) == pytest.approx(metered(y0) / 4, rel=0.1)
