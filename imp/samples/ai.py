"""Port of sample-Ai: record 500 frames (20 s, 16 kHz mono) from AI device 1 to ``ai_record.pcm``.

640000 bytes of s16le; ``--frames`` shortens the run. On the simulator the microphone hears
``IMP_SIM_MIC`` (IMP_SIM_CLOCK=virtual records as fast as it can be written).
"""

from __future__ import annotations

import argparse
import os
import sys

from imp.capi import (
    IMP_AI_Disable,
    IMP_AI_DisableChn,
    IMP_AI_GetFrame,
    IMP_AI_PollingFrame,
    IMP_AI_ReleaseFrame,
    IMPAudioFrame,
    IMPBlock,
)
from imp.samples import audio_common as ac
from imp.samples import common
from imp.samples.common import check


def record(path: str, frames: int, vol: int = 60, gain: int = 28) -> str:
    """sample-Ai's body: set-up, ``frames`` x (Polling, GetFrame, write, Release), teardown."""
    ac.ai_start(vol, gain)
    try:
        with open(path, "wb") as f:
            for _ in range(frames):
                check(IMP_AI_PollingFrame(ac.AI_DEV, ac.AI_CHN, 1000), "IMP_AI_PollingFrame")
                frm = IMPAudioFrame()
                check(IMP_AI_GetFrame(ac.AI_DEV, ac.AI_CHN, frm, IMPBlock.BLOCK), "IMP_AI_GetFrame")
                ac.write_frame(f, frm.virAddr, frm.len)
                check(IMP_AI_ReleaseFrame(ac.AI_DEV, ac.AI_CHN, frm), "IMP_AI_ReleaseFrame")
    finally:
        check(IMP_AI_DisableChn(ac.AI_DEV, ac.AI_CHN), "IMP_AI_DisableChn")
        check(IMP_AI_Disable(ac.AI_DEV), "IMP_AI_Disable")
    return path


def run(
    out_dir: str = ".", frames: int = ac.AI_RECORD_FRAMES, vol: int = 60, gain: int = 28
) -> str:
    os.makedirs(out_dir, exist_ok=True)
    return record(os.path.join(out_dir, "ai_record.pcm"), frames, vol, gain)


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frames", type=int, default=ac.AI_RECORD_FRAMES, help="frames of 40 ms")
    p.add_argument("--vol", type=int, default=60, help="IMP_AI_SetVol (the C sample: 60)")
    p.add_argument("--gain", type=int, default=28, help="IMP_AI_SetGain (the C sample: 28)")


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(
        __doc__,
        lambda a: [run(a.out, a.frames, a.vol, a.gain)],
        _args,
        name="sample-Ai",
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(main())
