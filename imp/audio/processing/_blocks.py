"""Checks shared by the processing classes: rates and 10 ms block framing."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from imp.errors import InvalidArgument

SUPPORTED_RATES = (8000, 16000, 32000, 48000)


def check_rate(rate: int, what: str) -> int:
    if not isinstance(rate, int) or rate not in SUPPORTED_RATES:
        raise InvalidArgument(f"{what}: sample rate {rate!r} must be one of {SUPPORTED_RATES}")
    return rate


def block_samples(rate: int) -> int:
    """Samples in one 10 ms block, the unit every library here works in."""
    return rate // 100


def as_mono_int16(frame: object, rate: int, what: str) -> np.ndarray:
    """Validate a frame: mono int16 numpy array, a whole number of 10 ms blocks."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.int16 or frame.ndim != 1:
        got = (
            f"{frame.dtype} array of shape {frame.shape}"
            if isinstance(frame, np.ndarray)
            else type(frame).__name__
        )
        raise InvalidArgument(f"{what}: pass a 1-D numpy int16 array (mono), got {got}")
    n = block_samples(rate)
    if len(frame) % n:
        raise InvalidArgument(
            f"{what}: {len(frame)} samples is not a multiple of 10 ms ({n} samples at {rate} Hz)"
        )
    return np.ascontiguousarray(frame)


def blocks(frame: np.ndarray, rate: int) -> Iterator[np.ndarray]:
    """Consecutive 10 ms views of ``frame`` (no copies)."""
    n = block_samples(rate)
    for start in range(0, len(frame), n):
        yield frame[start : start + n]
