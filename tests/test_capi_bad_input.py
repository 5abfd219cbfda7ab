"""Bad input to every System / FrameSource / ISP / Encoder / IVS / OSD / Decoder /
EmuFrameSource / Log / Utils function: -1 (or the documented error
value) and a log line from ``imp.capi``; never an exception. Checked out of order and while
running."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import imp.capi as capi
from imp.capi._inventory import FUNCTIONS_1_1_6
from imp.errors import ImpError, InvalidArgument, InvalidState, NotFound
from tests.conftest import running_system

MODULES = (
    "System", "FrameSource", "ISP", "Encoder", "IVS", "OSD",
    "Decoder", "EmuFrameSource", "Log", "Utils", "Common",
)  # fmt: skip
# NULL is a valid argument here (usage.md §0 item 5: prudynt and the samples pass it).
NULL_ACCEPTED = {"IMP_OSD_CreateRgn"}
# Functions with no arguments that are valid in every state (they have no error return).
ALWAYS_VALID = {"IMP_System_GetTimeStamp", "IMP_System_GetCPUInfo", "IMP_Log_Get_Option"}


def _api() -> dict[str, list[list[str]]]:
    import json
    import os
    from pathlib import Path

    path = Path(
        os.environ.get(
            "IMP_API_JSON", Path(__file__).parents[1].parent / "shared/reference/imp_api.json"
        )
    )
    if not path.exists():
        pytest.skip(f"reference {path} not found")
    v = json.loads(path.read_text())["v1_1_6"]
    return {f["name"]: (f["ret"], f["args"]) for m in MODULES for f in v["modules"][m]}  # type: ignore[misc]


def _error_value(ret: str) -> Any:
    if "*" in ret or ret == "void":
        return None
    if ret in ("int64_t", "uint32_t"):
        return 0
    return -1


def _bad_arg_sets(args: list[list[str]]) -> list[tuple[Any, ...]]:
    if not args:
        return [()]
    takes_version = any("IMPVersion" in t for t, _ in args)
    wrong_struct = capi.IMPCell() if takes_version else capi.IMPVersion()
    return [
        tuple(None for _ in args),
        tuple(12345 if "char *" in t else "bad" for t, _ in args),  # a str is a fine char *
        tuple(
            wrong_struct if "*" in t or ("IMP" in t and "Mode" not in t) else -5 for t, _ in args
        ),
        tuple(-5 if "*" not in t else None for t, _ in args),
    ]


def _implemented() -> list[str]:
    names = [n for n, m in FUNCTIONS_1_1_6.items() if m in MODULES]
    return sorted(n for n in names if "not implemented" not in (getattr(capi, n).__doc__ or ""))


def _check_all(caplog: pytest.LogCaptureFixture, state: str) -> int:
    api = _api()
    checked = 0
    for name in _implemented():
        if name in ALWAYS_VALID or name not in api:
            continue
        ret, args = api[name]
        if not args:
            # No argument to get wrong: only the order can be. Before anything, Init and Open
            # are the right first calls; once running, calling them again is the error.
            first_calls = ("IMP_System_Init", "IMP_ISP_Open")
            if (state == "running") != (name in first_calls):
                continue
        for bad in _bad_arg_sets(args):
            if name in NULL_ACCEPTED and all(a is None for a in bad):
                continue
            caplog.clear()
            with caplog.at_level(logging.ERROR, logger="imp.capi"):
                result = getattr(capi, name)(*bad)
            assert result == _error_value(ret), f"{name}{bad} returned {result!r} ({state})"
            assert any(r.name == "imp.capi" and name in r.getMessage() for r in caplog.records), (
                f"{name}{bad}: no log line ({state})"
            )
            checked += 1
    return checked


def test_bad_input_out_of_order(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing initialised: every call fails cleanly."""
    n = _check_all(caplog, "uninitialised")
    print(f"{n} bad calls checked before any init")
    assert n > 100


def test_bad_input_while_running(caplog: pytest.LogCaptureFixture) -> None:
    with running_system("virtual"):
        a = capi.IMPFSChnAttr()
        a.picWidth, a.picHeight, a.pixFmt, a.nrVBs = 640, 360, capi.PIX_FMT_NV12, 2
        a.outFrmRateNum, a.outFrmRateDen = 25, 1
        a.scaler.enable, a.scaler.outwidth, a.scaler.outheight = 1, 640, 360
        assert capi.IMP_FrameSource_CreateChn(0, a) == 0
        assert capi.IMP_FrameSource_EnableChn(0) == 0
        n = _check_all(caplog, "running")
        assert capi.IMP_System_Init() == -1  # twice
        assert capi.IMP_ISP_Open() == -1
        assert capi.IMP_FrameSource_DestroyChn(0) == -1  # enabled: disable first
        assert capi.IMP_FrameSource_DisableChn(0) == 0
        assert capi.IMP_FrameSource_DisableChn(0) == -1
        assert capi.IMP_FrameSource_DestroyChn(0) == 0
    print(f"{n} bad calls checked while running")
    assert n > 100


def test_pythonic_errors_are_imp_errors_with_builtin_bases() -> None:
    from imp.framesource import ChannelAttr, get_framesource
    from imp.isp import get_isp

    fs = get_framesource()
    with pytest.raises(InvalidState, match="IMP_System_Init"):
        fs.create(0, ChannelAttr(640, 360))
    with pytest.raises(InvalidState, match="IMP_ISP_Open"):
        get_isp().enable_sensor()
    with running_system("virtual"):
        with pytest.raises(InvalidArgument) as e:
            fs.create(9, ChannelAttr(640, 360))
        assert isinstance(e.value, ValueError) and isinstance(e.value, ImpError)
        with pytest.raises(NotFound, match="CreateChn"):
            fs.enable(1)
        with pytest.raises(InvalidArgument, match="even"):
            fs.create(0, ChannelAttr(641, 360))
        with pytest.raises(InvalidArgument, match=r"0\.\.255"):
            get_isp().set_control("brightness", 300)
        with pytest.raises(InvalidArgument, match="unknown ISP control"):
            get_isp().set_control("shininess", 1)
