"""A sensor that shows a video file, looped forever.

File frame ``frame_no % length`` is shown at sensor frame ``frame_no`` (the length is learnt
at the first end of file), so output stays a function of the frame number. Decoding is
sequential with a small cache of decoded frames, since every channel of one sensor frame asks
for the same picture; going backwards restarts the decoder. A channel without crop is scaled
straight from the file's size to its own; a cropped one is cut from the sensor-size picture.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator

import numpy as np

try:
    import av
except ImportError:  # e.g. the emulated MIPS root: only the synthetic sensor works there
    av = None  # type: ignore[assignment]

from .base import ChannelGeometry, IspControls, SensorBase, check_planes
from .mark import stamp_frame_mark
from .picture_controls import apply_controls

__all__ = ["FileSensor"]


class _Picture:
    """A decoded file frame, and (made when a crop needs it) the frame at sensor size."""

    def __init__(self, decoded: av.VideoFrame) -> None:
        self.decoded = decoded
        self._sized: av.VideoFrame | None = None

    def at_size(self, width: int, height: int) -> av.VideoFrame:
        if self._sized is None:
            self._sized = self.decoded.reformat(width=width, height=height, format="yuv420p")
        return self._sized


class FileSensor(SensorBase):
    """Frames of the video at ``path``, resized to ``width`` x ``height``.

    The default size is the file's, rounded down to even. Controls: brightness, contrast,
    saturation, hue, flips and night; sharpness is not modelled for files.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        width: int | None = None,
        height: int | None = None,
        *,
        cache_frames: int = 4,
    ) -> None:
        self.path = os.fspath(path)
        if av is None:
            raise ValueError(f"file sensor {self.path}: needs PyAV (pip install av)")
        with av.open(self.path) as container:
            if not container.streams.video:
                raise ValueError(f"{self.path}: no video stream")
            ctx = container.streams.video[0].codec_context
            file_w, file_h = ctx.width, ctx.height
        self.width = width if width is not None else file_w & ~1
        self.height = height if height is not None else file_h & ~1
        if self.width <= 0 or self.height <= 0 or self.width % 2 or self.height % 2:
            raise ValueError(f"sensor size {self.width}x{self.height} must be positive and even")
        self.name = f"file:{os.path.basename(self.path)}"
        self._length: int | None = None  # frames in the file, once the end has been seen
        self._container: av.container.InputContainer | None = None
        self._frames: Iterator[av.VideoFrame] | None = None
        self._next_index = 0
        self._cache: OrderedDict[int, _Picture] = OrderedDict()
        self._cache_frames = cache_frames
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._stop_decoder()

    def __enter__(self) -> FileSensor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def render_nv12(
        self,
        frame_no: int,
        geometry: ChannelGeometry,
        controls: IspControls,
        y: np.ndarray,
        uv: np.ndarray,
    ) -> None:
        check_planes(geometry, y, uv)
        left, top, width, height = geometry.source_rect(self.width, self.height)
        # Cached frames keep their own scaler state in PyAV: reformat them one thread at a time.
        with self._lock:
            picture = self._picture(frame_no)
            if (left, top, width, height) == (0, 0, self.width, self.height):
                frame = picture.decoded  # one scaling step, file size to output size
            else:
                frame = _crop(picture.at_size(self.width, self.height), left, top, width, height)
            nv12 = frame.reformat(
                width=geometry.out_width, height=geometry.out_height, format="nv12"
            ).to_ndarray()
        src_y, src_uv = nv12[: geometry.out_height], nv12[geometry.out_height :]
        apply_controls(src_y, src_uv, controls, y, uv)
        stamp_frame_mark(y, frame_no, uv)

    def _picture(self, frame_no: int) -> _Picture:
        """The file's picture for sensor frame ``frame_no``."""
        while True:
            index = frame_no % self._length if self._length is not None else frame_no
            cached = self._cache.get(index)
            if cached is not None:
                return cached
            if index < self._next_index or self._frames is None:
                self._start_decoder()
            assert self._frames is not None
            for decoded in self._frames:
                current = self._next_index
                self._next_index += 1
                if current == index:
                    picture = _Picture(decoded)
                    self._cache[index] = picture
                    if len(self._cache) > self._cache_frames:
                        self._cache.popitem(last=False)
                    return picture
            if self._next_index == 0:
                raise ValueError(f"{self.path}: no decodable video frames")
            self._length = self._next_index
            self._stop_decoder()

    def _start_decoder(self) -> None:
        self._stop_decoder()
        self._container = av.open(self.path)
        self._frames = self._container.decode(video=0)
        self._next_index = 0

    def _stop_decoder(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container = None
        self._frames = None
        self._next_index = 0


def _crop(frame: av.VideoFrame, left: int, top: int, width: int, height: int) -> av.VideoFrame:
    # 4:2:0 chroma can only be cut at even positions; the crop moves by at most a pixel.
    left, top, width, height = left & ~1, top & ~1, max(2, width & ~1), max(2, height & ~1)
    planes = []
    for index, (x, y, w, h) in enumerate(
        [(left, top, width, height)] + [(left // 2, top // 2, width // 2, height // 2)] * 2
    ):
        plane = frame.planes[index]
        rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        planes.append(rows[y : y + h, x : x + w].reshape(-1))
    packed = np.concatenate(planes).reshape(height * 3 // 2, width)
    return av.VideoFrame.from_ndarray(packed, format="yuv420p")
