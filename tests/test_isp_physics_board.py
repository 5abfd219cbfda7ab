"""The simulated board: sensor registers that follow AE, IR LED and IR-cut on ISP GPIOs."""

from __future__ import annotations

import numpy as np

import imp.isp
from kernel_stubs.isp3a.board import IR_LED_GPIO, IRCUT_GPIO
from kernel_stubs.isp3a.lighting import Lighting
from kernel_stubs.sensor import Scene
from tests.isp_physics_support import BAND, H, chroma, frame, frames_until, lit_system


def _registers(t: imp.isp.IspTuning) -> tuple[int, int, int]:
    it = (t.read_sensor_register(0x03) << 8) | t.read_sensor_register(0x04)
    vts = (t.read_sensor_register(0x41) << 8) | t.read_sensor_register(0x42)
    return it, vts, t.read_sensor_register(0xB6)


def test_gc2053_exposure_and_gain_registers_follow_ae() -> None:
    lighting = Lighting.steps(((0, 20000.0), (40, 30.0)))
    with lit_system(Scene(background="texture", lighting=lighting)):
        t = imp.isp.tuning()
        assert (t.read_sensor_register(0xF0), t.read_sensor_register(0xF1)) == (0x20, 0x53)
        frames_until(30)
        t.freeze_ae(True)  # hold the values while reading them
        bright = _registers(t), t.exposure.integration_time, t.ev.again
        t.freeze_ae(False)
        frames_until(75)
        t.freeze_ae(True)
        dim = _registers(t), t.exposure.integration_time, t.ev.again
        t.write_sensor_register(0x3E01, 0x46)  # a plain register keeps its byte
        assert t.read_sensor_register(0x3E01) == 0x46
    for (it, vts, step), expr_it, again in (bright, dim):
        assert it == expr_it and vts == H + 45
        assert abs(2 ** (step / 4) - again / 1024) <= 0.1 * again / 1024 + 0.01
    assert dim[0][0] > bright[0][0] and dim[0][2] > bright[0][2]  # longer and more gain


def test_ir_led_and_ir_cut_on_isp_gpios_light_the_night_picture() -> None:
    with lit_system(Scene(background="texture", lighting=Lighting.constant(0.5))):
        t = imp.isp.tuning()
        t.gpio_request([IRCUT_GPIO, IR_LED_GPIO], [0, 0])  # filter in, LED off
        t.night = True
        frames_until(frame()[2] + 30)
        y_off, uv_off, _ = frame()
        t.gpio_set([IRCUT_GPIO, IR_LED_GPIO], [1, 1])  # filter out, LED on
        frames_until(frame()[2] + 30)
        y_on, uv_on, _ = frame()
        t.gpio_free([IRCUT_GPIO, IR_LED_GPIO])
    assert chroma(uv_off) < 1.0 and chroma(uv_on) < 1.0  # night: grey
    assert y_on[BAND:].mean() > y_off[BAND:].mean() + 40
    assert np.std(y_on[BAND:].astype(float)) > np.std(y_off[BAND:].astype(float))  # a scene
