"""Mp4Output: files checked as a user would, decoded with PyAV — frame count, duration, pts equal
to the capture timestamps, keyframe first, frame marks in order, audio decodable with its
duration and pitch; errors counted, never raised."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from imp.errors import InvalidArgument
from imp.output import Mp4Output, Packet
from tests.test_output_helpers import (
    PERIOD_US,
    T0_US,
    VideoSource,
    audio_packets,
    dominant_hz,
    read_audio,
    read_video,
    stream_count,
    video_packets,
)


def _write_all(out: Mp4Output, packets: list[Packet]) -> None:
    with out:
        for p in packets:
            out.write(p)


@pytest.mark.parametrize(
    ("codec", "tag", "entry"), [("h264", "avc1", b"avcC"), ("h265", "hvc1", b"hvcC")]
)
def test_video_track_times_frames_and_sample_entry(
    tmp_path: Path, codec: str, tag: str, entry: bytes
) -> None:
    packets = video_packets(codec, 100, gop=25)
    path = tmp_path / "v.mp4"
    out = Mp4Output(path)
    _write_all(out, packets)
    assert (out.written, out.skipped, out.errors) == (100, 0, 0)

    track = read_video(path)
    assert (track.codec_tag, track.width, track.height) == (tag, 320, 192)
    assert track.marks == list(range(100))
    assert track.pts_us == [p.pts - packets[0].pts for p in packets]  # exact capture times
    assert track.keyframes[0] and track.keyframes[25] and not any(track.keyframes[1:25])
    assert track.duration_us == 100 * PERIOD_US
    raw = path.read_bytes()
    assert entry in raw and tag.encode() in raw
    # The sample entry holds the parameter sets; the samples do not repeat them (hvc1 says so).
    assert stream_count(path) == (1, 0)


def test_jpeg_track(tmp_path: Path) -> None:
    packets = video_packets("jpeg", 20)
    path = tmp_path / "j.mp4"
    _write_all(Mp4Output(path), packets)
    track = read_video(path)
    assert track.marks == list(range(20))
    assert all(track.keyframes)
    assert track.duration_us == 20 * PERIOD_US


def test_file_starts_at_the_first_keyframe_and_its_time(tmp_path: Path) -> None:
    packets = video_packets("h264", 60, gop=25)[10:]  # joined mid-GOP: frames 10..59
    path = tmp_path / "late.mp4"
    out = Mp4Output(path)
    _write_all(out, packets)
    assert out.skipped == 15  # frames 10..24 come before the IDR of frame 25
    track = read_video(path)
    assert track.marks == list(range(25, 60))
    assert track.pts_us[0] == 0 and track.pts_us[-1] == 34 * PERIOD_US
    assert track.keyframes[0]


def test_capture_clock_gaps_stay_in_the_file(tmp_path: Path) -> None:
    """pts are the capture clock, not a frame counter: a dropped frame leaves its gap."""
    src = VideoSource("h264", gop=50)
    kept = src.packets(20)
    src.next_frame += 3  # frames 20..22 never reach the encoder (dropped upstream)
    kept += src.packets(17)
    src.close()
    path = tmp_path / "gap.mp4"
    _write_all(Mp4Output(path), kept)
    track = read_video(path)
    assert track.pts_us == [p.pts - T0_US for p in kept]
    assert track.marks == [*range(20), *range(23, 40)]
    assert track.duration_us == 40 * PERIOD_US


AUDIO_CASES = [
    # codec, rate, file suffix, codec stored in the file
    ("aac", 16000, ".mp4", "aac"),
    ("opus", 48000, ".mp4", "opus"),
    ("g711a", 8000, ".mp4", "aac"),  # no G.711 sample entry in ISO BMFF: re-encoded
    ("g711u", 8000, ".mp4", "aac"),
    ("g711a", 8000, ".mov", "pcm_alaw"),  # QuickTime stores it as it is
    ("g711u", 8000, ".mov", "pcm_mulaw"),
    ("aac", 16000, ".mov", "aac"),
]


@pytest.mark.parametrize(("codec", "rate", "suffix", "stored"), AUDIO_CASES)
def test_audio_track(tmp_path: Path, codec: str, rate: int, suffix: str, stored: str) -> None:
    video = video_packets("h264", 75, gop=25)  # 3 s
    audio = audio_packets(codec, 3.0, rate)
    path = tmp_path / f"av{suffix}"
    out = Mp4Output(path)
    _write_all(out, sorted(video + audio, key=lambda p: p.pts))
    assert out.errors == 0, out.last_error

    assert stream_count(path) == (1, 1)
    track = read_video(path)
    assert track.marks == list(range(75)) and track.duration_us == 3_000_000
    sound = read_audio(path)
    assert sound.codec == stored
    seconds = len(sound.samples) / sound.rate
    assert 2.9 <= seconds <= 3.1, seconds  # within a codec frame or two (priming, last frame)
    assert abs(sound.duration_us - 3_000_000) <= 100_000, sound.duration_us
    assert abs(dominant_hz(sound.samples, sound.rate) - 440) < 5


def test_g726_is_skipped_with_a_video_only_file(tmp_path: Path) -> None:
    video = video_packets("h264", 30)
    g726 = [
        Packet(b"\x11" * 80, p.pts, True, "g726", kind="audio", sample_rate=8000, channels=1)
        for p in video
    ]
    path = tmp_path / "g726.mp4"
    out = Mp4Output(path)
    _write_all(out, sorted(video + g726, key=lambda p: p.pts))
    assert stream_count(path) == (1, 0)
    assert out.skipped == 30 and out.errors == 0
    assert read_video(path).marks == list(range(30))


def test_video_only_when_no_audio_arrives_within_the_probe(tmp_path: Path) -> None:
    video = video_packets("h264", 60)
    late_audio = [p for p in audio_packets("aac", 2.4, 16000) if p.pts > T0_US + 1_500_000]
    path = tmp_path / "vonly.mp4"
    out = Mp4Output(path, probe_seconds=1.0)
    _write_all(out, sorted(video + late_audio, key=lambda p: p.pts))
    assert stream_count(path) == (1, 0)
    assert out.skipped == len(late_audio)
    assert read_video(path).marks == list(range(60))


def test_audio_only_file(tmp_path: Path) -> None:
    path = tmp_path / "a.mp4"
    _write_all(Mp4Output(path, probe_seconds=0.5), audio_packets("aac", 2.0, 16000))
    assert stream_count(path) == (0, 1)
    assert abs(len(read_audio(path).samples) / 16000 - 2.0) < 0.1


def test_fragmented_file_decodes(tmp_path: Path) -> None:
    path = tmp_path / "frag.mp4"
    _write_all(Mp4Output(path, fragmented=True), video_packets("h265", 60, gop=25))
    assert b"moof" in path.read_bytes()
    track = read_video(path)
    assert track.marks == list(range(60)) and track.pts_us[-1] == 59 * PERIOD_US


def test_bad_packets_are_counted_not_raised(tmp_path: Path) -> None:
    packets = video_packets("h264", 30)
    path = tmp_path / "bad.mp4"
    out = Mp4Output(path, probe_seconds=0)
    with out:
        for p in packets[:10]:
            out.write(p)
        out.write(packets[5])  # time going backwards
        out.write(Packet(packets[10].data, packets[10].pts, False, "h265"))  # another codec
        for p in packets[10:]:
            out.write(p)
    assert out.errors == 2 and out.written == 30
    assert out.last_error is not None and "h265" in out.last_error
    assert read_video(path).marks == list(range(30))
    out.write(packets[0])  # after close: skipped, no exception
    assert out.skipped == 1


def test_full_disk_is_counted_not_raised() -> None:
    out = Mp4Output("/dev/full", probe_seconds=0)
    with out:
        for p in video_packets("h264", 50):
            out.write(p)
    assert out.errors >= 1 and out.last_error is not None


def test_a_wrong_path_is_refused_at_once(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="does not exist"):
        Mp4Output(tmp_path / "missing" / "x.mp4")
    with pytest.raises(InvalidArgument, match="directory"):
        Mp4Output(tmp_path)


def test_writes_from_two_threads(tmp_path: Path) -> None:
    """Video and audio encoders write from their own threads; close comes from a third."""
    video = video_packets("h264", 75)
    audio = audio_packets("aac", 3.0, 16000)
    path = tmp_path / "threads.mp4"
    # Unpaced threads may run seconds apart (real encoders run at the capture rate): a probe
    # window longer than the clip lets the second kind arrive before the tracks are fixed.
    out = Mp4Output(path, probe_seconds=5.0)

    def writer(packets: list[Packet]) -> None:
        for p in packets:
            out.write(p)

    threads = [threading.Thread(target=writer, args=(ps,)) for ps in (video, audio)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    out.close()
    assert out.errors == 0, out.last_error
    assert read_video(path).marks == list(range(75))
    assert stream_count(path) == (1, 1)


def test_capture_timestamps_through_the_capi_encoder(tmp_path: Path) -> None:
    """The real encoder under the virtual clock: every sample's time in the file is its
    capture timestamp (IMPEncoderPack.timestamp) relative to the first frame kept."""
    from imp.capi import (
        IMP_ENC_PROFILE_HEVC_MAIN,
        IMP_Encoder_StartRecvPic,
        IMP_Encoder_StopRecvPic,
        IMP_FrameSource_DisableChn,
        IMP_FrameSource_EnableChn,
    )
    from tests.conftest import running_system
    from tests.test_enc_helpers import add_channel, bind, enc_attr, read_streams, start_fs, unbind

    with running_system("virtual"):
        start_fs(0, 640, 360)
        add_channel(0, 0, enc_attr(IMP_ENC_PROFILE_HEVC_MAIN, 640, 360, gop=25))
        bind(0, 0)
        assert IMP_FrameSource_EnableChn(0) == 0
        assert IMP_Encoder_StartRecvPic(0) == 0
        streams = read_streams(0, 60)
        assert IMP_Encoder_StopRecvPic(0) == 0
        assert IMP_FrameSource_DisableChn(0) == 0
        unbind(0, 0)
    packets = [
        Packet(
            s.data,
            s.timestamp,
            19 in s.nal_types or 20 in s.nal_types,
            "h265",
            seq=s.seq,
            width=640,
            height=360,
        )
        for s in streams
    ]
    path = tmp_path / "capi.mp4"
    out = Mp4Output(path)
    _write_all(out, packets)
    track = read_video(path)
    first = next(i for i, p in enumerate(packets) if p.keyframe)
    kept = packets[first:]
    assert track.pts_us == [p.pts - kept[0].pts for p in kept]
    assert len(track.marks) == len(kept)
    assert track.marks == list(range(track.marks[0], track.marks[0] + len(kept)))
    assert track.keyframes[0] and track.codec_tag == "hvc1"


def _adts(frame: bytes, rate_index: int) -> bytes:
    """An ADTS header (AAC-LC, mono, no CRC) in front of one raw AAC frame."""
    n = len(frame) + 7
    header = bytes(
        [
            0xFF,
            0xF1,
            (1 << 6) | (rate_index << 2),
            (1 << 6) | (n >> 11),
            (n >> 3) & 0xFF,
            ((n & 7) << 5) | 0x1F,
            0xFC,
        ]
    )
    return header + frame


def test_adts_aac_and_size_from_the_stream(tmp_path: Path) -> None:
    """ADTS headers become the sample entry's config (and leave the samples through FFmpeg's
    aac_adtstoasc); a video packet without width/height gets its size from the decoded
    keyframe."""
    video = [replace(p, width=0, height=0) for p in video_packets("h265", 50)]
    audio = [
        replace(p, data=_adts(p.data, 8), sample_rate=0, channels=0)  # index 8: 16 kHz
        for p in audio_packets("aac", 2.0, 16000)
    ]
    path = tmp_path / "adts.mp4"
    out = Mp4Output(path)
    _write_all(out, sorted(video + audio, key=lambda p: p.pts))
    assert out.errors == 0, out.last_error
    track = read_video(path)
    assert (track.width, track.height) == (320, 192) and track.marks == list(range(50))
    sound = read_audio(path)
    assert sound.rate == 16000 and abs(len(sound.samples) / 16000 - 2.0) < 0.1
    assert abs(dominant_hz(sound.samples, 16000) - 440) < 5


def test_audio_that_cannot_be_stored_leaves_a_video_file(tmp_path: Path) -> None:
    """Raw AAC without its sample rate: no audio track (an error counted), the video intact."""
    video = video_packets("h264", 30)
    audio = [replace(p, sample_rate=0) for p in audio_packets("aac", 1.2, 16000)]
    path = tmp_path / "noaudio.mp4"
    out = Mp4Output(path)
    _write_all(out, sorted(video + audio, key=lambda p: p.pts))
    assert out.errors == 1 and out.last_error is not None and "sample_rate" in out.last_error
    assert stream_count(path) == (1, 0)
    assert read_video(path).marks == list(range(30))


def test_damaged_audio_being_re_encoded_loses_only_those_frames(tmp_path: Path) -> None:
    """Opus goes into .mov through AAC: a packet that does not decode is counted and skipped."""
    video = video_packets("h264", 50)
    audio = audio_packets("opus", 2.0, 48000)
    audio[40] = replace(audio[40], data=b"\xff" * 3)  # code 3 TOC with a frame count of 0
    path = tmp_path / "damaged.mov"
    out = Mp4Output(path)
    _write_all(out, sorted(video + audio, key=lambda p: p.pts))
    assert out.errors == 1 and out.last_error is not None and "does not decode" in out.last_error
    assert stream_count(path) == (1, 1)
    assert read_video(path).marks == list(range(50))
    assert abs(len(read_audio(path).samples) / 48000 - 2.0) < 0.1
