"""Port of sample-Encoder-video: 200 HEVC frames from channels 0 (1080p) and 3 (640x360).

Outputs, in ``--out`` (default: the current directory): ``stream-0.h265`` and
``stream-3.h265``. ``--by-fd`` (or ``1`` as the C sample's ``argv[1]``) waits on the channels'
``IMP_Encoder_GetFd`` descriptors with ``select()`` instead of one polling thread per channel.
"""

from __future__ import annotations

import argparse
import os
import sys

from imp.samples import common
from imp.samples import encoder_common as enc


def run(
    out_dir: str = ".", frames: int = common.NR_FRAMES_TO_SAVE, by_fd: bool = False
) -> list[str]:
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
            files = enc.get_streams(chns, out_dir, frames, by_fd)
        finally:
            common.framesource_streamoff(chns)
        enc.unbind_all(chns)
        enc.encoder_exit(chns)
        common.framesource_exit(chns)
        return sorted(files)

    return common.run_sample(body)


def add_args(p: argparse.ArgumentParser) -> None:
    common.add_frames_arg(p)
    common.add_by_fd_args(p)


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(
        __doc__,
        lambda args: run(args.out, args.frames, common.by_fd(args)),
        add_args,
        name="sample-Encoder-video",
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(main())
