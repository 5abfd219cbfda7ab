"""Port of sample-Encoder-video-IVS-exalgo: a user IVS algorithm's rects, drawn by the OSD.

A user-defined IVS algorithm finds rects in the 640x360 stream; the OSD draws them as red
rectangles on the 1080p stream.

Topology (usage.md §2.8): FS0 -> OSD group 0 -> ENC0 (1920x1080) and FS3 -> IVS group 0 -> ENC3
(640x360). The algorithm is an application-built, C-style ``IMPIVSInterface``: a zeroed struct
from ``calloc`` whose nine members are CFUNCTYPE callbacks into this module, with ``param``,
``paramSize`` and ``pixfmt = NV12`` filled in; ``processAsync`` gives each frame back with
``IMP_IVS_ReleaseData(frame->virAddr)`` once it is done with the pixels, as the SDK requires.
Like the vendor's fake algorithm it "detects" the same two rects on every frame,
(1,1)-(160,90) and (480,270)-(639,359) in 640x360 coordinates.

Five OSD RECT regions (green, linewidth 5, hidden, layer i, scale 1920/640 = 3 and
1080/360 = 3) are created before ``IMP_OSD_Start``; a thread reads 200 results and, for each,
turns the first regions red on the result's rects and shows them, hiding the others. Meanwhile
``get_video_stream`` writes ``stream-0.h265`` and ``stream-3.h265`` (200 frames each) into
``--out``.

Difference from the C sample: it sleeps 1 s between ``IMP_IVS_StopRecvPic`` and
``IMP_IVS_UnRegisterChn``; here the pause is shortened to ``--settle`` seconds (default 0.1),
since the simulated StopRecvPic returns only after the channel's worker has finished.

The algorithm's callback counts (and its ``IMP_IVS_ReleaseData`` calls) are kept in
:data:`counters` and returned by :func:`run`.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from imp.capi import (
    DEV_ID_IVS,
    DEV_ID_OSD,
    IMP_IVS_DEFAULT_TIMEOUTMS,
    OSD_GREEN,
    OSD_RED,
    OSD_REG_RECT,
    PIX_FMT_MONOWHITE,
    PIX_FMT_NV12,
    IMP_IVS_CreateChn,
    IMP_IVS_CreateGroup,
    IMP_IVS_DestroyChn,
    IMP_IVS_DestroyGroup,
    IMP_IVS_GetResult,
    IMP_IVS_PollingResult,
    IMP_IVS_RegisterChn,
    IMP_IVS_ReleaseData,
    IMP_IVS_ReleaseResult,
    IMP_IVS_StartRecvPic,
    IMP_IVS_StopRecvPic,
    IMP_IVS_UnRegisterChn,
    IMP_OSD_CreateGroup,
    IMP_OSD_CreateRgn,
    IMP_OSD_DestroyGroup,
    IMP_OSD_DestroyRgn,
    IMP_OSD_GetGrpRgnAttr,
    IMP_OSD_GetRgnAttr,
    IMP_OSD_RegisterRgn,
    IMP_OSD_SetGrpRgnAttr,
    IMP_OSD_SetRgnAttr,
    IMP_OSD_ShowRgn,
    IMP_OSD_Start,
    IMP_OSD_Stop,
    IMP_OSD_UnRegisterRgn,
    IMP_System_Bind,
    IMP_System_UnBind,
    IMPCell,
    IMPFrameInfo,
    IMPIVSInterface,
    IMPOSDGrpRgnAttr,
    IMPOSDRgnAttr,
    IMPRect,
)
from imp.samples import common
from imp.samples import encoder_common as enc
from imp.samples.common import ChnConf, SampleError, check

IVS_GROUP = 0
IVS_CHN = 0
IVS_FS_CHN = 3  # the 640x360 extension channel feeds IVS
OSD_GROUP = 0
OSD_FS_CHN = 0  # the 1080p channel carries the OSD
NR_REGIONS = 5  # OSD rect regions, hence at most 5 rects drawn per result
MAX_RECTS = NR_REGIONS
NR_RESULTS = 200
RECT_LINEWIDTH = 5
ALGO_WIDTH, ALGO_HEIGHT = 640, 360  # the picture the algorithm sees (FS channel 3)
SCALE_X = common.SENSOR_WIDTH / ALGO_WIDTH  # 3.0: results are drawn on the 1080p stream
SCALE_Y = common.SENSOR_HEIGHT / ALGO_HEIGHT  # 3.0
STOP_SETTLE_S = 0.1  # the C sample sleeps 1 s (see the module docstring)
RESULT_SLOTS = 4  # results the algorithm can hold at once (one is read at a time here)

counters: Counter[str] = Counter()
"""Calls of the algorithm's callbacks by name, plus ``ReleaseData`` (IMP_IVS_ReleaseData calls
made by processAsync) and ``rects`` (rects produced). Reset by :func:`run`."""
_counters_lock = threading.Lock()


def _count(name: str, n: int = 1) -> None:
    with _counters_lock:
        counters[name] += n


# -- the algorithm's C types -----------------------------------------------------------------
class ExAlgoParam(ctypes.Structure):
    """The algorithm's ``inf->param``: the size of the frames it analyses."""

    _fields_ = [("frameInfo", IMPFrameInfo)]


class ExAlgoOutput(ctypes.Structure):
    """What ``getResult`` points the caller at: ``rectcnt`` rects in frame coordinates."""

    _fields_ = [("rectcnt", ctypes.c_int), ("rect", IMPRect * MAX_RECTS)]


def _set_rect(rect: IMPRect, x0: int, y0: int, x1: int, y1: int) -> None:
    rect.p0.x, rect.p0.y, rect.p1.x, rect.p1.y = x0, y0, x1, y1


def fake_rects(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The fake algorithm's answer for every frame: the top-left quarter-size box (inset by
    one pixel) and the bottom-right one; (1,1)-(160,90) and (480,270)-(639,359) for 640x360."""
    return [
        (1, 1, width // 4, height // 4),
        (width * 3 // 4, height * 3 // 4, width - 1, height - 1),
    ]


# -- libc calloc/free: the C sample calloc()s its interface and free()s it at the end ----------
_libc = ctypes.CDLL(None)
_libc.calloc.restype = ctypes.c_void_p
_libc.calloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
_libc.free.restype = None
_libc.free.argtypes = [ctypes.c_void_p]


class ExAlgo:
    """The algorithm's state (the C sample keeps it in statics) and its ``IMPIVSInterface``.

    ``interface`` is a ``POINTER(IMPIVSInterface)`` into calloc'd memory; :meth:`free` gives
    the memory back (after ``IMP_IVS_DestroyChn``).
    """

    def __init__(self, width: int = ALGO_WIDTH, height: int = ALGO_HEIGHT) -> None:
        self.param = ExAlgoParam()
        self.param.frameInfo.width, self.param.frameInfo.height = width, height
        self.param.frameInfo.pixfmt = PIX_FMT_NV12
        self._results = (ExAlgoOutput * RESULT_SLOTS)()
        self._lock = threading.Lock()
        self._latest: int | None = None  # slot of the newest result
        self._held: Counter[int] = Counter()  # slot -> results handed out, not released
        self._next = 0
        self._callbacks: list[Any] = []  # the CFUNCTYPE objects must outlive the struct
        addr = _libc.calloc(1, ctypes.sizeof(IMPIVSInterface))
        if not addr:
            raise SampleError("calloc(IMPIVSInterface) failed")
        self.interface: Any = ctypes.cast(addr, ctypes.POINTER(IMPIVSInterface))
        intf = self.interface.contents
        intf.param = ctypes.addressof(self.param)
        intf.paramSize = ctypes.sizeof(self.param)
        intf.pixfmt = PIX_FMT_NV12
        types = {f[0]: f[1] for f in IMPIVSInterface._fields_}
        members: dict[str, Callable[..., Any]] = {
            "init": self._init,
            "exit": self._exit,
            "preProcessSync": self._pre_process_sync,
            "processAsync": self._process_async,
            "getResult": self._get_result,
            "releaseResult": self._release_result,
            "getParam": self._get_param,
            "setParam": self._set_param,
            "flushFrame": self._flush_frame,
        }
        for name, body in members.items():
            cb = types[name](self._guarded(name, body))
            self._callbacks.append(cb)
            setattr(intf, name, cb)

    def free(self) -> None:
        """``free(intf)``."""
        if self.interface:
            _libc.free(ctypes.addressof(self.interface.contents))
            self.interface = None

    @staticmethod
    def _guarded(name: str, body: Callable[..., Any]) -> Callable[..., Any]:
        """Count the call; an exception becomes -1 (it must not unwind through C)."""

        def call(*args: Any) -> Any:
            _count(name)
            try:
                return body(*args)
            except Exception:
                common.log.exception("exalgo %s failed", name)
                return None if name == "exit" else -1

        return call

    def _slot_address(self, slot: int) -> int:
        return ctypes.addressof(self._results[slot])

    # -- the nine members --------------------------------------------------------------------
    def _init(self, _inf: Any) -> int:
        with self._lock:
            self._latest, self._next = None, 0
            self._held.clear()
        return 0

    def _exit(self, _inf: Any) -> None:
        with self._lock:
            self._latest = None

    def _pre_process_sync(self, _inf: Any, _frame: Any) -> int:
        return 0

    def _process_async(self, _inf: Any, frame: Any) -> int:
        info: IMPFrameInfo = frame.contents
        width, height = int(info.width), int(info.height)
        rects = fake_rects(width, height)  # the "analysis": only the frame's geometry counts
        ret = IMP_IVS_ReleaseData(info.virAddr)  # done with the pixels: give the frame back
        if ret == 0:
            _count("ReleaseData")
        with self._lock:
            slot = self._free_slot()
            out = self._results[slot]
            out.rectcnt = min(len(rects), MAX_RECTS)
            for rect, box in zip(out.rect, rects, strict=False):
                _set_rect(rect, *box)
            self._latest = slot
        _count("rects", len(rects))
        return 0 if ret == 0 else -1

    def _free_slot(self) -> int:
        for i in range(RESULT_SLOTS):
            slot = (self._next + i) % RESULT_SLOTS
            if not self._held[slot]:
                self._next = slot + 1
                return slot
        raise SampleError("every result slot is held by the application")

    def _get_result(self, _inf: Any, result: Any) -> int:
        with self._lock:
            if self._latest is None:
                return -1
            self._held[self._latest] += 1
            result[0] = self._slot_address(self._latest)
        return 0

    def _release_result(self, _inf: Any, result: int | None) -> int:
        with self._lock:
            for slot in range(RESULT_SLOTS):
                if self._slot_address(slot) == result and self._held[slot]:
                    self._held[slot] -= 1
                    return 0
        return -1

    def _get_param(self, _inf: Any, param: int | None) -> int:
        if not param:
            return -1
        ctypes.memmove(param, ctypes.addressof(self.param), ctypes.sizeof(self.param))
        return 0

    def _set_param(self, _inf: Any, param: int | None) -> int:
        if not param:
            return -1
        ctypes.memmove(ctypes.addressof(self.param), param, ctypes.sizeof(self.param))
        return 0

    def _flush_frame(self, _inf: Any) -> int:
        return 0  # processAsync keeps no frame


# -- OSD -----------------------------------------------------------------------------------------
def osd_init(grp: int) -> list[int]:
    """Five hidden green RECT regions, scaled 640x360 -> 1080p; then ``IMP_OSD_Start``."""
    handles = []
    for i in range(NR_REGIONS):
        h = IMP_OSD_CreateRgn(None)
        if h < 0:
            raise SampleError("IMP_OSD_CreateRgn failed")
        handles.append(h)
        check(IMP_OSD_RegisterRgn(h, grp, None), f"IMP_OSD_RegisterRgn({h})")
        attr = IMPOSDRgnAttr()
        attr.type = OSD_REG_RECT
        _set_rect(attr.rect, 0, 0, 0, 0)
        attr.fmt = PIX_FMT_MONOWHITE
        attr.data.lineRectData.color = OSD_GREEN
        attr.data.lineRectData.linewidth = RECT_LINEWIDTH
        check(IMP_OSD_SetRgnAttr(h, attr), f"IMP_OSD_SetRgnAttr({h})")
        gattr = IMPOSDGrpRgnAttr()
        check(IMP_OSD_GetGrpRgnAttr(h, grp, gattr), f"IMP_OSD_GetGrpRgnAttr({h})")
        gattr.show = 0
        gattr.layer = i
        gattr.scalex, gattr.scaley = SCALE_X, SCALE_Y
        check(IMP_OSD_SetGrpRgnAttr(h, grp, gattr), f"IMP_OSD_SetGrpRgnAttr({h})")
    check(IMP_OSD_Start(grp), f"IMP_OSD_Start({grp})")
    return handles


def osd_exit(handles: list[int], grp: int) -> None:
    """``IMP_OSD_Stop``, then UnRegisterRgn + DestroyRgn, the last region first."""
    check(IMP_OSD_Stop(grp), f"IMP_OSD_Stop({grp})")
    for h in reversed(handles):
        check(IMP_OSD_UnRegisterRgn(h, grp), f"IMP_OSD_UnRegisterRgn({h})")
        IMP_OSD_DestroyRgn(h)


def show_results(chn: int, grp: int, handles: list[int], count: int) -> int:
    """The sample's OSD thread: ``count`` x (PollingResult(-1), GetResult, a red rect region
    per result rect, the other regions hidden, ReleaseResult). Returns the rects drawn."""
    drawn = 0
    for _ in common.until_stopped(count):
        check(IMP_IVS_PollingResult(chn, IMP_IVS_DEFAULT_TIMEOUTMS), "IMP_IVS_PollingResult")
        result = ctypes.POINTER(ExAlgoOutput)()
        check(IMP_IVS_GetResult(chn, result), "IMP_IVS_GetResult")
        out = result.contents
        n = max(0, min(out.rectcnt, len(handles)))
        for j in range(n):
            h = handles[j]
            attr = IMPOSDRgnAttr()
            check(IMP_OSD_GetRgnAttr(h, attr), f"IMP_OSD_GetRgnAttr({h})")
            attr.type = OSD_REG_RECT
            r = out.rect[j]
            _set_rect(attr.rect, r.p0.x, r.p0.y, r.p1.x, r.p1.y)
            attr.data.lineRectData.color = OSD_RED
            check(IMP_OSD_SetRgnAttr(h, attr), f"IMP_OSD_SetRgnAttr({h})")
            check(IMP_OSD_ShowRgn(h, grp, 1), f"IMP_OSD_ShowRgn({h}, 1)")
        for h in handles[n:]:
            check(IMP_OSD_ShowRgn(h, grp, 0), f"IMP_OSD_ShowRgn({h}, 0)")
        drawn += n
        check(IMP_IVS_ReleaseResult(chn, result), "IMP_IVS_ReleaseResult")
    return drawn


# -- binds -----------------------------------------------------------------------------------
def cells(chns: list[ChnConf]) -> list[tuple[IMPCell, IMPCell, str]]:
    """The four binds, in the sample's order: FS0 -> OSD0 -> ENC0, FS3 -> IVS0 -> ENC3."""
    osd = IMPCell(DEV_ID_OSD, OSD_GROUP, 0)
    ivs = IMPCell(DEV_ID_IVS, IVS_GROUP, 0)
    c0, c3 = chns[OSD_FS_CHN], chns[IVS_FS_CHN]
    return [
        (c0.fs_cell, osd, "FS0, OSD0"),
        (osd, c0.enc_cell, "OSD0, ENC0"),
        (c3.fs_cell, ivs, "FS3, IVS0"),
        (ivs, c3.enc_cell, "IVS0, ENC3"),
    ]


def bind(chns: list[ChnConf]) -> None:
    for src, dst, what in cells(chns):
        check(IMP_System_Bind(src, dst), f"IMP_System_Bind({what})")


def unbind(chns: list[ChnConf]) -> None:
    """UnBind FS3 -> IVS, IVS -> ENC3, FS0 -> OSD, OSD -> ENC0 (the C sample's order)."""
    binds = cells(chns)
    for src, dst, what in binds[2:] + binds[:2]:
        check(IMP_System_UnBind(src, dst), f"IMP_System_UnBind({what})")


# -- the sample ----------------------------------------------------------------------------------
@dataclass
class ExalgoRun:
    """What :func:`run` reports: the files written, the rects the OSD thread drew and the
    algorithm's callback counts (a copy of :data:`counters`)."""

    files: list[str]
    rects_drawn: int
    calls: dict[str, int] = field(default_factory=dict)


def run(
    out_dir: str = ".",
    frames: int = common.NR_FRAMES_TO_SAVE,
    results: int = NR_RESULTS,
    settle: float = STOP_SETTLE_S,
) -> ExalgoRun:
    """Run the sample (usage.md §2.8 steps 1-6)."""
    os.makedirs(out_dir, exist_ok=True)
    chns = common.default_channels()  # channels 0 (1080p) and 3 (640x360 ext) enabled
    with _counters_lock:
        counters.clear()
    drawn: list[int] = []

    def body() -> list[str]:
        # 1. channels, encoder groups and channels, the IVS and OSD groups
        common.framesource_init(chns)
        enc.create_groups(chns)
        enc.encoder_init(chns)
        check(IMP_IVS_CreateGroup(IVS_GROUP), f"IMP_IVS_CreateGroup({IVS_GROUP})")
        check(IMP_OSD_CreateGroup(OSD_GROUP), f"IMP_OSD_CreateGroup({OSD_GROUP})")
        # 2. FS0 -> OSD0 -> ENC0, FS3 -> IVS0 -> ENC3
        bind(chns)
        common.framesource_streamon(chns)
        # 3. the user-defined algorithm in IVS channel 0
        algo = ExAlgo()
        check(IMP_IVS_CreateChn(IVS_CHN, algo.interface), f"IMP_IVS_CreateChn({IVS_CHN})")
        check(IMP_IVS_RegisterChn(IVS_GROUP, IVS_CHN), "IMP_IVS_RegisterChn")
        check(IMP_IVS_StartRecvPic(IVS_CHN), f"IMP_IVS_StartRecvPic({IVS_CHN})")
        # 4. the OSD regions
        handles = osd_init(OSD_GROUP)
        # 5. the OSD thread, and the streams meanwhile
        thread = common.Threads()
        thread.start(
            "sample_ivs_osd",
            lambda: drawn.append(show_results(IVS_CHN, OSD_GROUP, handles, results)),
        )
        try:
            files = enc.get_streams(chns, out_dir, frames, by_fd=False)
        finally:
            thread.join()
            # 6. teardown
            osd_exit(handles, OSD_GROUP)
            check(IMP_IVS_StopRecvPic(IVS_CHN), f"IMP_IVS_StopRecvPic({IVS_CHN})")
            common.pause(settle)
            check(IMP_IVS_UnRegisterChn(IVS_CHN), f"IMP_IVS_UnRegisterChn({IVS_CHN})")
            check(IMP_IVS_DestroyChn(IVS_CHN), f"IMP_IVS_DestroyChn({IVS_CHN})")
            algo.free()
            common.framesource_streamoff(chns)
        thread.check()
        unbind(chns)
        check(IMP_IVS_DestroyGroup(IVS_GROUP), f"IMP_IVS_DestroyGroup({IVS_GROUP})")
        check(IMP_OSD_DestroyGroup(OSD_GROUP), f"IMP_OSD_DestroyGroup({OSD_GROUP})")
        enc.encoder_exit(chns)
        common.framesource_exit(chns)
        return sorted(files)

    files = common.run_sample(body)
    with _counters_lock:
        calls = dict(counters)
    return ExalgoRun(files, drawn[0] if drawn else 0, calls)


def add_args(p: argparse.ArgumentParser) -> None:
    common.add_frames_arg(p)
    p.add_argument("--results", type=int, default=NR_RESULTS, help="IVS results to draw")
    p.add_argument(
        "--settle",
        type=float,
        default=STOP_SETTLE_S,
        help="seconds between IVS StopRecvPic and UnRegisterChn (the C sample: 1)",
    )


def run_and_report(args: argparse.Namespace) -> list[str]:
    outcome = run(args.out, args.frames, args.results, args.settle)
    calls = outcome.calls
    print(
        f"{args.results} results, {outcome.rects_drawn} rects drawn; algorithm: "
        f"{calls.get('processAsync', 0)} frames, {calls.get('ReleaseData', 0)} ReleaseData"
    )
    return outcome.files


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(
        __doc__, run_and_report, add_args, name="sample-Encoder-video-IVS-exalgo", argv=argv
    )


if __name__ == "__main__":
    sys.exit(main())
