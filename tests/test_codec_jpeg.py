"""The pyav backend's JPEG pictures (mjpeg): one complete baseline JPEG each, quality mapping."""

from __future__ import annotations

import av
import numpy as np
import pytest

from imp.codec import CodecConfig, CodecType, EncodedPicture, SliceType
from imp.codec.pyav_backend import PyAVBackend, jpeg_qscale
from imp.errors import InvalidArgument
from kernel_stubs import read_frame_mark
from kernel_stubs.sensor import ChannelGeometry, IspControls, SyntheticSensor

_SENSOR = SyntheticSensor(1920, 1080)


def config(width: int = 640, height: int = 360, quality: int = 75) -> CodecConfig:
    return CodecConfig(CodecType.JPEG, width, height, profile="baseline", jpeg_quality=quality)


def planes(n: int, width: int = 640, height: int = 360) -> tuple[np.ndarray, np.ndarray]:
    geometry = ChannelGeometry(width, height, scale=(width, height) != (1920, 1080))
    return _SENSOR.render(n, geometry, IspControls())


def decode(picture: EncodedPicture) -> av.VideoFrame:
    frames = av.CodecContext.create("mjpeg", "r").decode(av.Packet(picture.nals[0].data))
    assert len(frames) == 1
    frame = frames[0]
    assert isinstance(frame, av.VideoFrame)
    return frame


def luma(frame: av.VideoFrame) -> np.ndarray:
    plane = frame.planes[0]
    rows = np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)
    return rows[: frame.height, : frame.width]


def segments(data: bytes) -> list[int]:
    """The marker codes of the header segments, up to SOS."""
    markers, pos = [], 2
    while True:
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:
            return markers
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")


def test_one_complete_jpeg_per_picture() -> None:
    codec = PyAVBackend(config())
    for n in range(5):
        pictures = codec.encode(*planes(n), 1000 + n)
        assert len(pictures) == 1
        picture = pictures[0]
        assert len(picture.nals) == 1 and picture.nals[0].nal_type == 0
        data = picture.nals[0].data
        assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
        assert picture.keyframe and picture.slice_type is SliceType.I
        assert picture.pts == 1000 + n and picture.size == len(data) and picture.qp is None
        assert 0xC0 in segments(data)  # SOF0: baseline
        frame = decode(picture)
        assert (frame.width, frame.height) == (640, 360)
        assert read_frame_mark(luma(frame)) == n


def test_1080p_420_and_samples_kept_as_they_are() -> None:
    y, uv = planes(3, 1920, 1080)
    picture = PyAVBackend(config(1920, 1080, quality=95)).encode(y, uv, 0)[0]
    data = picture.nals[0].data
    sof = data.index(b"\xff\xc0")
    assert data[sof + 11] == 0x22  # Y sampled 2x2: 4:2:0
    frame = decode(picture)
    assert (frame.width, frame.height) == (1920, 1080)
    # no range conversion: decoded samples equal the sensor's (bar quantisation)
    assert float(np.abs(luma(frame).astype(np.int16) - y).mean()) < 2.0
    chroma = frame.to_ndarray(format="yuvj420p")[1080:]
    assert abs(float(chroma[:270].mean()) - float(uv[:, 0::2].mean())) < 2.0


def test_size_falls_with_quality() -> None:
    y, uv = planes(0)
    sizes = [
        PyAVBackend(config(quality=q)).encode(y, uv, 0)[0].size for q in (98, 90, 75, 50, 25, 5)
    ]
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == len(sizes), sizes


def test_quality_mapping() -> None:
    # IJG scaling; ffmpeg's tables are the standard ones times qscale / 8
    assert [jpeg_qscale(q) for q in (100, 94, 90, 75, 50, 25, 10, 1)] == [1, 1, 2, 4, 8, 16, 31, 31]


def test_jpeg_ignores_gop_and_idr_requests() -> None:
    codec = PyAVBackend(config())
    codec.request_idr()
    codec.update(gop=5, fps=(5, 1))
    assert not codec.reopen_pending
    assert all(codec.encode(*planes(n), n)[0].keyframe for n in range(3))


def test_bad_quality_is_refused() -> None:
    for quality in (0, 101):
        with pytest.raises(InvalidArgument, match="JPEG quality"):
            PyAVBackend(config(quality=quality))
