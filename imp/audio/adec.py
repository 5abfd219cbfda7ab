"""The ADEC module: audio decoder channels behind ``IMP_ADEC_*``, and its Pythonic face.

SendStream decodes at once in the caller's thread (prudynt-t's backchannel keeps per-thread
decoder state, as its encoder does) and stores the 16-bit PCM in the channel's rmem stream
buffer, where GetStream/ReleaseStream hand it out oldest first. Registered decoders get
handles from ``PT_MAX + 1`` up, independent of the AENC ones.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from imp.audio.codecs import BUILTIN_TYPES, AudioDecoder, PayloadType, builtin_decoder
from imp.audio.codecs.module import NR_MAX_CHN, CodecModule
from imp.audio.codecs.streamq import StoredStream, StreamQueue
from imp.core.graph import DEV_ID_ADEC
from imp.core.iterate import borrowed
from imp.errors import InvalidArgument

NR_MAX_ADEC_CHN = NR_MAX_CHN
MAX_PCM_BYTES = 32768  # one decoded stream: 8192 stereo samples (an AAC frame is 2048 bytes mono)
MODE_PACK, MODE_STREAM = 0, 1  # IMPAudioDecMode


@dataclass(frozen=True)
class DecoderConfig:
    """What a decoder factory learns about its channel."""

    chn: int
    payload_type: int
    buf_size: int
    mode: int
    c_attr: object | None = None


DecoderFactory = Callable[[DecoderConfig], AudioDecoder]


@dataclass
class RegisteredDecoder:
    handle: int
    name: str
    factory: DecoderFactory


@dataclass(frozen=True)
class DecodedAudio:
    """One decoded stream: int16 samples viewing the rmem buffer until :meth:`release`."""

    samples: np.ndarray
    timestamp: int
    seq: int
    stored: StoredStream
    channel: AdecChannel

    def release(self) -> None:
        self.channel.release(self.stored.addr)

    def __enter__(self) -> DecodedAudio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class AdecChannel:
    """One ``IMP_ADEC`` channel."""

    def __init__(self, config: DecoderConfig, decoder: AudioDecoder) -> None:
        self.config = config
        self.decoder = decoder
        self.queue = StreamQueue(f"ADEC channel {config.chn}", config.buf_size, MAX_PCM_BYTES)
        self._carry = b""  # ADEC_MODE_STREAM + PT_PCM: half a sample left from the last send

    @property
    def chn(self) -> int:
        return self.config.chn

    def send(self, data: bytes, timestamp: int, wait: float | None) -> StoredStream | None:
        """Decode one packet now; store its PCM (waiting up to ``wait`` s for room).

        In ADEC_MODE_STREAM the input is a byte stream cut anywhere: the sample-aligned
        built-ins (G.711: a byte per sample, G.726-32: two per byte) decode any cut, and PCM
        keeps an odd trailing byte for the next call."""
        if self.config.mode == MODE_STREAM and self.config.payload_type == PayloadType.PCM:
            data = self._carry + data
            cut = len(data) & ~1
            data, self._carry = data[:cut], data[cut:]
        pcm = self.decoder.decode(data)
        if len(pcm) == 0:
            return None
        raw = np.ascontiguousarray(pcm, dtype=np.int16).tobytes()
        return self.queue.put(raw, timestamp, wait)

    def get(self, timeout: float | None) -> StoredStream:
        return self.queue.get(timeout)

    def release(self, addr: int) -> None:
        self.queue.release(addr)

    def fetch(self, timeout: float | None = None) -> DecodedAudio:
        stored = self.queue.get(timeout)
        buf = (ctypes.c_int16 * (stored.length // 2)).from_address(stored.addr)
        return DecodedAudio(np.ctypeslib.as_array(buf), stored.timestamp, stored.seq, stored, self)

    def clear(self) -> int:
        return self.queue.clear()

    def close(self) -> None:
        try:
            self.decoder.close()
        finally:
            self.queue.close()


class Adec(CodecModule[AdecChannel, RegisteredDecoder]):
    """The process-wide ADEC module: channels and registered decoders."""

    def __init__(self) -> None:
        super().__init__("ADEC", "IMP_ADEC_RegisterDecoder", DEV_ID_ADEC)

    def register(self, name: str, factory: DecoderFactory) -> int:
        return self.add_registration(factory, lambda h: RegisteredDecoder(h, name, factory))

    def create(
        self,
        chn: int,
        payload_type: int,
        buf_size: int,
        mode: int = MODE_PACK,
        c_attr: object | None = None,
        factory: DecoderFactory | None = None,
    ) -> AdecChannel:
        if mode not in (MODE_PACK, MODE_STREAM):
            raise InvalidArgument(f"ADEC mode {mode!r} must be ADEC_MODE_PACK (0) or _STREAM (1)")

        def make() -> AdecChannel:
            config = DecoderConfig(chn, payload_type, buf_size, mode, c_attr)
            if factory is not None:
                decoder = factory(config)
            elif payload_type in BUILTIN_TYPES:
                decoder = builtin_decoder(payload_type)
            elif payload_type in self.registered:
                decoder = self.registered[payload_type].factory(config)
            else:
                raise self.unknown_type(payload_type)
            try:
                return AdecChannel(config, decoder)
            except BaseException:
                decoder.close()
                raise

        return self.insert(chn, make)


_adec: Adec | None = None
_adec_lock = threading.Lock()


def get_adec() -> Adec:
    global _adec
    with _adec_lock:
        if _adec is None:
            _adec = Adec()
        return _adec


# -- Pythonic API ---------------------------------------------------------------------------------
def register_decoder(name: str, factory: DecoderFactory) -> int:
    """Pythonic ``IMP_ADEC_RegisterDecoder``; returns the handle to use as payload type."""
    return get_adec().register(name, factory)


def unregister_decoder(handle: int) -> None:
    """Pythonic ``IMP_ADEC_UnRegisterDecoder``."""
    get_adec().unregister(handle)


class AudioDecoderChannel:
    """A Pythonic ADEC channel: ``send()`` packets, take PCM with ``get()``/``frames()``."""

    def __init__(self, channel: AdecChannel) -> None:
        self._channel = channel

    @property
    def chn(self) -> int:
        return self._channel.chn

    def send(self, data: bytes, timestamp: int = 0, timeout: float | None = None) -> bool:
        """Decode one packet; True when it produced PCM. Waits up to ``timeout`` s for room."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidArgument("send() takes the encoded packet as bytes")
        return self._channel.send(bytes(data), timestamp, timeout) is not None

    def get(self, timeout: float | None = None) -> DecodedAudio:
        return self._channel.fetch(timeout)

    def frames(
        self, limit: int | None = None, timeout: float | None = None
    ) -> Iterator[DecodedAudio]:
        """Iterate decoded frames; each is released when the loop moves on."""
        return borrowed(lambda: self._channel.fetch(timeout), limit)

    def clear(self) -> int:
        return self._channel.clear()

    def close(self) -> None:
        adec = get_adec()
        if adec.channels.get(self.chn) is self._channel:
            adec.destroy(self.chn)

    def __enter__(self) -> AudioDecoderChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_decoder(
    chn: int | None = None,
    payload_type: int | None = None,
    *,
    decoder: AudioDecoder | None = None,
    buf_size: int = 20,
) -> AudioDecoderChannel:
    """Create ADEC channel ``chn`` for a payload type or around a decoder object; ``chn=None``
    takes the lowest free one."""
    if chn is None:
        chn = get_adec().free_chn()
    if decoder is not None:
        dec = decoder
        return AudioDecoderChannel(
            get_adec().create(chn, PayloadType.MAX, buf_size, factory=lambda _cfg: dec)
        )
    if payload_type is None:
        raise InvalidArgument("open_decoder: give a payload_type or a decoder object")
    return AudioDecoderChannel(get_adec().create(chn, payload_type, buf_size))


__all__ = [
    "NR_MAX_ADEC_CHN",
    "AdecChannel",
    "AudioDecoderChannel",
    "DecodedAudio",
    "DecoderConfig",
    "get_adec",
    "open_decoder",
    "register_decoder",
    "unregister_decoder",
]
