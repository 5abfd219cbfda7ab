"""Bad input to all 135 ``IMP_ISP_*`` functions: the error value plus an ``imp.capi`` log line.

Generated from the signatures in imp_api.json: every function is called before IMP_ISP_Open;
every tuning function before IMP_ISP_EnableTuning; with tuning on, every pointer argument gets
NULL and a wrong type, every scalar a non-integer, and each function with a documented range an
out-of-range value. Never an exception.
"""

from __future__ import annotations

import ctypes
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import imp.capi as capi
import imp.types as T
from tests.conftest import running_system

REF = Path("/work/shared/reference/imp_api.json")
FUNCS = json.loads(REF.read_text())["v1_1_6"]["modules"]["ISP"]
NO_TUNING_NEEDED = {  # tx-isp calls and the lifecycle: fine without EnableTuning
    "IMP_ISP_Open", "IMP_ISP_Close", "IMP_ISP_SetDefaultBinPath", "IMP_ISP_GetDefaultBinPath",
    "IMP_ISP_AddSensor", "IMP_ISP_DelSensor", "IMP_ISP_EnableSensor", "IMP_ISP_DisableSensor",
    "IMP_ISP_SetSensorRegister", "IMP_ISP_GetSensorRegister", "IMP_ISP_EnableTuning",
    "IMP_ISP_DisableTuning", "IMP_ISP_WDR_ENABLE", "IMP_ISP_WDR_ENABLE_Get",
    "IMP_ISP_SetFrameDrop", "IMP_ISP_GetFrameDrop", "IMP_ISP_SET_GPIO_INIT_OR_FREE",
    "IMP_ISP_SET_GPIO_STA", "IMP_ISP_SetAeAlgoFunc", "IMP_ISP_SetAwbAlgoFunc",
}  # fmt: skip


def _scalar_ptr(ctype: str) -> Any:
    return ctypes.c_ubyte() if ctype in ("unsigned char *", "uint8_t *") else ctypes.c_uint32()


def _valid(ctype: str) -> Any:
    """A well-formed argument of C type ``ctype`` (the state or the value is what is wrong)."""
    if ctype == "char *":
        return ctypes.create_string_buffer(b"/etc/sensor", 64)
    if ctype.startswith("void (*"):
        return ctypes.CFUNCTYPE(None)(lambda: None)
    if ctype.endswith("*"):
        struct = getattr(T, ctype[:-1].strip(), None)
        if isinstance(struct, type) and issubclass(struct, ctypes.Structure):
            return struct()
        return _scalar_ptr(ctype)
    return 1


def _wrong(ctype: str) -> Any:
    if ctype == "char *":
        return 123
    if ctype.startswith("void (*"):
        return 42
    if ctype.endswith("*"):
        struct = getattr(T, ctype[:-1].strip(), None)
        if isinstance(struct, type) and issubclass(struct, ctypes.Structure):
            return ctypes.c_int() if struct is not T.IMPISPWB else T.IMPISPGamma()
        return T.IMPISPWB()
    return "x"


def _struct(ctype: type, **fields: Any) -> Any:
    obj = ctype()
    for k, v in fields.items():
        setattr(obj, k, v)
    return obj


def _weights9() -> T.IMPISPWeight:
    w = T.IMPISPWeight()
    w.weight[3][4] = 9
    return w


def _nan_ccm() -> T.IMPISPCCMAttr:
    c = T.IMPISPCCMAttr()
    c.ColorMatrix[0] = float("nan")
    return c


def _empty_gpio() -> T.IMPISPGPIO:
    g = T.IMPISPGPIO()
    g.gpio_num[:] = [0xFF] * 10
    return g


def _drop32() -> T.IMPISPFrameDropAttr:
    d = T.IMPISPFrameDropAttr()
    d.fdrop[1].lsize = 32
    return d


def _expr2() -> T.IMPISPExpr:
    e = T.IMPISPExpr()
    e.s_attr.mode = 2
    return e


def _hist_desc() -> T.IMPISPAEHist:
    h = T.IMPISPAEHist()
    h.ae_histhresh[:] = [200, 100, 50, 10]
    return h


def _targets() -> T.IMPISPAETargetList:
    t = T.IMPISPAETargetList()
    t.at_list[2] = 300
    return t


OUT_OF_RANGE: dict[str, list[tuple[Any, ...]]] = {
    "IMP_ISP_SetDefaultBinPath": [(b"x" * 70,)],
    "IMP_ISP_GetDefaultBinPath": [(ctypes.create_string_buffer(10),)],
    "IMP_ISP_SetSensorRegister": [(-1, 0), (0, 1 << 32)],
    "IMP_ISP_Tuning_SetSensorFPS": [(0, 1), (25, 0), (1000, 1)],
    "IMP_ISP_Tuning_SetAntiFlickerAttr": [(3,), (-1,)],
    "IMP_ISP_Tuning_SetBrightness": [(256,), (-1,)],
    "IMP_ISP_Tuning_SetContrast": [(256,)],
    "IMP_ISP_Tuning_SetSharpness": [(300,)],
    "IMP_ISP_Tuning_SetBcshHue": [(256,)],
    "IMP_ISP_Tuning_SetSaturation": [(-1,)],
    "IMP_ISP_Tuning_SetISPBypass": [(2,)],
    "IMP_ISP_Tuning_SetISPHflip": [(2,)],
    "IMP_ISP_Tuning_SetISPVflip": [(2,)],
    "IMP_ISP_Tuning_SetISPRunningMode": [(2,)],
    "IMP_ISP_Tuning_SetISPCustomMode": [(3,)],
    "IMP_ISP_Tuning_SetAeComp": [(256,)],
    "IMP_ISP_Tuning_SetAeFreeze": [(2,)],
    "IMP_ISP_Tuning_SetMaxAgain": [(-1,), (0x10000,)],
    "IMP_ISP_Tuning_SetMaxDgain": [(0x10000,)],
    "IMP_ISP_Tuning_SetHiLightDepress": [(-1,)],
    "IMP_ISP_Tuning_SetBacklightComp": [(-1,)],
    "IMP_ISP_Tuning_SetTemperStrength": [(256,)],
    "IMP_ISP_Tuning_SetSinterStrength": [(256,)],
    "IMP_ISP_Tuning_SetAe_IT_MAX": [(0,), (0x10000,)],
    "IMP_ISP_Tuning_SetDPC_Strength": [(256,)],
    "IMP_ISP_Tuning_SetDRC_Strength": [(256,)],
    "IMP_ISP_Tuning_SetHVFLIP": [(4,)],
    "IMP_ISP_Tuning_EnableDRC": [(2,)],
    "IMP_ISP_Tuning_EnableDefog": [(2,)],
    "IMP_ISP_Tuning_SetWB_ALGO": [(3,)],
    "IMP_ISP_WDR_ENABLE": [(2,)],
    "IMP_ISP_Tuning_SetWB": [(_struct(T.IMPISPWB, mode=10),)],
    "IMP_ISP_Tuning_SetAeWeight": [(_weights9(),)],
    "IMP_ISP_Tuning_AE_SetROI": [(_weights9(),)],
    "IMP_ISP_Tuning_SetAfWeight": [(_weights9(),)],
    "IMP_ISP_Tuning_SetAwbWeight": [(_weights9(),)],
    "IMP_ISP_Tuning_SetExpr": [(_expr2(),)],
    "IMP_ISP_Tuning_SetMask": [(_struct(T.IMPISPMASKAttr, mask_type=2),)],
    "IMP_ISP_Tuning_SetCsc_Attr": [(_struct(T.IMPISPCscAttr, mode=5),)],
    "IMP_ISP_Tuning_SetFrontCrop": [(_struct(T.IMPISPFrontCrop, fcrop_enable=True),)],
    "IMP_ISP_Tuning_SetScalerLv": [(_struct(T.IMPISPScalerLv, channel=3),)],
    "IMP_ISP_Tuning_SetAutoZoom": [(_struct(T.IMPISPAutoZoom, chan=3),)],
    "IMP_ISP_Tuning_SetAeHist": [(_hist_desc(),)],
    "IMP_ISP_Tuning_SetAeTargetList": [(_targets(),)],
    "IMP_ISP_Tuning_SetAfHist": [(T.IMPISPAFHist(),)],  # nodeh/nodev 0
    "IMP_ISP_SetFixedContraster": [
        (_struct(T.IMPISPFixedContrastAttr, range_low=200, range_high=10),)
    ],
    "IMP_ISP_SET_GPIO_INIT_OR_FREE": [(_empty_gpio(),)],
    "IMP_ISP_SET_GPIO_STA": [(_empty_gpio(),)],
    "IMP_ISP_SetFrameDrop": [(_drop32(),)],
    "IMP_ISP_Tuning_SetAwbCt": [(ctypes.c_uint(500),)],
    "IMP_ISP_Tuning_SetDefog_Strength": [(ctypes.c_int(300),)],
    "IMP_ISP_Tuning_SetWdr_OutputMode": [(ctypes.c_int(3),)],
    "IMP_ISP_Tuning_SetCCMAttr": [(_nan_ccm(),)],
    "IMP_ISP_Tuning_WaitFrame": [(T.IMPISPWaitFrameAttr(timeout=1),)],  # no frame flows
    "IMP_ISP_SetAeAlgoFunc": [(T.IMPISPAeAlgoFunc(),)],  # handle NULL
    "IMP_ISP_SetAwbAlgoFunc": [(T.IMPISPAwbAlgoFunc(),)],
    "IMP_ISP_AddSensor": [(T.IMPSensorInfo(),)],  # already added (and no name)
    "IMP_ISP_DelSensor": [(_struct(T.IMPSensorInfo, name=b"sc2335"),)],
    "IMP_ISP_Open": [()],  # already open
}


def _expect_error(caplog: pytest.LogCaptureFixture, name: str, args: tuple[Any, ...]) -> None:
    fn: Callable[..., int] = getattr(capi, name)
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="imp.capi"):
        ret = fn(*args)
    assert ret == -1, f"{name}{args!r} returned {ret}"
    assert any(r.name == "imp.capi" and name in r.getMessage() for r in caplog.records), name


def _valid_args(f: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(_valid(t) for t, _ in f["args"])


def test_every_function_fails_before_open(caplog: pytest.LogCaptureFixture) -> None:
    checked = 0
    for f in FUNCS:
        if f["name"] == "IMP_ISP_Open":
            continue
        _expect_error(caplog, f["name"], _valid_args(f))
        checked += 1
    assert checked == 134


@pytest.fixture
def sensor_without_tuning() -> Iterator[None]:
    from imp.isp import SensorInfo, get_isp

    isp = get_isp()
    isp.open()
    isp.add_sensor(SensorInfo("gc2053"))
    isp.enable_sensor()
    yield
    isp.close()


def test_tuning_functions_fail_before_enable_tuning(
    caplog: pytest.LogCaptureFixture, sensor_without_tuning: None
) -> None:
    names = [f for f in FUNCS if f["name"] not in NO_TUNING_NEEDED]
    for f in names:
        _expect_error(caplog, f["name"], _valid_args(f))
    assert len(names) == 115
    # the register calls need a sensor: after DelSensor they fail too
    assert capi.IMP_ISP_DisableSensor() == 0
    assert capi.IMP_ISP_DelSensor(_struct(T.IMPSensorInfo, name=b"gc2053")) == 0
    _expect_error(caplog, "IMP_ISP_SetSensorRegister", (1, 2))
    _expect_error(caplog, "IMP_ISP_GetSensorRegister", (1, ctypes.c_uint32()))


def test_null_wrong_types_and_out_of_range_with_tuning_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with running_system("virtual", sensor_size=(640, 360)):
        calls = 0
        for f in FUNCS:
            name, args = f["name"], f["args"]
            for i, (ctype, _) in enumerate(args):
                good = list(_valid_args(f))
                bad: list[Any] = [_wrong(ctype)]
                if ctype.endswith("*"):
                    bad.append(None)
                for value in bad:
                    _expect_error(caplog, name, (*good[:i], value, *good[i + 1 :]))
                    calls += 1
            for bad_args in OUT_OF_RANGE.get(name, []):
                _expect_error(caplog, name, bad_args)
                calls += 1
        with_args = sum(1 for f in FUNCS if f["args"])
        covered = {f["name"] for f in FUNCS if f["args"]} | set(OUT_OF_RANGE)
        print(f"{calls} bad calls over {len(covered)} functions ({with_args} take arguments)")
        assert calls > 250
        # the functions without arguments were called out of order above (before Open, before
        # EnableTuning); IMP_ISP_Open a second time is in OUT_OF_RANGE
