"""Benchmark: the simulated sensor physics + ISP 3A at 1080p.

Prints (1) AE convergence: frames from a 4x light step (brighter and darker) until the
metered pre-gamma mean is within 5 % of the target, and whether it overshoots; (2) the
per-frame cost of the statistics + 3A (AE/AWB step, tables of the frame, zone means,
histogram, AWB/AF zones) at 1080p; (3) capture frames/s through FrameSource at 1080p on the
virtual clock with the whole model on (a lit scene at several light levels, and a dusk ramp),
and with it off.

Run: ``.venv/bin/python -m bench.isp_3a [--frames N]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("IMP_PLATFORM", "sim")

import numpy as np

from bench.fs_throughput import NullSink
from imp.framesource import ChannelAttr, get_framesource
from imp.isp import SensorInfo, get_isp
from imp.kernel import sim_overrides
from imp.system import get_system
from kernel_stubs.devices.controls import ControlStore
from kernel_stubs.isp3a.attach import attach_physics
from kernel_stubs.isp3a.chain import build_luts
from kernel_stubs.isp3a.lighting import Lighting
from kernel_stubs.isp3a.render import _ae_zones
from kernel_stubs.isp3a.stats import STEP, frame_statistics
from kernel_stubs.sensor import ChannelGeometry, Scene, SyntheticSensor, register_scene

W, H = 1920, 1080


def _model(lighting: Lighting) -> tuple[SyntheticSensor, ControlStore]:
    sensor = SyntheticSensor(W, H, Scene(background="texture", lighting=lighting))
    store = ControlStore(25)
    attach_physics(sensor, store)
    return sensor, store


def convergence() -> None:
    sensor, store = _model(Lighting.steps(((0, 400.0), (60, 1600.0), (120, 400.0))))
    geometry = ChannelGeometry(W, H)
    means = []
    for n in range(180):
        sensor.render(n, geometry, store.picture())
        means.append(store.statistics().ae_zone.astype(float).mean())
    target = store.ae_state().target
    print(
        "AE convergence after a 4x light step (1080p, metered pre-gamma mean, target", target, ")"
    )
    for start, what in ((60, "4x brighter"), (120, "4x darker")):
        errors = [m / target - 1 for m in means[start : start + 60]]
        settled = next(i for i, e in enumerate(errors) if abs(e) <= 0.05)
        overshoot = any(np.sign(e) != np.sign(errors[0]) and abs(e) > 0.05 for e in errors)
        print(
            f"  {what:12s} frames to within 5 %: {settled:2d}   first error {errors[0]:+.0%}"
            f"   overshoot beyond 5 %: {'yes' if overshoot else 'no'}"
        )


def stats_cost(frames: int) -> None:
    print("Statistics + 3A per frame at 1080p (ms; median of", frames, "frames)")
    for lux in (20.0, 400.0, 20000.0):
        sensor, store = _model(Lighting.constant(lux))
        geometry = ChannelGeometry(W, H)
        y, uv = sensor.render(0, geometry, store.picture())
        physics = sensor.physics
        assert physics is not None
        for n in range(1, 40):  # settle
            physics.render_nv12(n, geometry, store.picture(), y, uv)
        prep = physics._prepared(geometry, store.picture())
        costs = []
        for n in range(40, 40 + frames):
            t0 = time.perf_counter()
            luts = build_luts(physics.isp.params(n), prep.hist)  # AE/AWB step + tables
            linear = np.take(luts.stat_clean, prep.code[::STEP, ::STEP])
            zones = _ae_zones(prep, [], luts.stat_mean)
            physics.isp.publish(frame_statistics(linear, y, uv, n, zones))
            costs.append(time.perf_counter() - t0)
        gain = store.exposure.total_gain / 1024
        print(
            f"  {lux:8.0f} lux (gain {gain:5.1f}x, noise {'on ' if luts.noisy else 'off'}): "
            f"{statistics.median(costs) * 1e3:.2f} ms"
        )


def capture_fps(frames: int, sensor: str, label: str) -> None:
    sim_overrides(clock="virtual", sensor_size=(W, H), sensor=sensor)
    isp, system, fs = get_isp(), get_system(), get_framesource()
    isp.open()
    isp.add_sensor(SensorInfo("gc2053"))
    isp.enable_sensor()
    system.init()
    sink = NullSink()
    system.graph.register(sink)
    fs.create(0, ChannelAttr(width=W, height=H, nr_vbs=3))
    system.bind((0, 0, 0), (sink.device, sink.group, 0))
    sink.target = 30
    fs.enable(0)
    sink.done.wait(60)  # warm-up: scene caches and the first tables
    sink.done.clear()
    start = sink.count
    sink.target = start + frames
    t0 = time.perf_counter()
    sink.done.wait(600)
    elapsed = time.perf_counter() - t0
    got = sink.count - start
    fs.disable(0)
    system.unbind((0, 0, 0), (sink.device, sink.group, 0))
    system.graph.unregister(sink.device, sink.group)
    fs.destroy(0)
    system.exit()
    isp.close()
    sim_overrides()
    print(f"  {label:38s} {got / elapsed:7.1f} frames/s ({elapsed * 1e3 / max(got, 1):.2f} ms)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=300)
    a = p.parse_args()
    convergence()
    stats_cost(min(a.frames, 100))
    for lux in (20, 400, 20000):
        register_scene(
            f"bench-{lux}",
            Scene.default(W, H).__class__(
                objects=Scene.default(W, H).objects, lighting=Lighting.constant(lux)
            ),
        )
    print("Capture through FrameSource at 1080p, virtual clock")
    capture_fps(a.frames, "synthetic", "model off (reference pictures)")
    for lux in (20000, 400, 20):
        capture_fps(a.frames, f"synthetic:bench-{lux}", f"model on, {lux} lux")
    # Light changing every frame (tables rebuilt as AE follows): the worst case.
    register_scene("bench-dusk", lambda w, h: Scene.dusk(w, h, frames=a.frames + 30))
    capture_fps(a.frames, "synthetic:bench-dusk", "model on, dusk 2000 -> 1 lux")


if __name__ == "__main__":
    main()
