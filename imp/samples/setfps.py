"""Port of sample-Setfps: sample-Encoder-video with the sensor slowed from 25 to 20 fps.

``IMP_ISP_Tuning_SetSensorFPS(25, 1)`` before the channels are set up, then 1 s into the
recording ``SetSensorFPS(20, 1)`` (the channel attributes still say 25 fps). Outputs, in
``--out`` (default: the current directory): ``stream-0.h265`` and ``stream-3.h265``.
"""

from __future__ import annotations

import os
import sys

from imp.capi import IMP_ISP_Tuning_SetSensorFPS
from imp.samples import common
from imp.samples import encoder_common as enc
from imp.samples.common import check


def run(
    out_dir: str = ".", frames: int = common.NR_FRAMES_TO_SAVE, after: float = 1.0
) -> list[str]:
    """Run the sample; returns the files written."""
    os.makedirs(out_dir, exist_ok=True)
    chns = common.default_channels()

    def body() -> list[str]:
        check(IMP_ISP_Tuning_SetSensorFPS(25, 1), "IMP_ISP_Tuning_SetSensorFPS(25, 1)")
        common.framesource_init(chns)
        enc.create_groups(chns)
        enc.encoder_init(chns)
        enc.bind_all(chns)
        common.framesource_streamon(chns)
        try:
            with enc.video_streams(chns, out_dir, frames) as files:
                common.pause(after)
                check(IMP_ISP_Tuning_SetSensorFPS(20, 1), "IMP_ISP_Tuning_SetSensorFPS(20, 1)")
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
        name="sample-Setfps",
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(main())
