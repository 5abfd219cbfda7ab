"""Default settings, no drops: 1080p H.265 + 360p H.264 + motion, realtime and virtual clock.

    .venv/bin/python bench/pipeline_drops.py [--realtime-seconds 10] [--virtual-frames 1000]
        [--buffers N]

Realtime: every channel must encode seconds x 25 pictures with 0 drops on its counters.
Virtual clock: the same graph for N frames, twice; 0 drops anywhere and the two runs' packets
(bytes and pts relative to the first) identical, so the output is deterministic.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("IMP_PLATFORM", "sim")

import imp
from imp.output.packet import Packet


class Digest:
    """An Output that counts packets and hashes their bytes and relative pts."""

    def __init__(self) -> None:
        self.count = 0
        self.first: int | None = None
        self.hash = hashlib.sha256()
        self.keyframes = 0

    def write(self, packet: Packet) -> None:
        if self.first is None:
            self.first = packet.pts
        self.count += 1
        self.keyframes += packet.keyframe
        self.hash.update((packet.pts - self.first).to_bytes(8, "little"))
        self.hash.update(packet.data)

    def close(self) -> None:
        pass


def run(clock: str, seconds: float, buffers: int | None = None) -> dict[str, object]:
    imp.kernel.sim_overrides(clock=clock)
    hevc, avc = Digest(), Digest()
    t0 = time.monotonic()
    with imp.open() as cam:
        if buffers is None:  # the defaults under test
            main, lores = cam.streams(main=(1920, 1080), lores=(640, 360))
        else:
            main = cam.framesource(size=(1920, 1080), nr_vbs=buffers)
            lores = cam.framesource(size=(640, 360), nr_vbs=buffers)
        assert lores is not None
        h265 = cam.encoder(main, imp.H265(bitrate_kbps=2000), output=hevc)
        h264 = cam.encoder(lores, imp.H264(bitrate_kbps=500), output=avc)
        motion = cam.motion(lores)
        cam.run(seconds, timeout=60 + 20 * seconds)
        drops = {
            "h265": h265.drops,
            "h264": h264.drops,
            "motion": motion.drops,
            "fs_main": main.drops,
            "fs_lores": lores.drops,
        }
        analysed = motion.analysed
        rmem = imp.runtime.allocator().stats()  # the DMA memory this graph holds
        delivered = (main.frames_delivered, lores.frames_delivered)
        core = getattr(imp.runtime.kernel(), "isp", None)  # the simulator's ISP: why frames went
        engine = getattr(core, "engine", None)
        sensor = {
            # frames skipped for every channel: the engine was > max_late_periods behind
            "overruns": getattr(engine, "overruns", None),
            # frames delivered after their deadline (caught up, stamped with their slot's time)
            "late": getattr(engine, "late_frames", None),
            "max_late_ms": round(getattr(engine, "max_late_ns", 0) / 1e6, 1),
            # per channel (main, lores): frames lost because the consumer held every buffer
            "no_buffer": [c.no_buffer for c in getattr(core, "channels", [])[:2]],
        }
    return {
        "clock": clock,
        "wall_s": round(time.monotonic() - t0, 1),
        "h265_pictures": hevc.count,
        "h264_pictures": avc.count,
        "motion_frames_analysed": analysed,
        "fs_delivered": delivered,
        "drops": drops,
        "simulated_sensor": sensor,
        "rmem_used_mib": f"{rmem['used'] / 2**20:.1f} of {rmem['total'] / 2**20:.0f}",
        "digest": (hevc.hash.hexdigest()[:16], avc.hash.hexdigest()[:16]),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--realtime-seconds", type=float, default=10.0)
    ap.add_argument("--virtual-frames", type=int, default=1000)
    ap.add_argument("--buffers", type=int, help="FrameSource buffers per channel (default: imp's)")
    args = ap.parse_args()
    if args.realtime_seconds > 0:
        print(run("realtime", args.realtime_seconds, args.buffers))
    if args.virtual_frames > 0:
        a = run("virtual", args.virtual_frames / 25, args.buffers)
        b = run("virtual", args.virtual_frames / 25, args.buffers)
        print(a)
        print(b)
        print("identical output across runs:", a["digest"] == b["digest"])


if __name__ == "__main__":
    main()
