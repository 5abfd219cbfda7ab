"""Port of sample-Encoder-video: 200 HEVC frames from channels 0 (1080p) and 3 (640x360).

Outputs, in ``--out`` (default: the current directory): ``stream-0.h265`` and
``stream-3.h265``. ``--by-fd`` (or ``1`` as the C sample's ``argv[1]``) waits on the channels'
``IMP_Encoder_GetFd`` descriptors with ``select()`` instead of one polling thread per channel.
"""

from __future__ import annotations

import os
import sys

from imp.samples import common
from imp.samples import encoder_common as enc
from imp.samples.common import SampleError


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
            if by_fd:
                active = [c.index for c in chns if c.enable]
                paths = {c: enc.stream_path(out_dir, c, enc.PAYLOAD_TYPE) for c in active}
                enc.get_video_stream_byfd(active, paths, frames)
                files = list(paths.values())
            else:
                threads, files, errors = enc.video_stream_threads(chns, out_dir, frames)
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
    p.add_argument("--by-fd", action="store_true", help="select() on IMP_Encoder_GetFd")
    p.add_argument(
        "byGetFd", nargs="?", type=int, default=0, help="1: as --by-fd (the C sample's argv[1])"
    )
    args = p.parse_args(argv)
    common.setup_logging()
    try:
        files = run(args.out, args.frames, args.by_fd or args.byGetFd == 1)
    except SampleError as exc:
        print(f"sample-Encoder-video: {exc}", file=sys.stderr)
        return 1
    for path in files:
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
