"""The Pythonic ISP object ``imp.isp.tuning()`` and custom 3A algorithms (C-style and Python)."""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

import imp.isp
from imp.capi import *
from imp.errors import ImpError, InvalidArgument, InvalidState
from imp.isp.values import FrontCrop
from tests.conftest import running_system
from tests.test_isp_capi_functions import H, W, _frame, _start_channel, _stop_channel


@pytest.fixture
def isp() -> Iterator[imp.isp.IspTuning]:
    with running_system("virtual", sensor="synthetic:static", sensor_size=(W, H)):
        yield imp.isp.tuning()


def test_one_object_and_fix_it_errors() -> None:
    t = imp.isp.tuning()
    assert t is imp.isp.tuning() and not t.enabled
    with pytest.raises(InvalidState, match="IMP_ISP_EnableTuning"):
        t.brightness = 100
    with pytest.raises(InvalidState, match="IMP_ISP_Open"):
        t.gpio_set([10], [1])


def test_properties_round_trip_with_units(isp: imp.isp.IspTuning) -> None:
    isp.brightness, isp.contrast, isp.saturation, isp.sharpness, isp.hue = 140, 90, 60, 30, 200
    assert (isp.brightness, isp.contrast, isp.saturation, isp.sharpness, isp.hue) == (
        140,
        90,
        60,
        30,
        200,
    )
    isp.anti_flicker_hz = 50
    assert isp.anti_flicker_hz == 50
    isp.hflip, isp.vflip = True, False
    assert isp.hvflip == IMPISP_FLIP_H_MODE
    isp.night = True
    assert isp.night
    isp.night = False
    isp.sensor_fps = (15, 1)
    assert isp.sensor_fps == (15, 1)
    isp.defog_strength = 40
    assert isp.defog_strength == 40
    curve = np.linspace(0, 4095, 129).astype(np.uint16)
    isp.gamma = curve
    assert isp.gamma.dtype == np.uint16 and np.array_equal(isp.gamma, curve)
    isp.set_ccm(np.eye(3) * 1.25, manual=True)
    manual, _, m = isp.ccm
    assert manual and np.allclose(m, np.eye(3) * 1.25)
    weights = np.zeros((15, 15), np.uint8)
    weights[5:10, 5:10] = 8
    isp.ae_weights = weights
    assert np.array_equal(isp.ae_weights, weights)
    isp.ae_roi = weights
    assert isp.ae_roi.dtype == np.uint8 and isp.ae_roi[7, 7] == 8
    isp.front_crop = FrontCrop(True, 0, 0, 320, 180)
    assert isp.front_crop == FrontCrop(True, 0, 0, 320, 180)
    isp.set_exposure(300)
    assert isp.exposure.manual and isp.exposure.integration_time == 300
    isp.set_exposure(None)
    assert not isp.exposure.manual
    isp.set_wb(ISP_CORE_WB_MODE_MANUAL, 320, 280)
    assert isp.wb == imp.isp.values.WhiteBalance(1, 320, 280) and isp.wb_statis == (320, 280)
    isp.awb_ct = 6500
    assert isp.awb_ct == 6500
    isp.ae_target_list = np.full(10, 80)
    assert isp.ae_state.target == 80
    isp.ae_comp = 192
    assert isp.ae_state.target == 120  # AeComp scales the target (128 = none)


def test_bad_values_raise_with_the_range(isp: imp.isp.IspTuning) -> None:
    for action, pattern in (
        (lambda: setattr(isp, "brightness", 256), "0..255"),
        (lambda: setattr(isp, "anti_flicker_hz", 55), "50 or 60"),
        (lambda: setattr(isp, "ae_weights", np.full((15, 15), 9)), "0..8"),
        (lambda: setattr(isp, "ae_roi", np.ones((3, 3))), "15x15"),
        (lambda: setattr(isp, "gamma", np.zeros(10)), "129 points"),
        (lambda: isp.set_ccm(np.ones((2, 2))), "3x3"),
        (lambda: isp.set_exposure(10, unit="ms"), "'lines' or 'us'"),
        (lambda: setattr(isp, "awb_ct", 100), "1000..20000"),
        (lambda: isp.set_wb(12), "0..9"),
        (lambda: isp.gpio_request(list(range(11))), "1..10"),
    ):
        with pytest.raises(InvalidArgument, match=pattern):
            action()
    with pytest.raises(ValueError):  # ImpError subclasses keep the builtin meaning
        isp.hue = -3
    assert issubclass(InvalidArgument, ImpError)


def test_statistics_are_numpy_arrays_of_the_picture(isp: imp.isp.IspTuning) -> None:
    _start_channel()
    try:
        y, _ = _frame()
        for _ in range(2):
            y, _ = _frame()
        zones = isp.ae_zones()
        assert zones.shape == (15, 15) and zones.dtype == np.uint32
        assert abs(int(zones[1:].mean()) - int(y[H // 15 :].mean())) <= 3
        awb = isp.awb_zones()
        assert awb.shape == (15, 15, 3) and awb.dtype == np.uint8
        hist = isp.ae_histogram_256()
        assert hist.shape == (256,) and hist.sum() == (W // 2) * (H // 2)
        five = isp.ae_histogram()
        assert five.shape == (5,) and abs(int(five.sum()) - 10000) <= 5
        assert isp.af_zones().shape == (15, 15) and isp.af_metric > 0
        before = isp.ae_luma
        isp.brightness = 230
        for _ in range(4):
            y2, _ = _frame()
        assert isp.ae_luma > before + 20 and abs(isp.ae_luma - y2.mean()) < 3
    finally:
        _stop_channel()


class _PythonAe:
    def __init__(self) -> None:
        self.opened = self.closed = False
        self.seen: list[int] = []

    def open(self, init: IMPISPAeInitAttr) -> int:
        self.opened = init.fps >> 16 == 25
        return 0

    def handle(self, info: IMPISPAeInfo, attr: IMPISPAeAttr) -> None:
        self.seen.append(int(info.ae_zone.zone[7][7]))
        attr.change, attr.AeIntegrationTime = 1, 222
        attr.AeAGain, attr.AeDGain, attr.AeIspDGain = 4096, 1024, 1024

    def close(self) -> None:
        self.closed = True


def _pull_frames(done: Callable[[], bool], limit: int = 300) -> None:
    """Read frames until ``done()`` (bounded: a loaded machine may skip AE cycles)."""
    for _ in range(limit):
        _frame()
        time.sleep(0.005)  # let the algorithm worker take the AE cycle
        if done():
            return


def test_python_ae_algorithm_decides_the_exposure(isp: imp.isp.IspTuning) -> None:
    algo = _PythonAe()
    isp.set_ae_algorithm(algo)  # the sensor is enabled: starts at once
    assert algo.opened
    _start_channel()
    try:
        _pull_frames(lambda: len(algo.seen) >= 5)
        _frame()
        assert len(algo.seen) >= 5 and max(algo.seen) > 0  # statistics of real frames
        assert isp.exposure.integration_time == 222
        assert isp.total_gain == 4096 and isp.ev.again == 4096
    finally:
        _stop_channel()
    assert imp.isp.get_isp().disable_sensor() is None and algo.closed


def test_c_style_awb_and_ae_algorithms_through_ctypes(isp: imp.isp.IspTuning) -> None:
    calls = {"ae": 0, "awb": 0}
    ae_types = dict(IMPISPAeAlgoFunc._fields_)
    awb_types = dict(IMPISPAwbAlgoFunc._fields_)

    def ae_handle(priv: int, info: object, attr: object) -> None:
        calls["ae"] += 1
        a = attr.contents  # type: ignore[attr-defined]
        a.change, a.AeIntegrationTime, a.AeAGain = 1, 111, 2048
        a.AeDGain = a.AeIspDGain = 1024

    def awb_handle(priv: int, info: object, attr: object) -> None:
        calls["awb"] += 1
        a = attr.contents  # type: ignore[attr-defined]
        a.change, a.r_gain, a.b_gain, a.ct = 1, 300, 200, 3200

    ae = IMPISPAeAlgoFunc()
    ae.handle = ae_types["handle"](ae_handle)
    awb = IMPISPAwbAlgoFunc()
    awb.handle = awb_types["handle"](awb_handle)
    assert IMP_ISP_SetAeAlgoFunc(ctypes.byref(ae)) == 0
    assert IMP_ISP_SetAwbAlgoFunc(ctypes.byref(awb)) == 0
    _start_channel()
    try:
        _pull_frames(lambda: min(calls.values()) >= 5)
        _frame()
    finally:
        _stop_channel()
    assert calls["ae"] >= 5 and calls["awb"] >= 5
    e = IMPISPExpr()
    assert IMP_ISP_Tuning_GetExpr(e) == 0 and e.g_attr.integration_time == 111
    wb = IMPISPWB()
    assert IMP_ISP_Tuning_GetWB_Statis(wb) == 0 and (wb.rgain, wb.bgain) == (300, 200)
    assert isp.awb_ct == 3200
    names = [t.name for t in threading.enumerate()]
    assert "imp-isp-ae-algo" in names


def test_board_calls(isp: imp.isp.IspTuning) -> None:
    attr = isp.sensor_attr
    assert isinstance(attr, imp.isp.SensorAttr) and (attr.width, attr.height) == (W, H)
    isp.write_sensor_register(0x3E01, 0x12)
    assert isp.read_sensor_register(0x3E01) == 0x12
    isp.gpio_request([49], [1])
    isp.gpio_set([49], [0])
    isp.gpio_free([49])
    isp.wdr = True
    assert isp.wdr
    isp.wdr = False
    fd = isp.frame_drop
    fd.fdrop[2].enable, fd.fdrop[2].lsize = 1, 4
    isp.frame_drop = fd
    assert isp.frame_drop.fdrop[2].lsize == 4
    with pytest.raises(imp.errors.DeviceError, match="ETIMEDOUT"):
        isp.wait_frame(20)  # no channel runs: no frame is done
    assert isp.blc[:4] == (256, 256, 256, 256)


def test_wait_frame_does_not_hold_up_other_controls(isp: imp.isp.IspTuning) -> None:
    result: list[object] = []

    def wait() -> None:
        try:
            result.append(isp.wait_frame(3000))  # no channel runs: times out after 3 s
        except imp.errors.DeviceError as exc:
            result.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.1)
    isp.gamma = np.arange(129, dtype=np.uint16) * 31  # a pointer control, while WaitFrame waits
    isp.brightness = 99
    assert waiter.is_alive() and not result  # set and done before the wait ended
    waiter.join(10)
    assert isinstance(result[0], imp.errors.DeviceError) and isp.gamma[2] == 62


def test_an_algorithm_whose_open_fails_is_not_kept(isp: imp.isp.IspTuning) -> None:
    class Refuses(_PythonAe):
        def open(self, init: IMPISPAeInitAttr) -> int:
            return -1

    with pytest.raises(InvalidArgument, match="open"):
        isp.set_ae_algorithm(Refuses())
    assert "ae" not in imp.isp.get_isp().algos
    assert IMP_ISP_DisableSensor() == 0 and IMP_ISP_EnableSensor() == 0


def test_manual_exposure_in_microseconds(isp: imp.isp.IspTuning) -> None:
    line_us = isp.exposure.line_time_us
    isp.set_exposure(100 * line_us, unit="us")
    assert isp.exposure.manual and abs(isp.exposure.integration_time - 100) <= 1
