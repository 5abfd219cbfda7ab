"""Port of sample-Framesource-algo: run the move-detection interface by hand on channel 2.

Channels 0 (1080p), 2 (640x360) and 3 (extension, 640x360) stream; a thread takes 200 frames
of channel 2 with FS_GetFrame and calls the interface's members itself (``init``,
``preProcessSync``, ``processAsync``, ``getResult``, ``releaseResult``, ``exit``): no IVS group,
no encoder, no file. It prints ``retRoi[0..3]`` of every frame. With ``skipFrameCnt`` 5 a new
result comes every 6th frame; in between ``getResult`` gives the latest one again.
"""

from __future__ import annotations

import argparse
import ctypes
import sys
from collections.abc import Callable

from imp.capi import (
    IMP_FrameSource_GetFrame,
    IMP_FrameSource_ReleaseFrame,
    IMP_FrameSource_SetFrameDepth,
    IMP_IVS_CreateMoveInterface,
    IMP_IVS_DestroyMoveInterface,
    IMP_IVS_MoveOutput,
    IMP_IVS_MoveParam,
    IMPFrameInfo,
)
from imp.samples import common
from imp.samples.common import SampleError, check

ALGO_CHN = 2
ROI_COUNT = 4


def move_param(width: int, height: int) -> IMP_IVS_MoveParam:
    """The sample's parameters: skip 5, 4 regions covering the whole frame, sense 4."""
    param = IMP_IVS_MoveParam()
    param.skipFrameCnt = 5
    param.frameInfo.width, param.frameInfo.height = width, height
    param.roiRectCnt = ROI_COUNT
    for i in range(ROI_COUNT):
        param.sense[i] = 4
        rect = param.roiRect[i]
        rect.p0.x, rect.p0.y = 0, 0
        rect.p1.x, rect.p1.y = width - 1, height - 1
    return param


def sample_algo(
    chn: common.ChnConf, frames: int, emit: Callable[[str], None]
) -> list[tuple[int, ...]]:
    """The algorithm thread of the sample; returns retRoi[0..3] of every frame."""
    attr = chn.attr
    intf = IMP_IVS_CreateMoveInterface(move_param(attr.picWidth, attr.picHeight))
    if not intf:
        raise SampleError("IMP_IVS_CreateMoveInterface failed")
    inf = intf.contents
    seen: list[tuple[int, ...]] = []
    try:
        check(inf.init(intf), "intf->init")
        check(IMP_FrameSource_SetFrameDepth(chn.index, 4), "IMP_FrameSource_SetFrameDepth")
        for i in common.until_stopped(frames):
            frame = ctypes.POINTER(IMPFrameInfo)()
            check(IMP_FrameSource_GetFrame(chn.index, frame), "IMP_FrameSource_GetFrame")
            try:
                check(inf.preProcessSync(intf, frame), "intf->preProcessSync")
                check(inf.processAsync(intf, frame), "intf->processAsync")
                result = ctypes.POINTER(IMP_IVS_MoveOutput)()
                void_pp = ctypes.cast(ctypes.pointer(result), ctypes.POINTER(ctypes.c_void_p))
                check(inf.getResult(intf, void_pp), "intf->getResult")  # (void **)&result
                roi = tuple(result.contents.retRoi[:ROI_COUNT])
                seen.append(roi)
                emit(f"frame[{i}], result->retRoi({','.join(str(r) for r in roi)})")
                check(inf.releaseResult(intf, result), "intf->releaseResult")
            finally:
                check(IMP_FrameSource_ReleaseFrame(chn.index, frame), "ReleaseFrame")
        check(IMP_FrameSource_SetFrameDepth(chn.index, 0), "IMP_FrameSource_SetFrameDepth")
        inf.exit(intf)
    finally:
        IMP_IVS_DestroyMoveInterface(intf)
    return seen


def run(
    frames: int = common.NR_FRAMES_TO_SAVE,
    fps2: int | None = None,
    emit: Callable[[str], None] = print,
) -> list[tuple[int, ...]]:
    """Run the sample; returns retRoi[0..3] for each of the ``frames`` frames of channel 2."""
    chns = common.default_channels()
    chns[ALGO_CHN].enable = True
    if fps2 is not None:
        chns[ALGO_CHN].attr.outFrmRateNum = fps2

    def body() -> list[tuple[int, ...]]:
        common.framesource_init(chns)
        common.framesource_streamon(chns)
        out: list[list[tuple[int, ...]]] = []
        thread = common.Threads()
        thread.start(
            "sample_ivs_move", lambda: out.append(sample_algo(chns[ALGO_CHN], frames, emit))
        )
        thread.join()
        common.framesource_streamoff(chns)
        common.framesource_exit(chns)
        thread.check()
        return out[0]

    return common.run_sample(body)


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("fps2", nargs="?", type=int, help="frame rate of channel 2 (default 25)")
    common.add_frames_arg(p, "frames (200)")


def run_and_report(args: argparse.Namespace) -> list[str]:
    results = run(args.frames, args.fps2)
    moving = sum(any(r) for r in results)
    print(f"{len(results)} frames analysed, motion reported in {moving}")
    return []  # no file


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(
        __doc__, run_and_report, add_args, name="sample-Framesource-algo", argv=argv
    )


if __name__ == "__main__":
    sys.exit(main())
