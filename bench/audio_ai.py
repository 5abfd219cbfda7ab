"""CPU cost of audio input: CPU seconds per second of audio for AI 16 kHz, and AI + G711A.

Run from the repo root: PYTHONPATH=. .venv/bin/python bench/audio_ai.py [--seconds N]

The C-style loop of sample-Ai / prudynt's audio thread (PollingFrame, GetFrame, [AENC
SendFrame, GetStream, ReleaseStream], ReleaseFrame) over the simulator's virtual clock, so
audio comes as fast as it is consumed and the process CPU time is all cost. The simulated
/dev/dsp (rendering the microphone, copy_to_user) runs in the same process; its share is
measured alone (raw GET_AI_STREAM) and subtracted, since on the board the kernel does it.
Targets (issue 11): AI + G711 <= 3 % of one core.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import time

os.environ.setdefault("IMP_PLATFORM", "sim")

import imp.audio
import imp.capi as capi
from imp.kernel import abi_audio as A
from imp.kernel import sim_overrides
from imp.kernel.lowmem import LowBuffer
from imp.samples import audio_common as ac
from kernel_stubs import SimConfig, SimKernel

FRAME_S = 0.040  # numPerFrm 640 at 16 kHz


def simulator_only(seconds: float) -> float:
    """CPU s of the fake /dev/dsp alone for ``seconds`` of 16 kHz mono in 1280-byte reads."""
    with SimKernel(SimConfig(clock="virtual", mic="room", echo="off")) as k:
        fd = k.open(A.DSP_PATH, A.O_RDONLY)
        k.ioctl(fd, A.SNDCTL_DSP_SPEED, A.int_arg(16000))
        k.ioctl(fd, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0))
        buf = LowBuffer(1280)
        arg = bytearray(bytes(A.AiStreamArg(buf.addr, 0, 1280)))
        start = time.process_time()
        for _ in range(round(seconds / FRAME_S)):
            arg[8:12] = (1280).to_bytes(4, "little")
            k.ioctl(fd, A.SNDCTL_EXT_GET_AI_STREAM, arg)
        return time.process_time() - start


def ai_loop(seconds: float, g711a: bool) -> float:
    """CPU s of the whole process for ``seconds`` of AI (and G711A encoding)."""
    sim_overrides(clock="virtual", mic="room", echo="off")
    if g711a:
        attr = capi.IMPAudioEncChnAttr(type=capi.PT_G711A, bufSize=20)
        assert capi.IMP_AENC_CreateChn(0, attr) == 0
    ac.ai_start(80, 12, depth=30)
    frames = round(seconds / FRAME_S)
    start = time.process_time()
    for _ in range(frames):
        assert capi.IMP_AI_PollingFrame(ac.AI_DEV, ac.AI_CHN, 1000) == 0
        frm = capi.IMPAudioFrame()
        assert capi.IMP_AI_GetFrame(ac.AI_DEV, ac.AI_CHN, frm, capi.IMPBlock.BLOCK) == 0
        if g711a:
            assert capi.IMP_AENC_SendFrame(0, frm) == 0
            assert capi.IMP_AENC_PollingStream(0, 1000) == 0
            stream = capi.IMPAudioStream()
            assert capi.IMP_AENC_GetStream(0, ctypes.byref(stream), capi.IMPBlock.BLOCK) == 0
            assert capi.IMP_AENC_ReleaseStream(0, ctypes.byref(stream)) == 0
        assert capi.IMP_AI_ReleaseFrame(ac.AI_DEV, ac.AI_CHN, frm) == 0
    used = time.process_time() - start
    ac.ai_stop()
    if g711a:
        capi.IMP_AENC_DestroyChn(0)
    imp.audio.shutdown()
    sim_overrides()
    return used


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0, help="audio seconds per measurement")
    args = p.parse_args()
    sim = simulator_only(args.seconds)
    print(f"audio: {args.seconds:.0f} s of 16 kHz mono in 40 ms frames (virtual clock)")
    print(f"  simulated /dev/dsp alone        {100 * sim / args.seconds:6.2f} % of one core")
    for name, g711a in (("AI", False), ("AI + AENC G711A", True)):
        total = ai_loop(args.seconds, g711a)
        own = max(0.0, total - sim)
        print(
            f"  {name:<30} {100 * total / args.seconds:6.2f} % with the simulator, "
            f"{100 * own / args.seconds:6.2f} % without"
        )


if __name__ == "__main__":
    main()
