"""Race tier (issue 10, deliver 2): every pair of lifecycle calls of a module, from two threads.

For each pair, two threads call their ``IMP_*`` function over and over for a bounded time
(``RACE_SECONDS``) on the same objects, starting from a running pipeline. Then:

- no exception escaped an ``IMP_*`` call, and none logged an *internal error* (an exception the
  library did not anticipate, such as an AssertionError from a state changed under it);
- no call took longer than ``CALL_BOUND`` s (GetFrame's timeout is shortened as in the stateful
  test; a call that waits longer is stuck behind a transition);
- after ``IMP_System_Exit`` and ``IMP_ISP_Close`` no rmem block is left, the arena is unmapped,
  no device is open and no ``imp-*``/``sim-*`` thread runs;
- a fresh pipeline in the same process delivers frames (an exhausted arena or an ISP left open
  would stop it).

Run it repeatedly: ``for i in $(seq 20); do .venv/bin/python -m pytest tests/test_races.py -q
|| break; done``.
"""

from __future__ import annotations

import ctypes
import gc
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from imp.capi import *
from tests.conftest import _imp_threads, running_system

RACE_SECONDS = 0.3
CALL_BOUND = 3.0  # s; the slowest legitimate call here is a 0.2 s GetFrame or a 0.5 s disable
GETFRAME_TIMEOUT = 0.2
W, H = 320, 180


@pytest.fixture(autouse=True)
def fast_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shorter waits, same code paths (as tests/test_capi_stateful.py)."""
    import imp.framesource as framesource
    from kernel_stubs.devices import engine

    monkeypatch.setattr(framesource, "DEFAULT_GETFRAME_TIMEOUT", GETFRAME_TIMEOUT)
    monkeypatch.setattr(engine, "START_GATE", 0.005)
    monkeypatch.setattr(engine, "STARVATION_TIMEOUT", 0.02)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.internal: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if "internal error" in msg:
            self.internal.append(msg)


@dataclass
class RaceResult:
    calls: int = 0
    slowest: tuple[float, str] = (0.0, "")
    escaped: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _hammer(name: str, fn: Callable[[], object], stop: float, out: RaceResult) -> None:
    while time.monotonic() < stop:
        t0 = time.monotonic()
        try:
            fn()
        except BaseException as exc:  # the C face never raises: anything here is a defect
            with out.lock:
                out.escaped.append(f"{name}: {type(exc).__name__}: {exc}")
        took = time.monotonic() - t0
        with out.lock:
            out.calls += 1
            if took > out.slowest[0]:
                out.slowest = (took, name)


def _fs_attr() -> IMPFSChnAttr:
    a = IMPFSChnAttr()
    a.picWidth, a.picHeight, a.pixFmt = W, H, PIX_FMT_NV12
    a.outFrmRateNum, a.outFrmRateDen, a.nrVBs, a.type = 25, 1, 3, FS_PHY_CHANNEL
    a.scaler.enable, a.scaler.outwidth, a.scaler.outheight = 1, W, H
    return a


def _get_release_frame() -> None:
    p = ctypes.POINTER(IMPFrameInfo)()
    if IMP_FrameSource_GetFrame(0, p) == 0:
        IMP_FrameSource_ReleaseFrame(0, p)


def _start_fs() -> None:
    assert IMP_FrameSource_CreateChn(0, _fs_attr()) == 0
    assert IMP_FrameSource_SetFrameDepth(0, 1) == 0
    assert IMP_FrameSource_EnableChn(0) == 0


# Lifecycle calls per module: name -> (setup of the running pipeline, {call name: call}).
FS_CALLS: dict[str, Callable[[], object]] = {
    "CreateChn": lambda: (
        IMP_FrameSource_CreateChn(0, _fs_attr()),
        IMP_FrameSource_SetFrameDepth(0, 1),
    ),
    "DestroyChn": lambda: IMP_FrameSource_DestroyChn(0),
    "EnableChn": lambda: IMP_FrameSource_EnableChn(0),
    "DisableChn": lambda: IMP_FrameSource_DisableChn(0),
    "GetFrame": _get_release_frame,
    "SetChnAttr": lambda: IMP_FrameSource_SetChnAttr(0, _fs_attr()),
}

MODULES: dict[str, tuple[Callable[[], None], dict[str, Callable[[], object]]]] = {
    "FrameSource": (_start_fs, FS_CALLS),
}


def _pairs() -> Iterator[tuple[str, str, str]]:
    for module, (_, calls) in MODULES.items():
        for a, b in itertools.combinations_with_replacement(sorted(calls), 2):
            yield module, a, b


PAIRS = list(_pairs())


def _fresh_pipeline_runs() -> None:
    with running_system("virtual"):
        _start_fs()
        got = 0
        for _ in range(50):  # 0.2 s GetFrame timeouts: up to 10 s for 3 frames
            p = ctypes.POINTER(IMPFrameInfo)()
            if IMP_FrameSource_GetFrame(0, p) == 0:
                assert IMP_FrameSource_ReleaseFrame(0, p) == 0
                got += 1
                if got == 3:
                    break
        assert got == 3, "a fresh pipeline in the same process delivers no frame"


def _teardown_and_check() -> None:
    from imp import kernel as kernel_mod
    from imp import runtime

    IMP_System_Exit()
    IMP_ISP_Close()
    allocator = runtime._allocator
    blocks = [] if allocator is None else allocator.live_blocks()
    kernel = kernel_mod._kernel
    deadline = time.monotonic() + 3
    while _imp_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    threads = _imp_threads()
    gc.collect()
    assert not blocks, f"DMA memory not returned after System_Exit/ISP_Close: {blocks}"
    assert allocator is None, "the rmem arena is still mapped"
    assert kernel is None, "a device is still open (the simulated kernel is still in use)"
    assert not threads, f"threads still running: {threads}"


@pytest.mark.parametrize(("module", "a", "b"), PAIRS, ids=[f"{m}-{a}-{b}" for m, a, b in PAIRS])
def test_lifecycle_pair_race(module: str, a: str, b: str) -> None:
    setup, calls = MODULES[module]
    errors = _Errors()
    logging.getLogger("imp").addHandler(errors)
    result = RaceResult()
    try:
        with running_system("virtual"):
            setup()
            stop = time.monotonic() + RACE_SECONDS
            threads = [
                threading.Thread(target=_hammer, args=(name, calls[name], stop, result))
                for name in (a, b)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(RACE_SECONDS + 10 * CALL_BOUND)
            hung = [t for t in threads if t.is_alive()]
            assert not hung, f"a racing call never returned ({a} vs {b})"
            _teardown_and_check()
    finally:
        logging.getLogger("imp").removeHandler(errors)
    print(
        f"{module} {a} x {b}: {result.calls} calls, slowest {result.slowest[1]} "
        f"{result.slowest[0]:.2f} s"
    )
    assert not result.escaped, result.escaped[:3]
    assert not errors.internal, errors.internal[:3]
    assert result.slowest[0] <= CALL_BOUND, f"{result.slowest[1]} took {result.slowest[0]:.1f} s"
    _fresh_pipeline_runs()
