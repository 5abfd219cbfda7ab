"""Benchmark: move and base-move detection at 640x360, per analysed frame.

Frames come from the synthetic sensor (noisy, flickering, one moving object), rendered once up
front; each detector then analyses every frame (skipFrameCnt 0: the worst case) through its
``processAsync`` path, as an IVS channel calls it. Printed per detector:

- ms per frame (median and 95th percentile over the run), against the 3 ms target;
- the Python interpreter's share: the same detector on 32x32 frames does every Python step and
  every numpy call of a 640x360 frame, but almost no pixel work, so its time per frame is the
  fixed cost of interpreting the algorithm (bytecode, object creation, numpy call dispatch).
  That over the 640x360 time is the share; the rest is numpy's C loops over pixels. (cProfile
  cannot split this: array arithmetic written with operators runs inside the Python frame.)

Run: ``.venv/bin/python -m bench.ivs_move [--frames N]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from imp import ivs
from imp.ivs.frames import FrameView
from kernel_stubs.sensor import Flicker, MovingObject, Scene, SyntheticSensor
from kernel_stubs.sensor.base import ChannelGeometry, IspControls

W, H = 640, 360
TARGET_MS = 3.0
ROIS = ((16, 32, 303, 183), (336, 32, 623, 183), (16, 200, 303, 343), (336, 200, 623, 343))


def render(frames: int) -> list[np.ndarray]:
    scene = Scene(
        objects=(
            MovingObject.linear(0, frames, (0, 150, 48, 64), (600, 220, 48, 64), (200, 128, 128)),
        ),
        noise_sigma=3.0,
        flicker=Flicker(6.0, 40.0),
    )
    sensor = SyntheticSensor(W, H, scene)
    out = []
    for n in range(frames):
        y = np.empty((H, W), np.uint8)
        uv = np.empty((H // 2, W), np.uint8)
        sensor.render_nv12(n, ChannelGeometry(W, H), IspControls(), y, uv)
        out.append(y)
    return out


def views(planes: list[np.ndarray]) -> list[FrameView]:
    return [
        FrameView(y, None, timestamp=n * 40_000, seq=n, vir_addr=0) for n, y in enumerate(planes)
    ]


def timed(algorithm: ivs.Algorithm, frames: list[FrameView]) -> np.ndarray:
    """ms per frame through process_async + GetResult/ReleaseResult, first frames left out."""
    algorithm.init()
    per_frame = []
    for view in frames:
        t0 = time.perf_counter()
        assert algorithm.process_async(view) == 0
        algorithm.release_result(algorithm.get_result())
        per_frame.append(time.perf_counter() - t0)
    return np.array(per_frame[5:]) * 1e3  # without the model start and cold caches


def tiny(frames: list[FrameView], size: int = 32) -> list[FrameView]:
    """The same pictures cut to size x size: the same code path with (almost) no pixels."""
    return [
        FrameView(
            np.ascontiguousarray(f.y[:size, :size]),
            None,
            timestamp=f.timestamp,
            seq=f.seq,
            vir_addr=0,
        )
        for f in frames
    ]


def report(name: str, make: Callable[[int, int], ivs.Algorithm], frames: list[FrameView]) -> float:
    ms = timed(make(W, H), frames)
    fixed = timed(make(32, 32), tiny(frames))
    median, p95, overhead = (
        float(np.median(ms)),
        float(np.percentile(ms, 95)),
        float(np.median(fixed)),
    )
    verdict = "ok" if median <= TARGET_MS else "OVER TARGET"
    print(
        f"{name:<30} {median:5.2f} ms/frame (p95 {p95:4.2f}; target {TARGET_MS} ms: {verdict})\n"
        f"{'':<30} Python interpreter ~{overhead:.2f} ms/frame = {overhead / median:.0%}, "
        f"numpy C loops over the pixels ~{median - overhead:.2f} ms = {1 - overhead / median:.0%}"
    )
    return median


def _rois(w: int, h: int) -> tuple[ivs.Roi, ...]:
    sx, sy = w / W, h / H
    return tuple(
        ivs.Roi(int(x0 * sx), int(y0 * sy), int(x1 * sx), int(y1 * sy), 3)
        for x0, y0, x1, y1 in ROIS
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=300)
    args = p.parse_args(argv)
    frames = views(render(args.frames))
    print(f"{len(frames)} frames of {W}x{H}, every frame analysed (skipFrameCnt 0)")
    medians = [
        report(
            "move (4 ROIs, sense 3)",
            lambda w, h: ivs.MoveDetector(ivs.MoveParams(w, h, _rois(w, h), skip_frames=0)),
            frames,
        ),
        report(
            "base-move (8x8 SAD, sense 3)",
            lambda w, h: ivs.BaseMoveDetector(ivs.BaseMoveParams(w, h, reference_num=1)),
            frames,
        ),
    ]
    return 0 if max(medians) <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
