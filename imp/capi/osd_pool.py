"""``IMP_OSD_SetPoolSize``: every vendor sample and prudynt-t call it at start-up.

The OSD module proper comes later; the pool size (rmem reserved for PIC_RMEM regions) is
recorded now so start-up sequences run unchanged. It may be called before and after
``IMP_System_Init`` (usage.md §0 quirk 6).
"""

from __future__ import annotations

from imp.capi._common import c_function, check_int, log
from imp.errors import InvalidArgument

__all__ = ["IMP_OSD_SetPoolSize", "osd_pool_size"]

_pool_size = 0


def osd_pool_size() -> int:
    return _pool_size


@c_function()
def IMP_OSD_SetPoolSize(size: int) -> int:
    """``int IMP_OSD_SetPoolSize(int size)``: bytes of rmem for OSD pictures."""
    global _pool_size
    value = check_int(size, "size")
    if value < 0:
        raise InvalidArgument(f"OSD pool size must be >= 0 bytes, got {value}")
    _pool_size = value
    log.debug("OSD pool size %d bytes", value)
    return 0
