"""What the AI, AO and DMIC modules share: the process-wide instance holder and the chain of
processing stages (HPF, AEC, NS, AGC in WebRTC's order) switched on by the C API."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import numpy as np

from imp import runtime
from imp.audio.attrs import IoAttr, processing
from imp.audio.capture import CaptureEngine
from imp.drivers.dsp import DspStream
from imp.errors import InvalidArgument

__all__ = ["ProcessWide", "ProcessingChain", "close_device", "shutdown_all", "stop_reader"]

T = TypeVar("T")

DEFAULT_HPF_HZ = 150


class ProcessWide(Generic[T]):
    """One instance per process (libimp's modules are singletons), made on first use."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._instance: T | None = None

    def get(self) -> T:
        with self._lock:
            if self._instance is None:
                self._instance = self._factory()
            return self._instance

    def reset(self) -> None:
        """Forget the instance (after its shutdown): the next use starts from scratch."""
        with self._lock:
            self._instance = None


class ProcessingChain:
    """The stages a module's Enable* functions switch on; ``prefix`` names the C functions
    (``IMP_AI`` / ``IMP_AO``) in errors."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.ns: Any = None
        self.agc: Any = None
        self.hpf: Any = None
        self.hpf_hz = DEFAULT_HPF_HZ

    def enable_ns(self, attr: IoAttr, level: int) -> None:
        if not 0 <= level <= 3:
            raise InvalidArgument(f"NS level {level}: 0 (low) .. 3 (very high)")
        attr.validate("attr", max_channels=2)
        stage = processing(f"{self.prefix}_EnableNs").NoiseSuppressor
        self.ns = stage(attr.samplerate, level)

    def enable_agc(self, attr: IoAttr, target_dbfs: int, compression_db: int) -> None:
        if not 0 <= target_dbfs <= 31 or not 0 <= compression_db <= 90:
            raise InvalidArgument(
                f"AGC TargetLevelDbfs {target_dbfs} (0..31) / CompressionGaindB {compression_db}"
                " (0..90) out of range"
            )
        attr.validate("attr", max_channels=2)
        stage = processing(f"{self.prefix}_EnableAgc").Agc
        self.agc = stage(attr.samplerate, target_dbfs, compression_db)

    def enable_hpf(self, attr: IoAttr) -> None:
        attr.validate("attr", max_channels=2)
        stage = processing(f"{self.prefix}_EnableHpf").HighPassFilter
        self.hpf = stage(attr.samplerate, self.hpf_hz)

    def set_hpf_cofrequency(self, hz: int) -> None:
        """The cut-off of the next EnableHpf."""
        if not 20 <= hz <= 1000:
            raise InvalidArgument(f"HPF cut-off {hz} Hz: must be 20..1000")
        self.hpf_hz = hz

    def run(self, samples: np.ndarray, echo: Any = None, far: np.ndarray | None = None) -> None:
        """HPF, AEC (``echo`` against ``far``), NS, AGC on mono ``samples``, in place."""
        out = samples
        if self.hpf is not None:
            out = self.hpf.process(out)
        if echo is not None and far is not None:
            out = echo.process(out, far[: len(out)])
        if self.ns is not None:
            out = self.ns.process(out)
        if self.agc is not None:
            out = self.agc.process(out)
        if out is not samples:
            samples[:] = out


def stop_reader(engine: CaptureEngine, dsp: DspStream | None, restart: bool) -> None:
    """Stop a capture engine: DISABLE_STREAM wakes its reader out of GET_AI_STREAM, the reader
    is joined and its rmem freed even if the device is gone; ``restart`` enables the stream
    again for a later EnableChn (the device stays enabled)."""
    engine.halt()
    try:
        if dsp is not None:
            dsp.disable()
    finally:
        engine.stop()
    if restart and dsp is not None:
        dsp.enable(dmic=dsp.dmic)


def close_device(dsp: DspStream) -> None:
    """DISABLE_STREAM and close; the fd and the idle arena are released whatever fails."""
    try:
        dsp.disable()
    finally:
        try:
            dsp.close()
        finally:
            runtime.release_if_idle()


def shutdown_all(disable: Callable[[int], None], devices: tuple[int, ...]) -> None:
    """Disable every device, going on past errors (teardown must finish)."""
    for dev in devices:
        try:
            disable(dev)
        except Exception:  # keep tearing down the rest
            pass
