"""Encoding speed of the codec backends alone: the reference the Encoder benchmark compares to.

Run from the repo root: PYTHONPATH=. .venv/bin/python bench/codec_pyav.py [--frames N]

Prints, per stream, pictures per second through ``EncoderBackend.encode`` (frames come from the
synthetic sensor into a DMA-layout buffer, UV at W * align16(H); rendering is not timed), the
backend's codec context driven directly for comparison (the backend's own overhead is the
difference), and the cost of the ways to hand NV12 planes to PyAV.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import av
import numpy as np
from av.video.frame import PictureType

from imp.codec import CodecConfig, CodecType, RateControl, RcMode, open_backend
from imp.codec.pyav_backend import open_context
from kernel_stubs.sensor import ChannelGeometry, IspControls, SyntheticSensor

STREAMS = (
    ("H.264 1080p CBR 2000", CodecType.H264, 1920, 1080),
    ("H.264 360p CBR 2000", CodecType.H264, 640, 360),
    ("H.265 1080p CBR 2000", CodecType.H265, 1920, 1080),
    ("H.265 360p CBR 2000", CodecType.H265, 640, 360),
    ("JPEG 1080p q75", CodecType.JPEG, 1920, 1080),
    ("JPEG 360p q75", CodecType.JPEG, 640, 360),
)
PROFILE = {CodecType.H264: "high", CodecType.H265: "main", CodecType.JPEG: "baseline"}


def dma_planes(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    aligned = (height + 15) // 16 * 16
    buf = np.zeros(width * aligned * 3 // 2, np.uint8)
    y = buf[: width * height].reshape(height, width)
    uv = buf[width * aligned : width * aligned + width * height // 2].reshape(height // 2, width)
    return y, uv


def backend_fps(name: str, codec: CodecType, width: int, height: int, frames: int) -> float:
    sensor = SyntheticSensor(1920, 1080)
    geometry = ChannelGeometry(width, height, scale=(width, height) != (1920, 1080))
    rc = RateControl(mode=RcMode.CBR, target_kbps=2000)
    backend = open_backend(
        CodecConfig(codec, width, height, profile=PROFILE[codec], gop=50, rc=rc), name
    )
    y, uv = dma_planes(width, height)
    spent = 0.0
    size = 0
    for n in range(frames):
        sensor.render_nv12(n, geometry, IspControls(), y, uv)
        start = time.perf_counter()
        pictures = backend.encode(y, uv, n * 40_000)
        spent += time.perf_counter() - start
        size += sum(p.size for p in pictures)
    backend.close()
    if codec is not CodecType.JPEG and name == "pyav":
        print(f"    ({size * 8 / frames * 25 / 1000:.0f} kbit/s at 25 fps)")
    return frames / spent


def bare_pyav_fps(codec: CodecType, width: int, height: int, frames: int) -> float:
    """The backend's own codec context driven directly: no NAL splitting or bookkeeping."""
    sensor = SyntheticSensor(1920, 1080)
    geometry = ChannelGeometry(width, height, scale=(width, height) != (1920, 1080))
    rc = RateControl(mode=RcMode.CBR, target_kbps=2000)
    ctx = open_context(CodecConfig(codec, width, height, profile=PROFILE[codec], gop=50, rc=rc))
    y, uv = dma_planes(width, height)
    spent = 0.0
    for n in range(frames):
        sensor.render_nv12(n, geometry, IspControls(), y, uv)
        start = time.perf_counter()
        frame = av.VideoFrame.from_dlpack((y, uv), format="nv12")
        if codec is not CodecType.H264:
            frame = frame.reformat(format="yuv420p")
        frame.pts = n
        if n % 50 == 0:
            frame.pict_type = PictureType.I
        for packet in ctx.encode(frame):
            bytes(packet)
        spent += time.perf_counter() - start
    return frames / spent


def ms(fn: Callable[[], object], repeat: int = 200) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat * 1e3


def feeding(width: int, height: int) -> None:
    sensor = SyntheticSensor(1920, 1080)
    geometry = ChannelGeometry(width, height, scale=(width, height) != (1920, 1080))
    y, uv = dma_planes(width, height)
    sensor.render_nv12(0, geometry, IspControls(), y, uv)

    def copy_into_planes() -> av.VideoFrame:
        frame = av.VideoFrame(width, height, "nv12")
        for plane, src in zip(frame.planes, (y, uv), strict=True):
            rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
            rows[: src.shape[0], : src.shape[1]] = src
        return frame

    def numpy_yuv420p() -> av.VideoFrame:
        frame = av.VideoFrame(width, height, "yuv420p")
        sources = (y, uv[:, 0::2], uv[:, 1::2])
        for plane, src in zip(frame.planes, sources, strict=True):
            rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
            rows[: src.shape[0], : src.shape[1]] = src
        return frame

    nv12 = av.VideoFrame.from_dlpack((y, uv), format="nv12")
    print(f"  NV12 feeding at {width}x{height} (ms per picture):")
    rows = (
        ("from_dlpack((y, uv)) zero-copy [used]", lambda: av.VideoFrame.from_dlpack((y, uv))),
        (
            "concatenate + from_ndarray",
            lambda: av.VideoFrame.from_ndarray(np.concatenate((y, uv)), format="nv12"),
        ),
        ("copy into frame.planes [read-only input]", copy_into_planes),
        ("nv12 -> yuv420p, swscale [used: x265, JPEG]", lambda: nv12.reformat(format="yuv420p")),
        ("nv12 -> yuv420p, numpy deinterleave", numpy_yuv420p),
        ("nv12 -> yuvj420p, swscale (range change)", lambda: nv12.reformat(format="yuvj420p")),
    )
    for label, fn in rows:
        print(f"    {label:46s} {ms(fn):7.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200, help="pictures per stream")
    args = parser.parse_args()
    print(f"Codec backends, {args.frames} pictures each (pictures per second):")
    for label, codec, width, height in STREAMS:
        frames = args.frames if codec is not CodecType.H265 or height < 1080 else args.frames // 2
        pyav = backend_fps("pyav", codec, width, height, frames)
        bare = bare_pyav_fps(codec, width, height, frames)
        null = backend_fps("null", codec, width, height, frames)
        print(f"  {label:22s} pyav {pyav:8.1f}   bare PyAV {bare:8.1f}   null {null:10.0f}")
    feeding(1920, 1080)
    feeding(640, 360)


if __name__ == "__main__":
    main()
