"""Port of sample-Snap-YUV: grab frame #50 of channel 0 into ``snap.yuv`` (one 1080p NV12 frame).

The C sample writes ``/tmp/snap.yuv``; this port writes ``snap.yuv`` in ``--out`` (default: the
current directory), 3110400 bytes.
"""

from __future__ import annotations

import ctypes
import os
import sys

from imp.capi import (
    PIX_FMT_NV12,
    IMP_FrameSource_CreateChn,
    IMP_FrameSource_DestroyChn,
    IMP_FrameSource_DisableChn,
    IMP_FrameSource_EnableChn,
    IMP_FrameSource_GetChnAttr,
    IMP_FrameSource_GetFrame,
    IMP_FrameSource_ReleaseFrame,
    IMP_FrameSource_SetChnAttr,
    IMP_FrameSource_SetFrameDepth,
    IMPFrameInfo,
)
from imp.samples import common
from imp.samples.common import check

SNAP_INDEX = 50


def run(out_dir: str = ".") -> str:
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "snap.yuv")
    chn = common.default_channels()[0]

    def body() -> str:
        check(IMP_FrameSource_CreateChn(0, chn.attr), "IMP_FrameSource_CreateChn")
        check(IMP_FrameSource_SetChnAttr(0, chn.attr), "IMP_FrameSource_SetChnAttr")
        attr = type(chn.attr)()
        check(IMP_FrameSource_GetChnAttr(0, attr), "IMP_FrameSource_GetChnAttr")
        attr.pixFmt = PIX_FMT_NV12
        check(IMP_FrameSource_SetChnAttr(0, attr), "IMP_FrameSource_SetChnAttr")
        check(IMP_FrameSource_EnableChn(0), "IMP_FrameSource_EnableChn")
        check(IMP_FrameSource_SetFrameDepth(0, 1), "IMP_FrameSource_SetFrameDepth")
        with open(path, "wb") as f:
            for m in common.until_stopped(SNAP_INDEX + 1):
                frame = ctypes.POINTER(IMPFrameInfo)()
                check(IMP_FrameSource_GetFrame(0, frame), "IMP_FrameSource_GetFrame")
                if m == SNAP_INDEX:
                    info = frame.contents
                    f.write(common.frame_memory(info.virAddr, info.size))
                check(IMP_FrameSource_ReleaseFrame(0, frame), "IMP_FrameSource_ReleaseFrame")
        check(IMP_FrameSource_SetFrameDepth(0, 0), "IMP_FrameSource_SetFrameDepth")
        check(IMP_FrameSource_DisableChn(0), "IMP_FrameSource_DisableChn")
        check(IMP_FrameSource_DestroyChn(0), "IMP_FrameSource_DestroyChn")
        return path

    return common.run_sample(body)


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(
        __doc__, lambda args: [run(args.out)], name="sample-Snap-YUV", argv=argv
    )


if __name__ == "__main__":
    sys.exit(main())
