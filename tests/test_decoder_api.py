"""The Pythonic decoder: a pipeline source node (VideoDecoder -> Overlay -> encoder) and an
iterator of decoded frames; bad input raises ImpError subclasses that say what to fix."""

from __future__ import annotations

import numpy as np
import pytest

from imp.codec.base import CodecConfig, CodecType
from imp.codec.pyav_backend import PyAVBackend
from imp.decoder import VideoDecoder
from imp.errors import Closed, InvalidArgument, InvalidState, NotSupported
from kernel_stubs.sensor.mark import read_frame_mark, stamp_frame_mark
from tests.conftest import running_system
from tests.test_enc_helpers import decode, marks

W, H = 320, 240


def h264_units(n: int) -> list[bytes]:
    enc = PyAVBackend(CodecConfig(CodecType.H264, W, H, gop=10))
    units = []
    for i in range(n):
        y = np.full((H, W), 60 + 5 * (i % 30), np.uint8)
        stamp_frame_mark(y, 500 + i)
        (pic,) = enc.encode(y, np.full((H // 2, W), 128, np.uint8), i)
        units.append(b"".join(nal.data for nal in pic.nals))
    enc.close()
    return units


def test_decoder_node_feeds_overlay_and_encoder() -> None:
    from imp.encoder import H264, open_encoder
    from imp.pipeline.overlay import Overlay

    n = 30
    units = h264_units(n)
    with running_system("virtual"), VideoDecoder("h264", (W, H)) as dec:
        overlay = Overlay(1)
        overlay.attach(dec)
        overlay.rect((10, 100, 100, 80), 0xFF00FF00, width=4)
        overlay.start()
        encoder = open_encoder(overlay, H264(bitrate_kbps=500))
        for i, unit in enumerate(units):
            dec.send(unit, pts=i * 40_000)
        streams = [(s.data, s.timestamp) for s in encoder.streams(limit=n, timeout=10)]
        assert dec.stats.decoded == n and dec.stats.errors == 0
        encoder.close()
        overlay.close()
    assert dec.closed
    frames = decode(b"".join(d for d, _ in streams), "h264")
    assert marks(frames) == [500 + i for i in range(n)]
    assert [ts for _, ts in streams] == [i * 40_000 for i in range(n)]


def test_frames_of_an_unattached_decoder() -> None:
    units = h264_units(5)
    with running_system("virtual"), VideoDecoder("h264", (W, H), keep=8) as dec:
        for i, unit in enumerate(units):
            dec.send(unit, pts=i)
        got = [
            (read_frame_mark(f.y), f.timestamp, float(f.y[H // 2 :].mean()))
            for f in dec.frames(1.0)
        ]
    assert [g[:2] for g in got] == [(500 + i, i) for i in range(5)]
    assert all(abs(g[2] - (60 + 5 * i)) <= 1.5 for i, g in enumerate(got)), got


def test_bad_input_raises_what_to_fix() -> None:
    with running_system("virtual"):
        with pytest.raises(InvalidArgument, match="'h264' or 'jpeg'"):
            VideoDecoder("vp9")
        with pytest.raises(NotSupported, match=r"H\.264 .* and JPEG"):
            VideoDecoder("h265")
        dec = VideoDecoder("jpeg", (64, 48))
        with pytest.raises(InvalidArgument, match="empty"):
            dec.send(b"")
        dec.close()
        with pytest.raises(Closed):
            dec.send(b"\xff\xd8")
    with pytest.raises(InvalidState, match="IMP_System_Init"):
        VideoDecoder("h264")
