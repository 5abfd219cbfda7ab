"""Noise suppression and automatic gain control: WebRTC audio processing (APM).

The vendor's libimp builds ``IMP_AI_EnableNs`` / ``EnableAgc`` on WebRTC's APM, and its
parameters are WebRTC's: ``IMPAudioNsLevel`` 0..3 is ``NoiseSuppression::Level`` (kLow ..
kVeryHigh), ``IMPAudioAgcConfig{TargetLevelDbfs, CompressionGaindB}`` are
``GainControl::set_target_level_dbfs`` / ``set_compression_gain_db``. We drive the same library
(Debian's libwebrtc-audio-processing) through a small C shim; see :mod:`._native`.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from imp.audio.processing._blocks import as_mono_int16, block_samples, blocks, check_rate
from imp.audio.processing._native import webrtc_apm
from imp.errors import DeviceError, InvalidArgument

AGC_ADAPTIVE_DIGITAL = 1  # GainControl::kAdaptiveDigital: no analog mic gain to steer here


class _Apm:
    """One WebRTC AudioProcessing instance with one component switched on."""

    def __init__(self, rate: int, what: str) -> None:
        self.rate = check_rate(rate, what)
        self.what = what
        self._lib = webrtc_apm()
        self._lock = threading.Lock()
        self._handle: int | None = None
        self._open()

    def _open(self) -> None:
        handle = self._lib.imp_apm_create(0)
        if not handle:
            raise DeviceError(12, f"{self.what}: WebRTC AudioProcessing::Create failed")
        self._handle = handle
        try:
            self._configure(handle)
        except BaseException:
            self.close()
            raise

    def _configure(self, handle: int) -> None:
        raise NotImplementedError

    def process(self, frame: np.ndarray) -> np.ndarray:
        """Process ``frame`` (a multiple of 10 ms); returns a new array."""
        out = as_mono_int16(frame, self.rate, self.what).copy()
        n = block_samples(self.rate)
        with self._lock:
            if self._handle is None:
                raise InvalidArgument(f"{self.what}: used after close()")
            for block in blocks(out, self.rate):
                err = self._lib.imp_apm_process(self._handle, self.rate, block.ctypes.data, n, 0)
                if err != 0:
                    raise DeviceError(5, f"{self.what}: WebRTC ProcessStream returned {err}")
        return out

    def reset(self) -> None:
        """Forget all adaptation (noise estimate, gain), as a fresh instance."""
        with self._lock:
            self._close_handle()
            self._open()

    def _close_handle(self) -> None:
        handle, self._handle = self._handle, None
        if handle:
            self._lib.imp_apm_destroy(ctypes.c_void_p(handle))

    def close(self) -> None:
        """Free the native instance. Idempotent."""
        self._close_handle()

    def __del__(self) -> None:
        try:
            self._close_handle()
        except Exception:
            pass


class NoiseSuppressor(_Apm):
    """Stationary-noise suppression (WebRTC NS), mirrors ``IMP_AI_EnableNs(attr, level)``.

    ``level`` is ``IMPAudioNsLevel``: 0 low, 1 moderate, 2 high, 3 very high.
    """

    def __init__(self, rate: int, level: int) -> None:
        if not isinstance(level, int) or not 0 <= level <= 3:
            raise InvalidArgument(
                f"noise suppression level {level!r} must be 0..3 (NS_LOW..NS_VERYHIGH)"
            )
        self.level = level
        super().__init__(rate, "NoiseSuppressor")

    def _configure(self, handle: int) -> None:
        if self._lib.imp_apm_enable_ns(handle, self.level) != 0:
            raise InvalidArgument(f"NoiseSuppressor: WebRTC refused level {self.level}")


class Agc(_Apm):
    """Automatic gain control (WebRTC AGC, adaptive digital), mirrors ``IMP_AI_EnableAgc``.

    ``target_level_dbfs`` 0..31: the level to reach, in dB below full scale (3 means -3 dBFS,
    WebRTC measures it on the signal's peak envelope); ``compression_gain_db`` 0..90: the most
    gain the compressor may add.
    """

    def __init__(self, rate: int, target_level_dbfs: int, compression_gain_db: int) -> None:
        if not isinstance(target_level_dbfs, int) or not 0 <= target_level_dbfs <= 31:
            raise InvalidArgument(
                f"AGC TargetLevelDbfs {target_level_dbfs!r} must be 0..31 (dB below full scale)"
            )
        if not isinstance(compression_gain_db, int) or not 0 <= compression_gain_db <= 90:
            raise InvalidArgument(f"AGC CompressionGaindB {compression_gain_db!r} must be 0..90 dB")
        self.target_level_dbfs = target_level_dbfs
        self.compression_gain_db = compression_gain_db
        super().__init__(rate, "Agc")

    def _configure(self, handle: int) -> None:
        err = self._lib.imp_apm_enable_agc(
            handle, AGC_ADAPTIVE_DIGITAL, self.target_level_dbfs, self.compression_gain_db, 1
        )
        if err != 0:
            raise InvalidArgument(f"Agc: WebRTC refused the configuration (error {err})")
