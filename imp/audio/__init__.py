"""Audio: input (AI), output (AO), the DMIC array, and a Pythonic microphone and speaker.

The C-style functions live in :mod:`imp.capi.audio_io`; the processing (NS, AGC, HPF, AEC) in
:mod:`imp.audio.processing`, the codecs in :mod:`imp.audio.codecs`.
"""

from __future__ import annotations

from imp.audio.mic import AudioChunk, Microphone
from imp.audio.speaker import Speaker

__all__ = ["AudioChunk", "Microphone", "Speaker", "shutdown"]


def shutdown() -> None:
    """Disable every AI, AO and DMIC device and forget their attributes (a fresh process)."""
    from imp.audio import ai, ao, dmic

    ai.get_ai().shutdown()
    ao.get_ao().shutdown()
    dmic.get_dmic().shutdown()
    ai.reset()
    ao.reset()
    dmic.reset()
