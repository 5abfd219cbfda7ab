"""Port of sample-Encoder-video-IVS-move: HEVC from channels 0 and 3, move detection inside
the channel 3 chain (FS3 -> IVS group 0 -> ENC3).

Outputs, in ``--out``: ``stream-0.h265`` (1080p) and ``stream-3.h265`` (640x360), 200 frames
each, as sample-Encoder-video; meanwhile a thread reads 200 move results of IVS channel 2
(``skipFrameCnt`` 5, one region over the whole 640x360 picture, sense 4) and prints retRoi.
``--by-fd`` (or ``1``) reads the streams with ``select()`` on the encoder fds.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
from collections.abc import Callable
from typing import Any

from imp.capi import (
    DEV_ID_IVS,
    IMP_IVS_DEFAULT_TIMEOUTMS,
    IMP_IVS_CreateChn,
    IMP_IVS_CreateGroup,
    IMP_IVS_CreateMoveInterface,
    IMP_IVS_DestroyChn,
    IMP_IVS_DestroyGroup,
    IMP_IVS_DestroyMoveInterface,
    IMP_IVS_GetResult,
    IMP_IVS_MoveOutput,
    IMP_IVS_MoveParam,
    IMP_IVS_PollingResult,
    IMP_IVS_RegisterChn,
    IMP_IVS_ReleaseResult,
    IMP_IVS_StartRecvPic,
    IMP_IVS_StopRecvPic,
    IMP_IVS_UnRegisterChn,
    IMP_System_Bind,
    IMP_System_UnBind,
    IMPCell,
)
from imp.samples import common
from imp.samples import encoder_common as enc
from imp.samples.common import ChnConf, SampleError, check

IVS_GROUP = 0
IVS_CHN = 2
IVS_FS_CHN = 3  # the 640x360 extension channel feeds IVS
NR_RESULTS = 200
STOP_SETTLE_S = 1.0  # the C sample sleeps 1 s between StopRecvPic and UnRegisterChn

ResultLoop = Callable[[int, int, Callable[[str], None]], int]


def move_param() -> IMP_IVS_MoveParam:
    """sample_ivs_move_start's parameters (only region 0 counts: roiRectCnt is 1)."""
    param = IMP_IVS_MoveParam()
    param.skipFrameCnt = 5
    param.frameInfo.width, param.frameInfo.height = 640, 360
    param.roiRectCnt = 1
    param.sense[0] = 4
    for i in range(4):
        rect = param.roiRect[i]
        rect.p0.x, rect.p0.y, rect.p1.x, rect.p1.y = 0, 0, 639, 359
    return param


def ivs_cells(chns: list[ChnConf]) -> tuple[IMPCell, IMPCell, IMPCell]:
    """FS3 output, the IVS group, ENC3: FS3 -> IVS -> ENC3."""
    src = chns[IVS_FS_CHN]
    return src.fs_cell, IMPCell(DEV_ID_IVS, IVS_GROUP, 0), src.enc_cell


def bind(chns: list[ChnConf]) -> None:
    """FS3 -> IVS0 -> ENC3, and the other channels straight to their encoders."""
    fs3, ivs, enc3 = ivs_cells(chns)
    check(IMP_System_Bind(fs3, ivs), "IMP_System_Bind(FS3, IVS0)")
    check(IMP_System_Bind(ivs, enc3), "IMP_System_Bind(IVS0, ENC3)")
    for c in chns:
        if c.enable and c.index != IVS_FS_CHN:
            check(IMP_System_Bind(c.fs_cell, c.enc_cell), f"IMP_System_Bind(FS{c.index})")


def unbind(chns: list[ChnConf]) -> None:
    fs3, ivs, enc3 = ivs_cells(chns)
    check(IMP_System_UnBind(fs3, ivs), "IMP_System_UnBind(FS3, IVS0)")
    check(IMP_System_UnBind(ivs, enc3), "IMP_System_UnBind(IVS0, ENC3)")
    for c in chns:
        if c.enable and c.index != IVS_FS_CHN:
            check(IMP_System_UnBind(c.fs_cell, c.enc_cell), f"IMP_System_UnBind(FS{c.index})")


def move_results(chn: int, count: int, emit: Callable[[str], None]) -> int:
    """The sample's result thread: ``count`` x Polling(-1), GetResult, print, ReleaseResult.
    Returns how many results said "motion"."""
    moving = 0
    for i in common.until_stopped(count):
        check(IMP_IVS_PollingResult(chn, IMP_IVS_DEFAULT_TIMEOUTMS), "IMP_IVS_PollingResult")
        result = ctypes.POINTER(IMP_IVS_MoveOutput)()
        check(IMP_IVS_GetResult(chn, result), "IMP_IVS_GetResult")
        roi = result.contents.retRoi
        emit(f"frame[{i}], result->retRoi({roi[0]},{roi[1]},{roi[2]},{roi[3]})")
        moving += roi[0]
        check(IMP_IVS_ReleaseResult(chn, result), "IMP_IVS_ReleaseResult")
    return moving


def run_with_ivs(
    out_dir: str,
    frames: int,
    by_fd: bool,
    create_interface: Callable[[], Any],
    destroy_interface: Callable[[Any], None],
    result_loop: ResultLoop,
    results: int,
    emit: Callable[[str], None],
    settle: float,
) -> tuple[list[str], int]:
    """The frame of both IVS encoder samples; returns the files written and the result loop's
    value."""
    os.makedirs(out_dir, exist_ok=True)
    chns = common.default_channels()
    outcome: list[int] = []

    def body() -> list[str]:
        common.framesource_init(chns)
        enc.create_groups(chns)
        enc.encoder_init(chns)
        check(IMP_IVS_CreateGroup(IVS_GROUP), "IMP_IVS_CreateGroup")
        bind(chns)
        common.framesource_streamon(chns)
        intf = create_interface()
        if not intf:
            raise SampleError("creating the IVS interface failed")
        check(IMP_IVS_CreateChn(IVS_CHN, intf), "IMP_IVS_CreateChn")
        check(IMP_IVS_RegisterChn(IVS_GROUP, IVS_CHN), "IMP_IVS_RegisterChn")
        check(IMP_IVS_StartRecvPic(IVS_CHN), "IMP_IVS_StartRecvPic")
        ivs_thread = common.Threads()
        ivs_thread.start(
            "sample_ivs_result", lambda: outcome.append(result_loop(IVS_CHN, results, emit))
        )
        try:
            files = enc.get_streams(chns, out_dir, frames, by_fd)
        finally:
            ivs_thread.join()
            check(IMP_IVS_StopRecvPic(IVS_CHN), "IMP_IVS_StopRecvPic")
            common.pause(settle)
            check(IMP_IVS_UnRegisterChn(IVS_CHN), "IMP_IVS_UnRegisterChn")
            check(IMP_IVS_DestroyChn(IVS_CHN), "IMP_IVS_DestroyChn")
            destroy_interface(intf)
            common.framesource_streamoff(chns)
        ivs_thread.check()
        unbind(chns)
        check(IMP_IVS_DestroyGroup(IVS_GROUP), "IMP_IVS_DestroyGroup")
        enc.encoder_exit(chns)
        common.framesource_exit(chns)
        return sorted(files)

    files = common.run_sample(body)
    return files, outcome[0]


def run(
    out_dir: str = ".",
    frames: int = common.NR_FRAMES_TO_SAVE,
    by_fd: bool = False,
    results: int = NR_RESULTS,
    emit: Callable[[str], None] = print,
    settle: float = STOP_SETTLE_S,
) -> tuple[list[str], int]:
    """Run the sample; returns the files written and how many results reported motion."""
    return run_with_ivs(
        out_dir,
        frames,
        by_fd,
        lambda: IMP_IVS_CreateMoveInterface(move_param()),
        IMP_IVS_DestroyMoveInterface,
        move_results,
        results,
        emit,
        settle,
    )


def add_args(p: argparse.ArgumentParser) -> None:
    common.add_frames_arg(p)
    p.add_argument("--results", type=int, default=NR_RESULTS, help="move results to read")
    common.add_by_fd_args(p)


def run_and_report(args: argparse.Namespace) -> list[str]:
    files, moving = run(args.out, args.frames, common.by_fd(args), args.results)
    print(f"{args.results} move results, {moving} with motion in region 0")
    return files


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(
        __doc__, run_and_report, add_args, name="sample-Encoder-video-IVS-move", argv=argv
    )


if __name__ == "__main__":
    sys.exit(main())
