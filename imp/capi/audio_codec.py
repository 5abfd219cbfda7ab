"""``IMP_AENC_*`` (8) and ``IMP_ADEC_*`` (9) of libimp 1.1.6.

Streams live in rmem: ``IMPAudioStream.stream``/``phyAddr`` point into the channel's stream
buffer and stay valid until ReleaseStream (released oldest first). ADEC output is 16-bit PCM.

Registered codecs are C-style, as prudynt-t registers its AAC and Opus ones: the callbacks of
``IMPAudioEncEncoder`` / ``IMPAudioDecDecoder`` (ctypes ``CFUNCTYPE`` objects) run in the
thread that calls CreateChn (open), SendFrame/SendStream (encode/decode) and DestroyChn
(close). Their arguments:

- ``openEncoder(void *attr, void *encoder)``: ``attr`` is the channel's ``IMPAudioEncChnAttr``,
  ``encoder`` a per-channel context (64 bytes, zeroed) passed again to the other callbacks.
- ``encoderFrm(void *encoder, IMPAudioFrame *data, unsigned char *outbuf, int *outLen)``: the
  caller's own frame; ``outbuf`` has room for ``maxFrmLen`` bytes; ``*outLen`` = bytes written
  (0: no stream yet, e.g. AAC gathering 1024 samples). Non-zero return = error.
- ``openDecoder(void *attr, void *decoder)`` / ``closeDecoder(void *decoder)`` likewise.
- ``decodeFrm(void *decoder, unsigned char *inbuf, int inLen, unsigned short *outbuf,
  int *outLen, int *chns)``: ``outbuf`` has room for 32768 bytes; ``*outLen`` is in bytes of
  16-bit PCM, ``*chns`` the channel count (1 when left alone). ``getFrmInfo`` may be NULL.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from imp.audio import adec as _adec
from imp.audio import aenc as _aenc
from imp.audio.codecs import PcmFrame
from imp.capi._audio_common import address_of, block_flag
from imp.capi._common import c_function, check_int, deref, scalar_out
from imp.errors import DeviceError, InvalidArgument, Timeout
from imp.types import (
    IMPAudioDecChnAttr,
    IMPAudioDecDecoder,
    IMPAudioEncChnAttr,
    IMPAudioEncEncoder,
    IMPAudioFrame,
    IMPAudioStream,
)

__all__ = [
    "IMP_ADEC_ClearChnBuf",
    "IMP_ADEC_CreateChn",
    "IMP_ADEC_DestroyChn",
    "IMP_ADEC_GetStream",
    "IMP_ADEC_PollingStream",
    "IMP_ADEC_RegisterDecoder",
    "IMP_ADEC_ReleaseStream",
    "IMP_ADEC_SendStream",
    "IMP_ADEC_UnRegisterDecoder",
    "IMP_AENC_CreateChn",
    "IMP_AENC_DestroyChn",
    "IMP_AENC_GetStream",
    "IMP_AENC_PollingStream",
    "IMP_AENC_RegisterEncoder",
    "IMP_AENC_ReleaseStream",
    "IMP_AENC_SendFrame",
    "IMP_AENC_UnRegisterEncoder",
]

CONTEXT_BYTES = 64
OVERRUN_SLACK = 4096
DECODE_OUT_BYTES = _adec.MAX_PCM_BYTES
MAX_STREAM_BYTES = 1 << 20


# -- C-style codecs -------------------------------------------------------------------------------
def _callback(fn: Any) -> Any | None:
    """A callback field, None when NULL."""
    return fn if fn else None


class CallbackEncoder:
    """An ``IMPAudioEncEncoder`` driven through its function pointers."""

    def __init__(self, spec: IMPAudioEncEncoder, c_attr: IMPAudioEncChnAttr) -> None:
        self.codec = spec.name.decode(errors="replace").lower() or "custom"
        self._spec = spec
        self._attr = c_attr
        self._context = ctypes.create_string_buffer(CONTEXT_BYTES)
        self._max = max(int(spec.maxFrmLen), 1)
        # slack past maxFrmLen: an encoder that overruns it is reported, not a heap corruption
        self._out = ctypes.create_string_buffer(self._max + OVERRUN_SLACK)
        self._out_len = ctypes.c_int(0)
        self._closed = False
        opener = _callback(spec.openEncoder)
        if opener is not None:
            rc = opener(ctypes.addressof(c_attr), ctypes.addressof(self._context))
            if rc != 0:
                raise DeviceError(0, f"the encoder's openEncoder returned {rc}")

    def encode(self, frame: PcmFrame) -> bytes:
        encode = _callback(self._spec.encoderFrm)
        if encode is None:
            raise InvalidArgument("the registered encoder has no encoderFrm callback")
        c_frame = frame.as_c_frame()
        self._out_len.value = 0
        rc = encode(
            ctypes.addressof(self._context),
            ctypes.pointer(c_frame),
            ctypes.cast(self._out, ctypes.POINTER(ctypes.c_ubyte)),
            ctypes.byref(self._out_len),
        )
        if rc != 0:
            raise DeviceError(0, f"the encoder's encoderFrm returned {rc}")
        n = self._out_len.value
        if not 0 <= n <= self._max:
            raise InvalidArgument(f"encoderFrm reported {n} bytes; maxFrmLen is {self._max}")
        return self._out.raw[:n]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        closer = _callback(self._spec.closeEncoder)
        if closer is not None:
            closer(ctypes.addressof(self._context))


class CallbackDecoder:
    """An ``IMPAudioDecDecoder`` driven through its function pointers."""

    def __init__(self, spec: IMPAudioDecDecoder, c_attr: IMPAudioDecChnAttr) -> None:
        self.codec = spec.name.decode(errors="replace").lower() or "custom"
        self._spec = spec
        self._attr = c_attr
        self._context = ctypes.create_string_buffer(CONTEXT_BYTES)
        self._out = (ctypes.c_ushort * (DECODE_OUT_BYTES // 2))()
        self._closed = False
        opener = _callback(spec.openDecoder)
        if opener is not None:
            rc = opener(ctypes.addressof(c_attr), ctypes.addressof(self._context))
            if rc != 0:
                raise DeviceError(0, f"the decoder's openDecoder returned {rc}")

    def decode(self, data: bytes) -> np.ndarray:
        decode = _callback(self._spec.decodeFrm)
        if decode is None:
            raise InvalidArgument("the registered decoder has no decodeFrm callback")
        inbuf = (ctypes.c_ubyte * max(len(data), 1)).from_buffer_copy(data or b"\0")
        out_len, chns = ctypes.c_int(0), ctypes.c_int(1)
        rc = decode(
            ctypes.addressof(self._context),
            inbuf,
            len(data),
            self._out,
            ctypes.byref(out_len),
            ctypes.byref(chns),
        )
        if rc != 0:
            raise DeviceError(0, f"the decoder's decodeFrm returned {rc}")
        n = out_len.value
        if not 0 <= n <= DECODE_OUT_BYTES or n % 2:
            raise InvalidArgument(f"decodeFrm reported {n} bytes of 16-bit PCM")
        return np.frombuffer(bytes(memoryview(self._out).cast("B")[:n]), dtype=np.int16)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        closer = _callback(self._spec.closeDecoder)
        if closer is not None:
            closer(ctypes.addressof(self._context))


def _copy(struct: Any) -> Any:
    """A private copy of a caller's struct (the caller may reuse or free theirs)."""
    return type(struct).from_buffer_copy(struct)


def _timeout_s(timeout_ms: Any) -> float:
    ms = check_int(timeout_ms, "timeout_ms")
    if ms < 0 or ms > 0xFFFFFFFF:
        raise InvalidArgument(f"timeout_ms {ms} must be 0..4294967295")
    return ms / 1000.0


def _fill_stream(c: IMPAudioStream, stored: Any) -> None:
    c.stream = ctypes.cast(ctypes.c_void_p(stored.addr), ctypes.POINTER(ctypes.c_uint8))
    c.phyAddr = stored.phys & 0xFFFFFFFF
    c.len = stored.length
    c.timeStamp = stored.timestamp
    c.seq = stored.seq


def _stream_address(c: IMPAudioStream, what: str) -> int:
    addr = address_of(c.stream)
    if addr is None:
        raise InvalidArgument(f"{what}.stream is NULL (pass the stream GetStream filled in)")
    return addr


def _handle_out(handle: Any) -> Any:
    return scalar_out(handle, "handle")


# -- AENC -----------------------------------------------------------------------------------------
@c_function(-1)
def IMP_AENC_CreateChn(aeChn: Any, attr: Any) -> int:
    """``int IMP_AENC_CreateChn(int aeChn, IMPAudioEncChnAttr *attr)``."""
    chn = _aenc.get_aenc().check_chn(check_int(aeChn, "aeChn"))
    a = _copy(deref(attr, IMPAudioEncChnAttr, "attr"))
    pt, buf_size = int(a.type), int(a.bufSize)
    if not 1 <= buf_size <= 1024:
        raise InvalidArgument(f"attr.bufSize {buf_size} must be 1..1024 streams")
    _aenc.get_aenc().create(chn, pt, buf_size, c_attr=a)
    return 0


@c_function(-1)
def IMP_AENC_DestroyChn(aeChn: Any) -> int:
    """``int IMP_AENC_DestroyChn(int aeChn)``."""
    _aenc.get_aenc().destroy(check_int(aeChn, "aeChn"))
    return 0


@c_function(-1)
def IMP_AENC_SendFrame(aeChn: Any, frm: Any) -> int:
    """``int IMP_AENC_SendFrame(int aeChn, IMPAudioFrame *frm)``: encodes now."""
    channel = _aenc.get_aenc().channel(check_int(aeChn, "aeChn"))
    f = deref(frm, IMPAudioFrame, "frm")
    addr = address_of(f.virAddr)
    n = int(f.len)
    if addr is None:
        raise InvalidArgument("frm->virAddr is NULL")
    if int(f.bitwidth) != 16:
        raise InvalidArgument(f"frm->bitwidth {int(f.bitwidth)}: only 16-bit PCM is encoded")
    if n <= 0 or n % 2 or n > MAX_STREAM_BYTES:
        raise InvalidArgument(f"frm->len {n} must be a positive, even byte count (16-bit samples)")
    samples = np.ctypeslib.as_array((ctypes.c_int16 * (n // 2)).from_address(addr))
    channel.send(PcmFrame(samples, 0, int(f.timeStamp), int(f.seq), f))
    return 0


@c_function(-1)
def IMP_AENC_PollingStream(AeChn: Any, timeout_ms: Any) -> int:
    """``int IMP_AENC_PollingStream(int AeChn, unsigned int timeout_ms)``."""
    channel = _aenc.get_aenc().channel(check_int(AeChn, "AeChn"))
    channel.queue.wait_ready(_timeout_s(timeout_ms))
    return 0


@c_function(-1)
def IMP_AENC_GetStream(aeChn: Any, stream: Any, block: Any) -> int:
    """``int IMP_AENC_GetStream(int aeChn, IMPAudioStream *stream, IMPBlock block)``."""
    channel = _aenc.get_aenc().channel(check_int(aeChn, "aeChn"))
    s = deref(stream, IMPAudioStream, "stream")
    stored = channel.get(None if block_flag(block) else 0.0)
    _fill_stream(s, stored)
    return 0


@c_function(-1)
def IMP_AENC_ReleaseStream(aeChn: Any, stream: Any) -> int:
    """``int IMP_AENC_ReleaseStream(int aeChn, IMPAudioStream *stream)``."""
    channel = _aenc.get_aenc().channel(check_int(aeChn, "aeChn"))
    s = deref(stream, IMPAudioStream, "stream")
    channel.release(_stream_address(s, "stream"))
    return 0


@c_function(-1)
def IMP_AENC_RegisterEncoder(handle: Any, encoder: Any) -> int:
    """``int IMP_AENC_RegisterEncoder(int *handle, IMPAudioEncEncoder *encoder)``."""
    out = _handle_out(handle)
    spec = _copy(deref(encoder, IMPAudioEncEncoder, "encoder"))
    if not spec.encoderFrm:
        raise InvalidArgument("encoder->encoderFrm is NULL; an encoder needs it")
    max_len = int(spec.maxFrmLen)
    if not 1 <= max_len <= MAX_STREAM_BYTES:
        raise InvalidArgument(f"encoder->maxFrmLen {max_len} must be 1..{MAX_STREAM_BYTES}")
    name = spec.name.decode(errors="replace")

    def factory(config: _aenc.ChannelConfig) -> CallbackEncoder:
        c_attr = config.c_attr
        if not isinstance(c_attr, IMPAudioEncChnAttr):
            c_attr = IMPAudioEncChnAttr(type=config.payload_type, bufSize=config.buf_size)
        return CallbackEncoder(spec, c_attr)

    out.value = _aenc.get_aenc().register(name, factory, max_len)
    return 0


@c_function(-1)
def IMP_AENC_UnRegisterEncoder(handle: Any) -> int:
    """``int IMP_AENC_UnRegisterEncoder(int *handle)``."""
    _aenc.get_aenc().unregister(int(_handle_out(handle).value))
    return 0


# -- ADEC -----------------------------------------------------------------------------------------
@c_function(-1)
def IMP_ADEC_CreateChn(adChn: Any, attr: Any) -> int:
    """``int IMP_ADEC_CreateChn(int adChn, IMPAudioDecChnAttr *attr)``."""
    chn = _adec.get_adec().check_chn(check_int(adChn, "adChn"))
    a = _copy(deref(attr, IMPAudioDecChnAttr, "attr"))
    buf_size = int(a.bufSize)
    if not 1 <= buf_size <= 1024:
        raise InvalidArgument(f"attr.bufSize {buf_size} must be 1..1024 streams")
    _adec.get_adec().create(chn, int(a.type), buf_size, int(a.mode), c_attr=a)
    return 0


@c_function(-1)
def IMP_ADEC_DestroyChn(adChn: Any) -> int:
    """``int IMP_ADEC_DestroyChn(int adChn)``."""
    _adec.get_adec().destroy(check_int(adChn, "adChn"))
    return 0


@c_function(-1)
def IMP_ADEC_SendStream(adChn: Any, stream: Any, block: Any) -> int:
    """``int IMP_ADEC_SendStream(int adChn, IMPAudioStream *stream, IMPBlock block)``: decodes
    now; BLOCK waits for room in the channel's buffer, NOBLOCK fails when it is full."""
    channel = _adec.get_adec().channel(check_int(adChn, "adChn"))
    s = deref(stream, IMPAudioStream, "stream")
    wait = None if block_flag(block) else 0.0
    n = int(s.len)
    if n <= 0 or n > MAX_STREAM_BYTES:
        raise InvalidArgument(f"stream->len {n} must be 1..{MAX_STREAM_BYTES} bytes")
    data = ctypes.string_at(_stream_address(s, "stream"), n)
    channel.send(data, int(s.timeStamp), wait)
    return 0


@c_function(-1)
def IMP_ADEC_PollingStream(AdChn: Any, timeout_ms: Any) -> int:
    """``int IMP_ADEC_PollingStream(int AdChn, unsigned int timeout_ms)``."""
    channel = _adec.get_adec().channel(check_int(AdChn, "AdChn"))
    channel.queue.wait_ready(_timeout_s(timeout_ms))
    return 0


@c_function(-1)
def IMP_ADEC_GetStream(adChn: Any, stream: Any, block: Any) -> int:
    """``int IMP_ADEC_GetStream(int adChn, IMPAudioStream *stream, IMPBlock block)``: 16-bit
    PCM."""
    channel = _adec.get_adec().channel(check_int(adChn, "adChn"))
    s = deref(stream, IMPAudioStream, "stream")
    try:
        stored = channel.get(None if block_flag(block) else 0.0)
    except Timeout as exc:
        raise Timeout(f"{exc} (send a stream first)") from exc
    _fill_stream(s, stored)
    return 0


@c_function(-1)
def IMP_ADEC_ReleaseStream(adChn: Any, stream: Any) -> int:
    """``int IMP_ADEC_ReleaseStream(int adChn, IMPAudioStream *stream)``."""
    channel = _adec.get_adec().channel(check_int(adChn, "adChn"))
    s = deref(stream, IMPAudioStream, "stream")
    channel.release(_stream_address(s, "stream"))
    return 0


@c_function(-1)
def IMP_ADEC_ClearChnBuf(adChn: Any) -> int:
    """``int IMP_ADEC_ClearChnBuf(int adChn)``: drops decoded streams not fetched yet."""
    _adec.get_adec().channel(check_int(adChn, "adChn")).clear()
    return 0


@c_function(-1)
def IMP_ADEC_RegisterDecoder(handle: Any, decoder: Any) -> int:
    """``int IMP_ADEC_RegisterDecoder(int *handle, IMPAudioDecDecoder *decoder)``."""
    out = _handle_out(handle)
    spec = _copy(deref(decoder, IMPAudioDecDecoder, "decoder"))
    if not spec.decodeFrm:
        raise InvalidArgument("decoder->decodeFrm is NULL; a decoder needs it")
    name = spec.name.decode(errors="replace")

    def factory(config: _adec.DecoderConfig) -> CallbackDecoder:
        c_attr = config.c_attr
        if not isinstance(c_attr, IMPAudioDecChnAttr):
            c_attr = IMPAudioDecChnAttr(type=config.payload_type, bufSize=config.buf_size)
        return CallbackDecoder(spec, c_attr)

    out.value = _adec.get_adec().register(name, factory)
    return 0


@c_function(-1)
def IMP_ADEC_UnRegisterDecoder(handle: Any) -> int:
    """``int IMP_ADEC_UnRegisterDecoder(int *handle)``."""
    _adec.get_adec().unregister(int(_handle_out(handle).value))
    return 0
