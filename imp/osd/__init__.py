"""OSD: regions drawn into the video — time, text, logos, covers, rectangles (``IMP_OSD_*``).

An OSD group sits in the frame graph (FS -> OSD -> ENC) and draws the regions it shows into
each NV12 frame before passing it on. The pieces:

- :mod:`imp.osd.module` — :func:`get_osd`: region handles, groups, the picture pool;
- :mod:`imp.osd.group` — :class:`OsdGroup`: the graph node, its worker and statistics;
- :mod:`imp.osd.attrs` — :class:`RegionAttr`, :class:`GroupRegionAttr` (the C structs' meaning);
- :mod:`imp.osd.raster` / :mod:`imp.osd.patches` — shapes to pixels, and the exact blending
  rules (BT.601 limited range, 2x2 chroma by coverage);
- :mod:`imp.osd.text` — TrueType text and clocks in PIC regions.

A few lines::

    from imp.osd import GroupRegionAttr, RegionAttr, get_osd, OSD_BLACK
    osd = get_osd()
    grp = osd.create_group(0)                       # then Bind FS -> grp.cell -> ENC
    cover = osd.create_region(RegionAttr.cover((860, 440, 1869, 1029), OSD_BLACK))
    grp.register(cover, GroupRegionAttr(show=True, global_alpha=True, fg_alpha=0x7F))
    grp.start()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imp.core.lazy import exports_of, lazy_exports

if TYPE_CHECKING:
    from imp.osd.attrs import (
        GroupRegionAttr,
        Rect,
        RegionAttr,
        RegionType,
        normalised,
        rect_size,
        rect_xywh,
    )
    from imp.osd.colour import (
        OSD_BLACK,
        OSD_BLUE,
        OSD_GREEN,
        OSD_RED,
        OSD_WHITE,
        colour_yuva,
        rgb_to_yuv,
    )
    from imp.osd.group import OsdGroup, OsdStats
    from imp.osd.module import MAX_GROUPS, MAX_REGIONS, Osd, get_osd
    from imp.osd.region import Region
    from imp.osd.text import ClockOverlay, TextOverlay, TextRenderer, find_font, load_font

# Imported on first use (imp.core.lazy): the package costs only what is used.
__getattr__ = lazy_exports(
    __name__,
    {
        **exports_of(
            "imp.osd.attrs",
            "GroupRegionAttr",
            "Rect",
            "RegionAttr",
            "RegionType",
            "normalised",
            "rect_size",
            "rect_xywh",
        ),
        **exports_of(
            "imp.osd.colour",
            "OSD_BLACK",
            "OSD_BLUE",
            "OSD_GREEN",
            "OSD_RED",
            "OSD_WHITE",
            "colour_yuva",
            "rgb_to_yuv",
        ),
        **exports_of("imp.osd.group", "OsdGroup", "OsdStats"),
        **exports_of("imp.osd.module", "MAX_GROUPS", "MAX_REGIONS", "Osd", "get_osd"),
        **exports_of("imp.osd.region", "Region"),
        **exports_of(
            "imp.osd.text", "ClockOverlay", "TextOverlay", "TextRenderer", "find_font", "load_font"
        ),
    },
)

__all__ = [
    "MAX_GROUPS",
    "MAX_REGIONS",
    "OSD_BLACK",
    "OSD_BLUE",
    "OSD_GREEN",
    "OSD_RED",
    "OSD_WHITE",
    "ClockOverlay",
    "GroupRegionAttr",
    "Osd",
    "OsdGroup",
    "OsdStats",
    "Rect",
    "Region",
    "RegionAttr",
    "RegionType",
    "TextOverlay",
    "TextRenderer",
    "colour_yuva",
    "find_font",
    "get_osd",
    "load_font",
    "normalised",
    "rect_size",
    "rect_xywh",
    "rgb_to_yuv",
]
