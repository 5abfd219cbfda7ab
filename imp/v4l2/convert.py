"""Pixel conversions between V4L2 frames and NV12, done by FFmpeg's swscale / mjpeg via PyAV.

Capture: NV12, YUYV, UYVY (with any line padding), I420 and MJPEG (decoded) become one NV12 picture
of a requested size, scaled to cover it and centre-cropped (``fit="crop"``, keeps the aspect
ratio) or stretched (``fit="stretch"``). Output: NV12 becomes YUYV, I420 or NV12 for a
v4l2loopback writer.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

try:
    import av
except ImportError:  # the emulated MIPS root: no V4L2 devices there either
    av = None  # type: ignore[assignment]

from imp.v4l2 import abi

__all__ = ["CAPTURE_FORMATS", "OUTPUT_FORMATS", "Fit", "FrameDecoder", "from_nv12"]

Fit = Literal["crop", "stretch"]

# Capture formats in order of preference: no conversion first, compressed last.
CAPTURE_FORMATS: dict[str, int] = {
    "nv12": abi.PIX_NV12,
    "i420": abi.PIX_YU12,  # what ffmpeg writes to a v4l2loopback device by default
    "yuyv": abi.PIX_YUYV,
    "uyvy": abi.PIX_UYVY,
    "mjpeg": abi.PIX_MJPEG,
}
OUTPUT_FORMATS: dict[str, int] = {"yuyv": abi.PIX_YUYV, "i420": abi.PIX_YU12, "nv12": abi.PIX_NV12}
_PACKED = (abi.PIX_YUYV, abi.PIX_UYVY)


class FrameDecoder:
    """Turns the bytes of one device buffer into an NV12 array (h * 3 // 2, w) of ``size``.

    ``fmt`` is the negotiated format (width, height, pixelformat, bytesperline). A corrupt
    MJPEG frame or a short buffer raises ValueError (the caller fails that frame only).
    """

    def __init__(self, fmt: abi.PixFormat, size: tuple[int, int], fit: Fit = "crop") -> None:
        if av is None:
            raise ValueError("V4L2 capture needs PyAV (pip install av)")
        self.width, self.height = int(fmt.width), int(fmt.height)
        self.pixelformat = int(fmt.pixelformat)
        self.bytesperline = int(fmt.bytesperline)
        self.out_width, self.out_height = size
        self.fit = fit
        if self.pixelformat in (abi.PIX_MJPEG, abi.PIX_JPEG):
            self._mjpeg: av.VideoCodecContext | None = av.CodecContext.create("mjpeg", "r")
        elif self.pixelformat in (abi.PIX_NV12, abi.PIX_YU12, *_PACKED):
            self._mjpeg = None
        else:
            raise ValueError(f"pixel format {abi.fourcc_name(self.pixelformat)!r} is not supported")
        self._scaled, self._crop = self._plan()

    def _plan(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """The intermediate scaled size and the (left, top) of the crop taken from it."""
        w, h, ow, oh = self.width, self.height, self.out_width, self.out_height
        if self.fit == "stretch" or w * oh == h * ow:
            return (ow, oh), (0, 0)
        scale = max(ow / w, oh / h)
        sw = max(ow, round(w * scale) & ~1)
        sh = max(oh, round(h * scale) & ~1)
        return (sw, sh), (((sw - ow) // 2) & ~1, ((sh - oh) // 2) & ~1)

    def decode(self, data: memoryview | bytes) -> np.ndarray:
        frame = self._to_frame(data)
        sw, sh = self._scaled
        nv12 = frame.reformat(width=sw, height=sh, format="nv12").to_ndarray()
        if (sw, sh) == (self.out_width, self.out_height):
            return np.ascontiguousarray(nv12)
        left, top = self._crop
        ow, oh = self.out_width, self.out_height
        out = np.empty((oh * 3 // 2, ow), dtype=np.uint8)
        out[:oh] = nv12[top : top + oh, left : left + ow]
        out[oh:] = nv12[sh + top // 2 : sh + (top + oh) // 2, left : left + ow]
        return out

    def _to_frame(self, data: memoryview | bytes) -> av.VideoFrame:
        if self._mjpeg is not None:
            try:
                frames = self._mjpeg.decode(av.Packet(bytes(data)))
            except av.error.FFmpegError as exc:
                raise ValueError(f"corrupt MJPEG frame: {exc}") from exc
            if not frames:
                raise ValueError("the MJPEG decoder returned no picture for the frame")
            return frames[0]
        w, h, bpl = self.width, self.height, self.bytesperline
        raw = np.frombuffer(data, dtype=np.uint8)
        if self.pixelformat in (abi.PIX_NV12, abi.PIX_YU12):
            bpl = bpl or w
            need = bpl * h * 3 // 2
            if raw.size < need:
                raise ValueError(
                    f"short {abi.fourcc_name(self.pixelformat)} buffer: {raw.size} of {need} bytes"
                )
            if self.pixelformat == abi.PIX_YU12:
                if bpl != w:
                    raise ValueError(f"padded I420 lines ({bpl} for {w} pixels) are not supported")
                return av.VideoFrame.from_ndarray(
                    raw[:need].reshape(h * 3 // 2, w), format="yuv420p"
                )
            planes = raw[:need].reshape(h * 3 // 2, bpl)[:, :w]
            return av.VideoFrame.from_ndarray(np.ascontiguousarray(planes), format="nv12")
        bpl = bpl or 2 * w
        need = bpl * h
        if raw.size < need:
            name = abi.fourcc_name(self.pixelformat)
            raise ValueError(f"short {name} buffer: {raw.size} of {need} bytes")
        packed = raw[:need].reshape(h, bpl)[:, : 2 * w].reshape(h, w, 2)
        if self.pixelformat == abi.PIX_UYVY:
            packed = packed[:, :, ::-1]  # (U Y0)(V Y1) -> (Y0 U)(Y1 V): PyAV takes YUYV only
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(packed), format="yuyv422")


def from_nv12(y: np.ndarray, uv: np.ndarray, pixelformat: int) -> bytes:
    """One NV12 picture (planes ``y`` (h, w) and ``uv`` (h/2, w)) as a ``pixelformat`` frame."""
    h, w = y.shape
    if pixelformat == abi.PIX_NV12:
        return y.tobytes() + uv.tobytes()
    u, v = uv[:, 0::2], uv[:, 1::2]
    if pixelformat == abi.PIX_YU12:
        return y.tobytes() + u.tobytes() + v.tobytes()
    if pixelformat == abi.PIX_YUYV:
        out = np.empty((h, w // 2, 4), dtype=np.uint8)
        pairs = y.reshape(h, w // 2, 2)
        out[:, :, 0], out[:, :, 2] = pairs[:, :, 0], pairs[:, :, 1]
        # 4:2:0 to 4:2:2: each chroma row serves the two luma rows it was taken from.
        out[:, :, 1] = np.repeat(u, 2, axis=0)
        out[:, :, 3] = np.repeat(v, 2, axis=0)
        return out.tobytes()
    raise ValueError(f"cannot write {abi.fourcc_name(pixelformat)!r}; use yuyv, i420 or nv12")
