"""``IMP_OSD_*`` (17 functions of 1.1.6, imp_osd.h).

Pointers: ``IMPOSDRgnAttr *`` etc. take the struct, ``byref`` or ``pointer`` of it;
``CreateRgn`` and ``RegisterRgn`` also take NULL (``None`` or a null ``POINTER``), as the vendor
samples and prudynt pass. ``picData.pData`` / ``bitmapData`` are C addresses: the picture
(``width * height * 4`` bytes, or ``ceil(width / 8) * height`` for a bitmap, sizes from the
rect) is copied from there during the call, so the caller may free or rewrite its buffer
right after. ``GetRgnAttr`` returns the address last given.
"""

from __future__ import annotations

import ctypes
from typing import Any

from imp.capi._common import c_function, check_int, deref, log
from imp.capi._osd_structs import attr_from_c, attr_to_c, group_attr_from_c, group_attr_to_c
from imp.errors import InvalidArgument, InvalidState
from imp.osd.attrs import (
    DATA_TYPES,
    RegionType,
    bitmap_stride,
    rect_size,
)
from imp.osd.module import get_osd
from imp.system import get_system
from imp.types import (
    IMPCell,
    IMPOSDGrpRgnAttr,
    IMPOSDRgnAttr,
    IMPOSDRgnAttrData,
    IMPOSDRgnTimestamp,
)

__all__ = [
    "IMP_OSD_AttachToGroup",
    "IMP_OSD_CreateGroup",
    "IMP_OSD_CreateRgn",
    "IMP_OSD_DestroyGroup",
    "IMP_OSD_DestroyRgn",
    "IMP_OSD_GetGrpRgnAttr",
    "IMP_OSD_GetRgnAttr",
    "IMP_OSD_RegisterRgn",
    "IMP_OSD_SetGrpRgnAttr",
    "IMP_OSD_SetPoolSize",
    "IMP_OSD_SetRgnAttr",
    "IMP_OSD_SetRgnAttrWithTimestamp",
    "IMP_OSD_ShowRgn",
    "IMP_OSD_Start",
    "IMP_OSD_Stop",
    "IMP_OSD_UnRegisterRgn",
    "IMP_OSD_UpdateRgnAttrData",
]


# -- conversions ---------------------------------------------------------------------------------
def _nullable(arg: Any, ctype: type, what: str) -> Any:
    """A ``T *`` that may be NULL: None for NULL, else the struct."""
    if arg is None or (isinstance(arg, ctypes._Pointer) and not arg):
        return None
    return deref(arg, ctype, what)


def _cell(arg: Any, what: str) -> tuple[int, int, int]:
    c = deref(arg, IMPCell, what)
    return int(c.deviceID), int(c.groupID), int(c.outputID)


# -- pool and groups -----------------------------------------------------------------------------
@c_function()
def IMP_OSD_SetPoolSize(size: int) -> int:
    """``int IMP_OSD_SetPoolSize(int size)``: bytes of rmem for OSD pictures; before or after
    ``IMP_System_Init``, any number of times."""
    value = check_int(size, "size")
    if value > 0x7FFFFFFF:
        raise InvalidArgument(f"size {value} does not fit a C int")
    get_osd().set_pool_size(value)
    log.debug("OSD pool size %d bytes", size)
    return 0


@c_function()
def IMP_OSD_CreateGroup(grpNum: int) -> int:
    """``int IMP_OSD_CreateGroup(int grpNum)``."""
    get_osd().create_group(check_int(grpNum, "grpNum"))
    return 0


@c_function()
def IMP_OSD_DestroyGroup(grpNum: int) -> int:
    """``int IMP_OSD_DestroyGroup(int grpNum)``: after UnBind; its regions are unregistered."""
    get_osd().destroy_group(check_int(grpNum, "grpNum"))
    return 0


@c_function()
def IMP_OSD_AttachToGroup(frm: Any, to: Any) -> int:
    """``int IMP_OSD_AttachToGroup(IMPCell *from, IMPCell *to)``: the legacy name of
    ``IMP_System_Bind(from, to)``."""
    src, dst = _cell(frm, "from"), _cell(to, "to")
    get_system().bind(src, dst)
    return 0


@c_function()
def IMP_OSD_Start(grpNum: int) -> int:
    """``int IMP_OSD_Start(int grpNum)``: start drawing the group's shown regions."""
    get_osd().start(check_int(grpNum, "grpNum"))
    return 0


@c_function()
def IMP_OSD_Stop(grpNum: int) -> int:
    """``int IMP_OSD_Stop(int grpNum)``: frames pass through untouched."""
    get_osd().stop(check_int(grpNum, "grpNum"))
    return 0


# -- regions -------------------------------------------------------------------------------------
@c_function(error_return=-1)
def IMP_OSD_CreateRgn(prAttr: Any) -> int:
    """``IMPRgnHandle IMP_OSD_CreateRgn(IMPOSDRgnAttr *prAttr)``: the lowest free handle
    (0, 1, 2, ... in creation order), or INVHANDLE (-1). ``prAttr`` may be NULL."""
    c = _nullable(prAttr, IMPOSDRgnAttr, "prAttr")
    attr = None if c is None else attr_from_c(c)
    return get_osd().create_region(attr).handle


@c_function(error_return=None)
def IMP_OSD_DestroyRgn(handle: int) -> None:
    """``void IMP_OSD_DestroyRgn(IMPRgnHandle handle)``: also unregisters it from its groups."""
    get_osd().destroy_region(check_int(handle, "handle"))


@c_function()
def IMP_OSD_RegisterRgn(handle: int, grpNum: int, pgrAttr: Any) -> int:
    """``int IMP_OSD_RegisterRgn(IMPRgnHandle, int grpNum, IMPOSDGrpRgnAttr *pgrAttr)``;
    ``pgrAttr`` may be NULL (hidden, layer 0, no group alpha)."""
    h, g = check_int(handle, "handle"), check_int(grpNum, "grpNum")
    c = _nullable(pgrAttr, IMPOSDGrpRgnAttr, "pgrAttr")
    get_osd().register(h, g, None if c is None else group_attr_from_c(c))
    return 0


@c_function()
def IMP_OSD_UnRegisterRgn(handle: int, grpNum: int) -> int:
    """``int IMP_OSD_UnRegisterRgn(IMPRgnHandle handle, int grpNum)``."""
    get_osd().unregister(check_int(handle, "handle"), check_int(grpNum, "grpNum"))
    return 0


@c_function()
def IMP_OSD_SetRgnAttr(handle: int, prAttr: Any) -> int:
    """``int IMP_OSD_SetRgnAttr(IMPRgnHandle handle, IMPOSDRgnAttr *prAttr)``."""
    h = check_int(handle, "handle")
    get_osd().region(h)  # a bad handle is reported before the attr is read
    get_osd().set_region_attr(h, attr_from_c(deref(prAttr, IMPOSDRgnAttr, "prAttr")))
    return 0


@c_function()
def IMP_OSD_SetRgnAttrWithTimestamp(handle: int, prAttr: Any, prTs: Any) -> int:
    """``int IMP_OSD_SetRgnAttrWithTimestamp(IMPRgnHandle, IMPOSDRgnAttr *,
    IMPOSDRgnTimestamp *prTs)``: the attrs apply to frames stamped within
    [ts - minus, ts + plus] µs."""
    h = check_int(handle, "handle")
    get_osd().region(h)
    ts = deref(prTs, IMPOSDRgnTimestamp, "prTs")
    attr = attr_from_c(deref(prAttr, IMPOSDRgnAttr, "prAttr"))
    get_osd().set_region_attr_at(h, attr, int(ts.ts), int(ts.minus), int(ts.plus))
    return 0


@c_function()
def IMP_OSD_GetRgnAttr(handle: int, prAttr: Any) -> int:
    """``int IMP_OSD_GetRgnAttr(IMPRgnHandle handle, IMPOSDRgnAttr *prAttr)``."""
    c = deref(prAttr, IMPOSDRgnAttr, "prAttr")
    attr_to_c(get_osd().region(check_int(handle, "handle")).attr, c)
    return 0


@c_function()
def IMP_OSD_UpdateRgnAttrData(handle: int, prAttrData: Any) -> int:
    """``int IMP_OSD_UpdateRgnAttrData(IMPRgnHandle, IMPOSDRgnAttrData *prAttrData)``:
    new data for a BITMAP / PIC / PIC_RMEM region of the same rect, copied now."""
    osd = get_osd()
    h = check_int(handle, "handle")
    data = deref(prAttrData, IMPOSDRgnAttrData, "prAttrData")
    attr = osd.region(h).attr
    if attr.type not in DATA_TYPES:
        raise InvalidState(
            f"region {h} is {attr.type.name}: UpdateRgnAttrData is for BITMAP, PIC and "
            "PIC_RMEM regions; use IMP_OSD_SetRgnAttr"
        )
    pointer = data.picData.pData  # bitmapData shares the address
    if not pointer:
        raise InvalidArgument("prAttrData->picData.pData is NULL")
    w, height = rect_size(attr.rect)
    size = bitmap_stride(w) * height if attr.type is RegionType.BITMAP else w * height * 4
    osd.update_region_data(h, ctypes.string_at(pointer, size), pointer)
    return 0


@c_function()
def IMP_OSD_SetGrpRgnAttr(handle: int, grpNum: int, pgrAttr: Any) -> int:
    """``int IMP_OSD_SetGrpRgnAttr(IMPRgnHandle, int grpNum, IMPOSDGrpRgnAttr *pgrAttr)``."""
    h, g = check_int(handle, "handle"), check_int(grpNum, "grpNum")
    c = deref(pgrAttr, IMPOSDGrpRgnAttr, "pgrAttr")
    get_osd().set_group_attr(h, g, group_attr_from_c(c))
    return 0


@c_function()
def IMP_OSD_GetGrpRgnAttr(handle: int, grpNum: int, pgrAttr: Any) -> int:
    """``int IMP_OSD_GetGrpRgnAttr(IMPRgnHandle, int grpNum, IMPOSDGrpRgnAttr *pgrAttr)``."""
    h, g = check_int(handle, "handle"), check_int(grpNum, "grpNum")
    c = deref(pgrAttr, IMPOSDGrpRgnAttr, "pgrAttr")
    group_attr_to_c(get_osd().group_attr(h, g), c)
    return 0


@c_function()
def IMP_OSD_ShowRgn(handle: int, grpNum: int, showFlag: int) -> int:
    """``int IMP_OSD_ShowRgn(IMPRgnHandle handle, int grpNum, int showFlag)``: per (handle,
    group)."""
    h, g = check_int(handle, "handle"), check_int(grpNum, "grpNum")
    get_osd().show(h, g, bool(check_int(showFlag, "showFlag")))
    return 0
