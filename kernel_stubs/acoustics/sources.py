"""Microphone sources: what the air in front of the simulated microphones carries.

Every source is *random access*: ``render(start, n)`` gives the samples at absolute positions
[start, start + n) of the stream's timeline, as float64 in int16 units (not yet clipped). So
several readers (the analog mic, four DMIC capsules each with its own delay) can look at the
same sound at different instants without any shared cursor, and a tone stays phase-continuous
whatever the read pattern. Noise is generated in fixed blocks seeded by their index for the
same reason.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from kernel_stubs.acoustics.config import MicSpec

__all__ = ["FULL_SCALE", "Source", "make_source", "white_noise"]

FULL_SCALE = 32768.0
_SINE_RMS = FULL_SCALE / math.sqrt(2.0)  # RMS of a full-scale sine: the dBFS reference of noise
_BLOCK = 4096


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def white_noise(start: int, n: int, rms: float, seed: int) -> np.ndarray:
    """Gaussian white noise of RMS ``rms`` at positions [start, start + n), reproducibly."""
    out = np.empty(n, dtype=np.float64)
    pos = start
    done = 0
    while done < n:
        block, offset = divmod(pos, _BLOCK)
        take = min(_BLOCK - offset, n - done)
        rng = np.random.default_rng((seed, block & 0xFFFFFFFFFFFF))
        out[done : done + take] = rng.standard_normal(_BLOCK)[offset : offset + take]
        done += take
        pos += take
    out *= rms
    return out


class Source:
    """Base: silence."""

    def __init__(self, rate: int) -> None:
        self.rate = rate

    def render(self, start: int, n: int) -> np.ndarray:
        return np.zeros(n, dtype=np.float64)


class Tone(Source):
    """``tone:HZ:DBFS``: a sine whose peak is DBFS below 32768, phase 0 at position 0."""

    def __init__(self, rate: int, hz: float, dbfs: float) -> None:
        super().__init__(rate)
        self.hz = hz
        self.peak = FULL_SCALE * db_to_gain(dbfs)

    def render(self, start: int, n: int) -> np.ndarray:
        pos = np.arange(start, start + n, dtype=np.float64)
        # the cycle count modulo 1 keeps the phase exact for long runs
        cycles = np.mod(pos * (self.hz / self.rate), 1.0)
        result: np.ndarray = self.peak * np.sin(2.0 * np.pi * cycles)
        return result


class Noise(Source):
    """``noise:DBFS``: white noise whose RMS is DBFS below a full-scale sine's."""

    def __init__(self, rate: int, dbfs: float, seed: int = 1) -> None:
        super().__init__(rate)
        self.rms = _SINE_RMS * db_to_gain(dbfs)
        self.seed = seed

    def render(self, start: int, n: int) -> np.ndarray:
        return white_noise(start, n, self.rms, self.seed)


class Room(Source):
    """The default: a quiet room (noise at -60 dBFS) where a soft two-note chime sounds every 3 s.

    The chime (660 Hz then 880 Hz, 250 ms each, -26 dBFS, raised-cosine edges) makes a default
    recording audibly alive and easy to spot in a waveform view.
    """

    PERIOD_S = 3.0
    NOTE_S = 0.25

    def __init__(self, rate: int) -> None:
        super().__init__(rate)
        self.floor = Noise(rate, -60.0, seed=7)
        self.peak = FULL_SCALE * db_to_gain(-26.0)

    def render(self, start: int, n: int) -> np.ndarray:
        out = self.floor.render(start, n)
        pos = np.arange(start, start + n, dtype=np.int64)
        period = int(self.PERIOD_S * self.rate)
        note = int(self.NOTE_S * self.rate)
        local = np.mod(pos, period)
        active = local < 2 * note
        if active.any():
            t = local[active].astype(np.float64)
            hz = np.where(t < note, 660.0, 880.0)
            within = np.mod(t, note) / note
            envelope = np.sin(np.pi * within) ** 2
            cycles = np.mod(pos[active] * hz / self.rate, 1.0)
            out[active] += self.peak * envelope * np.sin(2.0 * np.pi * cycles)
        return out


class FileSource(Source):
    """``file:PATH``: anything PyAV decodes, mixed to mono, resampled to the rate, looped."""

    def __init__(self, rate: int, path: str) -> None:
        super().__init__(rate)
        self.samples = _decode(path, rate)

    def render(self, start: int, n: int) -> np.ndarray:
        length = len(self.samples)
        idx = np.mod(np.arange(start, start + n, dtype=np.int64), length)
        result: np.ndarray = self.samples[idx]
        return result


@lru_cache(maxsize=4)
def _decode(path: str, rate: int) -> np.ndarray:
    try:
        import av
    except ImportError as exc:  # the MIPS tier has no PyAV
        raise ValueError(f"IMP_SIM_MIC=file:{path}: PyAV is not installed") from exc
    chunks: list[np.ndarray] = []
    try:
        with av.open(path) as container:
            if not container.streams.audio:
                raise ValueError(f"IMP_SIM_MIC=file:{path}: the file has no audio stream")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except av.FFmpegError as exc:
        raise ValueError(f"IMP_SIM_MIC=file:{path}: cannot decode: {exc}") from exc
    if not chunks or sum(len(c) for c in chunks) == 0:
        raise ValueError(f"IMP_SIM_MIC=file:{path}: no audio samples decoded")
    return np.concatenate(chunks).astype(np.float64)


def make_source(spec: MicSpec, rate: int) -> Source:
    if spec.kind == "tone":
        return Tone(rate, spec.hz, spec.dbfs)
    if spec.kind == "noise":
        return Noise(rate, spec.dbfs)
    if spec.kind == "file":
        return FileSource(rate, spec.path)
    if spec.kind == "room":
        return Room(rate)
    return Source(rate)
