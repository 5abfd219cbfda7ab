"""What an audio encoder/decoder is to AENC/ADEC, and the payload types of ``imp_audio.h``."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol, runtime_checkable

import numpy as np

from imp.types import AUDIO_BIT_WIDTH_16, AUDIO_SOUND_MODE_MONO, IMPAudioFrame


class PayloadType(IntEnum):
    """``IMPAudioPalyloadType`` (sic). Registered codecs get handles from ``PT_MAX`` up."""

    PCM = 0
    G711A = 1
    G711U = 2
    G726 = 3
    AEC = 4
    ADPCM = 5
    MAX = 6


@dataclass
class PcmFrame:
    """One frame handed to an encoder: int16 mono samples (a view, often of rmem), its capture
    timestamp (µs) and sequence number, and the C ``IMPAudioFrame`` it came in as, if any
    (C-style encoders get that very struct)."""

    samples: np.ndarray
    rate: int
    timestamp: int = 0
    seq: int = 0
    c_frame: IMPAudioFrame | None = None

    def as_c_frame(self) -> IMPAudioFrame:
        """The C view of this frame (built around ``samples`` when there is none)."""
        if self.c_frame is None:
            f = IMPAudioFrame()
            f.bitwidth, f.soundmode = AUDIO_BIT_WIDTH_16, AUDIO_SOUND_MODE_MONO
            f.virAddr = ctypes.cast(self.samples.ctypes.data, ctypes.POINTER(ctypes.c_uint32))
            f.timeStamp, f.seq, f.len = self.timestamp, self.seq, self.samples.nbytes
            self.c_frame = f
        return self.c_frame


@runtime_checkable
class AudioEncoder(Protocol):
    """Turns PCM frames into encoded bytes; may return b"" while it gathers a codec frame."""

    codec: str  # the Packet codec name: "g711a", "aac", ...

    def encode(self, frame: PcmFrame) -> bytes: ...

    def close(self) -> None: ...


@runtime_checkable
class AudioDecoder(Protocol):
    """Turns one encoded packet into int16 mono PCM (may be empty while priming)."""

    codec: str

    def decode(self, data: bytes) -> np.ndarray: ...

    def close(self) -> None: ...
