"""The simulated board: sensor registers that follow AE, IR LED and IR-cut on ISP GPIOs."""

from __future__ import annotations

import numpy as np

import imp.isp
from imp.types import IMPISPMASKAttr
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


def test_privacy_mask_blocks_cover_the_channel_picture_after_the_statistics() -> None:
    with lit_system(Scene(background="texture", lighting=Lighting.constant(400))):
        t = imp.isp.tuning()
        frames_until(20)
        zones_before = t.ae_zones().astype(float)
        attr = IMPISPMASKAttr()
        block = attr.chn0[1]
        block.mask_en, block.mask_pos_top, block.mask_pos_left = 1, 100, 200
        block.mask_width, block.mask_height = 120, 80
        block.mask_value.mask_rgb.Red = 255  # pure red (RGB type)
        attr.mask_type = 0
        t.mask = attr
        frames_until(frame()[2] + 3)
        y, uv, _ = frame()
        zones_after = t.ae_zones().astype(float)
        other = IMPISPMASKAttr()
        other.chn1[0].mask_en, other.chn1[0].mask_width, other.chn1[0].mask_height = 1, 64, 64
        t.mask = other  # a block of another channel leaves channel 0 alone
        frames_until(frame()[2] + 3)
        y2, _, _ = frame()
    assert (y[100:180, 200:320] == 81).all()  # BT.601 red: Y 81, Cb 90, Cr 240
    assert (uv[50:90, 200:320:2] == 90).all() and (uv[50:90, 201:320:2] == 240).all()
    assert y[100:180, 330:400].std() > 2  # the picture around it is untouched
    assert np.abs(zones_after - zones_before).mean() < 3  # AE still sees the scene
    assert y2[100:180, 200:320].std() > 2
