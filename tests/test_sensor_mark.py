"""The frame mark: stamped per output picture, read back after scaling and lossy coding."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, cast

import av
import numpy as np
import pytest

from kernel_stubs.sensor import (
    ChannelGeometry,
    IspControls,
    SyntheticSensor,
    mark_band_height,
    read_frame_mark,
    stamp_frame_mark,
)

FRAME_NOS = [0, 1, 2, 99, 100, 12345, 2**24 - 1]
SIZES = [(1920, 1080), (1280, 720), (640, 360)]
_DECODERS = {"libx264": "h264", "libx265": "hevc", "mjpeg": "mjpeg"}
_X265_QUIET = {"preset": "ultrafast", "x265-params": "log-level=error"}


@pytest.fixture(scope="module")
def sensor() -> SyntheticSensor:
    return SyntheticSensor(1920, 1080)


def _nv12(sensor: SyntheticSensor, frame_no: int, geometry: ChannelGeometry) -> np.ndarray:
    y, uv = sensor.render(frame_no, geometry, IspControls())
    return np.concatenate([y, uv])


def _roundtrip(
    pictures: list[np.ndarray],
    codec: str,
    *,
    options: dict[str, str] | None = None,
    bit_rate: int | None = None,
    fixed_q: int | None = None,
) -> list[np.ndarray]:
    """Encode NV12 pictures with ``codec``, decode them again; the decoded Y planes in order."""
    height, width = pictures[0].shape[0] * 2 // 3, pictures[0].shape[1]
    enc = cast(av.VideoCodecContext, av.CodecContext.create(codec, "w"))
    enc.width, enc.height = width, height
    enc.time_base = Fraction(1, 25)
    enc.framerate = Fraction(25)
    enc.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
    if options:
        enc.options = options
    if bit_rate:
        enc.bit_rate = bit_rate
    if fixed_q:
        enc.qmin = enc.qmax = fixed_q
    packets = []
    for pts, picture in enumerate(pictures):
        frame = av.VideoFrame.from_ndarray(picture, format="nv12").reformat(format=enc.pix_fmt)
        frame.pts = pts
        packets += enc.encode(frame)
    packets += enc.encode(None)
    dec = cast(av.VideoCodecContext, av.CodecContext.create(_DECODERS[codec], "r"))
    decoded = []
    for packet in packets:
        decoded += dec.decode(packet)
    decoded += dec.decode(None)
    assert len(decoded) == len(pictures)
    return [frame.to_ndarray()[: frame.height] for frame in decoded]


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_stamp_then_read_on_rendered_frames(
    sensor: SyntheticSensor, width: int, height: int
) -> None:
    geometry = ChannelGeometry(width, height, scale=(width, height) != (1920, 1080))
    for frame_no in FRAME_NOS:
        y, _ = sensor.render(frame_no, geometry, IspControls())
        assert read_frame_mark(y) == frame_no


@pytest.mark.parametrize("width", [80, 320, 333, 1000, 4096])
def test_stamp_read_any_width(width: int) -> None:
    plane = np.full((200, width), 100, np.uint8)
    for frame_no in FRAME_NOS:
        stamp_frame_mark(plane, frame_no)
        assert read_frame_mark(plane) == frame_no


def test_frame_number_is_kept_modulo_2_24() -> None:
    plane = np.zeros((360, 640), np.uint8)
    stamp_frame_mark(plane, 2**24 + 7)
    assert read_frame_mark(plane) == 7


def test_stamp_writes_only_the_band_and_greys_its_chroma() -> None:
    y = np.full((360, 640), 77, np.uint8)
    uv = np.full((180, 640), 200, np.uint8)
    stamp_frame_mark(y, 5, uv)
    band = mark_band_height(640)
    assert band == 16
    assert set(np.unique(y[:band])) <= {16, 235}
    assert (y[band:] == 77).all()
    assert (uv[: band // 2] == 128).all() and (uv[band // 2 :] == 200).all()


def test_reader_accepts_whole_nv12_buffer_and_rescaled_copies(sensor: SyntheticSensor) -> None:
    y, uv = sensor.render(12345, ChannelGeometry(1920, 1080), IspControls())
    assert read_frame_mark(np.concatenate([y, uv])) == 12345
    box = y.reshape(360, 3, 640, 3).mean(axis=(1, 3)).round().astype(np.uint8)
    assert read_frame_mark(box) == 12345
    assert read_frame_mark(np.repeat(np.repeat(box, 2, axis=0), 2, axis=1)) == 12345


def test_mark_survives_flips(sensor: SyntheticSensor) -> None:
    geometry = ChannelGeometry(640, 360, scale=True)
    for controls in (IspControls(hflip=True), IspControls(vflip=True, night=True)):
        y, _ = sensor.render(4242, geometry, controls)
        assert read_frame_mark(y) == 4242


@pytest.mark.parametrize(
    "geometry",
    [
        ChannelGeometry(640, 360, crop=(320, 180, 1280, 720), scale=True),
        ChannelGeometry(1280, 720, crop=(100, 50, 1280, 720)),
        ChannelGeometry(480, 270, crop=(961, 541, 959, 539), scale=True),
    ],
)
def test_mark_after_crop_and_scale(sensor: SyntheticSensor, geometry: ChannelGeometry) -> None:
    pictures = [_nv12(sensor, n, geometry) for n in FRAME_NOS]
    for picture, frame_no in zip(pictures, FRAME_NOS, strict=True):
        assert read_frame_mark(picture[: geometry.out_height]) == frame_no
    assert [read_frame_mark(y) for y in _roundtrip(pictures, "libx264")] == FRAME_NOS


def _no_mark_planes(sensor: SyntheticSensor) -> list[np.ndarray]:
    y, _ = sensor.render(3, ChannelGeometry(640, 360, scale=True), IspControls())
    band = mark_band_height(640)
    scene_on_top = y.copy()
    scene_on_top[:band] = y[band : 2 * band]
    rng = np.random.default_rng(1)
    corrupted = y.copy()
    edges = np.rint(np.arange(41) * 16).astype(int)
    cell = corrupted[:band, edges[10] : edges[11]]
    cell[...] = 251 - cell  # invert one data cell: black <-> white
    return [
        scene_on_top,
        np.full((360, 640), 128, np.uint8),
        np.zeros((360, 640), np.uint8),
        rng.integers(0, 256, (360, 640), dtype=np.uint8),
        corrupted,
    ]


def test_read_without_mark_raises(sensor: SyntheticSensor) -> None:
    for plane in _no_mark_planes(sensor):
        with pytest.raises(ValueError):
            read_frame_mark(plane)


def test_read_rejects_unusable_arrays() -> None:
    with pytest.raises(ValueError):
        read_frame_mark(np.zeros((10, 60), np.uint8))  # too narrow for 40 cells
    with pytest.raises(ValueError):
        read_frame_mark(np.zeros((360, 640, 3), np.uint8))


@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize(
    ("codec", "kwargs"),
    [
        ("libx264", {}),  # default CRF
        ("libx265", {"options": _X265_QUIET}),  # default CRF, fast preset
        ("mjpeg", {"fixed_q": 24}),  # q 20 is about JPEG quality 25 here: harsher than that
    ],
    ids=["x264", "x265", "jpeg"],
)
def test_mark_survives_lossy_coding(
    sensor: SyntheticSensor, width: int, height: int, codec: str, kwargs: dict[str, Any]
) -> None:
    geometry = ChannelGeometry(width, height, scale=(width, height) != (1920, 1080))
    pictures = [_nv12(sensor, n, geometry) for n in FRAME_NOS]
    decoded = _roundtrip(pictures, codec, **kwargs)
    assert [read_frame_mark(y) for y in decoded] == FRAME_NOS


@pytest.mark.parametrize(
    ("codec", "options"), [("libx264", None), ("libx265", _X265_QUIET)], ids=["x264", "x265"]
)
def test_mark_survives_300_kbits_at_360p(
    sensor: SyntheticSensor, codec: str, options: dict[str, str] | None
) -> None:
    geometry = ChannelGeometry(640, 360, scale=True)
    frame_nos = list(range(40)) + FRAME_NOS
    pictures = [_nv12(sensor, n, geometry) for n in frame_nos]
    decoded = _roundtrip(pictures, codec, options=options, bit_rate=300_000)
    assert [read_frame_mark(y) for y in decoded] == frame_nos
