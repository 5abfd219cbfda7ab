"""Audio codecs against FFmpeg (PyAV): G.711 byte for byte, G.726 by SNR, AAC/Opus decodable."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from imp.audio.codecs import PcmFrame, builtin_decoder, builtin_encoder
from imp.audio.codecs.base import PayloadType
from imp.audio.codecs.pyav import AacDecoder, AacEncoder, OpusDecoder, OpusEncoder
from imp.errors import InvalidArgument


def ffmpeg_encode(codec: str, samples: np.ndarray, rate: int = 8000) -> bytes:
    ctx = av.CodecContext.create(codec, "w")
    ctx.sample_rate, ctx.format, ctx.layout = rate, "s16", "mono"
    ctx.open()
    out = b""
    for i in range(0, len(samples), 4096):
        f = av.AudioFrame.from_ndarray(
            samples[i : i + 4096].reshape(1, -1), format="s16", layout="mono"
        )
        f.sample_rate = rate
        out += b"".join(bytes(p) for p in ctx.encode(f))
    return out + b"".join(bytes(p) for p in ctx.encode(None))


def ffmpeg_decode_packet(codec: str, data: bytes, rate: int = 8000) -> np.ndarray:
    ctx = av.CodecContext.create(codec, "r")
    ctx.sample_rate, ctx.layout = rate, "mono"
    return np.concatenate([f.to_ndarray().reshape(-1) for f in ctx.decode(av.Packet(data))])


def snr_db(ref: np.ndarray, test: np.ndarray) -> float:
    ref, test = ref.astype(float), test.astype(float)
    return float(10 * np.log10(np.mean(ref**2) / np.mean((ref - test) ** 2)))


def speechish(rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    rng = np.random.default_rng(5)
    x = (
        6000 * np.sin(2 * np.pi * 300 * t)
        + 3000 * np.sin(2 * np.pi * 1200 * t + 1)
        + 500 * rng.standard_normal(len(t))
    )
    return (x * (0.55 + 0.45 * np.sin(2 * np.pi * 3 * t))).astype(np.int16)


ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16)


@pytest.mark.parametrize(
    ("pt", "ffname"), [(PayloadType.G711A, "pcm_alaw"), (PayloadType.G711U, "pcm_mulaw")]
)
def test_g711_encoder_equals_ffmpeg_for_every_input(pt: int, ffname: str) -> None:
    ours = builtin_encoder(pt).encode(PcmFrame(ALL_INT16, 8000))
    theirs = ffmpeg_encode(ffname, ALL_INT16)
    assert len(ours) == len(theirs) == 65536
    assert ours == theirs


@pytest.mark.parametrize(
    ("pt", "ffname"), [(PayloadType.G711A, "pcm_alaw"), (PayloadType.G711U, "pcm_mulaw")]
)
def test_g711_decoder_equals_ffmpeg_for_every_code(pt: int, ffname: str) -> None:
    codes = bytes(range(256))
    assert np.array_equal(builtin_decoder(pt).decode(codes), ffmpeg_decode_packet(ffname, codes))


@pytest.mark.parametrize("pt", [PayloadType.G711A, PayloadType.G711U])
def test_g711_round_trip_quality(pt: int) -> None:
    x = speechish(8000, 2)
    y = builtin_decoder(pt).decode(builtin_encoder(pt).encode(PcmFrame(x, 8000)))
    print(f"G.711 {pt.name} round trip SNR {snr_db(x, y):.1f} dB")
    assert snr_db(x, y) >= 30  # G.711's ~38 dB on a loud signal


def test_g726_32k_decodes_with_ffmpeg() -> None:
    x = speechish(8000, 4)
    enc = builtin_encoder(PayloadType.G726)
    stream = b"".join(enc.encode(PcmFrame(x[i : i + 320], 8000)) for i in range(0, len(x), 320))
    assert len(stream) == len(x) // 2  # 4 bits per sample: 32 kbit/s at 8 kHz
    container = av.open(
        io.BytesIO(stream), format="g726le", options={"code_size": "4", "sample_rate": "8000"}
    )
    y = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    assert len(y) == len(x)
    ours = builtin_decoder(PayloadType.G726).decode(stream)
    print(f"G.726-32 SNR: FFmpeg {snr_db(x, y):.1f} dB, spandsp {snr_db(x, ours):.1f} dB")
    assert snr_db(x, y) >= 15
    assert snr_db(x, ours) >= 15


def test_pcm_passthrough() -> None:
    x = speechish(16000, 0.04)
    data = builtin_encoder(PayloadType.PCM).encode(PcmFrame(x, 16000))
    assert data == x.astype("<i2").tobytes()
    assert np.array_equal(builtin_decoder(PayloadType.PCM).decode(data), x)


def test_no_builtin_for_aac_slot() -> None:
    with pytest.raises(InvalidArgument, match="IMP_AENC_RegisterEncoder"):
        builtin_encoder(PayloadType.AEC)
    with pytest.raises(InvalidArgument, match="IMP_ADEC_RegisterDecoder"):
        builtin_decoder(PayloadType.MAX)


def test_aac_adts_stream_decodes_with_ffmpeg() -> None:
    rate = 16000
    x = speechish(rate, 3)
    enc = AacEncoder(rate)
    chunks = [enc.encode(PcmFrame(x[i : i + 640], rate)) for i in range(0, len(x), 640)]
    stream = b"".join(chunks)
    assert sum(1 for c in chunks if c) >= len(x) // 1024 - 3  # priming delay of ~2 frames
    container = av.open(io.BytesIO(stream), format="aac")
    y = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    assert abs(len(y) - len(x)) <= 3 * 1024
    # AAC delays by 1024 samples (priming); level preserved
    level_in = np.sqrt(np.mean(x.astype(float) ** 2))
    level_out = np.sqrt(np.mean((y * 32768.0) ** 2))
    assert abs(20 * np.log10(level_out / level_in)) < 1.5


def test_aac_decoder_round_trip() -> None:
    rate = 16000
    x = speechish(rate, 2)
    enc, dec = AacEncoder(rate), AacDecoder(rate)
    out = np.concatenate(
        [dec.decode(enc.encode(PcmFrame(x[i : i + 1024], rate))) for i in range(0, len(x), 1024)]
    )
    lag = 1024
    n = min(len(x), len(out) - lag)
    print(f"AAC round trip SNR {snr_db(x[:n], out[lag : lag + n]):.1f} dB")
    assert snr_db(x[:n], out[lag : lag + n]) >= 10


@pytest.mark.parametrize("rate", [16000, 48000])
def test_opus_packets_decode_with_ffmpeg(rate: int) -> None:
    x = speechish(rate, 2)
    enc = OpusEncoder(rate)
    step = rate // 50
    packets = [enc.encode(PcmFrame(x[i : i + step], rate)) for i in range(0, len(x), step)]
    packets = [p for p in packets if p]
    assert len(packets) >= len(x) // step - 2
    ctx = av.CodecContext.create("opus", "r")
    ctx.sample_rate, ctx.layout = 48000, "mono"
    decoded = [f for p in packets for f in ctx.decode(av.Packet(p))]
    assert sum(f.samples for f in decoded) >= (len(packets) - 1) * 960
    ours = OpusDecoder(rate)
    pcm = np.concatenate([ours.decode(p) for p in packets])
    assert abs(len(pcm) - len(x)) <= 2 * step
