"""The null backend: the same NAL sequence as pyav, no encoding, and a stream that decodes."""

from __future__ import annotations

import time

import av
import numpy as np
import pytest

from imp.codec import CodecConfig, CodecType, EncodedPicture, SliceType
from imp.codec.null_backend import NullBackend
from imp.errors import InvalidArgument, InvalidState


def grey_planes(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((height, width), np.uint8), np.zeros((height // 2, width), np.uint8)


def run(backend: NullBackend, count: int, idr_at: tuple[int, ...] = ()) -> list[EncodedPicture]:
    y, uv = grey_planes(backend.config.width, backend.config.height)
    out = []
    for n in range(count):
        out += backend.encode(y, uv, n, force_idr=n in idr_at)
    return out


def decode(pictures: list[EncodedPicture], codec: str) -> list[av.VideoFrame]:
    ctx = av.CodecContext.create(codec, "r")
    assert isinstance(ctx, av.VideoCodecContext)
    frames: list[av.VideoFrame] = []
    for picture in pictures:
        packet = av.Packet(b"".join(nal.data for nal in picture.nals))
        frames.extend(ctx.decode(packet))
    frames.extend(ctx.decode(None))
    return frames


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (640, 360), (100, 50)])
def test_h264_stream_decodes_grey(width: int, height: int) -> None:
    backend = NullBackend(CodecConfig(CodecType.H264, width, height, gop=8))
    pictures = run(backend, 40, idr_at=(3, 4))  # two IDRs in a row: idr_pic_id must differ
    frames = decode(pictures, "h264")
    assert len(frames) == 40
    assert {(f.width, f.height) for f in frames} == {(width, height)}
    for frame in frames[::7]:
        assert np.all(frame.to_ndarray(format="yuv420p") == 128)


def test_h264_nal_sequence_and_gop() -> None:
    backend = NullBackend(CodecConfig(CodecType.H264, 640, 360, gop=10))
    pictures = run(backend, 25, idr_at=(13,))
    backend.request_idr()
    pictures += run(backend, 1)
    idrs = [n for n, p in enumerate(pictures) if p.keyframe]
    assert idrs == [0, 10, 13, 23, 25]
    for n, picture in enumerate(pictures):
        kinds = [nal.nal_type for nal in picture.nals]
        assert kinds == ([7, 8, 5] if n in idrs else [1])
        assert all(nal.data[:4] == b"\x00\x00\x00\x01" for nal in picture.nals)
        assert all(nal.data[4] & 0x1F == nal.nal_type for nal in picture.nals)
        assert picture.slice_type is (SliceType.I if n in idrs else SliceType.P)
        assert picture.pts == n % 25 and picture.qp is None
        assert picture.size == sum(len(nal.data) for nal in picture.nals)
    assert max(p.size for n, p in enumerate(pictures) if n not in idrs) < 16
    assert pictures[0].nals[0].data[5] == 66  # Baseline


def test_h265_placeholders() -> None:
    backend = NullBackend(CodecConfig(CodecType.H265, 640, 360, profile="main", gop=4))
    pictures = run(backend, 5)
    kinds = [[nal.nal_type for nal in p.nals] for p in pictures]
    assert kinds == [[32, 33, 34, 20], [1], [1], [1], [32, 33, 34, 20]]
    assert all((n.data[4] >> 1) & 0x3F == n.nal_type for p in pictures for n in p.nals)


def test_jpeg_is_a_real_grey_jpeg() -> None:
    backend = NullBackend(CodecConfig(CodecType.JPEG, 1280, 720, profile="baseline"))
    picture = run(backend, 1)[0]
    data = picture.nals[0].data
    assert picture.keyframe and data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    (frame,) = decode([picture], "mjpeg")
    assert (frame.width, frame.height) == (1280, 720)
    assert np.all(frame.to_ndarray(format="yuvj420p") == 128)


def test_checks_and_lifecycle() -> None:
    backend = NullBackend(CodecConfig(CodecType.H264, 640, 360))
    with pytest.raises(InvalidArgument, match="luma plane"):
        backend.encode(*grey_planes(320, 180), 0)
    backend.update(gop=2)
    assert backend.config.gop == 2 and backend.flush() == []
    backend.close()
    with pytest.raises(InvalidState):
        run(backend, 1)


def test_costs_microseconds() -> None:
    backend = NullBackend(CodecConfig(CodecType.H264, 1920, 1080))
    y, uv = grey_planes(1920, 1080)
    start = time.perf_counter()
    for n in range(2000):
        backend.encode(y, uv, n)
    assert (time.perf_counter() - start) / 2000 < 200e-6  # typically 3 µs
