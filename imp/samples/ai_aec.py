"""Port of sample-Ai-AEC: record, then play the recording back while recording with AEC.

Phase 1 records 500 frames (as sample-Ai) to ``test_for_play.pcm``; the C sample then waits for
Enter (``--pause`` / ``--interactive``). Phase 2 runs two threads: AI with
``IMP_AI_EnableAec(1, 0, 0, 0)`` (gain 20) records ``test_aec_record.pcm`` while AO (device 0,
volume 60, gain 28) plays ``test_for_play.pcm`` in 640-byte chunks, then waits ``--tail``
seconds (the C sample's sleep(3)) and disables. On the simulator the speaker's sound comes back
into the microphone through ``IMP_SIM_ECHO``.
"""

from __future__ import annotations

import argparse
import os
import sys

from imp.capi import IMP_AI_DisableAec, IMP_AI_EnableAec
from imp.samples import ai as sample_ai
from imp.samples import audio_common as ac
from imp.samples import common
from imp.samples.common import Threads, check


def run(args: argparse.Namespace) -> list[str]:
    os.makedirs(args.out, exist_ok=True)
    play = os.path.join(args.out, "test_for_play.pcm")
    record = os.path.join(args.out, "test_aec_record.pcm")
    sample_ai.record(play, args.frames)
    ac.pause(args, "[INFO] Press Enter to start the AEC test")

    def ai_thread() -> None:
        def setup() -> None:
            check(IMP_AI_EnableAec(ac.AI_DEV, ac.AI_CHN, ac.AO_DEV, ac.AO_CHN), "IMP_AI_EnableAec")

        def teardown() -> None:
            check(IMP_AI_DisableAec(ac.AI_DEV, ac.AI_CHN), "IMP_AI_DisableAec")

        ac.record_loop(record, args.frames, gain=20, setup=setup, teardown=teardown)

    threads = Threads()
    threads.start("sample-Ai-AEC-ai", ai_thread)
    threads.start("sample-Ai-AEC-ao", ac.play_thread, play, 640, args.tail)
    threads.join()
    threads.check()
    return [play, record]


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frames", type=int, default=ac.AI_RECORD_FRAMES, help="frames of 40 ms")
    p.add_argument("--tail", type=float, default=3.0, help="AO's sleep before Disable (s)")
    ac.add_pause_args(p)


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(__doc__, run, _args, name="sample-Ai-AEC", argv=argv)


if __name__ == "__main__":
    sys.exit(main())
