"""CPU cost of audio processing and codecs: CPU seconds per second of audio (% of one core).

Run from the repo root: PYTHONPATH=. .venv/bin/python bench/audio_processing.py [--seconds N]

1. G711A at 16 kHz through AENC (``IMP_AENC_SendFrame`` / ``GetStream`` / ``ReleaseStream``
   on 40 ms frames, the rmem stream buffer included); AI itself is measured by
   ``bench/audio_ai.py`` (the issue's target, <= 3 % of a core, is for the two together).
2. NS (level 2) + AGC (target 10, compression 9) + AEC on 40 ms frames at 16 kHz, the AI
   processing chain prudynt-t enables (target <= 15 %); each part alone too.
3. Opus 48 kHz (libopus through PyAV, 20 ms packets), and for comparison AAC 16 kHz, G.726-32 at
   8 kHz and the built-in G.711 tables alone.

Signals are generated (speech-like noise bursts); the process CPU time (``time.process_time``)
is divided by the seconds of audio handled.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import time
from collections.abc import Callable

import numpy as np

os.environ.setdefault("IMP_PLATFORM", "sim")

import imp.capi as capi
from imp.audio.aenc import get_aenc
from imp.audio.codecs import PayloadType, PcmFrame, builtin_encoder
from imp.audio.codecs.pyav import AacEncoder, OpusEncoder
from imp.audio.processing import Agc, EchoCanceller, NoiseSuppressor


def speechish(rate: int, seconds: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    env = np.clip(np.sin(2 * np.pi * 3.3 * t) * 0.8 + 0.4, 0, None)
    x = rng.standard_normal(len(t)) * env * 3000 + 2000 * np.sin(2 * np.pi * 440 * t)
    return np.clip(x, -32768, 32767).astype(np.int16)


PARTS = ("ns", "agc", "aec", "ns+agc+aec")
G711A, G726 = PayloadType.G711A, PayloadType.G726


def cpu_share(seconds: float, run: Callable[[], None]) -> float:
    """Percent of one core that ``run`` (handling ``seconds`` of audio) takes."""
    t0 = time.process_time()
    run()
    return 100.0 * (time.process_time() - t0) / seconds


def frames(x: np.ndarray, n: int) -> list[np.ndarray]:
    return [x[i : i + n] for i in range(0, len(x) - n + 1, n)]


def aenc_g711a(seconds: float) -> float:
    rate, n = 16000, 640
    pcm = frames(speechish(rate, seconds), n)
    attr = capi.IMPAudioEncChnAttr(type=capi.PT_G711A, bufSize=20)
    assert capi.IMP_AENC_CreateChn(0, attr) == 0
    c_frames = []
    for f in pcm:
        cf = capi.IMPAudioFrame()
        cf.bitwidth, cf.len = 16, f.nbytes
        cf.virAddr = ctypes.cast(f.ctypes.data, ctypes.POINTER(ctypes.c_uint32))
        c_frames.append(cf)
    stream = capi.IMPAudioStream()

    def run() -> None:
        for cf in c_frames:
            capi.IMP_AENC_SendFrame(0, cf)
            capi.IMP_AENC_PollingStream(0, 500)
            capi.IMP_AENC_GetStream(0, stream, capi.BLOCK)
            capi.IMP_AENC_ReleaseStream(0, stream)

    try:
        return cpu_share(seconds, run)
    finally:
        get_aenc().shutdown()


def processing(seconds: float, parts: str) -> float:
    rate, n = 16000, 640
    near, far = frames(speechish(rate, seconds, 1), n), frames(speechish(rate, seconds, 2), n)
    ns = NoiseSuppressor(rate, 2) if "ns" in parts else None
    agc = Agc(rate, 10, 9) if "agc" in parts else None
    aec = EchoCanceller(rate, n) if "aec" in parts else None

    def run() -> None:
        for m, f in zip(near, far, strict=True):
            y = m
            if aec is not None:
                y = aec.process(y, f)
            if ns is not None:
                y = ns.process(y)
            if agc is not None:
                y = agc.process(y)

    return cpu_share(seconds, run)


def codec(seconds: float, make: Callable[[], object], rate: int, frame_ms: int) -> float:
    enc = make()
    chunks = frames(speechish(rate, seconds), rate * frame_ms // 1000)

    def run() -> None:
        for c in chunks:
            enc.encode(PcmFrame(c, rate))  # type: ignore[attr-defined]

    return cpu_share(seconds, run)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=20.0, help="seconds of audio per figure")
    s = p.parse_args().seconds
    rows: list[tuple[str, Callable[[], float]]] = [
        ("AENC G711A 16 kHz, Send/Polling/Get/Release", lambda: aenc_g711a(s)),
        *[(f"{x.upper()} 16 kHz, 40 ms frames", lambda x=x: processing(s, x)) for x in PARTS],
        ("Opus 48 kHz (libopus, 20 ms)", lambda: codec(s, lambda: OpusEncoder(48000), 48000, 20)),
        ("AAC 16 kHz (FFmpeg aac, ADTS)", lambda: codec(s, lambda: AacEncoder(16000), 16000, 40)),
        ("G.726-32 8 kHz (spandsp)", lambda: codec(s, lambda: builtin_encoder(G726), 8000, 40)),
        (
            "G.711A 16 kHz, tables alone",
            lambda: codec(s, lambda: builtin_encoder(G711A), 16000, 40),
        ),
    ]
    print(f"CPU per second of audio ({s:g} s each), % of one core:")
    for label, measure in rows:
        print(f"  {label:<46} {measure():6.2f} %")
    print("AI itself: bench/audio_ai.py")
    print("targets (issue 11): AI + G711 <= 3 %, with NS + AGC + AEC <= 15 %")


if __name__ == "__main__":
    main()
