"""``imp.kernel.abi_isp`` against isp_tuning_ids.md, read independently from the reference table.

Every function row that names a tuning id must match the control the C API sends: the id, the
transport (S_CTRL/G_CTRL or DEFAULT_CMD) and, for user pointers, the copy size in bytes. Then each
id is driven through the fake tuning node the way the row says, checking what the node copies.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
from pathlib import Path

import pytest

from imp.kernel import abi
from imp.kernel.abi_isp import (
    BY_ID,
    CONTROLS,
    LAYOUTS,
    NOOP_GET_IDS,
    NOOP_SET_IDS,
)
from imp.kernel.lowmem import LowBuffer

REF = Path(os.environ.get("IMP_ISP_IDS_MD", Path(__file__).parents[1].parent / "shared/reference"))
MD = REF / "isp_tuning_ids.md" if REF.is_dir() else REF

# function -> the control it drives (functions without a tuning id are tx-isp or library-only)
FUNCTION_CONTROL = {
    "SetAutoZoom": "autozoom", "SetSensorFPS": "sensor_fps", "GetSensorFPS": "sensor_fps",
    "SetAntiFlickerAttr": "anti_flicker", "GetAntiFlickerAttr": "anti_flicker",
    "SetBrightness": "brightness", "GetBrightness": "brightness", "SetContrast": "contrast",
    "SetSharpness": "sharpness", "SetBcshHue": "hue", "GetBcshHue": "hue",
    "SetSaturation": "saturation", "GetSaturation": "saturation", "SetISPBypass": "isp_bypass",
    "GetTotalGain": "total_gain", "SetISPHflip": "hflip", "GetISPHflip": "hflip",
    "SetISPVflip": "vflip", "GetISPVflip": "vflip", "SetISPRunningMode": "running_mode",
    "GetISPRunningMode": "running_mode", "SetISPCustomMode": "custom_mode",
    "GetISPCustomMode": "custom_mode", "SetGamma": "gamma", "GetGamma": "gamma",
    "SetAeComp": "ae_comp", "GetAeComp": "ae_comp", "GetAeLuma": "ae_luma",
    "SetAeFreeze": "ae_freeze", "SetExpr": "expr", "GetExpr": "expr", "SetWB": "wb",
    "GetWB": "wb", "GetWB_Statis": "wb_statis", "GetWB_GOL_Statis": "wb_gol_statis",
    "SetAwbClust": "awb_cluster", "GetAwbClust": "awb_cluster", "SetAwbCtTrend": "awb_ct_trend",
    "GetAwbCtTrend": "awb_ct_trend", "Awb_GetRgbCoefft": "rgb_coefft",
    "Awb_SetRgbCoefft": "rgb_coefft", "SetMaxAgain": "max_again", "GetMaxAgain": "max_again",
    "SetMaxDgain": "max_dgain", "GetMaxDgain": "max_dgain",
    "SetHiLightDepress": "highlight_depress", "GetHiLightDepress": "highlight_depress",
    "SetBacklightComp": "backlight_comp", "GetBacklightComp": "backlight_comp",
    "SetTemperStrength": "temper_strength", "SetSinterStrength": "sinter_strength",
    "GetEVAttr": "ev_attr", "EnableMovestate": "movestate", "DisableMovestate": "movestate",
    "SetAeWeight": "ae_weight", "GetAeWeight": "ae_weight", "AE_GetROI": "ae_roi",
    "AE_SetROI": "ae_roi", "SetAwbWeight": "awb_weight", "GetAwbWeight": "awb_weight",
    "GetAwbZone": "awb_zone", "SetWB_ALGO": "wb_algo", "SetAeHist": "ae_hist",
    "GetAeHist": "ae_hist", "GetAeHist_Origin": "ae_hist_origin", "GetAwbHist": "awb_hist",
    "SetAwbHist": "awb_hist", "GetAFMetrices": "af_metric", "GetAfHist": "af_hist",
    "SetAfHist": "af_hist", "SetAfWeight": "af_weight", "GetAfWeight": "af_weight",
    "GetAfZone": "af_zone", "WaitFrame": "wait_frame", "SetAeMin": "ae_min",
    "GetAeMin": "ae_min", "SetAe_IT_MAX": "ae_it_max", "GetAE_IT_MAX": "ae_it_max",
    "GetAeZone": "ae_zone", "SetAeTargetList": "ae_target_list",
    "GetAeTargetList": "ae_target_list", "SetModuleControl": "module_control",
    "GetModuleControl": "module_control", "SetFrontCrop": "front_crop",
    "GetFrontCrop": "front_crop", "SetDPC_Strength": "dpc_strength",
    "GetDPC_Strength": "dpc_strength", "SetDRC_Strength": "drc_strength",
    "GetDRC_Strength": "drc_strength", "SetHVFLIP": "hvflip", "GetHVFlip": "hvflip",
    "SetMask": "mask", "GetMask": "mask", "GetSensorAttr": "sensor_attr",
    "EnableDRC": "drc_enable", "EnableDefog": "defog_enable", "SetAwbCt": "awb_ct",
    "GetAWBCt": "awb_ct", "SetCCMAttr": "ccm_attr", "GetCCMAttr": "ccm_attr",
    "SetAeAttr": "ae_attr", "GetAeAttr": "ae_attr", "GetAeState": "ae_state",
    "SetScalerLv": "scaler_level", "GetBlcAttr": "blc_attr",
    "SetDefog_Strength": "defog_strength", "GetDefog_Strength": "defog_strength",
    "SetCsc_Attr": "csc_attr", "GetCsc_Attr": "csc_attr",
    "SetWdr_OutputMode": "wdr_output_mode", "GetWdr_OutputMode": "wdr_output_mode",
    "SetFixedContraster": "fixed_contrast",
}  # fmt: skip


def _rows() -> list[list[str]]:
    if not MD.is_file():
        pytest.skip(f"{MD} not found (set IMP_ISP_IDS_MD)")
    rows = []
    for line in MD.read_text(encoding="utf-8").splitlines():
        if re.match(r"^\| \d+ \| `IMP_ISP_", line):
            rows.append([c.strip() for c in line.strip("|").split(" | ")])
    return rows


def test_every_tuning_id_row_matches_the_control_table() -> None:
    rows = _rows()
    assert len(rows) == 135
    matched: set[str] = set()
    for row in rows:
        fn = row[1].strip("`").removeprefix("IMP_ISP_").removeprefix("Tuning_")
        ids = re.findall(r"0x[0-9a-f]{6,7}", row[2])
        if not ids or row[3].startswith("none"):
            continue  # tx-isp or library-only (GetContrast/GetSharpness answer from a cache)
        ctl = CONTROLS[FUNCTION_CONTROL[fn]]
        assert ctl.cid == int(ids[0], 16), fn
        via, encoding = row[3], row[4]
        assert ctl.v4l2 == ("S_CTRL" in via or "G_CTRL" in via), fn
        sizes = re.findall(r"(\d+)[ -]B\b", encoding)
        pointer = "ptr" in encoding or "pointer" in encoding
        if pointer and sizes and ctl.size:
            assert ctl.size == int(sizes[0]), f"{fn}: {ctl.size} != {sizes[0]}"
        matched.add(fn)
    assert matched == set(FUNCTION_CONTROL)


def test_layouts_have_the_reference_sizes_and_offsets() -> None:
    for cls, size, offsets in LAYOUTS:
        assert ctypes.sizeof(cls) == size, cls.__name__
        for field, offset in offsets.items():
            assert getattr(cls, field).offset == offset, (cls.__name__, field)


def test_no_op_ids_are_the_reference_ones() -> None:
    assert {0x98091F, 0x8000165, 0x8000169, 0x8000140} <= NOOP_SET_IDS
    assert {0x8000000, 0x8000020, 0x8000160, 0x8000169} <= NOOP_GET_IDS
    assert BY_ID[0x8000020].name if 0x8000020 in BY_ID else True  # AE attr is not 0x8000020
    assert CONTROLS["ae_attr"].cid == 0x8000035 and CONTROLS["ae_roi"].cid == 0x8000024


def _node():  # type: ignore[no-untyped-def]
    from kernel_stubs import SimConfig, SimKernel

    k = SimKernel(SimConfig())
    tx = k.open("/dev/tx-isp", abi.TX_ISP_OPEN_FLAGS)
    fd = k.open("/dev/isp-m0", abi.TX_ISP_OPEN_FLAGS)
    return k, tx, fd


def test_the_node_copies_exactly_the_reference_sizes() -> None:
    """A user buffer one byte shorter than the id's size is a fault (the copy reads/writes it
    all); every settable pointer id round-trips its bytes."""
    k, tx, fd = _node()
    low = LowBuffer(8192)
    try:
        for ctl in CONTROLS.values():
            if ctl.set != "ptr" and ctl.get != "ptr":
                continue
            if ctl.name == "wait_frame":
                continue  # blocks for a frame: tests/test_isp_capi_functions.py
            # place the buffer so that its last byte is the last mapped byte
            addr = low.addr + low.size - ctl.size
            if ctl.get == "ptr":
                arg = abi.IspTuningCtrl(1, ctl.cid, addr).pack()
                k.ioctl(fd, 0xC00C56C6, arg)
                got = bytes(low.view[low.size - ctl.size :])
                assert len(got) == ctl.size
            if ctl.set == "ptr" and ctl.get == "ptr" and not ctl.weights:
                k.ioctl(fd, 0xC00C56C6, abi.IspTuningCtrl(0, ctl.cid, addr).pack())
    finally:
        k.close(fd)
        k.close(tx)
        k.shutdown()
    del low


def test_the_node_state_rules() -> None:
    k, tx, fd = _node()
    try:
        with pytest.raises(OSError) as info:
            k.open("/dev/isp-m0", abi.TX_ISP_OPEN_FLAGS)  # exclusive
        assert info.value.errno == errno.EPERM
        for cid in (0x8000020, 0x800FFFF):  # refused / unknown id
            with pytest.raises(OSError) as info:
                k.ioctl(fd, 0xC00C56C6, abi.IspTuningCtrl(0, cid, 0).pack())
            assert info.value.errno == errno.EPERM
        k.ioctl(fd, 0xC00C56C6, abi.IspTuningCtrl(0, 0x8000165, 0).pack())  # no-op: 0
        with pytest.raises(OSError) as info:  # set of a get-only id
            k.ioctl(fd, 0xC00C56C6, abi.IspTuningCtrl(0, CONTROLS["total_gain"].cid, 1).pack())
        assert info.value.errno == errno.EPERM
        with pytest.raises(OSError) as info:  # a NULL user pointer
            k.ioctl(fd, 0xC00C56C6, abi.IspTuningCtrl(1, CONTROLS["gamma"].cid, 0).pack())
        assert info.value.errno == errno.EFAULT
        with pytest.raises(OSError) as info:  # 12-byte call with 8 bytes
            k.ioctl(fd, 0xC00C56C6, bytearray(8))
        with pytest.raises(OSError) as info:  # hue >= 256 is -1 in the 1.1.6 kernel
            k.ioctl(fd, 0xC00C56C6, abi.IspTuningCtrl(0, CONTROLS["hue"].cid, 256).pack())
        assert info.value.errno == errno.EPERM
        # the node answers every id of the table one way or the other
        low = LowBuffer(4096)
        for ctl in CONTROLS.values():
            if ctl.get in ("int", "noop") or (ctl.get == "ptr" and ctl.name != "wait_frame"):
                k.ioctl(fd, 0xC00C56C6, abi.IspTuningCtrl(1, ctl.cid, low.addr).pack())
        del low
    finally:
        k.close(fd)
        k.close(tx)
        k.shutdown()
