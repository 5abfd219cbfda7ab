"""Lighting of the simulated scene: IMP_SIM_LUX / IMP_SIM_CCT, scripted dusk and light switch."""

from __future__ import annotations

import numpy as np
import pytest

import imp.isp
from imp.errors import ImpError
from imp.isp import SensorInfo, get_isp
from imp.kernel import sim_overrides
from kernel_stubs.isp3a.lighting import Lighting, lighting_from_env
from kernel_stubs.sensor import Scene
from tests.isp_physics_support import BAND, H, W, frame, frames_until, lit_system, metered


@pytest.mark.parametrize(
    "env, name",
    [
        ({"IMP_SIM_LUX": "bright"}, "IMP_SIM_LUX"),
        ({"IMP_SIM_LUX": "-3"}, "IMP_SIM_LUX"),
        ({"IMP_SIM_LUX": "nan"}, "IMP_SIM_LUX"),
        ({"IMP_SIM_CCT": "900"}, "IMP_SIM_CCT"),
        ({"IMP_SIM_CCT": "warm"}, "IMP_SIM_CCT"),
    ],
)
def test_malformed_lighting_variables_are_refused_by_name(env: dict[str, str], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        lighting_from_env(None, env)


def test_lighting_variables_turn_the_model_on() -> None:
    assert lighting_from_env(None, {}) is None
    lit = lighting_from_env(None, {"IMP_SIM_LUX": "12.5", "IMP_SIM_CCT": "3000"})
    assert lit is not None and lit.lux_at(999) == 12.5 and lit.cct == 3000
    base = Lighting.dusk(100, 1, 10, cct=4000)
    assert lighting_from_env(base, {"IMP_SIM_CCT": "6500"}) == base.with_cct(6500)


def test_a_bad_imp_sim_lux_fails_add_sensor_with_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IMP_SIM_LUX", "lots")
    sim_overrides(clock="virtual", sensor_size=(W, H))
    isp = get_isp()
    isp.open()
    try:
        with pytest.raises(ImpError, match="IMP_SIM_LUX"):
            isp.add_sensor(SensorInfo("gc2053"))
    finally:
        isp.close()
        sim_overrides()


def test_imp_sim_lux_lights_the_default_scene(monkeypatch: pytest.MonkeyPatch) -> None:
    means = {}
    for lux in ("2", "400"):
        monkeypatch.setenv("IMP_SIM_LUX", lux)
        with lit_system(Scene.static(noise_sigma=0.0)):
            frames_until(30)
            y, _, _ = frame()
            means[lux] = (y[BAND:].mean(), imp.isp.tuning().total_gain)
    assert means["2"][0] < means["400"][0] - 40  # 2 lux: out of gain, dark
    assert means["2"][1] > means["400"][1]


def test_dusk_darkens_once_gain_runs_out_and_a_light_switched_on_is_followed() -> None:
    with lit_system(Scene.dusk(W, H, frames=160)):
        seen = {n: (metered(y), y) for y, _, n in frames_until(159)}
    early = [m for n, (m, _) in seen.items() if 10 <= n <= 40]
    late = [m for n, (m, _) in seen.items() if n >= 150]
    assert max(abs(m / 96 - 1) for m in early) <= 0.05  # 2000 -> ~500 lux: compensated
    assert max(late) < 0.3 * 96  # ~2 lux: darker
    with lit_system(Scene.light_switch(W, H, at=40)):
        seen = {n: metered(y) for y, _, n in frames_until(80)}
    assert seen[max(n for n in seen if n < 40)] < 0.8 * 96  # 20 lux: out of gain, dim
    after = [seen[n] for n in sorted(seen) if n >= 40]
    assert after[0] > 2 * 96  # the light comes on: overexposed for a moment
    assert abs(np.median(after[-10:]) / 96 - 1) <= 0.05  # then back at the target


def test_backlight_clips_the_window_and_roi_on_the_person_brightens_them() -> None:
    with lit_system(Scene.backlit(W, H)):
        t = imp.isp.tuning()
        y0, _, _ = frames_until(40)[-1]
        roi = np.zeros((15, 15), dtype=np.uint8)
        roi[8:13, 5:6] = 1  # zones inside the person (x 0.3-0.42 W, y 0.4-0.9 H)
        t.ae_roi = roi
        y1, _, _ = frames_until(frame()[2] + 30)[-1]
    window = (slice(int(0.15 * H), int(0.45 * H)), slice(int(0.62 * W), int(0.88 * W)))
    person = (slice(int(0.45 * H), int(0.85 * H)), slice(int(0.32 * W), int(0.40 * W)))
    assert (y0[window] >= 234).all()  # daylight through the window: clipped
    assert y1[person].mean() > y0[person].mean() + 20  # metering on the person lifts them
