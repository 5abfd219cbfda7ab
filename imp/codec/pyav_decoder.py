"""The ``pyav`` decoder backend: FFmpeg's h264 and mjpeg decoders through PyAV.

- One thread and ``LOW_DELAY``: frame threads would hold pictures back, and the streams imp
  encodes have no B-frames, so every access unit gives its picture at once (what the hardware
  decoder does and PollingFrame relies on).
- Output: 4:2:0 planes as decoded. JPEG decodes to full-range ``yuvj420p``; its samples are the
  NV12 samples the encoder coded (it codes them without range conversion), so they are handed
  on unchanged. Other layouts (a 4:2:2 or grey JPEG from elsewhere) are converted to 4:2:0 by
  swscale in the same range.
"""

from __future__ import annotations

import errno

import av
import numpy as np
from av.codec.context import Flags

from imp.codec.base import CodecType
from imp.codec.decode import DecodedPicture
from imp.errors import DeviceError, InvalidState

_NAMES = {CodecType.H264: "h264", CodecType.JPEG: "mjpeg"}
_PLANAR_420 = ("yuv420p", "yuvj420p")


class PyAVDecoder:
    def __init__(self, codec: CodecType) -> None:
        self.codec = codec
        ctx = av.CodecContext.create(_NAMES[codec], "r")
        ctx.thread_count = 1
        ctx.flags |= Flags.low_delay
        self._ctx: av.VideoCodecContext | None = ctx  # type: ignore[assignment]
        self._index = 0
        self._pts: dict[int, int] = {}

    def decode(self, data: bytes, pts: int) -> list[DecodedPicture]:
        ctx = self._open()
        packet = av.Packet(data)
        packet.pts = self._index
        self._pts[self._index] = pts
        self._index += 1
        try:
            frames = ctx.decode(packet)
        except av.FFmpegError as exc:
            self._pts.pop(packet.pts, None)
            raise DeviceError(
                errno.EIO, f"{_NAMES[self.codec]} could not decode a {len(data)}-byte unit: {exc}"
            ) from exc
        return [self._picture(f, pts) for f in frames]

    def flush(self) -> list[DecodedPicture]:
        ctx = self._open()
        try:
            frames = ctx.decode(None)
        except av.FFmpegError:
            return []
        return [self._picture(f, 0) for f in frames]

    def close(self) -> None:
        self._ctx = None
        self._pts.clear()

    def _open(self) -> av.VideoCodecContext:
        if self._ctx is None:
            raise InvalidState("decoder is closed")
        return self._ctx

    def _picture(self, frame: av.VideoFrame, fallback: int) -> DecodedPicture:
        pts = self._pts.pop(frame.pts, fallback) if frame.pts is not None else fallback
        for stale in [k for k in self._pts if frame.pts is not None and k < frame.pts]:
            del self._pts[stale]  # a unit that produced no picture (damaged, or headers only)
        name = frame.format.name
        if name not in _PLANAR_420:
            frame = frame.reformat(format="yuvj420p" if name.startswith("yuvj") else "yuv420p")
        w, h = frame.width, frame.height
        planes = [
            np.frombuffer(p, dtype=np.uint8).reshape(-1, p.line_size)[:ph, :pw]
            for p, (pw, ph) in zip(
                frame.planes, ((w, h), (w // 2, h // 2), (w // 2, h // 2)), strict=True
            )
        ]
        return DecodedPicture(planes[0], planes[1], planes[2], pts)
