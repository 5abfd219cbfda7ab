"""The ISP tuning ABI (``imp.kernel.abi_isp``, isp_tuning_ids.md) seen from a MIPS32 process.

Kernel-side layouts, the copy size of every pointer control against the o32 size of the header
struct the C API passes, the custom-3A buffers, the tx-isp command numbers, and a tuning call
through the fake node with a real 32-bit user pointer in the ``value`` word.
"""

from __future__ import annotations

import ctypes
from collections import Counter
from typing import Any

from imp.kernel import abi
from imp.kernel import abi_isp as A

# control -> the 1.1.6 header struct the C API hands to the driver unchanged
HEADER_STRUCTS = {
    "gamma": "IMPISPGamma", "awb_cluster": "IMPISPAWBCluster", "awb_ct_trend": "IMPISPAWBCtTrend",
    "ae_weight": "IMPISPWeight", "af_weight": "IMPISPWeight", "ae_roi": "IMPISPWeight",
    "ae_hist": "IMPISPAEHist", "ae_min": "IMPISPAEMin", "ae_target_list": "IMPISPAETargetList",
    "module_control": "IMPISPModuleCtl", "front_crop": "IMPISPFrontCrop", "mask": "IMPISPMASKAttr",
    "csc_attr": "IMPISPCscAttr", "autozoom": "IMPISPAutoZoom", "scaler_level": "IMPISPScalerLv",
    "ev_attr": "IMPISPEVAttr", "awb_zone": "IMPISPAWBZone", "ae_hist_origin": "IMPISPAEHistOrigin",
    "ae_zone": "IMPISPZone", "af_zone": "IMPISPZone", "ae_state": "IMPISPAEState",
    "sensor_attr": "IMPISPSENSORAttr", "blc_attr": "IMPISPBlcAttr", "wb": "IMPISPWB",
    "expr": "IMPISPExpr", "rgb_coefft": "IMPISPCOEFFTWB",
}  # fmt: skip


def test_kernel_layouts(checked: Counter[str]) -> None:
    for cls, size, offsets in A.LAYOUTS:
        assert ctypes.sizeof(cls) == size, cls.__name__
        checked["ISP kernel layouts (sizeof)"] += 1
        for field, offset in offsets.items():
            assert getattr(cls, field).offset == offset, (cls.__name__, field)
            checked["ISP kernel layout offsets"] += 1


def test_pointer_controls_copy_the_o32_header_size(
    v116: dict[str, Any], checked: Counter[str]
) -> None:
    import imp.types as T

    for name, struct in HEADER_STRUCTS.items():
        ctl = A.CONTROLS[name]
        assert ctypes.sizeof(getattr(T, struct)) == ctl.size, (name, struct)
        assert v116["sizeof_mips32"][struct] == ctl.size, (name, struct)
        checked["ISP control copy sizes"] += 1
    # the header structs that the kernel does not take as they are
    for struct, kernel in (("IMPISPCCMAttr", 40), ("IMPISPAEAttr", 152), ("IMPISPAFHist", 88)):
        assert v116["sizeof_mips32"][struct] != kernel
        checked["ISP converted layouts"] += 1
    assert (
        v116["sizeof_mips32"]["IMPISPFixedContrastAttr"] == 8
        and A.CONTROLS["fixed_contrast"].size == 3
    )


def test_custom_3a_buffers(checked: Counter[str]) -> None:
    import imp.types as T

    for struct, total in (
        (T.IMPISPAeInfo, A.AE_ALGO_GET_SIZE),
        (T.IMPISPAeAttr, A.AE_ALGO_SET_SIZE),
        (T.IMPISPAeInitAttr, A.AE_ALGO_OPEN_SIZE),
        (T.IMPISPAwbInfo, A.AWB_ALGO_GET_SIZE),
        (T.IMPISPAwbAttr, A.AWB_ALGO_SET_SIZE),
    ):
        assert A.ALGO_PREFIX + ctypes.sizeof(struct) == total, struct.__name__
        checked["ISP custom 3A buffers"] += 1
    assert ctypes.sizeof(T.IMPISPAeAlgoFunc) == ctypes.sizeof(T.IMPISPAwbAlgoFunc) == 20
    assert ctypes.sizeof(T.IMPISPGPIO) == A.GPIO_ATTR_SIZE == 42
    assert ctypes.sizeof(T.IMPISPFrameDropAttr) == A.FRAME_DROP_SIZE == 36


def test_ioctl_numbers(checked: Counter[str]) -> None:
    from imp.isp import board

    for cmd, direction, nr, size in (
        (A.VIDIOC_G_CTRL, "rw", 0x1B, 8),
        (A.VIDIOC_S_CTRL, "rw", 0x1C, 8),
        (A.VIDIOC_DEFAULT_CMD_ISP_TUNING, "rw", 0xC6, 12),
        (A.TISP_GET_AE_ALGO_HANDLE, "w", 0xDB, 4),
        (A.TISP_SET_AE_ALGO_HANDLE, "w", 0xDC, 4),
        (A.TISP_AE_ALGO_OPEN, "w", 0xDD, 4),
        (A.TISP_AE_ALGO_CLOSE, "w", 0xDE, 4),
        (A.TISP_GET_AWB_ALGO_HANDLE, "rw", 0xE1, 4),
        (A.TISP_SET_AWB_ALGO_HANDLE, "rw", 0xE2, 4),
        (A.TISP_AWB_ALGO_OPEN, "rw", 0xE3, 4),
        (A.TISP_AWB_ALGO_CLOSE, "rw", 0xE4, 4),
        (board.TISP_SET_FRAME_DROP, "rw", 0xE6, 4),
        (board.TISP_GET_FRAME_DROP, "rw", 0xE7, 4),
        (board.VIDIOC_SET_GPIO_INIT, "rw", 0xE8, 4),
        (board.VIDIOC_SET_GPIO_STA, "rw", 0xE9, 4),
        (board.VIDIOC_ISP_WDR_ENABLE, "w", 0xD8, 4),
        (board.VIDIOC_ISP_WDR_DISABLE, "w", 0xD9, 4),
        (board.VIDIOC_DBG_S_REGISTER, "w", 0x4F, 0x38),
        (board.VIDIOC_DBG_G_REGISTER, "rw", 0x50, 0x38),
    ):
        assert cmd == abi.ioc(direction, "V", nr, size, arch="mips"), hex(cmd)
        checked["ISP ioctl numbers"] += 1


def test_tuning_call_with_a_32_bit_user_pointer(checked: Counter[str]) -> None:
    """The C API's bounce buffer address travels in the s32 value word; the node copies it."""
    from imp.drivers.tuning import TuningDevice
    from kernel_stubs import SimConfig, SimKernel

    k = SimKernel(SimConfig())
    tx = k.open("/dev/tx-isp", abi.TX_ISP_OPEN_FLAGS)
    dev = TuningDevice(k)
    dev.open()
    try:
        curve = bytes(i % 256 for i in range(258))
        dev.set_bytes(A.CONTROLS["gamma"], curve)
        assert dev.get_bytes(A.CONTROLS["gamma"]) == curve
        wb = bytes(A.KernelWB(mode=1, rgain=300, bgain=200))
        dev.set_bytes(A.CONTROLS["wb"], wb)
        assert dev.get_bytes(A.CONTROLS["wb"]) == wb
        dev.set(A.CONTROLS["brightness"], 200)  # S_CTRL
        assert dev.get(A.CONTROLS["brightness"]) == 200
        checked["ISP tuning calls"] += 3
    finally:
        dev.close()
        k.close(tx)
        k.shutdown()
