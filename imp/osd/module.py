"""The OSD module: region handles, groups and the picture pool behind ``IMP_OSD_*``.

Process-wide like libimp's. Decisions (usage.md §0 items 4-6, 11):

- **Handles** are the lowest free number from 0, so the first regions get 0, 1, 2, ... in
  creation order (prudynt hard-codes handle 3 for its 4th region), and after DestroyRgn the
  freed number is reused by the next CreateRgn; after destroying all regions (a video restart)
  the same handles come back.
- ``CreateRgn(NULL)`` makes an INV region (set it later); ``RegisterRgn(h, grp, NULL)`` uses
  :class:`GroupRegionAttr` defaults (hidden, layer 0, no group alpha).
- Teardown calls on handles that were never created or registered (prudynt's disabled items
  keep handle 0) fail with an error and change nothing.
- ``SetPoolSize`` may be called before or after System_Init, any number of times; the size is
  the rmem budget for PIC_RMEM pictures (a smaller size never evicts pictures already stored).
- DestroyRgn unregisters the region from its groups; DestroyGroup (after UnBind) unregisters
  its regions and stops it, so neither needs the preceding calls the samples sometimes skip.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from imp import log, runtime
from imp.core.graph import DEV_ID_OSD
from imp.core.registry import Registry
from imp.errors import AlreadyExists, InvalidArgument, InvalidState, NotFound, OutOfMemory
from imp.osd.attrs import DATA_TYPES, GroupRegionAttr, RegionAttr
from imp.osd.group import OsdGroup
from imp.osd.raster import Content
from imp.osd.region import (
    Region,
    TimedContent,
    content_for,
    needs_rmem,
    prepare,
    rmem_size,
    store_in_block,
)
from imp.system import get_system

if TYPE_CHECKING:
    from imp.core.alloc import Block

_log = log.get("osd")

MAX_GROUPS = 6
MAX_REGIONS = 512

RegionRef = Region | int


class Osd:
    """Regions, groups and the OSD pool size."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.regions: Registry[Region] = Registry("OSD region", MAX_REGIONS, "IMP_OSD_CreateRgn")
        self.groups: Registry[OsdGroup] = Registry("OSD group", MAX_GROUPS, "IMP_OSD_CreateGroup")
        self._pool_size = 0
        self._rmem_used = 0
        self._hooked = False

    # -- pool -----------------------------------------------------------------------------------
    @property
    def pool_size(self) -> int:
        return self._pool_size

    @property
    def pool_used(self) -> int:
        """Bytes of the pool held by PIC_RMEM pictures."""
        return self._rmem_used

    def set_pool_size(self, size: int) -> None:
        """``IMP_OSD_SetPoolSize``: bytes of rmem for PIC_RMEM pictures."""
        if not isinstance(size, int) or size < 0:
            raise InvalidArgument(f"OSD pool size must be an int >= 0 bytes, got {size!r}")
        with self._lock:
            if size < self._rmem_used:
                _log.warning(
                    "OSD pool size %d is below the %d bytes pictures already use; they stay",
                    size,
                    self._rmem_used,
                )
            self._pool_size = size

    # -- lookups --------------------------------------------------------------------------------
    def group(self, num: int) -> OsdGroup:
        return self.groups.lookup(num)

    def region(self, ref: object) -> Region:
        return self.regions.lookup(ref.handle if isinstance(ref, Region) else ref)

    # -- groups ---------------------------------------------------------------------------------
    def create_group(self, num: int) -> OsdGroup:
        """``IMP_OSD_CreateGroup``."""
        return self.groups.create_node(
            num, self._lock, "OSD CreateGroup", lambda: OsdGroup(num, self), self.shutdown,
            DEV_ID_OSD,
        )  # fmt: skip

    def destroy_group(self, num: int) -> None:
        """``IMP_OSD_DestroyGroup``: after UnBind; unregisters its regions and stops it."""
        with self._lock:
            grp = self.group(num)
            get_system().graph.unregister(DEV_ID_OSD, num)  # Busy while bound
            for handle in list(grp.members):
                self.regions[handle].groups.discard(num)
            grp.members.clear()
            del self.groups[num]
        grp.close()

    def start(self, num: int) -> None:
        """``IMP_OSD_Start`` (idempotent)."""
        self.group(num).start()

    def stop(self, num: int) -> None:
        """``IMP_OSD_Stop`` (idempotent)."""
        self.group(num).stop()

    # -- regions --------------------------------------------------------------------------------
    def create_region(self, attr: RegionAttr | None = None) -> Region:
        """``IMP_OSD_CreateRgn``: the lowest free handle; ``attr`` None makes an INV region."""
        get_system().require_init("OSD CreateRgn")
        with self._lock:
            if len(self.regions) >= MAX_REGIONS:
                raise OutOfMemory(f"all {MAX_REGIONS} OSD region handles are in use")
            handle = self.regions.free()
            region = Region(handle)
            if attr is not None:
                self._set_content(region, attr)
            self.regions[handle] = region
            self._hook()
            return region

    def destroy_region(self, ref: object) -> None:
        """``IMP_OSD_DestroyRgn``: unregisters it from its groups, frees its pool memory."""
        with self._lock:
            region = self.region(ref)
            for num in region.groups:
                grp = self.groups.get(num)
                if grp is not None:
                    grp.members.pop(region.handle, None)
            region.groups.clear()
            self._free_block(region)
            del self.regions[region.handle]

    def set_region_attr(self, ref: object, attr: RegionAttr) -> None:
        """``IMP_OSD_SetRgnAttr``: picture data is copied now."""
        with self._lock:
            self._set_content(self.region(ref), attr)

    def set_region_attr_at(
        self, ref: object, attr: RegionAttr, timestamp: int, minus: int = 0, plus: int = 0
    ) -> None:
        """``IMP_OSD_SetRgnAttrWithTimestamp``: ``attr`` applies to frames stamped within
        [timestamp - minus, timestamp + plus] µs; other frames show the region's plain attrs,
        and the timed attrs are forgotten once a later frame has passed."""
        for name, value in (("ts", timestamp), ("minus", minus), ("plus", plus)):
            if value < 0:
                raise InvalidArgument(f"timestamp {name} {value} must be >= 0 µs")
        checked = prepare(attr)  # a timed picture stays in process memory, not in the pool
        with self._lock:
            region = self.region(ref)
            region.timed = TimedContent(
                content_for(checked), max(0, timestamp - minus), timestamp + plus
            )
            region.updates += 1

    def update_region_data(
        self, ref: object, data: np.ndarray | bytes, pointer: int | None = None
    ) -> None:
        """``IMP_OSD_UpdateRgnAttrData``: new picture/bitmap data, same rect (copied now)."""
        with self._lock:
            region = self.region(ref)
            attr = region.attr
            if attr.type not in DATA_TYPES:
                raise InvalidState(
                    f"OSD region {region.handle} is {attr.type.name}: UpdateRgnAttrData is for "
                    "BITMAP, PIC and PIC_RMEM regions; use SetRgnAttr"
                )
            if data is None:
                raise InvalidArgument(f"OSD region {region.handle}: the new data is NULL")
            self._set_content(region, attr.with_data(data, pointer))

    def _set_content(self, region: Region, attr: RegionAttr) -> None:
        checked = prepare(attr)
        if needs_rmem(checked):
            checked = store_in_block(checked, self._block_for(region, rmem_size(checked)))
        else:
            self._free_block(region)
        region.content = content_for(checked)
        region.updates += 1

    def _block_for(self, region: Region, size: int) -> Block:
        block = region.block
        if block is not None and region.charge == size:
            return block  # rewrite in place: no reallocation for a same-size update
        held = region.charge if block is not None else 0
        if self._rmem_used - held + size > self._pool_size:
            raise OutOfMemory(
                f"PIC_RMEM picture of {size} bytes does not fit the OSD pool: "
                f"{self._rmem_used - held} of {self._pool_size} bytes used; raise it with "
                "IMP_OSD_SetPoolSize"
            )
        new = runtime.allocator().alloc(size, name=f"osd-rgn{region.handle}")
        self._free_block(region)
        region.block, region.charge = new, size
        self._rmem_used += size
        return new

    def _free_block(self, region: Region) -> None:
        block, region.block = region.block, None
        if block is not None:
            self._rmem_used -= min(self._rmem_used, region.charge)
            region.charge = 0
            try:
                runtime.allocator().free(block)
            except Exception as exc:  # the arena may be gone already at System_Exit
                _log.warning("OSD region %d: freeing its pool memory: %s", region.handle, exc)

    # -- regions in groups ----------------------------------------------------------------------
    def register(self, ref: object, num: int, attr: GroupRegionAttr | None = None) -> None:
        """``IMP_OSD_RegisterRgn``."""
        checked = (attr or GroupRegionAttr()).validate()
        with self._lock:
            region, grp = self.region(ref), self.group(num)
            if region.handle in grp.members:
                raise AlreadyExists(
                    f"OSD region {region.handle} is already registered to group {num}"
                )
            grp.members[region.handle] = checked
            region.groups.add(num)

    def unregister(self, ref: object, num: int) -> None:
        """``IMP_OSD_UnRegisterRgn``."""
        with self._lock:
            region, grp = self._membership(ref, num)
            del grp.members[region.handle]
            region.groups.discard(num)

    def set_group_attr(self, ref: object, num: int, attr: GroupRegionAttr) -> None:
        """``IMP_OSD_SetGrpRgnAttr``."""
        checked = attr.validate()
        with self._lock:
            region, grp = self._membership(ref, num)
            grp.members[region.handle] = checked

    def group_attr(self, ref: object, num: int) -> GroupRegionAttr:
        """``IMP_OSD_GetGrpRgnAttr``."""
        with self._lock:
            region, grp = self._membership(ref, num)
            return grp.members[region.handle]

    def show(self, ref: object, num: int, flag: bool) -> None:
        """``IMP_OSD_ShowRgn``: per (region, group)."""
        with self._lock:
            region, grp = self._membership(ref, num)
            grp.members[region.handle] = replace(grp.members[region.handle], show=bool(flag))

    def _membership(self, ref: object, num: int) -> tuple[Region, OsdGroup]:
        region, grp = self.region(ref), self.group(num)
        if region.handle not in grp.members:
            raise NotFound(
                f"OSD region {region.handle} is not registered to group {num}; call "
                "IMP_OSD_RegisterRgn first"
            )
        return region, grp

    def snapshot(self, grp: OsdGroup, timestamp: int) -> list[tuple[int, Content, GroupRegionAttr]]:
        """(handle, content, attrs) of the regions ``grp`` shows on a frame stamped
        ``timestamp``, in drawing order: layer, then handle."""
        with self._lock:
            shown = []
            for handle, attr in grp.members.items():
                region = self.regions.get(handle)
                if region is None or not attr.show:
                    continue
                shown.append((attr.layer, handle, region.content_at(timestamp), attr))
                region.expire_timed(timestamp)
        shown.sort(key=lambda e: (e[0], e[1]))
        return [(h, c, a) for _, h, c, a in shown]

    # -- System_Exit ----------------------------------------------------------------------------
    def _hook(self) -> None:
        if not self._hooked:
            get_system().on_exit(self.shutdown, device=DEV_ID_OSD)
            self._hooked = True

    def shutdown(self) -> None:
        """Stop every group (frames back upstream), forget all regions, free the pool memory.
        The pool size is a process setting and stays."""
        with self._lock:
            groups = list(self.groups.values())
            regions = list(self.regions.values())
            self.groups.clear()
            self.regions.clear()
            self._hooked = False
        for grp in groups:
            try:
                grp.close()
            except Exception as exc:
                _log.error("OSD group %d: teardown: %s", grp.group, exc)
        with self._lock:
            for region in regions:
                self._free_block(region)
            self._rmem_used = 0


_osd = Osd()


def get_osd() -> Osd:
    return _osd


__all__ = ["MAX_GROUPS", "MAX_REGIONS", "Osd", "RegionRef", "get_osd"]
