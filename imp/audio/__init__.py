"""Audio: input (AI), output (AO), the DMIC array, and a Pythonic microphone and speaker.

The C-style functions live in :mod:`imp.capi.audio_io`; the processing (NS, AGC, HPF, AEC) in
:mod:`imp.audio.processing`, the codecs in :mod:`imp.audio.codecs`.
"""

from __future__ import annotations
