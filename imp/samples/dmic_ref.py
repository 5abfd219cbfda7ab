"""Port of sample-dmic-ref: DMIC frames with the speaker reference while AO plays ``play.pcm``.

``IMP_DMIC_EnableAecRefFrame(0, 0, 0, 0)``; 201 x ``IMP_DMIC_GetFrameAndRef`` -> the reference
(what the speaker played at the same instants) in ``dmic_ref.pcm``; the AO thread as in
sample-dmic-aec.
"""

from __future__ import annotations

import argparse
import os
import sys

from imp.capi import (
    IMP_DMIC_EnableAecRefFrame,
    IMP_DMIC_GetFrameAndRef,
    IMP_DMIC_ReleaseFrame,
    IMPBlock,
    IMPDmicChnFrame,
    IMPDmicFrame,
)
from imp.samples import audio_common as ac
from imp.samples import common
from imp.samples import dmic_common as dc
from imp.samples.common import Threads, check


def run(args: argparse.Namespace) -> list[str]:
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "dmic_ref.pcm")
    threads = Threads()
    dc.dmic_start(need_aec=0)
    try:
        check(
            IMP_DMIC_EnableAecRefFrame(dc.DMIC_DEV, dc.DMIC_CHN, ac.AO_DEV, ac.AO_CHN),
            "IMP_DMIC_EnableAecRefFrame",
        )
        dc.start_player(threads, args, 1280)
        with open(path, "wb") as f:
            done = 0
            while done < args.frames:
                cf, ref = IMPDmicChnFrame(), IMPDmicFrame()
                if IMP_DMIC_GetFrameAndRef(dc.DMIC_DEV, dc.DMIC_CHN, cf, ref, IMPBlock.BLOCK):
                    continue  # captured before the reference was on
                ac.write_frame(f, ref.virAddr, ref.len)
                check(IMP_DMIC_ReleaseFrame(dc.DMIC_DEV, dc.DMIC_CHN, cf), "ReleaseFrame")
                done += 1
    finally:
        threads.join()
        dc.dmic_stop()  # DisableChn also ends the reference (1.1.6 has no DisableAecRefFrame)
    threads.check()
    return [path]


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frames", type=int, default=dc.FRAMES, help="frames of 40 ms")
    p.add_argument("--play", default="play.pcm", help="PCM the AO thread plays")


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(__doc__, run, _args, name="sample-dmic-ref", argv=argv)


if __name__ == "__main__":
    sys.exit(main())
