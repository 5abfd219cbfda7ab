"""Benchmark: what the outputs of imp.output cost.

1. CircularOutput's ring at 2 Mbit/s (25 fps, GOP 50, IDR 5x a P picture) for 5, 10 and 30 s of
   pre-roll: ``bytes_held`` (payload + per-packet overhead) at its peak and the Python heap the
   ring really holds (tracemalloc), with the seconds covered.
2. The cost of one ``write()`` for each output, on the pipeline thread, with real 720p H.264
   packets at 2 Mbit/s: FileOutput (raw), Mp4Output, CircularOutput idle (ring only) and
   recording into an MP4; median and p99 in µs. Also how long ``start()`` takes to write a 5 s
   pre-roll (on the caller's thread; the pipeline is not held meanwhile).

Run: ``.venv/bin/python -m bench.output_ring [--packets N]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from imp.codec import CodecConfig, CodecType, RateControl, RcMode, open_backend
from imp.output import CircularOutput, FileOutput, Mp4Output, Packet
from tests.test_output_helpers import PERIOD_US, T0_US, picture, synthetic_packets

FPS = 25


def ring_memory(seconds: int, kbps: int = 2000, show: bool = True) -> None:
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    ring = CircularOutput(seconds=seconds, max_bytes=1 << 30)
    peak = 0
    for p in synthetic_packets((seconds + 60) * FPS, kbps=kbps):
        ring.write(p)
        peak = max(peak, ring.bytes_held)
    traced = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    if not show:
        return
    print(
        f"  {seconds:3d} s pre-roll: bytes_held now {ring.bytes_held / 1e6:6.2f} MB, "
        f"peak {peak / 1e6:6.2f} MB, heap held {traced / 1e6:6.2f} MB, "
        f"covers {ring.seconds_held:5.2f} s, {len(ring.held())} packets"
    )


def real_packets(count: int) -> list[Packet]:
    """``count`` packets of a 720p 2 Mbit/s H.264 stream (100 encoded, then repeated with the
    capture times going on: the muxer sees a valid stream, the cost is per packet)."""
    w, h = 1280, 720
    rc = RateControl(mode=RcMode.CBR, target_kbps=2000)
    backend = open_backend(CodecConfig(CodecType.H264, w, h, gop=50, rc=rc))
    encoded = []
    noise = np.random.default_rng(2).integers(0, 24, size=(100, h, w), dtype=np.uint8)
    for n in range(100):
        y, uv = picture(n, w, h)
        y += noise[n]  # sensor noise: what makes a real scene cost its bits
        (pic,) = backend.encode(y, uv, pts=n)
        encoded.append((b"".join(nal.data for nal in pic.nals), pic.keyframe))
    backend.close()
    return [
        Packet(
            encoded[n % 100][0],
            T0_US + n * PERIOD_US,
            encoded[n % 100][1],
            "h264",
            seq=n,
            width=w,
            height=h,
        )
        for n in range(count)
    ]


def write_cost(name: str, write: Callable[[Packet], None], packets: list[Packet]) -> None:
    times = np.empty(len(packets))
    for i, p in enumerate(packets):
        t = time.perf_counter_ns()
        write(p)
        times[i] = (time.perf_counter_ns() - t) / 1000
    print(
        f"  {name:34s} median {np.median(times):7.1f} µs  p99 {np.percentile(times, 99):7.1f} µs"
        f"  max {times.max():8.1f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--packets", type=int, default=1500)
    args = parser.parse_args()

    print("CircularOutput ring at 2 Mbit/s, 25 fps, GOP 50:")
    ring_memory(1, show=False)  # once for the one-time allocations (imports, caches), not printed
    for seconds in (5, 10, 30):
        ring_memory(seconds)

    packets = real_packets(args.packets)
    kbps = sum(len(p.data) for p in packets) * 8 / (len(packets) / FPS) / 1000
    print(f"write() per packet, 720p H.264 at {kbps:.0f} kbit/s, {len(packets)} packets:")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        with FileOutput(d / "v.h264") as raw:
            write_cost("FileOutput (raw Annex-B)", raw.write, packets)
        with Mp4Output(d / "v.mp4") as mp4:
            write_cost("Mp4Output", mp4.write, packets)
        ring = CircularOutput(seconds=5)
        write_cost("CircularOutput, ring only", ring.write, packets)
        held = ring.seconds_held
        t = time.perf_counter()
        clip = ring.start(d / "clip.mp4")
        started = time.perf_counter() - t
        later = [replace(p, pts=p.pts + len(packets) * PERIOD_US) for p in packets]
        write_cost("CircularOutput, recording to MP4", ring.write, later)
        ring.close()
        print(
            f"  start() writing a {held:.2f} s pre-roll into an MP4: {started * 1000:.1f} ms "
            f"(clip: {clip!r})"
        )


if __name__ == "__main__":
    main()
