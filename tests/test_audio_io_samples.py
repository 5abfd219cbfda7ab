"""Acceptance of the audio device side, measured on the samples: sizes, a phase-continuous
tone, the level scales, exact virtual timestamps, the speaker file of sample-Ao, the DMIC array."""

from __future__ import annotations

import ctypes
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import imp.audio
from imp.capi import (
    IMP_AI_Disable,
    IMP_AI_DisableChn,
    IMP_AI_GetFrame,
    IMP_AI_ReleaseFrame,
    IMPAudioFrame,
    IMPBlock,
)
from imp.kernel import sim_overrides
from imp.samples import ai as sample_ai
from imp.samples import ao as sample_ao
from imp.samples import audio_common as ac
from imp.samples import dmic as sample_dmic
from kernel_stubs.acoustics import DMIC_DELAYS_US
from kernel_stubs.acoustics.sources import Noise


@pytest.fixture(autouse=True)
def audio_down() -> Iterator[None]:
    yield
    imp.audio.shutdown()


def _pcm(path: str | Path) -> np.ndarray:
    return np.fromfile(path, dtype="<i2").astype(np.float64)


def _sine_residual_db(x: np.ndarray, hz: float, rate: int) -> float:
    """Residual of the best single sine of ``hz`` (any phase, amplitude, offset), in dB rel."""
    n = np.arange(len(x))
    w = 2 * np.pi * hz / rate
    basis = np.stack([np.sin(w * n), np.cos(w * n), np.ones(len(x))], axis=1)
    coef, *_ = np.linalg.lstsq(basis, x, rcond=None)
    residual = x - basis @ coef
    return float(20 * np.log10(np.sqrt(np.mean(residual**2)) / np.sqrt(np.mean(x**2))))


def test_sample_ai_writes_640000_bytes(tmp_path: Path) -> None:
    sim_overrides(clock="virtual")
    assert sample_ai.main(["--out", str(tmp_path)]) == 0
    assert (tmp_path / "ai_record.pcm").stat().st_size == 640000


def test_tone_recording_is_one_phase_continuous_sine(tmp_path: Path) -> None:
    sim_overrides(clock="virtual", mic="tone:1000:-40")
    path = sample_ai.run(str(tmp_path), frames=500, vol=60, gain=12)  # unity: the source itself
    x = _pcm(path)
    assert len(x) == 320000
    residual = _sine_residual_db(x, 1000, 16000)
    print(f"tone:1000:-40 over 20 s: residual of one fitted sine {residual:.1f} dB")
    assert residual <= -50
    assert abs(np.abs(x).max() - 32768 * 10 ** (-40 / 20)) <= 1


@pytest.mark.parametrize(
    ("vol", "gain"),
    [(60, 12), (0, 12), (30, 12), (100, 12), (120, 12), (60, 0), (60, 31), (90, 20)],
)
def test_level_follows_volume_and_gain(vol: int, gain: int) -> None:
    sim_overrides(clock="virtual", mic="tone:1000:-40")
    ac.ai_start(vol, gain)
    try:
        frames = []
        for _ in range(48):
            frm = IMPAudioFrame()
            assert IMP_AI_GetFrame(ac.AI_DEV, ac.AI_CHN, frm, IMPBlock.BLOCK) == 0
            addr = ctypes.cast(frm.virAddr, ctypes.c_void_p).value
            data = np.frombuffer((ctypes.c_char * frm.len).from_address(addr or 0), "<i2")
            frames.append(data.astype(np.float64))
            assert IMP_AI_ReleaseFrame(ac.AI_DEV, ac.AI_CHN, frm) == 0
    finally:
        IMP_AI_DisableChn(ac.AI_DEV, ac.AI_CHN)
        IMP_AI_Disable(ac.AI_DEV)
    x = np.concatenate(frames[42:])  # after the 40 frames queued before SetGain
    level = 20 * np.log10(np.sqrt(np.mean(x**2)) * np.sqrt(2) / 32768)
    expected = -40 + (vol - 60) * 0.5 + (-18 + 1.5 * gain)
    print(f"vol {vol} gain {gain}: {level:.2f} dBFS (expected {expected:.2f})")
    assert abs(level - expected) <= 0.5


def test_mute_volume_gives_silence() -> None:
    sim_overrides(clock="virtual", mic="tone:1000:-20")
    ac.ai_start(-30, 12)
    try:
        frm = IMPAudioFrame()
        for _ in range(3):
            assert IMP_AI_GetFrame(ac.AI_DEV, ac.AI_CHN, frm, IMPBlock.BLOCK) == 0
            IMP_AI_ReleaseFrame(ac.AI_DEV, ac.AI_CHN, frm)
        addr = ctypes.cast(frm.virAddr, ctypes.c_void_p).value or 0
        assert not np.frombuffer((ctypes.c_char * frm.len).from_address(addr), "<i2").any()
    finally:
        IMP_AI_DisableChn(ac.AI_DEV, ac.AI_CHN)
        IMP_AI_Disable(ac.AI_DEV)


def test_virtual_clock_timestamps_are_exactly_40000us_apart() -> None:
    sim_overrides(clock="virtual", mic="silence")
    ac.ai_start(60, 12)
    stamps, seqs, phys = [], [], set()
    try:
        for _ in range(100):
            frm = IMPAudioFrame()
            assert IMP_AI_GetFrame(ac.AI_DEV, ac.AI_CHN, frm, IMPBlock.BLOCK) == 0
            stamps.append(frm.timeStamp)
            seqs.append(frm.seq)
            phys.add(frm.phyAddr)
            assert frm.len == 1280
            assert IMP_AI_ReleaseFrame(ac.AI_DEV, ac.AI_CHN, frm) == 0
    finally:
        IMP_AI_DisableChn(ac.AI_DEV, ac.AI_CHN)
        IMP_AI_Disable(ac.AI_DEV)
    assert set(np.diff(stamps)) == {40000}
    assert seqs == list(range(100))
    assert all(0x6300000 <= p < 0x6300000 + (29 << 20) for p in phys)  # frames live in rmem


# -- sample-Ao and the speaker ---------------------------------------------------------------------
def _chunks(count: int) -> list[np.ndarray]:
    """Distinct, never-zero 320-sample chunks (chunk k carries k in every sample's high bits)."""
    return [((k + 1) * 64 + (np.arange(320) % 32)).astype(np.int16) for k in range(count)]


def _speaker(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def test_speaker_plays_sample_exact_pause_is_silence_clear_and_flush(tmp_path: Path) -> None:
    from imp.audio.ao import get_ao
    from imp.capi import (
        IMP_AO_Disable,
        IMP_AO_DisableChn,
        IMP_AO_FlushChnBuf,
        IMP_AO_PauseChn,
        IMP_AO_QueryChnStat,
        IMP_AO_ResumeChn,
        IMP_AO_SendFrame,
        IMPAudioOChnState,
    )

    wav = tmp_path / "speaker.wav"
    sim_overrides(clock="realtime", mic="silence", echo="off", speaker=str(wav))
    chunks = _chunks(60)
    ac.ao_start(60, 12)  # unity

    def send(chunk: np.ndarray) -> None:
        buf = (ctypes.c_int16 * len(chunk))(*chunk.tolist())
        frame = IMPAudioFrame()
        frame.virAddr = ctypes.cast(buf, type(frame.virAddr))
        frame.len = 2 * len(chunk)
        assert IMP_AO_SendFrame(ac.AO_DEV, ac.AO_CHN, frame, IMPBlock.BLOCK) == 0

    for c in chunks[:40]:
        send(c)
    assert IMP_AO_PauseChn(ac.AO_DEV, ac.AO_CHN) == 0
    state = IMPAudioOChnState()
    assert IMP_AO_QueryChnStat(ac.AO_DEV, ac.AO_CHN, state) == 0
    assert state.chnTotalNum == 20 and state.chnFreeNum + state.chnBusyNum == 20
    import time

    time.sleep(0.4)  # the pause: the speaker must go silent
    dropped = get_ao().clear(ac.AO_DEV, ac.AO_CHN)
    assert IMP_AO_QueryChnStat(ac.AO_DEV, ac.AO_CHN, state) == 0 and state.chnBusyNum == 0
    assert IMP_AO_ResumeChn(ac.AO_DEV, ac.AO_CHN) == 0
    for c in chunks[40:]:
        send(c)
    assert IMP_AO_FlushChnBuf(ac.AO_DEV, ac.AO_CHN) == 0
    assert IMP_AO_DisableChn(ac.AO_DEV, ac.AO_CHN) == 0
    assert IMP_AO_Disable(ac.AO_DEV) == 0  # the WAV is complete and closed now

    played = _speaker(wav)
    before = np.concatenate(chunks[: 40 - dropped])
    after = np.concatenate(chunks[40:])
    print(f"ClearChnBuf dropped {dropped} queued frames; speaker file {len(played)} samples")
    assert dropped > 0
    # Every chunk sample is non-zero: what the speaker played, silences taken out, is exactly
    # the frames sent at unity minus those ClearChnBuf dropped, FlushChnBuf having played all.
    # (A loaded machine may starve the writer into a short extra silence; that is no error.)
    sound = played[played != 0]
    assert np.array_equal(sound, np.concatenate([before, after]))
    # the pause (400 ms, less what the driver's ring still held) is silence in the timeline
    sounding = np.flatnonzero(played)
    silent = sounding[len(before)] - sounding[len(before) - 1] - 1
    assert silent >= 0.2 * 16000


def test_sample_ao_runs_unattended(tmp_path: Path) -> None:
    pcm = tmp_path / "ao_paly.pcm"
    np.concatenate(_chunks(50)).astype("<i2").tofile(pcm)
    wav = tmp_path / "speaker.wav"
    sim_overrides(clock="realtime", mic="silence", speaker=str(wav))
    argv = ["--input", str(pcm), "--vol", "60", "--gain", "12", "--pause", "0.2"]
    assert sample_ao.main(argv) == 0
    played = _speaker(wav)
    first = np.concatenate(_chunks(15))  # older than the 20-frame queue ClearChnBuf drops
    assert np.array_equal(played[played != 0][: len(first)], first)


# -- DMIC ------------------------------------------------------------------------------------------
def test_dmic_capsules_each_correlate_with_the_source_after_their_delay(tmp_path: Path) -> None:
    sim_overrides(clock="virtual", mic="noise:-30", echo="off")
    paths = sample_dmic.run(str(tmp_path), frames=50)
    source = Noise(16000, -30.0).render(0, 50 * 640)
    for i, path in enumerate(paths):
        x = _pcm(path)
        assert len(x) == 50 * 640
        lag = round(DMIC_DELAYS_US[i] * 16000 / 1e6)
        aligned = np.corrcoef(x[lag + 640 :], source[640 : len(x) - lag])[0, 1]
        print(f"dmic{i}: lag {lag} samples, correlation {aligned:.3f}")
        assert aligned >= 0.9
        if lag:
            unaligned = np.corrcoef(x[640:], source[640:])[0, 1]
            assert unaligned < 0.5  # the delay is real
