"""Audio output (``IMP_AO_*``): devices 0 and 1, channel 0, over a playback open of ``/dev/dsp``.

SendFrame copies the caller's PCM into one of ``frmNum`` rmem slots and queues it (blocking
waits for a free slot; non-blocking fails when all are busy); a writer thread applies the
volume, soft mute and the enabled processing (HPF, AGC) and hands each frame to SET_AO_STREAM,
which paces it. PauseChn stops the writer (the speaker goes silent once the driver's ring
drains), ClearChnBuf drops what is queued, FlushChnBuf waits until everything queued was played.
With the cache switched off (CacheSwitch 0) SendFrame bypasses the queue and writes through.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from imp import runtime
from imp.audio import levels
from imp.audio.attrs import IoAttr
from imp.audio.buffers import Slot, SlotPool
from imp.audio.shared import ProcessingChain, ProcessWide, close_device, shutdown_all
from imp.core.graph import DEV_ID_AO
from imp.core.registry import Registry
from imp.drivers.dsp import DspStream
from imp.errors import DeviceError, InvalidArgument, InvalidState, Timeout
from imp.system import get_system

__all__ = ["AO_DEVICES", "AoChannel", "AudioOutput", "get_ao", "reset"]

AO_DEVICES = (0, 1)
AO_CHANNELS = (0,)
_CHANNEL_NUMBERS: Registry[None] = Registry("AO channel", len(AO_CHANNELS), "IMP_AO_EnableChn")
_FLUSH_RETRIES = 20


@dataclass(eq=False)
class _Queued:
    slot: Slot
    nbytes: int


@dataclass(eq=False)
class AoChannel:
    """The AO channel: its slot queue and writer thread."""

    dsp: DspStream
    attr: IoAttr
    volume: int = levels.VOLUME_UNITY
    mute: bool = False
    gain: int = levels.GAIN_UNITY
    soft_mute: bool = False
    cache: bool = True
    paused: bool = False
    pool: SlotPool | None = None
    queue: deque[_Queued] = field(default_factory=deque)
    writing: _Queued | None = None
    played_frames: int = 0
    _ramp: float = 1.0  # soft-mute envelope: 1.0 = full level

    def __post_init__(self) -> None:
        self.cond = threading.Condition()
        self.stop = False
        self.error: str | None = None
        self.thread: threading.Thread | None = None


class AudioOutput:
    """The AO module (process-wide). Use :func:`get_ao`."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._attrs: dict[int, IoAttr] = {}
        self._dsp: Registry[DspStream] = Registry("AO device", len(AO_DEVICES), "IMP_AO_Enable")
        self._chn: Registry[AoChannel] = Registry("AO device", len(AO_DEVICES), "EnableChn")
        self._levels: dict[int, tuple[int, bool, int]] = {}  # dev -> (volume, mute, gain)
        self.chain = ProcessingChain("IMP_AO")  # AGC and HPF (IMP_AO_Enable{Agc,Hpf})
        get_system().on_exit(self.shutdown, device=DEV_ID_AO)

    # -- lookups ----------------------------------------------------------------------------------
    def _check_dev(self, dev: int) -> None:
        self._dsp.check(dev)

    def _check(self, dev: int, chn: int) -> None:
        self._dsp.check(dev)
        _CHANNEL_NUMBERS.check(chn)

    def channel(self, dev: int, chn: int, what: str) -> AoChannel:
        self._check(dev, chn)
        c = self._chn.get(dev)
        if c is None:
            raise InvalidState(f"{what}: AO channel {dev}/{chn} is not enabled; call EnableChn")
        return c

    # -- device -----------------------------------------------------------------------------------
    def set_pub_attr(self, dev: int, attr: IoAttr) -> None:
        self._check_dev(dev)
        attr.validate("attr", max_channels=1)
        if dev in self._dsp:
            raise InvalidState(f"AO device {dev} is enabled; Disable it before SetPubAttr")
        self._attrs[dev] = attr

    def get_pub_attr(self, dev: int) -> IoAttr:
        self._check_dev(dev)
        if dev not in self._attrs:
            raise InvalidState(f"AO device {dev} has no attributes; call IMP_AO_SetPubAttr")
        return self._attrs[dev]

    def enable(self, dev: int) -> None:
        with self._lock:
            self._check_dev(dev)
            if dev in self._dsp:
                return
            attr = self._attrs.get(dev)
            if attr is None:
                raise InvalidState(f"AO device {dev}: call IMP_AO_SetPubAttr before Enable")
            dsp = DspStream(runtime.kernel(), "playback")
            dsp.open()
            try:
                dsp.configure(attr.samplerate, attr.channels)
                dsp.set_replay_volume(self._levels.get(dev, (60, False, levels.GAIN_UNITY))[2])
                dsp.enable()
            except BaseException:
                dsp.close()
                raise
            self._dsp[dev] = dsp

    def disable(self, dev: int) -> None:
        """Stops the channel, then DISABLE_STREAM: the speaker file is complete on return."""
        with self._lock:
            self._check_dev(dev)
            if dev in self._chn:
                self.disable_chn(dev, 0)
            dsp = self._dsp.pop(dev, None)
            self._levels.pop(dev, None)  # volume and gain start from the defaults next time
            if dsp is not None:
                close_device(dsp)

    def enable_chn(self, dev: int, chn: int) -> None:
        with self._lock:
            self._check(dev, chn)
            if dev in self._chn:
                return
            dsp = self._dsp.get(dev)
            if dsp is None:
                raise InvalidState(f"EnableChn: AO device {dev} is not enabled; call IMP_AO_Enable")
            attr = self._attrs[dev]
            volume, mute, gain = self._levels.get(dev, (levels.VOLUME_UNITY, False, 12))
            c = AoChannel(dsp, attr, volume=volume, mute=mute, gain=gain)
            c.pool = SlotPool(attr.frmNum, attr.numPerFrm * 2 * attr.channels, f"ao{dev}")
            c.thread = threading.Thread(
                target=self._writer, args=(c,), name=f"imp-ao{dev}", daemon=True
            )
            self._chn[dev] = c
            c.thread.start()

    def disable_chn(self, dev: int, chn: int) -> None:
        with self._lock:
            self._check(dev, chn)
            c = self._chn.pop(dev, None)
            if c is None:
                return
            with c.cond:
                c.stop = True
                c.queue.clear()
                c.cond.notify_all()
            assert c.pool is not None
            c.pool.abort()
            if c.thread is not None:
                c.thread.join(10.0)
            c.pool.close()
            self._levels[dev] = (c.volume, c.mute, c.gain)

    # -- data -------------------------------------------------------------------------------------
    def send(
        self, dev: int, chn: int, data: np.ndarray | bytes | int, nbytes: int, block: bool
    ) -> None:
        """Queue ``nbytes`` of PCM from ``data`` (bytes, an int16 array, or a C address)."""
        c = self.channel(dev, chn, "SendFrame")
        assert c.pool is not None
        if c.error:
            raise DeviceError(5, f"SendFrame: the AO writer stopped: {c.error}")
        if nbytes <= 0 or nbytes > c.pool.size or nbytes % (2 * c.attr.channels):
            raise InvalidArgument(
                f"SendFrame: len {nbytes}: must be a positive multiple of "
                f"{2 * c.attr.channels} and <= {c.pool.size} (numPerFrm * 2 bytes)"
            )
        if not c.cache:
            with c.cond:
                c.cond.wait_for(lambda: (not c.queue and c.writing is None) or c.stop, 10.0)
        slot = c.pool.take(None if block else 0)
        if slot is None:
            if c.stop:
                raise InvalidState("SendFrame: the channel was disabled")
            raise Timeout("SendFrame: all AO buffers are busy (non-blocking)")
        dst = slot.samples.view(np.uint8)[:nbytes]
        if isinstance(data, int):
            dst[:] = np.frombuffer((ctypes.c_uint8 * nbytes).from_address(data), dtype=np.uint8)
        elif isinstance(data, np.ndarray):
            dst[:] = np.frombuffer(data.tobytes()[:nbytes], dtype=np.uint8)
        else:
            dst[:] = np.frombuffer(bytes(data[:nbytes]), dtype=np.uint8)
        item = _Queued(slot, nbytes)
        with c.cond:
            c.queue.append(item)
            c.cond.notify_all()
        if not c.cache:
            with c.cond:
                c.cond.wait_for(
                    lambda: (item not in c.queue and c.writing is not item) or c.stop, 10.0
                )

    def _writer(self, c: AoChannel) -> None:
        assert c.pool is not None
        while True:
            with c.cond:
                c.cond.wait_for(lambda: c.stop or (c.queue and not c.paused))
                if c.stop:
                    return
                item = c.writing = c.queue.popleft()
            try:
                self._shape(c, item)
                c.dsp.write(item.slot.addr, item.nbytes)
            except Exception as exc:  # the device went away: SendFrame reports it from now on
                with c.cond:
                    if not c.stop:
                        c.error = str(exc)
                    c.writing = None
                    c.cond.notify_all()
                c.pool.give(item.slot)
                return
            with c.cond:
                c.writing = None
                c.played_frames += 1
                c.cond.notify_all()
            c.pool.give(item.slot)

    def _shape(self, c: AoChannel, item: _Queued) -> None:
        """Volume, soft-mute ramp and processing, in place in the slot."""
        samples = item.slot.samples[: item.nbytes // 2]
        levels.apply_db(samples, None if c.mute else levels.volume_db(c.volume))
        target = 0.0 if c.soft_mute else 1.0
        if c._ramp != target or target == 0.0:
            ramp = np.linspace(c._ramp, target, len(samples), dtype=np.float32)
            samples[:] = np.rint(samples * ramp).astype(np.int16)
            c._ramp = target
        if c.attr.channels == 1:
            self.chain.run(samples)

    # -- controls ---------------------------------------------------------------------------------
    def pause(self, dev: int, chn: int, paused: bool) -> None:
        c = self.channel(dev, chn, "ResumeChn" if not paused else "PauseChn")
        with c.cond:
            c.paused = paused
            c.cond.notify_all()

    def clear(self, dev: int, chn: int) -> int:
        """Drop every queued frame not yet handed to the driver; returns how many."""
        c = self.channel(dev, chn, "ClearChnBuf")
        assert c.pool is not None
        with c.cond:
            dropped = list(c.queue)
            c.queue.clear()
            c.cond.notify_all()
        for item in dropped:
            c.pool.give(item.slot)
        return len(dropped)

    def flush(self, dev: int, chn: int) -> None:
        """Wait until everything queued was played (the queue, then the driver's ring)."""
        c = self.channel(dev, chn, "FlushChnBuf")
        if c.paused:
            raise InvalidState("FlushChnBuf: the channel is paused; ResumeChn first")
        budget = (len(c.queue) + 2) * c.attr.frame_ms / 1000.0 + 5.0
        with c.cond:
            if not c.cond.wait_for(
                lambda: (not c.queue and c.writing is None) or c.stop or c.error is not None, budget
            ):
                raise Timeout(f"FlushChnBuf: the queue did not drain in {budget:.1f} s")
        for _ in range(_FLUSH_RETRIES):
            if c.dsp.flush():
                return
            time.sleep(0.01)
        raise Timeout("FlushChnBuf: the driver did not drain (FLUSH_STREAM timed out)")

    def status(self, dev: int, chn: int) -> tuple[int, int, int]:
        """(total, free, busy) buffers, as QueryChnStat."""
        c = self.channel(dev, chn, "QueryChnStat")
        with c.cond:
            busy = len(c.queue) + (1 if c.writing is not None else 0)
        return c.attr.frmNum, c.attr.frmNum - busy, busy

    def set_volume(self, dev: int, chn: int, volume: int) -> None:
        self._check(dev, chn)
        levels.check_volume(volume, "AO volume")
        self._update(dev, volume=volume)

    def set_mute(self, dev: int, chn: int, mute: bool) -> None:
        self._check(dev, chn)
        self._update(dev, mute=mute)

    def set_gain(self, dev: int, chn: int, gain: int) -> None:
        self._check(dev, chn)
        levels.check_gain(gain, "AO gain")
        dsp = self._dsp.get(dev)
        if dsp is None:
            raise InvalidState(f"SetGain: AO device {dev} is not enabled; call IMP_AO_Enable")
        dsp.set_replay_volume(gain)
        self._update(dev, gain=gain)

    def levels_of(self, dev: int, chn: int) -> tuple[int, bool, int]:
        self._check(dev, chn)
        c = self._chn.get(dev)
        if c is not None:
            return c.volume, c.mute, c.gain
        return self._levels.get(dev, (levels.VOLUME_UNITY, False, levels.GAIN_UNITY))

    def _update(self, dev: int, **changes: Any) -> None:
        volume, mute, gain = self.levels_of(dev, 0)
        volume = changes.get("volume", volume)
        mute = changes.get("mute", mute)
        gain = changes.get("gain", gain)
        self._levels[dev] = (volume, mute, gain)
        c = self._chn.get(dev)
        if c is not None:
            c.volume, c.mute, c.gain = volume, mute, gain

    def soft_mute(self, dev: int, chn: int, on: bool) -> None:
        self.channel(dev, chn, "Soft_Mute" if on else "Soft_UNMute").soft_mute = on

    def cache_switch(self, dev: int, chn: int, on: bool) -> None:
        self.channel(dev, chn, "CacheSwitch").cache = on

    def shutdown(self) -> None:
        shutdown_all(self.disable, AO_DEVICES)


_module = ProcessWide(AudioOutput)
get_ao = _module.get
reset = _module.reset
