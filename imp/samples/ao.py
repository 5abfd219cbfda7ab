"""Port of sample-Ao: play ``./ao_paly.pcm`` (sic; s16le mono 16 kHz) on AO device 0.

640-byte (20 ms) chunks, each followed by QueryChnStat; at chunk 40 the channel is paused, the
C sample waits for Enter (here ``--pause`` seconds, or Enter with ``--interactive``), clears
the queued frames and resumes; at the end FlushChnBuf, DisableChn, Disable. On the simulator,
``IMP_SIM_SPEAKER=out.wav`` records what the speaker played.
"""

from __future__ import annotations

import argparse
import sys

from imp.capi import (
    IMP_AO_ClearChnBuf,
    IMP_AO_Disable,
    IMP_AO_DisableChn,
    IMP_AO_FlushChnBuf,
    IMP_AO_PauseChn,
    IMP_AO_ResumeChn,
)
from imp.samples import audio_common as ac
from imp.samples import common
from imp.samples.common import check

CHUNK = 640
PAUSE_AT = 40


def play(args: argparse.Namespace) -> list[str]:
    ac.ao_start(args.vol, args.gain)

    def on_chunk(n: int) -> None:
        if n == PAUSE_AT and not args.no_pause:
            check(IMP_AO_PauseChn(ac.AO_DEV, ac.AO_CHN), "IMP_AO_PauseChn")
            ac.pause(args, "[INFO] Press Enter to resume playback")
            check(IMP_AO_ClearChnBuf(ac.AO_DEV, ac.AO_CHN), "IMP_AO_ClearChnBuf")
            check(IMP_AO_ResumeChn(ac.AO_DEV, ac.AO_CHN), "IMP_AO_ResumeChn")

    try:
        ac.ao_play_file(args.input, CHUNK, on_chunk)
        check(IMP_AO_FlushChnBuf(ac.AO_DEV, ac.AO_CHN), "IMP_AO_FlushChnBuf")
    finally:
        check(IMP_AO_DisableChn(ac.AO_DEV, ac.AO_CHN), "IMP_AO_DisableChn")
        check(IMP_AO_Disable(ac.AO_DEV), "IMP_AO_Disable")
    return []


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", default="ao_paly.pcm", help="PCM to play (default ./ao_paly.pcm)")
    p.add_argument("--vol", type=int, default=80, help="IMP_AO_SetVol (the C sample: 80)")
    p.add_argument("--gain", type=int, default=28, help="IMP_AO_SetGain (the C sample: 28)")
    p.add_argument("--no-pause", action="store_true", help="skip the pause at chunk 40")
    ac.add_pause_args(p)


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(__doc__, play, _args, name="sample-Ao", argv=argv)


if __name__ == "__main__":
    sys.exit(main())
