"""Port of sample-Ai: record 500 frames (20 s, 16 kHz mono) from AI device 1 to ``ai_record.pcm``.

640000 bytes of s16le; ``--frames`` shortens the run. On the simulator the microphone hears
``IMP_SIM_MIC`` (IMP_SIM_CLOCK=virtual records as fast as it can be written).
"""

from __future__ import annotations

import argparse
import os
import sys

from imp.samples import audio_common as ac
from imp.samples import common


def record(path: str, frames: int, vol: int = 60, gain: int = 28) -> str:
    """sample-Ai's body: set-up, ``frames`` x (Polling, GetFrame, write, Release), teardown."""
    return ac.record_loop(path, frames, vol, gain)


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
