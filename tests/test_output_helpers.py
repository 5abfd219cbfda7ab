"""Helpers shared by the output tests (no tests here): real encoded streams made without the
Pythonic pipeline (numpy pictures carrying frame marks through the codec seam, audio through
PyAV's encoders) and what a user checks in the files written (decoded with PyAV)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from imp.codec import CodecConfig, CodecType, open_backend
from imp.output import Packet
from kernel_stubs import read_frame_mark
from kernel_stubs.sensor.mark import stamp_frame_mark

PERIOD_US = 40_000  # 25 fps
T0_US = 7_000_000  # capture clock at frame 0 (the IMP clock has been running for a while)

_CODECS = {"h264": CodecType.H264, "h265": CodecType.H265, "jpeg": CodecType.JPEG}


def picture(frame_no: int, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """NV12 planes: a moving gradient with frame ``frame_no``'s mark across the top."""
    x = np.arange(w, dtype=np.int32)
    y = ((x[None, :] + 4 * frame_no + np.arange(h)[:, None]) % 200 + 30).astype(np.uint8)
    uv = np.full((h // 2, w), 128, np.uint8)
    stamp_frame_mark(y, frame_no, uv)
    return y, uv


class VideoSource:
    """Encodes marked pictures one at a time: frame n is captured at T0_US + n * PERIOD_US."""

    def __init__(self, codec: str = "h264", w: int = 320, h: int = 192, gop: int = 25) -> None:
        profile = {"h264": "high", "h265": "main", "jpeg": "baseline"}[codec]
        self.codec, self.w, self.h = codec, w, h
        self._backend = open_backend(CodecConfig(_CODECS[codec], w, h, gop=gop, profile=profile))
        self.next_frame = 0

    def packet(self) -> Packet:
        n = self.next_frame
        self.next_frame += 1
        y, uv = picture(n, self.w, self.h)
        (pic,) = self._backend.encode(y, uv, pts=T0_US + n * PERIOD_US)
        data = b"".join(nal.data for nal in pic.nals)
        return Packet(data, pic.pts, pic.keyframe, self.codec, seq=n, width=self.w, height=self.h)

    def packets(self, count: int) -> list[Packet]:
        return [self.packet() for _ in range(count)]

    def close(self) -> None:
        self._backend.close()


def video_packets(codec: str, count: int, **kw: int) -> list[Packet]:
    src = VideoSource(codec, **kw)
    try:
        return src.packets(count)
    finally:
        src.close()


def tone(seconds: float, rate: int, freq: float = 440.0) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t) * 32767).astype(np.int16)


_AUDIO_ENCODERS = {"aac": "aac", "opus": "libopus", "g711a": "pcm_alaw", "g711u": "pcm_mulaw"}


def audio_packets(codec: str, seconds: float, rate: int, frame_ms: int = 20) -> list[Packet]:
    """``seconds`` of a 440 Hz tone encoded as an audio encoder module would hand it over: one
    packet per codec frame, pts = capture time of its first sample (from T0_US)."""
    samples = tone(seconds, rate)
    ctx = av.CodecContext.create(_AUDIO_ENCODERS[codec], "w")
    assert isinstance(ctx, av.AudioCodecContext)
    ctx.sample_rate, ctx.layout = rate, "mono"
    ctx.format = "fltp" if codec == "aac" else "s16"
    ctx.time_base = Fraction(1, rate)
    ctx.open()
    size = ctx.frame_size or rate * frame_ms // 1000
    out: list[Packet] = []

    def emit(packets: list[av.Packet]) -> None:
        for p in packets:
            # pts of the codec's first sample; its priming packet starts before frame 0
            pts = T0_US + int(p.pts or 0) * 1_000_000 // rate
            out.append(
                Packet(
                    bytes(p),
                    pts,
                    True,
                    codec,
                    seq=len(out),
                    kind="audio",
                    sample_rate=rate,
                    channels=1,
                )
            )

    for start in range(0, len(samples) - size + 1, size):
        chunk = samples[start : start + size].reshape(1, -1)
        if codec == "aac":
            frame = av.AudioFrame.from_ndarray((chunk / 32768).astype(np.float32), "fltp", "mono")
        else:
            frame = av.AudioFrame.from_ndarray(chunk, "s16", "mono")
        frame.sample_rate, frame.pts = rate, start
        emit(ctx.encode(frame))
    emit(ctx.encode(None))
    return out


@dataclass
class VideoTrack:
    codec_tag: str
    width: int
    height: int
    pts_us: list[int]  # presentation times, µs from the file start
    keyframes: list[bool]
    marks: list[int]
    duration_us: int  # the track's duration as the file states it


def read_video(path: Path) -> VideoTrack:
    with av.open(str(path)) as c:
        st = c.streams.video[0]
        tb = st.time_base
        assert tb is not None
        frames = list(c.decode(st))
        duration = int((st.duration or 0) * tb * 1_000_000)
        return VideoTrack(
            st.codec_context.codec_tag,
            st.codec_context.width,
            st.codec_context.height,
            [int(f.pts * tb * 1_000_000) for f in frames if f.pts is not None],
            [f.key_frame for f in frames],
            [read_frame_mark(f.to_ndarray(format="gray")) for f in frames],
            duration,
        )


@dataclass
class AudioTrack:
    codec: str
    rate: int
    samples: np.ndarray  # decoded, mono float
    duration_us: int


def read_audio(path: Path) -> AudioTrack:
    with av.open(str(path)) as c:
        st = c.streams.audio[0]
        tb = st.time_base
        assert tb is not None
        chunks = [f.to_ndarray().reshape(-1) for f in c.decode(st)]
        return AudioTrack(
            st.codec_context.name,
            st.codec_context.sample_rate,
            np.concatenate(chunks).astype(np.float64) if chunks else np.zeros(0),
            int((st.duration or 0) * tb * 1_000_000),
        )


def stream_count(path: Path) -> tuple[int, int]:
    with av.open(str(path)) as c:
        return len(c.streams.video), len(c.streams.audio)


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


def decode_annexb(data: bytes, fmt: str) -> list[int]:
    """Frame marks of a raw elementary stream."""
    with av.open(io.BytesIO(data), format=fmt) as c:
        return [read_frame_mark(f.to_ndarray(format="gray")) for f in c.decode(video=0)]


def box_types(path: Path) -> bytes:
    """The file's bytes, to look for sample-entry four-character codes."""
    return path.read_bytes()


def synthetic_packets(
    count: int, kbps: int = 2000, gop: int = 50, idr_weight: float = 5.0, start: int = 0
) -> Iterator[Packet]:
    """Packets of the size a ``kbps`` H.264 stream at 25 fps has (an IDR ``idr_weight`` times a
    P picture), not decodable: for memory and cost figures where only sizes and keyframes
    matter. ``seq`` is the frame number, pts its capture time."""
    per_gop = kbps * 1000 // 8 * gop // 25
    p_size = round(per_gop / (gop - 1 + idr_weight))
    rng = np.random.default_rng(1)
    for n in range(start, start + count):
        key = n % gop == 0
        size = round((p_size * idr_weight if key else p_size) * rng.uniform(0.8, 1.2))
        yield Packet(bytes(size), T0_US + n * PERIOD_US, key, "h264", seq=n)
