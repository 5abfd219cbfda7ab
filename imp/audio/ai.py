"""Audio input (``IMP_AI_*``): devices 0 and 1, channel 0, over a capture open of ``/dev/dsp``.

Call order as libimp: SetPubAttr -> Enable (open, SPEED, CHANNELS, SETFMT, ENABLE_STREAM, the
record gain) -> SetChnParam -> EnableChn (the reader starts) -> GetFrame/ReleaseFrame ->
DisableChn -> Disable. Per frame, in the reader thread: the enabled processing (HPF, AEC against the
speaker reference, NS, AGC -- in WebRTC's order); at GetFrame: the software volume.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from imp import runtime
from imp.audio import levels
from imp.audio.attrs import IoAttr, processing
from imp.audio.capture import CapturedFrame, CaptureEngine
from imp.audio.shared import (
    ProcessingChain,
    ProcessWide,
    close_device,
    shutdown_all,
    stop_reader,
)
from imp.core.graph import DEV_ID_AI
from imp.core.registry import Registry
from imp.drivers.dsp import DspStream
from imp.errors import InvalidArgument, InvalidState, Timeout
from imp.system import get_system

__all__ = ["AI_DEVICES", "AiChannel", "AiDevice", "AudioInput", "get_ai", "reset"]

AI_DEVICES = (0, 1)
AI_CHANNELS = (0,)
_CHANNEL_NUMBERS: Registry[None] = Registry("AI channel", len(AI_CHANNELS), "IMP_AI_EnableChn")


@dataclass
class AiChannel:
    """State of one AI channel (kept across Disable/Enable of the channel)."""

    depth: int = 0  # usrFrmDepth; 0 = not set (frmNum is used)
    volume: int = levels.VOLUME_UNITY
    mute: bool = False
    gain: int = levels.GAIN_UNITY
    alc_gain: int = 0
    aec: bool = False
    ref: bool = False
    engine: CaptureEngine | None = None
    echo: Any = None  # the EchoCanceller while AEC is on


@dataclass
class AiDevice:
    dev_id: int
    attr: IoAttr | None = None
    dsp: DspStream | None = None
    channel: AiChannel | None = None

    @property
    def enabled(self) -> bool:
        return self.dsp is not None


class AudioInput:
    """The AI module (process-wide, as in libimp). Use :func:`get_ai`."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._devices: Registry[AiDevice] = Registry("AI device", len(AI_DEVICES), "")
        self._devices.update({d: AiDevice(d) for d in AI_DEVICES})
        self.chain = ProcessingChain("IMP_AI")
        self.agc_mode = 0
        self.profile_path = ""
        get_system().on_exit(self.shutdown, device=DEV_ID_AI)

    # -- lookups ----------------------------------------------------------------------------------
    def device(self, dev: int) -> AiDevice:
        return self._devices.lookup(dev)  # every device exists: this is the range check

    def _enabled(self, dev: int, what: str) -> AiDevice:
        d = self.device(dev)
        if not d.enabled:
            raise InvalidState(f"{what}: AI device {dev} is not enabled; call IMP_AI_Enable")
        return d

    def channel(self, dev: int, chn: int) -> AiChannel:
        d = self.device(dev)
        _CHANNEL_NUMBERS.check(chn)
        if d.channel is None:
            d.channel = AiChannel()
        return d.channel

    def _engine(self, dev: int, chn: int, what: str) -> CaptureEngine:
        c = self.channel(dev, chn)
        if c.engine is None:
            raise InvalidState(f"{what}: AI channel {dev}/{chn} is not enabled; call EnableChn")
        return c.engine

    # -- device -----------------------------------------------------------------------------------
    def set_pub_attr(self, dev: int, attr: IoAttr) -> None:
        with self._lock:
            d = self.device(dev)
            attr.validate("attr", max_channels=1)
            if d.enabled:
                raise InvalidState(f"AI device {dev} is enabled; Disable it before SetPubAttr")
            d.attr = attr

    def get_pub_attr(self, dev: int) -> IoAttr:
        d = self.device(dev)
        if d.attr is None:
            raise InvalidState(f"AI device {dev} has no attributes; call IMP_AI_SetPubAttr")
        return d.attr

    def enable(self, dev: int) -> None:
        with self._lock:
            d = self.device(dev)
            if d.enabled:
                return
            if d.attr is None:
                raise InvalidState(f"AI device {dev}: call IMP_AI_SetPubAttr before Enable")
            dsp = DspStream(runtime.kernel(), "capture")
            dsp.open()
            try:
                dsp.configure(d.attr.samplerate, d.attr.channels)
                dsp.set_record_volume(self.channel(dev, 0).gain)
                dsp.enable()
            except BaseException:
                dsp.close()
                raise
            d.dsp = dsp

    def disable(self, dev: int) -> None:
        with self._lock:
            d = self.device(dev)
            if not d.enabled:
                return
            dsp, d.dsp = d.dsp, None
            assert dsp is not None
            engine = d.channel.engine if d.channel is not None else None
            d.channel = None  # volume, gain, depth start from the defaults at the next Enable
            try:
                if engine is not None:
                    stop_reader(engine, dsp, restart=False)
            finally:
                close_device(dsp)

    # -- channel ----------------------------------------------------------------------------------
    def set_chn_param(self, dev: int, chn: int, depth: int) -> None:
        c = self.channel(dev, chn)
        attr = self.device(dev).attr
        limit = attr.frmNum if attr is not None else 50
        if not 1 <= depth <= limit:
            raise InvalidArgument(f"usrFrmDepth {depth}: must be 1..{limit} (the device's frmNum)")
        c.depth = depth
        if c.engine is not None:
            c.engine.set_depth(depth)

    def get_chn_param(self, dev: int, chn: int) -> int:
        c = self.channel(dev, chn)
        attr = self.device(dev).attr
        return c.depth or (attr.frmNum if attr else 0)

    def enable_chn(self, dev: int, chn: int) -> None:
        with self._lock:
            d = self._enabled(dev, "EnableChn")
            c = self.channel(dev, chn)
            if c.engine is not None:
                return
            attr = d.attr
            assert attr is not None and d.dsp is not None
            frame_bytes = attr.numPerFrm * 2 * attr.channels
            c.engine = CaptureEngine(
                d.dsp,
                rate=attr.samplerate,
                frame_bytes=frame_bytes,
                frame_samples=attr.numPerFrm,
                slots=attr.frmNum + 2,
                depth=c.depth or attr.frmNum,
                name=f"ai{dev}.{chn}",
                process=lambda f: self._process(d, c, f),
                with_ref=lambda: c.aec or c.ref,
                on_get=lambda f: levels.apply_db(
                    f.samples, None if c.mute else levels.volume_db(c.volume)
                ),
            )

    def disable_chn(self, dev: int, chn: int) -> None:
        with self._lock:
            d = self.device(dev)
            c = self.channel(dev, chn)
            engine, c.engine = c.engine, None
            if engine is None:
                return
            stop_reader(engine, d.dsp, restart=True)

    def poll(self, dev: int, chn: int, timeout_ms: int) -> None:
        engine = self._engine(dev, chn, "PollingFrame")
        if not engine.poll(timeout_ms / 1000.0):
            raise Timeout(f"no AI frame within {timeout_ms} ms")

    def get_frame(self, dev: int, chn: int, block: bool) -> CapturedFrame:
        return self._engine(dev, chn, "GetFrame").get(None if block else 0)

    def release_frame(self, dev: int, chn: int, addr: int | None, phys: int | None) -> None:
        self._engine(dev, chn, "ReleaseFrame").release(addr, phys)

    # -- levels -----------------------------------------------------------------------------------
    def set_volume(self, dev: int, chn: int, volume: int) -> None:
        self.channel(dev, chn).volume = levels.check_volume(volume, "AI volume")

    def set_mute(self, dev: int, chn: int, mute: bool) -> None:
        self.channel(dev, chn).mute = mute

    def set_gain(self, dev: int, chn: int, gain: int) -> None:
        d = self._enabled(dev, "SetGain")
        c = self.channel(dev, chn)
        levels.check_gain(gain, "AI gain")
        assert d.dsp is not None
        d.dsp.set_record_volume(gain)
        c.gain = gain

    def set_alc_gain(self, dev: int, chn: int, gain: int) -> None:
        # prudynt sets it on device 0 while it records on device 1: stored, never refused.
        self.channel(dev, chn).alc_gain = levels.check_alc_gain(gain)

    # -- echo cancellation and reference ---------------------------------------------------------
    def set_aec(self, dev: int, chn: int, on: bool, *, ref_only: bool = False) -> None:
        with self._lock:
            d = self._enabled(dev, "EnableAec" if on else "DisableAec")
            c = self.channel(dev, chn)
            attr = d.attr
            assert attr is not None and d.dsp is not None
            if ref_only:
                c.ref = on
            else:
                if on:
                    if attr.channels != 1:
                        raise InvalidArgument("AEC needs a mono AI device")
                    c.echo = processing("IMP_AI_EnableAec").EchoCanceller(
                        attr.samplerate, attr.numPerFrm
                    )
                else:
                    c.echo = None
                c.aec = on
            d.dsp.set_aec(c.aec or c.ref)

    # -- processing (global, as in libimp): IMP_AI_Enable/Disable{Ns,Agc,Hpf} use ``chain`` ---
    def _process(self, d: AiDevice, c: AiChannel, frame: CapturedFrame) -> None:
        samples = frame.samples
        if d.attr is None or d.attr.channels != 1:
            return
        self.chain.run(samples, c.echo, None if frame.ref is None else frame.ref.samples)

    # -- teardown ---------------------------------------------------------------------------------
    def shutdown(self) -> None:
        shutdown_all(self.disable, AI_DEVICES)


_module = ProcessWide(AudioInput)
get_ai = _module.get
reset = _module.reset
