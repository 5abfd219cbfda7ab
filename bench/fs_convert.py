"""Cost of the software FrameSource stages: NV12 -> RGBA / HSV, rotation, per picture.

Prints milliseconds per picture (median of ``--runs``) at 640x360 and 1920x1080; the budget at
25 fps is 40 ms per channel. Run: ``.venv/bin/python bench/fs_convert.py``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from imp.framesource.convert import nv12_to_rgb, rotate_nv12, write_hsv, write_rgba


def _ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args()
    for w, h in ((640, 360), (1920, 1080)):
        for name, ms in _measure(w, h, args.runs):
            print(f"{w}x{h} {name:12s} {ms:7.2f} ms")


def _measure(w: int, h: int, runs: int) -> list[tuple[str, float]]:
    rng = np.random.default_rng(0)
    y = rng.integers(16, 236, (h, w), dtype=np.uint8)
    uv = rng.integers(16, 241, (h // 2, w), dtype=np.uint8)
    rgba = np.empty((h, w, 4), np.uint8)
    hsv = np.empty(4 * w * h, np.uint8)
    y_rot, uv_rot = np.empty((w, h), np.uint8), np.empty((w // 2, h), np.uint8)
    rgb = nv12_to_rgb(y, uv)
    rows: dict[str, Callable[[], object]] = {
        "nv12 -> rgb": lambda: nv12_to_rgb(y, uv),
        "rgb -> rgba": lambda: write_rgba(rgb, rgba),
        "rgb -> hsv": lambda: write_hsv(rgb, hsv),
        "rotate 90": lambda: rotate_nv12(y, uv, y_rot, uv_rot, True),
    }
    return [(name, _ms(fn, runs)) for name, fn in rows.items()]


if __name__ == "__main__":
    main()
