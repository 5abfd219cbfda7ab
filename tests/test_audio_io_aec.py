"""AEC through the whole device path (speaker -> simulated echo -> microphone -> AI AEC), and the
AEC / reference samples: their files, and references that are what the speaker played."""

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
from imp.samples import ai_aec, ai_ref, dmic_aec, dmic_ref
from imp.samples import audio_common as ac
from imp.samples.common import Threads

pytest.importorskip("imp.audio.processing")


@pytest.fixture(autouse=True)
def audio_down() -> Iterator[None]:
    yield
    imp.audio.shutdown()


def _speech_like(seconds: float, seed: int = 1) -> np.ndarray:
    """Band-limited (200..3500 Hz) noise with a 4 Hz syllable envelope, peak 8000."""
    n = int(16000 * seconds)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / 16000)
    spectrum[(freqs < 200) | (freqs > 3500)] = 0
    x = np.fft.irfft(spectrum, n)
    x *= (0.5 + 0.5 * np.sin(2 * np.pi * 4 * np.arange(n) / 16000)) ** 2
    result: np.ndarray = (x / np.abs(x).max() * 8000).astype("<i2")
    return result


def _record_while_playing(tmp_path: Path, far: Path, aec: bool) -> np.ndarray:
    out = tmp_path / f"rec_{aec}.pcm"

    def ai() -> None:
        def setup() -> None:
            assert capi.IMP_AI_EnableAec(ac.AI_DEV, ac.AI_CHN, ac.AO_DEV, ac.AO_CHN) == 0

        ac.record_loop(str(out), 190, vol=60, gain=12, setup=setup if aec else None)

    threads = Threads()
    threads.start("aec-ai", ai)
    threads.start("aec-ao", ac.play_thread, str(far), 1280, 0.1, 60, 12)
    threads.join()
    threads.check()
    imp.audio.shutdown()
    return np.fromfile(out, dtype="<i2").astype(np.float64)


def test_echo_falls_by_more_than_25db_through_ai_aec(tmp_path: Path) -> None:
    far = tmp_path / "far.pcm"
    _speech_like(8.0).tofile(far)
    sim_overrides(clock="virtual", mic="silence", echo="10:-10")
    raw = _record_while_playing(tmp_path, far, aec=False)
    sim_overrides(clock="virtual", mic="silence", echo="10:-10")
    cancelled = _record_while_playing(tmp_path, far, aec=True)
    window = slice(3 * 16000, 7 * 16000)  # after 2 s of convergence, while the far end talks
    echo_db = 10 * np.log10(np.mean(raw[window] ** 2))
    left_db = 10 * np.log10(np.mean(cancelled[window] ** 2) + 1e-3)
    print(f"echo {echo_db:.1f} dB, after AI AEC {left_db:.1f} dB: ERLE {echo_db - left_db:.1f} dB")
    assert echo_db > 40  # the echo path works: -10 dB of a peak-8000 signal
    assert echo_db - left_db >= 25


def test_sample_ai_aec_writes_its_files(tmp_path: Path) -> None:
    sim_overrides(clock="virtual", mic="tone:440:-30")
    argv = ["--out", str(tmp_path), "--frames", "60", "--tail", "0", "--pause", "0"]
    assert ai_aec.main(argv) == 0
    for name in ("test_for_play.pcm", "test_aec_record.pcm"):
        assert (tmp_path / name).stat().st_size == 60 * 1280


def test_sample_ai_ref_reference_is_the_played_recording(tmp_path: Path) -> None:
    sim_overrides(clock="virtual", mic="noise:-66", echo="off")  # no clipping at +48 dB
    argv = ["--out", str(tmp_path), "--frames", "60", "--tail", "0", "--pause", "0"]
    assert ai_ref.main(argv) == 0
    played = np.fromfile(tmp_path / "ref_test_for_play.pcm", "<i2").astype(np.float64)
    ref = np.fromfile(tmp_path / "ref_test_ref.pcm", "<i2").astype(np.float64)
    assert len(ref) == len(played) == 60 * 640
    # AO plays at gain 28 (+24 dB): the reference is the recording, 24 dB louder, later on
    active = ref[np.flatnonzero(ref)[0] :][:16000]
    best = max(np.corrcoef(active, played[k : k + len(active)])[0, 1] for k in range(0, 640 * 20))
    assert best > 0.99


def test_dmic_samples_with_a_speaker(tmp_path: Path) -> None:
    play = tmp_path / "play.pcm"
    _speech_like(3.0, seed=2).tofile(play)
    sim_overrides(clock="virtual", mic="silence", echo="10:-10")
    argv = ["--out", str(tmp_path), "--frames", "50", "--play", str(play)]
    assert dmic_ref.main(argv) == 0
    ref = np.fromfile(tmp_path / "dmic_ref.pcm", "<i2")
    assert len(ref) == 50 * 640 and np.abs(ref).max() > 0
    sim_overrides(clock="virtual", mic="silence", echo="10:-10")
    assert dmic_aec.main(argv) == 0
    assert (tmp_path / "dmic_aec.pcm").stat().st_size == 50 * 1280


def _level_through_ai(
    mic: str, enable: list[tuple[str, tuple[object, ...]]], frames: int, peak: bool = False
) -> float:
    """dBFS (RMS re a full-scale sine, or the peak) of the last 50 frames AI delivers with
    ``enable`` on."""
    sim_overrides(clock="virtual", mic=mic, echo="off")
    attr = ac.io_attr(40)
    for name, args in enable:
        assert getattr(capi, name)(attr, *args) == 0, name
    ac.ai_start(60, 12)
    xs = []
    for _ in range(frames):
        frm = capi.IMPAudioFrame()
        assert capi.IMP_AI_GetFrame(ac.AI_DEV, ac.AI_CHN, frm, capi.IMPBlock.BLOCK) == 0
        addr = ctypes.cast(frm.virAddr, ctypes.c_void_p).value or 0
        data = np.frombuffer((ctypes.c_char * frm.len).from_address(addr), "<i2")
        xs.append(data.astype(np.float64))
        assert capi.IMP_AI_ReleaseFrame(ac.AI_DEV, ac.AI_CHN, frm) == 0
    ac.ai_stop()
    for fn in ("IMP_AI_DisableHpf", "IMP_AI_DisableNs", "IMP_AI_DisableAgc"):
        assert getattr(capi, fn)() == 0
    x = np.concatenate(xs[-50:])
    if peak:
        return float(20 * np.log10(np.abs(x).max() / 32768))
    return float(20 * np.log10(np.sqrt(np.mean(x**2)) / (32768 / np.sqrt(2)) + 1e-12))


def test_hpf_agc_ns_are_applied_to_ai_frames(tmp_path: Path) -> None:
    hum = _level_through_ai("tone:50:-20", [], 50)
    hum_hpf = _level_through_ai("tone:50:-20", [("IMP_AI_EnableHpf", ())], 50)
    print(f"50 Hz hum {hum:.1f} dBFS, with AI HPF {hum_hpf:.1f} dBFS")
    assert hum - hum_hpf >= 20
    # speech-like bursts of a -40 dBFS (peak) tone, from a file: WebRTC's AGC adapts on speech
    bursts = tmp_path / "bursts.wav"
    t = np.arange(16000 * 8) / 16000
    tone = 32768 * 0.01 * np.sin(2 * np.pi * 1000 * t) * (np.sin(2 * np.pi * 1.5 * t) > 0)
    with wave.open(str(bursts), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.rint(tone).astype("<i2").tobytes())
    cfg = capi.IMPAudioAgcConfig(TargetLevelDbfs=10, CompressionGaindB=20)
    peak = _level_through_ai(f"file:{bursts}", [("IMP_AI_EnableAgc", (cfg,))], 200, peak=True)
    print(f"-40 dBFS bursts with AI AGC (target -10 dBFS): peak {peak:.1f} dBFS")
    assert abs(peak + 10) <= 3
    noise = _level_through_ai("noise:-30", [], 50)
    noise_ns = _level_through_ai("noise:-30", [("IMP_AI_EnableNs", (3,))], 50)
    print(f"noise {noise:.1f} dBFS, with AI NS {noise_ns:.1f} dBFS")
    assert noise - noise_ns >= 10


def _tone_db(x: np.ndarray, hz: float = 1000) -> float:
    n = np.arange(len(x))
    w = 2 * np.pi * hz / 16000
    basis = np.stack([np.sin(w * n), np.cos(w * n)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, x, rcond=None)
    return float(20 * np.log10(np.hypot(coef[0], coef[1])))


def test_near_end_tone_keeps_its_level_through_ai_aec(tmp_path: Path) -> None:
    far = tmp_path / "far.pcm"
    _speech_like(8.0).tofile(far)
    levels = []
    for aec in (False, True):
        sim_overrides(clock="virtual", mic="tone:1000:-30", echo="10:-10")
        x = _record_while_playing(tmp_path, far, aec)
        levels.append(_tone_db(x[3 * 16000 : 7 * 16000]))
    print(f"near-end tone without / with AEC while the far end talks: {levels} dB")
    assert abs(levels[1] - levels[0]) <= 1


def test_dmic_aec_frame_cancels_the_echo(tmp_path: Path) -> None:
    """sample-dmic-aec's set-up (speaker at volume 80, gain 28: +34 dB) with a quiet far end, so
    nothing clips: the aecFrame's echo falls to the capsule's own noise floor."""
    import argparse

    from imp.samples import dmic_common as dc

    play = tmp_path / "play.pcm"
    (_speech_like(8.0).astype(np.float64) / 80).astype("<i2").tofile(play)
    sim_overrides(clock="virtual", mic="silence", echo="10:-10")
    dc.dmic_start(need_aec=1)
    assert capi.IMP_DMIC_EnableAec(0, 0, ac.AO_DEV, ac.AO_CHN) == 0
    threads = Threads()
    dc.start_player(threads, argparse.Namespace(play=str(play)), 1280)
    raw, cancelled = [], []
    for _ in range(190):
        cf = capi.IMPDmicChnFrame()
        assert capi.IMP_DMIC_PollingFrame(0, 0, 1000) == 0
        assert capi.IMP_DMIC_GetFrame(0, 0, cf, capi.IMPBlock.BLOCK) == 0
        raw.append(dc.deinterleave(cf)[:, 1].astype(np.float64))  # the AEC capsule (1)
        a = cf.aecFrame
        addr = ctypes.cast(a.virAddr, ctypes.c_void_p).value or 0
        data = np.frombuffer((ctypes.c_char * a.len).from_address(addr), "<i2")
        cancelled.append(data.astype(np.float64))
        assert capi.IMP_DMIC_ReleaseFrame(0, 0, cf) == 0
    threads.join()
    threads.check()
    dc.dmic_stop()
    window = slice(3 * 16000, 7 * 16000)
    echo_db = 10 * np.log10(np.mean(np.concatenate(raw)[window] ** 2))
    left_db = 10 * np.log10(np.mean(np.concatenate(cancelled)[window] ** 2) + 1e-3)
    print(f"DMIC capsule 1: echo {echo_db:.1f} dB, aecFrame {left_db:.1f} dB")
    assert echo_db - left_db >= 20
