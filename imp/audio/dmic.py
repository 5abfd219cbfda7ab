"""The digital microphone array (``IMP_DMIC_*``): device 0, channel 0, four capsules.

The capture fd runs the DMIC stream (ENABLE_DMIC_STREAM), which delivers the capsules
interleaved. A frame's ``rawFrame`` holds ``chnCnt`` of them interleaved (``numPerFrm`` samples
each); its ``aecFrame`` holds the capsule chosen by ``IMP_DMIC_SetUserInfo(aecDmicId)``, echo
cancelled against the speaker while DMIC AEC is on (a plain copy otherwise).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from imp import runtime
from imp.audio import levels
from imp.audio.attrs import IoAttr, processing
from imp.audio.capture import CapturedFrame, CaptureEngine
from imp.audio.shared import ProcessWide, close_device, shutdown_all, stop_reader
from imp.core.graph import DEV_ID_DMIC
from imp.core.registry import Registry
from imp.drivers.dsp import DspStream
from imp.errors import InvalidArgument, InvalidState, Timeout
from imp.kernel.abi_audio import DMIC_CHANNELS
from imp.system import get_system

__all__ = ["DMIC_DEVICES", "DmicArray", "get_dmic", "reset"]

DMIC_DEVICES = (0,)
DMIC_CHANNELS_IDS = (0,)
_DEVICE_NUMBERS: Registry[None] = Registry("DMIC device", len(DMIC_DEVICES), "IMP_DMIC_Enable")
_CHANNEL_NUMBERS: Registry[None] = Registry("DMIC channel", len(DMIC_CHANNELS_IDS), "EnableChn")


@dataclass
class _DmicChannel:
    depth: int = 0
    volume: int = levels.VOLUME_UNITY
    gain: int = levels.GAIN_UNITY
    aec: bool = False
    ref: bool = False
    echo: Any = None
    engine: CaptureEngine | None = None


class DmicArray:
    """The DMIC module (process-wide). Use :func:`get_dmic`."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.aec_mic = 0
        self.need_aec = False
        self.attr: IoAttr | None = None
        self.dsp: DspStream | None = None
        self.chn = _DmicChannel()
        get_system().on_exit(self.shutdown, device=DEV_ID_DMIC)

    def _check(self, dev: int, chn: int | None = None) -> None:
        _DEVICE_NUMBERS.check(dev)
        if chn is not None:
            _CHANNEL_NUMBERS.check(chn)

    def _engine(self, dev: int, chn: int, what: str) -> CaptureEngine:
        self._check(dev, chn)
        if self.chn.engine is None:
            raise InvalidState(f"{what}: DMIC channel {dev}/{chn} is not enabled; call EnableChn")
        return self.chn.engine

    def set_user_info(self, dev: int, aec_mic: int, need_aec: int) -> None:
        self._check(dev)
        if not 0 <= aec_mic < DMIC_CHANNELS:
            raise InvalidArgument(f"aecDmicId {aec_mic}: must be 0..{DMIC_CHANNELS - 1}")
        if need_aec not in (0, 1):
            raise InvalidArgument(f"need_aec {need_aec}: 0 or 1")
        self.aec_mic, self.need_aec = aec_mic, bool(need_aec)

    def set_pub_attr(self, dev: int, attr: IoAttr) -> None:
        self._check(dev)
        attr.validate("attr", max_channels=DMIC_CHANNELS, dmic=True)
        if attr.soundmode != 1:
            raise InvalidArgument("DMIC attr.soundmode: only DMIC_SOUND_MODE_MONO (1)")
        if self.dsp is not None:
            raise InvalidState("DMIC device 0 is enabled; Disable it before SetPubAttr")
        self.attr = attr

    def get_pub_attr(self, dev: int) -> IoAttr:
        self._check(dev)
        if self.attr is None:
            raise InvalidState("DMIC device 0 has no attributes; call IMP_DMIC_SetPubAttr")
        return self.attr

    def enable(self, dev: int) -> None:
        with self._lock:
            self._check(dev)
            if self.dsp is not None:
                return
            if self.attr is None:
                raise InvalidState("DMIC: call IMP_DMIC_SetPubAttr before Enable")
            dsp = DspStream(runtime.kernel(), "capture")
            dsp.open()
            try:
                dsp.configure(self.attr.samplerate, 1)
                dsp.set_record_volume(self.chn.gain)
                dsp.enable(dmic=True)
            except BaseException:
                dsp.close()
                raise
            self.dsp = dsp

    def disable(self, dev: int) -> None:
        with self._lock:
            self._check(dev)
            dsp, self.dsp = self.dsp, None
            engine = self.chn.engine
            self.chn = _DmicChannel()  # volume, gain, depth start from the defaults next time
            if dsp is None:
                return
            try:
                if engine is not None:
                    stop_reader(engine, dsp, restart=False)
            finally:
                close_device(dsp)

    def set_chn_param(self, dev: int, chn: int, depth: int) -> None:
        self._check(dev, chn)
        limit = self.attr.frmNum if self.attr else 50
        if not 1 <= depth <= limit:
            raise InvalidArgument(f"usrFrmDepth {depth}: must be 1..{limit} (the frmNum)")
        self.chn.depth = depth
        if self.chn.engine is not None:
            self.chn.engine.set_depth(depth)

    def get_chn_param(self, dev: int, chn: int) -> int:
        self._check(dev, chn)
        return self.chn.depth or (self.attr.frmNum if self.attr else 0)

    def enable_chn(self, dev: int, chn: int) -> None:
        with self._lock:
            self._check(dev, chn)
            if self.dsp is None or self.attr is None:
                raise InvalidState("EnableChn: DMIC device 0 is not enabled; call IMP_DMIC_Enable")
            if self.chn.engine is not None:
                return
            attr = self.attr
            c = self.chn
            c.engine = CaptureEngine(
                self.dsp,
                rate=attr.samplerate,
                frame_bytes=attr.numPerFrm * 2 * DMIC_CHANNELS,
                frame_samples=attr.numPerFrm,
                slots=attr.frmNum + 2,
                depth=c.depth or attr.frmNum,
                name=f"dmic{dev}.{chn}",
                process=self._process,
                with_ref=lambda: c.aec or c.ref,
                on_get=lambda f: levels.apply_db(f.samples, levels.volume_db(c.volume)),
                extra_slots=("aec",),
                extra_bytes=attr.numPerFrm * 2,
            )

    def disable_chn(self, dev: int, chn: int) -> None:
        with self._lock:
            self._check(dev, chn)
            engine, self.chn.engine = self.chn.engine, None
            if engine is None:
                return
            stop_reader(engine, self.dsp, restart=True)

    def _process(self, frame: CapturedFrame) -> None:
        attr = self.attr
        assert attr is not None
        c = self.chn
        n = attr.numPerFrm
        raw = frame.slot.samples[: n * DMIC_CHANNELS].reshape(n, DMIC_CHANNELS)
        aec_slot = frame.extra.get("aec")
        if aec_slot is not None:
            mono = raw[:, self.aec_mic].copy()
            if c.echo is not None and frame.ref is not None:
                mono = c.echo.process(mono, frame.ref.samples[:n])
            aec_slot.samples[:n] = mono
        if attr.chnCnt < DMIC_CHANNELS:  # keep the first chnCnt capsules, interleaved
            kept = np.ascontiguousarray(raw[:, : attr.chnCnt])
            frame.slot.samples[: n * attr.chnCnt] = kept.reshape(-1)
        frame.nbytes = n * 2 * attr.chnCnt

    def poll(self, dev: int, chn: int, timeout_ms: int) -> None:
        if not self._engine(dev, chn, "PollingFrame").poll(timeout_ms / 1000.0):
            raise Timeout(f"no DMIC frame within {timeout_ms} ms")

    def get_frame(self, dev: int, chn: int, block: bool) -> CapturedFrame:
        return self._engine(dev, chn, "GetFrame").get(None if block else 0)

    def release_frame(self, dev: int, chn: int, addr: int | None, phys: int | None) -> None:
        self._engine(dev, chn, "ReleaseFrame").release(addr, phys)

    def set_volume(self, dev: int, chn: int, volume: int) -> None:
        self._check(dev, chn)
        self.chn.volume = levels.check_volume(volume, "DMIC volume")

    def set_gain(self, dev: int, chn: int, gain: int) -> None:
        self._check(dev, chn)
        levels.check_gain(gain, "DMIC gain")
        if self.dsp is None:
            raise InvalidState("SetGain: DMIC device 0 is not enabled; call IMP_DMIC_Enable")
        self.dsp.set_record_volume(gain)
        self.chn.gain = gain

    def set_aec(self, dev: int, chn: int, on: bool, *, ref_only: bool = False) -> None:
        with self._lock:
            self._check(dev, chn)
            if self.dsp is None or self.attr is None:
                raise InvalidState("DMIC device 0 is not enabled; call IMP_DMIC_Enable")
            c = self.chn
            if ref_only:
                c.ref = on
            else:
                if on:
                    c.echo = processing("IMP_DMIC_EnableAec").EchoCanceller(
                        self.attr.samplerate, self.attr.numPerFrm
                    )
                else:
                    c.echo = None
                c.aec = on
            self.dsp.set_aec(c.aec or c.ref)

    def shutdown(self) -> None:
        shutdown_all(self.disable, DMIC_DEVICES)


_module = ProcessWide(DmicArray)
get_dmic = _module.get
reset = _module.reset
