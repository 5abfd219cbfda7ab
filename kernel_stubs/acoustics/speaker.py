"""What the simulated speaker played: a history ring (for the echo and the AEC reference) and the
``IMP_SIM_SPEAKER`` WAV file.

Positions are sample indices on the codec's timeline. The history is post-DAC: exactly what
left the speaker. Positions never written (the application ran dry, paused, or had not started)
read as silence, and are written to the WAV as silence, so the file's timeline is the speaker's.
"""

from __future__ import annotations

import wave

import numpy as np

__all__ = ["SpeakerFile", "SpeakerHistory"]


class SpeakerHistory:
    """The last ``size`` samples the speaker played, addressable by timeline position."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._ring = np.zeros(size, dtype=np.int16)
        self.end = 0  # positions < end are decided (played or silent)

    def reset(self, position: int = 0) -> None:
        self._ring[:] = 0
        self.end = position

    def write(self, position: int, data: np.ndarray) -> None:
        """Place ``data`` at ``position`` (>= ``end``); a gap before it becomes silence."""
        if position > self.end:
            gap_from = max(self.end, position - self.size)
            self._put(gap_from, np.zeros(position - gap_from, dtype=np.int16))
        self._put(position, data)
        self.end = max(self.end, position + len(data))

    def _put(self, position: int, data: np.ndarray) -> None:
        if len(data) > self.size:  # only the newest `size` samples can be held
            position += len(data) - self.size
            data = data[-self.size :]
        idx = np.arange(position, position + len(data)) % self.size
        self._ring[idx] = data

    def read(self, position: int, n: int) -> np.ndarray:
        """Samples [position, position + n); silence outside what is held."""
        out = np.zeros(n, dtype=np.int16)
        lo = max(position, self.end - self.size, 0)
        hi = min(position + n, self.end)
        if hi <= lo:
            return out
        idx = np.arange(lo, hi) % self.size
        out[lo - position : hi - position] = self._ring[idx]
        return out


class SpeakerFile:
    """The WAV (s16 mono) of one AO stream, from its enable to its disable."""

    def __init__(self, path: str, rate: int, start: int) -> None:
        self.path = path
        self._wav = wave.open(path, "wb")  # noqa: SIM115 - closed by close()
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(rate)
        self.written = start  # timeline position of the next sample to write
        self.frames = 0

    def drain(self, history: SpeakerHistory, upto: int) -> None:
        """Append what the speaker played up to position ``upto``."""
        while self.written < upto:
            n = min(upto - self.written, history.size // 2)
            data = history.read(self.written, n)
            self._wav.writeframes(data.astype("<i2").tobytes())
            self.written += n
            self.frames += n

    def close(self) -> None:
        self._wav.close()
