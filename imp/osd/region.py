"""One OSD region (``IMPRgnHandle``): its attributes and its private copy of the picture data.

The data a caller points at is copied when it is set (``SetRgnAttr`` / ``UpdateRgnAttrData``):
prudynt frees its buffer right after the call, the vendor sample rewrites the same buffer in
place every second (usage.md §0 item 11); neither may show up half-written in a frame.

What the drawing thread reads is one immutable :class:`~imp.osd.raster.Content`, replaced whole
under the module lock, so a frame never sees half of an update. PIC_RMEM pictures are kept in
a block of rmem charged to the OSD pool (``IMP_OSD_SetPoolSize``), where the board's OSD
hardware would read them; an update of the same size rewrites that block instead of
reallocating.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from imp.osd.attrs import RegionAttr, RegionType, rect_size, validate_region
from imp.osd.raster import Content, make_content

if TYPE_CHECKING:
    from imp.core.alloc import Block


@dataclass(frozen=True, eq=False)
class TimedContent:
    """``SetRgnAttrWithTimestamp``: content for frames stamped within [start, end] µs."""

    content: Content
    start: int
    end: int


class Region:
    """A region handle's state. Created and changed through :class:`~imp.osd.module.Osd`."""

    def __init__(self, handle: int) -> None:
        self.handle = handle
        self.content = Content(RegionAttr())
        self.timed: TimedContent | None = None
        self.block: Block | None = None  # PIC_RMEM data in the OSD pool
        self.charge = 0  # bytes of the pool charged for it
        self.groups: set[int] = set()  # groups it is registered to
        self.updates = 0  # data/attr changes, for tests and stats

    @property
    def attr(self) -> RegionAttr:
        return self.content.attr

    def content_at(self, timestamp: int) -> Content:
        """What a frame stamped ``timestamp`` shows (a timed attr wins inside its window)."""
        timed = self.timed
        if timed is not None and timed.start <= timestamp <= timed.end:
            return timed.content
        return self.content

    def expire_timed(self, timestamp: int) -> None:
        timed = self.timed
        if timed is not None and timestamp > timed.end:
            self.timed = None

    def __repr__(self) -> str:
        a = self.attr
        return f"<Region {self.handle} {a.type.name} {a.rect} groups={sorted(self.groups)}>"


def prepare(attr: RegionAttr) -> RegionAttr:
    """Validate and copy (the caller's buffer may change right after the call)."""
    return validate_region(attr)


def needs_rmem(attr: RegionAttr) -> bool:
    return attr.type is RegionType.PIC_RMEM and attr.data is not None


def rmem_size(attr: RegionAttr) -> int:
    w, h = rect_size(attr.rect)
    return w * h * 4


def store_in_block(attr: RegionAttr, block: Block) -> RegionAttr:
    """Put a PIC_RMEM picture into its rmem block; the attr's data becomes a view of it."""
    assert isinstance(attr.data, np.ndarray)
    w, h = rect_size(attr.rect)
    view = np.frombuffer(block.view, dtype=np.uint8, count=w * h * 4).reshape(h, w, 4)
    np.copyto(view, attr.data)
    return attr.with_data(view, attr.pointer)


def content_for(attr: RegionAttr) -> Content:
    return make_content(attr)


__all__ = [
    "Region",
    "TimedContent",
    "content_for",
    "needs_rmem",
    "prepare",
    "rmem_size",
    "store_in_block",
]
