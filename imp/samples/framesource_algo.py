"""Port of sample-Framesource-algo: run the move-detection interface by hand on channel 2.

Channels 0 (1080p), 2 (640x360) and 3 (extension, 640x360) stream; a thread takes 200 frames
of channel 2 with FS_GetFrame and calls the interface's members itself (``init``,
``preProcessSync``, ``processAsync``, ``getResult``, ``releaseResult``, ``exit``): no IVS group,
no encoder, no file. It prints ``retRoi[0..3]`` of every frame. With ``skipFrameCnt`` 5 a new
result comes every 6th frame; in between ``getResult`` gives the latest one again.
"""

from __future__ import annotations

import ctypes
import sys
import threading
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
        for i in range(frames):
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
    common.system_init()
    try:
        common.framesource_init(chns)
        common.framesource_streamon(chns)
        out: list[list[tuple[int, ...]]] = []
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                out.append(sample_algo(chns[ALGO_CHN], frames, emit))
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=worker, name="sample_ivs_move")
        thread.start()
        thread.join()
        common.framesource_streamoff(chns)
        common.framesource_exit(chns)
        if errors:
            raise errors[0]
    except BaseException:
        common.system_exit(strict=False)
        raise
    common.system_exit()
    return out[0]


def main(argv: list[str] | None = None) -> int:
    p = common.arg_parser(__doc__.splitlines()[0])
    p.add_argument("fps2", nargs="?", type=int, help="frame rate of channel 2 (default 25)")
    p.add_argument("--frames", type=int, default=common.NR_FRAMES_TO_SAVE, help="frames (200)")
    args = p.parse_args(argv)
    common.setup_logging()
    try:
        results = run(args.frames, args.fps2)
    except SampleError as exc:
        print(f"sample-Framesource-algo: {exc}", file=sys.stderr)
        return 1
    moving = sum(any(r) for r in results)
    print(f"{len(results)} frames analysed, motion reported in {moving}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
