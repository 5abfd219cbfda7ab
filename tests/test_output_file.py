"""FileOutput: raw Annex-B and JPEG files decoded with PyAV; file objects; name patterns;
errors counted, never raised."""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest

from imp.errors import InvalidArgument
from imp.output import FileOutput, Output
from kernel_stubs import read_frame_mark
from tests.test_output_helpers import audio_packets, decode_annexb, video_packets


@pytest.mark.parametrize(("codec", "fmt"), [("h264", "h264"), ("h265", "hevc")])
def test_raw_annexb_file_decodes(tmp_path: Path, codec: str, fmt: str) -> None:
    path = tmp_path / f"v.{codec}"
    out = FileOutput(path)
    assert isinstance(out, Output)
    with out:
        for p in video_packets(codec, 50)[5:]:  # joined mid-GOP
            out.write(p)
    assert (out.written, out.skipped, out.errors) == (25, 20, 0)
    assert decode_annexb(path.read_bytes(), fmt) == list(range(25, 50))


def test_jpeg_pattern_writes_one_file_per_packet(tmp_path: Path) -> None:
    with FileOutput(tmp_path / "snap-{seq:03d}-{pts}.jpg") as out:
        packets = video_packets("jpeg", 5)
        for p in packets:
            out.write(p)
    files = sorted(tmp_path.glob("snap-*.jpg"))
    assert [f.name for f in files] == [f"snap-{p.seq:03d}-{p.pts}.jpg" for p in packets]
    for n, f in enumerate(files):
        with av.open(str(f)) as c:
            (frame,) = list(c.decode(video=0))
        assert read_frame_mark(frame.to_ndarray(format="gray")) == n


def test_concatenated_jpegs_into_a_file_object_left_open() -> None:
    buf = io.BytesIO()
    with FileOutput(buf) as out:
        for p in video_packets("jpeg", 4):
            out.write(p)
    assert not buf.closed  # the caller's object stays the caller's
    with av.open(io.BytesIO(buf.getvalue()), format="mjpeg") as c:
        marks = [read_frame_mark(f.to_ndarray(format="gray")) for f in c.decode(video=0)]
    assert marks == [0, 1, 2, 3]


def test_audio_file_takes_only_audio(tmp_path: Path) -> None:
    audio = audio_packets("g711a", 1.0, 8000)
    video = video_packets("h264", 5)
    path = tmp_path / "a.alaw"
    with FileOutput(path, kind="audio") as out:
        for p in [*video, *audio]:
            out.write(p)
    assert out.skipped == 5 and out.written == len(audio)
    assert path.read_bytes() == b"".join(p.data for p in audio)


def test_errors_are_counted_never_raised() -> None:
    out = FileOutput("/dev/full")  # every write fails with ENOSPC once the buffer flushes
    for p in video_packets("h264", 30, w=640, h=360):
        out.write(p)
    out.close()
    out.close()  # idempotent
    assert out.errors >= 1 and out.last_error is not None and "No space" in out.last_error
    out.write(video_packets("h264", 1)[0])
    assert out.skipped == 1


def test_bad_targets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="does not exist"):
        FileOutput(tmp_path / "nope" / "v.h264")
    with pytest.raises(InvalidArgument, match="only"):
        FileOutput(tmp_path / "x-{frame}.jpg")
    with pytest.raises(InvalidArgument, match="kind"):
        FileOutput(tmp_path / "v.h264", kind="data")
