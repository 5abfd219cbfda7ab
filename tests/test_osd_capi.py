"""The OSD C API as applications call it: handle numbering, NULL attributes, the pool, data
copied at Set/Update time, teardown on never-created handles, per-group Start/Show, getters —
and bad input to all 17 functions (-1 or nothing, plus a log line; never an exception)."""

from __future__ import annotations

import ctypes
import gc
import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from imp.capi import *

W, H = 64, 48


@pytest.fixture
def system() -> Iterator[None]:
    from imp.kernel import sim_overrides
    from imp.system import get_system

    sim_overrides(clock="virtual")
    get_system().init()
    try:
        yield
    finally:
        get_system().exit()


def _pic_attr(x: int, y: int, pixels: np.ndarray, kind: int = OSD_REG_PIC) -> IMPOSDRgnAttr:
    h, w = pixels.shape[:2]
    a = IMPOSDRgnAttr()
    a.type, a.fmt = kind, PIX_FMT_BGRA
    a.rect.p0.x, a.rect.p0.y, a.rect.p1.x, a.rect.p1.y = x, y, x + w - 1, y + h - 1
    a.data.picData.pData = pixels.ctypes.data
    return a


def _cover_attr(rect: tuple[int, int, int, int], colour: int = OSD_WHITE) -> IMPOSDRgnAttr:
    a = IMPOSDRgnAttr()
    a.type, a.fmt = OSD_REG_COVER, PIX_FMT_BGRA
    a.rect.p0.x, a.rect.p0.y, a.rect.p1.x, a.rect.p1.y = rect
    a.data.coverData.color = colour
    return a


def _shown(layer: int = 0) -> IMPOSDGrpRgnAttr:
    g = IMPOSDGrpRgnAttr()
    g.show, g.layer = 1, layer
    return g


def _draw(grp: int = 0) -> tuple[np.ndarray, np.ndarray]:
    from imp.osd import get_osd

    y = np.full((H, W), 16, np.uint8)
    uv = np.full((H // 2, W), 128, np.uint8)
    get_osd().group(grp).draw_onto(y, uv)
    return y, uv


# -- handles --------------------------------------------------------------------------------------
def test_handles_count_from_zero_in_creation_order_and_reuse_the_lowest_free(system: None) -> None:
    assert [IMP_OSD_CreateRgn(None) for _ in range(4)] == [0, 1, 2, 3]
    IMP_OSD_DestroyRgn(1)
    IMP_OSD_DestroyRgn(2)
    assert IMP_OSD_CreateRgn(None) == 1  # documented: the lowest free handle
    assert IMP_OSD_CreateRgn(_cover_attr((0, 0, 3, 3))) == 2
    assert IMP_OSD_CreateRgn(None) == 4
    for h in range(5):
        IMP_OSD_DestroyRgn(h)
    # A video restart (prudynt destroys its four regions and makes them again) gets 0..3 back,
    # so its hard-coded handle 3 (the logo) still names the 4th region.
    assert [IMP_OSD_CreateRgn(None) for _ in range(4)] == [0, 1, 2, 3]


def test_null_attributes_are_accepted(system: None) -> None:
    assert IMP_OSD_CreateGroup(0) == 0
    h = IMP_OSD_CreateRgn(None)
    assert IMP_OSD_CreateRgn(ctypes.POINTER(IMPOSDRgnAttr)()) == h + 1  # a NULL pointer too
    assert IMP_OSD_RegisterRgn(h, 0, None) == 0
    g = IMPOSDGrpRgnAttr()
    assert IMP_OSD_GetGrpRgnAttr(h, 0, g) == 0
    assert (g.show, g.gAlphaEn, g.fgAlhpa, g.layer, g.scalex, g.scaley) == (0, 0, 255, 0, 1, 1)
    a = IMPOSDRgnAttr()
    assert IMP_OSD_GetRgnAttr(h, ctypes.byref(a)) == 0
    assert a.type == OSD_REG_INV
    assert IMP_OSD_RegisterRgn(h, 0, None) == -1  # twice


def test_create_region_before_system_init_fails() -> None:
    assert IMP_OSD_CreateRgn(None) == -1
    assert IMP_OSD_CreateGroup(0) == -1


# -- pool -----------------------------------------------------------------------------------------
def test_pool_size_before_and_after_init_and_pic_rmem_budget() -> None:
    from imp.kernel import sim_overrides
    from imp.osd import get_osd
    from imp.system import get_system

    assert IMP_OSD_SetPoolSize(1024) == 0  # before System_Init (sample_system_init)
    sim_overrides(clock="virtual")
    get_system().init()
    try:
        osd = get_osd()
        assert osd.pool_size == 1024
        assert IMP_OSD_SetPoolSize(100 * 100 * 4 + 64) == 0  # again after (prudynt)
        logo = np.full((100, 100, 4), 200, np.uint8)
        h = IMP_OSD_CreateRgn(_pic_attr(0, 0, logo, OSD_REG_PIC_RMEM))
        assert h == 0 and osd.pool_used == 40000
        block = osd.region(h).block
        assert block is not None
        # Same size: rewritten in place, no new pool memory.
        logo2 = np.full((100, 100, 4), 7, np.uint8)
        data = IMPOSDRgnAttrData()
        data.picData.pData = logo2.ctypes.data
        assert IMP_OSD_UpdateRgnAttrData(h, data) == 0
        assert osd.region(h).block is block and osd.pool_used == 40000
        assert np.frombuffer(block.view, np.uint8, 4).tolist() == [7, 7, 7, 7]
        # A second picture does not fit the pool; a plain PIC does not use it.
        assert IMP_OSD_CreateRgn(_pic_attr(0, 0, logo, OSD_REG_PIC_RMEM)) == -1
        assert IMP_OSD_CreateRgn(_pic_attr(0, 0, logo, OSD_REG_PIC)) == 1
        IMP_OSD_DestroyRgn(h)
        assert osd.pool_used == 0
        assert IMP_OSD_CreateRgn(_pic_attr(0, 0, logo, OSD_REG_PIC_RMEM)) == 0
    finally:
        get_system().exit()
    assert get_osd().pool_used == 0 and get_osd().pool_size == 40064  # a process setting


# -- data lifetime --------------------------------------------------------------------------------
def test_picture_data_is_copied_at_set_and_update_time(system: None) -> None:
    assert IMP_OSD_CreateGroup(0) == 0 and IMP_OSD_Start(0) == 0
    pixels = np.zeros((4, 6, 4), np.uint8)
    pixels[..., 1] = pixels[..., 3] = 255  # opaque green
    h = IMP_OSD_CreateRgn(_pic_attr(2, 2, pixels))
    assert IMP_OSD_RegisterRgn(h, 0, _shown()) == 0
    green = _draw()[0][3, 3]
    pixels[...] = 255  # the sample rewrites its buffer in place: not shown until Update
    assert _draw()[0][3, 3] == green == 145
    data = IMPOSDRgnAttrData()
    data.picData.pData = pixels.ctypes.data
    assert IMP_OSD_UpdateRgnAttrData(h, data) == 0
    assert _draw()[0][3, 3] == 235  # white now
    # prudynt frees the old buffer and passes a new one: the old one may be gone.
    fresh = np.zeros((4, 6, 4), np.uint8)
    fresh[..., 2] = fresh[..., 3] = 255  # red
    data.picData.pData = fresh.ctypes.data
    del pixels
    gc.collect()
    assert IMP_OSD_UpdateRgnAttrData(h, data) == 0
    assert _draw()[0][3, 3] == 81
    got = IMPOSDRgnAttr()
    assert IMP_OSD_GetRgnAttr(h, got) == 0
    assert got.data.picData.pData == fresh.ctypes.data  # the address last given
    assert (got.rect.p0.x, got.rect.p1.x, got.rect.p1.y) == (2, 7, 5)
    del fresh
    gc.collect()
    assert _draw()[0][3, 3] == 81  # the OSD keeps its own copy


def test_pic_with_null_data_draws_nothing_until_updated(system: None) -> None:
    assert IMP_OSD_CreateGroup(0) == 0 and IMP_OSD_Start(0) == 0
    attr = _pic_attr(0, 0, np.zeros((2, 2, 4), np.uint8))
    attr.data.picData.pData = None  # the vendor sample's clock before its first update
    h = IMP_OSD_CreateRgn(attr)
    assert IMP_OSD_RegisterRgn(h, 0, _shown()) == 0
    y, _ = _draw()
    assert (y == 16).all()
    white = np.full((2, 2, 4), 255, np.uint8)
    data = IMPOSDRgnAttrData()
    data.picData.pData = white.ctypes.data
    assert IMP_OSD_UpdateRgnAttrData(h, data) == 0
    assert _draw()[0][0, 0] == 235


def test_update_data_is_only_for_bitmap_and_pictures(system: None, caplog: Any) -> None:
    h = IMP_OSD_CreateRgn(_cover_attr((0, 0, 1, 1)))
    data = IMPOSDRgnAttrData()
    data.picData.pData = np.zeros(16, np.uint8).ctypes.data
    with caplog.at_level(logging.ERROR, logger="imp.capi"):
        assert IMP_OSD_UpdateRgnAttrData(h, data) == -1
    assert "UpdateRgnAttrData is for BITMAP, PIC and PIC_RMEM" in caplog.text


# -- teardown leniency, groups --------------------------------------------------------------------
def test_prudynt_teardown_on_never_created_handles_is_harmless(system: None) -> None:
    # prudynt: 4 items, only "time" (handle 0) enabled; the others kept handle 0.
    assert IMP_OSD_CreateGroup(0) == 0
    h = IMP_OSD_CreateRgn(None)
    assert IMP_OSD_RegisterRgn(h, 0, None) == 0
    assert IMP_OSD_Start(0) == 0
    items = [h, 0, 0, 0]
    assert IMP_OSD_Stop(0) == 0
    assert [IMP_OSD_ShowRgn(i, 0, 0) for i in items] == [0, 0, 0, 0]
    assert [IMP_OSD_UnRegisterRgn(i, 0) for i in items] == [0, -1, -1, -1]
    assert [IMP_OSD_DestroyRgn(i) for i in items] == [None] * 4
    assert IMP_OSD_DestroyGroup(0) == 0
    # The machinery is intact: the next stream start works as the first did.
    assert IMP_OSD_CreateGroup(0) == 0 and IMP_OSD_CreateRgn(None) == 0
    # Never-created group or region: errors, nothing else.
    assert IMP_OSD_DestroyGroup(3) == -1
    assert IMP_OSD_ShowRgn(7, 0, 1) == -1
    assert IMP_OSD_Stop(5) == -1


def test_destroy_group_refuses_while_bound_and_unregisters_its_regions(system: None) -> None:
    from imp.osd import get_osd

    assert IMP_OSD_CreateGroup(0) == 0 and IMP_OSD_CreateGroup(1) == 0
    assert IMP_OSD_AttachToGroup(IMPCell(DEV_ID_OSD, 0, 0), IMPCell(DEV_ID_OSD, 1, 0)) == 0
    got = IMPCell()
    assert IMP_System_GetBindbyDest(IMPCell(DEV_ID_OSD, 1, 0), got) == 0
    assert (got.deviceID, got.groupID) == (DEV_ID_OSD, 0)
    h = IMP_OSD_CreateRgn(None)
    assert IMP_OSD_RegisterRgn(h, 0, None) == 0 and IMP_OSD_RegisterRgn(h, 1, None) == 0
    assert IMP_OSD_DestroyGroup(0) == -1  # still bound
    assert IMP_System_UnBind(IMPCell(DEV_ID_OSD, 0, 0), IMPCell(DEV_ID_OSD, 1, 0)) == 0
    assert IMP_OSD_DestroyGroup(0) == 0
    assert get_osd().region(h).groups == {1}
    IMP_OSD_DestroyRgn(h)  # registered to group 1: unregistered on the way
    assert not get_osd().group(1).members


def test_start_stop_and_show_are_per_group(system: None) -> None:
    assert IMP_OSD_CreateGroup(0) == 0 and IMP_OSD_CreateGroup(1) == 0
    h = IMP_OSD_CreateRgn(_cover_attr((0, 0, 9, 9)))
    assert IMP_OSD_RegisterRgn(h, 0, None) == 0 and IMP_OSD_RegisterRgn(h, 1, None) == 0
    assert IMP_OSD_ShowRgn(h, 0, 1) == 0
    assert _draw(0)[0][0, 0] == 235 and _draw(1)[0][0, 0] == 16  # shown in group 0 only
    assert IMP_OSD_ShowRgn(h, 1, 1) == 0 and IMP_OSD_ShowRgn(h, 0, 0) == 0
    assert _draw(0)[0][0, 0] == 16 and _draw(1)[0][0, 0] == 235
    from imp.osd import get_osd

    assert IMP_OSD_Start(1) == 0 and IMP_OSD_Start(1) == 0  # idempotent
    assert get_osd().group(1).started and not get_osd().group(0).started
    assert IMP_OSD_Stop(1) == 0 and not get_osd().group(1).started


def test_group_region_attr_round_trip(system: None) -> None:
    assert IMP_OSD_CreateGroup(2) == 0
    h = IMP_OSD_CreateRgn(None)
    g = IMPOSDGrpRgnAttr()
    g.show, g.offPos.x, g.offPos.y, g.scalex, g.scaley = 1, -3, 7, 3.0, 1.5
    g.gAlphaEn, g.fgAlhpa, g.bgAlhpa, g.layer = 1, 0x7F, 0x10, 4
    assert IMP_OSD_RegisterRgn(h, 2, ctypes.pointer(g)) == 0
    back = IMPOSDGrpRgnAttr()
    assert IMP_OSD_GetGrpRgnAttr(h, 2, back) == 0
    assert bytes(back) == bytes(g)
    g.fgAlhpa = 300
    assert IMP_OSD_SetGrpRgnAttr(h, 2, g) == -1  # 0..255
    a = IMPOSDRgnAttr()
    a.type, a.fmt = OSD_REG_RECT, PIX_FMT_MONOWHITE
    a.rect.p0.x, a.rect.p0.y, a.rect.p1.x, a.rect.p1.y = 300, 300, 899, 599
    a.data.lineRectData.color, a.data.lineRectData.linewidth = OSD_GREEN, 5
    assert IMP_OSD_SetRgnAttr(h, a) == 0
    back_a = IMPOSDRgnAttr()
    assert IMP_OSD_GetRgnAttr(h, back_a) == 0
    assert bytes(back_a) == bytes(a)


# -- bad input to every function ------------------------------------------------------------------
_BAD_INT = (None, "bad", -5, 1 << 40, 3.5, IMPCell())


def _calls(h: int) -> list[tuple[str, tuple[Any, ...]]]:
    """(function, args) that must all fail: every argument wrong in turn, given a valid
    region ``h`` in group 0."""
    wrong = IMPVersion()
    out: list[tuple[str, tuple[Any, ...]]] = []
    bad_ints = [b for b in _BAD_INT if b is not None] + [None]
    for b in bad_ints:
        out += [
            ("IMP_OSD_SetPoolSize", (b,)),
            ("IMP_OSD_CreateGroup", (b,)),
            ("IMP_OSD_DestroyGroup", (b,)),
            ("IMP_OSD_Start", (b,)),
            ("IMP_OSD_Stop", (b,)),
            ("IMP_OSD_DestroyRgn", (b,)),
            ("IMP_OSD_RegisterRgn", (b, 0, None)),
            ("IMP_OSD_RegisterRgn", (h, b, None)),
            ("IMP_OSD_UnRegisterRgn", (b, 0)),
            ("IMP_OSD_UnRegisterRgn", (h, b)),
            ("IMP_OSD_SetRgnAttr", (b, IMPOSDRgnAttr())),
            ("IMP_OSD_GetRgnAttr", (b, IMPOSDRgnAttr())),
            ("IMP_OSD_SetGrpRgnAttr", (b, 0, IMPOSDGrpRgnAttr())),
            ("IMP_OSD_SetGrpRgnAttr", (h, b, IMPOSDGrpRgnAttr())),
            ("IMP_OSD_GetGrpRgnAttr", (b, 0, IMPOSDGrpRgnAttr())),
            ("IMP_OSD_GetGrpRgnAttr", (h, b, IMPOSDGrpRgnAttr())),
            ("IMP_OSD_ShowRgn", (b, 0, 1)),
            ("IMP_OSD_ShowRgn", (h, b, 1)),
            ("IMP_OSD_UpdateRgnAttrData", (b, IMPOSDRgnAttrData())),
            ("IMP_OSD_SetRgnAttrWithTimestamp", (b, IMPOSDRgnAttr(), IMPOSDRgnTimestamp())),
        ]
    out += [("IMP_OSD_ShowRgn", (h, 0, "bad")), ("IMP_OSD_ShowRgn", (h, 0, None))]
    bad_attr = IMPOSDRgnAttr()
    bad_attr.type = 99
    big_pic = _cover_attr((0, 0, 5000, 10))
    big_pic.type = OSD_REG_PIC
    bad_fmt = _cover_attr((0, 0, 3, 3))
    bad_fmt.type, bad_fmt.fmt = OSD_REG_PIC, PIX_FMT_NV12
    bad_lw = _cover_attr((0, 0, 3, 3))
    bad_lw.type = OSD_REG_RECT  # linewidth 0
    bad_bitmap = _cover_attr((0, 0, 3, 3))
    bad_bitmap.type, bad_bitmap.fmt = OSD_REG_BITMAP, PIX_FMT_BGRA
    far = _cover_attr((0, 0, 100_000, 3))
    bad_g = IMPOSDGrpRgnAttr()
    bad_g.fgAlhpa = -1
    for p in (wrong, "bad", 5, bad_attr, big_pic, bad_fmt, bad_lw, bad_bitmap, far):
        out += [("IMP_OSD_CreateRgn", (p,)), ("IMP_OSD_SetRgnAttr", (h, p))]
        out += [("IMP_OSD_SetRgnAttrWithTimestamp", (h, p, IMPOSDRgnTimestamp()))]
    for p in (None, wrong, "bad", 5):
        out += [
            ("IMP_OSD_SetRgnAttr", (h, p)),
            ("IMP_OSD_GetRgnAttr", (h, p)),
            ("IMP_OSD_UpdateRgnAttrData", (h, p)),
            ("IMP_OSD_SetGrpRgnAttr", (h, 0, p)),
            ("IMP_OSD_GetGrpRgnAttr", (h, 0, p)),
            ("IMP_OSD_SetRgnAttrWithTimestamp", (h, _cover_attr((0, 0, 1, 1)), p)),
            ("IMP_OSD_AttachToGroup", (p, IMPCell(DEV_ID_OSD, 0, 0))),
            ("IMP_OSD_AttachToGroup", (IMPCell(DEV_ID_OSD, 0, 0), p)),
        ]
    out += [
        ("IMP_OSD_RegisterRgn", (h, 0, wrong)),
        ("IMP_OSD_RegisterRgn", (h, 0, bad_g)),
        ("IMP_OSD_SetGrpRgnAttr", (h, 0, bad_g)),
        ("IMP_OSD_UpdateRgnAttrData", (h, IMPOSDRgnAttrData())),  # pData NULL
        ("IMP_OSD_AttachToGroup", (IMPCell(9, 0, 0), IMPCell(DEV_ID_OSD, 0, 0))),
        ("IMP_OSD_CreateGroup", (0,)),  # exists
        ("IMP_OSD_CreateGroup", (6,)),  # out of range
        ("IMP_OSD_RegisterRgn", (h, 0, None)),  # registered already
        ("IMP_OSD_RegisterRgn", (h, 5, None)),  # no such group
        ("IMP_OSD_DestroyGroup", (0,)),  # bound
    ]
    return out


def _expect_failure(name: str, args: tuple[Any, ...], caplog: Any) -> None:
    import imp.capi as capi

    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="imp.capi"):
        result = getattr(capi, name)(*args)
    expected = None if name == "IMP_OSD_DestroyRgn" else -1
    assert result == expected, f"{name}{args!r} returned {result!r}"
    assert any(r.name == "imp.capi" and name in r.getMessage() for r in caplog.records), (
        f"{name}{args!r}: no log line"
    )


def test_bad_input_to_every_osd_function(caplog: Any) -> None:
    from imp.capi._inventory import FUNCTIONS_1_1_6
    from imp.kernel import sim_overrides
    from imp.system import get_system

    osd_functions = {n for n, m in FUNCTIONS_1_1_6.items() if m == "OSD"}
    assert len(osd_functions) == 17
    # Out of order: nothing initialised, every call that needs the system fails.
    for name, args in [
        ("IMP_OSD_CreateGroup", (0,)),
        ("IMP_OSD_CreateRgn", (None,)),
        ("IMP_OSD_RegisterRgn", (0, 0, None)),
        ("IMP_OSD_Start", (0,)),
        ("IMP_OSD_ShowRgn", (0, 0, 1)),
        ("IMP_OSD_DestroyRgn", (0,)),
        ("IMP_OSD_AttachToGroup", (IMPCell(DEV_ID_FS, 0, 0), IMPCell(DEV_ID_OSD, 0, 0))),
    ]:
        _expect_failure(name, args, caplog)
    sim_overrides(clock="virtual")
    get_system().init()
    try:
        assert IMP_OSD_CreateGroup(0) == 0 and IMP_OSD_CreateGroup(1) == 0
        assert IMP_System_Bind(IMPCell(DEV_ID_OSD, 0, 0), IMPCell(DEV_ID_OSD, 1, 0)) == 0
        h = IMP_OSD_CreateRgn(_cover_attr((0, 0, 3, 3)))
        assert IMP_OSD_RegisterRgn(h, 0, None) == 0
        calls = _calls(h)
        for name, args in calls:
            _expect_failure(name, args, caplog)
        covered = {name for name, _ in calls}
        assert covered == osd_functions, osd_functions - covered
        # Still working after all that.
        assert IMP_OSD_ShowRgn(h, 0, 1) == 0 and IMP_OSD_Start(0) == 0
        assert _draw(0)[0][0, 0] == 235
    finally:
        get_system().exit()
    print(f"{len(calls)} bad OSD calls checked while running, 7 before init")
