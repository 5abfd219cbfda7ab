"""Port of sample-Framesource: capture 200 frames from channels 0 and 3, save frame #100 of each.

Outputs, in ``--out`` (default: the current directory): ``frame1920x1080.nv12`` (3110400 B) and
``frame640x360.nv12`` (345600 B). One difference from the C sample, on purpose: the frame depth
is set before the channels are enabled rather than in the capture threads, so both channels
queue frames from the same first sensor frame and frame #100 of each is the same sensor frame.
"""

from __future__ import annotations

import ctypes
import os
import sys

from imp.capi import (
    IMP_FrameSource_GetFrame,
    IMP_FrameSource_ReleaseFrame,
    IMP_FrameSource_SetFrameDepth,
    IMPFrameInfo,
)
from imp.samples import common
from imp.samples.common import check


def get_frame(
    chn: common.ChnConf, out_dir: str, frames: int, save_at: int, written: list[str]
) -> None:
    attr = chn.attr
    path = os.path.join(out_dir, f"frame{attr.picWidth}x{attr.picHeight}.nv12")
    with open(path, "wb") as f:
        for i in common.until_stopped(frames):
            frame = ctypes.POINTER(IMPFrameInfo)()
            check(
                IMP_FrameSource_GetFrame(chn.index, frame), f"IMP_FrameSource_GetFrame({chn.index})"
            )
            info = frame.contents
            if i == save_at:
                f.write(common.frame_memory(info.virAddr, info.size))
            check(
                IMP_FrameSource_ReleaseFrame(chn.index, frame),
                f"IMP_FrameSource_ReleaseFrame({chn.index})",
            )
    written.append(path)


def run(out_dir: str = ".", frames: int = common.NR_FRAMES_TO_SAVE) -> list[str]:
    """Run the sample; returns the files written."""
    os.makedirs(out_dir, exist_ok=True)
    chns = common.default_channels()
    active = [c for c in chns if c.enable]

    def body() -> list[str]:
        common.framesource_init(chns)
        for c in active:
            check(
                IMP_FrameSource_SetFrameDepth(c.index, c.attr.nrVBs * 2),
                "IMP_FrameSource_SetFrameDepth",
            )
        common.framesource_streamon(chns)
        written: list[str] = []
        threads = common.Threads()
        for c in active:
            threads.start(
                f"get_frame{c.index}", get_frame, c, out_dir, frames, frames // 2, written
            )
        threads.join()
        for c in active:
            check(IMP_FrameSource_SetFrameDepth(c.index, 0), "IMP_FrameSource_SetFrameDepth")
        common.framesource_streamoff(chns)
        common.framesource_exit(chns)
        threads.check()
        return sorted(written)

    return common.run_sample(body)


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(
        __doc__,
        lambda args: run(args.out, args.frames),
        lambda p: common.add_frames_arg(p, "frames per channel (200)"),
        name="sample-Framesource",
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(main())
