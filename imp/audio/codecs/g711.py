"""ITU-T G.711 A-law and mu-law, bit-exact (the PT_G711A / PT_G711U built-ins of AENC/ADEC).

Hand-written because it is a table: FFmpeg has the same codec but a per-frame PyAV round trip
costs more than the whole conversion, and the MIPS tier has no PyAV. The decoder returns each
interval's reconstruction level (ITU-T G.711 Tables 1a/2a); the encoder picks the nearest level
on the 14-bit grid. Both are lookup tables built on first use (65536 and 256 entries), so a
frame costs one numpy take.
``tests/test_audio_codec_g711.py`` compares every one of the 65536 inputs and 256 codes with
FFmpeg's pcm_alaw / pcm_mulaw.
"""

from __future__ import annotations

import functools

import numpy as np

from imp.errors import InvalidArgument


def _alaw_value(code: int) -> int:
    code ^= 0x55
    exponent = (code >> 4) & 7
    mantissa = code & 0xF
    segment_base = 0x108 << (exponent - 1) if exponent else 8
    magnitude = (mantissa << (4 + max(exponent - 1, 0))) + segment_base
    return magnitude if code & 0x80 else -magnitude


def _ulaw_value(code: int) -> int:
    code = ~code & 0xFF
    exponent = (code >> 4) & 7
    magnitude = ((((code & 0xF) << 3) + 0x84) << exponent) - 0x84
    return -magnitude if code & 0x80 else magnitude


_LINE_MASK = {"a": 0xD5, "u": 0xFF}  # code of magnitude index i on the line: i ^ mask (> 0)


@functools.cache
def _encode_table(law: str) -> np.ndarray:
    """Code for each 16-bit input: the nearest reconstruction level on the 14-bit grid.

    Magnitude index i (0..127) covers 14-bit magnitudes below the decision value half-way to
    index i + 1's reconstruction level (G.711's decision values are those midpoints).
    Negative inputs use the magnitude of their arithmetic 14-bit value, so the code space is
    symmetric in sign-magnitude. (The ITU-T G.191 reference takes the ones' complement of
    negatives first, which moves 964 inputs lying exactly on a decision value by one step;
    FFmpeg and this table round them away from zero.)
    """
    mask = _LINE_MASK[law]
    decode = _decode_table(law).astype(np.int32)
    levels = decode[np.arange(128) ^ mask]  # positive reconstruction levels, increasing
    decision = (levels[:-1] + levels[1:] + 4) >> 3  # midpoints, in 14-bit units
    x = np.arange(-32768, 32768, dtype=np.int32) >> 2
    magnitude = np.minimum(np.abs(x), 8191)
    index = np.searchsorted(decision, magnitude, side="right")
    return np.where(x >= 0, index ^ mask, index ^ (mask ^ 0x80)).astype(np.uint8)


@functools.cache
def _decode_table(law: str) -> np.ndarray:
    fn = _alaw_value if law == "a" else _ulaw_value
    return np.array([fn(c) for c in range(256)], dtype=np.int16)


def _pcm(samples: np.ndarray) -> np.ndarray:
    if not isinstance(samples, np.ndarray) or samples.dtype != np.int16:
        raise InvalidArgument("G.711: pass int16 PCM samples (a numpy int16 array)")
    return samples.reshape(-1)


def alaw_encode(samples: np.ndarray) -> bytes:
    """16-bit linear PCM -> A-law bytes (one per sample)."""
    index = _pcm(samples).astype(np.int32) + 32768
    return _encode_table("a")[index].tobytes()


def ulaw_encode(samples: np.ndarray) -> bytes:
    """16-bit linear PCM -> mu-law bytes (one per sample)."""
    index = _pcm(samples).astype(np.int32) + 32768
    return _encode_table("u")[index].tobytes()


def alaw_decode(data: bytes | bytearray | memoryview) -> np.ndarray:
    """A-law bytes -> int16 PCM."""
    return _decode_table("a")[np.frombuffer(data, dtype=np.uint8)]


def ulaw_decode(data: bytes | bytearray | memoryview) -> np.ndarray:
    """mu-law bytes -> int16 PCM."""
    return _decode_table("u")[np.frombuffer(data, dtype=np.uint8)]


__all__ = ["alaw_decode", "alaw_encode", "ulaw_decode", "ulaw_encode"]
