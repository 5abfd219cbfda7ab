"""Pixel-exact OSD drawing at the NV12 level: every region type, alpha mode, layer order, odd
positions and sizes, clipping, offsets and scale — regions set through the C API, drawn by the
group's engine, compared with the plain reference of tests/test_osd_reference.py."""

from __future__ import annotations

import ctypes
from collections.abc import Iterator

import numpy as np
import pytest

from imp.capi import *
from tests.test_osd_reference import RefGroupAttr, RefRegion, ref_draw

W, H = 64, 48  # small frames: the reference loops per pixel

KINDS = {"cover": 4, "rect": 2, "line": 1, "bitmap": 3, "pic": 5, "pic_rmem": 6}


@pytest.fixture
def osd_group() -> Iterator[int]:
    from imp.kernel import sim_overrides
    from imp.system import get_system

    sim_overrides(clock="virtual")
    get_system().init()
    try:
        assert IMP_OSD_SetPoolSize(1 << 20) == 0
        assert IMP_OSD_CreateGroup(0) == 0
        assert IMP_OSD_Start(0) == 0
        yield 0
    finally:
        get_system().exit()


def _c_attr(reg: RefRegion, keep: list[object]) -> IMPOSDRgnAttr:
    a = IMPOSDRgnAttr()
    a.type = KINDS[reg.kind]
    a.rect.p0.x, a.rect.p0.y, a.rect.p1.x, a.rect.p1.y = reg.rect
    a.fmt = reg.fmt
    if reg.kind in ("rect", "line"):
        a.data.lineRectData.color = reg.colour
        a.data.lineRectData.linewidth = reg.linewidth
    elif reg.kind == "cover":
        a.data.coverData.color = reg.colour
    elif reg.kind == "pic":
        assert reg.pixels is not None
        buf = np.ascontiguousarray(reg.pixels).copy()
        keep.append(buf)
        a.data.picData.pData = buf.ctypes.data
    elif reg.kind == "bitmap":
        assert reg.pixels is not None
        buf = np.packbits(reg.pixels.astype(bool), axis=1)
        keep.append(buf)
        a.data.bitmapData = buf.ctypes.data
    return a


def _c_group_attr(g: RefGroupAttr) -> IMPOSDGrpRgnAttr:
    c = IMPOSDGrpRgnAttr()
    c.show, c.offPos.x, c.offPos.y = int(g.show), *g.offset
    c.scalex, c.scaley = g.scale
    c.gAlphaEn, c.fgAlhpa, c.bgAlhpa, c.layer = int(g.galpha), g.fg, g.bg, g.layer
    return c


def _set_regions(
    grp: int, regions: list[tuple[RefRegion, RefGroupAttr]], rmem: bool = False
) -> list[tuple[int, RefRegion, RefGroupAttr]]:
    out = []
    keep: list[object] = []
    for reg, g in regions:
        h = IMP_OSD_CreateRgn(None)
        assert h >= 0
        attr = _c_attr(reg, keep)
        if rmem and reg.kind == "pic":
            attr.type = OSD_REG_PIC_RMEM
        assert IMP_OSD_SetRgnAttr(h, attr) == 0, reg
        assert IMP_OSD_RegisterRgn(h, grp, _c_group_attr(g)) == 0
        out.append((h, reg, g))
    for buf in keep:  # the OSD copied the data: scribbling over it now must not matter
        np.asarray(buf)[...] = 0x5A
    return out


def _check(
    grp: int, regions: list[tuple[RefRegion, RefGroupAttr]], seed: int = 0, rmem: bool = False
) -> int:
    from imp.osd import get_osd

    rng = np.random.default_rng(seed)
    y = rng.integers(16, 236, (H, W), dtype=np.uint8)
    uv = rng.integers(16, 241, (H // 2, W), dtype=np.uint8)
    placed = _set_regions(grp, regions, rmem=rmem)
    ey, euv = ref_draw(y, uv, placed)
    got_y, got_uv = y.copy(), uv.copy()
    get_osd().group(grp).draw_onto(got_y, got_uv)
    bad_y, bad_uv = np.argwhere(got_y != ey), np.argwhere(got_uv != euv)
    assert not bad_y.size and not bad_uv.size, (
        f"luma differs at {bad_y[:5].tolist()}, chroma at {bad_uv[:5].tolist()}"
    )
    changed = int((got_y != y).sum() + (got_uv != uv).sum())
    for h, _, _ in placed:
        IMP_OSD_DestroyRgn(h)
    return changed


def _pic(rng: np.random.Generator, w: int, h: int, alpha: str = "random") -> np.ndarray:
    p = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    if alpha == "opaque":
        p[..., 3] = 255
    elif alpha == "mixed":  # fully transparent, fully opaque and partial pixels
        p[..., 3] = rng.choice(np.array([0, 255, 1, 127, 128, 254], np.uint8), (h, w))
    return p


# -- cover ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "rect",
    [(0, 0, 63, 47), (1, 1, 1, 1), (3, 5, 10, 6), (2, 2, 9, 9), (11, 4, 4, 13), (7, 0, 8, 47)],
    ids=["full", "one-px-odd", "odd-odd", "even-even", "swapped-corners", "two-cols"],
)
@pytest.mark.parametrize(
    ("colour", "galpha", "fg"),
    [
        (0xFF000000, False, 255),
        (0x80FF8000, False, 255),
        (0xFF00FF00, True, 0x7F),
        (0xC01234AB, True, 200),
        (0xFFFFFFFF, True, 0),
    ],
    ids=["opaque", "colour-alpha", "group-alpha", "both", "group-alpha-0"],
)
def test_cover(osd_group: int, rect: tuple[int, ...], colour: int, galpha: bool, fg: int) -> None:
    changed = _check(
        osd_group, [(RefRegion("cover", rect, colour), RefGroupAttr(galpha=galpha, fg=fg))]
    )
    assert changed > 0 or fg == 0


# -- rect -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("linewidth", [1, 2, 3, 5, 40])
@pytest.mark.parametrize("rect", [(3, 3, 40, 30), (2, 1, 61, 45), (5, 7, 6, 8), (50, 40, 9, 3)])
def test_rect_outline(osd_group: int, rect: tuple[int, ...], linewidth: int) -> None:
    reg = RefRegion("rect", rect, 0xFFFF0000, linewidth=linewidth)
    assert _check(osd_group, [(reg, RefGroupAttr())]) > 0


# -- line -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "ends",
    [
        (3, 5, 50, 5),
        (7, 2, 7, 40),
        (1, 1, 60, 46),
        (60, 2, 3, 44),
        (10, 40, 30, 3),
        (5, 5, 5, 5),
        (0, 20, 63, 27),
        (33, 47, 30, 0),
    ],
    ids=["h", "v", "diag", "anti-diag", "steep-up", "dot", "shallow", "steep-left"],
)
@pytest.mark.parametrize("linewidth", [1, 2, 3, 4])
def test_line(osd_group: int, ends: tuple[int, ...], linewidth: int) -> None:
    reg = RefRegion("line", ends, 0xFFFFFFFF, linewidth=linewidth)
    assert _check(osd_group, [(reg, RefGroupAttr(galpha=True, fg=0xC0))]) > 0


# -- bitmap ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fmt", [PIX_FMT_MONOBLACK, PIX_FMT_MONOWHITE], ids=["monoblack", "monowhite"]
)
@pytest.mark.parametrize(
    ("galpha", "fg", "bg"),
    [(False, 255, 0), (True, 200, 0), (True, 255, 90)],
    ids=["plain", "fg-alpha", "bg-alpha"],
)
@pytest.mark.parametrize("rect", [(5, 3, 17, 12), (0, 0, 20, 7)], ids=["odd", "edge"])
def test_bitmap(osd_group: int, fmt: int, galpha: bool, fg: int, bg: int, rect: tuple) -> None:
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2, (rect[3] - rect[1] + 1, rect[2] - rect[0] + 1), dtype=np.uint8)
    reg = RefRegion("bitmap", rect, fmt=fmt, pixels=bits)
    assert _check(osd_group, [(reg, RefGroupAttr(galpha=galpha, fg=fg, bg=bg))]) > 0


# -- pictures -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fmt",
    [PIX_FMT_BGRA, PIX_FMT_RGBA, PIX_FMT_ARGB, PIX_FMT_ABGR, PIX_FMT_BGR0],
    ids=["bgra", "rgba", "argb", "abgr", "bgr0"],
)
@pytest.mark.parametrize(
    ("x", "y", "w", "h"),
    [(0, 0, 8, 8), (3, 5, 7, 9), (10, 1, 33, 20), (1, 2, 1, 1)],
    ids=["even", "odd-pos-odd-size", "wide", "one-px"],
)
@pytest.mark.parametrize(
    ("alpha", "galpha", "fg"),
    [("random", False, 255), ("mixed", True, 0x7F), ("opaque", True, 0x40)],
    ids=["per-pixel", "per-pixel-x-group", "opaque-x-group"],
)
@pytest.mark.parametrize("rmem", [False, True], ids=["pic", "pic-rmem"])
def test_picture(
    osd_group: int,
    fmt: int,
    x: int,
    y: int,
    w: int,
    h: int,
    alpha: str,
    galpha: bool,
    fg: int,
    rmem: bool,
) -> None:
    rng = np.random.default_rng(x * 100 + y)
    reg = RefRegion("pic", (x, y, x + w - 1, y + h - 1), fmt=fmt, pixels=_pic(rng, w, h, alpha))
    _check(osd_group, [(reg, RefGroupAttr(galpha=galpha, fg=fg))], rmem=rmem)


# -- composition ----------------------------------------------------------------------------------
def test_layer_order_and_equal_layers_by_handle(osd_group: int) -> None:
    rng = np.random.default_rng(11)
    regions = [
        (RefRegion("cover", (5, 5, 40, 30), 0xFF0000FF), RefGroupAttr(layer=2)),
        (RefRegion("pic", (20, 10, 50, 40), pixels=_pic(rng, 31, 31)), RefGroupAttr(layer=1)),
        (RefRegion("rect", (0, 0, 30, 25), 0xFFFFFFFF, 3), RefGroupAttr(layer=2)),  # same layer
        (RefRegion("cover", (9, 9, 60, 44), 0x80000000), RefGroupAttr(layer=0)),
        (RefRegion("line", (0, 47, 63, 0), 0xFF00FF00, 2), RefGroupAttr(layer=5)),
        (RefRegion("cover", (1, 1, 62, 46), 0xFFFF0000), RefGroupAttr(show=False, layer=9)),
    ]
    _check(osd_group, regions)
    _check(osd_group, list(reversed(regions)), seed=1)  # other handles: the ties flip


@pytest.mark.parametrize(
    "rect",
    [(-5, -3, 10, 8), (55, 40, 70, 60), (-20, 10, 100, 12), (64, 0, 80, 10), (-9, -9, -1, -1)],
    ids=["top-left", "bottom-right", "wider", "off-right", "off-top-left"],
)
def test_clipped_to_the_frame(osd_group: int, rect: tuple[int, int, int, int]) -> None:
    rng = np.random.default_rng(5)
    w, h = rect[2] - rect[0] + 1, rect[3] - rect[1] + 1
    regions = [
        (RefRegion("cover", rect, 0xC0FFFF00), RefGroupAttr()),
        (RefRegion("rect", rect, 0xFFFF0000, 2), RefGroupAttr(layer=1)),
        (RefRegion("pic", rect, pixels=_pic(rng, w, h)), RefGroupAttr(layer=2)),
    ]
    changed = _check(osd_group, regions)
    assert changed == 0 if rect[0] >= W or rect[2] < 0 else changed > 0


def test_offset_and_scale(osd_group: int) -> None:
    rng = np.random.default_rng(9)
    regions = [
        # IVS-style: rects in 640x360 coordinates shown on a frame 3x larger (scale only
        # applies to LINE/RECT/COVER).
        (RefRegion("rect", (1, 1, 10, 8), 0xFFFF0000, 1), RefGroupAttr(scale=(3.0, 3.0))),
        (RefRegion("cover", (3, 2, 6, 5), 0xFF0000FF), RefGroupAttr(scale=(2.5, 1.5), layer=1)),
        (RefRegion("line", (0, 0, 20, 10), 0xFFFFFFFF, 1), RefGroupAttr(scale=(0.0, -1.0))),
        (RefRegion("pic", (1, 1, 8, 6), pixels=_pic(rng, 8, 6)), RefGroupAttr(offset=(31, 17))),
        (RefRegion("cover", (2, 2, 9, 9), 0xFF00FF00), RefGroupAttr(offset=(-5, 33), layer=3)),
    ]
    _check(osd_group, regions)


def test_random_scenes(osd_group: int) -> None:
    """Many random mixes of every type, position, size and alpha mode."""
    rng = np.random.default_rng(2024)
    total = 0
    for scene in range(25):
        regions = []
        for _ in range(int(rng.integers(1, 6))):
            kind = str(rng.choice(["cover", "rect", "line", "bitmap", "pic"]))
            x0, y0 = int(rng.integers(-8, W)), int(rng.integers(-8, H))
            w, h = int(rng.integers(1, 30)), int(rng.integers(1, 24))
            rect = (x0, y0, x0 + w - 1, y0 + h - 1)
            g = RefGroupAttr(
                galpha=bool(rng.integers(0, 2)),
                fg=int(rng.integers(0, 256)),
                bg=int(rng.integers(0, 256)),
                layer=int(rng.integers(0, 3)),
                offset=(int(rng.integers(-3, 4)), int(rng.integers(-3, 4))),
            )
            colour = int(rng.integers(0, 1 << 32, dtype=np.uint64))
            if kind == "pic":
                reg = RefRegion(
                    kind,
                    rect,
                    fmt=int(rng.choice([17, 15, 14, 16])),
                    pixels=_pic(rng, w, h, "mixed"),
                )
            elif kind == "bitmap":
                bits = rng.integers(0, 2, (h, w), dtype=np.uint8)
                reg = RefRegion(kind, rect, fmt=int(rng.choice([8, 9])), pixels=bits)
            else:
                reg = RefRegion(kind, rect, colour, linewidth=int(rng.integers(1, 5)))
            regions.append((reg, g))
        total += _check(osd_group, regions, seed=scene)
    print(f"25 random scenes: {total} plane bytes changed, all equal to the reference")
    assert total > 0


def test_timestamped_attr_applies_inside_its_window(osd_group: int) -> None:
    from imp.osd import get_osd

    h = IMP_OSD_CreateRgn(None)
    plain = IMPOSDRgnAttr()
    plain.type, plain.fmt = OSD_REG_COVER, PIX_FMT_BGRA
    plain.rect.p0.x, plain.rect.p0.y, plain.rect.p1.x, plain.rect.p1.y = 0, 0, 9, 9
    plain.data.coverData.color = OSD_WHITE
    assert IMP_OSD_SetRgnAttr(h, plain) == 0
    gattr = IMPOSDGrpRgnAttr()
    gattr.show = 1
    assert IMP_OSD_RegisterRgn(h, 0, gattr) == 0
    timed = IMPOSDRgnAttr()
    ctypes.memmove(ctypes.addressof(timed), ctypes.addressof(plain), ctypes.sizeof(plain))
    timed.rect.p0.x, timed.rect.p1.x = 20, 29
    ts = IMPOSDRgnTimestamp(1_000_000, 40_000, 40_000)
    assert IMP_OSD_SetRgnAttrWithTimestamp(h, timed, ts) == 0

    def white_at(t: int) -> tuple[bool, bool]:
        y = np.full((H, W), 16, np.uint8)
        uv = np.full((H // 2, W), 128, np.uint8)
        get_osd().group(0).draw_onto(y, uv, t)
        return bool(y[5, 5] == 235), bool(y[5, 25] == 235)

    assert white_at(900_000) == (True, False)  # before the window: the plain attrs
    assert white_at(960_000) == (False, True)  # ts - minus
    assert white_at(1_040_000) == (False, True)  # ts + plus
    assert white_at(1_080_000) == (True, False)  # after: plain again, timed attrs expired
    assert white_at(1_000_000) == (True, False)  # ... and forgotten


def test_pythonic_layer_draws_the_same(osd_group: int) -> None:
    """The same rules through imp.osd objects (no C structs)."""
    from imp.osd import GroupRegionAttr, RegionAttr, get_osd

    osd = get_osd()
    grp = osd.group(osd_group)
    rng = np.random.default_rng(21)
    bits = rng.integers(0, 2, (9, 13), dtype=np.uint8)
    pic = _pic(rng, 11, 7, "mixed")
    made = [
        (RegionAttr.bitmap((3, 4), bits), GroupRegionAttr(show=True, layer=1)),
        (RegionAttr.line((2, 40), (60, 3), 0xFF00FFFF, 3), GroupRegionAttr(show=True, layer=2)),
        (RegionAttr.picture((41, 21), pic), GroupRegionAttr(show=True, global_alpha=True)),
        (RegionAttr.rectangle((5, 5, 58, 44), OSD_RED, 2), GroupRegionAttr(show=True)),
    ]
    ref = [
        (
            RefRegion("bitmap", (3, 4, 15, 12), fmt=PIX_FMT_MONOBLACK, pixels=bits),
            RefGroupAttr(layer=1),
        ),
        (RefRegion("line", (2, 40, 60, 3), 0xFF00FFFF, 3), RefGroupAttr(layer=2)),
        (RefRegion("pic", (41, 21, 51, 27), pixels=pic), RefGroupAttr(galpha=True)),
        (RefRegion("rect", (5, 5, 58, 44), OSD_RED, 2), RefGroupAttr()),
    ]
    y = rng.integers(16, 236, (H, W), dtype=np.uint8)
    uv = rng.integers(16, 241, (H // 2, W), dtype=np.uint8)
    placed = []
    for (attr, gattr), (reg, g) in zip(made, ref, strict=True):
        region = osd.create_region(attr)
        grp.register(region, gattr)
        placed.append((region.handle, reg, g))
    ey, euv = ref_draw(y, uv, placed)
    grp.draw_onto(y, uv)
    assert np.array_equal(y, ey) and np.array_equal(uv, euv)
