"""Port of sample-EXTFS-Encoder-h264: an HSV extension channel beside an HEVC main stream.

Channel 3 is a 640x360 ``PIX_FMT_HSV`` extension channel (no SetSource: converted from channel
0); 100 snapshots of it are taken and the 81st is written, whole and as its planes. Outputs, in
``--out`` (default: the current directory; the C sample uses /tmp): ``snap.hsv`` (640*360*4
bytes), ``dsthsv_h.dat`` (H, uint16 degrees: w*h*2), ``dsthsv_s.dat`` and ``dsthsv_v.dat`` (w*h
each), and ``stream-0.h265``.
"""

from __future__ import annotations

import argparse
import os
import sys

from imp.capi import (
    PIX_FMT_HSV,
    IMP_FrameSource_DestroyChn,
    IMP_FrameSource_DisableChn,
    IMP_FrameSource_EnableChn,
)
from imp.samples import common
from imp.samples import encoder_common as enc
from imp.samples import extfs_common as ext
from imp.samples.common import check

W, H = ext.EXT_W, ext.EXT_H


def run(out_dir: str = ".", frames: int = common.NR_FRAMES_TO_SAVE) -> list[str]:
    """Run the sample; returns the files written."""
    os.makedirs(out_dir, exist_ok=True)
    chns = common.default_channels()
    chns[3].enable = False  # channel 3 is the HSV extension channel made below

    def body() -> list[str]:
        ext.ext_init(PIX_FMT_HSV, 3, source=None)
        common.framesource_init(chns)
        enc.create_groups(chns)
        enc.encoder_init(chns)
        enc.bind_all(chns)
        common.framesource_streamon(chns)
        check(IMP_FrameSource_EnableChn(ext.EXT_CHN), "IMP_FrameSource_EnableChn(3)")
        files = ext.snapshot_loop(
            {
                "snap.hsv": (0, 0),
                "dsthsv_h.dat": (0, W * H * 2),
                "dsthsv_s.dat": (W * H * 2, W * H),
                "dsthsv_v.dat": (W * H * 3, W * H),
            },
            out_dir,
        )
        stream = enc.stream_path(out_dir, 0, enc.PAYLOAD_TYPE)
        enc.get_video_stream(0, stream, frames)
        common.framesource_streamoff(chns)
        check(IMP_FrameSource_DisableChn(ext.EXT_CHN), "IMP_FrameSource_DisableChn(3)")
        enc.unbind_all(chns)
        enc.encoder_exit(chns)
        common.framesource_exit(chns)
        check(IMP_FrameSource_DestroyChn(ext.EXT_CHN), "IMP_FrameSource_DestroyChn(3)")
        return sorted([*files, stream])

    return common.run_sample(body)


def add_args(p: argparse.ArgumentParser) -> None:
    common.add_frames_arg(p, help="pictures of stream-0.h265")


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(
        __doc__,
        lambda args: run(args.out, args.frames),
        add_args,
        name="sample-EXTFS-Encoder-h264",
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(main())
