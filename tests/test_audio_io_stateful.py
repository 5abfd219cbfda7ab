"""Random call sequences over the AI, AO and DMIC C API, valid and invalid, in any order.

Invariants: no exception escapes and none is an internal error; no call outlives its bound;
after the teardown every device is closed, every rmem block is back and every ``imp-*``
thread has ended. ``HYPOTHESIS_PROFILE=long`` runs ten times more sequences.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import imp.audio
import imp.capi as capi
from imp import runtime
from imp.kernel import set_kernel, sim_overrides

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
SETTINGS = settings(
    max_examples=1500 if LONG else 150,
    stateful_step_count=40 if LONG else 25,
    deadline=None,
    derandomize=not LONG,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
CALL_BOUND = 3.0  # s for every call (FlushChnBuf waits for the queue: at most 1 s here)
# Valid values most of the time (so sequences go deep), the invalid ones now and then.
AI_DEV = st.sampled_from([1, 1, 1, 1, 0, 2, -1])
AO_DEV = st.sampled_from([0, 0, 0, 0, 1, 2, -1])
CHN = st.sampled_from([0, 0, 0, 0, 1])
VOL = st.sampled_from([60, 60, 90, 0, -30, -31, 121])
GAIN = st.sampled_from([12, 12, 20, 0, 31, -1, 32])
RATE = st.sampled_from([16000, 16000, 16000, 8000, 12345])
FRM = st.sampled_from([20, 20, 20, 2, 0, 51])
BLOCK = st.sampled_from([capi.IMPBlock.NOBLOCK] * 4 + [7])


OK: Counter[str] = Counter()  # successful calls per function, over the whole run
CALLS: Counter[str] = Counter()


class _InternalErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "internal error" in record.getMessage():
            self.messages.append(record.getMessage())


def _attr(rate: int, frm_num: int, num: int) -> capi.IMPAudioIOAttr:
    return capi.IMPAudioIOAttr(rate, 16, 1, frm_num, num, 1)


class AudioMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        sim_overrides(clock="virtual", mic="noise:-30", echo="10:-10")
        self.errors = _InternalErrors()
        logging.getLogger("imp.capi").addHandler(self.errors)
        self.ai_frames: list[tuple[int, capi.IMPAudioFrame]] = []
        self.dmic_frames: list[capi.IMPDmicChnFrame] = []
        self.pcm = np.arange(640, dtype=np.int16)

    def call(self, fn: Callable[..., int], *args: Any) -> int:
        start = time.monotonic()
        result = fn(*args)
        took = time.monotonic() - start
        assert took < CALL_BOUND, f"{fn.__name__}{args} took {took:.1f} s"
        assert result in (0, -1), f"{fn.__name__} returned {result!r}"
        CALLS[fn.__name__] += 1
        if result == 0:
            OK[fn.__name__] += 1
        return result

    # -- whole bring-ups, as applications do them (so sequences reach the running states) ---
    @initialize(ai=st.booleans(), ao=st.booleans(), dmic=st.booleans())
    def start_some(self, ai: bool, ao: bool, dmic: bool) -> None:
        for which, on in (("ai", ai), ("ao", ao), ("dmic", dmic)):
            if on:
                self.bring_up(which)

    @rule(which=st.sampled_from(["ai", "ao", "dmic"]))
    def bring_up(self, which: str) -> None:
        if which == "ai":
            self.call(capi.IMP_AI_SetPubAttr, 1, _attr(16000, 20, 640))
            self.call(capi.IMP_AI_Enable, 1)
            self.call(capi.IMP_AI_EnableChn, 1, 0)
        elif which == "ao":
            self.call(capi.IMP_AO_SetPubAttr, 0, _attr(16000, 20, 640))
            self.call(capi.IMP_AO_Enable, 0)
            self.call(capi.IMP_AO_EnableChn, 0, 0)
        else:
            self.call(capi.IMP_DMIC_SetPubAttr, 0, capi.IMPDmicAttr(16000, 16, 1, 10, 640, 4))
            self.call(capi.IMP_DMIC_Enable, 0)
            self.call(capi.IMP_DMIC_EnableChn, 0, 0)

    # -- AI -----------------------------------------------------------------------------------
    @rule(dev=AI_DEV, rate=RATE, frm=FRM, num=st.sampled_from([640, 640, 160]))
    def ai_attr(self, dev: int, rate: int, frm: int, num: int) -> None:
        self.call(capi.IMP_AI_SetPubAttr, dev, _attr(rate, frm, num))

    @rule(dev=AI_DEV, on=st.booleans())
    def ai_enable(self, dev: int, on: bool) -> None:
        self.call(capi.IMP_AI_Enable if on else capi.IMP_AI_Disable, dev)

    @rule(dev=AI_DEV, chn=CHN, on=st.booleans())
    def ai_chn(self, dev: int, chn: int, on: bool) -> None:
        self.call(capi.IMP_AI_EnableChn if on else capi.IMP_AI_DisableChn, dev, chn)

    @rule(dev=AI_DEV, chn=CHN, block=BLOCK, ref=st.sampled_from([False, False, True]))
    def ai_get(self, dev: int, chn: int, block: int, ref: bool) -> None:
        self.call(capi.IMP_AI_PollingFrame, dev, chn, 300)
        frm = capi.IMPAudioFrame()
        if ref:
            r = self.call(capi.IMP_AI_GetFrameAndRef, dev, chn, frm, capi.IMPAudioFrame(), block)
        else:
            r = self.call(capi.IMP_AI_GetFrame, dev, chn, frm, block)
        if r == 0:
            self.ai_frames.append((dev, frm))

    @rule(pick=st.integers(0, 5))
    def ai_release(self, pick: int) -> None:
        if self.ai_frames:
            dev, frm = self.ai_frames.pop(pick % len(self.ai_frames))
            self.call(capi.IMP_AI_ReleaseFrame, dev, 0, frm)

    @rule(dev=AI_DEV, chn=CHN, vol=VOL, gain=GAIN)
    def ai_levels(self, dev: int, chn: int, vol: int, gain: int) -> None:
        self.call(capi.IMP_AI_SetVol, dev, chn, vol)
        self.call(capi.IMP_AI_SetGain, dev, chn, gain)
        self.call(capi.IMP_AI_PollingFrame, dev, chn, 5)

    @rule(dev=AI_DEV, on=st.booleans(), aec=st.booleans())
    def ai_ref(self, dev: int, on: bool, aec: bool) -> None:
        if aec:
            fn = capi.IMP_AI_EnableAec if on else None
            if fn is None:
                self.call(capi.IMP_AI_DisableAec, dev, 0)
            else:
                self.call(fn, dev, 0, 0, 0)
        else:
            fn = capi.IMP_AI_EnableAecRefFrame if on else capi.IMP_AI_DisableAecRefFrame
            self.call(fn, dev, 0, 0, 0)

    # -- AO -----------------------------------------------------------------------------------
    @rule(dev=AO_DEV, rate=RATE, frm=FRM)
    def ao_attr(self, dev: int, rate: int, frm: int) -> None:
        self.call(capi.IMP_AO_SetPubAttr, dev, _attr(rate, frm, 640))

    @rule(dev=AO_DEV, on=st.booleans(), chn=st.booleans())
    def ao_enable(self, dev: int, on: bool, chn: bool) -> None:
        if chn:
            self.call(capi.IMP_AO_EnableChn if on else capi.IMP_AO_DisableChn, dev, 0)
        else:
            self.call(capi.IMP_AO_Enable if on else capi.IMP_AO_Disable, dev)

    @rule(dev=AO_DEV, block=BLOCK, length=st.sampled_from([0, 640, 1280, 1281, 4000]))
    def ao_send(self, dev: int, block: int, length: int) -> None:
        frame = capi.IMPAudioFrame()
        frame.virAddr = ctypes.cast(self.pcm.ctypes.data, type(frame.virAddr))
        frame.len = min(length, self.pcm.nbytes)
        self.call(capi.IMP_AO_SendFrame, dev, 0, frame, block)

    @rule(
        dev=AO_DEV,
        op=st.sampled_from(
            [
                "pause",
                "resume",
                "clear",
                "flush",
                "stat",
                "mute",
                "unmute",
                "cache0",
                "cache1",
                "vol",
                "gain",
            ]
        ),
    )
    def ao_control(self, dev: int, op: str) -> None:
        calls: dict[str, tuple[Callable[..., int], tuple[Any, ...]]] = {
            "pause": (capi.IMP_AO_PauseChn, ()),
            "resume": (capi.IMP_AO_ResumeChn, ()),
            "clear": (capi.IMP_AO_ClearChnBuf, ()),
            "flush": (capi.IMP_AO_FlushChnBuf, ()),
            "stat": (capi.IMP_AO_QueryChnStat, (capi.IMPAudioOChnState(),)),
            "mute": (capi.IMP_AO_Soft_Mute, ()),
            "unmute": (capi.IMP_AO_Soft_UNMute, ()),
            "cache0": (capi.IMP_AO_CacheSwitch, (0,)),
            "cache1": (capi.IMP_AO_CacheSwitch, (1,)),
            "vol": (capi.IMP_AO_SetVol, (70,)),
            "gain": (capi.IMP_AO_SetGain, (10,)),
        }
        fn, extra = calls[op]
        self.call(fn, dev, 0, *extra)

    # -- DMIC ---------------------------------------------------------------------------------
    @rule(
        dev=st.sampled_from([0, 0, 0, 1, -1]),
        op=st.sampled_from(["attr", "attr", "on", "on", "off", "chn", "chn", "unchn"]),
    )
    def dmic_setup(self, dev: int, op: str) -> None:
        if op == "attr":
            attr = capi.IMPDmicAttr(16000, 16, 1, 10, 640, 4)
            self.call(capi.IMP_DMIC_SetPubAttr, dev, attr)
        elif op in ("on", "off"):
            self.call(capi.IMP_DMIC_Enable if op == "on" else capi.IMP_DMIC_Disable, dev)
        else:
            fn = capi.IMP_DMIC_EnableChn if op == "chn" else capi.IMP_DMIC_DisableChn
            self.call(fn, dev, 0)

    @rule(block=BLOCK, release=st.booleans())
    def dmic_frames_rule(self, block: int, release: bool) -> None:
        if release and self.dmic_frames:
            self.call(capi.IMP_DMIC_ReleaseFrame, 0, 0, self.dmic_frames.pop())
            return
        self.call(capi.IMP_DMIC_PollingFrame, 0, 0, 300)
        cf = capi.IMPDmicChnFrame()
        if self.call(capi.IMP_DMIC_GetFrame, 0, 0, cf, block) == 0:
            self.dmic_frames.append(cf)

    @invariant()
    def no_internal_error(self) -> None:
        assert not self.errors.messages, self.errors.messages

    def teardown(self) -> None:
        logging.getLogger("imp.capi").removeHandler(self.errors)
        imp.audio.shutdown()
        kernel = runtime.kernel()
        assert getattr(kernel, "open_fds", lambda: 0)() == 0, "a /dev/dsp fd stayed open"
        assert runtime._allocator is None, "rmem blocks were not returned"
        set_kernel(None)
        sim_overrides()
        for t in threading.enumerate():
            if t.name.startswith("imp-"):
                t.join(5)
        assert not [t for t in threading.enumerate() if t.name.startswith("imp-")]


TestAudioStateful = AudioMachine.TestCase
TestAudioStateful.settings = SETTINGS


def test_the_sequences_reached_the_deep_states() -> None:
    """Runs after the machine (file order): frames were got and sent, not only refused."""
    if not OK:
        pytest.skip("the state machine did not run in this session")
    print("successful / all calls:", {k: f"{OK[k]}/{n}" for k, n in sorted(CALLS.items())})
    for name in (
        "IMP_AI_GetFrame",
        "IMP_AI_ReleaseFrame",
        "IMP_AO_SendFrame",
        "IMP_DMIC_GetFrame",
        "IMP_AO_FlushChnBuf",
    ):
        assert OK[name] > 0, name


pytestmark = pytest.mark.timeout(3600 if LONG else 600)
