"""``Mp4Output``: encoded packets into an ISO BMFF file (``.mp4``) or QuickTime file (``.mov``)
through PyAV's muxer, with timestamps from the capture clock.

- The video track starts at the first keyframe; earlier video packets are skipped. Its size and
  codec come from the packets (``width``/``height``, else the first keyframe decoded).
- Time is the packets' ``pts`` relative to the first packet kept (the first keyframe, or the first
  audio packet of an audio-only file), in µs for video (track timescale 1 000 000, so a sample's
  time is exactly its capture time) and in samples for audio. Each sample lasts until the next
  one; the last one as long as the interval before it.
- Tracks are fixed when the header is written, which ISO BMFF needs before the first sample: as
  soon as a video keyframe and an audio packet have both arrived, or once ``probe_seconds`` of
  media are buffered with only one kind (then the file has that kind only and later packets of
  the other kind are skipped). ``probe_seconds=0`` decides on the first packet.
- Audio: ``.mp4`` stores AAC and Opus as they are and re-encodes G.711 and PCM to AAC;
  ``.mov`` stores AAC, G.711 (``alaw``/``ulaw``) and PCM and re-encodes Opus (see
  :mod:`imp.output.transcode`). G.726 is skipped.
- ``fragmented=True`` writes a fragmented MP4 (a fragment per keyframe): everything up to the last
  keyframe stays playable if the process dies before :meth:`close`.

Packets that cannot go into the file (non-increasing time, a codec or parameter-set change: a
file holds one video format) are counted as errors and logged, never raised.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction

import av
from av.container import OutputContainer
from av.stream import Stream

from imp.errors import InvalidArgument
from imp.output.base import OutputCounters, check_writable, log
from imp.output.packet import AUDIO_CODECS, VIDEO_CODECS, Packet
from imp.output.tracks import (
    AudioTrackSpec,
    add_audio_stream,
    add_video_stream,
    audio_spec,
    split_parameter_sets,
)
from imp.output.transcode import DECODERS, AacTranscoder, needs_transcoding

__all__ = ["Mp4Output"]

# av.error.FFmpegError is not an OSError for every code; ValueError: PyAV's own checks.
_MUX_ERRORS = (av.error.FFmpegError, OSError, ValueError)
_FRAGMENTED = "frag_keyframe+empty_moov+default_base_moof"


@dataclass
class _Track:
    stream: Stream
    codec: str
    rate: int  # ticks per second of the track's time base
    last: int = -(2**62)  # last time written, in ticks
    interval: int = 0  # last interval between samples, in ticks (the duration given to a sample)
    parameter_sets: bytes = b""
    transcoder: AacTranscoder | None = None
    origin: int | None = field(default=None)  # transcoded audio: first sample's time, in ticks


class Mp4Output(OutputCounters):
    """Write encoded video (H.264, H.265, JPEG) and audio to an MP4 or MOV file.

    ``path``: ``.mov`` selects QuickTime, anything else ISO BMFF. The file is created at once (a
    wrong path raises :class:`~imp.errors.InvalidArgument` here), its header written when the
    tracks are known, its index on :meth:`close`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        probe_seconds: float = 1.0,
        fragmented: bool = False,
    ) -> None:
        if probe_seconds < 0:
            raise InvalidArgument(f"probe_seconds {probe_seconds} must be >= 0")
        self.path = check_writable(path)
        try:
            open(self.path, "wb").close()  # fail now, in the caller's thread, not per packet
        except OSError as exc:
            raise InvalidArgument(f"cannot write {self.path}: {exc.strerror}") from exc
        super().__init__(f"Mp4Output({self.path})")
        self.format = "mov" if self.path.suffix.lower() == ".mov" else "mp4"
        self._probe_us = round(probe_seconds * 1_000_000)
        self._fragmented = fragmented
        self._pending: list[Packet] = []
        self._container: OutputContainer | None = None
        self._video: _Track | None = None
        self._audio: _Track | None = None
        self._t0 = 0
        self._state = "probing"  # -> writing -> closed; "failed" when the file cannot be written

    # -- the Output protocol -------------------------------------------------------------

    def write(self, packet: Packet) -> None:
        with self._lock:
            if self._state == "probing":
                self._probe(packet)
            elif self._state == "writing":
                self._write(packet)
            else:
                self.skipped += 1

    def close(self) -> None:
        with self._lock:
            if self._state in ("closed", "failed"):
                self._state = "closed"
                return
            if self._state == "probing" and self._pending:
                self._open()
            transcoder = self._audio.transcoder if self._audio is not None else None
            if self._container is not None and transcoder is not None:
                assert self._audio is not None
                self._mux_transcoded(self._audio, transcoder.flush())
            if self._container is not None:  # still there unless that failed
                try:
                    self._container.close()
                except _MUX_ERRORS as exc:
                    self._failed("finishing the file failed", exc)
            self._state = "closed"

    def __enter__(self) -> Mp4Output:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        tracks = [t.codec for t in (self._video, self._audio) if t is not None]
        return f"<{self.name} {self._state} tracks={tracks} {self._stats()}>"

    # -- deciding the tracks -------------------------------------------------------------

    def _probe(self, packet: Packet) -> None:
        if not self._usable(packet):
            return
        has_video = any(p.kind == "video" for p in self._pending)
        if packet.kind == "video" and not has_video and not packet.keyframe:
            self.skipped += 1  # the video track starts at a keyframe
            return
        self._pending.append(packet)
        kinds = {p.kind for p in self._pending}
        span = self._pending[-1].pts - self._pending[0].pts
        if kinds == {"video", "audio"} or span >= self._probe_us:
            self._open()

    def _usable(self, packet: Packet) -> bool:
        kind = packet.kind
        known = VIDEO_CODECS if packet.kind == "video" else AUDIO_CODECS
        if packet.codec not in known or (packet.kind == "audio" and packet.codec == "g726"):
            self.skipped += 1
            if self.skipped == 1 or packet.codec not in known:
                log.warning("%s: %s %s packets are not written", self.name, packet.codec, kind)
            return False
        return True

    def _open(self) -> None:
        """Create the tracks from the buffered packets, write the header, write the packets."""
        video = next((p for p in self._pending if p.kind == "video"), None)
        audio = next((p for p in self._pending if p.kind == "audio"), None)
        plan = self._audio_plan(audio) if audio is not None else None
        first = video or (audio if plan is not None else None)
        if first is None:  # only audio, and that cannot be stored
            self.skipped += len(self._pending)
            self._pending.clear()
            self._state = "failed"
            return
        self._t0 = first.pts
        try:
            options = {"movflags": _FRAGMENTED} if self._fragmented else {}
            self._container = av.open(
                str(self.path), "w", format=self.format, container_options=options
            )
            if video is not None:
                stream, ps = add_video_stream(self._container, video)
                self._video = _Track(stream, video.codec, 1_000_000, parameter_sets=ps)
            if audio is not None and plan is not None:
                spec, transcoder = plan
                stream = add_audio_stream(self._container, spec)
                self._audio = _Track(stream, audio.codec, spec.rate, transcoder=transcoder)
            self._container.start_encoding()  # the header: a full disk shows here
        except _MUX_ERRORS as exc:
            self._failed("cannot start the file", exc)
            self.skipped += len(self._pending)
            self._pending.clear()
            self._close_quietly()
            self._state = "failed"
            return
        self._state = "writing"
        pending, self._pending = self._pending, []
        for p in pending:
            if self._state == "writing":
                self._write(p)
            else:
                self.skipped += 1

    def _audio_plan(self, first: Packet) -> tuple[AudioTrackSpec, AacTranscoder | None] | None:
        """The audio sample entry (and re-encoder) for a stream beginning with ``first``; None,
        logged and counted, when its packets cannot be stored (the file is then video only)."""
        try:
            if needs_transcoding(self.format, first.codec):
                rate = first.sample_rate or 48000
                transcoder = AacTranscoder(first.codec, rate, first.channels or 1)
                spec = AudioTrackSpec("aac", rate, transcoder.channels, transcoder.extradata)
                return spec, transcoder
            return audio_spec(first, DECODERS.get(first.codec)), None
        except _MUX_ERRORS as exc:
            self._failed(f"{first.codec} audio cannot be stored; no audio track", exc)
            return None

    def _close_quietly(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except _MUX_ERRORS:
                pass
            self._container = None

    # -- writing samples -----------------------------------------------------------------

    def _write(self, packet: Packet) -> None:
        track = self._video if packet.kind == "video" else self._audio
        if track is None or packet.pts < self._t0:
            self.skipped += 1  # a kind the file has no track for, or older than its start
            return
        if packet.codec != track.codec:
            self._failed(f"{packet.codec} packet on the {track.codec} track: start a new file")
            return
        ticks = (packet.pts - self._t0) * track.rate // 1_000_000
        if ticks <= track.last:
            self._failed(f"{packet.kind} pts {packet.pts} µs does not advance: packet dropped")
            return
        if track.transcoder is not None:
            if track.origin is None:
                track.origin = ticks
            track.last = ticks
            try:
                encoded = track.transcoder.feed(packet.data)
            except _MUX_ERRORS as exc:  # a damaged frame: that frame is lost, not the track
                self._failed(f"{packet.codec} packet does not decode", exc)
                return
            if self._mux_transcoded(track, encoded):
                self.written += 1
            return
        data = packet.data
        if track.parameter_sets and packet.keyframe:
            ps, data = split_parameter_sets(data, packet.codec)
            if ps and ps != track.parameter_sets:
                self._failed("the parameter sets changed (a new size or profile): start a new file")
                return
        if track.last >= 0:
            track.interval = ticks - track.last
        if self._mux(track, data, ticks, track.interval, packet.keyframe):
            track.last = ticks
            self.written += 1

    def _mux_transcoded(self, track: _Track, packets: list[tuple[bytes, int, int]]) -> bool:
        ok = True
        for data, pts, duration in packets:
            ok = ok and self._mux(track, data, (track.origin or 0) + pts, duration, True)
        return ok

    def _mux(self, track: _Track, data: bytes, ticks: int, duration: int, key: bool) -> bool:
        assert self._container is not None
        out = av.Packet(data)
        out.stream = track.stream
        out.time_base = Fraction(1, track.rate)
        out.pts = out.dts = ticks
        out.duration = duration
        out.is_keyframe = key
        try:
            self._container.mux(out)
        except _MUX_ERRORS as exc:
            # Timestamps and formats are checked before muxing, so this is the file itself (a
            # full disk, a removed card). FFmpeg's muxer is not made to go on after that: the
            # file is given up, later packets are skipped.
            self._failed("writing a sample failed; no more packets go to this file", exc)
            self._close_quietly()
            self._state = "failed"
            return False
        return True
