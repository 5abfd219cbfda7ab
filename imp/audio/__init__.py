"""Audio: input (AI), output (AO), the DMIC array, and a Pythonic microphone and speaker.

The C-style functions live in :mod:`imp.capi.audio_io`; the processing (NS, AGC, HPF, AEC) in
:mod:`imp.audio.processing`, the codecs in :mod:`imp.audio.codecs`.
"""

from __future__ import annotations

__all__ = ["shutdown"]


def shutdown() -> None:
    """Disable every AI, AO and DMIC device (what IMP_System_Exit does for audio)."""
    from imp.audio.ai import get_ai
    from imp.audio.ao import get_ao
    from imp.audio.dmic import get_dmic

    get_ai().shutdown()
    get_ao().shutdown()
    get_dmic().shutdown()
