"""Acoustic echo cancellation: speexdsp's MDF echo canceller plus its residual-echo suppressor.

Chosen by measurement (docs/ARCHITECTURE.md): WebRTC APM 0.3's AEC reaches a similar echo
reduction but its non-linear processor also removes a steady near-end tone (-5 to -45 dB),
while speex's adaptive filter (a real linear model of the echo path) leaves the near-end
within a dB. The residual-echo suppressor is speex's preprocessor fed with the canceller's
echo estimate (denoising kept at 0 dB so that only echo is suppressed).
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from imp.audio.processing._blocks import as_mono_int16, block_samples, check_rate
from imp.audio.processing._native import speexdsp
from imp.errors import DeviceError, InvalidArgument

# speex_echo.h / speex_preprocess.h request numbers
SPEEX_ECHO_SET_SAMPLING_RATE = 24
SPEEX_PREPROCESS_SET_DENOISE = 0
SPEEX_PREPROCESS_SET_NOISE_SUPPRESS = 18
SPEEX_PREPROCESS_SET_ECHO_SUPPRESS = 20
SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE = 22
SPEEX_PREPROCESS_SET_ECHO_STATE = 24

TAIL_MS = 128  # echo paths up to 128 ms (speaker-to-mic delay plus the room's decay)
ECHO_SUPPRESS_DB = -40  # residual echo attenuation while only the far end talks
ECHO_SUPPRESS_ACTIVE_DB = -15  # ... and while the near end talks too (keeps the near end)


class EchoCanceller:
    """Mirrors ``IMP_AI_EnableAec``: removes from ``near`` what ``far`` caused.

    ``far`` must be exactly what the speaker played for the same instant as ``near`` (AI's
    reference frame). ``frame_samples`` is the caller's frame size (a multiple of 10 ms); the
    canceller works in 20 ms blocks (speex's recommended size; measured +2 to +3 dB ERLE over
    10 ms) when every call is a multiple of 20 ms, else in 10 ms blocks.
    """

    def __init__(self, rate: int, frame_samples: int) -> None:
        self.rate = check_rate(rate, "EchoCanceller")
        block = block_samples(rate)
        if not isinstance(frame_samples, int) or frame_samples <= 0 or frame_samples % block:
            raise InvalidArgument(
                f"EchoCanceller: frame of {frame_samples!r} samples is not a multiple of 10 ms "
                f"({block} samples at {rate} Hz)"
            )
        self.frame_samples = frame_samples
        self._block = 2 * block if frame_samples % (2 * block) == 0 else block
        self._lib = speexdsp()
        self._lock = threading.Lock()
        self._echo: int | None = None
        self._pre: int | None = None
        self._open()

    def _open(self) -> None:
        lib = self._lib
        echo = lib.speex_echo_state_init(self._block, self.rate * TAIL_MS // 1000)
        pre = lib.speex_preprocess_state_init(self._block, self.rate)
        if not echo or not pre:
            raise DeviceError(12, "EchoCanceller: speexdsp could not allocate its state")
        self._echo, self._pre = echo, pre
        self._ctl_echo(SPEEX_ECHO_SET_SAMPLING_RATE, self.rate)
        lib.speex_preprocess_ctl(pre, SPEEX_PREPROCESS_SET_ECHO_STATE, ctypes.c_void_p(echo))
        self._ctl_pre(SPEEX_PREPROCESS_SET_DENOISE, 1)  # gates the suppressor's gains
        self._ctl_pre(SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, 0)  # ... but keep noise as it is
        self._ctl_pre(SPEEX_PREPROCESS_SET_ECHO_SUPPRESS, ECHO_SUPPRESS_DB)
        self._ctl_pre(SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE, ECHO_SUPPRESS_ACTIVE_DB)

    def _ctl_echo(self, request: int, value: int) -> None:
        v = ctypes.c_int(value)
        self._lib.speex_echo_ctl(self._echo, request, ctypes.byref(v))

    def _ctl_pre(self, request: int, value: int) -> None:
        v = ctypes.c_int(value)
        self._lib.speex_preprocess_ctl(self._pre, request, ctypes.byref(v))

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        """The microphone ``near`` with the echo of ``far`` removed (a new array)."""
        mic = as_mono_int16(near, self.rate, "EchoCanceller near")
        ref = as_mono_int16(far, self.rate, "EchoCanceller far")
        if len(mic) % self._block:
            raise InvalidArgument(
                f"EchoCanceller: {len(mic)} samples is not a multiple of the "
                f"{self.frame_samples}-sample frames this canceller was made for"
            )
        if len(mic) != len(ref):
            raise InvalidArgument(
                f"EchoCanceller: near has {len(mic)} samples but far has {len(ref)}; pass the "
                "speaker's samples for the same instant"
            )
        out = np.empty_like(mic)
        n = self._block
        with self._lock:
            echo, lib = self._echo, self._lib
            if echo is None:
                raise InvalidArgument("EchoCanceller: used after close()")
            for start in range(0, len(mic), n):
                m, f, o = mic[start : start + n], ref[start : start + n], out[start : start + n]
                self._lib.speex_echo_cancellation(
                    self._echo, m.ctypes.data, f.ctypes.data, o.ctypes.data
                )
                lib.speex_preprocess_run(self._pre, o.ctypes.data)
        return out

    def reset(self) -> None:
        """Forget the learnt echo path."""
        with self._lock:
            self._free()
            self._open()

    def _free(self) -> None:
        echo, pre, self._echo, self._pre = self._echo, self._pre, None, None
        if pre:
            self._lib.speex_preprocess_state_destroy(ctypes.c_void_p(pre))
        if echo:
            self._lib.speex_echo_state_destroy(ctypes.c_void_p(echo))

    def close(self) -> None:
        """Free the native state. Idempotent."""
        with self._lock:
            self._free()

    def __del__(self) -> None:
        try:
            self._free()
        except Exception:
            pass
