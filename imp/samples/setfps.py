"""Port of sample-Setfps: sample-Encoder-video with the sensor slowed from 25 to 20 fps.

``IMP_ISP_Tuning_SetSensorFPS(25, 1)`` before the channels are set up, then 1 s into the
recording ``SetSensorFPS(20, 1)`` (the channel attributes still say 25 fps). Outputs, in
``--out`` (default: the current directory): ``stream-0.h265`` and ``stream-3.h265``.
"""

from __future__ import annotations

import os
import sys
import time

from imp.capi import IMP_ISP_Tuning_SetSensorFPS
from imp.samples import common
from imp.samples import encoder_common as enc
from imp.samples.common import SampleError, check


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
            threads, files, errors = enc.video_stream_threads(chns, out_dir, frames)
            try:
                time.sleep(after)
                check(IMP_ISP_Tuning_SetSensorFPS(20, 1), "IMP_ISP_Tuning_SetSensorFPS(20, 1)")
            finally:
                enc.join_all(threads, errors)
        finally:
            common.framesource_streamoff(chns)
        enc.unbind_all(chns)
        enc.encoder_exit(chns)
        common.framesource_exit(chns)
        return sorted(files)

    return enc.run_sample(body)


def main(argv: list[str] | None = None) -> int:
    p = common.arg_parser(__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=common.NR_FRAMES_TO_SAVE, help="per channel")
    args = p.parse_args(argv)
    common.setup_logging()
    try:
        files = run(args.out, args.frames)
    except SampleError as exc:
        print(f"sample-Setfps: {exc}", file=sys.stderr)
        return 1
    for path in files:
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
