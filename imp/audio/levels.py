"""The vendor level scales of AI, AO and DMIC.

- Volume (software, applied to the samples by libimp): -30 .. 120, 0.5 dB per step,
  60 = 0 dB, -30 and below = mute; AI, AO and DMIC use the same scale.
- AI gain (the codec's PGA, ``SNDCTL_EXT_SET_RECORD_VOLUME``): 0 .. 31 = -18 dB .. +28.5 dB,
  1.5 dB per step, so 12 = 0 dB.
- AO gain (the codec's DAC, ``SNDCTL_EXT_SET_REPLAY_VOLUME``): the same mapping, 0 .. 31 =
  -18 dB .. +28.5 dB, 12 = 0 dB (our choice, stated in docs/STATUS.md: the reference gives
  only the 0..31 range).
- ALC gain (``IMP_AI_SetAlcGain``): 0 .. 7, stored for the ALC mode of the PGA.
"""

from __future__ import annotations

import numpy as np

from imp.errors import InvalidArgument

__all__ = [
    "ALC_GAIN_RANGE",
    "GAIN_RANGE",
    "GAIN_UNITY",
    "VOLUME_MUTE",
    "VOLUME_RANGE",
    "VOLUME_UNITY",
    "apply_db",
    "check_alc_gain",
    "check_gain",
    "check_volume",
    "gain_db",
    "volume_db",
]

VOLUME_RANGE = (-30, 120)
VOLUME_UNITY = 60
VOLUME_MUTE = -30
GAIN_RANGE = (0, 31)
GAIN_UNITY = 12
ALC_GAIN_RANGE = (0, 7)


def check_volume(value: int, what: str = "volume") -> int:
    lo, hi = VOLUME_RANGE
    if not lo <= value <= hi:
        raise InvalidArgument(f"{what} {value} is outside {lo}..{hi} (60 = 0 dB, 0.5 dB a step)")
    return value


def check_gain(value: int, what: str = "gain") -> int:
    lo, hi = GAIN_RANGE
    if not lo <= value <= hi:
        raise InvalidArgument(f"{what} {value} is outside {lo}..{hi} (12 = 0 dB, 1.5 dB a step)")
    return value


def check_alc_gain(value: int) -> int:
    lo, hi = ALC_GAIN_RANGE
    if not lo <= value <= hi:
        raise InvalidArgument(f"ALC gain {value} is outside {lo}..{hi}")
    return value


def volume_db(volume: int) -> float | None:
    """dB of a volume step; None for mute."""
    if volume <= VOLUME_MUTE:
        return None
    return (volume - VOLUME_UNITY) * 0.5


def gain_db(gain: int) -> float:
    return -18.0 + 1.5 * gain


def apply_db(samples: np.ndarray, db: float | None) -> None:
    """Scale int16 ``samples`` in place by ``db`` (None: silence), saturating at the limits."""
    if db is None:
        samples[:] = 0
        return
    if db == 0.0:
        return
    scaled = np.rint(samples.astype(np.float32) * np.float32(10.0 ** (db / 20.0)))
    np.clip(scaled, -32768, 32767, out=scaled)
    samples[:] = scaled.astype(np.int16)
