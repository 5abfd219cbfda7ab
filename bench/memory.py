"""Memory of `imp`: Python heap (tracemalloc) and RSS above an empty interpreter (issue 10 d7).

Cases, each in a fresh interpreter:

- ``numpy``: ``import numpy`` alone (what every imp picture path needs; for reference);
- ``import``: ``import imp``; ``capi``: ``import imp.capi`` (every IMP_* name);
- ``fs``: the FrameSource sample (sample-Framesource, ``--frames`` per channel, virtual clock);
- ``fs_osd_ivs``: the Pythonic camera with a 640x360 channel, an overlay (a cover and a
  rectangle) and motion detection, ``--frames`` frames read;
- ``fs_osd_text_ivs``: the same with a text region, where a font rasterizer (Pillow) exists
  (the camera's Python has none: there text regions are refused and this case is the previous).

For each, in a fresh interpreter: the Python heap (tracemalloc) while the pipeline runs,
without and with the allocations the simulator makes (fake kernel, sensor, ISP: on a board
those are the kernel's and the hardware's), and the peak; the top allocation sites of imp's own
heap; and, in a second interpreter without tracemalloc, the RSS above an empty interpreter's
with the simulated DMA arena's resident pages left out (kernel memory on a board).
Targets (issue 10): ``import`` <= 4 MB and ``fs_osd_ivs`` <= 10 MB of Python heap, numpy
included (the heap line says ``within`` or ``ABOVE``).

Run: ``.venv/bin/python -m bench.memory`` (all) or ``--case fs``; the MIPS tier prints the
three figures (import, fs, fs_osd_ivs) the same way (tests/mips/test_mips_memory.py).
"""

from __future__ import annotations

import os
import sys
import tracemalloc
from collections import Counter
from collections.abc import Callable

CASES = ("numpy", "import", "capi", "fs", "fs_osd_ivs", "fs_osd_text_ivs")
TARGETS_MB = {"import": 4.0, "fs_osd_ivs": 10.0}  # issue 10: Python heap, numpy included


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def arena_rss_kib() -> int:
    """Resident KiB of the mappings holding the simulated rmem arena (0 when not mapped)."""
    from imp import runtime

    allocator = runtime._allocator
    if allocator is None:
        return 0
    lo = allocator._virt
    hi = lo + allocator._size
    total, inside = 0, False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()[0]
            if "-" in head and ":" not in head:
                start, end = (int(x, 16) for x in head.split("-"))
                inside = start < hi and end > lo
            elif inside and head == "Rss:":
                total += int(line.split()[1])
    return total


# Frames kept per allocation with --deep: an allocation is the simulator's if any frame is, and
# a module the simulator imports (PyAV, numpy.random) sits ~6 frames per nested import below it:
# 32 frames lost the simulator's frame and counted PyAV's 0.9 MB as imp's. Deep tracebacks cost
# ~100 times the run's CPU; the default is one frame (bench/memory_sim.py).
DEEP_TRACE_DEPTH = 128

# Allocations made with a simulator frame on the stack: the fake kernel, sensor and ISP (on a
# board those are the kernel's and the hardware's), and the bench itself.
_SIMULATOR = (
    tracemalloc.Filter(False, "*/kernel_stubs/*", all_frames=True),
    tracemalloc.Filter(False, tracemalloc.__file__),
    tracemalloc.Filter(False, __file__, all_frames=False),
)


def _own(snapshot: tracemalloc.Snapshot) -> tracemalloc.Snapshot:
    return snapshot.filter_traces(_SIMULATOR)


def _prepare(case: str) -> None:
    """Import what the case's own code imports before the simulator starts (the simulator's
    imports must come after them, or they would take imp's modules as the simulator's)."""
    if case == "fs":
        import imp.samples.framesource
    else:
        import imp.camera
        import imp.pipeline.motion
        import imp.pipeline.overlay  # noqa: F401


def _top(snapshot: tracemalloc.Snapshot, n: int, leave_out: Counter[str]) -> list[str]:
    """The ``n`` largest allocation sites, less the simulator's imports at each."""
    sites = [
        (s.size - leave_out[str(s.traceback[0])], s.count, s.traceback[0])
        for s in snapshot.statistics("lineno")
    ]
    sites.sort(key=lambda site: -site[0])
    return [f"    {size / 1024:8.1f} KiB  {count:6d}  {where}" for size, count, where in sites[:n]]


def _getframe_timeout() -> float:
    """GetFrame's timeout: libimp's 2 s, or IMP_MEM_GETFRAME_TIMEOUT (under qemu the simulated
    ISP takes ~30 s for its first scaled frame)."""
    import imp.framesource as framesource

    value = os.environ.get("IMP_MEM_GETFRAME_TIMEOUT")
    if value:
        framesource.DEFAULT_GETFRAME_TIMEOUT = float(value)
    return framesource.DEFAULT_GETFRAME_TIMEOUT


def _fs_sample(frames: int, sites: Callable[[], None]) -> None:
    import tempfile

    from imp.samples import common, framesource

    _getframe_timeout()

    streamoff = common.framesource_streamoff

    def measured_streamoff(chns: list[common.ChnConf]) -> None:
        sites()  # the channels still stream: the sample at its largest
        streamoff(chns)

    common.framesource_streamoff = measured_streamoff
    try:
        with tempfile.TemporaryDirectory() as out:
            framesource.run(out, frames)
    finally:
        common.framesource_streamoff = streamoff


def _fs_osd_ivs(frames: int, sites: Callable[[], None], text: bool = False) -> None:
    import imp

    with imp.open() as cam:
        main = cam.framesource(0, size=(640, 360))
        osd = cam.overlay(main)
        osd.cover((0, 100, 64, 64), colour=0xFFFFFFFF)
        osd.rect((100, 100, 200, 120), colour=0xFFFF0000, width=2)
        if text:
            try:
                osd.text("imp memory", (10, 10))
            except ImportError:  # no font rasterizer (Pillow) in this Python: covers only
                pass
        motion = cam.motion(main, sense=2)
        for frame in main.frames(limit=frames, timeout=_getframe_timeout()):
            frame.y.mean()
        sites()  # while everything runs
        del motion


def measure(case: str, frames: int, top: int, trace: bool = True, deep: bool = False) -> None:
    """One case in this (fresh) interpreter. With ``trace``: the heap line and the top sites;
    without: the RSS line (tracemalloc's bookkeeping would count in the RSS and is not all
    given back to the system)."""
    base = int(os.environ.get("IMP_MEM_BASE_KIB", "0")) or rss_kib()
    if trace:
        tracemalloc.start(DEEP_TRACE_DEPTH if deep else 1)
    running: list[tuple[int, int, int, list[str]]] = []
    simulator_imports = 0  # bytes of the simulator's imports the one-frame filter keeps
    simulator_sites: Counter[str] = Counter()  # the same per allocation site

    def sites() -> None:
        if not trace:
            running.append((0, 0, rss_kib() - arena_rss_kib(), []))
            return
        snapshot = tracemalloc.take_snapshot()
        own = _own(snapshot)
        total = sum(t.size for t in snapshot.traces)
        mine = sum(t.size for t in own.traces) - simulator_imports
        running.append((total, mine, 0, _top(own, top, simulator_sites)))

    pipeline = case in ("fs", "fs_osd_ivs", "fs_osd_text_ivs")
    if pipeline and trace and not deep:
        from bench.memory_sim import import_simulator

        _prepare(case)
        simulator_imports, simulator_sites = import_simulator()
    if case == "numpy":
        import numpy  # noqa: F401
    elif case == "import":
        import imp
    elif case == "capi":
        import imp.capi  # noqa: F401
    elif case == "fs":
        _fs_sample(frames, sites)
    elif case == "fs_osd_ivs":
        _fs_osd_ivs(frames, sites)
    elif case == "fs_osd_text_ivs":
        _fs_osd_ivs(frames, sites, text=True)
    else:
        raise SystemExit(f"unknown case {case!r}; one of {', '.join(CASES)}")
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if not running:  # an import: measured now; a pipeline: while it ran (not after teardown)
        sites()
    total, mine, rss, lines = running[-1]
    if not trace:
        print(
            f"RSS {case:<15} {max(rss - base, 0) / 1024:6.1f} MB above the empty interpreter "
            "(the DMA arena left out)"
        )
        return
    verdict = ""
    if case in TARGETS_MB:
        within = "within" if mine / 1e6 <= TARGETS_MB[case] else "ABOVE"
        verdict = f"; target {TARGETS_MB[case]:.0f} MB: {within}"
    print(
        f"MEM {case:<15} heap {mine / 1e6:6.2f} MB without the simulator "
        f"({total / 1e6:6.2f} MB with it), peak {peak / 1e6:6.2f} MB{verdict}",
        flush=True,
    )
    for line in lines:
        print(line)


def empty_rss_kib(env: dict[str, str]) -> int:
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", "from bench.memory import rss_kib; print(rss_kib())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    import argparse
    import subprocess
    import tempfile

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--case", choices=CASES, action="append", help="default: every case")
    p.add_argument("--frames", type=int, default=50)
    p.add_argument("--top", type=int, default=8, help="allocation sites to print per case")
    p.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure in this interpreter
    p.add_argument("--rss", action="store_true", help=argparse.SUPPRESS)  # internal
    p.add_argument(
        "--deep",
        action="store_true",
        help="leave the simulator out by deep tracebacks (slow; a check of the default)",
    )
    args = p.parse_args(argv)
    if args.one:
        measure(args.one, args.frames, args.top, trace=not args.rss, deep=args.deep)
        return 0
    env = {
        **os.environ,
        "IMP_PLATFORM": "sim",
        "IMP_SIM_CLOCK": "virtual",
        # bytecode compiled ahead, as on a camera's image (compiling from source makes other
        # code objects and transient garbage)
        "PYTHONPYCACHEPREFIX": os.path.join(tempfile.gettempdir(), "imp-bench-pycache"),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    base = empty_rss_kib(env)
    print(f"empty interpreter RSS {base / 1024:.1f} MB ({sys.version.split()[0]})")
    env["IMP_MEM_BASE_KIB"] = str(base)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "imp", "kernel_stubs", "bench"],
        env=env,
        cwd=root,
        check=True,
    )
    for case in args.case or CASES:
        cmd = [sys.executable, "-m", "bench.memory", "--one", case]
        cmd += ["--frames", str(args.frames), "--top", str(args.top)]
        subprocess.run([*cmd, *(["--deep"] if args.deep else [])], env=env, check=True)
        subprocess.run([*cmd, "--rss"], env=env, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
