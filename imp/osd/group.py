"""An OSD group: the graph node (device OSD = 4) that draws its shown regions into frames.

FS -> OSD -> ENC: every frame goes into a short queue (``on_frame`` never blocks the capture
thread) and a worker thread per group draws the regions, in layer order, then passes the frame
to whatever is bound to output 0. When the worker falls behind, the oldest queued frame is
dropped and counted.

**Drawing in place or on a copy.** The overlay must not appear in another branch that holds
the same frame (FS output 1 -> IVS, a GetFrame FIFO, IVS channels upstream in FS -> IVS -> OSD).
Every holder that hands a frame on does so while it still holds its own reference, marked as
in transit (``Frame.handing_on``: the capture thread until it has dispatched to all outputs and
the FIFO; IVS and OSD groups until they have offered it downstream). So once no publisher is in
transit and this group's reference is the *only* one (``refcount == 1``), nobody else can ever
see the frame again, and drawing in place is safe. The worker asks exactly that
(``FramePool.sole_holder``, which waits for the publishers, bounded by ``TRANSIT_WAIT``); if
someone else still holds the frame, it copies the frame into a buffer of its own
(:mod:`imp.osd.copypool`), releases the original, and draws on and passes on the copy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from imp import log
from imp.core.fifo import Fifo
from imp.core.graph import DEV_ID_OSD
from imp.core.vbm import PIX_FMT_NV12, Frame
from imp.errors import InvalidArgument, InvalidState
from imp.osd.attrs import GroupRegionAttr
from imp.osd.copypool import CopyPool
from imp.osd.patches import Patch, apply_patches, compile_stamp, new_scratch
from imp.osd.raster import Content, rasterize
from imp.system import get_system

if TYPE_CHECKING:
    from imp.osd.module import Osd

_log = log.get("osd")

QUEUE_DEPTH = 4  # frames waiting for the worker; the upstream pool (nrVBs) is the real bound
# s at most to wait for publishers to hand a frame on (Frame.handing_on) before asking whether
# this group is its only holder: a fan-out never blocks, so this only bounds a stalled host.
# (A fixed 2 ms guess made the OSD copy frames it alone held whenever the host was loaded:
# a 3 MiB rmem copy pool made mid-run.)
TRANSIT_WAIT = 1.0
COPY_WAIT = 0.5  # s to wait for a copy buffer to come back from downstream
FrameHook = Callable[[int], None]


@dataclass
class OsdStats:
    """What a group did with its frames."""

    received: int = 0
    drawn: int = 0  # frames that got an overlay
    in_place: int = 0  # ... drawn in the frame itself (this group was its only holder)
    copied: int = 0  # ... drawn on a copy (the frame was shared)
    passed: int = 0  # frames passed on untouched (stopped, or no region shown)
    dropped_behind: int = 0  # evicted from the queue: the worker fell behind
    dropped_no_buffer: int = 0  # no copy buffer came back in time
    draw_ns: int = 0  # total time spent drawing (planning + blending)
    max_draw_ns: int = 0
    hook_errors: int = 0

    @property
    def mean_draw_ms(self) -> float:
        return self.draw_ns / self.drawn / 1e6 if self.drawn else 0.0


@dataclass(frozen=True, eq=False)
class _Compiled:
    content: Content
    attr: GroupRegionAttr
    size: tuple[int, int]
    patches: list[Patch]


class OsdGroup:
    """``IMP_OSD_CreateGroup``: one input, one output, regions registered with their attrs."""

    device = DEV_ID_OSD
    num_outputs = 1

    def __init__(self, num: int, osd: Osd, queue_depth: int = QUEUE_DEPTH) -> None:
        self.group = num
        self.started = False
        self.stats = OsdStats()
        self.members: dict[int, GroupRegionAttr] = {}  # handle -> attrs; under the module lock
        self._osd = osd
        self._hooks: tuple[FrameHook, ...] = ()  # replaced, never mutated: read unlocked
        self._cache: dict[int, _Compiled] = {}
        self._draw_lock = threading.Lock()
        self._scratch = new_scratch()
        self._copies = CopyPool(f"osd{num}-copy")
        self._copy_wait = COPY_WAIT
        self._queue: Fifo[Frame] = Fifo(queue_depth, on_drop=self._dropped, drop_oldest=True)
        self._thread = threading.Thread(target=self._run, name=f"imp-osd{num}", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        state = "started" if self.started else "stopped"
        return f"<OsdGroup {self.group} {state} regions={sorted(self.members)}>"

    @property
    def cell(self) -> tuple[int, int, int]:
        """``{DEV_ID_OSD, group, 0}`` for Bind/UnBind."""
        return (DEV_ID_OSD, self.group, 0)

    # -- Pythonic face (the module does the bookkeeping under its lock) -----------------------
    def register(self, region: object, attr: GroupRegionAttr | None = None) -> None:
        """``IMP_OSD_RegisterRgn``: ``region`` is a :class:`Region` or a handle."""
        self._osd.register(region, self.group, attr)

    def unregister(self, region: object) -> None:
        self._osd.unregister(region, self.group)

    def set_attr(self, region: object, attr: GroupRegionAttr) -> None:
        """``IMP_OSD_SetGrpRgnAttr``."""
        self._osd.set_group_attr(region, self.group, attr)

    def attr_of(self, region: object) -> GroupRegionAttr:
        """``IMP_OSD_GetGrpRgnAttr``."""
        return self._osd.group_attr(region, self.group)

    def show(self, region: object, flag: bool = True) -> None:
        """``IMP_OSD_ShowRgn``."""
        self._osd.show(region, self.group, flag)

    def start(self) -> None:
        """``IMP_OSD_Start``: draw from the next frame on."""
        self.started = True

    def stop(self) -> None:
        """``IMP_OSD_Stop``: frames pass through untouched."""
        self.started = False

    def hold_frames(self, depth: int, copy_wait: float = COPY_WAIT) -> None:
        """Let up to ``depth`` frames wait for the worker instead of dropping the oldest, and
        wait up to ``copy_wait`` s for a copy buffer (the Pythonic layer: a long wait under the
        virtual clock, where the slowest consumer paces the sensor and nothing may be lost)."""
        self._queue.resize(max(depth, 1))
        self._copy_wait = copy_wait

    def flush(self) -> int:
        """Hand back the frames waiting for the worker without drawing or passing them on."""
        frames = self._queue.drain()
        for frame in frames:
            frame.release()
        return len(frames)

    def add_frame_hook(self, hook: FrameHook) -> None:
        """Call ``hook(timestamp_us)`` on the worker before each frame is drawn (while started).

        Lets an overlay follow the frame it lands on, e.g. a clock showing each frame's own
        capture time rather than the time the application last woke up.
        """
        self._hooks = (*self._hooks, hook)

    def remove_frame_hook(self, hook: FrameHook) -> None:
        # ==, not is: each ``obj.method`` access makes a new (equal) bound-method object.
        self._hooks = tuple(h for h in self._hooks if h != hook)

    def draw_onto(self, y: np.ndarray, uv: np.ndarray, timestamp: int = 0) -> int:
        """Draw the shown regions onto NV12 planes ``y`` (h, w) and ``uv`` (h/2, w) in place,
        as for a frame stamped ``timestamp``. Runs no hooks; works while stopped too.
        Returns the number of patches applied."""
        height, width = y.shape
        if uv.shape != (height // 2, width):
            raise InvalidArgument(f"uv plane {uv.shape} does not match a {width}x{height} picture")
        with self._draw_lock:
            patches = self._plan(width, height, timestamp)
            apply_patches(patches, y, uv, self._scratch)
        return len(patches)

    # -- graph node -----------------------------------------------------------------------------
    def on_frame(self, frame: Frame) -> None:
        self.stats.received += 1
        self._queue.put(frame)  # never blocks: the oldest frame goes when full (or if closed)

    def _dropped(self, frame: Frame) -> None:
        if not self._queue.aborted:
            self.stats.dropped_behind += 1
        frame.release()

    # -- worker -------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                frame = self._queue.get(None)
            except InvalidState:
                return  # closed
            try:
                self._process(frame)
            except Exception as exc:  # keep the pipeline alive; the frame was handed on/freed
                _log.exception("OSD group %d: frame %d: %s", self.group, frame.seq, exc)

    def _process(self, frame: Frame) -> None:
        held: Frame | None = frame  # our reference, until handed on or released
        try:
            patches: list[Patch] = []
            plan_ns = 0
            if self.started and frame.pixfmt == PIX_FMT_NV12:
                self._run_hooks(frame.timestamp)
                t0 = time.perf_counter_ns()
                with self._draw_lock:
                    patches = self._plan(frame.width, frame.height, frame.timestamp)
                plan_ns = time.perf_counter_ns() - t0
            out = frame
            if patches:
                held = self._writable(frame)
                if held is None:
                    return
                out = held
                t1 = time.perf_counter_ns()
                with self._draw_lock:
                    apply_patches(patches, out.y, out.uv, self._scratch)
                spent = plan_ns + time.perf_counter_ns() - t1
                self.stats.drawn += 1
                self.stats.draw_ns += spent
                self.stats.max_draw_ns = max(self.stats.max_draw_ns, spent)
            else:
                self.stats.passed += 1
            with out.handing_on():  # drops our reference once the fan-out is done
                held = None
                get_system().graph.dispatch((DEV_ID_OSD, self.group, 0), out)
        finally:
            if held is not None:
                held.release()

    def _writable(self, frame: Frame) -> Frame | None:
        """``frame`` itself if we are its only holder, else a copy (``frame`` is released);
        None if no copy buffer came back in time (the frame is dropped)."""
        if frame.pool.sole_holder(frame, TRANSIT_WAIT):
            self.stats.in_place += 1
            return frame
        copy = self._copies.copy_of(frame, self._copy_wait)
        frame.release()  # the source gets its buffer back now
        if copy is None:
            self.stats.dropped_no_buffer += 1
        else:
            self.stats.copied += 1
        return copy

    def _run_hooks(self, timestamp: int) -> None:
        for hook in self._hooks:
            try:
                hook(timestamp)
            except Exception as exc:
                self.stats.hook_errors += 1
                if self.stats.hook_errors <= 3:
                    _log.error("OSD group %d: frame hook %r failed: %s", self.group, hook, exc)

    def _plan(self, width: int, height: int, timestamp: int) -> list[Patch]:
        """Patches of every shown region for this frame, lowest layer first. Caller holds
        ``_draw_lock``; a region is recompiled only when it, its attrs or the size changed."""
        patches: list[Patch] = []
        present = set()
        for handle, content, attr in self._osd.snapshot(self, timestamp):
            present.add(handle)
            cached = self._cache.get(handle)
            if (
                cached is None
                or cached.content is not content
                or cached.attr != attr
                or cached.size != (width, height)
            ):
                stamp = rasterize(content, attr, width, height)
                compiled = [] if stamp is None else compile_stamp(stamp)
                cached = _Compiled(content, attr, (width, height), compiled)
                self._cache[handle] = cached
            patches.extend(cached.patches)
        for handle in set(self._cache) - present:
            del self._cache[handle]
        return patches

    # -- teardown -------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the worker, hand back queued frames and free the copy buffers (DestroyGroup)."""
        self.started = False
        self._queue.abort()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
            if self._thread.is_alive():
                _log.error("OSD group %d: worker did not stop", self.group)
        for frame in self._queue.drain():
            frame.release()
        self._copies.close()


__all__ = ["COPY_WAIT", "QUEUE_DEPTH", "TRANSIT_WAIT", "FrameHook", "OsdGroup", "OsdStats"]
