"""Bounded work per frame whatever the OSD attributes (issue 10, defect 3 / deliver 4).

Attributes the C API accepts (coordinates up to +-8192, offsets up to +-8192, scale up to 64,
lines 1024 pixels wide) used to make the rasterizer allocate the whole unclipped box: at scale
64 about 1 TiB per frame (no picture came out, a traceback per frame), at scale 4 gigabytes.
Now shapes are clipped before anything is allocated: the pixels drawn are exactly the visible
part and the memory is a few frames' worth."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import numpy as np
import pytest

from imp.capi import *
from tests.conftest import running_system
from tests.test_enc_helpers import decode, enc_attr, read_streams

W, H = 1920, 1080
WHITE_Y = 235  # BT.601 limited range of 0xFFFFFFFF
PEAK_LIMIT = 40 * W * H  # bytes of Python heap for one draw: a few frames' worth, not gigabytes


@pytest.fixture
def osd_group() -> Iterator[int]:
    from imp.kernel import sim_overrides
    from imp.system import get_system

    sim_overrides(clock="virtual")
    get_system().init()
    try:
        assert IMP_OSD_CreateGroup(0) == 0
        assert IMP_OSD_Start(0) == 0
        yield 0
    finally:
        get_system().exit()


def _region(kind: int, rect: tuple[int, int, int, int], linewidth: int = 1) -> IMPOSDRgnAttr:
    a = IMPOSDRgnAttr()
    a.type = kind
    a.rect.p0.x, a.rect.p0.y, a.rect.p1.x, a.rect.p1.y = rect
    a.fmt = PIX_FMT_BGRA
    if kind == OSD_REG_COVER:
        a.data.coverData.color = 0xFFFFFFFF
    else:
        a.data.lineRectData.color = 0xFFFFFFFF
        a.data.lineRectData.linewidth = linewidth
    return a


def _show(group: int, attr: IMPOSDRgnAttr, scale: float, offset: tuple[int, int] = (0, 0)) -> int:
    handle = IMP_OSD_CreateRgn(None)
    assert handle >= 0
    assert IMP_OSD_SetRgnAttr(handle, attr) == 0
    g = IMPOSDGrpRgnAttr()
    g.show, g.scalex, g.scaley = 1, scale, scale
    g.offPos.x, g.offPos.y = offset
    assert IMP_OSD_RegisterRgn(handle, group, g) == 0  # accepted: so it must be drawable
    return handle


def _draw(group: int) -> tuple[np.ndarray, int]:
    """Draw onto a grey 1080p frame; returns which luma pixels changed and the heap peak."""
    from imp.osd import get_osd

    y = np.full((H, W), 100, np.uint8)
    uv = np.full((H // 2, W), 128, np.uint8)
    tracemalloc.start()
    try:
        get_osd().group(group).draw_onto(y, uv)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert set(np.unique(y).tolist()) <= {100, WHITE_Y}
    return y == WHITE_Y, peak


ROWS, COLS = np.mgrid[0:H, 0:W]

CASES = {
    # name: (kind, rect, linewidth, scale, offset, the pixels that must be drawn)
    "cover-8192-scale64": (OSD_REG_COVER, (-8192, -8192, 8192, 8192), 1, 64.0, (0, 0), ROWS >= 0),
    "cover-8192-scale4": (OSD_REG_COVER, (-8192, -8192, 8192, 8192), 1, 4.0, (0, 0), ROWS >= 0),
    "cover-off-frame": (OSD_REG_COVER, (-8192, 0, 8192, 8192), 1, 64.0, (0, 8192), ROWS < 0),
    "rect-edges-off-frame": (
        OSD_REG_RECT,
        (-8192, -8192, 8192, 8192),
        1024,
        64.0,
        (0, 0),
        ROWS < 0,
    ),
    "rect-1024-wide": (
        OSD_REG_RECT,
        (0, 0, 100, 100),
        1024,
        64.0,
        (0, 0),
        (ROWS < 1024) | (COLS < 1024),
    ),
    "line-diagonal-1024": (
        OSD_REG_LINE,
        (-8192, -8192, 8192, 8192),
        1024,
        64.0,
        (0, 0),
        (ROWS - COLS >= -511) & (ROWS - COLS <= 512),
    ),
    "line-steep-offset": (
        OSD_REG_LINE,
        (0, -8192, 0, 8192),
        3,
        64.0,
        (100, -8192),
        (COLS >= 99) & (COLS <= 101),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_extreme_attributes_cost_only_the_visible_pixels(osd_group: int, case: tuple) -> None:
    kind, rect, linewidth, scale, offset, expected = case
    _show(osd_group, _region(kind, rect, linewidth), scale, offset)
    drawn, peak = _draw(osd_group)
    assert np.array_equal(drawn, expected), f"{int((drawn != expected).sum())} pixels differ"
    assert peak < PEAK_LIMIT, f"drawing took {peak / 1e6:.0f} MB of heap"


def test_a_huge_cover_through_the_pipeline_still_gives_every_picture() -> None:
    """FrameSource -> OSD (a cover scaled 64 times) -> H.264: every frame comes out, covered."""
    with running_system("virtual"):
        a = IMPFSChnAttr()
        a.picWidth, a.picHeight, a.pixFmt = 640, 360, PIX_FMT_NV12
        a.outFrmRateNum, a.outFrmRateDen, a.nrVBs, a.type = 25, 1, 3, FS_PHY_CHANNEL
        a.scaler.enable, a.scaler.outwidth, a.scaler.outheight = 1, 640, 360
        assert IMP_FrameSource_CreateChn(0, a) == 0
        assert IMP_OSD_CreateGroup(0) == 0
        _show(0, _region(OSD_REG_COVER, (-8192, -8192, 8192, 8192)), 64.0)
        assert IMP_OSD_Start(0) == 0
        assert IMP_Encoder_CreateGroup(0) == 0
        assert IMP_Encoder_CreateChn(0, enc_attr(IMP_ENC_PROFILE_AVC_MAIN, 640, 360)) == 0
        assert IMP_Encoder_RegisterChn(0, 0) == 0
        fs, osd, enc = (
            IMPCell(DEV_ID_FS, 0, 0),
            IMPCell(DEV_ID_OSD, 0, 0),
            IMPCell(DEV_ID_ENC, 0, 0),
        )
        assert IMP_System_Bind(fs, osd) == 0
        assert IMP_System_Bind(osd, enc) == 0
        assert IMP_FrameSource_EnableChn(0) == 0
        assert IMP_Encoder_StartRecvPic(0) == 0
        streams = read_streams(0, 25)
        assert IMP_Encoder_StopRecvPic(0) == 0
        assert IMP_FrameSource_DisableChn(0) == 0
        assert IMP_System_UnBind(osd, enc) == 0
        assert IMP_System_UnBind(fs, osd) == 0
    frames = decode(b"".join(s.data for s in streams), "h264")
    assert len(frames) == 25
    for f in frames:
        luma = f.to_ndarray()[: f.height]  # yuv420p planes stacked: the Y plane, as coded
        assert abs(float(luma.mean()) - WHITE_Y) < 2 and int(luma.min()) > WHITE_Y - 10
