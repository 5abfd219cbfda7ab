"""Port of sample-EXTFS-Encoder-h264-rgba: an RGBA extension channel fed by channel 2.

Channels 0 (1080p) and 2 (640x360) stream HEVC; channel 3 is a 640x360 ``PIX_FMT_RGBA``
extension channel with ``SetSource(3, 2)``; 100 snapshots of it are taken and the 81st is
written. Outputs, in ``--out`` (default: the current directory; the C sample uses /tmp):
``snap.rgba`` (640*360*4 = 921600 bytes), ``stream-0.h265`` and ``stream-2.h265``.
"""

from __future__ import annotations

import argparse
import os
import sys

from imp.capi import (
    PIX_FMT_RGBA,
    IMP_FrameSource_DestroyChn,
    IMP_FrameSource_DisableChn,
    IMP_FrameSource_EnableChn,
)
from imp.samples import common
from imp.samples import encoder_common as enc
from imp.samples import extfs_common as ext
from imp.samples.common import check

SOURCE_CHN = 2


def run(out_dir: str = ".", frames: int = common.NR_FRAMES_TO_SAVE) -> list[str]:
    """Run the sample; returns the files written."""
    os.makedirs(out_dir, exist_ok=True)
    chns = common.default_channels()
    chns[2].enable, chns[3].enable = True, False

    def body() -> list[str]:
        common.framesource_init(chns)
        ext.ext_init(PIX_FMT_RGBA, 2, source=SOURCE_CHN)
        enc.create_groups(chns)
        enc.encoder_init(chns)
        enc.bind_all(chns)
        common.framesource_streamon(chns)
        check(IMP_FrameSource_EnableChn(ext.EXT_CHN), "IMP_FrameSource_EnableChn(3)")
        files = ext.snapshot_loop({"snap.rgba": (0, 0)}, out_dir)
        files += enc.get_streams(chns, out_dir, frames, by_fd=False)
        check(IMP_FrameSource_DisableChn(ext.EXT_CHN), "IMP_FrameSource_DisableChn(3)")
        common.framesource_streamoff(chns)
        enc.unbind_all(chns)
        enc.encoder_exit(chns)
        check(IMP_FrameSource_DestroyChn(ext.EXT_CHN), "IMP_FrameSource_DestroyChn(3)")
        common.framesource_exit(chns)
        return sorted(files)

    return common.run_sample(body)


def add_args(p: argparse.ArgumentParser) -> None:
    common.add_frames_arg(p)


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(
        __doc__,
        lambda args: run(args.out, args.frames),
        add_args,
        name="sample-EXTFS-Encoder-h264-rgba",
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(main())
