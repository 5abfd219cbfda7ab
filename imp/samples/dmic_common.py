"""What the three DMIC samples share: set-up, the frame loop, teardown, the AO player thread."""

from __future__ import annotations

import argparse
import ctypes
import os
from collections.abc import Callable

import numpy as np

from imp.capi import (
    DMIC_BIT_WIDTH_16,
    DMIC_SOUND_MODE_MONO,
    IMP_AO_Disable,
    IMP_AO_DisableChn,
    IMP_AO_FlushChnBuf,
    IMP_DMIC_Disable,
    IMP_DMIC_DisableChn,
    IMP_DMIC_Enable,
    IMP_DMIC_EnableChn,
    IMP_DMIC_PollingFrame,
    IMP_DMIC_SetChnParam,
    IMP_DMIC_SetGain,
    IMP_DMIC_SetPubAttr,
    IMP_DMIC_SetUserInfo,
    IMP_DMIC_SetVol,
    IMPDmicAttr,
    IMPDmicChnFrame,
    IMPDmicChnParam,
)
from imp.samples import audio_common as ac
from imp.samples.common import Threads, check
from imp.samples.stopping import until_stopped

DMIC_DEV, DMIC_CHN = 0, 0
MICS = 4
FRAMES = 201


def dmic_start(need_aec: int) -> None:
    check(IMP_DMIC_SetUserInfo(DMIC_DEV, 1, need_aec), "IMP_DMIC_SetUserInfo")
    attr = IMPDmicAttr(
        samplerate=ac.RATE,
        bitwidth=DMIC_BIT_WIDTH_16,
        soundmode=DMIC_SOUND_MODE_MONO,
        frmNum=40,
        numPerFrm=ac.NUM_PER_FRM,
        chnCnt=MICS,
    )
    check(IMP_DMIC_SetPubAttr(DMIC_DEV, attr), "IMP_DMIC_SetPubAttr")
    check(IMP_DMIC_Enable(DMIC_DEV), "IMP_DMIC_Enable")
    check(IMP_DMIC_SetChnParam(DMIC_DEV, DMIC_CHN, IMPDmicChnParam(usrFrmDepth=40)), "SetChnParam")
    check(IMP_DMIC_EnableChn(DMIC_DEV, DMIC_CHN), "IMP_DMIC_EnableChn")
    check(IMP_DMIC_SetVol(DMIC_DEV, DMIC_CHN, 60), "IMP_DMIC_SetVol")
    check(IMP_DMIC_SetGain(DMIC_DEV, DMIC_CHN, 22), "IMP_DMIC_SetGain")


def dmic_stop() -> None:
    check(IMP_DMIC_DisableChn(DMIC_DEV, DMIC_CHN), "IMP_DMIC_DisableChn")
    check(IMP_DMIC_Disable(DMIC_DEV), "IMP_DMIC_Disable")


def dmic_loop(
    frames: int,
    get: Callable[[IMPDmicChnFrame], None],
    release: Callable[[IMPDmicChnFrame], None],
    use: Callable[[IMPDmicChnFrame], None],
) -> None:
    for _ in until_stopped(frames):
        check(IMP_DMIC_PollingFrame(DMIC_DEV, DMIC_CHN, 1000), "IMP_DMIC_PollingFrame")
        cf = IMPDmicChnFrame()
        get(cf)
        use(cf)
        release(cf)


def deinterleave(cf: IMPDmicChnFrame) -> np.ndarray:
    """``rawFrame`` as (samples, mics) int16 (a copy: the frame goes back right after)."""
    raw = cf.rawFrame
    addr = ctypes.cast(raw.virAddr, ctypes.c_void_p).value or 0
    data = np.frombuffer((ctypes.c_char * raw.len).from_address(addr), dtype="<i2")
    return data.reshape(-1, MICS).copy()


def start_player(threads: Threads, args: argparse.Namespace, chunk: int) -> None:
    """The AO thread of sample-dmic-aec/-ref: play ``--play`` (volume 80, gain 28), flush."""

    def player() -> None:
        ac.ao_start(80, 28)
        try:
            if os.path.exists(args.play):
                ac.ao_play_file(args.play, chunk)
            check(IMP_AO_FlushChnBuf(ac.AO_DEV, ac.AO_CHN), "IMP_AO_FlushChnBuf")
        finally:
            check(IMP_AO_DisableChn(ac.AO_DEV, ac.AO_CHN), "IMP_AO_DisableChn")
            check(IMP_AO_Disable(ac.AO_DEV), "IMP_AO_Disable")

    threads.start("sample-dmic-ao", player)
