"""``IMPPixfmtToString`` (imp_utils.h) and the ``imp_common.h`` inline helpers ``calc_pic_size``
and ``fmt_to_string``. Strings come back as Python ``str``; NULL as None."""

from __future__ import annotations

from typing import Any

from imp import pixfmt as _pixfmt
from imp.capi._common import c_function, check_int
from imp.errors import InvalidArgument

__all__ = ["IMPPixfmtToString", "calc_pic_size", "fmt_to_string"]


def _format(value: Any) -> int:
    fmt = check_int(value, "pixfmt")
    if not 0 <= fmt <= _pixfmt.PIX_FMT_NB:
        raise InvalidArgument(f"pixfmt {fmt} is not an IMPPixelFormat (0..{_pixfmt.PIX_FMT_NB})")
    return fmt


@c_function(None)
def IMPPixfmtToString(pixfmt: Any) -> str | None:
    """``char *IMPPixfmtToString(IMPPixelFormat pixfmt)``: "NV12", "RGBA", ...; NULL (None) for
    RAW, HSV and anything out of range (logged)."""
    fmt = _format(pixfmt)
    name = _pixfmt.pixfmt_name(fmt)
    if name is None:
        raise InvalidArgument(f"pixfmt {fmt} has no name in libimp (RAW, HSV and NB have none)")
    return name


@c_function(-1)
def calc_pic_size(width: Any, height: Any, imp_pixfmt: Any) -> int:
    """``static inline int calc_pic_size(int width, int height, IMPPixelFormat imp_pixfmt)``:
    0 for a format imp_common.h does not size (as the inline helper); -1 for bad input."""
    w, h = check_int(width, "width"), check_int(height, "height")
    if w < 0 or h < 0:
        raise InvalidArgument(f"picture size {w}x{h} must not be negative")
    return _pixfmt.calc_pic_size(w, h, _format(imp_pixfmt))


@c_function(None)
def fmt_to_string(imp_pixfmt: Any) -> str | None:
    """``static inline const char *fmt_to_string(IMPPixelFormat imp_pixfmt)``: "nv12" or
    "yuyv422", NULL (None) for other formats."""
    return _pixfmt.fmt_to_string(_format(imp_pixfmt))
