"""Soak: a prudynt-like pipeline in real time for a chosen duration.

FS0 1920x1080 -> OSD0 (clock) -> ENC group 0: H.264 2000 kbit/s + JPEG 1 fps
FS1  640x360  -> ENC group 1: H.264 600 kbit/s;  FS1 output 1 -> IVS group 0 (move, 4 ROIs)

RSS is read every second. Every ``--every`` seconds it prints the lowest and highest RSS of
that interval, frames per second of each stream and the drops seen so far (FrameSource drops
counted by the simulated ISP, encoder drops, IVS drops); at the end a summary: growth of the RSS
floor after warm-up, fps against the target in %, and every drop with its cause.

Why a floor: the simulated pipeline makes picture-sized transient blocks (render planes, codec
input copies: 3 MiB at 1080p), each returned to the system on free
(kernel_stubs/malloc_policy.py). A single reading per interval includes one or not depending on
its phase against the pipeline's frame timers, so it can jump by a picture and stay there for
minutes with no change in what the process keeps. What a leak raises is the floor: the lowest
reading of each interval.

Run: ``.venv/bin/python -m bench.soak --minutes 30`` (``--trace``: tracemalloc snapshots after
the warm-up, the heap's slope and the sites that grew; it slows the pipeline down).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import threading
import time
import tracemalloc
from dataclasses import dataclass, field

os.environ.setdefault("IMP_PLATFORM", "sim")
os.environ.setdefault("IMP_SIM_CLOCK", "realtime")

from imp.capi import *
from imp.samples import common

FPS = 25
STREAMS = {0: ("h264-1080p", FPS), 1: ("h264-360p", FPS), 2: ("jpeg-1080p", 1)}


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@dataclass
class Counter:
    frames: int = 0
    bytes: int = 0
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def fs_attr(w: int, h: int, scaler: bool, nr_vbs: int) -> IMPFSChnAttr:
    a = IMPFSChnAttr()
    a.picWidth, a.picHeight, a.pixFmt, a.nrVBs = w, h, PIX_FMT_NV12, nr_vbs
    a.outFrmRateNum, a.outFrmRateDen, a.type = FPS, 1, FS_PHY_CHANNEL
    if scaler:
        a.scaler.enable, a.scaler.outwidth, a.scaler.outheight = 1, w, h
    return a


def check(ret: int, what: str) -> None:
    if ret < 0:
        raise RuntimeError(f"{what} failed")


def enc_attr(
    profile: int, rc: int, w: int, h: int, fps: int, gop: int, kbps: int, qp: int
) -> IMPEncoderChnAttr:
    attr = IMPEncoderChnAttr()
    check(
        IMP_Encoder_SetDefaultParam(attr, profile, rc, w, h, fps, 1, gop, 2, qp, kbps),
        "SetDefaultParam",
    )
    return attr


def drain(chn: int, counter: Counter, stop: threading.Event) -> None:
    """prudynt's read loop: PollingStream(500) -> GetStream(non-blocking) -> packs -> Release."""
    stream = IMPEncoderStream()
    while not stop.is_set():
        if IMP_Encoder_PollingStream(chn, 500) != 0:
            continue
        if IMP_Encoder_GetStream(chn, stream, False) != 0:
            counter.errors += 1
            continue
        size = sum(stream.pack[i].length for i in range(stream.packCount))
        with counter.lock:
            counter.frames += 1
            counter.bytes += size
        IMP_Encoder_ReleaseStream(chn, stream)


def ivs_loop(counter: Counter, stop: threading.Event) -> None:
    while not stop.is_set():
        if IMP_IVS_PollingResult(0, 500) != 0:
            continue
        result = ctypes.POINTER(IMP_IVS_MoveOutput)()
        if IMP_IVS_GetResult(0, result) == 0:
            with counter.lock:
                counter.frames += 1
            IMP_IVS_ReleaseResult(0, result)


def run(minutes: float, every: float, warmup: float, heap: HeapTrace | None = None) -> int:
    common.system_init()
    from imp.osd import ClockOverlay, GroupRegionAttr, get_osd

    check(IMP_FrameSource_CreateChn(0, fs_attr(1920, 1080, False, 3)), "FS CreateChn 0")
    check(IMP_FrameSource_CreateChn(1, fs_attr(640, 360, True, 3)), "FS CreateChn 1")
    for grp in (0, 1):
        check(IMP_Encoder_CreateGroup(grp), f"Encoder CreateGroup {grp}")
    h264 = IMP_ENC_PROFILE_AVC_HIGH
    check(
        IMP_Encoder_CreateChn(
            0, enc_attr(h264, IMP_ENC_RC_MODE_CBR, 1920, 1080, FPS, 50, 2000, -1)
        ),
        "ENC 0",
    )
    check(
        IMP_Encoder_CreateChn(1, enc_attr(h264, IMP_ENC_RC_MODE_CBR, 640, 360, FPS, 50, 600, -1)),
        "ENC 1",
    )
    jpeg = enc_attr(IMP_ENC_PROFILE_JPEG, IMP_ENC_RC_MODE_FIXQP, 1920, 1080, 1, 0, 0, 75)
    check(IMP_Encoder_CreateChn(2, jpeg), "ENC 2")
    check(IMP_Encoder_RegisterChn(0, 0), "Register 0")
    check(IMP_Encoder_RegisterChn(1, 1), "Register 1")
    check(IMP_Encoder_RegisterChn(0, 2), "Register 2")
    check(IMP_OSD_CreateGroup(0), "OSD CreateGroup")
    clock = ClockOverlay(get_osd().groups[0], attr=GroupRegionAttr(show=True, layer=1))
    check(IMP_OSD_Start(0), "OSD Start")
    check(IMP_IVS_CreateGroup(0), "IVS CreateGroup")
    move = IMP_IVS_MoveParam()
    move.skipFrameCnt, move.roiRectCnt = 0, 4
    move.frameInfo.width, move.frameInfo.height = 640, 360
    for i, (x0, y0, x1, y1) in enumerate(
        ((0, 40, 319, 199), (320, 40, 639, 199), (0, 200, 319, 359), (320, 200, 639, 359))
    ):
        move.sense[i] = 3
        move.roiRect[i].p0.x, move.roiRect[i].p0.y, move.roiRect[i].p1.x, move.roiRect[i].p1.y = (
            x0,
            y0,
            x1,
            y1,
        )
    intf = IMP_IVS_CreateMoveInterface(move)
    check(IMP_IVS_CreateChn(0, intf), "IVS CreateChn")
    check(IMP_IVS_RegisterChn(0, 0), "IVS RegisterChn")
    check(IMP_IVS_StartRecvPic(0), "IVS StartRecvPic")
    cells = [
        ((DEV_ID_FS, 0, 0), (DEV_ID_OSD, 0, 0)),
        ((DEV_ID_OSD, 0, 0), (DEV_ID_ENC, 0, 0)),
        ((DEV_ID_FS, 1, 0), (DEV_ID_ENC, 1, 0)),
        ((DEV_ID_FS, 1, 1), (DEV_ID_IVS, 0, 0)),
    ]
    for src, dst in cells:
        check(IMP_System_Bind(IMPCell(*src), IMPCell(*dst)), f"Bind {src}->{dst}")
    for c in (0, 1):
        check(IMP_FrameSource_EnableChn(c), f"EnableChn {c}")
    for c in STREAMS:
        check(IMP_Encoder_StartRecvPic(c), f"StartRecvPic {c}")
    clock.start()

    stop = threading.Event()
    counters = {c: Counter() for c in STREAMS}
    ivs = Counter()
    threads = [
        threading.Thread(target=drain, args=(c, counters[c], stop), name=f"soak-enc{c}")
        for c in STREAMS
    ]
    threads.append(threading.Thread(target=ivs_loop, args=(ivs, stop), name="soak-ivs"))
    for t in threads:
        t.start()

    from imp import kernel as _kernel
    from imp.encoder import get_encoder
    from imp.ivs import get_ivs

    sim = _kernel.current_kernel()
    start = time.monotonic()
    end = start + minutes * 60
    last = {c: 0 for c in STREAMS}
    last_t = start
    rss_warm: int | None = None  # the floor of the first interval after warm-up
    rss_max = rss_last = 0
    window: list[int] = []  # this interval's readings, one a second
    next_report = start + every
    fps_log: dict[int, list[float]] = {c: [] for c in STREAMS}
    print(
        f"soak: {minutes} min realtime; report every {every:.0f} s; warm-up {warmup:.0f} s",
        flush=True,
    )
    print(
        "   t(s)  RSS min/max(MiB)  "
        + "  ".join(f"{STREAMS[c][0]:>11}" for c in STREAMS)
        + "   drops(fs/enc/ivs)",
        flush=True,
    )
    try:
        while time.monotonic() < end:
            time.sleep(min(1.0, max(0.0, end - time.monotonic())))
            window.append(rss_kib())
            now = time.monotonic()
            if now < next_report and now < end:
                continue
            next_report += every
            span = now - last_t
            rates = {}
            for c in STREAMS:
                n = counters[c].frames
                rates[c] = (n - last[c]) / span
                last[c] = n
                if now - start > warmup:
                    fps_log[c].append(rates[c])
            last_t = now
            rss, rss_hi = min(window), max(window)
            window.clear()
            rss_last = rss
            rss_max = max(rss_max, rss_hi)
            if rss_warm is None and now - start >= warmup:
                rss_warm = rss
            if heap is not None and now - start >= warmup:
                heap.sample(now - start)
            fs_drops = sum(ch.dropped for ch in sim.isp.channels)  # type: ignore[attr-defined]
            enc_drops = sum(
                ch.stats.dropped_behind + ch.stats.dropped_full
                for ch in get_encoder().channels.values()
            )
            ivs_drops = sum(ch.stats.dropped for ch in get_ivs().channels.values())
            print(
                f"{now - start:7.0f}  {rss / 1024:7.1f} {rss_hi / 1024:7.1f}  "
                + "  ".join(f"{rates[c]:11.2f}" for c in STREAMS)
                + f"   {fs_drops}/{enc_drops}/{ivs_drops}",
                flush=True,
            )
    finally:
        stop.set()
        for t in threads:
            t.join()
        drop_causes = _drop_causes(sim)
        clock.close()
        for c in STREAMS:
            IMP_Encoder_StopRecvPic(c)
        for c in (0, 1):
            IMP_FrameSource_DisableChn(c)
        for src, dst in cells:
            IMP_System_UnBind(IMPCell(*src), IMPCell(*dst))
        IMP_IVS_StopRecvPic(0)
        IMP_IVS_UnRegisterChn(0)
        IMP_IVS_DestroyChn(0)
        IMP_IVS_DestroyMoveInterface(intf)
        IMP_IVS_DestroyGroup(0)
        IMP_OSD_Stop(0)
        IMP_OSD_DestroyGroup(0)
        for c in STREAMS:
            IMP_Encoder_UnRegisterChn(c)
            IMP_Encoder_DestroyChn(c)
        for grp in (0, 1):
            IMP_Encoder_DestroyGroup(grp)
        for c in (0, 1):
            IMP_FrameSource_DestroyChn(c)
        common.system_exit(strict=False)

    print("\nsummary")
    if heap is not None:
        heap.report()
    if rss_warm is not None:
        print(
            f"  RSS floor after warm-up {rss_warm / 1024:.1f} MiB, in the last interval "
            f"{rss_last / 1024:.1f} MiB, growth {(rss_last - rss_warm) / 1024:+.2f} MiB "
            f"(highest reading {rss_max / 1024:.1f} MiB)"
        )
    worst = 0.0
    for c, (name, target) in STREAMS.items():
        rates = fps_log[c]
        if not rates:
            continue
        mean = sum(rates) / len(rates)
        dev = (mean / target - 1) * 100
        worst = max(worst, abs(dev))
        total_bytes = counters[c].bytes
        kbps = total_bytes * 8 / 1000 / max(1.0, minutes * 60)
        print(
            f"  {name:11} mean {mean:7.3f} fps ({dev:+.3f} % of {target}), "
            f"{counters[c].frames} pictures, {kbps:.0f} kbit/s, errors {counters[c].errors}"
        )
    print(f"  IVS results {ivs.frames}")
    fs = [(ch.index, ch.delivered, ch.dropped) for ch in sim.isp.channels]  # type: ignore[attr-defined]
    print("  FrameSource (simulated ISP) per channel (index, delivered, dropped):", fs)
    # A realtime overrun is a sensor frame the simulator could not render in its slot (the
    # scene caches are built during the first frames): it is dropped for every channel.
    overruns = sim.isp.engine.overruns  # type: ignore[attr-defined]
    print(f"  simulator overruns (frames dropped for all channels): {overruns}")
    print("  drops by cause:")
    for cause, count in drop_causes.items():
        print(f"    {count:6d}  {cause}")
    return 0 if worst <= 0.5 else 1


def _drop_causes(sim: object) -> dict[str, int]:
    """Every counter of a frame that did not make it, named by where and why it was dropped.

    Read before the teardown: System_Exit forgets the channels and their counters."""
    from imp.encoder import get_encoder
    from imp.framesource import get_framesource
    from imp.ivs import get_ivs
    from imp.osd import get_osd

    out: dict[str, int] = {}
    for ch in sim.isp.channels:  # type: ignore[attr-defined]
        # No buffer queued when the frame came (the consumers held them all), or an overrun.
        out[f"ISP ch{ch.index}: frame lost in the ISP (no free buffer, or overrun)"] = ch.dropped
    for n, fs in sorted(get_framesource().channels.items()):
        st = fs.stats
        out[f"FS{n}: decimated to the channel frame rate (by design)"] = st.skipped
        out[f"FS{n}: GetFrame FIFO full, oldest evicted"] = st.fifo_dropped
        out[f"FS{n}: ISP buffers flagged ERROR, skipped"] = st.corrupt
        out[f"FS{n}: driver errors (DQBUF/QBUF)"] = st.errors
    for grp, osd in sorted(get_osd().groups.items()):
        out[f"OSD{grp}: worker behind, frame evicted"] = osd.stats.dropped_behind
        out[f"OSD{grp}: no copy buffer in time"] = osd.stats.dropped_no_buffer
    for chn, enc in sorted(get_encoder().channels.items()):
        e = enc.stats
        out[f"ENC{chn}: not taken, channel fps below the source (by design)"] = e.skipped
        out[f"ENC{chn}: codec behind, input evicted"] = e.dropped_behind
        out[f"ENC{chn}: stream buffer full (reader behind)"] = e.dropped_full
        out[f"ENC{chn}: codec errors"] = e.errors
    for chn, iv in sorted(get_ivs().channels.items()):
        out[f"IVS{chn}: algorithm behind, frame dropped"] = iv.stats.dropped
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--every", type=float, default=30.0, help="seconds between reports")
    p.add_argument("--warmup", type=float, default=60.0, help="seconds before RSS/fps are judged")
    p.add_argument(
        "--trace",
        action="store_true",
        help="tracemalloc snapshots after the warm-up: heap slope and the sites that grew",
    )
    a = p.parse_args()
    heap = HeapTrace() if a.trace else None
    raise SystemExit(run(a.minutes, a.every, min(a.warmup, a.minutes * 30), heap))


class HeapTrace:
    """tracemalloc over the soak: the heap at each report after the warm-up, its slope (least
    squares, KiB/min) and the allocation sites that grew between the first and last snapshot."""

    def __init__(self) -> None:
        tracemalloc.start(4)
        self.points: list[tuple[float, int]] = []
        self.first: tracemalloc.Snapshot | None = None
        self.last: tracemalloc.Snapshot | None = None

    def sample(self, t: float) -> None:
        self.points.append((t, tracemalloc.get_traced_memory()[0]))
        snap = tracemalloc.take_snapshot()
        if self.first is None:
            self.first = snap
        self.last = snap

    def report(self, top: int = 10) -> None:
        if len(self.points) < 2 or self.first is None or self.last is None:
            print("  heap: too short a run after the warm-up for a slope")
            return
        n = len(self.points)
        mt = sum(t for t, _ in self.points) / n
        mh = sum(h for _, h in self.points) / n
        var = sum((t - mt) ** 2 for t, _ in self.points)
        slope = sum((t - mt) * (h - mh) for t, h in self.points) / var  # bytes per second
        (t0, h0), (t1, h1) = self.points[0], self.points[-1]
        print(
            f"  Python heap (tracemalloc) {h0 / 1048576:.2f} MiB at {t0:.0f} s -> "
            f"{h1 / 1048576:.2f} MiB at {t1:.0f} s; slope {slope * 60 / 1024:+.1f} KiB/min"
        )
        print("  sites that grew most (last - first snapshot after the warm-up):")
        for stat in self.last.compare_to(self.first, "lineno")[:top]:
            print(
                f"    {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+6d}  {stat.traceback[0]}"
            )


if __name__ == "__main__":
    main()
