"""Port of sample-Ai-Ref: record, then play it back while recording frames and their reference.

Phase 1 records ``ref_test_for_play.pcm`` (as sample-Ai); after the pause, AI with
``IMP_AI_EnableAecRefFrame(1, 0, 0, 0)`` records ``ref_test_record.pcm`` (the microphone) and
``ref_test_ref.pcm`` (what the speaker played at the same instants, from GetFrameAndRef)
while AO plays the first recording.
"""

from __future__ import annotations

import argparse
import os
import sys

from imp.capi import (
    IMP_AI_DisableAecRefFrame,
    IMP_AI_EnableAecRefFrame,
    IMP_AI_GetFrameAndRef,
    IMP_AI_ReleaseFrame,
    IMPAudioFrame,
    IMPBlock,
)
from imp.samples import ai as sample_ai
from imp.samples import audio_common as ac
from imp.samples import common
from imp.samples.common import Threads, check


def run(args: argparse.Namespace) -> list[str]:
    os.makedirs(args.out, exist_ok=True)
    play = os.path.join(args.out, "ref_test_for_play.pcm")
    record = os.path.join(args.out, "ref_test_record.pcm")
    ref_path = os.path.join(args.out, "ref_test_ref.pcm")
    sample_ai.record(play, args.frames)
    ac.pause(args, "[INFO] Press Enter to start the reference test")

    def ai_thread() -> None:
        ac.ai_start(60, 20)
        check(
            IMP_AI_EnableAecRefFrame(ac.AI_DEV, ac.AI_CHN, ac.AO_DEV, ac.AO_CHN),
            "IMP_AI_EnableAecRefFrame",
        )
        try:
            with open(record, "wb") as rec, open(ref_path, "wb") as ref_file:
                done = 0
                while done < args.frames:
                    frm, ref = IMPAudioFrame(), IMPAudioFrame()
                    if IMP_AI_GetFrameAndRef(ac.AI_DEV, ac.AI_CHN, frm, ref, IMPBlock.BLOCK):
                        continue  # captured before the reference was on: the next one has it
                    ac.write_frame(rec, frm.virAddr, frm.len)
                    ac.write_frame(ref_file, ref.virAddr, ref.len)
                    check(IMP_AI_ReleaseFrame(ac.AI_DEV, ac.AI_CHN, frm), "IMP_AI_ReleaseFrame")
                    done += 1
        finally:
            check(
                IMP_AI_DisableAecRefFrame(ac.AI_DEV, ac.AI_CHN, ac.AO_DEV, ac.AO_CHN),
                "IMP_AI_DisableAecRefFrame",
            )
            ac.ai_stop()

    threads = Threads()
    threads.start("sample-Ai-Ref-ai", ai_thread)
    threads.start("sample-Ai-Ref-ao", ac.play_thread, play, 640, args.tail)
    threads.join()
    threads.check()
    return [play, record, ref_path]


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frames", type=int, default=ac.AI_RECORD_FRAMES, help="frames of 40 ms")
    p.add_argument("--tail", type=float, default=3.0, help="AO's sleep before Disable (s)")
    ac.add_pause_args(p)


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(__doc__, run, _args, name="sample-Ai-Ref", argv=argv)


if __name__ == "__main__":
    sys.exit(main())
