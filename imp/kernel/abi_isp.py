"""The ISP tuning ABI: control ids, how each travels, copy sizes and kernel-side layouts.

Source: isp_tuning_ids.md (the 1.1.6 tx-isp core disassembled; its §5 corrects openimp and the
old kernel_abi.md §3.4). ``CONTROLS`` is the one table of what ``/dev/isp-m0`` does with each id:
the library takes the encoding from it and the fake kernel enforces it, and
``tests/test_isp_abi.py`` / ``tests/mips/test_isp_layouts.py`` check every entry against the
numbers of the reference. All layouts are pointer-free, so they are the same on the board
(MIPS o32) and on a 64-bit simulator host.
"""

from __future__ import annotations

import ctypes
from ctypes import c_uint8, c_uint16, c_uint32, c_uint64
from dataclasses import dataclass

# --- transports (isp_tuning_ids.md §1) ------------------------------------------------------
VIDIOC_G_CTRL = 0xC008561B  # {u32 id; s32 value}
VIDIOC_S_CTRL = 0xC008561C
VIDIOC_DEFAULT_CMD_ISP_TUNING = 0xC00C56C6  # {u32 dir; u32 id; s32 value}
DIR_SET, DIR_GET = 0, 1

# --- tx-isp commands of the tuning API (§4) -----------------------------------------------
TISP_GET_AE_ALGO_HANDLE = 0x800456DB  # blocks; 2008 B out
TISP_SET_AE_ALGO_HANDLE = 0x800456DC  # 56 B in
TISP_AE_ALGO_OPEN = 0x800456DD  # 128 B in/out
TISP_AE_ALGO_CLOSE = 0x800456DE  # 8 B in
TISP_GET_AWB_ALGO_HANDLE = 0xC00456E1  # blocks; 707 B out
TISP_SET_AWB_ALGO_HANDLE = 0xC00456E2  # 24 B in
TISP_AWB_ALGO_OPEN = 0xC00456E3
TISP_AWB_ALGO_CLOSE = 0xC00456E4
AE_ALGO_GET_SIZE, AE_ALGO_SET_SIZE, AE_ALGO_OPEN_SIZE, ALGO_CLOSE_SIZE = 2008, 56, 128, 8
AWB_ALGO_GET_SIZE, AWB_ALGO_SET_SIZE = 707, 24
ALGO_PREFIX = 8  # an 8-byte prefix in front of every AE/AWB algorithm buffer (not interpreted)
GPIO_ATTR_SIZE = 42
DBG_REGISTER_SIZE = 56
FRAME_DROP_SIZE = 36
ZONES = 15  # the statistics grid is 15 x 15


@dataclass(frozen=True)
class Control:
    """What the 1.1.6 tuning node does with one id.

    ``set``/``get``: "int" (the scalar travels in ``value``), "ptr" (``value`` is a user
    pointer, ``size`` bytes are copied), "noop" (accepted, returns 0, nothing copied) or None
    (the handler returns -1: EPERM). ``limit``: an int set with ``(unsigned) value >= limit`` is
    refused with -1. ``v4l2``: libimp uses S_CTRL/G_CTRL for this id, else DEFAULT_CMD.
    ``weights``: a pointer payload of bytes that must each be 0..8.
    """

    name: str
    cid: int
    set: str | None
    get: str | None
    size: int = 0
    limit: int | None = None
    v4l2: bool = False
    weights: bool = False


def _c(
    name: str, cid: int, set_: str | None, get: str | None, size: int = 0, **kw: object
) -> Control:
    return Control(name, cid, set_, get, size, **kw)  # type: ignore[arg-type]


_TABLE = [
    # V4L2 ids: libimp sends them with S_CTRL/G_CTRL; the kernel keeps the low byte (u8 levels)
    _c("brightness", 0x980900, "int", "int", v4l2=True),
    _c("contrast", 0x980901, "int", "int", v4l2=True),
    _c("saturation", 0x980902, "int", "int", v4l2=True),
    _c("hflip", 0x980914, "int", "int", v4l2=True),
    _c("vflip", 0x980915, "int", "int", v4l2=True),
    _c("anti_flicker", 0x980918, "int", "int", v4l2=True),
    _c("sharpness", 0x98091B, "int", "int", v4l2=True),
    _c("isp_bypass", 0x8000164, "int", None, v4l2=True),
    # AWB
    _c("wb", 0x8000004, "ptr", "ptr", 8),
    _c("wb_statis", 0x8000005, None, "int"),
    _c("awb_weight", 0x8000006, "noop", "noop"),  # dead in K111 and K116
    _c("awb_hist", 0x8000007, "noop", "noop"),  # dead in K111 and K116
    _c("rgb_coefft", 0x8000008, "ptr", "ptr", 6),
    _c("wb_gol_statis", 0x8000009, None, "int"),
    _c("awb_start", 0x800000A, "ptr", "ptr", 8),  # kernel-only (§6)
    _c("awb_zone", 0x800000B, None, "ptr", 675),
    _c("wb_algo", 0x800000C, "int", None),
    _c("awb_ct", 0x800000D, "ptr", "ptr", 4),
    _c("awb_cluster", 0x800000E, "ptr", "ptr", 40),
    _c("awb_ct_trend", 0x800000F, "ptr", "ptr", 24),
    # AE
    _c("ae_comp", 0x8000023, "int", "int", limit=256),
    _c("ae_roi", 0x8000024, "ptr", "ptr", 225, weights=True),
    _c("expr", 0x8000025, "ptr", "ptr", 12),
    _c("ev_attr", 0x8000026, None, "ptr", 24),
    _c("total_gain", 0x8000027, None, "int"),
    _c("max_again", 0x8000028, "int", "int"),
    _c("max_dgain", 0x8000029, "int", "int"),
    _c("highlight_depress", 0x800002A, "int", "int"),
    _c("gamma", 0x800002B, "ptr", "ptr", 258),
    _c("movestate", 0x800002C, "noop", "noop"),  # both kernels: no-op returning 0
    _c("ae_weight", 0x800002D, "ptr", "ptr", 225, weights=True),
    _c("ae_hist", 0x800002E, "ptr", "ptr", 16),
    _c("ae_min", 0x800002F, "ptr", "ptr", 16),
    _c("ae_zone", 0x8000030, None, "ptr", 900),
    _c("ae_hist_origin", 0x8000031, None, "ptr", 1024),
    _c("ae_it_max", 0x8000032, "int", "int"),
    _c("ae_luma", 0x8000033, None, "int"),
    _c("ae_freeze", 0x8000034, "int", None),
    _c("ae_attr", 0x8000035, "ptr", "ptr", 152),
    _c("ae_state", 0x8000036, None, "ptr", 12),
    _c("backlight_comp", 0x8000037, "int", "int"),
    _c("ae_target_list", 0x8000038, "ptr", "ptr", 40),
    _c("defog_strength", 0x8000039, "ptr", "ptr", 1),
    # AF
    _c("af_hist", 0x8000042, "ptr", "ptr", 88),
    _c("af_metric", 0x8000043, None, "ptr", 4),
    _c("af_weight", 0x8000044, "ptr", "ptr", 225, weights=True),
    _c("sensor_attr", 0x8000045, None, "ptr", 20),
    _c("af_zone", 0x8000046, None, "ptr", 900),
    # denoise, DPC, DRC, defog, BLC, CSC, CCM, BCSH
    _c("dpc_strength", 0x8000062, "int", "int"),
    _c("mjpeg_gamma", 0x8000080, "ptr", None, 262),  # kernel-only (§6)
    _c("ncu_info", 0x8000084, None, "ptr", 20),  # kernel-only (§6)
    _c("temper_strength", 0x8000085, "int", None, limit=256),
    _c("sinter_strength", 0x8000086, "int", None, limit=256),
    _c("drc_strength", 0x80000A2, "int", "int"),
    _c("drc_enable", 0x80000A3, "int", None),
    _c("defog_enable", 0x80000A4, "int", None),
    _c("blc_attr", 0x80000A5, None, "ptr", 20),
    _c("csc_attr", 0x80000A6, "ptr", "ptr", 64),
    _c("ccm_attr", 0x8000100, "ptr", "ptr", 40),
    _c("hue", 0x8000101, "int", "int", limit=256),
    _c("fixed_contrast", 0x8000102, "ptr", None, 3),
    # sensor, modes, geometry
    _c("sensor_fps", 0x80000E0, "int", "int"),
    _c("running_mode", 0x80000E1, "int", "int"),
    _c("module_control", 0x80000E2, "ptr", "ptr", 4),
    _c("front_crop", 0x80000E3, "ptr", "ptr", 20),
    _c("hvflip", 0x80000E4, "int", "int"),
    _c("mask", 0x80000E5, "ptr", "ptr", 172),
    _c("ev_start", 0x80000E6, "int", None),  # kernel-only (§6)
    _c("custom_mode", 0x80000E7, "int", "int"),
    _c("autozoom", 0x80000E8, "ptr", None, 36),
    _c("scaler_level", 0x80000E9, "ptr", None, 12),
    _c("wdr_output_mode", 0x80000EA, "ptr", "ptr", 4),
    _c("wait_frame", 0x8000162, None, "ptr", 24),
]

CONTROLS: dict[str, Control] = {c.name: c for c in _TABLE}
BY_ID: dict[int, Control] = {c.cid: c for c in _TABLE}
assert len(CONTROLS) == len(BY_ID) == len(_TABLE)

# Unknown ids the 1.1.6 kernel nevertheless answers with 0 (§1 "Return values"); all other
# unknown ids give -1.
NOOP_SET_IDS = frozenset(
    {0x98091F, 0x9A0914, 0x9A091A, 0x8000001, 0x8000002, 0x8000022, 0x8000060, 0x8000061}
    | {0x8000081, 0x8000082, 0x8000083, 0x80000A0, 0x80000A1, 0x80000C0, 0x80000C1, 0x80000C2}
    | {0x8000120, 0x8000140, 0x8000161, 0x8000163}
    | set(range(0x8000165, 0x800016A))
)
NOOP_GET_IDS = frozenset(
    {0x8000000, 0x8000001, 0x8000003, 0x8000020, 0x8000021, 0x8000022, 0x8000040, 0x8000041}
    | {0x8000082, 0x8000083, 0x80000A0, 0x80000A1, 0x80000C0, 0x80000C1, 0x80000C2}
    | {0x8000120, 0x8000160, 0x8000161, 0x8000169}
)
# g-only kernel ids returning cached core words (§6)
CACHED_GET_IDS = frozenset({0x98091F, 0x9A091A, 0x8000167})


# --- kernel-side layouts that differ from the 1.1.6 header structs ---------------------------
class _LE(ctypes.LittleEndianStructure):
    _pack_ = 4


class KernelWB(_LE):
    """0x8000004: {u32 mode (0..9); u16 rgain; u16 bgain} — 8 B, the header IMPISPWB layout."""

    _fields_ = [("mode", c_uint32), ("rgain", c_uint16), ("bgain", c_uint16)]


class KernelExprSet(_LE):
    """0x8000025 set: {u32 mode; u32 unit; u16 time} (12 B with padding)."""

    _fields_ = [("mode", c_uint32), ("unit", c_uint32), ("time", c_uint16), ("_pad", c_uint16)]


class KernelExprGet(_LE):
    """0x8000025 get: {u32 mode; u16 integration_time; u16 it_min; u16 it_max; u16 line_us}."""

    _fields_ = [
        ("mode", c_uint32),
        ("integration_time", c_uint16),
        ("integration_time_min", c_uint16),
        ("integration_time_max", c_uint16),
        ("one_line_expr_in_us", c_uint16),
    ]


class KernelCCM(_LE):
    """0x8000100: {u8 ManualEn; u8 SatEn; u8 pad[2]; u32 matrix[9]} — 40 B.

    The float -> u32 conversion of libimp is not known (isp_tuning_ids.md row 116). Chosen here:
    each coefficient as a signed fixed-point number with 10 fractional bits (1.0 = 1024),
    two's complement in the u32 — see docs/STATUS.md.
    """

    _fields_ = [
        ("manual_en", c_uint8),
        ("sat_en", c_uint8),
        ("_pad", c_uint8 * 2),
        ("matrix", c_uint32 * 9),
    ]


CCM_ONE = 1024  # the chosen fixed point of KernelCCM.matrix


class KernelAeManual(_LE):
    """0x8000035: the 152-B AE manual attribute (tisp_ae_manual_set: 4 words + 136 B).

    The kernel layout beyond its size is not known (isp_tuning_ids.md row 118). Chosen here: the
    18 words of the 72-B header IMPISPAEAttr in their order, then zeros — see docs/STATUS.md.
    """

    _fields_ = [("words", c_uint32 * 18), ("_rest", c_uint8 * (152 - 72))]


class KernelAfHist(_LE):
    """0x8000042: the 88-B extended IMPISPAFHist (the other public 1.1.6-era header).

    Only the size is certain. Chosen order: af_stat (16 B: af_metrics, af_metrics_alt, af_wl,
    af_wh, 4 reserved), the header's scalar fields with af_belta_alt after af_alpha_alt,
    af_frame_num and ldg_en, then 4 x 12 B ldg info at 40.
    """

    _fields_ = [
        ("af_metrics", c_uint32),
        ("af_metrics_alt", c_uint32),
        ("af_wl", c_uint16),
        ("af_wh", c_uint16),
        ("_rsv0", c_uint32),
        ("af_enable", c_uint8),
        ("af_metrics_shift", c_uint8),
        ("af_delta", c_uint16),
        ("af_theta", c_uint16),
        ("af_hilight_th", c_uint16),
        ("af_alpha_alt", c_uint16),
        ("af_belta_alt", c_uint16),
        ("af_hstart", c_uint8),
        ("af_vstart", c_uint8),
        ("af_stat_nodeh", c_uint8),
        ("af_stat_nodev", c_uint8),
        ("af_frame_num", c_uint8),
        ("ldg_en", c_uint8),
        ("_rsv1", c_uint8 * 6),
        ("ldg_info", c_uint32 * 12),
    ]


class KernelFixedContrast(_LE):
    """0x8000102: {u8 mode; u8 range_low; u8 range_high} — 3 B (the header struct is 8 B)."""

    _pack_ = 1
    _fields_ = [("mode", c_uint8), ("range_low", c_uint8), ("range_high", c_uint8)]


class KernelWaitFrame(_LE):
    """0x8000162: the 24-B buffer of isp_frame_done_wait: u32 timeout (jiffies) @0, u64 cnt @8."""

    _pack_ = 8
    _fields_ = [("timeout", c_uint32), ("_pad", c_uint32), ("cnt", c_uint64), ("_rest", c_uint64)]


class KernelAeState(_LE):
    """0x8000036: {bool stable (byte 0); u32 target; u32 ae_mean} — the header IMPISPAEState."""

    _fields_ = [
        ("stable", c_uint8),
        ("_pad", c_uint8 * 3),
        ("target", c_uint32),
        ("ae_mean", c_uint32),
    ]


class DbgRegister(_LE):
    """VIDIOC_DBG_S/G_REGISTER: v4l2_dbg_register (56 B): match{type, name[32]}, size, reg, val."""

    _pack_ = 8
    _fields_ = [
        ("match_type", c_uint32),
        ("match_name", ctypes.c_char * 32),
        ("size", c_uint32),
        ("reg", c_uint64),
        ("val", c_uint64),
    ]


DBG_MATCH_I2C = 1

# (layout, size, {field: offset}) from isp_tuning_ids.md, for the layout tests
LAYOUTS: list[tuple[type[ctypes.Structure], int, dict[str, int]]] = [
    (KernelWB, 8, {"mode": 0, "rgain": 4, "bgain": 6}),
    (KernelExprSet, 12, {"mode": 0, "unit": 4, "time": 8}),
    (
        KernelExprGet,
        12,
        {
            "mode": 0,
            "integration_time": 4,
            "integration_time_min": 6,
            "integration_time_max": 8,
            "one_line_expr_in_us": 10,
        },
    ),
    (KernelCCM, 40, {"manual_en": 0, "sat_en": 1, "matrix": 4}),
    (KernelAeManual, 152, {"words": 0}),
    (
        KernelAfHist,
        88,
        {"af_metrics": 0, "af_enable": 16, "af_hstart": 28, "ldg_en": 33, "ldg_info": 40},
    ),
    (KernelFixedContrast, 3, {"mode": 0, "range_low": 1, "range_high": 2}),
    (KernelWaitFrame, 24, {"timeout": 0, "cnt": 8}),
    (KernelAeState, 12, {"stable": 0, "target": 4, "ae_mean": 8}),
    (DbgRegister, 56, {"match_type": 0, "match_name": 4, "size": 36, "reg": 40, "val": 48}),
]


def s32(value: int) -> int:
    """Fold a u32 (or a pointer below 4 GiB) into the s32 ``value`` word."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value
