"""The AENC module: audio encoder channels behind ``IMP_AENC_*``, and its Pythonic face.

A channel owns one encoder (a built-in payload type or a registered one) and a stream buffer
in rmem (:class:`~imp.audio.codecs.streamq.StreamQueue`). Encoding runs synchronously in the
thread that calls SendFrame, as in libimp: prudynt-t keeps its registered encoder in a
``thread_local`` and its callbacks only work on the thread that created the channel.

Registered encoders get payload-type handles from ``PT_MAX + 1`` up; ``CreateChn`` takes such a
handle as ``type``. The table is process-wide and small, ready to move onto the shared
registry base once that exists.
"""

from __future__ import annotations

import ctypes
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from imp.audio.codecs import BUILTIN_TYPES, AudioEncoder, PayloadType, PcmFrame, builtin_encoder
from imp.audio.codecs.module import NR_MAX_CHN, CodecModule
from imp.audio.codecs.streamq import StoredStream, StreamQueue
from imp.core.graph import DEV_ID_AENC
from imp.core.iterate import borrowed
from imp.errors import InvalidArgument

if TYPE_CHECKING:
    from imp.output.packet import Packet

NR_MAX_AENC_CHN = NR_MAX_CHN
BUILTIN_MAX_FRAME_LEN = 16384  # bytes: 8192 PCM samples; G.711/G.726 are smaller


@dataclass(frozen=True)
class ChannelConfig:
    """What an encoder factory learns about the channel it encodes for."""

    chn: int
    payload_type: int
    buf_size: int
    c_attr: object | None = None  # the caller's IMPAudioEncChnAttr (C-style path)


EncoderFactory = Callable[[ChannelConfig], AudioEncoder]


@dataclass
class RegisteredEncoder:
    handle: int
    name: str
    max_frame_len: int
    factory: EncoderFactory


@dataclass(frozen=True)
class EncodedAudio:
    """One encoded stream the channel holds until :meth:`release` (in fetch order)."""

    data: memoryview  # zero-copy view of the rmem stream buffer
    timestamp: int
    seq: int
    codec: str
    stored: StoredStream
    channel: AencChannel

    def release(self) -> None:
        self.channel.release(self.stored.addr)

    def packet(self, sample_rate: int = 0) -> Packet:
        """A copy as an ``imp.output.Packet`` (for FileOutput, Mp4Output, the streamer)."""
        from imp.output.packet import Packet

        rate = sample_rate or int(getattr(self.channel.encoder, "rate", 0) or 0)
        if not rate and self.codec in ("g711a", "g711u", "g726"):
            rate = 8000  # what the telephony codecs are defined at
        return Packet(
            bytes(self.data), self.timestamp, True, self.codec, self.seq, "audio", 0, 0, rate, 1
        )

    def __enter__(self) -> EncodedAudio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


INPUT_HISTORY = 16  # input frames remembered for stamping: far more than any codec's look-ahead


class AencChannel:
    """One ``IMP_AENC`` channel."""

    def __init__(self, config: ChannelConfig, encoder: AudioEncoder, max_frame_len: int) -> None:
        self.config = config
        self.encoder = encoder
        self.queue = StreamQueue(f"AENC channel {config.chn}", config.buf_size, max_frame_len)
        self.frames_in = 0
        self._view: memoryview | None = None
        self._samples_in = 0  # samples given to the encoder: the index of the next one
        # (index of the first sample, capture timestamp µs, rate) of the latest input frames
        self._inputs: deque[tuple[int, int, int]] = deque(maxlen=INPUT_HISTORY)

    @property
    def chn(self) -> int:
        return self.config.chn

    def send(self, frame: PcmFrame) -> StoredStream | None:
        """Encode ``frame`` now; store the result (None when the encoder is still gathering).

        An encoder that gathers samples into frames of its own size (AAC: 1024) and says where
        each frame starts (``encode_timed``) gets each frame stored apart, stamped with the
        capture time of its first sample; others' output carries ``frame``'s timestamp."""
        timed = getattr(self.encoder, "encode_timed", None)
        if timed is None:
            data = self.encoder.encode(frame)
            self.frames_in += 1
            return self.queue.put(data, frame.timestamp) if data else None
        rate = frame.rate or int(getattr(self.encoder, "rate", 0) or 0) or 8000
        self._inputs.append((self._samples_in, frame.timestamp, rate))
        self._samples_in += len(frame.samples)
        packets: list[tuple[bytes, int]] = timed(frame)
        self.frames_in += 1
        stored = [self.queue.put(data, self.sample_time(first)) for data, first in packets]
        return stored[0] if stored else None

    def sample_time(self, index: int) -> int:
        """Capture time (µs) of sample ``index``: the timestamp of the input frame holding it
        plus the sample's offset in that frame at its rate. Samples before the first input
        (a codec's priming) are counted back from it."""
        start, timestamp, rate = self._inputs[0]
        for entry in self._inputs:
            if entry[0] > index:
                break
            start, timestamp, rate = entry
        return timestamp + round((index - start) * 1_000_000 / rate)

    def get(self, timeout: float | None) -> StoredStream:
        return self.queue.get(timeout)

    def release(self, addr: int) -> None:
        self.queue.release(addr)

    def fetch(self, timeout: float | None = None) -> EncodedAudio:
        """Pythonic GetStream: the next stream as a zero-copy view until released."""
        stored = self.queue.get(timeout)
        view = memoryview((ctypes.c_ubyte * stored.length).from_address(stored.addr)).cast("B")
        return EncodedAudio(view, stored.timestamp, stored.seq, self.encoder.codec, stored, self)

    def close(self) -> None:
        try:
            self.encoder.close()
        finally:
            self.queue.close()


class Aenc(CodecModule[AencChannel, RegisteredEncoder]):
    """The process-wide AENC module: channels and registered encoders."""

    def __init__(self) -> None:
        super().__init__("AENC", "IMP_AENC_RegisterEncoder", DEV_ID_AENC)

    def register(self, name: str, factory: EncoderFactory, max_frame_len: int) -> int:
        if not isinstance(max_frame_len, int) or not 1 <= max_frame_len <= 1 << 20:
            raise InvalidArgument(f"maxFrmLen {max_frame_len!r} must be 1..1048576 bytes")
        return self.add_registration(
            factory, lambda h: RegisteredEncoder(h, name, max_frame_len, factory)
        )

    def create(
        self,
        chn: int,
        payload_type: int,
        buf_size: int,
        c_attr: object | None = None,
        factory: EncoderFactory | None = None,
    ) -> AencChannel:
        def make() -> AencChannel:
            config = ChannelConfig(chn, payload_type, buf_size, c_attr)
            if factory is not None:
                encoder, max_len = factory(config), BUILTIN_MAX_FRAME_LEN
            elif payload_type in BUILTIN_TYPES:
                encoder, max_len = builtin_encoder(payload_type), BUILTIN_MAX_FRAME_LEN
            elif payload_type in self.registered:
                reg = self.registered[payload_type]
                encoder, max_len = reg.factory(config), reg.max_frame_len
            else:
                raise self.unknown_type(payload_type)
            try:
                return AencChannel(config, encoder, max_len)
            except BaseException:
                encoder.close()
                raise

        return self.insert(chn, make)


_aenc: Aenc | None = None
_aenc_lock = threading.Lock()


def get_aenc() -> Aenc:
    global _aenc
    with _aenc_lock:
        if _aenc is None:
            _aenc = Aenc()
        return _aenc


# -- Pythonic API ---------------------------------------------------------------------------------
def register_encoder(name: str, factory: EncoderFactory, max_frame_len: int = 4096) -> int:
    """Register an encoder type (Pythonic ``IMP_AENC_RegisterEncoder``); returns its handle,
    usable as ``payload_type`` of :func:`open_encoder` and as ``type`` in the C API."""
    return get_aenc().register(name, factory, max_frame_len)


def unregister_encoder(handle: int) -> None:
    """Pythonic ``IMP_AENC_UnRegisterEncoder``."""
    get_aenc().unregister(handle)


class AudioEncoderChannel:
    """A Pythonic AENC channel: ``send()`` int16 frames, iterate ``streams()``; a context
    manager that destroys the channel on exit."""

    def __init__(self, channel: AencChannel) -> None:
        self._channel = channel

    @property
    def chn(self) -> int:
        return self._channel.chn

    @property
    def codec(self) -> str:
        return self._channel.encoder.codec

    def send(self, samples: np.ndarray, timestamp: int = 0, rate: int = 0) -> bool:
        """Encode one frame; True when it produced a stream."""
        if not isinstance(samples, np.ndarray) or samples.dtype != np.int16 or samples.ndim != 1:
            raise InvalidArgument("send() takes a 1-D numpy int16 array (mono PCM)")
        return self._channel.send(PcmFrame(samples, rate, timestamp)) is not None

    def get(self, timeout: float | None = None) -> EncodedAudio:
        """The next stream (``timeout`` seconds; 0 = do not wait); release it when done."""
        return self._channel.fetch(timeout)

    def streams(
        self, limit: int | None = None, timeout: float | None = None
    ) -> Iterator[EncodedAudio]:
        """Iterate streams; each is released when the loop moves on."""
        return borrowed(lambda: self._channel.fetch(timeout), limit)

    def close(self) -> None:
        aenc = get_aenc()
        if aenc.channels.get(self.chn) is self._channel:
            aenc.destroy(self.chn)

    def __enter__(self) -> AudioEncoderChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_encoder(
    chn: int | None = None,
    payload_type: int | None = None,
    *,
    encoder: AudioEncoder | None = None,
    buf_size: int = 20,
) -> AudioEncoderChannel:
    """Create AENC channel ``chn`` for a payload type (built-in or registered handle) or around
    an encoder object (e.g. ``AacEncoder(16000)``); ``chn=None`` takes the lowest free one."""
    if chn is None:
        chn = get_aenc().free_chn()
    if encoder is not None:
        enc = encoder
        return AudioEncoderChannel(
            get_aenc().create(chn, PayloadType.MAX, buf_size, factory=lambda _cfg: enc)
        )
    if payload_type is None:
        raise InvalidArgument("open_encoder: give a payload_type or an encoder object")
    return AudioEncoderChannel(get_aenc().create(chn, payload_type, buf_size))


__all__ = [
    "NR_MAX_AENC_CHN",
    "AencChannel",
    "AudioEncoderChannel",
    "ChannelConfig",
    "EncodedAudio",
    "get_aenc",
    "open_encoder",
    "register_encoder",
    "unregister_encoder",
]
