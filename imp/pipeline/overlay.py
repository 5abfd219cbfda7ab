"""An OSD group as a node, and its regions as Python objects you add, move and update.

osd = cam.overlay(main)                       # FS -> OSD, drawing from the next frame
clock = osd.clock(position=(16, 16))          # each frame shows its own capture second
box = osd.cover((100, 100, 200, 120), colour=0xFF000000)
box.move(300, 100); box.hide(); box.show()
h264 = cam.encoder(osd, imp.H264())           # OSD -> ENC
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from imp.core.graph import DEV_ID_OSD, Cell
from imp.errors import Closed
from imp.framesource import MAX_VBS
from imp.osd import GroupRegionAttr, OsdGroup, Region, RegionAttr, get_osd, rect_xywh
from imp.osd.attrs import normalised
from imp.osd.group import COPY_WAIT
from imp.pipeline.events import EventBus, State
from imp.pipeline.node import Node
from imp.pipeline.pacing import consumers_pace_source

if TYPE_CHECKING:  # text and clocks load with the first one (imp.osd.text: fonts, Pillow)
    from imp.osd.text import TextOverlay

LOSSLESS_COPY_WAIT = 60.0  # s: a copy buffer comes back once the slowest encoder is done

Box = tuple[int, int, int, int]
"""(x, y, width, height) in pixels of the frames the overlay draws on."""


class OverlayRegion:
    """One region shown by an :class:`Overlay`; ``move``/``show``/``hide``/``remove``."""

    def __init__(self, overlay: Overlay, region: Region, text: TextOverlay | None = None) -> None:
        self._overlay = overlay
        self._region = region
        self._text = text
        x0, y0, _, _ = normalised(region.attr.rect)
        self._origin = (x0, y0)
        self._removed = False

    def __repr__(self) -> str:
        state = "removed" if self._removed else f"at {self.position}"
        return f"<OverlayRegion {self._region.attr.type.name} handle={self._region.handle} {state}>"

    @property
    def region(self) -> Region:
        self._overlay.check()
        if self._removed or get_osd().regions.get(self._region.handle) is not self._region:
            raise Closed(f"{self!r} was removed; add a new region")
        return self._region

    @property
    def position(self) -> tuple[int, int]:
        off = self._overlay.group.attr_of(self._region).offset if not self._removed else (0, 0)
        return self._origin[0] + off[0], self._origin[1] + off[1]

    def _group_attr(self, **changes: object) -> None:
        grp = self._overlay.group
        region = self.region
        grp.set_attr(region, replace(grp.attr_of(region), **changes))  # type: ignore[arg-type]

    def move(self, x: int, y: int) -> None:
        """Put the region's top-left corner at (x, y)."""
        self._group_attr(offset=(x - self._origin[0], y - self._origin[1]))

    def show(self) -> None:
        self._overlay.group.show(self.region, True)

    def hide(self) -> None:
        self._overlay.group.show(self.region, False)

    def set_alpha(self, alpha: int) -> None:
        """Blend the whole region at ``alpha``/255."""
        self._group_attr(global_alpha=alpha < 255, fg_alpha=alpha)

    def set_text(self, text: str) -> None:
        if self._text is None:
            raise TypeError(f"{self!r} is not a text region")
        self.region  # noqa: B018 - raises Closed after remove()
        self._text.set_text(text)

    def update(self, attr: RegionAttr) -> None:
        """Replace what the region draws (``RegionAttr.cover(...)``, ``.picture(...)``, ...)."""
        get_osd().set_region_attr(self.region, attr)

    def remove(self) -> None:
        if self._removed:
            return
        self._removed = True
        if self._text is not None:
            self._text.close()
        elif get_osd().regions.get(self._region.handle) is self._region:
            get_osd().destroy_region(self._region)


class Overlay(Node):
    """OSD group ``num`` in the graph (FS -> OSD -> ...), drawing its regions into frames."""

    kind = "osd"

    def __init__(self, num: int, bus: EventBus | None = None) -> None:
        super().__init__(bus)
        self.num = num
        self._group = get_osd().create_group(num)
        # Hold frames rather than drop them, as the encoder does; under the virtual clock also
        # wait for a copy buffer as long as the consumers downstream need.
        self._group.hold_frames(
            MAX_VBS, LOSSLESS_COPY_WAIT if consumers_pace_source() else COPY_WAIT
        )
        self._regions: list[OverlayRegion] = []

    def __repr__(self) -> str:
        return f"<Overlay group={self.num} regions={len(self._regions)} {self._state.value}>"

    # -- node -----------------------------------------------------------------------------------
    def input_cell(self) -> Cell:
        return (DEV_ID_OSD, self.num, 0)

    def output_cell(self, output: int = 0) -> Cell:
        self.check()
        return (DEV_ID_OSD, self.num, output)

    def _alive(self) -> bool:
        return get_osd().groups.get(self.num) is self._group

    def _teardown(self) -> None:
        for region in self._regions:
            region.remove()
        self._regions.clear()
        get_osd().destroy_group(self.num)

    @property
    def group(self) -> OsdGroup:
        self.check()
        return self._group

    @property
    def regions(self) -> tuple[OverlayRegion, ...]:
        return tuple(r for r in self._regions if not r._removed)

    @property
    def drops(self) -> dict[str, int]:
        s = self.group.stats
        return self.note_drops({"behind": s.dropped_behind, "no_buffer": s.dropped_no_buffer})

    def flush(self) -> int:
        """Drop the frames waiting to be drawn (e.g. before a resolution change)."""
        return self.group.flush()

    def start(self) -> None:
        self.group.start()
        self._set_state(State.RUNNING)

    def stop(self) -> None:
        """Frames pass through undrawn until :meth:`start`."""
        self.group.stop()
        self._set_state(State.PAUSED)

    # -- regions --------------------------------------------------------------------------------
    def _add(self, attr: RegionAttr, layer: int) -> OverlayRegion:
        osd = get_osd()
        region = osd.create_region(attr)
        try:
            self.group.register(region, GroupRegionAttr(show=True, layer=layer))
        except BaseException:
            osd.destroy_region(region)
            raise
        return self._keep(OverlayRegion(self, region))

    def _keep(self, region: OverlayRegion) -> OverlayRegion:
        self._regions.append(region)
        return region

    def cover(self, box: Box, colour: int = 0xFF000000, layer: int = 0) -> OverlayRegion:
        """A filled box; ``colour`` is ``0xAARRGGBB`` (its alpha counts)."""
        return self._add(RegionAttr.cover(rect_xywh(*box), colour), layer)

    def rect(
        self, box: Box, colour: int = 0xFFFF0000, width: int = 2, layer: int = 0
    ) -> OverlayRegion:
        """The outline of a box, ``width`` pixels wide."""
        return self._add(RegionAttr.rectangle(rect_xywh(*box), colour, width), layer)

    def image(self, pixels: np.ndarray, position: tuple[int, int], layer: int = 0) -> OverlayRegion:
        """A (height, width, 4) BGRA picture (alpha blended) at ``position``."""
        return self._add(RegionAttr.picture(position, np.ascontiguousarray(pixels)), layer)

    def text(
        self, text: str, position: tuple[int, int] = (16, 16), font_size: int = 24
    ) -> OverlayRegion:
        """A line of text (white with a black outline); change it with ``set_text``."""
        from imp.osd.text import TextOverlay

        overlay = TextOverlay(self.group, position, text, font_size=font_size)
        return self._keep(OverlayRegion(self, overlay.region, overlay))

    def clock(
        self, position: tuple[int, int] = (16, 16), time_format: str = "%Y-%m-%d %H:%M:%S"
    ) -> OverlayRegion:
        """A clock; every frame shows the second it was captured in (also under a virtual
        clock), as the clock follows the frames' own timestamps."""
        from imp.osd.text import ClockOverlay

        overlay = ClockOverlay(self.group, position, time_format=time_format)
        overlay.follow_frames()
        return self._keep(OverlayRegion(self, overlay.region, overlay))


__all__ = ["Box", "Overlay", "OverlayRegion"]
