"""Picture sources for EmuFrameSource channels: arrays, raw NV12 files, any video file.

Each yields ``(picture, pts)`` pairs (:data:`imp.framesource.emulated.PictureSource`) with the
picture as (y, uv) NV12 planes of the channel size. Video files (MP4, MKV, an H.264 / H.265
elementary stream, MJPEG...) are decoded by FFmpeg through PyAV and scaled/converted by swscale
when their size or format differs; pts come from the file (µs from its first picture).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from imp.errors import InvalidArgument, NotFound

RAW_SUFFIXES = (".nv12", ".yuv")
Planes = tuple[np.ndarray, np.ndarray]


def from_arrays(pictures: Iterable[np.ndarray | Planes]) -> Iterator[np.ndarray | Planes]:
    """Numpy pictures as they are (NV12 (H*3/2, W), luma (H, W) or (y, uv)); timestamps from
    the channel's frame rate."""
    yield from pictures


def from_raw_nv12(path: str | Path, width: int, height: int) -> Iterator[Planes]:
    """A file of back-to-back W*H*3/2 NV12 pictures (what sample-Framesource writes)."""
    p = Path(path)
    if not p.is_file():
        raise NotFound(f"{p}: no such file")
    size = width * height * 3 // 2
    total = p.stat().st_size
    if total == 0 or total % size:
        raise InvalidArgument(
            f"{p}: {total} bytes is not a whole number of {width}x{height} NV12 pictures "
            f"({size} bytes each)"
        )
    with p.open("rb") as f:
        while chunk := f.read(size):
            arr = np.frombuffer(chunk, np.uint8)
            yield (
                arr[: width * height].reshape(height, width),
                arr[width * height :].reshape(height // 2, width),
            )


def from_video(path: str | Path, width: int, height: int) -> Iterator[tuple[Planes, int]]:
    """Every picture of a video file, as NV12 of the channel size, with its pts in µs counted
    from the first picture."""
    import av

    p = Path(path)
    if not p.is_file():
        raise NotFound(f"{p}: no such file")
    try:
        container = av.open(str(p))
    except av.FFmpegError as exc:
        raise InvalidArgument(f"{p}: not a video FFmpeg can read: {exc}") from exc
    with container:
        if not container.streams.video:
            raise InvalidArgument(f"{p}: has no video stream")
        stream = container.streams.video[0]
        first: int | None = None
        for n, frame in enumerate(container.decode(stream)):
            if (frame.width, frame.height, frame.format.name) != (width, height, "nv12"):
                frame = frame.reformat(width=width, height=height, format="nv12")
            arr = frame.to_ndarray()  # (H*3/2, W), packed
            if frame.pts is not None and frame.time_base is not None:
                us = int(frame.pts * frame.time_base * 1_000_000)
            else:
                us = n * 40_000
            first = us if first is None else first
            yield (arr[:height], arr[height:]), us - first


def open_source(path: str | Path, width: int, height: int) -> Iterator[object]:
    """:func:`from_raw_nv12` for ``.nv12``/``.yuv`` files, :func:`from_video` otherwise."""
    if Path(path).suffix.lower() in RAW_SUFFIXES:
        return from_raw_nv12(path, width, height)
    return from_video(path, width, height)
