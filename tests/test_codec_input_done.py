"""``EncoderBackend.encode(input_done=...)``: a codec that copies the picture first (x265, mjpeg)
frees the caller's planes before it encodes, so the source's buffer goes back early; x264 reads
the planes in place and never says so. Checked by what a user sees: planes overwritten inside
``input_done`` do not change the coded stream (byte for byte, and the frame mark decodes)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from imp.codec import CodecConfig, CodecType, EncodedPicture
from imp.codec.pyav_backend import PyAVBackend
from kernel_stubs.sensor import ChannelGeometry, IspControls, SyntheticSensor

W, H = 640, 360
_SENSOR = SyntheticSensor(1920, 1080)
_GEOMETRY = ChannelGeometry(W, H, scale=True)
_PROFILE = {CodecType.H264: "high", CodecType.H265: "main", CodecType.JPEG: "baseline"}


def _encode(codec: CodecType, scribble: bool) -> tuple[list[bytes], int]:
    """Six pictures; with ``scribble`` the planes are zeroed inside ``input_done``. Returns
    the coded bytes and how many times ``input_done`` was called."""
    # The default rate control is FIXQP: the bytes do not depend on thread timing.
    backend = PyAVBackend(CodecConfig(codec, W, H, profile=_PROFILE[codec], gop=3))
    calls = 0
    out: list[EncodedPicture] = []
    try:
        for n in range(6):
            y, uv = _SENSOR.render(n, _GEOMETRY, IspControls())

            def done(y: np.ndarray = y, uv: np.ndarray = uv) -> None:
                nonlocal calls
                calls += 1
                if scribble:
                    y[:] = 0  # the source reuses the buffer for the next frame
                    uv[:] = 0

            hook: Callable[[], None] = done
            out.extend(backend.encode(y, uv, 40_000 * n, input_done=hook))
    finally:
        backend.close()
    return [b"".join(nal.data for nal in p.nals) for p in out], calls


@pytest.mark.parametrize("codec", [CodecType.H265, CodecType.JPEG])
def test_a_copying_codec_frees_the_planes_before_it_encodes(codec: CodecType) -> None:
    clean, calls = _encode(codec, scribble=False)
    scribbled, scribbled_calls = _encode(codec, scribble=True)
    assert calls == scribbled_calls == 6  # once per picture
    assert len(clean) == 6
    # Zeroing the planes once input_done was called changed nothing the codec coded.
    assert scribbled == clean


def test_x264_reads_the_planes_in_place_and_never_calls_input_done() -> None:
    _, calls = _encode(CodecType.H264, scribble=False)
    assert calls == 0  # the caller releases the frame after encode() returns
