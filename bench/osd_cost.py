"""Benchmark: what drawing the OSD costs per 1080p frame, and how many frames it copies.

Four regions, as the osd sample has them: a 320x34 clock PIC (TrueType text, opaque box), a
100x100 logo PIC (per-pixel alpha x group alpha 0x7f), a 1010x590 black cover (alpha 0x7f) and
a 600x300 green rect outline (linewidth 5). Prints:

1. the drawing cost per frame (blending only, regions already compiled), median/p99 over many
   frames; then the same with the clock re-rendered and recompiled once every 25 frames
   (a 25 fps stream with a seconds clock). Target <= 2 ms.
2. a real pipeline FS 1080p -> OSD -> null sink on the simulator's virtual clock: frames drawn
   in place vs on a copy while the OSD group is the frames' only holder (target: 0 copies),
   the worker's own timing per frame, and frames/s.
3. the same with a second branch holding every frame (FS output 1): each frame is copied
   before drawing, and what that costs.

Run: ``.venv/bin/python -m bench.osd_cost [--frames N]``
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import numpy as np

os.environ.setdefault("IMP_PLATFORM", "sim")

from imp.core.vbm import Frame
from imp.framesource import ChannelAttr, get_framesource
from imp.isp import SensorInfo, get_isp
from imp.kernel import sim_overrides
from imp.osd import OSD_BLACK, OSD_GREEN, GroupRegionAttr, OsdGroup, RegionAttr, get_osd
from imp.osd.text import TextRenderer
from imp.system import get_system

W, H = 1920, 1080


def _logo() -> np.ndarray:
    from imp.samples.osd import make_logo

    return make_logo(100)


def setup_regions() -> tuple[OsdGroup, int, TextRenderer]:
    """Group 0 with the four regions shown and started; returns it, the clock handle and the
    clock's renderer."""
    osd = get_osd()
    grp = osd.create_group(0)
    clock_text = TextRenderer((320, 34), background=OSD_BLACK)
    clock = osd.create_region(
        RegionAttr.picture((10, 10), clock_text.render(time.strftime("%Y-%m-%d %H:%M:%S")))
    )
    logo = osd.create_region(RegionAttr.picture((1820, 980), _logo()))
    cover = osd.create_region(RegionAttr.cover((860, 440, 1869, 1029), OSD_BLACK))
    rect = osd.create_region(RegionAttr.rectangle((300, 300, 899, 599), OSD_GREEN, 5))
    grp.register(clock, GroupRegionAttr(show=True, global_alpha=True, fg_alpha=255, layer=3))
    grp.register(logo, GroupRegionAttr(show=True, global_alpha=True, fg_alpha=0x7F, layer=2))
    grp.register(cover, GroupRegionAttr(show=True, global_alpha=True, fg_alpha=0x7F, layer=2))
    grp.register(rect, GroupRegionAttr(show=True, layer=1))
    grp.start()
    return grp, clock.handle, clock_text


def draw_cost(grp: OsdGroup, clock: int, text: TextRenderer, frames: int) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(16, 236, (H, W), dtype=np.uint8)
    uv = rng.integers(16, 241, (H // 2, W), dtype=np.uint8)
    patches = grp.draw_onto(y, uv)  # compiles once
    times = []
    for _ in range(frames):
        t = time.perf_counter()
        grp.draw_onto(y, uv)
        times.append(time.perf_counter() - t)
    ms = np.array(times) * 1e3
    print(
        f"1. draw cost, 4 regions at 1080p ({patches} patches): median {np.median(ms):.3f} ms, "
        f"p99 {np.percentile(ms, 99):.3f} ms, mean {ms.mean():.3f} ms  (target <= 2 ms)"
    )
    times = []
    second = int(time.time())
    for i in range(frames):
        t = time.perf_counter()
        if i % 25 == 0:  # a new second: render the text, update the region's data
            second += 1
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
            get_osd().update_region_data(clock, text.render(stamp))
        grp.draw_onto(y, uv)
        times.append(time.perf_counter() - t)
    ms = np.array(times) * 1e3
    print(
        f"   with the clock updated every 25 frames: mean {ms.mean():.3f} ms per frame, "
        f"the update frames {ms[::25].mean():.3f} ms"
    )


class NullSink:
    """A graph group that counts and drops frames. With ``hold`` it keeps them until
    :meth:`release_upto` (called by the OSD branch's sink once it has that frame)."""

    num_outputs = 0

    def __init__(self, device: int, group: int, hold: bool = False) -> None:
        self.device, self.group, self.hold = device, group, hold
        self.count = 0
        self.target = 0
        self.done = threading.Event()
        self.partner: NullSink | None = None
        self._held: dict[int, Frame] = {}
        self._lock = threading.Lock()

    def on_frame(self, frame: Frame) -> None:
        if self.hold:
            with self._lock:
                self._held[frame.timestamp] = frame
        else:
            ts = frame.timestamp
            frame.release()
            if self.partner is not None:
                self.partner.release_upto(ts)
        self.count += 1
        if self.count >= self.target:
            self.done.set()

    def release_upto(self, timestamp: float) -> None:
        with self._lock:
            done = [ts for ts in self._held if ts <= timestamp]
            frames = [self._held.pop(ts) for ts in done]
        for f in frames:
            f.release()


def pipeline(frames: int, fan_out: bool) -> None:
    system, fs = get_system(), get_framesource()
    grp, _, _ = setup_regions()
    sink = NullSink(1, 0)
    sink.target = frames
    other = NullSink(3, 0, hold=True)
    sink.partner = other
    system.graph.register(sink)
    system.graph.register(other)
    fs.create(0, ChannelAttr(width=W, height=H, nr_vbs=3))
    system.bind((0, 0, 0), grp.cell)
    system.bind(grp.cell, (1, 0, 0))
    if fan_out:
        system.bind((0, 0, 1), (3, 0, 0))
    t = time.perf_counter()
    fs.enable(0)
    sink.done.wait(120)
    elapsed = time.perf_counter() - t
    fs.disable(0)
    other.release_upto(float("inf"))
    s = grp.stats
    label = (
        "3. fan-out (a 2nd branch holds each frame until the OSD branch delivered it)"
        if fan_out
        else "2. only holder"
    )
    print(
        f"{label}: {s.drawn} frames drawn, {s.in_place} in place, {s.copied} copies "
        f"(target {'-' if fan_out else 0}), {s.dropped_behind} dropped; worker draw time "
        f"mean {s.mean_draw_ms:.3f} ms, max {s.max_draw_ns / 1e6:.2f} ms; "
        f"{sink.count / elapsed:.0f} frames/s through FS -> OSD -> sink"
    )
    for src, dst in [((0, 0, 0), grp.cell), (grp.cell, (1, 0, 0))] + (
        [((0, 0, 1), (3, 0, 0))] if fan_out else []
    ):
        system.unbind(src, dst)
    get_osd().destroy_group(0)
    for h in list(get_osd().regions):
        get_osd().destroy_region(h)
    fs.destroy(0)
    system.graph.unregister(1, 0)
    system.graph.unregister(3, 0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=500)
    args = p.parse_args()
    sim_overrides(clock="virtual", sensor_size=(W, H))
    isp, system = get_isp(), get_system()
    isp.open()
    isp.add_sensor(SensorInfo("gc2053"))
    isp.enable_sensor()
    system.init()
    try:
        grp, clock, text = setup_regions()
        draw_cost(grp, clock, text, args.frames)
        get_osd().destroy_group(0)
        for h in list(get_osd().regions):
            get_osd().destroy_region(h)
        pipeline(args.frames, fan_out=False)
        pipeline(args.frames, fan_out=True)
    finally:
        system.exit()
        isp.close()


if __name__ == "__main__":
    main()
