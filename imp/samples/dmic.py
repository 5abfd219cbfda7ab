"""Port of sample-dmic: record the 4-microphone array, one file per capsule.

201 frames of 640 samples (16 kHz) -> ``dmic0_record.pcm`` .. ``dmic3_record.pcm`` (s16le mono,
257280 bytes each). ``--frames`` shortens the run.
"""

from __future__ import annotations

import argparse
import os
import sys

from imp.capi import IMP_DMIC_GetFrame, IMP_DMIC_ReleaseFrame, IMPBlock, IMPDmicChnFrame
from imp.samples import common
from imp.samples import dmic_common as dc
from imp.samples.common import check


def run(out_dir: str = ".", frames: int = dc.FRAMES) -> list[str]:
    os.makedirs(out_dir, exist_ok=True)
    paths = [os.path.join(out_dir, f"dmic{i}_record.pcm") for i in range(dc.MICS)]
    files = [open(p, "wb") for p in paths]  # noqa: SIM115 - closed below

    def get(cf: IMPDmicChnFrame) -> None:
        check(IMP_DMIC_GetFrame(dc.DMIC_DEV, dc.DMIC_CHN, cf, IMPBlock.BLOCK), "IMP_DMIC_GetFrame")

    def release(cf: IMPDmicChnFrame) -> None:
        check(IMP_DMIC_ReleaseFrame(dc.DMIC_DEV, dc.DMIC_CHN, cf), "IMP_DMIC_ReleaseFrame")

    def use(cf: IMPDmicChnFrame) -> None:
        mics = dc.deinterleave(cf)
        for i, f in enumerate(files):
            f.write(mics[:, i].astype("<i2").tobytes())

    try:
        dc.dmic_start(need_aec=0)
        try:
            dc.dmic_loop(frames, get, release, use)
        finally:
            dc.dmic_stop()
    finally:
        for f in files:
            f.close()
    return paths


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frames", type=int, default=dc.FRAMES, help="frames of 40 ms")


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(
        __doc__, lambda a: run(a.out, a.frames), _args, name="sample-dmic", argv=argv
    )


if __name__ == "__main__":
    sys.exit(main())
