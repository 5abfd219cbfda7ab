"""IVS through the C API (and the Pythonic layer), as applications and the samples call it."""

from __future__ import annotations

import ctypes
import itertools
import threading
import time
from typing import Any

import numpy as np
import pytest

from imp import ivs
from imp.capi import *
from imp.core.vbm import BufferState, Frame
from imp.framesource import get_framesource
from imp.ivs.frames import FrameView
from imp.system import get_system
from kernel_stubs.sensor import read_frame_mark
from tests.conftest import running_system

W, H = 640, 360


class Sink:
    """A downstream group (where an encoder would sit): records frame marks, releases at once."""

    num_outputs = 1

    def __init__(self, device: int = DEV_ID_ENC, group: int = 0) -> None:
        self.device, self.group = device, group
        self.marks: list[int] = []

    def on_frame(self, frame: Frame) -> None:
        self.marks.append(read_frame_mark(frame.y))
        frame.release()


def _fs_attr(nr_vbs: int = 2) -> IMPFSChnAttr:
    a = IMPFSChnAttr()
    a.picWidth, a.picHeight, a.pixFmt = W, H, PIX_FMT_NV12
    a.outFrmRateNum, a.outFrmRateDen, a.nrVBs, a.type = 25, 1, nr_vbs, FS_PHY_CHANNEL
    return a


def _move_param(rois: list[tuple[int, int, int, int]], sense: int = 3, skip: int = 0) -> Any:
    p = IMP_IVS_MoveParam()
    p.skipFrameCnt = skip
    p.frameInfo.width, p.frameInfo.height = W, H
    p.roiRectCnt = len(rois)
    for i, (x0, y0, x1, y1) in enumerate(rois):
        p.sense[i] = sense
        r = p.roiRect[i]
        r.p0.x, r.p0.y, r.p1.x, r.p1.y = x0, y0, x1, y1
    return p


def _cell(dev: int, grp: int, out: int = 0) -> IMPCell:
    return IMPCell(dev, grp, out)


def _wait(cond: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.002)


def _pool_all_free() -> bool:
    ch = get_framesource().channel(0)
    pool = ch._pool
    return pool is None or pool.counts()[BufferState.ACQUIRED] == 0


def test_fs_ivs_sink_passes_every_frame_and_move_results_flow() -> None:
    """FS -> IVS -> (encoder-like sink), sample order, move results by Polling/Get/Release."""
    with running_system("virtual", sensor_size=(W, H)):
        sink = Sink()
        get_system().graph.register(sink)
        assert IMP_FrameSource_CreateChn(0, _fs_attr()) == 0
        assert IMP_IVS_CreateGroup(0) == 0
        assert IMP_System_Bind(_cell(DEV_ID_FS, 0), _cell(DEV_ID_IVS, 0)) == 0
        assert IMP_System_Bind(_cell(DEV_ID_IVS, 0), _cell(DEV_ID_ENC, 0)) == 0
        assert IMP_FrameSource_EnableChn(0) == 0
        intf = IMP_IVS_CreateMoveInterface(_move_param([(0, 32, W - 1, H - 1)], 4, skip=5))
        assert intf and intf.contents.paramSize == ctypes.sizeof(IMP_IVS_MoveParam)
        assert IMP_IVS_CreateChn(2, intf) == 0
        assert IMP_IVS_RegisterChn(0, 2) == 0
        assert IMP_IVS_StartRecvPic(2) == 0
        moving = 0
        for _ in range(40):
            assert IMP_IVS_PollingResult(2, IMP_IVS_DEFAULT_TIMEOUTMS) == 0
            result = ctypes.POINTER(IMP_IVS_MoveOutput)()
            assert IMP_IVS_GetResult(2, result) == 0
            moving += result.contents.retRoi[0]
            assert IMP_IVS_ReleaseResult(2, result) == 0
        stats = ivs.get_ivs().channel(2).stats
        assert IMP_IVS_StopRecvPic(2) == 0
        assert IMP_IVS_UnRegisterChn(2) == 0
        assert IMP_IVS_DestroyChn(2) == 0
        IMP_IVS_DestroyMoveInterface(intf)
        assert IMP_FrameSource_DisableChn(0) == 0
        assert IMP_System_UnBind(_cell(DEV_ID_FS, 0), _cell(DEV_ID_IVS, 0)) == 0
        assert IMP_System_UnBind(_cell(DEV_ID_IVS, 0), _cell(DEV_ID_ENC, 0)) == 0
        assert IMP_IVS_DestroyGroup(0) == 0
        assert IMP_FrameSource_DestroyChn(0) == 0
        get_system().graph.unregister(DEV_ID_ENC, 0)
    print(f"FS->IVS->sink: {len(sink.marks)} frames passed on, IVS {stats}")
    assert stats.results >= 40 and stats.dropped == 0 and stats.errors == 0
    assert moving >= 35  # the default scene always moves
    assert len(sink.marks) >= 1 + 6 * 39  # results at channel frames 0, 6, 12, ...
    assert stats.skipped == stats.processed - stats.results
    assert sink.marks == list(range(sink.marks[0], sink.marks[0] + len(sink.marks)))


def test_quirk7_prudynt_binds_fs_output1_after_start_recv_pic() -> None:
    """Motion.cpp: FS output 0 already feeds the stream; IVS is bound to output 1 afterwards,
    with the FS channel running. Exit order: StopRecvPic, UnBind, UnRegister, DestroyChn,
    DestroyGroup, DestroyMoveInterface."""
    with running_system("virtual", sensor_size=(W, H)):
        sink = Sink()
        get_system().graph.register(sink)
        assert IMP_FrameSource_CreateChn(1, _fs_attr()) == 0
        assert IMP_System_Bind(_cell(DEV_ID_FS, 1, 0), _cell(DEV_ID_ENC, 0)) == 0
        assert IMP_FrameSource_EnableChn(1) == 0
        _wait(lambda: len(sink.marks) > 10)
        assert IMP_IVS_CreateGroup(0) == 0
        p = _move_param([(0, 0, W - 2, H - 2)], sense=1, skip=5)  # roi_1 - 1, as prudynt
        intf = IMP_IVS_CreateMoveInterface(p)
        assert IMP_IVS_CreateChn(0, intf) == 0
        assert IMP_IVS_RegisterChn(0, 0) == 0
        assert IMP_IVS_StartRecvPic(0) == 0
        assert IMP_System_Bind(_cell(DEV_ID_FS, 1, 1), _cell(DEV_ID_IVS, 0)) == 0
        motion = 0
        for _ in range(10):
            assert IMP_IVS_PollingResult(0, 1000) == 0
            r = ctypes.POINTER(IMP_IVS_MoveOutput)()
            assert IMP_IVS_GetResult(0, r) == 0
            motion += any(r.contents.retRoi[i] for i in range(IMP_IVS_MOVE_MAX_ROI_CNT))
            assert IMP_IVS_ReleaseResult(0, r) == 0
        before = len(sink.marks)
        assert IMP_IVS_StopRecvPic(0) == 0
        assert IMP_System_UnBind(_cell(DEV_ID_FS, 1, 1), _cell(DEV_ID_IVS, 0)) == 0
        assert IMP_IVS_UnRegisterChn(0) == 0
        assert IMP_IVS_DestroyChn(0) == 0
        assert IMP_IVS_DestroyGroup(0) == 0
        IMP_IVS_DestroyMoveInterface(intf)
        _wait(lambda: len(sink.marks) > before + 10)  # the stream went on all along
        assert IMP_FrameSource_DisableChn(1) == 0
        assert IMP_System_UnBind(_cell(DEV_ID_FS, 1, 0), _cell(DEV_ID_ENC, 0)) == 0
        assert IMP_FrameSource_DestroyChn(1) == 0
        get_system().graph.unregister(DEV_ID_ENC, 0)
    assert motion >= 9
    assert sink.marks == list(range(sink.marks[0], sink.marks[0] + len(sink.marks)))


# -- an algorithm written C-style: calloc'd IMPIVSInterface with CFUNCTYPE callbacks -----------
class ExResult(ctypes.Structure):
    _fields_ = [("count", ctypes.c_int), ("rects", IMPRect * 2), ("mean", ctypes.c_int)]


class ExParam(ctypes.Structure):
    _fields_ = [("threshold", ctypes.c_int)]


class ExAlgo:
    """sample-Encoder-video-IVS-exalgo style: results with 2 rects, every other frame."""

    def __init__(self) -> None:
        self.param = ExParam(42)
        self.results = (ExResult * 4)()
        self.calls: dict[str, int] = {}
        self.frames = 0
        self.released_data = 0
        self.outstanding: set[int] = set()
        self.next = 0
        cb = IMPIVSInterface._fields_
        types = {name: t for name, t, *_ in cb}
        self.iface = IMPIVSInterface()
        self._keep = []
        for name in (
            "init",
            "exit",
            "preProcessSync",
            "processAsync",
            "getResult",
            "releaseResult",
            "getParam",
            "setParam",
            "flushFrame",
        ):
            fn = types[name](getattr(self, "_" + name))
            self._keep.append(fn)
            setattr(self.iface, name, fn)
        self.iface.param = ctypes.addressof(self.param)
        self.iface.paramSize = ctypes.sizeof(self.param)
        self.iface.pixfmt = PIX_FMT_NV12
        self.ptr = ctypes.pointer(self.iface)

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    def _init(self, inf: Any) -> int:
        self._count("init")
        assert ctypes.addressof(inf.contents) == ctypes.addressof(self.iface)
        return 0

    def _exit(self, inf: Any) -> None:
        self._count("exit")

    def _preProcessSync(self, inf: Any, frame: Any) -> int:
        self._count("preProcessSync")
        return 0

    def _processAsync(self, inf: Any, frame: Any) -> int:
        info = frame.contents
        y = np.ctypeslib.as_array(
            (ctypes.c_uint8 * (info.width * info.height)).from_address(info.virAddr)
        )
        mean = int(y.mean())
        assert IMP_IVS_ReleaseData(info.virAddr) == 0  # as soon as the pixels are used
        self.released_data += 1
        self.frames += 1
        if self.frames % 2:
            return 1  # frame skipped
        res = self.results[self.next % 4]
        self.next += 1
        res.count = 2
        res.rects[0].p0.x, res.rects[0].p0.y, res.rects[0].p1.x, res.rects[0].p1.y = 1, 1, 160, 90
        res.rects[1].p0.x, res.rects[1].p0.y = 480, 270
        res.rects[1].p1.x, res.rects[1].p1.y = 639, 359
        res.mean = mean
        return 0

    def _getResult(self, inf: Any, out: Any) -> int:
        res = self.results[(self.next - 1) % 4]
        out[0] = ctypes.addressof(res)
        self.outstanding.add(ctypes.addressof(res))
        return 0

    def _releaseResult(self, inf: Any, result: int) -> int:
        if result not in self.outstanding:
            return -1
        self.outstanding.discard(result)
        return 0

    def _getParam(self, inf: Any, param: int) -> int:
        ctypes.memmove(param, ctypes.addressof(self.param), ctypes.sizeof(self.param))
        return 0

    def _setParam(self, inf: Any, param: int) -> int:
        ctypes.memmove(ctypes.addressof(self.param), param, ctypes.sizeof(self.param))
        return 0

    def _flushFrame(self, inf: Any) -> int:
        self._count("flushFrame")
        return 0


def test_ctypes_callback_algorithm_runs_through_ivs() -> None:
    algo = ExAlgo()
    with running_system("virtual", sensor_size=(W, H)):
        assert IMP_FrameSource_CreateChn(0, _fs_attr()) == 0
        assert IMP_IVS_CreateGroup(0) == 0
        assert IMP_System_Bind(_cell(DEV_ID_FS, 0), _cell(DEV_ID_IVS, 0)) == 0
        assert IMP_FrameSource_EnableChn(0) == 0
        assert IMP_IVS_CreateChn(0, algo.ptr) == 0
        assert algo.calls == {"init": 1}
        assert IMP_IVS_RegisterChn(0, 0) == 0
        assert IMP_IVS_StartRecvPic(0) == 0
        means = []
        for _ in range(20):
            assert IMP_IVS_PollingResult(0, -1) == 0
            r = ctypes.POINTER(ExResult)()
            assert IMP_IVS_GetResult(0, r) == 0
            assert r.contents.count == 2
            assert (r.contents.rects[1].p1.x, r.contents.rects[1].p1.y) == (639, 359)
            means.append(r.contents.mean)
            assert IMP_IVS_ReleaseResult(0, r) == 0
        got = ExParam()
        assert IMP_IVS_GetParam(0, got) == 0 and got.threshold == 42
        assert IMP_IVS_SetParam(0, ExParam(7)) == 0 and algo.param.threshold == 7
        assert IMP_IVS_StopRecvPic(0) == 0
        assert algo.calls["flushFrame"] == 1
        assert IMP_IVS_UnRegisterChn(0) == 0
        assert IMP_IVS_DestroyChn(0) == 0
        assert algo.calls["exit"] == 1
        assert _pool_all_free()
        assert IMP_FrameSource_DisableChn(0) == 0
        assert IMP_System_UnBind(_cell(DEV_ID_FS, 0), _cell(DEV_ID_IVS, 0)) == 0
        assert IMP_IVS_DestroyGroup(0) == 0
        assert IMP_FrameSource_DestroyChn(0) == 0
    print(f"C-style algorithm: {algo.frames} frames, {algo.released_data} ReleaseData, calls:")
    print(f"  {algo.calls}")
    assert algo.released_data == algo.frames >= 40
    assert algo.calls["preProcessSync"] == algo.frames
    assert not algo.outstanding
    assert all(30 < m < 220 for m in means)


class MeanLuma(ivs.Algorithm[int, dict]):
    """A user algorithm in Python: the mean luma of every ``params``-th frame."""

    def setup(self) -> None:
        self.seen = 0

    def analyse(self, frame: FrameView) -> dict | None:
        self.seen += 1
        if (self.seen - 1) % self.params:
            return None
        return {"seq": frame.seq, "mean": float(frame.y.mean()), "mark": read_frame_mark(frame.y)}


def test_python_algorithm_through_the_pythonic_api_and_the_c_api() -> None:
    with running_system("virtual", sensor_size=(W, H)):
        fs = get_framesource()
        assert IMP_FrameSource_CreateChn(0, _fs_attr(nr_vbs=3)) == 0
        algo_py, algo_c = MeanLuma(1), MeanLuma(2)
        with ivs.open_group(0) as grp:
            get_system().bind((DEV_ID_FS, 0, 0), grp.cell)
            # the C way: the Python object as an IMPIVSInterface
            assert IMP_IVS_CreateChn(1, algo_c.as_interface()) == 0
            assert IMP_IVS_RegisterChn(0, 1) == 0
            assert IMP_IVS_StartRecvPic(1) == 0
            with ivs.open_channel(0, algo_py, grp) as chn:
                fs.enable(0)
                py_results = [dict(r) for r in chn.results(limit=30, timeout=5.0)]
                c_results = []
                for _ in range(10):
                    assert IMP_IVS_PollingResult(1, 2000) == 0
                    p = ctypes.c_void_p()
                    assert IMP_IVS_GetResult(1, ctypes.byref(p)) == 0
                    boxed = ctypes.cast(p, ctypes.POINTER(ctypes.py_object))
                    c_results.append(boxed.contents.value)
                    assert IMP_IVS_ReleaseResult(1, p) == 0
                fs.disable(0)
                assert chn.get_param() == 1
                chn.set_param(3)
                assert algo_py.params == 3
            assert IMP_IVS_StopRecvPic(1) == 0
            assert IMP_IVS_UnRegisterChn(1) == 0
            assert IMP_IVS_DestroyChn(1) == 0
            get_system().unbind((DEV_ID_FS, 0, 0), grp.cell)
        assert IMP_FrameSource_DestroyChn(0) == 0
    marks = [r["mark"] for r in py_results]
    assert marks == list(range(marks[0], marks[0] + 30))  # every frame, in order
    c_marks = [r["mark"] for r in c_results]
    assert all(b - a == 2 for a, b in itertools.pairwise(c_marks))
    assert algo_py.results_held == algo_c.results_held == 0


class OneShot(ivs.Algorithm[None, int]):
    """Produces results for the first two frames only."""

    def setup(self) -> None:
        self.n = 0

    def analyse(self, frame: FrameView) -> int | None:
        self.n += 1
        return self.n if self.n <= 2 else None


def test_polling_timeouts_and_result_pairing(caplog: pytest.LogCaptureFixture) -> None:
    with running_system("virtual", sensor_size=(W, H)):
        algo = OneShot(None)
        assert IMP_IVS_CreateGroup(0) == 0
        assert IMP_IVS_CreateChn(0, algo.as_interface()) == 0
        assert IMP_IVS_PollingResult(0, 0) == -1  # not receiving yet
        assert IMP_IVS_RegisterChn(0, 0) == 0
        assert IMP_IVS_StartRecvPic(0) == 0
        t0 = time.monotonic()
        assert IMP_IVS_PollingResult(0, 0) == -1  # nothing bound: no result, no wait
        assert IMP_IVS_PollingResult(0, 60) == -1
        assert 0.05 <= time.monotonic() - t0 < 1.0
        p = ctypes.c_void_p()
        assert IMP_IVS_GetResult(0, p) == -1  # no result at all yet
        # -1 (the default) waits until StopRecvPic from another thread ends it.
        ret: list[int] = []
        waiter = threading.Thread(target=lambda: ret.append(IMP_IVS_PollingResult(0, -1)))
        waiter.start()
        time.sleep(0.1)
        assert waiter.is_alive()
        assert IMP_IVS_StopRecvPic(0) == 0
        waiter.join(2)
        assert ret == [-1]
        # now with frames
        assert IMP_FrameSource_CreateChn(0, _fs_attr()) == 0
        assert IMP_System_Bind(_cell(DEV_ID_FS, 0), _cell(DEV_ID_IVS, 0)) == 0
        assert IMP_IVS_StartRecvPic(0) == 0
        assert IMP_FrameSource_EnableChn(0) == 0
        values = []
        for _ in range(2):
            assert IMP_IVS_PollingResult(0, 2000) == 0
            p = ctypes.c_void_p()
            assert IMP_IVS_GetResult(0, p) == 0
            values.append(ctypes.cast(p, ctypes.POINTER(ctypes.py_object)).contents.value)
            assert IMP_IVS_ReleaseResult(0, p) == 0
        assert values == [1, 2]
        assert IMP_IVS_PollingResult(0, 100) == -1  # no fresh result any more
        stale = ctypes.c_void_p()
        assert IMP_IVS_GetResult(0, stale) == 0  # without a poll: the last result again
        assert ctypes.cast(stale, ctypes.POINTER(ctypes.py_object)).contents.value == 2
        assert IMP_IVS_ReleaseResult(0, stale) == 0
        with caplog.at_level("ERROR", logger="imp.capi"):
            assert IMP_IVS_ReleaseResult(0, stale) == -1  # twice
        assert "IMP_IVS_ReleaseResult" in caplog.text
        assert IMP_IVS_StopRecvPic(0) == 0
        assert IMP_FrameSource_DisableChn(0) == 0
        assert IMP_System_UnBind(_cell(DEV_ID_FS, 0), _cell(DEV_ID_IVS, 0)) == 0
        assert IMP_IVS_UnRegisterChn(0) == 0
        assert IMP_IVS_DestroyChn(0) == 0
        assert IMP_IVS_DestroyGroup(0) == 0


class Slow(ivs.Algorithm[float, int]):
    def analyse(self, frame: FrameView) -> int:
        time.sleep(self.params)
        return frame.seq


def test_a_slow_algorithm_drops_frames_but_never_holds_up_the_stream() -> None:
    with running_system("virtual", sensor_size=(W, H)):
        sink = Sink()
        get_system().graph.register(sink)
        fs = get_framesource()
        assert IMP_FrameSource_CreateChn(0, _fs_attr(nr_vbs=6)) == 0
        with ivs.open_group(0) as grp:
            get_system().bind((DEV_ID_FS, 0, 0), grp.cell)
            get_system().bind((DEV_ID_IVS, 0, 0), (DEV_ID_ENC, 0, 0))
            with ivs.open_channel(0, Slow(0.02), grp, queue_depth=1) as chn:
                fs.enable(0)
                _wait(lambda: len(sink.marks) >= 200, timeout=20)
                fs.disable(0)
                stats = chn.stats
            get_system().unbind((DEV_ID_FS, 0, 0), grp.cell)
            get_system().unbind((DEV_ID_IVS, 0, 0), (DEV_ID_ENC, 0, 0))
        fs.destroy(0)
        get_system().graph.unregister(DEV_ID_ENC, 0)
    print(f"slow algorithm: sink got {len(sink.marks)} frames, IVS {stats}")
    assert sink.marks == list(range(sink.marks[0], sink.marks[0] + len(sink.marks)))
    assert stats.dropped > 0 and stats.processed + stats.dropped <= stats.received
    assert stats.processed < len(sink.marks) / 2


def test_set_param_at_run_time_moves_the_region() -> None:
    """An object circles forever in the left half; a region on the right edge below the frame
    mark stays quiet whatever frame numbers the run reaches. GetParam reads back SetParam."""
    from kernel_stubs.sensor import MovingObject, Orbit, Scene, register_scene, unregister_scene

    orbit = MovingObject(Orbit((160, 200), (80, 80), (60, 60), 40), (200, 90, 160))
    register_scene("left_orbit", Scene(objects=(orbit,)))
    try:
        _set_param_moves_the_region()
    finally:
        unregister_scene("left_orbit")


def _set_param_moves_the_region() -> None:
    with running_system("virtual", sensor_size=(W, H), sensor="synthetic:left_orbit"):
        assert IMP_FrameSource_CreateChn(0, _fs_attr()) == 0
        assert IMP_IVS_CreateGroup(0) == 0
        assert IMP_System_Bind(_cell(DEV_ID_FS, 0), _cell(DEV_ID_IVS, 0)) == 0
        everything = _move_param([(0, 32, W - 1, H - 1)], sense=3)
        intf = IMP_IVS_CreateMoveInterface(everything)
        assert IMP_IVS_CreateChn(0, intf) == 0
        assert IMP_IVS_RegisterChn(0, 0) == 0
        assert IMP_IVS_StartRecvPic(0) == 0
        assert IMP_FrameSource_EnableChn(0) == 0

        def flags(n: int) -> list[int]:
            out = []
            for _ in range(n):
                assert IMP_IVS_PollingResult(0, 2000) == 0
                r = ctypes.POINTER(IMP_IVS_MoveOutput)()
                assert IMP_IVS_GetResult(0, r) == 0
                out.append(r.contents.retRoi[0])
                assert IMP_IVS_ReleaseResult(0, r) == 0
            return out

        assert sum(flags(20)[2:]) >= 17
        # a sliver on the right edge, far from the orbit
        quiet = _move_param([(W - 24, 40, W - 1, 80)], sense=3)
        assert IMP_IVS_SetParam(0, quiet) == 0
        after = flags(20)
        readback = IMP_IVS_MoveParam()
        assert IMP_IVS_GetParam(0, readback) == 0
        assert bytes(readback) == bytes(quiet)
        assert IMP_IVS_SetParam(0, IMPVersion()) == -1  # not its parameter struct
        assert IMP_IVS_StopRecvPic(0) == 0
        assert IMP_IVS_UnRegisterChn(0) == 0
        assert IMP_IVS_DestroyChn(0) == 0
        IMP_IVS_DestroyMoveInterface(intf)
        assert IMP_FrameSource_DisableChn(0) == 0
        assert IMP_System_UnBind(_cell(DEV_ID_FS, 0), _cell(DEV_ID_IVS, 0)) == 0
        assert IMP_IVS_DestroyGroup(0) == 0
    # results already computed (or frames already queued) before SetParam may still say 1
    assert sum(after[5:]) == 0, after


def test_base_move_through_the_c_api() -> None:
    with running_system("virtual", sensor_size=(W, H)):
        assert IMP_FrameSource_CreateChn(0, _fs_attr()) == 0
        assert IMP_IVS_CreateGroup(0) == 0
        assert IMP_System_Bind(_cell(DEV_ID_FS, 0), _cell(DEV_ID_IVS, 0)) == 0
        p = IMP_IVS_BaseMoveParam()
        p.skipFrameCnt, p.referenceNum, p.sadMode, p.sense = 3, 4, 0, 3
        p.frameInfo.width, p.frameInfo.height = W, H
        intf = IMP_IVS_CreateBaseMoveInterface(p)
        assert intf
        assert IMP_IVS_CreateChn(0, intf) == 0
        assert IMP_IVS_RegisterChn(0, 0) == 0
        assert IMP_IVS_StartRecvPic(0) == 0
        assert IMP_FrameSource_EnableChn(0) == 0
        maxima = []
        for _ in range(12):
            assert IMP_IVS_PollingResult(0, -1) == 0
            r = ctypes.POINTER(IMP_IVS_BaseMoveOutput)()
            assert IMP_IVS_GetResult(0, r) == 0
            out = r.contents
            assert out.datalen == (W // 8) * (H // 8) == 3600
            data = bytes(ctypes.string_at(out.data, out.datalen))
            maxima.append(max(data[2 * (W // 8) :]))  # below the frame mark
            assert IMP_IVS_ReleaseResult(0, r) == 0
        got = IMP_IVS_BaseMoveParam()
        assert IMP_IVS_GetParam(0, got) == 0 and bytes(got) == bytes(p)
        assert IMP_IVS_StopRecvPic(0) == 0
        assert IMP_IVS_UnRegisterChn(0) == 0
        IMP_IVS_DestroyBaseMoveInterface(intf)  # refused: still in use (logged)
        assert IMP_IVS_DestroyChn(0) == 0
        IMP_IVS_DestroyBaseMoveInterface(intf)
        assert IMP_FrameSource_DisableChn(0) == 0
        assert IMP_System_UnBind(_cell(DEV_ID_FS, 0), _cell(DEV_ID_IVS, 0)) == 0
        assert IMP_IVS_DestroyGroup(0) == 0
    assert maxima[0] == 0 and all(m > 20 for m in maxima[5:]), maxima  # reference after 4


def test_system_exit_with_ivs_running_frees_everything() -> None:
    from imp import runtime

    with running_system("virtual", sensor_size=(W, H)):
        assert IMP_FrameSource_CreateChn(0, _fs_attr()) == 0
        assert IMP_IVS_CreateGroup(0) == 0
        assert IMP_System_Bind(_cell(DEV_ID_FS, 0), _cell(DEV_ID_IVS, 0)) == 0
        intf = IMP_IVS_CreateMoveInterface(_move_param([(0, 0, W - 1, H - 1)]))
        assert IMP_IVS_CreateChn(0, intf) == 0
        assert IMP_IVS_RegisterChn(0, 0) == 0
        assert IMP_IVS_StartRecvPic(0) == 0
        assert IMP_FrameSource_EnableChn(0) == 0
        assert IMP_IVS_PollingResult(0, 2000) == 0
        r = ctypes.POINTER(IMP_IVS_MoveOutput)()
        assert IMP_IVS_GetResult(0, r) == 0  # held by the "app" across System_Exit
        alloc = runtime.allocator()
        assert IMP_System_Exit() == 0
        assert alloc.stats()["blocks"] == 1  # only the ISP work buffer is left
        assert not ivs.get_ivs().channels and not ivs.get_ivs().groups
        IMP_IVS_DestroyMoveInterface(intf)  # the interface outlives the module state


def test_bad_use_of_ivs_objects_fails_cleanly(caplog: pytest.LogCaptureFixture) -> None:
    def fails(call: Any, *args: Any, expect: Any = -1) -> None:
        caplog.clear()
        with caplog.at_level("ERROR", logger="imp.capi"):
            assert call(*args) == expect
        assert call.__name__ in caplog.text, call.__name__

    with running_system("virtual", sensor_size=(W, H)):
        good = _move_param([(0, 0, W - 1, H - 1)])
        intf = IMP_IVS_CreateMoveInterface(good)
        for bad in (
            _move_param([(0, 0, W - 1, H - 1)], sense=5),
            _move_param([(10, 10, 5, 5)]),
            _move_param([(0, 0, 9, 9)] * 52, skip=-2),
        ):
            fails(IMP_IVS_CreateMoveInterface, bad, expect=None)
        over = _move_param([])
        over.roiRectCnt = 53
        fails(IMP_IVS_CreateMoveInterface, over, expect=None)
        fails(IMP_IVS_CreateBaseMoveInterface, IMP_IVS_BaseMoveParam(), expect=None)  # 0x0
        fails(IMP_IVS_CreateMoveInterface, IMP_IVS_BaseMoveParam(), expect=None)
        fails(IMP_IVS_CreateChn, 0, IMPIVSInterface())  # processAsync NULL
        fails(IMP_IVS_CreateChn, 99, intf)
        fails(IMP_IVS_RegisterChn, 0, 0)  # neither exists
        assert IMP_IVS_CreateChn(0, intf) == 0
        fails(IMP_IVS_CreateChn, 0, intf)  # twice
        fails(IMP_IVS_CreateChn, 1, intf)  # one algorithm instance, one channel
        fails(IMP_IVS_StartRecvPic, 0)  # not registered
        assert IMP_IVS_CreateGroup(0) == 0
        fails(IMP_IVS_CreateGroup, 0)
        assert IMP_IVS_RegisterChn(0, 0) == 0
        fails(IMP_IVS_RegisterChn, 0, 0)
        assert IMP_IVS_StartRecvPic(0) == 0
        fails(IMP_IVS_DestroyChn, 0)  # receiving
        fails(IMP_IVS_UnRegisterChn, 0)  # receiving
        fails(IMP_IVS_DestroyGroup, 0)  # channel registered
        fails(IMP_IVS_ReleaseData, 0x1234)  # no frame locked there
        fails(IMP_IVS_ReleaseResult, 0, IMP_IVS_MoveOutput())  # never obtained
        fails(IMP_IVS_GetResult, 0, IMPVersion())  # not a pointer
        fails(IMP_IVS_GetParam, 0, IMP_IVS_BaseMoveParam())  # wrong struct
        fails(IMP_IVS_PollingResult, 0, -7)
        fails(IMP_IVS_DestroyBaseMoveInterface, intf, expect=None)  # a move interface
        fails(IMP_IVS_DestroyMoveInterface, intf, expect=None)  # in use
        assert IMP_IVS_StopRecvPic(0) == 0
        assert IMP_IVS_UnRegisterChn(0) == 0
        fails(IMP_IVS_UnRegisterChn, 0)
        assert IMP_IVS_DestroyChn(0) == 0
        fails(IMP_IVS_DestroyChn, 0)
        IMP_IVS_DestroyMoveInterface(intf)
        fails(IMP_IVS_DestroyMoveInterface, intf, expect=None)  # twice
        assert IMP_IVS_DestroyGroup(0) == 0
