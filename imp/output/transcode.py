"""Audio a container cannot hold as it is: re-encoded to AAC-LC with PyAV.

ISO BMFF as FFmpeg's ``mp4`` muxer writes it has no sample entry for G.711 (A-law/µ-law are
QuickTime's ``alaw``/``ulaw``, written only to ``.mov``), and raw PCM in ``.mp4`` (``ipcm``,
ISO/IEC 23003-5) is too new for most players; QuickTime (``.mov``) has no Opus sample entry
FFmpeg writes. So :class:`~imp.output.Mp4Output` decodes such packets with FFmpeg's decoder and
codes them again with FFmpeg's AAC encoder (G.711 at 8 kHz: ~0.1 ms per 20 ms frame); the
others are stored as they are. G.726 has no sample entry in either and is not written (counted
as skipped): its packets do not say their bit rate (16-40 kbit/s), which a decoder needs.
"""

from __future__ import annotations

from fractions import Fraction

import av
from av.audio.fifo import AudioFifo

__all__ = ["DECODERS", "STORED_AS_IS", "AacTranscoder", "needs_transcoding"]

# Packet codec -> FFmpeg decoder (and codec name of its sample entry where one exists). PCM
# packets are interleaved signed 16-bit little-endian.
DECODERS = {"g711a": "pcm_alaw", "g711u": "pcm_mulaw", "pcm": "pcm_s16le", "opus": "opus"}
# Container format -> packet codecs it stores without re-encoding.
STORED_AS_IS = {
    "mp4": frozenset({"aac", "opus"}),
    "mov": frozenset({"aac", "g711a", "g711u", "pcm"}),
}


def needs_transcoding(container_format: str, codec: str) -> bool:
    return codec in DECODERS and codec not in STORED_AS_IS[container_format]


class AacTranscoder:
    """Decode G.711/PCM frames, re-chunk them to AAC's 1024 samples, encode AAC-LC.

    ``feed(data)`` returns the AAC packets completed so far as (payload, pts, duration) with pts
    counted in samples from the first sample fed (the first packet starts before 0: the
    encoder's priming delay, which the MP4 edit list hides).
    """

    def __init__(self, codec: str, rate: int, channels: int) -> None:
        layout = "mono" if channels == 1 else "stereo"
        decoder = av.CodecContext.create(DECODERS[codec], "r")
        assert isinstance(decoder, av.AudioCodecContext)
        decoder.sample_rate = rate
        decoder.layout = layout
        self._decoder = decoder
        self._encoder = av.CodecContext.create("aac", "w")
        assert isinstance(self._encoder, av.AudioCodecContext)
        self._encoder.sample_rate = rate
        self._encoder.layout = layout
        self._encoder.format = "fltp"
        self._encoder.bit_rate = min(64000, rate * 4) * channels
        self._encoder.time_base = Fraction(1, rate)
        self._encoder.open()
        self._resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        self._fifo = AudioFifo()
        self._samples_in = 0
        self.rate = rate
        self.channels = channels

    @property
    def extradata(self) -> bytes:
        data = self._encoder.extradata
        assert data is not None  # the AAC encoder always has its AudioSpecificConfig
        return bytes(data)

    def feed(self, data: bytes) -> list[tuple[bytes, int, int]]:
        for frame in self._decoder.decode(av.Packet(data)):
            for converted in self._resampler.resample(frame):
                self._fifo.write(converted)
        out = []
        while self._fifo.samples >= self._encoder.frame_size:
            out += self._encode(self._fifo.read(self._encoder.frame_size))
        return out

    def flush(self) -> list[tuple[bytes, int, int]]:
        rest = self._fifo.read()  # the AAC encoder takes a short last frame
        return (self._encode(rest) if rest is not None else []) + self._encode(None)

    def _encode(self, frame: av.AudioFrame | None) -> list[tuple[bytes, int, int]]:
        if frame is not None:  # the FIFO's frames carry no usable time: count samples
            frame.pts, frame.time_base = self._samples_in, self._encoder.time_base
            self._samples_in += frame.samples
        return [
            (bytes(p), int(p.pts or 0), int(p.duration or 0)) for p in self._encoder.encode(frame)
        ]
