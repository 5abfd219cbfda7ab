"""FrameSource through the C API, as an application calls it."""

from __future__ import annotations

import ctypes
import logging
import threading

import numpy as np
import pytest

from imp.capi import *
from kernel_stubs import read_frame_mark
from tests.conftest import running_system


def _attr(
    w: int = 1920,
    h: int = 1080,
    scaler: bool = False,
    nr_vbs: int = 2,
    chn_type: int = FS_PHY_CHANNEL,
) -> IMPFSChnAttr:
    a = IMPFSChnAttr()
    a.picWidth, a.picHeight, a.pixFmt = w, h, PIX_FMT_NV12
    a.outFrmRateNum, a.outFrmRateDen, a.nrVBs, a.type = 25, 1, nr_vbs, chn_type
    if scaler:
        a.scaler.enable, a.scaler.outwidth, a.scaler.outheight = 1, w, h
    return a


def _grab(chn: int, n: int) -> list[tuple[int, int]]:
    """n frames via GetFrame: (sensor frame mark, timestamp µs)."""
    out = []
    for _ in range(n):
        p = ctypes.POINTER(IMPFrameInfo)()
        assert IMP_FrameSource_GetFrame(chn, p) == 0
        info = p.contents
        y = np.ctypeslib.as_array(
            (ctypes.c_uint8 * (info.width * info.height)).from_address(info.virAddr)
        )
        out.append((read_frame_mark(y.reshape(info.height, info.width)), info.timeStamp))
        assert IMP_FrameSource_ReleaseFrame(chn, p) == 0
    return out


def test_virtual_clock_timestamps_are_exactly_one_period_apart() -> None:
    with running_system("virtual"):
        t_start = IMP_System_GetTimeStamp()
        assert IMP_FrameSource_CreateChn(0, _attr()) == 0
        assert IMP_FrameSource_SetFrameDepth(0, 2) == 0
        assert IMP_FrameSource_EnableChn(0) == 0
        frames = _grab(0, 60)
        assert IMP_FrameSource_DisableChn(0) == 0
        assert IMP_FrameSource_DestroyChn(0) == 0
    stamps = [ts for _, ts in frames]
    marks = [m for m, _ in frames]
    deltas = np.diff(stamps)
    print(
        f"virtual clock: first ts {stamps[0]} µs (GetTimeStamp at start {t_start}), "
        f"deltas {set(deltas.tolist())}"
    )
    assert set(deltas.tolist()) == {40000}
    assert np.all(np.diff(marks) == 1)  # no frame lost or duplicated
    assert 0 <= stamps[0] - t_start < 1_000_000  # same clock as IMP_System_GetTimeStamp


def test_realtime_frames_are_ordered_paced_and_in_the_past() -> None:
    """What load cannot change. The mean period and jitter (timing figures that a busy machine
    stretches) are printed by bench/fs_pacing.py instead."""
    with running_system("realtime"):
        assert IMP_FrameSource_CreateChn(0, _attr()) == 0
        assert IMP_FrameSource_CreateChn(1, _attr(640, 360, scaler=True)) == 0
        for c in (0, 1):
            assert IMP_FrameSource_SetFrameDepth(c, 2) == 0
            assert IMP_FrameSource_EnableChn(c) == 0
        other = threading.Thread(target=_grab, args=(1, 50))
        other.start()
        frames = _grab(0, 50)
        other.join()
        now = IMP_System_GetTimeStamp()
        for c in (0, 1):
            assert IMP_FrameSource_DisableChn(c) == 0
            assert IMP_FrameSource_DestroyChn(c) == 0
    marks = np.array([m for m, _ in frames], dtype=np.int64)
    stamps = np.array([ts for _, ts in frames], dtype=np.int64)
    assert np.all(np.diff(marks) > 0), "a frame delivered twice or out of order"
    assert np.all(np.diff(stamps) > 0), "timestamps not monotonic"
    # Paced, not free-running: a late machine only stretches the span, so half the nominal
    # time per sensor frame is a bound no load can break but a missing pacer would.
    assert stamps[-1] - stamps[0] >= (marks[-1] - marks[0]) * 40000 // 2
    assert stamps[-1] <= now  # captured in the past of the IMP clock


class _Sink:
    """A downstream group that keeps frames until told to release them."""

    num_outputs = 1

    def __init__(self, device: int, group: int) -> None:
        self.device, self.group = device, group
        self.held: list = []
        self.marks: list[int] = []
        self.lock = threading.Lock()

    def on_frame(self, frame) -> None:  # type: ignore[no-untyped-def]
        with self.lock:
            self.marks.append(read_frame_mark(frame.y))
            self.held.append(frame)

    def release_all(self) -> None:
        with self.lock:
            held, self.held = self.held, []
        for f in held:
            f.release()


def test_fan_out_delivers_every_frame_to_both_and_requeues_after_both_released() -> None:
    from imp.core.vbm import BufferState
    from imp.system import get_system

    with running_system("virtual"):
        graph = get_system().graph
        a, b = _Sink(DEV_ID_ENC, 0), _Sink(DEV_ID_IVS, 0)
        graph.register(a)
        graph.register(b)
        assert IMP_FrameSource_CreateChn(0, _attr(640, 360, scaler=True, nr_vbs=3)) == 0
        src = IMPCell(DEV_ID_FS, 0, 0)
        assert IMP_System_Bind(src, IMPCell(DEV_ID_ENC, 0, 0)) == 0
        assert IMP_System_Bind(src, IMPCell(DEV_ID_IVS, 0, 0)) == 0
        got = IMPCell()
        assert IMP_System_GetBindbyDest(IMPCell(DEV_ID_IVS, 0, 0), got) == 0
        assert (got.deviceID, got.groupID, got.outputID) == (DEV_ID_FS, 0, 0)
        assert IMP_FrameSource_EnableChn(0) == 0

        from imp.framesource import get_framesource

        pool = get_framesource().channel(0)._pool
        assert pool is not None
        # Both sinks hold every frame: the 3 buffers end up ACQUIRED and nothing is re-queued.
        _wait(lambda: len(a.held) == 3 and len(b.held) == 3)
        assert pool.counts()[BufferState.ACQUIRED] == 3
        assert pool.counts()[BufferState.DEQUEUED] == 0
        a.release_all()  # one branch lets go: still held by the other, so not re-queued
        assert pool.counts()[BufferState.ACQUIRED] == 3
        assert all(f.refcount == 1 for f in pool.frames)
        b.release_all()  # the last holder releases: back to the driver, capture resumes
        rounds = 0
        while len(a.marks) < 60:
            _wait(lambda: len(a.held) == 3 and len(b.held) == 3)
            a.release_all()
            b.release_all()
            rounds += 1
        assert IMP_FrameSource_DisableChn(0) == 0
        a.release_all()
        b.release_all()
        assert IMP_System_UnBind(src, IMPCell(DEV_ID_ENC, 0, 0)) == 0
        assert IMP_System_UnBind(src, IMPCell(DEV_ID_IVS, 0, 0)) == 0
        assert IMP_FrameSource_DestroyChn(0) == 0
        assert pool.destroyed
        graph.unregister(DEV_ID_ENC, 0)
        graph.unregister(DEV_ID_IVS, 0)
    assert a.marks == b.marks  # same frames, same order
    assert a.marks == list(range(a.marks[0], a.marks[0] + len(a.marks)))  # none lost or duplicated


def _wait(cond, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.001)


def test_quirk3_getchnattr_before_create_and_create_twice(caplog: pytest.LogCaptureFixture) -> None:
    """prudynt: GetChnAttr on a channel not created yet, and CreateChn again on restart."""
    with running_system("virtual"):
        a = IMPFSChnAttr()
        with caplog.at_level(logging.ERROR, logger="imp.capi"):
            assert IMP_FrameSource_GetChnAttr(0, a) == -1
        assert "IMP_FrameSource_GetChnAttr" in caplog.text
        a = _attr(640, 360, scaler=True)
        assert IMP_FrameSource_CreateChn(0, a) == 0
        assert IMP_FrameSource_SetChnAttr(0, a) == 0
        assert IMP_FrameSource_EnableChn(0) == 0
        # video restart: the channel is disabled but not destroyed, then "created" again
        assert IMP_FrameSource_DisableChn(0) == 0
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="imp.capi"):
            assert IMP_FrameSource_CreateChn(0, a) == -1
        assert "exists already" in caplog.text
        assert IMP_FrameSource_SetChnAttr(0, a) == 0
        fifo = IMPFSChnFifoAttr()
        assert IMP_FrameSource_GetChnFifoAttr(0, fifo) == 0
        fifo.maxdepth = 0
        assert IMP_FrameSource_SetChnFifoAttr(0, fifo) == 0
        assert IMP_FrameSource_SetFrameDepth(0, 1) == 0
        assert IMP_FrameSource_EnableChn(0) == 0  # the app goes on
        assert len(_grab(0, 3)) == 3
        got = IMPFSChnAttr()
        assert IMP_FrameSource_GetChnAttr(0, got) == 0
        assert (got.picWidth, got.picHeight, got.scaler.enable) == (640, 360, 1)


def test_system_exit_returns_every_buffer_while_frames_are_held() -> None:
    from imp import runtime

    with running_system("virtual"):
        assert IMP_FrameSource_CreateChn(0, _attr(640, 360, scaler=True)) == 0
        assert IMP_FrameSource_SetFrameDepth(0, 2) == 0
        assert IMP_FrameSource_EnableChn(0) == 0
        p = ctypes.POINTER(IMPFrameInfo)()
        assert IMP_FrameSource_GetFrame(0, p) == 0  # never released by the "app"
        alloc = runtime.allocator()
        assert alloc.stats()["blocks"] >= 3  # ISP work buffer + 2 frames
        assert IMP_System_Exit() == 0
        assert alloc.stats()["blocks"] == 1  # only the ISP work buffer (freed by DelSensor) is left
