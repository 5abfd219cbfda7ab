"""MP4/MOV track set-up for already-encoded streams: codec parameters, sample entries, extradata.

PyAV is used as a muxer only. A stream is created from an unopened codec context
(``add_stream_from_template(..., opaque=True)`` keeps PyAV from opening an encoder at header time)
and its extradata is the part of the stream ISO BMFF keeps in the sample entry:

- H.264/H.265: the Annex-B parameter sets of the first IDR; FFmpeg's muxer turns them into the
  ``avcC``/``hvcC`` record and the samples into length-prefixed NAL units. H.265 is tagged
  ``hvc1`` (what QuickTime, Safari and browsers play; FFmpeg's default ``hev1`` is not played by
  Apple's players). ``hvc1`` declares every parameter set to be in the sample entry
  (array_completeness = 1), so the in-band copies the encoder repeats on each IDR are removed
  from the samples; the same is done for H.264 (``avc1``) for one rule across both.
- AAC: the 2-byte AudioSpecificConfig (from the ADTS header when packets carry one; the muxer
  inserts FFmpeg's ``aac_adtstoasc`` filter itself to take the headers off the samples;
  otherwise AAC-LC at the packet's rate and channels).
- Opus: an ``OpusHead`` (RFC 7845) from which the muxer writes ``dOps``; time base 48 kHz as
  RFC 7845 fixes it.
- G.711 and PCM: no extradata; only the QuickTime (``.mov``) muxer has sample entries for G.711
  (``alaw``/``ulaw``), see :mod:`imp.output.transcode` for what ``.mp4`` does with them.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from fractions import Fraction

import av
from av.container import OutputContainer
from av.stream import Stream

from imp.codec import CodecType, split_annexb
from imp.output.packet import Packet

__all__ = [
    "MICROSECONDS",
    "AudioTrackSpec",
    "add_audio_stream",
    "add_video_stream",
    "audio_spec",
    "has_adts_header",
    "split_parameter_sets",
]

MICROSECONDS = Fraction(1, 1_000_000)

# Packet codec -> (FFmpeg codec for the sample entry, decoder that can read it).
_VIDEO = {
    "h264": ("h264", CodecType.H264),
    "h265": ("hevc", CodecType.H265),
    "jpeg": ("mjpeg", None),
}
_PARAMETER_SET_TYPES = {CodecType.H264: (7, 8), CodecType.H265: (32, 33, 34)}
_AAC_RATES = (
    *(96000, 88200, 64000, 48000, 44100, 32000, 24000),
    *(22050, 16000, 12000, 11025, 8000, 7350),
)
_OPUS_RATE = 48000
_OPUS_PRE_SKIP = 312  # libopus's encoder look-ahead at 48 kHz (what it reports for every rate)


def split_parameter_sets(data: bytes, codec: str) -> tuple[bytes, bytes]:
    """(parameter-set NAL units, the rest) of an Annex-B access unit; JPEG: (b"", data)."""
    kind = _VIDEO[codec][1]
    if kind is None:
        return b"", data
    wanted = _PARAMETER_SET_TYPES[kind]
    nals = split_annexb(data, kind)
    ps = b"".join(n.data for n in nals if n.nal_type in wanted)
    if not ps:
        return b"", data
    return ps, b"".join(n.data for n in nals if n.nal_type not in wanted)


def _picture_size(packet: Packet) -> tuple[int, int]:
    """The size the packet says, else the size its first decoded picture has."""
    if packet.width > 0 and packet.height > 0:
        return packet.width, packet.height
    ctx = av.CodecContext.create(_VIDEO[packet.codec][0], "r")
    assert isinstance(ctx, av.VideoCodecContext)
    frames = [*ctx.decode(av.Packet(packet.data)), *ctx.decode(None)]
    if not frames:
        raise ValueError(f"the first {packet.codec} keyframe does not decode: size unknown")
    frame = frames[0]
    assert isinstance(frame, av.VideoFrame)
    return frame.width, frame.height


def _unopened_stream(container: OutputContainer, codec_name: str) -> Stream:
    """A stream of ``container`` with a codec context PyAV will not open (muxing only)."""
    scratch = av.open(io.BytesIO(), "w", format=container.format.name.split(",")[0])
    try:
        template = scratch.add_stream(codec_name)
        return container.add_stream_from_template(template, opaque=True)
    finally:
        scratch.close()


def add_video_stream(container: OutputContainer, first: Packet) -> tuple[Stream, bytes]:
    """A video track for the stream whose first keyframe is ``first``; also returns the
    parameter sets now in its sample entry (b"" for JPEG)."""
    width, height = _picture_size(first)
    stream = _unopened_stream(container, _VIDEO[first.codec][0])
    ctx = stream.codec_context
    assert isinstance(ctx, av.VideoCodecContext)
    ctx.width, ctx.height = width, height
    ctx.pix_fmt = "yuvj420p" if first.codec == "jpeg" else "yuv420p"
    ps, _ = split_parameter_sets(first.data, first.codec)
    if first.codec != "jpeg" and not ps:
        raise ValueError(f"the first {first.codec} keyframe carries no parameter sets")
    if ps:
        ctx.extradata = ps
    if first.codec == "h265":
        ctx.codec_tag = "hvc1"
    stream.time_base = ctx.time_base = MICROSECONDS
    return stream, ps


def has_adts_header(data: bytes) -> bool:
    return len(data) >= 7 and data[0] == 0xFF and (data[1] & 0xF6) == 0xF0


@dataclass(frozen=True)
class AudioTrackSpec:
    codec_name: str  # FFmpeg codec of the sample entry
    rate: int  # sample rate = time-base denominator of the track
    channels: int
    extradata: bytes


def _aac_spec(packet: Packet) -> AudioTrackSpec:
    if has_adts_header(packet.data):
        d = packet.data
        aot = (d[2] >> 6) + 1
        rate_index = (d[2] >> 2) & 0x0F
        channels = ((d[2] & 1) << 2) | (d[3] >> 6)
        if rate_index >= len(_AAC_RATES):
            raise ValueError(f"ADTS header with reserved sampling-frequency index {rate_index}")
        rate = _AAC_RATES[rate_index]
    else:
        aot, rate, channels = 2, packet.sample_rate, packet.channels or 1
        if rate not in _AAC_RATES:
            raise ValueError(f"raw AAC packets need a standard sample_rate, got {rate}")
        rate_index = _AAC_RATES.index(rate)
    asc = (aot << 11) | (rate_index << 7) | (channels << 3)
    return AudioTrackSpec("aac", rate, channels, struct.pack(">H", asc))


def audio_spec(packet: Packet, codec_name: str | None = None) -> AudioTrackSpec:
    """The sample entry for an audio stream whose first packet is ``packet``.

    ``codec_name`` overrides the FFmpeg codec (the G.711/PCM codecs in ``.mov``)."""
    if packet.codec == "aac":
        return _aac_spec(packet)
    channels = packet.channels or 1
    if packet.codec == "opus":
        head = b"OpusHead" + struct.pack(
            "<BBHIhB", 1, channels, _OPUS_PRE_SKIP, packet.sample_rate or _OPUS_RATE, 0, 0
        )
        return AudioTrackSpec("opus", _OPUS_RATE, channels, head)
    if packet.sample_rate <= 0:
        raise ValueError(f"{packet.codec} packets must carry their sample_rate")
    if codec_name is None:
        raise ValueError(f"no sample entry for {packet.codec} in this container")
    return AudioTrackSpec(codec_name, packet.sample_rate, channels, b"")


def add_audio_stream(container: OutputContainer, spec: AudioTrackSpec) -> Stream:
    stream = _unopened_stream(container, spec.codec_name)
    ctx = stream.codec_context
    assert isinstance(ctx, av.AudioCodecContext)
    ctx.sample_rate = spec.rate
    ctx.layout = {1: "mono", 2: "stereo"}.get(spec.channels, f"{spec.channels} channels")
    if spec.extradata:
        ctx.extradata = spec.extradata
    stream.time_base = ctx.time_base = Fraction(1, spec.rate)
    return stream
