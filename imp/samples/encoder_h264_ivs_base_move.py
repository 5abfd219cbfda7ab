"""Port of sample-Encoder-h264-IVS-base-move: as sample-Encoder-video-IVS-move, with the
base-move interface (SAD per 8x8 block) in the channel 3 chain.

``IMP_IVS_BaseMoveParam{skipFrameCnt 3, referenceNum 4, sadMode 0, sense 3, 640x360}``; each
result is an ``IMP_IVS_BaseMoveOutput`` with 80x45 = 3600 SAD values. The result thread prints
how many blocks moved and the largest value (``--map`` also draws the map, one character a
block). Outputs: ``stream-0.h265`` and ``stream-3.h265`` (HEVC, despite the sample's name).
"""

from __future__ import annotations

import argparse
import ctypes
import sys
from collections.abc import Callable

from imp.capi import (
    IMP_IVS_DEFAULT_TIMEOUTMS,
    IMP_IVS_BaseMoveOutput,
    IMP_IVS_BaseMoveParam,
    IMP_IVS_CreateBaseMoveInterface,
    IMP_IVS_DestroyBaseMoveInterface,
    IMP_IVS_GetResult,
    IMP_IVS_PollingResult,
    IMP_IVS_ReleaseResult,
)
from imp.samples import common
from imp.samples import encoder_video_ivs_move as move_sample
from imp.samples.common import SampleError, check

SAD_MODE_SIZE = 8  # sadMode 0: 8x8 blocks
WIDTH, HEIGHT = 640, 360
_SHADES = " .:-=+*#%@"


def base_move_param() -> IMP_IVS_BaseMoveParam:
    param = IMP_IVS_BaseMoveParam()
    param.skipFrameCnt = 3
    param.referenceNum = 4
    param.sadMode = 0
    param.sense = 3
    param.frameInfo.width, param.frameInfo.height = WIDTH, HEIGHT
    return param


def base_move_results(chn: int, count: int, emit: Callable[[str], None], draw: bool = False) -> int:
    """``count`` x Polling(-1), GetResult, summary, ReleaseResult; returns the results with
    at least one moving block."""
    cols, rows = WIDTH // SAD_MODE_SIZE, HEIGHT // SAD_MODE_SIZE
    moving = 0
    for i in common.until_stopped(count):
        check(IMP_IVS_PollingResult(chn, IMP_IVS_DEFAULT_TIMEOUTMS), "IMP_IVS_PollingResult")
        result = ctypes.POINTER(IMP_IVS_BaseMoveOutput)()
        check(IMP_IVS_GetResult(chn, result), "IMP_IVS_GetResult")
        out = result.contents
        if out.datalen != cols * rows:
            raise SampleError(f"datalen {out.datalen}, expected {cols * rows}")
        data = ctypes.string_at(out.data, out.datalen)
        changed = sum(1 for v in data if v)
        emit(f"frame[{i}], ret {out.ret}: {changed} of {out.datalen} blocks moved, max {max(data)}")
        if draw:
            for r in range(rows):
                line = data[r * cols : (r + 1) * cols]
                emit("".join(_SHADES[min(v * len(_SHADES) // 64, len(_SHADES) - 1)] for v in line))
        moving += changed > 0
        check(IMP_IVS_ReleaseResult(chn, result), "IMP_IVS_ReleaseResult")
    return moving


def run(
    out_dir: str = ".",
    frames: int = common.NR_FRAMES_TO_SAVE,
    results: int = move_sample.NR_RESULTS,
    emit: Callable[[str], None] = print,
    settle: float = move_sample.STOP_SETTLE_S,
    draw: bool = False,
) -> tuple[list[str], int]:
    """Run the sample; returns the files written and how many results had moving blocks."""
    return move_sample.run_with_ivs(
        out_dir,
        frames,
        False,
        lambda: IMP_IVS_CreateBaseMoveInterface(base_move_param()),
        IMP_IVS_DestroyBaseMoveInterface,
        lambda chn, n, out: base_move_results(chn, n, out, draw),
        results,
        emit,
        settle,
    )


def add_args(p: argparse.ArgumentParser) -> None:
    common.add_frames_arg(p)
    p.add_argument("--results", type=int, default=move_sample.NR_RESULTS, help="results")
    p.add_argument("--map", action="store_true", help="draw every SAD map")


def run_and_report(args: argparse.Namespace) -> list[str]:
    files, moving = run(args.out, args.frames, args.results, draw=args.map)
    print(f"{args.results} base-move results, {moving} with moving blocks")
    return files


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(
        __doc__, run_and_report, add_args, name="sample-Encoder-h264-IVS-base-move", argv=argv
    )


if __name__ == "__main__":
    sys.exit(main())
