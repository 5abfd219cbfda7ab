"""Port of sample-ISP-flip: sample-Encoder-video with the picture flipped while it records.

Every 0.5 s the main thread switches H-flip on, V-flip on, H-flip off, V-flip off, while a
thread records 200 HEVC frames from channels 0 and 3. Outputs, in ``--out`` (default: the
current directory): ``stream-0.h265`` and ``stream-3.h265``.
"""

from __future__ import annotations

import os
import sys

from imp.capi import (
    IMPISP_TUNING_OPS_MODE_DISABLE,
    IMPISP_TUNING_OPS_MODE_ENABLE,
    IMP_ISP_Tuning_SetISPHflip,
    IMP_ISP_Tuning_SetISPVflip,
)
from imp.samples import common
from imp.samples import encoder_common as enc
from imp.samples.common import check

FLIP_STEPS = (
    (IMP_ISP_Tuning_SetISPHflip, IMPISP_TUNING_OPS_MODE_ENABLE, "SetISPHflip(ENABLE)"),
    (IMP_ISP_Tuning_SetISPVflip, IMPISP_TUNING_OPS_MODE_ENABLE, "SetISPVflip(ENABLE)"),
    (IMP_ISP_Tuning_SetISPHflip, IMPISP_TUNING_OPS_MODE_DISABLE, "SetISPHflip(DISABLE)"),
    (IMP_ISP_Tuning_SetISPVflip, IMPISP_TUNING_OPS_MODE_DISABLE, "SetISPVflip(DISABLE)"),
)


def run(out_dir: str = ".", frames: int = common.NR_FRAMES_TO_SAVE, step: float = 0.5) -> list[str]:
    """Run the sample; returns the files written."""
    os.makedirs(out_dir, exist_ok=True)
    chns = common.default_channels()

    def body() -> list[str]:
        common.framesource_init(chns)
        enc.create_groups(chns)
        enc.encoder_init(chns)
        enc.bind_all(chns)
        common.framesource_streamon(chns)
        try:
            with enc.video_streams(chns, out_dir, frames) as files:
                for setter, mode, what in FLIP_STEPS:
                    common.pause(step)
                    check(setter(mode), what)
        finally:
            common.framesource_streamoff(chns)
        enc.unbind_all(chns)
        enc.encoder_exit(chns)
        common.framesource_exit(chns)
        return sorted(files)

    return common.run_sample(body)


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(
        __doc__,
        lambda args: run(args.out, args.frames),
        common.add_frames_arg,
        name="sample-ISP-flip",
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(main())
