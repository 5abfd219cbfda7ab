"""Fault matrix: the FrameSource path under every driver fault the simulator can inject.

Each test arms one fault on the simulated kernel (``kernel.faults``), drives the pipeline through
the C API as an application would, and checks that the library

- reports the fault through return codes and log lines (never an exception, never a hang: every
  IMP_* call is timed against a bound),
- loses no buffer: all ``nrVBs`` buffers can be held at once again afterwards, the kernel's
  channel queues end empty, and after DestroyChn the rmem allocator holds only the ISP work
  buffer,
- works again, either by itself once the fault is gone or after DisableChn/EnableChn.

Every test adds one row to the matrix printed at the end of the module (fault, what the
application saw, errno in the logs, recovered, buffers lost, slowest call).
"""

from __future__ import annotations

import ctypes
import errno
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from imp import runtime
from imp.capi import *
from imp.kernel import abi, current_kernel, sim_overrides
from kernel_stubs import SimKernel
from kernel_stubs.devices.channel import BufState
from tests.conftest import running_system

CALL_BOUND = 3.0  # s: no IMP_* call may block longer (GetFrame's documented timeout is 2 s)
FC0 = "/dev/framechan0"
NR_VBS = 3


@dataclass
class Row:
    fault: str
    seen: list[str] = field(default_factory=list)  # IMP_* calls that failed, and how long
    errnos: set[str] = field(default_factory=set)
    recovered: str = "-"
    lost: int = 0
    slowest: float = 0.0
    slowest_call: str = ""


ROWS: list[Row] = []


@pytest.fixture(scope="module", autouse=True)
def print_matrix(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    lines = _matrix_lines()
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print("\n".join(lines))
        return
    with capture.global_and_fixture_disabled():  # shown without -s, as the run's result
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line)


def _matrix_lines() -> list[str]:
    header = ("fault", "application saw", "errno logged", "recovered", "lost", "slowest call")
    table = [header]
    for r in ROWS:
        table.append(
            (
                r.fault,
                "; ".join(r.seen) or "nothing (frames kept coming)",
                ",".join(sorted(r.errnos)) or "-",
                r.recovered,
                str(r.lost),
                f"{r.slowest:.2f} s {r.slowest_call}",
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    out = ["FAULT MATRIX (FrameSource over the simulated T31 kernel)"]
    for i, row in enumerate(table):
        out.append(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if i == 0:
            out.append("-+-".join("-" * w for w in widths))
    return out


class _ErrnoLog(logging.Handler):
    """Collects the errno names (``(EIO)`` as DeviceError prints them) of imp's warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())

    def errnos(self) -> set[str]:
        return {m for text in self.records for m in re.findall(r"\((E[A-Z0-9]+)\)", text)}


class Probe:
    """One row of the matrix: times every IMP_* call and records what the application saw."""

    def __init__(self, fault: str) -> None:
        self.row = Row(fault)
        self.log = _ErrnoLog()

    def call(self, fn: Callable[..., Any], *args: Any, bound: float = CALL_BOUND) -> Any:
        start = time.monotonic()
        result = fn(*args)
        took = time.monotonic() - start
        name = fn.__name__.removeprefix("IMP_").removeprefix("FrameSource_")
        if took > self.row.slowest:
            self.row.slowest, self.row.slowest_call = took, name
        assert took < bound, f"{fn.__name__} blocked {took:.2f} s (bound {bound} s)"
        if result == -1:
            self.row.seen.append(f"{name} -1 ({took:.2f} s)")
        return result

    def kernel(self) -> SimKernel:
        k = current_kernel()
        assert isinstance(k, SimKernel)
        return k


@contextmanager
def probe(fault: str) -> Iterator[Probe]:
    p = Probe(fault)
    logger = logging.getLogger("imp")
    logger.addHandler(p.log)
    try:
        yield p
    finally:
        logger.removeHandler(p.log)
        p.row.errnos = p.log.errnos()
        ROWS.append(p.row)


def _attr(nr_vbs: int = NR_VBS) -> IMPFSChnAttr:
    a = IMPFSChnAttr()
    a.picWidth, a.picHeight, a.pixFmt = 640, 360, PIX_FMT_NV12
    a.outFrmRateNum, a.outFrmRateDen, a.nrVBs, a.type = 25, 1, nr_vbs, FS_PHY_CHANNEL
    a.scaler.enable, a.scaler.outwidth, a.scaler.outheight = 1, 640, 360
    return a


def _start(p: Probe, chn: int = 0) -> None:
    assert p.call(IMP_FrameSource_CreateChn, chn, _attr()) == 0
    assert p.call(IMP_FrameSource_SetFrameDepth, chn, 1) == 0
    assert p.call(IMP_FrameSource_EnableChn, chn) == 0


def _grab(p: Probe, chn: int = 0) -> int:
    """GetFrame + ReleaseFrame; the GetFrame result."""
    ptr = ctypes.POINTER(IMPFrameInfo)()
    r = p.call(IMP_FrameSource_GetFrame, chn, ptr)
    if r == 0:
        assert p.call(IMP_FrameSource_ReleaseFrame, chn, ptr) == 0
    return int(r)


def circulating(p: Probe, chn: int = 0, nr_vbs: int = NR_VBS) -> int:
    """How many distinct buffers the application can hold at once (nr_vbs unless one is lost:
    a lost buffer makes the last GetFrame time out)."""
    held: list[Any] = []
    indices: set[int] = set()
    try:
        for _ in range(nr_vbs):
            ptr = ctypes.POINTER(IMPFrameInfo)()
            if p.call(IMP_FrameSource_GetFrame, chn, ptr) != 0:
                break
            held.append(ptr)
            indices.add(int(ptr.contents.index))
    finally:
        for ptr in held:
            assert p.call(IMP_FrameSource_ReleaseFrame, chn, ptr) == 0
    return len(indices)


def _stop(p: Probe, chn: int = 0) -> None:
    """Disable + destroy, then count what was not given back (kernel records, rmem blocks)."""
    p.call(IMP_FrameSource_DisableChn, chn)
    assert p.call(IMP_FrameSource_DestroyChn, chn) == 0
    k = p.kernel()
    with k.isp.lock:
        in_kernel = sum(
            b.state is not BufState.DEQUEUED for ch in k.isp.channels for b in ch.buffers
        )
    blocks = runtime.allocator().stats()["blocks"]
    p.row.lost += in_kernel + (blocks - 1)  # 1: the ISP work buffer, freed by DelSensor
    assert in_kernel == 0, f"{in_kernel} buffer(s) still queued in the kernel"
    assert blocks == 1, f"rmem still holds {blocks} blocks: {runtime.allocator().live_blocks()}"


def _check_circulation(p: Probe) -> None:
    got = circulating(p)
    p.row.lost += NR_VBS - got
    assert got == NR_VBS, f"only {got} of {NR_VBS} buffers circulate"


def _wait_for(cond: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def _capture_thread(chn: int = 0) -> threading.Thread | None:
    return next((t for t in threading.enumerate() if t.name == f"imp-fs{chn}"), None)


# -- DQBUF ----------------------------------------------------------------------------------------


def test_dqbuf_eio_once() -> None:
    with running_system("virtual"), probe("DQBUF EIO once") as p:
        _start(p)
        assert _grab(p) == 0
        p.kernel().faults.inject(FC0, "ioctl", errno.EIO, cmd=abi.VIDIOC_DQBUF)
        for _ in range(5):
            assert _grab(p) == 0  # the retry hides it from the application
        assert any(e.kind == "errno" for e in p.kernel().faults.events)
        _check_circulation(p)
        p.row.recovered = "yes, by itself"
        _stop(p)
    assert "EIO" in p.row.errnos


def test_dqbuf_eio_repeated_backs_off_and_resumes() -> None:
    from imp.framesource import get_framesource

    with running_system("virtual"), probe("DQBUF EIO repeated (2.5 s)") as p:
        _start(p)
        assert _grab(p) == 0
        k = p.kernel()
        k.faults.inject(FC0, "ioctl", errno.EIO, cmd=abi.VIDIOC_DQBUF, times=None)
        # The fifo and the buffer DQBUF'd before the fault still hand out a frame or two; then
        # GetFrame times out as documented while the channel keeps retrying.
        for _ in range(NR_VBS + 2):
            if _grab(p) == -1:
                break
        else:
            pytest.fail("frames kept coming while every DQBUF failed")
        failed_calls = sum(1 for e in k.faults.events if e.kind == "errno")
        warnings = sum("DQBUF failed" in m for m in p.log.records)
        print(f"{failed_calls} failed DQBUF calls, {warnings} warning line(s)")
        # Exponential back-off up to 200 ms: a handful of calls per second, not a busy loop
        # (before the fix: ~20000 calls and as many log lines per second).
        assert failed_calls < 60
        assert warnings <= 2
        k.faults.clear()
        _wait_for(lambda: any("DQBUF works again" in m for m in p.log.records))
        assert get_framesource().channel(0).failure is None
        _check_circulation(p)
        p.row.recovered = "yes, by itself once cleared"
        _stop(p)
    assert "EIO" in p.row.errnos


def test_dqbuf_stall_getframe_times_out_and_disable_is_prompt() -> None:
    stall = 3.0
    with running_system("virtual"), probe(f"DQBUF stalled {stall:.0f} s") as p:
        _start(p)
        assert _grab(p) == 0
        p.kernel().faults.stall(FC0, abi.VIDIOC_DQBUF, stall)
        armed = time.monotonic()
        # What was captured before the stall drains, then no frame: GetFrame times out (2 s).
        for _ in range(NR_VBS + 2):
            start = time.monotonic()
            if _grab(p) != 0:
                assert 1.9 <= time.monotonic() - start <= 2.5
                break
        else:
            pytest.fail("frames kept coming during the stall")
        start = time.monotonic()
        assert p.call(IMP_FrameSource_DisableChn, 0) == 0
        took = time.monotonic() - start
        assert took < 0.7  # the thread stuck in the driver is left behind
        p.row.seen.append(f"DisableChn 0 ({took:.2f} s)")
        # EnableChn waits for that thread (bounded) instead of racing it for buffers.
        start = time.monotonic()
        assert p.call(IMP_FrameSource_EnableChn, 0) == 0
        p.row.seen.append(f"EnableChn 0 after {time.monotonic() - start:.2f} s (stall end)")
        assert time.monotonic() - armed >= stall - 0.1
        _check_circulation(p)
        p.row.recovered = "yes, DisableChn/EnableChn"
        _stop(p)


# -- QBUF and frame errors ------------------------------------------------------------------------


def test_qbuf_eio_once_on_requeue() -> None:
    with running_system("virtual"), probe("QBUF EIO once (re-queue)") as p:
        _start(p)
        assert _grab(p) == 0
        p.kernel().faults.inject(FC0, "ioctl", errno.EIO, cmd=abi.VIDIOC_QBUF)
        for _ in range(5):
            assert _grab(p) == 0
        assert any(e.kind == "errno" for e in p.kernel().faults.events)
        _check_circulation(p)
        p.row.recovered = "yes, retried at once"
        _stop(p)


def test_qbuf_eio_three_times_buffer_comes_back() -> None:
    with running_system("virtual"), probe("QBUF EIO x3 (buffer out)") as p:
        _start(p)
        assert _grab(p) == 0
        p.kernel().faults.inject(FC0, "ioctl", errno.EIO, cmd=abi.VIDIOC_QBUF, times=3)
        for _ in range(5):
            assert _grab(p) == 0
        _wait_for(lambda: any("back in circulation" in m for m in p.log.records))
        _check_circulation(p)
        p.row.recovered = "yes, re-queued after the next frame"
        _stop(p)
    assert "EIO" in p.row.errnos


def test_qbuf_eio_persistent_every_buffer_out_then_back() -> None:
    with running_system("virtual"), probe("QBUF EIO persistent (all buffers out)") as p:
        _start(p)
        assert _grab(p) == 0
        k = p.kernel()
        k.faults.inject(FC0, "ioctl", errno.EIO, cmd=abi.VIDIOC_QBUF, times=None)
        for _ in range(NR_VBS + 2):  # every released buffer fails to go back: frames run out
            if _grab(p) == -1:
                break
        else:
            pytest.fail("frames kept coming while no buffer could be queued")
        k.faults.clear()
        assert _grab(p) == 0  # GetFrame puts the lost buffers back before it waits
        _check_circulation(p)
        p.row.recovered = "yes, at the next GetFrame"
        _stop(p)
    assert "EIO" in p.row.errnos


def test_isp_frame_error_flag_is_skipped_and_requeued(monkeypatch: pytest.MonkeyPatch) -> None:
    from imp.framesource import get_framesource

    with running_system("virtual"), probe("ISP frame error (DONE|ERROR)") as p:
        _start(p)
        assert _grab(p) == 0
        sensor = p.kernel().sensor
        assert sensor is not None
        real = sensor.render_nv12
        failing = {"left": 4}

        def render(*args: Any, **kwargs: Any) -> None:
            if failing["left"] > 0:
                failing["left"] -= 1
                raise RuntimeError("simulated ISP write error")
            real(*args, **kwargs)

        monkeypatch.setattr(sensor, "render_nv12", render)
        for _ in range(8):
            assert _grab(p) == 0
        corrupt = get_framesource().channel(0).stats.corrupt
        p.row.seen.append(f"{corrupt} frames skipped")
        assert corrupt == 4
        _check_circulation(p)
        p.row.recovered = "yes, by itself"
        _stop(p)


# -- EnableChn faults -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cmd", "err", "name"),
    [
        (abi.VIDIOC_STREAMON, errno.EBUSY, "STREAMON EBUSY"),
        (abi.VIDIOC_REQBUFS, errno.ENOMEM, "REQBUFS ENOMEM"),
        (abi.VIDIOC_SET_FRAME_FORMAT, errno.EINVAL, "SET_FMT EINVAL"),
    ],
)
def test_enable_fails_cleanly_and_works_again(cmd: int, err: int, name: str) -> None:
    with running_system("virtual"), probe(name) as p:
        assert p.call(IMP_FrameSource_CreateChn, 0, _attr()) == 0
        assert p.call(IMP_FrameSource_SetFrameDepth, 0, 1) == 0
        k = p.kernel()
        fds = k.open_fds()
        k.faults.inject(FC0, "ioctl", err, cmd=cmd)
        assert p.call(IMP_FrameSource_EnableChn, 0) == -1
        state = ctypes.c_int()
        assert IMP_FrameSource_ChnStatQuery(0, state) == 0
        assert state.value == 1  # created, not running
        assert runtime.allocator().stats()["blocks"] == 1  # the pool went back to rmem
        assert k.open_fds() == fds  # framechan0 was closed again
        assert _capture_thread() is None
        assert p.call(IMP_FrameSource_EnableChn, 0) == 0
        _check_circulation(p)
        p.row.recovered = "yes, EnableChn again"
        _stop(p)
    assert errno.errorcode[err] in p.row.errnos


def test_framechan_open_eperm_persistent_gives_up_after_the_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import imp.drivers.framechan as framechan

    monkeypatch.setattr(framechan, "OPEN_RETRIES", 5)  # 5 x 10 ms instead of 257 x 10 ms
    with running_system("virtual"), probe("framechan open EPERM (5 tries)") as p:
        assert p.call(IMP_FrameSource_CreateChn, 0, _attr()) == 0
        k = p.kernel()
        k.faults.inject(FC0, "open", errno.EPERM, times=None)
        assert p.call(IMP_FrameSource_EnableChn, 0) == -1
        assert sum(e.op == "open" for e in k.faults.events) == 5
        assert runtime.allocator().stats()["blocks"] == 1
        k.faults.clear()
        assert p.call(IMP_FrameSource_SetFrameDepth, 0, 1) == 0
        assert p.call(IMP_FrameSource_EnableChn, 0) == 0
        _check_circulation(p)
        p.row.recovered = "yes, EnableChn again"
        _stop(p)
    assert "EPERM" in p.row.errnos


RETRIES_BOUND = 30.0  # s: ten times the retries' own sleeps


def test_framechan_open_eperm_with_the_real_257_retries_terminates() -> None:
    with running_system("virtual"), probe("framechan open EPERM (257 tries)") as p:
        assert p.call(IMP_FrameSource_CreateChn, 0, _attr()) == 0
        k = p.kernel()
        k.faults.inject(FC0, "open", errno.EPERM, times=None)
        # 256 sleeps of 10 ms between the tries, as libimp: 2.56 s at least. A loaded host
        # overshoots every sleep (3.4 s beside two busy processes), so the upper bound only
        # tells ending from hanging.
        start = time.monotonic()
        assert p.call(IMP_FrameSource_EnableChn, 0, bound=RETRIES_BOUND) == -1
        took = time.monotonic() - start
        assert 2.5 <= took < RETRIES_BOUND
        assert sum(e.op == "open" for e in k.faults.events) == 257
        k.faults.clear()
        assert p.call(IMP_FrameSource_SetFrameDepth, 0, 1) == 0
        assert p.call(IMP_FrameSource_EnableChn, 0) == 0
        _check_circulation(p)
        p.row.recovered = "yes, EnableChn again"
        _stop(p)


# -- device loss ----------------------------------------------------------------------------------


def test_framechan_unplugged_mid_stream() -> None:
    from imp.framesource import get_framesource

    with running_system("virtual"), probe("framechan unplugged mid-stream") as p:
        _start(p)
        assert _grab(p) == 0
        held = ctypes.POINTER(IMPFrameInfo)()
        assert p.call(IMP_FrameSource_GetFrame, 0, held) == 0  # the app holds one frame
        k = p.kernel()
        k.faults.unplug(FC0)
        _wait_for(lambda: _capture_thread() is None)  # the capture thread ended
        assert get_framesource().channel(0).failure is not None
        start = time.monotonic()
        assert p.call(IMP_FrameSource_GetFrame, 0, ctypes.POINTER(IMPFrameInfo)()) == -1
        assert time.monotonic() - start < 0.1  # told at once, not after the 2 s timeout
        assert p.call(IMP_FrameSource_ReleaseFrame, 0, held) == 0  # QBUF fails: logged
        assert p.call(IMP_FrameSource_DisableChn, 0) == 0  # STREAMOFF fails: logged
        assert p.call(IMP_FrameSource_EnableChn, 0) == -1  # still gone: ENODEV, no retries
        assert p.call(IMP_FrameSource_DestroyChn, 0) == 0
        assert runtime.allocator().stats()["blocks"] == 1
        k.faults.replug(FC0)
        _start(p)
        _check_circulation(p)
        p.row.recovered = "yes, after replug: CreateChn/EnableChn"
        _stop(p)
    assert "ENODEV" in p.row.errnos


def test_framechan_unplugged_while_getframe_waits() -> None:
    with running_system("virtual"), probe("framechan unplugged, GetFrame waiting") as p:
        _start(p)
        held = []
        for _ in range(NR_VBS):  # the app holds every buffer: DQBUF blocks in the driver
            ptr = ctypes.POINTER(IMPFrameInfo)()
            assert p.call(IMP_FrameSource_GetFrame, 0, ptr) == 0
            held.append(ptr)
        out: dict[str, Any] = {}

        def waiter() -> None:
            start = time.monotonic()
            out["r"] = IMP_FrameSource_GetFrame(0, ctypes.POINTER(IMPFrameInfo)())
            out["took"] = time.monotonic() - start

        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.1)
        assert t.is_alive()  # waiting for a frame
        k = p.kernel()
        k.faults.unplug(FC0)
        t.join(CALL_BOUND)
        assert not t.is_alive()
        assert out["r"] == -1 and out["took"] < 0.5  # woken by the failure, not the timeout
        p.row.seen.append(f"GetFrame (waiting) -1 ({out['took']:.2f} s)")
        for ptr in held:
            assert p.call(IMP_FrameSource_ReleaseFrame, 0, ptr) == 0  # QBUF fails: logged
        assert p.call(IMP_FrameSource_DisableChn, 0) == 0
        k.faults.replug(FC0)
        assert p.call(IMP_FrameSource_EnableChn, 0) == 0
        _check_circulation(p)
        p.row.recovered = "yes, replug + DisableChn/EnableChn"
        _stop(p)
    assert "ENODEV" in p.row.errnos


# -- start-up faults --------------------------------------------------------------------------


def test_rmem_mmap_failure_fails_isp_startup_cleanly() -> None:
    sim_overrides(clock="virtual")
    with probe("rmem mmap ENOMEM at AddSensor") as p:
        info = _sensor_info()
        assert p.call(IMP_ISP_Open) == 0
        k = p.kernel()
        k.faults.inject("/dev/rmem", "mmap", errno.ENOMEM)
        assert p.call(IMP_ISP_AddSensor, info) == -1
        assert runtime._allocator is None  # nothing half-mapped
        assert k.open_fds() == 1  # only tx-isp: /dev/rmem was closed again
        assert k.isp.sensors == []  # the sensor registration was rolled back
        assert p.call(IMP_ISP_AddSensor, info) == 0
        assert p.call(IMP_ISP_EnableSensor) == 0
        assert p.call(IMP_System_Init) == 0
        _start(p)
        _check_circulation(p)
        p.row.recovered = "yes, AddSensor again"
        _stop(p)
        assert p.call(IMP_System_Exit) == 0
        assert p.call(IMP_ISP_DisableSensor) == 0
        assert p.call(IMP_ISP_DelSensor, info) == 0
        assert p.call(IMP_ISP_Close) == 0
        assert runtime._allocator is None
    assert "ENOMEM" in p.row.errnos


def test_txisp_open_failure_then_retry() -> None:
    sim_overrides(clock="virtual")
    with probe("tx-isp open EBUSY") as p:
        k = current_kernel()
        assert isinstance(k, SimKernel)
        k.faults.inject("/dev/tx-isp", "open", errno.EBUSY)
        assert p.call(IMP_ISP_Open) == -1
        assert p.call(IMP_ISP_Open) == 0
        assert p.call(IMP_ISP_Close) == 0
        p.row.recovered = "yes, ISP_Open again"
    assert "EBUSY" in p.row.errnos


def _sensor_info() -> IMPSensorInfo:
    info = IMPSensorInfo()
    info.name = info.i2c.type = b"gc2053"
    info.cbus_type, info.i2c.addr = TX_SENSOR_CONTROL_INTERFACE_I2C, 0x37
    return info


def test_sensor_stopped_under_a_stream() -> None:
    """Not a driver fault but the same path seen from user space: frames just stop."""
    with running_system("virtual"), probe("(API) sensor disabled under a stream") as p:
        _start(p)
        assert _grab(p) == 0
        assert p.call(IMP_ISP_DisableSensor) == 0
        for _ in range(NR_VBS + 2):  # what was captured already, then a timeout, never a hang
            if _grab(p) == -1:
                break
        else:
            pytest.fail("frames kept coming with the sensor off")
        assert p.call(IMP_FrameSource_DisableChn, 0) == 0
        assert p.call(IMP_ISP_EnableSensor) == 0
        assert p.call(IMP_FrameSource_EnableChn, 0) == 0
        _check_circulation(p)
        p.row.recovered = "yes, EnableSensor + EnableChn"
        _stop(p)


def test_isp_closed_under_a_stream() -> None:
    """The last tx-isp close slakes the channels: DQBUF fails, capture stops and says why."""
    from imp.framesource import get_framesource

    with running_system("virtual"), probe("(API) ISP closed under a stream") as p:
        _start(p)
        assert _grab(p) == 0
        assert p.call(IMP_ISP_Close) == 0
        _wait_for(lambda: get_framesource().channel(0).failure is not None)
        assert p.call(IMP_FrameSource_GetFrame, 0, ctypes.POINTER(IMPFrameInfo)()) == -1
        assert p.call(IMP_FrameSource_DisableChn, 0) == 0  # STREAMOFF on a slaked node: logged
        info = _sensor_info()
        assert p.call(IMP_ISP_Open) == 0
        assert p.call(IMP_ISP_AddSensor, info) == 0
        assert p.call(IMP_ISP_EnableSensor) == 0
        assert p.call(IMP_FrameSource_EnableChn, 0) == 0
        _check_circulation(p)
        p.row.recovered = "yes, ISP_Open..EnableSensor + EnableChn"
        _stop(p)
    assert "EINVAL" in p.row.errnos


# -- no fault: teardown while the application waits or holds frames -------------------------


def _hold_all(p: Probe, chn: int = 0) -> list[Any]:
    held = []
    for _ in range(NR_VBS):
        ptr = ctypes.POINTER(IMPFrameInfo)()
        assert p.call(IMP_FrameSource_GetFrame, chn, ptr) == 0
        held.append(ptr)
    return held


def test_disable_wakes_a_waiting_getframe() -> None:
    with running_system("virtual"), probe("(none) DisableChn while GetFrame waits") as p:
        _start(p)
        held = _hold_all(p)  # no buffer left for the driver: the next GetFrame waits
        out: dict[str, Any] = {}

        def waiter() -> None:
            start = time.monotonic()
            out["r"] = IMP_FrameSource_GetFrame(0, ctypes.POINTER(IMPFrameInfo)())
            out["took"] = time.monotonic() - start

        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.1)
        assert t.is_alive()
        assert p.call(IMP_FrameSource_DisableChn, 0) == 0
        t.join(CALL_BOUND)
        assert out["r"] == -1
        assert out["took"] < 0.5  # woken by DisableChn, not by the 2 s timeout
        p.row.seen.append(f"waiting GetFrame -1 ({out['took']:.2f} s)")
        for ptr in held:  # frames of a disabled channel can still be released
            assert p.call(IMP_FrameSource_ReleaseFrame, 0, ptr) == 0
        assert p.call(IMP_FrameSource_EnableChn, 0) == 0
        _check_circulation(p)
        p.row.recovered = "yes, EnableChn"
        _stop(p)


def test_destroy_with_frames_the_app_never_released_is_prompt() -> None:
    with running_system("virtual"), probe("(none) DestroyChn, app holds frames") as p:
        _start(p)
        _hold_all(p)  # never released
        assert p.call(IMP_FrameSource_DisableChn, 0) == 0
        start = time.monotonic()
        assert p.call(IMP_FrameSource_DestroyChn, 0) == 0
        took = time.monotonic() - start
        p.row.seen.append(f"DestroyChn 0 ({took:.2f} s)")
        assert took < 0.5  # nothing can release them once the channel is gone: no 2 s wait
        assert runtime.allocator().stats()["blocks"] == 1  # their memory went back anyway
        _start(p)
        _check_circulation(p)
        p.row.recovered = "yes, CreateChn/EnableChn"
        _stop(p)
