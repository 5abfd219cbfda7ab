"""The simulated acoustics behind ``/dev/dsp``: microphone sources, the speaker, the echo path,
the four-capsule DMIC array and the shared codec clock (see :mod:`.codec`)."""

from __future__ import annotations

from kernel_stubs.acoustics.codec import DMIC_DELAYS_US, DMIC_NOISE_DBFS, Codec
from kernel_stubs.acoustics.config import (
    DEFAULT_ECHO,
    AcousticsConfig,
    parse_echo,
    parse_mic,
    parse_speaker,
)

__all__ = [
    "DEFAULT_ECHO",
    "DMIC_DELAYS_US",
    "DMIC_NOISE_DBFS",
    "AcousticsConfig",
    "Codec",
    "parse_echo",
    "parse_mic",
    "parse_speaker",
]
