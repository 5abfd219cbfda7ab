"""What the C functions put on the wire: the ioctl command, dir, id and value encoding that
isp_tuning_ids.md gives for each (its §5 corrections especially), recorded at the kernel seam."""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from imp import runtime
from imp.capi import *
from tests.conftest import running_system

S_CTRL, G_CTRL, DEFAULT = 0xC008561C, 0xC008561B, 0xC00C56C6


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[int, bytes]]]:
    """Every ioctl (cmd, argument bytes as passed) while the system runs."""
    calls: list[tuple[int, bytes]] = []
    with running_system("virtual", sensor_size=(640, 360)):
        kernel = runtime.kernel()
        real = kernel.ioctl

        def record(fd: int, cmd: int, arg: bytearray) -> int:
            calls.append((cmd, bytes(arg)))
            return real(fd, cmd, arg)

        monkeypatch.setattr(kernel, "ioctl", record)
        yield calls


def _one(calls: list[tuple[int, bytes]], fn: Callable[[], int]) -> list[tuple[int, bytes]]:
    calls.clear()
    assert fn() == 0
    return list(calls)


def _tuning(call: tuple[int, bytes]) -> tuple[int, int, int]:
    """(dir, id, value) of a DEFAULT_CMD call."""
    cmd, arg = call
    assert cmd == DEFAULT and len(arg) == 12
    d, cid, value = struct.unpack("<IIi", arg)
    return d, cid, value


CASES: list[tuple[str, Callable[[], Any], int, int, str]] = [
    # (what, call, dir, id, value kind: "ptr" or the scalar expected)
    ("AeAttr set", lambda: IMP_ISP_Tuning_SetAeAttr(IMPISPAEAttr()), 0, 0x8000035, "ptr"),
    ("AeAttr get", lambda: IMP_ISP_Tuning_GetAeAttr(IMPISPAEAttr()), 1, 0x8000035, "ptr"),
    ("AE ROI", lambda: IMP_ISP_Tuning_AE_SetROI(IMPISPWeight()), 0, 0x8000024, "ptr"),
    ("AeMin", lambda: IMP_ISP_Tuning_GetAeMin(IMPISPAEMin()), 1, 0x800002F, "ptr"),
    (
        "AeHist_Origin",
        lambda: IMP_ISP_Tuning_GetAeHist_Origin(IMPISPAEHistOrigin()),
        1,
        0x8000031,
        "ptr",
    ),
    ("AfZone", lambda: IMP_ISP_Tuning_GetAfZone(IMPISPZone()), 1, 0x8000046, "ptr"),
    ("SensorAttr", lambda: IMP_ISP_Tuning_GetSensorAttr(IMPISPSENSORAttr()), 1, 0x8000045, "ptr"),
    ("HVFLIP", lambda: IMP_ISP_Tuning_SetHVFLIP(IMPISP_FLIP_HV_MODE), 0, 0x80000E4, 3),
    (
        "GetAWBCt",
        lambda: IMP_ISP_Tuning_GetAWBCt(ctypes.byref(ctypes.c_uint())),
        1,
        0x800000D,
        "ptr",
    ),
    (
        "Defog",
        lambda: IMP_ISP_Tuning_SetDefog_Strength(ctypes.byref(ctypes.c_uint8(9))),
        0,
        0x8000039,
        "ptr",
    ),
    (
        "Wdr out",
        lambda: IMP_ISP_Tuning_SetWdr_OutputMode(ctypes.byref(ctypes.c_int(1))),
        0,
        0x80000EA,
        "ptr",
    ),
    ("ScalerLv", lambda: IMP_ISP_Tuning_SetScalerLv(IMPISPScalerLv(0, 0, 10)), 0, 0x80000E9, "ptr"),
    ("EnableDRC", lambda: IMP_ISP_Tuning_EnableDRC(1), 0, 0x80000A3, 1),
    (
        "FixedContraster",
        lambda: IMP_ISP_SetFixedContraster(IMPISPFixedContrastAttr(0, 1, 2)),
        0,
        0x8000102,
        "ptr",
    ),
    ("HiLightDepress", lambda: IMP_ISP_Tuning_SetHiLightDepress(3), 0, 0x800002A, 3),
    ("SensorFPS", lambda: IMP_ISP_Tuning_SetSensorFPS(20, 1), 0, 0x80000E0, (20 << 16) | 1),
    ("Hue", lambda: IMP_ISP_Tuning_SetBcshHue(99), 0, 0x8000101, 99),
    ("AeComp get", lambda: IMP_ISP_Tuning_GetAeComp(ctypes.byref(ctypes.c_int())), 1, 0x8000023, 0),
]


@pytest.mark.parametrize("what,call,direction,cid,value", CASES, ids=[c[0] for c in CASES])
def test_default_cmd_calls(
    wire: list[tuple[int, bytes]],
    what: str,
    call: Callable[[], int],
    direction: int,
    cid: int,
    value: Any,
) -> None:
    calls = _one(wire, call)
    assert len(calls) == 1, what
    d, got_id, got_value = _tuning(calls[0])
    assert (d, got_id) == (direction, cid), what
    if value == "ptr":
        assert got_value != 0  # a user address, not a scalar
    else:
        assert got_value == value


def test_v4l2_ids_use_s_ctrl_and_g_ctrl(wire: list[tuple[int, bytes]]) -> None:
    calls = _one(wire, lambda: IMP_ISP_Tuning_SetBrightness(140))
    assert calls == [(S_CTRL, struct.pack("<Ii", 0x980900, 140))]
    calls = _one(wire, lambda: IMP_ISP_Tuning_GetSaturation(ctypes.byref(ctypes.c_ubyte())))
    assert [(c, a[:4]) for c, a in calls] == [(G_CTRL, struct.pack("<I", 0x980902))]
    assert _one(wire, lambda: IMP_ISP_Tuning_GetContrast(ctypes.byref(ctypes.c_ubyte()))) == []


def test_bypass_rebuilds_the_link_around_s_ctrl(wire: list[tuple[int, bytes]]) -> None:
    calls = _one(wire, lambda: IMP_ISP_Tuning_SetISPBypass(IMPISP_TUNING_OPS_MODE_ENABLE))
    assert [c for c, _ in calls] == [0x800456D3, 0x800456D1, S_CTRL, 0x800456D0, 0x800456D2]
    assert calls[1][1] == struct.pack("<i", -1) and calls[3][1] == struct.pack("<i", 0)
    assert calls[2][1] == struct.pack("<Ii", 0x8000164, 1)


def test_tx_isp_commands(wire: list[tuple[int, bytes]]) -> None:
    calls = _one(wire, lambda: IMP_ISP_SetSensorRegister(0x3E01, 0x46))
    assert len(calls) == 1 and calls[0][0] == 0x8038564F and len(calls[0][1]) == 56
    match_type, name = struct.unpack_from("<I32s", calls[0][1])
    reg, val = struct.unpack_from("<QQ", calls[0][1], 40)
    assert (match_type, name.rstrip(b"\0"), reg, val) == (1, b"gc2053", 0x3E01, 0x46)
    g = IMPISPGPIO()
    g.gpio_num[:] = [7] + [0xFF] * 9
    calls = _one(wire, lambda: IMP_ISP_SET_GPIO_STA(g))
    assert calls == [(0xC00456E9, bytes(g))]
    calls = _one(wire, lambda: IMP_ISP_SetFrameDrop(IMPISPFrameDropAttr()))
    assert [(c, len(a)) for c, a in calls] == [(0xC00456E6, 36)]
    calls = _one(wire, lambda: IMP_ISP_WDR_ENABLE(IMPISP_TUNING_OPS_MODE_ENABLE))
    assert calls == [(0x800456D8, bytes(4))]
