"""Port of sample-Encoder-jpeg: one JPEG snapshot from channels 0 (1080p) and 3 (640x360).

JPEG channels 4 and 7 (quality 25) are registered into groups 0 and 3, with no video channel
next to them. Outputs, in ``--out`` (default: the current directory): ``snap-0.jpg`` and
``snap-3.jpg``.
"""

from __future__ import annotations

import os
import sys

from imp.samples import common
from imp.samples import encoder_common as enc


def run(out_dir: str = ".", settle: float = 1.0) -> list[str]:
    """Run the sample (``settle``: the C sample's sleep(1) before snapping)."""
    os.makedirs(out_dir, exist_ok=True)
    chns = common.default_channels()

    def body() -> list[str]:
        common.framesource_init(chns)
        enc.create_groups(chns)
        enc.jpeg_init(chns)
        enc.bind_all(chns)
        common.framesource_streamon(chns)
        try:
            common.pause(settle)
            files = enc.get_jpeg_snap(chns, out_dir)
        finally:
            common.framesource_streamoff(chns)
        enc.unbind_all(chns)
        enc.jpeg_exit(chns)
        common.framesource_exit(chns)
        return files

    return common.run_sample(body)


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(
        __doc__, lambda args: run(args.out), name="sample-Encoder-jpeg", argv=argv
    )


if __name__ == "__main__":
    sys.exit(main())
