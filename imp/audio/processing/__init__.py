"""Audio processing for AI/AO: noise suppression, AGC, high-pass filter, echo cancellation.

Mono int16 numpy frames, 8/16/32/48 kHz, any length that is a multiple of 10 ms; every object
keeps its state across calls and has ``reset()``. Libraries (chosen by measurement, see
docs/ARCHITECTURE.md): WebRTC APM for NS and AGC, speexdsp for AEC, FFmpeg for the HPF.
"""

from __future__ import annotations

from imp.audio.processing.echo import EchoCanceller
from imp.audio.processing.highpass import HighPassFilter
from imp.audio.processing.webrtc import Agc, NoiseSuppressor

__all__ = ["Agc", "EchoCanceller", "HighPassFilter", "NoiseSuppressor"]
