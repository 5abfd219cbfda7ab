"""OSD structs <-> the core's attributes: ``IMPOSDRgnAttr``, ``IMPOSDGrpRgnAttr``."""

from __future__ import annotations

import ctypes

from imp.errors import InvalidArgument
from imp.osd.attrs import (
    GroupRegionAttr,
    RegionAttr,
    RegionType,
    bitmap_stride,
    rect_size,
    validate_region,
)
from imp.types import (
    IMPOSDGrpRgnAttr,
    IMPOSDRgnAttr,
)


def _read(address: int | None, size: int) -> bytes | None:
    if not address:
        return None
    return ctypes.string_at(address, size)


def attr_from_c(c: IMPOSDRgnAttr) -> RegionAttr:
    """``IMPOSDRgnAttr`` -> :class:`RegionAttr`, copying the picture/bitmap it points at."""
    try:
        kind = RegionType(int(c.type))
    except ValueError:
        raise InvalidArgument(
            f"prAttr->type {c.type} is not an IMPOsdRgnType (0..6: INV, LINE, RECT, BITMAP, "
            "COVER, PIC, PIC_RMEM)"
        ) from None
    rect = (int(c.rect.p0.x), int(c.rect.p0.y), int(c.rect.p1.x), int(c.rect.p1.y))
    attr = RegionAttr(kind, rect, int(c.fmt))
    data = c.data
    if kind in (RegionType.LINE, RegionType.RECT):
        return RegionAttr(
            kind,
            rect,
            attr.fmt,
            colour=int(data.lineRectData.color),
            linewidth=int(data.lineRectData.linewidth),
        )
    if kind is RegionType.COVER:
        return RegionAttr(kind, rect, attr.fmt, colour=int(data.coverData.color))
    if kind in (RegionType.PIC, RegionType.PIC_RMEM, RegionType.BITMAP):
        validate_region(attr)  # type, rect and format first: then the size to read is sane
        w, h = rect_size(rect)
        pointer = data.picData.pData  # bitmapData shares the address
        size = bitmap_stride(w) * h if kind is RegionType.BITMAP else w * h * 4
        return attr.with_data(_read(pointer, size), pointer or None)
    return attr


def attr_to_c(attr: RegionAttr, c: IMPOSDRgnAttr) -> None:
    ctypes.memset(ctypes.addressof(c), 0, ctypes.sizeof(c))
    c.type = int(attr.type)
    c.rect.p0.x, c.rect.p0.y, c.rect.p1.x, c.rect.p1.y = attr.rect
    c.fmt = attr.fmt
    if attr.type in (RegionType.LINE, RegionType.RECT):
        c.data.lineRectData.color = attr.colour & 0xFFFFFFFF
        c.data.lineRectData.linewidth = attr.linewidth
    elif attr.type is RegionType.COVER:
        c.data.coverData.color = attr.colour & 0xFFFFFFFF
    elif attr.type in (RegionType.PIC, RegionType.PIC_RMEM, RegionType.BITMAP):
        c.data.picData.pData = attr.pointer


def group_attr_from_c(c: IMPOSDGrpRgnAttr) -> GroupRegionAttr:
    return GroupRegionAttr(
        show=bool(c.show),
        offset=(int(c.offPos.x), int(c.offPos.y)),
        scale=(float(c.scalex), float(c.scaley)),
        global_alpha=bool(c.gAlphaEn),
        fg_alpha=int(c.fgAlhpa),
        bg_alpha=int(c.bgAlhpa),
        layer=int(c.layer),
    )


def group_attr_to_c(a: GroupRegionAttr, c: IMPOSDGrpRgnAttr) -> None:
    c.show = int(a.show)
    c.offPos.x, c.offPos.y = a.offset
    c.scalex, c.scaley = a.scale
    c.gAlphaEn = int(a.global_alpha)
    c.fgAlhpa, c.bgAlhpa, c.layer = a.fg_alpha, a.bg_alpha, a.layer


__all__ = ["attr_from_c", "attr_to_c", "group_attr_from_c", "group_attr_to_c"]
