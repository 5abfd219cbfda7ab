"""Random AENC/ADEC call sequences through imp.capi against a model of what libimp promises.

A Hypothesis ``RuleBasedStateMachine`` creates and destroys channels (built-in types and
C-registered codecs), registers and unregisters codecs, sends frames/streams, polls, gets and
releases (in and out of order), clears, with valid and invalid arguments. Invariants: every
call returns exactly what the model expects (0 or -1), nothing raises or logs an internal
error, no call blocks (all waits here are non-blocking or 0 ms), fetched data is what was
sent, and at teardown every rmem block is back. ``HYPOTHESIS_PROFILE=long`` runs more.
"""

from __future__ import annotations

import ctypes
import logging
import os
from collections import deque
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import imp.capi as capi
from imp import runtime
from imp.audio.adec import get_adec
from imp.audio.aenc import get_aenc
from imp.audio.codecs.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode

COUNTS = {"sequences": 0, "calls": 0}
LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
SETTINGS = settings(
    max_examples=1000 if LONG else 120,
    stateful_step_count=60 if LONG else 30,
    deadline=None,
    derandomize=not LONG,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
CHANNELS = st.integers(-1, 4)  # 4 valid-but-unused numbers and one bad one
BUF_SIZES = st.integers(0, 3)
ENC = {capi.PT_G711A: alaw_encode, capi.PT_G711U: ulaw_encode}
DEC = {capi.PT_G711A: alaw_decode, capi.PT_G711U: ulaw_decode}
proto = capi.IMPAudioEncEncoder._fields_


@proto[4][1]  # type: ignore[misc]
def _xor_encode(enc: int, data: Any, out: Any, out_len: Any) -> int:
    """A registered 'codec': the first 8 bytes of the frame, xor 0x5A."""
    raw = ctypes.string_at(ctypes.cast(data.contents.virAddr, ctypes.c_void_p), 8)
    ctypes.memmove(out, bytes(b ^ 0x5A for b in raw), 8)
    out_len[0] = 8
    return 0


class AudioCodecMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.enc: dict[int, dict[str, Any]] = {}  # chn -> {type, depth, ready deque, held deque}
        self.dec: dict[int, dict[str, Any]] = {}
        self.handles: set[int] = set()
        self.errors: list[str] = []
        self.handler = _Collect(self.errors)
        logging.getLogger("imp.capi").addHandler(self.handler)
        self.keep: list[Any] = []
        self.calls = 0

    def teardown(self) -> None:
        COUNTS["sequences"] += 1
        COUNTS["calls"] += self.calls
        logging.getLogger("imp.capi").removeHandler(self.handler)
        get_aenc().shutdown()
        get_adec().shutdown()
        alloc = runtime._allocator
        assert alloc is None or alloc.stats()["blocks"] == 0, "rmem blocks left after DestroyChn"

    def call(self, expect_ok: bool, fn: Any, *args: Any) -> None:
        self.calls += 1
        rc = fn(*args)
        assert rc == (0 if expect_ok else -1), f"{fn.__name__}{args!r} returned {rc}"

    @invariant()
    def no_internal_errors(self) -> None:
        assert not [e for e in self.errors if "internal error" in e], self.errors

    # -- registration ------------------------------------------------------------------------
    @rule()
    def register(self) -> None:
        spec = capi.IMPAudioEncEncoder(maxFrmLen=64, name=b"XOR")
        spec.encoderFrm = _xor_encode
        handle = ctypes.c_int(-1)
        ok = len(self.handles) < 16
        self.call(ok, capi.IMP_AENC_RegisterEncoder, ctypes.byref(handle), spec)
        if ok:
            assert handle.value > capi.PT_MAX and handle.value not in self.handles
            self.handles.add(handle.value)

    @rule(data=st.data())
    def unregister(self, data: st.DataObject) -> None:
        handle = data.draw(st.sampled_from(sorted(self.handles | {99})))
        self.call(
            handle in self.handles,
            capi.IMP_AENC_UnRegisterEncoder,
            ctypes.byref(ctypes.c_int(handle)),
        )
        self.handles.discard(handle)

    # -- AENC ---------------------------------------------------------------------------------
    @rule(chn=CHANNELS, buf=BUF_SIZES, data=st.data())
    def aenc_create(self, chn: int, buf: int, data: st.DataObject) -> None:
        pt = data.draw(st.sampled_from([capi.PT_G711A, capi.PT_G711U, 42, *sorted(self.handles)]))
        ok = chn >= 0 and chn not in self.enc and buf >= 1 and (pt in ENC or pt in self.handles)
        self.call(ok, capi.IMP_AENC_CreateChn, chn, capi.IMPAudioEncChnAttr(type=pt, bufSize=buf))
        if ok:
            self.enc[chn] = {"type": pt, "depth": buf, "ready": deque(), "held": deque()}

    @rule(chn=CHANNELS)
    def aenc_destroy(self, chn: int) -> None:
        self.call(chn in self.enc, capi.IMP_AENC_DestroyChn, chn)
        self.enc.pop(chn, None)

    @rule(chn=CHANNELS, n=st.integers(0, 400), seed=st.integers(0, 3))
    def aenc_send(self, chn: int, n: int, seed: int) -> None:
        pcm = (np.arange(n, dtype=np.int16) * (seed * 97 + 13)).astype(np.int16)
        self.keep.append(pcm)
        f = capi.IMPAudioFrame()
        f.bitwidth, f.len = 16, pcm.nbytes
        f.virAddr = ctypes.cast(pcm.ctypes.data, ctypes.POINTER(ctypes.c_uint32))
        c = self.enc.get(chn)
        ok = c is not None and n > 0 and len(c["ready"]) + len(c["held"]) < c["depth"]
        if c is not None and c["type"] not in ENC and n < 4:
            return  # the XOR codec reads 8 bytes: frames of >= 4 samples only
        self.call(ok, capi.IMP_AENC_SendFrame, chn, f)
        if ok and c is not None:
            expected = (
                ENC[c["type"]](pcm)
                if c["type"] in ENC
                else bytes(b ^ 0x5A for b in pcm.tobytes()[:8])
            )
            c["ready"].append(expected)

    @rule(chn=CHANNELS)
    def aenc_poll(self, chn: int) -> None:
        c = self.enc.get(chn)
        self.call(c is not None and bool(c["ready"]), capi.IMP_AENC_PollingStream, chn, 0)

    @rule(chn=CHANNELS)
    def aenc_get(self, chn: int) -> None:
        c = self.enc.get(chn)
        s = capi.IMPAudioStream()
        ok = c is not None and bool(c["ready"])
        self.call(ok, capi.IMP_AENC_GetStream, chn, s, capi.NOBLOCK)
        if ok and c is not None:
            expected = c["ready"].popleft()
            assert ctypes.string_at(s.stream, s.len) == expected
            c["held"].append(s)

    @rule(chn=CHANNELS, oldest=st.booleans())
    def aenc_release(self, chn: int, oldest: bool) -> None:
        c = self.enc.get(chn)
        if c is None or not c["held"]:
            self.call(False, capi.IMP_AENC_ReleaseStream, chn, capi.IMPAudioStream())
            return
        s = c["held"][0 if oldest else -1]
        ok = oldest or len(c["held"]) == 1
        self.call(ok, capi.IMP_AENC_ReleaseStream, chn, s)
        if ok:
            c["held"].popleft()

    # -- ADEC ---------------------------------------------------------------------------------
    @rule(chn=CHANNELS, buf=BUF_SIZES, pt=st.sampled_from([capi.PT_G711A, capi.PT_G711U, 42]))
    def adec_create(self, chn: int, buf: int, pt: int) -> None:
        ok = chn >= 0 and chn not in self.dec and buf >= 1 and pt in DEC
        self.call(ok, capi.IMP_ADEC_CreateChn, chn, capi.IMPAudioDecChnAttr(type=pt, bufSize=buf))
        if ok:
            self.dec[chn] = {"type": pt, "depth": buf, "ready": deque(), "held": deque()}

    @rule(chn=CHANNELS)
    def adec_destroy(self, chn: int) -> None:
        self.call(chn in self.dec, capi.IMP_ADEC_DestroyChn, chn)
        self.dec.pop(chn, None)

    @rule(chn=CHANNELS, payload=st.binary(min_size=0, max_size=200))
    def adec_send(self, chn: int, payload: bytes) -> None:
        c = self.dec.get(chn)
        buf = (ctypes.c_uint8 * max(len(payload), 1)).from_buffer_copy(payload or b"\0")
        self.keep.append(buf)
        s = capi.IMPAudioStream()
        s.stream, s.len = ctypes.cast(buf, ctypes.POINTER(ctypes.c_uint8)), len(payload)
        ok = c is not None and len(payload) > 0 and len(c["ready"]) + len(c["held"]) < c["depth"]
        self.call(ok, capi.IMP_ADEC_SendStream, chn, s, capi.NOBLOCK)
        if ok and c is not None:
            c["ready"].append(DEC[c["type"]](payload).tobytes())

    @rule(chn=CHANNELS)
    def adec_get(self, chn: int) -> None:
        c = self.dec.get(chn)
        s = capi.IMPAudioStream()
        ok = c is not None and bool(c["ready"])
        self.call(ok, capi.IMP_ADEC_GetStream, chn, s, capi.NOBLOCK)
        if ok and c is not None:
            assert ctypes.string_at(s.stream, s.len) == c["ready"].popleft()
            c["held"].append(s)

    @rule(chn=CHANNELS)
    def adec_release(self, chn: int) -> None:
        c = self.dec.get(chn)
        if c is None or not c["held"]:
            self.call(False, capi.IMP_ADEC_ReleaseStream, chn, capi.IMPAudioStream())
            return
        self.call(True, capi.IMP_ADEC_ReleaseStream, chn, c["held"].popleft())

    @rule(chn=CHANNELS)
    def adec_clear(self, chn: int) -> None:
        c = self.dec.get(chn)
        self.call(c is not None, capi.IMP_ADEC_ClearChnBuf, chn)
        if c is not None:
            c["ready"].clear()

    @precondition(lambda self: bool(self.dec))
    @rule()
    def adec_poll_all(self) -> None:
        for chn, c in self.dec.items():
            self.call(bool(c["ready"]), capi.IMP_ADEC_PollingStream, chn, 0)


class _Collect(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


AudioCodecMachine.TestCase.settings = SETTINGS
TestAudioCodecSequences = AudioCodecMachine.TestCase
pytestmark = pytest.mark.timeout(3600 if LONG else 600)


def test_sequences_ran() -> None:
    """Runs after the machine (file order): it really made the calls."""
    print(f"AENC/ADEC stateful: {COUNTS['sequences']} sequences, {COUNTS['calls']} calls")
    if COUNTS["sequences"]:
        assert COUNTS["calls"] >= COUNTS["sequences"] * 5
