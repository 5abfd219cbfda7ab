"""AO details: non-blocking SendFrame on a full queue, Soft_Mute / Soft_UNMute as heard by the
speaker, CacheSwitch write-through, volume and mute as heard, and the errors of a paused flush."""

from __future__ import annotations

import ctypes
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import imp.audio
import imp.capi as capi
from imp.kernel import sim_overrides
from imp.samples import audio_common as ac

DEV, CHN = ac.AO_DEV, ac.AO_CHN


@pytest.fixture(autouse=True)
def audio_down() -> Iterator[None]:
    yield
    imp.audio.shutdown()


def _send(samples: np.ndarray, block: int = capi.IMPBlock.BLOCK) -> int:
    data = np.ascontiguousarray(samples, dtype=np.int16)
    frame = capi.IMPAudioFrame()
    frame.virAddr = ctypes.cast(data.ctypes.data, type(frame.virAddr))
    frame.len = data.nbytes
    return int(capi.IMP_AO_SendFrame(DEV, CHN, frame, block))


def _stat() -> tuple[int, int, int]:
    s = capi.IMPAudioOChnState()
    assert capi.IMP_AO_QueryChnStat(DEV, CHN, s) == 0
    return s.chnTotalNum, s.chnFreeNum, s.chnBusyNum


def _played(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def test_nonblocking_send_fails_when_the_queue_is_full() -> None:
    sim_overrides(clock="virtual", mic="silence")
    ac.ao_start(60, 12, frm_num=4)
    assert capi.IMP_AO_PauseChn(DEV, CHN) == 0
    tone = np.full(640, 1000, np.int16)
    for _ in range(4):
        assert _send(tone, capi.IMPBlock.NOBLOCK) == 0
    assert _stat() == (4, 0, 4)
    assert _send(tone, capi.IMPBlock.NOBLOCK) == -1  # no free buffer
    assert capi.IMP_AO_FlushChnBuf(DEV, CHN) == -1  # paused: would never drain
    assert capi.IMP_AO_ResumeChn(DEV, CHN) == 0
    assert capi.IMP_AO_FlushChnBuf(DEV, CHN) == 0
    assert _stat() == (4, 4, 0)


def test_soft_mute_fades_to_silence_and_unmute_back(tmp_path: Path) -> None:
    wav = tmp_path / "spk.wav"
    sim_overrides(clock="virtual", mic="silence", speaker=str(wav))
    ac.ao_start(60, 12)
    tone = np.full(640, 8000, np.int16)
    for _ in range(3):
        assert _send(tone) == 0
    assert capi.IMP_AO_FlushChnBuf(DEV, CHN) == 0
    assert capi.IMP_AO_Soft_Mute(DEV, CHN) == 0
    for _ in range(3):
        assert _send(tone) == 0
    assert capi.IMP_AO_FlushChnBuf(DEV, CHN) == 0
    assert capi.IMP_AO_Soft_UNMute(DEV, CHN) == 0
    for _ in range(3):
        assert _send(tone) == 0
    assert capi.IMP_AO_FlushChnBuf(DEV, CHN) == 0
    assert capi.IMP_AO_Disable(DEV) == 0
    x = _played(wav)
    start = int(np.flatnonzero(x)[0])
    frames = x[start : start + 9 * 640].reshape(9, 640)
    assert (frames[:3] == 8000).all()
    fade = frames[3]
    assert fade[0] > 7900 and fade[-1] < 50 and (np.diff(fade.astype(int)) <= 0).all()
    assert not frames[4:6].any()  # muted
    assert frames[6][0] < 50 and frames[6][-1] > 7900  # fades back in
    assert (frames[7:] == 8000).all()


def test_cache_off_writes_through() -> None:
    sim_overrides(clock="virtual", mic="silence")
    ac.ao_start(60, 12)
    assert capi.IMP_AO_CacheSwitch(DEV, CHN, 0) == 0
    for _ in range(5):
        assert _send(np.full(640, 100, np.int16)) == 0
        assert _stat()[2] == 0  # nothing left queued: SendFrame returned after the write
    assert capi.IMP_AO_CacheSwitch(DEV, CHN, 2) == -1


def test_volume_and_mute_as_the_speaker_plays_them(tmp_path: Path) -> None:
    wav = tmp_path / "spk.wav"
    sim_overrides(clock="virtual", mic="silence", speaker=str(wav))
    ac.ao_start(60, 12)
    tone = np.full(640, 4000, np.int16)
    levels = [(48, 0), (72, 0), (60, 1)]  # -6 dB, +6 dB, muted
    for vol, mute in levels:
        assert capi.IMP_AO_SetVol(DEV, CHN, vol) == 0
        assert capi.IMP_AO_SetVolMute(DEV, CHN, mute) == 0
        assert _send(tone) == 0
        assert capi.IMP_AO_FlushChnBuf(DEV, CHN) == 0
    assert capi.IMP_AO_SetGain(DEV, CHN, 16) == 0  # +6 dB in the DAC
    assert capi.IMP_AO_SetVolMute(DEV, CHN, 0) == 0
    assert capi.IMP_AO_SetVol(DEV, CHN, 60) == 0
    assert _send(tone) == 0
    assert capi.IMP_AO_FlushChnBuf(DEV, CHN) == 0
    assert capi.IMP_AO_Disable(DEV) == 0
    x = _played(wav)
    start = int(np.flatnonzero(x)[0])
    got = x[start : start + 4 * 640].reshape(4, 640)[:, 320]
    assert list(got) == [
        round(4000 * 10 ** (-6 / 20)),
        round(4000 * 10 ** (6 / 20)),
        0,
        round(4000 * 10 ** (6 / 20)),
    ]


def test_ai_set_vol_mute() -> None:
    sim_overrides(clock="virtual", mic="tone:1000:-20")
    ac.ai_start(60, 12, depth=2)
    assert capi.IMP_AI_SetVolMute(ac.AI_DEV, ac.AI_CHN, 1) == 0
    frm = capi.IMPAudioFrame()
    assert capi.IMP_AI_GetFrame(ac.AI_DEV, ac.AI_CHN, frm, capi.IMPBlock.BLOCK) == 0
    addr = ctypes.cast(frm.virAddr, ctypes.c_void_p).value or 0
    assert not np.frombuffer((ctypes.c_char * frm.len).from_address(addr), "<i2").any()
    assert capi.IMP_AI_ReleaseFrame(ac.AI_DEV, ac.AI_CHN, frm) == 0
    assert capi.IMP_AI_SetVolMute(ac.AI_DEV, ac.AI_CHN, 0) == 0
    assert capi.IMP_AI_GetFrame(ac.AI_DEV, ac.AI_CHN, frm, capi.IMPBlock.BLOCK) == 0
    addr = ctypes.cast(frm.virAddr, ctypes.c_void_p).value or 0
    assert np.frombuffer((ctypes.c_char * frm.len).from_address(addr), "<i2").max() == 3277
    assert capi.IMP_AI_ReleaseFrame(ac.AI_DEV, ac.AI_CHN, frm) == 0
    ac.ai_stop()
