"""Port of sample-Encoder-h264-jpeg: 200 HEVC frames per channel plus a JPEG of each, at once.

Groups 0 and 3 each hold a video channel (0, 3) and a JPEG channel (4, 7) on the same frames,
each with its own reader. Outputs, in ``--out`` (default: the current directory):
``stream-0.h265``, ``stream-3.h265``, ``snap-0.jpg`` and ``snap-3.jpg``.
"""

from __future__ import annotations

import os
import sys

from imp.samples import common
from imp.samples import encoder_common as enc


def run(
    out_dir: str = ".", frames: int = common.NR_FRAMES_TO_SAVE, settle: float = 1.0
) -> list[str]:
    """Run the sample; returns the files written."""
    os.makedirs(out_dir, exist_ok=True)
    chns = common.default_channels()

    def body() -> list[str]:
        common.framesource_init(chns)
        enc.create_groups(chns)
        enc.encoder_init(chns)
        enc.jpeg_init(chns)
        enc.bind_all(chns)
        common.framesource_streamon(chns)
        try:
            with enc.video_streams(chns, out_dir, frames) as streams:
                common.pause(settle)
                snaps = enc.get_jpeg_snap(chns, out_dir)
        finally:
            common.framesource_streamoff(chns)
        enc.unbind_all(chns)
        enc.jpeg_exit(chns)
        enc.encoder_exit(chns)
        common.framesource_exit(chns)
        return sorted(streams + snaps)

    return common.run_sample(body)


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(
        __doc__,
        lambda args: run(args.out, args.frames),
        common.add_frames_arg,
        name="sample-Encoder-h264-jpeg",
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(main())
