"""AAC and Opus over PyAV (FFmpeg's native AAC encoder/decoder, libopus), ready to register
with AENC/ADEC the way prudynt-t registers its own AAC and Opus codecs.

AAC packets are ADTS-framed (each carries its own configuration, so any decoder, FFmpeg's
included, can start anywhere); Opus packets are raw Opus frames (20 ms), as RTP carries them.
"""

from __future__ import annotations

import threading

import av
import numpy as np

from imp.audio.codecs.base import PcmFrame
from imp.errors import InvalidArgument

AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
_ADTS_RATE_INDEX = {
    96000: 0, 88200: 1, 64000: 2, 48000: 3, 44100: 4, 32000: 5,
    24000: 6, 22050: 7, 16000: 8, 12000: 9, 11025: 10, 8000: 11,
}  # fmt: skip


def adts_header(payload_len: int, rate: int, channels: int, profile: int = 1) -> bytes:
    """The 7-byte ADTS header (ISO 14496-3 1.A.2) of one raw AAC frame (profile 1 = LC)."""
    length = payload_len + 7
    index = _ADTS_RATE_INDEX[rate]
    return bytes(
        (
            0xFF,
            0xF1,  # sync, MPEG-4, layer 0, no CRC
            (profile << 6) | (index << 2) | (channels >> 2),
            ((channels & 3) << 6) | (length >> 11),
            (length >> 3) & 0xFF,
            ((length & 7) << 5) | 0x1F,
            0xFC,  # buffer fullness 0x7FF (VBR), one raw data block
        )
    )


class _PyAvEncoder:
    codec = ""

    def __init__(
        self,
        name: str,
        rate: int,
        bit_rate: int,
        rates: tuple[int, ...],
        options: dict[str, str] | None = None,
    ) -> None:
        if rate not in rates:
            raise InvalidArgument(f"{self.codec}: sample rate {rate} must be one of {rates}")
        ctx = av.CodecContext.create(name, "w")
        assert isinstance(ctx, av.AudioCodecContext)
        ctx.sample_rate = rate
        ctx.layout = "mono"
        ctx.format = ctx.codec.audio_formats[0].name if ctx.codec.audio_formats else "s16"
        ctx.bit_rate = bit_rate
        ctx.options = options or {}
        ctx.open()
        self._ctx = ctx
        self.rate = rate
        self.frame_samples = ctx.frame_size
        self._pts = 0
        self._lock = threading.Lock()
        self._resampler = av.AudioResampler(format=ctx.format.name, layout="mono", rate=rate)

    def _packets(self, samples: np.ndarray) -> list[bytes]:
        return [data for data, _ in self._timed_packets(samples)]

    def _timed_packets(self, samples: np.ndarray) -> list[tuple[bytes, int]]:
        """Encoded packets with the index of their first sample (counted from the first sample
        this encoder was given; negative for the codec's priming samples)."""
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples, dtype=np.int16).reshape(1, -1),
            format="s16",
            layout="mono",
        )
        frame.sample_rate = self.rate
        out: list[tuple[bytes, int]] = []
        with self._lock:
            frame.pts = self._pts
            self._pts += len(samples)
            for converted in self._resampler.resample(frame):
                # FFmpeg's pts: in samples (time base 1/rate), the encoder delay subtracted
                out.extend((bytes(p), int(p.pts or 0)) for p in self._ctx.encode(converted))
        return out

    def close(self) -> None:
        with self._lock:
            self._ctx = None  # type: ignore[assignment]


class AacEncoder(_PyAvEncoder):
    """AAC-LC, mono, ADTS frames of 1024 samples; gathers input until a frame is complete."""

    codec = "aac"

    def __init__(self, rate: int = 16000, bit_rate: int = 32000) -> None:
        super().__init__("aac", rate, bit_rate, AAC_RATES)

    def encode(self, frame: PcmFrame) -> bytes:
        return b"".join(data for data, _ in self.encode_timed(frame))

    def encode_timed(self, frame: PcmFrame) -> list[tuple[bytes, int]]:
        """Each ADTS frame completed by ``frame`` with the index of its first sample (AENC
        stamps each with that sample's capture time). The index is FFmpeg's presentation one:
        the encoder's 1024 priming samples come first (the first frame's index is -1024), so
        a frame's decoded samples line up with the capture times of the samples they carry.
        (Opus needs none of this: a 40 ms input gives exactly one packet, stamped with it.)"""
        return [
            (adts_header(len(p), self.rate, 1) + p, first)
            for p, first in self._timed_packets(frame.samples)
        ]


OPUS_FRAME_MS = (10, 20, 40, 60)


class OpusEncoder(_PyAvEncoder):
    """Opus (libopus), mono, packets of ``frame_ms`` (20 ms by default; 40 ms matches AI's
    40 ms frames one to one); gathers input until a packet is complete."""

    codec = "opus"

    def __init__(self, rate: int = 48000, bit_rate: int = 32000, frame_ms: int = 20) -> None:
        if frame_ms not in OPUS_FRAME_MS:
            raise InvalidArgument(f"opus: frame_ms {frame_ms} must be one of {OPUS_FRAME_MS}")
        super().__init__("libopus", rate, bit_rate, OPUS_RATES, {"frame_duration": str(frame_ms)})

    def encode_packets(self, frame: PcmFrame) -> list[bytes]:
        """Each Opus packet separately (a stream of them cannot be split afterwards)."""
        return self._packets(frame.samples)

    def encode(self, frame: PcmFrame) -> bytes:
        packets = self._packets(frame.samples)
        if len(packets) > 1:
            raise InvalidArgument(
                f"opus: a frame of {len(frame.samples)} samples gave {len(packets)} packets; "
                f"send at most {self.frame_samples} samples per frame or use encode_packets()"
            )
        return packets[0] if packets else b""


class _PyAvDecoder:
    codec = ""

    def __init__(self, name: str, rate: int, source_rate: int) -> None:
        ctx = av.CodecContext.create(name, "r")
        assert isinstance(ctx, av.AudioCodecContext)
        ctx.sample_rate = source_rate
        ctx.layout = "mono"
        self._ctx = ctx
        self.rate = rate
        self._lock = threading.Lock()
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)

    def decode(self, data: bytes) -> np.ndarray:
        if not data:
            return np.zeros(0, np.int16)
        parts: list[np.ndarray] = []
        with self._lock:
            for frame in self._ctx.decode(av.Packet(data)):
                frame.pts = None
                for out in self._resampler.resample(frame):
                    parts.append(out.to_ndarray().reshape(-1))
        return (
            np.concatenate(parts).astype(np.int16, copy=False) if parts else np.zeros(0, np.int16)
        )

    def close(self) -> None:
        with self._lock:
            self._ctx = None  # type: ignore[assignment]


class AacDecoder(_PyAvDecoder):
    """ADTS AAC -> int16 mono PCM at ``rate`` (resampled if the stream's rate differs)."""

    codec = "aac"

    def __init__(self, rate: int = 16000) -> None:
        super().__init__("aac", rate, rate)


class OpusDecoder(_PyAvDecoder):
    """Raw Opus packets -> int16 mono PCM at ``rate``."""

    codec = "opus"

    def __init__(self, rate: int = 48000) -> None:
        super().__init__("opus", rate, 48000)
