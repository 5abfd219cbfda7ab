"""High-pass filter with a settable cut-off: FFmpeg's ``highpass`` filter through PyAV.

WebRTC's own HPF has a fixed corner, while ``IMP_AI_SetHpfCoFrequency`` lets the caller choose
it, so the filter is FFmpeg's (libavfilter ``af_biquads``): two 2-pole Butterworth sections in
series (4th order, 24 dB/octave), so that mains hum an octave below the corner falls by >= 20 dB
while speech an octave above stays flat. State is kept across calls by the filter graph.
"""

from __future__ import annotations

import threading

import av
import numpy as np

from imp.audio.processing._blocks import as_mono_int16, check_rate
from imp.errors import InvalidArgument

SECTIONS = 2


class HighPassFilter:
    """Mirrors the AI/AO HPF (``IMP_AI_EnableHpf`` + ``IMP_AI_SetHpfCoFrequency``)."""

    def __init__(self, rate: int, cutoff_hz: int) -> None:
        self.rate = check_rate(rate, "HighPassFilter")
        if not isinstance(cutoff_hz, int) or not 10 <= cutoff_hz < rate // 2:
            raise InvalidArgument(
                f"HighPassFilter: cut-off {cutoff_hz!r} Hz must be 10..{rate // 2 - 1} Hz"
            )
        self.cutoff_hz = cutoff_hz
        self._lock = threading.Lock()
        self._pts = 0
        self._graph = self._build()

    def _build(self) -> av.filter.Graph:
        graph = av.filter.Graph()
        node = graph.add_abuffer(sample_rate=self.rate, format="s16", layout="mono")
        first = node
        for _ in range(SECTIONS):
            section = graph.add("highpass", f"f={self.cutoff_hz}:p=2")
            node.link_to(section)
            node = section
        sink = graph.add("abuffersink")
        node.link_to(sink)
        graph.configure()
        del first
        return graph

    def process(self, frame: np.ndarray) -> np.ndarray:
        """Filter ``frame`` (a multiple of 10 ms); returns a new array of the same length."""
        data = as_mono_int16(frame, self.rate, "HighPassFilter")
        av_frame = av.AudioFrame.from_ndarray(data.reshape(1, -1), format="s16", layout="mono")
        av_frame.sample_rate = self.rate
        with self._lock:
            av_frame.pts = self._pts
            self._pts += len(data)
            self._graph.push(av_frame)
            parts = []
            while True:
                try:
                    out = self._graph.pull()
                except (av.BlockingIOError, av.EOFError):
                    break
                parts.append(out.to_ndarray().reshape(-1))
        result = np.concatenate(parts) if parts else np.zeros(0, np.int16)
        if len(result) != len(data):  # the biquads have no look-ahead: one frame in, one out
            raise InvalidArgument(
                f"HighPassFilter: FFmpeg returned {len(result)} samples for {len(data)}"
            )
        return result.astype(np.int16, copy=False)

    def reset(self) -> None:
        """Clear the filter state."""
        with self._lock:
            self._graph = self._build()
            self._pts = 0
