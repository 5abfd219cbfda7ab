"""What the two sample-EXTFS-Encoder ports share: the extension channel and its snapshot loop."""

from __future__ import annotations

import ctypes
import os

from imp.capi import (
    FS_EXT_CHANNEL,
    IMP_FrameSource_CreateChn,
    IMP_FrameSource_GetFrame,
    IMP_FrameSource_ReleaseFrame,
    IMP_FrameSource_SetChnAttr,
    IMP_FrameSource_SetFrameDepth,
    IMP_FrameSource_SetSource,
    IMPFrameInfo,
    IMPFSChnAttr,
)
from imp.samples import common
from imp.samples.common import check

EXT_CHN = 3
EXT_W, EXT_H = 640, 360
SNAP_LOOPS = 100
SNAP_AT = 80


def ext_attr(pixfmt: int, nr_vbs: int) -> IMPFSChnAttr:
    """The extension channel: 640x360 of ``pixfmt``, scaled from its source."""
    a = IMPFSChnAttr()
    a.picWidth, a.picHeight, a.pixFmt = EXT_W, EXT_H, pixfmt
    a.scaler.enable, a.scaler.outwidth, a.scaler.outheight = 1, EXT_W, EXT_H
    a.outFrmRateNum = common.SENSOR_FRAME_RATE_NUM
    a.outFrmRateDen = common.SENSOR_FRAME_RATE_DEN
    a.nrVBs, a.type = nr_vbs, FS_EXT_CHANNEL
    return a


def ext_init(pixfmt: int, nr_vbs: int, source: int | None) -> None:
    """CreateChn(3), SetSource(3, source) when given, SetChnAttr(3)."""
    attr = ext_attr(pixfmt, nr_vbs)
    check(IMP_FrameSource_CreateChn(EXT_CHN, attr), f"IMP_FrameSource_CreateChn({EXT_CHN})")
    if source is not None:
        check(IMP_FrameSource_SetSource(EXT_CHN, source), "IMP_FrameSource_SetSource")
    check(IMP_FrameSource_SetChnAttr(EXT_CHN, attr), f"IMP_FrameSource_SetChnAttr({EXT_CHN})")


def snapshot_loop(save: dict[str, tuple[int, int]], out_dir: str) -> list[str]:
    """SNAP_LOOPS x (SetFrameDepth 1, GetFrame, at SNAP_AT write each ``name: (offset, length)``
    of the frame, ReleaseFrame, SetFrameDepth 0). Returns the files written."""
    written: list[str] = []
    for i in common.until_stopped(SNAP_LOOPS):
        check(IMP_FrameSource_SetFrameDepth(EXT_CHN, 1), "IMP_FrameSource_SetFrameDepth")
        frame = ctypes.POINTER(IMPFrameInfo)()
        check(IMP_FrameSource_GetFrame(EXT_CHN, frame), "IMP_FrameSource_GetFrame")
        if i == SNAP_AT:
            info = frame.contents
            data = common.frame_memory(info.virAddr, info.size)
            for name, (offset, length) in save.items():
                path = os.path.join(out_dir, name)
                with open(path, "wb") as f:
                    f.write(data[offset : offset + (length or info.size)])
                written.append(path)
        check(IMP_FrameSource_ReleaseFrame(EXT_CHN, frame), "IMP_FrameSource_ReleaseFrame")
        check(IMP_FrameSource_SetFrameDepth(EXT_CHN, 0), "IMP_FrameSource_SetFrameDepth")
    return written
