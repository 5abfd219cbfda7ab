"""What a region is and how a group shows it: Pythonic ``IMPOSDRgnAttr`` / ``IMPOSDGrpRgnAttr``.

Rectangles use the vendor's **inclusive corners**: ``(x0, y0, x1, y1)`` covers
``x1 - x0 + 1`` columns (``IMPRect {p0, p1}``). For LINE regions the two corners are the line's
end points; for every other type they are normalised (either corner may come first).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

import numpy as np

from imp.errors import InvalidArgument
from imp.osd.colour import (
    BITMAP_FORMATS,
    PICTURE_FORMAT_NAMES,
    PICTURE_FORMATS,
    PIX_FMT_BGRA,
    PIX_FMT_MONOBLACK,
)

MAX_EXTENT = 8192  # coordinates beyond +-8192 are certainly a caller's mistake (T31: <= 2592 px)
MAX_PICTURE_SIDE = 4096
MAX_LINEWIDTH = 1024


class RegionType(enum.IntEnum):
    """``IMPOsdRgnType``."""

    INV = 0
    LINE = 1
    RECT = 2
    BITMAP = 3
    COVER = 4
    PIC = 5
    PIC_RMEM = 6


PICTURE_TYPES = (RegionType.PIC, RegionType.PIC_RMEM)
DATA_TYPES = (RegionType.BITMAP, *PICTURE_TYPES)  # the types UpdateRgnAttrData accepts

Rect = tuple[int, int, int, int]
"""(x0, y0, x1, y1), inclusive corners."""


def rect_xywh(x: int, y: int, width: int, height: int) -> Rect:
    """The inclusive-corner rect of a ``width`` x ``height`` box at (x, y)."""
    if width <= 0 or height <= 0:
        raise InvalidArgument(f"a rect needs a positive size, got {width}x{height}")
    return (x, y, x + width - 1, y + height - 1)


def normalised(rect: Rect) -> Rect:
    """(left, top, right, bottom) with left <= right and top <= bottom."""
    x0, y0, x1, y1 = rect
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def rect_size(rect: Rect) -> tuple[int, int]:
    """(width, height) of an inclusive-corner rect."""
    x0, y0, x1, y1 = rect
    return abs(x1 - x0) + 1, abs(y1 - y0) + 1


def bitmap_stride(width: int) -> int:
    """Bytes per row of a 1-bit bitmap (rows start on a byte)."""
    return (width + 7) // 8


@dataclass(frozen=True, eq=False)
class RegionAttr:
    """Pythonic ``IMPOSDRgnAttr``.

    - ``colour`` (``0xAARRGGBB``) and ``linewidth``: LINE, RECT (``lineRectData``), COVER
      (``coverData``, width unused).
    - ``data``: PIC / PIC_RMEM: a (height, width, 4) uint8 picture in ``fmt`` (or its bytes);
      BITMAP: rows of ``ceil(width / 8)`` bytes, most significant bit = leftmost pixel, ``fmt``
      PIX_FMT_MONOBLACK (a 1 bit is white) or PIX_FMT_MONOWHITE (a 1 bit is black). ``None``
      draws nothing until data arrives (the vendor sample creates its clock with NULL).
    - ``pointer``: the C address ``data`` was copied from; ``GetRgnAttr`` hands it back.
    """

    type: RegionType = RegionType.INV
    rect: Rect = (0, 0, 0, 0)
    fmt: int = PIX_FMT_BGRA
    colour: int = 0
    linewidth: int = 1
    data: np.ndarray | bytes | None = None
    pointer: int | None = None

    # -- constructors ---------------------------------------------------------------------------
    @classmethod
    def cover(cls, rect: Rect, colour: int) -> RegionAttr:
        """A filled box of ``colour`` (its alpha byte counts)."""
        return cls(RegionType.COVER, rect, PIX_FMT_BGRA, colour=colour)

    @classmethod
    def rectangle(cls, rect: Rect, colour: int, linewidth: int = 1) -> RegionAttr:
        """The outline of ``rect``, ``linewidth`` pixels wide, drawn inside the rect."""
        return cls(RegionType.RECT, rect, PIX_FMT_MONOBLACK, colour=colour, linewidth=linewidth)

    @classmethod
    def line(
        cls, start: tuple[int, int], end: tuple[int, int], colour: int, linewidth: int = 1
    ) -> RegionAttr:
        """A line between two end points (both included)."""
        return cls(
            RegionType.LINE, (*start, *end), PIX_FMT_MONOBLACK, colour=colour, linewidth=linewidth
        )

    @classmethod
    def picture(
        cls,
        position: tuple[int, int],
        pixels: np.ndarray,
        fmt: int = PIX_FMT_BGRA,
        rmem: bool = False,
    ) -> RegionAttr:
        """A (height, width, 4) picture at ``position``; ``rmem`` stores it in the OSD pool."""
        h, w = pixels.shape[:2]
        kind = RegionType.PIC_RMEM if rmem else RegionType.PIC
        return cls(kind, rect_xywh(position[0], position[1], w, h), fmt, data=pixels)

    @classmethod
    def bitmap(
        cls, position: tuple[int, int], bits: np.ndarray, fmt: int = PIX_FMT_MONOBLACK
    ) -> RegionAttr:
        """A (height, width) array of 0/1 pixels, packed here into the C bitmap layout."""
        mask = np.asarray(bits).astype(bool)
        if mask.ndim != 2:
            raise InvalidArgument(f"bitmap pixels must be 2-D, got shape {mask.shape}")
        h, w = mask.shape
        packed = np.packbits(mask, axis=1).tobytes()
        return cls(RegionType.BITMAP, rect_xywh(position[0], position[1], w, h), fmt, data=packed)

    def with_data(self, data: np.ndarray | bytes | None, pointer: int | None = None) -> RegionAttr:
        return replace(self, data=data, pointer=pointer)


@dataclass(frozen=True)
class GroupRegionAttr:
    """Pythonic ``IMPOSDGrpRgnAttr``: how one group shows one region.

    - ``offset`` (``offPos``) moves the region; ``scale`` (``scalex``/``scaley``) scales the
      coordinates of LINE/RECT/COVER regions (the vendor's IVS sample draws 640x360 results on
      1080p with 3.0); values <= 0 mean 1 (a zeroed C struct).
    - ``global_alpha`` (``gAlphaEn``): multiply every pixel's alpha by ``fg_alpha``
      (``fgAlhpa``) / 255; BITMAP 0-bits are drawn with ``bg_alpha`` (``bgAlhpa``).
    - ``layer``: regions are drawn from low to high layer (higher on top); equal layers in
      handle order.
    """

    show: bool = False
    offset: tuple[int, int] = (0, 0)
    scale: tuple[float, float] = (1.0, 1.0)
    global_alpha: bool = False
    fg_alpha: int = 255
    bg_alpha: int = 0
    layer: int = 0

    def validate(self) -> GroupRegionAttr:
        for name, value in (("fgAlhpa", self.fg_alpha), ("bgAlhpa", self.bg_alpha)):
            if not 0 <= value <= 255:
                raise InvalidArgument(f"{name} {value} must be 0..255")
        for name, value in (("offPos.x", self.offset[0]), ("offPos.y", self.offset[1])):
            if abs(value) > MAX_EXTENT:
                raise InvalidArgument(f"{name} {value} is out of range (+-{MAX_EXTENT})")
        for name, s in (("scalex", self.scale[0]), ("scaley", self.scale[1])):
            if not np.isfinite(s) or s > 64:
                raise InvalidArgument(f"{name} {s} must be a finite factor <= 64")
        return self

    @property
    def alpha_factor(self) -> int:
        """What every pixel's alpha is multiplied by (/255)."""
        return self.fg_alpha if self.global_alpha else 255

    @property
    def effective_scale(self) -> tuple[float, float]:
        return tuple(s if s > 0 else 1.0 for s in self.scale)  # type: ignore[return-value]


def validate_region(attr: RegionAttr) -> RegionAttr:
    """Check ``attr`` and return it with ``data`` as a private copy in its canonical form."""
    try:
        kind = RegionType(int(attr.type))
    except ValueError:
        raise InvalidArgument(
            f"region type {attr.type} is not an IMPOsdRgnType (0..6: INV, LINE, RECT, BITMAP, "
            "COVER, PIC, PIC_RMEM)"
        ) from None
    for c in attr.rect:
        if abs(int(c)) > MAX_EXTENT:
            raise InvalidArgument(f"rect {attr.rect} has a coordinate beyond +-{MAX_EXTENT}")
    rect: Rect = tuple(int(c) for c in attr.rect)  # type: ignore[assignment]
    w, h = rect_size(rect)
    data: np.ndarray | bytes | None = None
    if kind in (RegionType.LINE, RegionType.RECT) and not 1 <= attr.linewidth <= MAX_LINEWIDTH:
        raise InvalidArgument(
            f"{kind.name} region: linewidth {attr.linewidth} must be 1..{MAX_LINEWIDTH} pixels"
        )
    if kind in DATA_TYPES and max(w, h) > MAX_PICTURE_SIDE:
        raise InvalidArgument(
            f"{kind.name} region {w}x{h} is larger than {MAX_PICTURE_SIDE} pixels a side"
        )
    if kind in PICTURE_TYPES:
        if attr.fmt not in PICTURE_FORMATS:
            raise InvalidArgument(
                f"{kind.name} region: pixel format {attr.fmt} is not a 32-bit picture format; "
                "use " + ", ".join(f"PIX_FMT_{n} ({v})" for v, n in PICTURE_FORMAT_NAMES.items())
            )
        if attr.data is not None:
            data = _picture_copy(attr.data, w, h)
    elif kind is RegionType.BITMAP:
        if attr.fmt not in BITMAP_FORMATS:
            raise InvalidArgument(
                f"BITMAP region: pixel format {attr.fmt} must be PIX_FMT_MONOWHITE (8) or "
                "PIX_FMT_MONOBLACK (9)"
            )
        if attr.data is not None:
            data = _bitmap_copy(attr.data, w, h)
    return replace(attr, type=kind, rect=rect, data=data, linewidth=int(attr.linewidth))


def _picture_copy(data: np.ndarray | bytes, w: int, h: int) -> np.ndarray:
    if isinstance(data, np.ndarray):
        arr = data
        if arr.dtype != np.uint8 or arr.shape != (h, w, 4):
            raise InvalidArgument(
                f"picture must be a ({h}, {w}, 4) uint8 array for a {w}x{h} rect, got "
                f"{arr.shape} {arr.dtype}"
            )
        return np.array(arr, dtype=np.uint8, copy=True, order="C")
    raw = bytes(data)
    if len(raw) != w * h * 4:
        raise InvalidArgument(
            f"picture data is {len(raw)} bytes; a {w}x{h} rect of 4-byte pixels needs {w * h * 4}"
        )
    return np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 4).copy()


def _bitmap_copy(data: np.ndarray | bytes, w: int, h: int) -> bytes:
    raw = data.tobytes() if isinstance(data, np.ndarray) else bytes(data)
    need = bitmap_stride(w) * h
    if len(raw) != need:
        raise InvalidArgument(
            f"bitmap data is {len(raw)} bytes; a {w}x{h} rect needs {need} "
            f"({bitmap_stride(w)} bytes per row)"
        )
    return raw


def data_size(attr: RegionAttr) -> int:
    """Bytes a C caller's data pointer must provide for ``attr`` (0 if the type has none)."""
    w, h = rect_size(attr.rect)
    if attr.type in PICTURE_TYPES:
        return w * h * 4
    if attr.type == RegionType.BITMAP:
        return bitmap_stride(w) * h
    return 0


__all__ = [
    "DATA_TYPES",
    "MAX_LINEWIDTH",
    "MAX_PICTURE_SIDE",
    "PICTURE_TYPES",
    "GroupRegionAttr",
    "Rect",
    "RegionAttr",
    "RegionType",
    "bitmap_stride",
    "data_size",
    "normalised",
    "rect_size",
    "rect_xywh",
    "validate_region",
]
