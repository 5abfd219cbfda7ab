"""imp-streamer under load: 2 streams + JPEG + motion + 4 RTSP clients (+ MJPEG viewers).

Starts the daemon on the simulator (realtime clock), connects 2 RTSP clients per stream (TCP
and UDP mixed, FFmpeg through PyAV, decoding and reading frame marks) and ``--mjpeg`` MJPEG
viewers, then every ``--every`` seconds prints each stream's fps (daemon side), the daemon's
CPU (% of one core) and RSS. At the end, per client: pictures received, fps, marks missing
and out of order; and the glass-to-client latency: capture time of a picture (the IMP clock,
mapped to this host's CLOCK_MONOTONIC through ``/api/clock``) to the moment the client has it
decoded — median and p95.

Then the issue's acceptance, each printed PASS/FAIL per client: >= 99.9 % of the frames (marks
from the first to the last received) in order; fps (pictures over the span of their arrivals,
past the first 2 s: FFmpeg's probing burst) within 0.5 % of the stream's; median latency (also
past the first 2 s) <= 2 frame periods + the stream's encode time. The encode time is measured
in the daemon: the CPU its encoder thread spent per picture
(``imp_streamer_cpu_seconds_total{thread="encoder"}`` over ``imp_streamer_frames_total``;
x264/x265 run single-threaded there, so this is the encoder's own work per picture, a lower
bound of its wall time on a loaded machine). Where frames went missing: the daemon's pipeline
drop counters and the simulator's own losses (``no_buffer``: no empty frame buffer queued, the
streamer's buffer count; ``other``: the simulated sensor fell behind real time). The load
average (1 min) is printed at the start and the end.

Run: ``.venv/bin/python -m bench.streamer_load --seconds 60`` (``--size 1080p`` for the
issue's full-size main stream; the default 720p/360p is kinder to a shared machine).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.streamer_common import Daemon, http_request, mjpeg_parts, rtsp_frames, small_config

SIZES = {
    "1080p": ((1920, 1080), (640, 360)),
    "720p": ((1280, 720), (640, 360)),
    "360p": ((640, 360), (320, 180)),
}


FPS = 25.0
JPEG_FPS = 2.0


@dataclass
class ClientLog:
    name: str
    marks: list[int] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    arrivals: list[float] = field(default_factory=list)
    error: str = ""

    def arrived(self, mark: int, now: float) -> None:
        self.marks.append(mark)
        self.arrivals.append(now)

    def steady(self) -> tuple[list[float], list[float]]:
        """(arrival times, latencies) past the first 2 s of pictures: FFmpeg probes the stream
        before av.open returns and then hands the probed pictures over in a burst."""
        skip = 2 * int(JPEG_FPS if self.name.startswith("mjpeg") else FPS)
        return self.arrivals[skip:], self.latencies_ms[skip:]


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

    pairs = [
        (decode_jpeg_mark(data)[0], int(h["x-capture-timestamp"]))
        for h, data in mjpeg_parts(f"{d.http}/mjpeg", count)
    ]
    period = 1e6 / 25
    base = statistics.median(ts - m * period for m, ts in pairs)
    return base, period


def run_client(
    log: ClientLog,
    url: str,
    transport: str,
    seconds: float,
    base: float,
    period: float,
    offset: float,
) -> None:
    log.started = time.monotonic()
    try:
        for f in rtsp_frames(url, transport, limit=10**9, timeout=seconds + 30):
            now = time.monotonic()
            log.arrived(f.mark, now)
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
            log.arrived(decode_jpeg_mark(data)[0], time.monotonic())
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
    ap.add_argument("--buffers", type=int, default=6, help="[camera] buffers (per stream)")
    args = ap.parse_args()
    (w0, h0), (w1, h1) = SIZES[args.size]
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = small_config(
            Path(tmp),
            stream0={"width": w0, "height": h0, "bitrate": 2000},
            stream1={"width": w1, "height": h1, "bitrate": 600},
            sim={"sensor_width": w0, "sensor_height": h0, "scene": "default"},
            jpeg={"channel": 0, "fps": int(JPEG_FPS)},
            motion={"enabled": True},
            camera={"buffers": args.buffers},
        )
        d = Daemon(cfg, Path(tmp)).start().warm_up()
        try:
            offset = capture_to_monotonic(d)
            base, period = mark_to_capture(d)
            clients = [
                ClientLog(f"ch{ch}/{tr}")
                for ch, tr in (("0", "tcp"), ("0", "udp"), ("1", "tcp"), ("1", "udp"))
            ]
            threads = [
                threading.Thread(
                    target=run_client,
                    args=(
                        c,
                        d.rtsp(int(c.name[2])),
                        c.name[4:],
                        args.seconds,
                        base,
                        period,
                        offset,
                    ),
                )
                for c in clients
            ]
            viewers = [ClientLog(f"mjpeg{i}") for i in range(args.mjpeg)]
            threads += [
                threading.Thread(target=run_viewer, args=(v, d, args.seconds)) for v in viewers
            ]
            for t in threads:
                t.start()
            print(
                f"imp-streamer {w0}x{h0} + {w1}x{h1} H.264, JPEG {JPEG_FPS:g} fps, motion, "
                f"{args.buffers} frame buffers per stream; "
                f"4 RTSP clients, {args.mjpeg} MJPEG viewers; {args.seconds:.0f} s; "
                f"load average {load_start:.2f}",
                flush=True,
            )
            print("   t(s)  fps0   fps1   jpeg  CPU%  CPU%0  CPU%1  RSS(MiB)  load", flush=True)
            t0 = time.monotonic()
            first = last = _metrics(d)
            last_t = t0
            while any(t.is_alive() for t in threads):
                time.sleep(args.every)
                values = _metrics(d)
                now = time.monotonic()

                share = {
                    k: 100 * (values[k] - last[k]) / (now - last_t)
                    for k in ("process_cpu_seconds_total", "cpu.stream0", "cpu.stream1")
                }
                print(
                    f"{now - t0:7.0f} {values['fps.stream0']:5.2f} {values['fps.stream1']:6.2f}"
                    f" {values['fps.jpeg']:6.2f} {share['process_cpu_seconds_total']:5.0f}"
                    f" {share['cpu.stream0']:6.0f} {share['cpu.stream1']:6.0f}"
                    f" {values['process_resident_memory_bytes'] / 2**20:9.1f}"
                    f" {os.getloadavg()[0]:5.2f}",
                    flush=True,
                )
                last, last_t = values, now
            for t in threads:
                t.join()
            final = _metrics(d)
            text = d.metrics()
        finally:
            status = d.stop()
    load_end = os.getloadavg()[0]
    encode_ms = {
        ch: 1000
        * (final[f"cpu.stream{ch}.encoder"] - first[f"cpu.stream{ch}.encoder"])
        / max(1.0, final[f"frames.stream{ch}"] - first[f"frames.stream{ch}"])
        for ch in "01"
    }
    print("\nclient        pictures    fps   missing  out-of-order  latency p50/p95 (ms)")
    for c in clients + viewers:
        marks = c.marks
        span = max(c.ended - c.started, 1e-3)
        disorder = sum(b <= a for a, b in itertools.pairwise(marks))
        lat = sorted(c.steady()[1])
        lat_s = f"{lat[len(lat) // 2]:.0f}/{lat[int(len(lat) * 0.95)]:.0f}" if lat else "-"
        print(
            f"{c.name:12} {len(marks):9} {len(marks) / span:6.2f} {_expected(c) - len(marks):9}"
            f" {disorder:13}  {lat_s}  {c.error}"
        )
    print("\nframes lost inside the daemon's pipeline (node, cause):")
    for line in _nonzero(text, "imp_streamer_pipeline_drops_total") or ["none"]:
        print("  " + line)
    print("frames the simulated sensor lost before imp (channel, cause):")
    for line in _nonzero(text, "imp_streamer_sim_frames_lost_total") or ["none"]:
        print("  " + line)
    print(
        f"encode time (encoder thread CPU per picture): stream0 {encode_ms['0']:.1f} ms, "
        f"stream1 {encode_ms['1']:.1f} ms"
    )
    print(f"load average (1 min): {load_start:.2f} at the start, {load_end:.2f} at the end")
    print(f"daemon exit status after SIGTERM: {status}")
    verdicts = [_verdict(c, encode_ms) for c in clients + viewers]
    print(
        "\nacceptance (>= 99.9 % of frames in order; fps within 0.5 %; "
        "latency p50 <= 2 periods + encode):"
    )
    for c, (line, _) in zip(clients + viewers, verdicts, strict=True):
        print(f"  {c.name:12} {line}")
    print("overall:", "PASS" if all(ok for _, ok in verdicts) and status == 0 else "FAIL")


def _expected(c: ClientLog) -> int:
    """Pictures a client should have got between its first and last mark."""
    if not c.marks:
        return 0
    step = FPS / JPEG_FPS if c.name.startswith("mjpeg") else 1.0  # JPEG: every 12.5th mark
    return round((c.marks[-1] - c.marks[0]) / step) + 1


def _verdict(c: ClientLog, encode_ms: dict[str, float]) -> tuple[str, bool]:
    """The acceptance line of one client and whether it passed every criterion."""
    if len(c.marks) < 2 or c.error:
        return f"FAIL: {len(c.marks)} pictures {c.error}", False
    in_order = all(b > a for a, b in itertools.pairwise(c.marks))
    share = 100 * len(c.marks) / _expected(c)
    target = JPEG_FPS if c.name.startswith("mjpeg") else FPS
    arrivals, latencies = c.steady()
    fps = (len(arrivals) - 1) / max(arrivals[-1] - arrivals[0], 1e-3) if arrivals else 0.0
    checks = [
        (
            f"frames {share:.2f} % {'in order' if in_order else 'OUT OF ORDER'}",
            share >= 99.9 and in_order,
        ),
        (f"fps {fps:.3f} ({100 * (fps / target - 1):+.2f} %)", abs(fps / target - 1) <= 0.005),
    ]
    if latencies:
        lat = sorted(latencies)
        limit = 2 * 1000 / FPS + encode_ms[c.name[2]]
        checks.append(
            (f"latency p50 {lat[len(lat) // 2]:.0f} ms <= {limit:.0f}", lat[len(lat) // 2] <= limit)
        )
    line = "; ".join(f"{text} {'PASS' if ok else 'FAIL'}" for text, ok in checks)
    return line, all(ok for _, ok in checks)


def _nonzero(text: str, name: str) -> list[str]:
    """The samples of metric ``name`` that are not 0 (labels and value)."""
    return [
        line.removeprefix(name)
        for line in text.splitlines()
        if line.startswith(name + "{") and not line.endswith(" 0")
    ]


def _metrics(d: Daemon) -> dict[str, float]:
    """/metrics by short keys: fps.<stream>, frames.<stream>, cpu.<stream>.<thread> and
    cpu.<stream> (its threads summed); unlabelled metrics by name."""
    out: dict[str, float] = {}
    for line in d.metrics().splitlines():
        if line.startswith("#") or not line:
            continue
        name, value = line.rsplit(" ", 1)
        labels = dict(
            part.split("=", 1)
            for part in name.partition("{")[2].rstrip("}").split(",")
            if "=" in part
        )
        labels = {k: v.strip('"') for k, v in labels.items()}
        if name.startswith("imp_streamer_fps{"):
            name = "fps." + labels["stream"]
        elif name.startswith("imp_streamer_frames_total{"):
            name = "frames." + labels["stream"]
        elif name.startswith("imp_streamer_cpu_seconds_total{"):
            key = "cpu." + labels["stream"]
            out[key] = out.get(key, 0.0) + float(value)
            name = f"{key}.{labels['thread']}"
        out[name] = float(value)
    return out


if __name__ == "__main__":
    main()
