"""imp-streamer under load: 2 streams + JPEG + motion + 4 RTSP clients (+ MJPEG viewers).

Starts the daemon on the simulator (realtime clock), connects 2 RTSP clients per stream (TCP
and UDP mixed, FFmpeg through PyAV, decoding and reading frame marks) and ``--mjpeg`` MJPEG
viewers, then every ``--every`` seconds prints each stream's fps (daemon side), the daemon's
CPU (% of one core) and RSS. At the end, per client: pictures received, fps, marks missing
and out of order; and the glass-to-client latency: capture time of a picture (the IMP clock,
mapped to this host's CLOCK_MONOTONIC through ``/api/clock``) to the moment the client has it
decoded — median and p95, against 2 frame periods (80 ms).

Run: ``.venv/bin/python -m bench.streamer_load --seconds 60`` (``--size 1080p`` for the
issue's full-size main stream; the default 720p/360p is kinder to a shared machine).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.streamer_common import Daemon, http_request, mjpeg_parts, rtsp_frames, small_config

SIZES = {"1080p": ((1920, 1080), (640, 360)), "720p": ((1280, 720), (640, 360)),
         "360p": ((640, 360), (320, 180))}


@dataclass
class ClientLog:
    name: str
    marks: list[int] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    error: str = ""


def capture_to_monotonic(d: Daemon) -> float:
    """Offset (µs) to add to a capture timestamp to get this host's time.monotonic() in µs."""
    samples = []
    for _ in range(5):
        t0 = time.monotonic()
        clock = json.loads(http_request(f"{d.http}/api/clock")[2])
        t1 = time.monotonic()
        samples.append((t1 - t0, clock["monotonic_us"] - clock["capture_us"]))
    return min(samples)[1]  # the quickest round trip is the most precise


def mark_to_capture(d: Daemon, count: int = 10) -> tuple[float, float]:
    """(base, period) with capture_us ~= base + mark * period, from MJPEG part headers."""
    from bench.streamer_common import decode_jpeg_mark

    pairs = [(decode_jpeg_mark(data)[0], int(h["x-capture-timestamp"]))
             for h, data in mjpeg_parts(f"{d.http}/mjpeg", count)]
    period = 1e6 / 25
    base = statistics.median(ts - m * period for m, ts in pairs)
    return base, period


def run_client(log: ClientLog, url: str, transport: str, seconds: float,
               base: float, period: float, offset: float) -> None:
    log.started = time.monotonic()
    try:
        for f in rtsp_frames(url, transport, limit=10**9, timeout=seconds + 30):
            now = time.monotonic()
            log.marks.append(f.mark)
            glass = (base + f.mark * period + offset) / 1e6
            log.latencies_ms.append((now - glass) * 1000)
            if now - log.started > seconds:
                break
    except Exception as exc:
        log.error = repr(exc)
    log.ended = time.monotonic()


def run_viewer(log: ClientLog, d: Daemon, seconds: float) -> None:
    from bench.streamer_common import decode_jpeg_mark

    log.started = time.monotonic()
    try:
        for _, data in mjpeg_parts(f"{d.http}/mjpeg", 10**9, timeout=seconds + 30):
            log.marks.append(decode_jpeg_mark(data)[0])
            if time.monotonic() - log.started > seconds:
                break
    except Exception as exc:
        log.error = repr(exc)
    log.ended = time.monotonic()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--every", type=float, default=10)
    ap.add_argument("--size", choices=sorted(SIZES), default="720p")
    ap.add_argument("--mjpeg", type=int, default=2, help="MJPEG viewers")
    args = ap.parse_args()
    (w0, h0), (w1, h1) = SIZES[args.size]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = small_config(
            Path(tmp),
            stream0={"width": w0, "height": h0, "bitrate": 2000},
            stream1={"width": w1, "height": h1, "bitrate": 600},
            sim={"sensor_width": w0, "sensor_height": h0, "scene": "default"},
            jpeg={"channel": 0, "fps": 2},
            motion={"enabled": True},
        )
        d = Daemon(cfg, Path(tmp)).start().warm_up()
        try:
            offset = capture_to_monotonic(d)
            base, period = mark_to_capture(d)
            clients = [ClientLog(f"ch{ch}/{tr}") for ch, tr in
                       (("0", "tcp"), ("0", "udp"), ("1", "tcp"), ("1", "udp"))]
            threads = [threading.Thread(target=run_client, args=(
                c, d.rtsp(int(c.name[2])), c.name[4:], args.seconds, base, period, offset))
                for c in clients]
            viewers = [ClientLog(f"mjpeg{i}") for i in range(args.mjpeg)]
            threads += [threading.Thread(target=run_viewer, args=(v, d, args.seconds))
                        for v in viewers]
            for t in threads:
                t.start()
            print(f"imp-streamer {w0}x{h0} + {w1}x{h1} H.264, JPEG 2 fps, motion; "
                  f"4 RTSP clients, {args.mjpeg} MJPEG viewers; {args.seconds:.0f} s", flush=True)
            print("   t(s)  fps0   fps1   jpeg  CPU%   RSS(MiB)", flush=True)
            t0 = time.monotonic()
            last_cpu, last_t = _cpu(d), t0
            while any(t.is_alive() for t in threads):
                time.sleep(args.every)
                values = _metrics(d)
                now, cpu = time.monotonic(), values["process_cpu_seconds_total"]
                print(f"{now - t0:7.0f} {values['fps.stream0']:5.2f} {values['fps.stream1']:6.2f}"
                      f" {values['fps.jpeg']:6.2f} {100 * (cpu - last_cpu) / (now - last_t):5.0f}"
                      f" {values['process_resident_memory_bytes'] / 2**20:9.1f}", flush=True)
                last_cpu, last_t = cpu, now
            for t in threads:
                t.join()
            drops = [line for line in d.metrics().splitlines()
                     if line.startswith("imp_streamer_pipeline_drops_total")
                     and not line.endswith(" 0")]
        finally:
            status = d.stop()
    print("\nclient        pictures    fps   missing  out-of-order  latency p50/p95 (ms)")
    for c in clients + viewers:
        marks = c.marks
        span = max(c.ended - c.started, 1e-3)
        missing = (marks[-1] - marks[0] + 1 - len(marks)) if marks else 0
        if c.name.startswith("mjpeg"):
            # 2 pictures of every 25: expected (span / 12.5) + 1
            missing = round((marks[-1] - marks[0]) / 12.5) + 1 - len(marks) if marks else 0
        disorder = sum(b <= a for a, b in itertools.pairwise(marks))
        lat = sorted(c.latencies_ms[5:])
        lat_s = (f"{lat[len(lat) // 2]:.0f}/{lat[int(len(lat) * 0.95)]:.0f}" if lat else "-")
        print(f"{c.name:12} {len(marks):9} {len(marks) / span:6.2f} {missing:9} {disorder:13}"
              f"  {lat_s}  {c.error}")
    print("\nframes lost inside the daemon's pipeline (node, cause):")
    for line in drops or ["  none"]:
        print("  " + line.removeprefix("imp_streamer_pipeline_drops_total"))
    print(f"\ndaemon exit status after SIGTERM: {status}")


def _metrics(d: Daemon) -> dict[str, float]:
    out = {}
    for line in d.metrics().splitlines():
        if line.startswith("#") or not line:
            continue
        name, value = line.rsplit(" ", 1)
        if name.startswith("imp_streamer_fps"):
            name = "fps." + name.split('"')[1]
        out[name] = float(value)
    return out


def _cpu(d: Daemon) -> float:
    return _metrics(d)["process_cpu_seconds_total"]


if __name__ == "__main__":
    main()
