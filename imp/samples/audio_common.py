"""What the vendor audio samples share: AI / AO / DMIC set-up as the C samples call it, the
``getchar()`` pause as an option, and a file writer for frames in rmem."""

from __future__ import annotations

import argparse
import ctypes
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

from imp.capi import (
    AUDIO_BIT_WIDTH_16,
    AUDIO_SOUND_MODE_MONO,
    IMP_AI_Disable,
    IMP_AI_DisableChn,
    IMP_AI_Enable,
    IMP_AI_EnableChn,
    IMP_AI_GetChnParam,
    IMP_AI_GetFrame,
    IMP_AI_GetGain,
    IMP_AI_GetPubAttr,
    IMP_AI_GetVol,
    IMP_AI_PollingFrame,
    IMP_AI_ReleaseFrame,
    IMP_AI_SetChnParam,
    IMP_AI_SetGain,
    IMP_AI_SetPubAttr,
    IMP_AI_SetVol,
    IMP_AO_Disable,
    IMP_AO_DisableChn,
    IMP_AO_Enable,
    IMP_AO_EnableChn,
    IMP_AO_GetGain,
    IMP_AO_GetPubAttr,
    IMP_AO_GetVol,
    IMP_AO_QueryChnStat,
    IMP_AO_SendFrame,
    IMP_AO_SetGain,
    IMP_AO_SetPubAttr,
    IMP_AO_SetVol,
    IMPAudioFrame,
    IMPAudioIChnParam,
    IMPAudioIOAttr,
    IMPAudioOChnState,
    IMPBlock,
)
from imp.samples import stopping as _stopping
from imp.samples.common import check

AI_DEV, AI_CHN = 1, 0
AO_DEV, AO_CHN = 0, 0
RATE = 16000
NUM_PER_FRM = 640  # 40 ms at 16 kHz
AI_RECORD_FRAMES = 500  # 20 s


def io_attr(frm_num: int, num_per_frm: int = NUM_PER_FRM, rate: int = RATE) -> IMPAudioIOAttr:
    attr = IMPAudioIOAttr()
    attr.samplerate = rate
    attr.bitwidth = AUDIO_BIT_WIDTH_16
    attr.soundmode = AUDIO_SOUND_MODE_MONO
    attr.frmNum = frm_num
    attr.numPerFrm = num_per_frm
    attr.chnCnt = 1
    return attr


def ai_start(vol: int, gain: int, depth: int = 40) -> None:
    """sample-Ai's set-up: SetPubAttr ... GetGain on device 1, channel 0."""
    attr = io_attr(40)
    check(IMP_AI_SetPubAttr(AI_DEV, attr), "IMP_AI_SetPubAttr")
    got = IMPAudioIOAttr()
    check(IMP_AI_GetPubAttr(AI_DEV, got), "IMP_AI_GetPubAttr")
    check(IMP_AI_Enable(AI_DEV), "IMP_AI_Enable")
    param = IMPAudioIChnParam(usrFrmDepth=depth)
    check(IMP_AI_SetChnParam(AI_DEV, AI_CHN, param), "IMP_AI_SetChnParam")
    check(IMP_AI_GetChnParam(AI_DEV, AI_CHN, param), "IMP_AI_GetChnParam")
    check(IMP_AI_EnableChn(AI_DEV, AI_CHN), "IMP_AI_EnableChn")
    check(IMP_AI_SetVol(AI_DEV, AI_CHN, vol), "IMP_AI_SetVol")
    out = ctypes.c_int()
    check(IMP_AI_GetVol(AI_DEV, AI_CHN, out), "IMP_AI_GetVol")
    check(IMP_AI_SetGain(AI_DEV, AI_CHN, gain), "IMP_AI_SetGain")
    check(IMP_AI_GetGain(AI_DEV, AI_CHN, out), "IMP_AI_GetGain")


def ai_stop() -> None:
    check(IMP_AI_DisableChn(AI_DEV, AI_CHN), "IMP_AI_DisableChn")
    check(IMP_AI_Disable(AI_DEV), "IMP_AI_Disable")


def record_loop(
    path: str,
    frames: int,
    vol: int = 60,
    gain: int = 28,
    setup: Callable[[], None] | None = None,
    teardown: Callable[[], None] | None = None,
) -> str:
    """sample-Ai's body: set-up, ``frames`` x (Polling, GetFrame, write, Release), teardown."""
    ai_start(vol, gain)
    try:
        if setup is not None:
            setup()
        with open(path, "wb") as f:
            for _ in _stopping.until_stopped(frames):
                check(IMP_AI_PollingFrame(AI_DEV, AI_CHN, 1000), "IMP_AI_PollingFrame")
                frm = IMPAudioFrame()
                check(IMP_AI_GetFrame(AI_DEV, AI_CHN, frm, IMPBlock.BLOCK), "IMP_AI_GetFrame")
                write_frame(f, frm.virAddr, frm.len)
                check(IMP_AI_ReleaseFrame(AI_DEV, AI_CHN, frm), "IMP_AI_ReleaseFrame")
        if teardown is not None:
            teardown()
    finally:
        ai_stop()
    return path


def ao_start(vol: int, gain: int, frm_num: int = 20) -> None:
    """sample-Ao's set-up on device 0, channel 0."""
    check(IMP_AO_SetPubAttr(AO_DEV, io_attr(frm_num)), "IMP_AO_SetPubAttr")
    check(IMP_AO_GetPubAttr(AO_DEV, IMPAudioIOAttr()), "IMP_AO_GetPubAttr")
    check(IMP_AO_Enable(AO_DEV), "IMP_AO_Enable")
    check(IMP_AO_EnableChn(AO_DEV, AO_CHN), "IMP_AO_EnableChn")
    check(IMP_AO_SetVol(AO_DEV, AO_CHN, vol), "IMP_AO_SetVol")
    out = ctypes.c_int()
    check(IMP_AO_GetVol(AO_DEV, AO_CHN, out), "IMP_AO_GetVol")
    check(IMP_AO_SetGain(AO_DEV, AO_CHN, gain), "IMP_AO_SetGain")
    check(IMP_AO_GetGain(AO_DEV, AO_CHN, out), "IMP_AO_GetGain")


def ao_play_file(path: str, chunk: int, on_chunk: Callable[[int], None] | None = None) -> int:
    """Send ``path`` in ``chunk``-byte frames (BLOCK) with QueryChnStat after each; returns the
    number of chunks sent."""
    buf = (ctypes.c_uint8 * chunk)()
    status = IMPAudioOChnState()
    n = 0
    with open(path, "rb") as f:
        while not _stopping.stopping():
            data = f.read(chunk)
            if len(data) < 2:
                break
            data = data[: len(data) // 2 * 2]
            ctypes.memmove(buf, data, len(data))
            frame = IMPAudioFrame()
            frame.virAddr = ctypes.cast(buf, type(frame.virAddr))
            frame.len = len(data)
            check(IMP_AO_SendFrame(AO_DEV, AO_CHN, frame, IMPBlock.BLOCK), "IMP_AO_SendFrame")
            check(IMP_AO_QueryChnStat(AO_DEV, AO_CHN, status), "IMP_AO_QueryChnStat")
            n += 1
            if on_chunk is not None:
                on_chunk(n)
    return n


def play_thread(path: str, chunk: int, tail: float, vol: int = 60, gain: int = 28) -> None:
    """The AO thread of the AEC/Ref samples: play ``path``, sleep ``tail`` s, disable."""
    ao_start(vol, gain)
    try:
        ao_play_file(path, chunk)
        _stopping.pause(tail)
    finally:
        check(IMP_AO_DisableChn(AO_DEV, AO_CHN), "IMP_AO_DisableChn")
        check(IMP_AO_Disable(AO_DEV), "IMP_AO_Disable")


def write_frame(f: BinaryIO, vir_addr: Any, length: int) -> None:
    """``fwrite(frm.virAddr, 1, frm.len, file)`` without a copy."""
    addr = ctypes.cast(vir_addr, ctypes.c_void_p).value
    if not addr or length <= 0:
        return
    f.write(memoryview((ctypes.c_char * length).from_address(addr)).cast("B"))


def add_pause_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--interactive",
        action="store_true",
        help="wait for Enter where the C sample calls getchar()",
    )
    p.add_argument(
        "--pause",
        type=float,
        default=0.5,
        help="seconds to wait instead of getchar() (default 0.5)",
    )


def pause(args: argparse.Namespace, prompt: str) -> None:
    """The C sample's ``getchar()``: Enter with --interactive, else ``--pause`` seconds."""
    if getattr(args, "interactive", False):
        print(prompt, file=sys.stderr)
        sys.stdin.readline()
    else:
        _stopping.pause(max(0.0, getattr(args, "pause", 0.0)))
