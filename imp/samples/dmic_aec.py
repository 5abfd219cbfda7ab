"""Port of sample-dmic-aec: the DMIC array with echo cancellation while AO plays ``play.pcm``.

``IMP_DMIC_SetUserInfo(0, 1, 1)`` (capsule 1 feeds the AEC), ``IMP_DMIC_EnableAec(0, 0, 0, 0)``;
201 frames of ``aecFrame`` go to ``dmic_aec.pcm`` while an AO thread plays ``--play``
(default ``./play.pcm``) in 1280-byte chunks (volume 80, gain 28) and flushes.
"""

from __future__ import annotations

import argparse
import os
import sys

from imp.capi import (
    IMP_DMIC_DisableAec,
    IMP_DMIC_EnableAec,
    IMP_DMIC_GetFrame,
    IMP_DMIC_ReleaseFrame,
    IMPBlock,
    IMPDmicChnFrame,
)
from imp.samples import audio_common as ac
from imp.samples import common
from imp.samples import dmic_common as dc
from imp.samples.common import Threads, check


def run(args: argparse.Namespace) -> list[str]:
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "dmic_aec.pcm")
    threads = Threads()

    def get(cf: IMPDmicChnFrame) -> None:
        check(IMP_DMIC_GetFrame(dc.DMIC_DEV, dc.DMIC_CHN, cf, IMPBlock.BLOCK), "IMP_DMIC_GetFrame")

    def release(cf: IMPDmicChnFrame) -> None:
        check(IMP_DMIC_ReleaseFrame(dc.DMIC_DEV, dc.DMIC_CHN, cf), "IMP_DMIC_ReleaseFrame")

    dc.dmic_start(need_aec=1)
    try:
        check(IMP_DMIC_EnableAec(dc.DMIC_DEV, dc.DMIC_CHN, ac.AO_DEV, ac.AO_CHN), "EnableAec")
        dc.start_player(threads, args, 1280)
        with open(path, "wb") as f:
            dc.dmic_loop(
                args.frames,
                get,
                release,
                lambda cf: ac.write_frame(f, cf.aecFrame.virAddr, cf.aecFrame.len),
            )
        check(IMP_DMIC_DisableAec(dc.DMIC_DEV, dc.DMIC_CHN), "IMP_DMIC_DisableAec")
    finally:
        threads.join()
        dc.dmic_stop()
    threads.check()
    return [path]


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frames", type=int, default=dc.FRAMES, help="frames of 40 ms")
    p.add_argument("--play", default="play.pcm", help="PCM the AO thread plays")


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(__doc__, run, _args, name="sample-dmic-aec", argv=argv)


if __name__ == "__main__":
    sys.exit(main())
