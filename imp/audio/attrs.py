"""Validated device attributes (``IMPAudioIOAttr`` / ``IMPDmicAttr``) and the processing seam.

The noise suppressor, AGC, high-pass filter and echo canceller are built by
:mod:`imp.audio.processing` (a separate part of the project); until that package is present the
enable functions answer :class:`~imp.errors.NotSupported`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from imp.errors import InvalidArgument, NotSupported

__all__ = ["RATES", "IoAttr", "processing"]

RATES = (8000, 16000, 24000, 32000, 44100, 48000, 96000)  # IMPAudioSampleRate
MAX_FRAMES = 50  # frmNum: the frames libimp buffers per device


@dataclass(frozen=True)
class IoAttr:
    """``IMPAudioIOAttr``: rate, bit width, sound mode (1 mono, 2 stereo), frmNum, numPerFrm,
    chnCnt."""

    samplerate: int
    bitwidth: int = 16
    soundmode: int = 1
    frmNum: int = 20
    numPerFrm: int = 640
    chnCnt: int = 1

    def validate(self, what: str, max_channels: int = 1, dmic: bool = False) -> IoAttr:
        rates = (8000, 16000) if dmic else RATES
        if self.samplerate not in rates:
            raise InvalidArgument(f"{what}.samplerate {self.samplerate}: use one of {rates}")
        if self.bitwidth != 16:
            raise InvalidArgument(f"{what}.bitwidth {self.bitwidth}: only 16 (AUDIO_BIT_WIDTH_16)")
        if self.soundmode not in (1, 2):
            raise InvalidArgument(f"{what}.soundmode {self.soundmode}: 1 (MONO) or 2 (STEREO)")
        if not 1 <= self.frmNum <= MAX_FRAMES:
            raise InvalidArgument(f"{what}.frmNum {self.frmNum}: must be 1..{MAX_FRAMES}")
        if not 1 <= self.numPerFrm <= self.samplerate:
            raise InvalidArgument(
                f"{what}.numPerFrm {self.numPerFrm}: samples per frame, 1..{self.samplerate} "
                "(1 s); e.g. 640 = 40 ms at 16 kHz"
            )
        if not 1 <= self.chnCnt <= max_channels:
            raise InvalidArgument(f"{what}.chnCnt {self.chnCnt}: must be 1..{max_channels}")
        return self

    @property
    def channels(self) -> int:
        """Interleaved channels per sample frame (stereo mode doubles them)."""
        return self.soundmode

    @property
    def frame_ms(self) -> float:
        return self.numPerFrm * 1000.0 / self.samplerate


def processing(feature: str) -> ModuleType:
    """The processing package, or NotSupported naming the feature."""
    try:
        module = importlib.import_module("imp.audio.processing")
    except ImportError:
        module = None
    if module is None or not hasattr(module, "NoiseSuppressor"):
        raise NotSupported(
            f"{feature}: audio processing (imp.audio.processing) is not available yet"
        )
    return module
