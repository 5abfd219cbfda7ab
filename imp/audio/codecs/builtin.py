"""The built-in codecs of AENC/ADEC: PT_PCM, PT_G711A, PT_G711U, PT_G726 (32 kbit/s).

G.726 comes from spandsp (Debian ``libspandsp2``, the telephony DSP library Asterisk and
FreeSWITCH use) through ctypes: FFmpeg has a G.726 encoder too, but it only accepts 2048-sample
frames, while AENC must turn each 20-40 ms frame into its own stream. The bit stream is
32 kbit/s (4 bits per sample), packed as RFC 3551 specifies for RTP (first sample in the
low nibble), which FFmpeg reads as ``g726le`` with ``code_size=4``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

import numpy as np

from imp.audio.codecs import g711
from imp.audio.codecs.base import PcmFrame
from imp.errors import InvalidArgument, NotSupported

G726_BIT_RATE = 32000
G726_BITS_PER_SAMPLE = 4
_G726_ENCODING_LINEAR = 0
_G726_PACKING_RIGHT = 2  # RFC 3551: earliest code word in the least significant bits

_spandsp: ctypes.CDLL | None = None
_lock = threading.Lock()


def _lib() -> ctypes.CDLL:
    global _spandsp
    with _lock:
        if _spandsp is None:
            name = ctypes.util.find_library("spandsp") or "libspandsp.so.2"
            try:
                lib = ctypes.CDLL(name)
            except OSError as exc:
                raise NotSupported(
                    f"G.726 needs libspandsp ({exc}); run tools/setup/audio-deps.sh"
                ) from exc
            p, i = ctypes.c_void_p, ctypes.c_int
            lib.g726_init.restype = p
            lib.g726_init.argtypes = [p, i, i, i]
            lib.g726_free.argtypes = [p]
            lib.g726_encode.argtypes = [p, p, p, i]
            lib.g726_decode.argtypes = [p, p, p, i]
            _spandsp = lib
        return _spandsp


class PcmEncoder:
    """PT_PCM: the samples themselves (s16le)."""

    codec = "pcm"

    def encode(self, frame: PcmFrame) -> bytes:
        return frame.samples.astype("<i2", copy=False).tobytes()

    def close(self) -> None:
        pass


class PcmDecoder:
    codec = "pcm"

    def decode(self, data: bytes) -> np.ndarray:
        if len(data) % 2:
            raise InvalidArgument(f"PCM stream of {len(data)} bytes is not whole 16-bit samples")
        return np.frombuffer(data, dtype="<i2").astype(np.int16)

    def close(self) -> None:
        pass


class G711Encoder:
    """PT_G711A / PT_G711U: one byte per sample."""

    def __init__(self, law: str) -> None:
        self.codec = "g711a" if law == "a" else "g711u"
        self._encode = g711.alaw_encode if law == "a" else g711.ulaw_encode

    def encode(self, frame: PcmFrame) -> bytes:
        return self._encode(frame.samples)

    def close(self) -> None:
        pass


class G711Decoder:
    def __init__(self, law: str) -> None:
        self.codec = "g711a" if law == "a" else "g711u"
        self._decode = g711.alaw_decode if law == "a" else g711.ulaw_decode

    def decode(self, data: bytes) -> np.ndarray:
        return self._decode(data)

    def close(self) -> None:
        pass


class _G726:
    codec = "g726"

    def __init__(self) -> None:
        self._lib = _lib()
        self._state: int | None = self._lib.g726_init(
            None, G726_BIT_RATE, _G726_ENCODING_LINEAR, _G726_PACKING_RIGHT
        )
        if not self._state:
            raise NotSupported("spandsp g726_init failed")
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            state, self._state = self._state, None
            if state:
                self._lib.g726_free(ctypes.c_void_p(state))

    def _checked(self) -> int:
        if self._state is None:
            raise InvalidArgument("G.726 codec used after close()")
        return self._state

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


class G726Encoder(_G726):
    """PT_G726 at 32 kbit/s; frames of an even number of samples give whole bytes."""

    def encode(self, frame: PcmFrame) -> bytes:
        samples = np.ascontiguousarray(frame.samples, dtype=np.int16)
        out = ctypes.create_string_buffer(len(samples) * G726_BITS_PER_SAMPLE // 8 + 1)
        with self._lock:
            n = self._lib.g726_encode(self._checked(), out, samples.ctypes.data, len(samples))
        return out.raw[:n]


class G726Decoder(_G726):
    def decode(self, data: bytes) -> np.ndarray:
        pcm = np.empty(len(data) * 8 // G726_BITS_PER_SAMPLE, dtype=np.int16)
        with self._lock:
            n = self._lib.g726_decode(self._checked(), pcm.ctypes.data, data, len(data))
        return pcm[:n]
